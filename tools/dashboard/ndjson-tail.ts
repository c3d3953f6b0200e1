// Incremental reading of NDJSON logs that other processes append to: each call returns only
// the complete lines added since the last one, so a dashboard watching a long run reads every
// byte once instead of whole files on every tick.
import { open } from 'node:fs/promises'
import { parseLogLines, type LogLine } from '../../cluster/run-logs.js'

/** Bytes read from one file per call: a large backlog is caught up over several calls. */
export const READ_BYTES_MAX = 4 * 1024 * 1024

interface Position {
  readonly ino: number
  readonly offset: number
}

export class NdjsonTail {
  private readonly positions = new Map<string, Position>()

  constructor(private readonly readBytesMax = READ_BYTES_MAX) {}

  /** The event lines appended to path since the last call; [] when it is missing or unchanged. */
  async read(path: string): Promise<LogLine[]> {
    let handle
    try {
      handle = await open(path, 'r')
    } catch {
      return []
    }
    try {
      const stat = await handle.stat()
      const known = this.positions.get(path)
      // A new cluster in the same folder recreates its logs: start such a file from the top.
      let offset = known && known.ino === stat.ino && known.offset <= stat.size ? known.offset : 0
      if (stat.size === offset) {
        this.positions.set(path, { ino: stat.ino, offset })
        return []
      }
      const length = Math.min(stat.size - offset, this.readBytesMax)
      const buffer = Buffer.allocUnsafe(length)
      const { bytesRead } = await handle.read(buffer, 0, length, offset)
      const chunk = buffer.subarray(0, bytesRead)
      const end = chunk.lastIndexOf(0x0a)
      if (end < 0) {
        // Half a line: wait for its end, unless one line is longer than a whole read (skip it).
        if (bytesRead === this.readBytesMax) offset += bytesRead
        this.positions.set(path, { ino: stat.ino, offset })
        return []
      }
      this.positions.set(path, { ino: stat.ino, offset: offset + end + 1 })
      return parseLogLines(chunk.subarray(0, end).toString('utf8'))
    } finally {
      await handle.close().catch(() => undefined)
    }
  }

  /** Forgets files no longer watched, so the map stays as small as the set of logs. */
  retain(paths: ReadonlySet<string>): void {
    for (const path of this.positions.keys()) if (!paths.has(path)) this.positions.delete(path)
  }
}
