// The DCE/RPC connection-oriented PDU codec and the request fragment assembler: captured PDUs from
// Windows and Samba, vectors written out byte by byte, round trips of every encoder, the framing
// limits, lying counts and lengths, fragmentation, the assembler's limits, and fuzzing of the
// decoders, which face the network.
import t from 'tap'
import fc from 'fast-check'
import {
  BIND_ACK_REASON,
  BIND_ACK_RESULT,
  BIND_NAK_REASON,
  BIND_TIME_FEATURE,
  BIND_TIME_FEATURE_UUID_PREFIX,
  DCERPC_FAULT_BYTES,
  DCERPC_HEADER_BYTES,
  DcerpcDecodeError,
  FAULT,
  NDR20_SYNTAX,
  NDR64_SYNTAX,
  NULL_SYNTAX,
  PFC,
  PTYPE,
  SUPPORTED_BIND_TIME_FEATURES,
  bindTimeFeatureAnswer,
  bindTimeFeatureSyntax,
  bindTimeFeatures,
  decodePdu,
  encodeBind,
  encodeBindAck,
  encodeBindNak,
  encodeFault,
  encodeRequest,
  encodeResponse,
  fragmentResponse,
  peekFragLength,
  sameSyntax,
  syntaxVersion,
  syntaxVersionParts,
  uuidFromNdrBytes,
  uuidToNdrBytes,
  type BindAckPdu,
  type BindPdu,
  type DecodePduResult,
  type Pdu,
  type PresentationContext,
  type RequestPdu,
  type SyntaxId,
} from '../../protocol/dcerpc/pdu-codec.js'
import { DEFAULT_MAX_REQUEST_STUB_BYTES, FragmentAssembler } from '../../protocol/dcerpc/fragment-assembler.js'

/** Bytes from a hex string; spaces are only there to show the field boundaries. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

/** The decoded PDU; a refusal throws, which fails the enclosing subtest with the decoder's error. */
function expectPdu(result: DecodePduResult, what: string): Pdu {
  if (!result.ok) throw new Error(`${what} did not decode: ${result.error.code}: ${result.error.message}`)
  return result.pdu
}

/** The member of the Pdu union whose kind includes K (bind and alter_context share BindPdu, for instance). */
type PduOfKind<K extends Pdu['kind']> = Pdu extends infer P ? (P extends { kind: infer PK } ? (K extends PK ? P : never) : never) : never

function expectKind<K extends Pdu['kind']>(pdu: Pdu, kind: K): PduOfKind<K> {
  if (pdu.kind !== kind) throw new Error(`expected a ${kind} PDU, got ${pdu.kind}`)
  return pdu as PduOfKind<K>
}

function expectError(result: DecodePduResult): DcerpcDecodeError {
  if (result.ok) throw new Error(`expected a refusal, got a ${result.pdu.kind}`)
  return result.error
}

// --- Captured PDUs -------------------------------------------------------------------------------

// A Windows client's bind to atsvc (1ff70682-0a51-30e8-076d-740be8cee98b v1.0) over SMB, and the
// Windows server's bind_ack. They come from the unit tests of a Suricata-derived Rust DCE/RPC parser
// (rust/src/dcerpc/parser.rs, test_parse_dcerpc_bind_record and test_parse_dcerpc_bindack_record;
// the repository holding that version could not be pinned), whose comments name the captures:
// krb5.pcap frame 283 and 20171220_smb_at_schedule.pcap from OISF redmine issue #3109.
// The bind offers three contexts for the same interface: NDR 2.0, NDR64, and bind time feature
// negotiation with bitmask 0x0003 (both features).
const WINDOWS_ATSVC_BIND_HEX = [
  '05 00 0b 03 10000000 a000 0000 02000000', // 5.0 bind, FIRST|LAST, LE drep, frag 160, auth 0, call 2
  'b810 b810 00000000 03 000000', // max_xmit 4280, max_recv 4280, assoc group 0, 3 contexts
  '0000 01 00 8206f71f510ae830076d740be8cee98b 01000000 045d888aeb1cc9119fe808002b104860 02000000',
  '0100 01 00 8206f71f510ae830076d740be8cee98b 01000000 33057171babe37498319b5dbef9ccc36 01000000',
  '0200 01 00 8206f71f510ae830076d740be8cee98b 01000000 2c1cb76c12984045 0300000000000000 01000000',
].join(' ')
const ATSVC_SYNTAX: SyntaxId = { uuid: '1ff70682-0a51-30e8-076d-740be8cee98b', version: 1 }

// The answer: sec_addr '\PIPE\atsvc' (12 bytes with its NUL) ends at offset 38, and Windows pads to
// 40 with the bytes 00 55, not zeros. NDR 2.0 is rejected (2, 2), NDR64 accepted, and the feature
// context answered with negotiate_ack, reason 3 (both features), and the all-zero syntax.
const WINDOWS_ATSVC_BIND_ACK_HEX = [
  '05 00 0c 03 10000000 7400 0000 02000000',
  'b810 b810 d80a0000',
  '0c00 5c504950455c617473766300 0055', // length 12, "\PIPE\atsvc\0", 2 bytes of non-zero padding
  '03 000000',
  '0200 0200 00000000000000000000000000000000 00000000',
  '0000 0000 33057171babe37498319b5dbef9ccc36 01000000',
  '0300 0300 00000000000000000000000000000000 00000000',
].join(' ')

// A samr request (opnum 7, 52 stub bytes) and a response (36 stub bytes), from the same parser's
// tests (krb5.pcap frames 262 and 283).
const WINDOWS_SAMR_REQUEST_HEX =
  '05 00 00 03 10000000 4c00 0000 07000000 34000000 0000 0700' +
  ' 00000000190fb5f979a4cc4384dbc1cbc4ecd8ab1102000004000000010400000000000515000000cf525a5834770dc31056d8ac'
const WINDOWS_SAMR_RESPONSE_HEX =
  '05 00 02 03 10000000 3c00 0000 0a000000 24000000 0000 00 00' +
  ' 010000000400020001000000510400000100000008000200010000000100000000000000'

// co_cancel and orphaned from Samba's source4/torture/ndr/dcerpc.c (ncacn_packet_co_cancel_data,
// ncacn_packet_orphaned_data): header-only PDUs, co_cancel with LAST|PENDING_CANCEL on call 1,
// orphaned with FIRST|LAST on call 8.
const SAMBA_CO_CANCEL_HEX = '05 00 12 06 10000000 1000 0000 01000000'
const SAMBA_ORPHANED_HEX = '05 00 13 03 10000000 1000 0000 08000000'

