// The backup agent: one job backs up every disk of a VM into a restore point each.
//   1. Decide the CBT method (seed 000's table, or the one the user forced).
//   2. Ask the host for a checkpoint: the base disks freeze, the VM writes to .avhdx files.
//   3. Learn what changed since the last restore point: RCT from the host, the vendor filter
//      from the storage node that serves the disk, or nothing (read everything and compare
//      block digests with the last point). A method that cannot answer falls back to `none`,
//      and the restore point says why.
//   4. Read those blocks over the failover client (a storage node may die meanwhile), with
//      several READs in flight, store the blocks that differ, write the restore point, merge the
//      checkpoint. The host states what the point must restore to (its block digests' sha256,
//      kept as the guest writes), so the checkpoint costs what changed, not the disk.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { forEachBounded } from '../../runtime/bounded-parallel.js'
import type { Credential } from '../../cluster/credentials.js'
import { FailoverClient, type NodeAddress } from '../failover-client.js'
import { attachClientEventLog } from '../client-event-log.js'
import type { CheckpointInfo, VmInfo } from '../hyperv/hyperv-host.js'
import { BACKUP_BLOCK_BYTES, BackupRepository, type PointWriter, type RestorePointMeta } from './backup-repository.js'
import { checkForcedMethod, chooseCbtMethod, type CbtContext, type CbtMethod } from '../../core/cbt/cbt-decision.js'
import type { FilterAnswer } from './cbt-filter-client.js'
import { BlockHasher } from './block-hasher.js'

/** What the agent needs of a host (in process, or a host process behind its control API). */
export interface HostApi {
  readonly name: string
  vmInfo(vm: string): VmInfo | Promise<VmInfo>
  checkpoint(vm: string, opts?: { hashBase?: boolean }): Promise<CheckpointInfo>
  changes(vm: string, disk: string, sinceId: string, targetId: string): unknown
  merge(vm: string): Promise<void>
}

/** Seed 004: a job asks the CSV's owner before it snapshots the CSV, and may have to wait. */
export interface SnapshotCoordinator {
  readonly mode: 'legacy' | 'direct'
  /** Resolves once the job may take its snapshot of the share's CSV. */
  begin(share: string, jobId: string): Promise<SnapshotGrant>
  end(share: string, jobId: string): Promise<void>
}

export interface SnapshotGrant {
  readonly jobId: string
  readonly csv: string
  readonly mode: 'legacy' | 'direct'
  readonly waitedMs: number
  /** The jobs it waited for. */
  readonly waitedFor: readonly string[]
  /** The CSV was in redirected access during this job's snapshot. */
  readonly redirected: boolean
}

type RctAnswer = { ok: true; ranges: { offset: number; length: number }[]; changedBytes: number } | { ok: false; reason: string }

export interface BackupRunOptions {
  readonly host: HostApi
  readonly vm: string
  readonly repo: BackupRepository
  readonly method: 'auto' | CbtMethod
  /** The cluster's facts for the decision; the VM's configuration version comes from the host. */
  readonly cluster: Omit<CbtContext, 'vmConfigVersion'>
  readonly resolve: () => readonly NodeAddress[]
  readonly netName: string
  readonly credential: Credential
  /** Asks the vendor filter of the node that serves a file. */
  readonly queryFilter: (share: string, path: string, sinceId: string) => Promise<FilterAnswer>
  /** The node id behind a client-facing address, for the report. */
  readonly nodeOfIp: (ip: string) => string
  /** Snapshot coordination through the CSV's owner; none: the job does not ask. */
  readonly snapshot?: SnapshotCoordinator
  /**
   * The address to connect to first, if any: the cluster's wiring names the node that owns the
   * share's CSV, which serves a read itself where another node forwards it (backup products run
   * their proxy on the CSV's owner node for the same reason). Any other node still serves.
   */
  readonly preferredNodeIp?: (share: string) => Promise<string | undefined>
  /** Where the job's failover client logs its events (registrations, failovers), if anywhere. */
  readonly eventLog?: string
  /** How the job's failover client protects its witness calls (FailoverClientOptions.witnessAuthLevel). */
  readonly witnessAuthLevel?: 'integrity' | 'privacy'
}

export interface DiskBackupReport {
  readonly disk: string
  readonly point: RestorePointMeta
  readonly bytesChangedReported: number
}

