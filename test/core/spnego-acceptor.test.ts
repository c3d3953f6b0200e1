// The SPNEGO acceptor (core/auth/spnego-acceptor) around NTLM: every leg with the project's own
// initiator, the mechListMIC exchange, Kerberos offered first, bare NTLMSSP, an empty first token,
// malformed and out-of-order tokens, fuzzing — and Samba 4.17's own SPNEGO/NTLMSSP client code
// (python3-samba's gensec) as the oracle: it logs in, checks the server's mechListMIC, agrees on
// the session key, and signs and seals to and from the acceptor's session security afterwards.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { NT_STATUS_AUTH } from '../../protocol/smb2/ntstatus.js'
import { NEG_STATE, KRB5_OID, MS_KRB5_OID, NTLMSSP_OID, decodeNegotiationToken, encodeNegTokenInit, encodeNegTokenResp, serverInitialToken } from '../../protocol/spnego/spnego-token.js'
import { SpnegoAcceptor, type SpnegoOutcome } from '../../core/auth/spnego-acceptor.js'
import { SpnegoInitiator } from '../../core/auth/spnego-initiator.js'
import { NtlmInitiator } from '../../core/auth/ntlm-initiator.js'
import { ntlmAccountTable } from '../../core/auth/ntlm-accounts.js'
import type { NtlmAcceptorConfig } from '../../core/auth/ntlm-acceptor.js'
import { SambaGensecClient, sambaGensecUnavailable } from '../helpers/samba-gensec-client.js'

const CONFIG: NtlmAcceptorConfig = {
  names: { nbComputerName: 'NODE1', nbDomainName: 'WORKGROUP', dnsComputerName: 'node1.lab', dnsDomainName: 'lab' },
  accounts: ntlmAccountTable([{ user: 'alice', password: 'alice-secret' }]),
}
const NOW = 133_500_000_000_000_000n
const SERVER_INPUTS = { serverChallenge: Buffer.alloc(8, 0x11), timestamp: NOW }
const CLIENT_INPUTS = { clientChallenge: Buffer.alloc(8, 0x22), randomSessionKey: Buffer.alloc(16, 0x33), timestamp: NOW }

function token(o: SpnegoOutcome): Buffer {
  if (!('token' in o)) throw new Error(`no token: ${o.reason}`)
  return o.token
}

t.test('two legs with the initiator: CHALLENGE, then accept-completed with both mechListMICs', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  const leg1 = acceptor.step(client.initialToken(), SERVER_INPUTS)
  t.equal(leg1.status, NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED)
  const r1 = decodeNegotiationToken(token(leg1))
  t.match(r1.ok && r1.value, { kind: 'resp', resp: { negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID } })
  const c1 = client.step(token(leg1), CLIENT_INPUTS)
  if (c1.state !== 'continue') throw new Error(JSON.stringify(c1))
  const leg2 = acceptor.step(c1.token, SERVER_INPUTS)
  if (leg2.status !== NT_STATUS_AUTH.SUCCESS) throw new Error('reason' in leg2 ? leg2.reason : 'not done')
  t.ok(leg2.mechListMicExchanged)
  t.equal(leg2.authenticated.userName, 'alice')
  t.equal(leg2.authenticated.sessionKey?.toString('hex'), '33'.repeat(16))
  const r2 = decodeNegotiationToken(leg2.token)
  t.match(r2.ok && r2.value, { kind: 'resp', resp: { negState: NEG_STATE.ACCEPT_COMPLETED } })
  t.ok(r2.ok && r2.value.kind === 'resp' && r2.value.resp.mechListMIC?.length === 16, 'with a mechListMIC')
  const done = client.step(leg2.token, CLIENT_INPUTS)
  if (done.state !== 'done') throw new Error(JSON.stringify(done))
  t.ok(done.mechListMicExchanged)
  // Session security goes on from where the exchange left both sides.
  const sig = done.sessionSecurity!.sign(Buffer.from('bind'))
  t.ok(leg2.sessionSecurity!.verify(sig, Buffer.from('bind')).ok)
  const { sealed, signature } = leg2.sessionSecurity!.seal(Buffer.from('stub'))
  t.match(done.sessionSecurity!.unseal(sealed, signature), { ok: true })
  t.ok(acceptor.finished)
  t.match(acceptor.step(c1.token, SERVER_INPUTS), { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: /after the exchange ended/ })
})

