// Authenticated DCE/RPC associations (MS-RPCE 3.3.1.5.2) in process: NTLMSSP (three legs, auth3)
// and SPNEGO (four legs, alter_context) at connect, packet integrity and packet privacy; signed and
// sealed requests and responses, fragmented responses; and every refusal: unknown auth type and
// level, wrong password, bad signature, replayed sequence number, truncated verifier, a level
// change mid-association, a token after the exchange, a request before the exchange completed.
import t, { type Test } from 'tap'
import { AUTH_LEVEL, AUTH_TYPE, BIND_NAK_REASON, FAULT, PFC } from '../../protocol/dcerpc/pdu-codec.js'
import { encodeSecTrailer, protectPdu, unprotectPdu, withAuthToken } from '../../protocol/dcerpc/auth-verifier.js'
import { NtlmSessionSecurity } from '../../protocol/ntlmssp/session-security.js'
import { DEFAULT_INITIATOR_FLAGS } from '../../core/auth/ntlm-initiator.js'
import { BIG_OPNUM, ECHO_OPNUM, RpcAuthHarness, USERS } from '../helpers/rpc-auth-harness.js'
import { DcerpcClientSecurity } from '../../client/dcerpc-client-security.js'
import { encodeRequest, decodePdu } from '../../protocol/dcerpc/pdu-codec.js'

const alice = { user: USERS[1].user, password: USERS[1].password }

t.test('auth-verifier: protect and unprotect round-trip at integrity and privacy, with the stub padded to 16', async (t) => {
  const key = Buffer.alloc(16, 7)
  for (const level of [AUTH_LEVEL.PKT_INTEGRITY, AUTH_LEVEL.PKT_PRIVACY]) {
    const client = new NtlmSessionSecurity('client', key, DEFAULT_INITIATOR_FLAGS)
    const server = new NtlmSessionSecurity('server', key, DEFAULT_INITIATOR_FLAGS)
    const id = { authType: AUTH_TYPE.NTLMSSP, authLevel: level, authContextId: 3 }
    for (const stubBytes of [0, 1, 15, 16, 17, 100]) {
      const stub = Buffer.alloc(stubBytes, 0x41)
      const frame = protectPdu(encodeRequest({ callId: 9, contextId: 0, opnum: 2, stub }), 24, id, client)
      t.equal((frame.length - 24 - 8 - 16) % 16, 0, 'the sec_trailer starts 16-aligned after the stub')
      const d = decodePdu(frame)
      t.ok(d.ok)
      if (!d.ok) continue
      if (level === AUTH_LEVEL.PKT_PRIVACY && stubBytes > 0) t.not(frame.subarray(24, 24 + stubBytes).toString('hex'), stub.toString('hex'), 'sealed')
      const opened = unprotectPdu(frame, 24, d.pdu.auth, id, server)
      t.ok(opened.ok, `level ${level}, ${stubBytes} bytes`)
      if (opened.ok) t.same(opened.stub, stub)
    }
  }
  t.equal(encodeSecTrailer({ authType: 10, authLevel: 6, authContextId: 0x01020304 }, 5).toString('hex'), '0a06050004030201')
})

for (const type of ['ntlmssp', 'spnego'] as const) {
  for (const level of ['connect', 'integrity', 'privacy'] as const) {
    t.test(`${type} at ${level}: the legs complete, calls carry the principal and level, responses check`, async (t) => {
      const h = new RpcAuthHarness()
      const r = h.handshake({ ...alice, type, level })
      t.ok(r.ok, r.ok ? 'bound' : r.reason)
      for (let i = 0; i < 3; i++) {
        const out = h.call(ECHO_OPNUM, Buffer.from(`hello ${i}`))
        t.same('stub' in out ? out.stub.toString() : out, `echo:hello ${i}`)
      }
      const big = h.call(BIG_OPNUM, Buffer.alloc(0))
      t.equal('stub' in big ? big.stub.length : -1, 20_000, 'a fragmented response reassembles and every fragment checks')
      t.equal(h.calls.length, 4)
      t.same(h.calls[0].caller, { principal: 'alice', authLevel: { connect: 2, integrity: 5, privacy: 6 }[level] })
      t.equal(h.closed, false)
    })
  }
}

