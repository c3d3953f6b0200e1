// FSCTL structures of SMB2 IOCTL (protocol/smb2/fsctl.ts): VALIDATE_NEGOTIATE_INFO bytes and
// the MS-SMB2 3.3.5.15.12 decision, NETWORK_INTERFACE_INFO bytes and round trips, the resume
// key response, FILE_OBJECTID_BUFFER of CREATE_OR_GET_OBJECT_ID, what an unimplemented FSCTL
// answers, and fuzzing of the decoders.
import t from 'tap'
import fc from 'fast-check'
import {
  FILE_OBJECTID_BUFFER_BYTES,
  FSCTL_CODE,
  NETWORK_INTERFACE_CAP,
  createOrGetObjectId,
  decodeFileObjectIdBuffer,
  encodeFileObjectIdBuffer,
  decodeNetworkInterfaceInfo,
  decodeValidateNegotiateInfoRequest,
  decodeValidateNegotiateInfoResponse,
  encodeNetworkInterfaceInfo,
  encodeResumeKeyResponse,
  encodeValidateNegotiateInfoRequest,
  unimplementedFsctlStatus,
  validateNegotiateInfo,
  type NegotiatedConnection,
} from '../../protocol/smb2/fsctl.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

const CLIENT_GUID = hex('000102030405060708090a0b0c0d0e0f')
const SERVER_GUID = hex('f0e0d0c0b0a090807060504030201000')
// Capabilities 0x7f, Guid, SecurityMode SIGNING_ENABLED, three dialects 2.0.2, 2.1, 3.0.
const VNI_REQUEST = hex('7f000000 000102030405060708090a0b0c0d0e0f 0100 0300 0202 1002 0003')
const CONNECTION: NegotiatedConnection = {
  dialect: 0x0300,
  clientCapabilities: 0x7f,
  clientGuid: CLIENT_GUID,
  clientSecurityMode: 0x01,
  clientDialects: [0x0202, 0x0210, 0x0300],
  serverDialects: [0x0202, 0x0210, 0x0300, 0x0302, 0x0311],
  serverCapabilities: 0x57,
  serverGuid: SERVER_GUID,
  serverSecurityMode: 0x03,
}

t.test('control codes (MS-SMB2 2.2.31, MS-FSCC 2.3)', async (t) => {
  t.equal(FSCTL_CODE.VALIDATE_NEGOTIATE_INFO, 0x00140204)
  t.equal(FSCTL_CODE.PIPE_TRANSCEIVE, 0x0011c017)
  t.equal(FSCTL_CODE.QUERY_NETWORK_INTERFACE_INFO, 0x001401fc)
  t.equal(FSCTL_CODE.SRV_REQUEST_RESUME_KEY, 0x00140078)
  t.equal(FSCTL_CODE.GET_REPARSE_POINT, 0x000900a8)
  t.equal(new Set(Object.values(FSCTL_CODE)).size, Object.values(FSCTL_CODE).length, 'no code twice')
})

t.test('VALIDATE_NEGOTIATE_INFO request and response bytes', async (t) => {
  t.same(decodeValidateNegotiateInfoRequest(VNI_REQUEST), { ok: true, value: { capabilities: 0x7f, guid: CLIENT_GUID, securityMode: 1, dialects: [0x0202, 0x0210, 0x0300] } })
  t.same(encodeValidateNegotiateInfoRequest({ capabilities: 0x7f, guid: CLIENT_GUID, securityMode: 1, dialects: [0x0202, 0x0210, 0x0300] }), VNI_REQUEST)
  t.match(decodeValidateNegotiateInfoRequest(VNI_REQUEST.subarray(0, 23)), { ok: false })
  t.match(decodeValidateNegotiateInfoRequest(VNI_REQUEST.subarray(0, 29)), { ok: false }, 'a dialect past the input')
  const decision = validateNegotiateInfo(VNI_REQUEST, 24, CONNECTION)
  // The server's Capabilities, ServerGuid, SecurityMode and the connection's dialect.
  t.same(decision, { kind: 'respond', output: hex('57000000 f0e0d0c0b0a090807060504030201000 0300 0003') })
  if (decision.kind === 'respond') t.same(decodeValidateNegotiateInfoResponse(decision.output), { ok: true, value: { capabilities: 0x57, guid: SERVER_GUID, securityMode: 3, dialect: 0x0300 } })
})

