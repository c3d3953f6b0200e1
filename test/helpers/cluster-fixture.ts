// Test fixture for real multi-process clusters: a fresh folder per cluster, and a teardown
// that stops every process the test started, even when the test fails.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { Cluster, type UpOptions } from '../../cluster/cluster.js'
import { packageRoot } from '../../proto/loader.js'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export function freshDir(t: Teardown, prefix = 'swlab-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function upCluster(t: Teardown, opts: Omit<UpOptions, 'dir'> & { dir?: string }): Promise<Cluster> {
  const dir = opts.dir ?? freshDir(t)
  // Registered before up(), so processes started by a failing up() are stopped as well.
  t.teardown(async () => {
    try {
      await Cluster.open(dir).down()
    } catch {
      // Nothing was started.
    }
  })
  // Tests run side by side: SMB 2/3 on free ports, never 445.
  return Cluster.up({ smb445: false, ...opts, dir })
}

export const CLI = join(packageRoot(), 'dist', 'cli', 'swlab.js')

/** Runs the CLI to its end; a run past timeoutMs is killed (and fails the caller's exit-code check). */
export function swlab(args: string[], timeoutMs = 60_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: timeoutMs })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

export interface LogLine {
  readonly node: string
  readonly event?: string
  readonly mono: number
  readonly [key: string]: unknown
}

export function readLog(dir: string, nodeId: string): LogLine[] {
  const text = readFileSync(join(dir, 'logs', `${nodeId}.ndjson`), 'utf8')
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine)
}

export function logFiles(dir: string): string[] {
  return readdirSync(join(dir, 'logs')).filter((f) => f.endsWith('.ndjson'))
}

/** Whether address:port accepts a TCP connection now. */
export function acceptsConnections(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
