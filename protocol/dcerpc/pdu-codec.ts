// The DCE/RPC connection-oriented PDU codec (C706 chapter 12, with the MS-RPCE 2.2.2 extensions).
//
// The witness service speaks ncacn_ip_tcp: a stream of PDUs, each a 16-byte common header
// followed by a body whose layout depends on the PDU type. This module frames that stream
// (peekFragLength), decodes single PDUs (decodePdu), and encodes the PDUs a server sends (bind_ack,
// alter_context_resp, bind_nak, response, fault) plus those a test client sends (bind,
// alter_context, request). It knows nothing of NDR stub contents, interfaces or call state; those
// belong to the layers above.
//
// Data representation. We always send NDR little-endian, ASCII, IEEE (drep 10 00 00 00). A peer may
// send big-endian integers: decodePdu honours the drep byte order for every integer it reads,
// including the integer fields inside UUIDs, and reports it as littleEndian so the stub decoder
// can do the same (or refuse). EBCDIC characters and non-IEEE floats are refused with a typed error,
// because nothing above this layer could interpret such a stub.
//
// Facing the network. peekFragLength and decodePdu never throw: whatever bytes arrive, they return
// a result, and a failure carries a DcerpcDecodeError (our own class, returned, never thrown). Every
// count and length is checked against the bytes actually present before it is used, so a hostile
// peer cannot make them read out of bounds, loop, or allocate more than a small multiple of the
// input. Decoded stubs and credentials are views into the input buffer, not copies: a caller that
// reuses the buffer must copy them first.
//
// Encoders serve our own code. A value that cannot be represented on the wire is a programming
// error, and they throw a RangeError.

/** Bytes in the common header every connection-oriented PDU starts with. */
export const DCERPC_HEADER_BYTES = 16
/** Bytes of a request header: common header, alloc_hint u32, p_cont_id u16, opnum u16 (plus 16 with an object UUID). */
export const DCERPC_REQUEST_HEADER_BYTES = 24
/** Bytes of a response header: common header, alloc_hint u32, p_cont_id u16, cancel_count u8, reserved u8. */
export const DCERPC_RESPONSE_HEADER_BYTES = 24
/** Bytes of a fault PDU without error data: the response header, then status u32 and a reserved u32. */
export const DCERPC_FAULT_BYTES = 32
/** Bytes of the sec_trailer that precedes auth_value when auth_length is not zero. */
export const DCERPC_AUTH_TRAILER_BYTES = 8
/** The largest fragment the u16 frag_length can describe. */
export const DCERPC_MAX_FRAG_BYTES = 0xffff
/** The fragment size Samba and Windows offer in their binds (DCERPC_FRAG_MAX_SIZE in Samba's dcerpc.idl). */
export const DCERPC_DEFAULT_MAX_FRAG_BYTES = 5840

/** The protocol version of every connection-oriented PDU. */
export const RPC_VERS = 5
/** The minor version we send. We accept 0 and 1 (DCE 1.1 peers send 5.1); Samba's server accepts only 0. */
export const RPC_VERS_MINOR = 0
const RPC_VERS_MINOR_MAX_ACCEPTED = 1

/** PDU types (C706 §12.6.3.1; auth3 is an MS-RPCE addition). The connectionless types 1 and 4 to 10, and ncacn_http's rts (20), are refused. */
export const PTYPE = {
  REQUEST: 0,
  RESPONSE: 2,
  FAULT: 3,
  BIND: 11,
  BIND_ACK: 12,
  BIND_NAK: 13,
  ALTER_CONTEXT: 14,
  ALTER_CONTEXT_RESP: 15,
  AUTH3: 16,
  SHUTDOWN: 17,
  CO_CANCEL: 18,
  ORPHANED: 19,
} as const

/** pfc_flags bits. 0x04 means PENDING_CANCEL on requests and responses, and "supports header signing" on binds (an MS-RPCE extension). 0x08 is reserved and ignored. */
export const PFC = {
  FIRST_FRAG: 0x01,
  LAST_FRAG: 0x02,
  PENDING_CANCEL: 0x04,
  CONC_MPX: 0x10,
  DID_NOT_EXECUTE: 0x20,
  MAYBE: 0x40,
  OBJECT_UUID: 0x80,
} as const

/** The data representation label we send: little-endian integers, ASCII characters, IEEE floats. */
export const DREP_LITTLE_ENDIAN: readonly number[] = Object.freeze([0x10, 0x00, 0x00, 0x00])

/**
 * An interface or transfer syntax identifier (C706 p_syntax_id_t). version is the u32 if_version
 * exactly as on the wire: the major version in the low 16 bits and the minor in the high 16, so
 * MS-SWN 1.1 is 0x00010001 and NDR 2.0 is 2. syntaxVersion and syntaxVersionParts convert.
 */
export interface SyntaxId {
  readonly uuid: string
  readonly version: number
}

/** NDR 2.0, the transfer syntax we accept. */
export const NDR20_SYNTAX: SyntaxId = Object.freeze({ uuid: '8a885d04-1ceb-11c9-9fe8-08002b104860', version: 2 })
/** NDR64 (MS-RPCE §2.2.5), which we decline: Windows offers it next to NDR 2.0. */
export const NDR64_SYNTAX: SyntaxId = Object.freeze({ uuid: '71710533-beba-4937-8319-b5dbef9ccc36', version: 1 })
/** The all-zero syntax a bind_ack carries for rejected and negotiate_ack results, as Windows sends. */
export const NULL_SYNTAX: SyntaxId = Object.freeze({ uuid: '00000000-0000-0000-0000-000000000000', version: 0 })

/**
 * Bind time feature negotiation (MS-RPCE §3.3.1.5.3): a client may offer, as a context's only
 * transfer syntax, the UUID 6cb71c2c-9812-4540-XXXX-000000000000 version 1.0, whose bytes 8 and 9
 * (the fourth group, low byte first) hold BindTimeFeatureNegotiationBitmask (§2.2.2.14). The
 * server answers that context with result negotiate_ack and the features it supports in the reason
 * field; the transfer syntax in the answer is NULL_SYNTAX.
 */
export const BIND_TIME_FEATURE_UUID_PREFIX = '6cb71c2c-9812-4540-'
export const BIND_TIME_FEATURE_SYNTAX_VERSION = 1
export const BIND_TIME_FEATURE = { SECURITY_CONTEXT_MULTIPLEXING: 0x01, KEEP_CONNECTION_ON_ORPHAN: 0x02 } as const
/**
 * The features we acknowledge. KeepConnectionOnOrphan only promises that an orphaned PDU does not
 * end the connection: the connection layer must answer orphaned by dropping that call (its
 * fragments, and any reply) and carrying on, which is what Samba and Windows do, and Samba's server
 * acknowledges the same bit. Security context multiplexing needs several auth contexts per
 * connection, and we run without authentication, so it is not acknowledged.
 */
export const SUPPORTED_BIND_TIME_FEATURES = BIND_TIME_FEATURE.KEEP_CONNECTION_ON_ORPHAN

