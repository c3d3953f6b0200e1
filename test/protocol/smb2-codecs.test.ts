// The SMB2 message codecs (protocol/smb2): every encoder's output decodes back to its input
// (requests and responses, compounds, contexts), and the checks decoders make on StructureSize,
// counts, offsets and lengths, with the NTSTATUS each failure carries.
import assert from 'node:assert/strict'
import t from 'tap'
import fc from 'fast-check'
import { SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { CREATE_CONTEXT, createContextName, createContextTag, decodeAllocationSize, decodeAppInstanceId, encodeAllocationSize, decodeDurableReconnectV1, decodeDurableReconnectV2, decodeDurableRequestV1, decodeDurableRequestV2, encodeDurableReconnectV1, encodeDurableResponseV1, decodeLeaseRequest, decodeMaximalAccessRequest, encodeAppInstanceId, encodeDurableReconnectV2, encodeDurableRequestV2, encodeLease, findCreateContext } from '../../protocol/smb2/create-contexts.js'
import { decodeCloseRequest, decodeCloseResponse, decodeCreateRequest, decodeCreateResponse, encodeCloseRequest, encodeCloseResponse, encodeCreateRequest, encodeCreateResponse } from '../../protocol/smb2/create.js'
import { DIRECT_TCP_LENGTH_MAX, directTcpHeader, peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'
import { decodeEmptyBody, decodeSetInfoResponse, encodeEmptyBody, encodeSetInfoResponse } from '../../protocol/smb2/empty-body.js'
import { decodeErrorResponse, encodeErrorResponse } from '../../protocol/smb2/error-response.js'
import { chainCompound, decodeHeader, encodeHeader, frameKind, header, SMB2_COMMAND, smb2CommandName, splitCompound } from '../../protocol/smb2/header.js'
import { decodeIoctlRequest, decodeIoctlResponse, encodeIoctlRequest, encodeIoctlResponse } from '../../protocol/smb2/ioctl.js'
import { decodeLockRequest, encodeLockRequest } from '../../protocol/smb2/lock.js'
import type { Decoded } from '../../protocol/smb2/message-reader.js'
import { decodeNegotiateRequest, decodeNegotiateResponse, encodeNegotiateRequest, encodeNegotiateResponse, type NegotiateRequest } from '../../protocol/smb2/negotiate.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { decodeLeaseBreakNotification, decodeOplockBreak, encodeLeaseBreakNotification, encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import { decodeOutputBufferResponse, encodeOutputBufferResponse } from '../../protocol/smb2/output-buffer-response.js'
import { decodeQueryDirectoryRequest, encodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { decodeChangeNotifyRequest, encodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { decodeQueryInfoRequest, decodeSetInfoRequest, encodeQueryInfoRequest, encodeSetInfoRequest } from '../../protocol/smb2/query-info.js'
import { decodeFlushRequest, decodeReadRequest, decodeReadResponse, decodeWriteRequest, decodeWriteResponse, encodeFlushRequest, encodeReadRequest, encodeReadResponse, encodeWriteRequest, encodeWriteResponse } from '../../protocol/smb2/read-write.js'
import { decodeSessionSetupRequest, decodeSessionSetupResponse, encodeSessionSetupRequest, encodeSessionSetupResponse } from '../../protocol/smb2/session-setup.js'
import { decodeSmb1Negotiate, encodeSmb1Negotiate, smb2DialectForSmb1 } from '../../protocol/smb2/smb1-negotiate.js'
import { decodeTreeConnectRequest, decodeTreeConnectResponse, encodeTreeConnectRequest, encodeTreeConnectResponse } from '../../protocol/smb2/tree-connect.js'
import { bytes, createContext, dialects, fileId, guid, negotiateContext, smb2Header, text, u16, u32, u64, u8 } from './smb2-arbitraries.js'

const RUNS = { numRuns: 300 }

/** A message of the command: a header and the body. */
export function message(command: number, body: Buffer | readonly Buffer[]): Buffer {
  return Buffer.concat([encodeHeader(header({ command })), ...(Buffer.isBuffer(body) ? [body] : body)])
}

/** fast-check's records have a null prototype: compare shapes, not prototypes. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

function valueOf<T>(d: Decoded<T>): T {
  if (!d.ok) assert.fail(`decode failed: ${d.error.reason}`)
  return d.value
}

function roundTrip<T>(t: typeof import('tap').default, name: string, arb: fc.Arbitrary<T>, encode: (v: T) => Buffer | readonly Buffer[], decode: (msg: Buffer) => Decoded<T>): void {
  t.test(`${name} round trip`, async (t) => {
    fc.assert(
      fc.property(arb, (v) => {
        assert.deepStrictEqual(plain(valueOf(decode(message(0, encode(v))))), plain(v))
      }),
      RUNS,
    )
    t.pass(name)
  })
}

t.test('header: sync and async forms round trip; StructureSize and ProtocolId are checked', async (t) => {
  fc.assert(fc.property(smb2Header, (h) => assert.deepStrictEqual(plain(valueOf(decodeHeader(encodeHeader(h)))), plain(h))), RUNS)
  const bytes = encodeHeader(header({ command: SMB2_COMMAND.ECHO }))
  t.equal(frameKind(bytes), 'smb2')
  const short = decodeHeader(bytes.subarray(0, 63))
  t.notOk(short.ok)
  const bad = Buffer.from(bytes)
  bad.writeUInt16LE(65, 4)
  t.notOk(decodeHeader(bad).ok)
  bad.writeUInt16LE(64, 4)
  bad[0] = 0xfd
  t.equal(frameKind(bad), 'transform')
  t.notOk(decodeHeader(bad).ok)
  t.equal(smb2CommandName(SMB2_COMMAND.QUERY_DIRECTORY), 'QUERY_DIRECTORY')
  t.equal(smb2CommandName(0x42), '0x0042')
})

t.test('compounds: chained messages split back at their NextCommand, padded to 8', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: 0x12 }), bytes(40)), { minLength: 1, maxLength: 6 }), (parts) => {
      const messages = parts.map(([command, body]) => message(command, body))
      const originals = messages.map((m) => Buffer.from(m))
      const frame = Buffer.concat(chainCompound(messages))
      const split = valueOf(splitCompound(frame))
      assert.equal(split.length, parts.length)
      split.forEach((m, i) => {
        assert.equal(m.readUInt16LE(12), parts[i][0])
        if (i < split.length - 1) assert.equal(m.length % 8, 0)
        assert.deepStrictEqual(m.subarray(64, originals[i].length), originals[i].subarray(64))
      })
    }),
    RUNS,
  )
  const a = message(SMB2_COMMAND.ECHO, encodeEmptyBody())
  const b = message(SMB2_COMMAND.ECHO, encodeEmptyBody())
  for (const next of [4, 60, 72, 1000]) {
    a.writeUInt32LE(next, 20)
    const r = splitCompound(Buffer.concat([a, b]))
    t.notOk(r.ok, `NextCommand ${next} is refused`)
    if (!r.ok) t.equal(r.error.status, NT_STATUS.INVALID_PARAMETER)
  }
})

t.test('direct TCP framing', async (t) => {
  t.same(peekDirectTcpFrame(Buffer.from([0, 0, 1]), 100), { kind: 'need-more' })
  t.same(peekDirectTcpFrame(directTcpHeader(100), 100), { kind: 'frame', length: 100 })
  t.equal(peekDirectTcpFrame(directTcpHeader(101), 100).kind, 'bad')
  t.equal(peekDirectTcpFrame(Buffer.from([0x85, 0, 0, 4]), 100).kind, 'bad', 'a NetBIOS session keepalive or request is not a direct TCP frame')
  t.equal(peekDirectTcpFrame(Buffer.from([0, 0, 0, 0]), 100).kind, 'bad')
  t.same(peekDirectTcpFrame(directTcpHeader(DIRECT_TCP_LENGTH_MAX), DIRECT_TCP_LENGTH_MAX), { kind: 'frame', length: DIRECT_TCP_LENGTH_MAX })
  t.throws(() => directTcpHeader(DIRECT_TCP_LENGTH_MAX + 1))
})

t.test('SMB1 multi-protocol NEGOTIATE', async (t) => {
  const impacketDialects = ['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']
  const decoded = valueOf(decodeSmb1Negotiate(encodeSmb1Negotiate(impacketDialects)))
  t.same(decoded.dialects, impacketDialects)
  t.equal(smb2DialectForSmb1(decoded.dialects), SMB2_DIALECT.WILDCARD)
  t.equal(smb2DialectForSmb1(['NT LM 0.12', 'SMB 2.002']), SMB2_DIALECT.SMB202)
  t.equal(smb2DialectForSmb1(['NT LM 0.12']), null)
  const unterminated = encodeSmb1Negotiate(['SMB 2.???'])
  t.notOk(decodeSmb1Negotiate(unterminated.subarray(0, unterminated.length - 1)).ok)
  fc.assert(fc.property(fc.array(fc.stringMatching(/^[ -~]{0,12}$/), { maxLength: 10 }), (names) => assert.deepStrictEqual(valueOf(decodeSmb1Negotiate(encodeSmb1Negotiate(names))).dialects, names)), RUNS)
})

const negotiateRequest: fc.Arbitrary<NegotiateRequest> = fc
  .record({ securityMode: u16, capabilities: u32, clientGuid: guid, dialects, negotiateContexts: fc.array(negotiateContext, { maxLength: 5 }), clientStartTime: u64 })
  .map((r) => (r.dialects.includes(SMB2_DIALECT.SMB311) ? { ...r, clientStartTime: 0n } : { ...r, negotiateContexts: [] }))
roundTrip(t, 'NEGOTIATE request', negotiateRequest, encodeNegotiateRequest, decodeNegotiateRequest)

roundTrip(
  t,
  'NEGOTIATE response',
  fc
    .record({
      securityMode: u16,
      dialectRevision: fc.constantFrom(0x0202, 0x0210, 0x0300, 0x0302, 0x0311, 0x02ff),
      serverGuid: guid,
      capabilities: u32,
      maxTransactSize: u32,
      maxReadSize: u32,
      maxWriteSize: u32,
      systemTime: u64,
      serverStartTime: u64,
      securityBuffer: bytes(120),
      negotiateContexts: fc.array(negotiateContext, { maxLength: 5 }),
    })
    .map((r) => (r.dialectRevision === SMB2_DIALECT.SMB311 ? r : { ...r, negotiateContexts: [] })),
  encodeNegotiateResponse,
  decodeNegotiateResponse,
)

t.test('NEGOTIATE request: no dialects, too many, lying context counts', async (t) => {
  const base: NegotiateRequest = { securityMode: 1, capabilities: 0x7f, clientGuid: '11111111-2222-3333-4444-555555555555', dialects: [0x0311], negotiateContexts: [{ kind: 'preauth', hashAlgorithms: [1], salt: Buffer.alloc(32, 7) }], clientStartTime: 0n }
  const body = encodeNegotiateRequest(base)
  const noDialects = Buffer.from(body)
  noDialects.writeUInt16LE(0, 2)
  const r = decodeNegotiateRequest(message(0, noDialects))
  t.equal(r.ok ? 0 : r.error.status, NT_STATUS.INVALID_PARAMETER)
  const lyingCount = Buffer.from(body)
  lyingCount.writeUInt16LE(5, 32)
  t.notOk(decodeNegotiateRequest(message(0, lyingCount)).ok, 'five contexts claimed, one present')
  const lyingHashes = Buffer.from(body)
  lyingHashes.writeUInt16LE(200, 48)
  t.notOk(decodeNegotiateRequest(message(0, lyingHashes)).ok, 'more hash ids than the context holds')
  t.notOk(decodeNegotiateRequest(message(0, body.subarray(0, 30))).ok, 'a truncated fixed body')
  const wrongSize = Buffer.from(body)
  wrongSize.writeUInt16LE(37, 0)
  t.notOk(decodeNegotiateRequest(message(0, wrongSize)).ok)
})

roundTrip(t, 'SESSION_SETUP request', fc.record({ flags: u8, securityMode: u8, capabilities: u32, channel: u32, previousSessionId: u64, securityBuffer: bytes(200) }), encodeSessionSetupRequest, decodeSessionSetupRequest)
roundTrip(t, 'SESSION_SETUP response', fc.record({ sessionFlags: u16, securityBuffer: bytes(200) }), encodeSessionSetupResponse, decodeSessionSetupResponse)

t.test('SESSION_SETUP: a security buffer past the end or over the fixed part is refused', async (t) => {
  const body = encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.alloc(10, 1) })
  const past = Buffer.from(body)
  past.writeUInt16LE(11, 14)
  t.notOk(decodeSessionSetupRequest(message(1, past)).ok)
  const over = Buffer.from(body)
  over.writeUInt16LE(64, 12)
  t.notOk(decodeSessionSetupRequest(message(1, over)).ok)
})

roundTrip(t, 'empty bodies (LOGOFF, TREE_DISCONNECT, ECHO, CANCEL, FLUSH and LOCK responses)', fc.constant({}), () => encodeEmptyBody(), (m) => decodeEmptyBody(m, 'ECHO'))
roundTrip(t, 'SET_INFO response', fc.constant({}), () => encodeSetInfoResponse(), decodeSetInfoResponse)
roundTrip(t, 'TREE_CONNECT request', fc.record({ flags: u16, path: text(60) }), encodeTreeConnectRequest, decodeTreeConnectRequest)
roundTrip(t, 'TREE_CONNECT response', fc.record({ shareType: u8, shareFlags: u32, capabilities: u32, maximalAccess: u32 }), encodeTreeConnectResponse, decodeTreeConnectResponse)

t.test('TREE_CONNECT: an odd path length is refused', async (t) => {
  const body = encodeTreeConnectRequest({ flags: 0, path: '\\\\srv\\share' })
  body.writeUInt16LE(5, 6)
  t.notOk(decodeTreeConnectRequest(message(3, body)).ok)
})

roundTrip(
  t,
  'CREATE request',
  fc.record({
    securityFlags: u8,
    requestedOplockLevel: u8,
    impersonationLevel: u32,
    smbCreateFlags: u64,
    desiredAccess: u32,
    fileAttributes: u32,
    shareAccess: u32,
    createDisposition: u32,
    createOptions: u32,
    name: text(40),
    createContexts: fc.array(createContext, { maxLength: 5 }),
  }),
  encodeCreateRequest,
  decodeCreateRequest,
)

const snapshot = { creationTime: u64, lastAccessTime: u64, lastWriteTime: u64, changeTime: u64, allocationSize: u64, endOfFile: u64, fileAttributes: u32 }
roundTrip(t, 'CREATE response', fc.record({ oplockLevel: u8, flags: u8, createAction: u32, ...snapshot, fileId, createContexts: fc.array(createContext, { maxLength: 4 }) }), encodeCreateResponse, decodeCreateResponse)
roundTrip(t, 'CLOSE request', fc.record({ flags: u16, fileId }), encodeCloseRequest, decodeCloseRequest)
roundTrip(t, 'CLOSE response', fc.record({ flags: u16, ...snapshot }), encodeCloseResponse, decodeCloseResponse)

t.test('create contexts: the chain checks Next, names and data; the known contexts decode', async (t) => {
  const mxac = { name: createContextName(CREATE_CONTEXT.QUERY_MAXIMAL_ACCESS), data: Buffer.alloc(0) }
  const dh2q = { name: createContextName(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST_V2), data: encodeDurableRequestV2({ timeoutMs: 0xffffffff, flags: 2, createGuid: 'a1b2c3d4-0000-1111-2222-333344445555' }) }
  const app = { name: createContextName(CREATE_CONTEXT.APP_INSTANCE_ID), data: encodeAppInstanceId('01234567-89ab-cdef-0123-456789abcdef') }
  const body = encodeCreateRequest({
    securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 0x80, fileAttributes: 0, shareAccess: 7, createDisposition: 1, createOptions: 0,
    name: 'dir\\file.txt',
    createContexts: [mxac, dh2q, app],
  })
  const decoded = valueOf(decodeCreateRequest(message(5, body)))
  t.same(decoded.createContexts.map((c) => createContextTag(c.name)), ['MxAc', 'DH2Q', CREATE_CONTEXT.APP_INSTANCE_ID])
  t.same(valueOf(decodeMaximalAccessRequest(findCreateContext(decoded.createContexts, 'MxAc')!.data)), { timestamp: null })
  t.same(valueOf(decodeDurableRequestV2(findCreateContext(decoded.createContexts, 'DH2Q')!.data)), { timeoutMs: 0xffffffff, flags: 2, createGuid: 'a1b2c3d4-0000-1111-2222-333344445555' })
  t.same(valueOf(decodeAppInstanceId(findCreateContext(decoded.createContexts, CREATE_CONTEXT.APP_INSTANCE_ID)!.data)), { appInstanceId: '01234567-89ab-cdef-0123-456789abcdef' })
  const dh2c = { fileId: { persistent: '0102030405060708', volatile: '1112131415161718' }, createGuid: 'a1b2c3d4-0000-1111-2222-333344445555', flags: 2 }
  t.same(valueOf(decodeDurableReconnectV2(encodeDurableReconnectV2(dh2c))), dh2c)
  const lease = { leaseKey: Buffer.alloc(16, 3), leaseState: 7, leaseFlags: 0, parentLeaseKey: Buffer.alloc(16, 4), epoch: 9 }
  t.same(valueOf(decodeLeaseRequest(encodeLease(lease))), lease)
  t.notOk(decodeDurableRequestV2(Buffer.alloc(31)).ok)
  // DHnQ: 16 reserved bytes (2.2.13.2.3), answered with 8 (2.2.14.2.3); DHnC: the FileId (2.2.13.2.4).
  t.ok(decodeDurableRequestV1(Buffer.alloc(16)).ok)
  t.notOk(decodeDurableRequestV1(Buffer.alloc(15)).ok)
  t.equal(encodeDurableResponseV1().length, 8)
  t.same(valueOf(decodeDurableReconnectV1(encodeDurableReconnectV1(dh2c.fileId))), { fileId: dh2c.fileId })
  t.notOk(decodeDurableReconnectV1(Buffer.alloc(17)).ok)
  // Lying Next, name and data fields in the first entry (contexts start at 0x78 + 0x18 = 0x90 from the header).
  const contextsAt = body.readUInt32LE(48) - 64
  for (const [at, value, what] of [
    [0, 12, 'Next not a multiple of 8'],
    [0, 4096, 'Next past the chain'],
    [6, 3, 'a name under 4 bytes'],
    [4, 2, 'a name inside the entry header'],
    [12, 4096, 'data past the entry'],
  ] as const) {
    const bad = Buffer.from(body)
    if (at === 6 || at === 4) bad.writeUInt16LE(value, contextsAt + at)
    else bad.writeUInt32LE(value, contextsAt + at)
    const r = decodeCreateRequest(message(5, bad))
    t.equal(r.ok ? 0 : r.error.status, NT_STATUS.INVALID_PARAMETER, what)
  }
})

roundTrip(t, 'READ request', fc.record({ padding: u8, flags: u8, length: u32, offset: u64, fileId, minimumCount: u32, channel: u32, remainingBytes: u32, readChannelInfo: bytes(20) }), encodeReadRequest, decodeReadRequest)
roundTrip(t, 'READ response', fc.record({ dataRemaining: u32, flags: u32, data: bytes(300) }), encodeReadResponse, decodeReadResponse)
roundTrip(t, 'WRITE request', fc.record({ offset: u64, fileId, channel: u32, remainingBytes: u32, writeChannelInfo: bytes(20), flags: u32, data: bytes(300) }), encodeWriteRequest, decodeWriteRequest)
roundTrip(t, 'WRITE response', fc.record({ count: u32, remaining: u32 }), encodeWriteResponse, decodeWriteResponse)
roundTrip(t, 'FLUSH request', fc.record({ fileId }), encodeFlushRequest, decodeFlushRequest)

t.test('WRITE: data past the end of the frame is refused, data is a view', async (t) => {
  const data = Buffer.alloc(100, 0xab)
  const msg = message(9, encodeWriteRequest({ offset: 0n, fileId: { persistent: '00'.repeat(8), volatile: '00'.repeat(8) }, channel: 0, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data }))
  const decoded = valueOf(decodeWriteRequest(msg))
  t.equal(decoded.data.buffer, msg.buffer, 'the data is not copied')
  t.notOk(decodeWriteRequest(msg.subarray(0, msg.length - 1)).ok)
})

roundTrip(
  t,
  'LOCK request',
  fc.record({ lockSequence: u32, fileId, locks: fc.array(fc.record({ offset: u64, length: u64, flags: u32 }), { minLength: 1, maxLength: 8 }) }),
  encodeLockRequest,
  decodeLockRequest,
)

t.test('LOCK: zero locks and a count beyond the message are refused', async (t) => {
  const body = encodeLockRequest({ lockSequence: 0, fileId: { persistent: '00'.repeat(8), volatile: '00'.repeat(8) }, locks: [{ offset: 0n, length: 1n, flags: 2 }] })
  for (const count of [0, 2, 0xffff]) {
    const bad = Buffer.from(body)
    bad.writeUInt16LE(count, 2)
    t.notOk(decodeLockRequest(message(10, bad)).ok, `LockCount ${count}`)
  }
})

roundTrip(t, 'IOCTL request', fc.record({ ctlCode: u32, fileId, input: bytes(100), maxInputResponse: u32, output: bytes(30), maxOutputResponse: u32, flags: u32 }), encodeIoctlRequest, decodeIoctlRequest)
roundTrip(t, 'IOCTL response', fc.record({ ctlCode: u32, fileId, input: bytes(30), output: bytes(100), flags: u32 }), encodeIoctlResponse, decodeIoctlResponse)
roundTrip(t, 'QUERY_DIRECTORY request', fc.record({ fileInformationClass: u8, flags: u8, fileIndex: u32, fileId, fileName: text(20), outputBufferLength: u32 }), encodeQueryDirectoryRequest, decodeQueryDirectoryRequest)
roundTrip(t, 'CHANGE_NOTIFY request', fc.record({ flags: u16, outputBufferLength: u32, fileId, completionFilter: u32 }), encodeChangeNotifyRequest, decodeChangeNotifyRequest)
roundTrip(t, 'output-buffer responses (QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO)', fc.record({ output: bytes(300) }), (v) => encodeOutputBufferResponse(v.output), (m) => decodeOutputBufferResponse(m, 'QUERY_INFO response'))
roundTrip(t, 'QUERY_INFO request', fc.record({ infoType: u8, fileInfoClass: u8, outputBufferLength: u32, input: bytes(40), additionalInformation: u32, flags: u32, fileId }), encodeQueryInfoRequest, decodeQueryInfoRequest)
roundTrip(t, 'SET_INFO request', fc.record({ infoType: u8, fileInfoClass: u8, buffer: bytes(100), additionalInformation: u32, fileId }), encodeSetInfoRequest, decodeSetInfoRequest)
roundTrip(
  t,
  'OPLOCK_BREAK acknowledgments and responses',
  fc.oneof(
    fc.record({ kind: fc.constant('oplock' as const), oplockLevel: u8, fileId }),
    fc.record({ kind: fc.constant('lease' as const), flags: u32, leaseKey: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)), leaseState: u32, leaseDuration: u64 }),
  ),
  encodeOplockBreak,
  decodeOplockBreak,
)
roundTrip(
  t,
  'lease break notification',
  fc.record({ newEpoch: u16, flags: u32, leaseKey: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)), currentLeaseState: u32, newLeaseState: u32 }),
  encodeLeaseBreakNotification,
  decodeLeaseBreakNotification,
)
roundTrip(t, 'ERROR response', fc.record({ errorContextCount: u8, errorData: bytes(40) }), encodeErrorResponse, decodeErrorResponse)

t.test('AlSi (2.2.13.2.6): 8 bytes of AllocationSize, anything else is malformed', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (bytes) => {
      const d = decodeAllocationSize(encodeAllocationSize(bytes))
      assert.ok(d.ok && d.value.allocationBytes === bytes)
    }),
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }).filter((a) => a.length !== 8), (a) => {
      assert.equal(decodeAllocationSize(Buffer.from(a)).ok, false)
    }),
  )
  t.pass('round trip, and a wrong length is a decode error, never a throw')
})
