// Runs an async job over a list with at most `width` jobs in flight: the backup reader's
// several READs outstanding on one connection, and the virtual disk's reads of stale blocks.
// The first failure stops new jobs from starting; the call rejects with it once the jobs
// already in flight have settled, so nothing is left running behind the caller's back.
import assert from 'node:assert/strict'

export async function forEachBounded<T>(items: readonly T[], width: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  assert.ok(Number.isInteger(width) && width >= 1, `width must be a positive integer, got ${width}`)
  let next = 0
  let failed = false
  let failure: unknown = null
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++
      try {
        await job(items[index], index)
      } catch (err) {
        if (!failed) {
          failed = true
          failure = err
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
  if (failed) throw failure
}
