// A small bounded reader and writer for NDR20 stubs (C706 chapter 14, MS-RPCE 2.2.5), the transfer
// syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2, little-endian data representation only.
//
// It covers what the witness interface needs and a little more: natural alignment, u8 to u64,
// ref, unique and full pointers with referent ids, conformant and conformant varying arrays,
// [string] wchar_t* strings, fixed NUL-terminated WCHAR arrays and 20-byte context handles.
//
// The reader faces the network. Every read checks the bytes that remain before it looks at them,
// and every count read from the wire is multiplied by its element size and checked against the
// bytes that remain before anything is allocated or looped over, so a hostile count of 0xffffffff
// costs nothing. Its only failure is an NdrError, which the interface codec catches at the top and
// turns into a fault; nothing else escapes it for any input.
// The writer serves our own code, so a value the wire cannot carry is a programmer error and it
// throws a RangeError.
//
// Alignment is relative to the start of the stub: the stub begins 8-byte aligned in the PDU.
import { uuidFromNdrBytes, uuidToNdrBytes } from './pdu-codec.js'

/** The one failure of the reader: malformed or truncated NDR. reason is a single line meant for a log. */
export class NdrError extends Error {
  override readonly name = 'NdrError'

  constructor(
    readonly reason: string,
    /** The stub offset where the problem was found. */
    readonly offset: number,
  ) {
    super(`${reason} (at stub offset ${offset})`)
  }
}

/** The wire form of a context handle: a u32 of attributes, then the handle's GUID. */
export interface NdrContextHandle {
  readonly attributes: number
  /** Lower-case 8-4-4-4-12 text. The nil GUID with attributes 0 is the NULL context handle. */
  readonly uuid: string
}

export const NDR_CONTEXT_HANDLE_BYTES = 20
export const NIL_UUID = '00000000-0000-0000-0000-000000000000'
/** The first referent id Windows and Samba give a non-NULL pointer in a stub; each next one is 4 more. */
export const NDR_FIRST_REFERENT_ID = 0x00020000

const UINT32_MAX = 0xffffffff
const GUID_BYTES = 16
const UTF16_UNIT_BYTES = 2
// String.fromCharCode takes its units as arguments; chunks keep the list far below engine limits.
const CHAR_CODE_CHUNK_UNITS = 4096
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export type NdrAlignment = 1 | 2 | 4 | 8

export class NdrReader {
  /** The next byte to read; never beyond bytes.byteLength. */
  private position = 0
  private readonly view: DataView
  /** Referent ids of full pointers already seen in this stub: a repeat is an alias, with no pointee. */
  private readonly fullReferents = new Set<number>()

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get offset(): number {
    return this.position
  }

  get remaining(): number {
    return this.bytes.byteLength - this.position
  }

  /** Throws an NdrError at the current offset. */
  fail(reason: string): never {
    throw new NdrError(reason, this.position)
  }

  /** Skips the padding to the next multiple of boundary. Padding bytes carry no meaning, so their values are not checked. */
  align(boundary: NdrAlignment, what = 'alignment padding'): void {
    const padBytes = (boundary - (this.position % boundary)) % boundary
    this.need(padBytes, what)
    this.position += padBytes
  }

  u8(what: string): number {
    this.need(1, what)
    return this.view.getUint8(this.position++)
  }

  u16(what: string): number {
    this.align(2, what)
    this.need(2, what)
    const value = this.view.getUint16(this.position, true)
    this.position += 2
    return value
  }

  u32(what: string): number {
    this.align(4, what)
    this.need(4, what)
    const value = this.view.getUint32(this.position, true)
    this.position += 4
    return value
  }

  u64(what: string): bigint {
    this.align(8, what)
    this.need(8, what)
    const value = this.view.getBigUint64(this.position, true)
    this.position += 8
    return value
  }

