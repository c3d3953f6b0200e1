// The SMB2 direct TCP transport (server/smb2/smb2-tcp-listener.ts): frames in both directions
// keep their bytes, a large frame is handed in whole, and a send's `sent` callback runs only
// once the socket no longer needs the parts (the data path gives their memory back then), also
// when the connection is gone.
import { connect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { SMB2_LISTENER_LIMITS, Smb2TcpListener, type Smb2ListenerLimits, type Smb2Transport } from '../../server/smb2/smb2-tcp-listener.js'

const MIB = 1024 * 1024
/** The listeners' log events, in order (one test at a time). */
const events: string[] = []

function frame(payload: Buffer): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(payload.length, 0)
  return Buffer.concat([head, payload])
}

/** Reads frames off a client socket. */
function frameReader(socket: Socket): { next(): Promise<Buffer> } {
  let buffered = Buffer.alloc(0)
  const waiting: ((b: Buffer) => void)[] = []
  const ready: Buffer[] = []
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d])
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
      const n = buffered.readUInt32BE(0)
      const f = buffered.subarray(4, 4 + n)
      buffered = buffered.subarray(4 + n)
      const w = waiting.shift()
      if (w) w(f)
      else ready.push(f)
    }
  })
  return { next: () => (ready.length > 0 ? Promise.resolve(ready.shift()!) : new Promise((resolve) => waiting.push(resolve))) }
}

async function start(t: Test, onFrame: (frame: Buffer, transport: Smb2Transport) => void, limits: Smb2ListenerLimits = SMB2_LISTENER_LIMITS) {
  const listener = new Smb2TcpListener(
    (transport) => ({
      receive: (f) => onFrame(f, transport),
      inFlightBytes: () => 0,
      negotiated: () => true,
      outstandingRequests: () => 0,
      end: () => undefined,
    }),
    (event) => events.push(event),
    limits,
  )
  const port = await listener.listen('127.0.0.1', 0)
  t.teardown(() => listener.close())
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  t.teardown(() => socket.destroy())
  return { socket, reader: frameReader(socket) }
}

t.test('a 4 MiB frame in and a 4 MiB reply in parts out keep their bytes; sent runs after the parts went', async (t) => {
  const request = randomBytes(4 * MIB)
  const reply = randomBytes(4 * MIB)
  let sentCalls = 0
  let received: Buffer | null = null
  const { socket, reader } = await start(t, (f, transport) => {
    received = Buffer.from(f)
    transport.send([reply.subarray(0, 80), reply.subarray(80)], () => sentCalls++)
  })
  socket.write(frame(request))
  const got = await reader.next()
  t.ok(received !== null && (received as Buffer).equals(request), 'the frame handed in is the frame sent')
  t.ok(got.equals(reply), 'the reply arrives whole, its parts in order')
  await t.resolves(waitFor(() => sentCalls === 1), 'sent runs once')
})

t.test('small and large frames back to back, cut anywhere, arrive whole and in order', async (t) => {
  const sizes = [10, 1024 * 1024, 300 * 1024, 5, 2 * 1024 * 1024 + 3, 256 * 1024, 64]
  const frames = sizes.map((n) => randomBytes(n))
  const got: Buffer[] = []
  const { socket } = await start(t, (f) => got.push(Buffer.from(f)))
  const stream = Buffer.concat(frames.map(frame))
  // Pieces of 1 byte to 200 KB, so that headers and frames are split at every kind of place.
  for (let at = 0, i = 0; at < stream.length; i++) {
    const n = i % 7 === 0 ? 1 : 1 + ((i * 7919) % 200_000)
    socket.write(stream.subarray(at, at + n))
    at += n
  }
  await t.resolves(waitFor(() => got.length === frames.length))
  t.ok(
    got.every((f, i) => f.equals(frames[i])),
    'every frame has its bytes',
  )
})

t.test('sent waits until the kernel took the parts: the peer has read most of a 32 MiB reply by then', async (t) => {
  const big = Buffer.alloc(32 * MIB, 7)
  let clientBytes = 0
  let clientBytesWhenSent = -1
  const { socket } = await start(t, (_f, transport) => {
    transport.send([big.subarray(0, 64), big.subarray(64)], () => (clientBytesWhenSent = clientBytes))
  })
  socket.removeAllListeners('data')
  socket.on('data', (d: Buffer) => (clientBytes += d.length))
  socket.write(frame(Buffer.from('go')))
  await t.resolves(waitFor(() => clientBytesWhenSent >= 0))
  // Loopback buffers hold a few MiB (tcp_wmem and tcp_rmem maxima: 4 and 6 MiB by default).
  t.ok(clientBytesWhenSent >= 16 * MIB, `the peer had read ${clientBytesWhenSent} bytes when sent ran`)
})

t.test('sent runs when the connection is gone, at once for a send after it closed', async (t) => {
  const big = Buffer.alloc(32 * MIB, 7)
  let sentCalls = 0
  let saved: Smb2Transport | null = null
  const { socket } = await start(t, (_f, transport) => {
    saved = transport
    // The client reads nothing: most of this stays queued in the socket.
    transport.send([big], () => sentCalls++)
    socket.destroy()
  })
  socket.pause()
  socket.write(frame(Buffer.from('go')))
  await t.resolves(waitFor(() => sentCalls === 1), 'sent runs when the socket is destroyed with the parts queued')
  saved!.close('test')
  saved!.send([Buffer.from('late')], () => sentCalls++)
  t.equal(sentCalls, 2, 'a send on a closing connection runs sent at once')
})

t.test('eight 8 MiB replies left unread at once (8 READs of 8 MiB in flight: 1,024 credits) do not drop the client', async (t) => {
  const reply = randomBytes(8 * MIB + 80)
  let sends = 0
  const { socket, reader } = await start(t, (_f, transport) => {
    sends++
    transport.send([reply.subarray(0, 80), reply.subarray(80)])
  })
  events.length = 0
  socket.pause()
  socket.write(Buffer.concat(Array.from({ length: 8 }, () => frame(Buffer.from('read')))))
  await t.resolves(waitFor(() => sends === 8), 'the eight requests are answered')
  t.same(events, [], 'the connection is not dropped')
  socket.resume()
  for (let i = 0; i < 8; i++) t.ok((await reader.next()).equals(reply), `reply ${i + 1} arrives whole`)
  // Reading paused while the replies waited (unsentReplyBytesPause); it resumes once they went.
  socket.write(frame(Buffer.from('read')))
  t.ok((await reader.next()).equals(reply), 'a request after them is read and answered')
})

t.test('a client that leaves more replies unread than its credits allow is dropped', async (t) => {
  const reply = Buffer.alloc(MIB, 1)
  const { socket } = await start(t, (_f, transport) => transport.send([reply]), { ...SMB2_LISTENER_LIMITS, unsentReplyBytesPause: MIB, unreadReplyBytesMax: 4 * MIB })
  events.length = 0
  socket.pause()
  // More than loopback's buffers (a few MiB) and the bound together.
  socket.write(Buffer.concat(Array.from({ length: 64 }, () => frame(Buffer.from('read')))))
  await t.resolves(
    waitFor(() => events.length > 0),
    'the server drops the connection',
  )
  t.same(events, ['smb2.connection.dropped'], 'once, and logs it')
})

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
