import { runRandomSchedule } from '../core/sim/random-schedule.js'
const n = Number(process.argv[2] ?? 200)
const start = Number(process.argv[3] ?? 1)
const t0 = Date.now()
let fails = 0
const conv: number[] = []
for (let s = start; s < start + n; s++) {
  const r = runRandomSchedule(s)
  if (!r.ok) { fails++; if (fails <= 8) console.log('FAIL seed', s, r.nodeCount, r.witness, r.violation) }
  else conv.push(r.convergedAfterMs)
}
conv.sort((a,b)=>a-b)
console.log({ n, fails, ms: Date.now() - t0, p50: conv[Math.floor(conv.length/2)], p99: conv[Math.floor(conv.length*0.99)], max: conv[conv.length-1] })
