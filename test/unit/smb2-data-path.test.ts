// The failover core keeps a wire SessionId as a string and hands it back as the PreviousSessionId
// of the next SESSION_SETUP: the conversion must be exact for every 64-bit id (ids above 2^53
// are common: servers put random bits there), and a string that is no session id must not
// become one. A connect to a port nobody listens on is a refused Smb2TransportError, which the
// failover client tells apart from a status failure; one to a node that accepts the connection
// and answers nothing (not serving) fails within the connect's deadline.
import t from 'tap'
import fc from 'fast-check'
import { createServer } from 'node:net'
import { Smb2DataPath, parseSessionId, sessionIdString, type Smb2DataPathOptions } from '../../client/smb2/smb2-data-path.js'
import { Smb2ConnectTimeout, Smb2TransportError } from '../../client/smb2/smb2-result.js'

/** The options of a data path to 127.0.0.1:port with a test identity and the given deadlines. */
function connectOptions(port: number, deadlines: { requestTimeoutMs: number; connectTimeoutMs: number }): Smb2DataPathOptions {
  return {
    host: '127.0.0.1',
    port,
    user: 'u',
    password: 'p',
    clientGuid: '11111111-2222-3333-4444-555555555555',
    netName: 'SOFS',
    share: 'share-1',
    previousSessionId: '',
    channelSequence: 0,
    ...deadlines,
  }
}

t.test('every 64-bit SessionId survives the round trip through the core\'s string', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: 0xffffffffffffffffn }), (id) => parseSessionId(sessionIdString(id)) === id),
    { numRuns: 2000 },
  )
  t.equal(sessionIdString(0xfedcba9876543210n), '18364758544493064720')
  t.equal(parseSessionId(''), 0n, 'no previous session: 0 on the wire')
})

t.test('strings that are no 64-bit id are refused, never truncated', async (t) => {
  for (const bad of ['-1', '0x10', '1.5', ' 1', 'node-1/abc', '18446744073709551616', '1'.repeat(21)]) {
    t.throws(() => parseSessionId(bad), RangeError, JSON.stringify(bad))
  }
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        const id = parseSessionId(s)
        return s === '' ? id === 0n : sessionIdString(id) === s.replace(/^0+(?=\d)/, '')
      } catch (err) {
        return err instanceof RangeError
      }
    }),
    { numRuns: 2000 },
  )
})

t.test('a connect to a closed port throws a refused Smb2TransportError', async (t) => {
  // A port that was free a moment ago: bind, note it, close.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const err = await Smb2DataPath.connect(connectOptions(port, { requestTimeoutMs: 5_000, connectTimeoutMs: 2_000 })).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(err instanceof Smb2TransportError, 'a transport error')
  t.match((err as Error).message, /ECONNREFUSED/, 'that says refused')
})

t.test('a node that accepts the connection and answers nothing: the connect fails within its deadline', async (t) => {
  const sockets = new Set<import('node:net').Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const port = (server.address() as { port: number }).port
  const startedMs = performance.now()
  const err = await Smb2DataPath.connect(connectOptions(port, { requestTimeoutMs: 60_000, connectTimeoutMs: 300 })).then(
    () => null,
    (e: unknown) => e,
  )
  const tookMs = performance.now() - startedMs
  t.ok(err instanceof Smb2ConnectTimeout, 'a connect timeout (a transport error)')
  t.match((err as Error).message, /within 300 ms/, 'that names the deadline')
  t.ok(tookMs >= 290 && tookMs < 5_000, `after the deadline, not the request's (${Math.round(tookMs)} ms)`)
})
