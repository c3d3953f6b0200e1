// NTLMSSP session security with extended session security (MS-NLMP 3.4): the GSS_WrapEx example
// of MS-NLMP 4.2.4.4, the key derivation of 3.4.5, and a client and a server signing and sealing
// to each other with their sequence numbers, DCE/RPC-style signed header and trailer, tampering,
// and the state after a SPNEGO mechListMIC exchange. (Interop with Samba's own client code is in
// test/core/spnego-acceptor.test.ts.)
import t from 'tap'
import fc from 'fast-check'
import { createHmac } from 'node:crypto'
import { NTLMSSP_NEGOTIATE } from '../../protocol/ntlmssp/negotiate-flags.js'
import { NtlmSessionSecurity, deriveNtlmSessionKeys } from '../../protocol/ntlmssp/session-security.js'

// MS-NLMP 4.2.4: NTLMv2 with KEY_EXCH, RandomSessionKey 55 x 16 (the exported session key).
const SPEC_FLAGS = 0xe28a8233
const SPEC_KEY = Buffer.alloc(16, 0x55)
const PLAINTEXT = Buffer.from('Plaintext', 'utf16le')

t.test('MS-NLMP 4.2.4.4 GSS_WrapEx: the sealed data and the signature of "Plaintext"', async (t) => {
  const client = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
  const { sealed, signature } = client.seal(PLAINTEXT)
  t.equal(sealed.toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f', 'Data')
  t.equal(signature.toString('hex'), '010000007fb38ec5c55d497600000000', 'Signature: version 1, checksum 7fb38ec5c55d4976, sequence 0')
  const server = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  const opened = server.unseal(sealed, signature)
  t.ok(opened.ok && opened.plaintext.equals(PLAINTEXT), 'the server unseals it')
})

t.test('MS-NLMP 3.4.5 keys for the 4.2.4 session (computed; 4.2.4 lists only the sealed output)', async (t) => {
  const keys = deriveNtlmSessionKeys(SPEC_KEY, SPEC_FLAGS)
  t.same(
    Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, (v as Buffer).toString('hex')])),
    {
      clientSigningKey: '4788dc861b4782f35d43fd98fe1a2d39',
      serverSigningKey: 'd04d6f10741041d1d246d64188d7a8ad',
      clientSealingKey: '59f600973cc4960a25480a7c196e4c58',
      serverSealingKey: '9355f3a957c1583d25c4c2f11e40390e',
    },
  )
  // Without NEGOTIATE_128 the sealing key starts from 7 (56-bit) or 5 bytes of the session key.
  const k56 = deriveNtlmSessionKeys(SPEC_KEY, (SPEC_FLAGS & ~NTLMSSP_NEGOTIATE.NEGOTIATE_128) >>> 0)
  const k40 = deriveNtlmSessionKeys(SPEC_KEY, (SPEC_FLAGS & ~NTLMSSP_NEGOTIATE.NEGOTIATE_128 & ~NTLMSSP_NEGOTIATE.NEGOTIATE_56) >>> 0)
  t.not(k56.clientSealingKey.toString('hex'), keys.clientSealingKey.toString('hex'))
  t.not(k40.clientSealingKey.toString('hex'), k56.clientSealingKey.toString('hex'))
  t.equal(k56.clientSigningKey.toString('hex'), keys.clientSigningKey.toString('hex'), 'signing keys use the whole key')
})

t.test('sign and verify both ways; sequence numbers count per direction', async (t) => {
  const client = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
  const server = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  for (let i = 0; i < 5; i++) {
    const m = Buffer.from(`request ${i}`)
    const sig = client.sign(m)
    t.equal(sig.readUInt32LE(12), i, `client sequence ${i}`)
    t.ok(server.verify(sig, m).ok)
  }
  const reply = server.sign(Buffer.from('reply'))
  t.equal(reply.readUInt32LE(12), 0, 'the server has its own sequence')
  t.ok(client.verify(reply, Buffer.from('reply')).ok)
  t.equal(client.sendSeqNum, 5)
  t.equal(server.receiveSeqNum, 5)
})