t.test('the Windows atsvc bind decodes, with its NDR64 and bind time feature contexts, and re-encodes byte for byte', async (t) => {
  const bytes = hex(WINDOWS_ATSVC_BIND_HEX)
  t.equal(bytes.length, 160)
  t.same(peekFragLength(bytes, 5840), { ok: true, fragLength: 160 })
  const bind = expectKind(expectPdu(decodePdu(bytes), 'atsvc bind'), 'bind')
  t.equal(bind.callId, 2)
  t.equal(bind.flags, PFC.FIRST_FRAG | PFC.LAST_FRAG)
  t.equal(bind.littleEndian, true)
  t.equal(bind.maxXmitFrag, 4280)
  t.equal(bind.maxRecvFrag, 4280)
  t.equal(bind.assocGroupId, 0)
  t.equal(bind.authLength, 0)
  t.equal(bind.auth, null)
  t.same(
    bind.contexts.map((context) => context.contextId),
    [0, 1, 2],
  )
  for (const context of bind.contexts) t.same(context.abstractSyntax, ATSVC_SYNTAX)
  t.same(bind.contexts[0].transferSyntaxes, [NDR20_SYNTAX])
  t.same(bind.contexts[1].transferSyntaxes, [NDR64_SYNTAX])
  const featureSyntax = bind.contexts[2].transferSyntaxes[0]
  t.same(featureSyntax, { uuid: '6cb71c2c-9812-4540-0300-000000000000', version: 1 })
  t.equal(bindTimeFeatures(featureSyntax), BIND_TIME_FEATURE.SECURITY_CONTEXT_MULTIPLEXING | BIND_TIME_FEATURE.KEEP_CONNECTION_ON_ORPHAN)
  t.equal(bindTimeFeatures(NDR20_SYNTAX), null)
  t.same(bindTimeFeatureSyntax(3), featureSyntax)
  t.same(encodeBind({ callId: bind.callId, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 0, contexts: bind.contexts }), bytes)
})

t.test('the Windows bind_ack decodes; our encoding differs only in the padding, which we zero', async (t) => {
  const bytes = hex(WINDOWS_ATSVC_BIND_ACK_HEX)
  t.equal(bytes.length, 0x74)
  const ack = expectKind(expectPdu(decodePdu(bytes), 'atsvc bind_ack'), 'bind_ack')
  t.equal(ack.callId, 2)
  t.equal(ack.maxXmitFrag, 4280)
  t.equal(ack.assocGroupId, 0x0ad8)
  t.equal(ack.secondaryAddress, '\\PIPE\\atsvc')
  t.same(ack.results, [
    { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED, transferSyntax: NULL_SYNTAX },
    { result: BIND_ACK_RESULT.ACCEPTANCE, reason: 0, transferSyntax: NDR64_SYNTAX },
    { result: BIND_ACK_RESULT.NEGOTIATE_ACK, reason: 3, transferSyntax: NULL_SYNTAX },
  ])
  const reencoded = encodeBindAck({ ...ack })
  const expected = Buffer.from(bytes)
  expected[38] = 0
  expected[39] = 0
  t.same(reencoded, expected)
})

t.test('captured request, response, co_cancel and orphaned decode and re-encode byte for byte', async (t) => {
  const requestBytes = hex(WINDOWS_SAMR_REQUEST_HEX)
  const request = expectKind(expectPdu(decodePdu(requestBytes), 'samr request'), 'request')
  t.match(request, { callId: 7, opnum: 7, contextId: 0, allocHint: 52, object: null, flags: 3 })
  t.equal(request.stub.length, 52)
  t.same(encodeRequest({ callId: 7, contextId: 0, opnum: 7, stub: request.stub }), requestBytes)

  const responseBytes = hex(WINDOWS_SAMR_RESPONSE_HEX)
  const response = expectKind(expectPdu(decodePdu(responseBytes), 'samr response'), 'response')
  t.match(response, { callId: 10, contextId: 0, allocHint: 36, cancelCount: 0 })
  t.same(encodeResponse({ callId: 10, contextId: 0, stub: response.stub }), responseBytes)

  const coCancel = expectPdu(decodePdu(hex(SAMBA_CO_CANCEL_HEX)), 'co_cancel')
  t.match(coCancel, { kind: 'co_cancel', callId: 1, flags: PFC.LAST_FRAG | PFC.PENDING_CANCEL, authLength: 0 })
  const orphaned = expectPdu(decodePdu(hex(SAMBA_ORPHANED_HEX)), 'orphaned')
  t.match(orphaned, { kind: 'orphaned', callId: 8, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG })
})

// --- Hand-written vectors ------------------------------------------------------------------------

// Our answer to a witness bind (ccd8c074-d0e5-4a40-92b4-d074faa6ba28 v1.1) offering NDR 2.0, NDR64
// and features 0x0003, on TCP port 49152, laid out from C706 by hand:
//  header: 05 00 0c 03, drep 10000000, frag_length, auth_length 0, call 1.
//  max_xmit = max_recv = 4280 = 0x10b8 → b810; assoc group 0x12345678 → 78563412. That ends at 24.
//  sec_addr "49152" and its NUL are 6 bytes → 0600 34 39 31 35 32 00, ending at 26 + 6 = 32, already 4-aligned.
//  n_results 3 and 3 reserved bytes end at 36; then three 24-byte results:
//  (0, 0, NDR 2.0 v2), (2, 2, zeros), (3, 3 & supported 2 = 2, zeros). Total 36 + 72 = 108 = 0x6c.
const WITNESS_BIND_ACK_HEX = [
  '05 00 0c 03 10000000 6c00 0000 01000000',
  'b810 b810 78563412',
  '0600 343931353200',
  '03 000000',
  '0000 0000 045d888aeb1cc9119fe808002b104860 02000000',
  '0200 0200 00000000000000000000000000000000 00000000',
  '0300 0200 00000000000000000000000000000000 00000000',
].join(' ')

t.test('a bind_ack built by hand from the C706 layout, with the BTFN answer', async (t) => {
  t.equal(SUPPORTED_BIND_TIME_FEATURES, BIND_TIME_FEATURE.KEEP_CONNECTION_ON_ORPHAN)
  t.equal(bindTimeFeatureAnswer(3), 2)
  t.equal(bindTimeFeatureAnswer(1), 0)
  const encoded = encodeBindAck({
    callId: 1,
    maxXmitFrag: 4280,
    maxRecvFrag: 4280,
    assocGroupId: 0x12345678,
    secondaryAddress: '49152',
    results: [
      { result: BIND_ACK_RESULT.ACCEPTANCE, reason: 0, transferSyntax: NDR20_SYNTAX },
      { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED, transferSyntax: NULL_SYNTAX },
      { result: BIND_ACK_RESULT.NEGOTIATE_ACK, reason: bindTimeFeatureAnswer(3), transferSyntax: NULL_SYNTAX },
    ],
  })
  t.equal(encoded.toString('hex'), hex(WITNESS_BIND_ACK_HEX).toString('hex'))
})

t.test('sec_addr alignment: every address length pads the result list to a 4-byte boundary', async (t) => {
  // Offset of n_results = align4(26 + length), where length counts the NUL and '' has length 0.
  const cases: [string, number][] = [
    ['', 28],
    ['1', 28],
    ['13', 32],
    ['135', 32],
    ['1351', 32],
    ['13512', 32],
    ['135123', 36],
  ]
  for (const [address, resultListOffset] of cases) {
    const encoded = encodeBindAck({ callId: 9, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 1, secondaryAddress: address, results: [] })
    t.equal(encoded.length, resultListOffset + 4, `address ${JSON.stringify(address)}`)
    t.equal(encoded.readUInt16LE(24), address === '' ? 0 : address.length + 1)
    const ack = expectKind(expectPdu(decodePdu(encoded), address), 'bind_ack')
    t.equal(ack.secondaryAddress, address)
  }
})

