// `swlab soak --faults N` (`npm run soak -- --faults 1000`): seeded chaos runs, each a fresh
// cluster, until N faults were injected across every fault kind; prints the totals as JSON and,
// for any violation, the seed and the command that replays it. Exits non-zero on a violation.
import { Command } from 'commander'
import { fileURLToPath } from 'node:url'
import { dirname, join, resolve } from 'node:path'
import { mkdirSync, writeFileSync } from 'node:fs'
import { ClusterError } from '../cluster/cluster.js'
import { loopVolumeProblem } from '../cluster/csv-volumes.js'
import { namespaceProblem } from '../cluster/network-namespace.js'
import { runSoak, SOAK_FAULTS_MAX } from '../tools/chaos/soak.js'
import { parseByteSize } from './byte-size.js'

/** The CSV volume size of the soak's clusters: big enough for a run's writes, small enough to fill at once. */
const SOAK_CSV_SIZE = '64MiB'

export function addSoakCommands(program: Command): void {
  program
    .command('soak')
    .description('seeded chaos runs on fresh 3- and 5-node clusters (file and cloud witness) until --faults faults were injected; JSON of faults, failovers, operations and violations per invariant')
    .requiredOption('--faults <n>', `faults to inject in all (1..${SOAK_FAULTS_MAX})`)
    .option('--seed <n>', 'seed of the first run (run k uses seed + k)', '1')
    .option('--out <dir>', "keep failing runs' logs, histories and output here")
    .option('--no-netns', 'do not put the clusters in network namespaces (the cut kinds are then skipped)')
    .option('--csv-size <bytes>', 'CSV volume size (disk-full needs one)', SOAK_CSV_SIZE)
    .option('--json', 'print only the JSON (no progress lines)')
    .action(async (o) => {
      const faults = Number(o.faults)
      const seed = Number(o.seed)
      if (!(Number.isInteger(faults) && faults >= 1 && faults <= SOAK_FAULTS_MAX)) throw new ClusterError(`--faults must be a whole number from 1 to ${SOAK_FAULTS_MAX} (got ${JSON.stringify(o.faults)})`)
      if (!(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 31)) throw new ClusterError(`--seed must be a whole number from 0 to 2^31 (got ${JSON.stringify(o.seed)})`)
      parseByteSize('--csv-size', String(o.csvSize))
      const log = o.json ? undefined : (line: string) => process.stderr.write(`${line}\n`)
      // Without root (or its tools) the kinds that need it are skipped, and the output says so.
      const netnsProblem = o.netns === false ? '--no-netns' : namespaceProblem()
      const volumeProblem = loopVolumeProblem()
      if (netnsProblem) log?.(`no network namespaces (${netnsProblem}): one-way-cut, client-cut and witness-cut are skipped`)
      if (volumeProblem) log?.(`no CSV volumes (${volumeProblem}): disk-full is skipped`)
      const outDir = o.out === undefined ? undefined : resolve(String(o.out))
      if (outDir) mkdirSync(outDir, { recursive: true })
      const controller = new AbortController()
      const onSignal = () => {
        log?.('stopping: the run in progress is taken down')
        controller.abort()
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
      const cli = join(dirname(fileURLToPath(import.meta.url)), 'swlab.js')
      try {
        const report = await runSoak(
          { faults, seed, netns: netnsProblem === null, ...(volumeProblem === null ? { csvSize: String(o.csvSize) } : {}), cli, log, signal: controller.signal, ...(outDir ? { outDir } : {}) },
          `swlab soak --faults ${faults} --seed ${seed}`,
        )
        const text = `${JSON.stringify(report, null, 2)}\n`
        if (outDir) writeFileSync(join(outDir, 'soak.json'), text)
        process.stdout.write(text)
        if (report.interrupted) process.exitCode = 130
        else if (report.total.violations > 0) process.exitCode = 1
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}
