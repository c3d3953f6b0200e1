// The cluster heartbeat as one UDP datagram, the way Windows failover clusters send theirs
// (small datagrams on port 3343, loss and reordering normal): a heartbeat or its reply between
// two nodes, with the sender's process incarnation and a sequence number so that the receiver
// drops stale and duplicated datagrams. Votes, view changes in flight and forwarded IO stay on
// the reliable peer channel; a heartbeat repeats what was lost one interval later.
//
// Layout (big-endian), a per-peer header and a body the same for every peer (a broadcast
// encodes its body once):
//   header: magic "SWHB" | version u8 | incarnation u32 | seq u32 | from str | to str
//   body:   kind u8 (1 heartbeat, 2 reply) | flags u8 | reserved u8 (0) | term u32
//           | timeMs f64 (sentAtMs / echoSentAtMs) | reply only: acceptedEpoch u32 | acceptedViewTerm u32
//   committed view (flag) | proposed view (flag)
// str: u8 length + UTF-8. view: epoch u32 | viewTerm u32 | leaderId str | members u16 × (id str,
// state u8 0 down / 1 up, vote u8 0|1) | csvs u16 × (name str, owner str).

/** The largest payload of a UDP datagram over IPv4. */
export const DATAGRAM_BYTES_MAX = 65_507

/** Bounds of a decoded view: well above the 64 nodes a cluster may have. */
export const VIEW_MEMBERS_MAX = 256
export const VIEW_CSVS_MAX = 1024

const MAGIC = 0x53574842 // "SWHB"
const VERSION = 1
const KIND_HEARTBEAT = 1
const KIND_REPLY = 2

const FLAG_LEADER = 0x01
const FLAG_LEAVING = 0x02
const FLAG_ACCEPTED_LEADER = 0x04
const FLAG_LEASE_GRANTED = 0x08
const FLAG_COMMITTED = 0x10
const FLAG_PROPOSED = 0x20
const FLAGS_KNOWN = 0x3f

const UINT32_MAX = 0xffff_ffff

export interface WireMember {
  readonly id: string
  readonly state: 'up' | 'down'
  readonly vote: 0 | 1
}

export interface WireCsv {
  readonly name: string
  readonly owner: string
}

/** A membership view as it travels (the quorum core's View, field for field). */
export interface WireView {
  readonly epoch: number
  readonly viewTerm: number
  readonly leaderId: string
  readonly members: readonly WireMember[]
  readonly csvs: readonly WireCsv[]
}

export interface WireHeartbeat {
  readonly kind: 'heartbeat'
  readonly term: number
  readonly leader: boolean
  readonly sentAtMs: number
  /** The leader's committed view; null from any other node. */
  readonly committed: WireView | null
  readonly proposed: WireView | null
  readonly leaving: boolean
}

export interface WireHeartbeatReply {
  readonly kind: 'heartbeat-reply'
  readonly term: number
  readonly echoSentAtMs: number
  readonly acceptedLeader: boolean
  readonly acceptedEpoch: number
  readonly acceptedViewTerm: number
  readonly leaseGranted: boolean
  readonly leader: boolean
  readonly committed: WireView | null
  readonly proposed: WireView | null
}

export interface HeartbeatDatagram {
  /** A random number per sender process: a restarted sender starts its sequence anew. */
  readonly incarnation: number
  /** Per sender process, increasing by one per datagram sent (to any peer). */
  readonly seq: number
  readonly from: string
  readonly to: string
  readonly body: WireHeartbeat | WireHeartbeatReply
}

export type HeartbeatDecodeResult = { readonly ok: true; readonly datagram: HeartbeatDatagram } | { readonly ok: false; readonly error: string }

/** Why a value cannot be encoded (a caller's bug, or a view too big for one datagram). */
export class HeartbeatEncodeError extends Error {
  override readonly name = 'HeartbeatEncodeError'
}

// ---- encoding ----

class Writer {
  private buf = Buffer.allocUnsafe(512)
  private at = 0

  private room(n: number): void {
    if (this.at + n > DATAGRAM_BYTES_MAX) throw new HeartbeatEncodeError(`a heartbeat datagram would exceed ${DATAGRAM_BYTES_MAX} bytes`)
    if (this.at + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.min(DATAGRAM_BYTES_MAX, Math.max(this.buf.length * 2, this.at + n)))
    this.buf.copy(next, 0, 0, this.at)
    this.buf = next
  }

  u8(v: number): void {
    this.room(1)
    this.buf.writeUInt8(v, this.at)
    this.at += 1
  }

  u16(v: number): void {
    this.room(2)
    this.buf.writeUInt16BE(v, this.at)
    this.at += 2
  }

