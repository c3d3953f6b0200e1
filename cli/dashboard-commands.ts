// `swlab dashboard`: a live web page of a running cluster (nodes, quorum, CSV owners, clients
// and recent events) with buttons for faults and client moves, served on a loopback address
// until SIGINT or SIGTERM.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { DashboardServer } from '../tools/dashboard/dashboard-server.js'
import { print } from './print-output.js'

function portOption(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  if (!(port >= 0 && port <= 65_535)) throw new ClusterError(`--port must be an integer from 0 to 65535 (got ${JSON.stringify(text)})`)
  return port
}

/** Resolves on the first SIGINT or SIGTERM, and stops listening for both. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      resolve(signal)
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}

export function addDashboardCommands(program: Command, dirOption: () => Option): void {
  program
    .command('dashboard')
    .description('serve a live web dashboard of the cluster (loopback only) until Ctrl-C')
    .addOption(dirOption())
    .option('--address <ip>', 'loopback address to listen on (127.x.y.z or ::1)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0: a free one)', '0')
    .option('--json', 'print {"url": …} as JSON')
    .action(async (o: { dir: string; address: string; port: string; json?: boolean }) => {
      const port = portOption(String(o.port))
      const cluster = Cluster.open(o.dir)
      const dashboard = await DashboardServer.start({ cluster, address: o.address, port })
      const stopped = untilSignal()
      print(Boolean(o.json), { url: dashboard.url }, () => `dashboard of ${cluster.dir}: ${dashboard.url} (Ctrl-C stops it)`)
      await stopped
      await dashboard.close()
    })
}
