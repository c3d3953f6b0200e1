// The RCT model: named scenarios for the per-block map, reference points, the MRT and the
// file formats, then a property test that drives random writes, reference points, clean
// reloads and host crashes and checks the one promise backups rely on: changesBetween never
// misses a block written in the interval, and adds nothing when no crash happened in it.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import {
  CBT_BLOCK_BYTES,
  REFERENCE_POINTS_KEPT,
  RctTracker,
  type ChangedRange,
  type ChangesResult,
} from '../../core/cbt/rct-tracker.js'

const KiB = 1024
const MiB = 1024 * KiB
const BLOCK = CBT_BLOCK_BYTES

/** The caller's side of the contract, with the files it keeps durably. */
class Host {
  durableRct: Buffer
  durableMrt: Buffer | null = null
  constructor(public tracker: RctTracker) {
    this.durableRct = tracker.encodeRct()
    tracker.rctPersisted()
    this.durableMrt = tracker.encodeMrt()
  }
  begin(offset: number, length: number): boolean {
    const marked = this.tracker.beforeWrite(offset, length)
    if (marked) this.durableMrt = this.tracker.encodeMrt()
    return marked
  }
  write(offset: number, length: number): boolean {
    const marked = this.begin(offset, length)
    this.tracker.afterWrite(offset, length)
    return marked
  }
  persist(): void {
    this.durableRct = this.tracker.encodeRct()
    this.tracker.rctPersisted()
    this.durableMrt = this.tracker.encodeMrt()
  }
  referencePoint(): string {
    const id = this.tracker.referencePoint()
    this.persist()
    return id
  }
}

function ok(t: Test, r: ChangesResult): ChangedRange[] {
  if (!r.ok) {
    t.fail(`changesBetween failed: ${r.reason}`)
    return []
  }
  t.equal(r.changedBytes, r.ranges.reduce((n, x) => n + x.length, 0), 'changedBytes is the sum of the ranges')
  return r.ranges
}

function blocksOf(ranges: readonly ChangedRange[]): number[] {
  const out: number[] = []
  for (const r of ranges) {
    for (let b = r.offset / BLOCK; b < Math.ceil((r.offset + r.length) / BLOCK); b++) out.push(b)
  }
  return out
}

t.test('writes, a reference point, the changes', async (t) => {
  const host = new Host(RctTracker.create(16 * MiB, 'vm1-disk0'))
  t.equal(host.tracker.generation, 1)
  host.write(0, 4 * KiB)
  host.write(5 * BLOCK, 2 * BLOCK)
  host.write(7 * BLOCK, BLOCK) // adjacent: joins the range before it
  host.write(10 * MiB, 4 * KiB)
  const rp1 = host.referencePoint()
  t.equal(rp1, 'vm1-disk0:1')
  t.equal(host.tracker.generation, 2)
  t.same(ok(t, host.tracker.changesBetween('', rp1)), [
    { offset: 0, length: BLOCK },
    { offset: 5 * BLOCK, length: 3 * BLOCK },
    { offset: 10 * MiB, length: BLOCK },
  ])
  host.write(BLOCK, 100)
  const rp2 = host.referencePoint()
  t.same(ok(t, host.tracker.changesBetween(rp1, rp2)), [{ offset: BLOCK, length: BLOCK }], 'only what changed after rp1')
  t.same(ok(t, host.tracker.changesBetween(rp2, rp2)), [], 'nothing between a point and itself')
})

t.test('a write after the target is excluded, a block changed before and again after is included', async (t) => {
  const host = new Host(RctTracker.create(4 * MiB, 'd'))
  const rp1 = host.referencePoint()
  host.write(3 * BLOCK, BLOCK) // changed in (rp1, rp2]
  const rp2 = host.referencePoint()
  host.write(3 * BLOCK, BLOCK) // again after rp2
  host.write(9 * BLOCK, BLOCK) // only after rp2
  t.same(ok(t, host.tracker.changesBetween(rp1, rp2)), [{ offset: 3 * BLOCK, length: BLOCK }], 'the frozen map keeps block 3 and drops block 9')
  const rp3 = host.referencePoint()
  t.same(blocksOf(ok(t, host.tracker.changesBetween(rp2, rp3))), [3, 9])
  t.same(blocksOf(ok(t, host.tracker.changesBetween(rp1, rp3))), [3, 9])
})

