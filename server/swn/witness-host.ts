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
  type WitnessShare,
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

/**
 * Replies handed to the fronts per turn of the event loop while a large fan-out drains: a few
 * hundred ms of work on a loaded machine, well inside the fast profile's 1 s detection period.
 * A smaller slice made the 10,000-registration bench slower (each slice's writes are then paid
 * for before the next slice goes out); none let a node with 10,000 notifications to send stall
 * its heartbeats for 2 s and be declared down (100,000 registrations on 5 nodes).
 */
export const REPLIES_PER_TURN_MAX = 2000

/**
 * Registrations logged one line each at info (witness.registered) per REGISTERED_LOG_WINDOW_MS:
 * the few clients of a demo or a chaos run are all named. Beyond, a registration is logged at
 * debug and counted in one info line per window, witness.registered.batch: thousands of
 * registrations a second must not cost a synchronous log write each.
 */
export const REGISTERED_LOG_LINES_PER_WINDOW_MAX = 64
export const REGISTERED_LOG_WINDOW_MS = 1000

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
  readonly shares: readonly WitnessShare[]
  /** The longest an AsyncNotify is held, in seconds, whatever the client's keep-alive (a test knob; see WitnessCoreConfig). */
  readonly keepAliveTimeoutMaxS?: number
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
  /** Core outputs not yet carried out, oldest step first (see apply). */
  private readonly backlog: Array<{ readonly outputs: readonly WitnessOutput[]; next: number; readonly batch: NotifyBatch | null }> = []
  private ticker: NodeJS.Timeout | undefined
  /** The current window of witness.registered lines: when it began, lines logged at info, registrations only counted. */
  private registeredWindow = { startMs: 0, logged: 0, counted: 0 }

  constructor(private readonly opts: WitnessHostOptions) {
    this.core = new WitnessCore({
      nodeId: opts.nodeId,
      serverGlobalName: opts.serverGlobalName,
      profile: opts.profile,
      shares: opts.shares,
      ...(opts.keepAliveTimeoutMaxS !== undefined ? { keepAliveTimeoutMaxS: opts.keepAliveTimeoutMaxS } : {}),
    })
    this.unsupported = new Set(WITNESS_PROFILE_BEHAVIOUR[opts.profile].methodsAbsent)
  }

  start(): void {
    this.ticker = setInterval(() => {
      const nowMs = this.opts.clock.nowMs()
      this.apply(this.core.tick(nowMs))
      this.closeRegisteredWindow(nowMs, false)
    }, WITNESS_TICK_MS)
  }

  stop(): void {
    clearInterval(this.ticker)
    this.closeRegisteredWindow(this.opts.clock.nowMs(), true)
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

  /** A share created at run time: a general role's share makes the role's name one to register with. */
  addShare(share: WitnessShare): void {
    this.core.addShare(share)
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

  /**
   * Carries out the core's outputs in order: events to the log and metrics, replies to their
   * fronts. A large fan-out is handed over REPLIES_PER_TURN_MAX replies per turn of the event
   * loop: in between, the node answers its peers' heartbeats (a node busy for seconds would be
   * declared down) and grpc-js writes what was handed over so far. Outputs of later steps wait
   * behind those of earlier ones.
   */
  private apply(outputs: readonly WitnessOutput[]): void {
    if (outputs.length === 0) return
    let notifications = 0
    for (const out of outputs) if (out.kind === 'event' && out.event === 'witness.notify.sent') notifications++
    const batch = notifications > NOTIFY_LOG_LINES_MAX ? new NotifyBatch(this.opts.clock.nowMs(), monoNowMs()) : null
    this.backlog.push({ outputs, next: 0, batch })
    // Already draining (a reply's sink made a call, or a fan-out is under way): it comes in turn.
    if (this.backlog.length === 1) this.drain()
  }

  private drain(): void {
    let budget = REPLIES_PER_TURN_MAX
    while (this.backlog.length > 0) {
      const step = this.backlog[0]
      while (step.next < step.outputs.length) {
        const out = step.outputs[step.next]
        if (out.kind === 'reply' && budget === 0) {
          setImmediate(() => this.drain())
          return
        }
        step.next++
        if (out.kind === 'event') {
          this.logEvent(out.event, out.fields, step.batch)
          continue
        }
        const sink = this.pending.get(out.callId)
        if (!sink) continue
        budget--
        this.pending.delete(out.callId)
        try {
          sink(out.reply)
        } catch (err) {
          // One front failing to write one reply must not stall every reply behind it.
          this.opts.log.warn({ component: 'witness', event: 'witness.reply.failed', call: out.callId, error: String(err) })
        }
      }
      if (step.batch) this.opts.log.info({ component: 'witness', event: 'witness.notify.batch', ...step.batch.summary(this.opts.clock.nowMs()) })
      this.backlog.shift()
    }
  }

  private logEvent(event: string, fields: Readonly<Record<string, unknown>>, batch: NotifyBatch | null): void {
    if (batch && event === 'witness.notify.sent') {
      // Replies precede their event in the core's output: the reply has been handed over.
      batch.sent(fields, this.opts.clock.nowMs())
      if (this.opts.log.isLevelEnabled('debug')) this.opts.log.debug({ component: 'witness', event, ...fields })
    } else if (event === 'witness.registered' && !this.takeRegisteredLine()) {
      if (this.opts.log.isLevelEnabled('debug')) this.opts.log.debug({ component: 'witness', event, ...fields })
    } else {
      this.opts.log.info({ component: 'witness', event, ...fields })
    }
    this.opts.onEvent(event, fields)
  }

  /** Whether this registration gets its own info line; if not, it is counted in the window's batch line. */
  private takeRegisteredLine(): boolean {
    this.closeRegisteredWindow(this.opts.clock.nowMs(), false)
    const w = this.registeredWindow
    if (w.logged < REGISTERED_LOG_LINES_PER_WINDOW_MAX) {
      w.logged++
      return true
    }
    w.counted++
    return false
  }

  /** Ends the window of witness.registered lines once it has run its time (or now, when forced), with one line for what it only counted. */
  private closeRegisteredWindow(nowMs: number, force: boolean): void {
    const w = this.registeredWindow
    if (!force && nowMs - w.startMs < REGISTERED_LOG_WINDOW_MS) return
    if (w.counted > 0) {
      this.opts.log.info({ component: 'witness', event: 'witness.registered.batch', count: w.counted, logged: w.logged, windowMs: Math.round(nowMs - w.startMs) })
    }
    this.registeredWindow = { startMs: nowMs, logged: 0, counted: 0 }
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
