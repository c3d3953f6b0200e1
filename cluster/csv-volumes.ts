// Each CSV on a small loop-mounted ext4 volume of its own (`cluster up --csv-size`), so that a
// full disk is a real ENOSPC, and the disk faults the harness applies to it from outside the
// node processes (`storage fault read-only|full|clear <csv>`):
//
// - full: a harness-owned filler file at the root of the CSV's volume (outside every share)
//   takes all the free space, down to the last block; clear removes it.
// - read-only: the volume is remounted read-only. The kernel refuses that while any file of it
//   is open for writing (EBUSY), and the nodes keep their files open, so the harness first asks
//   every node to hold the CSV's operations back and close its files (SetCsvFilesFrozen: what a
//   file system freeze before a snapshot does), remounts, and lets them go on. clear remounts
//   read-write. A CSV without a volume of its own (no --csv-size) gets the fallback: a read-only
//   bind mount of its folder over itself, removed by clear.
//
// The images live under <dir>/volumes/, the state (devices, faults) in <dir>/volumes.json; down
// unmounts and detaches every loop device, also after a failed start. Root only.
import { execFileSync } from 'node:child_process'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export type StorageFaultKind = 'read-only' | 'full'

/** How a fault was applied: remount (the CSV's own volume), bind-read-only (the fallback on a plain folder), filler (full). */
export type StorageFaultMethod = 'remount' | 'bind-read-only' | 'filler'

export interface CsvVolume {
  readonly csv: string
  readonly image: string
  readonly mountPoint: string
  /** The loop device it was mounted from (/dev/loopN). */
  readonly device: string
  readonly sizeBytes: number
}

export interface StorageFault {
  readonly kind: StorageFaultKind
  readonly method: StorageFaultMethod
  /** full: the filler's size. */
  readonly fillerBytes?: number
}

interface VolumesState {
  volumes: CsvVolume[]
  faults: Record<string, StorageFault>
}

/** The smallest and largest --csv-size: an ext4 journal and a share need a few MiB; the image is sparse. */
export const CSV_SIZE_MIN_BYTES = 16 * 1024 * 1024
export const CSV_SIZE_MAX_BYTES = 64 * 1024 ** 3
/** The filler's name at the root of a CSV's volume, beside the share folders (never inside one). */
export const FILLER_NAME = '.swlab-disk-full-filler'
/** How long the nodes hold a CSV's operations while its volume is remounted. */
const FREEZE_HOLD_MS = 5000
/** Remount attempts while a file of the volume is still open for writing. */
const REMOUNT_ATTEMPTS_MAX = 10
/** Unmount attempts at down (node processes just killed may still be closing their files). */
const UNMOUNT_ATTEMPTS_MAX = 20
/** Filler writes: big ones first, then blocks, until the volume has no block left. */
const FILLER_CHUNK_BYTES = [4 * 1024 * 1024, 64 * 1024, 4096] as const

/** An expected failure: one line for the user. */
export class VolumeError extends Error {}

/** Why this machine cannot give a CSV a loop-mounted volume, or null when it can. */
export function loopVolumeProblem(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (it loop-mounts a small ext4 volume per CSV): run as root, or leave --csv-size out'
  if (!existsSync('/dev/loop-control')) return 'needs loop devices (/dev/loop-control is missing)'
  for (const tool of ['mkfs.ext4', 'mount', 'umount', 'losetup', 'findmnt', 'truncate']) {
    if (!commandExists(tool)) return `needs ${tool} (apt-get install e2fsprogs mount util-linux coreutils)`
  }
  return null
}

function commandExists(name: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) if (dir && existsSync(join(dir, name))) return true
  return ['/usr/sbin', '/sbin'].some((dir) => existsSync(join(dir, name)))
}

/** Runs a system command; its failure is a VolumeError with the command's own message. */
function run(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    const text = (e.stderr ?? '').trim().split('\n')[0] || e.message
    throw new VolumeError(`${cmd} ${args.join(' ')}: ${text}`)
  }
}

function statePath(dir: string): string {
  return join(dir, 'volumes.json')
}

function readState(dir: string): VolumesState {
  try {
    const s = JSON.parse(readFileSync(statePath(dir), 'utf8')) as Partial<VolumesState>
    return { volumes: s.volumes ?? [], faults: s.faults ?? {} }
  } catch {
    return { volumes: [], faults: {} }
  }
}

function writeState(dir: string, state: VolumesState): void {
  if (state.volumes.length === 0 && Object.keys(state.faults).length === 0) rmSync(statePath(dir), { force: true })
  else writeFileSync(statePath(dir), JSON.stringify(state, null, 2))
}