t.test('since "" is a full: everything ever written up to the target', async (t) => {
  const host = new Host(RctTracker.create(2 * MiB, 'd'))
  host.write(0, BLOCK)
  host.referencePoint()
  host.write(20 * BLOCK, BLOCK)
  const rp2 = host.referencePoint()
  host.write(30 * BLOCK, BLOCK)
  const r = host.tracker.changesBetween('', rp2)
  t.same(blocksOf(ok(t, r)), [0, 20], 'both earlier generations, not the later write')
  if (r.ok) t.equal(r.changedBytes, 2 * BLOCK)
  const empty = new Host(RctTracker.create(MiB, 'e'))
  t.same(ok(t, empty.tracker.changesBetween('', empty.referencePoint())), [], 'a disk never written has no changes')
})

t.test('unaligned writes mark every block they touch', async (t) => {
  const host = new Host(RctTracker.create(4 * MiB, 'd'))
  host.write(BLOCK - 1, 2) // the last byte of block 0 and the first of block 1
  host.write(10 * BLOCK + 7, 2 * BLOCK) // blocks 10, 11, 12
  host.write(MiB - 512, 1024) // across a region boundary: blocks 15 and 16
  const rp = host.referencePoint()
  t.same(blocksOf(ok(t, host.tracker.changesBetween('', rp))), [0, 1, 10, 11, 12, 15, 16])
  t.same(ok(t, host.tracker.changesBetween('', rp)), [
    { offset: 0, length: 2 * BLOCK },
    { offset: 10 * BLOCK, length: 3 * BLOCK },
    { offset: 15 * BLOCK, length: 2 * BLOCK },
  ])
  t.equal(host.tracker.markedRegions(), 0, 'the persist at the reference point cleared the MRT')
  const zero = new Host(RctTracker.create(MiB, 'z'))
  t.equal(zero.write(100, 0), false, 'a zero-length write marks nothing')
  t.same(ok(t, zero.tracker.changesBetween('', zero.referencePoint())), [])
  t.throws(() => host.tracker.beforeWrite(4 * MiB - 10, 11), 'a write beyond the disk is a programming error')
  t.throws(() => host.tracker.afterWrite(0, BLOCK), 'so is an afterWrite without beforeWrite')
})

t.test('the last block may be partial; its range ends at the disk end', async (t) => {
  const diskBytes = 3 * MiB + 5 * BLOCK + 1000
  const host = new Host(RctTracker.create(diskBytes, 'p'))
  host.write(diskBytes - 1, 1)
  host.write(diskBytes - 3000, 500) // the full block before the partial one
  const rp = host.referencePoint()
  const r = host.tracker.changesBetween('', rp)
  t.same(ok(t, r), [{ offset: 3 * MiB + 4 * BLOCK, length: BLOCK + 1000 }])
  if (r.ok) t.equal(r.changedBytes, BLOCK + 1000, 'no byte past the disk end')
  const reloaded = RctTracker.load(host.durableRct, host.durableMrt)
  t.ok(reloaded.ok)
  if (reloaded.ok) t.same(reloaded.tracker.changesBetween('', rp), r, 'the same after a reload')
})

t.test('beforeWrite returns true only when it marks a new region', async (t) => {
  const host = new Host(RctTracker.create(8 * MiB, 'd'))
  const tr = host.tracker
  t.equal(tr.beforeWrite(0, 4 * KiB), true, 'region 0 is new')
  tr.afterWrite(0, 4 * KiB)
  t.equal(tr.beforeWrite(MiB - 4 * KiB, 4 * KiB), false, 'region 0 again')
  tr.afterWrite(MiB - 4 * KiB, 4 * KiB)
  t.equal(tr.beforeWrite(MiB - 4 * KiB, 8 * KiB), true, 'spans into region 1')
  tr.afterWrite(MiB - 4 * KiB, 8 * KiB)
  t.equal(tr.beforeWrite(MiB, 2 * MiB + 1), true, 'regions 1, 2 and 3: two are new')
  tr.afterWrite(MiB, 2 * MiB + 1)
  t.equal(tr.markedRegions(), 4)
  t.equal(tr.beforeWrite(2 * MiB, MiB), false, 'inside marked regions')
  tr.afterWrite(2 * MiB, MiB)
  host.persist()
  t.equal(tr.markedRegions(), 0, 'rctPersisted clears the marks')
  t.equal(tr.beforeWrite(0, 1), true, 'so region 0 must be marked durably again')
  tr.afterWrite(0, 1)
})

