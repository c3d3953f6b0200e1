// SMB2 NEGOTIATE request and response (MS-SMB2 2.2.3, 2.2.4).
import { uuidFromNdrBytes, uuidToNdrBytes } from '../dcerpc/pdu-codec.js'
import { SMB2_DIALECT } from './constants.js'
import { type Decoded, SMB2_HEADER_BYTES, align8, decodeBody, fixedBody } from './message-reader.js'
import { type NegotiateContext, encodeNegotiateContexts, readNegotiateContexts } from './negotiate-contexts.js'

/** SecurityMode bits of NEGOTIATE (2.2.3); SESSION_SETUP uses the same two in a u8. */
export const SECURITY_MODE = { SIGNING_ENABLED: 0x0001, SIGNING_REQUIRED: 0x0002 } as const

export const NEGOTIATE_REQUEST_SIZE = 36
export const NEGOTIATE_RESPONSE_SIZE = 65
/** A bound on the dialects one request may list (a u16 count; real clients send at most 5). */
export const NEGOTIATE_DIALECTS_MAX = 64

export interface NegotiateRequest {
  readonly securityMode: number
  readonly capabilities: number
  /** Lower-case GUID text. */
  readonly clientGuid: string
  readonly dialects: readonly number[]
  /** Only when the dialects include 3.1.1 (2.2.3); otherwise [] and ClientStartTime is sent. */
  readonly negotiateContexts: readonly NegotiateContext[]
  /** Reserved; 0 when the dialects include 3.1.1. */
  readonly clientStartTime: bigint
}

export interface NegotiateResponse {
  readonly securityMode: number
  readonly dialectRevision: number
  readonly serverGuid: string
  readonly capabilities: number
  readonly maxTransactSize: number
  readonly maxReadSize: number
  readonly maxWriteSize: number
  /** FILETIME. */
  readonly systemTime: bigint
  readonly serverStartTime: bigint
  /** The SPNEGO (GSS) initial token; may be empty. */
  readonly securityBuffer: Buffer
  /** Only at dialect 3.1.1. */
  readonly negotiateContexts: readonly NegotiateContext[]
}

const REQUEST_FIXED = SMB2_HEADER_BYTES + NEGOTIATE_REQUEST_SIZE
const RESPONSE_FIXED = SMB2_HEADER_BYTES + NEGOTIATE_RESPONSE_SIZE - 1

export function decodeNegotiateRequest(msg: Buffer): Decoded<NegotiateRequest> {
  return decodeBody(msg, NEGOTIATE_REQUEST_SIZE, 'NEGOTIATE', (r) => {
    const b = SMB2_HEADER_BYTES
    const dialectCount = r.u16(b + 2)
    // 3.3.5.4: no dialects is STATUS_INVALID_PARAMETER.
    if (dialectCount === 0) r.fail('NEGOTIATE lists no dialects')
    if (dialectCount > NEGOTIATE_DIALECTS_MAX) r.fail(`NEGOTIATE lists ${dialectCount} dialects`)
    const dialects: number[] = []
    for (let i = 0; i < dialectCount; i++) dialects.push(r.u16(REQUEST_FIXED + 2 * i))
    const clientGuid = uuidFromNdrBytes(r.bytes(b + 12, 16), 0, true)
    const has311 = dialects.includes(SMB2_DIALECT.SMB311)
    const negotiateContexts = has311 ? readNegotiateContexts(r, r.u32(b + 28), r.u16(b + 32), REQUEST_FIXED + 2 * dialectCount) : []
    return {
      securityMode: r.u16(b + 4),
      capabilities: r.u32(b + 8),
      clientGuid,
      dialects,
      negotiateContexts,
      clientStartTime: has311 ? 0n : r.u64(b + 28),
    }
  })
}

export function encodeNegotiateRequest(req: NegotiateRequest): Buffer {
  const body = fixedBody(NEGOTIATE_REQUEST_SIZE)
  body.writeUInt16LE(req.dialects.length, 2)
  body.writeUInt16LE(req.securityMode, 4)
  body.writeUInt32LE(req.capabilities >>> 0, 8)
  uuidToNdrBytes(req.clientGuid).copy(body, 12)
  const dialects = Buffer.alloc(2 * req.dialects.length)
  req.dialects.forEach((d, i) => dialects.writeUInt16LE(d, 2 * i))
  const has311 = req.dialects.includes(SMB2_DIALECT.SMB311)
  if (!has311 || req.negotiateContexts.length === 0) {
    if (!has311) body.writeBigUInt64LE(req.clientStartTime, 28)
    return Buffer.concat([body, dialects])
  }
  const end = REQUEST_FIXED + dialects.length
  const contextsAt = align8(end)
  body.writeUInt32LE(contextsAt, 28)
  body.writeUInt16LE(req.negotiateContexts.length, 32)
  return Buffer.concat([body, dialects, Buffer.alloc(contextsAt - end), encodeNegotiateContexts(req.negotiateContexts, contextsAt)])
}

export function encodeNegotiateResponse(res: NegotiateResponse): Buffer {
  const body = fixedBody(NEGOTIATE_RESPONSE_SIZE)
  const contexts = res.dialectRevision === SMB2_DIALECT.SMB311 ? res.negotiateContexts : []
  body.writeUInt16LE(res.securityMode, 2)
  body.writeUInt16LE(res.dialectRevision, 4)
  body.writeUInt16LE(contexts.length, 6)
  uuidToNdrBytes(res.serverGuid).copy(body, 8)
  body.writeUInt32LE(res.capabilities >>> 0, 24)
  body.writeUInt32LE(res.maxTransactSize, 28)
  body.writeUInt32LE(res.maxReadSize, 32)
  body.writeUInt32LE(res.maxWriteSize, 36)
  body.writeBigUInt64LE(res.systemTime, 40)
  body.writeBigUInt64LE(res.serverStartTime, 48)
  body.writeUInt16LE(RESPONSE_FIXED, 56)
  body.writeUInt16LE(res.securityBuffer.length, 58)
  const parts = [body, res.securityBuffer]
  const end = RESPONSE_FIXED + res.securityBuffer.length
  if (contexts.length > 0) {
    const contextsAt = align8(end)
    body.writeUInt32LE(contextsAt, 60)
    parts.push(Buffer.alloc(contextsAt - end), encodeNegotiateContexts(contexts, contextsAt))
  } else if (res.securityBuffer.length === 0) {
    parts.push(Buffer.alloc(1))
  }
  return Buffer.concat(parts)
}

export function decodeNegotiateResponse(msg: Buffer): Decoded<NegotiateResponse> {
  return decodeBody(msg, NEGOTIATE_RESPONSE_SIZE, 'NEGOTIATE response', (r) => {
    const b = SMB2_HEADER_BYTES
    const dialectRevision = r.u16(b + 4)
    const securityBuffer = r.variable(r.u16(b + 56), r.u16(b + 58), RESPONSE_FIXED, 'security buffer')
    const negotiateContexts = dialectRevision === SMB2_DIALECT.SMB311 ? readNegotiateContexts(r, r.u32(b + 60), r.u16(b + 6), RESPONSE_FIXED) : []
    return {
      securityMode: r.u16(b + 2),
      dialectRevision,
      serverGuid: uuidFromNdrBytes(r.bytes(b + 8, 16), 0, true),
      capabilities: r.u32(b + 24),
      maxTransactSize: r.u32(b + 28),
      maxReadSize: r.u32(b + 32),
      maxWriteSize: r.u32(b + 36),
      systemTime: r.u64(b + 40),
      serverStartTime: r.u64(b + 48),
      securityBuffer,
      negotiateContexts,
    }
  })
}
