// The witness service of one simulated node process, as server/node-process.ts and
// server/swn/witness-service.ts host it for real: one witness core, fed a cluster snapshot
// for each newly committed quorum view and ticked on its own timer, with blocked calls
// (AsyncNotify) held until the core answers them. It lives and dies with its process.
import assert from 'node:assert/strict'
import type { NodeId, View } from '../quorum/types.js'
import { WitnessCore, type ClusterSnapshot, type WitnessOutput, type WitnessProfile } from '../witness/witness-core.js'
import type { WitnessCall, WitnessReply } from '../../protocol/swn/witness-calls.js'

/** Resolution of the witness core's keep-alive and unused-registration timers (as the node's). */
export const WITNESS_TICK_MS = 100

/**
 * Calls one witness service holds open at once (AsyncNotify waiters and calls held while the
 * process is paused); the core bounds its own per-registration waiters far below this.
 */
export const WITNESS_CALLS_HELD_MAX = 10_000

export interface WitnessHostConfig {
  readonly nodeId: NodeId
  readonly nodeIds: readonly NodeId[]
  /** Client-access address of each node, by node id. */
  readonly addressOf: (id: NodeId) => string
  readonly serverGlobalName: string
  readonly profile: WitnessProfile
  readonly shares: readonly { readonly name: string; readonly csv: string }[]
  /** Registration keys must not repeat across incarnations, or a stale handle could match. */
  readonly incarnation: number
}

export type ReplySink = (reply: WitnessReply) => void

export class SimWitnessHost {
  readonly core: WitnessCore
  /** The committed view the core last heard of; null before the first. */
  private view: View | null = null
  private nextTickMs = -Infinity
  private nextCallId = 1
  private nextKey = 1
  private readonly held = new Map<number, ReplySink>()

  constructor(private readonly config: WitnessHostConfig) {
    this.core = new WitnessCore({
      nodeId: config.nodeId,
      serverGlobalName: config.serverGlobalName,
      profile: config.profile,
      shares: config.shares,
    })
  }

  /** Feeds the core the committed view if it is new; returns the core's events. */
  maybeUpdate(view: View, nowMs: number): WitnessOutput[] {
    if (view === this.view) return []
    this.view = view
    const snapshot: ClusterSnapshot = {
      nodes: this.config.nodeIds.map((id) => ({
        id,
        clientAddresses: [this.config.addressOf(id)],
        up: view.members.find((m) => m.id === id)?.state === 'up',
      })),
      csvOwners: Object.fromEntries(view.csvs.map((c) => [c.name, c.owner])),
    }
    return this.route(this.core.cluster(snapshot, nowMs))
  }

  /** Runs the core's timers once per WITNESS_TICK_MS of the node's clock. */
  maybeTick(nowMs: number): WitnessOutput[] {
    if (nowMs < this.nextTickMs) return []
    this.nextTickMs = nowMs + WITNESS_TICK_MS
    return this.route(this.core.tick(nowMs))
  }

  /** One call from a client; `sink` gets the reply whenever the core gives it. */
  call(principal: string, call: WitnessCall, nowMs: number, sink: ReplySink): { callId: number; events: WitnessOutput[] } {
    assert.ok(this.held.size < WITNESS_CALLS_HELD_MAX, `${this.config.nodeId} holds ${WITNESS_CALLS_HELD_MAX} witness calls`)
    const callId = this.nextCallId++
    this.held.set(callId, sink)
    const key = `r${this.config.nodeId.replace(/^node-/, '')}.${this.config.incarnation}.${this.nextKey}`
    const outputs = this.core.call(callId, principal, call, nowMs, key)
    if (outputs.some((o) => o.kind === 'event' && o.event === 'witness.registered')) this.nextKey++
    return { callId, events: this.route(outputs) }
  }

  /** True while the core holds the call unanswered (an AsyncNotify waiting for news). */
  isHeld(callId: number): boolean {
    return this.held.has(callId)
  }

  /** The client closed the call's connection: the core forgets the waiter. */
  cancel(callId: number, nowMs: number): WitnessOutput[] {
    if (!this.held.delete(callId)) return []
    return this.route(this.core.cancel(callId, nowMs))
  }

  /** Admin actions (client-move and the like) answer held calls through the same sinks. */
  apply(outputs: readonly WitnessOutput[]): WitnessOutput[] {
    return this.route(outputs)
  }

  /** Hands replies to their callers and returns the events. */
  private route(outputs: readonly WitnessOutput[]): WitnessOutput[] {
    const events: WitnessOutput[] = []
    for (const out of outputs) {
      if (out.kind === 'event') {
        events.push(out)
        continue
      }
      const sink = this.held.get(out.callId)
      if (!sink) continue
      this.held.delete(out.callId)
      sink(out.reply)
    }
    return events
  }
}
