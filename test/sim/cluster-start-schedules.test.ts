// Large clusters in the simulator (issue 18): 16 and 64 processes that start one by one over a
// few seconds on a slow network must form one quorate cluster in one term (no split vote, no
// election storm), then survive a kill of the leader and of a CSV owner with the CSVs moved
// within the profile's detection time and a bound. Few seeds: 64 nodes cost ~1 s each.
//
// Replay a failing seed: SEED=5 NODES=64 npx tap test/sim/cluster-start-schedules.test.ts
import t from 'tap'
import { runStartSchedule, type StartScheduleOptions } from '../../core/sim/cluster-start-schedule.js'
import { PROFILES, timingOf } from '../../core/quorum/profiles.js'

const replaySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined
const { detectionMs } = timingOf(PROFILES.fast)
const ws2016DetectionMs = timingOf(PROFILES.ws2016).detectionMs
const ctdbIntervalMs = PROFILES.ctdb.heartbeatIntervalMs

const sizes: Array<{ nodes: number; seeds: number | readonly number[]; opts: Omit<StartScheduleOptions, 'nodeCount'> }> = [
  // 300 ms one-way jitter: votes answered as late as the 12- and 16-node starts measured on 2 cores.
  { nodes: 16, seeds: 6, opts: { startWindowMs: 1500, delayJitterMs: 300, formBoundMs: 3000, moveBoundMs: detectionMs + 1500 } },
  { nodes: 64, seeds: 2, opts: { startWindowMs: 3000, delayJitterMs: 150, formBoundMs: 3000, moveBoundMs: detectionMs + 1500 } },
  // The profile whose 64 nodes heartbeat each other follower every few intervals (FOLLOWER_FANOUT_NODES).
  // Formed within 3 intervals of the last start: a node held for an unheard majority looks again
  // without the retry jitter (with it, seed 5 formed after 5.4 s, and seed 1 of the 9 s window,
  // the spread of 64 processes starting on 2 cores, after 5.0 s).
  { nodes: 64, seeds: 5, opts: { profile: PROFILES.ws2016, startWindowMs: 3000, delayJitterMs: 150, formBoundMs: 3000, moveBoundMs: ws2016DetectionMs + 1500 } },
  { nodes: 64, seeds: 2, opts: { profile: PROFILES.ws2016, startWindowMs: 9000, delayJitterMs: 150, formBoundMs: 3000, moveBoundMs: ws2016DetectionMs + 1500 } },
  // 5 s intervals (30 s detection): the leader's refused connection is found within an interval,
  // and its CSVs move a round later. These seeds took 22 to 29 s, and 38 over 31.5, while a
  // pre-vote hold left from forming (up to 40 s at 64 nodes) outlived the leaderless time.
  { nodes: 64, seeds: [31, 33, 37, 38], opts: { profile: PROFILES.ctdb, startWindowMs: 3000, delayJitterMs: 150, formBoundMs: 2 * ctdbIntervalMs, moveBoundMs: 2 * ctdbIntervalMs + 1500 } },
]

for (const { nodes, seeds, opts } of sizes) {
  if (process.env.NODES !== undefined && Number(process.env.NODES) !== nodes) continue
  t.test(`${nodes} nodes (${opts.profile?.name ?? 'fast'}) starting over ${opts.startWindowMs} ms form one cluster and fail over`, async (t) => {
    const list = replaySeed !== undefined ? [replaySeed] : typeof seeds === 'number' ? Array.from({ length: seeds }, (_, i) => i + 1) : seeds
    for (const seed of list) {
      const r = runStartSchedule(seed, { nodeCount: nodes, ...opts })
      t.ok(r.ok, `seed ${seed}: ${r.violation ?? 'ok'}`)
      t.equal(r.formingTerms, 1, `seed ${seed}: formed in the first term (no split vote)`)
      t.comment(`seed ${seed}: formed ${r.formedAfterLastStartMs} ms after the last start, leader kill moved in ${r.leaderKillMovedMs} ms, owner kill in ${r.ownerKillMovedMs} ms, ${r.messages} messages`)
    }
  })
}
