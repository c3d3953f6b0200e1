// `cluster up --pcap FILE` and `swlab capture`: dumpcap records the cluster's loopback traffic
// from before the first node starts until `cluster down`, which leaves a complete file that
// tshark reads with the printed decode-as options (gRPC as HTTP/2) and no malformed packet.
// Needs root and dumpcap; skips with a clear message otherwise.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { captureProblem } from '../../cluster/packet-capture.js'
import { isOurProcess } from '../../cluster/processes.js'
import { freshDir, swlab } from '../helpers/cluster-fixture.js'

const hasTshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0
const skip = captureProblem() ?? (hasTshark ? false : 'tshark is not installed (apt-get install tshark)')

function tshark(pcap: string, decode: string, filter: string, field: string): string[] {
  const dArgs = decode.split(' ').filter((a, i, all) => a === '-d' || all[i - 1] === '-d')
  const r = spawnSync('tshark', ['-r', pcap, ...dArgs, '-Y', filter, '-T', 'fields', '-e', field], { encoding: 'utf8' })
  return r.stdout.split('\n').filter(Boolean)
}

t.test('cluster up --pcap records the run until cluster down', { skip }, async (t) => {
  const dir = freshDir(t, 'swlab-capture-')
  const pcap = join(dir, 'run.pcapng')
  t.teardown(() => swlab(['cluster', 'down', '--dir', dir]))
  const up = swlab(['cluster', 'up', '--nodes', '2', '--dir', dir, '--pcap', pcap, '--json'])
  t.equal(up.code, 0, up.stderr)
  const status = JSON.parse(up.stdout) as { pcap: { out: string; decode: string }; nodes: { adminPort: number }[] }
  t.equal(status.pcap.out, pcap)
  t.match(status.pcap.decode, new RegExp(`-d tcp\\.port==${status.nodes[0].adminPort},http2`), 'the decode-as hint names the admin port as HTTP/2')
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { helpers: { capture: { pid: number; markers: string[] } } }
  t.ok(isOurProcess(run.helpers.capture.pid, run.helpers.capture.markers), 'dumpcap runs, recorded with the cluster')
  const again = swlab(['capture', '--dir', dir, '--out', join(dir, 'other.pcapng')])
  t.match(again.stderr, /a capture is already running/, 'one capture at a time')
  t.equal(swlab(['cluster', 'status', '--dir', dir]).code, 0)
  const down = swlab(['cluster', 'down', '--dir', dir])
  t.equal(down.code, 0, down.stderr)
  t.notOk(isOurProcess(run.helpers.capture.pid, run.helpers.capture.markers), 'cluster down stopped dumpcap')
  t.ok(existsSync(pcap), 'the capture file is there')
  const grpc = tshark(pcap, status.pcap.decode, 'http2.header.value contains "/swlab"', 'frame.number')
  t.ok(grpc.length > 0, `gRPC calls decoded as HTTP/2 (${grpc.length} frames)`)
  const malformed = tshark(pcap, status.pcap.decode, '_ws.malformed', 'frame.number')
  t.same(malformed, [], 'no malformed packet')
})

t.test('swlab capture --seconds and --stop on a running cluster', { skip }, async (t) => {
  const dir = freshDir(t, 'swlab-capture-')
  t.teardown(() => swlab(['cluster', 'down', '--dir', dir]))
  t.equal(swlab(['cluster', 'up', '--nodes', '1', '--dir', dir]).code, 0)
  const timed = swlab(['capture', '--dir', dir, '--out', join(dir, 'short.pcapng'), '--seconds', '1', '--json'])
  t.equal(timed.code, 0, timed.stderr)
  t.match(JSON.parse(timed.stdout), { running: false, out: join(dir, 'short.pcapng') })
  const started = swlab(['capture', '--dir', dir, '--out', join(dir, 'long.pcapng'), '--json'])
  t.equal(started.code, 0, started.stderr)
  t.match(JSON.parse(started.stdout), { running: true })
  const stopped = swlab(['capture', '--dir', dir, '--stop', '--json'])
  t.equal(stopped.code, 0, stopped.stderr)
  t.match(JSON.parse(stopped.stdout), { stopped: true, out: join(dir, 'long.pcapng') })
  t.match(swlab(['capture', '--dir', dir, '--stop']).stderr, /no capture is running/)
  t.match(swlab(['capture', '--dir', dir, '--seconds', '0', '--out', 'x']).stderr, /--seconds must be an integer from 1/)
  t.match(swlab(['capture', '--dir', dir]).stderr, /--out <file> is required/)
})
