// Runs whole-system random schedules (core/sim/cluster-random-schedule.ts) outside the test:
//   npx tsx scripts/cluster-simrun.ts <seed> [--trace]        one seed; --trace prints its transcript
//   npx tsx scripts/cluster-simrun.ts --count 500 [--first 1]  a batch, with a summary
//   --window <ms> injects faults for that long instead of FAULT_WINDOW_MS (longer hunts).
// Exit status 1 when any schedule fails.
import { runClusterSchedule } from '../core/sim/cluster-random-schedule.js'

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(name)
const value = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}

const window = args.includes('--window') ? value('--window', 0) : undefined

if (args[0] !== undefined && !args[0].startsWith('--')) {
  const seed = Number(args[0])
  const result = runClusterSchedule(seed, { trace: flag('--trace'), faultWindowMs: window })
  if (flag('--trace')) for (const line of result.lines) console.log(line)
  console.log(
    `seed ${seed}: ${result.ok ? 'ok' : 'FAILED'} (${result.nodeCount} nodes, ${result.clientCount} clients, ${result.faults} faults, ` +
      `clients back ${result.recoveredAfterMs} ms after the faults)`,
  )
  if (result.tally) console.log(result.tally)
  if (!result.ok) console.log(result.violation)
  process.exit(result.ok ? 0 : 1)
}

const count = value('--count', 200)
const first = value('--first', 1)
const startedMs = performance.now()
let failed = 0
const recovered: number[] = []
let notifyWorstMs = 0
let duties = 0
for (let seed = first; seed < first + count; seed++) {
  const r = runClusterSchedule(seed, { faultWindowMs: window })
  if (!r.ok) {
    failed++
    if (failed <= 10) console.log(`FAILED seed ${seed}: ${r.violation}`)
    continue
  }
  recovered.push(r.recoveredAfterMs)
  notifyWorstMs = Math.max(notifyWorstMs, r.tally?.notifyWorstMs ?? 0)
  duties += (r.tally?.notifyDuties ?? 0) + (r.tally?.leaveDuties ?? 0)
}
recovered.sort((a, b) => a - b)
console.log({
  count,
  failed,
  ms: Math.round(performance.now() - startedMs),
  duties,
  notifyWorstMs,
  recoveredP50Ms: recovered[Math.floor(recovered.length / 2)],
  recoveredMaxMs: recovered[recovered.length - 1],
})
process.exit(failed > 0 ? 1 : 0)
