// The oplock and lease table (core/smb/oplock-lease-table.ts): smbtorture's smb2.lease and
// smb2.oplock expectations as transcripts (grants, upgrades, breaks, acknowledgments,
// timeouts), Windows' scale-out rules, and a property test over random schedules of opens,
// writes, acknowledgments, closes and clock ticks with the table's invariants checked after
// every step. Time is an input: the break timeout is exercised without waiting.
import t from 'tap'
import fc from 'fast-check'
import { ACCESS } from '../../protocol/smb2/constants.js'
import { BREAK_TIMEOUT_MS, LEASE, OPLOCK_LEVEL, OplockLeaseTable, grantableLeaseState, type BreakNotice, type NewOpen, type OplockLeaseEffect } from '../../core/smb/oplock-lease-table.js'

const R = LEASE.R
const H = LEASE.H
const W = LEASE.W
const RW_ACCESS = ACCESS.READ_DATA | ACCESS.WRITE_DATA
const SHARE_ALL = 7
const GENERAL = { scaleOut: false }
const SOFS = { scaleOut: true }
const FILE = 'share-1/lease.dat'

let nextId = 0
function open(over: Partial<NewOpen> = {}): NewOpen {
  return {
    persistentId: `p${++nextId}`,
    fileKey: FILE,
    clientGuid: 'client-a',
    access: RW_ACCESS,
    shareAccess: SHARE_ALL,
    directory: false,
    overwrites: false,
    requestedOplock: OPLOCK_LEVEL.NONE,
    lease: null,
    ...over,
  }
}
const leased = (key: string, state: number, over: Partial<NewOpen> = {}) => open({ requestedOplock: OPLOCK_LEVEL.LEASE, lease: { key, state, version: 1 }, ...over })
const oplocked = (level: number, over: Partial<NewOpen> = {}) => open({ requestedOplock: level, ...over })
const noConflict = () => false
const sent = (effects: readonly OplockLeaseEffect[]): BreakNotice[] => effects.flatMap((e) => (e.kind === 'send' ? [e.notice] : []))

t.test('lease.request: R, RH, RW, RWH granted as asked; H, W, HW get none', async (t) => {
  for (const [asked, got] of [[0, 0], [R, R], [H, 0], [W, 0], [R | H, R | H], [R | W, R | W], [H | W, 0], [R | H | W, R | H | W]]) {
    t.equal(grantableLeaseState(asked), got, `asked ${asked}`)
    const table = new OplockLeaseTable()
    const g = table.opened(leased('k1', asked), GENERAL)
    t.equal(g.oplockLevel, OPLOCK_LEVEL.LEASE)
    t.equal(g.lease?.state, got)
  }
})

t.test('a lease key of one client names one file: another file is INVALID_PARAMETER', async (t) => {
  const table = new OplockLeaseTable()
  table.opened(leased('k1', R | H | W), GENERAL)
  t.ok(table.planOpen(leased('k1', R, { fileKey: 'share-1/other.dat' }), 0, noConflict).leaseKeyConflict)
  t.notOk(table.planOpen(leased('k1', R, { fileKey: 'share-1/other.dat', clientGuid: 'client-b' }), 0, noConflict).leaseKeyConflict, "another client's key is its own")
})

t.test('lease.upgrade: only a superset of the held state upgrades; a second open shares the lease', async (t) => {
  const table = new OplockLeaseTable()
  t.equal(table.opened(leased('k1', R | H), GENERAL).lease?.state, R | H)
  t.equal(table.opened(leased('k1', R | W), GENERAL).lease?.state, R | H, 'RW asked over RH: RH stays')
  t.equal(table.opened(leased('k1', R | H | W), GENERAL).lease?.state, R | H | W, 'RWH asked over RH: RWH')
  t.equal(table.opened(leased('k1', R | H), GENERAL).lease?.state, R | H | W, 'never downgraded by a request')
  t.equal(table.counts().leases, 1)
})

