// The block digests a virtual disk keeps as the guest writes: a write gives its blocks their
// digests (or makes them stale when only part of a block is known); a host crash between the
// data write and the map's update is recovered by reading back only the journal's regions;
// the map's sha256 is the sha256 of each block's sha256, as a restore point's digests.bin;
// damaged files never throw. Then a property test: random writes, partial writes, failed
// writes, persists and crashes at any step, against a disk image kept in memory — after a
// recovery that reads only the stale blocks, the map always equals the image's.
import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { BlockDigests, DIGEST_REGION_BYTES, digestMapSha256Of } from '../../core/cbt/block-digests.js'
import { CBT_BLOCK_BYTES } from '../../core/cbt/rct-tracker.js'

const BLOCK = CBT_BLOCK_BYTES
const MiB = 1024 * 1024

function sha(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest()
}

/** A disk in memory, and the caller's side of the contract with the files it keeps durably. */
class Disk {
  readonly image: Buffer
  durableMap: Buffer
  durableJournal: Buffer
  /** Blocks read back for their digests since the last count. */
  blocksRead = 0
  constructor(
    readonly diskBytes: number,
    public digests: BlockDigests = BlockDigests.create(diskBytes),
  ) {
    this.image = Buffer.alloc(diskBytes)
    this.durableMap = digests.encode()
    digests.persisted()
    this.durableJournal = digests.encodeJournal()
  }
  /** beforeWrite, journal persisted when asked: the data write may now reach the disk. */
  begin(offset: number, length: number): void {
    if (this.digests.beforeWrite(offset, length)) this.durableJournal = this.digests.encodeJournal()
  }
  write(offset: number, data: Buffer): void {
    this.begin(offset, data.length)
    data.copy(this.image, offset)
    this.digests.afterWrite(offset, data)
  }
  persist(): void {
    this.durableMap = this.digests.encode()
    this.digests.persisted()
    this.durableJournal = this.digests.encodeJournal()
  }
  /** Reads back every stale block, as the adapter does at a checkpoint or an open. */
  refresh(): void {
    for (const b of this.digests.staleBlocks()) {
      this.digests.refresh(b, this.image.subarray(b * BLOCK, Math.min(this.diskBytes, (b + 1) * BLOCK)))
      this.blocksRead++
    }
  }
  /** A host crash: memory is gone, the files and the image stay; the next host loads them. */
  crashAndReload(): ReturnType<typeof BlockDigests.load> {
    const loaded = BlockDigests.load(this.diskBytes, this.durableMap, this.durableJournal)
    if (loaded.ok) this.digests = loaded.digests
    return loaded
  }
}

t.test('a new disk: every block is the digest of zeros, known without reading', async (t) => {
  const d = new Disk(3 * BLOCK + 100)
  t.equal(d.digests.staleBlockCount, 0)
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image), 'the map of a zero image, partial last block included')
  t.same(d.digests.digestOf(3), sha(Buffer.alloc(100)), 'the partial last block is hashed at its real length')
})

t.test('write -> digest: whole blocks at once, partial blocks stale until read back', async (t) => {
  const d = new Disk(4 * MiB)
  const whole = Buffer.alloc(2 * BLOCK, 7)
  d.write(BLOCK, whole)
  t.equal(d.digests.staleBlockCount, 0, 'a block-aligned write needs no read')
  t.same(d.digests.digestOf(1), sha(whole.subarray(0, BLOCK)))
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image))

  d.write(5 * BLOCK + 10, Buffer.alloc(100, 9))
  t.same(d.digests.staleBlocks(), [5], 'a write into part of a block makes it stale')
  t.throws(() => d.digests.digestMapSha256(), /refresh the stale blocks first/, 'no map hash with a stale block')
  d.refresh()
  t.equal(d.blocksRead, 1, 'only that block is read back')
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image))

  // The adapter copied the block whole (a checkpoint's first write to it): no read back needed.
  const offset = 9 * BLOCK + 4096
  const piece = Buffer.alloc(4096, 3)
  d.begin(offset, piece.length)
  piece.copy(d.image, offset)
  d.digests.afterWrite(offset, piece, new Map([[9, Buffer.from(d.image.subarray(9 * BLOCK, 10 * BLOCK))]]))
  t.equal(d.digests.staleBlockCount, 0, 'the whole block given with the write is hashed')
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image))
})

