// SMB2 READ (MS-SMB2 2.2.19, 2.2.20), WRITE (2.2.21, 2.2.22) and FLUSH (2.2.17) bodies. The
// data of a WRITE request is a view into the frame and the data of a READ response goes out
// as its own buffer after the 16 bytes before it: neither is copied here.
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const READ_REQUEST_SIZE = 49
export const READ_RESPONSE_SIZE = 17
export const WRITE_REQUEST_SIZE = 49
export const WRITE_RESPONSE_SIZE = 17
export const FLUSH_REQUEST_SIZE = 24

/** Flags of READ (2.2.19): unbuffered (3.0.2), compressed (3.1.1). */
export const READ_FLAGS = { UNBUFFERED: 0x01, REQUEST_COMPRESSED: 0x02 } as const
/** Flags of WRITE (2.2.21). */
export const WRITE_FLAGS = { WRITE_THROUGH: 0x00000001, WRITE_UNBUFFERED: 0x00000002 } as const
/** Channel of READ and WRITE: NONE unless SMB Direct. */
export const CHANNEL = { NONE: 0, RDMA_V1: 1, RDMA_V1_INVALIDATE: 2, RDMA_TRANSFORM: 3 } as const

/** A READ response's data starts right after its 16 fixed bytes (Windows and Samba send 0x50). */
export const READ_RESPONSE_DATA_OFFSET = SMB2_HEADER_BYTES + READ_RESPONSE_SIZE - 1

export interface ReadRequest {
  readonly padding: number
  readonly flags: number
  readonly length: number
  readonly offset: bigint
  readonly fileId: Smb2FileId
  readonly minimumCount: number
  readonly channel: number
  readonly remainingBytes: number
  readonly readChannelInfo: Buffer
}

export interface ReadResponse {
  readonly dataRemaining: number
  /** Reserved2 before 3.1.1; SMB2_READFLAG_RESPONSE_RDMA_TRANSFORM after. */
  readonly flags: number
  readonly data: Buffer
}

export interface WriteRequest {
  readonly offset: bigint
  readonly fileId: Smb2FileId
  readonly channel: number
  readonly remainingBytes: number
  readonly writeChannelInfo: Buffer
  readonly flags: number
  readonly data: Buffer
}

export interface WriteResponse {
  readonly count: number
  readonly remaining: number
}

export interface FlushRequest {
  readonly fileId: Smb2FileId
}

const READ_REQUEST_FIXED = SMB2_HEADER_BYTES + READ_REQUEST_SIZE - 1
const WRITE_REQUEST_FIXED = SMB2_HEADER_BYTES + WRITE_REQUEST_SIZE - 1

export function decodeReadRequest(msg: Buffer): Decoded<ReadRequest> {
  return decodeBody(msg, READ_REQUEST_SIZE, 'READ', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      padding: r.u8(b + 2),
      flags: r.u8(b + 3),
      length: r.u32(b + 4),
      offset: r.u64(b + 8),
      fileId: readFileId(r, b + 16),
      minimumCount: r.u32(b + 32),
      channel: r.u32(b + 36),
      remainingBytes: r.u32(b + 40),
      readChannelInfo: r.variable(r.u16(b + 44), r.u16(b + 46), READ_REQUEST_FIXED, 'read channel info'),
    }
  })
}

export function encodeReadRequest(req: ReadRequest): Buffer {
  const body = fixedBody(READ_REQUEST_SIZE)
  body.writeUInt8(req.padding, 2)
  body.writeUInt8(req.flags, 3)
  body.writeUInt32LE(req.length >>> 0, 4)
  body.writeBigUInt64LE(req.offset, 8)
  writeFileId(body, 16, req.fileId)
  body.writeUInt32LE(req.minimumCount >>> 0, 32)
  body.writeUInt32LE(req.channel >>> 0, 36)
  body.writeUInt32LE(req.remainingBytes >>> 0, 40)
  if (req.readChannelInfo.length > 0) {
    body.writeUInt16LE(READ_REQUEST_FIXED, 44)
    body.writeUInt16LE(req.readChannelInfo.length, 46)
    return Buffer.concat([body, req.readChannelInfo])
  }
  // The one byte of Buffer every READ request carries (2.2.19).
  return Buffer.concat([body, Buffer.alloc(1)])
}

