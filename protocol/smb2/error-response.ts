// The SMB2 ERROR response (MS-SMB2 2.2.2): what a failed request gets unless its command
// defines another failure body. ErrorData is empty but for a few statuses (a symbolic link,
// STATUS_BUFFER_TOO_SMALL's u32 of the size needed, 3.1.1 error contexts).
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const ERROR_RESPONSE_SIZE = 9

export interface ErrorResponse {
  readonly errorContextCount: number
  readonly errorData: Buffer
}

export function encodeErrorResponse(res: ErrorResponse = { errorContextCount: 0, errorData: Buffer.alloc(0) }): Buffer {
  const body = fixedBody(ERROR_RESPONSE_SIZE)
  body.writeUInt8(res.errorContextCount, 2)
  body.writeUInt32LE(res.errorData.length, 4)
  // With no ErrorData one byte of zero still follows (2.2.2).
  return Buffer.concat([body, res.errorData.length === 0 ? Buffer.alloc(1) : res.errorData])
}

export function decodeErrorResponse(msg: Buffer): Decoded<ErrorResponse> {
  return decodeBody(msg, ERROR_RESPONSE_SIZE, 'ERROR response', (r) => {
    const b = SMB2_HEADER_BYTES
    const byteCount = r.u32(b + 4)
    return { errorContextCount: r.u8(b + 2), errorData: r.bytes(b + 8, byteCount) }
  })
}
