// The wire protocol between the nodes and the emulated storage array (issue 17 item 2): binary
// frames, each a 4-byte big-endian length then the body, pipelined on one stream (a unix socket)
// and answered out of order by request id. Bodies start with a kind byte and the request id;
// the rest is fixed-size integers and length-prefixed strings, so a WRITE's data is never
// re-encoded (no per-IO JSON): it goes as its own buffer after a small head.
//
// Persistent reservation commands follow SPC-3's PERSISTENT RESERVE OUT/IN service actions;
// the IO commands carry the reservation key the sender holds, which the array checks before it
// touches the LUN (a reservation conflict otherwise). Reads are not here: WERO lets any
// initiator read, so nodes read from the shared storage themselves.
//
// Decoders face a socket: they never throw; a malformed body is a returned ArrayDecodeError.

/** Bytes of the length prefix. */
export const ARRAY_FRAME_HEADER_BYTES = 4

/** The largest WRITE the array takes in one frame: the SMB server's MaxWriteSize (8 MiB). */
export const ARRAY_WRITE_BYTES_MAX = 8 * 1024 * 1024

/** A body is at most one WRITE's data and its head. */
export const ARRAY_FRAME_BYTES_MAX = ARRAY_WRITE_BYTES_MAX + 64 * 1024

/** Paths (share-relative, '/'-separated, under the LUN's folder) and names are bounded. */
export const ARRAY_PATH_BYTES_MAX = 4096
const NAME_BYTES_MAX = 255
/** Registrations a READ KEYS reply may carry (the core's bound is lower). */
const KEYS_IN_REPLY_MAX = 255

export const ARRAY_OP = {
  HELLO: 0x01,
  REGISTER: 0x10,
  RESERVE: 0x11,
  RELEASE: 0x12,
  PREEMPT: 0x13,
  READ_KEYS: 0x14,
  READ_RESERVATION: 0x15,
  WRITE: 0x20,
  FLUSH: 0x21,
  TRUNCATE: 0x22,
  CREATE_FILE: 0x23,
  MKDIR: 0x24,
  RENAME: 0x25,
  REMOVE: 0x26,
  SET_TIMES: 0x27,
  RELEASE_FILES: 0x30,
  REPLY: 0xff,
} as const

/** How a request went; the SCSI status in spirit (RESERVATION CONFLICT) or an errno of the storage. */
export const ARRAY_STATUS = {
  OK: 0,
  RESERVATION_CONFLICT: 1,
  UNKNOWN_LUN: 2,
  INVALID_FIELD: 3,
  INSUFFICIENT_REGISTRATION_RESOURCES: 4,
  /** The file system refused: the reply carries its errno code (ENOSPC, EROFS, ENOENT…). */
  IO_ERROR: 5,
  /** The connection's in-flight bound is reached: the request was not run. */
  BUSY: 6,
} as const
export type ArrayStatus = (typeof ARRAY_STATUS)[keyof typeof ARRAY_STATUS]

interface Keyed {
  readonly requestId: number
  readonly lun: string
  readonly key: bigint
}

export type ArrayRequest =
  /** Names the initiator (the node) of this connection: the I_T nexus its registrations belong to. */
  | { readonly op: 'hello'; readonly requestId: number; readonly initiator: string }
  | (Keyed & { readonly op: 'register' | 'reserve' | 'release' })
  | (Keyed & { readonly op: 'preempt'; readonly victimKey: bigint })
  | { readonly op: 'read-keys' | 'read-reservation'; readonly requestId: number; readonly lun: string }
  /** The harness is about to remount the LUN's volume: the array closes the files it keeps open on it (no key: not a data-path command). */
  | { readonly op: 'release-files'; readonly requestId: number; readonly lun: string }
  /** Writes data at offset; sync: fdatasync before the answer (continuous availability). */
  | (Keyed & { readonly op: 'write'; readonly path: string; readonly offset: number; readonly data: Buffer; readonly sync: boolean })
  | (Keyed & { readonly op: 'flush'; readonly path: string })
  | (Keyed & { readonly op: 'truncate'; readonly path: string; readonly sizeBytes: number })
  /** Makes the file (parents too) or, with truncate, empties the one there; fsyncs it. */
  | (Keyed & { readonly op: 'create-file'; readonly path: string; readonly truncate: boolean })
  | (Keyed & { readonly op: 'mkdir'; readonly path: string })
  | (Keyed & { readonly op: 'rename'; readonly path: string; readonly newPath: string })
  | (Keyed & { readonly op: 'remove'; readonly path: string; readonly directory: boolean })
  | (Keyed & { readonly op: 'set-times'; readonly path: string; readonly accessMs: number; readonly writeMs: number })

