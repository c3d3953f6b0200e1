// The wire client faces the network: whatever a server sends back (random bytes, a mutated
// NEGOTIATE response, a frame beyond the bound, a response to an id never sent, nothing at
// all), connecting ends in a typed failure or an Smb2TransportError, within its deadline, and
// never in another exception or a hang. A fake server in this process answers the first frame.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { createServer, type Server, type Socket } from 'node:net'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import { Smb2TransportError } from '../../client/smb2/smb2-result.js'
import { SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { directTcpHeader } from '../../protocol/smb2/direct-tcp-frame.js'
import { SMB2_COMMAND, SMB2_FLAGS, encodeHeader, header } from '../../protocol/smb2/header.js'
import { encodeNegotiateResponse } from '../../protocol/smb2/negotiate.js'

/** A server that answers each whole frame it gets with answer.current(frame), or says nothing when that is null. */
async function fakeServer(t: Test, answer: { current: (request: Buffer) => Buffer | null }): Promise<number> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined)
    let got = Buffer.alloc(0)
    s.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk])
      if (got.length < 4 || got.length < 4 + got.readUInt32BE(0)) return
      const reply = answer.current(got.subarray(4))
      got = Buffer.alloc(0)
      if (reply) s.write(reply)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return (server.address() as { port: number }).port
}

function negotiateResponse(messageId: bigint): Buffer {
  const h = encodeHeader(header({ command: SMB2_COMMAND.NEGOTIATE, flags: SMB2_FLAGS.SERVER_TO_REDIR, credits: 1, messageId }))
  const body = encodeNegotiateResponse({
    securityMode: 1,
    dialectRevision: SMB2_DIALECT.SMB302,
    serverGuid: '00000000-0000-0000-0000-000000000001',
    capabilities: 0x44,
    maxTransactSize: 1 << 20,
    maxReadSize: 1 << 20,
    maxWriteSize: 1 << 20,
    systemTime: 0n,
    serverStartTime: 0n,
    securityBuffer: Buffer.alloc(0),
    negotiateContexts: [],
  })
  return Buffer.concat([h, body])
}

function framed(msg: Buffer): Buffer {
  return Buffer.concat([directTcpHeader(msg.length), msg])
}

async function outcome(port: number): Promise<'typed' | 'transport'> {
  try {
    const r = await Smb2Client.connect({ host: '127.0.0.1', port, user: 'u', password: 'p', requestTimeoutMs: 300, dialects: [SMB2_DIALECT.SMB302] })
    if (r.ok) {
      await r.value.close()
      throw new Error('logged in to a fake server')
    }
    return 'typed'
  } catch (err) {
    if (err instanceof Smb2TransportError) return 'transport'
    throw err
  }
}

t.test('a mutated NEGOTIATE response, random frames, or silence: typed failure or transport error', async (t) => {
  const answer: { current: (request: Buffer) => Buffer | null } = { current: () => null }
  const port = await fakeServer(t, answer)
  const valid = framed(negotiateResponse(0n))
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        // A valid response with bytes changed.
        fc.array(fc.record({ at: fc.integer({ min: 4, max: valid.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }).map((edits) => {
          const b = Buffer.from(valid)
          for (const e of edits) b[e.at] = e.value
          return b
        }),
        // A valid response cut short (the deadline ends the wait).
        fc.integer({ min: 1, max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
        // A well-framed random message, or a length far beyond the bound.
        fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => framed(Buffer.from(bytes))),
        fc.constant(Buffer.from([0, 0xff, 0xff, 0xff])),
        // A response to a MessageId never sent.
        fc.constant(framed(negotiateResponse(7n))),
      ),
      async (reply) => {
        answer.current = () => reply
        const o = await outcome(port)
        return o === 'typed' || o === 'transport'
      },
    ),
    { numRuns: 120 },
  )
  t.pass('120 hostile replies, each a typed failure or a transport error')
})

t.test('the fake server answering the real NEGOTIATE shape gets as far as SESSION_SETUP', async (t) => {
  // A server that answers NEGOTIATE correctly and then closes: the client fails at the next leg, typed or transport, not before.
  let frames = 0
  const answer = {
    current: () => {
      frames++
      return frames === 1 ? framed(negotiateResponse(0n)) : Buffer.from([0, 0, 0, 1, 0])
    },
  }
  const port = await fakeServer(t, answer)
  t.equal(await outcome(port), 'transport')
  t.equal(frames, 2, 'NEGOTIATE then the first SESSION_SETUP reached the server')
})
