// A VHDX-like virtual disk of an emulated Hyper-V VM, on a CA share, through the failover
// client (persistent handles, so a storage-node failure only pauses it):
//   <name>.vhdx        the base disk: raw bytes at the disk's full size
//   <name>.avhdx       the differencing disk of a checkpoint: a bitmap of the 64 KiB blocks it
//                      holds (one bit each, in the first DIFF_HEADER_BYTES), then the blocks at
//                      DIFF_HEADER_BYTES + index x 64 KiB; size 0 when there is no checkpoint
//   <name>.vhdx.rct    RCT's fine per-block map, written at checkpoints, merges and clean stops
//   <name>.vhdx.mrt    RCT's modified region table, written before a write reaches a new region
//   <name>.vhdx.dig    the sha256 of every 64 KiB block of the guest-visible disk, kept as the
//                      guest writes (core/cbt/block-digests.ts), written at checkpoints, merges
//                      and clean stops; a checkpoint states the frozen disk's digest from it
//                      without reading the disk
//   <name>.vhdx.digj   the digests' journal of dirty 1 MiB regions, written before a write
//                      reaches a new region: after a host crash only those regions are read
//                      back to recompute their blocks' digests
// While a checkpoint exists the VM writes into the differencing disk (copying the rest of a
// block from the base first) and the base stays frozen for the backup; the merge copies the
// differencing blocks into the base. The tracking files travel with the disk, so RCT survives
// a storage failover and a move of the VM to another host; after a host crash only the MRT
// regions are known to have changed.
import { createHash, randomUUID } from 'node:crypto'
import type { FailoverClient, FailoverHandle } from '../failover-client.js'
import { CBT_BLOCK_BYTES, RctTracker } from '../../core/cbt/rct-tracker.js'
import { BlockDigests } from '../../core/cbt/block-digests.js'
import { forEachBounded } from '../../runtime/bounded-parallel.js'

/** Room for the differencing bitmap: one bit per block covers a disk of up to 32 TiB. */
const DIFF_HEADER_BYTES = 64 * 1024
/** Bytes read per request when the whole base is hashed or copied. */
const SCAN_CHUNK_BYTES = 1024 * 1024
/** READs outstanding while stale blocks are read back for their digests. */
const REFRESH_READS_IN_FLIGHT = 8
/** Blocks per READ while stale blocks are read back (runs of adjacent ones, 1 MiB at most). */
const REFRESH_BLOCKS_PER_READ = SCAN_CHUNK_BYTES / CBT_BLOCK_BYTES

export interface VirtualDiskPaths {
  readonly base: string
  readonly diff: string
  readonly rct: string
  readonly mrt: string
  readonly digests: string
  readonly digestJournal: string
}

export function diskPaths(folder: string, name: string): VirtualDiskPaths {
  const base = `${folder}/${name}.vhdx`
  return { base, diff: `${folder}/${name}.avhdx`, rct: `${base}.rct`, mrt: `${base}.mrt`, digests: `${base}.dig`, digestJournal: `${base}.digj` }
}

export interface DiskOpenReport {
  /** RCT state found next to the disk: clean, recovered from the MRT after a crash, or reset. */
  readonly rct: 'off' | 'clean' | 'recovered' | 'reset' | 'new'
  readonly recoveredRegions: number
  readonly resetReason: string
  readonly checkpointActive: boolean
  /** Block digests found next to the disk: clean, recovered from the journal after a crash, or rebuilt by reading the whole disk. */
  readonly digests: 'clean' | 'recovered' | 'rebuilt'
  /** Blocks whose digest was recomputed by reading them at the open. */
  readonly digestBlocksRead: number
  readonly digestsReason: string
}

