// Named pipes for the IPC$ tree of the SMB2 front, free of SMB2 message types: a registry of
// pipe endpoints (`srvsvc` today; `witness` and `lsarpc` can be registered the same way) and a
// NamedPipe per open, a DCE/RPC association (RpcConnection) behind the byte interface the SMB2
// commands need.
//
// How the SMB2 front maps its commands (MS-SMB2 3.3.5.9 CREATE, 3.3.5.13 WRITE, 3.3.5.12 READ,
// 3.3.5.15 IOCTL FSCTL_PIPE_TRANSCEIVE 0x0011C017, FSCTL_PIPE_PEEK 0x0011400C, 3.3.5.10 CLOSE,
// 3.3.5.16 CANCEL), with NAMED_PIPE_STATUS giving the NTSTATUS of each outcome:
// - CREATE on IPC$: registry.open(name) with the name as sent ("srvsvc"; "\PIPE\srvsvc" is
//   accepted too). 'not-found' is STATUS_OBJECT_NAME_NOT_FOUND, 'too-many-open'
//   STATUS_PIPE_NOT_AVAILABLE (every instance busy, as NPFS says).
// - WRITE: pipe.write(data). A write is a chunk of the client's PDU stream: it may hold part of
//   a PDU or several. 'queue-full' (the client leaves too many replies unread) is
//   STATUS_INSUFFICIENT_RESOURCES; 'closed' is STATUS_PIPE_BROKEN.
// - READ: pipe.read(length). The pipe is in message mode (Windows' RPC pipes are): each reply
//   PDU is a message, and a read returns at most one. A message longer than the read gives its
//   first `length` bytes with STATUS_BUFFER_OVERFLOW and the rest on the next read (MS-SMB2
//   3.3.5.12, MS-FSCC message-mode pipes). With nothing queued the read waits: the result is a
//   PendingPipeRead, answered STATUS_PENDING at once and completed when a reply comes (or with
//   STATUS_CANCELLED when the client cancels, STATUS_PIPE_BROKEN when the pipe breaks).
// - IOCTL FSCTL_PIPE_TRANSCEIVE: pipe.transceive(input, maxOutputResponse): write, then read as
//   above (BUFFER_OVERFLOW likewise, the rest by READ). As NPFS does, it is refused with
//   STATUS_PIPE_BUSY while unread replies or waiting reads are there ('unread-data').
// - CLOSE: pipe.close(); the association ends and calls still running are cancelled.
// Every buffer is bounded: open pipes per registry, reply bytes queued per pipe, waiting reads
// per pipe (NAMED_PIPE_LIMITS).
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { RpcConnection, type RpcAuthConfig, type RpcInterface } from '../dcerpc/rpc-connection.js'

export interface NamedPipeLimits {
  /** Pipes open at once through one registry (one node). */
  readonly openPipesMax: number
  /** Reply bytes a pipe holds for a client that does not read them; beyond this the pipe breaks. */
  readonly queuedReplyBytesMax: number
  /** Reads waiting at once on one pipe. */
  readonly pendingReadsMax: number
}

export const NAMED_PIPE_LIMITS: NamedPipeLimits = {
  openPipesMax: 1024,
  // A srvsvc reply is a few KiB; an AsyncNotify reply less. A client that leaves a MiB unread is not reading.
  queuedReplyBytesMax: 1024 * 1024,
  pendingReadsMax: 16,
}

/** Longest pipe name accepted (NPFS names are path components). */
const PIPE_NAME_UNITS_MAX = 256

export interface PipeEndpoint {
  /** The pipe's name, as canonicalPipeName gives it: lower case, no `\PIPE\` prefix ("srvsvc"). */
  readonly name: string
  /** The DCE/RPC interfaces a bind on this pipe may name. */
  readonly interfaces: readonly RpcInterface[]
  /**
   * NTLMSSP/SPNEGO for binds that authenticate (smbtorture's rpc.witness binds srvsvc sealed
   * over the pipe); unauthenticated binds are served either way.
   */
  readonly auth?: RpcAuthConfig
}