t.test('rctPersisted keeps the marks of writes the snapshot may not hold', async (t) => {
  const host = new Host(RctTracker.create(8 * MiB, 'd'))
  const tr = host.tracker
  host.write(0, BLOCK) // region 0: acknowledged before the snapshot
  tr.beforeWrite(MiB, BLOCK) // region 1: in flight during the snapshot
  host.write(2 * MiB, BLOCK) // region 2: acknowledged before the snapshot...
  const snapshot = tr.encodeRct()
  t.equal(tr.beforeWrite(2 * MiB + BLOCK, BLOCK), false, '...and written again after it (already marked)')
  tr.afterWrite(2 * MiB + BLOCK, BLOCK)
  tr.afterWrite(MiB, BLOCK)
  tr.rctPersisted()
  t.equal(tr.markedRegions(), 2, 'regions 1 and 2 stay marked, region 0 is cleared')
  // A crash now: the snapshot lacks the two later writes, the MRT must bring them back.
  const crashed = RctTracker.load(snapshot, tr.encodeMrt())
  t.ok(crashed.ok)
  if (!crashed.ok) return
  t.equal(crashed.recoveredRegions, 2)
  const changes = crashed.tracker.changesBetween('', crashed.tracker.referencePoint())
  const blocks = new Set(blocksOf(ok(t, changes)))
  for (const b of [0, 16, 2 * 16 + 1]) t.ok(blocks.has(b), `block ${b} is in the changes`)
  t.throws(() => tr.rctPersisted(), 'a second rctPersisted without encodeRct is a programming error')
})

t.test('crash recovery: MRT regions come back as changed, far less than a full', async (t) => {
  const diskBytes = 64 * MiB
  const host = new Host(RctTracker.create(diskBytes, 'vm7-disk1'))
  host.write(0, 64 * MiB) // the initial copy of the disk
  const rp1 = host.referencePoint()
  const written = [
    [3 * MiB + 100, 4 * KiB],
    [17 * MiB, 128 * KiB],
    [40 * MiB - 2 * KiB, 4 * KiB], // spans regions 39 and 40
  ] as const
  for (const [offset, length] of written) host.write(offset, length)
  t.equal(host.tracker.markedRegions(), 4)
  // The host dies: the .rct on disk is the one persisted at rp1, the MRT lists 4 regions.
  const loaded = RctTracker.load(host.durableRct, host.durableMrt)
  t.ok(loaded.ok)
  if (!loaded.ok) return
  t.equal(loaded.recoveredRegions, 4)
  const tracker = loaded.tracker
  t.equal(tracker.generation, 2, 'the generation after rp1')
  t.equal(tracker.markedRegions(), 4, 'the marks stay until the next rctPersisted')
  const rp2 = tracker.referencePoint()
  const r = tracker.changesBetween(rp1, rp2)
  const blocks = blocksOf(ok(t, r))
  const expectedRegions = [3, 17, 39, 40]
  t.same(blocks, expectedRegions.flatMap((reg) => Array.from({ length: 16 }, (_, i) => reg * 16 + i)), 'every block of the marked regions')
  const changedBytes = r.ok ? r.changedBytes : 0
  const reallyChanged = 1 * BLOCK + 2 * BLOCK + 2 * BLOCK
  t.ok(changedBytes > reallyChanged, `more than really changed (${changedBytes} > ${reallyChanged})`)
  t.ok(changedBytes <= diskBytes / 16, `far less than the whole disk (${changedBytes} of ${diskBytes})`)
  t.same(tracker.changesBetween('', rp2), host.tracker.changesBetween('', host.referencePoint()), 'a full is a full either way')
  // A clean stop after recovery: the next load recovers nothing.
  const rct = tracker.encodeRct()
  tracker.rctPersisted()
  t.equal(tracker.markedRegions(), 0)
  const clean = RctTracker.load(rct, tracker.encodeMrt())
  t.ok(clean.ok && clean.recoveredRegions === 0, 'an all-clear MRT is a clean stop')
  const noMrt = RctTracker.load(rct, null)
  t.ok(noMrt.ok && noMrt.recoveredRegions === 0, 'so is a missing one')
})

