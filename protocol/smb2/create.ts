// SMB2 CREATE request and response (MS-SMB2 2.2.13, 2.2.14) and CLOSE (2.2.15, 2.2.16).
import { type CreateContext, encodeCreateContexts, readCreateContexts } from './create-contexts.js'
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, align8, decodeBody, fixedBody } from './message-reader.js'

export const CREATE_REQUEST_SIZE = 57
export const CREATE_RESPONSE_SIZE = 89
export const CLOSE_REQUEST_SIZE = 24
export const CLOSE_RESPONSE_SIZE = 60

/** Longest file name in a CREATE: Windows' 32,767 UTF-16 units. */
export const CREATE_NAME_BYTES_MAX = 2 * 32_767

/** RequestedOplockLevel / OplockLevel (2.2.13). */
export const OPLOCK_LEVEL = { NONE: 0x00, II: 0x01, EXCLUSIVE: 0x08, BATCH: 0x09, LEASE: 0xff } as const

/** CreateOptions (2.2.13). */
export const CREATE_OPTIONS = {
  DIRECTORY_FILE: 0x00000001,
  WRITE_THROUGH: 0x00000002,
  SEQUENTIAL_ONLY: 0x00000004,
  NO_INTERMEDIATE_BUFFERING: 0x00000008,
  SYNCHRONOUS_IO_ALERT: 0x00000010,
  SYNCHRONOUS_IO_NONALERT: 0x00000020,
  NON_DIRECTORY_FILE: 0x00000040,
  COMPLETE_IF_OPLOCKED: 0x00000100,
  NO_EA_KNOWLEDGE: 0x00000200,
  RANDOM_ACCESS: 0x00000800,
  DELETE_ON_CLOSE: 0x00001000,
  OPEN_BY_FILE_ID: 0x00002000,
  OPEN_FOR_BACKUP_INTENT: 0x00004000,
  NO_COMPRESSION: 0x00008000,
  OPEN_REPARSE_POINT: 0x00200000,
  OPEN_NO_RECALL: 0x00400000,
  OPEN_FOR_FREE_SPACE_QUERY: 0x00800000,
} as const

/** CreateAction of the response (2.2.14). */
export const CREATE_ACTION = { SUPERSEDED: 0, OPENED: 1, CREATED: 2, OVERWRITTEN: 3 } as const

/** Flags of CLOSE (2.2.15). */
export const CLOSE_FLAGS = { POSTQUERY_ATTRIB: 0x0001 } as const

export interface CreateRequest {
  readonly securityFlags: number
  readonly requestedOplockLevel: number
  readonly impersonationLevel: number
  readonly smbCreateFlags: bigint
  readonly desiredAccess: number
  readonly fileAttributes: number
  readonly shareAccess: number
  readonly createDisposition: number
  readonly createOptions: number
  /** Share-relative, '\' separated; '' for the share's root. */
  readonly name: string
  readonly createContexts: readonly CreateContext[]
}

/** The times (FILETIME), sizes and attributes a CREATE and a CLOSE with POSTQUERY_ATTRIB return. */
export interface FileAttributesSnapshot {
  readonly creationTime: bigint
  readonly lastAccessTime: bigint
  readonly lastWriteTime: bigint
  readonly changeTime: bigint
  readonly allocationSize: bigint
  readonly endOfFile: bigint
  readonly fileAttributes: number
}

export interface CreateResponse extends FileAttributesSnapshot {
  readonly oplockLevel: number
  readonly flags: number
  readonly createAction: number
  readonly fileId: Smb2FileId
  readonly createContexts: readonly CreateContext[]
}

export interface CloseRequest {
  readonly flags: number
  readonly fileId: Smb2FileId
}

export interface CloseResponse extends FileAttributesSnapshot {
  readonly flags: number
}

const CREATE_REQUEST_FIXED = SMB2_HEADER_BYTES + CREATE_REQUEST_SIZE - 1
const CREATE_RESPONSE_FIXED = SMB2_HEADER_BYTES + CREATE_RESPONSE_SIZE - 1

export function decodeCreateRequest(msg: Buffer): Decoded<CreateRequest> {
  return decodeBody(msg, CREATE_REQUEST_SIZE, 'CREATE', (r) => {
    const b = SMB2_HEADER_BYTES
    const nameLength = r.u16(b + 46)
    if (nameLength > CREATE_NAME_BYTES_MAX) r.fail(`CREATE name of ${nameLength} bytes`)
    const name = r.utf16(r.variable(r.u16(b + 44), nameLength, CREATE_REQUEST_FIXED, 'CREATE name'), 'CREATE name')
    const region = r.variable(r.u32(b + 48), r.u32(b + 52), CREATE_REQUEST_FIXED, 'create contexts')
    return {
      securityFlags: r.u8(b + 2),
      requestedOplockLevel: r.u8(b + 3),
      impersonationLevel: r.u32(b + 4),
      smbCreateFlags: r.u64(b + 8),
      desiredAccess: r.u32(b + 24),
      fileAttributes: r.u32(b + 28),
      shareAccess: r.u32(b + 32),
      createDisposition: r.u32(b + 36),
      createOptions: r.u32(b + 40),
      name,
      createContexts: readCreateContexts(r, region),
    }
  })
}

