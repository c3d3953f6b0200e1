// One NDJSON line per backup job in the cluster's backup log: when it started and ended (on
// the same monotonic clock as the nodes' logs), the method, why, and what it read and stored,
// so a run report can draw each backup on the timeline next to the faults it went through.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { monoNowMs } from '../../runtime/clock.js'
import { backupEventsPath, clientEventsPath } from '../../cluster/run-logs.js'
import { runBackup, type BackupReport, type BackupRunOptions } from './backup-agent.js'

/** Runs a backup of a cluster's VM with its client's events and its result in the cluster's logs. */
export async function runLoggedBackup(clusterDir: string, host: string, opts: BackupRunOptions): Promise<BackupReport> {
  const startedMono = monoNowMs()
  try {
    const report = await runBackup({ ...opts, eventLog: opts.eventLog ?? clientEventsPath(clusterDir) })
    logBackupDone(backupEventsPath(clusterDir), host, startedMono, report)
    return report
  } catch (err) {
    logBackupFailed(backupEventsPath(clusterDir), host, opts.vm, startedMono, (err as Error).message)
    throw err
  }
}

export function logBackupDone(path: string, host: string, startedMono: number, report: BackupReport): void {
  const points = report.disks.map((d) => d.point)
  append(path, {
    event: 'backup.done',
    vm: report.vm,
    host,
    startedMono,
    method: report.method,
    reason: report.reason,
    kind: points.some((p) => p.kind === 'full') ? 'full' : 'incremental',
    bytesRead: points.reduce((sum, p) => sum + p.bytesRead, 0),
    bytesStored: points.reduce((sum, p) => sum + p.bytesStored, 0),
    diskBytes: points.reduce((sum, p) => sum + p.diskBytes, 0),
    durationMs: report.durationMs,
    nodesServed: [...new Set(points.flatMap((p) => p.nodesServed))],
    points: points.map((p) => p.id),
  })
}

export function logBackupFailed(path: string, host: string, vm: string, startedMono: number, error: string): void {
  append(path, { event: 'backup.failed', vm, host, startedMono, error })
}

function append(path: string, fields: object): void {
  mkdirSync(dirname(path), { recursive: true })
  appendFileSync(path, `${JSON.stringify({ mono: monoNowMs(), ...fields })}\n`)
}
