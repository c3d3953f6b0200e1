// The byte-range lock table (core/smb/byte-range-locks.ts): every sub-test of smbtorture's
// smb2.lock replayed as a transcript against the table, with the statuses the suite expects of
// Windows (and of smbd where they differ only in ordering), then a model-based property test
// against a second implementation that represents ranges differently, with the table's
// invariants checked after every step.
import t from 'tap'
import fc from 'fast-check'
import { ByteRangeLockTable, LOCK_FLAG, type LockCompletion, type LockOutcome } from '../../core/smb/byte-range-locks.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

const S = LOCK_FLAG.SHARED
const X = LOCK_FLAG.EXCLUSIVE
const U = LOCK_FLAG.UNLOCK
const FI = LOCK_FLAG.FAIL_IMMEDIATELY
const OK = NT_STATUS.SUCCESS
const NOT_GRANTED = NT_STATUS.LOCK_NOT_GRANTED
const NOT_LOCKED = NT_STATUS.RANGE_NOT_LOCKED
const INVALID = NT_STATUS.INVALID_PARAMETER
const BAD_RANGE = NT_STATUS.INVALID_LOCK_RANGE
const CONFLICT = NT_STATUS.FILE_LOCK_CONFLICT
const UINT64_MAX = 0xffffffffffffffffn
const UINT32_MAX = 0xffffffffn

type Element = readonly [bigint | number, bigint | number, number]

/** One file, opens h, h2, h3 of it, and SMB2 LOCK as smbtorture sends it. */
function harness(options: { checkLockSequence?: boolean } = {}) {
  const table = new ByteRangeLockTable()
  let requestNumber = 0
  const send = (open: string, elements: readonly Element[], lockSequence = 0): { outcome: LockOutcome; requestKey: string } => {
    const requestKey = `req-${requestNumber++}`
    const outcome = table.lock({
      fileKey: 'file',
      openKey: open,
      requestKey,
      elements: elements.map(([offset, length, flags]) => ({ offset: BigInt(offset), length: BigInt(length), flags })),
      lockSequence,
      checkLockSequence: options.checkLockSequence ?? false,
    })
    return { outcome, requestKey }
  }
  /** The status of a request that must not wait. */
  const lock = (open: string, elements: readonly Element[], lockSequence = 0): number => {
    const { outcome } = send(open, elements, lockSequence)
    if (outcome.kind !== 'done') throw new Error(`request of ${open} went pending`)
    return outcome.status
  }
  const io = (open: string, offset: number, length: number, write: boolean) => table.checkIo('file', open, BigInt(offset), BigInt(length), write)
  return { table, send, lock, io }
}

t.test('smb2.lock.valid-request', async (t) => {
  const { lock } = harness()
  t.equal(lock('h', []), INVALID, 'no locks')
  t.equal(lock('h', [[0, 0, 0]]), INVALID, 'flags NONE')
  t.equal(lock('h', [[UINT64_MAX, UINT64_MAX, X | FI]], 0x123ab1), BAD_RANGE, '>63-bit range')
  t.equal(lock('h', [[UINT64_MAX, UINT64_MAX, X | FI]], 0x123ab2), BAD_RANGE)
  // Basic stacking: exclusive, then two shared on the same range by the same open.
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, X | FI]], 0x12345678), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, S]], 0x12345678), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, S]], 0x12345678), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, U]], 0x87654321), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, U]], 0x1234567), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, U]], 0x1234567), OK)
  t.equal(lock('h', [[UINT32_MAX, UINT32_MAX, U]], 0x1234567), NOT_LOCKED, 'the fourth unlock')
  // Flags permutations.
  t.equal(lock('h', [[1, 1, ~0x17 >>> 0]]), INVALID, 'undefined flag bits')
  t.equal(lock('h', [[1, 1, U]]), NOT_LOCKED)
  t.equal(lock('h', [[1, 1, U | X]]), INVALID)
  t.equal(lock('h', [[1, 1, U | S]]), INVALID)
  t.equal(lock('h', [[1, 1, U | FI]]), INVALID)
  // Two elements.
  t.equal(lock('h', [[9999, 1, 0], [9999, 1, U]]), INVALID)
  t.equal(lock('h', [[9999, 1, S | FI], [9999, 1, S]]), INVALID, 'a waiting lock among others')
  t.equal(lock('h', [[9999, 1, 0], [9999, 1, 0]]), INVALID)
  t.equal(lock('h', [[9999, 1, U], [9999, 1, 0]]), NOT_LOCKED, 'the first unlock fails before the bad second element is seen')
  for (let round = 0; round < 3; round++) t.equal(lock('h', [[9999, 1, U]]), NOT_LOCKED)
  t.equal(lock('h', [[9999, 1, S]]), OK)
  t.equal(lock('h', [[9999, 1, S]]), OK)
  t.equal(lock('h', [[9999, 1, U], [9999, 1, U]]), OK, 'one request unlocks both stacked locks')
  t.equal(lock('h', [[9999, 1, U]]), NOT_LOCKED)
})