export function encodeCreateRequest(req: CreateRequest): Buffer {
  const body = fixedBody(CREATE_REQUEST_SIZE)
  body.writeUInt8(req.securityFlags, 2)
  body.writeUInt8(req.requestedOplockLevel, 3)
  body.writeUInt32LE(req.impersonationLevel >>> 0, 4)
  body.writeBigUInt64LE(req.smbCreateFlags, 8)
  body.writeUInt32LE(req.desiredAccess >>> 0, 24)
  body.writeUInt32LE(req.fileAttributes >>> 0, 28)
  body.writeUInt32LE(req.shareAccess >>> 0, 32)
  body.writeUInt32LE(req.createDisposition >>> 0, 36)
  body.writeUInt32LE(req.createOptions >>> 0, 40)
  const name = Buffer.from(req.name, 'utf16le')
  body.writeUInt16LE(CREATE_REQUEST_FIXED, 44)
  body.writeUInt16LE(name.length, 46)
  // Windows sends at least one byte of buffer even for the root's empty name.
  const nameBytes = name.length === 0 ? Buffer.alloc(1) : name
  if (req.createContexts.length === 0) return Buffer.concat([body, nameBytes])
  const end = CREATE_REQUEST_FIXED + nameBytes.length
  const contextsAt = align8(end)
  const contexts = encodeCreateContexts(req.createContexts)
  body.writeUInt32LE(contextsAt, 48)
  body.writeUInt32LE(contexts.length, 52)
  return Buffer.concat([body, nameBytes, Buffer.alloc(contextsAt - end), contexts])
}

function writeSnapshot(out: Buffer, at: number, s: FileAttributesSnapshot): void {
  out.writeBigUInt64LE(s.creationTime, at)
  out.writeBigUInt64LE(s.lastAccessTime, at + 8)
  out.writeBigUInt64LE(s.lastWriteTime, at + 16)
  out.writeBigUInt64LE(s.changeTime, at + 24)
  out.writeBigUInt64LE(s.allocationSize, at + 32)
  out.writeBigUInt64LE(s.endOfFile, at + 40)
  out.writeUInt32LE(s.fileAttributes >>> 0, at + 48)
}

function readSnapshot(r: { u64(o: number): bigint; u32(o: number): number }, at: number): FileAttributesSnapshot {
  return {
    creationTime: r.u64(at),
    lastAccessTime: r.u64(at + 8),
    lastWriteTime: r.u64(at + 16),
    changeTime: r.u64(at + 24),
    allocationSize: r.u64(at + 32),
    endOfFile: r.u64(at + 40),
    fileAttributes: r.u32(at + 48),
  }
}

export function encodeCreateResponse(res: CreateResponse): Buffer {
  const body = fixedBody(CREATE_RESPONSE_SIZE)
  body.writeUInt8(res.oplockLevel, 2)
  body.writeUInt8(res.flags, 3)
  body.writeUInt32LE(res.createAction >>> 0, 4)
  writeSnapshot(body, 8, res)
  writeFileId(body, 64, res.fileId)
  if (res.createContexts.length === 0) return Buffer.concat([body, Buffer.alloc(1)])
  const contexts = encodeCreateContexts(res.createContexts)
  body.writeUInt32LE(CREATE_RESPONSE_FIXED, 80)
  body.writeUInt32LE(contexts.length, 84)
  return Buffer.concat([body, contexts])
}

export function decodeCreateResponse(msg: Buffer): Decoded<CreateResponse> {
  return decodeBody(msg, CREATE_RESPONSE_SIZE, 'CREATE response', (r) => {
    const b = SMB2_HEADER_BYTES
    const region = r.variable(r.u32(b + 80), r.u32(b + 84), CREATE_RESPONSE_FIXED, 'create contexts')
    return {
      oplockLevel: r.u8(b + 2),
      flags: r.u8(b + 3),
      createAction: r.u32(b + 4),
      ...readSnapshot(r, b + 8),
      fileId: readFileId(r, b + 64),
      createContexts: readCreateContexts(r, region),
    }
  })
}

export function decodeCloseRequest(msg: Buffer): Decoded<CloseRequest> {
  return decodeBody(msg, CLOSE_REQUEST_SIZE, 'CLOSE', (r) => ({ flags: r.u16(SMB2_HEADER_BYTES + 2), fileId: readFileId(r, SMB2_HEADER_BYTES + 8) }))
}

export function encodeCloseRequest(req: CloseRequest): Buffer {
  const body = fixedBody(CLOSE_REQUEST_SIZE)
  body.writeUInt16LE(req.flags, 2)
  writeFileId(body, 8, req.fileId)
  return body
}

export function encodeCloseResponse(res: CloseResponse): Buffer {
  const body = fixedBody(CLOSE_RESPONSE_SIZE)
  body.writeUInt16LE(res.flags, 2)
  writeSnapshot(body, 8, res)
  return body
}

export function decodeCloseResponse(msg: Buffer): Decoded<CloseResponse> {
  return decodeBody(msg, CLOSE_RESPONSE_SIZE, 'CLOSE response', (r) => ({ flags: r.u16(SMB2_HEADER_BYTES + 2), ...readSnapshot(r, SMB2_HEADER_BYTES + 8) }))
}
