// A pure model of the per-block digests a virtual disk keeps as the guest writes: the sha256
// of every 64 KiB block (the RCT/CBT block, CBT_BLOCK_BYTES) of the guest-visible disk, so
// that a checkpoint states what the frozen disk must restore to (the sha256 of this map, which
// is also what a restore point's digests.bin hashes to) without reading the disk: a
// checkpoint's verify costs what changed, not the disk.
//
// Crash safety follows RCT's MRT (rct-tracker.ts): the map is persisted lazily (the .dig
// file, at checkpoints, merges and clean stops) and a journal of dirty 1 MiB regions (the
// .digj file) is persisted durably BEFORE a write reaches a region not yet marked. A host
// crash between a data write and the map's update therefore leaves the region marked, and
// load() marks every block of it stale: the adapter recomputes those blocks' digests from the
// disk (at most 1 MiB per region written since the last persist), never the whole disk.
// A block whose new content is not known in full after a write (a write covering part of it,
// or a write that failed) is stale too until the adapter reads it back; the persisted map
// carries a stale bit per block, so the journal mark can be cleared once the map is on disk.
//
// Caller contract (the adapter around the virtual disk does the IO):
// - beforeWrite() true -> persist encodeJournal() durably, then send the write;
// - afterWrite() once the write is acknowledged (with the whole content of any block the
//   adapter read anyway), writeFailed() if it failed;
// - staleBlocks() -> read each and refresh() it before digestMapSha256();
// - encode(), persist it, persisted(), persist encodeJournal().
//
// File formats (all integers little-endian; the last 32 bytes are the sha256 of the rest):
//   .dig   0 magic 'BDG1' | 4 u16 version=1 | 6 u16 0 | 8 u64 diskBytes | 16 u32 blockBytes
//          20 u32 blocks | 24 blocks x 32-byte sha256 | then ceil(blocks / 8) bytes: bit
//          (b % 8) of byte floor(b / 8) marks block b stale | then 32 bytes sha256
//   .digj  0 magic 'BDJ1' | 4 u16 version=1 | 6 u16 0 | 8 u64 diskBytes | 16 u32 regions
//          20 ceil(regions / 8) bytes: bit (r % 8) of byte floor(r / 8) marks region r dirty
//          then 32 bytes sha256
// No IO, clock or randomness here; hashing is computation.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { RegionMarks } from './region-marks.js'
import { CBT_BLOCK_BYTES, MRT_REGION_BYTES } from './rct-tracker.js'

export const DIGEST_BYTES = 32
/** The journal's region: as RCT's MRT, so a recovery reads at most 1 MiB per region written. */
export const DIGEST_REGION_BYTES = MRT_REGION_BYTES

const BLOCKS_PER_REGION = DIGEST_REGION_BYTES / CBT_BLOCK_BYTES
const MAP_MAGIC = 'BDG1'
const JOURNAL_MAGIC = 'BDJ1'
const FORMAT_VERSION = 1
const MAP_HEADER_BYTES = 24
const JOURNAL_HEADER_BYTES = 20
const SHA256_BYTES = 32

export type DigestsLoadResult =
  | {
      ok: true
      digests: BlockDigests
      /** Regions the journal named: a write may have reached them after the map was saved. */
      recoveredRegions: number
      /** Why every block is stale ('' when the map file was read). */
      rebuildReason: string
    }
  | { ok: false; reason: string }

export class BlockDigests {
  readonly diskBytes: number
  readonly blocks: number
  readonly regions: number
  /** 32 bytes per block, block order. */
  private readonly map: Buffer
  /** Per block, 1 when its digest is not known: recompute it from the disk. */
  private readonly stale: Uint8Array
  private staleCount = 0
  /** The journal: regions marked before a write reaches them, cleared by persisted(). */
  private readonly journal: RegionMarks

  private constructor(diskBytes: number, map: Buffer, stale: Uint8Array) {
    this.diskBytes = diskBytes
    this.blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
    this.regions = Math.ceil(diskBytes / DIGEST_REGION_BYTES)
    assert.equal(map.length, this.blocks * DIGEST_BYTES, 'digest map size')
    assert.equal(stale.length, this.blocks, 'stale map size')
    this.map = map
    this.stale = stale
    for (let b = 0; b < this.blocks; b++) this.staleCount += stale[b]
    this.journal = new RegionMarks(this.regions)
  }