t.test('smb2.lock.rw-shared and rw-exclusive: READ and WRITE against locks', async (t) => {
  for (const [flags, h1Write, h1Read, h2Write, h2Read] of [
    [S, CONFLICT, OK, CONFLICT, OK],
    [X, OK, OK, CONFLICT, CONFLICT],
  ] as const) {
    const { lock, io } = harness()
    t.equal(lock('h1', [[0, 100, flags]]), OK)
    t.equal(lock('h1', [[100, 100, flags]]), OK)
    t.equal(io('h1', 100, 100, true), h1Write, 'h1 writes')
    t.equal(io('h1', 100, 100, false), h1Read, 'h1 reads')
    t.equal(io('h2', 100, 100, true), h2Write, 'h2 writes')
    t.equal(io('h2', 100, 100, false), h2Read, 'h2 reads')
    t.equal(lock('h1', [[100, 100, U]]), OK)
    t.equal(io('h2', 100, 100, true), OK)
    t.equal(io('h2', 100, 100, false), OK)
  }
})

t.test('smb2.lock.auto-unlock: a contending request on the same open does not unlock', async (t) => {
  const { lock } = harness()
  t.equal(lock('h', [[0, 1, X | FI]]), OK)
  t.equal(lock('h', [[0, 1, X | FI]]), NOT_GRANTED)
  t.equal(lock('h', [[0, 1, X | FI]]), NOT_GRANTED)
  t.equal(lock('h', [[0, 1, X | FI]]), NOT_GRANTED)
})

t.test('smb2.lock.lock: ranges across the 64-bit space', async (t) => {
  const { lock } = harness()
  // 0/0: zero-length locks never conflict with each other.
  t.equal(lock('h', [[0, 0, X | FI]]), OK)
  t.equal(lock('h2', [[0, 0, X | FI]]), OK)
  t.equal(lock('h', [[0, 0, U]]), OK)
  t.equal(lock('h2', [[0, 0, U]]), OK)
  for (const [offset, length] of [
    [0n, 1n],
    [0xeeffffffn, 4000n],
    [0xef000000n, 4000n],
    [(1n << 63n) - 1n, 1n],
    [1n << 63n, 1n],
    [UINT64_MAX, 1n],
  ]) {
    t.equal(lock('h', [[offset, length, X | FI]]), OK, `${offset}/${length}`)
    t.equal(lock('h2', [[offset, length, X | FI]]), NOT_GRANTED)
    t.equal(lock('h', [[offset, length, U]]), OK)
    t.equal(lock('h', [[offset, length, U]]), NOT_LOCKED)
  }
  // max/0
  t.equal(lock('h', [[UINT64_MAX, 0, X | FI]]), OK)
  t.equal(lock('h2', [[UINT64_MAX, 0, X | FI]]), OK)
  t.equal(lock('h2', [[UINT64_MAX, 0, U]]), OK)
  t.equal(lock('h', [[UINT64_MAX, 0, U]]), OK)
  t.equal(lock('h', [[UINT64_MAX, 0, U]]), NOT_LOCKED)
  t.equal(lock('h', [[UINT64_MAX, 2, X | FI]]), BAD_RANGE, 'max/2 runs past 2^64')
  // Wrong handle unlock.
  t.equal(lock('h', [[10001, 40002, X | FI]]), OK)
  t.equal(lock('h2', [[10001, 40002, U]]), NOT_LOCKED)
  t.equal(lock('h', [[10001, 40002, U]]), OK)
})

t.test('smb2.lock.async: a waiting lock is granted by the unlock', async (t) => {
  const { lock, send } = harness()
  t.equal(lock('h', [[100, 50, X]]), OK)
  const waiting = send('h2', [[100, 50, X]])
  t.equal(waiting.outcome.kind, 'pending')
  const unlock = send('h', [[100, 50, U]])
  t.same(unlock.outcome, { kind: 'done', status: OK, completions: [{ requestKey: waiting.requestKey, openKey: 'h2', status: OK }] })
  t.equal(lock('h', [[100, 50, X | FI]]), NOT_GRANTED, 'h2 holds it now')
})

t.test('smb2.lock.cancel: by CANCEL, by a failed unlock then CANCEL, by close', async (t) => {
  const { table, lock, send } = harness()
  t.equal(lock('h', [[100, 10, X]]), OK)
  const first = send('h2', [[100, 10, X]])
  t.equal(first.outcome.kind, 'pending')
  t.same(table.cancel(first.requestKey), [{ requestKey: first.requestKey, openKey: 'h2', status: NT_STATUS.CANCELLED }])
  t.same(table.cancel(first.requestKey), [], 'a second cancel finds nothing')
  t.equal(lock('h', [[100, 10, U]]), OK)

  t.equal(lock('h', [[100, 10, X]]), OK)
  const second = send('h2', [[100, 10, X]])
  t.equal(lock('h2', [[100, 10, U]]), NOT_LOCKED, 'a waiting lock is not held')
  t.same(table.cancel(second.requestKey), [{ requestKey: second.requestKey, openKey: 'h2', status: NT_STATUS.CANCELLED }])
  t.equal(lock('h', [[100, 10, U]]), OK)

  t.equal(lock('h', [[100, 10, X]]), OK)
  const third = send('h2', [[100, 10, X]])
  t.same(table.closeOpen('h2'), [{ requestKey: third.requestKey, openKey: 'h2', status: NOT_LOCKED }], 'closing the waiting open answers RANGE_NOT_LOCKED')
  t.equal(lock('h', [[100, 10, U]]), OK)
  t.same(table.sizes(), { files: 0, opens: 1, pending: 0 })
})

t.test('smb2.lock.cancel-tdis and cancel-logoff: opens closed in order grant the waiting lock first', async (t) => {
  const { table, lock, send } = harness()
  t.equal(lock('h', [[100, 10, X]]), OK)
  const waiting = send('h2', [[100, 10, X]])
  // Tree disconnect / logoff closes h, then h2: Windows answers the waiting lock with success.
  t.same(table.closeOpen('h'), [{ requestKey: waiting.requestKey, openKey: 'h2', status: OK }])
  t.same(table.closeOpen('h2'), [])
  t.same(table.snapshot(), [])
})

