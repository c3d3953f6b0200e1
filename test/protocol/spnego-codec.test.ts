// The SPNEGO codec (RFC 4178, MS-SPNG): client tokens captured from Samba 4.17's gensec and
// impacket 0.10 decoded and re-encoded byte for byte, the server's initial token for the SMB2
// NEGOTIATE response, negTokenResp of each leg, NegTokenInit2 with negHints (as smbd and Windows
// send it), round trips, malformed tokens and fuzzing of the decoder, which faces the network.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { decodeNegotiateMessage } from '../../protocol/ntlmssp/negotiate-message.js'
import { derElement, derExplicit, derOid, encodeOidContent } from '../../protocol/spnego/der.js'
import {
  KRB5_OID,
  MS_KRB5_OID,
  NEG_STATE,
  NTLMSSP_OID,
  SpnegoDecodeError,
  decodeNegotiationToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
  serverInitialToken,
  type NegTokenInit,
  type NegTokenResp,
  type NegotiationToken,
  type SpnegoDecoded,
} from '../../protocol/spnego/spnego-token.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

function ok<T>(r: SpnegoDecoded<T>, what: string): T {
  if (!r.ok) throw new Error(`${what}: ${r.error.toString()}`)
  return r.value
}

function init(token: NegotiationToken): NegTokenInit {
  if (token.kind !== 'init') throw new Error('not a negTokenInit')
  return token.init
}

function resp(token: NegotiationToken): NegTokenResp {
  if (token.kind !== 'resp') throw new Error('not a negTokenResp')
  return token.resp
}

function refused(t: Test, bytes: Buffer, pattern: RegExp, what: string): void {
  const r = decodeNegotiationToken(bytes)
  if (r.ok) {
    t.fail(`${what}: decoded`)
    return
  }
  t.ok(r.error instanceof SpnegoDecodeError)
  t.match(r.error.reason, pattern, `${what}: ${r.error.reason}`)
}

// negTokenInit of Samba 4.17's SPNEGO client (Kerberos off): NTLMSSP offered, its NEGOTIATE as mechToken.
const SAMBA_INIT = hex('604806062b0601050502a03e303ca00e300c060a2b06010401823702020aa22a04284e544c4d53535000010000001582086200000000280000000000000028000000060100000000000f')
// The same from impacket 0.10's SPNEGO_NegTokenInit.
const IMPACKET_INIT = hex('604006062b0601050502a0363034a00e300c060a2b06010401823702020aa22204204e544c4d5353500001000000358288e000000000000000000000000000000000')

t.test('client negTokenInit of Samba and impacket: fields, mechTypes DER, the same bytes back', async (t) => {
  for (const [name, bytes] of [
    ['samba', SAMBA_INIT],
    ['impacket', IMPACKET_INIT],
  ] as const) {
    const token = ok(decodeNegotiationToken(bytes), name)
    const i = init(token)
    t.same(i.mechTypes, [NTLMSSP_OID], `${name}: mechTypes`)
    t.ok(i.mechToken && decodeNegotiateMessage(i.mechToken).ok, `${name}: mechToken is an NTLMSSP NEGOTIATE`)
    t.equal(token.kind === 'init' && token.mechTypesDer.toString('hex'), '300c060a2b06010401823702020a', `${name}: MechTypeList DER`)
    t.equal(encodeNegTokenInit(i).toString('hex'), bytes.toString('hex'), `${name}: re-encoded`)
  }
})

t.test("the server's initial token offers NTLMSSP only, without negHints", async (t) => {
  const token = serverInitialToken()
  t.equal(token.toString('hex'), '601c06062b0601050502a0123010a00e300c060a2b06010401823702020a')
  t.same(init(ok(decodeNegotiationToken(token), 'server token')), { mechTypes: [NTLMSSP_OID] })
  t.equal(encodeMechTypeList([NTLMSSP_OID]).toString('hex'), '300c060a2b06010401823702020a')
})

