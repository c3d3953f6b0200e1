// A deterministic in-process simulator of a whole cluster of quorum cores: simulated time,
// a simulated network (delay, reordering, loss, duplication, partitions), crashes with
// restarts from persisted hard state, SIGSTOP-like pauses, and a simulated quorum witness.
// It checks the protocol's invariants after every step; any failure replays from its seed.
import { PROFILES, timingOf, type TimingProfile } from '../quorum/profiles.js'
import { EMPTY_HARD_STATE, QuorumNode, type HardState } from '../quorum/quorum.js'
import type { Envelope, Input, NodeId, Output, View } from '../quorum/types.js'
import { compareViewIds } from '../quorum/view.js'
import { EventHeap } from './event-heap.js'
import { Prng } from './prng.js'

export class SimViolation extends Error {
  override readonly name = 'SimViolation'
}

export interface NetworkConditions {
  /** Probability that a message is dropped. */
  lossProbability: number
  /** Probability that a message is delivered twice. */
  duplicateProbability: number
  /** One-way delay: base plus a uniform jitter (jitter reorders messages). */
  delayBaseMs: number
  delayJitterMs: number
  /** Probability that a message takes an extra long detour of up to longDelayMs. */
  longDelayProbability: number
  longDelayMs: number
}

export const CALM_NETWORK: NetworkConditions = {
  lossProbability: 0,
  duplicateProbability: 0,
  delayBaseMs: 0.2,
  delayJitterMs: 1,
  longDelayProbability: 0,
  longDelayMs: 0,
}

/**
 * What a paused process's sockets hold before they refuse more: a stopped process reads
 * nothing, and past this the senders' messages are lost as if the buffers were full.
 */
export const PAUSED_BACKLOG_MAX = 10_000

export interface SimNode {
  readonly id: NodeId
  core: QuorumNode | null
  hard: HardState
  clockOffsetMs: number
  paused: boolean
  /**
   * What arrived while paused, run in order on resume; each entry reads the node's clock
   * when it runs, as a resumed process reads its sockets after the pause.
   */
  backlog: Array<() => void>
  incarnation: number
  lastCommittedEpoch: number
}

export interface SimOptions {
  readonly seed: number
  readonly nodeCount: number
  readonly witness: boolean
  readonly profile?: TimingProfile
  readonly csvCount?: number
  readonly stepMs?: number
  /** How often each node's periodic tick runs; default every step. The node process ticks 10 times an interval. */
  readonly tickIntervalMs?: number
  /** Also wake each node at the deadline its core names (nextDeadlineMs), as the node process does. */
  readonly wakeAtDeadlines?: boolean
  /** Keep a transcript of protocol events (costs time; for replays and scenario tests). */
  readonly trace?: boolean
}

export class ClusterSim {
  readonly nodeIds: NodeId[]
  readonly csvNames: string[]
  readonly rng: Prng
  readonly timing: ReturnType<typeof timingOf>
  readonly trace: string[] = []
  nowMs = 0
  network: NetworkConditions = { ...CALM_NETWORK }
  /** Pairs "a|b" that cannot talk (both directions). */
  private readonly cut = new Set<string>()
  /** One-way cuts, `from>to`: messages from -> to are lost, to -> from still arrive. */
  private readonly cutOneWay = new Set<string>()
  private readonly nodes = new Map<NodeId, SimNode>()
  private readonly queue = new EventHeap()
  protected readonly stepMs: number
  private readonly tickIntervalMs: number
  private readonly wakeAtDeadlines: boolean
  /** Per node, the sim time of the deadline wake it has pending. */
  private readonly wakeAtMs = new Map<NodeId, number>()
  private readonly witnessConfigured: boolean
  private witnessHolder: NodeId | '' = ''
  private witnessExpiresAtMs = -Infinity
  private witnessViewTerm = -1
  private witnessEpoch = -1
  private readonly leaderOfTerm = new Map<number, NodeId>()
  private readonly viewOfEpoch = new Map<number, string>()
  private readonly traceOn: boolean
  private readonly seed: number
  messagesSent = 0