  /** A copy of the next byteCount bytes, so the result does not pin or alias the caller's buffer. */
  bytesCopy(byteCount: number, what: string): Buffer {
    this.need(byteCount, what)
    const out = Buffer.from(this.bytes.subarray(this.position, this.position + byteCount))
    this.position += byteCount
    return out
  }

  /** An embedded [ref] pointer's referent id, which must not be NULL. */
  refPointer(what: string): void {
    if (this.u32(`${what} referent id`) === 0) this.fail(`${what} is a [ref] pointer but its referent id is NULL`)
  }

  /** A [unique] pointer: true when a pointee follows (immediately for a parameter, deferred when embedded). */
  uniquePointer(what: string): boolean {
    return this.u32(`${what} referent id`) !== 0
  }

  /** A [ptr] (full) pointer: null for NULL, otherwise its referent id and whether its pointee follows (false for an alias). */
  fullPointer(what: string): { referentId: number; pointeeFollows: boolean } | null {
    const referentId = this.u32(`${what} referent id`)
    if (referentId === 0) return null
    const pointeeFollows = !this.fullReferents.has(referentId)
    this.fullReferents.add(referentId)
    return { referentId, pointeeFollows }
  }

  /**
   * The max_count of a conformant array whose elements take at least elementBytes each. The count
   * is checked against the bytes that remain before the caller can loop over or allocate for it.
   */
  conformance(elementBytes: number, what: string): number {
    const maxCount = this.u32(`${what} max_count`)
    if (maxCount * elementBytes > this.remaining) {
      this.fail(`${what} max_count ${maxCount} needs ${maxCount * elementBytes} bytes but ${this.remaining} remain`)
    }
    return maxCount
  }

  /**
   * The max_count, offset and actual_count of a conformant varying array whose elements take
   * elementBytes each. Only actual_count elements are on the wire, so max_count may exceed what
   * remains; actual_count is what gets checked against the remaining bytes.
   */
  conformantVarying(elementBytes: number, what: string): { maxCount: number; offset: number; actualCount: number } {
    const maxCount = this.u32(`${what} max_count`)
    const offset = this.u32(`${what} offset`)
    const actualCount = this.u32(`${what} actual_count`)
    if (offset > maxCount || actualCount > maxCount - offset) {
      this.fail(`${what} offset ${offset} + actual_count ${actualCount} exceeds max_count ${maxCount}`)
    }
    const byteCount = actualCount * elementBytes
    if (byteCount > this.remaining) this.fail(`${what} actual_count ${actualCount} needs ${byteCount} bytes but ${this.remaining} remain`)
    return { maxCount, offset, actualCount }
  }

  /**
   * A [string] wchar_t* pointee: max_count, offset, actual_count, then actual_count UTF-16LE code
   * units of which the last, and only the last, is the NUL terminator. Code units are returned as
   * they are, unpaired surrogates included: judging the text is the receiver's business.
   */
  conformantVaryingString(what: string): string {
    const { offset, actualCount } = this.conformantVarying(UTF16_UNIT_BYTES, what)
    // A string is always transmitted from its first element (C706 14.3.4.2).
    if (offset !== 0) this.fail(`${what} has varying offset ${offset}, but a string's offset is always 0`)
    if (actualCount === 0) this.fail(`${what} has actual_count 0, so no room for its NUL terminator`)
    const byteCount = actualCount * UTF16_UNIT_BYTES
    const start = this.position
    const lastIndex = actualCount - 1
    if (this.view.getUint16(start + UTF16_UNIT_BYTES * lastIndex, true) !== 0) this.fail(`${what} is not terminated by a NUL`)
    for (let index = 0; index < lastIndex; index++) {
      if (this.view.getUint16(start + UTF16_UNIT_BYTES * index, true) === 0) this.fail(`${what} has a NUL at code unit ${index} before its terminator`)
    }
    const text = this.utf16Text(start, lastIndex)
    this.position += byteCount
    return text
  }

