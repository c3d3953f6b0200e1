// The wire client's receive buffer (client/smb2/frame-accumulator): frames come out whole and in
// order however TCP cuts them, and a length beyond the bound is refused from its header alone.
import t from 'tap'
import fc from 'fast-check'
import { FrameAccumulator, clientFrameBuffers } from '../../client/smb2/frame-accumulator.js'
import { directTcpHeader } from '../../protocol/smb2/direct-tcp-frame.js'

function framed(payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [directTcpHeader(p.length), p]))
}

t.test('property: any cutting of a stream of frames gives back the frames', async () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }), (payloads, cuts) => {
      const frames = payloads.map((p) => Buffer.from(p))
      const stream = framed(frames)
      const acc = new FrameAccumulator(1024)
      const out: Buffer[] = []
      let at = 0
      let i = 0
      while (at < stream.length) {
        const n = cuts[i++ % cuts.length]
        const r = acc.push(stream.subarray(at, at + n))
        if (!r.ok) return false
        out.push(...r.frames)
        at += n
      }
      return acc.buffered === 0 && out.length === frames.length && out.every((f, k) => f.equals(frames[k]))
    }),
    { numRuns: 300 },
  )
})

t.test('a frame beyond the bound is refused from its header; nothing of it is buffered', async (t) => {
  const acc = new FrameAccumulator(100)
  const r = acc.push(directTcpHeader(101))
  t.equal(r.ok, false)
  t.match(r.ok ? '' : r.reason, /beyond the bound of 100/)
  t.equal(new FrameAccumulator(100).push(Buffer.from([1, 0, 0, 4])).ok, false, 'a first byte other than zero')
})

t.test('property: random bytes never throw; the buffer stays within one frame', async () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
      const acc = new FrameAccumulator(200)
      for (const c of chunks) {
        const r = acc.push(Buffer.from(c))
        if (!r.ok) return true
        if (acc.buffered > 4 + 200 + 64) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('property: with any staging size, frames larger than it are read into their own buffer and come out whole', async () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 5, max: 80 }),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 40 }),
      (stagingBytes, payloads, cuts) => {
        const frames = payloads.map((p) => Buffer.from(p))
        const stream = framed(frames)
        const acc = new FrameAccumulator(1024, stagingBytes)
        const out: Buffer[] = []
        // As the socket does: at most the read buffer's length per read, the cut otherwise.
        for (let at = 0, i = 0; at < stream.length; i++) {
          const into = acc.readBuffer()
          if (into.length === 0) return false
          const n = stream.copy(into, 0, at, Math.min(stream.length, at + cuts[i % cuts.length]))
          at += n
          const r = acc.commit(n)
          if (!r.ok) return false
          out.push(...r.frames)
        }
        return acc.buffered === 0 && out.length === frames.length && out.every((f, k) => f.equals(frames[k]))
      },
    ),
    { numRuns: 500 },
  )
})

t.test('a frame returned is not overwritten by the reads that follow it', async (t) => {
  const acc = new FrameAccumulator(1024, 16)
  const small = Buffer.from('abc')
  const large = Buffer.alloc(100, 7)
  const got = acc.push(framed([small, large, Buffer.from('xyz')]))
  t.ok(got.ok)
  const frames = got.ok ? got.frames : []
  acc.push(framed([Buffer.alloc(10, 9), Buffer.alloc(200, 8)]))
  t.same(frames.map((f) => f.toString('hex')), [small, large, Buffer.from('xyz')].map((f) => f.toString('hex')))
})

t.test("a large frame given back to clientFrameBuffers takes the next one; one not given back is never reused", async (t) => {
  const acc = new FrameAccumulator(4 * 1024 * 1024)
  const sizes = [1024 * 1024 + 80, 1024 * 1024 + 80, 1024 * 1024 + 80]
  const payloads = sizes.map((n, i) => Buffer.alloc(n, i + 1))
  const [first] = (acc.push(framed([payloads[0]])) as { frames: Buffer[] }).frames
  t.ok(first.equals(payloads[0]), 'the first frame')
  // Kept (not given back): the next frame must not land in its memory.
  const [second] = (acc.push(framed([payloads[1]])) as { frames: Buffer[] }).frames
  t.not(second.buffer, first.buffer, 'a frame still held is not reused')
  t.ok(first.equals(payloads[0]) && second.equals(payloads[1]), 'both keep their bytes')
  // A view of it is what a reader gives back (a READ's data).
  clientFrameBuffers.release(second.subarray(80))
  const [third] = (acc.push(framed([payloads[2]])) as { frames: Buffer[] }).frames
  t.equal(third.buffer, second.buffer, 'the frame given back takes the next one')
  t.ok(third.equals(payloads[2]), 'with its own bytes')
  clientFrameBuffers.release(third)
  const idle = clientFrameBuffers.idleBytes
  clientFrameBuffers.release(third)
  t.equal(clientFrameBuffers.idleBytes, idle, 'giving back twice keeps it once')
})
