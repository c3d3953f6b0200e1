// The NTLMSSP codec (MS-NLMP 2.2): the CHALLENGE of MS-NLMP 4.2.4.3 decoded field by field and
// re-encoded byte for byte, NEGOTIATE tokens captured from Samba 4.17's and impacket 0.10's
// clients, round trips of every message, AV pair list and NTLMv2 client challenge, the malformed
// inputs a server must refuse, and fuzzing of every decoder (they face the network).
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { NTLMSSP_NEGOTIATE, hasFlag, negotiateFlagNames } from '../../protocol/ntlmssp/negotiate-flags.js'
import { NtlmsspDecodeError, type NtlmsspDecoded, type NtlmVersion } from '../../protocol/ntlmssp/ntlmssp-reader.js'
import { AV_ID, avPairsOf, decodeAvPairs, encodeAvPairs, targetInfoOf, type AvPair, type TargetInfo } from '../../protocol/ntlmssp/av-pairs.js'
import { decodeNegotiateMessage, encodeNegotiateMessage, type NegotiateMessage } from '../../protocol/ntlmssp/negotiate-message.js'
import { decodeChallengeMessage, encodeChallengeMessage, type ChallengeMessage } from '../../protocol/ntlmssp/challenge-message.js'
import { decodeAuthenticateMessage, encodeAuthenticateMessage, type AuthenticateMessage } from '../../protocol/ntlmssp/authenticate-message.js'
import { decodeNtlmv2Response, encodeNtlmv2ClientChallenge, type Ntlmv2ClientChallenge } from '../../protocol/ntlmssp/ntlmv2-response.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

