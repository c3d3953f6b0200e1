// A pure model of Hyper-V Resilient Change Tracking (RCT) for one virtual disk, so that the
// backup path can be tested against host crashes without a Hyper-V host. It keeps two maps:
// - the per-block map (the .rct file, also held in memory): for every 64 KiB block, the
//   generation of its last acknowledged write (0 = never written). A reference point
//   freezes a copy of it and starts a new generation; changes between two reference
//   points are the blocks whose frozen generation lies in (since, target].
// - the Modified Region Table (the .mrt file): one mark per 1 MiB region, persisted
//   durably BEFORE a write reaches the disk. The .rct file is written lazily, so after a
//   host crash it may lack recent writes; every region the MRT lists is then treated as
//   changed. That costs some extra bytes in the next incremental but never misses a change.
//
// Caller contract (the adapter around the virtual disk does the IO):
// - beforeWrite() true -> persist encodeMrt() durably, then send the write;
// - afterWrite() once the write is acknowledged, or failed (a failed write may still have
//   changed some blocks);
// - referencePoint() -> persist encodeRct() before handing the id to anybody: an id whose
//   reference point never reached the .rct file is lost in a crash and would be issued again;
// - encodeRct(), persist it, rctPersisted(), persist encodeMrt(). rctPersisted() refers to
//   the latest encodeRct(), and clears only the marks that snapshot covers.
//
// File formats (all integers little-endian; the last 32 bytes are the sha256 of the rest):
//   .rct  0 magic 'RCT1' | 4 u16 version=1 | 6 u16 idBytes | 8 u64 diskBytes
//         16 u32 generation | 20 u32 frozenCount | 24 trackingId (utf8, idBytes)
//         then blocks x u32: the current per-block map
//         then frozenCount x (u32 generation, blocks x u32 map), oldest first
//         then 32 bytes sha256
//   .mrt  0 magic 'MRT1' | 4 u16 version=1 | 6 u16 idBytes | 8 u64 diskBytes
//         16 u32 regions | 20 trackingId (utf8, idBytes)
//         then ceil(regions / 8) bytes: bit (r % 8) of byte floor(r / 8) marks region r
//         then 32 bytes sha256
// No IO, clock or randomness here; hashing is computation.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { RegionMarks } from './region-marks.js'

export const CBT_BLOCK_BYTES = 64 * 1024
export const MRT_REGION_BYTES = 1024 * 1024
/** Reference points whose frozen per-block map is kept; older ones can no longer be a target. */
export const REFERENCE_POINTS_KEPT = 8

const BLOCKS_PER_REGION = MRT_REGION_BYTES / CBT_BLOCK_BYTES
const RCT_MAGIC = 'RCT1'
const MRT_MAGIC = 'MRT1'
const FORMAT_VERSION = 1
const RCT_HEADER_BYTES = 24
const MRT_HEADER_BYTES = 20
const SHA256_BYTES = 32
const MAX_GENERATION = 0xffff_ffff
const MAX_ID_BYTES = 0xffff

/** Bytes, block-aligned (the last block may end at the disk's end), merged, sorted. */
export interface ChangedRange {
  readonly offset: number
  readonly length: number
}
export type ChangesResult = { ok: true; ranges: ChangedRange[]; changedBytes: number } | { ok: false; reason: string }
export type LoadResult = { ok: true; tracker: RctTracker; recoveredRegions: number } | { ok: false; reason: string }

interface FrozenMap {
  readonly generation: number
  readonly map: Uint32Array
}

export class RctTracker {
  readonly trackingId: string
  readonly diskBytes: number
  private readonly blocks: number
  private readonly regions: number
  private gen: number
  /** Per block, the generation of its last acknowledged write; 0 = never written. */
  private readonly map: Uint32Array
  /** Oldest first, at most REFERENCE_POINTS_KEPT. */
  private readonly frozen: FrozenMap[]
  /** The MRT: regions marked before a write reaches them, cleared by rctPersisted(). */
  private readonly mrt: RegionMarks

