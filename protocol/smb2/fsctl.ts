// The FSCTLs of SMB2 IOCTL a server meets (MS-SMB2 2.2.31, 3.3.5.15; MS-FSCC 2.3) and the
// structures of the ones it answers: FSCTL_VALIDATE_NEGOTIATE_INFO (2.2.31.4, 2.2.32.6,
// 3.3.5.15.12), FSCTL_QUERY_NETWORK_INTERFACE_INFO's NETWORK_INTERFACE_INFO list (2.2.32.5,
// for multichannel later), FSCTL_SRV_REQUEST_RESUME_KEY's response (2.2.32.3) and the
// FILE_OBJECTID_BUFFER of FSCTL_CREATE_OR_GET_OBJECT_ID (MS-FSCC 2.1.3.1, 2.3.4; MS-FSA 2.1.5.10.1).
//
// The decoders face the network and return typed failures; validateNegotiateInfo() is the
// whole server decision of 3.3.5.15.12 as a pure function of the request and the connection's
// negotiated state: answer, or drop the connection (a validation failure means a downgrade
// attack, and the spec's answer is to terminate, not to send an error).
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes, IPV4_BYTES, IPV6_BYTES } from '../ip-address.js'
import { NT_STATUS } from './ntstatus.js'

/** Control codes (MS-SMB2 2.2.31 and MS-FSCC 2.3). */
export const FSCTL_CODE = {
  // MS-SMB2 2.2.31
  DFS_GET_REFERRALS: 0x00060194,
  DFS_GET_REFERRALS_EX: 0x000601b0,
  PIPE_PEEK: 0x0011400c,
  PIPE_WAIT: 0x00110018,
  PIPE_TRANSCEIVE: 0x0011c017,
  SRV_COPYCHUNK: 0x001440f2,
  SRV_COPYCHUNK_WRITE: 0x001480f2,
  SRV_ENUMERATE_SNAPSHOTS: 0x00144064,
  SRV_REQUEST_RESUME_KEY: 0x00140078,
  SRV_READ_HASH: 0x001441bb,
  LMR_REQUEST_RESILIENCY: 0x001401d4,
  QUERY_NETWORK_INTERFACE_INFO: 0x001401fc,
  VALIDATE_NEGOTIATE_INFO: 0x00140204,
  // MS-FSCC 2.3
  IS_PATHNAME_VALID: 0x0009002c,
  GET_COMPRESSION: 0x0009003c,
  SET_COMPRESSION: 0x0009c040,
  FILESYSTEM_GET_STATISTICS: 0x00090060,
  GET_NTFS_VOLUME_DATA: 0x00090064,
  SET_OBJECT_ID: 0x00090098,
  GET_OBJECT_ID: 0x0009009c,
  DELETE_OBJECT_ID: 0x000900a0,
  SET_REPARSE_POINT: 0x000900a4,
  GET_REPARSE_POINT: 0x000900a8,
  DELETE_REPARSE_POINT: 0x000900ac,
  CREATE_OR_GET_OBJECT_ID: 0x000900c0,
  SET_SPARSE: 0x000900c4,
  SET_ZERO_DATA: 0x000980c8,
  QUERY_ALLOCATED_RANGES: 0x000940cf,
  SET_ZERO_ON_DEALLOCATION: 0x00090194,
  FILE_LEVEL_TRIM: 0x00098208,
  OFFLOAD_READ: 0x00094264,
  OFFLOAD_WRITE: 0x00098268,
  GET_INTEGRITY_INFORMATION: 0x0009027c,
  SET_INTEGRITY_INFORMATION: 0x0009c280,
  QUERY_FILE_REGIONS: 0x00090284,
  DUPLICATE_EXTENTS_TO_FILE: 0x00098344,
} as const

/** Capability bits of NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5). */
export const NETWORK_INTERFACE_CAP = { RSS: 0x00000001, RDMA: 0x00000002 } as const

