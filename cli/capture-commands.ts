// `swlab capture --out FILE [--seconds N] | --stop`: records the loopback traffic of a running
// cluster's ports with dumpcap (root), so that a run opens in Wireshark with SMB2 and WITNESS
// decoded. Without --seconds the capture runs on until `swlab capture --stop` or
// `cluster down`; `cluster up --pcap FILE` starts one before the first node.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { decodeAsArgs } from '../cluster/packet-capture.js'
import { print } from './print-output.js'

export function addCaptureCommands(program: Command, dirOption: () => Option): void {
  program
    .command('capture')
    .description("record the cluster's loopback traffic into a pcapng file (root; dumpcap); open it with the printed tshark options")
    .addOption(dirOption())
    .option('--out <file>', 'the pcapng file to write')
    .option('--seconds <n>', 'stop after N seconds and return (default: run until `capture --stop` or `cluster down`)')
    .option('--stop', 'stop the running capture of this cluster')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = Cluster.open(o.dir)
      if (o.stop) {
        const stopped = await c.stopCapture()
        if (!stopped) throw new ClusterError('no capture is running for this cluster')
        print(Boolean(o.json), { stopped: true, out: stopped.out }, () => `capture stopped: ${stopped.out}`)
        return
      }
      if (o.out === undefined) throw new ClusterError('--out <file> is required (or --stop)')
      let seconds: number | undefined
      if (o.seconds !== undefined) {
        seconds = Number(o.seconds)
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new ClusterError(`--seconds must be an integer from 1 to 86400 (got ${JSON.stringify(o.seconds)})`)
      }
      const capture = await c.startCapture(String(o.out), seconds)
      const decode = ['tshark', '-r', capture.out, ...decodeAsArgs(c.captureSpec())].join(' ')
      const result = { out: capture.out, pid: capture.pid, running: seconds === undefined, decode }
      print(Boolean(o.json), result, () =>
        seconds === undefined
          ? `capturing into ${capture.out} (pid ${capture.pid}) until \`swlab capture --stop\` or \`cluster down\`\nread it with: ${decode}`
          : `captured ${seconds} s into ${capture.out}\nread it with: ${decode}`,
      )
    })
}
