// The Hyper-V hosts of a cluster folder: each host process registers itself in
// `<clusterDir>/hosts/<name>.json` once its control API listens, and marks the record stopped
// when it exits cleanly. A record whose process is gone without that mark is a crashed host.
// The backup agent reads the OS of every running host from here (the "hosts OS" column of
// the CBT table is about all of the cluster's hosts, not only the one running the VM).
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isOurProcess, processState } from '../../cluster/processes.js'
import { packageRoot } from '../../proto/loader.js'
import { HOST_OSES, type HostOs } from '../../core/cbt/cbt-decision.js'

/** The host process's entry, compiled. */
export const HOST_MAIN = join(packageRoot(), 'dist', 'client', 'hyperv', 'host-main.js')
/** Bound on the records a listing reads: more hosts than this is a broken folder. */
const HOSTS_MAX = 256
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

export interface HostRecord {
  readonly name: string
  readonly os: HostOs
  readonly pid: number
  /** TCP port of the control API on 127.0.0.1. */
  readonly port: number
  readonly startedAtMs: number
  /** Set by the host itself when it stopped cleanly (SIGTERM or the shutdown call). */
  readonly stoppedAtMs?: number
}

/** running: serves its API; paused: SIGSTOPped; stopped: exited cleanly; crashed: gone without stopping. */
export type HostState = 'running' | 'paused' | 'stopped' | 'crashed'

export interface HostEntry extends HostRecord {
  readonly state: HostState
}

export function hostNameProblem(name: string): string | null {
  return HOST_NAME.test(name) ? null : `host name ${JSON.stringify(name)} must be 1-64 letters, digits, '-', '_' or '.'`
}

export function isHostOs(os: unknown): os is HostOs {
  return HOST_OSES.includes(os as HostOs)
}

export function hostsDir(clusterDir: string): string {
  return join(clusterDir, 'hosts')
}

export function hostRecordPath(clusterDir: string, name: string): string {
  return join(hostsDir(clusterDir), `${name}.json`)
}

export function hostLogPath(clusterDir: string, name: string): string {
  return join(clusterDir, 'logs', `host-${name}.ndjson`)
}

/**
 * What a host process's command line contains: the entry, its cluster folder and its name.
 * Arguments are NUL-separated in /proc, read back with spaces; the trailing space keeps
 * host-1 from matching host-10.
 */
export function hostMarkers(clusterDir: string, name: string): string[] {
  return [HOST_MAIN, ` --dir ${clusterDir} `, ` --name ${name} `]
}

/** The record of one host, or null when there is none or it is unreadable. */
export function readHostRecord(clusterDir: string, name: string): HostRecord | null {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(hostRecordPath(clusterDir, name), 'utf8'))
  } catch {
    return null
  }
  const r = raw as Partial<HostRecord> | null
  if (typeof r !== 'object' || r === null || r.name !== name || !isHostOs(r.os)) return null
  if (!Number.isInteger(r.pid) || !Number.isInteger(r.port) || typeof r.startedAtMs !== 'number') return null
  return r as HostRecord
}

/** Written via a temp file and rename, so a reader never sees half a record. */
export function writeHostRecord(clusterDir: string, record: HostRecord): void {
  mkdirSync(hostsDir(clusterDir), { recursive: true })
  const path = hostRecordPath(clusterDir, record.name)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`)
  renameSync(tmp, path)
}

/** The state of a recorded host: its pid must still be our host process (pids get reused). */
export function hostState(clusterDir: string, record: HostRecord): HostState {
  if (record.pid > 0 && isOurProcess(record.pid, hostMarkers(clusterDir, record.name))) {
    return processState(record.pid) === 'paused' ? 'paused' : 'running'
  }
  return record.stoppedAtMs !== undefined ? 'stopped' : 'crashed'
}

/** Every registered host with its state, by name; unreadable records are skipped. */
export function listHosts(clusterDir: string): HostEntry[] {
  if (!existsSync(hostsDir(clusterDir))) return []
  const names = readdirSync(hostsDir(clusterDir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter((n) => hostNameProblem(n) === null)
    .sort()
    .slice(0, HOSTS_MAX)
  const entries: HostEntry[] = []
  for (const name of names) {
    const record = readHostRecord(clusterDir, name)
    if (record) entries.push({ ...record, state: hostState(clusterDir, record) })
  }
  return entries
}

/** The OS of every host that runs now (a paused host is still a member of the cluster). */
export function runningHostOses(clusterDir: string): HostOs[] {
  return listHosts(clusterDir)
    .filter((h) => h.state === 'running' || h.state === 'paused')
    .map((h) => h.os)
}
