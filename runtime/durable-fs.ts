// The two steps of durable writing that node:fs leaves to the caller: a write loop that
// survives short writes, and an fsync of a folder so that a rename or an unlink in it
// survives a crash.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'

/** Writes all of data at the file's current position (writeSync may write fewer bytes than asked). */
export function writeAllSync(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done)
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
