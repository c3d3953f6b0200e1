// The peer-wire codec of forwarded handle operations, and the per-node bandwidth bucket.
import t from 'tap'
import { decodeHandleMessage, encodeHandleMessage } from '../../server/smb/handle-op-codec.js'
import { TokenBucket } from '../../server/smb/token-bucket.js'

t.test('forwarded operations keep their bytes', async (t) => {
  const op = { op: 'write', sessionKey: 'node-1/x', fileId: { persistent: 'p', volatile: 'v' }, offset: 4096, data: Buffer.from([0, 1, 2, 255]), nested: { data: Buffer.alloc(0) } }
  const back = decodeHandleMessage(encodeHandleMessage(op)) as typeof op
  t.same(back, op)
  t.ok(Buffer.isBuffer(back.data), 'a Buffer again')
  t.throws(() => decodeHandleMessage(Buffer.from('{not json')), 'malformed input throws (the caller answers INVALID_ARGUMENT)')
})

t.test('the token bucket paces by its rate', async (t) => {
  t.equal(await new TokenBucket(0).take(1e9), true, 'unlimited passes at once')
  let nowMs = 0
  const bucket = new TokenBucket(1000, () => nowMs) // 1000 bytes/s, bursts of 50 bytes
  const order: number[] = []
  const first = bucket.take(50).then(() => order.push(1))
  const second = bucket.take(50).then(() => order.push(2))
  await first
  t.same(order, [1], 'the burst passes, the next waits for tokens')
  nowMs += 60
  await second
  t.same(order, [1, 2], 'after the clock moved on, the next passes')
  bucket.close()
})
