// The on-disk store of Hyper-V backup restore points. A restore point is one backup of one
// virtual disk of one VM: the CBT blocks that changed since its parent (every block for a
// full), the digest map of the whole disk as of that point, and its metadata. A disk is
// rebuilt by taking each block from the newest point of its chain (full, incremental, ...)
// that stores it; the digest maps let a point be checked without the cluster it came from.
//
// Layout:
//
//   <repo>/repository.json                        { "format": "swlab-backup-repository", "version": 1 }
//   <repo>/<vm>/<disk>/<seq, 6 digits>/meta.json   RestorePointMeta
//                                     /index.bin   u32 LE block indices of the stored blocks, ascending
//                                     /blocks.bin  the stored blocks in index order, concatenated; a
//                                                  partial last block at its real length
//                                     /digests.bin 32-byte sha256 per block of the whole disk, block order
//
// Points are immutable: one is written in `<repo>/<vm>/<disk>/.tmp-<random>`, every file
// fsynced and made read-only (0o444), then the folder is renamed into place and its parent
// fsynced, so a crash leaves either a whole point or a stray .tmp-* folder that readers skip.
// writePoint takes every block at once; beginPoint / PointWriter.add / finishPoint take them
// one at a time as a backup reads them, so a full never holds the disk in memory.
// meta.json records the sha256 of index.bin and digests.bin. blocks.bin is checked block by
// block against digests.bin (with its size), which finds any damage a whole-file digest would;
// points written before 2026-12-06 also carry blocksSha256, still checked when present. Not
// hashing blocks.bin a second time as it is written spares a full one SHA-256 pass of the disk.
// Nothing here modifies or deletes an existing point; writing a seq that exists is refused.
//
// Every expected failure (bad input, a damaged or incomplete repository) is a
// BackupRepositoryError whose message is one line naming the repository, point or block.
// Memory stays bounded by the index and digest map (4 and 32 bytes per 64 KiB block; a
// PointWriter keeps 36 per stored block): block data is streamed one block at a time.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fdatasync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fsyncDirSync, writeAllAt, writeAllSync } from '../../runtime/durable-fs.js'

/** The CBT block size of Hyper-V RCT and of our filter driver. */
export const BACKUP_BLOCK_BYTES = 64 * 1024
export const REPOSITORY_FORMAT = 'swlab-backup-repository'
export const REPOSITORY_VERSION = 1

const MARKER_FILE = 'repository.json'
const META_FILE = 'meta.json'
const INDEX_FILE = 'index.bin'
const BLOCKS_FILE = 'blocks.bin'
const DIGESTS_FILE = 'digests.bin'
const TMP_PREFIX = '.tmp-'
/** Our own short-lived files at the repository root, which do not make a folder "non-empty". */
const OWN_TEMP_PREFIX = '.swlab-'
const DIGEST_BYTES = 32
const INDEX_ENTRY_BYTES = 4
const SEQ_DIGITS = 6
const MAX_SEQ = 999_999
const SEQ_FOLDER = /^\d{6}$/
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/
const SHA256_HEX = /^[0-9a-f]{64}$/
/** verify reports at most this many bad blocks per point and check, then a count of the rest. */
const MAX_BLOCK_PROBLEMS = 20
const HASH_CHUNK_BYTES = 1024 * 1024
/** A PointWriter starts an fdatasync of blocks.bin each time this much more was written. */
const WRITEBACK_EVERY_BYTES = 32 * 1024 * 1024

/** An expected failure of a repository operation: its message is one line for the user. */
export class BackupRepositoryError extends Error {}

export type BackupKind = 'full' | 'incremental'

export interface RestorePointMeta {
  /** `${vm}/${disk}/${seq as 6 digits}` */
  readonly id: string
  readonly vm: string
  readonly disk: string
  /** 1, 2, ... per vm/disk. */
  readonly seq: number
  /** null for a full. */
  readonly parentSeq: number | null
  readonly kind: BackupKind
  readonly diskBytes: number
  readonly blockBytes: number
  /** 'rct' | 'filter' | 'none' | 'full': the agent decides. */
  readonly method: string
  readonly reason: string
  /** Wall clock ms, given by the caller. */
  readonly createdAtMs: number
  readonly durationMs: number
  /** Read from the cluster by the agent. */
  readonly bytesRead: number
  /** Size of blocks.bin. */
  readonly bytesStored: number
  readonly blocksStored: number
  /** Storage nodes that served the reads. */
  readonly nodesServed: readonly string[]
  /**
   * sha256 of the whole disk at checkpoint time, when the host read the disk to hash it; null
   * when it stated expectedDigestMapSha256 from the digests it keeps instead.
   */
  readonly expectedDiskSha256: string | null
  /**
   * sha256 of the disk's block digest map at checkpoint time (the sha256 of each 64 KiB block,
   * in order; what digests.bin hashes to when the point is right), stated by the host from the
   * digests it keeps as the guest writes; null (or absent, in points written before) when not known.
   */
  readonly expectedDigestMapSha256?: string | null
  /** Reference point of this backup, if any. */
  readonly rctId: string | null
  /** sha256 of blocks.bin, in points written before 2026-12-06 (see the layout above). */
  readonly blocksSha256?: string
  readonly indexSha256: string
  readonly digestsSha256: string
  /** Free metadata from the agent (e.g. checkpoint id, snapshot waits). */
  readonly extra: Readonly<Record<string, unknown>>
}

export interface NewRestorePoint {
  vm: string
  disk: string
  diskBytes: number
  kind: BackupKind
  method: string
  reason: string
  createdAtMs: number
  durationMs: number
  bytesRead: number
  nodesServed: readonly string[]
  /** At least one of expectedDiskSha256 and expectedDigestMapSha256 is given. */
  expectedDiskSha256: string | null
  expectedDigestMapSha256?: string | null
  rctId: string | null
  extra?: Record<string, unknown>
  /** The blocks to store: block index -> bytes (64 KiB, or the real length of the last block). */
  blocks: ReadonlyMap<number, Buffer>
  /** sha256 per block of the whole disk at this point (32 * blockCount bytes). */
  digests: Buffer
}

