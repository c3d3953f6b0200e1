// `swlab conformance witness --target host:port`: the witness conformance suite against any
// server that speaks the witness gRPC contract, printing a pass/fail table or JSON.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { clusterHooks } from '../client/conformance/cluster-hooks.js'
import { runWitnessConformance, type CaseResult, type ServerProfile } from '../client/conformance/witness-cases.js'
import { WITNESS_PROFILES } from '../core/witness/witness-profiles.js'

export function addConformanceCommands(program: Command): void {
  program
    .command('conformance')
    .description('conformance suites')
    .command('witness')
    .description('run the MS-SWN conformance cases against a witness service')
    .requiredOption('--target <host:port>', 'witness service endpoint')
    .option('--dir <cluster-dir>', 'cluster folder of the target: credentials and SUT hooks (kill/start/move)')
    .option('--user <name>', 'user (default: from the cluster folder)')
    .option('--password <password>', 'password (default: from the cluster folder)')
    .option('--net-name <name>', 'the cluster network name', 'SOFS')
    .option('--share <name>', 'a CA scale-out share', 'share-1')
    .addOption(new Option('--profile <profile>', 'expected server behaviour').choices(WITNESS_PROFILES).default('ws2012r2'))
    .option('--keep-alive <seconds>', 'KeepAliveTimeout of the timeout case (WPTS: 10)', '10')
    .option('--only <regex>', 'run only the matching cases')
    .option('--json', 'print one JSON object per case')
    .action(async (o) => {
      const cluster = o.dir !== undefined ? Cluster.open(o.dir) : null
      const creds = cluster?.credentials() ?? null
      const credential = o.user !== undefined ? { user: o.user, password: o.password ?? '' } : creds?.users[0]
      if (!credential) throw new ClusterError('give --user/--password, or --dir of a cluster with credentials')
      const targetNode = cluster?.config.nodes.find((n) => `${n.clientAddress}:${n.witnessPort}` === o.target)?.id
      const only = o.only !== undefined ? new RegExp(o.only) : undefined
      const results: CaseResult[] = await runWitnessConformance(
        {
          endpoint: o.target,
          credential,
          otherCredential: creds?.users[1],
          netName: o.netName,
          shareName: o.share,
          profile: o.profile as ServerProfile,
          hooks: cluster && targetNode ? clusterHooks(cluster, targetNode) : undefined,
          keepAliveTimeoutS: Number(o.keepAlive),
        },
        { only: only ? (name) => only.test(name) : undefined },
      )
      cluster?.closeAdmins()
      if (o.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
      else {
        for (const r of results) {
          process.stdout.write(`${r.result.toUpperCase().padEnd(5)} ${r.name.padEnd(58)} ${r.detail ?? ''}\n`)
        }
        const count = (k: string) => results.filter((r) => r.result === k).length
        process.stdout.write(`${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped\n`)
      }
      if (results.some((r) => r.result === 'fail')) process.exitCode = 1
    })
}