t.test('bind_ack acknowledges PFC_SUPPORT_HEADER_SIGN when an authenticated bind offers it', async (t) => {
  const h = new RpcAuthHarness()
  const security = new DcerpcClientSecurity({ ...alice, type: 'ntlmssp', level: 'integrity' })
  h.connection.receive(withAuthToken(RpcAuthHarness.plainBind(), security.id, security.bindToken()))
  const [ack] = h.take()
  t.equal(ack.kind, 'bind_ack')
  t.equal(ack.flags & 0x04, 0x04)
  const h2 = new RpcAuthHarness()
  h2.connection.receive(RpcAuthHarness.plainBind())
  t.equal(h2.take()[0].flags & 0x04, 0, 'not on an unauthenticated bind')
})

t.test('refused binds: unknown auth type (bind_nak 8), unsupported level (bind_nak 0), no provider (bind_nak 8)', async (t) => {
  for (const [authType, authLevel, reason] of [
    [AUTH_TYPE.KERBEROS, AUTH_LEVEL.PKT_INTEGRITY, BIND_NAK_REASON.AUTHENTICATION_TYPE_NOT_RECOGNIZED],
    [AUTH_TYPE.NTLMSSP, AUTH_LEVEL.CALL, BIND_NAK_REASON.NOT_SPECIFIED],
    [AUTH_TYPE.NTLMSSP, AUTH_LEVEL.NONE, BIND_NAK_REASON.NOT_SPECIFIED],
  ] as const) {
    const h = new RpcAuthHarness()
    const security = new DcerpcClientSecurity({ ...alice, type: 'ntlmssp' })
    h.connection.receive(withAuthToken(RpcAuthHarness.plainBind(), { authType, authLevel, authContextId: 0 }, security.bindToken()))
    const [nak] = h.take()
    t.equal(nak.kind, 'bind_nak')
    if (nak.kind === 'bind_nak') t.equal(nak.rejectReason, reason)
    t.ok(h.closed)
  }
  const h = new RpcAuthHarness({ withAuth: false })
  t.notOk(h.handshake({ ...alice, type: 'ntlmssp' }).ok)
  t.ok(h.closed)
})

t.test('a wrong password: auth3 has no answer, the next request gets ACCESS_DENIED and the association is dropped', async (t) => {
  const h = new RpcAuthHarness()
  t.ok(h.handshake({ user: 'alice', password: 'wrong', type: 'ntlmssp', level: 'integrity' }).ok, 'the client cannot tell yet')
  const out = h.call(ECHO_OPNUM, Buffer.from('x'))
  t.same(out, { fault: FAULT.ACCESS_DENIED })
  t.ok(h.closed)
  t.equal(h.calls.length, 0)
})

t.test('a wrong password over SPNEGO: the alter_context gets a fault ACCESS_DENIED and the association is dropped', async (t) => {
  const h = new RpcAuthHarness()
  const r = h.handshake({ user: 'nobody', password: 'x', type: 'spnego', level: 'privacy' })
  t.notOk(r.ok)
  if (!r.ok) {
    t.equal(r.pdus[0]?.kind, 'fault')
    if (r.pdus[0]?.kind === 'fault') t.equal(r.pdus[0].status, FAULT.ACCESS_DENIED)
  }
  t.ok(h.closed)
})

function boundAt(level: 'integrity' | 'privacy', type: 'ntlmssp' | 'spnego' = 'ntlmssp'): RpcAuthHarness {
  const h = new RpcAuthHarness()
  const r = h.handshake({ ...alice, type, level })
  if (!r.ok) throw new Error(r.reason)
  return h
}

function expectDenied(t: Test, h: RpcAuthHarness, frame: Buffer, what: string): void {
  h.connection.receive(frame)
  const out = h.take()
  t.equal(out.length, 1, `${what}: one answer`)
  t.equal(out[0]?.kind, 'fault', `${what}: a fault`)
  if (out[0]?.kind === 'fault') {
    t.equal(out[0].status, FAULT.ACCESS_DENIED, `${what}: ACCESS_DENIED`)
    t.equal(out[0].flags & PFC.DID_NOT_EXECUTE, PFC.DID_NOT_EXECUTE)
  }
  t.ok(h.closed, `${what}: association dropped`)
  t.equal(h.calls.length, 0, `${what}: nothing reached the interface`)
}

