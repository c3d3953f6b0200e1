// Starts, stops and kills host processes of a cluster folder, as `swlab host` does. A host
// runs detached (it outlives the command that started it) and is found again through its
// registration in <dir>/hosts/; only a process whose command line names our host entry, the
// folder and the host is ever signalled, since a recorded pid may have been reused.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isOurProcess, killAndWait, processState, waitUntil } from '../../cluster/processes.js'
import type { HostOs } from '../../core/cbt/cbt-decision.js'
import { HostControlClient, HostControlError } from './host-control-client.js'
import { HOST_MAIN, hostMarkers, hostNameProblem, hostState, isHostOs, listHosts, readHostRecord, type HostRecord } from './host-registry.js'

/** Starting is a node process and one HTTP listen: seconds at most, even on a loaded machine. */
const START_TIMEOUT_MS = 15_000
/** A clean stop saves RCT for every VM through the cluster; the host bounds itself at 20 s. */
const STOP_TIMEOUT_MS = 30_000
const PROBE_TIMEOUT_MS = 1_000

/** Spawns the host process and returns once it is registered and its API answers. */
export async function startHostProcess(clusterDir: string, name: string, os: HostOs, timeoutMs = START_TIMEOUT_MS): Promise<HostRecord> {
  const dir = resolve(clusterDir)
  const problem = hostNameProblem(name)
  if (problem) throw new HostControlError(problem)
  if (!isHostOs(os)) throw new HostControlError(`unknown host OS ${JSON.stringify(os)} (2012r2, 2016, 2019, 2022)`)
  if (!existsSync(HOST_MAIN)) throw new HostControlError(`${HOST_MAIN} is missing: run \`npm run build\` first`)
  const old = readHostRecord(dir, name)
  if (old && ['running', 'paused'].includes(hostState(dir, old))) throw new HostControlError(`host ${name} is already running (pid ${old.pid}, port ${old.port})`)
  mkdirSync(join(dir, 'logs'), { recursive: true })
  const stderrPath = join(dir, 'logs', `host-${name}.stderr`)
  const stderr = openSync(stderrPath, 'a')
  const child = spawn(process.execPath, [HOST_MAIN, '--dir', dir, '--name', name, '--os', os], { detached: true, stdio: ['ignore', 'ignore', stderr] })
  closeSync(stderr)
  const pid = child.pid
  if (pid === undefined) throw new HostControlError(`could not start host ${name}`)
  let exitCode: number | null | undefined
  child.on('exit', (code) => {
    exitCode = code
  })
  child.unref()
  let record: HostRecord | null = null
  const ready = await waitUntil(
    async () => {
      if (exitCode !== undefined) return true
      const r = readHostRecord(dir, name)
      if (!r || r.pid !== pid) return false
      const answered = await new HostControlClient(r, { timeoutMs: PROBE_TIMEOUT_MS }).info().then(
        () => true,
        () => false,
      )
      if (answered) record = r
      return answered
    },
    timeoutMs,
    50,
  )
  if (exitCode !== undefined) throw new HostControlError(`host ${name} exited with code ${exitCode}: ${lastLine(stderrPath).replace(/^swlab-host: /, '') || 'no message'}`)
  if (!ready || !record) {
    await killAndWait(pid, hostMarkers(dir, name))
    throw new HostControlError(`host ${name} did not answer within ${timeoutMs} ms (log: ${join(dir, 'logs', `host-${name}.ndjson`)}): killed it`)
  }
  return record
}

/** SIGTERM: the host stops its VMs cleanly (RCT saved) and exits; waits for the exit. */
export async function stopHostProcess(clusterDir: string, name: string, timeoutMs = STOP_TIMEOUT_MS): Promise<{ pid: number }> {
  const dir = resolve(clusterDir)
  const record = liveRecord(dir, name)
  // A stopped process only sees SIGTERM once it runs again.
  if (processState(record.pid) === 'paused') process.kill(record.pid, 'SIGCONT')
  process.kill(record.pid, 'SIGTERM')
  if (!(await waitUntil(() => processState(record.pid) === 'dead', timeoutMs, 50))) {
    await killAndWait(record.pid, hostMarkers(dir, name))
    throw new HostControlError(`host ${name} (pid ${record.pid}) did not stop within ${timeoutMs} ms: killed it`)
  }
  return { pid: record.pid }
}

/** SIGKILL: a host crash. The VMs stop without saving anything. */
export async function killHostProcess(clusterDir: string, name: string): Promise<{ pid: number }> {
  const dir = resolve(clusterDir)
  const record = liveRecord(dir, name)
  await killAndWait(record.pid, hostMarkers(dir, name))
  return { pid: record.pid }
}

/** SIGKILLs every host process of the folder that still runs (test teardown, cleanup); returns their pids. */
export async function killAllHosts(clusterDir: string): Promise<number[]> {
  const dir = resolve(clusterDir)
  const live = listHosts(dir).filter((h) => h.state === 'running' || h.state === 'paused')
  await Promise.all(live.map((h) => killAndWait(h.pid, hostMarkers(dir, h.name))))
  return live.map((h) => h.pid)
}

function liveRecord(dir: string, name: string): HostRecord {
  const problem = hostNameProblem(name)
  if (problem) throw new HostControlError(problem)
  const record = readHostRecord(dir, name)
  if (!record) throw new HostControlError(`unknown host ${name}: no host of that name was started in ${dir}`)
  if (!isOurProcess(record.pid, hostMarkers(dir, name))) throw new HostControlError(`host ${name} is not running (${hostState(dir, record)})`)
  return record
}

function lastLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').pop() ?? ''
  } catch {
    return ''
  }
}
