// The IO shell of the quorum core on one node: it feeds the core its ticks, the envelopes
// peers sent, refused connections and quorum-witness answers; it carries out what the core
// decides (persist the hard state before anything that depends on it leaves, send envelopes,
// ask the quorum witness, log events); and it tells the rest of the node when a new view is
// committed. The core decides; this shell only reads the clock, moves bytes and runs timers.
import { randomInt } from 'node:crypto'
import type { Logger } from 'pino'
import type { ClusterConfig } from '../cluster/config.js'
import type { QuorumWitnessStore } from '../cluster/witness/quorum-witness.js'
import { PROFILES, timingOf } from '../core/quorum/profiles.js'
import { QuorumNode } from '../core/quorum/quorum.js'
import type { Envelope, Input, NodeId, Output, View } from '../core/quorum/types.js'
import type { Clock } from '../runtime/clock.js'
import { readHardState, writeHardState } from './hard-state-store.js'

/**
 * Periodic ticks per heartbeat interval. Deadlines the core names (a silent peer reaching the
 * detection period, a lease running out, an election timer) get a timer of their own; the
 * periodic tick is the floor under it.
 */
const TICKS_PER_INTERVAL = 10

/** A deadline on a strict comparison (silent for more than the detection period) acts just after it. */
const WAKE_AFTER_DEADLINE_MS = 1

/** Time given to the heartbeats that carry a committed leave before the process ends. */
const LEAVE_FLUSH_MS = 50

/** A graceful leave gives up after this many detection periods without quorum to commit it. */
const LEAVE_TIMEOUT_DETECTIONS = 3

/** What the other parts of a node may read of the quorum state; only the shell steps the core. */
export type QuorumReadout = Readonly<
  Pick<
    QuorumNode,
    'role' | 'term' | 'leaderId' | 'committed' | 'leaseExpiryMs' | 'leaving' | 'isServing' | 'leasePending' | 'servingCsvs' | 'hasQuorum' | 'peers' | 'witnessHolder'
  >
>

export type MoveCsvResult = { readonly ok: true; readonly leaderId: NodeId | '' } | { readonly ok: false; readonly error: string; readonly leaderId: NodeId | '' }

/** The rest of the node, told what each step changed. */
export interface QuorumListener {
  /** A newly committed view; `before` is null for the first view this process sees. */
  viewCommitted(before: View | null, view: View): void
  /** After every step, once its outputs are carried out (what this node serves may have changed). */
  stepped(): void
}

export interface QuorumShellOptions {
  readonly config: ClusterConfig
  readonly selfId: NodeId
  readonly hardStatePath: string
  readonly send: (envelope: Envelope) => void
  readonly witness: QuorumWitnessStore | null
  readonly listener: QuorumListener
  readonly clock: Clock
  readonly log: Logger
  /** Each quorum event, besides its log line (metrics). */
  readonly onEvent: (event: string, fields: Record<string, unknown>) => void
  /** The process should exit (its graceful leave finished or timed out). */
  readonly exit: (code: number) => void
}

export class QuorumShell {
  private readonly core: QuorumNode
  /** The detection period of the profile: how long a silent peer takes to be declared down. */
  readonly detectionMs: number
  private readonly heartbeatIntervalMs: number
  private lastView: View | null = null
  private ticker: NodeJS.Timeout | undefined
  /** One timer for the core's next deadline, and when it fires. */
  private wakeTimer: NodeJS.Timeout | undefined
  private wakeAtMs = Infinity
  private stopped = false
  private leaveTimer: NodeJS.Timeout | undefined
  /** One quorum-witness request at a time: the core asks again every interval anyway. */
  private witnessInFlight = false
  private moveResult: Extract<Output, { kind: 'move-result' }> | null = null

  constructor(private readonly opts: QuorumShellOptions) {
    const { config } = opts
    const timing = timingOf(PROFILES[config.profile])
    this.detectionMs = timing.detectionMs
    this.heartbeatIntervalMs = timing.heartbeatIntervalMs
    this.core = new QuorumNode(
      {
        selfId: opts.selfId,
        nodeIds: config.nodes.map((n) => n.id),
        csvNames: config.csvs,
        timing,
        witnessConfigured: config.witness.kind !== 'none',
        // Each process its own election jitter: nodes that failed a round together retry apart.
        randomSeed: randomInt(2 ** 32 - 1),
      },
      opts.clock.nowMs(),
      readHardState(opts.hardStatePath),
    )
  }

  get readout(): QuorumReadout {
    return this.core
  }

  /** The CSV's owner in the committed view; '' while it moves. */
  ownerOf(csv: string): NodeId | '' {
    return this.core.committed.csvs.find((c) => c.name === csv)?.owner ?? ''
  }