/** p_cont_def_result_t values of a bind_ack result (C706 §12.6.3.1; negotiate_ack is MS-RPCE §2.2.2.4). */
export const BIND_ACK_RESULT = { ACCEPTANCE: 0, USER_REJECTION: 1, PROVIDER_REJECTION: 2, NEGOTIATE_ACK: 3 } as const

/** p_provider_reason_t values of a rejected bind_ack result. */
export const BIND_ACK_REASON = {
  NOT_SPECIFIED: 0,
  ABSTRACT_SYNTAX_NOT_SUPPORTED: 1,
  PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED: 2,
  LOCAL_LIMIT_EXCEEDED: 3,
} as const

/** p_reject_reason_t values of a bind_nak (C706 §12.6.3.1; 8 and 9 are MS-RPCE §2.2.2.5). */
export const BIND_NAK_REASON = {
  NOT_SPECIFIED: 0,
  TEMPORARY_CONGESTION: 1,
  LOCAL_LIMIT_EXCEEDED: 2,
  CALLED_PADDR_UNKNOWN: 3,
  PROTOCOL_VERSION_NOT_SUPPORTED: 4,
  DEFAULT_CONTEXT_NOT_SUPPORTED: 5,
  USER_DATA_NOT_READABLE: 6,
  NO_PSAP_AVAILABLE: 7,
  AUTHENTICATION_TYPE_NOT_RECOGNIZED: 8,
  INVALID_CHECKSUM: 9,
} as const

/**
 * Fault status codes. The nca_s_* values are C706 Appendix E; the small ones are Win32 errors that
 * Windows sends as fault statuses. Values checked against Samba's librpc/idl/dcerpc.idl
 * (dcerpc_nca_status) and Wireshark's packet-dcerpc.c (reject_status_vals).
 */
export const FAULT = {
  /** nca_s_op_rng_error: the opnum is not in the interface. */
  OP_RNG_ERROR: 0x1c010002,
  /** nca_s_unk_if: the context id names no accepted presentation context. */
  UNKNOWN_IF: 0x1c010003,
  /** nca_s_proto_error: the PDU breaks the protocol; the connection should then be closed. */
  PROTO_ERROR: 0x1c01000b,
  /** nca_s_server_too_busy. */
  SERVER_TOO_BUSY: 0x1c010014,
  /** nca_s_unsupported_type: e.g. a stub in a data representation we cannot read. */
  UNSUPPORTED_TYPE: 0x1c010017,
  /** nca_s_fault_cancel. */
  CANCEL: 0x1c00000d,
  /** nca_s_fault_context_mismatch: an invalid context handle. */
  CONTEXT_MISMATCH: 0x1c00001a,
  /** nca_s_fault_remote_no_memory (0x1c00001b, not 0x1c01000f). Windows answers a malformed auth3 with it. */
  REMOTE_NO_MEMORY: 0x1c00001b,
  /** nca_s_invalid_pres_context_id. */
  INVALID_PRES_CONTEXT_ID: 0x1c00001c,
  /** nca_s_unsupported_authn_level. */
  UNSUPPORTED_AUTHN_LEVEL: 0x1c00001d,
  /** ERROR_ACCESS_DENIED; Windows and Samba also send it when a fragmented request exceeds the size limit. */
  ACCESS_DENIED: 0x00000005,
  /** RPC_S_CALL_FAILED_DNE, named nca_s_fault_cant_perform by Wireshark. */
  CANT_PERFORM: 0x000006d8,
  /** RPC_S_NO_CALL_ACTIVE: Samba's answer to a first request fragment that already carries PENDING_CANCEL. */
  NO_CALL_ACTIVE: 0x000006bd,
  /** RPC_X_BAD_STUB_DATA, which Wireshark calls nca_s_fault_ndr: the stub does not unmarshal. */
  NDR: 0x000006f7,
  /** SEC_E_* from the security package, folded to a fault. */
  SEC_PKG_ERROR: 0x00000721,
} as const

/** Authentication types and levels of a sec_trailer (MS-RPCE §2.2.1.1.7, §2.2.1.1.8), for logs and refusals. */
export const AUTH_TYPE = { NONE: 0, SPNEGO: 9, NTLMSSP: 10, KERBEROS: 16, NETLOGON: 68 } as const
export const AUTH_LEVEL = { NONE: 1, CONNECT: 2, CALL: 3, PKT: 4, PKT_INTEGRITY: 5, PKT_PRIVACY: 6 } as const

// ---------------------------------------------------------------------------------------------
// Decoded PDUs
// ---------------------------------------------------------------------------------------------

/** A sec_trailer and its auth_value. credentials is a view into the decoded buffer. */
export interface AuthTrailer {
  readonly authType: number
  readonly authLevel: number
  readonly authPadLength: number
  readonly authContextId: number
  readonly credentials: Buffer
}

/** Fields of the common header that every decoded PDU carries. */
export interface PduHeader {
  readonly callId: number
  readonly flags: number
  /** The drep integer representation: false when the peer sent big-endian integers. */
  readonly littleEndian: boolean
  readonly authLength: number
  /** The sec_trailer when authLength is not zero, else null. */
  readonly auth: AuthTrailer | null
}

export interface RequestPdu extends PduHeader {
  readonly kind: 'request'
  /** Advisory: the sender's estimate of the whole call's stub size. Never trust it for allocation. */
  readonly allocHint: number
  readonly contextId: number
  readonly opnum: number
  /** The object UUID when PFC_OBJECT_UUID is set, else null. */
  readonly object: string | null
  /** The stub bytes of this fragment, without auth padding. A view into the decoded buffer. */
  readonly stub: Buffer
}

export interface ResponsePdu extends PduHeader {
  readonly kind: 'response'
  readonly allocHint: number
  readonly contextId: number
  readonly cancelCount: number
  readonly stub: Buffer
}

export interface FaultPdu extends PduHeader {
  readonly kind: 'fault'
  readonly allocHint: number
  readonly contextId: number
  readonly cancelCount: number
  /** MS-RPCE fault flags: 0x01 means extended error information follows. */
  readonly faultFlags: number
  readonly status: number
  /** Whatever follows the 32-byte fault body (extended error information), without auth padding. */
  readonly stub: Buffer
}

/** One p_cont_elem_t of a bind or alter_context. */
export interface PresentationContext {
  readonly contextId: number
  readonly abstractSyntax: SyntaxId
  readonly transferSyntaxes: readonly SyntaxId[]
}

export interface BindPdu extends PduHeader {
  readonly kind: 'bind' | 'alter_context'
  readonly maxXmitFrag: number
  readonly maxRecvFrag: number
  readonly assocGroupId: number
  readonly contexts: readonly PresentationContext[]
}

/** One p_result_t of a bind_ack or alter_context_resp. reason is the feature bitmask when result is negotiate_ack. */
export interface BindAckResult {
  readonly result: number
  readonly reason: number
  readonly transferSyntax: SyntaxId
}