t.test('smb2.lock.errorcode: always LOCK_NOT_GRANTED', async (t) => {
  const { lock } = harness()
  t.equal(lock('h', [[100, 10, X | FI]]), OK)
  for (let round = 0; round < 4; round++) {
    t.equal(lock('h', [[100, 10, X | FI]]), NOT_GRANTED)
    t.equal(lock('h2', [[100, 10, X | FI]]), NOT_GRANTED)
  }
  t.equal(lock('h', [[102, 0, X | FI]]), NOT_GRANTED, 'a zero-length lock inside')
  t.equal(lock('h2', [[102, 0, X | FI]]), NOT_GRANTED)
  t.equal(lock('h', [[102, 5, X | FI]]), NOT_GRANTED, 'a lock inside')
  t.equal(lock('h2', [[102, 5, X | FI]]), NOT_GRANTED)
})

t.test('smb2.lock.zerobytelength', async (t) => {
  const cases: Array<[Element, Element, number]> = [
    [[10, 0, 0], [10, 0, 0], OK],
    [[10, 0, 0], [9, 1, 0], OK],
    [[10, 0, 0], [10, 1, 0], OK],
    [[10, 0, 0], [11, 1, 0], OK],
    [[10, 0, 0], [9, 2, 0], NOT_GRANTED],
    [[10, 0, 0], [10, 2, 0], OK],
    [[10, 0, 0], [9, 3, 0], NOT_GRANTED],
    [[10, 0, 0], [10, 0, 0], OK],
    [[9, 1, 0], [10, 0, 0], OK],
    [[10, 1, 0], [10, 0, 0], OK],
    [[11, 1, 0], [10, 0, 0], OK],
    [[9, 2, 0], [10, 0, 0], NOT_GRANTED],
    [[10, 2, 0], [10, 0, 0], OK],
    [[9, 3, 0], [10, 0, 0], NOT_GRANTED],
    [[0, 0, 0], [0, 0, 0], OK],
  ]
  for (const second of ['h', 'h2']) {
    const { lock, table } = harness()
    for (const [[o1, l1], [o2, l2], expected] of cases) {
      t.equal(lock('h', [[o1, l1, X | FI]]), OK)
      const status = lock(second, [[o2, l2, X | FI]])
      t.equal(status, expected, `{${o1},${l1}} + {${o2},${l2}} on ${second}`)
      if (status === OK) t.equal(lock(second, [[o2, l2, U]]), OK)
      t.equal(lock('h', [[o1, l1, U]]), OK)
    }
    t.same(table.snapshot(), [])
  }
})

t.test('smb2.lock.zerobyteread: a zero-length READ never conflicts', async (t) => {
  const { lock, io } = harness()
  t.equal(lock('h', [[0, 10, X | FI]]), OK)
  t.equal(io('h2', 5, 0, false), OK)
  t.equal(lock('h', [[0, 10, U]]), OK)
  t.equal(lock('h', [[5, 0, X | FI]]), OK)
  for (const offset of [4, 5, 6]) t.equal(io('h2', offset, 0, false), OK)
})

t.test('smb2.lock.unlock: unlock flags, stacked locks, exclusive unlocked first', async (t) => {
  const { lock } = harness()
  t.equal(lock('h', [[0, 10, X]]), OK)
  t.equal(lock('h', [[0, 10, S | U]]), INVALID)
  t.equal(lock('h2', [[0, 10, S | FI]]), NOT_GRANTED)
  t.equal(lock('h', [[0, 10, U]]), OK)
  t.equal(lock('h', [[0, 10, S]]), OK)
  t.equal(lock('h', [[0, 10, X | U]]), INVALID)
  t.equal(lock('h2', [[0, 10, X | FI]]), NOT_GRANTED)
  t.equal(lock('h', [[0, 10, U]]), OK)
  for (const [offset, length] of [
    [10, 0],
    [10, 10],
  ]) {
    t.equal(lock('h', [[offset, length, X | FI]]), OK)
    t.equal(lock('h', [[offset, length, S | FI]]), OK)
    t.equal(lock('h2', [[5, 10, X | FI]]), NOT_GRANTED)
    t.equal(lock('h2', [[5, 10, S | FI]]), NOT_GRANTED)
    t.equal(lock('h', [[offset, length, U]]), OK, 'removes the exclusive one')
    t.equal(lock('h2', [[5, 10, S | FI]]), OK, 'so a shared lock fits beside the shared one left')
    t.equal(lock('h2', [[5, 10, U]]), OK)
    t.equal(lock('h', [[offset, length, U]]), OK)
  }
})