t.test('lease.break: a second client breaks RWH to RH, waits for the ack, then both hold RH', async (t) => {
  const table = new OplockLeaseTable()
  const first = leased('k1', R | H | W)
  table.opened(first, GENERAL)
  const second = leased('k2', R | H | W, { clientGuid: 'client-b' })
  const plan = table.planOpen(second, 1000, noConflict)
  t.ok(plan.mustWait)
  const notices = sent(plan.effects)
  t.equal(notices.length, 1)
  t.match(notices[0], { kind: 'lease', key: 'k1', currentState: R | H | W, newState: R | H, ackRequired: true, persistentIds: [first.persistentId] })
  t.ok(plan.effects.some((e) => e.kind === 'deadline' && e.atMs === 1000 + BREAK_TIMEOUT_MS))
  t.ok(table.planOpen(second, 1001, noConflict).mustWait, 'planned again before the ack: still waits, nothing sent twice')
  t.same(sent(table.planOpen(second, 1001, noConflict).effects), [])
  t.same(table.ackLease('client-a', 'k1', R | H | W), { status: 'not-accepted', state: R | H | W }, 'an ack above the break is refused')
  t.same(table.ackLease('client-a', 'k1', R | H), { status: 'ok', state: R | H })
  t.same(table.ackLease('client-a', 'k1', R | H), { status: 'unsuccessful', state: R | H }, 'no break under way')
  t.same(table.ackLease('client-a', 'nope', R), { status: 'not-found', state: 0 })
  t.notOk(table.planOpen(second, 1002, noConflict).mustWait)
  t.equal(table.opened(second, GENERAL).lease?.state, R | H, 'no W beside another lease')
})

t.test('lease.timeout: an unacknowledged break ends at the timeout with the lease at none; a late ack is UNSUCCESSFUL', async (t) => {
  const table = new OplockLeaseTable()
  table.opened(leased('k1', R | H | W), GENERAL)
  const second = leased('k2', R | H | W, { clientGuid: 'client-b' })
  t.ok(table.planOpen(second, 0, noConflict).mustWait)
  t.same(table.tick(BREAK_TIMEOUT_MS - 1), { timedOut: 0, nextDeadlineMs: BREAK_TIMEOUT_MS })
  t.same(table.tick(BREAK_TIMEOUT_MS), { timedOut: 1, nextDeadlineMs: null })
  t.notOk(table.planOpen(second, BREAK_TIMEOUT_MS, noConflict).mustWait)
  t.equal(table.opened(second, GENERAL).lease?.state, R | H)
  t.equal(table.ackLease('client-a', 'k1', R | H).status, 'unsuccessful')
})

t.test('a write breaks read-only leases and level II oplocks of others to none, unacknowledged', async (t) => {
  const table = new OplockLeaseTable()
  const writer = open()
  table.opened(writer, GENERAL)
  const reader = leased('k1', R, { clientGuid: 'client-b' })
  t.equal(table.opened(reader, GENERAL).lease?.state, R)
  const level2 = oplocked(OPLOCK_LEVEL.LEVEL_II)
  t.equal(table.opened(level2, GENERAL).oplockLevel, OPLOCK_LEVEL.LEVEL_II)
  const notices = sent(table.wrote(writer.persistentId, 0))
  t.same(notices.map((n) => [n.kind, n.ackRequired]).sort(), [['lease', false], ['oplock', false]])
  t.equal(table.leaseOf(reader.persistentId)?.state, 0)
  t.equal(table.oplockOf(level2.persistentId), OPLOCK_LEVEL.NONE)
  t.same(sent(table.wrote(writer.persistentId, 0)), [], 'nothing left to break')
})

