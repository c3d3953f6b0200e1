// The quorum core: a deterministic state machine that runs one cluster node's part of the
// quorum protocol. Inputs are messages, ticks and results, each carrying the node's own
// monotonic clock reading; outputs are messages to send, witness requests and log events.
// It does no IO and reads no clock, so a seeded simulator can drive thousands of fault
// schedules through it and replay any of them.
//
// The protocol, in short:
// - Every node sends a heartbeat to every peer each interval. The leader's heartbeats carry
//   its committed view and the view it proposes; followers accept them and acknowledge. A
//   heartbeat between non-leaders is answered only by a node of a newer term.
// - A follower's heartbeat to the leader asks for a serving lease. The lease runs from the
//   moment the follower sent that heartbeat, so it ends before the leader's own record of
//   the grant, and both end before the leader may declare the follower down.
// - The leader holds a leadership lease while a majority of votes acknowledged its
//   heartbeats recently; voters promise not to elect anybody else while it may be valid.
// - Leaders are elected per term by majority vote after a pre-vote round; the quorum
//   witness adds one vote when the voting nodes are even.
// - Views (membership, votes, CSV owners) carry increasing epochs and are committed by a
//   majority of both the old and the new view's voters, one at a time.
import assert from 'node:assert/strict'
import type { QuorumTiming } from './profiles.js'
import type {
  Envelope,
  Heartbeat,
  HeartbeatReply,
  Input,
  Message,
  NodeId,
  Output,
  Role,
  View,
  VoteReply,
  VoteRequest,
} from './types.js'
import {
  compareViewIds,
  compareViews,
  csvCounts,
  genesisView,
  hasMajority,
  isUp,
  majorityLeaseEndMs,
  memberOf,
  ownerOf,
  placeCsv,
  sameContent,
  votersOf,
  witnessVotes,
  withMember,
  withOwner,
} from './view.js'

export interface QuorumConfig {
  readonly selfId: NodeId
  /** Every configured node, in order; the order breaks placement ties and spaces election timers. */
  readonly nodeIds: readonly NodeId[]
  readonly csvNames: readonly string[]
  readonly timing: QuorumTiming
  /** A quorum witness (file share or cloud) is configured. */
  readonly witnessConfigured: boolean
  /**
   * Seeds the jitter of election retries (the adapter passes a random number, the simulator
   * one from its seed): the core draws no randomness of its own and replays exactly. Without
   * it the jitter is seeded from the node's index, still spreading the nodes apart.
   */
  readonly randomSeed?: number
}

/**
 * What must survive a restart, as Raft's HardState and log: without term and vote a node
 * could vote twice in a term, and without its views a cluster that restarted as a whole
 * would start its epochs again.
 */
export interface HardState {
  readonly term: number
  readonly votedFor: NodeId | ''
  readonly committed: View | null
  readonly accepted: View | null
}

export interface PeerInfo {
  readonly id: NodeId
  readonly lastHeardMs: number
  readonly refused: boolean
}

export const EMPTY_HARD_STATE: HardState = { term: 0, votedFor: '', committed: null, accepted: null }

/**
 * How long (in detection periods) a leaderless node prefers the first live configured node as
 * its candidate: from the process start while the cluster forms (processes come up over
 * seconds), from its election timer running out after it lost a leader.
 */
const FORMING_PREFERENCE_DETECTIONS = 3
const LEADER_LOST_PREFERENCE_DETECTIONS = 1

/**
 * A forming cluster's preference lasts at least this many intervals: with the fast profile's
 * short detection period, 16 processes starting on 2 cores under load still held pre-votes
 * when three detection periods had passed, and then all ran at once.
 */
const FORMING_PREFERENCE_INTERVALS_MIN = 40

/**
 * After a leader is lost, the preference holds in clusters of at least this many nodes. Smaller
 * ones keep the first timer's node as candidate (deterministic spacing rarely splits 3 to 7
 * votes), which is one hop sooner than nudging the first node.
 */
const LEADER_LOST_PREFERENCE_NODES_MIN = 8

/** A node heard within this many intervals counts as live for the preference. */
const PREFERENCE_HEARD_INTERVALS = 2

/**
 * A follower of a live leader heartbeats its leader every interval (that asks for its lease) but
 * each other follower only every k-th interval, k chosen so that it sends to about this many
 * followers an interval. WSFC sends every heartbeat to every node; 64 processes on 2 cores
 * spent 85 % of a core idle on the 4,500 datagrams a second that makes (issue 18), when between
 * followers a heartbeat only keeps a liveness record that matters once the leader is lost. So
 * clusters of up to this many nodes behave exactly as before; larger ones, while a leader is
 * heard, send about a quarter of the datagrams at 64 nodes.
 */
const FOLLOWER_FANOUT_NODES = 16

/**
 * A follower whose leader was silent this many intervals heartbeats every node every interval
 * again: by the time its election timer runs out (a detection period), the liveness records the
 * candidate preference reads (PREFERENCE_HEARD_INTERVALS) are fresh on every node.
 */
const LEADER_SILENT_FULL_FANOUT_INTERVALS = 2

/** A voting round's answers are awaited this many heartbeat intervals (plus spacing and jitter). */
const ROUND_TIMEOUT_INTERVALS = 2

/** Election retries spread over one more interval per this many nodes. */
const RETRY_JITTER_NODES_PER_INTERVAL = 8

interface ReleasedCsv {
  readonly from: NodeId
  readonly epoch: number
}

export class QuorumNode {
  readonly config: QuorumConfig
  readonly id: NodeId

  term = 0
  votedFor: NodeId | '' = ''
  role: Role = 'follower'
  leaderId: NodeId | '' = ''
  /** The latest view this node knows to be committed; serving decisions use it. */
  committed: View
  /** The latest view this node accepted: committed, or proposed and awaiting commit. */
  accepted: View
  leaving = false

  /** Serving lease end (followers: granted by the leader; leader: leadership lease). */
  leaseExpiryMs = -Infinity
  /** This node will not vote for anybody but promisedTo before this time. */
  private promiseUntilMs = -Infinity
  private promisedTo: NodeId | '' = ''
  private lastLeaderContactMs: number
  /** The last leader this node followed, and its term. */
  private followedLeaderId: NodeId | '' = ''
  private followedLeaderTerm = -1
  private nextHeartbeatMs: number
  private readonly lastHeardMs = new Map<NodeId, number>()
  private readonly refused = new Set<NodeId>()
  private readonly silentReported = new Set<NodeId>()

  private preVotes = new Set<NodeId>()
  private votes = new Set<NodeId>()
  private roundDeadlineMs = Infinity
  private electionStartMs = -Infinity
  private deadLeader: NodeId | '' = ''
  /** End of the quorum witness lease this node holds, measured from its request. */
  private witnessUntilMs = -Infinity
  private witnessHolderSeen: NodeId | '' = ''
  private witnessAskedThisRound = false
  /** The newest view id the witness stored while granting us its vote. */
  private witnessViewTerm = -1
  private witnessEpoch = -1

