// SMB2 IOCTL request and response (MS-SMB2 2.2.31, 2.2.32). The control codes and the FSCTL
// structures inside the input and output buffers are in fsctl.ts.
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, align8, decodeBody, fixedBody } from './message-reader.js'

export const IOCTL_REQUEST_SIZE = 57
export const IOCTL_RESPONSE_SIZE = 49

/** Flags (2.2.31): an FSCTL, the only kind a server accepts. */
export const IOCTL_FLAGS = { IS_FSCTL: 0x00000001 } as const

export interface IoctlRequest {
  readonly ctlCode: number
  readonly fileId: Smb2FileId
  readonly input: Buffer
  readonly maxInputResponse: number
  /** Clients send none; kept for completeness. */
  readonly output: Buffer
  readonly maxOutputResponse: number
  readonly flags: number
}

export interface IoctlResponse {
  readonly ctlCode: number
  readonly fileId: Smb2FileId
  readonly input: Buffer
  readonly output: Buffer
  readonly flags: number
}

const REQUEST_FIXED = SMB2_HEADER_BYTES + IOCTL_REQUEST_SIZE - 1
const RESPONSE_FIXED = SMB2_HEADER_BYTES + IOCTL_RESPONSE_SIZE - 1

export function decodeIoctlRequest(msg: Buffer): Decoded<IoctlRequest> {
  return decodeBody(msg, IOCTL_REQUEST_SIZE, 'IOCTL', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      ctlCode: r.u32(b + 4),
      fileId: readFileId(r, b + 8),
      input: r.variable(r.u32(b + 24), r.u32(b + 28), REQUEST_FIXED, 'IOCTL input'),
      maxInputResponse: r.u32(b + 32),
      output: r.variable(r.u32(b + 36), r.u32(b + 40), REQUEST_FIXED, 'IOCTL output'),
      maxOutputResponse: r.u32(b + 44),
      flags: r.u32(b + 48),
    }
  })
}

function twoBuffers(body: Buffer, fixedEnd: number, first: Buffer, second: Buffer, at: { first: number; second: number }): Buffer[] {
  const firstAt = fixedEnd
  const secondAt = align8(firstAt + first.length)
  body.writeUInt32LE(firstAt, at.first)
  body.writeUInt32LE(first.length, at.first + 4)
  body.writeUInt32LE(second.length === 0 ? 0 : secondAt, at.second)
  body.writeUInt32LE(second.length, at.second + 4)
  const parts = [body, first]
  if (second.length > 0) parts.push(Buffer.alloc(secondAt - firstAt - first.length), second)
  if (first.length + second.length === 0) parts.push(Buffer.alloc(1))
  return parts
}

export function encodeIoctlRequest(req: IoctlRequest): Buffer {
  const body = fixedBody(IOCTL_REQUEST_SIZE)
  body.writeUInt32LE(req.ctlCode >>> 0, 4)
  writeFileId(body, 8, req.fileId)
  const parts = twoBuffers(body, REQUEST_FIXED, req.input, req.output, { first: 24, second: 36 })
  body.writeUInt32LE(req.maxInputResponse >>> 0, 32)
  body.writeUInt32LE(req.maxOutputResponse >>> 0, 44)
  body.writeUInt32LE(req.flags >>> 0, 48)
  return Buffer.concat(parts)
}

export function encodeIoctlResponse(res: IoctlResponse): Buffer {
  const body = fixedBody(IOCTL_RESPONSE_SIZE)
  body.writeUInt32LE(res.ctlCode >>> 0, 4)
  writeFileId(body, 8, res.fileId)
  const parts = twoBuffers(body, RESPONSE_FIXED, res.input, res.output, { first: 24, second: 32 })
  // Windows names the output at the end of the fixed part even when it is empty.
  if (res.output.length === 0) body.writeUInt32LE(RESPONSE_FIXED + res.input.length, 32)
  body.writeUInt32LE(res.flags >>> 0, 40)
  return Buffer.concat(parts)
}

export function decodeIoctlResponse(msg: Buffer): Decoded<IoctlResponse> {
  return decodeBody(msg, IOCTL_RESPONSE_SIZE, 'IOCTL response', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      ctlCode: r.u32(b + 4),
      fileId: readFileId(r, b + 8),
      input: r.variable(r.u32(b + 24), r.u32(b + 28), RESPONSE_FIXED, 'IOCTL input'),
      output: r.variable(r.u32(b + 32), r.u32(b + 36), RESPONSE_FIXED, 'IOCTL output'),
      flags: r.u32(b + 40),
    }
  })
}