export interface BackupReport {
  readonly vm: string
  readonly checkpoint: string
  readonly method: CbtMethod
  readonly reason: string
  readonly disks: readonly DiskBackupReport[]
  readonly durationMs: number
  readonly snapshot: SnapshotGrant | null
}

export class BackupError extends Error {}

/**
 * Blocks per READ (4 MiB). 1 MiB, as Windows copies a file, cost both ends a request's fixed
 * work four times as often: A/B, three rounds of 4 or 5 fulls of 1 GiB on one cluster each,
 * 4 x 4 MiB in flight took the job 1.32 to 1.53 ns/B after the first full where 8 x 1 MiB took
 * 1.41 to 1.88 (751 to 861 MB/s against 591 to 839), and a first full ran 664 to 752 MB/s
 * against 553 to 581 (2026-12-06). 8 MiB READs, 2 in flight, were no faster than 4 MiB.
 */
export const SCAN_BLOCKS_PER_READ = 64
/**
 * READs outstanding at once on the job's connection (4 x 4 MiB): a node answers one while the
 * next is on the wire, and at most this many reads' bytes are in flight.
 */
export const BACKUP_READS_IN_FLIGHT = 4
/** Reads that may be answered ahead of the oldest one not yet written to the point (4 MiB each: 32 MiB held). */
const READ_WINDOW = 2 * BACKUP_READS_IN_FLIGHT

export async function runBackup(opts: BackupRunOptions): Promise<BackupReport> {
  const started = performance.now()
  const info = await opts.host.vmInfo(opts.vm)
  const context: CbtContext = { ...opts.cluster, vmConfigVersion: info.configVersion }
  let decision = chooseCbtMethod(context)
  if (opts.method !== 'auto') {
    const forced = checkForcedMethod(opts.method, context)
    if (!forced.ok) throw new BackupError(forced.error)
    decision = forced.decision
  }
  // Size changes are refused before any checkpoint is taken.
  for (const d of info.disks) {
    const last = opts.repo.latest(opts.vm, d.name)
    if (last && last.diskBytes !== d.bytes) {
      throw new BackupError(`disk ${opts.vm}/${d.name} changed size from ${last.diskBytes} to ${d.bytes} bytes since restore point ${last.id}`)
    }
  }
  const jobId = `backup-${opts.vm}-${randomUUID().slice(0, 8)}`
  const snapshot = opts.snapshot ? await opts.snapshot.begin(info.share, jobId) : null
  const preferredIp = await opts.preferredNodeIp?.(info.share)
  const client = new FailoverClient({
    resolve: opts.resolve,
    netName: opts.netName,
    share: info.share,
    credential: opts.credential,
    clientName: `backup-${opts.vm}`,
    witnessAuthLevel: opts.witnessAuthLevel,
    ...(preferredIp !== undefined ? { preferredIp } : {}),
  })
  if (opts.eventLog) attachClientEventLog(client, opts.eventLog)
  try {
    await client.start()
    // The host states each frozen base's block digest map's sha256 (kept as the guest writes,
    // not read now): what every restore point of this checkpoint must restore to.
    const checkpoint = await opts.host.checkpoint(opts.vm, { hashBase: false })
    try {
      const disks: DiskBackupReport[] = []
      for (const d of checkpoint.disks) {
        disks.push(await backupDisk(opts, client, checkpoint, d, decision.method, decision.reason, snapshot))
      }
      await opts.host.merge(opts.vm)
      return { vm: opts.vm, checkpoint: checkpoint.id, method: decision.method, reason: decision.reason, disks, durationMs: Math.round(performance.now() - started), snapshot }
    } catch (err) {
      // Leave no checkpoint behind: the VM would write to differencing disks for ever.
      await opts.host.merge(opts.vm).catch(() => undefined)
      throw err
    }
  } finally {
    await client.stop()
    if (opts.snapshot) await opts.snapshot.end(info.share, jobId).catch(() => undefined)
  }
}

