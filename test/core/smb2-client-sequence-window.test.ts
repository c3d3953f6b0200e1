// The client's sequence window (core/smb2/client-sequence-window): MessageIds advance by the
// CreditCharge, a request goes only with the credits and an in-flight slot it needs, grants are
// bounded, and a window with neither credits nor anything in flight says it is starved.
import t from 'tap'
import fc from 'fast-check'
import { ClientSequenceWindow, clientCreditChargeFor } from '../../core/smb2/client-sequence-window.js'

t.test('a new connection holds one credit: NEGOTIATE goes as MessageId 0', async (t) => {
  const w = new ClientSequenceWindow(4)
  t.same(w.take(1), { ok: true, messageId: 0n, creditCharge: 1 })
  t.same(w.take(1), { ok: false, reason: 'credits' }, 'no second request before a grant')
  w.grant(10)
  w.settle()
  t.same(w.take(3), { ok: true, messageId: 1n, creditCharge: 3 }, 'a charge of 3 takes ids 1..3')
  t.same(w.take(0), { ok: true, messageId: 4n, creditCharge: 1 }, 'a charge of 0 counts as 1')
  t.equal(w.credits, 6)
})

t.test('the in-flight bound holds even with credits to spare', async (t) => {
  const w = new ClientSequenceWindow(2)
  w.grant(100)
  t.ok(w.take(1).ok)
  t.ok(w.take(1).ok)
  t.same(w.take(1), { ok: false, reason: 'in-flight' })
  w.settle()
  t.ok(w.take(1).ok)
})

t.test('starved: no credits and nothing in flight that could grant some', async (t) => {
  const w = new ClientSequenceWindow(2)
  t.ok(w.take(1).ok)
  t.notOk(w.starved, 'a request in flight may still grant')
  w.grant(0)
  w.settle()
  t.ok(w.starved)
})

t.test('CreditRequest refills toward the target, at least the charge, at most 65535', async (t) => {
  const w = new ClientSequenceWindow(8)
  t.equal(w.creditRequestFor(1, 256), 255)
  t.equal(w.creditRequestFor(16, 8), 16)
  t.equal(w.creditRequestFor(1, 1_000_000), 0xffff)
  t.equal(clientCreditChargeFor(0), 1)
  t.equal(clientCreditChargeFor(65_536), 1)
  t.equal(clientCreditChargeFor(65_537), 2)
  t.equal(clientCreditChargeFor(8 * 1024 * 1024), 128)
})

t.test('property: ids are never reused, credits never negative or above the bound, in flight within its bound', async () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('take' as const), charge: fc.integer({ min: 0, max: 130 }) }),
    fc.record({ kind: fc.constant('grant' as const), credits: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('settle' as const) }),
  )
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 16 }), fc.array(op, { maxLength: 200 }), (inFlightMax, ops) => {
      const w = new ClientSequenceWindow(inFlightMax, 4096)
      const used = new Set<bigint>()
      for (const o of ops) {
        if (o.kind === 'take') {
          const before = w.credits
          const r = w.take(o.charge)
          if (r.ok) {
            for (let i = 0n; i < BigInt(r.creditCharge); i++) {
              if (used.has(r.messageId + i)) return false
              used.add(r.messageId + i)
            }
            if (w.credits !== before - r.creditCharge) return false
          }
        } else if (o.kind === 'grant') w.grant(o.credits)
        else if (w.inFlight > 0) w.settle()
        if (w.credits < 0 || w.credits > 4096 || w.inFlight > inFlightMax) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})