export interface VerifyResult {
  readonly ok: boolean
  /** sha256 of the rebuilt image; null when the chain could not be rebuilt. */
  readonly diskSha256: string | null
  /** sha256 of the rebuilt image's block digest map; null when the chain could not be rebuilt. */
  readonly digestMapSha256?: string | null
  readonly problems: string[]
}

/** A chain member with its block index loaded, ready to serve blocks. */
interface LoadedPoint {
  readonly meta: RestorePointMeta
  readonly folder: string
  readonly index: Uint32Array
}

export function blockCountOf(diskBytes: number): number {
  return Math.ceil(diskBytes / BACKUP_BLOCK_BYTES)
}

/** Every block is 64 KiB except a partial last one, which is stored at its real length. */
export function blockBytesOf(diskBytes: number, block: number): number {
  return Math.min(BACKUP_BLOCK_BYTES, diskBytes - block * BACKUP_BLOCK_BYTES)
}

export function restorePointId(vm: string, disk: string, seq: number): string {
  return `${vm}/${disk}/${seqName(seq)}`
}

export class BackupRepository {
  private constructor(
    readonly dir: string,
    readonly readOnly = false,
  ) {}

  /**
   * Opens an existing repository, or creates one in an empty or missing folder when create
   * is true. Errors: folder missing (and create false), not a folder, not writable, a
   * non-empty folder that is not a repository, unknown format or version.
   */
  /**
   * readOnly opens an existing repository for list, restore and verify only (read-only media
   * included): no write check, and writePoint refuses.
   */
  static open(dir: string, opts: { create?: boolean; readOnly?: boolean } = {}): BackupRepository {
    const root = resolve(dir)
    const where = `backup repository ${root}`
    if (opts.readOnly) {
      if (!existsSync(root)) throw new BackupRepositoryError(`${where} does not exist`)
      if (!wrapFs(where, () => statSync(root)).isDirectory()) throw new BackupRepositoryError(`${where} is not a folder`)
      if (!existsSync(join(root, MARKER_FILE))) throw new BackupRepositoryError(`${where} is not a backup repository: it has no ${MARKER_FILE}`)
      BackupRepository.checkMarker(root, where)
      return new BackupRepository(root, true)
    }
    if (!existsSync(root)) {
      if (!opts.create) throw new BackupRepositoryError(`${where} does not exist (open it with create to make one)`)
      wrapFs(where, () => mkdirSync(root, { recursive: true }))
      fsyncDirSync(dirname(root))
    }
    if (!wrapFs(where, () => statSync(root)).isDirectory()) throw new BackupRepositoryError(`${where} is not a folder`)
    // W_OK alone misses read-only mounts and ACLs on some systems; a probe file does not.
    try {
      accessSync(root, constants.W_OK)
    } catch {
      throw new BackupRepositoryError(`${where} is not writable`)
    }
    const probe = join(root, `${OWN_TEMP_PREFIX}probe-${process.pid}-${randomBytes(4).toString('hex')}`)
    try {
      closeSync(openSync(probe, 'wx'))
    } catch (err) {
      throw new BackupRepositoryError(`${where} is not writable: ${messageOf(err)}`)
    } finally {
      rmSync(probe, { force: true })
    }

    const markerPath = join(root, MARKER_FILE)
    if (!existsSync(markerPath)) {
      const others = readdirSync(root).filter((name) => !name.startsWith(OWN_TEMP_PREFIX))
      if (others.length > 0) throw new BackupRepositoryError(`${where} is not a backup repository: the folder is not empty and has no ${MARKER_FILE}`)
      if (!opts.create) throw new BackupRepositoryError(`${where} is an empty folder, not a backup repository (open it with create to make one)`)
      const marker = `${JSON.stringify({ format: REPOSITORY_FORMAT, version: REPOSITORY_VERSION })}\n`
      const tmp = join(root, `${OWN_TEMP_PREFIX}repository-${process.pid}-${randomBytes(4).toString('hex')}`)
      writeReadOnlyFile(tmp, [Buffer.from(marker)])
      renameSync(tmp, markerPath)
      fsyncDirSync(root)
      return new BackupRepository(root)
    }
    BackupRepository.checkMarker(root, where)
    return new BackupRepository(root)
  }

  private static checkMarker(root: string, where: string): void {
    const markerPath = join(root, MARKER_FILE)
    let marker: unknown
    try {
      marker = JSON.parse(readFileSync(markerPath, 'utf8'))
    } catch (err) {
      throw new BackupRepositoryError(`${where}: ${MARKER_FILE} is unreadable: ${messageOf(err)}`)
    }
    const { format, version } = (typeof marker === 'object' && marker !== null ? marker : {}) as { format?: unknown; version?: unknown }
    if (format !== REPOSITORY_FORMAT) throw new BackupRepositoryError(`${where}: unknown format ${JSON.stringify(format)} in ${MARKER_FILE} (expected ${REPOSITORY_FORMAT})`)
    if (version !== REPOSITORY_VERSION) throw new BackupRepositoryError(`${where}: unknown version ${JSON.stringify(version)} in ${MARKER_FILE} (this code reads version ${REPOSITORY_VERSION})`)
  }

  /**
   * Writes the next point of vm/disk. An incremental's parent is the latest point of
   * vm/disk and must have the same diskBytes; a full may change the size. Everything is
   * validated before anything is written, so a refused point leaves no trace.
   */
  writePoint(p: NewRestorePoint): RestorePointMeta {
    return this.commitPoint(p, new MapBlocks(p.blocks))
  }