t.test('the journal is persisted before a write reaches a new region, once per region', async (t) => {
  const digests = BlockDigests.create(4 * MiB)
  t.equal(digests.beforeWrite(0, BLOCK), true, 'first write to region 0: persist the journal first')
  digests.afterWrite(0, Buffer.alloc(BLOCK))
  t.equal(digests.beforeWrite(BLOCK, BLOCK), false, 'region 0 is marked already')
  digests.afterWrite(BLOCK, Buffer.alloc(BLOCK))
  t.equal(digests.beforeWrite(DIGEST_REGION_BYTES - 10, 20), true, 'a write across into region 1 marks it')
  digests.afterWrite(DIGEST_REGION_BYTES - 10, Buffer.alloc(20))
  t.equal(digests.dirtyRegions(), 2)
  digests.encode()
  digests.persisted()
  t.equal(digests.dirtyRegions(), 0, 'the persisted map covers them')
})

t.test('crash between the data write and the digest update: recovered from the journal', async (t) => {
  const d = new Disk(16 * MiB)
  d.write(2 * MiB, Buffer.alloc(BLOCK, 1))
  d.persist()
  // The next write: journal persisted, data on the disk, then the host dies before afterWrite.
  const offset = 5 * MiB + 3 * BLOCK
  d.begin(offset, BLOCK)
  Buffer.alloc(BLOCK, 0xab).copy(d.image, offset)
  const loaded = d.crashAndReload()
  t.ok(loaded.ok)
  if (!loaded.ok) return
  t.equal(loaded.recoveredRegions, 1, 'the journal named the region')
  t.equal(loaded.rebuildReason, '')
  t.same(d.digests.staleBlocks(), Array.from({ length: DIGEST_REGION_BYTES / BLOCK }, (_, i) => 5 * (DIGEST_REGION_BYTES / BLOCK) + i), 'every block of that region, nothing else')
  d.refresh()
  t.equal(d.blocksRead, DIGEST_REGION_BYTES / BLOCK, 'recovery reads 1 MiB, not the 16 MiB disk')
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image), 'the map holds the write the old host never hashed')

  // A second crash before the recovered map was persisted recovers the same region again.
  const again = d.crashAndReload()
  t.ok(again.ok && again.recoveredRegions === 1, 'the mark stays until the map is persisted')
  d.refresh()
  d.persist()
  const clean = d.crashAndReload()
  t.ok(clean.ok && clean.recoveredRegions === 0 && d.digests.staleBlockCount === 0, 'after a persist a reload is clean')
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image))
})

t.test('a crash after a partial write whose stale bit was persisted: the stale bit survives', async (t) => {
  const d = new Disk(4 * MiB)
  d.write(3 * BLOCK + 1, Buffer.alloc(10, 5))
  d.persist()
  t.equal(d.digests.dirtyRegions(), 0, 'the journal is clear: the map itself says block 3 is stale')
  d.crashAndReload()
  t.same(d.digests.staleBlocks(), [3])
  d.refresh()
  t.equal(d.digests.digestMapSha256(), digestMapSha256Of(d.image))
})

t.test('a failed write makes its blocks stale; a write in flight keeps its region marked', async (t) => {
  const d = new Disk(4 * MiB)
  d.begin(0, 2 * BLOCK)
  Buffer.alloc(BLOCK, 1).copy(d.image, 0) // half of it reached the disk
  d.digests.writeFailed(0, 2 * BLOCK)
  t.same(d.digests.staleBlocks(), [0, 1])
  d.begin(2 * MiB, BLOCK)
  const snapshot = d.digests.encode()
  d.digests.persisted()
  t.equal(d.digests.dirtyRegions(), 1, 'the region with a write in flight stays marked')
  const loaded = BlockDigests.load(4 * MiB, snapshot, d.digests.encodeJournal())
  t.ok(loaded.ok && loaded.recoveredRegions === 1)
  t.throws(() => d.digests.refresh(2 * MiB / BLOCK, Buffer.alloc(BLOCK)), /in flight/, 'no refresh under a write in flight')
})