  // Leader state; valid only while role is 'leader'.
  private leaderSinceMs = -Infinity
  /** The leader of the term just before ours, if this node followed it; else ''. */
  private predecessorId: NodeId | '' = ''
  /** Per follower: the send time of the newest leader heartbeat it acknowledged this term. */
  private readonly lastAckMs = new Map<NodeId, number>()
  /**
   * Leader: when each member last answered one of our heartbeats as its leader's (this node's
   * clock at the answer). Hearing a node proves its process runs, not that it hears us: a node
   * whose incoming links are cut keeps sending (vote requests) while its lease, which needs our
   * heartbeats, has run out; judged by what we hear alone it is never declared down and its
   * CSVs stay with a node that no longer serves them. WSFC judges a node by the heartbeats it
   * answers, too.
   */
  private readonly followedAtMs = new Map<NodeId, number>()
  /** Per follower: the newest view it acknowledged this term. */
  private readonly ackedView = new Map<NodeId, { viewTerm: number; epoch: number }>()
  private readonly lastGrantMs = new Map<NodeId, number>()
  private readonly releasedFrom = new Map<string, ReleasedCsv>()
  private readonly moveTargets = new Map<string, NodeId>()
  private readonly leaveRequests = new Set<NodeId>()
  private rebalanceWanted = false

  private servingReported = false
  /** The reason last logged for holding a pre-vote back ('' once one ran): one line per change. */
  private electionHeldReported = ''
  /** When this process started (its first input's clock): the forming-cluster rules run from it. */
  private readonly startMs: number
  /**
   * Since when this node knows it has no leader (its process start, or its election timer
   * running out); null while it follows or leads one. Bounds the candidate preference.
   */
  private leaderlessSinceMs: number | null
  /** A pre-vote held back (preVoteHoldBack) is looked at again at this time. */
  private preVoteHeldUntilMs = -Infinity
  /** The state of the election-jitter generator (mulberry32 over randomSeed). */
  private jitterState: number
  /** A restarted node lost the promises it made: it grants no vote until they could have run out. */
  private noVoteBeforeMs: number
  private persisted: HardState
  private out: Output[] = []
  /** Heartbeats broadcast so far: which followers this one goes to (followerHeartbeatEvery). */
  private heartbeatRounds = 0
  /** A follower of a live leader heartbeats each other follower every this many intervals (1: every one). */
  private readonly followerHeartbeatEvery: number
  /** The CSVs this node owns in both views, for the pair of views it was computed from. */
  private ownedCsvs: { readonly committed: View; readonly accepted: View; readonly names: readonly string[] } | null = null

  constructor(config: QuorumConfig, startMs: number, hard: HardState = EMPTY_HARD_STATE) {
    assert.ok(config.nodeIds.includes(config.selfId), `self ${config.selfId} is not a configured node`)
    assert.equal(new Set(config.nodeIds).size, config.nodeIds.length, 'node ids must be unique')
    assert.ok(config.timing.leaseMs < config.timing.detectionMs, 'a lease must end before detection')
    this.config = config
    this.id = config.selfId
    this.committed = genesisView(config.nodeIds, config.csvNames)
    this.accepted = this.committed
    this.lastLeaderContactMs = startMs
    this.nextHeartbeatMs = startMs
    this.startMs = startMs
    this.leaderlessSinceMs = startMs
    this.jitterState = (config.randomSeed ?? config.nodeIds.indexOf(config.selfId) * 0x9e3779b9) >>> 0
    this.term = hard.term
    this.votedFor = hard.votedFor
    if (hard.committed) this.committed = hard.committed
    if (hard.accepted && compareViews(hard.accepted, this.committed) > 0) this.accepted = hard.accepted
    else this.accepted = this.committed
    this.persisted = this.hardState()
    this.noVoteBeforeMs = hard.term > 0 ? startMs + config.timing.leaseMs : -Infinity
    // At most every (threshold - silent intervals) / 2 intervals: a follower then hears another
    // at least twice within the intervals left before its election timer, and twice a detection
    // period (no peer looks silent). The fast and ws2012 profiles' thresholds leave 1.
    const threshold = Math.round(config.timing.detectionMs / config.timing.heartbeatIntervalMs)
    const everyMax = Math.max(1, Math.floor((threshold - LEADER_SILENT_FULL_FANOUT_INTERVALS) / 2))
    this.followerHeartbeatEvery = Math.min(everyMax, Math.ceil(config.nodeIds.length / FOLLOWER_FANOUT_NODES))
  }

  hardState(): HardState {
    return { term: this.term, votedFor: this.votedFor, committed: this.committed, accepted: this.accepted }
  }

  /** Feeds one input and returns what the adapter must do. */
  step(input: Input): Output[] {
    this.out = []
    const now = input.nowMs
    switch (input.kind) {
      case 'tick':
        this.tick(now)
        break
      case 'receive':
        this.receive(input.envelope, now)
        break
      case 'peer-refused':
        this.onPeerRefused(input.peerId, input.attemptMs, now)
        break
      case 'witness-result':
        this.onWitnessResult(input, now)
        break
      case 'move-csv':
        this.onMoveCsv(input.csv, input.to)
        break
      case 'leave':
        this.onLeave(now)
        break
    }
    this.afterStep(now)
    // The hard state must be on disk before any message that depends on it leaves.
    const p = this.persisted
    if (p.term !== this.term || p.votedFor !== this.votedFor || p.committed !== this.committed || p.accepted !== this.accepted) {
      this.persisted = this.hardState()
      this.out.unshift({ kind: 'persist', hardState: this.persisted })
    }
    return this.out
  }

  // ---- queries (pure reads for the adapter and the simulator) ----

  /** True while this node may serve clients: it is up in its views and its lease is live. */
  isServing(nowMs: number): boolean {
    return (
      !this.leaving &&
      nowMs < this.leaseExpiryMs &&
      isUp(this.committed, this.id) &&
      isUp(this.accepted, this.id)
    )
  }

  /**
   * True while this node does not serve but has asked for its lease of a leader that counts it
   * up and that it heard within a lease: the grant is a round trip away. A client the witness
   * sent here may be a little ahead of it (issue 15); its requests can wait that long rather
   * than go unanswered. A node cut off from its leader is not pending: it heard nobody.
   */
  leasePending(nowMs: number): boolean {
    return (
      !this.isServing(nowMs) &&
      this.role === 'follower' &&
      this.leaderId !== '' &&
      !this.leaving &&
      nowMs - this.lastLeaderContactMs < this.config.timing.leaseMs &&
      isUp(this.committed, this.id) &&
      isUp(this.accepted, this.id)
    )
  }

  /** The CSVs this node may serve now (do not change the array: it is shared until the views change). */
  servingCsvs(nowMs: number): readonly string[] {
    if (!this.isServing(nowMs)) return []
    // Asked after every step by the router and the role listeners; at 64 CSVs the lookup below
    // is 4,096 comparisons, and an idle 64-node cluster steps ~70 times a second a node. The
    // views are immutable: the answer changes only when one of them is replaced.
    const cached = this.ownedCsvs
    if (cached && cached.committed === this.committed && cached.accepted === this.accepted) return cached.names
    const accepted = new Map(this.accepted.csvs.map((c) => [c.name, c.owner]))
    const names = this.committed.csvs.filter((c) => c.owner === this.id && accepted.get(c.name) === this.id).map((c) => c.name)
    this.ownedCsvs = { committed: this.committed, accepted: this.accepted, names }
    return names
  }

