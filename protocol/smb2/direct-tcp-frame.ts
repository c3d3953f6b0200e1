// The direct TCP transport of SMB2 (MS-SMB2 2.1): every message (or compound, or transform)
// goes in one frame after a 4-byte header, a zero byte and a 24-bit big-endian length.

export const DIRECT_TCP_HEADER_BYTES = 4
/** The largest length the 24-bit field can carry. */
export const DIRECT_TCP_LENGTH_MAX = 0xffffff

export type FramePeek =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'frame'; readonly length: number }
  /** The first byte is not zero, or the length is beyond the bound: the connection is dropped (2.1, 3.3.5.2). */
  | { readonly kind: 'bad'; readonly reason: string }

/** Reads the frame header at the start of buf, refusing lengths beyond maxFrameBytes before anything is buffered. */
export function peekDirectTcpFrame(buf: Uint8Array, maxFrameBytes: number): FramePeek {
  if (buf.length < DIRECT_TCP_HEADER_BYTES) return { kind: 'need-more' }
  if (buf[0] !== 0) return { kind: 'bad', reason: `frame header starts with 0x${buf[0].toString(16)}, not zero` }
  const length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
  if (length === 0) return { kind: 'bad', reason: 'empty frame' }
  if (length > maxFrameBytes) return { kind: 'bad', reason: `frame of ${length} bytes is beyond the bound of ${maxFrameBytes}` }
  return { kind: 'frame', length }
}

/** The 4-byte header for a frame of length bytes. */
export function directTcpHeader(length: number): Buffer {
  if (!Number.isInteger(length) || length < 0 || length > DIRECT_TCP_LENGTH_MAX) throw new RangeError(`frame length ${length} does not fit 24 bits`)
  const out = Buffer.alloc(DIRECT_TCP_HEADER_BYTES)
  out.writeUInt32BE(length, 0)
  return out
}