t.test('smb2.lock.multiple-unlock', async (t) => {
  const { lock } = harness()
  const first: Element = [0, 10, X | FI]
  const second: Element = [10, 10, X | FI]
  // 1: the first of two unlocks is not held: nothing is unlocked.
  t.equal(lock('h', [second]), OK)
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), NOT_LOCKED)
  t.equal(lock('h', [second]), NOT_GRANTED, 'the second is still held')
  t.equal(lock('h', [[10, 10, U]]), OK)
  // 2: the second is not held: the first is unlocked anyway.
  t.equal(lock('h', [first]), OK)
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), NOT_LOCKED)
  t.equal(lock('h', [first]), OK, 'the first was unlocked')
  t.equal(lock('h', [[0, 10, U]]), OK)
  // 3: two locks, the second contends: neither is kept.
  t.equal(lock('h', [second]), OK)
  t.equal(lock('h', [first, second]), NOT_GRANTED)
  t.equal(lock('h', [first]), OK, 'the first was released again')
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), OK)
  // 4: unlock then lock in one request: the unlock is done, the lock is INVALID_PARAMETER.
  t.equal(lock('h', [first, second]), OK)
  t.equal(lock('h', [[0, 10, U], second]), INVALID)
  t.equal(lock('h', [first]), OK)
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), OK)
  // 10: the same when nothing contends.
  t.equal(lock('h', [first]), OK)
  t.equal(lock('h', [[0, 10, U], second]), INVALID)
  t.equal(lock('h', [first, second]), OK, 'neither is held')
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), OK)
  // 11: lock then unlock in one request: INVALID_PARAMETER, the lock not kept.
  t.equal(lock('h', [second]), OK)
  t.equal(lock('h', [first, [10, 10, U]]), INVALID)
  t.equal(lock('h', [first]), OK)
  t.equal(lock('h', [second]), NOT_GRANTED)
  t.equal(lock('h', [[0, 10, U], [10, 10, U]]), OK)
})

t.test('smb2.lock.stacking and contend', async (t) => {
  const { lock, table } = harness()
  const range = (flags: number): Element => [0, 10, flags]
  t.equal(lock('h', [range(S | FI)]), OK)
  t.equal(lock('h', [range(S | FI)]), OK, 'shared on shared')
  t.equal(lock('h', [range(U)]), OK)
  t.equal(lock('h', [range(U)]), OK)
  t.equal(lock('h', [range(X | FI)]), OK)
  t.equal(lock('h', [range(S | FI)]), OK, 'shared on the same open exclusive')
  t.equal(lock('h', [range(S | FI)]), OK)
  t.equal(lock('h2', [range(S | FI)]), NOT_GRANTED, 'not from another open')
  for (let round = 0; round < 3; round++) t.equal(lock('h', [range(U)]), OK)
  t.equal(lock('h', [range(U)]), NOT_LOCKED, 'the fourth unlock')
  t.equal(lock('h2', [range(S | FI)]), OK)
  t.equal(lock('h2', [range(U)]), OK)
  t.equal(lock('h', [range(X | FI)]), OK)
  t.equal(lock('h2', [range(S | FI)]), NOT_GRANTED)
  t.equal(lock('h', [range(U)]), OK)
  t.equal(lock('h', [range(S | FI)]), OK)
  t.equal(lock('h', [range(X | FI)]), NOT_GRANTED, 'exclusive on the same open shared')
  t.equal(lock('h', [range(U)]), OK)
  t.equal(lock('h', [range(X | FI)]), OK)
  t.equal(lock('h', [range(X | FI)]), NOT_GRANTED, 'two exclusive never stack')
  t.equal(lock('h', [range(U)]), OK)
  t.same(table.snapshot(), [])
})

t.test('smb2.lock.context: the process id plays no part, the open does', async (t) => {
  const { lock } = harness()
  t.equal(lock('h', [[0, 10, X | FI]]), OK)
  t.equal(lock('h', [[0, 10, U]]), OK)
  t.equal(lock('h', [[0, 10, U]]), NOT_LOCKED)
})

t.test('smb2.lock.range: locks spread across the 64-bit space', async (t) => {
  const { lock } = harness()
  const numops = 100n
  const offsets = Array.from({ length: Number(numops) }, (_, index) => (BigInt(index) + 1n) * (UINT64_MAX / numops))
  for (const offset of offsets) {
    t.equal(lock('h', [[offset - 1n, 1, X | FI]]), OK)
    t.equal(lock('h2', [[offset - 2n, 1, X | FI]]), OK)
  }
  for (const offset of offsets) {
    for (const open of ['h', 'h2']) {
      if (lock(open, [[offset - 1n, 1, X | FI]]) !== NOT_GRANTED || lock(open, [[offset - 2n, 1, X | FI]]) !== NOT_GRANTED) t.fail(`${open} got a lock at ${offset}`)
    }
  }
  for (const offset of offsets) {
    t.equal(lock('h', [[offset - 1n, 1, U]]), OK)
    t.equal(lock('h2', [[offset - 2n, 1, U]]), OK)
  }
})

t.test('smb2.lock.overlap', async (t) => {
  // h and h2 are opens of one session, h3 of another session: only the open matters.
  const { lock, table } = harness()
  const both = (a: string, aRange: Element, b: string, bRange: Element) => lock(a, [aRange]) === OK && lock(b, [bRange]) === OK
  t.equal(both('h', [0, 4, X | FI], 'h', [2, 4, X | FI]), false, 'the same open cannot set overlapping exclusive locks')
  t.equal(both('h', [10, 4, S | FI], 'h', [12, 4, S | FI]), true, 'the same open can set overlapping shared locks')
  t.equal(both('h', [20, 4, X | FI], 'h3', [22, 4, X | FI]), false, 'another session cannot set overlapping exclusive locks')
  t.equal(both('h', [30, 4, S | FI], 'h3', [32, 4, S | FI]), true)
  t.equal(both('h', [40, 4, X | FI], 'h2', [42, 4, X | FI]), false, 'another open cannot set overlapping exclusive locks')
  t.equal(both('h', [50, 4, S | FI], 'h2', [52, 4, S | FI]), true)
  t.equal(lock('h', [[110, 4, S | FI]]) === OK && lock('h', [[112, 4, S | FI]]) === OK && lock('h', [[110, 6, U]]) === OK, false, 'read locks do not coalesce')
  table.closeOpen('h2')
  table.closeOpen('h')
  t.ok(lock('h', [[0, 8, S | FI]]) === OK && lock('h2', [[0, 1, S | FI]]) === OK, 'two shared locks')
  table.closeOpen('h')
  t.equal(lock('h', [[7, 1, X | FI]]), OK, 'no NT byte range lock bug: the closed open left nothing behind')
})