  /** The digests of a new disk of zeros: no IO needed, every block's digest is known. */
  static create(diskBytes: number): BlockDigests {
    assert.ok(Number.isSafeInteger(diskBytes) && diskBytes > 0, `diskBytes must be a positive integer, got ${diskBytes}`)
    const blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
    const map = Buffer.alloc(blocks * DIGEST_BYTES)
    const zeros = sha256(Buffer.alloc(CBT_BLOCK_BYTES))
    for (let b = 0; b < blocks; b++) zeros.copy(map, b * DIGEST_BYTES)
    const lastBytes = diskBytes - (blocks - 1) * CBT_BLOCK_BYTES
    if (lastBytes !== CBT_BLOCK_BYTES) sha256(Buffer.alloc(lastBytes)).copy(map, (blocks - 1) * DIGEST_BYTES)
    return new BlockDigests(diskBytes, map, new Uint8Array(blocks))
  }

  /** Every block stale: a disk whose map was lost, or never kept (made before digests were). */
  static unknown(diskBytes: number): BlockDigests {
    assert.ok(Number.isSafeInteger(diskBytes) && diskBytes > 0, `diskBytes must be a positive integer, got ${diskBytes}`)
    const blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
    return new BlockDigests(diskBytes, Buffer.alloc(blocks * DIGEST_BYTES), new Uint8Array(blocks).fill(1))
  }

  /**
   * Loads the persisted files of a disk of diskBytes. A missing, corrupt or foreign map makes
   * every block stale (rebuildReason says why); a corrupt or foreign journal too, since the
   * regions written since the map was saved are then unknown. A journal's regions make their
   * blocks stale, and stay marked until the next persisted() so that a second crash before
   * then recovers them again. Never throws on bad files.
   */
  static load(diskBytes: number, mapFile: Buffer | null, journalFile: Buffer | null): DigestsLoadResult {
    if (!(Number.isSafeInteger(diskBytes) && diskBytes > 0)) return { ok: false, reason: `bad disk size ${diskBytes}` }
    const parsed = mapFile === null || mapFile.length === 0 ? { ok: false as const, reason: 'no digest map next to the disk' } : parseMap(mapFile, diskBytes)
    if (!parsed.ok) return { ok: true, digests: BlockDigests.unknown(diskBytes), recoveredRegions: 0, rebuildReason: parsed.reason }
    const digests = new BlockDigests(diskBytes, parsed.map, parsed.stale)
    if (journalFile === null || journalFile.length === 0) return { ok: true, digests, recoveredRegions: 0, rebuildReason: '' }
    const marks = parseJournal(journalFile, diskBytes)
    if (!marks.ok) return { ok: true, digests: BlockDigests.unknown(diskBytes), recoveredRegions: 0, rebuildReason: marks.reason }
    let recoveredRegions = 0
    for (let r = 0; r < digests.regions; r++) {
      if (!marks.regions[r]) continue
      recoveredRegions++
      digests.journal.restore(r)
      const end = Math.min(digests.blocks, (r + 1) * BLOCKS_PER_REGION)
      for (let b = r * BLOCKS_PER_REGION; b < end; b++) digests.markStale(b)
    }
    return { ok: true, digests, recoveredRegions, rebuildReason: '' }
  }

  /** Bytes of block b (the last one may be partial). */
  blockBytes(block: number): number {
    assert.ok(Number.isInteger(block) && block >= 0 && block < this.blocks, `block ${block} outside the disk`)
    return Math.min(CBT_BLOCK_BYTES, this.diskBytes - block * CBT_BLOCK_BYTES)
  }

  /**
   * Call before a write is sent to the disk. Returns true when a region not yet marked got
   * marked: the caller must persist encodeJournal() durably before sending the write.
   */
  beforeWrite(offset: number, length: number): boolean {
    this.assertRange(offset, length)
    if (length === 0) return false
    const [first, last] = this.regionSpan(offset, length)
    return this.journal.begin(first, last)
  }

  /**
   * Call once the write of `data` at `offset` was acknowledged. A block the write covers whole
   * gets the digest of its new bytes; a block it covers in part gets the digest of the block's
   * whole new content when the caller has it in `wholeBlocks` (block -> bytes after the write),
   * and is stale otherwise.
   */
  afterWrite(offset: number, data: Buffer, wholeBlocks?: ReadonlyMap<number, Buffer>): void {
    this.assertRange(offset, data.length)
    if (data.length === 0) return
    this.endWrite(offset, data.length)
    const end = offset + data.length
    for (let block = Math.floor(offset / CBT_BLOCK_BYTES); block * CBT_BLOCK_BYTES < end; block++) {
      const start = block * CBT_BLOCK_BYTES
      const bytes = this.blockBytes(block)
      const whole = wholeBlocks?.get(block)
      if (start >= offset && start + bytes <= end) this.setDigest(block, sha256(data.subarray(start - offset, start - offset + bytes)))
      else if (whole !== undefined) {
        assert.equal(whole.length, bytes, `block ${block} content size`)
        this.setDigest(block, sha256(whole))
      } else this.markStale(block)
    }
  }

