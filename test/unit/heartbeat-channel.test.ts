// Heartbeats as UDP datagrams between two peer transports on the loopback: a heartbeat
// arrives as the envelope that was sent, a view change goes on the reliable channel instead,
// a self-applied partition drops datagrams both ways, and stale or foreign datagrams are
// dropped by the receiver.
import t, { type Test } from 'tap'
import { createSocket } from 'node:dgram'
import pino from 'pino'
import * as grpc from '@grpc/grpc-js'
import { PeerTransport } from '../../server/peer-transport.js'
import { bindGrpc } from '../../server/grpc-listen.js'
import { loadPeerProto } from '../../proto/loader.js'
import type { Envelope, Heartbeat, View } from '../../core/quorum/types.js'
import type { NodeConfig } from '../../cluster/config.js'
import { systemClock } from '../../runtime/clock.js'
import { encodeHeartbeatDatagram } from '../../protocol/cluster/heartbeat-datagram.js'

const log = pino({ level: 'silent' })

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind({ address: '127.0.0.1', port: 0 }, resolve))
  const port = s.address().port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, 5))
  }
  return cond()
}

const view: View = { epoch: 3, viewTerm: 2, leaderId: 'a', members: [{ id: 'a', state: 'up', vote: 1 }, { id: 'b', state: 'up', vote: 1 }], csvs: [{ name: 'csv-1', owner: 'b' }] }

function heartbeat(fields: Partial<Heartbeat> = {}): Heartbeat {
  return { kind: 'heartbeat', term: 2, leader: false, sentAtMs: 12.5, committed: null, proposed: null, leaving: false, ...fields }
}

/** A free UDP port may be taken meanwhile (on TCP, an outgoing connection's port): try other ports then. */
async function onFreePorts<T>(make: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await make()
    } catch (err) {
      if (attempt >= 5 || !/in use|EADDRINUSE/.test(String(err))) throw err
    }
  }
}

function pair(t: Test): ReturnType<typeof pairOnce> {
  return onFreePorts(() => pairOnce(t))
}

async function pairOnce(t: Test) {
  const ports = { a: await freeUdpPort(), b: await freeUdpPort() }
  const node = (id: 'a' | 'b'): NodeConfig => ({ id, clientAddress: '127.0.0.1', clusterAddress: '127.0.0.1', peerPort: ports[id], adminPort: 1, witnessPort: 1, smbPort: 1 }) as NodeConfig
  const make = (self: 'a' | 'b', peer: 'a' | 'b') =>
    new PeerTransport({ selfId: self, peers: [node(peer)], callDeadlineMs: 200, onRefused: () => {}, clock: systemClock(), log })
  const a = make('a', 'b')
  const b = make('b', 'a')
  const got: Record<string, Envelope[]> = { a: [], b: [] }
  const servers: grpc.Server[] = []
  t.teardown(() => {
    a.close()
    b.close()
    for (const server of servers) server.forceShutdown()
  })
  for (const [id, tr] of [['a', a], ['b', b]] as const) {
    // The peer service on TCP at the same port number, as a node runs it: heartbeats go as
    // datagrams only to a peer whose gRPC channel is connected.
    const server = new grpc.Server()
    servers.push(server)
    server.addService(loadPeerProto().swlab.peer.v1.Peer.service, tr.handlers({ receive: (e) => got[id].push(e), decodeForwarded: () => null, serveForwarded: async () => ({ ok: false, failure: 'failed', details: '' }), sessionEnded: () => {} }))
    await bindGrpc(server, '127.0.0.1', ports[id])
    const peer = id === 'a' ? 'b' : 'a'
    await tr.useDatagrams({ port: ports[id], listenAddresses: ['127.0.0.1'], targetOf: () => ({ address: '127.0.0.1', port: ports[peer] }) })
  }
  t.ok(await waitFor(() => a.connected('b') && b.connected('a'), 5000), 'the gRPC channels connected')
  return { a, b, got, ports }
}

t.test('a heartbeat arrives as a datagram, as the envelope that was sent', async (t) => {
  const { a, b, got } = await pair(t)
  const sent: Envelope = { from: 'a', to: 'b', body: heartbeat() }
  a.send(sent)
  t.ok(await waitFor(() => got.b.length === 1), 'delivered')
  t.same(got.b[0], sent)
  t.equal(a.datagramStats()?.sent, 1, 'one datagram sent')
  t.equal(b.datagramStats()?.received, 1, 'one datagram taken')
})