t.test('reference points persist through encode and load', async (t) => {
  const host = new Host(RctTracker.create(4 * MiB, 'd'))
  host.write(0, BLOCK)
  const rp1 = host.referencePoint()
  host.write(BLOCK, BLOCK)
  const rp2 = host.referencePoint()
  host.write(0, BLOCK)
  host.persist()
  const loaded = RctTracker.load(host.durableRct, host.durableMrt)
  t.ok(loaded.ok)
  if (!loaded.ok) return
  t.equal(loaded.recoveredRegions, 0)
  t.same(loaded.tracker.referencePoints(), [rp1, rp2])
  t.equal(loaded.tracker.generation, 3)
  t.same(loaded.tracker.changesBetween(rp1, rp2), host.tracker.changesBetween(rp1, rp2))
  t.same(blocksOf(ok(t, loaded.tracker.changesBetween(rp2, loaded.tracker.referencePoint()))), [0], 'the write after rp2 was persisted')
  t.equal(loaded.tracker.encodeRct().length, host.durableRct.length + 4 + 64 * 4, 'one more frozen map')
})

t.test('corrupt, truncated and foreign files are typed errors', async (t) => {
  const host = new Host(RctTracker.create(3 * MiB + 7, 'vm1'))
  host.write(MiB, 10)
  host.referencePoint()
  host.write(0, 10)
  const rct = host.durableRct
  const mrt = host.tracker.encodeMrt()
  for (const at of [8, 30, rct.length - 40, rct.length - 1]) {
    const bad = Buffer.from(rct)
    bad[at] ^= 0x01
    t.same(RctTracker.load(bad, mrt), { ok: false, reason: 'rct file checksum mismatch' }, `a flipped bit at byte ${at}`)
  }
  const badMrt = Buffer.from(mrt)
  badMrt[21] ^= 0x80
  t.same(RctTracker.load(rct, badMrt), { ok: false, reason: 'mrt file checksum mismatch' })
  t.match(RctTracker.load(rct.subarray(0, 40), mrt), { ok: false, reason: /^rct file truncated/ })
  t.match(RctTracker.load(rct.subarray(0, rct.length - 1), mrt), { ok: false, reason: 'rct file checksum mismatch' })
  t.match(RctTracker.load(mrt, null), { ok: false, reason: 'not an rct file (bad magic)' })
  t.match(RctTracker.load(rct, rct), { ok: false, reason: 'not an mrt file (bad magic)' })
  t.match(RctTracker.load(Buffer.alloc(0), null), { ok: false, reason: /truncated/ })

  const other = new Host(RctTracker.create(3 * MiB + 7, 'vm2'))
  other.write(0, 1)
  t.same(RctTracker.load(rct, other.durableMrt), { ok: false, reason: 'mrt file from another tracking session' })
  const bigger = new Host(RctTracker.create(4 * MiB, 'vm1'))
  bigger.write(0, 1)
  t.match(RctTracker.load(rct, bigger.durableMrt), { ok: false, reason: /^mrt file for another disk size/ })
  t.ok(RctTracker.load(rct, mrt).ok, 'the genuine pair loads')
})

t.test('bad reference point ids are typed errors', async (t) => {
  const host = new Host(RctTracker.create(2 * MiB, 'vm1-disk0'))
  host.write(0, 1)
  const rp1 = host.referencePoint()
  const rp2 = host.referencePoint()
  const tr = host.tracker
  const reset = new Host(RctTracker.create(2 * MiB, 'vm1-disk0-reset'))
  const foreign = reset.referencePoint()
  t.match(tr.changesBetween(foreign, rp2), { ok: false, reason: /^RCT id from another tracking session \(tracking was reset\)/ })
  t.match(tr.changesBetween(rp1, foreign), { ok: false, reason: /^RCT id from another tracking session/ })
  t.match(reset.tracker.changesBetween('', rp1), { ok: false, reason: /another tracking session/ })
  t.match(tr.changesBetween(rp2, rp1), { ok: false, reason: /newer than target/ })
  for (const bad of ['vm1-disk0', 'vm1-disk0:', 'vm1-disk0:0', 'vm1-disk0:01', 'vm1-disk0:x', ':1', 'vm1-disk0:1.5']) {
    t.match(tr.changesBetween('', bad), { ok: false, reason: /^malformed RCT id/ }, `target ${JSON.stringify(bad)}`)
  }
  t.match(tr.changesBetween('vm1-disk0:-1', rp2), { ok: false, reason: /^malformed RCT id/ }, 'a malformed since')
  t.match(tr.changesBetween('', 'vm1-disk0:3'), { ok: false, reason: /never issued/ }, 'the current generation is not a reference point yet')
  t.match(tr.changesBetween('vm1-disk0:99', rp2), { ok: false, reason: /never issued/ })
  t.ok(tr.changesBetween(rp1, rp2).ok)
})