  constructor(opts: SimOptions) {
    this.rng = new Prng(opts.seed)
    this.seed = opts.seed
    this.nodeIds = Array.from({ length: opts.nodeCount }, (_, i) => `node-${i + 1}`)
    this.csvNames = Array.from({ length: opts.csvCount ?? opts.nodeCount }, (_, i) => `csv-${i + 1}`)
    this.timing = timingOf(opts.profile ?? PROFILES.fast)
    this.stepMs = opts.stepMs ?? 5
    this.tickIntervalMs = opts.tickIntervalMs ?? this.stepMs
    this.wakeAtDeadlines = opts.wakeAtDeadlines ?? false
    this.witnessConfigured = opts.witness
    this.traceOn = opts.trace ?? false
    for (const id of this.nodeIds) {
      const node: SimNode = {
        id,
        core: null,
        hard: EMPTY_HARD_STATE,
        clockOffsetMs: this.rng.int(0, 1_000_000),
        paused: false,
        backlog: [],
        incarnation: 0,
        lastCommittedEpoch: -1,
      }
      this.nodes.set(id, node)
      this.boot(node)
    }
  }

  // ---- faults ----

  crash(id: NodeId): void {
    const node = this.node(id)
    if (!node.core) return
    node.core = null
    node.paused = false
    node.backlog = []
    this.log(`${id} crash`)
    this.onCrash(node)
  }

  restart(id: NodeId): void {
    const node = this.node(id)
    if (node.core) return
    // A new process: a new monotonic clock origin and only the persisted hard state.
    node.clockOffsetMs = this.rng.int(0, 1_000_000)
    this.boot(node)
    this.log(`${id} restart term=${node.hard.term}`)
  }

  pause(id: NodeId): void {
    const node = this.node(id)
    if (!node.core || node.paused) return
    node.paused = true
    this.log(`${id} pause`)
  }

  resume(id: NodeId): void {
    const node = this.node(id)
    if (!node.paused) return
    node.paused = false
    this.log(`${id} resume`)
    // A resumed process runs its timers first, then reads what queued up in its sockets.
    this.input(node, { kind: 'tick', nowMs: this.clock(node) })
    this.onResumeTimers(node)
    const backlog = node.backlog
    node.backlog = []
    for (const run of backlog) run()
  }