t.test('negTokenResp of each leg', async (t) => {
  const challenge = Buffer.from('4e544c4d5353500002000000', 'hex')
  const leg1 = encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID, responseToken: challenge })
  t.equal(leg1.toString('hex'), 'a1 25 3023 a0030a0101 a10c060a2b06010401823702020a a2 0e 040c 4e544c4d5353500002000000'.replace(/\s/g, ''))
  t.same(resp(ok(decodeNegotiationToken(leg1), 'leg 1')), { negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID, responseToken: challenge })
  const mic = Buffer.from('01000000a0b1c2d3e4f5061700000000', 'hex')
  const done = encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, mechListMIC: mic })
  t.equal(done.toString('hex'), 'a11b3019a0030a0100a3120410' + mic.toString('hex'))
  t.same(resp(ok(decodeNegotiationToken(done), 'accept-completed')), { negState: NEG_STATE.ACCEPT_COMPLETED, mechListMIC: mic })
  t.same(resp(ok(decodeNegotiationToken(hex('a1073005a0030a0102')), 'reject')), { negState: NEG_STATE.REJECT })
  t.same(resp(ok(decodeNegotiationToken(hex('a1023000')), 'empty')), {})
})

t.test('NegTokenInit2 with negHints, as smbd 4.17 and Windows send it', async (t) => {
  const hintName = 'not_defined_in_RFC4178@please_ignore'
  const withHints: NegTokenInit = { mechTypes: [MS_KRB5_OID, KRB5_OID, NTLMSSP_OID], negHints: { hintName } }
  const bytes = encodeNegTokenInit(withHints)
  t.match(bytes.toString('hex'), /a32a3028a0261b246e6f745f646566696e6564/, 'hints as [3] SEQUENCE { [0] GeneralString }')
  t.same(init(ok(decodeNegotiationToken(bytes), 'negHints')), withHints)
  const micAfterHints: NegTokenInit = { ...withHints, mechListMIC: Buffer.alloc(16, 7) }
  t.same(init(ok(decodeNegotiationToken(encodeNegTokenInit(micAfterHints)), 'negHints and [4] mechListMIC')), micAfterHints)
})

t.test('OBJECT IDENTIFIER encoding (X.690 8.19)', async (t) => {
  t.equal(encodeOidContent(KRB5_OID).toString('hex'), '2a864886f712010202')
  t.equal(encodeOidContent(MS_KRB5_OID).toString('hex'), '2a864882f712010202')
  t.equal(encodeOidContent('2.999.3').toString('hex'), '883703')
  t.same(init(ok(decodeNegotiationToken(encodeNegTokenInit({ mechTypes: ['2.999.3', '0.0', '1.39.4294967296'] })), 'oids')).mechTypes, ['2.999.3', '0.0', '1.39.4294967296'])
})