  u32(v: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) throw new HeartbeatEncodeError(`${what} ${v} is not a uint32`)
    this.room(4)
    this.buf.writeUInt32BE(v, this.at)
    this.at += 4
  }

  f64(v: number): void {
    this.room(8)
    this.buf.writeDoubleBE(v, this.at)
    this.at += 8
  }

  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    if (n > 255) throw new HeartbeatEncodeError(`a string of ${n} bytes does not fit (255 at most)`)
    this.u8(n)
    this.room(n)
    this.buf.write(s, this.at, 'utf8')
    this.at += n
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at))
  }
}

function writeView(w: Writer, view: WireView): void {
  if (view.members.length > VIEW_MEMBERS_MAX || view.csvs.length > VIEW_CSVS_MAX) throw new HeartbeatEncodeError('a view too large for a heartbeat')
  w.u32(view.epoch, 'epoch')
  w.u32(view.viewTerm, 'viewTerm')
  w.str(view.leaderId)
  w.u16(view.members.length)
  for (const m of view.members) {
    w.str(m.id)
    w.u8(m.state === 'up' ? 1 : 0)
    w.u8(m.vote)
  }
  w.u16(view.csvs.length)
  for (const c of view.csvs) {
    w.str(c.name)
    w.str(c.owner)
  }
}

/** Encodes one datagram; throws HeartbeatEncodeError when it cannot (out of range, too big). */
export function encodeHeartbeatDatagram(d: HeartbeatDatagram): Buffer {
  return frameHeartbeatDatagram(d, encodeHeartbeatBody(d.body))
}

/** Puts the per-peer header in front of a body encoded once (encodeHeartbeatBody). */
export function frameHeartbeatDatagram(header: Omit<HeartbeatDatagram, 'body'>, body: Buffer): Buffer {
  const w = new Writer()
  w.u32(MAGIC, 'magic')
  w.u8(VERSION)
  w.u32(header.incarnation, 'incarnation')
  w.u32(header.seq, 'seq')
  w.str(header.from)
  w.str(header.to)
  const head = w.done()
  if (head.length + body.length > DATAGRAM_BYTES_MAX) throw new HeartbeatEncodeError(`a heartbeat datagram would exceed ${DATAGRAM_BYTES_MAX} bytes`)
  return Buffer.concat([head, body])
}

/** The part of a datagram that is the same for every peer a heartbeat goes to. */
export function encodeHeartbeatBody(b: HeartbeatDatagram['body']): Buffer {
  const w = new Writer()
  if (b.kind === 'heartbeat' && b.leader && !b.committed) throw new HeartbeatEncodeError("a leader's heartbeat carries its committed view")
  let flags = 0
  if (b.leader) flags |= FLAG_LEADER
  if (b.committed) flags |= FLAG_COMMITTED
  if (b.proposed) flags |= FLAG_PROPOSED
  if (b.kind === 'heartbeat') {
    if (b.leaving) flags |= FLAG_LEAVING
  } else {
    if (b.acceptedLeader) flags |= FLAG_ACCEPTED_LEADER
    if (b.leaseGranted) flags |= FLAG_LEASE_GRANTED
  }
  w.u8(b.kind === 'heartbeat' ? KIND_HEARTBEAT : KIND_REPLY)
  w.u8(flags)
  w.u8(0)
  w.u32(b.term, 'term')
  w.f64(b.kind === 'heartbeat' ? b.sentAtMs : b.echoSentAtMs)
  if (b.kind === 'heartbeat-reply') {
    w.u32(b.acceptedEpoch, 'acceptedEpoch')
    w.u32(b.acceptedViewTerm, 'acceptedViewTerm')
  }
  if (b.committed) writeView(w, b.committed)
  if (b.proposed) writeView(w, b.proposed)
  return w.done()
}

// ---- decoding: never throws; every read is bounds-checked ----

class Truncated {}

class Reader {
  at = 0
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new Truncated()
  }

  u8(): number {
    this.need(1)
    return this.buf.readUInt8(this.at++)
  }

  u16(): number {
    this.need(2)
    const v = this.buf.readUInt16BE(this.at)
    this.at += 2
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.at)
    this.at += 4
    return v
  }

  f64(): number {
    this.need(8)
    const v = this.buf.readDoubleBE(this.at)
    this.at += 8
    return v
  }

  str(): string {
    const n = this.u8()
    this.need(n)
    const s = this.buf.toString('utf8', this.at, this.at + n)
    this.at += n
    return s
  }

  get remaining(): number {
    return this.buf.length - this.at
  }
}

