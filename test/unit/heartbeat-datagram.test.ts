// The UDP heartbeat codec: every datagram round-trips, and no byte sequence a network can
// deliver (truncations, flipped bytes, random noise, lies about lengths) makes the decoder
// throw or return anything but an error value.
import t from 'tap'
import fc from 'fast-check'
import {
  DATAGRAM_BYTES_MAX,
  HeartbeatEncodeError,
  decodeHeartbeatDatagram,
  encodeHeartbeatDatagram,
  isFreshSeq,
  type HeartbeatDatagram,
  type WireView,
} from '../../protocol/cluster/heartbeat-datagram.js'

const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const id = fc.string({ minLength: 0, maxLength: 12 })
const view: fc.Arbitrary<WireView> = fc.record({
  epoch: u32,
  viewTerm: u32,
  leaderId: id,
  members: fc.array(fc.record({ id, state: fc.constantFrom('up' as const, 'down' as const), vote: fc.constantFrom(0 as const, 1 as const) }), { maxLength: 70 }),
  csvs: fc.array(fc.record({ name: id, owner: id }), { maxLength: 70 }),
})
const time = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e15, max: 1e15 })

const heartbeat = fc
  .record({
    kind: fc.constant('heartbeat' as const),
    term: u32,
    leader: fc.boolean(),
    sentAtMs: time,
    committed: fc.option(view, { nil: null }),
    proposed: fc.option(view, { nil: null }),
    leaving: fc.boolean(),
  })
  // Only a leader's heartbeat carries its committed view, and it always does.
  .map((h) => ({ ...h, leader: h.leader && h.committed !== null }))
const reply = fc.record({
  kind: fc.constant('heartbeat-reply' as const),
  term: u32,
  echoSentAtMs: time,
  acceptedLeader: fc.boolean(),
  acceptedEpoch: u32,
  acceptedViewTerm: u32,
  leaseGranted: fc.boolean(),
  leader: fc.boolean(),
  committed: fc.option(view, { nil: null }),
  proposed: fc.option(view, { nil: null }),
})
const datagram: fc.Arbitrary<HeartbeatDatagram> = fc.record({ incarnation: u32, seq: u32, from: id, to: id, body: fc.oneof(heartbeat, reply) })

/** Plain data: fast-check's records may have no prototype, which the decoder's objects have. */
const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x))

t.test('every datagram round-trips', async (t) => {
  fc.assert(
    fc.property(datagram, (d) => {
      const decoded = decodeHeartbeatDatagram(encodeHeartbeatDatagram(d))
      if (!decoded.ok) throw new Error(decoded.error)
      if (JSON.stringify(plain(decoded.datagram)) !== JSON.stringify(plain(d))) t.strictSame(plain(decoded.datagram), plain(d))
    }),
    { numRuns: 500 },
  )
})

t.test('a 64-node view fits one datagram with room to spare', async (t) => {
  const ids = Array.from({ length: 64 }, (_, i) => `node-${i + 1}`)
  const v: WireView = { epoch: 9, viewTerm: 3, leaderId: 'node-1', members: ids.map((i) => ({ id: i, state: 'up', vote: 1 })), csvs: ids.map((i, k) => ({ name: `csv-${k + 1}`, owner: i })) }
  const buf = encodeHeartbeatDatagram({ incarnation: 1, seq: 2, from: 'node-1', to: 'node-2', body: { kind: 'heartbeat', term: 3, leader: true, sentAtMs: 1.5, committed: v, proposed: v, leaving: false } })
  t.ok(buf.length < 8192, `${buf.length} bytes for a committed and a proposed view of 64 nodes`)
})