t.test('oplocks: batch alone, level II beside others; a second opener breaks batch to level II and waits', async (t) => {
  const table = new OplockLeaseTable()
  const first = oplocked(OPLOCK_LEVEL.BATCH)
  t.equal(table.opened(first, GENERAL).oplockLevel, OPLOCK_LEVEL.BATCH)
  const second = oplocked(OPLOCK_LEVEL.BATCH)
  const plan = table.planOpen(second, 0, noConflict)
  t.ok(plan.mustWait)
  t.match(sent(plan.effects), [{ kind: 'oplock', persistentId: first.persistentId, toLevel: OPLOCK_LEVEL.LEVEL_II, ackRequired: true }])
  t.same(table.ackOplock(first.persistentId, OPLOCK_LEVEL.LEVEL_II), { status: 'ok', level: OPLOCK_LEVEL.LEVEL_II })
  t.equal(table.ackOplock(first.persistentId, OPLOCK_LEVEL.NONE).status, 'invalid-protocol', 'no break under way')
  t.notOk(table.planOpen(second, 1, noConflict).mustWait)
  t.equal(table.opened(second, GENERAL).oplockLevel, OPLOCK_LEVEL.LEVEL_II)
})

t.test('an overwrite breaks batch to none; a stat open breaks nothing', async (t) => {
  const table = new OplockLeaseTable()
  const first = oplocked(OPLOCK_LEVEL.BATCH)
  table.opened(first, GENERAL)
  t.notOk(table.planOpen(open({ access: ACCESS.READ_ATTRIBUTES }), 0, noConflict).mustWait)
  const plan = table.planOpen(open({ overwrites: true }), 0, noConflict)
  t.match(sent(plan.effects), [{ kind: 'oplock', toLevel: OPLOCK_LEVEL.NONE }])
})

t.test('a sharing conflict with a handle-cached open breaks H so that the client can close it', async (t) => {
  const table = new OplockLeaseTable()
  table.opened(leased('k1', R | H), GENERAL)
  const plan = table.planOpen(open({ clientGuid: 'client-b' }), 0, () => true)
  t.ok(plan.mustWait)
  t.match(sent(plan.effects), [{ kind: 'lease', currentState: R | H, newState: R, ackRequired: true }])
})

t.test('closing the last open of a lease ends it and the break it owed', async (t) => {
  const table = new OplockLeaseTable()
  const first = leased('k1', R | H | W)
  table.opened(first, GENERAL)
  const second = leased('k2', R, { clientGuid: 'client-b' })
  t.ok(table.planOpen(second, 0, noConflict).mustWait)
  table.closed(first.persistentId)
  t.notOk(table.planOpen(second, 0, noConflict).mustWait)
  t.same(table.counts(), { opens: 0, leases: 0 })
})

t.test('v2: epochs count state changes; the parent key is echoed', async (t) => {
  const table = new OplockLeaseTable()
  const g = table.opened(open({ requestedOplock: OPLOCK_LEVEL.LEASE, lease: { key: 'k1', state: R | H, version: 2, parentKey: 'pp', epoch: 0 } }), GENERAL)
  t.match(g.lease, { state: R | H, epoch: 1, flags: 0x04, parentKey: 'pp', version: 2 })
  const up = table.opened(open({ requestedOplock: OPLOCK_LEVEL.LEASE, lease: { key: 'k1', state: R | H | W, version: 2, epoch: 0 } }), GENERAL)
  t.equal(up.lease?.epoch, 2)
  const plan = table.planOpen(leased('k2', R, { clientGuid: 'client-b' }), 0, noConflict)
  t.match(sent(plan.effects), [{ kind: 'lease', version: 2, newEpoch: 3, newState: R | H }])
})

t.test('scale-out shares: no batch or exclusive oplock (level II instead), leases read-only (MS-SMB2 3.3.5.9)', async (t) => {
  const table = new OplockLeaseTable()
  t.equal(table.opened(oplocked(OPLOCK_LEVEL.BATCH), SOFS).oplockLevel, OPLOCK_LEVEL.LEVEL_II)
  t.equal(table.opened(oplocked(OPLOCK_LEVEL.EXCLUSIVE, { fileKey: 'share-1/x' }), SOFS).oplockLevel, OPLOCK_LEVEL.LEVEL_II)
  t.equal(table.opened(leased('k1', R | H | W, { fileKey: 'share-1/y' }), SOFS).lease?.state, R)
})

