// A VHDX-like virtual disk of an emulated Hyper-V VM, on a CA share, through the failover
// client (persistent handles, so a storage-node failure only pauses it):
//   <name>.vhdx        the base disk: raw bytes at the disk's full size
//   <name>.avhdx       the differencing disk of a checkpoint: a bitmap of the 64 KiB blocks it
//                      holds (one bit each, in the first DIFF_HEADER_BYTES), then the blocks at
//                      DIFF_HEADER_BYTES + index x 64 KiB; size 0 when there is no checkpoint
//   <name>.vhdx.rct    RCT's fine per-block map, written at checkpoints, merges and clean stops
//   <name>.vhdx.mrt    RCT's modified region table, written before a write reaches a new region
// While a checkpoint exists the VM writes into the differencing disk (copying the rest of a
// block from the base first) and the base stays frozen for the backup; the merge copies the
// differencing blocks into the base. The tracking files travel with the disk, so RCT survives
// a storage failover and a move of the VM to another host; after a host crash only the MRT
// regions are known to have changed.
import { createHash, randomUUID } from 'node:crypto'
import type { FailoverClient, FailoverHandle } from '../failover-client.js'
import { CBT_BLOCK_BYTES, RctTracker } from '../../core/cbt/rct-tracker.js'

/** Room for the differencing bitmap: one bit per block covers a disk of up to 32 TiB. */
const DIFF_HEADER_BYTES = 64 * 1024
/** Bytes read per request when the whole base is hashed or copied. */
const SCAN_CHUNK_BYTES = 1024 * 1024

export interface VirtualDiskPaths {
  readonly base: string
  readonly diff: string
  readonly rct: string
  readonly mrt: string
}

export function diskPaths(folder: string, name: string): VirtualDiskPaths {
  const base = `${folder}/${name}.vhdx`
  return { base, diff: `${folder}/${name}.avhdx`, rct: `${base}.rct`, mrt: `${base}.mrt` }
}

export interface DiskOpenReport {
  /** RCT state found next to the disk: clean, recovered from the MRT after a crash, or reset. */
  readonly rct: 'off' | 'clean' | 'recovered' | 'reset' | 'new'
  readonly recoveredRegions: number
  readonly resetReason: string
  readonly checkpointActive: boolean
}

export class VirtualDisk {
  private diffBlocks = new Set<number>()
  private diffHandle: FailoverHandle | null = null
  private rct: RctTracker | null = null
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
    let report: DiskOpenReport = { rct: 'off', recoveredRegions: 0, resetReason: '', checkpointActive }
    if (trackChanges) report = { ...(await disk.loadRct()), checkpointActive }
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
      if (this.diffHandle) await this.writeDiff(offset, data)
      else await this.client.write(this.base, offset, data)
      this.rct?.afterWrite(offset, data.length)
    })
  }

  /** A guest read: the differencing disk's blocks over the base's. */
  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length)
    for (let at = offset; at < offset + length; ) {
      const block = Math.floor(at / CBT_BLOCK_BYTES)
      const end = Math.min(offset + length, (block + 1) * CBT_BLOCK_BYTES)
      const part =
        this.diffHandle && this.diffBlocks.has(block)
          ? await this.client.read(this.diffHandle, DIFF_HEADER_BYTES + at, end - at)
          : await this.client.read(this.base, at, end - at)
      part.copy(out, at - offset)
      at = end
    }
    return out
  }

  /**
   * Takes a checkpoint: from now on writes go to the differencing disk and the base is frozen.
   * Returns the reference point (RCT id) and the sha256 of the frozen base, which is what every
   * restore point of this checkpoint must restore to.
   */
  checkpoint(hashBase: boolean): Promise<{ rctId: string | null; diskSha256: string }> {
    return this.serially(async () => {
      if (this.diffHandle) throw new Error(`disk ${this.name} has a checkpoint already`)
      const diff = await this.client.open(this.paths.diff, { appInstanceId: this.appInstanceId })
      await this.client.setSize(diff, 0)
      await this.client.setSize(diff, DIFF_HEADER_BYTES)
      this.diffHandle = diff
      this.diffBlocks = new Set()
      const rctId = this.rct ? this.rct.referencePoint() : null
      if (this.rct) await this.persistRct()
      return { rctId, diskSha256: hashBase ? await this.hashBase() : '' }
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
    })
  }

  /** A clean stop: RCT saved, MRT cleared, handles closed. The checkpoint, if any, stays. */
  close(): Promise<void> {
    return this.serially(async () => {
      if (this.rct) await this.persistRct()
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

  private async writeDiff(offset: number, data: Buffer): Promise<void> {
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
      }
      at = end
    }
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

  private async loadRct(): Promise<Omit<DiskOpenReport, 'checkpointActive'>> {
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
