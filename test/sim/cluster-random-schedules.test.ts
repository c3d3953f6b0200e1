// Drives the whole system -- quorum and witness cores on every node, failover cores in 2 to 4
// clients -- through seeded random fault schedules (crashes, restarts, pauses, partitions,
// cut client links, slow and lossy node links, admin client moves), checking on every
// simulated step the quorum's invariants and the clients': (a) a client registered with a
// healthy witness node is notified within the bound when its data node is declared down,
// (b) no client keeps its data path on a declared-down node past its bound. After the faults
// stop, the cluster must converge and every client must be back at work.
//
// Replay a failing seed: SEED=1234 npx tap test/sim/cluster-random-schedules.test.ts
// or, with its transcript: npx tsx scripts/cluster-simrun.ts 1234 --trace
import t from 'tap'
import { CLIENT_DELAY_MAX_MS, NODE_DELAY_MAX_MS, replayCommand, runClusterSchedule, SCHEDULE_STEP_MS } from '../../core/sim/cluster-random-schedule.js'
import { failoverBounds } from '../../core/sim/failover-invariants.js'
import { clientReactionMs } from '../../core/sim/sim-failover-client.js'
import { PROFILES, timingOf } from '../../core/quorum/profiles.js'

// The schedules run the fast profile: these are the bounds every step checks.
const BOUNDS = failoverBounds(timingOf(PROFILES.fast), CLIENT_DELAY_MAX_MS, NODE_DELAY_MAX_MS, clientReactionMs(SCHEDULE_STEP_MS))

const replaySeed = process.env.SEED !== undefined ? Number(process.env.SEED) : undefined
const scheduleCount = Number(process.env.SCHEDULES ?? 2000)
const firstSeed = Number(process.env.FIRST_SEED ?? 1)

t.test(`failover clients survive ${replaySeed !== undefined ? `seed ${replaySeed}` : `${scheduleCount} random schedules`}`, async (t) => {
  const seeds = replaySeed !== undefined ? [replaySeed] : Array.from({ length: scheduleCount }, (_, i) => firstSeed + i)
  const startedMs = performance.now()
  const failures: { seed: number; violation: string }[] = []
  let faults = 0
  let notified = 0
  let left = 0
  let notifyWorstMs = 0
  const recoveredMs: number[] = []
  for (const seed of seeds) {
    const result = runClusterSchedule(seed)
    faults += result.faults
    if (!result.ok) {
      failures.push({ seed, violation: result.violation ?? '' })
      continue
    }
    recoveredMs.push(result.recoveredAfterMs)
    notified += result.tally?.notifyMet ?? 0
    left += result.tally?.leaveMet ?? 0
    notifyWorstMs = Math.max(notifyWorstMs, result.tally?.notifyWorstMs ?? 0)
  }
  for (const f of failures.slice(0, 10)) {
    t.comment(`FAILED seed ${f.seed}: ${f.violation}`)
    t.comment(`  replay: SEED=${f.seed} npx tap test/sim/cluster-random-schedules.test.ts   or   ${replayCommand(f.seed)}`)
  }
  t.same(
    failures.map((f) => f.seed),
    [],
    'no schedule violates an invariant, fails to converge or leaves a client behind',
  )
  recoveredMs.sort((a, b) => a - b)
  t.comment(
    `${seeds.length} schedules, ${faults} faults, ${notified} notifications and ${left} data paths moved within their bounds; ` +
      `worst notification ${notifyWorstMs} ms after the declaration (bound ${BOUNDS.notifyBoundMs} ms; data path bound ${BOUNDS.dataPathBoundMs} ms); clients back p50 ${recoveredMs[Math.floor(recoveredMs.length / 2)] ?? '-'} ms, ` +
      `max ${recoveredMs[recoveredMs.length - 1] ?? '-'} ms after the faults; ${Math.round(performance.now() - startedMs)} ms`,
  )
})