function ok<T>(r: NtlmsspDecoded<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.toString()}`)
  return r.value
}

function refused<T>(t: Test, r: NtlmsspDecoded<T>, pattern: RegExp, what: string): void {
  if (r.ok) {
    t.fail(`${what}: decoded`)
    return
  }
  t.ok(r.error instanceof NtlmsspDecodeError, `${what}: NtlmsspDecodeError`)
  t.match(r.error.reason, pattern, `${what}: ${r.error.reason}`)
}

// MS-NLMP 4.2.4.3: the CHALLENGE_MESSAGE of the NTLMv2 example (server "Server", domain "Domain").
const SPEC_CHALLENGE = hex(`
  4e544c4d 53535000 02000000 0c000c00 38000000 33828ae2 01234567 89abcdef
  00000000 00000000 24002400 44000000 06007017 0000000f 53006500 72007600
  65007200 02000c00 44006f00 6d006100 69006e00 01000c00 53006500 72007600
  65007200 00000000`)
const SPEC_FLAGS = 0xe28a8233

t.test('CHALLENGE of MS-NLMP 4.2.4.3: every field, and the same bytes back', async (t) => {
  const m = ok(decodeChallengeMessage(SPEC_CHALLENGE), 'challenge')
  t.equal(m.flags, SPEC_FLAGS)
  t.equal(negotiateFlagNames(m.flags), 'UNICODE|OEM|SIGN|SEAL|NTLM|ALWAYS_SIGN|TARGET_TYPE_SERVER|EXTENDED_SESSIONSECURITY|TARGET_INFO|VERSION|NEGOTIATE_128|KEY_EXCH|NEGOTIATE_56')
  t.equal(m.targetName, 'Server')
  t.equal(m.serverChallenge.toString('hex'), '0123456789abcdef')
  t.same(m.version, { productMajorVersion: 6, productMinorVersion: 0, productBuild: 6000, ntlmRevisionCurrent: 15 })
  t.same(
    m.targetInfo.map((p) => [p.id, p.value.toString('utf16le')]),
    [
      [AV_ID.NB_DOMAIN_NAME, 'Domain'],
      [AV_ID.NB_COMPUTER_NAME, 'Server'],
    ],
  )
  t.same(ok(targetInfoOf(m.targetInfo), 'target info'), { nbDomainName: 'Domain', nbComputerName: 'Server' })
  t.same(avPairsOf({ nbDomainName: 'Domain', nbComputerName: 'Server' }), m.targetInfo, 'Windows order of the AV pairs')
  t.equal(encodeChallengeMessage(m).toString('hex'), SPEC_CHALLENGE.toString('hex'))
})

t.test('NEGOTIATE from Samba 4.17 gensec (Version, no names) and impacket 0.10 (no Version)', async (t) => {
  const samba = ok(decodeNegotiateMessage(hex('4e544c4d535350000100000015820862000000002800000000000000280000000601 0000 0000000f')), 'samba')
  t.equal(samba.flags, 0x62088215)
  t.ok(hasFlag(samba.flags, NTLMSSP_NEGOTIATE.KEY_EXCH) && hasFlag(samba.flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY))
  t.same(samba.version, { productMajorVersion: 6, productMinorVersion: 1, productBuild: 0, ntlmRevisionCurrent: 15 })
  t.equal(samba.domainName, undefined)
  const impacket = ok(decodeNegotiateMessage(hex('4e544c4d5353500001000000358288e000000000000000000000000000000000')), 'impacket')
  t.equal(impacket.flags, 0xe0888235)
  t.equal(impacket.version, undefined)
  const minimal = ok(decodeNegotiateMessage(hex('4e544c4d53535000 01000000 07820000')), 'signature, type and flags only')
  t.same(minimal, { flags: 0x8207 })
})

t.test('NEGOTIATE with OEM domain and workstation', async (t) => {
  const flags = NTLMSSP_NEGOTIATE.UNICODE | NTLMSSP_NEGOTIATE.OEM_DOMAIN_SUPPLIED | NTLMSSP_NEGOTIATE.OEM_WORKSTATION_SUPPLIED | NTLMSSP_NEGOTIATE.VERSION
  const version: NtlmVersion = { productMajorVersion: 10, productMinorVersion: 0, productBuild: 19041, ntlmRevisionCurrent: 15 }
  const bytes = encodeNegotiateMessage({ flags, domainName: 'DOMAIN', workstation: 'WS1', version })
  t.equal(bytes.length, 40 + 6 + 3)
  t.same(ok(decodeNegotiateMessage(bytes), 'negotiate'), { flags, domainName: 'DOMAIN', workstation: 'WS1', version })
})

// --- Malformed input ---------------------------------------------------------------------------

t.test('malformed messages get a typed error naming the problem', async (t) => {
  refused(t, decodeChallengeMessage(SPEC_CHALLENGE.subarray(0, 40)), /shorter than its fixed part/, 'truncated fixed part')
  refused(t, decodeChallengeMessage(SPEC_CHALLENGE.subarray(0, SPEC_CHALLENGE.length - 1)), /run past the message end/, 'TargetInfo past the end')
  const inside = Buffer.from(SPEC_CHALLENGE)
  inside.writeUInt32LE(20, 16) // TargetName offset into the fixed part
  refused(t, decodeChallengeMessage(inside), /inside the fixed part/, 'payload inside the fixed part')
  const odd = Buffer.from(SPEC_CHALLENGE)
  odd.writeUInt16LE(11, 12)
  refused(t, decodeChallengeMessage(odd), /odd UTF-16 byte count/, 'odd unicode TargetName')
  const noEol = Buffer.from(SPEC_CHALLENGE)
  noEol.writeUInt16LE(32, 40) // TargetInfo length without the EOL pair
  refused(t, decodeChallengeMessage(noEol), /without MsvAvEOL/, 'TargetInfo without EOL')
  const sig = Buffer.from(SPEC_CHALLENGE)
  sig[0] = 0x4f
  refused(t, decodeChallengeMessage(sig), /no NTLMSSP signature/, 'signature')
  refused(t, decodeNegotiateMessage(SPEC_CHALLENGE), /MessageType 2, expected 1/, 'a CHALLENGE offered as NEGOTIATE')
  refused(t, decodeAuthenticateMessage(Buffer.alloc(0)), /shorter/, 'empty')
  refused(t, decodeNegotiateMessage(Buffer.alloc(70 * 1024)), /exceeds/, 'oversized')
  refused(t, decodeAvPairs(hex('01000400 41004200 00000000 ff')), /after MsvAvEOL/, 'data after EOL')
  refused(t, decodeAvPairs(hex('00000200 0000')), /MsvAvEOL with AvLen 2/, 'EOL with a length')
  refused(t, decodeAvPairs(hex('01000800 4100')), /runs past the end/, 'pair past the end')
  t.notOk(targetInfoOf([{ id: AV_ID.FLAGS, value: Buffer.alloc(3) }]).ok, 'MsvAvFlags of 3 bytes')
  t.notOk(targetInfoOf([{ id: AV_ID.TIMESTAMP, value: Buffer.alloc(4) }]).ok, 'MsvAvTimestamp of 4 bytes')
  t.notOk(targetInfoOf([{ id: AV_ID.NB_COMPUTER_NAME, value: Buffer.alloc(3) }]).ok, 'odd name')
  t.notOk(decodeAvPairs('not bytes' as unknown as Uint8Array).ok, 'not a byte array')
  const many = encodeAvPairs(Array.from({ length: 128 }, () => ({ id: 0x77, value: Buffer.alloc(0) })))
  t.ok(decodeAvPairs(many).ok, '128 pairs')
  const tooMany = Buffer.concat([Buffer.from(hex('77000000')), many])
  refused(t, decodeAvPairs(tooMany), /more than 128 AV pairs/, '129 pairs')
})

// --- Round trips ---------------------------------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const versionArb: fc.Arbitrary<NtlmVersion> = fc.record({
  productMajorVersion: fc.integer({ min: 0, max: 255 }),
  productMinorVersion: fc.integer({ min: 0, max: 255 }),
  productBuild: fc.integer({ min: 0, max: 0xffff }),
  ntlmRevisionCurrent: fc.integer({ min: 0, max: 255 }),
})
// Text that survives UTF-16LE (no lone surrogates) or Latin-1.
const unicodeText = fc.string({ unit: 'grapheme', maxLength: 30 })
const oemText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 30 })
const bytesArb = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b))
const avPairArb: fc.Arbitrary<AvPair> = fc.record({ id: fc.integer({ min: 1, max: 0xffff }), value: bytesArb(40) })

function withFlag(flags: number, bit: number, on: boolean): number {
  return (on ? flags | bit : flags & ~bit) >>> 0
}

t.test('round trip: NEGOTIATE', async (t) => {
  const arb = fc.record({ flags: u32, domainName: fc.option(oemText, { nil: undefined }), workstation: fc.option(oemText, { nil: undefined }), version: fc.option(versionArb, { nil: undefined }) }).map((m) => {
    let flags = withFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION, m.version !== undefined)
    flags = withFlag(flags, NTLMSSP_NEGOTIATE.OEM_DOMAIN_SUPPLIED, m.domainName !== undefined)
    flags = withFlag(flags, NTLMSSP_NEGOTIATE.OEM_WORKSTATION_SUPPLIED, m.workstation !== undefined)
    const out: NegotiateMessage = { flags, ...(m.domainName !== undefined ? { domainName: m.domainName } : {}), ...(m.workstation !== undefined ? { workstation: m.workstation } : {}), ...(m.version ? { version: m.version } : {}) }
    return out
  })
  fc.assert(fc.property(arb, (m) => t.same(ok(decodeNegotiateMessage(encodeNegotiateMessage(m)), 'negotiate'), m) || true))
})

t.test('round trip: CHALLENGE', async (t) => {
  const arb = fc
    .record({ flags: u32, unicodeName: unicodeText, oemName: oemText, serverChallenge: fc.uint8Array({ minLength: 8, maxLength: 8 }), targetInfo: fc.array(avPairArb, { maxLength: 8 }), version: fc.option(versionArb, { nil: undefined }), withInfo: fc.boolean() })
    .map((m) => {
      let flags = withFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION, m.version !== undefined)
      flags = withFlag(flags, NTLMSSP_NEGOTIATE.TARGET_INFO, m.withInfo)
      const out: ChallengeMessage = {
        flags,
        targetName: hasFlag(flags, NTLMSSP_NEGOTIATE.UNICODE) ? m.unicodeName : m.oemName,
        serverChallenge: Buffer.from(m.serverChallenge),
        targetInfo: m.withInfo ? m.targetInfo : [],
        ...(m.version ? { version: m.version } : {}),
      }
      return out
    })
  fc.assert(fc.property(arb, (m) => t.same(ok(decodeChallengeMessage(encodeChallengeMessage(m)), 'challenge'), m) || true))
})

t.test('round trip: AUTHENTICATE', async (t) => {
  const arb = fc
    .record({
      flags: u32,
      names: fc.tuple(unicodeText, unicodeText, unicodeText),
      oemNames: fc.tuple(oemText, oemText, oemText),
      lm: bytesArb(24),
      nt: bytesArb(300),
      key: bytesArb(16),
      version: fc.option(versionArb, { nil: undefined }),
      mic: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined }),
    })
    .map((m) => {
      const flags = withFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION, m.version !== undefined)
      const [domainName, userName, workstation] = hasFlag(flags, NTLMSSP_NEGOTIATE.UNICODE) ? m.names : m.oemNames
      const out: AuthenticateMessage = {
        flags,
        lmChallengeResponse: m.lm,
        ntChallengeResponse: m.nt,
        domainName,
        userName,
        workstation,
        encryptedRandomSessionKey: m.key,
        ...(m.version ? { version: m.version } : {}),
        ...(m.mic ? { mic: Buffer.from(m.mic) } : {}),
      }
      return out
    })
  fc.assert(fc.property(arb, (m) => t.same(ok(decodeAuthenticateMessage(encodeAuthenticateMessage(m)), 'authenticate'), m) || true))
})

t.test('round trip: AV pair lists and their typed view', async (t) => {
  fc.assert(fc.property(fc.array(avPairArb, { maxLength: 20 }), (pairs) => t.same(ok(decodeAvPairs(encodeAvPairs(pairs)), 'pairs'), pairs) || true))
  const infoArb: fc.Arbitrary<TargetInfo> = fc.record(
    {
      nbComputerName: unicodeText,
      nbDomainName: unicodeText,
      dnsComputerName: unicodeText,
      dnsDomainName: unicodeText,
      dnsTreeName: unicodeText,
      flags: u32,
      timestamp: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
      singleHost: fc.uint8Array({ minLength: 48, maxLength: 60 }).map((b) => Buffer.from(b)),
      targetName: unicodeText,
      channelBindings: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b)),
    },
    { requiredKeys: [] },
  )
  fc.assert(fc.property(infoArb, (info) => t.same(ok(targetInfoOf(ok(decodeAvPairs(encodeAvPairs(avPairsOf(info))), 'pairs')), 'info'), info) || true))
})

t.test('round trip: NTLMv2 response (NTProofStr and client challenge)', async (t) => {
  const arb: fc.Arbitrary<Ntlmv2ClientChallenge> = fc.record({
    respType: fc.integer({ min: 0, max: 255 }),
    hiRespType: fc.integer({ min: 0, max: 255 }),
    timestamp: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    challengeFromClient: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b)),
    avPairs: fc.array(avPairArb, { maxLength: 8 }),
    trailing: bytesArb(8),
  })
  fc.assert(
    fc.property(arb, fc.uint8Array({ minLength: 16, maxLength: 16 }), (c, proof) => {
      const blob = encodeNtlmv2ClientChallenge(c)
      const r = ok(decodeNtlmv2Response(Buffer.concat([proof, blob])), 'ntlmv2')
      t.same(r.clientChallenge, c)
      return r.ntProofStr.equals(Buffer.from(proof)) && r.blob.equals(blob)
    }),
  )
  refused(t, decodeNtlmv2Response(Buffer.alloc(43)), /shorter than NTProofStr/, 'short NTLMv2 response')
  refused(t, decodeNtlmv2Response(Buffer.concat([Buffer.alloc(16), hex('0101 0000 00000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000 0200 0c00 4400')])), /AV pair 2 of 12 bytes runs past|runs past/, 'truncated AvPairs')
})

// --- Fuzz -----------------------------------------------------------------------------------------

function neverThrows(decode: (b: Uint8Array) => NtlmsspDecoded<unknown>, seed: Buffer, runs: number): boolean {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(seed.length + 8), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.nat(seed.length + 16),
      (edits, cut) => {
        const b = Buffer.concat([seed, Buffer.alloc(8)])
        for (const [at, v] of edits) if (at < b.length) b[at] = v
        const r = decode(b.subarray(0, Math.min(cut, b.length)))
        return r.ok || r.error instanceof NtlmsspDecodeError
      },
    ),
    { numRuns: runs },
  )
  return true
}

t.test('fuzz: mutated and truncated tokens never make a decoder throw', async (t) => {
  const authenticate = encodeAuthenticateMessage({
    flags: SPEC_FLAGS,
    lmChallengeResponse: Buffer.alloc(24, 1),
    ntChallengeResponse: Buffer.concat([Buffer.alloc(16, 2), encodeNtlmv2ClientChallenge({ respType: 1, hiRespType: 1, timestamp: 0n, challengeFromClient: Buffer.alloc(8, 0xaa), avPairs: avPairsOf({ nbDomainName: 'Domain', nbComputerName: 'Server', flags: 2 }), trailing: Buffer.alloc(4) })]),
    domainName: 'Domain',
    userName: 'User',
    workstation: 'COMPUTER',
    encryptedRandomSessionKey: Buffer.alloc(16, 3),
    version: { productMajorVersion: 10, productMinorVersion: 0, productBuild: 1, ntlmRevisionCurrent: 15 },
    mic: Buffer.alloc(16, 4),
  })
  const nt = ok(decodeAuthenticateMessage(authenticate), 'authenticate').ntChallengeResponse
  t.ok(neverThrows(decodeChallengeMessage, SPEC_CHALLENGE, 3000), 'CHALLENGE')
  t.ok(neverThrows(decodeAuthenticateMessage, authenticate, 3000), 'AUTHENTICATE')
  t.ok(neverThrows(decodeNegotiateMessage, hex('4e544c4d535350000100000015820862000000002800000000000000280000000601 0000 0000000f'), 2000), 'NEGOTIATE')
  t.ok(neverThrows(decodeNtlmv2Response, nt, 3000), 'NTLMv2 response')
  t.ok(neverThrows(decodeAvPairs, encodeAvPairs(avPairsOf({ nbDomainName: 'D', flags: 2, timestamp: 5n })), 2000), 'AV pairs')
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => [decodeNegotiateMessage, decodeChallengeMessage, decodeAuthenticateMessage, decodeNtlmv2Response, decodeAvPairs].every((d) => { const r = d(b); return r.ok || r.error instanceof NtlmsspDecodeError })),
    { numRuns: 2000 },
  )
})