  /**
   * Starts a point whose blocks arrive one at a time, in ascending order (PointWriter.add), so
   * that a full backup never holds the disk in memory: they go to blocks.bin in a .tmp-*
   * folder that readers skip. finishPoint validates and commits it as writePoint does; abort
   * (or a refused finish) removes the folder.
   */
  beginPoint(vmName: string, diskName: string, diskBytes: number): PointWriter {
    const vm = checkName('vm', vmName)
    const disk = checkName('disk', diskName)
    const what = `backup of ${vm}/${disk}`
    if (this.readOnly) throw new BackupRepositoryError(`${what}: backup repository ${this.dir} was opened read-only`)
    if (!Number.isSafeInteger(diskBytes) || diskBytes <= 0) throw new BackupRepositoryError(`${what}: diskBytes must be a positive integer, got ${diskBytes}`)
    const tmp = join(this.makeDiskFolder(vm, disk), `${TMP_PREFIX}${randomBytes(8).toString('hex')}`)
    mkdirSync(tmp)
    return new PointWriter(what, vm, disk, diskBytes, tmp)
  }

  /**
   * Validates and commits a point begun with beginPoint: `p` without blocks, which the writer
   * has. Waits for the writer's writes first; one that failed fails the point.
   */
  async finishPoint(writer: PointWriter, p: Omit<NewRestorePoint, 'blocks'>): Promise<RestorePointMeta> {
    try {
      if (p.vm !== writer.vm || p.disk !== writer.disk || p.diskBytes !== writer.diskBytes) {
        throw new BackupRepositoryError(`${writer.what}: the point finished is not the one begun (${p.vm}/${p.disk}, ${p.diskBytes} bytes)`)
      }
      await writer.written()
      return this.commitPoint(p, writer)
    } finally {
      writer.abort()
    }
  }

  private commitPoint(p: Omit<NewRestorePoint, 'blocks'>, stored: StoredBlocks): RestorePointMeta {
    const vm = checkName('vm', p.vm)
    const disk = checkName('disk', p.disk)
    const what = `backup of ${vm}/${disk}`
    if (this.readOnly) throw new BackupRepositoryError(`${what}: backup repository ${this.dir} was opened read-only`)
    if (!Number.isSafeInteger(p.diskBytes) || p.diskBytes <= 0) throw new BackupRepositoryError(`${what}: diskBytes must be a positive integer, got ${p.diskBytes}`)
    if (p.kind !== 'full' && p.kind !== 'incremental') throw new BackupRepositoryError(`${what}: kind must be full or incremental, got ${JSON.stringify(p.kind)}`)
    for (const [field, value] of [['createdAtMs', p.createdAtMs], ['durationMs', p.durationMs], ['bytesRead', p.bytesRead]] as const) {
      if (!Number.isFinite(value) || value < 0) throw new BackupRepositoryError(`${what}: ${field} must be a non-negative number, got ${value}`)
    }
    if (typeof p.method !== 'string' || typeof p.reason !== 'string') throw new BackupRepositoryError(`${what}: method and reason must be strings`)
    if (!Array.isArray(p.nodesServed) || p.nodesServed.some((n) => typeof n !== 'string')) throw new BackupRepositoryError(`${what}: nodesServed must be a list of node names`)
    if (p.rctId !== null && typeof p.rctId !== 'string') throw new BackupRepositoryError(`${what}: rctId must be a string or null`)
    const expectedDiskSha256 = p.expectedDiskSha256 === null ? null : String(p.expectedDiskSha256).toLowerCase()
    if (expectedDiskSha256 !== null && !SHA256_HEX.test(expectedDiskSha256)) throw new BackupRepositoryError(`${what}: expectedDiskSha256 must be 64 hex digits, got ${JSON.stringify(p.expectedDiskSha256)}`)
    const expectedDigestMapSha256 = p.expectedDigestMapSha256 === undefined || p.expectedDigestMapSha256 === null ? null : String(p.expectedDigestMapSha256).toLowerCase()
    if (expectedDigestMapSha256 !== null && !SHA256_HEX.test(expectedDigestMapSha256)) throw new BackupRepositoryError(`${what}: expectedDigestMapSha256 must be 64 hex digits, got ${JSON.stringify(p.expectedDigestMapSha256)}`)
    if (expectedDiskSha256 === null && expectedDigestMapSha256 === null) throw new BackupRepositoryError(`${what}: give expectedDiskSha256 or expectedDigestMapSha256 (what the disk must restore to)`)

    const latest = this.latest(vm, disk)
    const seq = (latest?.seq ?? 0) + 1
    if (seq > MAX_SEQ) throw new BackupRepositoryError(`${what}: ${vm}/${disk} has ${MAX_SEQ} points, the most this layout numbers`)
    const id = restorePointId(vm, disk, seq)
    let parentSeq: number | null = null
    if (p.kind === 'incremental') {
      if (!latest) throw new BackupRepositoryError(`restore point ${id}: an incremental needs a parent and ${vm}/${disk} has no restore point: take a full backup`)
      if (latest.diskBytes !== p.diskBytes) throw new BackupRepositoryError(`disk ${vm}/${disk} changed size from ${latest.diskBytes} to ${p.diskBytes} bytes: take a full backup`)
      parentSeq = latest.seq
    }

    const blockCount = blockCountOf(p.diskBytes)
    if (!Buffer.isBuffer(p.digests) || p.digests.length !== DIGEST_BYTES * blockCount) {
      throw new BackupRepositoryError(`restore point ${id}: the digest map has ${p.digests?.length} bytes, expected ${DIGEST_BYTES * blockCount} (32 for each of ${blockCount} blocks)`)
    }
    const indices = stored.indices()
    if (p.kind === 'full' && indices.length !== blockCount) throw new BackupRepositoryError(`restore point ${id}: a full backup stores all ${blockCount} blocks, got ${indices.length}`)
    let bytesStored = 0
    for (const block of indices) {
      if (!Number.isInteger(block) || block < 0 || block >= blockCount) throw new BackupRepositoryError(`restore point ${id}: block ${block} is outside the disk (${blockCount} blocks)`)
      const length = stored.lengthOf(block)
      const expectedBytes = blockBytesOf(p.diskBytes, block)
      if (length !== expectedBytes) throw new BackupRepositoryError(`restore point ${id}: block ${block} has ${length} bytes, expected ${expectedBytes}`)
      if (!stored.sha256Of(block).equals(digestAt(p.digests, block))) throw new BackupRepositoryError(`restore point ${id}: block ${block} does not match its digest`)
      bytesStored += length
    }

    const diskFolder = this.makeDiskFolder(vm, disk)
    const tmp = stored.folder(diskFolder)
    const final = join(diskFolder, seqName(seq))
    try {
      const index = Buffer.alloc(INDEX_ENTRY_BYTES * indices.length)
      indices.forEach((block, rank) => index.writeUInt32LE(block, rank * INDEX_ENTRY_BYTES))
      stored.writeBlocksFile(join(tmp, BLOCKS_FILE))
      const indexSha256 = writeReadOnlyFile(join(tmp, INDEX_FILE), [index])
      const digestsSha256 = writeReadOnlyFile(join(tmp, DIGESTS_FILE), [p.digests])
      const meta: RestorePointMeta = {
        id,
        vm,
        disk,
        seq,
        parentSeq,
        kind: p.kind,
        diskBytes: p.diskBytes,
        blockBytes: BACKUP_BLOCK_BYTES,
        method: p.method,
        reason: p.reason,
        createdAtMs: p.createdAtMs,
        durationMs: p.durationMs,
        bytesRead: p.bytesRead,
        bytesStored,
        blocksStored: indices.length,
        nodesServed: [...p.nodesServed],
        expectedDiskSha256,
        expectedDigestMapSha256,
        rctId: p.rctId,
        indexSha256,
        digestsSha256,
        extra: { ...(p.extra ?? {}) },
      }
      const json = `${JSON.stringify(meta, null, 2)}\n`
      writeReadOnlyFile(join(tmp, META_FILE), [Buffer.from(json)])
      fsyncDirSync(tmp)
      // Another writer may have taken this seq since we looked: never replace its point.
      if (existsSync(final)) throw new BackupRepositoryError(`restore point ${id} already exists: refusing to replace it`)
      try {
        renameSync(tmp, final)
      } catch (err) {
        const code = codeOf(err)
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new BackupRepositoryError(`restore point ${id} already exists: refusing to replace it`)
        throw err
      }
      fsyncDirSync(diskFolder)
      return JSON.parse(json) as RestorePointMeta
    } finally {
      // After a successful rename the temp folder is gone and this does nothing.
      rmSync(tmp, { recursive: true, force: true })
    }
  }