/** /proc/mounts escapes blanks in paths as octal. */
function mountsPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`)
}

/** How many mounts are stacked on a path (0: none). */
export function mountsOn(path: string): number {
  const wanted = mountsPath(path)
  return readFileSync('/proc/mounts', 'utf8').split('\n').filter((line) => line.split(' ')[1] === wanted).length
}

/** The loop devices an image is attached to. */
export function loopDevicesOf(image: string): string[] {
  const out = run('losetup', ['-j', image])
  return out.split('\n').map((line) => line.split(':')[0].trim()).filter((d) => d.startsWith('/dev/loop'))
}

/** The CSVs' volumes, as `cluster up --csv-size` made them (empty: plain folders). */
export function csvVolumes(dir: string): readonly CsvVolume[] {
  return readState(dir).volumes
}

export function storageFaults(dir: string): Readonly<Record<string, StorageFault>> {
  return readState(dir).faults
}

/**
 * Gives every CSV a loop-mounted ext4 volume of sizeBytes at <dir>/storage/<csv>. An image of the
 * same size from an earlier run of the cluster is mounted again (the CSV keeps its files, as a
 * plain folder does); a filler left in it goes. On a failure, what was mounted is released.
 */
export function createVolumes(dir: string, csvs: readonly string[], sizeBytes: number): CsvVolume[] {
  const problem = loopVolumeProblem()
  if (problem) throw new VolumeError(`--csv-size ${problem}`)
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < CSV_SIZE_MIN_BYTES || sizeBytes > CSV_SIZE_MAX_BYTES) {
    throw new VolumeError(`--csv-size must be from ${CSV_SIZE_MIN_BYTES / 1024 ** 2} MiB to ${CSV_SIZE_MAX_BYTES / 1024 ** 3} GiB (got ${sizeBytes} bytes)`)
  }
  // Leftovers of an earlier run that was not brought down: released first.
  const stale = releaseVolumes(dir)
  if (stale.problems.length > 0) throw new VolumeError(stale.problems[0])
  const state: VolumesState = { volumes: [], faults: {} }
  mkdirSync(join(dir, 'volumes'), { recursive: true })
  try {
    for (const csv of csvs) {
      const image = join(dir, 'volumes', `${csv}.img`)
      const mountPoint = join(dir, 'storage', csv)
      mkdirSync(mountPoint, { recursive: true })
      if (!existsSync(image) || statSync(image).size !== sizeBytes) {
        rmSync(image, { force: true })
        // Sparse: the image takes only what the volume uses. 4 KiB blocks, as NTFS's default
        // cluster (mke2fs would pick 1 KiB for a small volume); no blocks reserved for root,
        // which the node processes are: full means full for them too.
        closeSync(openSync(image, 'w'))
        run('truncate', ['-s', String(sizeBytes), image])
        run('mkfs.ext4', ['-q', '-F', '-m', '0', '-b', '4096', '-L', csv.slice(0, 16), image])
      }
      // mount -o loop attaches with autoclear: the device goes with the last unmount.
      run('mount', ['-o', 'loop', image, mountPoint])
      const device = run('findmnt', ['-n', '-o', 'SOURCE', '--mountpoint', mountPoint]).trim()
      state.volumes.push({ csv, image, mountPoint, device, sizeBytes })
      writeState(dir, state)
      rmSync(join(mountPoint, FILLER_NAME), { force: true })
    }
  } catch (err) {
    releaseVolumes(dir)
    throw err
  }
  return state.volumes
}

/**
 * Unmounts every CSV volume and fault mount of the cluster and detaches their loop devices;
 * returns what it could not do (one line each). Safe to call when nothing is mounted.
 */
export function releaseVolumes(dir: string): { released: string[]; problems: string[] } {
  const state = readState(dir)
  const released: string[] = []
  const problems: string[] = []
  // Fault mounts first: a bind mount stacked on a folder CSV.
  for (const [csv, fault] of Object.entries(state.faults)) {
    if (fault.method === 'bind-read-only') {
      const mountPoint = join(dir, 'storage', csv)
      for (let i = 0; i < 4 && mountsOn(mountPoint) > 0; i++) tryRun('umount', ['-l', mountPoint])
    }
  }
  state.faults = {}
  for (const v of state.volumes) {
    // The filler is the harness's: it does not stay in the image for the next run.
    if (mountsOn(v.mountPoint) > 0) rmSync(join(v.mountPoint, FILLER_NAME), { force: true })
    for (let attempt = 1; mountsOn(v.mountPoint) > 0 && attempt <= UNMOUNT_ATTEMPTS_MAX; attempt++) {
      if (!tryRun('umount', [v.mountPoint])) sleepMs(50 * attempt)
    }
    if (mountsOn(v.mountPoint) > 0) {
      problems.push(`could not unmount ${v.mountPoint} (still busy): unmount it with \`umount ${v.mountPoint}\``)
      continue
    }
    for (const device of existsSync(v.image) ? loopDevicesOf(v.image) : []) {
      if (!tryRun('losetup', ['-d', device])) problems.push(`could not detach ${device} (${v.image})`)
    }
    released.push(v.csv)
  }
  state.volumes = state.volumes.filter((v) => !released.includes(v.csv))
  writeState(dir, state)
  return { released, problems }
}