  /** True while this node is part of a quorate partition (it holds a live lease). */
  hasQuorum(nowMs: number): boolean {
    return nowMs < this.leaseExpiryMs
  }

  peers(): PeerInfo[] {
    return this.config.nodeIds
      .filter((id) => id !== this.id)
      .map((id) => ({ id, lastHeardMs: this.lastHeardMs.get(id) ?? -Infinity, refused: this.refused.has(id) }))
  }

  witnessHolder(nowMs: number): NodeId | '' {
    return this.witnessUntilMs > nowMs ? this.id : this.witnessHolderSeen
  }

  /**
   * The earliest time after nowMs at which a tick may change something: the next heartbeat, a
   * lease running out, an election timer, a silent peer reaching the detection period, a
   * predecessor's leases ending, a released CSV becoming assignable. The adapter wakes the
   * core then (a deadline on a strict comparison acts just after it), so that a move starts
   * when the old owner's lease is provably over rather than at the next periodic tick.
   * Infinity when nothing is due.
   */
  nextDeadlineMs(nowMs: number): number {
    const { detectionMs, leaseMs } = this.config.timing
    let next = Infinity
    const consider = (atMs: number): void => {
      if (atMs > nowMs && atMs < next) next = atMs
    }
    consider(this.nextHeartbeatMs)
    consider(this.leaseExpiryMs)
    for (const [peer, heardMs] of this.lastHeardMs) if (!this.silentReported.has(peer)) consider(heardMs + detectionMs)
    if (this.role === 'follower') consider(Math.max(this.lastLeaderContactMs + this.electionTimeoutMs(), this.preVoteHeldUntilMs))
    else if (this.role !== 'leader') consider(this.roundDeadlineMs)
    else {
      consider(this.leaderSinceMs + leaseMs)
      // The conditions of nextView and assignable, as times.
      for (const m of this.accepted.members) {
        if (m.id === this.id || m.state !== 'up') continue
        const heardMs = this.heardAsLeaderMs(m.id)
        const leasesOverMs = m.id === this.predecessorId ? this.leaderSinceMs : this.leaderSinceMs + leaseMs
        consider(Math.max(heardMs + detectionMs, (this.lastGrantMs.get(m.id) ?? -Infinity) + detectionMs, leasesOverMs))
      }
      for (const released of this.releasedFrom.values()) {
        consider(Math.max(this.leaderSinceMs, this.lastGrantMs.get(released.from) ?? -Infinity) + leaseMs)
      }
    }
    return next
  }

  // ---- inputs ----

  private tick(now: number): void {
    const { heartbeatIntervalMs, detectionMs } = this.config.timing
    if (now >= this.nextHeartbeatMs) {
      this.nextHeartbeatMs = now + heartbeatIntervalMs
      this.broadcastHeartbeat(now)
      if (this.role === 'leader' && this.witnessApplies()) this.requestWitness(now)
    }
    for (const peer of this.config.nodeIds) {
      if (peer === this.id) continue
      const silentMs = now - (this.lastHeardMs.get(peer) ?? -Infinity)
      if (silentMs > detectionMs && !this.silentReported.has(peer)) {
        this.silentReported.add(peer)
        this.event('peer.silent', { peer, silentMs: Number.isFinite(silentMs) ? silentMs : null })
      }
    }
    if (this.role === 'leader') return
    const due = this.role === 'follower' ? now >= this.lastLeaderContactMs + this.electionTimeoutMs() : now >= this.roundDeadlineMs
    if (!due || now < this.preVoteHeldUntilMs) return
    this.leaderlessSinceMs ??= now
    const holdBack = this.preVoteHoldBack(now)
    if (holdBack === '') {
      this.startPreVote(now, this.deadLeader)
      return
    }
    // Not now: look again after a round's time, as a follower (a precandidate gives up its round).
    // Waiting for a majority to be heard competes with no one, so without the retry jitter,
    // which at 64 nodes is up to 8 s: the first node, held at its start, looked again up to 10 s
    // after the majority was heard and started the cluster that much later (measured: 64 nodes,
    // ws2016, first pre-vote 15.6 s after node-1 started, the majority heard at 9.3 s).
    this.role = 'follower'
    this.preVoteHeldUntilMs = now + (holdBack === 'majority-unheard' ? this.heldRoundMs() : this.roundTimeoutMs())
    // The earlier node's own timer may run out up to an interval later (it heard the leader at
    // another phase): nudge it with a pre-vote request, which it refuses and answers by running.
    const first = holdBack === 'lower-node-heard' ? this.firstLiveNodeBefore(this.id, now) : ''
    if (first !== '') this.send(first, this.voteRequest(this.term + 1, true))
    if (this.electionHeldReported !== holdBack) {
      this.electionHeldReported = holdBack
      this.event('quorum.prevote.held', { reason: holdBack })
    }
  }

  /**
   * Why this node must not run a pre-vote now, or ''. Elections that start while half the
   * processes are still loading cannot win, and with many nodes they split every vote (measured:
   * 16 nodes starting under load on 2 cores ran 7 terms in 12 s without a leader):
   * - 'majority-unheard': a pre-vote needs a majority's grants, and nodes not heard within a
   *   detection period will not answer; wait for them (or a detection period after the start,
   *   whichever comes first, so that a node that hears nobody still tries).
   * - 'lower-node-heard': a leaderless cluster's candidate is the first configured node the
   *   voters hear from; a node that hears an earlier one lets it run, and voters refuse it
   *   (onVoteRequest), so that one runs at a time instead of all at once (measured in the
   *   simulator: a 64-node cluster whose leader was killed ran 12 candidates at once and took
   *   three terms to elect one).
   */
  private preVoteHoldBack(now: number): string {
    if (now < this.startMs + this.config.timing.detectionMs && !this.heardMajority(now)) return 'majority-unheard'
    if (this.preferenceApplies(now) && this.earlierNodeHeard(this.id, now)) return 'lower-node-heard'
    return ''
  }

  private heardMajority(now: number): boolean {
    const { detectionMs } = this.config.timing
    const heard = new Set<NodeId>([this.id])
    for (const [peer, heardMs] of this.lastHeardMs) if (now - heardMs <= detectionMs) heard.add(peer)
    // A witness may add the missing vote: count it as if it would.
    return this.holdsMajority(heard, now, true)
  }

  /**
   * The candidate preference holds for a bounded time after the node found itself leaderless
   * (FORMING_PREFERENCE_DETECTIONS detection periods from the start while no view beyond genesis
   * is known, else LEADER_LOST_PREFERENCE_DETECTIONS), and also before its own timer ran out (a
   * voter asked by a candidate that saw the leader's process gone first). Bounded, so that an
   * earlier node heard but unable to win (cut off one way, or behind in views) delays an
   * election, never stops it; a pre-vote grant promises nothing, so safety is unchanged.
   */
  private preferenceApplies(now: number): boolean {
    const forming = this.committed.epoch === 0 && this.accepted.epoch === 0
    if (!forming && this.config.nodeIds.length < LEADER_LOST_PREFERENCE_NODES_MIN) return false
    if (this.leaderlessSinceMs === null) return true
    const { detectionMs, heartbeatIntervalMs } = this.config.timing
    const windowMs = forming
      ? Math.max(FORMING_PREFERENCE_DETECTIONS * detectionMs, FORMING_PREFERENCE_INTERVALS_MIN * heartbeatIntervalMs)
      : LEADER_LOST_PREFERENCE_DETECTIONS * detectionMs
    return now < this.leaderlessSinceMs + windowMs
  }

