// The launcher's side of the emulated storage array (issue 17 item 2): `cluster up` starts it
// before any node (the nodes register with it as they start), `cluster down` stops it with the
// other helpers, and `cluster status` reads each LUN's reservation and keys from it.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { openSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { packageRoot } from '../../proto/loader.js'
import { ARRAY_STATUS } from '../../protocol/storage-array/array-frame.js'
import { StorageArrayClient } from '../../runtime/storage-array-client.js'

/** The built entry (also when the launcher itself runs from source, as tests do). */
export const STORAGE_ARRAY_MAIN = join(packageRoot(), 'dist', 'cluster', 'storage-array', 'storage-array-main.js')

/** How long `cluster up` waits for the array to listen (a Node start takes seconds at load 30 and more on 2 cores). */
const ARRAY_START_TIMEOUT_MS = 20_000

/** sun_path holds 108 bytes with its terminating NUL. */
const UNIX_SOCKET_PATH_BYTES_MAX = 107

/** The array's socket: in the cluster folder, or (a folder whose path is too long) in the temp folder, named by the folder. */
export function storageArraySocketPath(dir: string): string {
  const inDir = join(dir, 'array.sock')
  if (Buffer.byteLength(inDir) <= UNIX_SOCKET_PATH_BYTES_MAX) return inDir
  return join(tmpdir(), `swlab-array-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`)
}

/** Starts the array process and resolves once it listens; its pid and the markers that identify it. */
export async function startStorageArray(dir: string, luns: readonly string[], socket: string): Promise<{ pid: number; markers: string[] }> {
  const stderr = openSync(join(dir, 'logs', 'array.stderr'), 'a')
  const args = [STORAGE_ARRAY_MAIN, '--storage', join(dir, 'storage'), '--socket', socket, '--luns', luns.join(','), '--log', join(dir, 'logs', 'array.ndjson')]
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', stderr] })
  closeSync(stderr)
  const stdout = child.stdout
  if (child.pid === undefined || !stdout) throw new Error('could not start the storage array')
  const pid = child.pid
  const lines = createInterface({ input: stdout })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the storage array did not listen within ${ARRAY_START_TIMEOUT_MS} ms`)), ARRAY_START_TIMEOUT_MS)
      lines.on('line', (line) => {
        if (line.includes('"array.listening"')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the storage array exited with code ${code} (see logs/array.stderr)`))
      })
    })
  } finally {
    lines.close()
    stdout.destroy()
    child.unref()
  }
  return { pid, markers: [STORAGE_ARRAY_MAIN, dir] }
}

/** One LUN as `cluster status` shows it. */
export interface LunReservationView {
  /** The node holding the WERO reservation, or null. */
  readonly holder: string | null
  readonly registrations: readonly { readonly node: string; readonly key: string }[]
  /** Writes the array refused on this LUN for a reservation conflict since it started. */
  readonly refusedWrites: number
}

/** Each LUN's reservation and keys, or null for a LUN (or all) the array did not answer for within timeoutMs. */
export async function readArrayStatus(socket: string, luns: readonly string[], timeoutMs: number): Promise<Record<string, LunReservationView | null>> {
  const client = new StorageArrayClient(socket, 'status')
  const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref())
  try {
    const views = await Promise.all(
      luns.map(async (lun) => {
        const read = Promise.all([client.request({ op: 'read-reservation', lun }), client.request({ op: 'read-keys', lun })]).then(
          ([res, keys]): LunReservationView | null => {
            if (res.status !== ARRAY_STATUS.OK || keys.status !== ARRAY_STATUS.OK || res.body.kind !== 'reservation' || keys.body.kind !== 'keys') return null
            return {
              holder: res.body.holder?.initiator ?? null,
              registrations: keys.body.registrations.map((k) => ({ node: k.initiator, key: k.key.toString(16).padStart(16, '0') })),
              refusedWrites: res.body.refusedWrites,
            }
          },
          () => null,
        )
        return [lun, await Promise.race([read, timeout])] as const
      }),
    )
    return Object.fromEntries(views)
  } finally {
    client.close()
  }
}

/** The harness remounts a LUN's volume: the array lets go of its files there first. */
export async function releaseArrayFiles(socket: string, lun: string, timeoutMs: number): Promise<void> {
  const client = new StorageArrayClient(socket, 'harness')
  try {
    await Promise.race([client.request({ op: 'release-files', lun }).catch(() => undefined), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())])
  } finally {
    client.close()
  }
}
