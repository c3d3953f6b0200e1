// The storage array's wire codec (issue 17 item 2): every request and reply round-trips, a
// stream cut anywhere splits into the same frames, and no input makes a decoder throw (fuzz).
import t from 'tap'
import fc from 'fast-check'
import {
  ARRAY_FRAME_BYTES_MAX,
  ARRAY_STATUS,
  ArrayFrameSplitter,
  decodeArrayReply,
  decodeArrayRequest,
  encodeArrayReply,
  encodeArrayRequest,
  isSafeArrayPath,
  peekArrayFrame,
  type ArrayReply,
  type ArrayRequest,
} from '../../protocol/storage-array/array-frame.js'

const requestId = fc.integer({ min: 0, max: 0xffffffff })
const lun = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
const key = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const name = fc.stringMatching(/^[A-Za-z0-9 ._-]{1,30}$/)
const path = fc.array(name.filter((n) => n !== '.' && n !== '..'), { minLength: 1, maxLength: 5 }).map((p) => p.join('/'))
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const keyed = fc.record({ requestId, lun, key })

const request: fc.Arbitrary<ArrayRequest> = fc.oneof(
  fc.record({ op: fc.constant('hello' as const), requestId, initiator: fc.stringMatching(/^node-[0-9]{1,3}$/) }),
  keyed.chain((k) => fc.constantFrom('register' as const, 'reserve' as const, 'release' as const).map((op) => ({ ...k, op }))),
  keyed.chain((k) => key.map((victimKey) => ({ ...k, op: 'preempt' as const, victimKey }))),
  fc.record({ op: fc.constantFrom('read-keys' as const, 'read-reservation' as const, 'release-files' as const), requestId, lun }),
  keyed.chain((k) => fc.record({ path, offset, sync: fc.boolean(), data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) }).map((x) => ({ ...k, op: 'write' as const, ...x }))),
  keyed.chain((k) => path.map((p) => ({ ...k, op: 'flush' as const, path: p }))),
  keyed.chain((k) => fc.record({ path, sizeBytes: offset }).map((x) => ({ ...k, op: 'truncate' as const, ...x }))),
  keyed.chain((k) => fc.record({ path, truncate: fc.boolean() }).map((x) => ({ ...k, op: 'create-file' as const, ...x }))),
  keyed.chain((k) => path.map((p) => ({ ...k, op: 'mkdir' as const, path: p }))),
  keyed.chain((k) => fc.record({ path, newPath: path }).map((x) => ({ ...k, op: 'rename' as const, ...x }))),
  keyed.chain((k) => fc.record({ path, directory: fc.boolean() }).map((x) => ({ ...k, op: 'remove' as const, ...x }))),
  keyed.chain((k) => fc.record({ path, accessMs: fc.double({ noNaN: true, noDefaultInfinity: true }), writeMs: fc.double({ noNaN: true, noDefaultInfinity: true }) }).map((x) => ({ ...k, op: 'set-times' as const, ...x }))),
)

const reg = fc.record({ initiator: fc.stringMatching(/^node-[0-9]{1,3}$/), key })
const reply: fc.Arbitrary<ArrayReply> = fc.record({
  requestId,
  status: fc.constantFrom(...Object.values(ARRAY_STATUS)),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('count' as const), count: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ kind: fc.constant('keys' as const), generation: fc.integer({ min: 0, max: 0xffffffff }), registrations: fc.array(reg, { maxLength: 10 }) }),
    fc.record({ kind: fc.constant('reservation' as const), generation: fc.integer({ min: 0, max: 0xffffffff }), holder: fc.option(reg, { nil: null }), refusedWrites: fc.integer({ min: 0, max: 0xffffffff }) }),
    fc.record({ kind: fc.constant('removed' as const), initiators: fc.array(fc.stringMatching(/^node-[0-9]{1,3}$/), { maxLength: 10 }) }),
    fc.record({ kind: fc.constant('error' as const), code: fc.stringMatching(/^E[A-Z]{1,10}$/), message: name }),
  ),
})