  /** Every point (of one VM if given), sorted by vm, disk, seq; unfinished .tmp-* folders are skipped. */
  list(vm?: string): RestorePointMeta[] {
    const vms = vm === undefined ? childFolders(this.dir).filter((name) => NAME.test(name)) : [checkName('vm', vm)]
    const points: RestorePointMeta[] = []
    for (const v of vms) {
      for (const disk of childFolders(join(this.dir, v)).filter((name) => NAME.test(name))) {
        for (const seq of this.seqsOf(v, disk)) points.push(this.readMeta(v, disk, seq))
      }
    }
    return points
  }

  latest(vm: string, disk: string): RestorePointMeta | null {
    const seqs = this.seqsOf(checkName('vm', vm), checkName('disk', disk))
    return seqs.length === 0 ? null : this.readMeta(vm, disk, seqs[seqs.length - 1])
  }

  point(id: string): RestorePointMeta {
    const { vm, disk, seq } = parseId(id)
    if (!existsSync(this.folderOf(vm, disk, seq))) throw new BackupRepositoryError(`restore point ${id} does not exist in backup repository ${this.dir}`)
    return this.readMeta(vm, disk, seq)
  }

  digestsOf(id: string): Buffer {
    return this.readDigests(this.point(id))
  }

  /** The chain from the full to this point, parents first. */
  chain(id: string): RestorePointMeta[] {
    const point = this.point(id)
    const chain = [point]
    let child = point
    while (child.kind !== 'full') {
      if (child.parentSeq === null) throw new BackupRepositoryError(`restore point ${point.id}: its chain does not start with a full backup (${seqName(child.seq)} is an incremental without a parent)`)
      if (!existsSync(this.folderOf(child.vm, child.disk, child.parentSeq))) {
        throw new BackupRepositoryError(`restore point ${child.id}: parent ${seqName(child.parentSeq)} is missing`)
      }
      const parent = this.readMeta(child.vm, child.disk, child.parentSeq)
      if (parent.diskBytes !== child.diskBytes) {
        throw new BackupRepositoryError(`restore point ${child.id}: parent ${seqName(parent.seq)} has ${parent.diskBytes} bytes, not ${child.diskBytes}`)
      }
      chain.unshift(parent)
      child = parent
    }
    return chain
  }

  /**
   * Rebuilds the disk image as of this point into a new file at outPath, block by block,
   * checking each block against this point's digest map: a restore never hands back an
   * image that differs from what was backed up. A failed restore removes its partial file.
   */
  restore(id: string, outPath: string): { diskSha256: string; digestMapSha256: string } {
    const chain = this.chain(id)
    const meta = chain[chain.length - 1]
    const digests = this.readDigests(meta)
    const target = resolve(outPath)
    const image = new ChainImage(chain.map((m) => this.loadPoint(m)))
    try {
      let out: number
      try {
        out = openSync(target, 'wx', 0o644)
      } catch (err) {
        if (codeOf(err) === 'EEXIST') throw new BackupRepositoryError(`restore of ${meta.id}: ${target} exists: refusing to overwrite it`)
        throw new BackupRepositoryError(`restore of ${meta.id}: cannot create ${target}: ${messageOf(err)}`)
      }
      let done = false
      try {
        const hash = createHash('sha256')
        const buf = Buffer.allocUnsafe(BACKUP_BLOCK_BYTES)
        for (let block = 0; block < blockCountOf(meta.diskBytes); block++) {
          const { data } = image.read(block, buf)
          if (!sha256(data).equals(digestAt(digests, block))) {
            throw new BackupRepositoryError(`restore point ${meta.id}: block ${block} of the rebuilt disk does not match its digest`)
          }
          hash.update(data)
          writeAllSync(out, data)
        }
        fsyncSync(out)
        done = true
        // Every block matched the point's map, so the image's digest map is that map.
        return { diskSha256: hash.digest('hex'), digestMapSha256: createHash('sha256').update(digests).digest('hex') }
      } finally {
        closeSync(out)
        if (!done) rmSync(target, { force: true })
      }
    } finally {
      image.close()
    }
  }

