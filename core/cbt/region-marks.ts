// The marks of a write-ahead region journal, shared by the RCT tracker's MRT and the block
// digests' journal: a region is marked (and the marks persisted) before a write reaches it,
// and a mark is cleared only once a snapshot that holds every write begun in its region is
// persisted. Writes in flight keep their region's mark, and a write begun after a snapshot
// was taken uncovers the region again, so a crash at any point leaves marked every region
// whose state on disk the last persisted snapshot may not describe.
import assert from 'node:assert/strict'

export class RegionMarks {
  /** Per region, 1 when marked. */
  private readonly marks: Uint8Array
  /** Per region, writes begun and not yet ended: their mark must stay. */
  private readonly inFlight: Uint32Array
  /** Per region, 1 when the latest snapshot holds every write begun there. */
  private readonly covered: Uint8Array
  private snapshotPending = false

  constructor(readonly regions: number) {
    this.marks = new Uint8Array(regions)
    this.inFlight = new Uint32Array(regions)
    this.covered = new Uint8Array(regions)
  }

  /** A write begins in regions first..last; true when a region not marked before got marked (persist the marks before the write). */
  begin(first: number, last: number): boolean {
    let marked = false
    for (let r = first; r <= last; r++) {
      this.inFlight[r]++
      // The latest snapshot may not hold this write: its persist must not clear the mark.
      this.covered[r] = 0
      if (this.marks[r] === 0) {
        this.marks[r] = 1
        marked = true
      }
    }
    return marked
  }

  /** A write begun in regions first..last ended (acknowledged or failed); `what` names it for the assert. */
  end(first: number, last: number, what: string): void {
    for (let r = first; r <= last; r++) {
      assert.ok(this.inFlight[r] > 0 && this.marks[r] === 1, `${what} without beforeWrite`)
      this.inFlight[r]--
    }
  }

  /** Marks a region found marked in a persisted journal (recovery after a crash). */
  restore(region: number): void {
    this.marks[region] = 1
  }

  isMarked(region: number): boolean {
    return this.marks[region] === 1
  }

  writesInFlight(region: number): number {
    return this.inFlight[region]
  }

  count(): number {
    let n = 0
    for (let r = 0; r < this.regions; r++) n += this.marks[r]
    return n
  }

  /** A snapshot was just encoded: it covers the marked regions with no write in flight. */
  snapshotTaken(): void {
    for (let r = 0; r < this.regions; r++) this.covered[r] = this.marks[r] === 1 && this.inFlight[r] === 0 ? 1 : 0
    this.snapshotPending = true
  }

  /** The latest snapshot was persisted durably: the marks it covers are cleared. `misuse` is the assert's message when none was taken. */
  snapshotPersisted(misuse: string): void {
    assert.ok(this.snapshotPending, misuse)
    for (let r = 0; r < this.regions; r++) if (this.covered[r]) this.marks[r] = 0
    this.covered.fill(0)
    this.snapshotPending = false
  }

  /** The marks as a bitmap (bit r of byte r >> 3) written at `at` in `buf`. */
  writeBits(buf: Buffer, at: number): void {
    for (let r = 0; r < this.regions; r++) if (this.marks[r]) buf[at + (r >> 3)] |= 1 << (r & 7)
  }
}
