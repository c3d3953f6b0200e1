// CSV snapshot coordination on the CSV's owner (seed 004). A backup that needs a snapshot of a
// CSV asks the owner first. In `legacy` mode (Windows Server 2008 R2) the CSV goes into
// redirected access for as long as the snapshot exists, so one snapshot at a time: a second
// job needing the same CSV waits. In `direct` mode (2012 and later) snapshots do not redirect
// the CSV and jobs do not wait for each other. A hold is a lease: a job that died does not
// block the CSV for ever.
export type SnapshotMode = 'legacy' | 'direct'

export const SNAPSHOT_HOLD_MS = 10 * 60_000
/** Bound on jobs holding or waiting per CSV. */
const JOBS_PER_CSV_MAX = 64

interface Hold {
  readonly jobId: string
  readonly mode: SnapshotMode
  untilMs: number
}

export type BeginResult =
  | { readonly granted: true; readonly redirect: boolean }
  | { readonly granted: false; readonly holder: string; readonly reason: string }

export class CsvSnapshotLocks {
  private readonly holds = new Map<string, Hold[]>()
  /** Legacy jobs waiting, in arrival order, so that they are granted first come first served. */
  private readonly waiting = new Map<string, string[]>()

  begin(csv: string, jobId: string, mode: SnapshotMode, nowMs: number): BeginResult {
    this.expire(csv, nowMs)
    const holds = this.holds.get(csv) ?? []
    const mine = holds.find((h) => h.jobId === jobId)
    if (mine) {
      mine.untilMs = nowMs + SNAPSHOT_HOLD_MS
      return { granted: true, redirect: mine.mode === 'legacy' }
    }
    const legacyHolder = holds.find((h) => h.mode === 'legacy')
    const queue = this.waiting.get(csv) ?? []
    if (mode === 'legacy') {
      // The CSV is redirected while any snapshot exists: wait for every other one, and for
      // the legacy jobs that asked earlier.
      const ahead = queue.indexOf(jobId) === -1 ? queue.length : queue.indexOf(jobId)
      if (holds.length > 0 || ahead > 0) {
        if (!queue.includes(jobId)) {
          if (queue.length >= JOBS_PER_CSV_MAX) return { granted: false, holder: holds[0]?.jobId ?? queue[0], reason: `too many jobs wait for ${csv}` }
          this.waiting.set(csv, [...queue, jobId])
        }
        const holder = holds[0]?.jobId ?? queue[0]
        return { granted: false, holder, reason: `${csv} is in redirected access for the snapshot of job ${holder}` }
      }
      this.waiting.set(csv, queue.filter((j) => j !== jobId))
    } else if (legacyHolder) {
      return { granted: false, holder: legacyHolder.jobId, reason: `${csv} is in redirected access for the snapshot of job ${legacyHolder.jobId}` }
    }
    if (holds.length >= JOBS_PER_CSV_MAX) return { granted: false, holder: holds[0].jobId, reason: `too many snapshots of ${csv}` }
    this.holds.set(csv, [...holds, { jobId, mode, untilMs: nowMs + SNAPSHOT_HOLD_MS }])
    return { granted: true, redirect: mode === 'legacy' }
  }

  /** The job's snapshot is gone. Returns whether the CSV may leave redirected access. */
  end(csv: string, jobId: string): { released: boolean; redirectOver: boolean } {
    const holds = this.holds.get(csv) ?? []
    const rest = holds.filter((h) => h.jobId !== jobId)
    this.holds.set(csv, rest)
    this.waiting.set(csv, (this.waiting.get(csv) ?? []).filter((j) => j !== jobId))
    return { released: rest.length !== holds.length, redirectOver: !rest.some((h) => h.mode === 'legacy') }
  }

  holders(csv: string): string[] {
    return (this.holds.get(csv) ?? []).map((h) => h.jobId)
  }

  private expire(csv: string, nowMs: number): void {
    const holds = this.holds.get(csv)
    if (holds) this.holds.set(csv, holds.filter((h) => h.untilMs > nowMs))
  }
}