function readView(r: Reader): WireView | string {
  const epoch = r.u32()
  const viewTerm = r.u32()
  const leaderId = r.str()
  const memberCount = r.u16()
  if (memberCount > VIEW_MEMBERS_MAX) return `${memberCount} members (at most ${VIEW_MEMBERS_MAX})`
  const members: WireMember[] = []
  for (let i = 0; i < memberCount; i++) {
    const id = r.str()
    const state = r.u8()
    const vote = r.u8()
    if (state > 1 || vote > 1) return `member ${i}: state ${state} / vote ${vote} out of range`
    members.push({ id, state: state === 1 ? 'up' : 'down', vote: vote === 1 ? 1 : 0 })
  }
  const csvCount = r.u16()
  if (csvCount > VIEW_CSVS_MAX) return `${csvCount} CSVs (at most ${VIEW_CSVS_MAX})`
  const csvs: WireCsv[] = []
  for (let i = 0; i < csvCount; i++) csvs.push({ name: r.str(), owner: r.str() })
  return { epoch, viewTerm, leaderId, members, csvs }
}

/** Decodes one datagram; anything malformed is an error value, never an exception. */
export function decodeHeartbeatDatagram(buf: Buffer): HeartbeatDecodeResult {
  if (buf.length > DATAGRAM_BYTES_MAX) return { ok: false, error: `datagram of ${buf.length} bytes` }
  const r = new Reader(buf)
  try {
    if (r.u32() !== MAGIC) return { ok: false, error: 'not a heartbeat datagram (magic)' }
    const version = r.u8()
    if (version !== VERSION) return { ok: false, error: `version ${version} (this node speaks ${VERSION})` }
    const incarnation = r.u32()
    const seq = r.u32()
    const from = r.str()
    const to = r.str()
    const kind = r.u8()
    if (kind !== KIND_HEARTBEAT && kind !== KIND_REPLY) return { ok: false, error: `kind ${kind}` }
    const flags = r.u8()
    if ((flags & ~FLAGS_KNOWN) !== 0) return { ok: false, error: `unknown flags 0x${flags.toString(16)}` }
    if (r.u8() !== 0) return { ok: false, error: 'reserved byte set' }
    const term = r.u32()
    const timeMs = r.f64()
    if (!Number.isFinite(timeMs)) return { ok: false, error: 'time is not finite' }
    let acceptedEpoch = 0
    let acceptedViewTerm = 0
    if (kind === KIND_REPLY) {
      acceptedEpoch = r.u32()
      acceptedViewTerm = r.u32()
    } else if ((flags & (FLAG_ACCEPTED_LEADER | FLAG_LEASE_GRANTED)) !== 0 || ((flags & FLAG_LEADER) !== 0 && (flags & FLAG_COMMITTED) === 0)) {
      return { ok: false, error: 'heartbeat flags do not fit a heartbeat' }
    }
    if (kind === KIND_REPLY && (flags & FLAG_LEAVING) !== 0) return { ok: false, error: 'reply flags do not fit a reply' }
    let committed: WireView | null = null
    let proposed: WireView | null = null
    if (flags & FLAG_COMMITTED) {
      const v = readView(r)
      if (typeof v === 'string') return { ok: false, error: `committed view: ${v}` }
      committed = v
    }
    if (flags & FLAG_PROPOSED) {
      const v = readView(r)
      if (typeof v === 'string') return { ok: false, error: `proposed view: ${v}` }
      proposed = v
    }
    if (r.remaining !== 0) return { ok: false, error: `${r.remaining} trailing bytes` }
    const leader = (flags & FLAG_LEADER) !== 0
    const body: WireHeartbeat | WireHeartbeatReply =
      kind === KIND_HEARTBEAT
        ? { kind: 'heartbeat', term, leader, sentAtMs: timeMs, committed, proposed, leaving: (flags & FLAG_LEAVING) !== 0 }
        : {
            kind: 'heartbeat-reply',
            term,
            echoSentAtMs: timeMs,
            acceptedLeader: (flags & FLAG_ACCEPTED_LEADER) !== 0,
            acceptedEpoch,
            acceptedViewTerm,
            leaseGranted: (flags & FLAG_LEASE_GRANTED) !== 0,
            leader,
            committed,
            proposed,
          }
    return { ok: true, datagram: { incarnation, seq, from, to, body } }
  } catch (err) {
    if (err instanceof Truncated) return { ok: false, error: 'truncated datagram' }
    return { ok: false, error: `undecodable datagram: ${String(err)}` }
  }
}

/**
 * Whether a datagram with `seq` from a sender incarnation is new: a receiver keeps the highest
 * sequence number it took from each sender incarnation and drops anything at or below it
 * (a duplicate, or one overtaken by a newer heartbeat: the newer one says more).
 */
export function isFreshSeq(last: { readonly incarnation: number; readonly seq: number } | undefined, incarnation: number, seq: number): boolean {
  return last === undefined || last.incarnation !== incarnation || seq > last.seq
}
