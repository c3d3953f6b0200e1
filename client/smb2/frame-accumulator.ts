// The receive side of the direct TCP transport (MS-SMB2 2.1) for the client: TCP chunks in,
// whole frames out. What is buffered never exceeds one frame header plus maxFrameBytes: a length
// beyond the bound is refused from its 4-byte header, before any of its bytes are kept.
import { DIRECT_TCP_HEADER_BYTES, peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'

export type AccumulatedFrames = { readonly ok: true; readonly frames: Buffer[] } | { readonly ok: false; readonly reason: string }

export class FrameAccumulator {
  private chunks: Buffer[] = []
  private bufferedBytes = 0

  constructor(readonly maxFrameBytes: number) {}

  get buffered(): number {
    return this.bufferedBytes
  }

  /** Adds a chunk and returns the frames it completed (without their 4-byte headers). */
  push(chunk: Buffer): AccumulatedFrames {
    this.chunks.push(chunk)
    this.bufferedBytes += chunk.length
    const frames: Buffer[] = []
    for (;;) {
      if (this.bufferedBytes < DIRECT_TCP_HEADER_BYTES) break
      const head = this.peekBytes(DIRECT_TCP_HEADER_BYTES)
      const peek = peekDirectTcpFrame(head, this.maxFrameBytes)
      if (peek.kind === 'bad') return { ok: false, reason: peek.reason }
      if (peek.kind === 'need-more') break
      const total = DIRECT_TCP_HEADER_BYTES + peek.length
      if (this.bufferedBytes < total) break
      const whole = this.take(total)
      frames.push(whole.subarray(DIRECT_TCP_HEADER_BYTES))
    }
    return { ok: true, frames }
  }

  private peekBytes(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n)
    // Buffer.concat with a total length copies only the first n bytes.
    return Buffer.concat(this.chunks, n)
  }

  /** Removes and returns the first n buffered bytes (one copy at most, none when one chunk holds them). */
  private take(n: number): Buffer {
    const first = this.chunks[0]
    if (first.length >= n) {
      const out = first.subarray(0, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = first.subarray(n)
      this.bufferedBytes -= n
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let at = 0
    while (at < n) {
      const c = this.chunks[0]
      const used = Math.min(c.length, n - at)
      c.copy(out, at, 0, used)
      at += used
      if (used === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(used)
    }
    this.bufferedBytes -= n
    return out
  }
}
