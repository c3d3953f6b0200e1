// The DCE/RPC auth verifier (MS-RPCE 2.2.2.11 sec_trailer, 2.2.2.12 auth_value, 3.3.1.5.2): how
// a PDU carries a security token (bind, bind_ack, alter_context, alter_context_resp, auth3) and how
// a request or response is protected at packet integrity or packet privacy with NTLMSSP session
// security.
//
// Layout of a protected request or response:
//   header (24 bytes, 40 with an object UUID) | stub | auth pad | sec_trailer (8) | signature (16)
// The stub is padded so that the sec_trailer starts 16-byte aligned relative to the stub, as
// Windows and Samba (DCERPC_AUTH_PAD_ALIGNMENT) do; frag_length and auth_length are written before
// the signature is computed because they are signed.
//
// What is signed. NTLMSSP signs every SecBuffer it is given, the read-only ones included
// (MS-RPCE 3.3.1.5.2.2: header signing only changes which buffers Kerberos checksums), so for NTLM
// the signature always covers the whole PDU from the first header byte through the sec_trailer,
// with the stub in plaintext. At privacy, the stub and its pad are sealed (RC4) and the signature
// is over header + plaintext + sec_trailer (MS-NLMP 3.4.3: sign the plaintext, seal, then encrypt
// the checksum with the same stream), which is what Samba's gensec_seal_packet does with its
// whole_pdu argument.
//
// Pure: no IO. Verification failures are returned as typed results, never thrown.
import { DCERPC_AUTH_TRAILER_BYTES, DCERPC_MAX_FRAG_BYTES, AUTH_LEVEL, type AuthTrailer } from './pdu-codec.js'
import { NTLMSSP_SIGNATURE_BYTES, type NtlmSessionSecurity } from '../ntlmssp/session-security.js'

/** The stub is padded to a multiple of this before the sec_trailer (Samba's DCERPC_AUTH_PAD_ALIGNMENT). */
export const DCERPC_AUTH_PAD_ALIGNMENT = 16
/** Bytes an NTLMSSP verifier adds to a PDU at most: the largest pad, the sec_trailer and the signature. */
export const DCERPC_NTLMSSP_VERIFIER_OVERHEAD_BYTES = DCERPC_AUTH_PAD_ALIGNMENT - 1 + DCERPC_AUTH_TRAILER_BYTES + NTLMSSP_SIGNATURE_BYTES

const OFFSET_FRAG_LENGTH = 8
const OFFSET_AUTH_LENGTH = 10

/** The sec_trailer fields that stay fixed for the life of an association's security context. */
export interface SecurityContextId {
  readonly authType: number
  readonly authLevel: number
  readonly authContextId: number
}

/** The 8-byte sec_trailer (auth_reserved is zero). */
export function encodeSecTrailer(id: SecurityContextId, authPadLength: number): Buffer {
  if (!Number.isInteger(authPadLength) || authPadLength < 0 || authPadLength > 0xff) throw new RangeError(`auth_pad_length ${authPadLength}`)
  const out = Buffer.alloc(DCERPC_AUTH_TRAILER_BYTES)
  out[0] = id.authType
  out[1] = id.authLevel
  out[2] = authPadLength
  out.writeUInt32LE(id.authContextId >>> 0, 4)
  return out
}

/**
 * Appends a sec_trailer and a token to a bind, bind_ack, alter_context, alter_context_resp or auth3
 * (their bodies end 4-byte aligned, so no pad: Samba sends auth_pad_length 0 on these legs) and
 * fixes frag_length and auth_length.
 */
export function withAuthToken(pdu: Buffer, id: SecurityContextId, token: Uint8Array): Buffer {
  const out = Buffer.concat([pdu, encodeSecTrailer(id, 0), token])
  if (out.length > DCERPC_MAX_FRAG_BYTES) throw new RangeError(`a ${out.length}-byte PDU with its token does not fit the u16 frag_length`)
  out.writeUInt16LE(out.length, OFFSET_FRAG_LENGTH)
  out.writeUInt16LE(token.length, OFFSET_AUTH_LENGTH)
  return out
}

/**
 * Protects one request or response fragment that was encoded without auth (frag_length covering
 * header and stub): pads the stub, appends sec_trailer and signature, and at privacy seals stub
 * and pad. stubOffset is where the stub starts (24, or 40 for a request with an object UUID).
 * Advances the security context's outbound sequence number by one.
 */
