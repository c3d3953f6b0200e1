// SAN-mode data IO: a node reads and writes a CSV's files on the shared storage itself, after
// the CSV's owner validated the handle (a small metadata message), so the data bytes never
// pass through the owner. File descriptors are cached per open, bounded.
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { arrayPathOf, type FencedStorage } from './fenced-storage.js'
import type { TokenBucket } from './token-bucket.js'

/** Open file descriptors kept for direct IO; the least recently used closes first. */
export const DIRECT_FILES_MAX = 256

export class DirectIo {
  private readonly files = new Map<string, Promise<FileHandle>>()

  constructor(
    private readonly storageDir: string,
    private readonly bandwidth: TokenBucket | null,
    /** With the storage array, writes go through it (reads stay direct: WERO lets anyone read). */
    private readonly array: FencedStorage | null = null,
  ) {}

  /** The reservation key a write to this CSV issued now carries; undefined without the array. */
  keyNow(csv: string): bigint | undefined {
    return this.array?.keyOf(csv)
  }

  async read(csv: string, share: string, path: string, persistentId: string, offset: number, length: number): Promise<Buffer | 'end-of-file'> {
    const fh = await this.file(csv, share, path, persistentId, 'read')
    const size = (await fh.stat()).size
    if (offset >= size && length > 0) return 'end-of-file'
    // Not zero-filled: only the bytesRead the file supplied are returned.
    const buffer = Buffer.allocUnsafe(Math.min(length, size - offset))
    if (this.bandwidth) await this.bandwidth.take(buffer.length)
    const { bytesRead } = await fh.read(buffer, 0, buffer.length, offset)
    return buffer.subarray(0, bytesRead)
  }

  /**
   * Writes and fdatasyncs: continuous availability holds on the direct path too. With the
   * array, under key (the one current when the write was issued): a ReservationConflict if this
   * node was preempted since.
   */
  async write(csv: string, share: string, path: string, persistentId: string, offset: number, data: Buffer, key?: bigint): Promise<number> {
    if (this.array) {
      if (this.bandwidth) await this.bandwidth.take(data.length)
      return this.array.write(csv, arrayPathOf(share, path), offset, data, key ?? this.array.keyOf(csv))
    }
    const fh = await this.file(csv, share, path, persistentId)
    if (this.bandwidth) await this.bandwidth.take(data.length)
    let written = 0
    while (written < data.length) {
      const { bytesWritten } = await fh.write(data, written, data.length - written, offset + written)
      written += bytesWritten
    }
    await fh.datasync()
    return written
  }

  async flush(csv: string, share: string, path: string, persistentId: string): Promise<void> {
    if (this.array) return this.array.flush(csv, arrayPathOf(share, path), this.array.keyOf(csv))
    await (await this.file(csv, share, path, persistentId)).datasync()
  }

  /** Closes the files of one CSV (its volume is about to be remounted); resolves to how many. */
  async releaseCsv(csv: string): Promise<number> {
    const mine = [...this.files.entries()].filter(([key]) => key.startsWith(`${csv}/`))
    for (const [key] of mine) this.files.delete(key)
    await Promise.allSettled(mine.map(async ([, f]) => (await f).close()))
    return mine.length
  }

  async close(): Promise<void> {
    const all = [...this.files.values()]
    this.files.clear()
    await Promise.allSettled(all.map(async (f) => (await f).close()))
  }

  /**
   * A read may use a read-only descriptor, opened when the volume is write-protected (kept under
   * its own key, so that a write after the volume is writable again opens a writable one).
   */
  private file(csv: string, share: string, path: string, persistentId: string, use: 'read' | 'write' = 'write'): Promise<FileHandle> {
    const key = `${csv}/${persistentId}`
    const readOnlyKey = `${key}/read-only`
    const full = join(this.storageDir, csv, share, ...path.split('/'))
    if (use === 'read' && !this.files.has(key) && this.files.has(readOnlyKey)) return this.cached(readOnlyKey, () => open(full, 'r'))
    if (use === 'read' && !this.files.has(key)) {
      return open(full, 'r+').then(
        (fh) => {
          // Another read opened it meanwhile: that one serves, this one closes.
          if (this.files.has(key)) void fh.close().catch(() => undefined)
          return this.cached(key, () => Promise.resolve(fh))
        },
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EROFS') throw err
          return this.cached(readOnlyKey, () => open(full, 'r'))
        },
      )
    }
    return this.cached(key, () => open(full, 'r+'))
  }

  private cached(key: string, opener: () => Promise<FileHandle>): Promise<FileHandle> {
    let fh = this.files.get(key)
    if (fh) {
      // Move to the back: the map's order is the recency order.
      this.files.delete(key)
      this.files.set(key, fh)
      return fh
    }
    fh = opener()
    fh.catch(() => this.files.delete(key))
    this.files.set(key, fh)
    while (this.files.size > DIRECT_FILES_MAX) {
      const [oldest, handle] = this.files.entries().next().value as [string, Promise<FileHandle>]
      this.files.delete(oldest)
      void handle.then((f) => f.close()).catch(() => undefined)
    }
    return fh
  }
}