export type PipeOpenResult = { readonly ok: true; readonly pipe: NamedPipe } | { readonly ok: false; readonly refusal: 'not-found' | 'too-many-open' }

/** A read's bytes: the whole (rest of the) message, or its first part when it is longer than the read. */
export type PipeData = { readonly kind: 'data'; readonly bytes: Buffer } | { readonly kind: 'buffer-overflow'; readonly bytes: Buffer }

/** How a waiting read ends. */
export type PipeReadOutcome = PipeData | { readonly kind: 'closed' } | { readonly kind: 'cancelled' }

export interface PendingPipeRead {
  readonly kind: 'pending'
  /** Settles once, with the next reply, 'closed' or 'cancelled'; never rejects. */
  readonly done: Promise<PipeReadOutcome>
  /** Ends the wait with 'cancelled' (the SMB2 CANCEL, or the front's own teardown); no-op once settled. */
  cancel(): void
}

export type PipeReadResult = PipeData | { readonly kind: 'closed' } | { readonly kind: 'too-many-pending' } | PendingPipeRead

export type PipeWriteResult = { readonly kind: 'written'; readonly byteCount: number } | { readonly kind: 'closed' } | { readonly kind: 'queue-full' }

export type PipeTransceiveResult = PipeReadResult | { readonly kind: 'queue-full' } | { readonly kind: 'unread-data' }

/** What an FSCTL_PIPE_PEEK reply reports (MS-FSCC): bytes and messages waiting, and what is left of the next message. */
export interface PipePeek {
  readonly readDataAvailable: number
  readonly numberOfMessages: number
  /** Bytes left of the next message; 0 when none is queued. */
  readonly messageLength: number
}

/** The NTSTATUS of every outcome kind above ('pending' is answered STATUS_PENDING by the front's async machinery). */
export const NAMED_PIPE_STATUS = {
  data: NT_STATUS.SUCCESS,
  written: NT_STATUS.SUCCESS,
  'buffer-overflow': NT_STATUS.BUFFER_OVERFLOW,
  closed: NT_STATUS.PIPE_BROKEN,
  cancelled: NT_STATUS.CANCELLED,
  'queue-full': NT_STATUS.INSUFFICIENT_RESOURCES,
  'too-many-pending': NT_STATUS.INSUFFICIENT_RESOURCES,
  'unread-data': NT_STATUS.PIPE_BUSY,
  'not-found': NT_STATUS.OBJECT_NAME_NOT_FOUND,
  'too-many-open': NT_STATUS.PIPE_NOT_AVAILABLE,
} as const

/**
 * The registry key of a pipe name as a client sends it: SMB2 CREATE on IPC$ names the pipe alone
 * ("srvsvc"), binding strings and SMB1 with a `\PIPE\` prefix. Names compare case-insensitively.
 * null for a name that cannot be a pipe (empty, a path, a stream, too long).
 */
export function canonicalPipeName(name: string): string | null {
  if (typeof name !== 'string') return null
  let rest = name.replace(/^\\+/, '')
  if (rest.toLowerCase().startsWith('pipe\\')) rest = rest.slice('pipe\\'.length)
  if (rest === '' || rest.length > PIPE_NAME_UNITS_MAX || /[\\/:\0]/.test(rest)) return null
  return rest.toLowerCase()
}

export class NamedPipeRegistry {
  private readonly endpoints = new Map<string, PipeEndpoint>()
  private readonly openPipes = new Set<NamedPipe>()
  private readonly limits: NamedPipeLimits

  constructor(
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    limits: Partial<NamedPipeLimits> = {},
  ) {
    this.limits = { ...NAMED_PIPE_LIMITS, ...limits }
  }