  /** Starts the ticks; the first one runs now. */
  start(): void {
    this.ticker = setInterval(() => this.tick(), this.heartbeatIntervalMs / TICKS_PER_INTERVAL)
    this.tick()
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.ticker)
    clearTimeout(this.wakeTimer)
    clearTimeout(this.leaveTimer)
  }

  receive(envelope: Envelope): void {
    this.input({ kind: 'receive', nowMs: this.opts.clock.nowMs(), envelope })
  }

  /** A connection attempt to `peer` started at `attemptMs` was refused: its process is gone. */
  peerRefused(peer: NodeId, attemptMs: number): void {
    this.input({ kind: 'peer-refused', nowMs: this.opts.clock.nowMs(), peerId: peer, attemptMs })
  }

  /** Asks the core to move a CSV; the leader answers at once, others say who leads. */
  moveCsv(csv: string, to: NodeId): MoveCsvResult {
    this.moveResult = null
    try {
      this.input({ kind: 'move-csv', nowMs: this.opts.clock.nowMs(), csv, to })
      const r = this.moveResult as Extract<Output, { kind: 'move-result' }> | null
      if (!r) return { ok: false, error: 'no result', leaderId: '' }
      return r.ok ? { ok: true, leaderId: r.leaderId } : { ok: false, error: r.error, leaderId: r.leaderId }
    } finally {
      this.moveResult = null
    }
  }

  /** Gives up the vote and hands CSVs over, then exits; bounded in time if there is no quorum. */
  leaveGracefully(): void {
    if (this.leaveTimer) return
    this.leaveTimer = setTimeout(() => this.finishLeave('leave timed out'), LEAVE_TIMEOUT_DETECTIONS * this.detectionMs)
    this.input({ kind: 'leave', nowMs: this.opts.clock.nowMs() })
  }

  private tick(): void {
    this.input({ kind: 'tick', nowMs: this.opts.clock.nowMs() })
  }

  private input(input: Input): void {
    const core = this.core
    const before = { role: core.role, term: core.term, leaderId: core.leaderId, accepted: core.accepted, leaseExpiryMs: core.leaseExpiryMs }
    const outputs = core.step(input)
    for (const out of outputs) this.apply(out)
    const view = core.committed
    if (view !== this.lastView) {
      const viewBefore = this.lastView
      this.lastView = view
      this.opts.listener.viewCommitted(viewBefore, view)
    } else if (
      outputs.length === 0 &&
      core.role === before.role &&
      core.term === before.term &&
      core.leaderId === before.leaderId &&
      core.accepted === before.accepted &&
      core.leaseExpiryMs === before.leaseExpiryMs
    ) {
      // A step that sent and logged nothing and left the role, the views and the lease as they
      // were (a heartbeat between followers: most of what a large idle cluster receives) changed
      // nothing the rest of the node reads, and moved no deadline sooner (a peer heard now is
      // silent later); a deadline wake left unarmed by it comes with the next periodic tick, a
      // tenth of an interval later at most. At 64 nodes the work after each step was most of an
      // idle node's CPU.
      return
    }
    this.opts.listener.stepped()
    this.scheduleWake()
  }

  /** Wakes the core at its next deadline, unless a timer already wakes it sooner. */
  private scheduleWake(): void {
    if (this.stopped) return
    const nowMs = this.opts.clock.nowMs()
    const atMs = this.core.nextDeadlineMs(nowMs) + WAKE_AFTER_DEADLINE_MS
    if (!Number.isFinite(atMs) || (this.wakeTimer !== undefined && this.wakeAtMs <= atMs)) return
    clearTimeout(this.wakeTimer)
    this.wakeAtMs = atMs
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined
      this.wakeAtMs = Infinity
      this.tick()
    }, Math.max(0, Math.ceil(atMs - nowMs)))
  }

  private apply(out: Output): void {
    switch (out.kind) {
      case 'persist':
        writeHardState(this.opts.hardStatePath, out.hardState)
        break
      case 'send':
        this.opts.send(out.envelope)
        break
      case 'witness-acquire':
        this.acquireWitness(out)
        break
      case 'event':
        this.opts.log.info({ component: componentOf(out.event), event: out.event, ...out.fields })
        this.opts.onEvent(out.event, out.fields)
        if (out.event === 'node.leave.complete') this.finishLeave('leave committed')
        break
      case 'move-result':
        this.moveResult = out
        break
    }
  }

  private acquireWitness(req: Extract<Output, { kind: 'witness-acquire' }>): void {
    const witness = this.opts.witness
    if (!witness || this.witnessInFlight) return
    this.witnessInFlight = true
    const { sentAtMs, viewTerm, epoch } = req
    witness
      .acquire(this.opts.selfId, req.durationMs, req.term, { viewTerm, epoch })
      .then((result) => {
        if (result.error) this.opts.log.warn({ component: 'witness', event: 'witness.error', error: result.error })
        this.input({
          kind: 'witness-result',
          nowMs: this.opts.clock.nowMs(),
          granted: result.granted,
          sentAtMs,
          viewTerm,
          epoch,
          holder: result.holder,
        })
      })
      .catch((err: unknown) => {
        this.opts.log.warn({ component: 'witness', event: 'witness.error', error: String(err) })
      })
      .finally(() => {
        this.witnessInFlight = false
      })
  }

  private finishLeave(reason: string): void {
    this.opts.log.info({ component: 'node', event: 'node.stopping', reason })
    // Let the heartbeats that carry the committed leave go out before the process ends.
    setTimeout(() => this.opts.exit(0), LEAVE_FLUSH_MS)
  }
}

function componentOf(event: string): string {
  const prefix = event.split('.')[0]
  return prefix === 'view' || prefix === 'csv' || prefix === 'lease' || prefix === 'witness' ? prefix : 'quorum'
}