  private constructor(diskBytes: number, trackingId: string, generation: number, map: Uint32Array, frozen: FrozenMap[]) {
    this.diskBytes = diskBytes
    this.trackingId = trackingId
    this.blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
    this.regions = Math.ceil(diskBytes / MRT_REGION_BYTES)
    assert.equal(map.length, this.blocks, 'per-block map size')
    this.gen = generation
    this.map = map
    this.frozen = frozen
    this.mrt = new RegionMarks(this.regions)
  }

  /** A new tracking session for a disk of diskBytes (the last block may be partial). */
  static create(diskBytes: number, trackingId: string): RctTracker {
    assert.ok(Number.isSafeInteger(diskBytes) && diskBytes > 0, `diskBytes must be a positive integer, got ${diskBytes}`)
    assert.ok(trackingId.length > 0, 'a tracking id is not empty')
    assert.ok(Buffer.byteLength(trackingId, 'utf8') <= MAX_ID_BYTES, 'tracking id too long')
    return new RctTracker(diskBytes, trackingId, 1, new Uint32Array(Math.ceil(diskBytes / CBT_BLOCK_BYTES)), [])
  }

  /**
   * Loads the persisted files. A null or all-clear MRT means a clean stop. A corrupt,
   * truncated or foreign file gives a typed error, not a throw. When the MRT lists regions
   * (an unclean stop), every block of those regions is marked changed in the current
   * generation, and the marks stay until the next rctPersisted() so that a second crash
   * before then recovers them again.
   */
  static load(rct: Buffer, mrt: Buffer | null): LoadResult {
    const parsed = parseRct(rct)
    if (!parsed.ok) return parsed
    const tracker = new RctTracker(parsed.diskBytes, parsed.trackingId, parsed.generation, parsed.map, parsed.frozen)
    if (mrt === null) return { ok: true, tracker, recoveredRegions: 0 }
    const marks = parseMrt(mrt)
    if (!marks.ok) return marks
    if (marks.trackingId !== tracker.trackingId) return { ok: false, reason: 'mrt file from another tracking session' }
    if (marks.diskBytes !== tracker.diskBytes) return { ok: false, reason: `mrt file for another disk size (${marks.diskBytes} bytes, rct says ${tracker.diskBytes})` }
    let recoveredRegions = 0
    for (let r = 0; r < tracker.regions; r++) {
      if (!marks.regions[r]) continue
      recoveredRegions++
      tracker.mrt.restore(r)
      const end = Math.min(tracker.blocks, (r + 1) * BLOCKS_PER_REGION)
      tracker.map.fill(tracker.gen, r * BLOCKS_PER_REGION, end)
    }
    return { ok: true, tracker, recoveredRegions }
  }

  get generation(): number {
    return this.gen
  }

  /**
   * Call before a write is sent to the disk. Returns true when a region not yet marked got
   * marked: the caller must persist encodeMrt() durably before sending the write.
   */
  beforeWrite(offset: number, length: number): boolean {
    this.assertRange(offset, length)
    if (length === 0) return false
    const [first, last] = this.regionSpan(offset, length)
    return this.mrt.begin(first, last)
  }

  /** Call once the write was acknowledged: marks its blocks with the current generation (in memory). */
  afterWrite(offset: number, length: number): void {
    this.assertRange(offset, length)
    if (length === 0) return
    const [first, last] = this.regionSpan(offset, length)
    this.mrt.end(first, last, `afterWrite at ${offset}+${length}`)
    const firstBlock = Math.floor(offset / CBT_BLOCK_BYTES)
    const lastBlock = Math.floor((offset + length - 1) / CBT_BLOCK_BYTES)
    this.map.fill(this.gen, firstBlock, lastBlock + 1)
  }