t.test('smb2.lock.replay: lock sequence slots (checkLockSequence)', async (t) => {
  const { lock } = harness({ checkLockSequence: true })
  const range = (flags: number): Element => [100, 100, flags]
  // Slot 0 is no slot: nothing is replayed.
  t.equal(lock('h', [range(X | FI)], 0x001), OK)
  t.equal(lock('h', [range(X | FI)], 0x001), NOT_GRANTED)
  t.equal(lock('h', [range(U)], 0x001), OK)
  t.equal(lock('h', [range(U)], 0x001), NOT_LOCKED)
  // Slot 1, number 1: repeats of the same request are replays and do nothing.
  t.equal(lock('h', [range(X | FI)], 0x011), OK)
  t.equal(lock('h', [range(X | FI)], 0x011), OK)
  t.equal(lock('h', [range(U)], 0x011), OK)
  t.equal(lock('h', [range(X | FI)], 0x011), OK)
  t.equal(lock('h', [range(U)], 0x011), OK)
  t.equal(lock('h', [range(U)], 0x011), OK, 'still locked')
  t.equal(lock('h', [range(X | FI)], 0x012), NOT_GRANTED, 'another number is a new request')
  t.equal(lock('h', [range(X | FI)], 0x012), NOT_GRANTED, 'and a failed one empties the slot')
  t.equal(lock('h', [range(X | FI)], 0x021), NOT_GRANTED, 'slot 2')
  t.equal(lock('h', [range(X | FI)], 0x021), NOT_GRANTED)
  // Slot 65 does not exist.
  t.equal(lock('h', [range(X | FI)], 0x411), NOT_GRANTED)
  t.equal(lock('h', [range(X | FI)], 0x411), NOT_GRANTED)
  t.equal(lock('h', [range(U)], 0x411), OK)
  t.equal(lock('h', [range(U)], 0x411), NOT_LOCKED)
  t.equal(lock('h', [range(X | FI)], 0x411), OK)
  // Slot 64.
  t.equal(lock('h', [range(X | FI)], 0x401), NOT_GRANTED)
  t.equal(lock('h', [range(X | FI)], 0x401), NOT_GRANTED)
  t.equal(lock('h', [range(U)], 0x402), OK, 'a new number unlocks')
  t.equal(lock('h', [range(U)], 0x402), OK, 'its replay is ignored')
  t.equal(lock('h', [range(X | FI)], 0x402), OK, 'so is a lock with the same number')
  t.equal(lock('h', [range(U)], 0x403), NOT_LOCKED, 'nothing is locked')
})

t.test('a waiting lock fills its sequence slot when granted', async (t) => {
  const { table, lock, send } = harness({ checkLockSequence: true })
  t.equal(lock('h', [[0, 10, X]]), OK)
  const waiting = send('h2', [[0, 10, X]], 0x015)
  t.equal(waiting.outcome.kind, 'pending')
  t.same(table.closeOpen('h').map((completion) => completion.status), [OK])
  t.equal(lock('h2', [[0, 10, X]], 0x015), OK, 'a replay of the granted request')
  t.same(table.snapshot().length, 1)
})

t.test('bounds: locks and waiting requests per file', async (t) => {
  const table = new ByteRangeLockTable({ maxLocksPerFile: 3, maxPendingPerFile: 1 })
  const lock = (open: string, offset: number, flags: number, requestKey = `${open}-${offset}-${flags}`) =>
    table.lock({ fileKey: 'f', openKey: open, requestKey, elements: [{ offset: BigInt(offset), length: 1n, flags }], lockSequence: 0, checkLockSequence: false })
  for (const offset of [0, 1, 2]) t.match(lock('h', offset, X | FI), { status: OK })
  t.match(lock('h', 3, X | FI), { kind: 'done', status: NT_STATUS.INSUFFICIENT_RESOURCES })
  t.match(lock('h', 3, X), { kind: 'done', status: NT_STATUS.INSUFFICIENT_RESOURCES })
  t.match(lock('h2', 0, X, 'a'), { kind: 'pending' })
  t.match(lock('h2', 1, X, 'b'), { kind: 'done', status: NT_STATUS.INSUFFICIENT_RESOURCES }, 'one waiting request only')
  t.throws(() => new ByteRangeLockTable({ maxLocksPerFile: 0, maxPendingPerFile: 1 }))
  t.throws(() => table.lock({ fileKey: 'other', openKey: 'h', requestKey: 'x', elements: [{ offset: 0n, length: 1n, flags: X | FI }], lockSequence: 0, checkLockSequence: false }), 'an open belongs to one file')
})

// ---------------------------------------------------------------------------------------------
// Model-based property test
// ---------------------------------------------------------------------------------------------

/** Opens and their files: A and B share a file, C has one of its own. */
const OPEN_FILE: Record<string, string> = { A: 'f1', B: 'f1', C: 'f2' }
const OPENS = Object.keys(OPEN_FILE)

