// The reservation core of the emulated storage array (issue 17 item 2): SPC-3 REGISTER,
// RESERVE, RELEASE, PREEMPT, READ KEYS / READ RESERVATION and the WERO IO check, with property
// tests for what fencing rests on: at most one holder and it is registered; a preempted key
// never passes a write check while a reservation is in force, until its initiator registers again.
import t from 'tap'
import fc from 'fast-check'
import { REGISTRATIONS_PER_LUN_MAX, ReservationTable } from '../../core/storage/persistent-reservations.js'

const LUN = 'csv-1'

t.test('WERO: the holder and registrants write, an unregistered initiator only reads', async (t) => {
  const table = new ReservationTable([LUN])
  t.same(table.checkIo(LUN, 'node-3', 9n, 'write'), { ok: true }, 'no reservation in force: anyone writes (SPC-3 5.6.1)')
  t.same(table.register(LUN, 'node-1', 1n), { ok: true })
  t.same(table.register(LUN, 'node-2', 2n), { ok: true })
  t.same(table.reserve(LUN, 'node-1', 1n), { ok: true })
  t.same(table.reserve(LUN, 'node-2', 2n), { ok: false, refusal: 'reservation-conflict' }, 'one holder')
  t.same(table.reserve(LUN, 'node-1', 1n), { ok: true }, 'the holder reserving again is no conflict')
  t.same(table.checkIo(LUN, 'node-2', 2n, 'write'), { ok: true }, 'a registrant writes')
  t.same(table.checkIo(LUN, 'node-3', 3n, 'write'), { ok: false, refusal: 'reservation-conflict' })
  t.same(table.checkIo(LUN, 'node-3', 3n, 'read'), { ok: true }, 'reads pass for anyone')
  t.same(table.checkIo(LUN, 'node-2', 7n, 'write'), { ok: false, refusal: 'reservation-conflict' }, 'a registrant under another key is refused')
  t.same(table.readReservation(LUN), { generation: 2, holder: { initiator: 'node-1', key: 1n } })
  t.same(table.checkIo('csv-9', 'node-1', 1n, 'read'), { ok: false, refusal: 'unknown-lun' })
})

t.test('PREEMPT removes the victim and moves the reservation it held', async (t) => {
  const table = new ReservationTable([LUN])
  table.register(LUN, 'node-1', 1n)
  table.register(LUN, 'node-2', 2n)
  table.reserve(LUN, 'node-1', 1n)
  t.same(table.preempt(LUN, 'node-3', 3n, 1n), { ok: false, refusal: 'reservation-conflict' }, 'an unregistered preemptor is refused')
  t.same(table.preempt(LUN, 'node-2', 2n, 1n), { ok: true, removed: ['node-1'] })
  t.same(table.readReservation(LUN)?.holder, { initiator: 'node-2', key: 2n })
  t.same(table.readKeys(LUN)?.registrations, [{ initiator: 'node-2', key: 2n }])
  t.same(table.checkIo(LUN, 'node-1', 1n, 'write'), { ok: false, refusal: 'reservation-conflict' })
  t.same(table.preempt(LUN, 'node-2', 2n, 1n), { ok: true, removed: [] }, 'preempting a key nobody has: already fenced')
  // The fenced node rejoins with a new key; a write issued under the old one stays refused.
  table.register(LUN, 'node-1', 11n)
  t.same(table.checkIo(LUN, 'node-1', 11n, 'write'), { ok: true })
  t.same(table.checkIo(LUN, 'node-1', 1n, 'write'), { ok: false, refusal: 'reservation-conflict' })
})

