// Bounded reading of one SMB2 message (MS-SMB2 2.2), for the decoders that face the network.
//
// Every SMB2 request is a 64-byte header, a fixed body whose first u16 is its StructureSize,
// and for most commands a variable part addressed by (offset, length) pairs counted from the
// start of the header. A decoder here takes the bytes of one message (the header included; a
// compound is split first), checks the StructureSize and that the fixed body is all there, and
// checks every offset and length against the bytes present before it looks at them. Its one
// failure is a returned Smb2DecodeError carrying the NTSTATUS the server answers with
// (STATUS_INVALID_PARAMETER unless the spec names another): no input makes a decoder throw.
// Variable parts come back as views into the input, not copies (a WRITE's 8 MiB is not
// copied): a caller that keeps one beyond the input buffer's life copies it.
import { NT_STATUS } from './ntstatus.js'

/** Bytes in the SMB2 sync and async headers (MS-SMB2 2.2.1). */
export const SMB2_HEADER_BYTES = 64

/** A message that cannot be decoded, and the NTSTATUS to answer it with. */
export class Smb2DecodeError {
  readonly name = 'Smb2DecodeError'

  constructor(
    readonly status: number,
    /** One line for a log. */
    readonly reason: string,
  ) {}
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Smb2DecodeError }

/** Thrown inside a decoder only, and turned into a returned Smb2DecodeError at its boundary. */
class Malformed extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/** Absolute-offset reads into one message that refuse to look past its end. */
export class MessageReader {
  constructor(readonly msg: Buffer) {}

  get length(): number {
    return this.msg.length
  }

  u8(offset: number): number {
    this.need(offset, 1)
    return this.msg[offset]
  }

  u16(offset: number): number {
    this.need(offset, 2)
    return this.msg.readUInt16LE(offset)
  }

  u32(offset: number): number {
    this.need(offset, 4)
    return this.msg.readUInt32LE(offset)
  }

  u64(offset: number): bigint {
    this.need(offset, 8)
    return this.msg.readBigUInt64LE(offset)
  }

  /** A view of length bytes at offset. */
  bytes(offset: number, length: number): Buffer {
    this.need(offset, length)
    return this.msg.subarray(offset, offset + length)
  }

  /**
   * The variable part a request names by (offset, length), offset counted from the header. An
   * empty one may have any offset (clients send 0 or the end of the fixed body); a non-empty one
   * must lie after the fixed body (minOffset) and end inside the message.
   */
  variable(offset: number, length: number, minOffset: number, what: string): Buffer {
    if (length === 0) return this.msg.subarray(0, 0)
    if (offset < minOffset) this.fail(`${what}: offset ${offset} inside the fixed part (before ${minOffset})`)
    if (offset + length > this.msg.length) this.fail(`${what}: ${length} bytes at ${offset} run past the message end (${this.msg.length})`)
    return this.msg.subarray(offset, offset + length)
  }

  /** UTF-16LE text of a variable part; an odd byte count is malformed. */
  utf16(bytes: Buffer, what: string): string {
    if (bytes.length % 2 !== 0) this.fail(`${what}: odd UTF-16 byte count ${bytes.length}`)
    return bytes.toString('utf16le')
  }

  fail(reason: string, status: number = NT_STATUS.INVALID_PARAMETER): never {
    throw new Malformed(status, reason)
  }

  private need(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.msg.length) {
      this.fail(`${length} bytes at ${offset} run past the message end (${this.msg.length})`)
    }
  }
}

/**
 * Decodes the body of one message: checks that the header and the fixed body (StructureSize,
 * less its variable-part byte when odd) are present and that the body's StructureSize is the
 * command's, then runs read; every failure comes back as a value.
 */
export function decodeBody<T>(msg: Buffer, structureSize: number | readonly number[], command: string, read: (r: MessageReader, structureSize: number) => T): Decoded<T> {
  try {
    const r = new MessageReader(msg)
    if (msg.length < SMB2_HEADER_BYTES + 2) r.fail(`${command}: ${msg.length} bytes is shorter than a header and a StructureSize`)
    const size = msg.readUInt16LE(SMB2_HEADER_BYTES)
    const allowed = typeof structureSize === 'number' ? [structureSize] : structureSize
    if (!allowed.includes(size)) r.fail(`${command}: StructureSize ${size}, expected ${allowed.join(' or ')}`)
    const fixedBytes = size & ~1
    if (msg.length < SMB2_HEADER_BYTES + fixedBytes) r.fail(`${command}: the fixed body needs ${fixedBytes} bytes, ${msg.length - SMB2_HEADER_BYTES} present`)
    return { ok: true, value: read(r, size) }
  } catch (err) {
    return { ok: false, error: asDecodeError(err) }
  }
}

/** Runs a decoder that reads raw bytes (not a StructureSize body), turning failures into values. */
export function decodeRaw<T>(bytes: Buffer, read: (r: MessageReader) => T): Decoded<T> {
  try {
    return { ok: true, value: read(new MessageReader(bytes)) }
  } catch (err) {
    return { ok: false, error: asDecodeError(err) }
  }
}

function asDecodeError(err: unknown): Smb2DecodeError {
  if (err instanceof Malformed) return new Smb2DecodeError(err.status, err.reason)
  // Buffer's own bounds checks are a second net under need(): still a malformed message, not a crash.
  if (err instanceof RangeError) return new Smb2DecodeError(NT_STATUS.INVALID_PARAMETER, err.message)
  throw err
}

/** The byte count rounded up to the next multiple of 8 (compound and context alignment). */
export function align8(n: number): number {
  return (n + 7) & ~7
}

/** A fixed body of size bytes with its StructureSize written, for the encoders. */
export function fixedBody(structureSize: number, bytes: number = structureSize & ~1): Buffer {
  const body = Buffer.alloc(bytes)
  body.writeUInt16LE(structureSize, 0)
  return body
}