  /** A configured node before `candidate` was heard within an interval (a live process that runs first). */
  private earlierNodeHeard(candidate: NodeId, now: number): boolean {
    return this.firstLiveNodeBefore(candidate, now) !== ''
  }

  /**
   * The first configured node before `candidate` that is this node or was heard lately; '' if
   * none. A leader whose process is gone (`deadLeader`, as the candidate or this node saw it) was
   * heard a moment ago but will not run.
   */
  private firstLiveNodeBefore(candidate: NodeId, now: number, deadLeader: NodeId | '' = this.deadLeader): NodeId | '' {
    const { nodeIds, timing } = this.config
    // While forming, a node counts as live as long as the failure detector says (heartbeats
    // arrive late from processes still loading); after a leader was lost, only if heard within
    // a few intervals, so that a frozen node is not waited for.
    const forming = this.committed.epoch === 0 && this.accepted.epoch === 0
    const heardWithinMs = forming ? timing.detectionMs : PREFERENCE_HEARD_INTERVALS * timing.heartbeatIntervalMs
    const index = nodeIds.indexOf(candidate)
    for (let i = 0; i < index; i++) {
      const id = nodeIds[i]
      if (id === deadLeader || id === this.deadLeader) continue
      if (id === this.id) return id
      const heardMs = this.lastHeardMs.get(id)
      if (heardMs !== undefined && now - heardMs <= heardWithinMs && !this.refused.has(id)) return id
    }
    return ''
  }

  private receive(envelope: Envelope, now: number): void {
    assert.equal(envelope.to, this.id, 'message delivered to the wrong node')
    const from = envelope.from
    if (from === this.id || !this.config.nodeIds.includes(from)) return
    this.lastHeardMs.set(from, now)
    if (this.refused.delete(from)) this.event('peer.reachable', { peer: from })
    if (this.silentReported.delete(from)) this.event('peer.heard', { peer: from })
    const body: Message = envelope.body
    switch (body.kind) {
      case 'heartbeat':
        this.onHeartbeat(from, body, now)
        break
      case 'heartbeat-reply':
        this.onHeartbeatReply(from, body, now)
        break
      case 'vote-request':
        this.onVoteRequest(from, body, now)
        break
      case 'vote-reply':
        this.onVoteReply(from, body, now)
        break
    }
  }

  private onHeartbeat(from: NodeId, hb: Heartbeat, now: number): void {
    if (hb.leader) {
      if (hb.term < this.term) {
        this.reply(from, hb, { acceptedLeader: false })
        return
      }
      assert.ok(!(hb.term === this.term && this.role === 'leader'), `two leaders in term ${hb.term}`)
      this.followLeader(from, hb.term, now)
      // Acknowledging this heartbeat supports the leader's lease: promise it our vote.
      this.promise(from, now)
      this.endRestartVoteBar(from, now)
      this.applyViews(hb.committed, hb.proposed)
      // Before the acknowledgement, which may let the leader commit a view that makes this
      // node a CSV's owner: the grant is then on its way before the commit is.
      this.maybeRequestLease(from, now)
      this.reply(from, hb, { acceptedLeader: true })
      return
    }
    if (this.role !== 'leader') {
      // A heartbeat between non-leaders needs no answer: each node hears the other's own
      // heartbeats every interval, which is all liveness takes (lastHeardMs), and nothing else
      // in a reply to a non-leader carries news, except a newer term for a node that fell
      // behind. Answering every one doubled the datagrams of a cluster (at 64 nodes half of
      // its ~8,500 a second, issue 18), for no information.
      if (hb.term < this.term) this.reply(from, hb, {})
      return
    }
    if (hb.leaving) this.leaveRequests.add(from)
    else this.leaveRequests.delete(from)
    let leaseGranted = false
    if (hb.term === this.term) {
      leaseGranted =
        this.hasQuorum(now) &&
        isUp(this.committed, from) &&
        isUp(this.accepted, from) &&
        !this.leaveRequests.has(from) &&
        // Not to a node that stopped answering our heartbeats (it does not hear us: its grant
        // would be lost too, and would hold back declaring it down; see followedAtMs).
        now - (this.followedAtMs.get(from) ?? this.leaderSinceMs) <= this.config.timing.detectionMs
      if (leaseGranted) this.lastGrantMs.set(from, now)
    }
    this.reply(from, hb, { leaseGranted })
  }

  /**
   * A follower's heartbeat to its leader is its lease request, sent every interval. One that
   * holds no lease while its leader's views count it up (a new leader after the old one was
   * cut off, or a rejoin just committed) asks at once rather than at its next interval: it
   * cannot serve before the grant, and its clients are already being sent to it. At most one
   * request per leader heartbeat; the grant follows the usual rules, so safety is unchanged.
   */
  private maybeRequestLease(leader: NodeId, now: number): void {
    if (this.role !== 'follower' || this.leaderId !== leader || this.leaving || now < this.leaseExpiryMs) return
    if (!isUp(this.committed, this.id) || !isUp(this.accepted, this.id)) return
    this.event('lease.requested', { leader })
    this.send(leader, this.heartbeat(now))
  }

  private reply(to: NodeId, hb: Heartbeat, fields: Partial<HeartbeatReply>): void {
    const leader = this.role === 'leader'
    const body: HeartbeatReply = {
      kind: 'heartbeat-reply',
      term: this.term,
      echoSentAtMs: hb.sentAtMs,
      acceptedLeader: false,
      acceptedEpoch: this.accepted.epoch,
      acceptedViewTerm: this.accepted.viewTerm,
      leaseGranted: false,
      leader,
      committed: leader ? this.committed : null,
      proposed: leader && this.hasProposal() ? this.accepted : null,
      ...fields,
    }
    this.send(to, body)
  }

  private onHeartbeatReply(from: NodeId, rep: HeartbeatReply, now: number): void {
    if (rep.term > this.term) {
      if (rep.leader) this.followLeader(from, rep.term, now)
      else this.becomeFollower(rep.term, '', now, 'higher term seen')
    }
    if (rep.leader && rep.term === this.term) {
      assert.ok(this.role !== 'leader', `two leaders in term ${rep.term}`)
      this.followLeader(from, rep.term, now)
      this.endRestartVoteBar(from, now)
      this.applyViews(rep.committed, rep.proposed)
      if (rep.leaseGranted && this.leaderId === from) {
        const expiry = rep.echoSentAtMs + this.config.timing.leaseMs
        if (expiry > this.leaseExpiryMs) this.leaseExpiryMs = expiry
      }
      return
    }
    if (this.role === 'leader' && rep.term === this.term && rep.acceptedLeader) {
      if ((this.lastAckMs.get(from) ?? -Infinity) < rep.echoSentAtMs) this.lastAckMs.set(from, rep.echoSentAtMs)
      this.followedAtMs.set(from, now)
      const prev = this.ackedView.get(from)
      if (!prev || compareViewIds(rep.acceptedViewTerm, rep.acceptedEpoch, prev.viewTerm, prev.epoch) > 0) {
        this.ackedView.set(from, { viewTerm: rep.acceptedViewTerm, epoch: rep.acceptedEpoch })
      }
    }
  }