/**
 * What a server answers an FSCTL it does not implement: MS-SMB2 3.3.5.15 names
 * STATUS_FS_DRIVER_REQUIRED for DFS referrals on a server without DFS, MS-FSCC
 * STATUS_NOT_A_REPARSE_POINT for GET_REPARSE_POINT on an ordinary file, and the rest is
 * STATUS_INVALID_DEVICE_REQUEST, which Windows answers for a control its file system lacks and
 * smbtorture reads as "not supported" (LMR_REQUEST_RESILIENCY in smb2.lock.replay).
 */
export function unimplementedFsctlStatus(ctlCode: number): number {
  switch (ctlCode) {
    case FSCTL_CODE.DFS_GET_REFERRALS:
    case FSCTL_CODE.DFS_GET_REFERRALS_EX:
      return NT_STATUS.FS_DRIVER_REQUIRED
    case FSCTL_CODE.GET_REPARSE_POINT:
      return NT_STATUS.NOT_A_REPARSE_POINT
    default:
      return NT_STATUS.INVALID_DEVICE_REQUEST
  }
}

// ---------------------------------------------------------------------------------------------
// FSCTL_VALIDATE_NEGOTIATE_INFO
// ---------------------------------------------------------------------------------------------

/** Capabilities (4), Guid (16), SecurityMode (2), DialectCount (2). */
export const VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES = 24
/** Capabilities (4), Guid (16), SecurityMode (2), Dialect (2). */
export const VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES = 24
const GUID_BYTES = 16

export interface ValidateNegotiateInfoRequest {
  readonly capabilities: number
  /** The ClientGuid, 16 bytes as on the wire. */
  readonly guid: Buffer
  readonly securityMode: number
  readonly dialects: readonly number[]
}

export interface ValidateNegotiateInfoResponse {
  readonly capabilities: number
  /** The ServerGuid, 16 bytes as on the wire. */
  readonly guid: Buffer
  readonly securityMode: number
  readonly dialect: number
}

export type FsctlDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

export function decodeValidateNegotiateInfoRequest(input: Uint8Array): FsctlDecoded<ValidateNegotiateInfoRequest> {
  if (input.byteLength < VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES) return { ok: false, reason: `VALIDATE_NEGOTIATE_INFO request of ${input.byteLength} bytes, below ${VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES}` }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  const dialectCount = view.getUint16(22, true)
  if (VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES + 2 * dialectCount > input.byteLength) return { ok: false, reason: `VALIDATE_NEGOTIATE_INFO DialectCount ${dialectCount} past the ${input.byteLength}-byte input` }
  const dialects: number[] = []
  for (let index = 0; index < dialectCount; index++) dialects.push(view.getUint16(VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES + 2 * index, true))
  return {
    ok: true,
    value: { capabilities: view.getUint32(0, true), guid: Buffer.from(input.subarray(4, 20)), securityMode: view.getUint16(20, true), dialects },
  }
}

export function encodeValidateNegotiateInfoRequest(request: ValidateNegotiateInfoRequest): Buffer {
  checkGuid(request.guid)
  const out = Buffer.alloc(VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES + 2 * request.dialects.length)
  out.writeUInt32LE(request.capabilities >>> 0, 0)
  request.guid.copy(out, 4)
  out.writeUInt16LE(request.securityMode, 20)
  out.writeUInt16LE(request.dialects.length, 22)
  request.dialects.forEach((dialect, index) => out.writeUInt16LE(dialect, VALIDATE_NEGOTIATE_INFO_REQUEST_FIXED_BYTES + 2 * index))
  return out
}

export function encodeValidateNegotiateInfoResponse(response: ValidateNegotiateInfoResponse): Buffer {
  checkGuid(response.guid)
  const out = Buffer.alloc(VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES)
  out.writeUInt32LE(response.capabilities >>> 0, 0)
  response.guid.copy(out, 4)
  out.writeUInt16LE(response.securityMode, 20)
  out.writeUInt16LE(response.dialect, 22)
  return out
}

