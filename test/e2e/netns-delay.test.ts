// A delay under --netns is the harness's: nftables sends the delayed node's peer links through
// the relay (cluster/peer-relay.ts), which holds every message; no node is told of a fault. A
// probe in the namespace measures the round trip of an HTTP/2 PING on the link address node-1
// reaches node-2 on (the path of node-1's peer calls): about 2 x the delay with it, about 0
// without. Skips with the reason where the namespace cannot be made.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { inNamespace, namespaceProblem } from '../../cluster/network-namespace.js'
import { peerLinkAddress } from '../../cluster/net-fault-rules.js'
import { readLog, swlab, upCluster } from '../helpers/cluster-fixture.js'

const problem = namespaceProblem()
const skip = problem ? `--netns ${problem}` : false

const DELAY_MS = 100
const PINGS = 5

/**
 * From inside the namespace: PINGS HTTP/2 PINGs on one connection to address:port (a gRPC
 * server answers each with a PING ACK), each round trip in ms.
 */
function pingRoundTrips(namespace: string, address: string, port: number): number[] {
  const script = `
const net = require('node:net')
const s = net.connect({ host: '${address}', port: ${port} })
const frame = (type, flags, payload) => { const h = Buffer.alloc(9); h.writeUIntBE(payload.length, 0, 3); h[3] = type; h[4] = flags; return Buffer.concat([h, payload]) }
let buf = Buffer.alloc(0), sent = 0, acked = 0
const rtts = []
const ping = () => { sent = performance.now(); s.write(frame(6, 0, Buffer.alloc(8, acked))) }
s.on('connect', () => { s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n'), frame(4, 0, Buffer.alloc(0))])); ping() })
s.on('data', (d) => {
  buf = Buffer.concat([buf, d])
  while (buf.length >= 9) {
    const len = buf.readUIntBE(0, 3)
    if (buf.length < 9 + len) break
    const type = buf[3], flags = buf[4]
    buf = buf.subarray(9 + len)
    if (type === 4 && !(flags & 1)) s.write(frame(4, 1, Buffer.alloc(0)))
    if (type === 6 && (flags & 1)) { rtts.push(performance.now() - sent); if (++acked === ${PINGS}) { console.log(JSON.stringify(rtts)); process.exit(0) } ping() }
  }
})
s.on('error', (e) => { console.error(e.message); process.exit(2) })
setTimeout(() => { console.error('no PING ACK'); process.exit(3) }, 20000)`
  const [command, ...args] = inNamespace(namespace, [process.execPath, '-e', script])
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`probe: ${r.stderr || r.status}`)
  return JSON.parse(r.stdout) as number[]
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

t.test("net delay under --netns: the harness's relay holds node-2's peer traffic; no node is told", { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: true })
  await cluster.waitFor((s) => s.quorum && s.nodes.every((n) => n.serving), 20_000)
  const namespace = cluster.config.network!.namespace
  const link = peerLinkAddress(cluster.config.nodes, 'node-1', 'node-2')
  const port = cluster.nodeConfig('node-2').peerPort
  const before = median(pingRoundTrips(namespace, link, port))

  const r = swlab(['net', 'delay', 'node-2', String(DELAY_MS), '--dir', cluster.dir, '--json'])
  t.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { applied: string; namespace: string; rules: string[] }
  t.equal(out.applied, 'relay', 'the output says the relay applied it')
  t.equal(out.namespace, namespace)
  t.ok(out.rules.some((l) => l.includes(`to ${link.replace('127.5.', '127.6.')}`)), 'node-1 -> node-2 is sent to the relay')

  const delayed = pingRoundTrips(namespace, link, port)
  t.comment(`PING round trip node-1 -> node-2's link: ${before.toFixed(1)} ms before, ${delayed.map(Math.round).join(', ')} ms with ${DELAY_MS} ms on node-2 (2 cores shared)`)
  t.ok(median(delayed) >= 2 * DELAY_MS - 2, `held both ways: median ${Math.round(median(delayed))} ms >= ${2 * DELAY_MS} ms`)
  t.ok(median(delayed) - before >= 2 * DELAY_MS - 5, 'the delay raised the round trip')
  const other = median(pingRoundTrips(namespace, peerLinkAddress(cluster.config.nodes, 'node-1', 'node-3'), cluster.nodeConfig('node-3').peerPort))
  t.ok(other < DELAY_MS, `node-1 -> node-3 is not delayed (${other.toFixed(1)} ms)`)

  // The nodes' own peer calls go through it too: the DNAT rules count their connections.
  const status = await cluster.waitFor((s) => s.network!.rules.some((l) => /dnat (ip )?to 127\.6\.1\.2/.test(l) && /packets [1-9]/.test(l)), 10_000)
  t.equal(status.network!.delays, 'relay', 'status: delays held by the relay')
  t.same(status.network!.delayMs, { 'node-2': DELAY_MS }, 'status: the delay in force')
  t.same(status.nodes.find((n) => n.id === 'node-1')!.delayMs, { 'node-2': DELAY_MS }, "status: node-1's link to node-2 is delayed")
  t.ok(status.quorum && status.nodes.every((n) => n.serving), 'a 100 ms delay keeps the cluster whole')
  const text = swlab(['cluster', 'status', '--dir', cluster.dir])
  t.match(text.stdout, /delays: the harness's relay .*node-2 100 ms/, 'cluster status says who applies the delay')
  for (const id of ['node-1', 'node-2', 'node-3']) {
    const told = readLog(cluster.dir, id).filter((l) => l.event === 'net.faults.set')
    t.ok(told.every((l) => Object.keys((l as { delayMs?: object }).delayMs ?? {}).length === 0), `${id} was told of no delay (${told.length} fault update(s))`)
    const peers = (await cluster.admin(id).status()).peers
    t.ok(peers.every((p) => p.delayMs === 0), `${id} applies no delay itself`)
  }

  const healed = swlab(['net', 'heal', '--dir', cluster.dir, '--json'])
  t.equal(healed.code, 0, healed.stderr)
  const after = median(pingRoundTrips(namespace, link, port))
  t.ok(after < DELAY_MS, `healed: new connections go straight to node-2 again (${after.toFixed(1)} ms)`)
})
