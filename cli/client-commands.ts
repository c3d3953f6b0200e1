// `swlab client run`: a witness-aware client workload on a share that prints its failovers
// and checks its ledger of acknowledged writes at the end.
import { Command, Option } from 'commander'
import { join } from 'node:path'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { runWorkload, type WorkloadKind } from '../client/workload.js'
import { witnessKeepAliveTimeoutSFor } from '../core/failover/witness-loss.js'

/** --source-address: a loopback IPv4 address (it must exist on lo: all of 127/8 does). */
function sourceAddressOption(text: string): string {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (!m || m.slice(1).some((x) => Number(x) > 255)) throw new ClusterError(`--source-address must be a loopback IPv4 address such as 127.0.4.1 (got ${JSON.stringify(text)})`)
  return text
}

export function addClientCommands(program: Command, dirOption: () => Option): void {
  program
    .command('client')
    .description('client workloads')
    .command('run')
    .description('write to a CA share through the failover client; print failovers; verify the ledger')
    .option('--share <name>', 'share', 'share-1')
    .addOption(new Option('--workload <kind>', 'IO pattern').choices(['seqwrite', 'randwrite', 'mixed']).default('seqwrite'))
    .option('--duration <seconds>', 'how long to run', '10')
    .option('--node <id>', 'data node to start on (default: a random node of the cluster name)')
    .option('--witness-node <id>', 'witness node to register with first (default: a random other node)')
    .option('--no-witness', 'timeout-only client: notice a dead node only by a request timeout')
    .option('--request-timeout <ms>', 'request expiry (Windows: 60000)', '60000')
    .option('--file <path>', 'file on the share (default: one per client)')
    .option('--witness-keep-alive <seconds>', 'RegisterEx KeepAliveTimeout: a witness silent past it and a grace is lost (default: by the cluster profile, 2 s in fast, 120 s otherwise)')
    .option('--source-address <ip>', "the client's own loopback source address for its SMB and witness connections (e.g. 127.0.4.1), so that `net cut <ip> <node>` cuts it alone")
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const cluster = Cluster.open(o.dir)
      const credential = cluster.credentials()?.users[0]
      if (!credential) throw new ClusterError('the cluster folder has no credentials')
      const durationS = Number(o.duration)
      if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 86_400) throw new ClusterError(`--duration must be 1..86400 seconds (got ${o.duration})`)
      if (!cluster.config.shares.some((s) => s.name === o.share)) throw new ClusterError(`unknown share ${o.share}`)
      const preferredIp = o.node !== undefined ? cluster.nodeConfig(o.node).clientAddress : undefined
      const clientName = `cli-${process.pid}`
      const keepAliveTimeoutS = o.witnessKeepAlive !== undefined ? Number(o.witnessKeepAlive) : witnessKeepAliveTimeoutSFor(cluster.config.profile)
      if (!Number.isInteger(keepAliveTimeoutS) || keepAliveTimeoutS < 1 || keepAliveTimeoutS > 3600) {
        throw new ClusterError(`--witness-keep-alive must be 1..3600 seconds (got ${o.witnessKeepAlive})`)
      }
      const nodeOf = (ip: string) => cluster.config.nodes.find((n) => n.clientAddress === ip)?.id ?? ip
      const result = await runWorkload(
        {
          resolve: () => cluster.addresses(),
          netName: cluster.config.name,
          share: o.share,
          credential,
          clientName,
          preferredIp,
          ...(o.witnessNode !== undefined ? { preferredWitnessIp: cluster.nodeConfig(String(o.witnessNode)).clientAddress } : {}),
          timeoutOnly: !o.witness,
          requestTimeoutMs: Number(o.requestTimeout),
          keepAliveTimeoutS,
          ...(o.sourceAddress !== undefined ? { localAddress: sourceAddressOption(String(o.sourceAddress)) } : {}),
        },
        {
          kind: o.workload as WorkloadKind,
          durationMs: durationS * 1000,
          path: o.file ?? `workload-${clientName}.bin`,
          ledgerFile: join(cluster.dir, 'clients', `${clientName}.ledger.ndjson`),
          eventLog: join(cluster.dir, 'clients', `${clientName}.events.ndjson`),
          onFailover: (f) => {
            if (!o.json) {
              process.stdout.write(
                `failover ${f.from} -> ${f.to}: cause ${f.cause}${f.notified ? ' (witness notice)' : ''}, reconnected after ${f.reconnectMs} ms, IO paused for ${f.ioPauseMs} ms\n`,
              )
            }
          },
        },
      )
      cluster.closeAdmins()
      // The witness node by its node id, and each lost / re-registered witness named so too.
      const witnessNode = result.witnessIp === '' ? null : nodeOf(result.witnessIp)
      const witnessEvents: Array<Record<string, unknown>> = result.witnessEvents.map((e) => ({
        ...e,
        ...(typeof e.witness === 'string' ? { witnessNode: nodeOf(e.witness) } : {}),
        ...(typeof e.from === 'string' ? { fromNode: nodeOf(e.from) } : {}),
      }))
      if (o.json) process.stdout.write(`${JSON.stringify({ ...result, witnessNode, witnessEvents }, null, 2)}\n`)
      else {
        for (const e of witnessEvents) {
          if (e.event === 'witness.lost') process.stdout.write(`witness lost: ${e.witnessNode} (${String(e.reason)}: ${String(e.error)})\n`)
          else if (e.event === 'witness.reregistered') process.stdout.write(`witness re-registered: ${e.fromNode} -> ${e.witnessNode}, ${Math.round(Number(e.afterMs))} ms after the loss\n`)
          else if (e.event === 'witness.reconciled' && e.failover === true) process.stdout.write(`witness caught up: the data node was unavailable meanwhile, failing over\n`)
        }
        process.stdout.write(`witness node: ${witnessNode ?? 'none'}\n`)
        process.stdout.write(
          `${result.writes} writes, ${result.reads} reads, ${result.failovers.length} failover(s); ledger check: ${result.lost.length} lost write(s)${result.errors.length ? `; errors: ${result.errors.join('; ')}` : ''}\n`,
        )
      }
      if (result.lost.length > 0 || result.errors.length > 0) process.exitCode = 1
    })
}