export function decodeValidateNegotiateInfoResponse(output: Uint8Array): FsctlDecoded<ValidateNegotiateInfoResponse> {
  if (output.byteLength < VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES) return { ok: false, reason: `VALIDATE_NEGOTIATE_INFO response of ${output.byteLength} bytes, below ${VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES}` }
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength)
  return { ok: true, value: { capabilities: view.getUint32(0, true), guid: Buffer.from(output.subarray(4, 20)), securityMode: view.getUint16(20, true), dialect: view.getUint16(22, true) } }
}

/** The connection's state the validation compares against (MS-SMB2 3.3.1.7, set by NEGOTIATE). */
export interface NegotiatedConnection {
  readonly dialect: number
  readonly clientCapabilities: number
  readonly clientGuid: Buffer
  readonly clientSecurityMode: number
  /** Connection.ClientDialects: the Dialects of the client's NEGOTIATE. */
  readonly clientDialects: readonly number[]
  /** The dialects this server implements. */
  readonly serverDialects: readonly number[]
  readonly serverCapabilities: number
  readonly serverGuid: Buffer
  readonly serverSecurityMode: number
}

export type ValidateNegotiateDecision = { readonly kind: 'respond'; readonly output: Buffer } | { readonly kind: 'terminate'; readonly reason: string }

/**
 * MS-SMB2 3.3.5.15.12: the answer to FSCTL_VALIDATE_NEGOTIATE_INFO, or the reason to drop the
 * connection. Every mismatch terminates; so does 3.1.1 (the preauth hash protects it instead),
 * a MaxOutputResponse below the response, and an input that is not a request.
 */
export function validateNegotiateInfo(input: Uint8Array, maxOutputResponse: number, connection: NegotiatedConnection): ValidateNegotiateDecision {
  const terminate = (reason: string): ValidateNegotiateDecision => ({ kind: 'terminate', reason: `VALIDATE_NEGOTIATE_INFO: ${reason}` })
  if (connection.dialect === 0x0311) return terminate('sent on a 3.1.1 connection')
  if (maxOutputResponse < VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES) return terminate(`MaxOutputResponse ${maxOutputResponse} below ${VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES}`)
  const decoded = decodeValidateNegotiateInfoRequest(input)
  if (!decoded.ok) return terminate(decoded.reason)
  const request = decoded.value
  if (request.dialects.length !== connection.clientDialects.length || request.dialects.some((dialect, index) => dialect !== connection.clientDialects[index])) {
    return terminate('Dialects differ from the NEGOTIATE request')
  }
  const common = request.dialects.filter((dialect) => connection.serverDialects.includes(dialect))
  const greatest = common.length === 0 ? null : Math.max(...common)
  if (greatest !== connection.dialect) return terminate(`the greatest common dialect 0x${(greatest ?? 0).toString(16)} is not the connection's 0x${connection.dialect.toString(16)}`)
  if (!request.guid.equals(connection.clientGuid)) return terminate('Guid is not the ClientGuid')
  if (request.securityMode !== connection.clientSecurityMode) return terminate(`SecurityMode 0x${request.securityMode.toString(16)} is not the client's 0x${connection.clientSecurityMode.toString(16)}`)
  if (request.capabilities >>> 0 !== connection.clientCapabilities >>> 0) return terminate(`Capabilities 0x${request.capabilities.toString(16)} are not the client's 0x${connection.clientCapabilities.toString(16)}`)
  return {
    kind: 'respond',
    output: encodeValidateNegotiateInfoResponse({ capabilities: connection.serverCapabilities, guid: connection.serverGuid, securityMode: connection.serverSecurityMode, dialect: connection.dialect }),
  }
}

// ---------------------------------------------------------------------------------------------
// FSCTL_QUERY_NETWORK_INTERFACE_INFO
// ---------------------------------------------------------------------------------------------

/** Next, IfIndex, Capability, Reserved, LinkSpeed, SockAddr_Storage (128). */
export const NETWORK_INTERFACE_INFO_BYTES = 152
/** SockAddr_Storage (128 bytes) starts after the 24 bytes of Next, IfIndex, Capability, Reserved and LinkSpeed. */
const SOCKADDR_AT = 24
/** SockAddr_Storage.Family (MS-SMB2 2.2.32.5.1). */
export const SOCKADDR_FAMILY = { INTER_NETWORK: 0x0002, INTER_NETWORK_V6: 0x0017 } as const

