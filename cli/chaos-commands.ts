// `swlab chaos run`: random faults under client workloads, then the invariants; exits
// non-zero on any violation.
import { Command, Option } from 'commander'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { CHAOS_FAULTS, DENSE_SPACING, NORMAL_SPACING, runChaos, type ChaosFault } from '../tools/chaos/chaos.js'
import { parseByteSize } from './byte-size.js'
import { buildRunModel, readRun, renderRunReport } from '../tools/report/run-report.js'
import { runInNamespace } from './enter-namespace.js'
import { addChaosMatrixCommand } from './chaos-matrix-commands.js'

const FAULTS: readonly ChaosFault[] = CHAOS_FAULTS

export function addChaosCommands(program: Command, dirOption: () => Option): void {
  const chaos = program.command('chaos').description('chaos testing')
  addChaosMatrixCommand(chaos, dirOption)
  chaos
    .command('run')
    .description('random faults under client workloads, then every invariant that applies')
    .option('--seed <n>', 'seed of the fault schedule', '1')
    .option('--duration <seconds>', 'how long', '60')
    .option('--faults <list>', `faults to draw from, or all (${FAULTS.join(', ')}; the cut kinds need --netns, disk-full --csv-size)`, 'kill,pause,partition')
    .addOption(new Option('--spacing <spacing>', 'normal: faults of 1.2-2.5 s, 1.5-3.5 s apart; dense (the soak): 0.4-1.2 s, 0.2-0.6 s apart (each healed, and the cluster whole, before the next)').choices(['normal', 'dense']).default('normal'))
    .option('--max-faults <n>', 'inject at most this many faults')
    .addOption(new Option('--witness <kind>', 'quorum witness of the cluster it starts').choices(['none', 'file', 'cloud']).default('none'))
    .option('--csv-size <bytes>', 'the cluster it starts puts each CSV on a loop-mounted volume of this size, e.g. 64MiB (root; needed by disk-full)')
    .option('--clients <n>', 'failover clients writing', '4')
    .option('--nodes <n>', 'nodes of the cluster it starts when none runs in --dir', '3')
    .option('--netns', 'the cluster it starts runs in a network namespace of its own (root): partitions are nftables rules, each client has its own source address 127.0.4.K')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const faults = (String(o.faults).trim() === 'all' ? [...FAULTS] : String(o.faults).split(',').map((f) => f.trim())) as ChaosFault[]
      const bad = faults.find((f) => !FAULTS.includes(f))
      if (bad) throw new ClusterError(`unknown fault ${bad} (${FAULTS.join(', ')})`)
      const seed = Number(o.seed)
      const durationS = Number(o.duration)
      const clients = Number(o.clients)
      if (!Number.isInteger(seed)) throw new ClusterError(`--seed must be an integer`)
      if (!(durationS >= 10 && durationS <= 86_400)) throw new ClusterError('--duration must be 10..86400 seconds')
      if (!(Number.isInteger(clients) && clients >= 1 && clients <= 64)) throw new ClusterError('--clients must be 1..64')
      const maxFaults = o.maxFaults === undefined ? undefined : Number(o.maxFaults)
      if (maxFaults !== undefined && !(Number.isInteger(maxFaults) && maxFaults >= 1 && maxFaults <= 1000)) throw new ClusterError('--max-faults must be 1..1000')
      const csvSizeBytes = o.csvSize === undefined ? undefined : parseByteSize('--csv-size', String(o.csvSize))
      let started = false
      let cluster: Cluster
      const running = existsSync(join(o.dir, 'run.json'))
      if (running) cluster = Cluster.open(o.dir)
      else {
        cluster = await Cluster.up({
          dir: o.dir,
          nodes: Number(o.nodes),
          witness: o.witness,
          ...(o.netns ? { netns: true } : {}),
          ...(csvSizeBytes !== undefined ? { csvSizeBytes } : {}),
        })
        started = true
      }
      const namespace = cluster.config.network?.namespace
      if (started && namespace !== undefined) {
        // The clients must run in the namespace: the run itself goes on in a CLI that entered
        // it (finding the cluster running there, it leaves it up); this one takes it down after.
        try {
          cluster.closeAdmins()
          const argv = process.argv.slice(2).filter((a) => a !== '--netns')
          process.exitCode = runInNamespace(namespace, argv)
        } finally {
          await cluster.down()
        }
        return
      }
      try {
        const report = await runChaos({
          cluster,
          seed,
          durationMs: durationS * 1000,
          faults,
          clients,
          spacing: o.spacing === 'dense' ? DENSE_SPACING : NORMAL_SPACING,
          ...(maxFaults !== undefined ? { maxFaults } : {}),
          log: o.json ? undefined : (line) => process.stdout.write(`${line}\n`),
        })
        // The timeline of the run, next to its logs: faults, notifications and failovers in order.
        const reportPath = join(cluster.dir, 'report.html')
        // Who applied the partitions: every output says it.
        const networkFaults = { applied: cluster.faultKind, namespace: cluster.config.network?.namespace ?? null, delays: cluster.config.network ? 'relay' : 'self-applied' }
        const violations = report.violations.length === 0 ? [['none']] : report.violations.map((v) => [v])
        writeFileSync(reportPath, renderRunReport(buildRunModel(readRun(cluster.dir)), `swlab chaos run --seed ${seed}`, [{ title: 'Violations', header: ['violation'], rows: violations }]))
        if (o.json) {
          const { clients: perClient, ...rest } = report
          process.stdout.write(`${JSON.stringify({ ...rest, reportPath, networkFaults, clients: perClient.map((c) => ({ client: c.client, writes: c.writes, reads: c.reads, refusedWrites: c.refusedWrites, failovers: c.failovers.length, lost: c.lost.length, errors: c.errors })) }, null, 2)}\n`)
        } else {
          process.stdout.write(
            [
              `seed ${seed}: ${report.faultsInjected.length} faults (${Object.entries(report.faultsPerKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}), ${report.failovers} failovers, ${report.writes} acknowledged writes, ${report.reads} reads, ${report.refusedWrites} writes refused (disk full)`,
              ...report.skippedKinds.map((s) => `skipped ${s.fault}: ${s.reason}`),
              `network faults: ${networkFaults.applied === 'nftables' ? `nftables rules in network namespace ${networkFaults.namespace}` : "self-applied by the nodes' peer transport"} (delays: ${networkFaults.delays === 'relay' ? "the harness's relay" : 'self-applied'})`,
              `IO pause p50 ${report.ioPauseMs.p50} ms, p99 ${report.ioPauseMs.p99} ms, max ${report.ioPauseMs.max} ms`,
              `notifications: ${report.notifications.required} owed for failed data nodes, ${report.notifications.sent} sent, ${report.notifications.received} received`,
              `replayed writes: ${report.replays.replays} (${report.replays.applied} applied, ${report.replays.alreadyApplied} found applied, ${report.replays.refused} refused)`,
              `history: ${report.linearizability.operations} operations on ${report.linearizability.registers} blocks, ${report.linearizability.verdict} (histories in ${report.linearizability.historyDir})`,
              report.violations.length === 0 ? 'no violation' : `VIOLATIONS:\n  ${report.violations.join('\n  ')}`,
              `report: ${reportPath}`,
            ].join('\n') + '\n',
          )
        }
        if (report.violations.length > 0) process.exitCode = 1
      } finally {
        if (started) await cluster.down()
        else cluster.closeAdmins()
      }
    })
}