t.test('no timestamp: no NTLM MIC, no mechListMIC, accept-completed alone', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  const c1 = client.step(token(acceptor.step(client.initialToken(), { serverChallenge: Buffer.alloc(8, 1) })), CLIENT_INPUTS)
  if (c1.state !== 'continue') throw new Error(JSON.stringify(c1))
  const leg2 = acceptor.step(c1.token, SERVER_INPUTS)
  if (leg2.status !== NT_STATUS_AUTH.SUCCESS) throw new Error('not done')
  t.notOk(leg2.mechListMicExchanged)
  t.equal(leg2.token.toString('hex'), 'a1073005a0030a0100', 'negTokenResp { accept-completed }, as Windows sends it')
  t.equal(client.step(leg2.token, CLIENT_INPUTS).state, 'done')
})

t.test('a client mechListMIC that does not verify: ACCESS_DENIED', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  const c1 = client.step(token(acceptor.step(client.initialToken(), SERVER_INPUTS)), CLIENT_INPUTS)
  if (c1.state !== 'continue') throw new Error(JSON.stringify(c1))
  const decoded = decodeNegotiationToken(c1.token)
  if (!decoded.ok || decoded.value.kind !== 'resp') throw new Error('resp')
  const mic = Buffer.from(decoded.value.resp.mechListMIC!)
  mic[5] ^= 1
  t.match(acceptor.step(encodeNegTokenResp({ ...decoded.value.resp, mechListMIC: mic }), SERVER_INPUTS), { status: NT_STATUS_AUTH.ACCESS_DENIED, reason: /client mechListMIC/ })
  // ... and one left out although the NTLM MIC makes it required: INVALID_PARAMETER.
  const a2 = new SpnegoAcceptor(CONFIG)
  const client2 = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  const c2 = client2.step(token(a2.step(client2.initialToken(), SERVER_INPUTS)), CLIENT_INPUTS)
  if (c2.state !== 'continue') throw new Error(JSON.stringify(c2))
  const d2 = decodeNegotiationToken(c2.token)
  if (!d2.ok || d2.value.kind !== 'resp') throw new Error('resp')
  t.match(a2.step(encodeNegTokenResp({ responseToken: d2.value.resp.responseToken }), SERVER_INPUTS), { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: /mechListMIC required/ })
})

t.test('a wrong password through SPNEGO: LOGON_FAILURE and no token', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'wrong', workstation: 'WS' })
  const c1 = client.step(token(acceptor.step(client.initialToken(), SERVER_INPUTS)), CLIENT_INPUTS)
  if (c1.state !== 'continue') throw new Error(JSON.stringify(c1))
  const r = acceptor.step(c1.token, SERVER_INPUTS)
  t.match(r, { status: NT_STATUS_AUTH.LOGON_FAILURE, reason: /wrong password/ })
  t.notOk('token' in r)
})

t.test('Kerberos offered first: request-mic naming NTLMSSP, NEGOTIATE next, mechListMIC required', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const ntlm = new NtlmInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS', flags: 0x62088215 })
  const mechTypes = [MS_KRB5_OID, KRB5_OID, NTLMSSP_OID]
  const leg1 = acceptor.step(encodeNegTokenInit({ mechTypes, mechToken: Buffer.from('a kerberos AP-REQ') }), SERVER_INPUTS)
  t.equal(token(leg1).toString('hex'), encodeNegTokenResp({ negState: NEG_STATE.REQUEST_MIC, supportedMech: NTLMSSP_OID }).toString('hex'))
  const leg2 = acceptor.step(encodeNegTokenResp({ responseToken: ntlm.negotiate() }), { serverChallenge: Buffer.alloc(8, 2) })
  t.equal(leg2.status, NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED)
  const d = decodeNegotiationToken(token(leg2))
  if (!d.ok || d.value.kind !== 'resp' || !d.value.resp.responseToken) throw new Error('no CHALLENGE')
  t.equal(d.value.resp.supportedMech, undefined, 'supportedMech only in the first reply')
  const a = ntlm.authenticate(d.value.resp.responseToken, CLIENT_INPUTS)
  if (!a.ok) throw new Error(a.reason)
  t.match(acceptor.step(encodeNegTokenResp({ responseToken: a.token }), SERVER_INPUTS), { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: /mechListMIC required/ }, 'no timestamp, but NTLMSSP was not first')
})

