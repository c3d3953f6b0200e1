// The backup agent's block hasher (client/backup/block-hasher.ts): the sha256 of each 64 KiB
// block of what a slot holds, computed on its worker, equal to hashing the bytes here; slots
// are taken and given back, and a closed hasher refuses work with a typed error.
import t from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { BlockHasher, BlockHasherError } from '../../client/backup/block-hasher.js'
import { BACKUP_BLOCK_BYTES } from '../../client/backup/backup-repository.js'

const MIB = 1024 * 1024

function expected(data: Buffer): Buffer {
  const out: Buffer[] = []
  for (let at = 0; at < data.length; at += BACKUP_BLOCK_BYTES) out.push(createHash('sha256').update(data.subarray(at, at + BACKUP_BLOCK_BYTES)).digest())
  return Buffer.concat(out)
}

t.test('the digests of every slot, full or partial, are the sha256 of each block', async (t) => {
  const hasher = new BlockHasher(4, MIB)
  t.teardown(() => hasher.close())
  // Lengths: a whole slot, one block, a partial last block, a few bytes.
  const lengths = [MIB, BACKUP_BLOCK_BYTES, 5 * BACKUP_BLOCK_BYTES + 1000, 17]
  for (let round = 0; round < 3; round++) {
    const inputs = lengths.map((n) => randomBytes(n))
    const got = await Promise.all(
      inputs.map((data, slot) => {
        const held = hasher.fill(slot, data)
        t.ok(held.bytes.equals(data) && !held.adopted && held.bytes.buffer !== data.buffer, `round ${round}, slot ${slot}: the slot holds a copy`)
        return hasher.digests(slot)
      }),
    )
    got.forEach((digests, slot) => t.ok(digests.equals(expected(inputs[slot])), `round ${round}, slot ${slot}: ${lengths[slot]} bytes, ${digests.length / 32} digests`))
    for (let slot = 0; slot < 4; slot++) hasher.release(slot)
  }
})

t.test('data in shared memory is hashed where it is, at its offset, and not copied', async (t) => {
  const hasher = new BlockHasher(2, MIB)
  t.teardown(() => hasher.close())
  // As a wire frame: a header before the READ's data, in a SharedArrayBuffer.
  const frame = Buffer.from(new SharedArrayBuffer(MIB + 4096))
  randomBytes(frame.length).copy(frame)
  const data = frame.subarray(4096 - 80, 4096 - 80 + 3 * BACKUP_BLOCK_BYTES + 7)
  const held = hasher.fill(0, data)
  t.ok(held.adopted, 'adopted')
  t.equal(held.bytes.buffer, frame.buffer, 'the same memory')
  t.equal(held.bytes.byteOffset, data.byteOffset, 'at the same offset')
  t.ok((await hasher.digests(0)).equals(expected(Buffer.from(data))), 'digests of the bytes at the offset')
  // The other slot, from ordinary memory, is still a copy.
  const plain = randomBytes(BACKUP_BLOCK_BYTES + 1)
  const copied = hasher.fill(1, plain)
  t.notOk(copied.adopted, 'ordinary memory is copied')
  t.ok((await hasher.digests(1)).equals(expected(plain)))
  hasher.release(0)
  t.ok(hasher.isFree(0), 'released')
})

t.test('a slot is taken until released; more than a slot is refused', async (t) => {
  const hasher = new BlockHasher(2, MIB)
  t.teardown(() => hasher.close())
  t.ok(hasher.isFree(1))
  hasher.fill(1, Buffer.alloc(10))
  t.notOk(hasher.isFree(1), 'filled: taken')
  t.throws(() => hasher.fill(1, Buffer.alloc(10)), /slot 1 is free/, 'a taken slot cannot be filled')
  hasher.release(1)
  t.ok(hasher.isFree(1), 'released: free')
  t.throws(() => hasher.fill(0, Buffer.alloc(MIB + 1)), /fit a slot/, 'more bytes than a slot')
  t.throws(() => new BlockHasher(1, 1000), /whole blocks/, 'a slot of part of a block')
})

t.test('a closed hasher rejects with BlockHasherError', async (t) => {
  const hasher = new BlockHasher(1, BACKUP_BLOCK_BYTES)
  hasher.fill(0, Buffer.alloc(100))
  await hasher.close()
  const err = await hasher.digests(0).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(err instanceof BlockHasherError, `a typed error: ${String(err)}`)
})
