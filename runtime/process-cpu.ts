// CPU time of a process from /proc (Linux), for the benches that report what a node costs.
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/** User + system CPU time of a process so far, all threads, in ms; null if it is gone or unreadable. */
export function processCpuMs(pid: number): number | null {
  try {
    // utime and stime are fields 14 and 15; the command name (field 2) may hold spaces, so
    // count from its closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return null
  }
}