  /** Call when a write failed: it may have changed some of its blocks, so they are all stale. */
  writeFailed(offset: number, length: number): void {
    this.assertRange(offset, length)
    if (length === 0) return
    this.endWrite(offset, length)
    const end = offset + length
    for (let block = Math.floor(offset / CBT_BLOCK_BYTES); block * CBT_BLOCK_BYTES < end; block++) this.markStale(block)
  }

  /** Blocks whose digest must be recomputed from the disk, ascending. */
  staleBlocks(): number[] {
    const out: number[] = []
    for (let b = 0; b < this.blocks && out.length < this.staleCount; b++) if (this.stale[b]) out.push(b)
    return out
  }

  get staleBlockCount(): number {
    return this.staleCount
  }

  /** The adapter read a stale block back (with no write to it in flight): its digest is known again. */
  refresh(block: number, content: Buffer): void {
    assert.equal(content.length, this.blockBytes(block), `block ${block} content size`)
    assert.equal(this.journal.writesInFlight(Math.floor(block / BLOCKS_PER_REGION)), 0, `refresh of block ${block} while a write to its region is in flight`)
    this.setDigest(block, sha256(content))
  }

  /** sha256 of block b's bytes; throws when it is stale. */
  digestOf(block: number): Buffer {
    assert.ok(this.blockBytes(block) > 0 && this.stale[block] === 0, `block ${block} is stale`)
    return Buffer.from(this.map.subarray(block * DIGEST_BYTES, (block + 1) * DIGEST_BYTES))
  }

  /** A copy of the map (32 bytes per block); every block must be known. */
  digestMap(): Buffer {
    assert.equal(this.staleCount, 0, 'refresh the stale blocks first')
    return Buffer.from(this.map)
  }

  /**
   * sha256 of the map: what a disk with these blocks restores to, and what a restore point's
   * digests.bin hashes to. Every block must be known (refresh the stale ones first).
   */
  digestMapSha256(): string {
    assert.equal(this.staleCount, 0, 'refresh the stale blocks first')
    return createHash('sha256').update(this.map).digest('hex')
  }

  /** Regions the journal marks now. */
  dirtyRegions(): number {
    return this.journal.count()
  }

  /** The map file, with the stale bit of every block; remembers which journal marks it covers. */
  encode(): Buffer {
    const body = Buffer.alloc(MAP_HEADER_BYTES + this.map.length + Math.ceil(this.blocks / 8))
    body.write(MAP_MAGIC, 0, 'latin1')
    body.writeUInt16LE(FORMAT_VERSION, 4)
    body.writeBigUInt64LE(BigInt(this.diskBytes), 8)
    body.writeUInt32LE(CBT_BLOCK_BYTES, 16)
    body.writeUInt32LE(this.blocks, 20)
    this.map.copy(body, MAP_HEADER_BYTES)
    const bitsAt = MAP_HEADER_BYTES + this.map.length
    for (let b = 0; b < this.blocks; b++) if (this.stale[b]) body[bitsAt + (b >> 3)] |= 1 << (b & 7)
    // A mark is covered when no write is in flight in its region: every block of it is in this
    // map with its digest or its stale bit. beforeWrite uncovers it again.
    this.journal.snapshotTaken()
    return withChecksum(body)
  }

  /** The caller persisted the latest encode() durably: the marks it covers are cleared. */
  persisted(): void {
    this.journal.snapshotPersisted('persisted() without an encode() before it')
  }

  encodeJournal(): Buffer {
    const body = Buffer.alloc(JOURNAL_HEADER_BYTES + Math.ceil(this.regions / 8))
    body.write(JOURNAL_MAGIC, 0, 'latin1')
    body.writeUInt16LE(FORMAT_VERSION, 4)
    body.writeBigUInt64LE(BigInt(this.diskBytes), 8)
    body.writeUInt32LE(this.regions, 16)
    this.journal.writeBits(body, JOURNAL_HEADER_BYTES)
    return withChecksum(body)
  }

  private endWrite(offset: number, length: number): void {
    const [first, last] = this.regionSpan(offset, length)
    this.journal.end(first, last, `end of write at ${offset}+${length}`)
  }