t.test('malformed tokens get a typed error', async (t) => {
  refused(t, hex('6080'), /indefinite length/, 'indefinite length')
  refused(t, hex('601d06062b0601050502a0123010a00e300c060a2b06010401823702020a'), /run past the end/, 'outer length past the end')
  refused(t, Buffer.concat([serverInitialToken(), hex('00')]), /unexpected bytes/, 'trailing byte')
  refused(t, hex('601c06062b0601050503a0123010a00e300c060a2b06010401823702020a'), /is not SPNEGO/, 'another mechanism')
  refused(t, hex('601c06062b0601050502a0123010a00e300c060a2b0601040182b702020a'.replace('82b702', '808237')), /padded|ends inside/, 'OID arc padded with 0x80')
  refused(t, hex('bf0000'), /multi-byte tag/, 'multi-byte tag')
  refused(t, hex('a1053003bf0000'), /unexpected bytes/, 'unknown field in NegTokenResp')
  refused(t, hex('a1073005a0030a0104'), /negState 04/, 'negState 4')
  refused(t, hex('a1083006a0040a020001'), /negState 0001/, 'two-byte negState')
  refused(t, hex('a2023000'), /neither negTokenInit/, 'NegotiationToken [2]')
  refused(t, hex('a1063004a2020500'), /tag 0x5, expected 0x4/, 'responseToken not an OCTET STRING')
  refused(t, hex('a1 85 0000000001 00'), /length of 5 bytes/, 'five length bytes')
  refused(t, Buffer.alloc(70 * 1024), /exceeds/, 'oversized')
  refused(t, hex(''), /missing/, 'empty')
  const oids = Array.from({ length: 33 }, () => derOid(NTLMSSP_OID))
  refused(t, derElement(0xa0, derElement(0x30, derExplicit(0, derElement(0x30, ...oids)))), /more than 32 mechTypes/, '33 mechTypes')
  t.ok(decodeNegotiationToken(derElement(0xa0, derElement(0x30, derExplicit(0, derElement(0x30, ...oids.slice(1)))))).ok, '32 mechTypes')
  refused(t, hex('a0063004a0020500'), /tag 0x5, expected 0x30/, 'mechTypes not a SEQUENCE')
  refused(t, hex('a0083006a0043002060a'), /run past/, 'OID past its SEQUENCE')
  refused(t, hex('a00a3008a0023000a3020500'), /holds tag 0x5/, '[3] holding NULL')
})

const oidArb = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 39 }), fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { maxLength: 6 }))
  .map(([a, b, rest]) => [a, b, ...rest].join('.'))
const bytesArb = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))
const initArb: fc.Arbitrary<NegTokenInit> = fc.record(
  {
    mechTypes: fc.array(oidArb, { maxLength: 5 }),
    reqFlags: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 4 })).map(([unused, bits]) => Buffer.from([unused, ...bits])),
    mechToken: bytesArb,
    negHints: fc.record({ hintName: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }), hintAddress: bytesArb }, { requiredKeys: [] }),
    mechListMIC: bytesArb,
  },
  { requiredKeys: ['mechTypes'] },
)
const respArb: fc.Arbitrary<NegTokenResp> = fc.record(
  { negState: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>, supportedMech: oidArb, responseToken: bytesArb, mechListMIC: bytesArb },
  { requiredKeys: [] },
)

t.test('round trip: decode(encode(x)) = x', async (t) => {
  fc.assert(
    fc.property(initArb, (i) => {
      const token = ok(decodeNegotiationToken(encodeNegTokenInit(i)), 'init')
      t.same(init(token), i)
      return token.kind === 'init' && token.mechTypesDer.equals(encodeMechTypeList(i.mechTypes))
    }),
  )
  fc.assert(fc.property(respArb, (r) => t.same(resp(ok(decodeNegotiationToken(encodeNegTokenResp(r)), 'resp')), r) || true))
})

t.test('fuzz: mutated and truncated tokens give a value or a SpnegoDecodeError, never a throw', async (t) => {
  const seeds = [SAMBA_INIT, IMPACKET_INIT, serverInitialToken(), encodeNegTokenResp({ negState: 1, supportedMech: NTLMSSP_OID, responseToken: Buffer.alloc(200, 1), mechListMIC: Buffer.alloc(16) }), encodeNegTokenInit({ mechTypes: [NTLMSSP_OID, KRB5_OID], negHints: { hintName: 'x' }, mechListMIC: Buffer.alloc(16) })]
  let refusedCount = 0
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(400), (seed, edits, cut) => {
      const b = Buffer.from(seed)
      for (const [at, v] of edits) if (at < b.length) b[at] = v
      const r = decodeNegotiationToken(b.subarray(0, Math.max(1, Math.min(b.length, cut))))
      if (!r.ok) refusedCount++
      return r.ok || r.error instanceof SpnegoDecodeError
    }),
    { numRuns: 10_000 },
  )
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => { const r = decodeNegotiationToken(b); return r.ok || r.error instanceof SpnegoDecodeError }), { numRuns: 3000 })
  t.ok(refusedCount > 0, `${refusedCount} mutated tokens refused`)
})
