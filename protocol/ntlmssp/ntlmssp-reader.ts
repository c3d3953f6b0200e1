// Bounded reading and writing of NTLMSSP messages (MS-NLMP 2.2): the common header, the
// (Len, MaxLen, BufferOffset) payload fields and the VERSION structure.
//
// The decoders face the network (an NTLMSSP token arrives inside a SPNEGO token inside an SMB2
// SESSION_SETUP or a DCE/RPC auth trailer). Every read is checked against the bytes present;
// every payload field must lie after the message's fixed part and end inside the message. Their
// one failure is a returned NtlmsspDecodeError; no input makes a decoder throw. Payload bytes come
// back as copies: tokens are small, and the acceptor keeps some of them across legs.
// The encoders serve our own code: a value the wire cannot carry is a programmer error (assert).
import assert from 'node:assert/strict'

/** "NTLMSSP\0" (MS-NLMP 2.2.1.1). */
export const NTLMSSP_SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1')

/** MessageType (MS-NLMP 2.2.1). */
export const NTLMSSP_MESSAGE_TYPE = { NEGOTIATE: 1, CHALLENGE: 2, AUTHENTICATE: 3 } as const

/**
 * The largest NTLMSSP message either side accepts. Fields are u16-sized, so a real message is far
 * below this (Windows and Samba send well under 2 KiB); a larger token is refused before parsing.
 */
export const NTLMSSP_MESSAGE_BYTES_MAX = 64 * 1024

/** An NTLMSSP message that cannot be decoded. reason is one line for a log. */
export class NtlmsspDecodeError {
  readonly name = 'NtlmsspDecodeError'

  constructor(
    readonly reason: string,
    /** Where in the input the problem was found. */
    readonly offset: number,
  ) {}

  toString(): string {
    return `${this.reason} (at offset ${this.offset})`
  }
}

export type NtlmsspDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NtlmsspDecodeError }

/** The VERSION structure (MS-NLMP 2.2.2.10): the sender's OS version, for debugging only. */
export interface NtlmVersion {
  readonly productMajorVersion: number
  readonly productMinorVersion: number
  readonly productBuild: number
  /** NTLMSSP_REVISION_W2K3 = 0x0F is the only current value. */
  readonly ntlmRevisionCurrent: number
}

export const NTLMSSP_REVISION_W2K3 = 0x0f
export const NTLM_VERSION_BYTES = 8
/** Windows Server 2019 / Windows 10 1809 (10.0.17763), what a current Windows server sends. */
export const WINDOWS_10_VERSION: NtlmVersion = { productMajorVersion: 10, productMinorVersion: 0, productBuild: 17763, ntlmRevisionCurrent: NTLMSSP_REVISION_W2K3 }

/** Thrown inside a decoder only, and turned into a returned NtlmsspDecodeError at its boundary. */
class Malformed extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason)
  }
}

/** Absolute-offset reads that refuse to look past the end of one message. */
export class NtlmsspReader {
  constructor(readonly bytes: Buffer) {}

  get length(): number {
    return this.bytes.length
  }

  u8(offset: number): number {
    this.need(offset, 1)
    return this.bytes[offset]
  }

  u16(offset: number): number {
    this.need(offset, 2)
    return this.bytes.readUInt16LE(offset)
  }

  u32(offset: number): number {
    this.need(offset, 4)
    return this.bytes.readUInt32LE(offset)
  }

  u64(offset: number): bigint {
    this.need(offset, 8)
    return this.bytes.readBigUInt64LE(offset)
  }

  /** A copy of length bytes at offset. */
  copy(offset: number, length: number): Buffer {
    this.need(offset, length)
    return Buffer.from(this.bytes.subarray(offset, offset + length))
  }

  /**
   * The payload a (Len, MaxLen, BufferOffset) field at fieldOffset names (MS-NLMP 2.2.1). An empty
   * one may carry any offset (clients put 0 or the end of the message there). A non-empty one must
   * start at or after fixedBytes, the end of the message's fixed part, and end inside the message.
   * MaxLen is not checked: MS-NLMP says it SHOULD equal Len, and Windows ignores it.
   */
  payload(fieldOffset: number, fixedBytes: number, what: string): Buffer {
    const length = this.u16(fieldOffset)
    const offset = this.u32(fieldOffset + 4)
    if (length === 0) return Buffer.alloc(0)
    if (offset < fixedBytes) this.fail(`${what}: ${length} bytes at offset ${offset}, inside the fixed part (ends at ${fixedBytes})`, fieldOffset)
    if (offset + length > this.bytes.length) this.fail(`${what}: ${length} bytes at offset ${offset} run past the message end (${this.bytes.length})`, fieldOffset)
    return Buffer.from(this.bytes.subarray(offset, offset + length))
  }

  /** The smallest BufferOffset among the non-empty payload fields at fieldOffsets, or the message length if all are empty. */
  firstPayloadOffset(fieldOffsets: readonly number[]): number {
    let first = this.bytes.length
    for (const f of fieldOffsets) if (this.u16(f) > 0) first = Math.min(first, this.u32(f + 4))
    return first
  }