interface ModelLock {
  open: string
  offset: number
  length: number
  exclusive: boolean
}
interface ModelPending extends ModelLock {
  request: string
  slot: [number, number] | null
}

/**
 * A second implementation over small offsets. A range is a set of half-steps: [o, o+l) with
 * l > 0 covers 2o+1 .. 2(o+l)-1, a zero-length range at o covers 2o; two ranges overlap when
 * they share a half-step, except two zero-length ones.
 */
class Model {
  locks: ModelLock[] = []
  pending: ModelPending[] = []
  slots = new Map<string, number[]>()

  static cover(lock: { offset: number; length: number }): Set<number> {
    if (lock.length === 0) return new Set([2 * lock.offset])
    const steps = new Set<number>()
    for (let step = 2 * lock.offset + 1; step <= 2 * (lock.offset + lock.length) - 1; step++) steps.add(step)
    return steps
  }

  static overlap(a: { offset: number; length: number }, b: { offset: number; length: number }): boolean {
    if (a.length === 0 && b.length === 0) return false
    const cover = Model.cover(b)
    return [...Model.cover(a)].some((step) => cover.has(step))
  }

  blocked(wanted: ModelLock): boolean {
    return this.locks.some((held) => OPEN_FILE[held.open] === OPEN_FILE[wanted.open] && Model.overlap(wanted, held) && (wanted.exclusive || (held.exclusive && held.open !== wanted.open)))
  }

  grant(): LockCompletion[] {
    const completions: LockCompletion[] = []
    for (const waiting of [...this.pending]) {
      if (this.blocked(waiting)) continue
      this.pending.splice(this.pending.indexOf(waiting), 1)
      this.locks.push({ open: waiting.open, offset: waiting.offset, length: waiting.length, exclusive: waiting.exclusive })
      if (waiting.slot !== null) this.slotsOf(waiting.open)[waiting.slot[0] - 1] = waiting.slot[1]
      completions.push({ requestKey: waiting.request, openKey: waiting.open, status: OK })
    }
    return completions
  }

  slotsOf(open: string): number[] {
    if (!this.slots.has(open)) this.slots.set(open, new Array<number>(64).fill(-1))
    return this.slots.get(open)!
  }

  lock(open: string, request: string, elements: Array<{ offset: number; length: number; flags: number }>, lockSequence: number, check: boolean): LockOutcome {
    const done = (status: number, completions: LockCompletion[] = []): LockOutcome => ({ kind: 'done', status, completions })
    if (elements.length === 0) return done(INVALID)
    let slot: [number, number] | null = null
    if (check && lockSequence >>> 4 >= 1 && lockSequence >>> 4 <= 64) {
      slot = [lockSequence >>> 4, lockSequence & 0xf]
      if (this.slotsOf(open)[slot[0] - 1] === slot[1]) return done(OK)
      this.slotsOf(open)[slot[0] - 1] = -1
    }
    const fill = () => {
      if (slot !== null) this.slotsOf(open)[slot[0] - 1] = slot[1]
    }
    const first = elements[0].flags
    if (first === U) {
      let released = false
      let status: number = OK
      for (const element of elements) {
        if (element.flags !== U) {
          status = INVALID
          break
        }
        const same = (held: ModelLock, exclusive: boolean) => held.open === open && held.offset === element.offset && held.length === element.length && held.exclusive === exclusive
        const found = this.locks.find((held) => same(held, true)) ?? this.locks.find((held) => same(held, false))
        if (found === undefined) {
          status = NOT_LOCKED
          break
        }
        this.locks.splice(this.locks.indexOf(found), 1)
        released = true
      }
      const completions = released ? this.grant() : []
      if (status === OK) fill()
      return done(status, completions)
    }
    const lockOf = (element: { offset: number; length: number; flags: number }): ModelLock => ({ open, offset: element.offset, length: element.length, exclusive: (element.flags & X) !== 0 })
    if (first === S || first === X) {
      if (elements.length > 1) return done(INVALID)
      const wanted = lockOf(elements[0])
      if (!this.blocked(wanted)) {
        this.locks.push(wanted)
        fill()
        return done(OK)
      }
      this.pending.push({ ...wanted, request, slot })
      return { kind: 'pending', completions: [] }
    }
    if (elements.some((element) => element.flags !== (S | FI) && element.flags !== (X | FI))) return done(INVALID)
    const taken: ModelLock[] = []
    for (const element of elements) {
      const wanted = lockOf(element)
      if (this.blocked(wanted)) {
        for (const lock of taken) this.locks.splice(this.locks.indexOf(lock), 1)
        return done(NOT_GRANTED)
      }
      this.locks.push(wanted)
      taken.push(wanted)
    }
    fill()
    return done(OK)
  }

  cancel(request: string): LockCompletion[] {
    const waiting = this.pending.find((entry) => entry.request === request)
    if (waiting === undefined) return []
    this.pending.splice(this.pending.indexOf(waiting), 1)
    return [{ requestKey: request, openKey: waiting.open, status: NT_STATUS.CANCELLED }]
  }

  close(open: string): LockCompletion[] {
    this.slots.delete(open)
    const completions: LockCompletion[] = this.pending.filter((entry) => entry.open === open).map((entry) => ({ requestKey: entry.request, openKey: open, status: NOT_LOCKED }))
    this.pending = this.pending.filter((entry) => entry.open !== open)
    const before = this.locks.length
    this.locks = this.locks.filter((held) => held.open !== open)
    return this.locks.length !== before ? [...completions, ...this.grant()] : completions
  }