export type ArrayReplyBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'keys'; readonly generation: number; readonly registrations: readonly { readonly initiator: string; readonly key: bigint }[] }
  /** READ RESERVATION, with the writes the LUN refused for a reservation conflict since the array started (not SPC: for `cluster status`). */
  | { readonly kind: 'reservation'; readonly generation: number; readonly holder: { readonly initiator: string; readonly key: bigint } | null; readonly refusedWrites: number }
  | { readonly kind: 'removed'; readonly initiators: readonly string[] }
  /** IO_ERROR: the errno code and message. */
  | { readonly kind: 'error'; readonly code: string; readonly message: string }

export interface ArrayReply {
  readonly requestId: number
  readonly status: ArrayStatus
  readonly body: ArrayReplyBody
}

export class ArrayDecodeError {
  readonly name = 'ArrayDecodeError'
  constructor(readonly reason: string) {}
}

export type ArrayDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ArrayDecodeError }

export type ArrayFramePeek = { readonly kind: 'need-more' } | { readonly kind: 'frame'; readonly length: number } | { readonly kind: 'bad'; readonly reason: string }

/** The length of the frame at the start of buf, refused past the bound before anything is buffered. */
export function peekArrayFrame(buf: Uint8Array, maxBodyBytes = ARRAY_FRAME_BYTES_MAX): ArrayFramePeek {
  if (buf.length < ARRAY_FRAME_HEADER_BYTES) return { kind: 'need-more' }
  const length = ((buf[0] << 24) >>> 0) + (buf[1] << 16) + (buf[2] << 8) + buf[3]
  if (length < 5) return { kind: 'bad', reason: `frame of ${length} bytes is shorter than a kind and a request id` }
  if (length > maxBodyBytes) return { kind: 'bad', reason: `frame of ${length} bytes is beyond the bound of ${maxBodyBytes}` }
  return { kind: 'frame', length }
}

/**
 * A share-relative path the array may touch: '/'-separated names, none empty, '.', '..' or with a
 * NUL or backslash, so that no request reaches outside its LUN's folder.
 */
export function isSafeArrayPath(path: string): boolean {
  if (path === '' || Buffer.byteLength(path) > ARRAY_PATH_BYTES_MAX) return false
  return path.split('/').every((name) => name !== '' && name !== '.' && name !== '..' && !/[\0\\]/.test(name))
}

const LUN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

// ---- encoding ----

class Writer {
  private readonly parts: Buffer[] = []
  private bytes = 0

  u8(v: number): this {
    return this.push(Buffer.of(v & 0xff))
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4)
    b.writeUInt32BE(v >>> 0)
    return this.push(b)
  }

  u64(v: bigint): this {
    const b = Buffer.allocUnsafe(8)
    b.writeBigUInt64BE(v)
    return this.push(b)
  }

  /** Safe integers (offsets, sizes) and times in ms as f64. */
  f64(v: number): this {
    const b = Buffer.allocUnsafe(8)
    b.writeDoubleBE(v)
    return this.push(b)
  }

  name(s: string): this {
    const b = Buffer.from(s, 'utf8')
    if (b.length > NAME_BYTES_MAX) throw new RangeError(`name of ${b.length} bytes`)
    return this.u8(b.length).push(b)
  }

  path(s: string): this {
    const b = Buffer.from(s, 'utf8')
    if (b.length > 0xffff) throw new RangeError(`path of ${b.length} bytes`)
    const len = Buffer.allocUnsafe(2)
    len.writeUInt16BE(b.length)
    return this.push(len).push(b)
  }

  push(b: Buffer): this {
    this.parts.push(b)
    this.bytes += b.length
    return this
  }

  /** The frame: length prefix, then the parts; the last may be a large data buffer, not copied. */
  frame(tail?: Buffer): Buffer[] {
    const header = Buffer.allocUnsafe(ARRAY_FRAME_HEADER_BYTES)
    header.writeUInt32BE(this.bytes + (tail?.length ?? 0))
    const head = Buffer.concat([header, ...this.parts])
    return tail && tail.length > 0 ? [head, tail] : [head]
  }
}

