// SMB2_CREATE_CONTEXT chains (MS-SMB2 2.2.13.2, 2.2.14.2) and the contexts this server reads
// or answers. A chain is a list of 8-byte aligned entries, each with Next (the offset of the
// following entry from this one; 0 for the last), a name and data addressed from the entry.
// Every entry is parsed and bounds-checked; what a name means is for the server to decide (it
// answers MxAc and QFid and ignores names it does not know, as 3.3.5.9 says).
import { uuidFromNdrBytes, uuidToNdrBytes } from '../dcerpc/pdu-codec.js'
import { type Decoded, MessageReader, align8, decodeRaw } from './message-reader.js'
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'

export interface CreateContext {
  /** The raw name: 4 ASCII bytes for most, a 16-byte GUID for a few. */
  readonly name: Buffer
  readonly data: Buffer
}

/** A bound on the contexts of one CREATE (Windows sends at most about ten). */
export const CREATE_CONTEXTS_MAX = 64
const ENTRY_HEADER_BYTES = 16

/** The tags of the create contexts this codec knows (2.2.13.2). */
export const CREATE_CONTEXT = {
  EA_BUFFER: 'ExtA',
  SD_BUFFER: 'SecD',
  DURABLE_HANDLE_REQUEST: 'DHnQ',
  DURABLE_HANDLE_RECONNECT: 'DHnC',
  ALLOCATION_SIZE: 'AlSi',
  QUERY_MAXIMAL_ACCESS: 'MxAc',
  TIMEWARP_TOKEN: 'TWrp',
  QUERY_ON_DISK_ID: 'QFid',
  REQUEST_LEASE: 'RqLs',
  DURABLE_HANDLE_REQUEST_V2: 'DH2Q',
  DURABLE_HANDLE_RECONNECT_V2: 'DH2C',
  /** SMB2_CREATE_APP_INSTANCE_ID: a GUID name. */
  APP_INSTANCE_ID: '45bca66a-efa7-f74a-9008-fa462e144d74',
  APP_INSTANCE_VERSION: 'b982d0b7-3b56-074f-a07b-524a8116a010',
  SVHDX_OPEN_DEVICE_CONTEXT: '9ccbcf9e-04c1-e643-98e4-158b4e9f6ccb',
} as const

/**
 * The tag of a context name: the ASCII text of a 4-byte name, the GUID text (bytes in wire
 * order, as the spec prints them) of a 16-byte one, hex otherwise.
 */