  /**
   * A fixed array of unitCount WCHARs holding a NUL-terminated string, as WITNESS_INTERFACE_INFO's
   * InterfaceGroupName. What follows the NUL is not part of the string and is not checked.
   */
  fixedString(unitCount: number, what: string): string {
    this.align(2, what)
    const byteCount = unitCount * UTF16_UNIT_BYTES
    this.need(byteCount, what)
    const start = this.position
    let length = -1
    for (let index = 0; index < unitCount; index++) {
      if (this.view.getUint16(start + UTF16_UNIT_BYTES * index, true) === 0) {
        length = index
        break
      }
    }
    if (length < 0) this.fail(`${what} fills all ${unitCount} code units with no NUL terminator`)
    const text = this.utf16Text(start, length)
    this.position += byteCount
    return text
  }

  /** A 20-byte context handle (C706 ndr_context_handle): u32 attributes, then a GUID. */
  contextHandle(what: string): NdrContextHandle {
    this.align(4, what)
    this.need(NDR_CONTEXT_HANDLE_BYTES, what)
    const attributes = this.view.getUint32(this.position, true)
    const uuid = uuidFromBytes(this.bytes.subarray(this.position + 4, this.position + NDR_CONTEXT_HANDLE_BYTES))
    this.position += NDR_CONTEXT_HANDLE_BYTES
    return { attributes, uuid }
  }