t.test('every mismatch drops the connection (MS-SMB2 3.3.5.15.12)', async (t) => {
  const request = (changes: Partial<{ capabilities: number; guid: Buffer; securityMode: number; dialects: number[] }>) =>
    encodeValidateNegotiateInfoRequest({ capabilities: 0x7f, guid: CLIENT_GUID, securityMode: 1, dialects: [0x0202, 0x0210, 0x0300], ...changes })
  const cases: Array<[string, Buffer, number, NegotiatedConnection]> = [
    ['a 3.1.1 connection', VNI_REQUEST, 24, { ...CONNECTION, dialect: 0x0311 }],
    ['MaxOutputResponse below 24', VNI_REQUEST, 23, CONNECTION],
    ['a malformed request', VNI_REQUEST.subarray(0, 10), 24, CONNECTION],
    ['other dialects than NEGOTIATE offered', request({ dialects: [0x0202, 0x0210] }), 24, CONNECTION],
    ['a downgraded dialect', VNI_REQUEST, 24, { ...CONNECTION, dialect: 0x0210 }],
    ['no common dialect', request({ dialects: [0x0999] }), 24, { ...CONNECTION, clientDialects: [0x0999] }],
    ['another ClientGuid', request({ guid: SERVER_GUID }), 24, CONNECTION],
    ['another SecurityMode', request({ securityMode: 2 }), 24, CONNECTION],
    ['other Capabilities', request({ capabilities: 0x7e }), 24, CONNECTION],
  ]
  for (const [what, input, maxOutput, connection] of cases) t.match(validateNegotiateInfo(input, maxOutput, connection), { kind: 'terminate' }, what)
  t.match(validateNegotiateInfo(request({ dialects: [0x0202] }), 24, { ...CONNECTION, dialect: 0x0202, clientDialects: [0x0202] }), { kind: 'respond' }, 'a client that offered 2.0.2 only')
})

t.test('NETWORK_INTERFACE_INFO bytes and round trip', async (t) => {
  const interfaces = [
    { ifIndex: 1, capabilities: NETWORK_INTERFACE_CAP.RSS, linkSpeedBitsPerSecond: 10_000_000_000n, address: '127.0.1.1' },
    { ifIndex: 2, capabilities: 0, linkSpeedBitsPerSecond: 1_000_000_000n, address: 'fd00::1' },
  ]
  const encoded = encodeNetworkInterfaceInfo(interfaces)
  t.equal(encoded.length, 2 * 152)
  // Next 152, IfIndex 1, Capability RSS, Reserved, LinkSpeed 10 Gb/s, Family InterNetwork, Port 0, 127.0.1.1.
  t.same(encoded.subarray(0, 32), hex('98000000 01000000 01000000 00000000 00e40b5402000000 0200 0000 7f000101'))
  t.ok(encoded.subarray(32, 152).every((byte) => byte === 0), 'the rest of the IPv4 SockAddr_Storage is zero')
  // The second entry: Next 0, Family InterNetworkV6 (0x17), Port 0, FlowInfo 0, the address.
  t.same(encoded.subarray(152, 152 + 4), hex('00000000'))
  t.same(encoded.subarray(152 + 24, 152 + 48), hex('1700 0000 00000000 fd000000000000000000000000000001'))
  t.same(decodeNetworkInterfaceInfo(encoded), { ok: true, value: interfaces })
  t.same(decodeNetworkInterfaceInfo(Buffer.alloc(0)), { ok: true, value: [] })
  t.throws(() => encodeNetworkInterfaceInfo([{ ...interfaces[0], address: 'host.example' }]))
})

t.test('SRV_REQUEST_RESUME_KEY response: the key, ContextLength 0, 4 bytes of context', async (t) => {
  const key = Buffer.alloc(24, 0xab)
  t.same(encodeResumeKeyResponse(key), Buffer.concat([key, Buffer.alloc(8)]))
  t.throws(() => encodeResumeKeyResponse(Buffer.alloc(16)))
})