t.test('refused requests on a protected association', async (t) => {
  for (const level of ['integrity', 'privacy'] as const) {
    {
      const h = boundAt(level)
      const frame = h.request(ECHO_OPNUM, Buffer.from('tamper'))
      frame[frame.length - 5] ^= 1
      expectDenied(t, h, frame, `${level}: bad signature`)
    }
    {
      const h = boundAt(level)
      const frame = h.request(ECHO_OPNUM, Buffer.from('stub'))
      frame[24] ^= 1
      expectDenied(t, h, frame, `${level}: changed stub`)
    }
    {
      const h = boundAt(level)
      const first = h.request(ECHO_OPNUM, Buffer.from('one'))
      h.connection.receive(first)
      h.takeRaw()
      h.calls.length = 0
      expectDenied(t, h, Buffer.from(first), `${level}: replayed sequence number`)
    }
    {
      const h = boundAt(level)
      h.request(ECHO_OPNUM, Buffer.from('skipped'))
      expectDenied(t, h, h.request(ECHO_OPNUM, Buffer.from('next')), `${level}: skipped sequence number`)
    }
    {
      const h = boundAt(level)
      const frame = h.request(ECHO_OPNUM, Buffer.from('trunc'))
      const cut = Buffer.from(frame.subarray(0, frame.length - 4))
      cut.writeUInt16LE(cut.length, 8)
      cut.writeUInt16LE(12, 10)
      expectDenied(t, h, cut, `${level}: truncated verifier`)
    }
    {
      const h = boundAt(level)
      const frame = h.request(ECHO_OPNUM, Buffer.from('level'))
      frame[frame.length - 16 - 8 + 1] = level === 'integrity' ? AUTH_LEVEL.PKT_PRIVACY : AUTH_LEVEL.PKT_INTEGRITY
      expectDenied(t, h, frame, `${level}: a level change mid-association`)
    }
    {
      const h = boundAt(level)
      expectDenied(t, h, encodeRequest({ callId: 5, contextId: 0, opnum: 0, stub: Buffer.from('plain') }), `${level}: no verifier`)
    }
    {
      const h = boundAt(level)
      const frame = h.request(ECHO_OPNUM, Buffer.from('lie'))
      frame.writeUInt16LE(40, 10)
      h.connection.receive(frame)
      const [fault] = h.take()
      t.equal(fault?.kind, 'fault', `${level}: auth_length lie gets a fault`)
      t.ok(h.closed, `${level}: auth_length lie drops the association`)
      t.equal(h.calls.length, 0)
    }
  }
})

t.test('a second token after the exchange ended is refused (alter_context: ACCESS_DENIED)', async (t) => {
  const h = boundAt('integrity', 'spnego')
  h.connection.receive(withAuthToken(RpcAuthHarness.plainBind(0x0e as 14), h.security!.id, Buffer.from('NTLMSSP\0junk')))
  const [fault] = h.take()
  t.equal(fault?.kind, 'fault')
  if (fault?.kind === 'fault') t.equal(fault.status, FAULT.ACCESS_DENIED)
  t.ok(h.closed)
})

t.test('an alter_context without a token on an authenticated association adds a context and keeps the security', async (t) => {
  const h = boundAt('privacy', 'spnego')
  h.connection.receive(RpcAuthHarness.plainBind(0x0e as 14))
  const [resp] = h.take()
  t.equal(resp?.kind, 'alter_context_resp')
  const out = h.call(ECHO_OPNUM, Buffer.from('after alter'))
  t.same('stub' in out ? out.stub.toString() : out, 'echo:after alter')
})

t.test('unauthenticated associations still work (endpoint mapper, srvsvc pipe) with the provider present', async (t) => {
  const h = new RpcAuthHarness()
  h.connection.receive(RpcAuthHarness.plainBind())
  t.equal(h.take()[0].kind, 'bind_ack')
  const out = h.call(ECHO_OPNUM, Buffer.from('anon'))
  t.same('stub' in out ? out.stub.toString() : out, 'echo:anon')
  t.same(h.calls[0].caller, { principal: null, authLevel: AUTH_LEVEL.NONE })
})