  private onVoteRequest(from: NodeId, req: VoteRequest, now: number): void {
    const upToDate =
      compareViewIds(req.lastViewTerm, req.lastEpoch, this.accepted.viewTerm, this.accepted.epoch) >= 0
    if (req.preVote) {
      const leaderGone = this.leaderId === '' || req.deadLeader === this.leaderId || this.refused.has(this.leaderId)
      // Granted once the voter's promise to its leader could have run out (a lease after it
      // last heard the leader), as its real vote would be. Each follower also counts the
      // replies to its own heartbeats, which come at its own phase of the interval, so the
      // followers' election timers run out up to an interval apart: waiting for the voter's
      // own detection period refused the first candidate, and the cluster waited for the
      // last follower's timer (measured: pre-vote 876 ms after a partition, refused; the
      // other follower's at 1,025 ms). The candidate itself still waits out the detection
      // period, so it may declare its silent predecessor down as soon as it is elected.
      const heardLeader = now - this.lastLeaderContactMs < this.config.timing.leaseMs
      // A leaderless cluster lets its first live node run: refusing the others keeps their
      // votes from splitting (a pre-vote grant promises nothing, so this costs no safety).
      const first = this.preferenceApplies(now) ? this.firstLiveNodeBefore(from, now, req.deadLeader) : ''
      const wanted = this.role !== 'leader' && req.term > this.term && (leaderGone || !heardLeader)
      const granted = wanted && upToDate && first === ''
      this.send(from, { kind: 'vote-reply', term: req.term, preVote: true, granted })
      // The candidate would defer to this node: run now rather than when this node's own timer
      // runs out, if nothing holds it back (an election is wanted: the asker's timer ran out).
      if (wanted && first === this.id && this.role === 'follower' && now >= this.preVoteHeldUntilMs && this.preVoteHoldBack(now) === '') {
        if (req.deadLeader !== '' && req.deadLeader === this.leaderId) this.deadLeader = req.deadLeader
        this.leaderlessSinceMs ??= now
        this.startPreVote(now, this.deadLeader)
      }
      return
    }
    if (req.term < this.term || now < this.noVoteBeforeMs || this.underPromise(from, req.deadLeader, now)) {
      this.send(from, { kind: 'vote-reply', term: this.term, preVote: false, granted: false })
      return
    }
    if (req.term > this.term) this.becomeFollower(req.term, '', now, 'vote request of a higher term')
    const granted = (this.votedFor === '' || this.votedFor === from) && upToDate
    if (granted) {
      this.votedFor = from
      this.promise(from, now)
      this.lastLeaderContactMs = now
    }
    this.send(from, { kind: 'vote-reply', term: this.term, preVote: false, granted })
  }

  private onVoteReply(from: NodeId, rep: VoteReply, now: number): void {
    if (rep.preVote) {
      if (this.role === 'precandidate' && rep.term === this.term + 1 && rep.granted) {
        this.preVotes.add(from)
        this.maybeStartElection(now)
      }
      return
    }
    if (rep.term > this.term) {
      this.becomeFollower(rep.term, '', now, 'vote reply of a higher term')
      return
    }
    if (this.role === 'candidate' && rep.term === this.term && rep.granted) {
      this.votes.add(from)
      this.maybeBecomeLeader(now)
    }
  }

  private onPeerRefused(peer: NodeId, attemptMs: number, now: number): void {
    if (peer === this.id || !this.config.nodeIds.includes(peer)) return
    // The attempt began before we last heard from the peer: a new process answers there now.
    if ((this.lastHeardMs.get(peer) ?? -Infinity) >= attemptMs) return
    if (!this.refused.has(peer)) {
      this.refused.add(peer)
      this.event('peer.refused', { peer })
    }
    // A leader whose process is gone cannot serve: elect a new one without waiting out the
    // silence, only the few milliseconds of election spacing that keep the votes from splitting.
    if (this.role === 'follower' && peer === this.leaderId && this.deadLeader !== peer) {
      this.deadLeader = peer
      this.lastLeaderContactMs = now - this.electionBaseMs()
    }
  }

  private onWitnessResult(result: Extract<Input, { kind: 'witness-result' }>, now: number): void {
    const { granted, sentAtMs, holder } = result
    this.witnessHolderSeen = holder
    if (!granted) {
      this.event('witness.denied', { holder })
      return
    }
    if (compareViewIds(result.viewTerm, result.epoch, this.witnessViewTerm, this.witnessEpoch) > 0) {
      this.witnessViewTerm = result.viewTerm
      this.witnessEpoch = result.epoch
    }
    const until = sentAtMs + this.config.timing.witnessLeaseMs
    if (until > this.witnessUntilMs) {
      if (this.witnessUntilMs <= now) this.event('witness.acquired', { untilMs: until })
      this.witnessUntilMs = until
    }
    if (this.role === 'precandidate') this.maybeStartElection(now)
    else if (this.role === 'candidate') this.maybeBecomeLeader(now)
  }

  private onMoveCsv(csv: string, to: NodeId): void {
    const fail = (error: string): void => {
      this.out.push({ kind: 'move-result', ok: false, error, leaderId: this.role === 'leader' ? this.id : this.leaderId })
    }
    if (this.role !== 'leader') return fail('not the leader')
    if (!this.config.csvNames.includes(csv)) return fail(`unknown CSV ${csv}`)
    if (!memberOf(this.committed, to)) return fail(`unknown node ${to}`)
    if (!isUp(this.committed, to) || this.leaveRequests.has(to)) return fail(`node ${to} is not up`)
    this.moveTargets.set(csv, to)
    this.event('csv.move.requested', { csv, to })
    this.out.push({ kind: 'move-result', ok: true, error: '', leaderId: this.id })
  }

  private onLeave(now: number): void {
    if (this.leaving) return
    this.leaving = true
    this.event('node.leaving', {})
    this.broadcastHeartbeat(now)
  }

  // ---- elections ----

  /** How long a follower waits for its leader before it runs a pre-vote, spacing included. */
  private electionTimeoutMs(): number {
    return this.electionBaseMs() + this.electionSpacingMs()
  }

  private electionBaseMs(): number {
    const { heartbeatIntervalMs, detectionMs } = this.config.timing
    // A fresh cluster has no leader to wait for: elect one after a single interval.
    return this.leaderId === '' && this.accepted.epoch === 0 ? heartbeatIntervalMs : detectionMs
  }

  /**
   * Spacing the election timers by node index, rotating with the term, keeps split votes
   * rare without randomness, so the core stays deterministic.
   */
  private electionSpacingMs(): number {
    const n = this.config.nodeIds.length
    const index = this.config.nodeIds.indexOf(this.id)
    return (((index + this.term) % n) * this.config.timing.heartbeatIntervalMs) / n
  }

  /**
   * How long a pre-vote or vote round waits for its answers before it is retried. Two
   * intervals: a round trip through nodes that are busy starting (measured: votes answered
   * ~330 ms after the request, 12 processes starting on 2 cores, fast profile, interval 250 ms)
   * took longer than the one interval this was, and each retry began a new term that threw
   * away the answers on their way.
   */
  private roundTimeoutMs(): number {
    return this.heldRoundMs() + this.retryJitterMs()
  }

