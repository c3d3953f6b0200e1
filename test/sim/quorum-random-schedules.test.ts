// Drives the quorum core through seeded random fault schedules (crash, restart, pause and
// resume, partitions and heals, message loss, duplication, reordering and long delays) and
// checks the invariants after every simulated step: one leader per term, committed epochs
// never go backwards and name one view, at most one node serves a CSV at any instant, and
// after the faults stop the cluster converges within CONVERGENCE_DETECTIONS detection periods.
//
// Replay a failing seed: SEED=1234 npx tap test/sim/quorum-random-schedules.test.ts
// (or `npx tsx scripts/simtrace.ts 1234` for its transcript).
import t from 'tap'
import { CONVERGENCE_DETECTIONS, runRandomSchedule } from '../../core/sim/random-schedule.js'

const replaySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined
const scheduleCount = Number(process.env.SCHEDULES ?? 2000)
const firstSeed = Number(process.env.FIRST_SEED ?? 1)

t.test(`quorum core survives ${replaySeed !== undefined ? `seed ${replaySeed}` : `${scheduleCount} random schedules`}`, async (t) => {
  const seeds = replaySeed !== undefined ? [replaySeed] : Array.from({ length: scheduleCount }, (_, i) => firstSeed + i)
  const failures: string[] = []
  let worstConvergenceMs = 0
  let faults = 0
  for (const seed of seeds) {
    const result = runRandomSchedule(seed)
    faults += result.faults
    if (!result.ok) failures.push(`seed ${seed} (${result.nodeCount} nodes, witness ${result.witness}): ${result.violation}`)
    else worstConvergenceMs = Math.max(worstConvergenceMs, result.convergedAfterMs)
  }
  for (const line of failures.slice(0, 10)) t.comment(`FAILED ${line}  -> replay with SEED=${line.split(' ')[1]}`)
  t.same(failures, [], 'no schedule violates an invariant or fails to converge')
  t.comment(`${seeds.length} schedules, ${faults} faults, worst convergence ${worstConvergenceMs} ms (bound ${CONVERGENCE_DETECTIONS} x detection)`)
})

// The same schedules with the node process's timers: a periodic tick every 25 ms (10 an
// interval) and a wake at each deadline the core names, at 1 ms resolution.
const timerScheduleCount = Number(process.env.TIMER_SCHEDULES ?? 500)
if (replaySeed === undefined) {
  t.test(`quorum core survives ${timerScheduleCount} random schedules with deadline wakes`, async (t) => {
    const timers = { stepMs: 1, tickIntervalMs: 25, wakeAtDeadlines: true }
    const failures: string[] = []
    let worstConvergenceMs = 0
    for (let seed = firstSeed; seed < firstSeed + timerScheduleCount; seed++) {
      const result = runRandomSchedule(seed, { timers })
      if (!result.ok) failures.push(`seed ${seed} (${result.nodeCount} nodes, witness ${result.witness}): ${result.violation}`)
      else worstConvergenceMs = Math.max(worstConvergenceMs, result.convergedAfterMs)
    }
    t.same(failures, [], 'no schedule violates an invariant or fails to converge')
    t.comment(`${timerScheduleCount} schedules, worst convergence ${worstConvergenceMs} ms`)
  })
}