  io(open: string, offset: number, length: number, write: boolean): number {
    if (length === 0) return OK
    const range = { offset, length }
    const conflict = this.locks.some((held) => OPEN_FILE[held.open] === OPEN_FILE[open] && Model.overlap(range, held) && (held.exclusive ? held.open !== open : write))
    return conflict ? CONFLICT : OK
  }
}

type Op =
  | { kind: 'lock'; open: string; elements: Array<{ offset: number; length: number; flags: number }>; lockSequence: number; check: boolean }
  /** An unlock of a lock the model holds (random ranges rarely match one exactly). */
  | { kind: 'unlock-held'; pick: number }
  | { kind: 'cancel'; pick: number }
  | { kind: 'close'; open: string }
  | { kind: 'io'; open: string; offset: number; length: number; write: boolean }

const flagsArb = fc.oneof(
  { arbitrary: fc.constantFrom(S | FI, X | FI), weight: 6 },
  { arbitrary: fc.constantFrom(S, X), weight: 4 },
  { arbitrary: fc.constant(U), weight: 5 },
  { arbitrary: fc.constantFrom(0, S | X | FI, U | FI, U | S, 0x20, S | X), weight: 1 },
)
const elementArb = fc.record({ offset: fc.nat({ max: 12 }), length: fc.nat({ max: 6 }), flags: flagsArb })
const openArb = fc.constantFrom(...OPENS)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('lock' as const),
      open: openArb,
      elements: fc.array(elementArb, { minLength: 1, maxLength: 3 }),
      lockSequence: fc.oneof(fc.constant(0), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat({ max: 2 })).map(([index, number]) => (index << 4) | number)),
      check: fc.boolean(),
    }),
    weight: 10,
  },
  { arbitrary: fc.record({ kind: fc.constant('unlock-held' as const), pick: fc.nat({ max: 20 }) }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat({ max: 20 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('close' as const), open: openArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('io' as const), open: openArb, offset: fc.nat({ max: 12 }), length: fc.nat({ max: 6 }), write: fc.boolean() }), weight: 3 },
)

function heldKey(lock: { open: string; offset: number; length: number; exclusive: boolean }): string {
  return `${lock.open}:${lock.offset}+${lock.length}:${lock.exclusive ? 'X' : 'S'}`
}

t.test("a persistent open's locks move with it: locksOf on the old owner, restore on the new one", async (t) => {
  const old = new ByteRangeLockTable()
  const lock = (open: string, offset: bigint, length: bigint, flags: number) =>
    old.lock({ fileKey: 'file', openKey: open, requestKey: `r-${open}-${offset}`, elements: [{ offset, length, flags }], lockSequence: 0, checkLockSequence: false })
  t.equal(lock('p', 0n, 10n, X | FI).kind, 'done')
  t.equal(lock('p', 100n, 5n, S | FI).kind, 'done')
  t.equal(lock('p', 100n, 5n, S | FI).kind, 'done', 'stacked')
  t.equal(lock('q', 200n, 1n, X | FI).kind, 'done')
  const held = old.locksOf('p')
  t.same(held, [
    { offset: 0n, length: 10n, exclusive: true },
    { offset: 100n, length: 5n, exclusive: false },
    { offset: 100n, length: 5n, exclusive: false },
  ])
  t.same(old.locksOf('nobody'), [])
  const fresh = new ByteRangeLockTable({ maxLocksPerFile: 3, maxPendingPerFile: 1 })
  t.equal(fresh.restore('file', 'p', [...held, { offset: UINT64_MAX, length: 2n, exclusive: true }]), 3, 'a range past 2^64 is dropped')
  t.equal(fresh.checkIo('file', 'other', 5n, 1n, false), CONFLICT, "another open cannot read under p's exclusive lock")
  t.equal(fresh.checkIo('file', 'other', 101n, 1n, true), CONFLICT, "nor write under its shared lock")
  t.equal(fresh.checkIo('file', 'p', 5n, 1n, true), OK, 'p itself can')
  const contend = fresh.lock({ fileKey: 'file', openKey: 'other', requestKey: 'c', elements: [{ offset: 0n, length: 1n, flags: X | FI }], lockSequence: 0, checkLockSequence: false })
  t.same(contend, { kind: 'done', status: NOT_GRANTED, completions: [] })
  t.equal(fresh.restore('file', 'p2', [{ offset: 500n, length: 1n, exclusive: true }]), 0, 'past maxLocksPerFile nothing more is taken')
  const unlock = fresh.lock({ fileKey: 'file', openKey: 'p', requestKey: 'u', elements: [{ offset: 0n, length: 10n, flags: U }], lockSequence: 0, checkLockSequence: false })
  t.equal(unlock.kind === 'done' && unlock.status, OK, 'p unlocks what it held before the move')
  t.same(fresh.closeOpen('p'), [])
  t.same(fresh.sizes(), { files: 0, opens: 2, pending: 0 }, 'p gone with its locks; other and p2 hold nothing')
})