function tryRun(cmd: string, args: readonly string[]): boolean {
  try {
    run(cmd, args)
    return true
  } catch {
    return false
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Size and free bytes of the file system a CSV's folder is on (its own volume with --csv-size). */
export function csvUsage(dir: string, csv: string): { sizeBytes: number; freeBytes: number } | null {
  try {
    const fs = statfsSync(join(dir, 'storage', csv))
    return { sizeBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize }
  } catch {
    return null
  }
}

/**
 * What the harness does to the nodes around a remount: hold the CSV's operations and close its
 * files on every node (frozen true), or let them go on (false). Resolves when every reachable
 * node answered.
 */
export type FreezeCsvFiles = (csv: string, frozen: boolean, holdMs: number) => Promise<void>

/** Applies a disk fault to a CSV; returns how it was applied. */
export async function applyStorageFault(dir: string, csv: string, kind: StorageFaultKind, freeze: FreezeCsvFiles): Promise<StorageFault> {
  if (process.getuid?.() !== 0) throw new VolumeError('storage faults need root (they mount and fill file systems)')
  const state = readState(dir)
  const existing = state.faults[csv]
  if (existing) throw new VolumeError(`${csv} already has a ${existing.kind} fault: \`storage fault clear ${csv}\` first`)
  const volume = state.volumes.find((v) => v.csv === csv)
  const mountPoint = join(dir, 'storage', csv)
  let fault: StorageFault
  if (kind === 'full') {
    if (!volume) throw new VolumeError(`full needs ${csv} on a volume of its own (\`cluster up --csv-size 64MiB\`): filling the folder's file system would fill this machine's disk`)
    fault = { kind, method: 'filler', fillerBytes: fillVolume(join(mountPoint, FILLER_NAME)) }
  } else {
    if (!volume) {
      // The fallback: a read-only bind mount of the folder over itself.
      run('mount', ['--bind', mountPoint, mountPoint])
    }
    try {
      await remountWithFilesReleased(csv, mountPoint, volume ? ['-o', 'remount,ro', mountPoint] : ['-o', 'remount,bind,ro', mountPoint], freeze)
    } catch (err) {
      if (!volume) tryRun('umount', ['-l', mountPoint])
      throw err
    }
    fault = { kind, method: volume ? 'remount' : 'bind-read-only' }
  }
  state.faults[csv] = fault
  writeState(dir, state)
  return fault
}

/** Removes a CSV's disk fault; null when it had none. */
export async function clearStorageFault(dir: string, csv: string): Promise<StorageFault | null> {
  const state = readState(dir)
  const fault = state.faults[csv]
  if (!fault) return null
  const mountPoint = join(dir, 'storage', csv)
  if (fault.method === 'filler') {
    rmSync(join(mountPoint, FILLER_NAME), { force: true })
    fsyncPath(mountPoint)
  } else if (fault.method === 'remount') {
    run('mount', ['-o', 'remount,rw', mountPoint])
  } else {
    // Lazily: the nodes' read-only descriptors keep the bind mount busy; they read the same files.
    run('umount', ['-l', mountPoint])
  }
  delete state.faults[csv]
  writeState(dir, state)
  return fault
}

/** The nodes let go of the CSV's files, then the remount; again while a file is still open for writing. */
async function remountWithFilesReleased(csv: string, mountPoint: string, mountArgs: readonly string[], freeze: FreezeCsvFiles): Promise<void> {
  let lastError = ''
  try {
    for (let attempt = 1; attempt <= REMOUNT_ATTEMPTS_MAX; attempt++) {
      await freeze(csv, true, FREEZE_HOLD_MS)
      try {
        run('mount', mountArgs)
        return
      } catch (err) {
        lastError = (err as Error).message
        if (!/busy/i.test(lastError)) throw err
      }
    }
    throw new VolumeError(`${csv}: the volume stayed busy (a file open for writing) after ${REMOUNT_ATTEMPTS_MAX} attempts: ${lastError}`)
  } finally {
    await freeze(csv, false, 0)
  }
}

/** Writes zeros until the file system has no block left; returns the filler's size. */
function fillVolume(path: string): number {
  const fd = openSync(path, 'a')
  let bytes = statSync(path).size
  try {
    for (const chunk of FILLER_CHUNK_BYTES) {
      const zeros = Buffer.alloc(chunk)
      for (;;) {
        try {
          bytes += writeSync(fd, zeros)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw err
        }
      }
    }
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  return bytes
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