export interface BindAckPdu extends PduHeader {
  readonly kind: 'bind_ack' | 'alter_context_resp'
  readonly maxXmitFrag: number
  readonly maxRecvFrag: number
  readonly assocGroupId: number
  /** sec_addr without its NUL: the port as decimal text on TCP, a pipe name on SMB, '' in most alter_context_resp. */
  readonly secondaryAddress: string
  readonly results: readonly BindAckResult[]
}

export interface BindNakPdu extends PduHeader {
  readonly kind: 'bind_nak'
  readonly rejectReason: number
  readonly versions: readonly { readonly major: number; readonly minor: number }[]
}

/** auth3 (the third leg of a three-way authentication). Decoded so the server can ignore it. */
export interface Auth3Pdu extends PduHeader {
  readonly kind: 'auth3'
}

/** shutdown (server to client), co_cancel and orphaned (client to server): no body besides an optional auth trailer. */
export interface ControlPdu extends PduHeader {
  readonly kind: 'shutdown' | 'co_cancel' | 'orphaned'
}

export type Pdu = RequestPdu | ResponsePdu | FaultPdu | BindPdu | BindAckPdu | BindNakPdu | Auth3Pdu | ControlPdu

/** Why bytes did not decode. The server's reaction depends on it: bind_nak for a bind with a bad version, fault and close otherwise. */
export type DcerpcDecodeErrorCode =
  | 'not_bytes'
  | 'truncated_header'
  | 'unsupported_drep'
  | 'unsupported_version'
  | 'bad_frag_length'
  | 'unknown_ptype'
  | 'bad_auth_trailer'
  | 'malformed_body'

/**
 * The one error type the decoders produce. It is returned inside a result, never thrown. callId
 * and ptype are known whenever the header could be read, so the server can address a fault or a
 * bind_nak to the right call.
 */
export class DcerpcDecodeError extends Error {
  override readonly name = 'DcerpcDecodeError'
  readonly code: DcerpcDecodeErrorCode
  readonly callId: number | null
  readonly ptype: number | null

  constructor(code: DcerpcDecodeErrorCode, message: string, callId: number | null = null, ptype: number | null = null) {
    super(message)
    this.code = code
    this.callId = callId
    this.ptype = ptype
  }
}

export type PeekFragLengthResult =
  | { ok: true; fragLength: number }
  | { ok: false; needBytes: number }
  | { ok: false; error: DcerpcDecodeError }

export type DecodePduResult = { ok: true; pdu: Pdu } | { ok: false; error: DcerpcDecodeError; callId: number | null }

// ---------------------------------------------------------------------------------------------
// Syntax, UUID and feature helpers
// ---------------------------------------------------------------------------------------------

const UINT16_MAX = 0xffff
const UINT32_MAX = 0xffffffff
const UUID_BYTES = 16
const SYNTAX_ID_BYTES = UUID_BYTES + 4
const UUID_TEXT_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, value) => value.toString(16).padStart(2, '0'))

/** The if_version u32 for major.minor. */
export function syntaxVersion(major: number, minor: number): number {
  assertUint(major, UINT16_MAX, 'major version')
  assertUint(minor, UINT16_MAX, 'minor version')
  return (minor * 0x10000 + major) >>> 0
}

/** The major and minor halves of an if_version u32. */
export function syntaxVersionParts(version: number): { major: number; minor: number } {
  assertUint(version, UINT32_MAX, 'if_version')
  return { major: version & 0xffff, minor: version >>> 16 }
}

/** True when both syntaxes name the same UUID (compared case-insensitively) and version. */
export function sameSyntax(a: SyntaxId, b: SyntaxId): boolean {
  return a.version === b.version && a.uuid.toLowerCase() === b.uuid.toLowerCase()
}

/**
 * The BindTimeFeatureNegotiationBitmask a transfer syntax carries, or null if it is not a bind
 * time feature negotiation syntax. Only bytes 8 and 9 are read: the defined bits live in byte 8,
 * and bits in the node bytes would be features nobody defines, which we could not support anyway.
 */
export function bindTimeFeatures(syntax: SyntaxId): number | null {
  if (syntax.version !== BIND_TIME_FEATURE_SYNTAX_VERSION) return null
  const uuid = syntax.uuid.toLowerCase()
  if (!UUID_TEXT_PATTERN.test(uuid) || !uuid.startsWith(BIND_TIME_FEATURE_UUID_PREFIX)) return null
  // The fourth group is bytes 8 and 9 in wire order; byte 8 holds the low bits.
  const fourthGroup = uuid.slice(19, 23)
  return parseInt(fourthGroup.slice(0, 2), 16) | (parseInt(fourthGroup.slice(2, 4), 16) << 8)
}

/** The transfer syntax a client offers to negotiate the given features (a 16-bit mask). */
export function bindTimeFeatureSyntax(features: number): SyntaxId {
  assertUint(features, UINT16_MAX, 'features')
  const fourthGroup = HEX_BYTE[features & 0xff] + HEX_BYTE[features >>> 8]
  return { uuid: `${BIND_TIME_FEATURE_UUID_PREFIX}${fourthGroup}-000000000000`, version: BIND_TIME_FEATURE_SYNTAX_VERSION }
}

/** The reason field of our negotiate_ack: the requested features we support. */
export function bindTimeFeatureAnswer(requestedFeatures: number): number {
  assertUint(requestedFeatures, UINT16_MAX, 'requested features')
  return requestedFeatures & SUPPORTED_BIND_TIME_FEATURES
}

/**
 * The 16 bytes of a UUID as NDR sends it little-endian: time_low, time_mid and
 * time_hi_and_version are integers and go low byte first; the last 8 bytes go as written.
 */
export function uuidToNdrBytes(uuid: string): Buffer {
  if (typeof uuid !== 'string' || !UUID_TEXT_PATTERN.test(uuid)) throw new RangeError(`${JSON.stringify(uuid)} is not a UUID`)
  const out = Buffer.from(uuid.replace(/-/g, ''), 'hex')
  // reverse() works in place on the views, so this swaps the three integer fields inside out.
  out.subarray(0, 4).reverse()
  out.subarray(4, 6).reverse()
  out.subarray(6, 8).reverse()
  return out
}

