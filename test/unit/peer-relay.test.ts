// The harness's delay relay (cluster/peer-relay.ts), on the host's loopback: it forwards TCP and
// UDP from a link's relay address to its link address, from its own source address, holding
// each direction for the link's delay (both ends' delays add up), keeping order; a delay
// changed takes effect for what comes next; close leaves nothing listening.
import t from 'tap'
import { createSocket } from 'node:dgram'
import { createServer, connect, type AddressInfo } from 'node:net'
import { RELAY_SOURCE_ADDRESS } from '../../cluster/net-fault-rules.js'
import { until } from '../helpers/until.js'
import { linkDelayMs, PeerRelay, type RelayLink } from '../../cluster/peer-relay.js'

/** A TCP echo server on address; the source address of each connection it saw. */
async function tcpEcho(address: string) {
  const sources: string[] = []
  const server = createServer((s) => {
    sources.push(s.remoteAddress ?? '')
    s.pipe(s)
  })
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  return { port: (server.address() as AddressInfo).port, sources, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

/** Sends each message on one connection to address:port and measures the round trip of each (ms). */
async function tcpRoundTrips(address: string, port: number, messages: readonly string[]): Promise<{ echoed: string; ms: number[] }> {
  const socket = connect({ host: address, port })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  let echoed = ''
  const ms: number[] = []
  for (const m of messages) {
    const started = performance.now()
    const want = echoed.length + m.length
    const done = new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        echoed += d.toString()
        if (echoed.length >= want) {
          socket.off('data', on)
          resolve()
        }
      }
      socket.on('data', on)
    })
    socket.write(m)
    await done
    ms.push(performance.now() - started)
  }
  socket.destroy()
  return { echoed, ms }
}

t.test('link delay: both ends add up, never negative', async (t) => {
  t.equal(linkDelayMs({ a: 100 }, 'a', 'b'), 100)
  t.equal(linkDelayMs({ a: 100, b: 20 }, 'b', 'a'), 120)
  t.equal(linkDelayMs({}, 'a', 'b'), 0)
  t.equal(linkDelayMs({ a: -5 }, 'a', 'b'), 0)
})

t.test('TCP: forwarded from its own source address, each direction held for the delay, in order', async (t) => {
  const echo = await tcpEcho('127.5.9.8')
  t.teardown(echo.close)
  const link: RelayLink = { from: 'n1', to: 'n2', protocol: 'tcp', listenAddress: '127.6.9.8', targetAddress: '127.5.9.8', port: echo.port }
  const relay = new PeerRelay([link])
  await relay.start()
  t.teardown(() => relay.close())

  const fast = await tcpRoundTrips('127.6.9.8', echo.port, ['a', 'b'])
  t.equal(fast.echoed, 'ab', 'without a delay it passes through')
  t.same(echo.sources, [RELAY_SOURCE_ADDRESS], "from the relay's own source address (which the DNAT rule skips)")
  t.ok(Math.max(...fast.ms) < 100, `no delay: round trips ${fast.ms.map(Math.round)} ms`)

  relay.setDelays({ n1: 60, n9: 500 })
  const slow = await tcpRoundTrips('127.6.9.8', echo.port, ['hello', ' world', '!'])
  t.equal(slow.echoed, 'hello world!', 'everything, in order')
  t.comment(`a delay of 60 ms: round trips ${slow.ms.map(Math.round).join(', ')} ms (2 cores shared)`)
  t.ok(slow.ms.every((ms) => ms >= 2 * 60 - 2), 'each round trip holds both directions: at least 2 x 60 ms')
  t.ok(slow.ms.every((ms) => ms < 2 * 60 + 400), 'and not the delay of a node on no end of the link')
  await until('the relay forgets the closed connections', async () => (relay.stats().connections === 0 ? true : null), 5_000)
  t.pass('closed connections are forgotten (their close held like their data)')
})

t.test('TCP: a burst larger than the hold bound still arrives whole and in order', async (t) => {
  const echo = await tcpEcho('127.5.9.7')
  t.teardown(echo.close)
  const relay = new PeerRelay([{ from: 'n1', to: 'n2', protocol: 'tcp', listenAddress: '127.6.9.7', targetAddress: '127.5.9.7', port: echo.port }])
  await relay.start()
  t.teardown(() => relay.close())
  relay.setDelays({ n2: 5 })
  const big = Buffer.alloc(20 * 1024 * 1024)
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i)
  const socket = connect({ host: '127.6.9.7', port: echo.port })
  const chunks: Buffer[] = []
  let got = 0
  const done = new Promise<void>((resolve) =>
    socket.on('data', (d: Buffer) => {
      chunks.push(d)
      got += d.length
      if (got >= big.length) resolve()
    }),
  )
  socket.write(big)
  await done
  socket.destroy()
  t.ok(Buffer.concat(chunks).equals(big), '20 MiB echoed byte for byte')
})

t.test('UDP: a flow per source, replies back to it, both directions held', async (t) => {
  const target = createSocket('udp4')
  await new Promise<void>((resolve) => target.bind({ address: '127.5.9.6', port: 0 }, resolve))
  t.teardown(() => target.close())
  const seenFrom: string[] = []
  target.on('message', (msg, from) => {
    seenFrom.push(from.address)
    target.send(Buffer.concat([Buffer.from('re:'), msg]), from.port, from.address)
  })
  const port = target.address().port
  const relay = new PeerRelay([{ from: 'n1', to: 'n2', protocol: 'udp', listenAddress: '127.6.9.6', targetAddress: '127.5.9.6', port }])
  await relay.start()
  t.teardown(() => relay.close())
  relay.setDelays({ n2: 40 })
  const client = createSocket('udp4')
  await new Promise<void>((resolve) => client.bind({ address: '127.0.0.1', port: 0 }, resolve))
  t.teardown(() => client.close())
  const started = performance.now()
  const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())))
  client.send('ping', port, '127.6.9.6')
  t.equal(await reply, 're:ping', 'the reply comes back to the sender')
  const ms = performance.now() - started
  t.comment(`UDP round trip with 40 ms on the link: ${Math.round(ms)} ms`)
  t.ok(ms >= 2 * 40 - 2, 'held both ways')
  t.same(seenFrom, [RELAY_SOURCE_ADDRESS], "sent on from the relay's source address")
  t.equal(relay.stats().udpFlows, 1)
})

t.test('close: nothing listens afterwards', async (t) => {
  const relay = new PeerRelay([{ from: 'n1', to: 'n2', protocol: 'tcp', listenAddress: '127.6.9.5', targetAddress: '127.5.9.5', port: 0 }])
  await relay.start()
  await relay.close()
  t.pass('closed')
})