t.test('fault and bind_nak vectors, byte for byte', async (t) => {
  // Fault: FIRST|LAST|DID_NOT_EXECUTE = 0x23, frag 32, call 5, alloc_hint 24, context 1,
  // cancel 0, flags 0, status nca_s_op_rng_error 0x1c010002 → 02 00 01 1c, reserved 0.
  const fault = encodeFault({ callId: 5, contextId: 1, status: FAULT.OP_RNG_ERROR, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE })
  t.equal(fault.toString('hex'), hex('05 00 03 23 10000000 2000 0000 05000000 18000000 0100 00 00 0200011c 00000000').toString('hex'))
  t.equal(fault.length, DCERPC_FAULT_BYTES)
  // bind_nak as Samba sends it: reason u16, one version 5.0, three zero bytes: 24 bytes in all.
  const nak = encodeBindNak({ callId: 3, reason: BIND_NAK_REASON.PROTOCOL_VERSION_NOT_SUPPORTED })
  t.equal(nak.toString('hex'), hex('05 00 0d 03 10000000 1800 0000 03000000 0400 01 0500 000000').toString('hex'))
})

t.test('constants carry the values of C706, MS-RPCE, Samba and Wireshark', async (t) => {
  t.equal(DCERPC_HEADER_BYTES, 16)
  t.same(PTYPE, { REQUEST: 0, RESPONSE: 2, FAULT: 3, BIND: 11, BIND_ACK: 12, BIND_NAK: 13, ALTER_CONTEXT: 14, ALTER_CONTEXT_RESP: 15, AUTH3: 16, SHUTDOWN: 17, CO_CANCEL: 18, ORPHANED: 19 })
  t.same(PFC, { FIRST_FRAG: 1, LAST_FRAG: 2, PENDING_CANCEL: 4, CONC_MPX: 0x10, DID_NOT_EXECUTE: 0x20, MAYBE: 0x40, OBJECT_UUID: 0x80 })
  t.match(FAULT, { OP_RNG_ERROR: 0x1c010002, UNKNOWN_IF: 0x1c010003, PROTO_ERROR: 0x1c01000b, NDR: 0x6f7, CANT_PERFORM: 0x6d8, REMOTE_NO_MEMORY: 0x1c00001b, ACCESS_DENIED: 5 })
  t.match(BIND_NAK_REASON, { NOT_SPECIFIED: 0, TEMPORARY_CONGESTION: 1, LOCAL_LIMIT_EXCEEDED: 2, PROTOCOL_VERSION_NOT_SUPPORTED: 4 })
  t.equal(BIND_TIME_FEATURE_UUID_PREFIX, '6cb71c2c-9812-4540-')
  t.same(uuidToNdrBytes(NDR20_SYNTAX.uuid), hex('045d888aeb1cc9119fe808002b104860'))
  t.equal(uuidFromNdrBytes(hex('045d888aeb1cc9119fe808002b104860'), 0, true), NDR20_SYNTAX.uuid)
  t.equal(uuidFromNdrBytes(hex('8a885d041ceb11c99fe808002b104860'), 0, false), NDR20_SYNTAX.uuid)
  t.equal(syntaxVersion(1, 1), 0x00010001)
  t.same(syntaxVersionParts(0x00030002), { major: 2, minor: 3 })
  t.ok(sameSyntax({ uuid: NDR20_SYNTAX.uuid.toUpperCase(), version: 2 }, NDR20_SYNTAX))
  t.equal(bindTimeFeatures({ uuid: '6cb71c2c-9812-4540-0300-000000000000', version: 2 }), null, 'the feature syntax is version 1.0')
})

// --- Round trips ---------------------------------------------------------------------------------

const WITNESS_SYNTAX: SyntaxId = { uuid: 'ccd8c074-d0e5-4a40-92b4-d074faa6ba28', version: syntaxVersion(1, 1) }

t.test('every encoder round-trips through decodePdu', async (t) => {
  const contexts: PresentationContext[] = [
    { contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] },
    { contextId: 1, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR64_SYNTAX] },
    { contextId: 2, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [bindTimeFeatureSyntax(3)] },
  ]
  const bindParams = { callId: 1, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 0, contexts }
  for (const [ptype, kind] of [
    [PTYPE.BIND, 'bind'],
    [PTYPE.ALTER_CONTEXT, 'alter_context'],
  ] as const) {
    const bind = expectPdu(decodePdu(encodeBind(bindParams, ptype)), kind) as BindPdu
    t.match(bind, { kind, callId: 1, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 0, flags: 3 })
    t.same(bind.contexts, contexts)
  }
  const ackParams = {
    callId: 1,
    maxXmitFrag: 4280,
    maxRecvFrag: 4280,
    assocGroupId: 0xabcdef,
    secondaryAddress: '49667',
    results: [
      { result: BIND_ACK_RESULT.ACCEPTANCE, reason: 0, transferSyntax: NDR20_SYNTAX },
      { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.ABSTRACT_SYNTAX_NOT_SUPPORTED, transferSyntax: NULL_SYNTAX },
    ],
  }
  for (const [ptype, kind] of [
    [PTYPE.BIND_ACK, 'bind_ack'],
    [PTYPE.ALTER_CONTEXT_RESP, 'alter_context_resp'],
  ] as const) {
    const ack = expectPdu(decodePdu(encodeBindAck(ackParams, ptype)), kind) as BindAckPdu
    t.match(ack, { kind, callId: 1, maxXmitFrag: 4280, assocGroupId: 0xabcdef, secondaryAddress: '49667' })
    t.same(ack.results, ackParams.results)
  }
  const nak = expectKind(expectPdu(decodePdu(encodeBindNak({ callId: 4, reason: 2, versions: [{ major: 5, minor: 0 }, { major: 5, minor: 1 }] })), 'bind_nak'), 'bind_nak')
  t.same({ rejectReason: nak.rejectReason, versions: nak.versions }, { rejectReason: 2, versions: [{ major: 5, minor: 0 }, { major: 5, minor: 1 }] })

  const stub = Buffer.from('0123456789abcdef0123', 'latin1')
  const plain = expectKind(expectPdu(decodePdu(encodeRequest({ callId: 7, contextId: 2, opnum: 3, stub })), 'request'), 'request')
  t.match(plain, { callId: 7, contextId: 2, opnum: 3, allocHint: 20, object: null, flags: 3 })
  t.same(plain.stub, stub)
  const object = 'e1af8308-5d1f-11c9-91a4-08002b14a0fa'
  const withObject = expectKind(expectPdu(decodePdu(encodeRequest({ callId: 8, contextId: 0, opnum: 1, stub, object, flags: PFC.FIRST_FRAG })), 'request with object'), 'request')
  t.match(withObject, { object, flags: PFC.FIRST_FRAG | PFC.OBJECT_UUID })
  t.same(withObject.stub, stub)

  const response = expectKind(expectPdu(decodePdu(encodeResponse({ callId: 9, contextId: 1, stub, cancelCount: 2, allocHint: 99, flags: PFC.LAST_FRAG })), 'response'), 'response')
  t.match(response, { callId: 9, contextId: 1, cancelCount: 2, allocHint: 99, flags: PFC.LAST_FRAG })
  t.same(response.stub, stub)

  const fault = expectKind(expectPdu(decodePdu(encodeFault({ callId: 10, contextId: 3, status: FAULT.NDR })), 'fault'), 'fault')
  t.match(fault, { callId: 10, contextId: 3, status: FAULT.NDR, allocHint: 24, faultFlags: 0, cancelCount: 0 })
  t.equal(fault.stub.length, 0)
})