/** One request as buffers to write in order (a WRITE's data is its own, uncopied buffer). */
export function encodeArrayRequest(r: ArrayRequest): Buffer[] {
  const w = new Writer()
  const keyed = (code: number, k: Keyed) => w.u8(code).u32(k.requestId).name(k.lun).u64(k.key)
  switch (r.op) {
    case 'hello':
      return w.u8(ARRAY_OP.HELLO).u32(r.requestId).name(r.initiator).frame()
    case 'register':
      return keyed(ARRAY_OP.REGISTER, r).frame()
    case 'reserve':
      return keyed(ARRAY_OP.RESERVE, r).frame()
    case 'release':
      return keyed(ARRAY_OP.RELEASE, r).frame()
    case 'preempt':
      return keyed(ARRAY_OP.PREEMPT, r).u64(r.victimKey).frame()
    case 'read-keys':
      return w.u8(ARRAY_OP.READ_KEYS).u32(r.requestId).name(r.lun).frame()
    case 'read-reservation':
      return w.u8(ARRAY_OP.READ_RESERVATION).u32(r.requestId).name(r.lun).frame()
    case 'release-files':
      return w.u8(ARRAY_OP.RELEASE_FILES).u32(r.requestId).name(r.lun).frame()
    case 'write':
      if (r.data.length > ARRAY_WRITE_BYTES_MAX) throw new RangeError(`write of ${r.data.length} bytes is beyond ${ARRAY_WRITE_BYTES_MAX}`)
      return keyed(ARRAY_OP.WRITE, r).path(r.path).f64(r.offset).u8(r.sync ? 1 : 0).u32(r.data.length).frame(r.data)
    case 'flush':
      return keyed(ARRAY_OP.FLUSH, r).path(r.path).frame()
    case 'truncate':
      return keyed(ARRAY_OP.TRUNCATE, r).path(r.path).f64(r.sizeBytes).frame()
    case 'create-file':
      return keyed(ARRAY_OP.CREATE_FILE, r).path(r.path).u8(r.truncate ? 1 : 0).frame()
    case 'mkdir':
      return keyed(ARRAY_OP.MKDIR, r).path(r.path).frame()
    case 'rename':
      return keyed(ARRAY_OP.RENAME, r).path(r.path).path(r.newPath).frame()
    case 'remove':
      return keyed(ARRAY_OP.REMOVE, r).path(r.path).u8(r.directory ? 1 : 0).frame()
    case 'set-times':
      return keyed(ARRAY_OP.SET_TIMES, r).path(r.path).f64(r.accessMs).f64(r.writeMs).frame()
  }
}

export function encodeArrayReply(r: ArrayReply): Buffer {
  const w = new Writer().u8(ARRAY_OP.REPLY).u32(r.requestId).u8(r.status)
  const b = r.body
  switch (b.kind) {
    case 'none':
      w.u8(0)
      break
    case 'count':
      w.u8(1).u32(b.count)
      break
    case 'keys':
      if (b.registrations.length > KEYS_IN_REPLY_MAX) throw new RangeError('too many registrations for one reply')
      w.u8(2).u32(b.generation).u8(b.registrations.length)
      for (const k of b.registrations) w.name(k.initiator).u64(k.key)
      break
    case 'reservation':
      w.u8(3).u32(b.generation).u32(b.refusedWrites).u8(b.holder ? 1 : 0)
      if (b.holder) w.name(b.holder.initiator).u64(b.holder.key)
      break
    case 'removed':
      if (b.initiators.length > KEYS_IN_REPLY_MAX) throw new RangeError('too many initiators for one reply')
      w.u8(4).u8(b.initiators.length)
      for (const i of b.initiators) w.name(i)
      break
    case 'error':
      w.u8(5).name(b.code.slice(0, 32)).path(b.message.slice(0, 1024))
      break
  }
  return Buffer.concat(w.frame())
}

// ---- decoding ----

class Truncated extends Error {}

class Reader {
  private at = 0
  constructor(private readonly body: Buffer) {}

  u8(): number {
    this.need(1)
    return this.body[this.at++]
  }

  u32(): number {
    this.need(4)
    const v = this.body.readUInt32BE(this.at)
    this.at += 4
    return v
  }

  u64(): bigint {
    this.need(8)
    const v = this.body.readBigUInt64BE(this.at)
    this.at += 8
    return v
  }

  f64(): number {
    this.need(8)
    const v = this.body.readDoubleBE(this.at)
    this.at += 8
    return v
  }

  name(): string {
    const len = this.u8()
    return this.utf8(len)
  }

  path(): string {
    this.need(2)
    const len = this.body.readUInt16BE(this.at)
    this.at += 2
    return this.utf8(len)
  }

  /** The rest of the body, as a view (a WRITE's data is not copied). */
  bytes(len: number): Buffer {
    this.need(len)
    const v = this.body.subarray(this.at, this.at + len)
    this.at += len
    return v
  }

  end(): void {
    if (this.at !== this.body.length) throw new Truncated(`${this.body.length - this.at} bytes after the end of the body`)
  }