t.test('directories get no oplock and no lease (smbtorture lease.request without directory leasing)', async (t) => {
  const table = new OplockLeaseTable()
  t.equal(table.opened(oplocked(OPLOCK_LEVEL.BATCH, { directory: true }), GENERAL).oplockLevel, OPLOCK_LEVEL.NONE)
  t.same(table.opened(leased('k1', R | H, { directory: true, fileKey: 'share-1/d' }), GENERAL), { oplockLevel: OPLOCK_LEVEL.NONE, lease: null })
})

t.test('a sharing violation breaks batch to level II but not exclusive (oplock.batch1, exclusive1)', async (t) => {
  const table = new OplockLeaseTable()
  const x = oplocked(OPLOCK_LEVEL.EXCLUSIVE)
  table.opened(x, GENERAL)
  t.same(table.planOpen(open(), 0, () => true), { effects: [], mustWait: false, leaseKeyConflict: false })
  const other = new OplockLeaseTable()
  const b = oplocked(OPLOCK_LEVEL.BATCH)
  other.opened(b, GENERAL)
  const plan = other.planOpen(open(), 0, () => true)
  t.ok(plan.mustWait)
  t.match(sent(plan.effects), [{ kind: 'oplock', toLevel: OPLOCK_LEVEL.LEVEL_II }])
})

