import { runRandomSchedule } from '../core/sim/random-schedule.js'
const r = runRandomSchedule(Number(process.argv[2]), { trace: true })
console.log(r.violation)
const from = Number(process.argv[3] ?? 0), to = Number(process.argv[4] ?? 1e9)
for (const l of r.trace) { const t = Number(l.slice(0, 6)); if (t >= from && t <= to) console.log(l) }
