// Byte-range locks of SMB2 LOCK as a pure state machine (MS-SMB2 3.3.5.14; the lock semantics
// are MS-FSA 2.1.5.7 and 2.1.5.8, the read/write check MS-FSA 2.1.4.10), keyed by file and open.
// The adapter turns a decoded LOCK request into lock(), answers with the outcome (or
// STATUS_PENDING and later the completion), calls checkIo() before every READ and WRITE, and
// closeOpen() when an open goes away. No IO, no clock: a blocking lock waits as a pending entry
// until an unlock, a close or a cancel lets it through.
//
// What it does, checked against smbtorture's smb2.lock (source4/torture/smb2/lock.c):
// - Ranges are [offset, offset + length) in 64 bits. An offset + length beyond 2^64 is
//   STATUS_INVALID_LOCK_RANGE ((2^64-1, 1) is fine, (2^64-1, 2) is not). A zero-length range
//   conflicts only with a range that strictly contains its offset, never with another zero-length
//   range (lock.zerobytelength: {10,0} vs {9,2} conflicts, vs {10,2} or {10,0} does not).
// - An exclusive lock conflicts with every overlapping lock, the same open's included (two
//   exclusive locks or an exclusive on a shared never stack); a shared lock conflicts only with
//   another open's overlapping exclusive lock (a shared lock stacks on the open's own exclusive).
//   Locks stack: each is counted and needs its own unlock (lock.stacking).
// - A failed lock is STATUS_LOCK_NOT_GRANTED every time (never FILE_LOCK_CONFLICT, which is for
//   READ and WRITE; lock.errorcode). The process id does not matter, only the open.
// - Requests (3.3.5.14.1, .2; Samba's order of checks, which the suite accepts): the first
//   element decides. UNLOCK: each element in order must be UNLOCK (else INVALID_PARAMETER) and
//   match a lock of this open exactly, exclusive ones first (else RANGE_NOT_LOCKED); the unlocks
//   done before a failure stay done (lock.multiple-unlock). SHARED/EXCLUSIVE without
//   FAIL_IMMEDIATELY: one element only, and it waits when it conflicts. With FAIL_IMMEDIATELY:
//   every element must be a lock with FAIL_IMMEDIATELY (else INVALID_PARAMETER before anything
//   is locked); they are taken in order and all released again if one fails. Any other flags:
//   INVALID_PARAMETER.
// - Replays (3.3.5.14): with checkLockSequence, a LockSequence index of 1..64 names one of 64
//   slots of the open; a request whose number equals its slot's succeeds without doing anything,
//   any other empties the slot before it is processed and fills it on success (lock.replay).
// - Pending locks: granted in arrival order whenever locks go away; a cancel answers
//   STATUS_CANCELLED, the close of their own open STATUS_RANGE_NOT_LOCKED (lock.cancel).
// - READ and WRITE (MS-FSA 2.1.4.10): a read conflicts with another open's exclusive lock, a
//   write with another open's exclusive lock and with any shared lock, the writer's own too
//   (lock.rw-shared, lock.rw-exclusive); a zero-length IO never conflicts (lock.zerobyteread).
import assert from 'node:assert/strict'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

/** Flags of an SMB2_LOCK_ELEMENT (MS-SMB2 2.2.26.1). */
export const LOCK_FLAG = { SHARED: 0x01, EXCLUSIVE: 0x02, UNLOCK: 0x04, FAIL_IMMEDIATELY: 0x10 } as const

export interface LockElement {
  readonly offset: bigint
  readonly length: bigint
  readonly flags: number
}

export interface LockRequest {
  /** The file the open is of (the same key for every open of one file). */
  readonly fileKey: string
  /** The open (its persistent FileId, say): locks belong to it. */
  readonly openKey: string
  /** Names a request that may wait, for cancel() and the completion (connection and MessageId, say); unique among pending ones. */
  readonly requestKey: string
  readonly elements: readonly LockElement[]
  /** LockSequence as on the wire: LockSequenceNumber in the low 4 bits, LockSequenceIndex above. */
  readonly lockSequence: number
  /**
   * Whether replays are detected (MS-SMB2 3.3.5.14: dialect 2.1 with a resilient open, or 3.x
   * with a durable, resilient or persistent open; smbd 4.17 does it for every 3.x open, which
   * smb2.lock.replay expects of it).
   */
  readonly checkLockSequence: boolean
}

/** A request that was waiting and now has its answer. */
export interface LockCompletion {
  readonly requestKey: string
  readonly openKey: string
  readonly status: number
}