  version(offset: number): NtlmVersion {
    this.need(offset, NTLM_VERSION_BYTES)
    return {
      productMajorVersion: this.bytes[offset],
      productMinorVersion: this.bytes[offset + 1],
      productBuild: this.bytes.readUInt16LE(offset + 2),
      ntlmRevisionCurrent: this.bytes[offset + 7],
    }
  }

  /** Text of a payload: UTF-16LE when unicode (an odd byte count is malformed), else the OEM code page, taken as Latin-1. */
  text(bytes: Buffer, unicode: boolean, what: string, fieldOffset: number): string {
    if (!unicode) return bytes.toString('latin1')
    if (bytes.length % 2 !== 0) this.fail(`${what}: odd UTF-16 byte count ${bytes.length}`, fieldOffset)
    return bytes.toString('utf16le')
  }

  /** Checks "NTLMSSP\0" and the MessageType. */
  header(messageType: number, fixedBytes: number, what: string): void {
    if (this.bytes.length > NTLMSSP_MESSAGE_BYTES_MAX) this.fail(`${what}: ${this.bytes.length} bytes exceeds ${NTLMSSP_MESSAGE_BYTES_MAX}`, 0)
    if (this.bytes.length < fixedBytes) this.fail(`${what}: ${this.bytes.length} bytes is shorter than its fixed part (${fixedBytes})`, 0)
    if (!this.bytes.subarray(0, NTLMSSP_SIGNATURE.length).equals(NTLMSSP_SIGNATURE)) this.fail(`${what}: no NTLMSSP signature`, 0)
    const type = this.bytes.readUInt32LE(8)
    if (type !== messageType) this.fail(`${what}: MessageType ${type}, expected ${messageType}`, 8)
  }

  fail(reason: string, offset: number): never {
    throw new Malformed(reason, offset)
  }

  private need(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      this.fail(`${length} bytes at ${offset} run past the end (${this.bytes.length})`, Math.max(0, Math.min(offset, this.bytes.length)))
    }
  }
}

/** Runs a decoder over bytes, turning its failures into values. */
export function decodeNtlmssp<T>(bytes: Uint8Array, read: (r: NtlmsspReader) => T): NtlmsspDecoded<T> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: new NtlmsspDecodeError('not a byte array', 0) }
  try {
    return { ok: true, value: read(new NtlmsspReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) }
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, error: new NtlmsspDecodeError(err.reason, err.offset) }
    // Buffer's own bounds checks are a second net under need(): still malformed input, not a crash.
    if (err instanceof RangeError) return { ok: false, error: new NtlmsspDecodeError(err.message, 0) }
    throw err
  }
}

/** Builds a message: a fixed part with (Len, MaxLen, BufferOffset) fields that point into the payload appended after it. */
export class NtlmsspWriter {
  private readonly fixed: Buffer
  private readonly payloads: Buffer[] = []
  private payloadBytes = 0

  constructor(messageType: number, fixedBytes: number) {
    this.fixed = Buffer.alloc(fixedBytes)
    NTLMSSP_SIGNATURE.copy(this.fixed, 0)
    this.fixed.writeUInt32LE(messageType, 8)
  }

  get fixedPart(): Buffer {
    return this.fixed
  }

  /** Appends data to the payload and writes its field at fieldOffset. An empty field points at the end of the payload so far. */
  field(fieldOffset: number, data: Uint8Array): void {
    assert.ok(data.length <= 0xffff, `NTLMSSP field of ${data.length} bytes`)
    const offset = this.fixed.length + this.payloadBytes
    this.fixed.writeUInt16LE(data.length, fieldOffset)
    this.fixed.writeUInt16LE(data.length, fieldOffset + 2)
    this.fixed.writeUInt32LE(offset, fieldOffset + 4)
    this.payloads.push(Buffer.from(data))
    this.payloadBytes += data.length
  }

  version(offset: number, version: NtlmVersion): void {
    this.fixed.writeUInt8(version.productMajorVersion, offset)
    this.fixed.writeUInt8(version.productMinorVersion, offset + 1)
    this.fixed.writeUInt16LE(version.productBuild, offset + 2)
    this.fixed.fill(0, offset + 4, offset + 7)
    this.fixed.writeUInt8(version.ntlmRevisionCurrent, offset + 7)
  }

  finish(): Buffer {
    const message = Buffer.concat([this.fixed, ...this.payloads])
    assert.ok(message.length <= NTLMSSP_MESSAGE_BYTES_MAX, `NTLMSSP message of ${message.length} bytes`)
    return message
  }
}

/** The wire form of text: UTF-16LE when unicode, else Latin-1 for the OEM code page. */
export function encodeNtlmText(text: string, unicode: boolean): Buffer {
  return Buffer.from(text, unicode ? 'utf16le' : 'latin1')
}