export interface NetworkInterface {
  readonly ifIndex: number
  /** NETWORK_INTERFACE_CAP bits. */
  readonly capabilities: number
  readonly linkSpeedBitsPerSecond: bigint
  /** A dotted quad or an IPv6 address (no zone). */
  readonly address: string
}

/** The NETWORK_INTERFACE_INFO list: one 152-byte entry per interface address, Next chaining them. */
export function encodeNetworkInterfaceInfo(interfaces: readonly NetworkInterface[]): Buffer {
  const out = Buffer.alloc(NETWORK_INTERFACE_INFO_BYTES * interfaces.length)
  interfaces.forEach((entry, index) => {
    const at = index * NETWORK_INTERFACE_INFO_BYTES
    out.writeUInt32LE(index + 1 < interfaces.length ? NETWORK_INTERFACE_INFO_BYTES : 0, at)
    out.writeUInt32LE(entry.ifIndex >>> 0, at + 4)
    out.writeUInt32LE(entry.capabilities >>> 0, at + 8)
    // at + 12: Reserved.
    out.writeBigUInt64LE(entry.linkSpeedBitsPerSecond, at + 16)
    const sockaddr = at + SOCKADDR_AT
    const v4 = ipv4ToBytes(entry.address)
    if (v4 !== null) {
      out.writeUInt16LE(SOCKADDR_FAMILY.INTER_NETWORK, sockaddr)
      // sockaddr + 2: Port 0; the address in network order; 8 reserved bytes.
      v4.copy(out, sockaddr + 4)
      return
    }
    const v6 = ipv6ToBytes(entry.address)
    if (v6 === null) throw new RangeError(`${entry.address} is not an IP address`)
    out.writeUInt16LE(SOCKADDR_FAMILY.INTER_NETWORK_V6, sockaddr)
    // sockaddr + 2: Port 0, + 4: FlowInfo 0, + 8: the address, + 24: ScopeId 0.
    v6.copy(out, sockaddr + 8)
  })
  return out
}

/** Reads a NETWORK_INTERFACE_INFO list (a client's view); entries of another family are skipped. */
export function decodeNetworkInterfaceInfo(output: Uint8Array): FsctlDecoded<NetworkInterface[]> {
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength)
  const interfaces: NetworkInterface[] = []
  let at = 0
  while (output.byteLength > 0) {
    if (at + NETWORK_INTERFACE_INFO_BYTES > output.byteLength) return { ok: false, reason: `NETWORK_INTERFACE_INFO at ${at} past the ${output.byteLength}-byte output` }
    const next = view.getUint32(at, true)
    const sockaddr = at + SOCKADDR_AT
    const family = view.getUint16(sockaddr, true)
    const base = { ifIndex: view.getUint32(at + 4, true), capabilities: view.getUint32(at + 8, true), linkSpeedBitsPerSecond: view.getBigUint64(at + 16, true) }
    if (family === SOCKADDR_FAMILY.INTER_NETWORK) interfaces.push({ ...base, address: bytesToIpv4(output.subarray(sockaddr + 4, sockaddr + 4 + IPV4_BYTES)) })
    else if (family === SOCKADDR_FAMILY.INTER_NETWORK_V6) interfaces.push({ ...base, address: bytesToIpv6(output.subarray(sockaddr + 8, sockaddr + 8 + IPV6_BYTES)) })
    if (next === 0) break
    // Each step moves forward by at least one entry, so the loop ends inside the output.
    if (next < NETWORK_INTERFACE_INFO_BYTES) return { ok: false, reason: `NETWORK_INTERFACE_INFO Next ${next} at ${at} is inside the entry` }
    at += next
  }
  return { ok: true, value: interfaces }
}

// ---------------------------------------------------------------------------------------------
// FSCTL_SRV_REQUEST_RESUME_KEY
// ---------------------------------------------------------------------------------------------