  /**
   * Checks one point without writing a file: its files against meta, its chain, every
   * stored block of every chain member against that member's digest map, then each block
   * of the rebuilt image against this point's digest map and the whole image against
   * expectedDiskSha256 and its digest map against expectedDigestMapSha256 (whichever the point
   * has). Never throws for a bad point: it returns the problems.
   */
  verify(id: string): VerifyResult {
    const problems: string[] = []
    let diskSha256: string | null = null
    let digestMapSha256: string | null = null
    try {
      const meta = this.point(id)
      let chain: RestorePointMeta[] | null = null
      try {
        chain = this.chain(id)
      } catch (err) {
        problems.push(messageOf(err))
      }
      // Without a whole chain, still check what there is of this point.
      const members = chain ?? [meta]
      const loaded: LoadedPoint[] = []
      const badBlocks = new Map<string, Set<number>>()
      for (const member of members) {
        const bad = new Set<number>()
        badBlocks.set(member.id, bad)
        const point = this.checkPoint(member, bad, problems)
        if (point) loaded.push(point)
      }
      if (chain && loaded.length === chain.length) {
        const rebuilt = this.checkRebuild(meta, loaded, badBlocks, problems)
        diskSha256 = rebuilt?.diskSha256 ?? null
        digestMapSha256 = rebuilt?.digestMapSha256 ?? null
      }
    } catch (err) {
      problems.push(messageOf(err))
    }
    return { ok: problems.length === 0, diskSha256, digestMapSha256, problems }
  }

  // ---- internals ----

  private folderOf(vm: string, disk: string, seq: number): string {
    return join(this.dir, vm, disk, seqName(seq))
  }

  private seqsOf(vm: string, disk: string): number[] {
    return childFolders(join(this.dir, vm, disk))
      .filter((name) => SEQ_FOLDER.test(name) && name !== '000000')
      .map(Number)
  }

  private makeDiskFolder(vm: string, disk: string): string {
    let folder = this.dir
    for (const name of [vm, disk]) {
      const parent = folder
      folder = join(folder, name)
      try {
        mkdirSync(folder)
        fsyncDirSync(parent)
      } catch (err) {
        if (codeOf(err) !== 'EEXIST') throw new BackupRepositoryError(`backup repository ${this.dir}: cannot create ${folder}: ${messageOf(err)}`)
        if (!statSync(folder).isDirectory()) throw new BackupRepositoryError(`backup repository ${this.dir}: ${folder} is not a folder`)
      }
    }
    return folder
  }

  private readMeta(vm: string, disk: string, seq: number): RestorePointMeta {
    const id = restorePointId(vm, disk, seq)
    const path = join(this.folderOf(vm, disk, seq), META_FILE)
    let meta: RestorePointMeta
    try {
      meta = JSON.parse(readFileSync(path, 'utf8')) as RestorePointMeta
    } catch (err) {
      throw new BackupRepositoryError(`restore point ${id}: ${META_FILE} is unreadable: ${messageOf(err)}`)
    }
    const wrong = metaProblem(meta, id, vm, disk, seq)
    if (wrong) throw new BackupRepositoryError(`restore point ${id}: ${META_FILE} is invalid: ${wrong}`)
    return meta
  }

  private readDigests(meta: RestorePointMeta): Buffer {
    const digests = wrapFs(`restore point ${meta.id}`, () => readFileSync(join(this.folderOf(meta.vm, meta.disk, meta.seq), DIGESTS_FILE)))
    const expectedBytes = DIGEST_BYTES * blockCountOf(meta.diskBytes)
    if (digests.length !== expectedBytes) throw new BackupRepositoryError(`restore point ${meta.id}: ${DIGESTS_FILE} has ${digests.length} bytes, expected ${expectedBytes}`)
    return digests
  }

  private loadPoint(meta: RestorePointMeta): LoadedPoint {
    const folder = this.folderOf(meta.vm, meta.disk, meta.seq)
    const raw = wrapFs(`restore point ${meta.id}`, () => readFileSync(join(folder, INDEX_FILE)))
    if (raw.length !== INDEX_ENTRY_BYTES * meta.blocksStored) {
      throw new BackupRepositoryError(`restore point ${meta.id}: ${INDEX_FILE} has ${raw.length} bytes, expected ${INDEX_ENTRY_BYTES * meta.blocksStored} for ${meta.blocksStored} blocks`)
    }
    const blockCount = blockCountOf(meta.diskBytes)
    const index = new Uint32Array(meta.blocksStored)
    for (let rank = 0; rank < index.length; rank++) {
      index[rank] = raw.readUInt32LE(rank * INDEX_ENTRY_BYTES)
      if (index[rank] >= blockCount || (rank > 0 && index[rank] <= index[rank - 1])) {
        throw new BackupRepositoryError(`restore point ${meta.id}: ${INDEX_FILE} is damaged at entry ${rank} (block ${index[rank]})`)
      }
    }
    return { meta, folder, index }
  }

