// The wire client's receive buffer (client/smb2/frame-accumulator): frames come out whole and in
// order however TCP cuts them, and a length beyond the bound is refused from its header alone.
import t from 'tap'
import fc from 'fast-check'
import { FrameAccumulator } from '../../client/smb2/frame-accumulator.js'
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