t.test('bare NTLMSSP without SPNEGO, and an empty first token', async (t) => {
  const acceptor = new SpnegoAcceptor(CONFIG)
  const ntlm = new NtlmInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  const empty = acceptor.step(Buffer.alloc(0), SERVER_INPUTS)
  t.same(token(empty), serverInitialToken(), "an empty token gets the server's negTokenInit")
  const challenge = acceptor.step(ntlm.negotiate(), SERVER_INPUTS)
  t.equal(token(challenge).subarray(0, 8).toString('latin1'), 'NTLMSSP\0', 'a bare CHALLENGE')
  const a = ntlm.authenticate(token(challenge), CLIENT_INPUTS)
  if (!a.ok) throw new Error(a.reason)
  const done = acceptor.step(a.token, SERVER_INPUTS)
  t.match(done, { status: NT_STATUS_AUTH.SUCCESS, mechListMicExchanged: false })
  t.equal(token(done).length, 0)
  const twice = new SpnegoAcceptor(CONFIG)
  twice.step(Buffer.alloc(0), SERVER_INPUTS)
  t.match(twice.step(Buffer.alloc(0), SERVER_INPUTS), { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: /second empty token/ })
})

t.test('malformed and out-of-order tokens: INVALID_PARAMETER', async (t) => {
  const cases: Array<[string, Buffer[], RegExp]> = [
    ['garbage', [Buffer.from('garbage')], /SPNEGO: /],
    ['negTokenResp first', [encodeNegTokenResp({ negState: 1 })], /negTokenResp before negTokenInit/],
    ['no NTLMSSP offered', [encodeNegTokenInit({ mechTypes: [KRB5_OID] })], /no NTLMSSP among/],
    ['a second negTokenInit', [encodeNegTokenInit({ mechTypes: [NTLMSSP_OID] }), encodeNegTokenInit({ mechTypes: [NTLMSSP_OID] })], /second negTokenInit/],
    ['no NEGOTIATE', [encodeNegTokenInit({ mechTypes: [NTLMSSP_OID] }), encodeNegTokenResp({})], /without the NTLMSSP NEGOTIATE/],
    ['client reject', [encodeNegTokenInit({ mechTypes: [NTLMSSP_OID] }), encodeNegTokenResp({ negState: NEG_STATE.REJECT })], /rejected/],
    ['another mech', [encodeNegTokenInit({ mechTypes: [NTLMSSP_OID] }), encodeNegTokenResp({ supportedMech: KRB5_OID, responseToken: Buffer.alloc(1) })], /switched to mechanism/],
    ['bad NEGOTIATE', [encodeNegTokenInit({ mechTypes: [NTLMSSP_OID], mechToken: Buffer.from('NTLMSSP\0') })], /NEGOTIATE_MESSAGE/],
  ]
  for (const [name, tokens, reason] of cases) {
    const acceptor = new SpnegoAcceptor(CONFIG)
    let last: SpnegoOutcome | undefined
    for (const tok of tokens) last = acceptor.step(tok, SERVER_INPUTS)
    t.match(last, { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason }, name)
    t.ok(acceptor.finished, `${name}: finished`)
  }
  const noAuth = new SpnegoAcceptor(CONFIG)
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
  noAuth.step(client.initialToken(), SERVER_INPUTS)
  t.match(noAuth.step(encodeNegTokenResp({ negState: 1 }), SERVER_INPUTS), { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: /without the NTLMSSP AUTHENTICATE/ })
})