export function createContextTag(name: Buffer): string {
  if (name.length === 4 && /^[\x20-\x7e]{4}$/.test(name.toString('latin1'))) return name.toString('latin1')
  if (name.length === 16) {
    const h = name.toString('hex')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
  return name.toString('hex')
}

/** The wire name of a tag from CREATE_CONTEXT. */
export function createContextName(tag: string): Buffer {
  if (tag.length === 4) return Buffer.from(tag, 'latin1')
  return Buffer.from(tag.replace(/-/g, ''), 'hex')
}

export function findCreateContext(contexts: readonly CreateContext[], tag: string): CreateContext | undefined {
  return contexts.find((c) => createContextTag(c.name) === tag)
}

/** Reads the chain in region (the bytes CreateContextsOffset/Length name). */
export function readCreateContexts(r: MessageReader, region: Buffer): CreateContext[] {
  const contexts: CreateContext[] = []
  let at = 0
  while (region.length > 0) {
    if (contexts.length >= CREATE_CONTEXTS_MAX) r.fail(`more than ${CREATE_CONTEXTS_MAX} create contexts`)
    if (region.length - at < ENTRY_HEADER_BYTES) r.fail(`create context ${contexts.length} is shorter than its header`)
    const next = region.readUInt32LE(at)
    const end = next === 0 ? region.length : at + next
    if (next !== 0 && (next % 8 !== 0 || next < ENTRY_HEADER_BYTES || end > region.length)) r.fail(`create context ${contexts.length} has a bad Next ${next}`)
    const entry = region.subarray(at, end)
    const nameOffset = entry.readUInt16LE(4)
    const nameLength = entry.readUInt16LE(6)
    const dataOffset = entry.readUInt16LE(10)
    const dataLength = entry.readUInt32LE(12)
    // 3.3.5.9: a name shorter than 4 bytes or a name or data outside the entry is malformed.
    if (nameLength < 4 || nameOffset < ENTRY_HEADER_BYTES || nameOffset + nameLength > entry.length) r.fail(`create context ${contexts.length} has a bad name`)
    if (dataLength > 0 && (dataOffset < ENTRY_HEADER_BYTES || dataOffset + dataLength > entry.length)) r.fail(`create context ${contexts.length} has bad data`)
    contexts.push({ name: entry.subarray(nameOffset, nameOffset + nameLength), data: entry.subarray(dataOffset, dataOffset + dataLength) })
    if (next === 0) break
    at = end
  }
  return contexts
}

/** The chain, each entry padded to 8 bytes but the last. */
export function encodeCreateContexts(contexts: readonly CreateContext[]): Buffer {
  const parts: Buffer[] = []
  contexts.forEach((c, i) => {
    const nameOffset = ENTRY_HEADER_BYTES
    const dataOffset = c.data.length === 0 ? 0 : align8(nameOffset + c.name.length)
    const entryLength = c.data.length === 0 ? nameOffset + c.name.length : dataOffset + c.data.length
    const last = i === contexts.length - 1
    const entry = Buffer.alloc(last ? entryLength : align8(entryLength))
    entry.writeUInt32LE(last ? 0 : entry.length, 0)
    entry.writeUInt16LE(nameOffset, 4)
    entry.writeUInt16LE(c.name.length, 6)
    entry.writeUInt16LE(dataOffset, 10)
    entry.writeUInt32LE(c.data.length, 12)
    c.name.copy(entry, nameOffset)
    c.data.copy(entry, dataOffset)
    parts.push(entry)
  })
  return Buffer.concat(parts)
}

// ---- the contexts' data (2.2.13.2.x requests, 2.2.14.2.x responses) ----

/** MxAc request (2.2.13.2.5): empty, or a FILETIME the access is asked as of. */
export function decodeMaximalAccessRequest(data: Buffer): Decoded<{ readonly timestamp: bigint | null }> {
  return decodeRaw(data, (r) => {
    if (data.length === 0) return { timestamp: null }
    if (data.length !== 8) r.fail(`MxAc request of ${data.length} bytes`)
    return { timestamp: r.u64(0) }
  })
}

/** SMB2_CREATE_ALLOCATION_SIZE (AlSi, 2.2.13.2.6): the allocation a new or overwritten file gets. */
export function decodeAllocationSize(data: Buffer): Decoded<{ readonly allocationBytes: bigint }> {
  return decodeRaw(data, (r) => {
    if (data.length !== 8) r.fail(`AlSi context of ${data.length} bytes`)
    return { allocationBytes: r.u64(0) }
  })
}

export function encodeAllocationSize(allocationBytes: bigint): Buffer {
  const out = Buffer.alloc(8)
  out.writeBigUInt64LE(allocationBytes, 0)
  return out
}

/** MxAc response (2.2.14.2.5). */
export function encodeMaximalAccessResponse(queryStatus: number, maximalAccess: number): Buffer {
  const out = Buffer.alloc(8)
  out.writeUInt32LE(queryStatus >>> 0, 0)
  out.writeUInt32LE(maximalAccess >>> 0, 4)
  return out
}

export function decodeMaximalAccessResponse(data: Buffer): Decoded<{ readonly queryStatus: number; readonly maximalAccess: number }> {
  return decodeRaw(data, (r) => ({ queryStatus: r.u32(0), maximalAccess: r.u32(4) }))
}

/** QFid response (2.2.14.2.9): a 32-byte on-disk id and a volume id. */
export function encodeQueryOnDiskIdResponse(diskFileId: Buffer, volumeId: bigint): Buffer {
  const out = Buffer.alloc(32)
  diskFileId.copy(out, 0, 0, 16)
  out.writeBigUInt64LE(volumeId, 16)
  return out
}

export function decodeQueryOnDiskIdResponse(data: Buffer): Decoded<{ readonly diskFileId: Buffer; readonly volumeId: bigint }> {
  return decodeRaw(data, (r) => ({ diskFileId: r.bytes(0, 16), volumeId: r.u64(16) }))
}

/** DHnQ (2.2.13.2.3): 16 reserved bytes; the server answers with 8 reserved bytes (2.2.14.2.3). */
export function decodeDurableRequestV1(data: Buffer): Decoded<Record<string, never>> {
  return decodeRaw(data, (r) => {
    if (data.length !== 16) r.fail(`DHnQ of ${data.length} bytes`)
    return {}
  })
}

export function encodeDurableResponseV1(): Buffer {
  return Buffer.alloc(8)
}

/** DHnC (2.2.13.2.4): the FileId of the open to reconnect to. */
export function decodeDurableReconnectV1(data: Buffer): Decoded<{ readonly fileId: Smb2FileId }> {
  return decodeRaw(data, (r) => {
    if (data.length !== 16) r.fail(`DHnC of ${data.length} bytes`)
    return { fileId: readFileId(r, 0) }
  })
}

export function encodeDurableReconnectV1(fileId: Smb2FileId): Buffer {
  const out = Buffer.alloc(16)
  writeFileId(out, 0, fileId)
  return out
}

/** DH2Q flags (2.2.13.2.11). */
export const DH2Q_FLAGS = { PERSISTENT: 0x00000002 } as const

export interface DurableRequestV2 {
  readonly timeoutMs: number
  readonly flags: number
  readonly createGuid: string
}

export function decodeDurableRequestV2(data: Buffer): Decoded<DurableRequestV2> {
  return decodeRaw(data, (r) => {
    if (data.length !== 32) r.fail(`DH2Q of ${data.length} bytes`)
    return { timeoutMs: r.u32(0), flags: r.u32(4), createGuid: uuidFromNdrBytes(r.bytes(16, 16), 0, true) }
  })
}

export function encodeDurableRequestV2(d: DurableRequestV2): Buffer {
  const out = Buffer.alloc(32)
  out.writeUInt32LE(d.timeoutMs >>> 0, 0)
  out.writeUInt32LE(d.flags >>> 0, 4)
  uuidToNdrBytes(d.createGuid).copy(out, 16)
  return out
}

/** DH2Q response (2.2.14.2.12). */
export function encodeDurableResponseV2(timeoutMs: number, flags: number): Buffer {
  const out = Buffer.alloc(8)
  out.writeUInt32LE(timeoutMs >>> 0, 0)
  out.writeUInt32LE(flags >>> 0, 4)
  return out
}

/** The DH2Q response's data (2.2.14.2.12): the Timeout granted and its Flags (PERSISTENT when the open is persistent). */
export function decodeDurableResponseV2(data: Buffer): Decoded<{ readonly timeoutMs: number; readonly flags: number }> {
  return decodeRaw(data, (r) => {
    if (data.length < 8) r.fail(`DH2Q response of ${data.length} bytes`)
    return { timeoutMs: r.u32(0), flags: r.u32(4) }
  })
}

export interface DurableReconnectV2 {
  readonly fileId: Smb2FileId
  readonly createGuid: string
  readonly flags: number
}

export function decodeDurableReconnectV2(data: Buffer): Decoded<DurableReconnectV2> {
  return decodeRaw(data, (r) => {
    if (data.length !== 36) r.fail(`DH2C of ${data.length} bytes`)
    return { fileId: readFileId(r, 0), createGuid: uuidFromNdrBytes(r.bytes(16, 16), 0, true), flags: r.u32(32) }
  })
}

export function encodeDurableReconnectV2(d: DurableReconnectV2): Buffer {
  const out = Buffer.alloc(36)
  writeFileId(out, 0, d.fileId)
  uuidToNdrBytes(d.createGuid).copy(out, 16)
  out.writeUInt32LE(d.flags >>> 0, 32)
  return out
}

/** SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13): StructureSize 20, then the GUID. */
export function decodeAppInstanceId(data: Buffer): Decoded<{ readonly appInstanceId: string }> {
  return decodeRaw(data, (r) => {
    if (data.length !== 20 || r.u16(0) !== 20) r.fail('malformed SMB2_CREATE_APP_INSTANCE_ID')
    return { appInstanceId: uuidFromNdrBytes(r.bytes(4, 16), 0, true) }
  })
}

export function encodeAppInstanceId(appInstanceId: string): Buffer {
  const out = Buffer.alloc(20)
  out.writeUInt16LE(20, 0)
  uuidToNdrBytes(appInstanceId).copy(out, 4)
  return out
}

/** SMB2_CREATE_REQUEST_LEASE (v1, 32 bytes) and _V2 (52 bytes) (2.2.13.2.8, 2.2.13.2.10). */
export interface LeaseRequest {
  readonly leaseKey: Buffer
  readonly leaseState: number
  readonly leaseFlags: number
  /** v2 only. */
  readonly parentLeaseKey: Buffer | null
  readonly epoch: number
}

export function decodeLeaseRequest(data: Buffer): Decoded<LeaseRequest> {
  return decodeRaw(data, (r) => {
    if (data.length !== 32 && data.length !== 52) r.fail(`RqLs of ${data.length} bytes`)
    const v2 = data.length === 52
    return {
      leaseKey: r.bytes(0, 16),
      leaseState: r.u32(16),
      leaseFlags: r.u32(20),
      parentLeaseKey: v2 ? r.bytes(32, 16) : null,
      epoch: v2 ? r.u16(48) : 0,
    }
  })
}

export function encodeLease(lease: LeaseRequest): Buffer {
  const out = Buffer.alloc(lease.parentLeaseKey ? 52 : 32)
  lease.leaseKey.copy(out, 0, 0, 16)
  out.writeUInt32LE(lease.leaseState >>> 0, 16)
  out.writeUInt32LE(lease.leaseFlags >>> 0, 20)
  if (lease.parentLeaseKey) {
    lease.parentLeaseKey.copy(out, 32, 0, 16)
    out.writeUInt16LE(lease.epoch, 48)
  }
  return out
}