t.test(`only the newest ${REFERENCE_POINTS_KEPT} reference points stay targets`, async (t) => {
  const host = new Host(RctTracker.create(MiB, 'd'))
  const ids: string[] = []
  for (let i = 0; i < REFERENCE_POINTS_KEPT + 2; i++) {
    host.write(i * BLOCK, 1)
    ids.push(host.referencePoint())
  }
  t.same(host.tracker.referencePoints(), ids.slice(2))
  t.match(host.tracker.changesBetween('', ids[0]), { ok: false, reason: /no longer kept/ })
  t.match(host.tracker.changesBetween('', ids[1]), { ok: false, reason: /no longer kept/ })
  t.same(blocksOf(ok(t, host.tracker.changesBetween('', ids[2]))), [0, 1, 2], 'the oldest kept one')
  t.same(blocksOf(ok(t, host.tracker.changesBetween(ids[0], ids[9]))), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'an evicted point still serves as since')
  const loaded = RctTracker.load(host.durableRct, host.durableMrt)
  t.ok(loaded.ok && loaded.tracker.referencePoints().length === REFERENCE_POINTS_KEPT, 'the file holds the kept ones')
})

// ---- the property test ----

const DISK_BYTES = 5 * MiB + 3 * BLOCK + 12_345 // a partial last region and a partial last block

type Op =
  | { op: 'write'; offset: number; length: number; ack: boolean }
  | { op: 'ack'; pick: number }
  | { op: 'encode' }
  | { op: 'persisted' }
  | { op: 'refpoint' }
  | { op: 'clean-reload' }
  | { op: 'crash' }

const lengthArb = fc.oneof(fc.integer({ min: 1, max: 4 * KiB }), fc.integer({ min: 1, max: 3 * BLOCK }), fc.integer({ min: 1, max: 2 * MiB }))
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), offset: fc.nat(DISK_BYTES - 1), length: lengthArb, ack: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('ack' as const), pick: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'encode' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'persisted' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'refpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clean-reload' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'crash' as const }) },
)

function blocksOfWrite(offset: number, length: number): number[] {
  const out: number[] = []
  for (let b = Math.floor(offset / BLOCK); b <= Math.floor((offset + length - 1) / BLOCK); b++) out.push(b)
  return out
}

