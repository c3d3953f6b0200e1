// The peer-wire codec of forwarded handle operations, and the per-node bandwidth bucket.
import t from 'tap'
import { decodeHandleMessage, encodeHandleMessage } from '../../server/smb/handle-op-codec.js'
import { TokenBucket } from '../../server/smb/token-bucket.js'
import fc from 'fast-check'
import assert from 'node:assert/strict'

t.test('forwarded operations keep their bytes', async (t) => {
  const op = { op: 'write', sessionKey: 'node-1/x', fileId: { persistent: 'p', volatile: 'v' }, offset: 4096, data: Buffer.from([0, 1, 2, 255]), nested: { data: Buffer.alloc(0) } }
  const back = decodeHandleMessage(encodeHandleMessage(op)) as typeof op
  t.same(back, op)
  t.ok(Buffer.isBuffer(back.data), 'a Buffer again')
  t.throws(() => decodeHandleMessage(Buffer.from('{not json')), 'malformed input throws (the caller answers INVALID_ARGUMENT)')
  const big = Buffer.alloc(1024 * 1024, 7)
  const wire = encodeHandleMessage({ ok: true, data: big })
  t.ok(wire.length < big.length + 64, `the data goes raw, not as base64 (${wire.length} bytes for 1 MiB)`)
})

t.test('property: any JSON-like value with Buffers in it comes back the same', async (t) => {
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)))
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '$buf' && k !== '__proto__'), tie('node'), { maxKeys: 4, noNullPrototype: true })),
  })).node
  // One assertion for the whole run: fast-check reports the smallest failing value.
  t.doesNotThrow(() => fc.assert(fc.property(value, (v) => assert.deepStrictEqual(decodeHandleMessage(encodeHandleMessage(v)), v)), { numRuns: 300 }))
})

t.test('fuzz: hostile or damaged messages throw an Error, never anything else', async (t) => {
  const valid = encodeHandleMessage({ op: 'write', offset: 4096, data: Buffer.from('hello'), more: [Buffer.alloc(3)] })
  const header = (jsonLength: number) => Buffer.from([1, (jsonLength >>> 24) & 255, (jsonLength >>> 16) & 255, (jsonLength >>> 8) & 255, jsonLength & 255])
  const hostile = [
    Buffer.alloc(0),
    Buffer.from([2, 0, 0, 0, 2, 0x7b, 0x7d]),
    header(0xffffffff),
    Buffer.concat([header(2), Buffer.from('{}'), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
    Buffer.concat([header(2), Buffer.from('{}'), Buffer.from([0, 0])]),
    Buffer.concat([header(10), Buffer.from('{"$buf":0}')]),
    Buffer.concat([header(10), Buffer.from('{"$buf":1}'), Buffer.from([0, 0, 0, 1, 9])]),
    Buffer.concat([header(21), Buffer.from('[{"$buf":0},{"$buf":0}]'.slice(0, 21)), Buffer.from([0, 0, 0, 1, 9])]),
    Buffer.concat([header(2), Buffer.from('{}'), Buffer.from([0, 0, 0, 1, 9])]),
    Buffer.concat([header(12), Buffer.from('{"$buf":"x"}')]),
  ]
  for (const m of hostile) t.throws(() => decodeHandleMessage(m), Error)
  t.throws(() => decodeHandleMessage(Buffer.concat([header(23), Buffer.from('[{"$buf":0},{"$buf":0}]'), Buffer.from([0, 0, 0, 1, 9])])), /bad buffer reference/, 'a buffer is referenced once')
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(valid.length), (flips, cut) => {
      const m = Buffer.from(valid.subarray(0, cut === 0 ? valid.length : cut))
      for (const [at, byte] of flips) if (at < m.length) m[at] = byte
      try {
        decodeHandleMessage(m)
      } catch (err) {
        if (!(err instanceof Error)) throw new Error(`threw a non-Error: ${String(err)}`)
      }
    }),
    { numRuns: 5000 },
  )
})

t.test('the token bucket paces by its rate', async (t) => {
  t.equal(await new TokenBucket(0, () => 0).take(1e9), true, 'unlimited passes at once')
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
