// The register linearizability checker (core/history): hand-made histories with known verdicts,
// the minimal window of a stale read, the bound, and a property test against a brute-force
// oracle that tries every order of small histories.
import t from 'tap'
import fc from 'fast-check'
import type { RegisterOp } from '../../core/history/register-history.js'
import { splitByRegister } from '../../core/history/register-history.js'
import { searchRegister } from '../../core/history/register-search.js'
import { checkHistory, minimalWindow } from '../../core/history/linearizability-check.js'

const ZERO = 'zero'
const OPTS = { initialValue: ZERO, maxStatesPerRegister: 100_000 }

function w(value: string, invokeMs: number, completeMs: number | null, process = 'p1', key = 'f#0'): RegisterOp {
  return { key, kind: 'write', value, process, invokeMs, completeMs }
}
function r(value: string | null, invokeMs: number, completeMs: number | null, process = 'p1', key = 'f#0'): RegisterOp {
  return { key, kind: 'read', value, process, invokeMs, completeMs }
}

t.test('sequential histories: a read returns the last write, or the initial value', async (t) => {
  t.equal(checkHistory([r(ZERO, 0, 1), w('a', 2, 3), r('a', 4, 5), w('b', 6, 7), r('b', 8, 9)], OPTS).verdict, 'linearizable')
  t.equal(checkHistory([w('a', 2, 3), r(ZERO, 4, 5)], OPTS).verdict, 'not-linearizable', 'a read of the old value after the write was answered')
  t.equal(checkHistory([r('never-written', 0, 1)], OPTS).verdict, 'not-linearizable', 'a value nobody wrote')
  t.equal(checkHistory([r('anything', 0, 1)], { ...OPTS, initialValue: null }).verdict, 'linearizable', 'from an unknown value, the first read fixes it')
})

t.test('concurrent operations may take effect in either order', async (t) => {
  t.equal(checkHistory([w('a', 0, 10, 'p1'), r(ZERO, 1, 2, 'p2'), r('a', 3, 4, 'p2')], OPTS).verdict, 'linearizable', 'old then new during the write')
  t.equal(checkHistory([w('a', 0, 10, 'p1'), r('a', 1, 2, 'p2'), r(ZERO, 3, 4, 'p2')], OPTS).verdict, 'not-linearizable', 'new then old: once seen, the write cannot be undone')
  t.equal(checkHistory([w('a', 0, 10, 'p1'), w('b', 0, 10, 'p2'), r('a', 11, 12, 'p3')], OPTS).verdict, 'linearizable', 'two concurrent writes: either may be last')
  t.equal(checkHistory([w('a', 0, 10, 'p1'), w('b', 0, 10, 'p2'), r('a', 11, 12, 'p3'), r('b', 13, 14, 'p3')], OPTS).verdict, 'not-linearizable')
  t.equal(checkHistory([w('a', 0, 5), r('a', 5, 6, 'p2')], OPTS).verdict, 'linearizable', 'touching in time counts as concurrent')
  t.equal(checkHistory([w('a', 0, 5), r(ZERO, 5, 6, 'p2')], OPTS).verdict, 'linearizable', 'touching in time counts as concurrent (either way)')
})

t.test('a write without an answer may take effect at any time after it was sent, or never', async (t) => {
  t.equal(checkHistory([w('a', 0, null), r(ZERO, 5, 6, 'p2')], OPTS).verdict, 'linearizable', 'not yet')
  t.equal(checkHistory([w('a', 0, null), r('a', 5, 6, 'p2')], OPTS).verdict, 'linearizable', 'took effect')
  t.equal(checkHistory([w('a', 0, null), r(ZERO, 5, 6, 'p2'), r('a', 7, 8, 'p2')], OPTS).verdict, 'linearizable', 'late')
  t.equal(checkHistory([w('a', 0, null), r('a', 5, 6, 'p2'), r(ZERO, 7, 8, 'p2')], OPTS).verdict, 'not-linearizable', 'took effect, then undone')
  t.equal(checkHistory([r('a', 0, 1), w('a', 5, null)], OPTS).verdict, 'not-linearizable', 'not before it was sent')
  const split = splitByRegister([r(null, 0, null), r('x', 1, null), w('a', 2, 3)])
  t.equal(split.droppedReads, 2, 'reads without an answer say nothing')
  t.throws(() => splitByRegister([w('a', 5, 4)]), /completes \(4\) before it is invoked \(5\)/)
})

t.test('registers are checked on their own', async (t) => {
  const v = checkHistory([w('a', 0, 1, 'p1', 'f#0'), w('b', 0, 1, 'p1', 'f#1'), r('a', 2, 3, 'p1', 'f#0'), r('a', 2, 3, 'p1', 'f#1')], OPTS)
  t.equal(v.verdict, 'not-linearizable')
  t.equal(v.registers, 2)
  t.same(
    v.violations.map((x) => x.key),
    ['f#1'],
  )
})

t.test('a stale read injected into a long history is found, with the few operations that show it', async (t) => {
  // Two clients write and read a block in turns for a while (a linearizable history).
  const ops: RegisterOp[] = []
  let now = 0
  for (let i = 0; i < 200; i++) {
    const p = i % 2 === 0 ? 'c1' : 'c2'
    ops.push(w(`v${i}`, now, now + 3, p))
    ops.push(r(`v${i}`, now + 4, now + 6, p === 'c1' ? 'c2' : 'c1'))
    now += 10
  }
  t.equal(checkHistory(ops, OPTS).verdict, 'linearizable')
  // A failover serves an old copy once: the read after v120 was written returns v118.
  const staleAt = ops.findIndex((op) => op.kind === 'read' && op.value === 'v120')
  const injected = ops.map((op, i) => (i === staleAt ? { ...op, value: 'v118' } : op))
  const v = checkHistory(injected, OPTS)
  t.equal(v.verdict, 'not-linearizable')
  t.equal(v.violations.length, 1)
  const window = v.violations[0]
  t.same(
    window.ops.map((op) => `${op.kind}:${op.value}`),
    ['write:v120', 'read:v118'],
    'the window is the write the read missed and the read',
  )
  t.equal(window.fromMs, 1200)
  t.equal(window.toMs, 1206)
})

