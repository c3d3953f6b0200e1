// Reusable memory for the large buffers of the SMB data path (READ payloads read from a file,
// WRITE frames assembled from the socket): a fresh multi-MiB buffer costs more than the copy into
// it — the kernel maps and zeroes every page on first touch (measured here: ~6 ms for 8 MiB
// against ~1 ms to copy into memory already mapped) — and each one is garbage the collector must
// find. A buffer is acquired for one request and released when the socket has sent it (or its
// bytes are no longer read); one never released is collected as any other, so a path that does
// not release (the gRPC front, a forwarded reply) only misses the reuse.
//
// Bounds: buffers are kept per size class (a multiple of CLASS_BYTES), and at most
// freeBytesMax bytes of them wait for reuse; beyond it a released buffer is left to the collector.
// Releasing a buffer the pool did not hand out, or twice, does nothing.
// A shared pool hands out views of SharedArrayBuffers: a worker thread can read them where
// they are (the backup agent's block hasher), where an ArrayBuffer would be copied to it.
import assert from 'node:assert/strict'

/** Requests below this are ordinary allocations (Node's own slab serves small ones well). */
export const POOLED_BYTES_MIN = 256 * 1024
/** Buffers are kept in classes of whole MiB (an 8 MiB READ, an 8 MiB WRITE and its headers: 9 MiB). */
const CLASS_BYTES = 1024 * 1024

export class BufferPool {
  /** Free buffers by class capacity. */
  private readonly free = new Map<number, ArrayBufferLike[]>()
  private freeBytes = 0
  /** The buffers handed out and not yet released (weakly: one dropped by its user is collected). */
  private readonly out = new WeakSet<ArrayBufferLike>()
  private readonly shared: boolean

  constructor(
    /** Bytes of free buffers kept for reuse at most. */
    readonly freeBytesMax: number,
    /** The largest request served from the pool; larger ones are ordinary allocations. */
    readonly pooledBytesMax: number,
    opts: { readonly shared?: boolean } = {},
  ) {
    assert.ok(Number.isSafeInteger(freeBytesMax) && freeBytesMax >= 0)
    assert.ok(Number.isSafeInteger(pooledBytesMax) && pooledBytesMax >= POOLED_BYTES_MIN)
    this.shared = opts.shared === true
  }

  /** A buffer of exactly `bytes` bytes, contents unspecified (as Buffer.allocUnsafe). */
  acquire(bytes: number): Buffer {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `buffer of ${bytes} bytes`)
    if (bytes < POOLED_BYTES_MIN || bytes > this.pooledBytesMax) return Buffer.allocUnsafe(bytes)
    const capacity = Math.ceil(bytes / CLASS_BYTES) * CLASS_BYTES
    const list = this.free.get(capacity)
    let memory = list?.pop()
    if (memory) this.freeBytes -= capacity
    else memory = this.shared ? new SharedArrayBuffer(capacity) : Buffer.allocUnsafeSlow(capacity).buffer
    this.out.add(memory)
    return Buffer.from(memory, 0, bytes)
  }

  /** Gives back a buffer from acquire (or a view into one) whose bytes nobody reads any more. */
  release(buffer: Uint8Array): void {
    const memory = buffer.buffer
    if (!this.out.delete(memory)) return
    const capacity = memory.byteLength
    if (this.freeBytes + capacity > this.freeBytesMax) return
    let list = this.free.get(capacity)
    if (!list) this.free.set(capacity, (list = []))
    list.push(memory)
    this.freeBytes += capacity
  }

  /** Bytes waiting for reuse. */
  get idleBytes(): number {
    return this.freeBytes
  }
}

/**
 * The pool of a node's data path: a sequential client keeps a few 8 MiB requests in flight
 * (smbclient: 16 MiB of reads or writes), so 64 MiB covers several clients without growing
 * without bound.
 */
export const dataPathBuffers = new BufferPool(64 * 1024 * 1024, 9 * 1024 * 1024)