  private utf8(len: number): string {
    const s = this.bytes(len).toString('utf8')
    if (Buffer.byteLength(s) !== len) throw new Truncated('a string that is not UTF-8')
    return s
  }

  private need(n: number): void {
    if (this.at + n > this.body.length) throw new Truncated(`body ends at ${this.body.length}, ${n} bytes needed at ${this.at}`)
  }
}

function offsetField(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new Truncated(`${what} ${v} is not a non-negative safe integer`)
  return v
}

function lunField(lun: string): string {
  if (!LUN_PATTERN.test(lun)) throw new Truncated(`bad LUN name ${JSON.stringify(lun)}`)
  return lun
}

function pathField(path: string): string {
  if (!isSafeArrayPath(path)) throw new Truncated(`unsafe path ${JSON.stringify(path.slice(0, 80))}`)
  return path
}

/** One request body (after the length prefix). */
export function decodeArrayRequest(body: Buffer): ArrayDecoded<ArrayRequest> {
  try {
    const r = new Reader(body)
    const code = r.u8()
    const requestId = r.u32()
    if (code === ARRAY_OP.HELLO) {
      const initiator = r.name()
      if (!LUN_PATTERN.test(initiator)) throw new Truncated(`bad initiator name ${JSON.stringify(initiator)}`)
      r.end()
      return { ok: true, value: { op: 'hello', requestId, initiator } }
    }
    const lun = lunField(r.name())
    if (code === ARRAY_OP.READ_KEYS || code === ARRAY_OP.READ_RESERVATION) {
      r.end()
      return { ok: true, value: { op: code === ARRAY_OP.READ_KEYS ? 'read-keys' : 'read-reservation', requestId, lun } }
    }
    if (code === ARRAY_OP.RELEASE_FILES) {
      r.end()
      return { ok: true, value: { op: 'release-files', requestId, lun } }
    }
    const key = r.u64()
    const k = { requestId, lun, key }
    let value: ArrayRequest
    switch (code) {
      case ARRAY_OP.REGISTER:
        value = { ...k, op: 'register' }
        break
      case ARRAY_OP.RESERVE:
        value = { ...k, op: 'reserve' }
        break
      case ARRAY_OP.RELEASE:
        value = { ...k, op: 'release' }
        break
      case ARRAY_OP.PREEMPT:
        value = { ...k, op: 'preempt', victimKey: r.u64() }
        break
      case ARRAY_OP.WRITE: {
        const path = pathField(r.path())
        const offset = offsetField(r.f64(), 'offset')
        const sync = r.u8() !== 0
        const length = r.u32()
        if (length > ARRAY_WRITE_BYTES_MAX) throw new Truncated(`write of ${length} bytes`)
        value = { ...k, op: 'write', path, offset, sync, data: r.bytes(length) }
        break
      }
      case ARRAY_OP.FLUSH:
        value = { ...k, op: 'flush', path: pathField(r.path()) }
        break
      case ARRAY_OP.TRUNCATE:
        value = { ...k, op: 'truncate', path: pathField(r.path()), sizeBytes: offsetField(r.f64(), 'size') }
        break
      case ARRAY_OP.CREATE_FILE:
        value = { ...k, op: 'create-file', path: pathField(r.path()), truncate: r.u8() !== 0 }
        break
      case ARRAY_OP.MKDIR:
        value = { ...k, op: 'mkdir', path: pathField(r.path()) }
        break
      case ARRAY_OP.RENAME:
        value = { ...k, op: 'rename', path: pathField(r.path()), newPath: pathField(r.path()) }
        break
      case ARRAY_OP.REMOVE:
        value = { ...k, op: 'remove', path: pathField(r.path()), directory: r.u8() !== 0 }
        break
      case ARRAY_OP.SET_TIMES: {
        const path = pathField(r.path())
        const accessMs = r.f64()
        const writeMs = r.f64()
        if (!Number.isFinite(accessMs) || !Number.isFinite(writeMs)) throw new Truncated('a time that is not finite')
        value = { ...k, op: 'set-times', path, accessMs, writeMs }
        break
      }
      default:
        throw new Truncated(`unknown request kind 0x${code.toString(16)}`)
    }
    r.end()
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: new ArrayDecodeError(err instanceof Truncated ? err.message : String(err)) }
  }
}

const STATUSES: ReadonlySet<number> = new Set(Object.values(ARRAY_STATUS))

