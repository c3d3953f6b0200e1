// The data path's buffer pool (runtime/buffer-pool.ts): buffers are reused after release, never
// while handed out, small and oversized requests are ordinary allocations, and the memory kept
// for reuse stays under its bound.
import t from 'tap'
import { BufferPool, POOLED_BYTES_MIN } from '../../runtime/buffer-pool.js'

const MIB = 1024 * 1024

t.test('a released buffer serves the next request of its size class', async (t) => {
  const pool = new BufferPool(16 * MIB, 9 * MIB)
  const a = pool.acquire(8 * MIB)
  t.equal(a.length, 8 * MIB)
  pool.release(a.subarray(0, 100))
  t.equal(pool.idleBytes, 8 * MIB)
  const b = pool.acquire(8 * MIB - 4096)
  t.equal(b.buffer, a.buffer, 'the same memory, reused')
  t.equal(b.length, 8 * MIB - 4096)
  t.equal(pool.idleBytes, 0)
})

t.test('a buffer handed out is never handed out again before its release', async (t) => {
  const pool = new BufferPool(64 * MIB, 9 * MIB)
  const held = [pool.acquire(MIB), pool.acquire(MIB), pool.acquire(MIB)]
  t.equal(new Set(held.map((b) => b.buffer)).size, 3)
  pool.release(held[1])
  pool.release(held[1])
  t.equal(pool.idleBytes, MIB, 'a second release of the same buffer does nothing')
  const next = [pool.acquire(MIB), pool.acquire(MIB)]
  t.equal(next[0].buffer, held[1].buffer)
  t.not(next[1].buffer, held[0].buffer)
  t.not(next[1].buffer, held[2].buffer)
})

t.test('small, oversized and foreign buffers are not pooled', async (t) => {
  const pool = new BufferPool(64 * MIB, 2 * MIB)
  const small = pool.acquire(POOLED_BYTES_MIN - 1)
  const big = pool.acquire(3 * MIB)
  pool.release(small)
  pool.release(big)
  pool.release(Buffer.alloc(MIB))
  t.equal(pool.idleBytes, 0)
  t.equal(pool.acquire(0).length, 0)
})

t.test('the memory kept for reuse stays under freeBytesMax', async (t) => {
  const pool = new BufferPool(3 * MIB, 9 * MIB)
  const held = Array.from({ length: 6 }, () => pool.acquire(MIB))
  for (const b of held) pool.release(b)
  t.equal(pool.idleBytes, 3 * MIB)
  const big = pool.acquire(4 * MIB)
  pool.release(big)
  t.equal(pool.idleBytes, 3 * MIB, 'a buffer that would exceed the bound is left to the collector')
})

t.test('a shared pool hands out SharedArrayBuffer memory and reuses it', async (t) => {
  const pool = new BufferPool(8 * MIB, 9 * MIB, { shared: true })
  const a = pool.acquire(MIB + 10)
  t.ok(a.buffer instanceof SharedArrayBuffer, 'shared memory')
  pool.release(a.subarray(200, 300))
  const b = pool.acquire(2 * MIB)
  t.equal(b.buffer, a.buffer, 'reused')
  t.notOk(new BufferPool(8 * MIB, 9 * MIB).acquire(MIB).buffer instanceof SharedArrayBuffer, 'an ordinary pool is not shared')
})