export type LockOutcome =
  /** Answer status now; completions are other requests that this one let through (an unlock's). */
  | { readonly kind: 'done'; readonly status: number; readonly completions: readonly LockCompletion[] }
  /** Answer STATUS_PENDING (an async reply); the answer comes as a LockCompletion later. */
  | { readonly kind: 'pending'; readonly completions: readonly LockCompletion[] }

export interface ByteRangeLockLimits {
  /** Locks held on one file, all opens together; a lock past it is STATUS_INSUFFICIENT_RESOURCES. */
  readonly maxLocksPerFile: number
  /** Locks waiting on one file; a blocking lock past it is STATUS_INSUFFICIENT_RESOURCES. */
  readonly maxPendingPerFile: number
}

export const DEFAULT_LOCK_LIMITS: ByteRangeLockLimits = { maxLocksPerFile: 16_384, maxPendingPerFile: 1_024 }

/** One filled slot of an open's LockSequenceArray: LockSequenceIndex 1..64 and the number 0..15 it holds. */
export interface LockSequenceSlot {
  readonly index: number
  readonly number: number
}

/** A held lock as snapshot() reports it. */
export interface HeldLock {
  readonly fileKey: string
  readonly openKey: string
  readonly offset: bigint
  readonly length: bigint
  readonly exclusive: boolean
}

const RANGE_END_MAX = 1n << 64n
const SEQUENCE_SLOTS = 64
const EMPTY_SLOT = -1

interface Lock {
  readonly openKey: string
  readonly start: bigint
  readonly end: bigint
  readonly exclusive: boolean
}

interface Pending {
  readonly requestKey: string
  readonly openKey: string
  readonly fileKey: string
  readonly lock: Lock
  /** The slot to fill when granted, or null. */
  readonly sequence: { readonly index: number; readonly number: number } | null
}

interface FileLocks {
  readonly locks: Lock[]
  /** Waiting requests in arrival order. */
  readonly pending: Pending[]
}

export class ByteRangeLockTable {
  private readonly files = new Map<string, FileLocks>()
  /** The file of each open that has locks, pending requests or sequence slots. */
  private readonly openFiles = new Map<string, string>()
  /** LockSequenceArray of each open that used it: the number held in each slot, EMPTY_SLOT if none. */
  private readonly sequences = new Map<string, Int8Array>()
  private readonly pendingByRequest = new Map<string, Pending>()