function bodyOf(frame: Buffer): Buffer {
  const peek = peekArrayFrame(frame)
  if (peek.kind !== 'frame') throw new Error(`bad frame: ${JSON.stringify(peek)}`)
  return frame.subarray(4, 4 + peek.length)
}

t.test('every request round-trips', async (t) => {
  fc.assert(
    fc.property(request, (r) => {
      const decoded = decodeArrayRequest(bodyOf(Buffer.concat(encodeArrayRequest(r))))
      t.ok(decoded.ok)
      if (!decoded.ok) return false
      t.same(decoded.value, r)
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('every reply round-trips', async (t) => {
  fc.assert(
    fc.property(reply, (r) => {
      const decoded = decodeArrayReply(bodyOf(encodeArrayReply(r)))
      if (!decoded.ok) return false
      t.same(decoded.value, r)
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('a stream cut anywhere gives the same frames in order', async (t) => {
  fc.assert(
    fc.property(fc.array(request, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }), (reqs, cuts) => {
      const stream = Buffer.concat(reqs.flatMap((r) => encodeArrayRequest(r)))
      const splitter = new ArrayFrameSplitter()
      const got: ArrayRequest[] = []
      let at = 0
      let i = 0
      while (at < stream.length) {
        const n = cuts[i++ % cuts.length]
        const { bodies, error } = splitter.push(stream.subarray(at, at + n))
        if (error) return false
        for (const b of bodies) {
          const d = decodeArrayRequest(b)
          if (!d.ok) return false
          got.push(d.value)
        }
        at += n
      }
      t.same(got, reqs)
      return true
    }),
    { numRuns: 100 },
  )
})

t.test('fuzz: decoders return an error for any bytes, never throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const b = Buffer.from(bytes)
      const req = decodeArrayRequest(b)
      const rep = decodeArrayReply(b)
      return typeof req.ok === 'boolean' && typeof rep.ok === 'boolean'
    }),
    { numRuns: 2000 },
  )
  // Mutations of valid frames: a flipped byte decodes to something or to a typed error.
  fc.assert(
    fc.property(request, fc.nat(), fc.integer({ min: 0, max: 255 }), (r, at, byte) => {
      const body = Buffer.from(bodyOf(Buffer.concat(encodeArrayRequest(r))))
      body[at % body.length] = byte
      const d = decodeArrayRequest(body)
      return d.ok || d.error.name === 'ArrayDecodeError'
    }),
    { numRuns: 2000 },
  )
  t.pass('no throw')
})

t.test('bounds and unsafe paths are refused', async (t) => {
  t.same(peekArrayFrame(Buffer.from([0xff, 0xff, 0xff, 0xff])).kind, 'bad', 'a length beyond the bound')
  t.same(peekArrayFrame(Buffer.from([0, 0, 0, 1])).kind, 'bad', 'a body too short for a kind and id')
  t.same(peekArrayFrame(Buffer.from([0, 0])).kind, 'need-more')
  const splitter = new ArrayFrameSplitter()
  const header = Buffer.alloc(4)
  header.writeUInt32BE(ARRAY_FRAME_BYTES_MAX + 1)
  t.ok(splitter.push(header).error, 'an oversized frame fails the stream before it is buffered')
  for (const bad of ['', '/abs', 'a/../b', 'a//b', '.', 'a/./b', 'x\0y', 'a\\b']) t.notOk(isSafeArrayPath(bad), JSON.stringify(bad))
  t.ok(isSafeArrayPath('share-1/dir/file.bin'))
  const evil = Buffer.concat(encodeArrayRequest({ op: 'mkdir', requestId: 1, lun: 'csv-1', key: 1n, path: 'ok' }))
  const body = Buffer.from(bodyOf(evil))
  // Overwrite 'ok' with '..': the decoder refuses it.
  body.write('..', body.length - 2)
  const d = decodeArrayRequest(body)
  t.notOk(d.ok, 'a path that leaves the LUN is a decode error')
  t.throws(() => encodeArrayRequest({ op: 'write', requestId: 1, lun: 'csv-1', key: 1n, path: 'f', offset: 0, sync: false, data: Buffer.alloc(8 * 1024 * 1024 + 1) }), RangeError)
})
