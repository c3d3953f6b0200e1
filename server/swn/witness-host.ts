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
import { monoNowMs, type Clock } from '../../runtime/clock.js'

/** Resolution of the witness core's keep-alive and unused-registration timers. */
const WITNESS_TICK_MS = 100

/**
 * Up to this many notifications of one core step are logged one line each at info (what the
 * chaos checks, the dashboard and run reports read). A larger fan-out (a node with thousands of
 * registrations died) logs them at debug and writes one info line, witness.notify.batch, with
 * their count by type and when each was handed to its front: one synchronous log write instead
 * of thousands on the path every client waits on.
 */
export const NOTIFY_LOG_LINES_MAX = 64

/** Width of the buckets of witness.notify.batch's send-time histogram. */
const NOTIFY_HISTOGRAM_BUCKET_MS = 1

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
    let notifications = 0
    for (const out of outputs) if (out.kind === 'event' && out.event === 'witness.notify.sent') notifications++
    const batch = notifications > NOTIFY_LOG_LINES_MAX ? new NotifyBatch(this.opts.clock.nowMs(), monoNowMs()) : null
    for (const out of outputs) {
      if (out.kind === 'event') {
        if (batch && out.event === 'witness.notify.sent') {
          // Replies precede their event in the core's output: the reply has been handed over.
          batch.sent(out.fields, this.opts.clock.nowMs())
          if (this.opts.log.isLevelEnabled('debug')) this.opts.log.debug({ component: 'witness', event: out.event, ...out.fields })
        } else {
          this.opts.log.info({ component: 'witness', event: out.event, ...out.fields })
        }
        this.opts.onEvent(out.event, out.fields)
        continue
      }
      const sink = this.pending.get(out.callId)
      if (!sink) continue
      this.pending.delete(out.callId)
      sink(out.reply)
    }
    if (batch) this.opts.log.info({ component: 'witness', event: 'witness.notify.batch', ...batch.summary(this.opts.clock.nowMs()) })
  }
}

/** What witness.notify.batch says of one large fan-out; bounded by the histogram's span in ms, not the count. */
class NotifyBatch {
  private count = 0
  private readonly byType = new Map<string, number>()
  private readonly byResult = new Map<number, number>()
  /** Bucket index (ms since the start, floored to the bucket width) -> notifications handed over by then. */
  private readonly histogram = new Map<number, number>()

  constructor(
    private readonly startMs: number,
    /** The start on the cross-process monotonic clock of the log lines (their `mono`). */
    private readonly startMono: number,
  ) {}

  sent(fields: Readonly<Record<string, unknown>>, nowMs: number): void {
    this.count++
    const type = fields.type === null || fields.type === undefined ? 'none' : String(fields.type)
    this.byType.set(type, (this.byType.get(type) ?? 0) + 1)
    const result = typeof fields.result === 'number' ? fields.result : -1
    this.byResult.set(result, (this.byResult.get(result) ?? 0) + 1)
    const bucket = Math.floor((nowMs - this.startMs) / NOTIFY_HISTOGRAM_BUCKET_MS)
    this.histogram.set(bucket, (this.histogram.get(bucket) ?? 0) + 1)
  }

  summary(endMs: number): Record<string, unknown> {
    return {
      count: this.count,
      byType: Object.fromEntries(this.byType),
      byResult: Object.fromEntries(this.byResult),
      startMono: this.startMono,
      durationMs: Math.round((endMs - this.startMs) * 1000) / 1000,
      bucketMs: NOTIFY_HISTOGRAM_BUCKET_MS,
      /** [bucket start in ms after startMono, notifications handed to their front in that bucket]. */
      sentHistogram: [...this.histogram].map(([bucket, n]) => [bucket * NOTIFY_HISTOGRAM_BUCKET_MS, n]),
    }
  }
}
