// `swlab host start|stop|kill|list`: emulated Hyper-V hosts of a cluster, each its own
// detached process with a control API (client/hyperv/host-main.ts). `host kill` is a host
// crash (SIGKILL): nothing is flushed, and RCT recovers from the MRT when the VM starts again.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { HOST_OSES, type HostOs } from '../core/cbt/cbt-decision.js'
import { HostControlClient } from '../client/hyperv/host-control-client.js'
import { killHostProcess, startHostProcess, stopHostProcess } from '../client/hyperv/host-launcher.js'
import { isHostOs, listHosts, readHostRecord } from '../client/hyperv/host-registry.js'
import { expectedErrorsAsClusterErrors } from './cli-errors.js'
import { print } from './print-output.js'

/** `host list` asks each running host for its VM count, briefly: a hung host must not hang the list. */
const LIST_PROBE_TIMEOUT_MS = 2_000

export function addHostCommands(program: Command, dirOption: () => Option): void {
  const host = program.command('host').description('emulated Hyper-V hosts running VMs on the cluster shares')
  host
    .command('start')
    .description('start a host process (detached); returns once its control API answers')
    .requiredOption('--name <host>', 'host name')
    .addOption(new Option('--os <os>', 'host OS (default: the OS it had when it last ran)').choices([...HOST_OSES]))
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        // Restarting a crashed host keeps its OS unless told otherwise.
        const os: HostOs | undefined = o.os ?? readHostRecord(cluster.dir, o.name)?.os
        if (os === undefined || !isHostOs(os)) throw new ClusterError(`--os is required for a new host (${HOST_OSES.join(', ')})`)
        const record = await startHostProcess(cluster.dir, o.name, os)
        print(Boolean(o.json), record, () => `host ${record.name} (${record.os}) runs as pid ${record.pid}, control API 127.0.0.1:${record.port}`)
      }),
    )
  host
    .command('stop')
    .description('clean stop (SIGTERM): every VM stops and saves RCT, then the host exits')
    .requiredOption('--name <host>', 'host name')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const { pid } = await stopHostProcess(cluster.dir, o.name)
        print(Boolean(o.json), { host: o.name, action: 'stop', pid }, () => `host ${o.name} (pid ${pid}) stopped`)
      }),
    )
  host
    .command('kill')
    .description('host crash (SIGKILL): VMs die without saving RCT; the MRT survives')
    .requiredOption('--name <host>', 'host name')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const { pid } = await killHostProcess(cluster.dir, o.name)
        print(Boolean(o.json), { host: o.name, action: 'kill', pid }, () => `host ${o.name} (pid ${pid}) killed`)
      }),
    )
  host
    .command('list')
    .description('registered hosts: OS, state (running, paused, stopped, crashed), pid, port, VMs')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const rows = await Promise.all(
          listHosts(cluster.dir).map(async (h) => {
            const vms =
              h.state === 'running'
                ? await new HostControlClient(h, { timeoutMs: LIST_PROBE_TIMEOUT_MS }).list().then(
                    (list) => list.map((v) => v.name),
                    () => null,
                  )
                : null
            return { ...h, vms }
          }),
        )
        print(Boolean(o.json), rows, () =>
          [
            'HOST          OS      STATE    PID      PORT   VMS',
            ...rows.map((r) =>
              [r.name.padEnd(13), r.os.padEnd(7), r.state.padEnd(8), String(r.state === 'running' || r.state === 'paused' ? r.pid : '-').padEnd(8), String(r.port).padEnd(6), r.vms === null ? '-' : r.vms.join(',') || '(none)'].join(' '),
            ),
          ].join('\n'),
        )
      }),
    )
}