t.test('without KEY_EXCH the checksum is the plain HMAC (MS-NLMP 3.4.4.2)', async (t) => {
  const flags = (SPEC_FLAGS & ~NTLMSSP_NEGOTIATE.KEY_EXCH) >>> 0
  const client = new NtlmSessionSecurity('client', SPEC_KEY, flags)
  const sig = client.sign(PLAINTEXT)
  const keys = deriveNtlmSessionKeys(SPEC_KEY, flags)
  const expected = createHmac('md5', keys.clientSigningKey).update(Buffer.alloc(4)).update(PLAINTEXT).digest().subarray(0, 8)
  t.equal(sig.subarray(4, 12).toString('hex'), expected.toString('hex'))
  t.ok(new NtlmSessionSecurity('server', SPEC_KEY, flags).verify(sig, PLAINTEXT).ok)
})

t.test('seal and unseal with a signed header and trailer around the sealed part (DCE/RPC privacy)', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 16 }), fc.boolean()), { minLength: 1, maxLength: 8 }), (messages) => {
      const client = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
      const server = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
      for (const [header, body, trailer, fromClient] of messages) {
        const [a, b] = fromClient ? [client, server] : [server, client]
        const { sealed, signature } = a.seal(body, header, trailer)
        const opened = b.unseal(sealed, signature, header, trailer)
        if (!opened.ok || !opened.plaintext.equals(Buffer.from(body))) return false
      }
      return true
    }),
  )
})

t.test('a tampered message fails, and the inbound side refuses everything after it', async (t) => {
  const client = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
  const server = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  const sig = client.sign(Buffer.from('abc'))
  const bad = server.verify(sig, Buffer.from('abd'))
  t.notOk(bad.ok)
  t.match(!bad.ok && bad.reason, /bad NTLMSSP signature for sequence number 0/)
  const next = client.sign(Buffer.from('def'))
  t.match(server.verify(next, Buffer.from('def')), { ok: false, reason: /out of step/ })
  t.match(server.verify(Buffer.alloc(3), Buffer.from('x')), { ok: false })
  const { sealed, signature } = client.seal(Buffer.from('secret'))
  const fresh = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  sealed[0] ^= 1
  t.match(fresh.unseal(sealed, signature), { ok: false }, 'a flipped ciphertext bit')
  t.match(new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS).verify(Buffer.alloc(15), Buffer.from('x')), { ok: false, reason: /signature of 15 bytes/ })
  const replayed = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  const c2 = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
  const first = c2.sign(Buffer.from('one'))
  t.ok(replayed.verify(first, Buffer.from('one')).ok)
  t.notOk(replayed.verify(first, Buffer.from('one')).ok, 'a replayed signature fails (sequence number)')
})

t.test('after a mechListMIC exchange: fresh RC4 streams, sequence numbers kept', async (t) => {
  const mechTypes = Buffer.from('300c060a2b06010401823702020a', 'hex')
  const client = new NtlmSessionSecurity('client', SPEC_KEY, SPEC_FLAGS)
  const server = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  t.ok(server.verify(client.sign(mechTypes), mechTypes).ok)
  t.ok(client.verify(server.sign(mechTypes), mechTypes).ok)
  client.reinitializeSealingState()
  server.reinitializeSealingState()
  const sig = client.sign(Buffer.from('after'))
  t.equal(sig.readUInt32LE(12), 1, 'sequence number 1')
  t.ok(server.verify(sig, Buffer.from('after')).ok)
  const third = new NtlmSessionSecurity('server', SPEC_KEY, SPEC_FLAGS)
  t.notOk(third.verify(sig, Buffer.from('after')).ok, 'a fresh context (sequence 0) does not accept it')
})

t.test('session security needs extended session security', async (t) => {
  t.throws(() => new NtlmSessionSecurity('client', SPEC_KEY, (SPEC_FLAGS & ~NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) >>> 0))
})