  /**
   * A reference point (what a checkpoint converts into): returns the RCT id
   * `${trackingId}:${generation}`, keeps a frozen copy of the per-block map for it, then
   * starts a new generation. Persist encodeRct() before handing the id out.
   */
  referencePoint(): string {
    assert.ok(this.gen < MAX_GENERATION, 'generation counter exhausted')
    this.frozen.push({ generation: this.gen, map: this.map.slice() })
    if (this.frozen.length > REFERENCE_POINTS_KEPT) this.frozen.shift()
    const id = `${this.trackingId}:${this.gen}`
    this.gen++
    return id
  }

  /**
   * Blocks changed after sinceId up to and including reference point targetId. sinceId ''
   * means everything ever written (a full). The target's frozen map is what makes a block
   * changed in (since, target] appear even when it was written again after target. The
   * since point needs no frozen map, only its generation, so it may be an evicted one.
   */
  changesBetween(sinceId: string, targetId: string): ChangesResult {
    const target = this.parseId(targetId, 'target')
    if (!target.ok) return target
    let sinceGen = 0
    if (sinceId !== '') {
      const since = this.parseId(sinceId, 'since')
      if (!since.ok) return since
      sinceGen = since.generation
    }
    if (sinceGen > target.generation) {
      return { ok: false, reason: `since reference point ${sinceId} is newer than target ${targetId}` }
    }
    const frozen = this.frozen.find((f) => f.generation === target.generation)
    if (frozen === undefined) {
      return { ok: false, reason: `reference point ${targetId} is no longer kept (only the newest ${REFERENCE_POINTS_KEPT} are)` }
    }
    const ranges: ChangedRange[] = []
    let changedBytes = 0
    let runStart = -1
    const flush = (endBlock: number): void => {
      const offset = runStart * CBT_BLOCK_BYTES
      const length = Math.min(this.diskBytes, endBlock * CBT_BLOCK_BYTES) - offset
      ranges.push({ offset, length })
      changedBytes += length
      runStart = -1
    }
    for (let b = 0; b < this.blocks; b++) {
      const changed = frozen.map[b] > sinceGen
      if (changed && runStart < 0) runStart = b
      else if (!changed && runStart >= 0) flush(b)
    }
    if (runStart >= 0) flush(this.blocks)
    return { ok: true, ranges, changedBytes }
  }

  /**
   * Serialised per-block map, generation, tracking id and frozen reference points, with a
   * sha256. It also remembers which MRT marks this snapshot covers, for rctPersisted().
   */
  encodeRct(): Buffer {
    const idBytes = Buffer.from(this.trackingId, 'utf8')
    const body = Buffer.alloc(RCT_HEADER_BYTES + idBytes.length + this.blocks * 4 * (1 + this.frozen.length) + this.frozen.length * 4)
    body.write(RCT_MAGIC, 0, 'latin1')
    body.writeUInt16LE(FORMAT_VERSION, 4)
    body.writeUInt16LE(idBytes.length, 6)
    body.writeBigUInt64LE(BigInt(this.diskBytes), 8)
    body.writeUInt32LE(this.gen, 16)
    body.writeUInt32LE(this.frozen.length, 20)
    let at = RCT_HEADER_BYTES + idBytes.copy(body, RCT_HEADER_BYTES)
    at = writeMap(body, at, this.map)
    for (const f of this.frozen) {
      body.writeUInt32LE(f.generation, at)
      at = writeMap(body, at + 4, f.map)
    }
    assert.equal(at, body.length, 'rct encoding size')
    // A mark is covered when every write begun in its region was acknowledged, so its
    // blocks are in the map just encoded; beforeWrite uncovers it again.
    this.mrt.snapshotTaken()
    return withChecksum(body)
  }