  /** Cuts every link between the groups (nodes in no group keep all their links). */
  partition(groups: NodeId[][]): void {
    this.cut.clear()
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i]) for (const b of groups[j]) this.cut.add(pairKey(a, b))
      }
    }
    this.log(`partition ${groups.map((g) => g.join(',')).join(' / ')}`)
  }

  /**
   * Loses every message from -> to and none the other way: a one-way cut, as the lab's
   * nftables rules make one (each node sends its messages on connections of its own).
   */
  cutOneWayFrom(from: NodeId, to: NodeId): void {
    this.cutOneWay.add(`${from}>${to}`)
    this.log(`cut ${from} -> ${to}`)
  }

  heal(): void {
    this.cut.clear()
    this.cutOneWay.clear()
    this.log('heal')
  }

  leave(id: NodeId): void {
    const node = this.node(id)
    if (node.core && !node.paused) this.input(node, { kind: 'leave', nowMs: this.clock(node) })
  }

  moveCsv(via: NodeId, csv: string, to: NodeId): { ok: boolean; error: string } {
    const node = this.node(via)
    if (!node.core || node.paused) return { ok: false, error: 'node not running' }
    const outputs = this.input(node, { kind: 'move-csv', nowMs: this.clock(node), csv, to })
    const result = outputs.find((o) => o.kind === 'move-result')
    return result && result.kind === 'move-result' ? { ok: result.ok, error: result.error } : { ok: false, error: 'no result' }
  }

  // ---- running ----

  run(durationMs: number): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs) this.stepOnce()
  }

  /** Runs until the predicate holds, checking after each step; returns the time it took or -1. */
  runUntil(predicate: () => boolean, limitMs: number): number {
    const startMs = this.nowMs
    while (this.nowMs - startMs <= limitMs) {
      if (predicate()) return this.nowMs - startMs
      this.stepOnce()
    }
    return predicate() ? this.nowMs - startMs : -1
  }

  stepOnce(): void {
    this.nowMs += this.stepMs
    // Events scheduled while these run are due in a later step, even if their time has come.
    for (const item of this.queue.takeDue(this.nowMs)) item.run()
    const tickDue = Math.floor(this.nowMs / this.tickIntervalMs) !== Math.floor((this.nowMs - this.stepMs) / this.tickIntervalMs)
    for (const node of this.nodes.values()) {
      if (tickDue && node.core && !node.paused) this.input(node, { kind: 'tick', nowMs: this.clock(node) })
    }
    this.checkInvariants()
    this.afterStep()
  }

  // ---- observation ----

  core(id: NodeId): QuorumNode | null {
    return this.node(id).core
  }

  isRunning(id: NodeId): boolean {
    const node = this.node(id)
    return node.core !== null && !node.paused
  }

  clockOf(id: NodeId): number {
    return this.clock(this.node(id))
  }

  /** The leader every running node follows, or '' when they do not agree on one. */
  agreedLeader(): NodeId | '' {
    const running = this.nodeIds.filter((id) => this.isRunning(id))
    if (running.length === 0) return ''
    const leaders = new Set(running.map((id) => this.core(id)?.leaderId ?? ''))
    const terms = new Set(running.map((id) => this.core(id)?.term ?? -1))
    if (leaders.size !== 1 || terms.size !== 1) return ''
    const [leader] = leaders
    return leader !== '' && this.core(leader)?.role === 'leader' ? leader : ''
  }

  /** Everyone runs, follows one leader, holds the same committed view with every node up, and every CSV is served. */
  converged(): boolean {
    const leader = this.agreedLeader()
    if (leader === '') return false
    const epochs = new Set(this.nodeIds.map((id) => this.core(id)?.committed.epoch ?? -1))
    if (epochs.size !== 1) return false
    const leaderCore = this.core(leader)
    if (!leaderCore) return false
    const view = leaderCore.committed
    if (view.members.some((m) => m.state !== 'up' || m.vote !== 1)) return false
    for (const csv of view.csvs) {
      if (csv.owner === '') return false
      const owner = this.core(csv.owner)
      if (!owner || !owner.servingCsvs(this.clockOf(csv.owner)).includes(csv.name)) return false
    }
    return this.nodeIds.every((id) => this.core(id)?.isServing(this.clockOf(id)))
  }

  /** True when a and b can talk: no partition separates them. */
  linked(a: string, b: string): boolean {
    return !this.cut.has(pairKey(a, b))
  }

  // ---- extension points (a whole-system simulator builds on these) ----

  /** A node's process just started (first boot or restart); its core is fresh. */
  protected onBoot(_node: SimNode): void {}

  /** A node's process just died; everything in its memory is gone. */
  protected onCrash(_node: SimNode): void {}

  /** A resumed node ran its quorum timers; its other timers run now, before its backlog. */
  protected onResumeTimers(_node: SimNode): void {}

  /** The node's quorum core just handled one input and returned these outputs. */
  protected afterInput(_node: SimNode, _outputs: readonly Output[]): void {}

  /** One simulated step is over and the quorum invariants hold. */
  protected afterStep(): void {}

  /** Runs `run` on the node now, or on resume if it is paused (dropped past the backlog bound). */
  protected atNode(node: SimNode, run: () => void): void {
    if (!node.core) return
    if (!node.paused) {
      run()
      return
    }
    if (node.backlog.length < PAUSED_BACKLOG_MAX) node.backlog.push(run)
  }

  // ---- internals ----

  protected node(id: NodeId): SimNode {
    const node = this.nodes.get(id)
    if (!node) throw new Error(`unknown node ${id}`)
    return node
  }

  protected clock(node: SimNode): number {
    return this.nowMs + node.clockOffsetMs
  }

  private boot(node: SimNode): void {
    node.incarnation += 1
    node.lastCommittedEpoch = -1
    node.core = new QuorumNode(
      {
        selfId: node.id,
        nodeIds: this.nodeIds,
        csvNames: this.csvNames,
        timing: this.timing,
        witnessConfigured: this.witnessConfigured,
        // Each process draws its election jitter from a seed of its own, derived without
        // drawing from the schedule's generator, so that every schedule replays as before.
        randomSeed: jitterSeed(this.seed, this.nodeIds.indexOf(node.id), node.incarnation),
      },
      this.clock(node),
      node.hard,
    )
    this.onBoot(node)
  }

  protected input(node: SimNode, input: Input): Output[] {
    const core = node.core
    if (!core) return []
    if (node.paused) {
      // The input's own time is stale by the resume: it reads the clock when it runs.
      if (node.backlog.length < PAUSED_BACKLOG_MAX) node.backlog.push(() => this.input(node, { ...input, nowMs: this.clock(node) } as Input))
      return []
    }
    let outputs
    try {
      outputs = core.step(input)
    } catch (err) {
      throw new SimViolation(`${node.id} core assertion at ${this.nowMs}ms: ${(err as Error).message}`)
    }
    for (const out of outputs) {
      switch (out.kind) {
        case 'persist':
          node.hard = out.hardState
          break
        case 'send':
          this.transmit(out.envelope)
          break
        case 'witness-acquire':
          this.witnessRequest(node, out)
          break
        case 'event':
          if (this.traceOn) this.log(`${node.id} ${out.event} ${JSON.stringify(out.fields)}`)
          break
        case 'move-result':
          break
      }
    }
    this.afterInput(node, outputs)
    if (this.wakeAtDeadlines) this.scheduleWake(node, core)
    return outputs
  }

  /** Wakes the node at its core's next deadline (a millisecond after, as the node process does). */
  private scheduleWake(node: SimNode, core: QuorumNode): void {
    const deadlineMs = core.nextDeadlineMs(this.clock(node))
    if (!Number.isFinite(deadlineMs)) return
    const atMs = deadlineMs - node.clockOffsetMs + 1
    if ((this.wakeAtMs.get(node.id) ?? Infinity) <= atMs) return
    this.wakeAtMs.set(node.id, atMs)
    const incarnation = node.incarnation
    this.queue.push(atMs, () => {
      if (this.wakeAtMs.get(node.id) === atMs) this.wakeAtMs.delete(node.id)
      if (node.incarnation === incarnation && node.core && !node.paused) this.input(node, { kind: 'tick', nowMs: this.clock(node) })
    })
  }

  private transmit(envelope: Envelope): void {
    this.messagesSent++
    const { from, to } = envelope
    const target = this.node(to)
    const net = this.network
    if (this.cut.has(pairKey(from, to)) || this.cutOneWay.has(`${from}>${to}`)) return
    if (!target.core) {
      // Nothing listens on a dead node's port: the sender's connection is refused.
      const sender = this.node(from)
      const incarnation = sender.incarnation
      const attemptMs = this.clock(sender)
      this.schedule(this.delay() * 2, () => {
        if (sender.incarnation === incarnation) {
          this.input(sender, { kind: 'peer-refused', nowMs: this.clock(sender), peerId: to, attemptMs })
        }
      })
      return
    }
    if (this.rng.chance(net.lossProbability)) return
    const copies = this.rng.chance(net.duplicateProbability) ? 2 : 1
    const incarnation = target.incarnation
    for (let i = 0; i < copies; i++) {
      this.schedule(this.delay(), () => {
        // A message in flight to a process that died is lost with its connection, and a
        // partition that starts meanwhile drops it too.
        if (target.incarnation !== incarnation || this.cut.has(pairKey(from, to)) || this.cutOneWay.has(`${from}>${to}`)) return
        this.input(target, { kind: 'receive', nowMs: this.clock(target), envelope })
      })
    }
  }

  private witnessRequest(node: SimNode, req: Extract<Output, { kind: 'witness-acquire' }>): void {
    const incarnation = node.incarnation
    const { sentAtMs, durationMs, viewTerm, epoch } = req
    this.schedule(this.delay(), () => {
      const free = this.witnessHolder === '' || this.nowMs >= this.witnessExpiresAtMs || this.witnessHolder === node.id
      const current = compareViewIds(viewTerm, epoch, this.witnessViewTerm, this.witnessEpoch) >= 0
      const granted = free && current
      if (granted) {
        this.witnessHolder = node.id
        this.witnessExpiresAtMs = this.nowMs + durationMs
        this.witnessViewTerm = viewTerm
        this.witnessEpoch = epoch
      }
      const holder = this.witnessHolder
      this.schedule(this.delay(), () => {
        if (node.incarnation !== incarnation || !node.core) return
        const nowMs = this.clock(node)
        this.input(node, { kind: 'witness-result', nowMs, granted, sentAtMs, viewTerm, epoch, holder })
      })
    })
  }

  protected delay(): number {
    const net = this.network
    let d = net.delayBaseMs + this.rng.next() * net.delayJitterMs
    if (this.rng.chance(net.longDelayProbability)) d += this.rng.next() * net.longDelayMs
    return d
  }

  protected schedule(delayMs: number, deliver: () => void): void {
    this.queue.push(this.nowMs + delayMs, deliver)
  }


  private checkInvariants(): void {
    const servedBy = new Map<string, NodeId>()
    for (const node of this.nodes.values()) {
      const core = node.core
      if (!core) continue
      // At most one leader per term.
      if (core.role === 'leader') {
        const known = this.leaderOfTerm.get(core.term)
        if (known !== undefined && known !== node.id) {
          throw new SimViolation(`two leaders in term ${core.term}: ${known} and ${node.id} at ${this.nowMs}ms`)
        }
        this.leaderOfTerm.set(core.term, node.id)
      }
      // Committed epochs never go backwards, and one epoch names one view everywhere.
      const epoch = core.committed.epoch
      if (epoch < node.lastCommittedEpoch) {
        throw new SimViolation(`${node.id} epoch went back from ${node.lastCommittedEpoch} to ${epoch} at ${this.nowMs}ms`)
      }
      if (epoch > node.lastCommittedEpoch) {
        node.lastCommittedEpoch = epoch
        const key = viewKey(core.committed)
        const known = this.viewOfEpoch.get(epoch)
        if (known !== undefined && known !== key) {
          throw new SimViolation(`two committed views with epoch ${epoch} at ${this.nowMs}ms: ${known} vs ${key}`)
        }
        this.viewOfEpoch.set(epoch, key)
      }
      // At any instant at most one node holds a live serving lease for a CSV.
      for (const csv of core.servingCsvs(this.clock(node))) {
        const other = servedBy.get(csv)
        if (other !== undefined) {
          throw new SimViolation(`${csv} served by ${other} and ${node.id} at ${this.nowMs}ms`)
        }
        servedBy.set(csv, node.id)
      }
    }
  }

  private log(line: string): void {
    if (this.traceOn) this.trace.push(`${this.nowMs.toFixed(0).padStart(6)}ms ${line}`)
  }
}

function jitterSeed(seed: number, index: number, incarnation: number): number {
  return (Math.imul(seed, 0x2545f491) ^ Math.imul(index + 1, 0x9e3779b9) ^ Math.imul(incarnation, 0x85ebca6b)) >>> 0
}

function pairKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

function viewKey(view: View): string {
  return JSON.stringify([view.viewTerm, view.leaderId, view.members, view.csvs])
}
