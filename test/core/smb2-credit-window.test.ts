// The SMB2 command sequence window (core/smb2/credit-window): ids are granted, used once, and
// multi-credit requests take consecutive ids; grants follow Windows (what is asked, at least
// one, never beyond the bound); a model check over random request streams.
import t from 'tap'
import fc from 'fast-check'
import { CreditWindow, creditChargeFor } from '../../core/smb2/credit-window.js'

t.test('the first request has MessageId 0; ids are used once; a charge takes consecutive ids', async (t) => {
  const w = new CreditWindow(100)
  t.equal(w.outstanding, 1)
  t.notOk(w.consume(1n, 1).ok, 'id 1 was never granted')
  t.ok(w.consume(0n, 1).ok)
  t.notOk(w.consume(0n, 1).ok, 'id 0 again')
  t.equal(w.grant(10), 10)
  t.equal(w.outstanding, 10)
  t.ok(w.consume(5n, 4).ok, 'ids 5..8 out of order')
  t.notOk(w.consume(8n, 1).ok)
  t.notOk(w.consume(9n, 3).ok, 'ids 9..11: 11 is beyond the window')
  t.ok(w.consume(1n, 4).ok)
  t.equal(w.outstanding, 2)
  w.assertInvariants()
})

t.test('grants: at least one, at most the bound outstanding', async (t) => {
  const w = new CreditWindow(8)
  t.ok(w.consume(0n, 1).ok)
  t.equal(w.grant(0), 1, 'a client asking for none still gets one')
  t.equal(w.grant(100), 7, 'up to the bound')
  t.equal(w.grant(5), 0, 'the bound is reached')
  t.equal(creditChargeFor(0), 1)
  t.equal(creditChargeFor(65536), 1)
  t.equal(creditChargeFor(65537), 2)
  t.equal(creditChargeFor(8 * 1024 * 1024), 128)
})

t.test('a client that spends ids it holds, in any order, is never refused, and never holds more than the bound', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat({ max: 20 }), fc.integer({ min: 1, max: 4 }), fc.nat({ max: 50 })), { maxLength: 200 }), (steps) => {
      const w = new CreditWindow(64)
      const held: bigint[] = [0n]
      let next = 1n
      for (const [pick, charge, ask] of steps) {
        held.sort((a, b) => (a < b ? -1 : 1))
        // Take `charge` consecutive held ids starting at a picked one, if there are.
        const start = held[pick % held.length]
        if (start === undefined) break
        let run = 1
        while (run < charge && held.includes(start + BigInt(run))) run++
        if (!w.consume(start, run).ok) throw new Error(`refused ${start} x${run}`)
        for (let i = 0; i < run; i++) held.splice(held.indexOf(start + BigInt(i)), 1)
        const granted = w.grant(ask)
        for (let i = 0; i < granted; i++) held.push(next++)
        if (w.outstanding !== held.length || w.outstanding > 64) throw new Error('outstanding diverged')
        w.assertInvariants()
        if (held.length === 0) break
      }
    }),
    { numRuns: 200 },
  )
  t.pass('model agrees')
})
