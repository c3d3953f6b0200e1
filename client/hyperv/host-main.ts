// Process entry of one emulated Hyper-V host:
//   node dist/client/hyperv/host-main.js --dir <cluster-dir> --name <host> --os 2012r2|2016|2019|2022
// It runs one HyperVHost on the cluster's shares and serves its control API on 127.0.0.1 (an
// ephemeral port), registers itself in <dir>/hosts/<name>.json once listening, and logs one
// NDJSON line per event to <dir>/logs/host-<name>.ndjson, synchronously: a SIGKILL is how a
// host crash is emulated, and the log must hold everything up to it. SIGKILL also flushes
// nothing of the VMs (RCT files stay as the last checkpoint or merge left them, the MRT names
// the regions written since): that is the crash RCT recovers from. SIGTERM (or the shutdown
// call) stops every VM cleanly, marks the registration stopped and exits 0.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../../cluster/cluster.js'
import { clientEventsPath } from '../../cluster/run-logs.js'
import { createNodeLogger } from '../../runtime/logger.js'
import { createHostControlServer } from './host-control-server.js'
import { hostLogPath, hostNameProblem, hostsDir, isHostOs, writeHostRecord, type HostRecord } from './host-registry.js'
import { HyperVHost } from './hyperv-host.js'

/** A clean stop saves RCT through the cluster, which may be failing over: bounded all the same. */
const STOP_TIMEOUT_MS = 20_000
/** With the cluster gone there is nothing left to save: give up sooner. */
const CLUSTER_GONE_STOP_TIMEOUT_MS = 3_000
const CLUSTER_CHECK_INTERVAL_MS = 1_000

function fatal(message: string, code: number): never {
  process.stderr.write(`swlab-host: ${message}\n`)
  process.exit(code)
}

const { values } = parseArgs({ options: { dir: { type: 'string' }, name: { type: 'string' }, os: { type: 'string' } }, strict: true })
if (!values.dir || !values.name || !values.os) fatal('usage: host-main --dir <cluster-dir> --name <host> --os 2012r2|2016|2019|2022', 2)
const name = values.name
const os = values.os
const nameProblem = hostNameProblem(name)
if (nameProblem) fatal(nameProblem, 2)
if (!isHostOs(os)) fatal(`unknown host OS ${JSON.stringify(os)} (2012r2, 2016, 2019, 2022)`, 2)
let cluster: Cluster
try {
  cluster = Cluster.open(values.dir)
} catch (err) {
  fatal((err as Error).message, 2)
}
const credential = cluster.credentials()?.users[0]
if (!credential) fatal(`the cluster folder ${cluster.dir} has no credentials`, 2)
const runFile = join(cluster.dir, 'run.json')
if (!existsSync(runFile)) fatal(`the cluster in ${cluster.dir} is not running (swlab cluster up first)`, 2)

const log = createNodeLogger(name, hostLogPath(cluster.dir, name))
// The VMs' storage clients log where the cluster's other clients do: the report shows their failovers.
const host = new HyperVHost({ name, os, resolve: () => cluster.addresses(), netName: cluster.config.name, credential, eventLog: clientEventsPath(cluster.dir), witnessAuthLevel: cluster.config.clientWitnessAuthLevel })
let record: HostRecord | null = null
let stopping = false

function stop(reason: string, timeoutMs: number): void {
  if (stopping) return
  stopping = true
  server.close()
  clearInterval(clusterCheck)
  log.info({ component: 'host', event: 'host.stopping', reason, vms: host.list().map((v) => v.name) })
  const timer = setTimeout(() => {
    log.error({ component: 'host', event: 'host.exit', code: 1, reason, error: `VMs did not stop within ${timeoutMs} ms` })
    process.exit(1)
  }, timeoutMs)
  void host
    .shutdown()
    .then(
      () => 0,
      (err: Error) => {
        log.error({ component: 'host', event: 'host.stop-failed', error: err.message })
        return 1
      },
    )
    .then((code) => {
      clearTimeout(timer)
      // The mark tells a clean stop from a crash; a deleted cluster folder is not recreated.
      if (record && existsSync(hostsDir(cluster.dir))) writeHostRecord(cluster.dir, { ...record, stoppedAtMs: Date.now() })
      log.info({ component: 'host', event: 'host.exit', code, reason })
      process.exit(code)
    })
}

const server = createHostControlServer({
  host,
  log,
  info: () => ({ ...(record ?? {}) }),
  onShutdown: () => stop('shutdown call', STOP_TIMEOUT_MS),
})
server.on('error', (err) => fatal(`${name}: control API: ${err.message}`, 3))
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  record = { name, os, pid: process.pid, port, startedAtMs: Date.now() }
  writeHostRecord(cluster.dir, record)
  log.info({ component: 'host', event: 'host.listening', os, port, cluster: cluster.config.name })
})

// A host without its cluster has nothing to serve: `cluster down` (or a deleted folder) ends it.
const clusterCheck = setInterval(() => {
  if (!existsSync(runFile)) {
    log.info({ component: 'host', event: 'host.cluster-gone', dir: cluster.dir })
    stop('cluster gone', CLUSTER_GONE_STOP_TIMEOUT_MS)
  }
}, CLUSTER_CHECK_INTERVAL_MS)

for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal, STOP_TIMEOUT_MS))
process.on('uncaughtException', (err) => {
  log.fatal({ component: 'host', event: 'host.crash', error: String(err), stack: err.stack })
  process.exit(70)
})
// HyperVHost's guest workload observes its loop's failure only when it is stopped, so a write
// that fails meanwhile (storage gone) surfaces here. It ends that workload, not the host.
process.on('unhandledRejection', (err) => {
  log.error({ component: 'host', event: 'host.unhandled-rejection', error: String(err) })
})