t.test('values that cannot be sent are refused at encoding, not truncated', async (t) => {
  const v: WireView = { epoch: 1, viewTerm: 1, leaderId: '', members: [], csvs: [] }
  const base: HeartbeatDatagram = { incarnation: 1, seq: 1, from: 'a', to: 'b', body: { kind: 'heartbeat', term: 1, leader: false, sentAtMs: 0, committed: v, proposed: null, leaving: false } }
  t.throws(() => encodeHeartbeatDatagram({ ...base, seq: 2 ** 32 }), HeartbeatEncodeError)
  t.throws(() => encodeHeartbeatDatagram({ ...base, from: 'x'.repeat(256) }), HeartbeatEncodeError)
  t.throws(() => encodeHeartbeatDatagram({ ...base, body: { ...base.body, term: -1 } as HeartbeatDatagram['body'] }), HeartbeatEncodeError)
  t.throws(() => encodeHeartbeatDatagram({ ...base, body: { ...base.body, leader: true, committed: null } as HeartbeatDatagram['body'] }), HeartbeatEncodeError)
})

t.test('malformed input is an error value, never an exception', async (t) => {
  // Truncations and single-byte corruptions of valid datagrams.
  fc.assert(
    fc.property(datagram, fc.nat(), fc.integer({ min: 0, max: 255 }), (d, cut, byte) => {
      const buf = encodeHeartbeatDatagram(d)
      const short = decodeHeartbeatDatagram(buf.subarray(0, cut % buf.length))
      if (short.ok) throw new Error('a truncated datagram decoded')
      const flipped = Buffer.from(buf)
      flipped[cut % buf.length] = byte
      decodeHeartbeatDatagram(flipped)
      const longer = decodeHeartbeatDatagram(Buffer.concat([buf, Buffer.from([byte])]))
      if (longer.ok) throw new Error('trailing bytes accepted')
    }),
    { numRuns: 500 },
  )
  // Noise, with and without a valid magic and version in front.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, framed) => {
      const buf = framed ? Buffer.concat([Buffer.from('SWHB\x01', 'latin1'), Buffer.from(bytes)]) : Buffer.from(bytes)
      const r = decodeHeartbeatDatagram(buf)
      if (r.ok && r.datagram.body.kind === 'heartbeat' && r.datagram.body.leader && r.datagram.body.committed === null) throw new Error("a leader's heartbeat without its view")
    }),
    { numRuns: 3000 },
  )
  t.notOk(decodeHeartbeatDatagram(Buffer.alloc(DATAGRAM_BYTES_MAX + 1)).ok, 'oversized')
  t.match(decodeHeartbeatDatagram(Buffer.from('SWHB\x02', 'latin1')), { ok: false, error: /version 2/ })
  t.match(decodeHeartbeatDatagram(Buffer.from('SWHB\x01', 'latin1')), { ok: false, error: /truncated/ })
})

t.test('member and CSV counts beyond the bounds are refused before anything is allocated for them', async (t) => {
  const v: WireView = { epoch: 1, viewTerm: 1, leaderId: '', members: [], csvs: [] }
  const buf = encodeHeartbeatDatagram({ incarnation: 1, seq: 1, from: 'a', to: 'b', body: { kind: 'heartbeat', term: 1, leader: true, sentAtMs: 0, committed: v, proposed: null, leaving: false } })
  // The committed view (no members, no CSVs) ends the datagram: its member count is the u16 before the CSV count.
  const at = buf.length - 2 - 2
  const lying = Buffer.from(buf)
  lying.writeUInt16BE(0xffff, at)
  t.match(decodeHeartbeatDatagram(lying), { ok: false, error: /65535 members/ })
})

t.test('stale and duplicated sequence numbers are dropped; a new incarnation starts over', async (t) => {
  t.ok(isFreshSeq(undefined, 7, 0))
  t.ok(isFreshSeq({ incarnation: 7, seq: 4 }, 7, 5))
  t.notOk(isFreshSeq({ incarnation: 7, seq: 4 }, 7, 4), 'duplicate')
  t.notOk(isFreshSeq({ incarnation: 7, seq: 4 }, 7, 3), 'overtaken')
  t.ok(isFreshSeq({ incarnation: 7, seq: 400 }, 8, 1), 'restarted sender')
})