t.test('CREATE_OR_GET_OBJECT_ID: a 64-byte FILE_OBJECTID_BUFFER, INVALID_PARAMETER under 64 bytes (MS-FSCC 2.1.3.1, MS-FSA 2.1.5.10.1)', async (t) => {
  t.equal(FSCTL_CODE.CREATE_OR_GET_OBJECT_ID, 0x000900c0)
  const id = { objectId: Buffer.alloc(16, 1), birthVolumeId: Buffer.alloc(16, 2), birthObjectId: Buffer.alloc(16, 3), domainId: Buffer.alloc(16) }
  const bytes = encodeFileObjectIdBuffer(id)
  t.equal(bytes.toString('hex'), '01'.repeat(16) + '02'.repeat(16) + '03'.repeat(16) + '00'.repeat(16), 'ObjectId, BirthVolumeId, BirthObjectId, DomainId in that order')
  const back = decodeFileObjectIdBuffer(bytes)
  t.equal(back.ok && Buffer.concat([back.value.objectId, back.value.birthVolumeId, back.value.birthObjectId, back.value.domainId].map((f) => Buffer.from(f))).toString('hex'), bytes.toString('hex'))
  t.same(createOrGetObjectId(64, id), { status: NT_STATUS.SUCCESS, output: bytes })
  t.same(createOrGetObjectId(1024, id).output?.length, FILE_OBJECTID_BUFFER_BYTES, 'never more than the structure')
  t.same(createOrGetObjectId(63, id), { status: NT_STATUS.INVALID_PARAMETER, output: null })
  t.same(createOrGetObjectId(0, id), { status: NT_STATUS.INVALID_PARAMETER, output: null })
  t.throws(() => encodeFileObjectIdBuffer({ ...id, objectId: Buffer.alloc(15) }))
  t.notOk(decodeFileObjectIdBuffer(Buffer.alloc(63)).ok)
  t.notOk(decodeFileObjectIdBuffer(Buffer.alloc(65)).ok)
})

t.test('what an unimplemented FSCTL answers', async (t) => {
  t.equal(unimplementedFsctlStatus(FSCTL_CODE.DFS_GET_REFERRALS), NT_STATUS.FS_DRIVER_REQUIRED)
  t.equal(unimplementedFsctlStatus(FSCTL_CODE.DFS_GET_REFERRALS_EX), NT_STATUS.FS_DRIVER_REQUIRED)
  t.equal(unimplementedFsctlStatus(FSCTL_CODE.GET_REPARSE_POINT), NT_STATUS.NOT_A_REPARSE_POINT)
  t.equal(unimplementedFsctlStatus(FSCTL_CODE.LMR_REQUEST_RESILIENCY), NT_STATUS.INVALID_DEVICE_REQUEST)
  t.equal(unimplementedFsctlStatus(0x12345678), NT_STATUS.INVALID_DEVICE_REQUEST)
})

t.test('fuzz: the decoders and the validation take any bytes', async (t) => {
  const validList = encodeNetworkInterfaceInfo([
    { ifIndex: 1, capabilities: 1, linkSpeedBitsPerSecond: 1n, address: '10.0.0.1' },
    { ifIndex: 2, capabilities: 2, linkSpeedBitsPerSecond: 2n, address: '::1' },
  ])
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.tuple(fc.nat({ max: validList.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat({ max: 100 }), (random, flips, maxOutput) => {
      const mutated = Buffer.from(validList)
      for (const [at, value] of flips) mutated[at] = value
      for (const bytes of [random, mutated]) {
        const list = decodeNetworkInterfaceInfo(bytes)
        if (list.ok && list.value.length > bytes.length / 152 + 1) return false
        decodeValidateNegotiateInfoRequest(bytes)
        decodeValidateNegotiateInfoResponse(bytes)
        const objectId = decodeFileObjectIdBuffer(bytes)
        if (objectId.ok !== (bytes.length === 64)) return false
        const decision = validateNegotiateInfo(bytes, maxOutput, CONNECTION)
        if (decision.kind === 'respond' && decision.output.length !== 24) return false
      }
      return true
    }),
    { numRuns: 20_000 },
  )
  t.pass()
})