  /** Requires that the stub has been read to its last byte. */
  end(what: string): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} extra bytes after ${what}`)
  }

  private need(byteCount: number, what: string): void {
    if (byteCount > this.remaining) this.fail(`truncated ${what}: ${byteCount} bytes needed, ${this.remaining} remain`)
  }

  /** unitCount UTF-16LE code units at start, which the caller has checked are present. */
  private utf16Text(start: number, unitCount: number): string {
    let text = ''
    for (let chunkStart = 0; chunkStart < unitCount; chunkStart += CHAR_CODE_CHUNK_UNITS) {
      const chunkUnits = Math.min(CHAR_CODE_CHUNK_UNITS, unitCount - chunkStart)
      const units = new Array<number>(chunkUnits)
      for (let index = 0; index < chunkUnits; index++) units[index] = this.view.getUint16(start + UTF16_UNIT_BYTES * (chunkStart + index), true)
      text += String.fromCharCode(...units)
    }
    return text
  }
}

export class NdrWriter {
  private buffer = Buffer.alloc(256)
  /** Bytes written so far; buffer[0, length) is the stub. */
  private length = 0
  private nextReferentId = NDR_FIRST_REFERENT_ID

  get offset(): number {
    return this.length
  }

  /** Zero padding to the next multiple of boundary, as Windows and Samba write it. */
  align(boundary: NdrAlignment): void {
    const padBytes = (boundary - (this.length % boundary)) % boundary
    this.reserve(padBytes).fill(0)
  }

  u8(value: number, what: string): void {
    checkUnsigned(value, 0xff, what)
    this.reserve(1)[0] = value
  }

  u16(value: number, what: string): void {
    checkUnsigned(value, 0xffff, what)
    this.align(2)
    this.reserve(2).writeUInt16LE(value, 0)
  }

  u32(value: number, what: string): void {
    checkUnsigned(value, UINT32_MAX, what)
    this.align(4)
    this.reserve(4).writeUInt32LE(value, 0)
  }

  u64(value: bigint, what: string): void {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) throw new RangeError(`${what}: ${String(value)} is not a u64`)
    this.align(8)
    this.reserve(8).writeBigUInt64LE(value, 0)
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.byteLength).set(data)
  }

  /** A [unique] or full pointer: the next referent id when present (ids start at 0x00020000 and step by 4, as Windows numbers them), else 0. */
  pointer(present: boolean, what: string): void {
    if (!present) {
      this.u32(0, what)
      return
    }
    this.u32(this.nextReferentId, what)
    this.nextReferentId += 4
  }

  /** The pointee of a [string] wchar_t*: max_count = actual_count = length + 1, offset 0, the code units and a NUL. */
  conformantVaryingString(text: string, what: string): void {
    if (typeof text !== 'string') throw new RangeError(`${what} is not a string`)
    // The NUL would end the string early on the wire, so it cannot be sent faithfully.
    if (text.includes('\0')) throw new RangeError(`${what} contains a NUL, which a [string] cannot carry`)
    const unitCount = text.length + 1
    this.u32(unitCount, `${what} max_count`)
    this.u32(0, `${what} offset`)
    this.u32(unitCount, `${what} actual_count`)
    // utf16le writes each code unit as it is, lone surrogates included; the NUL is already zero.
    const out = this.reserve(unitCount * UTF16_UNIT_BYTES)
    out.fill(0)
    out.write(text, 0, 'utf16le')
  }

  /** A fixed array of unitCount WCHARs: the text, its NUL, then zeros. */
  fixedString(text: string, unitCount: number, what: string): void {
    if (typeof text !== 'string') throw new RangeError(`${what} is not a string`)
    if (text.includes('\0')) throw new RangeError(`${what} contains a NUL`)
    if (text.length + 1 > unitCount) throw new RangeError(`${what} has ${text.length} code units, but ${unitCount} must hold it and its NUL`)
    this.align(2)
    const out = this.reserve(unitCount * UTF16_UNIT_BYTES)
    out.fill(0)
    out.write(text, 0, 'utf16le')
  }

  contextHandle(handle: NdrContextHandle, what: string): void {
    this.u32(handle.attributes, `${what} attributes`)
    this.bytes(uuidToBytes(handle.uuid, what))
  }

  /** The stub written so far, as a buffer of its own. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length))
  }

  /** Appends byteCount bytes and returns them for writing. */
  private reserve(byteCount: number): Buffer {
    if (this.length + byteCount > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + byteCount))
      this.buffer.copy(grown, 0, 0, this.length)
      this.buffer = grown
    }
    const out = this.buffer.subarray(this.length, this.length + byteCount)
    this.length += byteCount
    return out
  }
}

/** The 16 wire bytes of a GUID: the first three fields little-endian, the last eight as written (MS-DTYP 2.3.4.2). */
export function uuidToBytes(uuid: string, what = 'uuid'): Buffer {
  if (typeof uuid !== 'string' || !UUID_PATTERN.test(uuid)) throw new RangeError(`${what}: ${JSON.stringify(uuid)} is not a GUID`)
  return uuidToNdrBytes(uuid)
}

/** The lower-case text of a GUID's 16 wire bytes. */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.byteLength !== GUID_BYTES) throw new RangeError(`a GUID has ${GUID_BYTES} bytes, not ${bytes.byteLength}`)
  return uuidFromNdrBytes(bytes, 0, true)
}

function checkUnsigned(value: number, max: number, what: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what}: ${String(value)} is not an unsigned integer up to 0x${max.toString(16)}`)
  }
}

/** A decoded stub, or why it is not one (a line for the log). */
export type NdrDecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

/**
 * Runs body over the whole stub, which must be consumed to its end; an NdrError (or, were
 * there a bug, anything else) becomes a typed failure, so a stub from the network never throws.
 */
export function decodeNdrStub<T>(stub: Uint8Array, what: string, body: (reader: NdrReader) => T): NdrDecodeResult<T> {
  if (!(stub instanceof Uint8Array)) return { ok: false, error: `${what}: the stub is not a byte array` }
  try {
    const reader = new NdrReader(stub)
    const value = body(reader)
    reader.end(what)
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: `${what}: ${ndrFailureReason(err)}` }
  }
}

/** One line for a log. Anything but an NdrError is a bug in the codec, and says so. */
export function ndrFailureReason(err: unknown): string {
  if (err instanceof NdrError) return err.message
  return `internal decoder error: ${err instanceof Error ? err.message : String(err)}`.replace(/[\r\n]+/g, ' ')
}