t.test('encoders treat values the wire cannot carry as programming errors', async (t) => {
  const base = { callId: 1, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 0 }
  t.throws(() => encodeBind({ ...base, contexts: [{ contextId: 0, abstractSyntax: { uuid: 'not-a-uuid', version: 1 }, transferSyntaxes: [] }] }), RangeError)
  t.throws(() => encodeBind({ ...base, contexts: [{ contextId: 0x10000, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [] }] }), RangeError)
  t.throws(() => encodeBind({ ...base, contexts: Array.from({ length: 256 }, (_, contextId) => ({ contextId, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [] })) }), RangeError)
  t.throws(() => encodeBind(base as never, PTYPE.BIND_ACK as never), RangeError)
  t.throws(() => encodeBindAck({ ...base, secondaryAddress: 'pipe\\é', results: [] }), RangeError, 'a non-ASCII address')
  t.throws(() => encodeBindAck({ ...base, secondaryAddress: 'a\0b', results: [] }), RangeError, 'an address with a NUL')
  t.throws(() => encodeBindAck({ ...base, secondaryAddress: '', results: [{ result: 0x10000, reason: 0, transferSyntax: NDR20_SYNTAX }] }), RangeError)
  t.throws(() => encodeBindAck({ ...base, secondaryAddress: '', results: [] }, PTYPE.BIND as never), RangeError)
  t.throws(() => encodeResponse({ callId: 1, contextId: 0, stub: Buffer.alloc(0xffff) }), RangeError, 'a PDU longer than frag_length can say')
  t.throws(() => encodeRequest({ callId: -1, contextId: 0, opnum: 0, stub: Buffer.alloc(0) }), RangeError)
  t.throws(() => encodeFault({ callId: 1, contextId: 0, status: 2 ** 32 }), RangeError)
  t.throws(() => encodeBindNak({ callId: 1, reason: 0, versions: [{ major: 256, minor: 0 }] }), RangeError)
  t.throws(() => bindTimeFeatureSyntax(0x10000), RangeError)
  t.throws(() => syntaxVersionParts(-1), RangeError)
})

const syntaxArbitrary: fc.Arbitrary<SyntaxId> = fc.record({ uuid: fc.uuid(), version: fc.nat({ max: 0xffffffff }) }).map((syntax) => ({ ...syntax, uuid: syntax.uuid.toLowerCase() }))

t.test('random binds, bind_acks and requests round-trip (property)', async (t) => {
  let runs = 0
  const contextArbitrary: fc.Arbitrary<PresentationContext> = fc.record({
    contextId: fc.nat({ max: 0xffff }),
    abstractSyntax: syntaxArbitrary,
    transferSyntaxes: fc.array(syntaxArbitrary, { maxLength: 4 }),
  })
  fc.assert(
    fc.property(fc.array(contextArbitrary, { maxLength: 8 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffff }), (contexts, callId, maxFrag) => {
      runs++
      const result = decodePdu(encodeBind({ callId, maxXmitFrag: maxFrag, maxRecvFrag: maxFrag, assocGroupId: callId, contexts }))
      return result.ok && result.pdu.kind === 'bind' && result.pdu.callId === callId && JSON.stringify(result.pdu.contexts) === JSON.stringify(contexts)
    }),
    { numRuns: 500 },
  )
  const resultArbitrary = fc.record({ result: fc.nat({ max: 3 }), reason: fc.nat({ max: 0xffff }), transferSyntax: syntaxArbitrary })
  fc.assert(
    fc.property(fc.array(resultArbitrary, { maxLength: 8 }), fc.stringMatching(/^[0-9A-Za-z\\$]{0,20}$/), (results, secondaryAddress) => {
      runs++
      const encoded = encodeBindAck({ callId: 1, maxXmitFrag: 1, maxRecvFrag: 2, assocGroupId: 3, secondaryAddress, results })
      const result = decodePdu(encoded)
      return result.ok && result.pdu.kind === 'bind_ack' && result.pdu.secondaryAddress === secondaryAddress && JSON.stringify(result.pdu.results) === JSON.stringify(results)
    }),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.option(fc.uuid(), { nil: null }), fc.nat({ max: 0xffff }), (stub, object, opnum) => {
      runs++
      const result = decodePdu(encodeRequest({ callId: 1, contextId: 0, opnum, stub, object }))
      return result.ok && result.pdu.kind === 'request' && result.pdu.opnum === opnum && result.pdu.stub.equals(stub) && result.pdu.object === (object === null ? null : object.toLowerCase())
    }),
    { numRuns: 500 },
  )
  t.equal(runs, 1500)
})

// --- Framing -------------------------------------------------------------------------------------

t.test('peekFragLength frames the stream and rejects impossible lengths before anything is buffered', async (t) => {
  const header = (fragLength: number, drep0 = 0x10): Buffer => {
    const bytes = Buffer.from(encodeRequest({ callId: 1, contextId: 0, opnum: 0, stub: Buffer.alloc(0) }))
    bytes[4] = drep0
    if (drep0 >> 4 === 1) bytes.writeUInt16LE(fragLength, 8)
    else bytes.writeUInt16BE(fragLength, 8)
    return bytes
  }
  // frag_length is a u16, so the largest lie is 65535: refused against any smaller limit.
  const huge = peekFragLength(header(0xffff), 5840)
  t.ok(!huge.ok && 'error' in huge && huge.error.code === 'bad_frag_length')
  t.same(peekFragLength(header(0xffff), 0xffff), { ok: true, fragLength: 0xffff })
  t.same(peekFragLength(header(5840), 5840), { ok: true, fragLength: 5840 })
  for (const short of [0, 1, 15]) {
    const result = peekFragLength(header(short), 5840)
    t.ok(!result.ok && 'error' in result && result.error.code === 'bad_frag_length', `frag_length ${short}`)
  }
  // A big-endian peer's frag_length is read big-endian.
  t.same(peekFragLength(header(0x0102, 0x00), 5840), { ok: true, fragLength: 0x0102 })
  // Prefixes shorter than the frag_length field ask for more bytes; a bad drep is refused as soon as it is seen.
  const full = header(24)
  for (let length = 0; length < 10; length++) {
    t.same(peekFragLength(full.subarray(0, length), 5840), { ok: false, needBytes: 10 }, `prefix of ${length} bytes`)
  }
  const badDrep = peekFragLength(header(24, 0x20).subarray(0, 5), 5840)
  t.ok(!badDrep.ok && 'error' in badDrep && badDrep.error instanceof DcerpcDecodeError && badDrep.error.code === 'unsupported_drep')
  t.throws(() => peekFragLength(full, 15), RangeError, 'a limit below the header size is a programming error')
  t.throws(() => peekFragLength(full, 65536), RangeError)
})

