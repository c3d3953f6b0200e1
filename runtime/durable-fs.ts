// The steps of durable writing that node:fs leaves to the caller: write loops that survive
// short writes (at the file's position, or positional on the thread pool), and an fsync of a
// folder so that a rename or an unlink in it survives a crash.
import { closeSync, fsyncSync, openSync, writeSync, writev } from 'node:fs'

/** Writes all of data at the file's current position (writeSync may write fewer bytes than asked). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done)
}

/**
 * Writes all of `parts`, one after the other, from `position`, on libuv's thread pool (the
 * calling thread goes on): one writev for the lot, looping over short writes. The caller keeps
 * the parts unchanged until the promise settles.
 */
export function writeAllAt(fd: number, parts: readonly Uint8Array[], position: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const from = (rest: readonly Uint8Array[], at: number): void => {
      if (rest.length === 0) {
        resolve()
        return
      }
      writev(fd, rest as Uint8Array[], at, (err, n) => {
        if (err) {
          reject(err)
          return
        }
        // A write that makes no progress would loop for ever.
        if (n === 0) {
          reject(new Error(`writev at ${at} wrote nothing`))
          return
        }
        // Drop the n bytes written: whole parts, then the start of the next.
        const left: Uint8Array[] = []
        let skip = n
        for (const part of rest) {
          if (skip >= part.length) skip -= part.length
          else {
            left.push(skip > 0 ? part.subarray(skip) : part)
            skip = 0
          }
        }
        from(left, at + n)
      })
    }
    from(
      parts.filter((p) => p.length > 0),
      position,
    )
  })
}

/** fsync of a folder: makes the creation, rename or removal of an entry in it durable. */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