  /** Adds an endpoint; its name must be canonical and not taken (a programming error otherwise). */
  register(endpoint: PipeEndpoint): void {
    if (canonicalPipeName(endpoint.name) !== endpoint.name) throw new RangeError(`pipe name ${JSON.stringify(endpoint.name)} is not canonical`)
    if (this.endpoints.has(endpoint.name)) throw new RangeError(`pipe ${endpoint.name} is already registered`)
    this.endpoints.set(endpoint.name, endpoint)
  }

  /** Whether a CREATE of this name on IPC$ would find an endpoint. */
  has(name: string): boolean {
    const key = canonicalPipeName(name)
    return key !== null && this.endpoints.has(key)
  }

  open(name: string): PipeOpenResult {
    const key = canonicalPipeName(name)
    const endpoint = key === null ? undefined : this.endpoints.get(key)
    if (endpoint === undefined) return { ok: false, refusal: 'not-found' }
    if (this.openPipes.size >= this.limits.openPipesMax) {
      this.log('smb2.pipe.refused', { pipe: endpoint.name, reason: 'too many open pipes', open: this.openPipes.size })
      return { ok: false, refusal: 'too-many-open' }
    }
    const pipe = new NamedPipe(endpoint, this.limits, this.log, (closed) => this.openPipes.delete(closed))
    this.openPipes.add(pipe)
    return { ok: true, pipe }
  }

  openCount(): number {
    return this.openPipes.size
  }

  /** Closes every open pipe (the node stops). */
  closeAll(): void {
    for (const pipe of [...this.openPipes]) pipe.close()
  }
}

interface Waiter {
  readonly maxBytes: number
  readonly settle: (outcome: PipeReadOutcome) => void
}

export class NamedPipe {
  readonly name: string
  private readonly connection: RpcConnection
  /** Reply PDUs not yet read, oldest first; headOffset bytes of the first are already read. */
  private readonly messages: Buffer[] = []
  private headOffset = 0
  private queuedBytes = 0
  private readonly waiters: Waiter[] = []
  /** open; broken: the association ended (replies already queued can still be read); closed: by the client. */
  private state: 'open' | 'broken' | 'closed' = 'open'

  constructor(
    endpoint: PipeEndpoint,
    private readonly limits: NamedPipeLimits,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    private readonly onClosed: (pipe: NamedPipe) => void,
  ) {
    this.name = endpoint.name
    this.connection = new RpcConnection({
      interfaces: endpoint.interfaces,
      // What Windows and Samba put in the bind_ack of a named pipe.
      secondaryAddress: `\\PIPE\\${endpoint.name}`,
      ...(endpoint.auth ? { auth: endpoint.auth } : {}),
      send: (bytes) => this.enqueue(bytes),
      close: () => this.serverClosed(),
      log,
    })
  }

  /** A chunk of the client's PDU stream (an SMB2 WRITE's data). */
  write(data: Uint8Array): PipeWriteResult {
    if (this.state !== 'open') return { kind: 'closed' }
    if (this.queuedBytes >= this.limits.queuedReplyBytesMax) return { kind: 'queue-full' }
    // A copy: the association may keep part of a PDU, and the caller may reuse its buffer.
    this.connection.receive(Buffer.from(data))
    return { kind: 'written', byteCount: data.byteLength }
  }

  /** The next reply bytes, at most maxBytes of one message; waits (a PendingPipeRead) when none is queued. */
  read(maxBytes: number): PipeReadResult {
    checkLength(maxBytes, 'maxBytes')
    if (this.state === 'closed') return { kind: 'closed' }
    if (this.messages.length > 0) return this.take(maxBytes)
    if (this.state === 'broken') return { kind: 'closed' }
    if (this.waiters.length >= this.limits.pendingReadsMax) return { kind: 'too-many-pending' }
    let settle: (outcome: PipeReadOutcome) => void = () => undefined
    const done = new Promise<PipeReadOutcome>((resolve) => {
      settle = resolve
    })
    const waiter: Waiter = { maxBytes, settle }
    this.waiters.push(waiter)
    return {
      kind: 'pending',
      done,
      cancel: () => {
        const index = this.waiters.indexOf(waiter)
        if (index < 0) return
        this.waiters.splice(index, 1)
        waiter.settle({ kind: 'cancelled' })
      },
    }
  }