t.test('random schedules keep the invariants: W only alone, batch only alone, every breaking lease has a deadline', async (t) => {
  type Step =
    | { kind: 'open'; client: number; key: number; state: number; oplock: number; overwrites: boolean }
    | { kind: 'write'; which: number }
    | { kind: 'ack'; which: number; state: number }
    | { kind: 'close'; which: number }
    | { kind: 'tick'; ms: number }
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('open' as const), client: fc.integer({ min: 0, max: 2 }), key: fc.integer({ min: 0, max: 2 }), state: fc.integer({ min: 0, max: 7 }), oplock: fc.constantFrom(0, 1, 8, 9, 0xff), overwrites: fc.boolean() }),
    fc.record({ kind: fc.constant('write' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('ack' as const), which: fc.nat(), state: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('close' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  )
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      const table = new OplockLeaseTable()
      const live: NewOpen[] = []
      let now = 0
      for (const s of steps) {
        if (s.kind === 'open') {
          const o = open({ clientGuid: `c${s.client}`, requestedOplock: s.oplock, overwrites: s.overwrites, lease: s.oplock === 0xff ? { key: `k${s.key}`, state: s.state, version: 1 } : null })
          const plan = table.planOpen(o, now, noConflict)
          if (plan.leaseKeyConflict || plan.mustWait) continue
          table.opened(o, GENERAL)
          live.push(o)
        } else if (s.kind === 'write' && live.length > 0) table.wrote(live[s.which % live.length].persistentId, now)
        else if (s.kind === 'ack' && live.length > 0) {
          const o = live[s.which % live.length]
          if (o.lease) table.ackLease(o.clientGuid, o.lease.key, s.state)
          else table.ackOplock(o.persistentId, s.state & 1)
        } else if (s.kind === 'close' && live.length > 0) table.closed(live.splice(s.which % live.length, 1)[0].persistentId)
        else if (s.kind === 'tick') {
          now += s.ms
          table.tick(now)
        }
        // Invariants.
        const leases = new Map<string, number>()
        for (const o of live) {
          const l = table.leaseOf(o.persistentId)
          if (l) leases.set(`${o.clientGuid}/${l.key}`, l.state)
        }
        const writers = [...leases.values()].filter((st) => st & W).length
        const exclusive = live.filter((o) => table.oplockOf(o.persistentId) >= OPLOCK_LEVEL.EXCLUSIVE).length
        if (writers + exclusive > 1) return false
        if (exclusive === 1 && live.length > 1 && live.some((o) => table.oplockOf(o.persistentId) === OPLOCK_LEVEL.LEVEL_II)) return false
        if (table.counts().opens !== live.length) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('a write or lock breaks a read-handle lease of another key to none, acknowledged (lease.lock1)', async (t) => {
  const table = new OplockLeaseTable()
  const writer = leased('k1', R | H)
  table.opened(writer, GENERAL)
  const other = leased('k2', R | H, { clientGuid: 'client-b' })
  table.opened(other, GENERAL)
  const effects = table.wrote(writer.persistentId, 10)
  t.match(sent(effects), [{ kind: 'lease', key: 'k2', currentState: R | H, newState: 0, ackRequired: true }])
  t.ok(effects.some((e) => e.kind === 'deadline' && e.atMs === 10 + BREAK_TIMEOUT_MS))
  t.equal(table.leaseOf(writer.persistentId)?.state, R | H, "the writer's own lease stays")
})

t.test('an overwrite breaks RH to none without waiting for the acknowledgment (lease.breaking4); W breaks are waited for', async (t) => {
  const table = new OplockLeaseTable()
  table.opened(leased('k1', R | H), GENERAL)
  const plan = table.planOpen(open({ clientGuid: 'client-b', overwrites: true }), 0, noConflict)
  t.match(sent(plan.effects), [{ kind: 'lease', currentState: R | H, newState: 0, ackRequired: true }])
  t.notOk(plan.mustWait)
  t.notOk(table.planOpen(open({ clientGuid: 'client-b', overwrites: true }), 1, noConflict).mustWait, 'nor while that break is under way')
})

t.test('restore: a persistent open taken over keeps its lease (state, epoch, key shared with its other opens) and its oplock; others break them as before the move', async (t) => {
  const table = new OplockLeaseTable()
  const first = open({ persistentId: 'taken-1' })
  const sibling = open({ persistentId: 'taken-2' })
  table.restore(first, OPLOCK_LEVEL.LEASE, { key: 'k1', version: 2, state: R | H | W, epoch: 3 })
  table.restore(sibling, OPLOCK_LEVEL.LEASE, { key: 'k1', version: 2, state: R | H | W, epoch: 3 })
  t.match(table.leaseOf('taken-1'), { key: 'k1', state: R | H | W, epoch: 3, version: 2, breaking: false })
  t.same(table.opensOfLease('client-a', 'k1').sort(), ['taken-1', 'taken-2'], 'one lease, both opens')
  t.equal(table.counts().leases, 1)
  const plan = table.planOpen(open({ clientGuid: 'client-b' }), 0, noConflict)
  t.ok(plan.mustWait, 'another client waits for the break of the restored lease')
  t.match(sent(plan.effects)[0], { kind: 'lease', key: 'k1', currentState: R | H | W, newState: R | H, newEpoch: 4, ackRequired: true })
  const batch = open({ persistentId: 'taken-3', fileKey: 'share-1/batch.dat' })
  table.restore(batch, OPLOCK_LEVEL.BATCH, null)
  t.equal(table.oplockOf('taken-3'), OPLOCK_LEVEL.BATCH)
  const breaks = sent(table.planOpen(open({ fileKey: 'share-1/batch.dat', clientGuid: 'client-b' }), 0, noConflict).effects)
  t.match(breaks[0], { kind: 'oplock', persistentId: 'taken-3' }, 'the restored batch oplock is broken')
  table.restore(open({ persistentId: 'taken-4', fileKey: 'share-1/other.dat' }), OPLOCK_LEVEL.LEASE, { key: 'k1', version: 2, state: R, epoch: 1 })
  t.equal(table.leaseOf('taken-4'), null, "a lease key of this client's on another file is not joined")
})