t.test('random writes, reference points, reloads and crashes: no change is ever missed', async (t) => {
  let crashesWithMarks = 0
  let checks = 0
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 50 }), (ops) => {
      let tracker = RctTracker.create(DISK_BYTES, 'prop')
      // The caller's durable files and the snapshot it is writing.
      let durableRct = tracker.encodeRct()
      tracker.rctPersisted()
      let durableMrt = tracker.encodeMrt()
      let pendingRct: Buffer | null = null
      // The model: the blocks acknowledged in each generation, and the generations in which
      // a crash recovery may have added blocks.
      let gen = 1
      const written = new Map<number, Set<number>>()
      const crashGens = new Set<number>()
      const inFlight: Array<{ offset: number; length: number }> = []
      const ids: Array<{ id: string; gen: number }> = []
      const ack = (w: { offset: number; length: number }) => {
        tracker.afterWrite(w.offset, w.length)
        const set = written.get(gen) ?? new Set<number>()
        for (const b of blocksOfWrite(w.offset, w.length)) set.add(b)
        written.set(gen, set)
      }
      const check = (since: { id: string; gen: number } | null, target: { id: string; gen: number }) => {
        const r = tracker.changesBetween(since?.id ?? '', target.id)
        if (!r.ok) throw new Error(`changesBetween(${since?.id ?? "''"}, ${target.id}): ${r.reason}`)
        const actual = new Set<number>()
        let prevEnd = -1
        for (const range of r.ranges) {
          if (range.offset % BLOCK !== 0 || range.offset <= prevEnd) throw new Error('ranges not aligned, sorted and merged')
          prevEnd = range.offset + range.length
          if (prevEnd > DISK_BYTES) throw new Error('a range beyond the disk')
          for (const b of blocksOfWrite(range.offset, range.length)) actual.add(b)
        }
        const sinceGen = since?.gen ?? 0
        const expected = new Set<number>()
        let crashed = false
        for (let g = sinceGen + 1; g <= target.gen; g++) {
          for (const b of written.get(g) ?? []) expected.add(b)
          if (crashGens.has(g)) crashed = true
        }
        for (const b of expected) {
          if (!actual.has(b)) throw new Error(`block ${b} changed in (${sinceGen}, ${target.gen}] but is missing`)
        }
        if (!crashed && actual.size !== expected.size) {
          throw new Error(`no crash in (${sinceGen}, ${target.gen}] yet ${actual.size - expected.size} extra blocks`)
        }
        checks++
      }
      for (const o of ops) {
        switch (o.op) {
          case 'write': {
            const w = { offset: o.offset, length: Math.min(o.length, DISK_BYTES - o.offset) }
            if (tracker.beforeWrite(w.offset, w.length)) durableMrt = tracker.encodeMrt()
            if (o.ack) ack(w)
            else inFlight.push(w)
            break
          }
          case 'ack':
            if (inFlight.length > 0) ack(inFlight.splice(o.pick % inFlight.length, 1)[0])
            break
          case 'encode':
            pendingRct = tracker.encodeRct()
            break
          case 'persisted':
            if (pendingRct === null) break
            durableRct = pendingRct
            pendingRct = null
            tracker.rctPersisted()
            durableMrt = tracker.encodeMrt()
            break
          case 'refpoint': {
            // The contract: the reference point reaches the .rct before its id is handed out.
            const id = { id: tracker.referencePoint(), gen }
            gen++
            durableRct = tracker.encodeRct()
            pendingRct = null
            tracker.rctPersisted()
            durableMrt = tracker.encodeMrt()
            check(ids.length > 0 ? ids[ids.length - 1] : null, id)
            check(null, id)
            const older = ids.length - REFERENCE_POINTS_KEPT + 1
            if (older >= 0) check(ids[older], id)
            ids.push(id)
            break
          }
          case 'clean-reload': {
            while (inFlight.length > 0) ack(inFlight.pop()!)
            const rct = tracker.encodeRct()
            tracker.rctPersisted()
            const mrt = tracker.encodeMrt()
            const loaded = RctTracker.load(rct, mrt)
            if (!loaded.ok) throw new Error(`clean reload: ${loaded.reason}`)
            if (loaded.recoveredRegions !== 0) throw new Error('a clean stop recovered regions')
            tracker = loaded.tracker
            ;[durableRct, durableMrt, pendingRct] = [rct, mrt, null]
            break
          }
          case 'crash': {
            // Writes in flight die with the host; the files are what was persisted last.
            inFlight.length = 0
            pendingRct = null
            const loaded = RctTracker.load(durableRct, durableMrt)
            if (!loaded.ok) throw new Error(`crash reload: ${loaded.reason}`)
            if (loaded.recoveredRegions > 0) {
              crashesWithMarks++
              crashGens.add(gen)
            }
            tracker = loaded.tracker
            break
          }
        }
        if (tracker.generation !== gen) throw new Error(`generation ${tracker.generation}, model ${gen}`)
      }
      // Finally every kept pair of reference points, after one more point.
      const last = { id: tracker.referencePoint(), gen }
      gen++
      ids.push(last)
      const kept = ids.slice(-REFERENCE_POINTS_KEPT)
      for (let i = 0; i < kept.length; i++) {
        check(null, kept[i])
        for (let j = 0; j <= i; j++) check(kept[j], kept[i])
      }
    }),
    { numRuns: 3000 },
  )
  t.ok(crashesWithMarks > 50, `crashes with MRT marks were exercised (${crashesWithMarks})`)
  t.ok(checks > 1000, `${checks} interval checks`)
})
