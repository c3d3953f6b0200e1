// Stores the quorum core's hard state (term, vote, views) on local disk: written to a temp
// file, fsynced and renamed over the old one, so a crash leaves either version whole.
import { readFileSync } from 'node:fs'
import { writeFileAtomicSync } from '../runtime/atomic-file.js'
import { EMPTY_HARD_STATE, type HardState } from '../core/quorum/quorum.js'

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
  writeFileAtomicSync(path, JSON.stringify(state))
}