t.test('RELEASE and unregistering end the reservation; keys are bounded', async (t) => {
  const table = new ReservationTable([LUN])
  table.register(LUN, 'node-1', 1n)
  table.reserve(LUN, 'node-1', 1n)
  t.same(table.release(LUN, 'node-1', 5n), { ok: false, refusal: 'reservation-conflict' }, 'a wrong key releases nothing')
  t.same(table.release(LUN, 'node-1', 1n), { ok: true })
  t.equal(table.readReservation(LUN)?.holder, null)
  table.reserve(LUN, 'node-1', 1n)
  t.same(table.register(LUN, 'node-1', 0n), { ok: true }, 'REGISTER with key 0 unregisters')
  t.equal(table.readReservation(LUN)?.holder, null, 'and its reservation ends (SPC-3 5.6.10.1)')
  t.same(table.register(LUN, 'node-1', 1n << 64n), { ok: false, refusal: 'invalid-field' })
  t.same(table.register(LUN, '../x', 1n), { ok: false, refusal: 'invalid-field' })
  for (let i = 0; i < REGISTRATIONS_PER_LUN_MAX; i++) t.ok(table.register(LUN, `n-${i}`, BigInt(i + 1)).ok)
  t.same(table.register(LUN, 'one-more', 1n), { ok: false, refusal: 'insufficient-registration-resources' })
  t.ok(table.register(LUN, 'n-0', 77n).ok, 'an initiator already registered may change its key')
})

const initiators = ['node-1', 'node-2', 'node-3', 'node-4']
const key = fc.bigInt({ min: 0n, max: 6n })
const who = fc.constantFrom(...initiators)
const command = fc.oneof(
  fc.record({ op: fc.constant('register' as const), who, key }),
  fc.record({ op: fc.constant('reserve' as const), who, key }),
  fc.record({ op: fc.constant('release' as const), who, key }),
  fc.record({ op: fc.constant('preempt' as const), who, key, victim: key }),
  fc.record({ op: fc.constant('write' as const), who, key }),
)

t.test('property: at most one holder, always registered; a reservation in force survives PREEMPT', async (t) => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
      const table = new ReservationTable([LUN])
      for (const c of commands) {
        const before = table.readReservation(LUN)?.holder ?? null
        if (c.op === 'register') table.register(LUN, c.who, c.key)
        else if (c.op === 'reserve') table.reserve(LUN, c.who, c.key)
        else if (c.op === 'release') table.release(LUN, c.who, c.key)
        else if (c.op === 'preempt') {
          const r = table.preempt(LUN, c.who, c.key, c.victim)
          if (before !== null && (table.readReservation(LUN)?.holder ?? null) === null) return false
          if (r.ok && r.removed.includes(before?.initiator ?? '') && table.readReservation(LUN)?.holder?.initiator !== c.who) return false
        }
        const holder = table.readReservation(LUN)?.holder ?? null
        const keys = table.readKeys(LUN)?.registrations ?? []
        if (holder !== null && !keys.some((k) => k.initiator === holder.initiator && k.key === holder.key)) return false
        if (new Set(keys.map((k) => k.initiator)).size !== keys.length) return false
      }
      return true
    }),
    { numRuns: 500 },
  )
  t.pass('held')
})

t.test('property: a preempted key never writes while a reservation is in force, until its initiator registers again', async (t) => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
      const table = new ReservationTable([LUN])
      /** initiator -> the key it lost to a PREEMPT, until it registers again. */
      const fenced = new Map<string, bigint>()
      for (const c of commands) {
        if (c.op === 'register') {
          if (table.register(LUN, c.who, c.key).ok) fenced.delete(c.who)
        } else if (c.op === 'reserve') table.reserve(LUN, c.who, c.key)
        else if (c.op === 'release') table.release(LUN, c.who, c.key)
        else if (c.op === 'preempt') {
          const keysBefore = new Map((table.readKeys(LUN)?.registrations ?? []).map((r) => [r.initiator, r.key]))
          const r = table.preempt(LUN, c.who, c.key, c.victim)
          if (r.ok) for (const gone of r.removed) fenced.set(gone, keysBefore.get(gone) as bigint)
        }
        const inForce = table.readReservation(LUN)?.holder != null
        for (const [initiator, lost] of fenced) {
          if (inForce && table.checkIo(LUN, initiator, lost, 'write').ok) return false
        }
      }
      return true
    }),
    { numRuns: 500 },
  )
  t.pass('held')
})