export class VirtualDisk {
  private diffBlocks = new Set<number>()
  private diffHandle: FailoverHandle | null = null
  private rct: RctTracker | null = null
  /** Set by create and open before the disk is handed out. */
  private digests!: BlockDigests
  /** Serialises writes: a write and the merge must not interleave on one block. */
  private chain: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly client: FailoverClient,
    readonly name: string,
    readonly paths: VirtualDiskPaths,
    readonly diskBytes: number,
    private readonly base: FailoverHandle,
    /** The VM's SMB2 AppInstanceId: a host that starts the VM takes its files from a crashed one. */
    private readonly appInstanceId: string,
  ) {}

  /** Creates a new disk of `diskBytes` (zeros) with RCT on when `trackChanges`. */
  static async create(client: FailoverClient, folder: string, name: string, diskBytes: number, trackChanges: boolean, appInstanceId: string): Promise<VirtualDisk> {
    const paths = diskPaths(folder, name)
    const base = await client.open(paths.base, { appInstanceId })
    if ((await client.size(base)) !== 0) throw new Error(`disk ${paths.base} exists already`)
    await client.setSize(base, diskBytes)
    const disk = new VirtualDisk(client, name, paths, diskBytes, base, appInstanceId)
    // A new disk is all zeros: its digests are known without reading it.
    disk.digests = BlockDigests.create(diskBytes)
    await disk.persistDigests()
    if (trackChanges) {
      disk.rct = RctTracker.create(diskBytes, randomUUID())
      await disk.persistRct()
    }
    return disk
  }

  /** Opens an existing disk, as a host does when it starts the VM (after a crash, too). */
  static async open(
    client: FailoverClient,
    folder: string,
    name: string,
    trackChanges: boolean,
    appInstanceId: string,
  ): Promise<{ disk: VirtualDisk; report: DiskOpenReport }> {
    const paths = diskPaths(folder, name)
    const base = await client.open(paths.base, { mustExist: true, appInstanceId })
    const diskBytes = await client.size(base)
    const disk = new VirtualDisk(client, name, paths, diskBytes, base, appInstanceId)
    const checkpointActive = await disk.loadDiff()
    const digests = await disk.loadDigests()
    let report: DiskOpenReport = { rct: 'off', recoveredRegions: 0, resetReason: '', checkpointActive, ...digests }
    if (trackChanges) report = { ...(await disk.loadRct()), checkpointActive, ...digests }
    return { disk, report }
  }

  get tracking(): boolean {
    return this.rct !== null
  }

  get checkpointActive(): boolean {
    return this.diffHandle !== null
  }

  get rctTrackingId(): string | null {
    return this.rct?.trackingId ?? null
  }

  /** A guest write. Resolves once it is on stable storage on the cluster. */
  write(offset: number, data: Buffer): Promise<void> {
    if (offset < 0 || offset + data.length > this.diskBytes) return Promise.reject(new Error(`write at ${offset}+${data.length} outside disk ${this.name}`))
    return this.serially(async () => {
      if (this.rct?.beforeWrite(offset, data.length)) {
        // The MRT must name the region before the write can reach the disk.
        await this.writeWhole(this.paths.mrt, this.rct.encodeMrt())
      }
      if (this.digests.beforeWrite(offset, data.length)) {
        // So must the digests' journal: a crash before the map is saved then costs a read of
        // this region, not of the disk, to learn its blocks' digests again.
        await this.writeWhole(this.paths.digestJournal, this.digests.encodeJournal())
      }
      let wholeBlocks: Map<number, Buffer> | undefined
      try {
        if (this.diffHandle) wholeBlocks = await this.writeDiff(offset, data)
        else await this.client.write(this.base, offset, data)
      } catch (err) {
        // A failed write may have changed some blocks: RCT counts them, their digests are stale.
        this.rct?.afterWrite(offset, data.length)
        this.digests.writeFailed(offset, data.length)
        throw err
      }
      this.rct?.afterWrite(offset, data.length)
      this.digests.afterWrite(offset, data, wholeBlocks)
    })
  }

  /** A guest read: the differencing disk's blocks over the base's. */
  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length)
    for (let at = offset; at < offset + length; ) {
      // One READ per run of blocks that live in the same file.
      const inDiff = this.diffHandle !== null && this.diffBlocks.has(Math.floor(at / CBT_BLOCK_BYTES))
      let end = Math.min(offset + length, (Math.floor(at / CBT_BLOCK_BYTES) + 1) * CBT_BLOCK_BYTES)
      while (end < offset + length && (this.diffHandle !== null && this.diffBlocks.has(Math.floor(end / CBT_BLOCK_BYTES))) === inDiff) {
        end = Math.min(offset + length, end + CBT_BLOCK_BYTES)
      }
      const part = inDiff ? await this.client.read(this.diffHandle as FailoverHandle, DIFF_HEADER_BYTES + at, end - at) : await this.client.read(this.base, at, end - at)
      part.copy(out, at - offset)
      at = end
    }
    return out
  }

  /**
   * Takes a checkpoint: from now on writes go to the differencing disk and the base is frozen.
   * Returns the reference point (RCT id) and the sha256 of the frozen base's block digest map
   * (the sha256 of each 64 KiB block, in order), which is what every restore point of this
   * checkpoint must restore to. The map is kept as the guest writes, so this reads only the
   * blocks whose digest is not known (ones written in part since the last checkpoint), not
   * the disk. `hashBase` also hashes the whole frozen base through the data path (slow: it
   * reads the disk), for a whole-image sha256.
   */
  checkpoint(hashBase: boolean): Promise<{ rctId: string | null; digestMapSha256: string; diskSha256: string | null; digestBlocksRead: number }> {
    return this.serially(async () => {
      if (this.diffHandle) throw new Error(`disk ${this.name} has a checkpoint already`)
      const digestBlocksRead = await this.refreshStaleDigests()
      const digestMapSha256 = this.digests.digestMapSha256()
      const diff = await this.client.open(this.paths.diff, { appInstanceId: this.appInstanceId })
      await this.client.setSize(diff, 0)
      await this.client.setSize(diff, DIFF_HEADER_BYTES)
      this.diffHandle = diff
      this.diffBlocks = new Set()
      const rctId = this.rct ? this.rct.referencePoint() : null
      if (this.rct) await this.persistRct()
      await this.persistDigests()
      return { rctId, digestMapSha256, diskSha256: hashBase ? await this.hashBase() : null, digestBlocksRead }
    })
  }

  /** RCT's answer for a backup: blocks changed after `sinceId` up to `targetId`. */
  changes(sinceId: string, targetId: string): ReturnType<RctTracker['changesBetween']> {
    if (!this.rct) return { ok: false, reason: `disk ${this.name} has no RCT` }
    return this.rct.changesBetween(sinceId, targetId)
  }

  /** Merges the checkpoint's differencing disk into the base and drops it. */
  merge(): Promise<void> {
    return this.serially(async () => {
      const diff = this.diffHandle
      if (!diff) return
      for (const block of [...this.diffBlocks].sort((a, b) => a - b)) {
        const offset = block * CBT_BLOCK_BYTES
        const length = Math.min(CBT_BLOCK_BYTES, this.diskBytes - offset)
        await this.client.write(this.base, offset, await this.client.read(diff, DIFF_HEADER_BYTES + offset, length))
      }
      await this.client.setSize(diff, 0)
      await this.client.close(diff)
      this.diffHandle = null
      this.diffBlocks = new Set()
      if (this.rct) await this.persistRct()
      // The merge changed nothing the guest sees; the writes made during the checkpoint are saved.
      await this.persistDigests()
    })
  }

  /** A clean stop: RCT saved, MRT cleared, handles closed. The checkpoint, if any, stays. */
  close(): Promise<void> {
    return this.serially(async () => {
      if (this.rct) await this.persistRct()
      await this.persistDigests()
      if (this.diffHandle) await this.client.close(this.diffHandle)
      await this.client.close(this.base)
    })
  }

  /** sha256 of the guest-visible disk (base plus differencing blocks). */
  async hashVisible(): Promise<string> {
    const hash = createHash('sha256')
    for (let at = 0; at < this.diskBytes; at += SCAN_CHUNK_BYTES) hash.update(await this.read(at, Math.min(SCAN_CHUNK_BYTES, this.diskBytes - at)))
    return hash.digest('hex')
  }

  private async hashBase(): Promise<string> {
    const hash = createHash('sha256')
    for (let at = 0; at < this.diskBytes; at += SCAN_CHUNK_BYTES) {
      hash.update(await this.client.read(this.base, at, Math.min(SCAN_CHUNK_BYTES, this.diskBytes - at)))
    }
    return hash.digest('hex')
  }

  /** Writes into the differencing disk; returns the whole new content of the blocks it copied from the base. */
  private async writeDiff(offset: number, data: Buffer): Promise<Map<number, Buffer>> {
    const copied = new Map<number, Buffer>()
    const diff = this.diffHandle as FailoverHandle
    for (let at = offset; at < offset + data.length; ) {
      const block = Math.floor(at / CBT_BLOCK_BYTES)
      const blockStart = block * CBT_BLOCK_BYTES
      const blockLength = Math.min(CBT_BLOCK_BYTES, this.diskBytes - blockStart)
      const end = Math.min(offset + data.length, blockStart + blockLength)
      const piece = data.subarray(at - offset, end - offset)
      if (this.diffBlocks.has(block)) {
        await this.client.write(diff, DIFF_HEADER_BYTES + at, piece)
      } else {
        // First write to this block since the checkpoint: copy the block, change it, and only
        // then set its bit, so that the bit never names a block that is not all there.
        const whole = await this.client.read(this.base, blockStart, blockLength)
        piece.copy(whole, at - blockStart)
        await this.client.write(diff, DIFF_HEADER_BYTES + blockStart, whole)
        this.diffBlocks.add(block)
        await this.writeBitmapByte(diff, block)
        copied.set(block, whole)
      }
      at = end
    }
    return copied
  }

  private async writeBitmapByte(diff: FailoverHandle, block: number): Promise<void> {
    const byteIndex = Math.floor(block / 8)
    let byte = 0
    for (let b = byteIndex * 8; b < byteIndex * 8 + 8; b++) if (this.diffBlocks.has(b)) byte |= 1 << (b % 8)
    await this.client.write(diff, byteIndex, Buffer.from([byte]))
  }

  private async loadDiff(): Promise<boolean> {
    let diff: FailoverHandle
    try {
      diff = await this.client.open(this.paths.diff, { mustExist: true, appInstanceId: this.appInstanceId })
    } catch {
      return false
    }
    const size = await this.client.size(diff)
    if (size < DIFF_HEADER_BYTES) {
      await this.client.close(diff)
      return false
    }
    const blocks = Math.ceil(this.diskBytes / CBT_BLOCK_BYTES)
    const bitmap = await this.client.read(diff, 0, Math.ceil(blocks / 8))
    this.diffBlocks = new Set()
    for (let b = 0; b < blocks; b++) if (bitmap[Math.floor(b / 8)] & (1 << (b % 8))) this.diffBlocks.add(b)
    this.diffHandle = diff
    return true
  }

  private async loadRct(): Promise<Pick<DiskOpenReport, 'rct' | 'recoveredRegions' | 'resetReason'>> {
    const rct = await this.readWhole(this.paths.rct)
    const mrt = await this.readWhole(this.paths.mrt)
    if (rct === null || rct.length === 0) {
      this.rct = RctTracker.create(this.diskBytes, randomUUID())
      await this.persistRct()
      return { rct: 'new', recoveredRegions: 0, resetReason: 'no RCT file next to the disk' }
    }
    const loaded = RctTracker.load(rct, mrt !== null && mrt.length > 0 ? mrt : null)
    if (!loaded.ok || loaded.tracker.diskBytes !== this.diskBytes) {
      // Tracking cannot be trusted: start a new tracking session; old RCT ids become foreign.
      const resetReason = loaded.ok ? `RCT file is for a ${loaded.tracker.diskBytes}-byte disk` : loaded.reason
      this.rct = RctTracker.create(this.diskBytes, randomUUID())
      await this.persistRct()
      return { rct: 'reset', recoveredRegions: 0, resetReason }
    }
    this.rct = loaded.tracker
    if (loaded.recoveredRegions > 0) await this.persistRct()
    return { rct: loaded.recoveredRegions > 0 ? 'recovered' : 'clean', recoveredRegions: loaded.recoveredRegions, resetReason: '' }
  }

  /**
   * Loads the block digests (after loadDiff: a stale block is read as the guest sees it) and
   * reads back every block they do not know: the journal's regions after a crash, or the whole
   * disk when the map is missing or damaged (a disk made before digests were kept).
   */
  private async loadDigests(): Promise<Pick<DiskOpenReport, 'digests' | 'digestBlocksRead' | 'digestsReason'>> {
    const loaded = BlockDigests.load(this.diskBytes, await this.readWhole(this.paths.digests), await this.readWhole(this.paths.digestJournal))
    if (!loaded.ok) throw new Error(`disk ${this.name}: ${loaded.reason}`)
    this.digests = loaded.digests
    const digestBlocksRead = await this.refreshStaleDigests()
    const state = loaded.rebuildReason !== '' ? 'rebuilt' : loaded.recoveredRegions > 0 ? 'recovered' : 'clean'
    if (state !== 'clean' || digestBlocksRead > 0) await this.persistDigests()
    const digestsReason = loaded.rebuildReason || (loaded.recoveredRegions > 0 ? `the journal named ${loaded.recoveredRegions} regions written since the map was saved` : '')
    return { digests: state, digestBlocksRead, digestsReason }
  }

  /** Reads every stale block as the guest sees it, several READs in flight, and learns its digest. */
  private async refreshStaleDigests(): Promise<number> {
    const stale = this.digests.staleBlocks()
    const runs: { first: number; count: number }[] = []
    for (const b of stale) {
      const last = runs[runs.length - 1]
      if (last && last.first + last.count === b && last.count < REFRESH_BLOCKS_PER_READ) last.count++
      else runs.push({ first: b, count: 1 })
    }
    await forEachBounded(runs, REFRESH_READS_IN_FLIGHT, async ({ first, count }) => {
      const offset = first * CBT_BLOCK_BYTES
      const data = await this.read(offset, Math.min(count * CBT_BLOCK_BYTES, this.diskBytes - offset))
      for (let i = 0; i < count; i++) this.digests.refresh(first + i, data.subarray(i * CBT_BLOCK_BYTES, Math.min(data.length, (i + 1) * CBT_BLOCK_BYTES)))
    })
    return stale.length
  }

  /** Writes the digest map, then clears the journal: the map now covers what it named. */
  private async persistDigests(): Promise<void> {
    await this.writeWhole(this.paths.digests, this.digests.encode())
    this.digests.persisted()
    await this.writeWhole(this.paths.digestJournal, this.digests.encodeJournal())
  }

  /** Writes the RCT map, then clears the MRT: the map now covers everything the MRT named. */
  private async persistRct(): Promise<void> {
    const rct = this.rct as RctTracker
    await this.writeWhole(this.paths.rct, rct.encodeRct())
    rct.rctPersisted()
    await this.writeWhole(this.paths.mrt, rct.encodeMrt())
  }

  private async writeWhole(path: string, data: Buffer): Promise<void> {
    const h = await this.client.open(path, { appInstanceId: this.appInstanceId })
    try {
      await this.client.setSize(h, data.length)
      await this.client.write(h, 0, data)
    } finally {
      await this.client.close(h)
    }
  }

  private async readWhole(path: string): Promise<Buffer | null> {
    let h: FailoverHandle
    try {
      h = await this.client.open(path, { readOnly: true })
    } catch {
      return null
    }
    try {
      const size = await this.client.size(h)
      return size === 0 ? Buffer.alloc(0) : await this.client.read(h, 0, size)
    } finally {
      await this.client.close(h)
    }
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn)
    this.chain = run.catch(() => undefined)
    return run
  }
}