t.test('decodePdu refuses a header truncated at every length from 0 to 15', async (t) => {
  const full = encodeRequest({ callId: 77, contextId: 0, opnum: 0, stub: Buffer.alloc(8) })
  for (let length = 0; length < DCERPC_HEADER_BYTES; length++) {
    const error = expectError(decodePdu(full.subarray(0, length)))
    t.equal(error.code, 'truncated_header', `${length} bytes`)
    t.equal(error.callId, null)
  }
  // From 16 bytes on the call id is known, and the length mismatch is reported with it.
  for (let length = DCERPC_HEADER_BYTES; length < full.length; length++) {
    const result = decodePdu(full.subarray(0, length))
    t.equal(expectError(result).code, 'bad_frag_length')
    t.equal(!result.ok && result.callId, 77)
  }
  t.equal(expectError(decodePdu(Buffer.concat([full, Buffer.alloc(1)]))).code, 'bad_frag_length', 'trailing bytes are refused too')
})

t.test('the data representation: big-endian is honoured, EBCDIC, VAX floats and unknown integer formats are refused', async (t) => {
  // A big-endian request built by hand: drep 00 00 00 00, frag_length 0x0020 = 32 → 00 20,
  // call 0x01020304, alloc_hint 8, context 1, opnum 2 → 00 01 00 02, then 8 stub bytes.
  const bigEndian = hex('05 00 00 03 00000000 0020 0000 01020304 00000008 0001 0002 1122334455667788')
  const request = expectKind(expectPdu(decodePdu(bigEndian), 'big-endian request'), 'request')
  t.match(request, { littleEndian: false, callId: 0x01020304, allocHint: 8, contextId: 1, opnum: 2 })
  t.same(request.stub, hex('1122334455667788'))
  // A big-endian bind: the UUID's integer fields are big-endian too.
  const littleBind = encodeBind({ callId: 0x0a0b0c0d, maxXmitFrag: 4280, maxRecvFrag: 5840, assocGroupId: 0x11223344, contexts: [{ contextId: 0x0102, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }] })
  const bigBind = Buffer.from(littleBind)
  bigBind[4] = 0x00
  bigBind.writeUInt16BE(littleBind.length, 8)
  bigBind.writeUInt32BE(0x0a0b0c0d, 12)
  bigBind.writeUInt16BE(4280, 16)
  bigBind.writeUInt16BE(5840, 18)
  bigBind.writeUInt32BE(0x11223344, 20)
  bigBind.writeUInt16BE(0x0102, 28)
  for (const [offset, syntax] of [
    [32, WITNESS_SYNTAX],
    [52, NDR20_SYNTAX],
  ] as const) {
    const swapped = uuidToNdrBytes(syntax.uuid)
    swapped.subarray(0, 4).reverse()
    swapped.subarray(4, 6).reverse()
    swapped.subarray(6, 8).reverse()
    swapped.copy(bigBind, offset)
    bigBind.writeUInt32BE(syntax.version, offset + 16)
  }
  const bind = expectKind(expectPdu(decodePdu(bigBind), 'big-endian bind'), 'bind')
  t.match(bind, { littleEndian: false, callId: 0x0a0b0c0d, maxXmitFrag: 4280, maxRecvFrag: 5840, assocGroupId: 0x11223344 })
  t.same(bind.contexts, [{ contextId: 0x0102, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }])

  const withDrep = (drep0: number, drep1: number): Buffer => {
    const bytes = Buffer.from(encodeRequest({ callId: 5, contextId: 0, opnum: 0, stub: Buffer.alloc(0) }))
    bytes[4] = drep0
    bytes[5] = drep1
    return bytes
  }
  const ebcdic = expectError(decodePdu(withDrep(0x11, 0)))
  t.match(ebcdic, { code: 'unsupported_drep', callId: 5, ptype: PTYPE.REQUEST })
  t.match(expectError(decodePdu(withDrep(0x10, 1))), { code: 'unsupported_drep', callId: 5 }, 'VAX floating point')
  t.match(expectError(decodePdu(withDrep(0x20, 0))), { code: 'unsupported_drep', callId: null }, 'no byte order, so no call id')
})

t.test('versions and PDU types: 5.0 and 5.1 are accepted, others are refused with the call id for a bind_nak', async (t) => {
  const bind = encodeBind({ callId: 12, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 0, contexts: [] })
  const minorOne = Buffer.from(bind)
  minorOne[1] = 1
  t.equal(expectPdu(decodePdu(minorOne), '5.1 bind').kind, 'bind')
  for (const [major, minor] of [
    [4, 0],
    [5, 2],
    [6, 0],
  ]) {
    const other = Buffer.from(bind)
    other[0] = major
    other[1] = minor
    t.match(expectError(decodePdu(other)), { code: 'unsupported_version', callId: 12, ptype: PTYPE.BIND }, `${major}.${minor}`)
  }
  for (const ptype of [1, 4, 5, 6, 7, 8, 9, 10, 20, 255]) {
    const other = Buffer.from(bind)
    other[2] = ptype
    t.match(expectError(decodePdu(other)), { code: 'unknown_ptype', ptype }, `ptype ${ptype}`)
  }
  t.match(expectPdu(decodePdu(hex('05 00 11 03 10000000 1000 0000 09000000')), 'shutdown'), { kind: 'shutdown', callId: 9 })
  t.match(expectError(decodePdu('not bytes' as unknown as Uint8Array)), { code: 'not_bytes' })
})

// --- Lying counts and lengths --------------------------------------------------------------------

