// SMB2 SESSION_SETUP request and response (MS-SMB2 2.2.5, 2.2.6).
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const SESSION_SETUP_REQUEST_SIZE = 25
export const SESSION_SETUP_RESPONSE_SIZE = 9

/** Flags of the request (2.2.5). */
export const SESSION_SETUP_FLAGS = { BINDING: 0x01 } as const

/** SessionFlags of the response (2.2.6). */
export const SESSION_FLAGS = { IS_GUEST: 0x0001, IS_NULL: 0x0002, ENCRYPT_DATA: 0x0004 } as const

export interface SessionSetupRequest {
  readonly flags: number
  readonly securityMode: number
  readonly capabilities: number
  readonly channel: number
  readonly previousSessionId: bigint
  /** The GSS (SPNEGO) token. */
  readonly securityBuffer: Buffer
}

export interface SessionSetupResponse {
  readonly sessionFlags: number
  readonly securityBuffer: Buffer
}

const REQUEST_FIXED = SMB2_HEADER_BYTES + SESSION_SETUP_REQUEST_SIZE - 1
const RESPONSE_FIXED = SMB2_HEADER_BYTES + SESSION_SETUP_RESPONSE_SIZE - 1

export function decodeSessionSetupRequest(msg: Buffer): Decoded<SessionSetupRequest> {
  return decodeBody(msg, SESSION_SETUP_REQUEST_SIZE, 'SESSION_SETUP', (r) => {
    const b = SMB2_HEADER_BYTES
    return {
      flags: r.u8(b + 2),
      securityMode: r.u8(b + 3),
      capabilities: r.u32(b + 4),
      channel: r.u32(b + 8),
      previousSessionId: r.u64(b + 16),
      securityBuffer: r.variable(r.u16(b + 12), r.u16(b + 14), REQUEST_FIXED, 'security buffer'),
    }
  })
}

export function encodeSessionSetupRequest(req: SessionSetupRequest): Buffer {
  const body = fixedBody(SESSION_SETUP_REQUEST_SIZE)
  body.writeUInt8(req.flags, 2)
  body.writeUInt8(req.securityMode, 3)
  body.writeUInt32LE(req.capabilities >>> 0, 4)
  body.writeUInt32LE(req.channel >>> 0, 8)
  body.writeUInt16LE(REQUEST_FIXED, 12)
  body.writeUInt16LE(req.securityBuffer.length, 14)
  body.writeBigUInt64LE(req.previousSessionId, 16)
  return Buffer.concat([body, req.securityBuffer])
}

export function encodeSessionSetupResponse(res: SessionSetupResponse): Buffer {
  const body = fixedBody(SESSION_SETUP_RESPONSE_SIZE)
  body.writeUInt16LE(res.sessionFlags, 2)
  body.writeUInt16LE(res.securityBuffer.length === 0 ? 0 : RESPONSE_FIXED, 4)
  body.writeUInt16LE(res.securityBuffer.length, 6)
  return Buffer.concat([body, res.securityBuffer.length === 0 ? Buffer.alloc(1) : res.securityBuffer])
}

export function decodeSessionSetupResponse(msg: Buffer): Decoded<SessionSetupResponse> {
  return decodeBody(msg, SESSION_SETUP_RESPONSE_SIZE, 'SESSION_SETUP response', (r) => {
    const b = SMB2_HEADER_BYTES
    return { sessionFlags: r.u16(b + 2), securityBuffer: r.variable(r.u16(b + 4), r.u16(b + 6), RESPONSE_FIXED, 'security buffer') }
  })
}
