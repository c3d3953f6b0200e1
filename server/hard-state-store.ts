// Stores the quorum core's hard state (term, vote, views) on local disk: written to a temp
// file, fsynced and renamed over the old one, so a crash leaves either version whole.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { EMPTY_HARD_STATE, type HardState } from '../cluster/core/quorum.js'

export function readHardState(path: string): HardState {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return EMPTY_HARD_STATE
  }
  try {
    const parsed = JSON.parse(text) as HardState
    if (typeof parsed.term !== 'number' || typeof parsed.votedFor !== 'string') return EMPTY_HARD_STATE
    return parsed
  } catch {
    // A torn write cannot happen (rename is atomic); anything else unreadable starts fresh.
    return EMPTY_HARD_STATE
  }
}

export function writeHardState(path: string, state: HardState): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.tmp`
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, JSON.stringify(state))
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
  const dirFd = openSync(dirname(path), 'r')
  try {
    fsyncSync(dirFd)
  } finally {
    closeSync(dirFd)
  }
}