t.test('counts that lie are refused before they are used', async (t) => {
  // n_context_elem 255 in a bind that holds one element.
  const bind = encodeBind({ callId: 3, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 0, contexts: [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }] })
  const manyContexts = Buffer.from(bind)
  manyContexts[24] = 255
  t.match(expectError(decodePdu(manyContexts)), { code: 'malformed_body', callId: 3, ptype: PTYPE.BIND })
  // Two contexts claimed where one fits: the second element is truncated.
  const twoContexts = Buffer.from(bind)
  twoContexts[24] = 2
  t.match(expectError(decodePdu(twoContexts)), { code: 'malformed_body' })
  // n_transfer_syn 200 in the one element.
  const manySyntaxes = Buffer.from(bind)
  manySyntaxes[30] = 200
  t.match(expectError(decodePdu(manySyntaxes)), { code: 'malformed_body' })
  // A bind too short for its fixed fields.
  const shortBind = bind.subarray(0, 26)
  const shortBindFixed = Buffer.from(shortBind)
  shortBindFixed.writeUInt16LE(shortBind.length, 8)
  t.match(expectError(decodePdu(shortBindFixed)), { code: 'malformed_body' })

  const ack = encodeBindAck({ callId: 4, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 1, secondaryAddress: '135', results: [{ result: 0, reason: 0, transferSyntax: NDR20_SYNTAX }] })
  const longAddress = Buffer.from(ack)
  longAddress.writeUInt16LE(0xffff, 24)
  t.match(expectError(decodePdu(longAddress)), { code: 'malformed_body', callId: 4 })
  const manyResults = Buffer.from(ack)
  manyResults[32] = 255
  t.match(expectError(decodePdu(manyResults)), { code: 'malformed_body' })

  const nak = encodeBindNak({ callId: 6, reason: 0 })
  const manyVersions = Buffer.from(nak)
  manyVersions[18] = 200
  t.match(expectError(decodePdu(manyVersions)), { code: 'malformed_body' })

  // A request flagged with an object UUID but too short to carry one.
  const shortObject = Buffer.from(encodeRequest({ callId: 2, contextId: 0, opnum: 0, stub: Buffer.alloc(8) }))
  shortObject[3] |= PFC.OBJECT_UUID
  t.match(expectError(decodePdu(shortObject)), { code: 'malformed_body', callId: 2 })
  // Response and fault bodies shorter than their fixed parts.
  const shortFault = Buffer.from(encodeFault({ callId: 1, contextId: 0, status: 1 }).subarray(0, 28))
  shortFault.writeUInt16LE(28, 8)
  t.match(expectError(decodePdu(shortFault)), { code: 'malformed_body' })
})

t.test('auth_length and auth_pad_length are checked against the PDU', async (t) => {
  // A request with a real trailer: 8 stub bytes, 8 bytes of auth padding, sec_trailer, 16 bytes of credentials.
  const stub = Buffer.alloc(8, 0xaa)
  const pad = Buffer.alloc(8)
  const trailer = hex('0a 06 08 00 78563412') // NTLMSSP, privacy, pad 8, reserved, context 0x12345678
  const credentials = Buffer.alloc(16, 0xcc)
  const body = Buffer.concat([encodeRequest({ callId: 21, contextId: 0, opnum: 3, stub }), pad, trailer, credentials])
  body.writeUInt16LE(body.length, 8)
  body.writeUInt16LE(credentials.length, 10)
  const request = expectKind(expectPdu(decodePdu(body), 'request with auth'), 'request')
  t.same(request.stub, stub)
  t.equal(request.authLength, 16)
  t.same(request.auth, { authType: 10, authLevel: 6, authPadLength: 8, authContextId: 0x12345678, credentials })

  // auth_length larger than the whole PDU, and just too large to leave room for the header.
  for (const authLength of [0xffff, body.length, body.length - DCERPC_HEADER_BYTES - 8 + 1]) {
    const lying = Buffer.from(body)
    lying.writeUInt16LE(authLength, 10)
    t.match(expectError(decodePdu(lying)), { code: 'bad_auth_trailer', callId: 21 }, `auth_length ${authLength}`)
  }
  // auth_length that leaves the header but eats into the request's fixed fields.
  const intoFixed = Buffer.from(body)
  intoFixed.writeUInt16LE(body.length - 20 - 8, 10)
  t.match(expectError(decodePdu(intoFixed)), { code: 'malformed_body' })
  // auth_pad_length larger than the stub in front of it.
  const padLie = Buffer.from(body)
  padLie[body.length - credentials.length - 8 + 2] = 255
  t.match(expectError(decodePdu(padLie)), { code: 'bad_auth_trailer' })

  // auth3 and a bind with an auth trailer decode (so the server can refuse or ignore them).
  const auth3 = Buffer.concat([hex('05 00 10 03 10000000 0000 0000 02000000 00000000'), hex('0a 02 00 00 00000000'), Buffer.alloc(4, 1)])
  auth3.writeUInt16LE(auth3.length, 8)
  auth3.writeUInt16LE(4, 10)
  t.match(expectPdu(decodePdu(auth3), 'auth3'), { kind: 'auth3', callId: 2, auth: { authType: 10, authLevel: 2 } })
})

// --- Fragmentation and reassembly ----------------------------------------------------------------

t.test('fragmentResponse of a 5000-byte stub at max_xmit_frag 4280 gives two fragments that reassemble', async (t) => {
  const stub = Buffer.from(Array.from({ length: 5000 }, (_, index) => (index * 7) & 0xff))
  const fragments = fragmentResponse(stub, 4280, { callId: 33, contextId: 1 })
  t.equal(fragments.length, 2)
  // (4280 − 24) rounded down to a multiple of 8 is 4256 stub bytes in the first fragment, 744 in the second.
  t.same(
    fragments.map((fragment) => fragment.length),
    [4280, 24 + 744],
  )
  const decoded = fragments.map((fragment, index) => expectKind(expectPdu(decodePdu(fragment), `fragment ${index}`), 'response'))
  t.same(
    decoded.map((pdu) => pdu.flags),
    [PFC.FIRST_FRAG, PFC.LAST_FRAG],
  )
  t.same(
    decoded.map((pdu) => pdu.allocHint),
    [5000, 744],
  )
  t.same(
    decoded.map((pdu) => pdu.stub.length),
    [4256, 744],
  )
  for (const pdu of decoded) t.match(pdu, { callId: 33, contextId: 1 })
  t.same(Buffer.concat(decoded.map((pdu) => pdu.stub)), stub)

  const empty = fragmentResponse(Buffer.alloc(0), 4280, { callId: 1, contextId: 0 })
  t.equal(empty.length, 1)
  t.match(expectPdu(decodePdu(empty[0]), 'empty'), { kind: 'response', flags: PFC.FIRST_FRAG | PFC.LAST_FRAG, allocHint: 0 })
  t.equal(fragmentResponse(Buffer.alloc(4256), 4280, { callId: 1, contextId: 0 }).length, 1, 'an exact fit is one fragment')
  t.throws(() => fragmentResponse(stub, 31, { callId: 1, contextId: 0 }), RangeError)
})

t.test('fragmentResponse keeps every fragment within max_xmit_frag and 8-byte aligned (property)', async (t) => {
  let runs = 0
  fc.assert(
    fc.property(fc.nat({ max: 20000 }), fc.integer({ min: 32, max: 0xffff }), (stubLength, maxXmitFrag) => {
      runs++
      const stub = Buffer.alloc(stubLength, 0x5a)
      const fragments = fragmentResponse(stub, maxXmitFrag, { callId: 1, contextId: 0 })
      const decoded = fragments.map((fragment) => decodePdu(fragment))
      if (!decoded.every((result) => result.ok && result.pdu.kind === 'response')) return false
      const pdus = decoded.map((result) => (result as { ok: true; pdu: Extract<Pdu, { kind: 'response' }> }).pdu)
      return (
        fragments.every((fragment) => fragment.length <= maxXmitFrag) &&
        pdus.every((pdu, index) => (index === pdus.length - 1 ? true : pdu.stub.length % 8 === 0 && pdu.stub.length > 0)) &&
        pdus.every((pdu, index) => ((pdu.flags & PFC.FIRST_FRAG) !== 0) === (index === 0) && ((pdu.flags & PFC.LAST_FRAG) !== 0) === (index === pdus.length - 1)) &&
        Buffer.concat(pdus.map((pdu) => pdu.stub)).equals(stub)
      )
    }),
    { numRuns: 300 },
  )
  t.equal(runs, 300)
})