/** The lower-case text of the UUID at offset, reading its integer fields in the given byte order. The caller checks bounds. */
export function uuidFromNdrBytes(bytes: Uint8Array, offset: number, littleEndian: boolean): string {
  const b = (index: number): string => HEX_BYTE[bytes[offset + index]]
  const integerFields = littleEndian
    ? [b(3) + b(2) + b(1) + b(0), b(5) + b(4), b(7) + b(6)]
    : [b(0) + b(1) + b(2) + b(3), b(4) + b(5), b(6) + b(7)]
  return `${integerFields[0]}-${integerFields[1]}-${integerFields[2]}-${b(8)}${b(9)}-${b(10)}${b(11)}${b(12)}${b(13)}${b(14)}${b(15)}`
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

// Offsets in the common header.
const OFFSET_PTYPE = 2
const OFFSET_FLAGS = 3
const OFFSET_DREP = 4
const OFFSET_FRAG_LENGTH = 8
const OFFSET_AUTH_LENGTH = 10
const OFFSET_CALL_ID = 12
/** The bytes needed before frag_length can be read: everything up to and including it. */
const FRAME_PREFIX_BYTES = OFFSET_FRAG_LENGTH + 2

/**
 * Given the first bytes of a stream, tells the framer how long the PDU starting there is. Checks
 * frag_length against the header size and against maxFragBytes (the max_recv_frag we announced)
 * before the framer buffers anything, so a peer cannot make it wait for or hold more than that.
 * needBytes is the total the buffer must reach before peeking again.
 */
export function peekFragLength(buf: Uint8Array, maxFragBytes: number = DCERPC_MAX_FRAG_BYTES): PeekFragLengthResult {
  if (!Number.isInteger(maxFragBytes) || maxFragBytes < DCERPC_HEADER_BYTES || maxFragBytes > DCERPC_MAX_FRAG_BYTES) {
    throw new RangeError(`maxFragBytes ${String(maxFragBytes)} is not between ${DCERPC_HEADER_BYTES} and ${DCERPC_MAX_FRAG_BYTES}`)
  }
  if (!(buf instanceof Uint8Array)) return { ok: false, error: new DcerpcDecodeError('not_bytes', 'the stream buffer is not a byte array') }
  // The drep byte decides how to read frag_length; a bad one is reported as soon as it arrives.
  if (buf.length > OFFSET_DREP) {
    const integerRepresentation = buf[OFFSET_DREP] >> 4
    if (integerRepresentation > 1) {
      return { ok: false, error: new DcerpcDecodeError('unsupported_drep', `drep[0] 0x${HEX_BYTE[buf[OFFSET_DREP]]} names integer representation ${integerRepresentation}, neither big- nor little-endian`) }
    }
  }
  if (buf.length < FRAME_PREFIX_BYTES) return { ok: false, needBytes: FRAME_PREFIX_BYTES }
  const littleEndian = buf[OFFSET_DREP] >> 4 === 1
  const fragLength = readU16(buf, OFFSET_FRAG_LENGTH, littleEndian)
  if (fragLength < DCERPC_HEADER_BYTES) {
    return { ok: false, error: new DcerpcDecodeError('bad_frag_length', `frag_length ${fragLength} is shorter than the ${DCERPC_HEADER_BYTES}-byte header`) }
  }
  if (fragLength > maxFragBytes) {
    return { ok: false, error: new DcerpcDecodeError('bad_frag_length', `frag_length ${fragLength} exceeds the ${maxFragBytes}-byte limit`) }
  }
  return { ok: true, fragLength }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** The outcome of a body decoder: the PDU, or an error message (the caller adds code, call id and ptype). */
type BodyResult = { ok: true; pdu: Pdu } | { ok: false; code: DcerpcDecodeErrorCode; message: string }

/** What the body decoders share: the input, its byte order, the header fields, and where the body ends. */
interface DecodeContext {
  readonly bytes: Buffer
  readonly littleEndian: boolean
  readonly header: PduHeader
  /** The offset where the auth padding and sec_trailer begin, or frag_length when there is no auth. */
  readonly bodyEnd: number
}

/**
 * Decodes one PDU. buf must hold exactly one PDU, frag_length bytes long, as cut by a framer that
 * used peekFragLength. Validates every count and length against the bytes present; alloc_hint is
 * reported but never used.
 */
export function decodePdu(buf: Uint8Array): DecodePduResult {
  if (!(buf instanceof Uint8Array)) return decodeFailure(new DcerpcDecodeError('not_bytes', 'the PDU is not a byte array'))
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (bytes.length < DCERPC_HEADER_BYTES) {
    return decodeFailure(new DcerpcDecodeError('truncated_header', `${bytes.length} bytes cannot hold the ${DCERPC_HEADER_BYTES}-byte common header`))
  }
  const integerRepresentation = bytes[OFFSET_DREP] >> 4
  if (integerRepresentation > 1) {
    return decodeFailure(new DcerpcDecodeError('unsupported_drep', `drep[0] 0x${HEX_BYTE[bytes[OFFSET_DREP]]} names integer representation ${integerRepresentation}, neither big- nor little-endian`))
  }
  const littleEndian = integerRepresentation === 1
  const ptype = bytes[OFFSET_PTYPE]
  const flags = bytes[OFFSET_FLAGS]
  const fragLength = readU16(bytes, OFFSET_FRAG_LENGTH, littleEndian)
  const authLength = readU16(bytes, OFFSET_AUTH_LENGTH, littleEndian)
  const callId = readU32(bytes, OFFSET_CALL_ID, littleEndian)
  const fail = (code: DcerpcDecodeErrorCode, message: string): DecodePduResult => decodeFailure(new DcerpcDecodeError(code, message, callId, ptype))

  const characterRepresentation = bytes[OFFSET_DREP] & 0x0f
  const floatingPointRepresentation = bytes[OFFSET_DREP + 1]
  if (characterRepresentation !== 0) return fail('unsupported_drep', `drep names character representation ${characterRepresentation} (EBCDIC); only ASCII is supported`)
  if (floatingPointRepresentation !== 0) return fail('unsupported_drep', `drep names floating-point representation ${floatingPointRepresentation}; only IEEE is supported`)
  if (bytes[0] !== RPC_VERS || bytes[1] > RPC_VERS_MINOR_MAX_ACCEPTED) {
    return fail('unsupported_version', `protocol version ${bytes[0]}.${bytes[1]} is not 5.0 or 5.1`)
  }
  if (fragLength < DCERPC_HEADER_BYTES) return fail('bad_frag_length', `frag_length ${fragLength} is shorter than the ${DCERPC_HEADER_BYTES}-byte header`)
  if (fragLength !== bytes.length) return fail('bad_frag_length', `frag_length ${fragLength} disagrees with the ${bytes.length} bytes given`)

  let bodyEnd = fragLength
  let auth: AuthTrailer | null = null
  if (authLength > 0) {
    const trailerOffset = fragLength - DCERPC_AUTH_TRAILER_BYTES - authLength
    // The body's own minimum is checked by each body decoder against bodyEnd; here only the header must fit in front.
    if (trailerOffset < DCERPC_HEADER_BYTES) {
      return fail('bad_auth_trailer', `auth_length ${authLength} and its ${DCERPC_AUTH_TRAILER_BYTES}-byte sec_trailer do not fit in a ${fragLength}-byte PDU`)
    }
    auth = {
      authType: bytes[trailerOffset],
      authLevel: bytes[trailerOffset + 1],
      authPadLength: bytes[trailerOffset + 2],
      authContextId: readU32(bytes, trailerOffset + 4, littleEndian),
      credentials: bytes.subarray(trailerOffset + DCERPC_AUTH_TRAILER_BYTES, fragLength),
    }
    bodyEnd = trailerOffset
  }

  const context: DecodeContext = { bytes, littleEndian, header: { callId, flags, littleEndian, authLength, auth }, bodyEnd }
  let result: BodyResult
  switch (ptype) {
    case PTYPE.REQUEST:
      result = decodeRequest(context)
      break
    case PTYPE.RESPONSE:
    case PTYPE.FAULT:
      result = decodeResponseOrFault(context, ptype)
      break
    case PTYPE.BIND:
    case PTYPE.ALTER_CONTEXT:
      result = decodeBind(context, ptype === PTYPE.BIND ? 'bind' : 'alter_context')
      break
    case PTYPE.BIND_ACK:
    case PTYPE.ALTER_CONTEXT_RESP:
      result = decodeBindAck(context, ptype === PTYPE.BIND_ACK ? 'bind_ack' : 'alter_context_resp')
      break
    case PTYPE.BIND_NAK:
      result = decodeBindNak(context)
      break
    case PTYPE.AUTH3:
      // The body is a 4-byte pad before the trailer; some clients omit it, and we only ignore auth3, so it is not checked.
      result = { ok: true, pdu: { kind: 'auth3', ...context.header } }
      break
    case PTYPE.SHUTDOWN:
      result = { ok: true, pdu: { kind: 'shutdown', ...context.header } }
      break
    case PTYPE.CO_CANCEL:
      result = { ok: true, pdu: { kind: 'co_cancel', ...context.header } }
      break
    case PTYPE.ORPHANED:
      result = { ok: true, pdu: { kind: 'orphaned', ...context.header } }
      break
    default:
      return fail('unknown_ptype', `PDU type ${ptype} is not a connection-oriented PDU type`)
  }
  if (!result.ok) return fail(result.code, result.message)
  return { ok: true, pdu: result.pdu }
}

function decodeRequest(context: DecodeContext): BodyResult {
  const { bytes, littleEndian, header, bodyEnd } = context
  const hasObject = (header.flags & PFC.OBJECT_UUID) !== 0
  const stubStart = DCERPC_REQUEST_HEADER_BYTES + (hasObject ? UUID_BYTES : 0)
  if (bodyEnd < stubStart) return malformed(`a request${hasObject ? ' with an object UUID' : ''} needs ${stubStart} bytes before its stub and auth trailer, but has ${bodyEnd}`)
  const stub = stubWithoutAuthPadding(bytes, stubStart, bodyEnd, header.auth)
  if (stub === null) return badAuthPad(header.auth, bodyEnd - stubStart)
  return {
    ok: true,
    pdu: {
      kind: 'request',
      ...header,
      allocHint: readU32(bytes, 16, littleEndian),
      contextId: readU16(bytes, 20, littleEndian),
      opnum: readU16(bytes, 22, littleEndian),
      object: hasObject ? uuidFromNdrBytes(bytes, DCERPC_REQUEST_HEADER_BYTES, littleEndian) : null,
      stub,
    },
  }
}

function decodeResponseOrFault(context: DecodeContext, ptype: typeof PTYPE.RESPONSE | typeof PTYPE.FAULT): BodyResult {
  const { bytes, littleEndian, header, bodyEnd } = context
  const stubStart = ptype === PTYPE.RESPONSE ? DCERPC_RESPONSE_HEADER_BYTES : DCERPC_FAULT_BYTES
  const what = ptype === PTYPE.RESPONSE ? 'a response' : 'a fault'
  if (bodyEnd < stubStart) return malformed(`${what} needs ${stubStart} bytes before its stub and auth trailer, but has ${bodyEnd}`)
  const stub = stubWithoutAuthPadding(bytes, stubStart, bodyEnd, header.auth)
  if (stub === null) return badAuthPad(header.auth, bodyEnd - stubStart)
  const common = {
    ...header,
    allocHint: readU32(bytes, 16, littleEndian),
    contextId: readU16(bytes, 20, littleEndian),
    cancelCount: bytes[22],
    stub,
  }
  if (ptype === PTYPE.RESPONSE) return { ok: true, pdu: { kind: 'response', ...common } }
  return { ok: true, pdu: { kind: 'fault', ...common, faultFlags: bytes[23], status: readU32(bytes, 24, littleEndian) } }
}

// Layout of a bind body after the common header: max_xmit_frag u16, max_recv_frag u16,
// assoc_group_id u32, n_context_elem u8, three reserved bytes, then the elements.
const BIND_CONTEXT_LIST_OFFSET = 28
// A p_cont_elem_t: p_cont_id u16, n_transfer_syn u8, reserved u8, abstract syntax, transfer syntaxes.
const CONTEXT_ELEMENT_FIXED_BYTES = 4 + SYNTAX_ID_BYTES

function decodeBind(context: DecodeContext, kind: 'bind' | 'alter_context'): BodyResult {
  const { bytes, littleEndian, header, bodyEnd } = context
  if (bodyEnd < BIND_CONTEXT_LIST_OFFSET) return malformed(`a ${kind} needs ${BIND_CONTEXT_LIST_OFFSET} bytes before its context list, but has ${bodyEnd}`)
  const contextCount = bytes[24]
  // Checked before the loop: the count cannot claim more elements than the bytes could hold.
  if (contextCount * CONTEXT_ELEMENT_FIXED_BYTES > bodyEnd - BIND_CONTEXT_LIST_OFFSET) {
    return malformed(`n_context_elem ${contextCount} needs at least ${contextCount * CONTEXT_ELEMENT_FIXED_BYTES} bytes, but ${bodyEnd - BIND_CONTEXT_LIST_OFFSET} remain`)
  }
  const contexts: PresentationContext[] = []
  let offset = BIND_CONTEXT_LIST_OFFSET
  for (let index = 0; index < contextCount; index++) {
    if (bodyEnd - offset < CONTEXT_ELEMENT_FIXED_BYTES) return malformed(`context element ${index} at offset ${offset} is truncated`)
    const contextId = readU16(bytes, offset, littleEndian)
    const transferCount = bytes[offset + 2]
    const abstractSyntax = readSyntax(bytes, offset + 4, littleEndian)
    offset += CONTEXT_ELEMENT_FIXED_BYTES
    if (transferCount * SYNTAX_ID_BYTES > bodyEnd - offset) {
      return malformed(`context element ${index}: n_transfer_syn ${transferCount} needs ${transferCount * SYNTAX_ID_BYTES} bytes, but ${bodyEnd - offset} remain`)
    }
    const transferSyntaxes: SyntaxId[] = []
    for (let syntaxIndex = 0; syntaxIndex < transferCount; syntaxIndex++) {
      transferSyntaxes.push(readSyntax(bytes, offset, littleEndian))
      offset += SYNTAX_ID_BYTES
    }
    contexts.push({ contextId, abstractSyntax, transferSyntaxes })
  }
  // Bytes between the last element and the auth trailer are auth padding (or slack a client left);
  // like Samba, we do not insist that there are none.
  return {
    ok: true,
    pdu: {
      kind,
      ...header,
      maxXmitFrag: readU16(bytes, 16, littleEndian),
      maxRecvFrag: readU16(bytes, 18, littleEndian),
      assocGroupId: readU32(bytes, 20, littleEndian),
      contexts,
    },
  }
}

// Layout of a bind_ack body: max_xmit_frag u16, max_recv_frag u16, assoc_group_id u32,
// sec_addr (length u16, then that many bytes including a NUL), padding to 4 bytes from the start
// of the PDU, n_results u8 and three reserved bytes, then 24-byte results.
const SECONDARY_ADDRESS_OFFSET = 24
const RESULT_LIST_HEADER_BYTES = 4
const BIND_ACK_RESULT_BYTES = 4 + SYNTAX_ID_BYTES

function decodeBindAck(context: DecodeContext, kind: 'bind_ack' | 'alter_context_resp'): BodyResult {
  const { bytes, littleEndian, header, bodyEnd } = context
  const addressStart = SECONDARY_ADDRESS_OFFSET + 2
  if (bodyEnd < addressStart) return malformed(`a ${kind} needs ${addressStart} bytes before its secondary address, but has ${bodyEnd}`)
  const addressLength = readU16(bytes, SECONDARY_ADDRESS_OFFSET, littleEndian)
  if (addressLength > bodyEnd - addressStart) return malformed(`sec_addr length ${addressLength} exceeds the ${bodyEnd - addressStart} bytes remaining`)
  const addressBytes = bytes.subarray(addressStart, addressStart + addressLength)
  // The address ends at its NUL; Windows fills the alignment padding after it with whatever was in memory.
  const nulIndex = addressBytes.indexOf(0)
  const secondaryAddress = addressBytes.subarray(0, nulIndex === -1 ? addressBytes.length : nulIndex).toString('latin1')
  let offset = alignUp(addressStart + addressLength, 4)
  if (bodyEnd - offset < RESULT_LIST_HEADER_BYTES) return malformed(`the result list header at offset ${offset} is truncated`)
  const resultCount = bytes[offset]
  offset += RESULT_LIST_HEADER_BYTES
  if (resultCount * BIND_ACK_RESULT_BYTES > bodyEnd - offset) {
    return malformed(`n_results ${resultCount} needs ${resultCount * BIND_ACK_RESULT_BYTES} bytes, but ${bodyEnd - offset} remain`)
  }
  const results: BindAckResult[] = []
  for (let index = 0; index < resultCount; index++) {
    results.push({
      result: readU16(bytes, offset, littleEndian),
      reason: readU16(bytes, offset + 2, littleEndian),
      transferSyntax: readSyntax(bytes, offset + 4, littleEndian),
    })
    offset += BIND_ACK_RESULT_BYTES
  }
  return {
    ok: true,
    pdu: {
      kind,
      ...header,
      maxXmitFrag: readU16(bytes, 16, littleEndian),
      maxRecvFrag: readU16(bytes, 18, littleEndian),
      assocGroupId: readU32(bytes, 20, littleEndian),
      secondaryAddress,
      results,
    },
  }
}

// Layout of a bind_nak body: provider_reject_reason u16, n_protocols u8, then (major u8, minor u8) pairs.
const BIND_NAK_VERSIONS_OFFSET = 19

function decodeBindNak(context: DecodeContext): BodyResult {
  const { bytes, littleEndian, header, bodyEnd } = context
  if (bodyEnd < BIND_NAK_VERSIONS_OFFSET) return malformed(`a bind_nak needs ${BIND_NAK_VERSIONS_OFFSET} bytes, but has ${bodyEnd}`)
  const versionCount = bytes[18]
  if (versionCount * 2 > bodyEnd - BIND_NAK_VERSIONS_OFFSET) {
    return malformed(`n_protocols ${versionCount} needs ${versionCount * 2} bytes, but ${bodyEnd - BIND_NAK_VERSIONS_OFFSET} remain`)
  }
  const versions: { major: number; minor: number }[] = []
  for (let index = 0; index < versionCount; index++) {
    const offset = BIND_NAK_VERSIONS_OFFSET + 2 * index
    versions.push({ major: bytes[offset], minor: bytes[offset + 1] })
  }
  // Anything after the versions is padding (Samba sends three zero bytes), or a signature some Windows versions append.
  return { ok: true, pdu: { kind: 'bind_nak', ...header, rejectReason: readU16(bytes, 16, littleEndian), versions } }
}

/** The stub between stubStart and the auth padding, or null if the padding claims more bytes than there are. */
function stubWithoutAuthPadding(bytes: Buffer, stubStart: number, bodyEnd: number, auth: AuthTrailer | null): Buffer | null {
  const padBytes = auth === null ? 0 : auth.authPadLength
  if (padBytes > bodyEnd - stubStart) return null
  return bytes.subarray(stubStart, bodyEnd - padBytes)
}

function badAuthPad(auth: AuthTrailer | null, availableBytes: number): BodyResult {
  return { ok: false, code: 'bad_auth_trailer', message: `auth_pad_length ${auth?.authPadLength ?? 0} exceeds the ${availableBytes} bytes of stub in front of the sec_trailer` }
}

function malformed(message: string): BodyResult {
  return { ok: false, code: 'malformed_body', message }
}

function decodeFailure(error: DcerpcDecodeError): DecodePduResult {
  return { ok: false, error, callId: error.callId }
}

function readSyntax(bytes: Uint8Array, offset: number, littleEndian: boolean): SyntaxId {
  return { uuid: uuidFromNdrBytes(bytes, offset, littleEndian), version: readU32(bytes, offset + UUID_BYTES, littleEndian) }
}

function readU16(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  return littleEndian ? bytes[offset] | (bytes[offset + 1] << 8) : (bytes[offset] << 8) | bytes[offset + 1]
}

function readU32(bytes: Uint8Array, offset: number, littleEndian: boolean): number {
  const value = littleEndian
    ? bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)
    : (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]
  return value >>> 0
}

function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

export interface BindParams {
  readonly callId: number
  readonly maxXmitFrag: number
  readonly maxRecvFrag: number
  readonly assocGroupId: number
  readonly contexts: readonly PresentationContext[]
  /** Defaults to FIRST_FRAG | LAST_FRAG, which is what rpcclient and Windows send. */
  readonly flags?: number
}

export interface BindAckParams {
  readonly callId: number
  readonly maxXmitFrag: number
  readonly maxRecvFrag: number
  readonly assocGroupId: number
  /** The port as decimal text on TCP; '' sends a zero-length sec_addr, as alter_context_resp usually does. ASCII only. */
  readonly secondaryAddress: string
  /** One per context of the bind, in the same order. */
  readonly results: readonly BindAckResult[]
  /** Defaults to FIRST_FRAG | LAST_FRAG; add CONC_MPX to confirm multiplexing the client asked for. */
  readonly flags?: number
}

export interface BindNakParams {
  readonly callId: number
  readonly reason: number
  /** The protocol versions we support; defaults to 5.0 alone, as Samba sends. */
  readonly versions?: readonly { readonly major: number; readonly minor: number }[]
}

export interface RequestParams {
  readonly callId: number
  readonly contextId: number
  readonly opnum: number
  readonly stub: Uint8Array
  /** Defaults to FIRST_FRAG | LAST_FRAG. OBJECT_UUID is set or cleared from object. */
  readonly flags?: number
  /** Defaults to stub.length. */
  readonly allocHint?: number
  readonly object?: string | null
}

export interface ResponseParams {
  readonly callId: number
  readonly contextId: number
  readonly stub: Uint8Array
  /** Defaults to FIRST_FRAG | LAST_FRAG. */
  readonly flags?: number
  /** Defaults to stub.length. */
  readonly allocHint?: number
  readonly cancelCount?: number
}

export interface FaultParams {
  readonly callId: number
  /** The context of the failed call, or 0 when it named none we know. */
  readonly contextId: number
  readonly status: number
  /** Defaults to FIRST_FRAG | LAST_FRAG; add DID_NOT_EXECUTE when the call never reached the manager. */
  readonly flags?: number
  readonly cancelCount?: number
  /** Defaults to 24, the value Samba's server sends (and, per its tests, Windows). */
  readonly allocHint?: number
}

const FIRST_AND_LAST = PFC.FIRST_FRAG | PFC.LAST_FRAG

/** A bind (ptype 11, the default) or an alter_context (ptype 14), which share a layout. */
export function encodeBind(params: BindParams, ptype: typeof PTYPE.BIND | typeof PTYPE.ALTER_CONTEXT = PTYPE.BIND): Buffer {
  if (ptype !== PTYPE.BIND && ptype !== PTYPE.ALTER_CONTEXT) throw new RangeError(`ptype ${String(ptype)} is neither bind nor alter_context`)
  assertUint(params.maxXmitFrag, UINT16_MAX, 'maxXmitFrag')
  assertUint(params.maxRecvFrag, UINT16_MAX, 'maxRecvFrag')
  assertUint(params.assocGroupId, UINT32_MAX, 'assocGroupId')
  if (params.contexts.length > 0xff) throw new RangeError(`${params.contexts.length} contexts do not fit the u8 n_context_elem`)
  let totalBytes = BIND_CONTEXT_LIST_OFFSET
  for (const [index, element] of params.contexts.entries()) {
    assertUint(element.contextId, UINT16_MAX, `contexts[${index}].contextId`)
    if (element.transferSyntaxes.length > 0xff) throw new RangeError(`contexts[${index}] has ${element.transferSyntaxes.length} transfer syntaxes, more than a u8 counts`)
    totalBytes += CONTEXT_ELEMENT_FIXED_BYTES + SYNTAX_ID_BYTES * element.transferSyntaxes.length
  }
  const out = allocatePdu(totalBytes, ptype, params.flags ?? FIRST_AND_LAST, params.callId)
  out.writeUInt16LE(params.maxXmitFrag, 16)
  out.writeUInt16LE(params.maxRecvFrag, 18)
  out.writeUInt32LE(params.assocGroupId, 20)
  out[24] = params.contexts.length
  let offset = BIND_CONTEXT_LIST_OFFSET
  for (const element of params.contexts) {
    out.writeUInt16LE(element.contextId, offset)
    out[offset + 2] = element.transferSyntaxes.length
    writeSyntax(out, offset + 4, element.abstractSyntax)
    offset += CONTEXT_ELEMENT_FIXED_BYTES
    for (const syntax of element.transferSyntaxes) {
      writeSyntax(out, offset, syntax)
      offset += SYNTAX_ID_BYTES
    }
  }
  return out
}

/** A bind_ack (ptype 12, the default) or an alter_context_resp (ptype 15), which share a layout (C706 §12.6.4.4 and §12.6.4.2; Samba's dcerpc.idl uses one struct for both). */
export function encodeBindAck(params: BindAckParams, ptype: typeof PTYPE.BIND_ACK | typeof PTYPE.ALTER_CONTEXT_RESP = PTYPE.BIND_ACK): Buffer {
  if (ptype !== PTYPE.BIND_ACK && ptype !== PTYPE.ALTER_CONTEXT_RESP) throw new RangeError(`ptype ${String(ptype)} is neither bind_ack nor alter_context_resp`)
  assertUint(params.maxXmitFrag, UINT16_MAX, 'maxXmitFrag')
  assertUint(params.maxRecvFrag, UINT16_MAX, 'maxRecvFrag')
  assertUint(params.assocGroupId, UINT32_MAX, 'assocGroupId')
  if (typeof params.secondaryAddress !== 'string' || !/^[\x01-\x7f]*$/.test(params.secondaryAddress)) {
    throw new RangeError(`secondaryAddress ${JSON.stringify(params.secondaryAddress)} is not NUL-free ASCII`)
  }
  if (params.results.length > 0xff) throw new RangeError(`${params.results.length} results do not fit the u8 n_results`)
  params.results.forEach((entry, index) => {
    assertUint(entry.result, UINT16_MAX, `results[${index}].result`)
    assertUint(entry.reason, UINT16_MAX, `results[${index}].reason`)
  })
  // Like Samba's strlen_m_term_null, an empty address is sent as length 0, without a NUL.
  const addressLength = params.secondaryAddress === '' ? 0 : params.secondaryAddress.length + 1
  const resultListOffset = alignUp(SECONDARY_ADDRESS_OFFSET + 2 + addressLength, 4)
  const totalBytes = resultListOffset + RESULT_LIST_HEADER_BYTES + BIND_ACK_RESULT_BYTES * params.results.length
  const out = allocatePdu(totalBytes, ptype, params.flags ?? FIRST_AND_LAST, params.callId)
  out.writeUInt16LE(params.maxXmitFrag, 16)
  out.writeUInt16LE(params.maxRecvFrag, 18)
  out.writeUInt32LE(params.assocGroupId, 20)
  out.writeUInt16LE(addressLength, SECONDARY_ADDRESS_OFFSET)
  // The NUL terminator and the alignment padding are already zero.
  out.write(params.secondaryAddress, SECONDARY_ADDRESS_OFFSET + 2, 'latin1')
  out[resultListOffset] = params.results.length
  let offset = resultListOffset + RESULT_LIST_HEADER_BYTES
  for (const entry of params.results) {
    out.writeUInt16LE(entry.result, offset)
    out.writeUInt16LE(entry.reason, offset + 2)
    writeSyntax(out, offset + 4, entry.transferSyntax)
    offset += BIND_ACK_RESULT_BYTES
  }
  return out
}

/** A bind_nak. The versions are padded to a 4-byte boundary: with the default single version that is Samba's 24-byte PDU. */
export function encodeBindNak(params: BindNakParams): Buffer {
  assertUint(params.reason, UINT16_MAX, 'reason')
  const versions = params.versions ?? [{ major: RPC_VERS, minor: RPC_VERS_MINOR }]
  if (versions.length > 0xff) throw new RangeError(`${versions.length} versions do not fit the u8 n_protocols`)
  versions.forEach((version, index) => {
    assertUint(version.major, 0xff, `versions[${index}].major`)
    assertUint(version.minor, 0xff, `versions[${index}].minor`)
  })
  const totalBytes = alignUp(BIND_NAK_VERSIONS_OFFSET + 2 * versions.length, 4)
  const out = allocatePdu(totalBytes, PTYPE.BIND_NAK, FIRST_AND_LAST, params.callId)
  out.writeUInt16LE(params.reason, 16)
  out[18] = versions.length
  versions.forEach((version, index) => {
    out[BIND_NAK_VERSIONS_OFFSET + 2 * index] = version.major
    out[BIND_NAK_VERSIONS_OFFSET + 2 * index + 1] = version.minor
  })
  return out
}

/** One request fragment. */
export function encodeRequest(params: RequestParams): Buffer {
  assertUint(params.contextId, UINT16_MAX, 'contextId')
  assertUint(params.opnum, UINT16_MAX, 'opnum')
  const stub = asBuffer(params.stub, 'stub')
  const allocHint = params.allocHint ?? stub.length
  assertUint(allocHint, UINT32_MAX, 'allocHint')
  const object = params.object ?? null
  const stubStart = DCERPC_REQUEST_HEADER_BYTES + (object === null ? 0 : UUID_BYTES)
  const flags = ((params.flags ?? FIRST_AND_LAST) & ~PFC.OBJECT_UUID) | (object === null ? 0 : PFC.OBJECT_UUID)
  const out = allocatePdu(stubStart + stub.length, PTYPE.REQUEST, flags, params.callId)
  out.writeUInt32LE(allocHint, 16)
  out.writeUInt16LE(params.contextId, 20)
  out.writeUInt16LE(params.opnum, 22)
  if (object !== null) uuidToNdrBytes(object).copy(out, DCERPC_REQUEST_HEADER_BYTES)
  stub.copy(out, stubStart)
  return out
}

/** One response fragment. Use fragmentResponse to split a stub that may exceed the peer's max_recv_frag. */
export function encodeResponse(params: ResponseParams): Buffer {
  assertUint(params.contextId, UINT16_MAX, 'contextId')
  const stub = asBuffer(params.stub, 'stub')
  const allocHint = params.allocHint ?? stub.length
  assertUint(allocHint, UINT32_MAX, 'allocHint')
  const cancelCount = params.cancelCount ?? 0
  assertUint(cancelCount, 0xff, 'cancelCount')
  const out = allocatePdu(DCERPC_RESPONSE_HEADER_BYTES + stub.length, PTYPE.RESPONSE, params.flags ?? FIRST_AND_LAST, params.callId)
  out.writeUInt32LE(allocHint, 16)
  out.writeUInt16LE(params.contextId, 20)
  out[22] = cancelCount
  stub.copy(out, DCERPC_RESPONSE_HEADER_BYTES)
  return out
}

/** A fault, 32 bytes, without extended error information. */
export function encodeFault(params: FaultParams): Buffer {
  assertUint(params.contextId, UINT16_MAX, 'contextId')
  assertUint(params.status, UINT32_MAX, 'status')
  const cancelCount = params.cancelCount ?? 0
  assertUint(cancelCount, 0xff, 'cancelCount')
  const allocHint = params.allocHint ?? DCERPC_RESPONSE_HEADER_BYTES
  assertUint(allocHint, UINT32_MAX, 'allocHint')
  const out = allocatePdu(DCERPC_FAULT_BYTES, PTYPE.FAULT, params.flags ?? FIRST_AND_LAST, params.callId)
  out.writeUInt32LE(allocHint, 16)
  out.writeUInt16LE(params.contextId, 20)
  out[22] = cancelCount
  // Byte 23 (fault flags) and the reserved u32 at 28 stay zero.
  out.writeUInt32LE(params.status, 24)
  return out
}

/**
 * Splits a response stub over as many response PDUs as it takes for each to fit maxXmitFrag
 * bytes (the max_xmit_frag agreed at bind time). Every fragment but the last carries a multiple
 * of 8 stub bytes, as Windows and Samba do, so NDR alignment survives reassembly; alloc_hint is
 * the stub bytes remaining from that fragment on. An empty stub still makes one fragment.
 */
export function fragmentResponse(stub: Uint8Array, maxXmitFrag: number, header: { readonly callId: number; readonly contextId: number; readonly cancelCount?: number }): Buffer[] {
  const stubBytes = asBuffer(stub, 'stub')
  const minimumFragBytes = DCERPC_RESPONSE_HEADER_BYTES + 8
  if (!Number.isInteger(maxXmitFrag) || maxXmitFrag < minimumFragBytes || maxXmitFrag > DCERPC_MAX_FRAG_BYTES) {
    throw new RangeError(`maxXmitFrag ${String(maxXmitFrag)} is not between ${minimumFragBytes} and ${DCERPC_MAX_FRAG_BYTES}`)
  }
  const chunkBytes = Math.floor((maxXmitFrag - DCERPC_RESPONSE_HEADER_BYTES) / 8) * 8
  const fragments: Buffer[] = []
  let offset = 0
  do {
    const end = Math.min(offset + chunkBytes, stubBytes.length)
    const flags = (offset === 0 ? PFC.FIRST_FRAG : 0) | (end === stubBytes.length ? PFC.LAST_FRAG : 0)
    fragments.push(
      encodeResponse({
        callId: header.callId,
        contextId: header.contextId,
        cancelCount: header.cancelCount,
        stub: stubBytes.subarray(offset, end),
        flags,
        allocHint: stubBytes.length - offset,
      }),
    )
    offset = end
  } while (offset < stubBytes.length)
  return fragments
}

/** A zeroed PDU of totalBytes with its common header written (little-endian drep, no auth). */
function allocatePdu(totalBytes: number, ptype: number, flags: number, callId: number): Buffer {
  if (totalBytes > DCERPC_MAX_FRAG_BYTES) throw new RangeError(`a ${totalBytes}-byte PDU does not fit the u16 frag_length`)
  assertUint(flags, 0xff, 'flags')
  assertUint(callId, UINT32_MAX, 'callId')
  const out = Buffer.alloc(totalBytes)
  out[0] = RPC_VERS
  out[1] = RPC_VERS_MINOR
  out[OFFSET_PTYPE] = ptype
  out[OFFSET_FLAGS] = flags
  DREP_LITTLE_ENDIAN.forEach((byte, index) => {
    out[OFFSET_DREP + index] = byte
  })
  out.writeUInt16LE(totalBytes, OFFSET_FRAG_LENGTH)
  out.writeUInt16LE(0, OFFSET_AUTH_LENGTH)
  out.writeUInt32LE(callId, OFFSET_CALL_ID)
  return out
}

function writeSyntax(out: Buffer, offset: number, syntax: SyntaxId): void {
  assertUint(syntax.version, UINT32_MAX, 'syntax version')
  uuidToNdrBytes(syntax.uuid).copy(out, offset)
  out.writeUInt32LE(syntax.version, offset + UUID_BYTES)
}

function asBuffer(bytes: Uint8Array, what: string): Buffer {
  if (!(bytes instanceof Uint8Array)) throw new RangeError(`${what} is not a byte array`)
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function assertUint(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) throw new RangeError(`${what} ${String(value)} is not an integer between 0 and ${max}`)
}
