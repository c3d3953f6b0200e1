// The witness service of one node, whatever the wire: it owns the witness core, the one table
// of calls the core has not answered yet (an AsyncNotify may wait minutes), and the one set of
// checks every call passes (this profile has the method; this node serves). The gRPC and the
// DCE/RPC fronts are codecs over it, so a registration made on one wire shows on the other.
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { View } from '../../core/quorum/types.js'
import {
  WitnessCore,
  type AdminResult,
  type RegistrationFilter,
  type RegistrationView,
  type WitnessOutput,
  type WitnessProfile,
} from '../../core/witness/witness-core.js'
import { WITNESS_PROFILE_BEHAVIOUR } from '../../core/witness/witness-profiles.js'
import type { WitnessCall, WitnessReply } from '../../protocol/swn/witness-calls.js'
import type { Clock } from '../../runtime/clock.js'

/** Resolution of the witness core's keep-alive and unused-registration timers. */
const WITNESS_TICK_MS = 100

/** Why a call was not handed to the core; each front says it in its own wire's terms. */
export type WitnessRefusal = 'unsupported' | 'not-serving'

export type WitnessSubmission = { readonly ok: true; readonly cancel: () => void } | { readonly ok: false; readonly refusal: WitnessRefusal }

/** Where a core reply goes: a gRPC callback or a DCE/RPC response. */
export type WitnessReplySink = (reply: WitnessReply) => void

export interface WitnessHostNode {
  readonly id: string
  readonly clientAddress: string
}

export interface WitnessHostOptions {
  readonly nodeId: string
  /** The cluster's network name (ServerGlobalName). */
  readonly serverGlobalName: string
  readonly profile: WitnessProfile
  readonly shares: readonly { readonly name: string; readonly csv: string }[]
  /** Every node of the cluster config, in config order: the interface list follows it. */
  readonly nodes: readonly WitnessHostNode[]
  /** False while this node has no quorum or lease: then it answers no witness call. */
  readonly isServing: () => boolean
  readonly clock: Clock
  readonly log: Logger
  /** Each witness event, besides its log line (metrics). */
  readonly onEvent: (event: string, fields: Record<string, unknown>) => void
}

export class WitnessHost {
  private readonly core: WitnessCore
  private readonly unsupported: ReadonlySet<string>
  private nextCallId = 1
  /**
   * Calls the core has not answered yet. Bounded by the core: it holds at most
   * WAITERS_PER_REGISTRATION_MAX AsyncNotify calls per registration, REGISTRATIONS_MAX
   * registrations and INTERFACE_LIST_WAITERS_MAX interface-list calls; every other call is
   * answered in the step that made it.
   */
  private readonly pending = new Map<number, WitnessReplySink>()
  private ticker: NodeJS.Timeout | undefined

  constructor(private readonly opts: WitnessHostOptions) {
    this.core = new WitnessCore({ nodeId: opts.nodeId, serverGlobalName: opts.serverGlobalName, profile: opts.profile, shares: opts.shares })
    this.unsupported = new Set(WITNESS_PROFILE_BEHAVIOUR[opts.profile].methodsAbsent)
  }

  start(): void {
    this.ticker = setInterval(() => this.apply(this.core.tick(this.opts.clock.nowMs())), WITNESS_TICK_MS)
  }

  stop(): void {
    clearInterval(this.ticker)
  }

  /** Whether this server's profile lacks `method` (a front answers as an RPC op-range error would). */
  isUnsupported(method: string): boolean {
    return this.unsupported.has(method)
  }

  /**
   * Hands a call to the core after the checks every front shares; the reply goes to `onReply`
   * whenever the core gives it (an AsyncNotify may wait). `cancel` withdraws a call whose
   * caller went away.
   */
  submit(user: string, call: WitnessCall, onReply: WitnessReplySink): WitnessSubmission {
    if (this.isUnsupported(call.method)) return { ok: false, refusal: 'unsupported' }
    // A node without quorum or lease must not answer from stale state.
    if (!this.opts.isServing()) return { ok: false, refusal: 'not-serving' }
    const callId = this.nextCallId++
    this.pending.set(callId, onReply)
    this.apply(this.core.call(callId, user, call, this.opts.clock.nowMs(), randomUUID()))
    return {
      ok: true,
      cancel: () => {
        if (!this.pending.delete(callId)) return
        this.apply(this.core.cancel(callId, this.opts.clock.nowMs()))
      },
    }
  }

  pendingCalls(): number {
    return this.pending.size
  }

  registrationCount(): number {
    return this.core.registrationCount()
  }

  /** Tells the core about a newly committed view: which nodes are up, who owns which CSV. */
  viewCommitted(view: View): void {
    const snapshot = {
      nodes: this.opts.nodes.map((n) => ({
        id: n.id,
        clientAddresses: [n.clientAddress],
        up: view.members.find((m) => m.id === n.id)?.state === 'up',
      })),
      csvOwners: Object.fromEntries(view.csvs.map((c) => [c.name, c.owner])),
    }
    this.apply(this.core.cluster(snapshot, this.opts.clock.nowMs()))
  }

  list(filter: RegistrationFilter): RegistrationView[] | { error: string } {
    return this.core.list(filter)
  }

  /** Runs an admin action on the core (moves, forced answers) and delivers what it answers. */
  administer(action: (core: WitnessCore, nowMs: number) => { result: AdminResult; outputs: WitnessOutput[] }): AdminResult {
    const done = action(this.core, this.opts.clock.nowMs())
    this.apply(done.outputs)
    return done.result
  }

  private apply(outputs: readonly WitnessOutput[]): void {
    for (const out of outputs) {
      if (out.kind === 'event') {
        this.opts.log.info({ component: 'witness', event: out.event, ...out.fields })
        this.opts.onEvent(out.event, out.fields)
        continue
      }
      const sink = this.pending.get(out.callId)
      if (!sink) continue
      this.pending.delete(out.callId)
      sink(out.reply)
    }
  }
}
