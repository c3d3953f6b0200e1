// SMB2 QUERY_INFO (MS-SMB2 2.2.37; the response is an output-buffer response) and SET_INFO
// (2.2.39; the response is StructureSize 2) requests. The information classes inside the
// buffers have their own codecs (file-info.ts, fs-info.ts), with InfoType.
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const QUERY_INFO_REQUEST_SIZE = 41
export const SET_INFO_REQUEST_SIZE = 33

/** A bound on a SET_INFO buffer or a QUERY_INFO input: far beyond any information class but a security descriptor. */
export const INFO_BUFFER_BYTES_MAX = 64 * 1024

export interface QueryInfoRequest {
  readonly infoType: number
  readonly fileInfoClass: number
  readonly outputBufferLength: number
  readonly input: Buffer
  readonly additionalInformation: number
  readonly flags: number
  readonly fileId: Smb2FileId
}

export interface SetInfoRequest {
  readonly infoType: number
  readonly fileInfoClass: number
  readonly buffer: Buffer
  readonly additionalInformation: number
  readonly fileId: Smb2FileId
}

const QUERY_FIXED = SMB2_HEADER_BYTES + QUERY_INFO_REQUEST_SIZE - 1
const SET_FIXED = SMB2_HEADER_BYTES + SET_INFO_REQUEST_SIZE - 1

export function decodeQueryInfoRequest(msg: Buffer): Decoded<QueryInfoRequest> {
  return decodeBody(msg, QUERY_INFO_REQUEST_SIZE, 'QUERY_INFO', (r) => {
    const b = SMB2_HEADER_BYTES
    const inputLength = r.u32(b + 12)
    if (inputLength > INFO_BUFFER_BYTES_MAX) r.fail(`QUERY_INFO input of ${inputLength} bytes`)
    return {
      infoType: r.u8(b + 2),
      fileInfoClass: r.u8(b + 3),
      outputBufferLength: r.u32(b + 4),
      input: r.variable(r.u16(b + 8), inputLength, QUERY_FIXED, 'QUERY_INFO input'),
      additionalInformation: r.u32(b + 16),
      flags: r.u32(b + 20),
      fileId: readFileId(r, b + 24),
    }
  })
}

export function encodeQueryInfoRequest(req: QueryInfoRequest): Buffer {
  const body = fixedBody(QUERY_INFO_REQUEST_SIZE)
  body.writeUInt8(req.infoType, 2)
  body.writeUInt8(req.fileInfoClass, 3)
  body.writeUInt32LE(req.outputBufferLength >>> 0, 4)
  body.writeUInt16LE(req.input.length === 0 ? 0 : QUERY_FIXED, 8)
  body.writeUInt32LE(req.input.length, 12)
  body.writeUInt32LE(req.additionalInformation >>> 0, 16)
  body.writeUInt32LE(req.flags >>> 0, 20)
  writeFileId(body, 24, req.fileId)
  return Buffer.concat([body, req.input.length === 0 ? Buffer.alloc(1) : req.input])
}

export function decodeSetInfoRequest(msg: Buffer): Decoded<SetInfoRequest> {
  return decodeBody(msg, SET_INFO_REQUEST_SIZE, 'SET_INFO', (r) => {
    const b = SMB2_HEADER_BYTES
    const length = r.u32(b + 4)
    if (length > INFO_BUFFER_BYTES_MAX) r.fail(`SET_INFO buffer of ${length} bytes`)
    return {
      infoType: r.u8(b + 2),
      fileInfoClass: r.u8(b + 3),
      buffer: r.variable(r.u16(b + 8), length, SET_FIXED, 'SET_INFO buffer'),
      additionalInformation: r.u32(b + 12),
      fileId: readFileId(r, b + 16),
    }
  })
}

export function encodeSetInfoRequest(req: SetInfoRequest): Buffer {
  const body = fixedBody(SET_INFO_REQUEST_SIZE)
  body.writeUInt8(req.infoType, 2)
  body.writeUInt8(req.fileInfoClass, 3)
  body.writeUInt32LE(req.buffer.length, 4)
  body.writeUInt16LE(SET_FIXED, 8)
  body.writeUInt32LE(req.additionalInformation >>> 0, 12)
  writeFileId(body, 16, req.fileId)
  return Buffer.concat([body, req.buffer.length === 0 ? Buffer.alloc(1) : req.buffer])
}