  /** A round's time without the retry jitter: rounds, spaced by node index. */
  private heldRoundMs(): number {
    return ROUND_TIMEOUT_INTERVALS * this.config.timing.heartbeatIntervalMs + this.electionSpacingMs()
  }

  /**
   * A random delay added to a round's retry: candidates whose rounds failed together (their
   * votes split) must not retry in step again. Deterministic spacing alone is interval / N
   * apart, which at 16 nodes and more is less than a round trip under load. The bound grows
   * with the cluster (an interval per RETRY_JITTER_NODES_PER_INTERVAL nodes), up to a
   * detection period.
   */
  private retryJitterMs(): number {
    const { heartbeatIntervalMs, detectionMs } = this.config.timing
    const spreadMs = Math.min(detectionMs, heartbeatIntervalMs * Math.max(1, this.config.nodeIds.length / RETRY_JITTER_NODES_PER_INTERVAL))
    return Math.floor(this.nextJitter() * spreadMs)
  }

  /** mulberry32: a float in [0, 1) from the seeded state. */
  private nextJitter(): number {
    this.jitterState = (this.jitterState + 0x6d2b79f5) >>> 0
    let z = this.jitterState
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }

  private startPreVote(now: number, deadLeader: NodeId | ''): void {
    if (this.leaving) return
    this.role = 'precandidate'
    this.leaderId = ''
    this.deadLeader = deadLeader
    this.preVotes = new Set([this.id])
    this.electionHeldReported = ''
    // A voting round needs one round trip; retry after that plus the spacing and a jitter.
    this.roundDeadlineMs = now + this.roundTimeoutMs()
    this.event('quorum.prevote.start', { term: this.term + 1, deadLeader })
    this.broadcastVoteRequest(this.term + 1, true)
    this.witnessAskedThisRound = false
    this.maybeStartElection(now)
  }

  /**
   * Asks for the witness only when this round's nodes fall one vote short, so that a normal
   * election does not take the witness away from the node that will win it.
   */
  private maybeAskWitness(supporters: ReadonlySet<NodeId>, now: number): void {
    if (this.witnessAskedThisRound || this.witnessUntilMs > now) return
    if (this.holdsMajority(supporters, now, true)) {
      this.witnessAskedThisRound = true
      this.requestWitness(now)
    }
  }

  private maybeStartElection(now: number): void {
    if (this.role !== 'precandidate') return
    if (!this.holdsMajority(this.preVotes, now)) {
      this.maybeAskWitness(this.preVotes, now)
      return
    }
    this.term += 1
    this.role = 'candidate'
    this.votedFor = this.id
    this.votes = new Set([this.id])
    this.electionStartMs = now
    this.roundDeadlineMs = now + this.roundTimeoutMs()
    this.witnessAskedThisRound = false
    this.event('quorum.election.start', { term: this.term })
    this.broadcastVoteRequest(this.term, false)
    this.maybeBecomeLeader(now)
  }

  private maybeBecomeLeader(now: number): void {
    if (this.role !== 'candidate') return
    if (!this.holdsMajority(this.votes, now)) {
      this.maybeAskWitness(this.votes, now)
      return
    }
    this.role = 'leader'
    this.leaderId = this.id
    this.leaderSinceMs = now
    this.leaderlessSinceMs = null
    this.predecessorId = this.followedLeaderTerm === this.term - 1 ? this.followedLeaderId : ''
    this.lastAckMs.clear()
    this.followedAtMs.clear()
    this.ackedView.clear()
    this.lastGrantMs.clear()
    this.releasedFrom.clear()
    this.moveTargets.clear()
    this.leaveRequests.clear()
    // Every voter promised not to vote for another node until at least electionStart + lease.
    for (const v of this.votes) if (v !== this.id) this.lastAckMs.set(v, this.electionStartMs)
    this.refreshLeadershipLease(now)
    this.event('quorum.leader.elected', { term: this.term, votes: [...this.votes].sort() })
    this.broadcastHeartbeat(now)
  }

  private holdsMajority(supporters: ReadonlySet<NodeId>, now: number, witnessSupports?: boolean): boolean {
    const held = witnessSupports ?? this.witnessUntilMs > now
    const { witnessConfigured } = this.config
    return (
      hasMajority(this.accepted, supporters, witnessConfigured, held) &&
      hasMajority(this.committed, supporters, witnessConfigured, held)
    )
  }

  private broadcastVoteRequest(term: number, preVote: boolean): void {
    const body = this.voteRequest(term, preVote)
    for (const peer of this.config.nodeIds) if (peer !== this.id) this.send(peer, body)
  }

  private voteRequest(term: number, preVote: boolean): VoteRequest {
    return {
      kind: 'vote-request',
      term,
      preVote,
      lastViewTerm: this.accepted.viewTerm,
      lastEpoch: this.accepted.epoch,
      deadLeader: this.deadLeader,
    }
  }

  private underPromise(candidate: NodeId, deadLeader: NodeId | '', now: number): boolean {
    if (now >= this.promiseUntilMs || this.promisedTo === candidate) return false
    // A promise to a process that is gone protects nothing: it cannot serve.
    return !(deadLeader === this.promisedTo || this.refused.has(this.promisedTo))
  }

  /**
   * A restarted node forgot whom its last incarnation promised its vote, so it votes for
   * nobody for a lease after its start. That promise went to a node of a term no newer than
   * the current leader's (the term is persisted before any promise leaves): to this leader,
   * or to one it would have moved the promise from on hearing this leader, as an unrestarted
   * node does. Promising this leader now (an extra promise only makes the node stricter)
   * leaves it with the promise state an unrestarted node would have, so the bar can go: a
   * follower restarted just before its leader died refused the successor's vote, and the
   * election waited a round (failover bench, a leader killed ~0.5 s after a follower's
   * restart: 448 to 475 ms against ~120).
   */
  private endRestartVoteBar(leader: NodeId, now: number): void {
    if (this.noVoteBeforeMs === -Infinity || this.leaderId !== leader) return
    this.promise(leader, now)
    this.noVoteBeforeMs = -Infinity
  }

  private promise(to: NodeId, now: number): void {
    const until = now + this.config.timing.leaseMs
    // Moving a promise to another node is safe: it only happens for a leader of a newer
    // term or a candidate we may vote for, and either means the old promise was kept.
    this.promiseUntilMs = to === this.promisedTo ? Math.max(this.promiseUntilMs, until) : until
    this.promisedTo = to
  }

  private followLeader(leader: NodeId, term: number, now: number): void {
    if (term > this.term || this.role !== 'follower' || this.leaderId !== leader) {
      if (term > this.term) {
        this.term = term
        this.votedFor = ''
      }
      const wasLeader = this.role === 'leader'
      this.role = 'follower'
      if (wasLeader) this.stepDownCleanup(now, `leader ${leader} of term ${term} seen`)
      if (this.leaderId !== leader) this.event('quorum.follow', { leader, term })
      this.leaderId = leader
      this.deadLeader = ''
    }
    this.followedLeaderId = leader
    this.followedLeaderTerm = term
    this.lastLeaderContactMs = now
    this.leaderlessSinceMs = null
    // A hold on pre-votes belongs to the leaderless time that just ended: kept, it delayed the
    // next one. (Simulator, ctdb, 64 nodes, seed 38: node-2, held for up to a round and its
    // jitter, 34 s at 5 s intervals, while the cluster formed, was still held when its leader
    // died 5 s later; every other node deferred to it, and the CSVs waited for the 30 s silence.)
    this.preVoteHeldUntilMs = -Infinity
    this.electionHeldReported = ''
  }