  /** Serialised region marks with a sha256. */
  encodeMrt(): Buffer {
    const idBytes = Buffer.from(this.trackingId, 'utf8')
    const body = Buffer.alloc(MRT_HEADER_BYTES + idBytes.length + Math.ceil(this.regions / 8))
    body.write(MRT_MAGIC, 0, 'latin1')
    body.writeUInt16LE(FORMAT_VERSION, 4)
    body.writeUInt16LE(idBytes.length, 6)
    body.writeBigUInt64LE(BigInt(this.diskBytes), 8)
    body.writeUInt32LE(this.regions, 16)
    const bitsAt = MRT_HEADER_BYTES + idBytes.copy(body, MRT_HEADER_BYTES)
    this.mrt.writeBits(body, bitsAt)
    return withChecksum(body)
  }

  /**
   * The caller persisted the latest encodeRct() durably: the MRT marks it covers are no
   * longer needed and are cleared (the caller then persists the cleared encodeMrt()). Marks
   * of writes still in flight, or begun after that encodeRct(), stay.
   */
  rctPersisted(): void {
    this.mrt.snapshotPersisted('rctPersisted() without an encodeRct() before it')
  }

  /** Regions currently marked in the MRT. */
  markedRegions(): number {
    return this.mrt.count()
  }

  /** Reference point ids still kept as targets, oldest first. */
  referencePoints(): string[] {
    return this.frozen.map((f) => `${this.trackingId}:${f.generation}`)
  }

  private parseId(id: string, role: 'since' | 'target'): { ok: true; generation: number } | { ok: false; reason: string } {
    const colon = id.lastIndexOf(':')
    const genText = id.slice(colon + 1)
    if (colon <= 0 || !/^[1-9][0-9]{0,9}$/.test(genText)) {
      return { ok: false, reason: `malformed RCT id ${JSON.stringify(id)} (expected <tracking id>:<generation>)` }
    }
    if (id.slice(0, colon) !== this.trackingId) {
      return { ok: false, reason: `RCT id from another tracking session (tracking was reset): ${id}` }
    }
    const generation = Number(genText)
    if (generation >= this.gen) return { ok: false, reason: `${role} reference point ${id} was never issued` }
    return { ok: true, generation }
  }

  private assertRange(offset: number, length: number): void {
    assert.ok(Number.isSafeInteger(offset) && offset >= 0, `bad write offset ${offset}`)
    assert.ok(Number.isSafeInteger(length) && length >= 0, `bad write length ${length}`)
    assert.ok(offset + length <= this.diskBytes, `write ${offset}+${length} beyond the disk's ${this.diskBytes} bytes`)
  }

  private regionSpan(offset: number, length: number): [number, number] {
    return [Math.floor(offset / MRT_REGION_BYTES), Math.floor((offset + length - 1) / MRT_REGION_BYTES)]
  }
}

// ---- the file formats ----

type Parsed<T> = ({ ok: true } & T) | { ok: false; reason: string }

function writeMap(buf: Buffer, at: number, map: Uint32Array): number {
  for (let i = 0; i < map.length; i++, at += 4) buf.writeUInt32LE(map[i], at)
  return at
}

function withChecksum(body: Buffer): Buffer {
  return Buffer.concat([body, createHash('sha256').update(body).digest()])
}

/** Checks size, magic, version and checksum, common to both files; returns the body. */
function openFile(kind: 'rct' | 'mrt', file: Buffer, magic: string, headerBytes: number): Parsed<{ body: Buffer; idBytes: number; diskBytes: number }> {
  if (file.length < headerBytes + SHA256_BYTES) return { ok: false, reason: `${kind} file truncated (${file.length} bytes)` }
  if (file.toString('latin1', 0, 4) !== magic) return { ok: false, reason: `not an ${kind} file (bad magic)` }
  const version = file.readUInt16LE(4)
  if (version !== FORMAT_VERSION) return { ok: false, reason: `${kind} file version ${version} not supported (expected ${FORMAT_VERSION})` }
  const body = file.subarray(0, file.length - SHA256_BYTES)
  const sum = createHash('sha256').update(body).digest()
  if (!sum.equals(file.subarray(file.length - SHA256_BYTES))) return { ok: false, reason: `${kind} file checksum mismatch` }
  const diskBytes = file.readBigUInt64LE(8)
  if (diskBytes === 0n || diskBytes > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `${kind} file has an invalid disk size` }
  return { ok: true, body, idBytes: file.readUInt16LE(6), diskBytes: Number(diskBytes) }
}

