// Seed 004's snapshot coordination on the CSV owner: legacy snapshots go one at a time, first
// come first served, with the CSV redirected; direct snapshots never wait; holds expire.
import t from 'tap'
import { CsvSnapshotLocks, SNAPSHOT_HOLD_MS } from '../../server/csv-snapshot-locks.js'

t.test('legacy: one snapshot per CSV at a time, waiters served in order, redirect until the last ends', async (t) => {
  const locks = new CsvSnapshotLocks()
  t.same(locks.begin('csv-1', 'a', 'legacy', 0), { granted: true, redirect: true })
  const b = locks.begin('csv-1', 'b', 'legacy', 1)
  t.equal(b.granted, false, 'b waits for a')
  t.equal(b.granted === false && b.holder, 'a')
  t.equal(locks.begin('csv-1', 'c', 'legacy', 2).granted, false, 'c waits too')
  t.equal(locks.begin('csv-2', 'd', 'legacy', 2).granted, true, 'another CSV is not held')
  t.same(locks.end('csv-1', 'a'), { released: true, redirectOver: true })
  t.equal(locks.begin('csv-1', 'c', 'legacy', 3).granted, false, 'c asked after b: b goes first')
  t.equal(locks.begin('csv-1', 'b', 'legacy', 3).granted, true, 'b now')
  t.equal(locks.begin('csv-1', 'c', 'legacy', 4).granted, false)
  locks.end('csv-1', 'b')
  t.equal(locks.begin('csv-1', 'c', 'legacy', 5).granted, true, 'then c')
  t.same(locks.end('csv-1', 'nobody'), { released: false, redirectOver: false }, 'ending an unknown job releases nothing')
})

t.test('direct: snapshots of one CSV run side by side and redirect nothing', async (t) => {
  const locks = new CsvSnapshotLocks()
  t.same(locks.begin('csv-1', 'a', 'direct', 0), { granted: true, redirect: false })
  t.same(locks.begin('csv-1', 'b', 'direct', 0), { granted: true, redirect: false })
  t.same(locks.holders('csv-1'), ['a', 'b'])
  t.equal(locks.begin('csv-1', 'c', 'legacy', 0).granted, false, 'a legacy snapshot still needs the CSV to itself')
})

t.test('a hold expires, so a job that died does not block the CSV', async (t) => {
  const locks = new CsvSnapshotLocks()
  locks.begin('csv-1', 'a', 'legacy', 0)
  t.equal(locks.begin('csv-1', 'b', 'legacy', SNAPSHOT_HOLD_MS - 1).granted, false)
  t.equal(locks.begin('csv-1', 'b', 'legacy', SNAPSHOT_HOLD_MS + 1).granted, true)
})
