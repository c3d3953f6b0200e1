// forEachBounded: never more than `width` jobs in flight, every item done once, and the first
// failure stops new jobs and is thrown only after the jobs in flight have settled.
import t from 'tap'
import { forEachBounded } from '../../runtime/bounded-parallel.js'

/** A job whose completion the test controls. */
function gate(): { promise: Promise<void>; open: () => void; fail: (err: Error) => void } {
  let open!: () => void
  let fail!: (err: Error) => void
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve
    fail = reject
  })
  return { promise, open, fail }
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r))
  if (!check()) throw new Error('condition never held')
}

t.test('at most width in flight, each item once, in order of start', async (t) => {
  const gates = Array.from({ length: 10 }, gate)
  const started: number[] = []
  let inFlight = 0
  let most = 0
  const run = forEachBounded(gates, 3, async (g, i) => {
    started.push(i)
    inFlight++
    most = Math.max(most, inFlight)
    await g.promise
    inFlight--
  })
  await until(() => started.length === 3)
  t.same(started, [0, 1, 2], 'three started')
  gates[1].open()
  await until(() => started.length === 4)
  t.same(started, [0, 1, 2, 3], 'the next starts when one ends')
  for (const g of gates) g.open()
  await run
  t.equal(most, 3, 'never more than 3 at once')
  t.same([...started].sort((a, b) => a - b), [...Array(10).keys()], 'every item once')
  await forEachBounded([], 4, async () => {
    t.fail('no job for no items')
  })
  await t.rejects(forEachBounded([1], 0, async () => undefined), /width must be a positive integer/)
})

t.test('the first failure stops new jobs and is thrown after the ones in flight settle', async (t) => {
  const gates = Array.from({ length: 6 }, gate)
  const started: number[] = []
  let settled = 0
  const run = forEachBounded(gates, 2, async (g, i) => {
    started.push(i)
    try {
      await g.promise
    } finally {
      settled++
    }
  })
  let outcome: unknown = null
  void run.then(
    () => (outcome = 'resolved'),
    (err: Error) => (outcome = err),
  )
  await until(() => started.length === 2)
  gates[0].fail(new Error('read 0 failed'))
  await until(() => settled === 1)
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  t.same(started, [0, 1], 'no new job after the failure')
  t.equal(outcome, null, 'not settled while job 1 is in flight')
  gates[2].open()
  gates[1].fail(new Error('read 1 failed too'))
  await until(() => outcome !== null)
  t.match(outcome, { message: 'read 0 failed' }, 'the first failure is thrown')
  t.same(started, [0, 1])
})