export function protectPdu(pdu: Buffer, stubOffset: number, id: SecurityContextId, security: NtlmSessionSecurity): Buffer {
  if (id.authLevel !== AUTH_LEVEL.PKT_INTEGRITY && id.authLevel !== AUTH_LEVEL.PKT_PRIVACY) throw new RangeError(`auth level ${id.authLevel} does not protect PDUs`)
  const stubBytes = pdu.length - stubOffset
  if (stubBytes < 0) throw new RangeError('stubOffset beyond the PDU')
  const padBytes = (DCERPC_AUTH_PAD_ALIGNMENT - (stubBytes % DCERPC_AUTH_PAD_ALIGNMENT)) % DCERPC_AUTH_PAD_ALIGNMENT
  const trailerOffset = pdu.length + padBytes
  const total = trailerOffset + DCERPC_AUTH_TRAILER_BYTES + NTLMSSP_SIGNATURE_BYTES
  if (total > DCERPC_MAX_FRAG_BYTES) throw new RangeError(`a protected ${total}-byte PDU does not fit the u16 frag_length`)
  const out = Buffer.alloc(total)
  pdu.copy(out, 0)
  encodeSecTrailer(id, padBytes).copy(out, trailerOffset)
  out.writeUInt16LE(total, OFFSET_FRAG_LENGTH)
  out.writeUInt16LE(NTLMSSP_SIGNATURE_BYTES, OFFSET_AUTH_LENGTH)
  const signedEnd = trailerOffset + DCERPC_AUTH_TRAILER_BYTES
  if (id.authLevel === AUTH_LEVEL.PKT_INTEGRITY) {
    security.sign(out.subarray(0, signedEnd)).copy(out, signedEnd)
  } else {
    const { sealed, signature } = security.seal(out.subarray(stubOffset, trailerOffset), out.subarray(0, stubOffset), out.subarray(trailerOffset, signedEnd))
    sealed.copy(out, stubOffset)
    signature.copy(out, signedEnd)
  }
  return out
}

/** Why a protected PDU was refused. Every one of them leaves the association unusable. */
export type UnprotectFailure =
  | 'missing_verifier'
  | 'wrong_auth_type'
  | 'wrong_auth_level'
  | 'wrong_auth_context'
  | 'truncated_verifier'
  | 'bad_pad'
  | 'bad_signature'

export type UnprotectResult = { readonly ok: true; readonly stub: Buffer } | { readonly ok: false; readonly failure: UnprotectFailure; readonly reason: string }

/**
 * Checks one received request or response fragment against the association's security context:
 * the sec_trailer must name the same type, level and context id; the verifier must be a whole
 * NTLMSSP signature; the signature (over the whole PDU, with the plaintext stub) must match the next
 * inbound sequence number. Returns the plaintext stub without its pad. frame is the whole PDU,
 * auth its decoded sec_trailer (null when auth_length was 0).
 */
export function unprotectPdu(frame: Buffer, stubOffset: number, auth: AuthTrailer | null, id: SecurityContextId, security: NtlmSessionSecurity): UnprotectResult {
  if (auth === null) return refuse('missing_verifier', 'no sec_trailer on a PDU of a protected association')
  if (auth.authType !== id.authType) return refuse('wrong_auth_type', `auth_type ${auth.authType}, the association uses ${id.authType}`)
  if (auth.authLevel !== id.authLevel) return refuse('wrong_auth_level', `auth_level ${auth.authLevel}, the association uses ${id.authLevel}`)
  if (auth.authContextId !== id.authContextId) return refuse('wrong_auth_context', `auth_context_id ${auth.authContextId}, the association uses ${id.authContextId}`)
  if (auth.credentials.length !== NTLMSSP_SIGNATURE_BYTES) return refuse('truncated_verifier', `auth_length ${auth.credentials.length}, an NTLMSSP signature has ${NTLMSSP_SIGNATURE_BYTES}`)
  const trailerOffset = frame.length - NTLMSSP_SIGNATURE_BYTES - DCERPC_AUTH_TRAILER_BYTES
  const payloadBytes = trailerOffset - stubOffset
  if (payloadBytes < 0 || auth.authPadLength > payloadBytes || auth.authPadLength >= DCERPC_AUTH_PAD_ALIGNMENT) {
    return refuse('bad_pad', `auth_pad_length ${auth.authPadLength} with ${payloadBytes} bytes of stub`)
  }
  const signedEnd = trailerOffset + DCERPC_AUTH_TRAILER_BYTES
  const signature = frame.subarray(signedEnd)
  if (id.authLevel === AUTH_LEVEL.PKT_INTEGRITY) {
    const verdict = security.verify(signature, frame.subarray(0, signedEnd))
    if (!verdict.ok) return refuse('bad_signature', verdict.reason)
    return { ok: true, stub: Buffer.from(frame.subarray(stubOffset, trailerOffset - auth.authPadLength)) }
  }
  const opened = security.unseal(frame.subarray(stubOffset, trailerOffset), signature, frame.subarray(0, stubOffset), frame.subarray(trailerOffset, signedEnd))
  if (!opened.ok) return refuse('bad_signature', opened.reason)
  return { ok: true, stub: opened.plaintext.subarray(0, payloadBytes - auth.authPadLength) }
}

function refuse(failure: UnprotectFailure, reason: string): UnprotectResult {
  return { ok: false, failure, reason }
}