t.test('fuzz: mutated tokens at each leg get a status, never an exception', async (t) => {
  const allowed = new Set<number>(Object.values(NT_STATUS_AUTH))
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(600), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (atFirstLeg, edits) => {
      const acceptor = new SpnegoAcceptor(CONFIG)
      const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'alice-secret', workstation: 'WS' })
      const mutate = (b: Buffer): Buffer => {
        const m = Buffer.from(b)
        for (const [at, v] of edits) if (at < m.length) m[at] = v
        return m
      }
      const first = client.initialToken()
      const leg1 = acceptor.step(atFirstLeg ? mutate(first) : first, SERVER_INPUTS)
      if (!allowed.has(leg1.status)) return false
      if (atFirstLeg || leg1.status !== NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) return true
      const c1 = client.step(leg1.token, CLIENT_INPUTS)
      if (c1.state !== 'continue') return false
      return allowed.has(acceptor.step(mutate(c1.token), SERVER_INPUTS).status)
    }),
    { numRuns: 1500 },
  )
  t.pass('1500 mutated exchanges')
})

// --- Samba 4.17's client as the oracle -------------------------------------------------------------

const sambaMissing = sambaGensecUnavailable() ?? false

async function sambaLogin(
  t: Test,
  options: { features: Array<'sign' | 'seal' | 'session_key'>; timestamp?: bigint; password?: string; mech?: 'spnego' | 'ntlmssp'; anonymous?: boolean },
): Promise<{ client: SambaGensecClient; outcome: SpnegoOutcome; clientError?: string }> {
  const client = new SambaGensecClient({ user: 'Alice', password: options.password ?? 'alice-secret', domain: 'WORKGROUP', workstation: 'SAMBA', features: options.features, mech: options.mech ?? 'spnego', anonymous: options.anonymous ?? false })
  t.teardown(() => client.close())
  const acceptor = new SpnegoAcceptor(CONFIG)
  let fromServer: Buffer = Buffer.alloc(0)
  for (let leg = 0; leg < 4; leg++) {
    const u = await client.update(fromServer)
    if ('error' in u) throw new Error(`samba client: ${u.error}`)
    const outcome = acceptor.step(u.token, { serverChallenge: Buffer.alloc(8, leg + 1), ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}) })
    if (outcome.status === NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) {
      fromServer = outcome.token
      continue
    }
    if (outcome.status !== NT_STATUS_AUTH.SUCCESS) return { client, outcome }
    if (outcome.token.length === 0) return { client, outcome }
    const last = await client.update(outcome.token)
    if ('error' in last) return { client, outcome, clientError: last.error }
    t.ok(last.finished, 'the Samba client is finished')
    return { client, outcome }
  }
  throw new Error('too many legs')
}

t.test('Samba 4.17 client: logs in with and without the timestamp, agrees on the key, checks our mechListMIC', { skip: sambaMissing }, async (t) => {
  for (const timestamp of [undefined, NOW]) {
    // 'session_key' is what an SMB client wants: Samba's NTLMSSP then negotiates SIGN too.
    for (const features of [[], ['session_key'], ['sign'], ['seal']] as Array<Array<'sign' | 'seal' | 'session_key'>>) {
      const what = `timestamp ${timestamp !== undefined}, features [${features.join(',')}]`
      const { client, outcome, clientError } = await sambaLogin(t, { features, timestamp })
      t.equal(clientError, undefined, `${what}: the client accepts the final token`)
      if (outcome.status !== NT_STATUS_AUTH.SUCCESS) throw new Error(`${what}: ${'reason' in outcome ? outcome.reason : ''}`)
      t.equal(outcome.authenticated.userName, 'alice', what)
      const key = await client.request({ op: 'session_key' })
      t.equal(key.ok && key.key, outcome.authenticated.sessionKey?.toString('hex'), `${what}: the same session key`)
      // Samba's client asks for signing when a feature is wanted; then the MIC makes the mechListMIC exchange.
      t.equal(outcome.mechListMicExchanged, timestamp !== undefined && features.length > 0, `${what}: mechListMIC exchanged`)
    }
  }
})