/** The response as two buffers: the 16 bytes before the data, and the data itself (not copied). */
export function encodeReadResponse(res: ReadResponse): Buffer[] {
  const body = fixedBody(READ_RESPONSE_SIZE)
  body.writeUInt8(READ_RESPONSE_DATA_OFFSET, 2)
  body.writeUInt32LE(res.data.length, 4)
  body.writeUInt32LE(res.dataRemaining >>> 0, 8)
  body.writeUInt32LE(res.flags >>> 0, 12)
  return [body, res.data.length === 0 ? Buffer.alloc(1) : res.data]
}

export function decodeReadResponse(msg: Buffer): Decoded<ReadResponse> {
  return decodeBody(msg, READ_RESPONSE_SIZE, 'READ response', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      dataRemaining: r.u32(b + 8),
      flags: r.u32(b + 12),
      data: r.variable(r.u8(b + 2), r.u32(b + 4), READ_RESPONSE_DATA_OFFSET, 'read data'),
    }
  })
}

export function decodeWriteRequest(msg: Buffer): Decoded<WriteRequest> {
  return decodeBody(msg, WRITE_REQUEST_SIZE, 'WRITE', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      offset: r.u64(b + 8),
      fileId: readFileId(r, b + 16),
      channel: r.u32(b + 32),
      remainingBytes: r.u32(b + 36),
      writeChannelInfo: r.variable(r.u16(b + 40), r.u16(b + 42), WRITE_REQUEST_FIXED, 'write channel info'),
      flags: r.u32(b + 44),
      data: r.variable(r.u16(b + 2), r.u32(b + 4), WRITE_REQUEST_FIXED, 'write data'),
    }
  })
}

/** The request as two buffers: the fixed part (with any channel info), then the data. */
export function encodeWriteRequest(req: WriteRequest): Buffer[] {
  const body = fixedBody(WRITE_REQUEST_SIZE)
  const dataAt = WRITE_REQUEST_FIXED + req.writeChannelInfo.length
  body.writeUInt16LE(dataAt, 2)
  body.writeUInt32LE(req.data.length, 4)
  body.writeBigUInt64LE(req.offset, 8)
  writeFileId(body, 16, req.fileId)
  body.writeUInt32LE(req.channel >>> 0, 32)
  body.writeUInt32LE(req.remainingBytes >>> 0, 36)
  if (req.writeChannelInfo.length > 0) {
    body.writeUInt16LE(WRITE_REQUEST_FIXED, 40)
    body.writeUInt16LE(req.writeChannelInfo.length, 42)
  }
  body.writeUInt32LE(req.flags >>> 0, 44)
  const parts = [body, req.writeChannelInfo, req.data]
  if (req.writeChannelInfo.length + req.data.length === 0) parts.push(Buffer.alloc(1))
  return parts
}

export function encodeWriteResponse(res: WriteResponse): Buffer {
  const body = fixedBody(WRITE_RESPONSE_SIZE, 16)
  body.writeUInt32LE(res.count >>> 0, 4)
  body.writeUInt32LE(res.remaining >>> 0, 8)
  return body
}

export function decodeWriteResponse(msg: Buffer): Decoded<WriteResponse> {
  return decodeBody(msg, WRITE_RESPONSE_SIZE, 'WRITE response', (r) => ({ count: r.u32(SMB2_HEADER_BYTES + 4), remaining: r.u32(SMB2_HEADER_BYTES + 8) }))
}

export function decodeFlushRequest(msg: Buffer): Decoded<FlushRequest> {
  return decodeBody(msg, FLUSH_REQUEST_SIZE, 'FLUSH', (r) => ({ fileId: readFileId(r, SMB2_HEADER_BYTES + 8) }))
}

export function encodeFlushRequest(req: FlushRequest): Buffer {
  const body = fixedBody(FLUSH_REQUEST_SIZE)
  writeFileId(body, 8, req.fileId)
  return body
}