  private setDigest(block: number, digest: Buffer): void {
    digest.copy(this.map, block * DIGEST_BYTES)
    if (this.stale[block]) {
      this.stale[block] = 0
      this.staleCount--
    }
  }

  private markStale(block: number): void {
    if (!this.stale[block]) {
      this.stale[block] = 1
      this.staleCount++
    }
  }

  private assertRange(offset: number, length: number): void {
    assert.ok(Number.isSafeInteger(offset) && offset >= 0, `bad write offset ${offset}`)
    assert.ok(Number.isSafeInteger(length) && length >= 0, `bad write length ${length}`)
    assert.ok(offset + length <= this.diskBytes, `write ${offset}+${length} beyond the disk's ${this.diskBytes} bytes`)
  }

  private regionSpan(offset: number, length: number): [number, number] {
    return [Math.floor(offset / DIGEST_REGION_BYTES), Math.floor((offset + length - 1) / DIGEST_REGION_BYTES)]
  }
}

/** sha256 of every block's digest in order: what BlockDigests.digestMapSha256 gives for the same bytes. */
export function digestMapSha256Of(image: Buffer): string {
  const map = createHash('sha256')
  for (let at = 0; at < image.length; at += CBT_BLOCK_BYTES) map.update(sha256(image.subarray(at, Math.min(image.length, at + CBT_BLOCK_BYTES))))
  return map.digest('hex')
}

// ---- the file formats ----

type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string }

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}

function withChecksum(body: Buffer): Buffer {
  return Buffer.concat([body, sha256(body)])
}

function openFile(kind: string, file: Buffer, magic: string, headerBytes: number, diskBytes: number): Parsed<{ body: Buffer }> {
  if (file.length < headerBytes + SHA256_BYTES) return { ok: false, reason: `${kind} truncated (${file.length} bytes)` }
  if (file.toString('latin1', 0, 4) !== magic) return { ok: false, reason: `${kind} has a bad magic` }
  const version = file.readUInt16LE(4)
  if (version !== FORMAT_VERSION) return { ok: false, reason: `${kind} version ${version} not supported (expected ${FORMAT_VERSION})` }
  const body = file.subarray(0, file.length - SHA256_BYTES)
  if (!sha256(body).equals(file.subarray(file.length - SHA256_BYTES))) return { ok: false, reason: `${kind} checksum mismatch` }
  const fileDiskBytes = file.readBigUInt64LE(8)
  if (fileDiskBytes !== BigInt(diskBytes)) return { ok: false, reason: `${kind} is for a ${fileDiskBytes}-byte disk, not ${diskBytes}` }
  return { ok: true, body }
}

function parseMap(file: Buffer, diskBytes: number): Parsed<{ map: Buffer; stale: Uint8Array }> {
  const opened = openFile('digest map', file, MAP_MAGIC, MAP_HEADER_BYTES, diskBytes)
  if (!opened.ok) return opened
  const { body } = opened
  const blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
  if (body.readUInt32LE(16) !== CBT_BLOCK_BYTES || body.readUInt32LE(20) !== blocks) return { ok: false, reason: 'digest map is for another block size or block count' }
  if (body.length !== MAP_HEADER_BYTES + blocks * DIGEST_BYTES + Math.ceil(blocks / 8)) return { ok: false, reason: 'digest map size does not match its header' }
  const map = Buffer.from(body.subarray(MAP_HEADER_BYTES, MAP_HEADER_BYTES + blocks * DIGEST_BYTES))
  const bitsAt = MAP_HEADER_BYTES + blocks * DIGEST_BYTES
  const stale = new Uint8Array(blocks)
  for (let b = 0; b < blocks; b++) stale[b] = (body[bitsAt + (b >> 3)] >> (b & 7)) & 1
  return { ok: true, map, stale }
}

function parseJournal(file: Buffer, diskBytes: number): Parsed<{ regions: Uint8Array }> {
  const opened = openFile('digest journal', file, JOURNAL_MAGIC, JOURNAL_HEADER_BYTES, diskBytes)
  if (!opened.ok) return opened
  const { body } = opened
  const regions = Math.ceil(diskBytes / DIGEST_REGION_BYTES)
  if (body.readUInt32LE(16) !== regions || body.length !== JOURNAL_HEADER_BYTES + Math.ceil(regions / 8)) return { ok: false, reason: 'digest journal size does not match its header' }
  const marks = new Uint8Array(regions)
  for (let r = 0; r < regions; r++) marks[r] = (body[JOURNAL_HEADER_BYTES + (r >> 3)] >> (r & 7)) & 1
  return { ok: true, regions: marks }
}