/** A decoded request fragment, as the assembler receives it. */
function requestFragment(callId: number, flags: number, stub: Buffer, overrides: { opnum?: number; contextId?: number; allocHint?: number } = {}): RequestPdu {
  const encoded = encodeRequest({ callId, contextId: overrides.contextId ?? 0, opnum: overrides.opnum ?? 1, stub, flags, allocHint: overrides.allocHint })
  return expectKind(expectPdu(decodePdu(encoded), 'fragment'), 'request')
}

t.test('the assembler reassembles fragments and copies what it keeps', async (t) => {
  const assembler = new FragmentAssembler({ maxStubBytes: 1000, maxCallsInAssembly: 2 })
  const single = requestFragment(1, PFC.FIRST_FRAG | PFC.LAST_FRAG, Buffer.from('whole'))
  const whole = assembler.add(single)
  t.equal(whole.kind, 'complete')
  t.equal(whole.kind === 'complete' && whole.request, single, 'a single fragment passes through untouched')

  const parts = [Buffer.alloc(16, 1), Buffer.alloc(16, 2), Buffer.alloc(5, 3)]
  const first = requestFragment(2, PFC.FIRST_FRAG, parts[0], { allocHint: 37 })
  t.same(assembler.add(first), { kind: 'pending' })
  first.stub.fill(0xee) // the framer reusing its buffer must not corrupt the call
  t.same(assembler.add(requestFragment(2, 0, parts[1])), { kind: 'pending' })
  t.equal(assembler.callsInAssembly, 1)
  const done = assembler.add(requestFragment(2, PFC.LAST_FRAG, parts[2]))
  if (done.kind !== 'complete') throw new Error(`expected completion, got ${JSON.stringify(done)}`)
  t.same(done.request.stub, Buffer.concat(parts))
  t.match(done.request, { callId: 2, opnum: 1, contextId: 0, allocHint: 37, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG })
  t.equal(assembler.callsInAssembly, 0)
  t.equal(assembler.bufferedBytes, 0)
})