  private becomeFollower(term: number, leader: NodeId | '', now: number, reason: string): void {
    assert.ok(term >= this.term, 'terms never go backwards')
    const wasLeader = this.role === 'leader'
    if (term > this.term) {
      this.term = term
      this.votedFor = ''
    }
    this.role = 'follower'
    this.leaderId = leader
    this.lastLeaderContactMs = now
    if (wasLeader) this.stepDownCleanup(now, reason)
  }

  private stepDownCleanup(now: number, reason: string): void {
    this.event('quorum.leader.stepdown', { term: this.term, reason })
    // A leader's lease is its leadership lease; it must not outlive the leadership.
    this.leaseExpiryMs = Math.min(this.leaseExpiryMs, now)
    // A view it proposed may still commit under the next leader; keep it accepted.
  }

  // ---- views ----

  private hasProposal(): boolean {
    return compareViews(this.accepted, this.committed) !== 0
  }

  private applyViews(committed: View | null, proposed: View | null): void {
    if (committed && committed.epoch > this.committed.epoch) {
      const before = this.committed.epoch
      this.committed = committed
      this.event('view.committed', { epoch: committed.epoch, from: before, ...this.viewSummary(committed) })
      this.maybeReportLeaveComplete()
    }
    const offered = proposed ?? committed
    if (offered && compareViews(offered, this.accepted) > 0) this.accepted = offered
    if (this.accepted.epoch < this.committed.epoch || compareViews(this.committed, this.accepted) > 0) {
      this.accepted = this.committed
    }
  }

  private viewSummary(view: View): Record<string, unknown> {
    return {
      viewTerm: view.viewTerm,
      leader: view.leaderId,
      up: view.members.filter((m) => m.state === 'up').map((m) => m.id),
      voters: votersOf(view),
      owners: Object.fromEntries(view.csvs.map((c) => [c.name, c.owner])),
    }
  }

  private maybeReportLeaveComplete(): void {
    const self = memberOf(this.committed, this.id)
    if (this.leaving && self && self.state === 'down' && self.vote === 0) this.event('node.leave.complete', {})
  }

  private afterStep(now: number): void {
    if (this.role === 'leader') {
      this.refreshLeadershipLease(now)
      if (now >= this.leaseExpiryMs) {
        this.becomeFollower(this.term, '', now, 'leadership lease expired')
      } else {
        this.maybeCommit(now)
        this.maybePropose(now)
      }
    }
    const serving = this.isServing(now)
    if (serving !== this.servingReported) {
      this.servingReported = serving
      this.event(serving ? 'lease.serving' : 'lease.lost', {
        leaseRemainingMs: Number.isFinite(this.leaseExpiryMs) ? this.leaseExpiryMs - now : null,
        csvs: this.servingCsvs(now),
      })
    }
  }

  /**
   * Leader: the last time a member showed it is there for us, by which its silence is judged:
   * what we last heard from it or, if earlier, its last answer to our heartbeats (followedAtMs);
   * both from our leadership's start when there is none yet.
   */
  private heardAsLeaderMs(id: NodeId): number {
    return Math.min(this.lastHeardMs.get(id) ?? this.leaderSinceMs, this.followedAtMs.get(id) ?? this.leaderSinceMs)
  }

  private witnessApplies(): boolean {
    const { witnessConfigured } = this.config
    return (
      witnessVotes(votersOf(this.accepted).length, witnessConfigured) ||
      witnessVotes(votersOf(this.committed).length, witnessConfigured)
    )
  }

  private requestWitness(now: number): void {
    this.out.push({
      kind: 'witness-acquire',
      sentAtMs: now,
      durationMs: this.config.timing.witnessLeaseMs,
      term: this.term,
      viewTerm: this.accepted.viewTerm,
      epoch: this.accepted.epoch,
    })
  }

  private refreshLeadershipLease(now: number): void {
    const support = (id: NodeId) => (id === this.id ? now : (this.lastAckMs.get(id) ?? -Infinity))
    const { leaseMs } = this.config.timing
    const { witnessConfigured } = this.config
    const end = Math.min(
      majorityLeaseEndMs(this.committed, support, leaseMs, witnessConfigured, this.witnessUntilMs),
      majorityLeaseEndMs(this.accepted, support, leaseMs, witnessConfigured, this.witnessUntilMs),
    )
    this.leaseExpiryMs = end
  }

  private maybeCommit(now: number): void {
    if (!this.hasProposal()) return
    const proposal = this.accepted
    const supporters = new Set<NodeId>([this.id])
    for (const [id, v] of this.ackedView) {
      if (compareViewIds(v.viewTerm, v.epoch, proposal.viewTerm, proposal.epoch) >= 0) supporters.add(id)
    }
    // The witness supports a commit only once it stored this view id (or a newer one).
    const witnessStored =
      this.witnessUntilMs > now &&
      compareViewIds(this.witnessViewTerm, this.witnessEpoch, proposal.viewTerm, proposal.epoch) >= 0
    if (!this.holdsMajority(supporters, now, witnessStored)) return
    assert.ok(proposal.epoch > this.committed.epoch, 'committed epochs increase')
    this.committed = proposal
    this.event('view.committed', { epoch: proposal.epoch, ...this.viewSummary(proposal) })
    this.maybeReportLeaveComplete()
    // New owners may serve only once they know the view is committed: tell them now.
    this.broadcastHeartbeat(now)
  }

  private maybePropose(now: number): void {
    if (this.hasProposal()) return
    // The first view of a term builds on whatever the node accepted, as Raft's new leader
    // commits its predecessors' entries by committing one of its own.
    const base = this.accepted
    const next = this.nextView(base, now)
    if (base.viewTerm === this.term && sameContent(base, next)) return
    const proposal: View = { ...next, epoch: base.epoch + 1, viewTerm: this.term, leaderId: this.id }
    this.accepted = proposal
    this.event('view.proposed', { epoch: proposal.epoch, ...this.viewSummary(proposal) })
    this.broadcastHeartbeat(now)
    if (this.witnessApplies()) this.requestWitness(now)
  }

