// Process helpers for the launcher. We only ever signal processes we started, and we check
// their command line first, since a recorded PID may have been reused by an unrelated process.
import { readFileSync } from 'node:fs'

export type ProcessState = 'running' | 'paused' | 'dead'

export function processState(pid: number): ProcessState {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return 'dead'
  }
  // The state letter follows the parenthesised command name, which may itself hold spaces.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  if (state === 'Z' || state === 'X') return 'dead'
  return state === 'T' || state === 't' ? 'paused' : 'running'
}

/** True when pid is alive and its command line contains every marker (e.g. our config path). */
export function isOurProcess(pid: number, markers: readonly string[]): boolean {
  let cmdline: string
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return false
  }
  return processState(pid) !== 'dead' && markers.every((m) => cmdline.includes(m))
}

export async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** SIGKILLs a process of ours and waits until it is gone; resumes it first if it was stopped. */
export async function killAndWait(pid: number, markers: readonly string[], timeoutMs = 5000): Promise<void> {
  if (!isOurProcess(pid, markers)) return
  try {
    process.kill(pid, 'SIGKILL')
    process.kill(pid, 'SIGCONT')
  } catch {
    return
  }
  await waitUntil(() => processState(pid) === 'dead', timeoutMs)
}
