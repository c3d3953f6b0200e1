// Atomic replacement of small files on stable storage: write a temp file, fsync it, rename
// it over the old one, fsync the folder. A crash leaves either the old or the new version.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { fsyncDirSync, writeAllSync } from './durable-fs.js'

/**
 * beforeRename runs after the data is on disk and may throw to give up: a writer that shares
 * the folder with other processes checks there that it may still write (it may have been
 * frozen during the fsync). The temp name is per process, so writers never share a temp file.
 */
export function writeFileAtomicSync(path: string, data: string, beforeRename?: () => void): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    writeAllSync(fd, Buffer.from(data, 'utf8'))
    fsyncSync(fd)
  } catch (err) {
    // A full volume (ENOSPC): the old version stays, and no temp file is left to fill it more.
    closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {
      // Gone already, or the volume refuses: the error that matters is the write's.
    }
    throw err
  }
  closeSync(fd)
  try {
    beforeRename?.()
  } catch (err) {
    unlinkSync(tmp)
    throw err
  }
  renameSync(tmp, path)
  fsyncDirSync(dirname(path))
}

export function removeFileDurablySync(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    return
  }
  fsyncDirSync(dirname(path))
}
