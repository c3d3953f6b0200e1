// Large-cluster schedules for the simulator: N processes that come up one by one over a start
// window (a cluster starting on a machine with fewer cores than nodes), on a network whose
// round trips are slow (busy processes answer late), must form one quorate cluster without an
// election storm; then the leader is killed, and a CSV owner, and each must be declared down
// and its CSVs moved within a bound. A seed replays one schedule exactly.
import type { TimingProfile } from '../quorum/profiles.js'
import { PROFILES } from '../quorum/profiles.js'
import type { NodeId } from '../quorum/types.js'
import { ownerOf } from '../quorum/view.js'
import { Prng } from './prng.js'
import { ClusterSim, SimViolation } from './simulator.js'

export interface StartScheduleOptions {
  readonly nodeCount: number
  readonly profile?: TimingProfile
  /** The processes start at uniform random times in [0, startWindowMs]. */
  readonly startWindowMs: number
  /** One-way delay jitter of every message: a busy process reads its sockets late. */
  readonly delayJitterMs: number
  /** After the last process started, the cluster must converge within this long. */
  readonly formBoundMs: number
  /** After a kill, the dead node's CSVs must be served elsewhere within this long. */
  readonly moveBoundMs: number
  readonly trace?: boolean
}

export interface StartScheduleResult {
  readonly seed: number
  readonly ok: boolean
  readonly violation?: string
  /** From the last process start until every node serves and every CSV is served. */
  readonly formedAfterLastStartMs: number
  /** The highest term any node reached while forming: 1 means no vote was ever split or retried. */
  readonly formingTerms: number
  /** From the kill of the leader until its CSVs are served by others. */
  readonly leaderKillMovedMs: number
  /** From the kill of a follower that owns a CSV until its CSVs are served by others. */
  readonly ownerKillMovedMs: number
  readonly messages: number
  readonly trace: readonly string[]
}

export function runStartSchedule(seed: number, opts: StartScheduleOptions): StartScheduleResult {
  const profile = opts.profile ?? PROFILES.fast
  const tickIntervalMs = profile.heartbeatIntervalMs / 10
  const sim = new ClusterSim({ seed, nodeCount: opts.nodeCount, witness: false, profile, stepMs: 1, tickIntervalMs, wakeAtDeadlines: true, trace: opts.trace })
  sim.network = { ...sim.network, delayBaseMs: 1, delayJitterMs: opts.delayJitterMs }
  const pick = new Prng(seed ^ 0x5bd1e995)
  let formedAfterLastStartMs = -1
  let formingTerms = 0
  let leaderKillMovedMs = -1
  let ownerKillMovedMs = -1
  const result = (violation?: string): StartScheduleResult => ({
    seed,
    ok: violation === undefined,
    ...(violation !== undefined ? { violation } : {}),
    formedAfterLastStartMs,
    formingTerms,
    leaderKillMovedMs,
    ownerKillMovedMs,
    messages: sim.messagesSent,
    trace: sim.trace,
  })
  try {
    // Not started yet: nothing listens on their ports (a refused connection, as in a real start).
    for (const id of sim.nodeIds) sim.crash(id)
    const startAtMs = new Map(sim.nodeIds.map((id) => [id, pick.int(0, opts.startWindowMs)]))
    const lastStartMs = Math.max(...startAtMs.values())
    const started = sim.runUntil(() => {
      for (const [id, atMs] of startAtMs) if (sim.nowMs >= atMs && !sim.core(id)) sim.restart(id)
      return sim.nowMs >= lastStartMs
    }, opts.startWindowMs + 1)
    if (started < 0) return result('the processes did not all start')
    formedAfterLastStartMs = sim.runUntil(() => sim.converged(), opts.formBoundMs)
    formingTerms = Math.max(...sim.nodeIds.map((id) => sim.core(id)?.term ?? 0))
    if (formedAfterLastStartMs < 0) return result(`not formed within ${opts.formBoundMs} ms of the last start (terms up to ${formingTerms})`)

    const leader = sim.agreedLeader()
    leaderKillMovedMs = killAndWaitForMove(sim, leader, opts.moveBoundMs)
    if (leaderKillMovedMs < 0) return result(`the leader ${leader}'s CSVs did not move within ${opts.moveBoundMs} ms`)
    const newLeader = currentLeader(sim)
    const owner = sim.nodeIds.find((id) => id !== newLeader && sim.core(id) && ownedBy(sim, newLeader, id).length > 0)
    if (owner === undefined) return result('no follower owns a CSV after the leader kill')
    ownerKillMovedMs = killAndWaitForMove(sim, owner, opts.moveBoundMs)
    if (ownerKillMovedMs < 0) return result(`the owner ${owner}'s CSVs did not move within ${opts.moveBoundMs} ms`)
    return result()
  } catch (err) {
    if (!(err instanceof SimViolation)) throw err
    return result(err.message)
  }
}

/** The running leader of the highest term, or ''. */
function currentLeader(sim: ClusterSim): NodeId | '' {
  let best: NodeId | '' = ''
  let bestTerm = -1
  for (const id of sim.nodeIds) {
    const core = sim.isRunning(id) ? sim.core(id) : null
    if (core && core.role === 'leader' && core.term > bestTerm) {
      best = id
      bestTerm = core.term
    }
  }
  return best
}

function ownedBy(sim: ClusterSim, via: NodeId | '', owner: NodeId): string[] {
  const core = via === '' ? null : sim.core(via)
  return core ? core.committed.csvs.filter((c) => c.owner === owner).map((c) => c.name) : []
}

/** Kills `victim` and runs until a leader commits its CSVs to other nodes that serve them; -1 past the bound. */
function killAndWaitForMove(sim: ClusterSim, victim: NodeId, boundMs: number): number {
  const csvs = ownedBy(sim, currentLeader(sim), victim)
  sim.crash(victim)
  return sim.runUntil(() => {
    const leader = currentLeader(sim)
    const core = leader === '' ? null : sim.core(leader)
    if (!core) return false
    return csvs.every((csv) => {
      const owner = ownerOf(core.committed, csv)
      if (owner === '' || owner === victim) return false
      const ownerCore = sim.core(owner)
      return ownerCore !== null && ownerCore.servingCsvs(sim.clockOf(owner)).includes(csv)
    })
  }, boundMs)
}
