// `swlab chaos matrix`: every way of losing a node, for every role it plays (issue 17 item 5):
// runs the cells of tools/chaos/chaos-matrix-cells.ts in fresh --netns clusters and prints
// what each measured against its bound; exits non-zero when a cell missed one.
import { Command, Option } from 'commander'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { ClusterError } from '../cluster/cluster.js'
import { namespaceProblem } from '../cluster/network-namespace.js'
import { selectCells } from '../tools/chaos/chaos-matrix-cells.js'
import { runMatrix } from '../tools/chaos/chaos-matrix.js'

export function addChaosMatrixCommand(chaos: Command, dirOption: () => Option): void {
  chaos
    .command('matrix')
    .description('every way of losing a node (kill, freeze, cut both ways, in, out, from clients) for every role it plays (data node, witness node, CSV owner, leader, quorum witness holder): a fresh --netns cluster per trial (root); prints each cell against its bound')
    .option('--cells <list>', 'cells as role/way, or a role or a way for its row or column (default: all)', '')
    .option('--trials <n>', 'trials per cell', '1')
    .option('--observe <seconds>', 'how long each trial is watched after the fault', '15')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const problem = namespaceProblem()
      if (problem) throw new ClusterError(`chaos matrix runs its clusters with --netns, which ${problem}`)
      const names = String(o.cells).split(',').map((c) => c.trim()).filter(Boolean)
      const { cells, unknown } = selectCells(names)
      if (unknown.length > 0) throw new ClusterError(`unknown cell(s) ${unknown.join(', ')}: role/way, a role or a way`)
      const trials = Number(o.trials)
      const observeS = Number(o.observe)
      if (!(Number.isInteger(trials) && trials >= 1 && trials <= 20)) throw new ClusterError('--trials must be 1..20')
      if (!(observeS >= 5 && observeS <= 120)) throw new ClusterError('--observe must be 5..120 seconds')
      const dir = resolve(o.dir)
      mkdirSync(dir, { recursive: true })
      const report = await runMatrix({ dir, cells, trials, observeMs: observeS * 1000, log: (line) => process.stderr.write(`${line}\n`) })
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
      else {
        for (const c of report.cells) {
          const measured = Object.entries(c.measured).map(([m, v]) => `${m} p50 ${v.p50} ms max ${v.max} ms${v.missed ? ` (${v.missed} missed)` : ''}`)
          const bound = c.bounds.map((b) => `${b.metric} <= ${b.withinMs} ms`).join(', ') || `limit: ${c.limit}`
          process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.cell}: ${measured.join('; ')} [${bound}]\n`)
          for (const t of c.trials) for (const p of t.problems) process.stdout.write(`       trial ${t.trial}: ${p}\n`)
        }
      }
      if (report.failed.length > 0) process.exitCode = 1
    })
}