async function backupDisk(
  opts: BackupRunOptions,
  client: FailoverClient,
  checkpoint: CheckpointInfo,
  d: CheckpointInfo['disks'][number],
  method: CbtMethod,
  reason: string,
  snapshot: SnapshotGrant | null,
): Promise<DiskBackupReport> {
  const started = performance.now()
  const last = opts.repo.latest(opts.vm, d.disk)
  const blockCount = Math.ceil(d.bytes / BACKUP_BLOCK_BYTES)
  const lastExtra = (last?.extra ?? {}) as { rctId?: string | null; filterId?: string | null }
  // What each method knows; the filter is asked even when not used, so that its reference
  // point is in this restore point for a later job.
  let filterId: string | null = null
  let candidates: number[] | null = null
  let used: CbtMethod | 'full' = method
  let why = reason
  let reported = 0
  const filter = checkpoint.share ? await opts.queryFilter(checkpoint.share, d.path, lastExtra.filterId ?? '') : null
  if (filter?.ok) filterId = filter.referenceId
  if (!last) {
    used = 'full'
    why = `first backup of ${opts.vm}/${d.disk}: read everything (${method} from now on: ${reason})`
  } else if (method === 'rct') {
    const answer = (await opts.host.changes(opts.vm, d.disk, lastExtra.rctId ?? '', d.rctId ?? '')) as RctAnswer
    if (!lastExtra.rctId || !d.rctId) {
      used = 'none'
      why = `RCT unusable: ${!d.rctId ? 'the disk is not tracked' : 'the last restore point has no RCT reference point'}; read everything and compare digests`
    } else if (!answer.ok) {
      used = 'none'
      why = `RCT unusable: ${answer.reason}; read everything and compare digests`
    } else {
      candidates = blocksOf(answer.ranges)
      reported = answer.changedBytes
    }
  } else if (method === 'filter') {
    if (!filter?.ok) {
      used = 'none'
      why = `vendor CBT filter unusable: ${filter ? filter.error : 'no filter'}; read everything and compare digests`
    } else if (!lastExtra.filterId) {
      used = 'none'
      why = 'the last restore point has no filter reference point; read everything and compare digests'
    } else {
      candidates = blocksOf(filter.ranges)
      reported = filter.changedBytes
    }
  }
  const handle = await client.open(d.path, { readOnly: true })
  const nodes = new Set<string>()
  let bytesRead = 0
  const previous = last ? opts.repo.digestsOf(last.id) : null
  const digests = previous ? Buffer.from(previous) : Buffer.alloc(32 * blockCount)
  // Every READ of the job, at most SCAN_BLOCKS_PER_READ blocks each, in disk order.
  const reads: { first: number; count: number }[] = []
  for (const run of candidates === null ? [{ first: 0, count: blockCount }] : runsOf(candidates)) {
    for (let b = run.first; b < run.first + run.count; b += SCAN_BLOCKS_PER_READ) reads.push({ first: b, count: Math.min(SCAN_BLOCKS_PER_READ, run.first + run.count - b) })
  }
  // The blocks that differ go to the point's blocks.bin as they arrive, in disk order: READs
  // answered out of order wait in `arrived`, and no READ starts more than READ_WINDOW reads
  // ahead of the oldest unwritten one. Read i's bytes go to the hasher's slot i % READ_WINDOW
  // (hashed on its worker, written from there), which read i - READ_WINDOW frees once its
  // blocks are written: at most READ_WINDOW MiB are held, whatever the disk.
  let writer: PointWriter
  try {
    writer = opts.repo.beginPoint(opts.vm, d.disk, d.bytes)
  } catch (err) {
    await client.close(handle).catch(() => undefined)
    throw err
  }
  const hasher = new BlockHasher(Math.max(1, Math.min(READ_WINDOW, reads.length)), SCAN_BLOCKS_PER_READ * BACKUP_BLOCK_BYTES)
  const arrived = new Map<number, { slot: number; changed: Array<[number, Buffer, Buffer]>; adopted: Buffer | null }>()
  let nextToWrite = 0
  let failure: unknown = null
  const wake: Array<() => void> = []
  const wakeAll = (): void => {
    for (const w of wake.splice(0)) w()
  }
  const fail = (err: unknown): void => {
    failure ??= err
    wakeAll()
  }
  const readOne = async (index: number): Promise<void> => {
    const slot = index % hasher.slots
    while ((index >= nextToWrite + READ_WINDOW || !hasher.isFree(slot)) && failure === null) await new Promise<void>((r) => wake.push(r))
    // The first failure (a READ, a write of blocks.bin), not a vaguer one, is what the job reports.
    if (failure !== null) throw failure
    const { first, count } = reads[index]
    const offset = first * BACKUP_BLOCK_BYTES
    const length = Math.min(count * BACKUP_BLOCK_BYTES, d.bytes - offset)
    const data = await client.read(handle, offset, length)
    // The disk's size was checked: fewer bytes mean the file shrank under the checkpoint.
    if (data.length !== length) throw new BackupError(`${d.path}: READ at ${offset} returned ${data.length} of ${length} bytes`)
    nodes.add(opts.nodeOfIp(client.dataNodeIp))
    bytesRead += data.length
    // The wire client's READ data is shared memory the hasher holds as it is (given back to
    // the client once its blocks are written); other data is copied into the slot.
    const { bytes: held, adopted } = hasher.fill(slot, data)
    if (!adopted) client.recycle(data)
    const blockDigests = await hasher.digests(slot)
    const changed: Array<[number, Buffer, Buffer]> = []
    for (let i = 0; i * BACKUP_BLOCK_BYTES < held.length; i++) {
      const digest = blockDigests.subarray(i * 32, (i + 1) * 32)
      if (!previous || !digest.equals(previous.subarray((first + i) * 32, (first + i + 1) * 32))) {
        changed.push([first + i, held.subarray(i * BACKUP_BLOCK_BYTES, (i + 1) * BACKUP_BLOCK_BYTES), digest])
        digest.copy(digests, (first + i) * 32)
      }
    }
    arrived.set(index, { slot, changed, adopted: adopted ? held : null })
    for (let next = arrived.get(nextToWrite); next !== undefined; next = arrived.get(nextToWrite)) {
      arrived.delete(nextToWrite)
      const freed = next.slot
      const frame = next.adopted
      writer.addBlocks(next.changed).then(() => {
        hasher.release(freed)
        if (frame) client.recycle(frame)
        wakeAll()
      }, fail)
      nextToWrite++
    }
    wakeAll()
  }
  const readStarted = performance.now()
  let point: RestorePointMeta
  try {
    try {
      try {
        await forEachBounded(
          reads.map((_, i) => i),
          BACKUP_READS_IN_FLIGHT,
          (index) =>
            readOne(index).catch((err: unknown) => {
              fail(err)
              throw err
            }),
        )
      } finally {
        await client.close(handle).catch(() => undefined)
      }
      assert.equal(nextToWrite, reads.length, 'every read was written')
      // The last writes, before the hasher's memory they write from goes.
      await writer.written()
    } catch (err) {
      writer.abort()
      throw err
    }
    const readMs = Math.round(performance.now() - readStarted)
    point = await opts.repo.finishPoint(writer, {
      vm: opts.vm,
      disk: d.disk,
      diskBytes: d.bytes,
      kind: last ? 'incremental' : 'full',
      method: used,
      reason: why,
      createdAtMs: Date.now(),
      durationMs: Math.round(performance.now() - started),
      bytesRead,
      nodesServed: [...nodes].sort(),
      expectedDiskSha256: d.diskSha256,
      expectedDigestMapSha256: d.digestMapSha256,
      rctId: d.rctId,
      extra: { rctId: d.rctId, filterId, checkpoint: checkpoint.id, host: opts.host.name, chosenMethod: method, changedBytesReported: reported, snapshot, hostDigestBlocksRead: d.digestBlocksRead, readMs },
      digests,
    })
  } finally {
    await hasher.close()
  }
  return { disk: d.disk, point, bytesChangedReported: reported }
}

function blocksOf(ranges: readonly { offset: number; length: number }[]): number[] {
  const set = new Set<number>()
  for (const r of ranges) {
    for (let b = Math.floor(r.offset / BACKUP_BLOCK_BYTES); b * BACKUP_BLOCK_BYTES < r.offset + r.length; b++) set.add(b)
  }
  return [...set].sort((a, b) => a - b)
}

function runsOf(sorted: readonly number[]): { first: number; count: number }[] {
  const runs: { first: number; count: number }[] = []
  for (const b of sorted) {
    const last = runs[runs.length - 1]
    if (last && last.first + last.count === b) last.count++
    else runs.push({ first: b, count: 1 })
  }
  return runs
}