function parseRct(file: Buffer): Parsed<{ trackingId: string; diskBytes: number; generation: number; map: Uint32Array; frozen: FrozenMap[] }> {
  const opened = openFile('rct', file, RCT_MAGIC, RCT_HEADER_BYTES)
  if (!opened.ok) return opened
  const { body, idBytes, diskBytes } = opened
  const generation = body.readUInt32LE(16)
  const frozenCount = body.readUInt32LE(20)
  const blocks = Math.ceil(diskBytes / CBT_BLOCK_BYTES)
  const expectedBytes = RCT_HEADER_BYTES + idBytes + blocks * 4 * (1 + frozenCount) + frozenCount * 4
  if (idBytes === 0 || body.length !== expectedBytes) return { ok: false, reason: 'rct file inconsistent: its size does not match its header' }
  if (generation === 0 || frozenCount > REFERENCE_POINTS_KEPT) return { ok: false, reason: 'rct file inconsistent: bad generation or reference point count' }
  const trackingId = body.toString('utf8', RCT_HEADER_BYTES, RCT_HEADER_BYTES + idBytes)
  let at = RCT_HEADER_BYTES + idBytes
  const map = readMap(body, at, blocks, generation)
  if (map === null) return { ok: false, reason: 'rct file inconsistent: a block newer than the generation' }
  at += blocks * 4
  const frozen: FrozenMap[] = []
  for (let i = 0; i < frozenCount; i++) {
    const g = body.readUInt32LE(at)
    const previous = frozen.length > 0 ? frozen[frozen.length - 1].generation : 0
    if (g <= previous || g >= generation) return { ok: false, reason: 'rct file inconsistent: reference points out of order' }
    const fmap = readMap(body, at + 4, blocks, g)
    if (fmap === null) return { ok: false, reason: 'rct file inconsistent: a frozen block newer than its reference point' }
    frozen.push({ generation: g, map: fmap })
    at += 4 + blocks * 4
  }
  return { ok: true, trackingId, diskBytes, generation, map, frozen }
}

function readMap(body: Buffer, at: number, blocks: number, maxGeneration: number): Uint32Array | null {
  const map = new Uint32Array(blocks)
  for (let i = 0; i < blocks; i++, at += 4) {
    const g = body.readUInt32LE(at)
    if (g > maxGeneration) return null
    map[i] = g
  }
  return map
}

function parseMrt(file: Buffer): Parsed<{ trackingId: string; diskBytes: number; regions: Uint8Array }> {
  const opened = openFile('mrt', file, MRT_MAGIC, MRT_HEADER_BYTES)
  if (!opened.ok) return opened
  const { body, idBytes, diskBytes } = opened
  const regions = body.readUInt32LE(16)
  if (idBytes === 0 || regions !== Math.ceil(diskBytes / MRT_REGION_BYTES) || body.length !== MRT_HEADER_BYTES + idBytes + Math.ceil(regions / 8)) {
    return { ok: false, reason: 'mrt file inconsistent: its size does not match its header' }
  }
  const trackingId = body.toString('utf8', MRT_HEADER_BYTES, MRT_HEADER_BYTES + idBytes)
  const bitsAt = MRT_HEADER_BYTES + idBytes
  const marks = new Uint8Array(regions)
  for (let r = 0; r < regions; r++) marks[r] = (body[bitsAt + (r >> 3)] >> (r & 7)) & 1
  return { ok: true, trackingId, diskBytes, regions: marks }
}