t.test('missing, damaged or foreign files: every block stale, never a throw', async (t) => {
  const d = new Disk(2 * MiB)
  d.write(0, Buffer.alloc(BLOCK, 1))
  d.persist()
  const flip = (b: Buffer, at: number): Buffer => {
    const c = Buffer.from(b)
    c[at] ^= 1
    return c
  }
  const cases: Array<[string, Buffer | null, Buffer | null, RegExp]> = [
    ['no map', null, d.durableJournal, /no digest map/],
    ['an empty map', Buffer.alloc(0), d.durableJournal, /no digest map/],
    ['a damaged map', flip(d.durableMap, 40), d.durableJournal, /checksum/],
    ['a truncated map', d.durableMap.subarray(0, 30), d.durableJournal, /truncated/],
    ["another disk's map", BlockDigests.create(4 * MiB).encode(), null, /4194304-byte disk/],
    ['a damaged journal', d.durableMap, flip(d.durableJournal, 20), /journal checksum/],
    ['an RCT file as the map', Buffer.from('RCT1garbage'.padEnd(80, 'x')), null, /bad magic/],
  ]
  for (const [what, map, journal, reason] of cases) {
    const loaded = BlockDigests.load(2 * MiB, map, journal)
    t.ok(loaded.ok, `${what}: loads`)
    if (!loaded.ok) continue
    t.match(loaded.rebuildReason, reason, `${what}: says why`)
    t.equal(loaded.digests.staleBlockCount, 32, `${what}: every block is read back`)
  }
  t.same(BlockDigests.load(0, null, null), { ok: false, reason: 'bad disk size 0' })
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 60 }), (map, journal) => {
      const loaded = BlockDigests.load(2 * MiB, Buffer.from(map), Buffer.from(journal))
      return loaded.ok
    }),
    { numRuns: 300 },
  )
})

t.test('property: after any writes, persists and crashes, a recovery that reads only stale blocks gives the image map', async (t) => {
  const diskBytes = 4 * MiB + 5000
  const step = fc.oneof(
    fc.record({ kind: fc.constant('write' as const), offset: fc.nat(diskBytes - 1), length: fc.integer({ min: 1, max: 3 * BLOCK }), byte: fc.integer({ min: 1, max: 255 }), whole: fc.boolean() }),
    fc.record({ kind: fc.constant('torn' as const), offset: fc.nat(diskBytes - 1), length: fc.integer({ min: 1, max: 3 * BLOCK }), byte: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('crash-mid-write' as const), offset: fc.nat(diskBytes - 1), length: fc.integer({ min: 1, max: 3 * BLOCK }), byte: fc.integer({ min: 1, max: 255 }) }),
    fc.constant({ kind: 'persist' as const }),
    fc.constant({ kind: 'crash' as const }),
    fc.constant({ kind: 'checkpoint' as const }),
  )
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const d = new Disk(diskBytes)
      for (const s of steps) {
        if (s.kind === 'persist') d.persist()
        else if (s.kind === 'crash') d.crashAndReload()
        else if (s.kind === 'checkpoint') {
          d.refresh()
          if (d.digests.digestMapSha256() !== digestMapSha256Of(d.image)) return false
        } else {
          const length = Math.min(s.length, diskBytes - s.offset)
          const data = Buffer.alloc(length, s.byte)
          d.begin(s.offset, length)
          if (s.kind === 'write') {
            data.copy(d.image, s.offset)
            // Sometimes the caller knows the whole blocks the write touched (a checkpoint's copy).
            const wholeBlocks = new Map<number, Buffer>()
            if (s.whole) for (let b = Math.floor(s.offset / BLOCK); b * BLOCK < s.offset + length; b++) wholeBlocks.set(b, Buffer.from(d.image.subarray(b * BLOCK, Math.min(diskBytes, (b + 1) * BLOCK))))
            d.digests.afterWrite(s.offset, data, wholeBlocks)
          } else if (s.kind === 'torn') {
            data.subarray(0, Math.ceil(length / 2)).copy(d.image, s.offset)
            d.digests.writeFailed(s.offset, length)
          } else {
            data.copy(d.image, s.offset)
            d.crashAndReload()
          }
        }
      }
      d.crashAndReload()
      d.refresh()
      return d.digests.digestMapSha256() === digestMapSha256Of(d.image)
    }),
    { numRuns: 100 },
  )
  t.pass('the map always equals the image after recovery')
})