  /** Checks one point's files and stored blocks; returns it loaded, or null if it cannot serve blocks. */
  private checkPoint(meta: RestorePointMeta, badBlocks: Set<number>, problems: string[]): LoadedPoint | null {
    const folder = this.folderOf(meta.vm, meta.disk, meta.seq)
    const recorded: Array<[string, string]> = [
      ...(meta.blocksSha256 === undefined ? [] : [[BLOCKS_FILE, meta.blocksSha256] as [string, string]]),
      [INDEX_FILE, meta.indexSha256],
      [DIGESTS_FILE, meta.digestsSha256],
    ]
    for (const [file, expected] of recorded) {
      try {
        const actual = sha256OfFile(join(folder, file))
        if (actual !== expected) problems.push(`restore point ${meta.id}: ${file} has sha256 ${actual}, not ${expected} as recorded in ${META_FILE}`)
      } catch (err) {
        problems.push(`restore point ${meta.id}: ${file} is unreadable: ${messageOf(err)}`)
      }
    }
    let point: LoadedPoint
    let digests: Buffer
    try {
      point = this.loadPoint(meta)
      digests = this.readDigests(meta)
    } catch (err) {
      problems.push(messageOf(err))
      return null
    }
    const blocksPath = join(folder, BLOCKS_FILE)
    try {
      const fileBytes = statSync(blocksPath).size
      if (fileBytes !== meta.bytesStored) problems.push(`restore point ${meta.id}: ${BLOCKS_FILE} has ${fileBytes} bytes, expected ${meta.bytesStored}`)
      const fd = openSync(blocksPath, 'r')
      try {
        const buf = Buffer.allocUnsafe(BACKUP_BLOCK_BYTES)
        for (let rank = 0; rank < point.index.length; rank++) {
          const block = point.index[rank]
          const data = readBlockOf(point, fd, rank, buf)
          if (!sha256(data).equals(digestAt(digests, block))) badBlocks.add(block)
        }
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      problems.push(err instanceof BackupRepositoryError ? err.message : `restore point ${meta.id}: ${BLOCKS_FILE} is unreadable: ${messageOf(err)}`)
    }
    reportBlocks(problems, [...badBlocks], (block) => `restore point ${meta.id}: block ${block} does not match its digest`, (more) => `restore point ${meta.id}: ${more} more blocks do not match their digests`)
    return point
  }

  /** Rebuilds the image in a stream; returns its sha256 and its digest map's, or null if it could not be rebuilt. */
  private checkRebuild(meta: RestorePointMeta, chain: LoadedPoint[], badBlocks: Map<string, Set<number>>, problems: string[]): { diskSha256: string; digestMapSha256: string } | null {
    const digests = this.readDigests(meta)
    const image = new ChainImage(chain)
    const mismatched: number[] = []
    const hash = createHash('sha256')
    const mapHash = createHash('sha256')
    try {
      const buf = Buffer.allocUnsafe(BACKUP_BLOCK_BYTES)
      for (let block = 0; block < blockCountOf(meta.diskBytes); block++) {
        const { data, from } = image.read(block, buf)
        hash.update(data)
        const digest = sha256(data)
        mapHash.update(digest)
        // A block already reported as damaged where it is stored is not reported twice.
        if (!digest.equals(digestAt(digests, block)) && !badBlocks.get(from.id)?.has(block)) mismatched.push(block)
      }
    } catch (err) {
      problems.push(messageOf(err))
      return null
    } finally {
      image.close()
    }
    reportBlocks(problems, mismatched, (block) => `restore point ${meta.id}: block ${block} of the rebuilt disk does not match its digest`, (more) => `restore point ${meta.id}: ${more} more blocks of the rebuilt disk do not match their digests`)
    const diskSha256 = hash.digest('hex')
    const digestMapSha256 = mapHash.digest('hex')
    if (meta.expectedDiskSha256 !== null && diskSha256 !== meta.expectedDiskSha256) problems.push(`restore point ${meta.id}: the rebuilt disk has sha256 ${diskSha256}, not the expected ${meta.expectedDiskSha256}`)
    const expectedMap = meta.expectedDigestMapSha256 ?? null
    if (expectedMap !== null && digestMapSha256 !== expectedMap) {
      problems.push(`restore point ${meta.id}: the rebuilt disk's block digest map has sha256 ${digestMapSha256}, not the ${expectedMap} the host stated at the checkpoint`)
    }
    return { diskSha256, digestMapSha256 }
  }
}

/** The blocks of a point being committed: their indices, lengths and sha256, and blocks.bin. */
interface StoredBlocks {
  /** Ascending. */
  indices(): number[]
  lengthOf(block: number): number | undefined
  sha256Of(block: number): Buffer
  /** The .tmp-* folder the point is assembled in (made now, or the writer's). */
  folder(diskFolder: string): string
  /** Writes (or completes) blocks.bin durably and read-only. */
  writeBlocksFile(path: string): void
}

/** writePoint's blocks: all in memory. */
class MapBlocks implements StoredBlocks {
  constructor(private readonly blocks: ReadonlyMap<number, Buffer>) {}
  indices(): number[] {
    return [...this.blocks.keys()].sort((a, b) => a - b)
  }
  lengthOf(block: number): number | undefined {
    const data = this.blocks.get(block)
    return Buffer.isBuffer(data) ? data.length : undefined
  }
  sha256Of(block: number): Buffer {
    return sha256(this.blocks.get(block)!)
  }
  folder(diskFolder: string): string {
    const tmp = join(diskFolder, `${TMP_PREFIX}${randomBytes(8).toString('hex')}`)
    mkdirSync(tmp)
    return tmp
  }
  writeBlocksFile(path: string): void {
    writeReadOnlyFile(path, this.indices().map((block) => this.blocks.get(block)!))
  }
}

/**
 * A point's blocks written as they arrive (BackupRepository.beginPoint): each goes to its place
 * in blocks.bin in the point's .tmp-* folder by a positional write on libuv's thread pool, so
 * that the caller's thread reads and hashes the next blocks meanwhile; memory holds 36 bytes
 * per stored block (its index and sha256), never the data, which the caller keeps until add()'s
 * promise settles (the caller bounds how many are outstanding).
 */
export class PointWriter implements StoredBlocks {
  private fd: number | null
  private readonly stored: number[] = []
  private readonly digests: Buffer[] = []
  private readonly lengths: number[] = []
  /** Where the next block goes in blocks.bin: the bytes of the blocks added so far. */
  private end = 0
  /** Writes and fdatasyncs not yet settled. */
  private outstanding = 0
  private syncing = false
  /** blocks.bin's bytes up to which the last fdatasync was started. */
  private syncedTo = 0
  private writeError: Error | null = null
  private readonly idle: Array<() => void> = []
  private done = false

  constructor(
    readonly what: string,
    readonly vm: string,
    readonly disk: string,
    readonly diskBytes: number,
    private readonly tmp: string,
  ) {
    this.fd = openSync(join(tmp, BLOCKS_FILE), 'wx', 0o444)
  }

  /** Bytes stored so far. */
  get bytesStored(): number {
    return this.end
  }