  /** FSCTL_PIPE_TRANSCEIVE: writes input, then reads at most maxOutputBytes of the reply (waiting for it if need be). */
  transceive(input: Uint8Array, maxOutputBytes: number): PipeTransceiveResult {
    checkLength(maxOutputBytes, 'maxOutputBytes')
    if (this.state !== 'open') return { kind: 'closed' }
    // The reply must be the answer to this input, not something queued before it.
    if (this.messages.length > 0 || this.waiters.length > 0) return { kind: 'unread-data' }
    const written = this.write(input)
    if (written.kind !== 'written') return written
    return this.read(maxOutputBytes)
  }

  peek(): PipePeek {
    return {
      readDataAvailable: this.queuedBytes,
      numberOfMessages: this.messages.length,
      messageLength: this.messages.length === 0 ? 0 : this.messages[0].length - this.headOffset,
    }
  }

  queuedReplyBytes(): number {
    return this.queuedBytes
  }

  pendingReads(): number {
    return this.waiters.length
  }

  isOpen(): boolean {
    return this.state === 'open'
  }

  /** The client's CLOSE (or the end of its tree, session or connection). Idempotent. */
  close(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.connection.end()
    this.dropQueue()
    this.settleAll({ kind: 'cancelled' })
    this.onClosed(this)
  }

  /** A reply PDU from the association. */
  private enqueue(bytes: Buffer): void {
    if (this.state === 'closed') return
    if (this.queuedBytes + bytes.length > this.limits.queuedReplyBytesMax) {
      this.log('smb2.pipe.broken', { pipe: this.name, reason: 'unread replies exceed the bound', queuedBytes: this.queuedBytes })
      this.state = 'broken'
      this.connection.end()
      this.dropQueue()
      this.settleAll({ kind: 'closed' })
      return
    }
    this.messages.push(bytes)
    this.queuedBytes += bytes.length
    while (this.waiters.length > 0 && this.messages.length > 0) {
      const waiter = this.waiters.shift() as Waiter
      waiter.settle(this.take(waiter.maxBytes))
    }
  }

  /** The association ended itself (a protocol error): what it said last stays readable, then reads see 'closed'. */
  private serverClosed(): void {
    if (this.state !== 'open') return
    this.log('smb2.pipe.broken', { pipe: this.name, reason: 'the RPC association ended' })
    this.state = 'broken'
    // Reads wait only on an empty queue, so any waiting read has nothing more to come.
    this.settleAll({ kind: 'closed' })
  }

  /** At most maxBytes of the head message, which the caller has checked exists. */
  private take(maxBytes: number): PipeData {
    const head = this.messages[0]
    const available = head.length - this.headOffset
    if (available <= maxBytes) {
      const bytes = head.subarray(this.headOffset)
      this.messages.shift()
      this.headOffset = 0
      this.queuedBytes -= available
      return { kind: 'data', bytes }
    }
    const bytes = head.subarray(this.headOffset, this.headOffset + maxBytes)
    this.headOffset += maxBytes
    this.queuedBytes -= maxBytes
    return { kind: 'buffer-overflow', bytes }
  }

  private dropQueue(): void {
    this.messages.length = 0
    this.headOffset = 0
    this.queuedBytes = 0
  }

  private settleAll(outcome: PipeReadOutcome): void {
    for (const waiter of this.waiters.splice(0)) waiter.settle(outcome)
  }
}

/** READ Length and MaxOutputResponse are u32 on the wire; anything else is a caller's bug. */
function checkLength(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${what} ${String(value)} is not a u32`)
}
