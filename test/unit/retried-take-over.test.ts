// A CSV owner's take-over at the storage array, tried again after it failed
// (server/smb/retried-take-over.ts): operations wait for the attempt under way; after a failure
// they get the failure until the pause has passed, then one new attempt, whose success they get.
import t from 'tap'
import { RetriedTakeOver } from '../../server/smb/retried-take-over.js'

function setup(outcomes: Array<bigint | Error>) {
  const clock = { ms: 0 }
  const failures: string[] = []
  let attempts = 0
  const takeOver = new RetriedTakeOver(
    async () => {
      const o = outcomes[Math.min(attempts++, outcomes.length - 1)]
      if (o instanceof Error) throw o
      return o
    },
    () => clock.ms,
    1000,
    (err) => failures.push(err.message),
  )
  return { takeOver, clock, failures, attempts: () => attempts }
}

t.test('a take-over that succeeds is the one every operation waits for', async (t) => {
  const { takeOver, attempts } = setup([7n])
  t.equal(await takeOver.ready, 7n)
  t.equal(await takeOver.ready, 7n)
  t.equal(attempts(), 1, 'one attempt')
})

t.test('a failed take-over is tried again once the pause has passed, and only then', async (t) => {
  const { takeOver, clock, failures, attempts } = setup([new Error('PREEMPT csv-1: reservation conflict'), 9n])
  await t.rejects(takeOver.ready, /reservation conflict/, 'the first attempt failed')
  t.same(failures, ['PREEMPT csv-1: reservation conflict'], 'and was reported once')
  clock.ms = 999
  await t.rejects(takeOver.ready, /reservation conflict/, 'within the pause: the same failure, no new attempt')
  t.equal(attempts(), 1)
  clock.ms = 1000
  const again = takeOver.ready
  t.equal(takeOver.ready, again, 'operations at the same moment share one new attempt')
  t.equal(await again, 9n, 'the new attempt took the CSV over')
  clock.ms = 5000
  t.equal(await takeOver.ready, 9n, 'a success is kept')
  t.equal(attempts(), 2)
})

t.test('attempts that keep failing are at most one per pause', async (t) => {
  const { takeOver, clock, attempts } = setup([new Error('unreachable')])
  for (let ms = 0; ms <= 10_000; ms += 100) {
    clock.ms = ms
    await takeOver.ready.catch(() => undefined)
  }
  t.equal(attempts(), 11, 'one at 0 ms, then one a second')
})