  /**
   * Appends block `block` (above every block added before it) with its bytes; checks it now
   * and returns once its bytes are written (a failed write also fails finishPoint). `digest` is
   * their sha256, which the caller computed from these very bytes (the agent does, to compare
   * with the last point): verify re-hashes every stored block against the point's digest map.
   */
  add(block: number, data: Buffer, digest?: Buffer): Promise<void> {
    return this.addBlocks([[block, data, digest]])
  }

  /** add() of several blocks, in order, in one write. */
  addBlocks(blocks: ReadonlyArray<readonly [block: number, data: Buffer, digest?: Buffer]>): Promise<void> {
    assert.ok(this.fd !== null && !this.done, 'add() after the point was finished or aborted')
    const blockCount = blockCountOf(this.diskBytes)
    let last = this.stored.length > 0 ? this.stored[this.stored.length - 1] : -1
    for (const [block, data, digest] of blocks) {
      if (!Number.isInteger(block) || block <= last || block >= blockCount) {
        throw new BackupRepositoryError(`${this.what}: block ${block} is out of order or outside the disk (after block ${last}, ${blockCount} blocks)`)
      }
      const expectedBytes = blockBytesOf(this.diskBytes, block)
      if (data.length !== expectedBytes) throw new BackupRepositoryError(`${this.what}: block ${block} has ${data.length} bytes, expected ${expectedBytes}`)
      if (digest !== undefined) assert.equal(digest.length, DIGEST_BYTES, 'a sha256 is 32 bytes')
      last = block
    }
    const position = this.end
    for (const [block, data, digest] of blocks) {
      this.end += data.length
      this.stored.push(block)
      this.lengths.push(data.length)
      this.digests.push(digest ?? sha256(data))
    }
    const first = blocks.length > 0 ? blocks[0][0] : -1
    const wrote = this.track(
      writeAllAt(
        this.fd,
        blocks.map(([, data]) => data),
        position,
      ),
      `writing block ${first} to ${BLOCKS_FILE}`,
    )
    if (this.end - this.syncedTo >= WRITEBACK_EVERY_BYTES && !this.syncing) this.startWriteback(this.fd)
    return wrote
  }

  /**
   * Dirty pages are written back as the point grows, not all in finishPoint's fsync: with the
   * machine's memory free, the kernel would otherwise start only there (measured: 0.4 s of a
   * 1 GiB full's end spent in fsync, none with this). One fdatasync at a time.
   */
  private startWriteback(fd: number): void {
    this.syncing = true
    this.syncedTo = this.end
    const synced = new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))
    // A failure is the point's (track); here only the flag.
    this.track(synced, `fdatasync of ${BLOCKS_FILE}`)
      .finally(() => (this.syncing = false))
      .catch(() => undefined)
  }

  /** Counts an operation on the file as outstanding until it settles; its failure fails the point. */
  private track(op: Promise<void>, what: string): Promise<void> {
    this.outstanding++
    const tracked = op
      .catch((err: unknown) => {
        this.writeError ??= new BackupRepositoryError(`${this.what}: ${what} failed: ${messageOf(err)}`)
        throw this.writeError
      })
      .finally(() => {
        this.outstanding--
        if (this.outstanding === 0) for (const wake of this.idle.splice(0)) wake()
      })
    // The error also reaches finishPoint: a caller that drops this promise leaves no unhandled rejection.
    tracked.catch(() => undefined)
    return tracked
  }

  /** Resolves once every write added so far has settled; rejects if one failed. */
  async written(): Promise<void> {
    while (this.outstanding > 0) await new Promise<void>((wake) => this.idle.push(wake))
    if (this.writeError) throw this.writeError
  }

  /**
   * Removes the unfinished point. Does nothing once committed (its folder was renamed). With
   * writes outstanding the file is closed once they settle: closing it under them would let
   * them write to whatever file reuses the descriptor.
   */
  abort(): void {
    this.done = true
    rmSync(this.tmp, { recursive: true, force: true })
    if (this.fd === null) return
    const fd = this.fd
    this.fd = null
    if (this.outstanding === 0) closeSync(fd)
    else this.idle.push(() => closeSync(fd))
  }

  indices(): number[] {
    return [...this.stored]
  }
  lengthOf(block: number): number | undefined {
    const rank = this.rankOf(block)
    return rank < 0 ? undefined : this.lengths[rank]
  }
  sha256Of(block: number): Buffer {
    return this.digests[this.rankOf(block)]
  }
  folder(): string {
    return this.tmp
  }
  writeBlocksFile(path: string): void {
    assert.equal(path, join(this.tmp, BLOCKS_FILE), 'blocks.bin is the one being written')
    assert.ok(this.fd !== null, 'the point was aborted')
    assert.equal(this.outstanding, 0, 'finishPoint waits for the writes')
    fsyncSync(this.fd)
    fchmodSync(this.fd, 0o444)
    closeSync(this.fd)
    this.fd = null
  }

  private rankOf(block: number): number {
    // Ascending: a binary search.
    let lo = 0
    let hi = this.stored.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (this.stored[mid] === block) return mid
      if (this.stored[mid] < block) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }
}

/**
 * The disk as of the last member of a chain, read in block order: each block comes from
 * the newest member that stores it. One cursor per member walks its ascending index, so
 * no per-block map of the disk is built.
 */
class ChainImage {
  private readonly fds: number[] = []
  private readonly cursors: number[]
  private nextBlock = 0

  constructor(private readonly members: readonly LoadedPoint[]) {
    assert.ok(members.length > 0 && members[0].meta.kind === 'full', 'a chain starts with a full')
    this.cursors = members.map(() => 0)
    try {
      for (const m of members) this.fds.push(wrapFs(`restore point ${m.meta.id}`, () => openSync(join(m.folder, BLOCKS_FILE), 'r')))
    } catch (err) {
      this.close()
      throw err
    }
  }