t.test('the LockSequenceArray moves with the locks: a LOCK replayed at the new owner is recognised', async (t) => {
  const old = new ByteRangeLockTable()
  const send = (table: ByteRangeLockTable, lockSequence: number) =>
    table.lock({ fileKey: 'file', openKey: 'p', requestKey: `r${lockSequence}`, elements: [{ offset: 0n, length: 10n, flags: X | FI }], lockSequence, checkLockSequence: true })
  const index = 5
  t.same(send(old, (index << 4) | 3), { kind: 'done', status: OK, completions: [] }, 'the lock, sequence number 3 in slot 5')
  t.same(old.sequencesOf('p'), [{ index, number: 3 }])
  t.same(old.sequencesOf('nobody'), [])
  const moved = new ByteRangeLockTable()
  moved.restore('file', 'p', old.locksOf('p'), [...old.sequencesOf('p'), { index: 65, number: 1 }, { index: 2, number: 16 }])
  t.same(moved.sequencesOf('p'), [{ index, number: 3 }], 'slots out of range are dropped')
  t.same(send(moved, (index << 4) | 3), { kind: 'done', status: OK, completions: [] }, 'the replay is recognised, not taken again')
  const fresh = new ByteRangeLockTable()
  fresh.restore('file', 'p', old.locksOf('p'))
  t.equal((send(fresh, (index << 4) | 3) as { status: number }).status, NOT_GRANTED, 'without the slots the exclusive lock would refuse itself')
})

t.test('model-based: the table agrees with a second implementation and keeps its invariants', async (t) => {
  // What the runs exercised, so a generator that stops reaching a case shows.
  const seen = new Set<string>()
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 10, maxLength: 80 }), (ops) => {
      const table = new ByteRangeLockTable()
      const model = new Model()
      const issued: string[] = []
      ops.forEach((planned, step) => {
        let op = planned
        if (op.kind === 'unlock-held') {
          const held = model.locks[op.pick % Math.max(1, model.locks.length)]
          if (held === undefined) return
          op = { kind: 'lock', open: held.open, elements: [{ offset: held.offset, length: held.length, flags: U }], lockSequence: 0, check: false }
        }
        let actual: unknown
        let expected: unknown
        switch (op.kind) {
          case 'lock': {
            const request = `q${step}`
            issued.push(request)
            actual = table.lock({ fileKey: OPEN_FILE[op.open], openKey: op.open, requestKey: request, elements: op.elements.map((e) => ({ offset: BigInt(e.offset), length: BigInt(e.length), flags: e.flags })), lockSequence: op.lockSequence, checkLockSequence: op.check })
            expected = model.lock(op.open, request, op.elements, op.lockSequence, op.check)
            break
          }
          case 'cancel': {
            // Mostly a request that waits; sometimes any request issued (cancelling nothing).
            const candidates = op.pick % 4 === 0 || model.pending.length === 0 ? issued : model.pending.map((entry) => entry.request)
            const request = candidates[op.pick % Math.max(1, candidates.length)] ?? 'none'
            actual = table.cancel(request)
            expected = model.cancel(request)
            break
          }
          case 'close':
            actual = table.closeOpen(op.open)
            expected = model.close(op.open)
            break
          case 'io':
            actual = table.checkIo(OPEN_FILE[op.open], op.open, BigInt(op.offset), BigInt(op.length), op.write)
            expected = model.io(op.open, op.offset, op.length, op.write)
            break
        }
        if (op.kind === 'lock') {
          const outcome = actual as LockOutcome
          seen.add(outcome.kind === 'pending' ? 'pending' : `0x${outcome.status.toString(16)}`)
          if (outcome.completions.length > 0) seen.add('granted by unlock')
        }
        if (op.kind === 'close' && (actual as LockCompletion[]).some((completion) => completion.status === OK)) seen.add('granted by close')
        if (op.kind === 'cancel' && (actual as LockCompletion[]).length > 0) seen.add('cancelled')
        if (op.kind === 'io' && actual === CONFLICT) seen.add('io conflict')
        if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`step ${step} ${JSON.stringify(op)}: table ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`)
        const held = table
          .snapshot()
          .map((lock) => heldKey({ open: lock.openKey, offset: Number(lock.offset), length: Number(lock.length), exclusive: lock.exclusive }))
          .sort()
        const modelHeld = model.locks.map(heldKey).sort()
        if (JSON.stringify(held) !== JSON.stringify(modelHeld)) throw new Error(`step ${step}: held ${held} vs model ${modelHeld}`)
        if (JSON.stringify(table.pendingRequests().sort()) !== JSON.stringify(model.pending.map((entry) => entry.request).sort())) throw new Error(`step ${step}: pending differ`)
        // Invariant: an exclusive lock overlaps only shared locks of its own open.
        for (const a of model.locks) {
          for (const b of model.locks) {
            if (a === b || !a.exclusive || OPEN_FILE[a.open] !== OPEN_FILE[b.open] || !Model.overlap(a, b)) continue
            if (b.exclusive || b.open !== a.open) throw new Error(`step ${step}: ${heldKey(a)} overlaps ${heldKey(b)}`)
          }
        }
        // Invariant: nothing waits that could be granted.
        for (const waiting of model.pending) if (!model.blocked(waiting)) throw new Error(`step ${step}: ${waiting.request} waits for nothing`)
      })
      // Closing every open leaves nothing behind.
      for (const open of OPENS) table.closeOpen(open)
      return table.snapshot().length === 0 && table.sizes().files === 0 && table.sizes().opens === 0 && table.sizes().pending === 0
    }),
    // Seeded, as the coverage check below depends on what the runs happened to reach; PROPERTY_SEED explores others.
    { numRuns: 1_500, seed: Number(process.env.PROPERTY_SEED ?? 20261206) },
  )
  for (const wanted of ['pending', 'granted by unlock', 'granted by close', 'cancelled', 'io conflict', ...[OK, NOT_GRANTED, NOT_LOCKED, INVALID].map((status) => `0x${status.toString(16)}`)]) {
    t.ok(seen.has(wanted), `the runs reached ${wanted}`)
  }
})
