// `swlab report <dir> [--out FILE]`: a self-contained HTML report (SVG timeline and tables) of
// any run, rebuilt from its logs: a cluster folder (chaos runs included) or a logs folder.
import { Command } from 'commander'
import { existsSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ClusterError } from '../cluster/cluster.js'
import { buildRunModel, readRun, renderRunReport } from '../tools/report/run-report.js'

export function addReportCommands(program: Command): void {
  program
    .command('report')
    .description('build a self-contained HTML report with a timeline from the logs of a run')
    .argument('<dir>', 'a cluster folder or its logs folder')
    .option('--out <file>', 'where to write it (default: <dir>/report.html)')
    .option('--json', 'print the timeline model as JSON instead')
    .action((dir: string, o: { out?: string; json?: boolean }) => {
      if (!existsSync(dir)) throw new ClusterError(`no folder ${dir}`)
      const run = readRun(dir)
      if (run.nodes.size === 0) throw new ClusterError(`no node logs (*.ndjson) in ${dir} or ${join(dir, 'logs')}`)
      const model = buildRunModel(run)
      if (o.json) {
        process.stdout.write(`${JSON.stringify(model, null, 2)}\n`)
        return
      }
      const out = resolve(o.out ?? join(dir, 'report.html'))
      writeFileSync(out, renderRunReport(model, `swlab run ${resolve(dir)}`))
      process.stdout.write(`${out}\n`)
    })
}