  read(block: number, buf: Buffer): { data: Buffer; from: RestorePointMeta } {
    assert.equal(block, this.nextBlock, 'blocks are read in order')
    this.nextBlock++
    for (let m = this.members.length - 1; m >= 0; m--) {
      const index = this.members[m].index
      let rank = this.cursors[m]
      while (rank < index.length && index[rank] < block) rank++
      this.cursors[m] = rank
      if (rank < index.length && index[rank] === block) return { data: readBlockOf(this.members[m], this.fds[m], rank, buf), from: this.members[m].meta }
    }
    const last = this.members[this.members.length - 1].meta
    throw new BackupRepositoryError(`restore point ${last.id}: no point of its chain stores block ${block}`)
  }

  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd)
  }
}

/** Reads the stored block at `rank` of a point: all blocks before the last are 64 KiB, so it sits at rank * 64 KiB. */
function readBlockOf(point: LoadedPoint, fd: number, rank: number, buf: Buffer): Buffer {
  const block = point.index[rank]
  const length = blockBytesOf(point.meta.diskBytes, block)
  let done = 0
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, rank * BACKUP_BLOCK_BYTES + done)
    if (n === 0) throw new BackupRepositoryError(`restore point ${point.meta.id}: ${BLOCKS_FILE} ends before block ${block}`)
    done += n
  }
  return buf.subarray(0, length)
}

function reportBlocks(problems: string[], blocks: number[], one: (block: number) => string, rest: (more: number) => string): void {
  for (const block of blocks.slice(0, MAX_BLOCK_PROBLEMS)) problems.push(one(block))
  if (blocks.length > MAX_BLOCK_PROBLEMS) problems.push(rest(blocks.length - MAX_BLOCK_PROBLEMS))
}

/** What is wrong with a parsed meta.json for the folder it was found in, or null. */
function metaProblem(meta: RestorePointMeta, id: string, vm: string, disk: string, seq: number): string | null {
  if (typeof meta !== 'object' || meta === null) return 'not an object'
  if (meta.id !== id || meta.vm !== vm || meta.disk !== disk || meta.seq !== seq) return `it describes ${JSON.stringify(meta.id)}, not the point in this folder`
  if (meta.kind !== 'full' && meta.kind !== 'incremental') return `unknown kind ${JSON.stringify(meta.kind)}`
  if (meta.kind === 'full' && meta.parentSeq !== null) return 'a full has no parent'
  if (meta.parentSeq !== null && !(Number.isInteger(meta.parentSeq) && meta.parentSeq >= 1 && meta.parentSeq < seq)) return `bad parentSeq ${meta.parentSeq}`
  if (meta.blockBytes !== BACKUP_BLOCK_BYTES) return `block size ${meta.blockBytes} is not ${BACKUP_BLOCK_BYTES}`
  if (!Number.isSafeInteger(meta.diskBytes) || meta.diskBytes <= 0) return `bad diskBytes ${meta.diskBytes}`
  const blockCount = blockCountOf(meta.diskBytes)
  if (!Number.isInteger(meta.blocksStored) || meta.blocksStored < 0 || meta.blocksStored > blockCount) return `bad blocksStored ${meta.blocksStored}`
  if (meta.kind === 'full' && meta.blocksStored !== blockCount) return `a full stores all ${blockCount} blocks, not ${meta.blocksStored}`
  if (!Number.isSafeInteger(meta.bytesStored) || meta.bytesStored < 0) return `bad bytesStored ${meta.bytesStored}`
  for (const field of ['indexSha256', 'digestsSha256'] as const) {
    if (typeof meta[field] !== 'string' || !SHA256_HEX.test(meta[field])) return `bad ${field}`
  }
  if (meta.blocksSha256 !== undefined && (typeof meta.blocksSha256 !== 'string' || !SHA256_HEX.test(meta.blocksSha256))) return 'bad blocksSha256'
  for (const field of ['expectedDiskSha256', 'expectedDigestMapSha256'] as const) {
    const value = meta[field] ?? null
    if (value !== null && (typeof value !== 'string' || !SHA256_HEX.test(value))) return `bad ${field}`
  }
  if ((meta.expectedDiskSha256 ?? null) === null && (meta.expectedDigestMapSha256 ?? null) === null) return 'neither expectedDiskSha256 nor expectedDigestMapSha256'
  return null
}

function checkName(what: 'vm' | 'disk', name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BackupRepositoryError(`bad ${what} name ${JSON.stringify(name)}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'`)
  }
  return name
}

function parseId(id: string): { vm: string; disk: string; seq: number } {
  const parts = typeof id === 'string' ? id.split('/') : []
  const seq = Number(parts[2])
  if (parts.length !== 3 || !NAME.test(parts[0]) || !NAME.test(parts[1]) || !/^\d{1,6}$/.test(parts[2]) || seq < 1) {
    throw new BackupRepositoryError(`bad restore point id ${JSON.stringify(id)}: expected vm/disk/seq, e.g. vm-1/disk0.vhdx/000001`)
  }
  return { vm: parts[0], disk: parts[1], seq }
}

function seqName(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0')
}

/** Names of the sub-folders of a folder, sorted; none if the folder does not exist. */
function childFolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return []
    throw new BackupRepositoryError(`cannot list ${dir}: ${messageOf(err)}`)
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}

function digestAt(digests: Buffer, block: number): Buffer {
  return digests.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES)
}

function sha256OfFile(path: string): string {
  const hash = createHash('sha256')
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES)
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) hash.update(buf.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

/** Writes a new file durably and read-only; returns the sha256 of what it wrote. */
function writeReadOnlyFile(path: string, chunks: readonly Buffer[]): string {
  const hash = createHash('sha256')
  const fd = openSync(path, 'wx', 0o444)
  try {
    for (const chunk of chunks) {
      writeAllSync(fd, chunk)
      hash.update(chunk)
    }
    fsyncSync(fd)
    // The creation mode passes through the umask; fchmod makes it exactly 0o444.
    fchmodSync(fd, 0o444)
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}


/** Runs a file-system call, turning its error into a one-line BackupRepositoryError about `what`. */
function wrapFs<T>(what: string, call: () => T): T {
  try {
    return call()
  } catch (err) {
    if (err instanceof BackupRepositoryError) throw err
    throw new BackupRepositoryError(`${what}: ${messageOf(err)}`)
  }
}

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