t.test('Samba 4.17 client: a corrupted server mechListMIC is refused by it (the check is real)', { skip: sambaMissing }, async (t) => {
  const client = new SambaGensecClient({ user: 'alice', password: 'alice-secret', domain: 'WORKGROUP', features: ['sign'] })
  t.teardown(() => client.close())
  const acceptor = new SpnegoAcceptor(CONFIG)
  let u = await client.update(Buffer.alloc(0))
  if ('error' in u) throw new Error(u.error)
  const leg1 = acceptor.step(u.token, SERVER_INPUTS)
  u = await client.update(token(leg1))
  if ('error' in u) throw new Error(u.error)
  const leg2 = token(acceptor.step(u.token, SERVER_INPUTS))
  leg2[leg2.length - 3] ^= 0x40
  const last = await client.update(leg2)
  t.match(last, { error: /Access Denied|ACCESS_DENIED|3221225506/ })
})

t.test('Samba 4.17 client: signs and seals with the session security the acceptor hands on', { skip: sambaMissing }, async (t) => {
  for (const timestamp of [undefined, NOW]) {
    const { client, outcome } = await sambaLogin(t, { features: ['seal'], timestamp })
    if (outcome.status !== NT_STATUS_AUTH.SUCCESS || !outcome.sessionSecurity) throw new Error('no session security')
    const s = outcome.sessionSecurity
    for (let i = 0; i < 3; i++) {
      const data = Buffer.from(`client packet ${i}`)
      const sig = await client.request({ op: 'sign', data: data.toString('hex') })
      t.ok(sig.ok && s.verify(Buffer.from(sig.sig as string, 'hex'), data).ok, `timestamp ${timestamp !== undefined}: Samba's signature ${i} verifies`)
      const mine = s.sign(Buffer.from(`server packet ${i}`))
      t.match(await client.request({ op: 'check', data: Buffer.from(`server packet ${i}`).toString('hex'), sig: mine.toString('hex') }), { ok: true }, `our signature ${i} verifies in Samba`)
    }
    const wrapped = await client.request({ op: 'wrap', data: Buffer.from('sealed by samba').toString('hex') })
    const w = Buffer.from(wrapped.ok ? (wrapped.data as string) : '', 'hex')
    t.match(s.unseal(w.subarray(16), w.subarray(0, 16)), { ok: true, plaintext: Buffer.from('sealed by samba') }, 'we unseal what Samba seals')
    const { sealed, signature } = s.seal(Buffer.from('sealed by us'))
    const unwrapped = await client.request({ op: 'unwrap', data: Buffer.concat([signature, sealed]).toString('hex') })
    t.equal(unwrapped.ok && Buffer.from(unwrapped.data as string, 'hex').toString(), 'sealed by us', 'Samba unseals what we seal')
  }
})

t.test('Samba 4.17 client: wrong password, bare NTLMSSP, anonymous', { skip: sambaMissing }, async (t) => {
  const wrong = await sambaLogin(t, { features: ['sign'], timestamp: NOW, password: 'nope' })
  t.match(wrong.outcome, { status: NT_STATUS_AUTH.LOGON_FAILURE })
  const bare = await sambaLogin(t, { features: ['sign'], timestamp: NOW, mech: 'ntlmssp' })
  t.match(bare.outcome, { status: NT_STATUS_AUTH.SUCCESS, mechListMicExchanged: false })
  if (bare.outcome.status === NT_STATUS_AUTH.SUCCESS) t.ok(bare.outcome.authenticated.micVerified, 'the NTLM MIC itself was checked')
  const anonymous = await sambaLogin(t, { features: [], timestamp: NOW, anonymous: true })
  t.match(anonymous.outcome, { status: NT_STATUS_AUTH.SUCCESS, authenticated: { anonymous: true, sessionKey: undefined } })
  t.equal(anonymous.clientError, undefined)
})