t.test('the assembler refuses out-of-order, mismatched and oversized fragments', async (t) => {
  const assembler = new FragmentAssembler({ maxStubBytes: 64, maxCallsInAssembly: 2 })
  t.match(assembler.add(requestFragment(5, PFC.LAST_FRAG, Buffer.alloc(4))), { kind: 'error', callId: 5, status: FAULT.PROTO_ERROR })
  t.match(assembler.add(requestFragment(5, 0, Buffer.alloc(4))), { kind: 'error', status: FAULT.PROTO_ERROR }, 'a middle fragment of an unknown call')

  t.same(assembler.add(requestFragment(6, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
  t.match(assembler.add(requestFragment(6, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'error', status: FAULT.PROTO_ERROR }, 'a second first fragment')
  t.notOk(assembler.has(6), 'the refused call is dropped')

  for (const [what, overrides] of [
    ['opnum', { opnum: 2 }],
    ['context id', { contextId: 1 }],
  ] as const) {
    t.same(assembler.add(requestFragment(7, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
    const result = assembler.add(requestFragment(7, PFC.LAST_FRAG, Buffer.alloc(8), overrides))
    t.match(result, { kind: 'error', callId: 7, contextId: 0, status: FAULT.PROTO_ERROR }, `a different ${what}`)
    t.notOk(assembler.has(7))
  }

  // The total is bounded: 40 + 32 > 64.
  t.same(assembler.add(requestFragment(8, PFC.FIRST_FRAG, Buffer.alloc(40))), { kind: 'pending' })
  t.match(assembler.add(requestFragment(8, PFC.LAST_FRAG, Buffer.alloc(32))), { kind: 'error', status: FAULT.ACCESS_DENIED })
  t.notOk(assembler.has(8))
  t.match(assembler.add(requestFragment(9, PFC.FIRST_FRAG | PFC.LAST_FRAG, Buffer.alloc(65))), { kind: 'error', status: FAULT.ACCESS_DENIED }, 'a single fragment over the limit')
  t.equal(assembler.bufferedBytes, 0)
})

t.test('the assembler refuses a continuation in another data representation or for another object', async (t) => {
  const assembler = new FragmentAssembler({ maxStubBytes: 1000, maxCallsInAssembly: 1 })
  t.same(assembler.add(requestFragment(1, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
  const bigEndian = { ...requestFragment(1, PFC.LAST_FRAG, Buffer.alloc(8)), littleEndian: false }
  t.match(assembler.add(bigEndian), { kind: 'error', status: FAULT.PROTO_ERROR, reason: /data representation/ })
  const object = 'e1af8308-5d1f-11c9-91a4-08002b14a0fa'
  t.same(assembler.add(requestFragment(2, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
  const otherObject = { ...requestFragment(2, PFC.LAST_FRAG, Buffer.alloc(8)), object }
  t.match(assembler.add(otherObject), { kind: 'error', status: FAULT.PROTO_ERROR, reason: /object UUID/ })
  t.equal(assembler.callsInAssembly, 0)
})

t.test('a lying alloc_hint makes nothing preallocate, and the number of calls in assembly is bounded', async (t) => {
  const assembler = new FragmentAssembler({ maxStubBytes: DEFAULT_MAX_REQUEST_STUB_BYTES, maxCallsInAssembly: 2 })
  // 4 MiB announced, 8 bytes sent: only the 8 bytes are held.
  t.same(assembler.add(requestFragment(1, PFC.FIRST_FRAG, Buffer.alloc(8), { allocHint: DEFAULT_MAX_REQUEST_STUB_BYTES })), { kind: 'pending' })
  t.equal(assembler.bufferedBytes, 8)
  // More than the limit announced on a first fragment: refused at once, as Samba does.
  t.match(assembler.add(requestFragment(2, PFC.FIRST_FRAG, Buffer.alloc(8), { allocHint: 0xffffffff })), { kind: 'error', status: FAULT.ACCESS_DENIED })
  t.same(assembler.add(requestFragment(3, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
  t.match(assembler.add(requestFragment(4, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'error', callId: 4, status: FAULT.PROTO_ERROR }, 'a third call in assembly')
  t.ok(assembler.add(requestFragment(5, PFC.FIRST_FRAG | PFC.LAST_FRAG, Buffer.alloc(8))).kind === 'complete', 'an unfragmented call needs no slot')
  t.ok(assembler.drop(3), 'co_cancel or orphaned frees the slot')
  t.notOk(assembler.drop(3))
  t.same(assembler.add(requestFragment(4, PFC.FIRST_FRAG, Buffer.alloc(8))), { kind: 'pending' })
  t.equal(assembler.callsInAssembly, 2)
  t.equal(assembler.bufferedBytes, 16)

  // Many one-byte fragments: the buffer grows by doubling, so what is held stays within twice what was sent.
  const small = new FragmentAssembler({ maxStubBytes: 10000, maxCallsInAssembly: 1 })
  small.add(requestFragment(1, PFC.FIRST_FRAG, Buffer.alloc(1)))
  for (let index = 1; index < 5000; index++) small.add(requestFragment(1, 0, Buffer.alloc(1, index & 0xff)))
  t.ok(small.bufferedBytes <= 2 * 5000, `held ${small.bufferedBytes} bytes for 5000 received`)
  const last = small.add(requestFragment(1, PFC.LAST_FRAG, Buffer.alloc(1)))
  t.ok(last.kind === 'complete' && last.request.stub.length === 5001)
  small.clear()
  t.equal(small.bufferedBytes, 0)

  t.throws(() => new FragmentAssembler({ maxStubBytes: -1, maxCallsInAssembly: 1 }), RangeError)
  t.throws(() => new FragmentAssembler({ maxStubBytes: 1, maxCallsInAssembly: 0 }), RangeError)
})

// --- Fuzzing -------------------------------------------------------------------------------------

/** The decoder's verdict holds: a refusal is a one-line DcerpcDecodeError, and a PDU stays within the input. */
function verdictHolds(bytes: Uint8Array): boolean {
  const result = decodePdu(bytes)
  if (!result.ok) {
    return result.error instanceof DcerpcDecodeError && result.error.message.length > 0 && !/[\r\n]/.test(result.error.message) && result.callId === result.error.callId
  }
  const pdu = result.pdu
  if (bytes.length < DCERPC_HEADER_BYTES || pdu.authLength > bytes.length) return false
  switch (pdu.kind) {
    case 'request':
    case 'response':
    case 'fault':
      return pdu.stub.length <= bytes.length - 24 && pdu.stub.buffer === (bytes as Buffer).buffer
    case 'bind':
    case 'alter_context':
      return pdu.contexts.length <= 255 && pdu.contexts.reduce((sum, context) => sum + 24 + 20 * context.transferSyntaxes.length, 28) <= bytes.length
    case 'bind_ack':
    case 'alter_context_resp':
      return pdu.results.length * 24 + 28 <= bytes.length && pdu.secondaryAddress.length <= bytes.length
    case 'bind_nak':
      return pdu.versions.length * 2 + 19 <= bytes.length
    default:
      return true
  }
}

/** Some valid PDUs of every type to mutate. */
function seedPdus(): Buffer[] {
  const seeds = [
    hex(WINDOWS_ATSVC_BIND_HEX),
    hex(WINDOWS_ATSVC_BIND_ACK_HEX),
    hex(WINDOWS_SAMR_REQUEST_HEX),
    hex(WINDOWS_SAMR_RESPONSE_HEX),
    hex(SAMBA_CO_CANCEL_HEX),
    hex(SAMBA_ORPHANED_HEX),
    encodeBindNak({ callId: 1, reason: 4 }),
    encodeFault({ callId: 2, contextId: 0, status: FAULT.PROTO_ERROR }),
    encodeRequest({ callId: 3, contextId: 1, opnum: 4, stub: Buffer.alloc(40, 7), object: 'e1af8308-5d1f-11c9-91a4-08002b14a0fa' }),
    encodeBind({ callId: 4, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 0, contexts: [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX, NDR64_SYNTAX] }] }, PTYPE.ALTER_CONTEXT),
  ]
  // One with an auth trailer, so mutations reach the trailer checks.
  const withAuth = Buffer.concat([encodeRequest({ callId: 5, contextId: 0, opnum: 0, stub: Buffer.alloc(12) }), Buffer.alloc(4), hex('0a 05 04 00 01000000'), Buffer.alloc(16, 9)])
  withAuth.writeUInt16LE(withAuth.length, 8)
  withAuth.writeUInt16LE(16, 10)
  seeds.push(withAuth)
  return seeds
}

/** A few random edits to a valid PDU: overwrite a byte or a u16/u32 (often a count or length), truncate, or append. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.nat({ max: 0xffff })) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.nat({ max: 0xffffffff }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('append' as const), at: fc.integer({ min: 1, max: 30 }), value: fc.integer({ min: 0, max: 255 }) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

function mutate(original: Buffer, mutations: readonly Mutation[], fixFragLength: boolean): Buffer {
  let bytes = Buffer.from(original)
  for (const m of mutations) {
    if (m.kind === 'append') {
      bytes = Buffer.concat([bytes, Buffer.alloc(m.at, m.value)])
    } else if (bytes.length === 0) {
      continue
    } else if (m.kind === 'byte') {
      bytes[m.at % bytes.length] = m.value
    } else if (m.kind === 'u16') {
      if (bytes.length >= 2) bytes.writeUInt16LE(m.value, m.at % (bytes.length - 1))
    } else if (m.kind === 'u32') {
      if (bytes.length >= 4) bytes.writeUInt32LE(m.value >>> 0, m.at % (bytes.length - 3))
    } else {
      bytes = bytes.subarray(0, m.at % bytes.length)
    }
  }
  // Keeping frag_length consistent gets the mutations past the framing check into the bodies.
  if (fixFragLength && bytes.length >= DCERPC_HEADER_BYTES && bytes.length <= 0xffff) {
    if (bytes[4] >> 4 === 0) bytes.writeUInt16BE(bytes.length, 8)
    else bytes.writeUInt16LE(bytes.length, 8)
  }
  return bytes
}

t.test('decoders never throw on random or mutated bytes, and stay within bounds (≥ 20,000 runs)', async (t) => {
  let runs = 0
  const started = process.hrtime.bigint()
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      runs++
      return verdictHolds(Buffer.from(bytes))
    }),
    { numRuns: 4000 },
  )
  // Random bytes behind a plausible header, so the body decoders see garbage rather than the header check.
  fc.assert(
    fc.property(fc.constantFrom(0, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 0xffff }), (ptype, flags, body, authLength) => {
      runs++
      const bytes = Buffer.concat([hex('05 00 00 00 10000000 0000 0000 01000000'), body])
      bytes[2] = ptype
      bytes[3] = flags
      bytes.writeUInt16LE(bytes.length, 8)
      bytes.writeUInt16LE(authLength % (bytes.length + 8), 10)
      return verdictHolds(bytes)
    }),
    { numRuns: 6000 },
  )
  const seeds = seedPdus()
  const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 })
  fc.assert(
    fc.property(fc.nat({ max: seeds.length - 1 }), mutations, fc.boolean(), (seedIndex, edits, fixFragLength) => {
      runs++
      return verdictHolds(mutate(seeds[seedIndex], edits, fixFragLength))
    }),
    { numRuns: 10000 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), fc.integer({ min: 16, max: 0xffff }), (bytes, maxFragBytes) => {
      runs++
      const result = peekFragLength(bytes, maxFragBytes)
      if (result.ok) return result.fragLength >= DCERPC_HEADER_BYTES && result.fragLength <= maxFragBytes && bytes.length >= 10
      return 'needBytes' in result ? result.needBytes > bytes.length : result.error instanceof DcerpcDecodeError
    }),
    { numRuns: 2000 },
  )
  const elapsedMilliseconds = Number(process.hrtime.bigint() - started) / 1e6
  t.equal(runs, 22000)
  t.ok(elapsedMilliseconds < 5000, `took ${elapsedMilliseconds.toFixed(0)} ms`)
})