export const RESUME_KEY_BYTES = 24
/** ResumeKey (24), ContextLength (4, zero), and the 4 bytes of empty Context Windows and Samba send: 32. */
export const SRV_REQUEST_RESUME_KEY_RESPONSE_BYTES = 32

/** The SRV_REQUEST_RESUME_KEY response (MS-SMB2 2.2.32.3) of a 24-byte key naming the open for a later server-side copy. */
export function encodeResumeKeyResponse(resumeKey: Uint8Array): Buffer {
  if (resumeKey.byteLength !== RESUME_KEY_BYTES) throw new RangeError(`a resume key is ${RESUME_KEY_BYTES} bytes, not ${resumeKey.byteLength}`)
  const out = Buffer.alloc(SRV_REQUEST_RESUME_KEY_RESPONSE_BYTES)
  out.set(resumeKey, 0)
  return out
}

// ---------------------------------------------------------------------------------------------
// FSCTL_CREATE_OR_GET_OBJECT_ID
// ---------------------------------------------------------------------------------------------

/** FILE_OBJECTID_BUFFER (MS-FSCC 2.1.3): ObjectId (16) and 48 bytes of extended information. */
export const FILE_OBJECTID_BUFFER_BYTES = 64
export const OBJECT_ID_BYTES = 16

/** The Type 1 FILE_OBJECTID_BUFFER (MS-FSCC 2.1.3.1): what FSCTL_CREATE_OR_GET_OBJECT_ID returns for a file whose object ID the server made. */
export interface FileObjectId {
  readonly objectId: Uint8Array
  readonly birthVolumeId: Uint8Array
  readonly birthObjectId: Uint8Array
  /** Reserved, zeros (MS-FSA 2.1.5.10.1 sets it empty). */
  readonly domainId: Uint8Array
}

export type ObjectIdAnswer = { readonly status: typeof NT_STATUS.SUCCESS; readonly output: Buffer } | { readonly status: number; readonly output: null }

/**
 * MS-FSA 2.1.5.10.1 from the point where the file's object ID is known: an output buffer
 * smaller than FILE_OBJECTID_BUFFER fails with STATUS_INVALID_PARAMETER, else the 64 bytes.
 */
export function createOrGetObjectId(maxOutputResponse: number, id: FileObjectId): ObjectIdAnswer {
  if (maxOutputResponse < FILE_OBJECTID_BUFFER_BYTES) return { status: NT_STATUS.INVALID_PARAMETER, output: null }
  return { status: NT_STATUS.SUCCESS, output: encodeFileObjectIdBuffer(id) }
}

export function encodeFileObjectIdBuffer(id: FileObjectId): Buffer {
  const out = Buffer.alloc(FILE_OBJECTID_BUFFER_BYTES)
  const fields = [id.objectId, id.birthVolumeId, id.birthObjectId, id.domainId]
  fields.forEach((f, i) => {
    if (f.byteLength !== OBJECT_ID_BYTES) throw new RangeError(`an object ID field is ${OBJECT_ID_BYTES} bytes, not ${f.byteLength}`)
    out.set(f, i * OBJECT_ID_BYTES)
  })
  return out
}

/** Reads a FILE_OBJECTID_BUFFER (a client's view): exactly 64 bytes. */
export function decodeFileObjectIdBuffer(output: Uint8Array): FsctlDecoded<FileObjectId> {
  if (output.byteLength !== FILE_OBJECTID_BUFFER_BYTES) return { ok: false, reason: `FILE_OBJECTID_BUFFER is ${FILE_OBJECTID_BUFFER_BYTES} bytes, not ${output.byteLength}` }
  const field = (i: number) => new Uint8Array(output.subarray(i * OBJECT_ID_BYTES, (i + 1) * OBJECT_ID_BYTES))
  return { ok: true, value: { objectId: field(0), birthVolumeId: field(1), birthObjectId: field(2), domainId: field(3) } }
}

function checkGuid(guid: Buffer): void {
  if (guid.length !== GUID_BYTES) throw new RangeError(`a GUID is ${GUID_BYTES} bytes, not ${guid.length}`)
}