  constructor(private readonly limits: ByteRangeLockLimits = DEFAULT_LOCK_LIMITS) {
    for (const [name, value] of Object.entries(limits)) assert.ok(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer`)
  }

  /** Processes one SMB2 LOCK request. */
  lock(request: LockRequest): LockOutcome {
    const done = (status: number, completions: readonly LockCompletion[] = []): LockOutcome => ({ kind: 'done', status, completions })
    this.bindOpen(request.openKey, request.fileKey)
    const { elements } = request
    if (elements.length === 0) return done(NT_STATUS.INVALID_PARAMETER)

    // Replay detection comes first: a replayed request does nothing, whatever it asks.
    let sequence: { index: number; number: number } | null = null
    if (request.checkLockSequence) {
      const index = request.lockSequence >>> 4
      if (index >= 1 && index <= SEQUENCE_SLOTS) {
        const slots = this.slotsOf(request.openKey)
        const number = request.lockSequence & 0xf
        if (slots[index - 1] === number) return done(NT_STATUS.SUCCESS)
        slots[index - 1] = EMPTY_SLOT
        sequence = { index, number }
      }
    }
    const succeed = (completions: readonly LockCompletion[] = []): LockOutcome => {
      if (sequence !== null) this.slotsOf(request.openKey)[sequence.index - 1] = sequence.number
      return done(NT_STATUS.SUCCESS, completions)
    }

    const first = elements[0].flags
    if (first === LOCK_FLAG.UNLOCK) {
      const { status, completions } = this.unlock(request)
      return status === NT_STATUS.SUCCESS ? succeed(completions) : done(status, completions)
    }
    if (first === LOCK_FLAG.SHARED || first === LOCK_FLAG.EXCLUSIVE) {
      // A lock that may wait must be alone (3.3.5.14.2).
      if (elements.length > 1) return done(NT_STATUS.INVALID_PARAMETER)
      return this.blockingLock(request, sequence, succeed, done)
    }
    if (first !== (LOCK_FLAG.SHARED | LOCK_FLAG.FAIL_IMMEDIATELY) && first !== (LOCK_FLAG.EXCLUSIVE | LOCK_FLAG.FAIL_IMMEDIATELY)) return done(NT_STATUS.INVALID_PARAMETER)
    // Every element must be a fail-immediately lock before any is taken.
    for (const element of elements) {
      if (element.flags !== (LOCK_FLAG.SHARED | LOCK_FLAG.FAIL_IMMEDIATELY) && element.flags !== (LOCK_FLAG.EXCLUSIVE | LOCK_FLAG.FAIL_IMMEDIATELY)) return done(NT_STATUS.INVALID_PARAMETER)
    }
    const file = this.fileOf(request.fileKey)
    const taken: Lock[] = []
    const rollBack = (status: number): LockOutcome => {
      for (const lock of taken) removeOne(file.locks, lock)
      this.forgetIfEmpty(request.fileKey)
      return done(status)
    }
    for (const element of elements) {
      const lock = toLock(request.openKey, element)
      if (lock === null) return rollBack(NT_STATUS.INVALID_LOCK_RANGE)
      if (file.locks.some((held) => conflicts(lock, held))) return rollBack(NT_STATUS.LOCK_NOT_GRANTED)
      if (file.locks.length >= this.limits.maxLocksPerFile) return rollBack(NT_STATUS.INSUFFICIENT_RESOURCES)
      file.locks.push(lock)
      taken.push(lock)
    }
    return succeed()
  }

  /** Cancels a waiting request: its completion is STATUS_CANCELLED. Nothing if it is not waiting. */
  cancel(requestKey: string): readonly LockCompletion[] {
    const pending = this.pendingByRequest.get(requestKey)
    if (pending === undefined) return []
    this.dropPending(pending)
    return [{ requestKey, openKey: pending.openKey, status: NT_STATUS.CANCELLED }]
  }

  /**
   * The open is gone (CLOSE, or its tree, session or connection went): its locks are released,
   * its waiting requests complete with pendingStatus (STATUS_RANGE_NOT_LOCKED, as smbd answers a
   * lock cancelled by close, tree disconnect or logoff), and waiting requests of other opens
   * that can now be granted are.
   */
  closeOpen(openKey: string, pendingStatus: number = NT_STATUS.RANGE_NOT_LOCKED): readonly LockCompletion[] {
    const fileKey = this.openFiles.get(openKey)
    this.sequences.delete(openKey)
    this.openFiles.delete(openKey)
    if (fileKey === undefined) return []
    const file = this.files.get(fileKey)
    if (file === undefined) return []
    const completions: LockCompletion[] = []
    for (const pending of file.pending.filter((entry) => entry.openKey === openKey)) {
      this.dropPending(pending)
      completions.push({ requestKey: pending.requestKey, openKey, status: pendingStatus })
    }
    const before = file.locks.length
    for (let index = file.locks.length - 1; index >= 0; index--) if (file.locks[index].openKey === openKey) file.locks.splice(index, 1)
    if (file.locks.length !== before) completions.push(...this.grantWaiting(fileKey))
    this.forgetIfEmpty(fileKey)
    return completions
  }

  /**
   * Whether a READ (write false) or WRITE (write true) of [offset, offset + length) by openKey
   * may go ahead: STATUS_SUCCESS or STATUS_FILE_LOCK_CONFLICT.
   */
  checkIo(fileKey: string, openKey: string, offset: bigint, length: bigint, write: boolean): number {
    if (length === 0n) return NT_STATUS.SUCCESS
    const file = this.files.get(fileKey)
    if (file === undefined) return NT_STATUS.SUCCESS
    const start = offset
    const end = offset + length
    for (const held of file.locks) {
      if (!(held.start < end && start < held.end)) continue
      if (held.exclusive ? held.openKey !== openKey : write) return NT_STATUS.FILE_LOCK_CONFLICT
    }
    return NT_STATUS.SUCCESS
  }

  /** The filled slots of an open's LockSequenceArray (3.3.5.14), to keep with a persistent open. */
  sequencesOf(openKey: string): LockSequenceSlot[] {
    const slots = this.sequences.get(openKey)
    if (slots === undefined) return []
    const filled: LockSequenceSlot[] = []
    slots.forEach((number, i) => {
      if (number !== EMPTY_SLOT) filled.push({ index: i + 1, number })
    })
    return filled
  }

  /** The locks one open holds, oldest first (what a persistent open's record keeps across a failover). */
  locksOf(openKey: string): { offset: bigint; length: bigint; exclusive: boolean }[] {
    const fileKey = this.openFiles.get(openKey)
    const file = fileKey === undefined ? undefined : this.files.get(fileKey)
    if (file === undefined) return []
    return file.locks.filter((lock) => lock.openKey === openKey).map((lock) => ({ offset: lock.start, length: lock.end - lock.start, exclusive: lock.exclusive }))
  }

  /**
   * The locks an open held at the CSV's previous owner, taken again as they were when a new owner
   * takes a persistent open over (its Open keeps its locks; MS-SMB2 3.3.5.9.12 reconnects the
   * same Open). They were granted together, so nothing is checked but the range and the bound:
   * the count restored is returned (a range past 2^64 or a lock past maxLocksPerFile is dropped).
   */
  restore(
    fileKey: string,
    openKey: string,
    locks: readonly { offset: bigint; length: bigint; exclusive: boolean }[],
    sequences: readonly LockSequenceSlot[] = [],
  ): number {
    this.bindOpen(openKey, fileKey)
    // The open's LockSequenceArray comes along: a LOCK the client replays after the failover is
    // recognised as done (3.3.5.14), not taken again (an exclusive lock would refuse itself).
    for (const slot of sequences) {
      if (!Number.isInteger(slot.index) || slot.index < 1 || slot.index > SEQUENCE_SLOTS || !Number.isInteger(slot.number) || slot.number < 0 || slot.number > 0xf) continue
      this.slotsOf(openKey)[slot.index - 1] = slot.number
    }
    const file = this.fileOf(fileKey)
    let restored = 0
    for (const held of locks) {
      const lock = toLock(openKey, { offset: held.offset, length: held.length, flags: held.exclusive ? LOCK_FLAG.EXCLUSIVE : LOCK_FLAG.SHARED })
      if (lock === null || held.offset < 0n || held.length < 0n || file.locks.length >= this.limits.maxLocksPerFile) continue
      file.locks.push(lock)
      restored++
    }
    this.forgetIfEmpty(fileKey)
    return restored
  }

  /** Every held lock, for tests and diagnostics. */
  snapshot(): HeldLock[] {
    const held: HeldLock[] = []
    for (const [fileKey, file] of this.files) {
      for (const lock of file.locks) held.push({ fileKey, openKey: lock.openKey, offset: lock.start, length: lock.end - lock.start, exclusive: lock.exclusive })
    }
    return held
  }

  /** Request keys of the waiting requests, in arrival order per file. */
  pendingRequests(): string[] {
    return [...this.files.values()].flatMap((file) => file.pending.map((pending) => pending.requestKey))
  }

  /** How many files, opens and waiting requests the table holds state for (its memory is bounded by these). */
  sizes(): { files: number; opens: number; pending: number } {
    return { files: this.files.size, opens: this.openFiles.size, pending: this.pendingByRequest.size }
  }

  // -------------------------------------------------------------------------------------------

  private unlock(request: LockRequest): { status: number; completions: readonly LockCompletion[] } {
    const file = this.files.get(request.fileKey)
    let released = false
    let status: number = NT_STATUS.SUCCESS
    for (const element of request.elements) {
      if (element.flags !== LOCK_FLAG.UNLOCK) {
        status = NT_STATUS.INVALID_PARAMETER
        break
      }
      const start = element.offset
      const end = element.offset + element.length
      const matches = (lock: Lock, exclusive: boolean): boolean => lock.openKey === request.openKey && lock.start === start && lock.end === end && lock.exclusive === exclusive
      // An exclusive lock goes before a shared one on the same range (MS-FSA 2.1.5.8).
      const index = file === undefined ? -1 : findIndexOr(file.locks, (lock) => matches(lock, true), (lock) => matches(lock, false))
      if (file === undefined || index < 0) {
        status = NT_STATUS.RANGE_NOT_LOCKED
        break
      }
      file.locks.splice(index, 1)
      released = true
    }
    const completions = released ? this.grantWaiting(request.fileKey) : []
    this.forgetIfEmpty(request.fileKey)
    return { status, completions }
  }

  private blockingLock(
    request: LockRequest,
    sequence: { index: number; number: number } | null,
    succeed: () => LockOutcome,
    done: (status: number) => LockOutcome,
  ): LockOutcome {
    const lock = toLock(request.openKey, request.elements[0])
    if (lock === null) return done(NT_STATUS.INVALID_LOCK_RANGE)
    const file = this.fileOf(request.fileKey)
    if (!file.locks.some((held) => conflicts(lock, held))) {
      if (file.locks.length >= this.limits.maxLocksPerFile) {
        this.forgetIfEmpty(request.fileKey)
        return done(NT_STATUS.INSUFFICIENT_RESOURCES)
      }
      file.locks.push(lock)
      return succeed()
    }
    if (file.pending.length >= this.limits.maxPendingPerFile) return done(NT_STATUS.INSUFFICIENT_RESOURCES)
    assert.ok(!this.pendingByRequest.has(request.requestKey), `request ${request.requestKey} is already waiting`)
    const pending: Pending = { requestKey: request.requestKey, openKey: request.openKey, fileKey: request.fileKey, lock, sequence }
    file.pending.push(pending)
    this.pendingByRequest.set(request.requestKey, pending)
    return { kind: 'pending', completions: [] }
  }

  /** Grants, in arrival order, the waiting requests of a file that no longer conflict. */
  private grantWaiting(fileKey: string): LockCompletion[] {
    const file = this.files.get(fileKey)
    if (file === undefined) return []
    const completions: LockCompletion[] = []
    for (const pending of [...file.pending]) {
      if (file.locks.some((held) => conflicts(pending.lock, held))) continue
      if (file.locks.length >= this.limits.maxLocksPerFile) break
      // The lock goes in before the request leaves the queue, so the file never looks empty.
      file.locks.push(pending.lock)
      this.dropPending(pending)
      if (pending.sequence !== null && this.sequences.has(pending.openKey)) this.slotsOf(pending.openKey)[pending.sequence.index - 1] = pending.sequence.number
      completions.push({ requestKey: pending.requestKey, openKey: pending.openKey, status: NT_STATUS.SUCCESS })
    }
    return completions
  }

  private dropPending(pending: Pending): void {
    this.pendingByRequest.delete(pending.requestKey)
    const file = this.files.get(pending.fileKey)
    if (file !== undefined) removeOne(file.pending, pending)
    this.forgetIfEmpty(pending.fileKey)
  }

  private bindOpen(openKey: string, fileKey: string): void {
    const bound = this.openFiles.get(openKey)
    assert.ok(bound === undefined || bound === fileKey, `open ${openKey} is of file ${bound}, not ${fileKey}`)
    this.openFiles.set(openKey, fileKey)
  }

  private fileOf(fileKey: string): FileLocks {
    let file = this.files.get(fileKey)
    if (file === undefined) {
      file = { locks: [], pending: [] }
      this.files.set(fileKey, file)
    }
    return file
  }

  private forgetIfEmpty(fileKey: string): void {
    const file = this.files.get(fileKey)
    if (file !== undefined && file.locks.length === 0 && file.pending.length === 0) this.files.delete(fileKey)
  }

  private slotsOf(openKey: string): Int8Array {
    let slots = this.sequences.get(openKey)
    if (slots === undefined) {
      slots = new Int8Array(SEQUENCE_SLOTS).fill(EMPTY_SLOT)
      this.sequences.set(openKey, slots)
    }
    return slots
  }
}

/** The lock an element asks for, or null when its range runs past 2^64 (STATUS_INVALID_LOCK_RANGE). */
function toLock(openKey: string, element: LockElement): Lock | null {
  const end = element.offset + element.length
  if (end > RANGE_END_MAX) return null
  return { openKey, start: element.offset, end, exclusive: (element.flags & LOCK_FLAG.EXCLUSIVE) !== 0 }
}

/** Whether wanted cannot be granted while held exists. */
function conflicts(wanted: Lock, held: Lock): boolean {
  if (!overlaps(wanted, held)) return false
  return wanted.exclusive || (held.exclusive && held.openKey !== wanted.openKey)
}

/**
 * Half-open ranges overlap when each starts before the other ends. A zero-length range [o, o)
 * thereby overlaps exactly the ranges with start < o < end, and no other zero-length range.
 */
function overlaps(a: Lock, b: Lock): boolean {
  return a.start < b.end && b.start < a.end
}

function removeOne<T>(items: T[], item: T): void {
  const index = items.indexOf(item)
  if (index >= 0) items.splice(index, 1)
}

function findIndexOr<T>(items: readonly T[], preferred: (item: T) => boolean, fallback: (item: T) => boolean): number {
  const index = items.findIndex(preferred)
  return index >= 0 ? index : items.findIndex(fallback)
}