t.test('a leader heartbeat goes on the reliable channel when its committed view or its proposal is new to the peer, then as datagrams', async (t) => {
  const { a, got } = await pair(t)
  const body = heartbeat({ leader: true, committed: view })
  a.send({ from: 'a', to: 'b', body })
  t.equal(a.datagramStats()?.sent, 0, 'the first one of a new committed view: gRPC')
  t.ok(await waitFor(() => got.b.length === 1), 'it arrived')
  a.send({ from: 'a', to: 'b', body: { ...body, sentAtMs: 13 } })
  t.ok(await waitFor(() => got.b.length === 2), 'the repeat came as a datagram')
  t.equal(a.datagramStats()?.sent, 1, 'one datagram')
  t.same(got.b[1].body, { ...body, sentAtMs: 13 })
  const proposing = { ...body, proposed: { ...view, epoch: 4 } }
  a.send({ from: 'a', to: 'b', body: proposing })
  t.equal(a.datagramStats()?.sent, 1, 'a new proposal goes on the reliable channel')
  t.ok(await waitFor(() => got.b.length === 3), 'it arrived')
  a.send({ from: 'a', to: 'b', body: { ...proposing, sentAtMs: 14 } })
  t.ok(await waitFor(() => got.b.length === 4), 'its repeat came as a datagram')
  t.equal(a.datagramStats()?.sent, 2, 'two datagrams')
  t.same(got.b[3].body, { ...proposing, sentAtMs: 14 }, 'with the proposal in it')
})

t.test('a self-applied partition drops datagrams in both directions', async (t) => {
  const { a, b, got } = await pair(t)
  a.setFaults({ partitionedFrom: ['b'], delayMs: {} })
  a.send({ from: 'a', to: 'b', body: heartbeat() })
  b.send({ from: 'b', to: 'a', body: heartbeat() })
  // b's datagram reaches a's socket and is dropped there; wait until it must have arrived.
  t.ok(await waitFor(() => (a.datagramStats()?.received ?? 0) === 1), "b's datagram reached a's socket")
  t.same(got, { a: [], b: [] }, 'nothing delivered either way')
  t.equal(a.datagramStats()?.sent, 0, 'a sent nothing to b')
  a.setFaults({ partitionedFrom: [], delayMs: {} })
  a.send({ from: 'a', to: 'b', body: heartbeat() })
  t.ok(await waitFor(() => got.b.length === 1), 'healed: delivered')
})

t.test('stale, duplicated, misaddressed and malformed datagrams are dropped', async (t) => {
  const { b, got, ports } = await pair(t)
  const s = createSocket('udp4')
  t.teardown(() => s.close())
  const send = (buf: Buffer) => new Promise<void>((resolve) => s.send(buf, ports.b, '127.0.0.1', () => resolve()))
  const d = (seq: number, to = 'b', from = 'a') => encodeHeartbeatDatagram({ incarnation: 9, seq, from, to, body: heartbeat({ sentAtMs: seq }) })
  await send(d(5))
  await send(d(5))
  await send(d(4))
  await send(d(6, 'c'))
  await send(d(7, 'b', 'stranger'))
  await send(Buffer.from('not a heartbeat'))
  await send(d(8))
  t.ok(await waitFor(() => got.b.length === 2 && (b.datagramStats()?.dropped ?? 0) === 5), `taken ${got.b.length}, dropped ${b.datagramStats()?.dropped}`)
  t.same(
    got.b.map((e) => (e.body as Heartbeat).sentAtMs),
    [5, 8],
    'only the fresh ones, in order',
  )
})

t.test('to a peer not listening, heartbeats ride one call per connection attempt; votes always go', async (t) => {
  const refusals: number[] = []
  const a = await onFreePorts(async () => {
    const ownPort = await freeUdpPort()
    const closedPort = await freeUdpPort()
    const peer = { id: 'b', clientAddress: '127.0.0.1', clusterAddress: '127.0.0.1', peerPort: closedPort, adminPort: 1, witnessPort: 1, smbPort: 1 } as NodeConfig
    const transport = new PeerTransport({ selfId: 'a', peers: [peer], callDeadlineMs: 200, onRefused: (_peer, attemptMs) => refusals.push(attemptMs), clock: systemClock(), log })
    t.teardown(() => transport.close())
    await transport.useDatagrams({ port: ownPort, listenAddresses: ['127.0.0.1'], targetOf: () => ({ address: '127.0.0.1', port: closedPort }) })
    return transport
  })
  t.notOk(a.connected('b'), 'nothing listens on the peer port')
  for (let i = 0; i < 5; i++) a.send({ from: 'a', to: 'b', body: heartbeat({ sentAtMs: i }) })
  t.equal(a.dropped, 4, 'the first heartbeat went as a call; the next four would have ridden its attempt')
  t.equal(a.datagramStats()?.sent, 0, 'none went as a datagram')
  a.send({ from: 'a', to: 'b', body: { kind: 'vote-request', term: 3, preVote: true, lastViewTerm: 0, lastEpoch: 0, deadLeader: '' } })
  t.equal(a.dropped, 4, 'a vote request goes whatever the channel')
  t.ok(await waitFor(() => refusals.length > 0), 'the call reported the refused connection')
})
