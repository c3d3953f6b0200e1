// SAN-mode data IO: a node reads and writes a CSV's files on the shared storage itself, after
// the CSV's owner validated the handle (a small metadata message), so the data bytes never
// pass through the owner. File descriptors are cached per open, bounded.
import { open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { TokenBucket } from './token-bucket.js'

/** Open file descriptors kept for direct IO; the least recently used closes first. */
export const DIRECT_FILES_MAX = 256

export class DirectIo {
  private readonly files = new Map<string, Promise<FileHandle>>()

  constructor(
    private readonly storageDir: string,
    private readonly bandwidth: TokenBucket | null,
  ) {}

  async read(csv: string, share: string, path: string, persistentId: string, offset: number, length: number): Promise<Buffer | 'end-of-file'> {
    const fh = await this.file(csv, share, path, persistentId)
    const size = (await fh.stat()).size
    if (offset >= size && length > 0) return 'end-of-file'
    // Not zero-filled: only the bytesRead the file supplied are returned.
    const buffer = Buffer.allocUnsafe(Math.min(length, size - offset))
    if (this.bandwidth) await this.bandwidth.take(buffer.length)
    const { bytesRead } = await fh.read(buffer, 0, buffer.length, offset)
    return buffer.subarray(0, bytesRead)
  }

  /** Writes and fdatasyncs: continuous availability holds on the direct path too. */
  async write(csv: string, share: string, path: string, persistentId: string, offset: number, data: Buffer): Promise<number> {
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
    await (await this.file(csv, share, path, persistentId)).datasync()
  }

  async close(): Promise<void> {
    const all = [...this.files.values()]
    this.files.clear()
    await Promise.allSettled(all.map(async (f) => (await f).close()))
  }

  private file(csv: string, share: string, path: string, persistentId: string): Promise<FileHandle> {
    const key = `${csv}/${persistentId}`
    let fh = this.files.get(key)
    if (fh) {
      // Move to the back: the map's order is the recency order.
      this.files.delete(key)
      this.files.set(key, fh)
      return fh
    }
    fh = open(join(this.storageDir, csv, share, ...path.split('/')), 'r+')
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