  private nextView(base: View, now: number): View {
    const { detectionMs, leaseMs } = this.config.timing
    let view: View = { ...base, leaderId: this.id }
    view = withMember(view, this.id, this.leaving ? { state: 'down', vote: 0 } : { state: 'up', vote: 1 })
    for (const m of base.members) {
      if (m.id === this.id) continue
      // Silence is judged by what this node heard, also before it led; but any lease an
      // earlier leader granted may last until leaderSince + lease, so no node is declared
      // down before then. Leases this leader grants end within a lease of hearing the node.
      // The leader of the term just before ours served only on its leadership lease, which
      // ended before our voters could vote for us: it may be declared down at once.
      const heardMs = this.heardAsLeaderMs(m.id)
      const leasesOverMs = m.id === this.predecessorId ? this.leaderSinceMs : this.leaderSinceMs + leaseMs
      // A node heard but not following may still have asked for (and been granted) a lease: it
      // is down only once the last grant is as old as a silence would have to be.
      const grantedMs = this.lastGrantMs.get(m.id) ?? -Infinity
      const silentLongEnough = now - heardMs > detectionMs && now - grantedMs > detectionMs && now >= leasesOverMs
      if (m.state === 'up') {
        let reason = ''
        // A refused connection proves a process is gone only if one was there: a node that
        // has not started listening yet (a cluster starting up) is merely silent.
        if (this.refused.has(m.id) && this.lastHeardMs.has(m.id)) reason = 'refused'
        else if (this.leaveRequests.has(m.id)) reason = 'leave'
        else if (silentLongEnough) reason = 'silence'
        if (reason !== '') {
          view = withMember(view, m.id, reason === 'leave' ? { state: 'down', vote: 0 } : { state: 'down' })
          this.event('node.declared.down', { peer: m.id, reason, silentMs: Number.isFinite(now - heardMs) ? now - heardMs : null })
        }
      } else {
        const ackMs = this.lastAckMs.get(m.id) ?? -Infinity
        const following = this.ackedView.has(m.id) && now - ackMs <= detectionMs
        if (following && !this.refused.has(m.id) && !this.leaveRequests.has(m.id)) {
          view = withMember(view, m.id, { state: 'up', vote: 1 })
          this.rebalanceWanted = true
          this.event('node.rejoined', { peer: m.id })
        }
      }
    }
    return this.placeCsvs(base, view, now)
  }

  /** Decides CSV ownership in the next view: reassign, release for moves, assign when safe. */
  private placeCsvs(base: View, view: View, now: number): View {
    const nextEpoch = base.epoch + 1
    const candidates = view.members.filter((m) => m.state === 'up').map((m) => m.id)
    const { nodeIds, csvNames } = this.config
    for (const csv of view.csvs) {
      const target = this.moveTargets.get(csv.name)
      if (target !== undefined && (csv.owner === target || !candidates.includes(target))) {
        this.moveTargets.delete(csv.name)
      }
    }
    // The leader runs this after every step (126 a second at 64 nodes): owners and live members
    // are looked up in maps rather than by scanning the view per CSV, and the per-node counts
    // are only computed for a CSV that gets placed. The members do not change below; each owner
    // that does is written to the map as well as to the view.
    const owners = new Map(view.csvs.map((c) => [c.name, c.owner]))
    const up = new Set(candidates)
    for (const csv of base.csvs) {
      const owner = owners.get(csv.name) ?? ''
      const target = this.moveTargets.get(csv.name)
      if (owner !== '' && !up.has(owner)) {
        // The owner is down: its lease is over (or its process is gone), so move at once.
        const to = placeCsv(csv, csvCounts(view), candidates, nodeIds, csvNames)
        view = withOwner(view, csv.name, to)
        owners.set(csv.name, to)
        this.event('csv.failover', { csv: csv.name, from: owner, to })
      } else if (owner !== '' && target !== undefined && target !== owner) {
        // A live owner hands over in two views: release first, assign once it stopped.
        view = withOwner(view, csv.name, '')
        owners.set(csv.name, '')
        this.releasedFrom.set(csv.name, { from: owner, epoch: nextEpoch })
        this.event('csv.released', { csv: csv.name, from: owner, to: target })
      } else if (owner === '' && this.assignable(csv.name, base, now)) {
        const to = target ?? placeCsv(csv, csvCounts(view), candidates, nodeIds, csvNames)
        if (to !== '') {
          view = withOwner(view, csv.name, to)
          owners.set(csv.name, to)
          this.releasedFrom.delete(csv.name)
          this.event('csv.assigned', { csv: csv.name, to })
        }
      }
    }
    if (this.rebalanceWanted && this.moveTargets.size === 0) this.maybeRebalance(view, candidates)
    return view
  }

  private assignable(csv: string, base: View, now: number): boolean {
    // In the genesis view nobody ever owned anything.
    if (base.epoch === 0) return true
    const released = this.releasedFrom.get(csv)
    // Released under an earlier leader: any lease that leader granted ended by then.
    if (!released) return now >= this.leaderSinceMs + this.config.timing.leaseMs
    const acked = this.ackedView.get(released.from)
    if (acked && acked.viewTerm === this.term && acked.epoch >= released.epoch) return true
    const grantedMs = Math.max(this.leaderSinceMs, this.lastGrantMs.get(released.from) ?? -Infinity)
    return now >= grantedMs + this.config.timing.leaseMs
  }

  /** WSFC rebalances CSV owners when nodes join: move one CSV from the busiest node. */
  private maybeRebalance(view: View, candidates: readonly NodeId[]): void {
    const counts = csvCounts(view)
    const loads = candidates.map((id) => ({ id, n: counts.get(id) ?? 0 }))
    if (loads.length < 2) {
      this.rebalanceWanted = false
      return
    }
    loads.sort((a, b) => a.n - b.n || this.config.nodeIds.indexOf(a.id) - this.config.nodeIds.indexOf(b.id))
    const least = loads[0]
    const most = loads[loads.length - 1]
    if (most.n - least.n < 2) {
      this.rebalanceWanted = false
      return
    }
    const owned = view.csvs.filter((c) => c.owner === most.id)
    const preferIndex = this.config.nodeIds.indexOf(least.id)
    const pick = owned.find((c) => this.config.csvNames.indexOf(c.name) === preferIndex) ?? owned[owned.length - 1]
    this.moveTargets.set(pick.name, least.id)
    this.event('csv.rebalance', { csv: pick.name, from: most.id, to: least.id })
  }

  // ---- sending ----

  private broadcastHeartbeat(now: number): void {
    const body = this.heartbeat(now)
    const round = this.heartbeatRounds++
    const { nodeIds, timing } = this.config
    const followingLiveLeader =
      this.role === 'follower' && this.leaderId !== '' && now - this.lastLeaderContactMs <= LEADER_SILENT_FULL_FANOUT_INTERVALS * timing.heartbeatIntervalMs
    const every = followingLiveLeader ? this.followerHeartbeatEvery : 1
    for (let i = 0; i < nodeIds.length; i++) {
      const peer = nodeIds[i]
      if (peer === this.id) continue
      // Each round to another share of the followers, so that every interval carries as many.
      if (every > 1 && peer !== this.leaderId && (round + i) % every !== 0) continue
      this.send(peer, body)
    }
  }

  private heartbeat(now: number): Heartbeat {
    const leader = this.role === 'leader'
    return {
      kind: 'heartbeat',
      term: this.term,
      leader,
      sentAtMs: now,
      committed: leader ? this.committed : null,
      proposed: leader && this.hasProposal() ? this.accepted : null,
      leaving: this.leaving,
    }
  }

  private send(to: NodeId, body: Message): void {
    this.out.push({ kind: 'send', envelope: { from: this.id, to, body } })
  }

  private event(event: string, fields: Record<string, unknown>): void {
    this.out.push({ kind: 'event', event, fields: { term: this.term, role: this.role, ...fields } })
  }
}
