// The receive side of the direct TCP transport (MS-SMB2 2.1) for the client: bytes in, whole
// frames out. The socket reads into the buffer this class names (net's `onread`): a staging
// buffer for frame headers and small frames, and for a frame larger than that, the frame's own
// buffer, so that the kernel copies a READ response's data straight to where it stays. Reading
// 'data' chunks instead cost a 64 KiB allocation per chunk and a second copy of every byte
// (with signature checking, ~60 % of the client's CPU on a 1 MiB READ stream, profiled).
// What is buffered never exceeds one frame header plus maxFrameBytes: a length beyond the
// bound is refused from its 4-byte header, before any of its bytes are kept.
// A large frame's buffer comes from clientFrameBuffers, and goes back to it when whoever holds
// the frame's bytes is done (a bulk reader that copied a READ's data away, a decrypted
// transform): a fresh 1 MiB buffer per READ was 1 GiB of new memory per GiB read, and the
// collections it forced cost the backup job ~1.3 ns/B of its 4 (bench, 2026-12-06).
import { DIRECT_TCP_HEADER_BYTES, peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'
import { BufferPool } from '../../runtime/buffer-pool.js'

export type AccumulatedFrames = { readonly ok: true; readonly frames: Buffer[] } | { readonly ok: false; readonly reason: string }

/** Frames up to this size (header included) are assembled in the staging buffer and copied out. */
export const STAGING_BYTES = 64 * 1024

/**
 * The memory of large frames received, shared by every connection of the process: 16 buffers
 * of a 1 MiB READ's class wait for reuse at most; a frame never released is collected as any other.
 * SharedArrayBuffers, so that a READ's data can be hashed on a worker thread without a copy
 * (client/backup/block-hasher.ts).
 */
export const clientFrameBuffers = new BufferPool(32 * 1024 * 1024, 9 * 1024 * 1024, { shared: true })

export class FrameAccumulator {
  private readonly staging: Buffer
  /** Bytes in staging[0, staged): a partial header or a partial small frame. */
  private staged = 0
  /** The body of a large frame being read into directly, and how much of it arrived. */
  private frame: Buffer | null = null
  private filled = 0

  constructor(
    readonly maxFrameBytes: number,
    stagingBytes: number = STAGING_BYTES,
  ) {
    this.staging = Buffer.allocUnsafe(Math.max(stagingBytes, DIRECT_TCP_HEADER_BYTES + 1))
  }

  get buffered(): number {
    return this.staged + this.filled
  }

  /** Where the next bytes from the socket go: never empty, never past the frame being read. */
  readBuffer(): Buffer {
    if (this.frame) return this.frame.subarray(this.filled)
    return this.staging.subarray(this.staged)
  }

  /** nread bytes were written at the start of the last readBuffer(); returns the frames they completed. */
  commit(nread: number): AccumulatedFrames {
    if (this.frame) {
      this.filled += nread
      if (this.filled < this.frame.length) return { ok: true, frames: [] }
      const done = this.frame
      this.frame = null
      this.filled = 0
      return { ok: true, frames: [done] }
    }
    this.staged += nread
    return this.drainStaging()
  }

  /** Adds bytes from elsewhere (tests, a stream): the same path as the socket's reads. */
  push(chunk: Buffer): AccumulatedFrames {
    const frames: Buffer[] = []
    for (let at = 0; at < chunk.length; ) {
      const n = chunk.copy(this.readBuffer(), 0, at)
      at += n
      const got = this.commit(n)
      if (!got.ok) return got
      frames.push(...got.frames)
    }
    return { ok: true, frames }
  }

  private drainStaging(): AccumulatedFrames {
    const frames: Buffer[] = []
    let at = 0
    for (;;) {
      const peek = peekDirectTcpFrame(this.staging.subarray(at, this.staged), this.maxFrameBytes)
      if (peek.kind === 'bad') return { ok: false, reason: peek.reason }
      if (peek.kind === 'need-more') break
      const total = DIRECT_TCP_HEADER_BYTES + peek.length
      const available = this.staged - at
      if (available >= total) {
        // A copy: the staging buffer is read into again.
        frames.push(Buffer.from(this.staging.subarray(at + DIRECT_TCP_HEADER_BYTES, at + total)))
        at += total
        continue
      }
      if (total > this.staging.length) {
        // Too large to stage: the rest of it is read into its own buffer.
        this.frame = clientFrameBuffers.acquire(peek.length)
        this.filled = this.staging.copy(this.frame, 0, at + DIRECT_TCP_HEADER_BYTES, this.staged)
        at = this.staged
      }
      break
    }
    // What is left (a partial header or small frame, less than the staging buffer) moves to its start.
    if (at > 0) {
      this.staging.copy(this.staging, 0, at, this.staged)
      this.staged -= at
    }
    return { ok: true, frames }
  }
}