/** One reply body (after the length prefix). */
export function decodeArrayReply(body: Buffer): ArrayDecoded<ArrayReply> {
  try {
    const r = new Reader(body)
    if (r.u8() !== ARRAY_OP.REPLY) throw new Truncated('not a reply')
    const requestId = r.u32()
    const status = r.u8()
    if (!STATUSES.has(status)) throw new Truncated(`unknown status ${status}`)
    const kind = r.u8()
    let reply: ArrayReplyBody
    switch (kind) {
      case 0:
        reply = { kind: 'none' }
        break
      case 1:
        reply = { kind: 'count', count: r.u32() }
        break
      case 2: {
        const generation = r.u32()
        const n = r.u8()
        const registrations = []
        for (let i = 0; i < n; i++) registrations.push({ initiator: r.name(), key: r.u64() })
        reply = { kind: 'keys', generation, registrations }
        break
      }
      case 3: {
        const generation = r.u32()
        const refusedWrites = r.u32()
        const held = r.u8()
        reply = { kind: 'reservation', generation, holder: held ? { initiator: r.name(), key: r.u64() } : null, refusedWrites }
        break
      }
      case 4: {
        const n = r.u8()
        const initiators = []
        for (let i = 0; i < n; i++) initiators.push(r.name())
        reply = { kind: 'removed', initiators }
        break
      }
      case 5:
        reply = { kind: 'error', code: r.name(), message: r.path() }
        break
      default:
        throw new Truncated(`unknown reply body ${kind}`)
    }
    r.end()
    return { ok: true, value: { requestId, status: status as ArrayStatus, body: reply } }
  } catch (err) {
    return { ok: false, error: new ArrayDecodeError(err instanceof Truncated ? err.message : String(err)) }
  }
}

/**
 * Cuts a byte stream into frame bodies. Bounded: it holds at most one frame's bytes plus what
 * the last chunk brought; a bad length prefix is reported once and the stream is then unusable
 * (the connection is dropped).
 */
export class ArrayFrameSplitter {
  private chunks: Buffer[] = []
  private buffered = 0
  private failed = false

  constructor(
    private readonly maxBodyBytes = ARRAY_FRAME_BYTES_MAX,
    /**
     * Memory for a body that arrived in several chunks (an 8 MiB WRITE in 64 KiB reads): the
     * array gives pooled memory here, which it takes back once the request is done, instead of
     * a fresh 8 MiB that page-faults on every WRITE.
     */
    private readonly allocate: (bytes: number) => Buffer = (bytes) => Buffer.allocUnsafe(bytes),
  ) {}

  /** The complete bodies the chunk finished, or why the stream is bad. */
  push(chunk: Buffer): { readonly bodies: Buffer[]; readonly error?: string } {
    if (this.failed) return { bodies: [], error: 'stream already failed' }
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const bodies: Buffer[] = []
    for (;;) {
      if (this.buffered < ARRAY_FRAME_HEADER_BYTES) break
      if (this.chunks[0].length < ARRAY_FRAME_HEADER_BYTES) this.chunks = [Buffer.concat(this.chunks)]
      const peek = peekArrayFrame(this.chunks[0], this.maxBodyBytes)
      if (peek.kind === 'bad') {
        this.failed = true
        this.chunks = []
        this.buffered = 0
        return { bodies, error: peek.reason }
      }
      if (peek.kind !== 'frame' || this.buffered < ARRAY_FRAME_HEADER_BYTES + peek.length) break
      const end = ARRAY_FRAME_HEADER_BYTES + peek.length
      let rest: Buffer
      if (this.chunks.length === 1) {
        bodies.push(this.chunks[0].subarray(ARRAY_FRAME_HEADER_BYTES, end))
        rest = this.chunks[0].subarray(end)
      } else {
        // Copied once, straight from the chunks into the body's memory; the stream offset of
        // each chunk says which part of it is body and which is the next frame's.
        const body = this.allocate(peek.length)
        const restParts: Buffer[] = []
        let chunkStart = 0
        for (const c of this.chunks) {
          const chunkEnd = chunkStart + c.length
          const from = Math.max(ARRAY_FRAME_HEADER_BYTES, chunkStart)
          const to = Math.min(end, chunkEnd)
          if (from < to) c.copy(body, from - ARRAY_FRAME_HEADER_BYTES, from - chunkStart, to - chunkStart)
          if (chunkEnd > end) restParts.push(c.subarray(Math.max(end, chunkStart) - chunkStart))
          chunkStart = chunkEnd
        }
        bodies.push(body)
        rest = restParts.length === 1 ? restParts[0] : Buffer.concat(restParts)
      }
      this.chunks = rest.length > 0 ? [rest] : []
      this.buffered = rest.length
    }
    return { bodies }
  }
}