t.test('the minimal window fails on its own and no later cut does', async (t) => {
  const ops = [w('a', 0, 1), r('a', 2, 3), w('b', 4, 5), r('b', 6, 7), w('c', 8, 20, 'p2'), r('c', 9, 10), r('b', 11, 12), r('c', 13, 14)]
  t.equal(checkHistory(ops, OPTS).verdict, 'not-linearizable')
  const m = minimalWindow(ops, OPTS)
  // Two reads in a row, c then b, with no write between them: from any value, that cannot happen.
  t.same(
    m.ops.map((op) => `${op.kind}:${op.value}`),
    ['read:c', 'read:b'],
  )
  t.equal(m.toMs, 12, 'ends where the stale read was answered')
  t.equal(searchRegister(m.ops, { initialValue: null, maxStates: 1000 }).verdict, 'not-linearizable')
})

t.test('the search stops at its bound and says unknown', async (t) => {
  // Many concurrent writes and reads of distinct values: many configurations.
  const ops: RegisterOp[] = []
  for (let i = 0; i < 12; i++) ops.push(w(`v${i}`, 0, 100, `p${i}`))
  for (let i = 0; i < 12; i++) ops.push(r(`v${11 - i}`, 1 + i, 2 + i, 'reader'))
  const v = checkHistory(ops, { ...OPTS, maxStatesPerRegister: 50 })
  t.equal(v.verdict, 'unknown')
  t.same(v.unknown, ['f#0'])
  t.equal(checkHistory(ops, { ...OPTS, maxStatesPerRegister: 1_000_000 }).verdict, 'linearizable', 'with room, decided')
})

/** Tries every order of the operations that respects real time; unanswered writes may be left out. */
function bruteForce(ops: readonly RegisterOp[], initial: string): boolean {
  const must = ops.filter((op) => op.completeMs !== null)
  const optional = ops.filter((op) => op.completeMs === null)
  const end = (op: RegisterOp): number => op.completeMs ?? Number.POSITIVE_INFINITY
  const tryOrder = (chosen: readonly RegisterOp[], rest: readonly RegisterOp[], value: string, pendingLeft: readonly RegisterOp[]): boolean => {
    if (rest.filter((op) => op.completeMs !== null).length === 0) return true
    for (const op of rest) {
      // op can go next only if no other remaining op ended strictly before op began.
      if (rest.some((x) => x !== op && end(x) < op.invokeMs)) continue
      if (op.kind === 'read' && op.value !== value) continue
      const nextValue = op.kind === 'write' ? (op.value as string) : value
      if (
        tryOrder(
          [...chosen, op],
          rest.filter((x) => x !== op),
          nextValue,
          pendingLeft,
        )
      )
        return true
    }
    return false
  }
  // Every subset of the unanswered writes may take effect.
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const included = optional.filter((_, i) => (mask & (1 << i)) !== 0)
    if (tryOrder([], [...must, ...included], initial, [])) return true
  }
  return false
}

t.test('property: the search agrees with trying every order (small histories)', async (t) => {
  const opArb = fc.record({
    kind: fc.constantFrom<'write' | 'read'>('write', 'read'),
    value: fc.constantFrom('zero', 'a', 'b'),
    invokeMs: fc.integer({ min: 0, max: 20 }),
    lengthMs: fc.integer({ min: 0, max: 8 }),
    answered: fc.boolean(),
  })
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 6 }), (raw) => {
      const ops: RegisterOp[] = raw
        .filter((x) => x.kind === 'write' || x.answered)
        .map((x, i) => ({
          key: 'k',
          kind: x.kind,
          value: x.value,
          process: `p${i}`,
          invokeMs: x.invokeMs,
          completeMs: x.kind === 'write' && !x.answered ? null : x.invokeMs + x.lengthMs,
        }))
      const expected = bruteForce(ops, ZERO)
      const got = searchRegister(ops, { initialValue: ZERO, maxStates: 1_000_000 }).verdict
      return got === (expected ? 'linearizable' : 'not-linearizable')
    }),
    { numRuns: 3000, seed: 20261205 },
  )
  t.pass('3000 random histories agree')
})

t.test('property: a real register observed with random delays is always linearizable', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ write: fc.boolean(), before: fc.integer({ min: 0, max: 5 }), after: fc.integer({ min: 0, max: 5 }), client: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 40 }),
      (steps) => {
        // Each step takes effect at time 10*i; the client saw it invoked `before` earlier and answered `after` later.
        let value = ZERO
        const ops = steps.map((s, i): RegisterOp => {
          const at = 10 * i + 5
          if (s.write) value = `v${i}`
          return { key: 'k', kind: s.write ? 'write' : 'read', value, process: `c${s.client}`, invokeMs: at - s.before, completeMs: at + s.after }
        })
        return checkHistory(ops, OPTS).verdict === 'linearizable'
      },
    ),
    { numRuns: 500, seed: 7 },
  )
  t.pass('500 observed executions are linearizable')
})
