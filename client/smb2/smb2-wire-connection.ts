// One SMB 2/3 client connection over direct TCP (MS-SMB2 2.1, 3.2): frames out and in, the
// MessageIds and credits of the sequence window (core/smb2/client-sequence-window), a bound on
// the requests in flight, interim STATUS_PENDING replies followed by the final one (3.2.5.1.5),
// and per session the signing of requests, the check of responses' signatures (3.2.5.1.3) and
// the SMB 3 transform (3.2.4.1.8, 3.2.5.1.1.1). NEGOTIATE and SESSION_SETUP are the caller's
// (smb2-client.ts); this is the pipe they and every later command go through.
//
// Bounds: the receive buffer holds at most one frame of maxFrameBytes; at most inFlightMax
// requests are outstanding, others wait for a slot (and credits) in order; every request has a
// deadline (requestTimeoutMs, extended to asyncTimeoutMs once the server said STATUS_PENDING).
import { randomBytes } from 'node:crypto'
import { connect as netConnect, type Socket } from 'node:net'
import { ClientSequenceWindow, clientCreditChargeFor } from '../../core/smb2/client-sequence-window.js'
import { SMB2_DIALECT, type CipherId, type SigningAlgorithmId } from '../../protocol/smb2/constants.js'
import { directTcpHeader } from '../../protocol/smb2/direct-tcp-frame.js'
import { encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { decryptSmb2Message, encryptSmb2Message, nonceBytes } from '../../protocol/smb2/encryption.js'
import { SMB2_COMMAND, SMB2_FLAGS, SMB2_MESSAGE_ID_NONE, decodeHeader, encodeHeader, frameKind, header as makeHeader, isAsync, smb2CommandName, splitCompound, type Smb2Header } from '../../protocol/smb2/header.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { signSmb2Message, verifySmb2Message } from '../../protocol/smb2/signing.js'
import { type AccumulatedFrames, FrameAccumulator, clientFrameBuffers } from './frame-accumulator.js'
import { Smb2TransportError } from './smb2-result.js'

/** Large MTU's 8 MiB payload plus room for the header, a transform and the response's fixed part. */
export const CLIENT_FRAME_BYTES_MAX = 8 * 1024 * 1024 + 64 * 1024
/** Reads that may complete before the connection object exists (none should: the client speaks first). */
const EARLY_READS_MAX = 64

export interface Smb2ConnectionOptions {
  readonly host: string
  readonly port: number
  /** Bind the connection to this local (source) address; default: the system's choice. A lab client's own address lets nftables cut it alone. */
  readonly localAddress?: string
  /** Default 10 s. */
  readonly connectTimeoutMs?: number
  /** A request's deadline until its final (or interim) reply. Default 30 s. */
  readonly requestTimeoutMs?: number
  /** A request's deadline after an interim STATUS_PENDING reply. Default 5 min. */
  readonly asyncTimeoutMs?: number
  /** Default 32. */
  readonly inFlightMax?: number
  /** Requests that may wait for a slot or credits; one more is refused. Default 4096. */
  readonly waitingMax?: number
  /** Credits the client asks to hold. Default 256. */
  readonly creditTarget?: number
  /** Default CLIENT_FRAME_BYTES_MAX. */
  readonly maxFrameBytes?: number
}

/** A session's keys as the connection uses them (3.2.1.3). */
export interface Smb2SessionCrypto {
  readonly signingAlgorithm: SigningAlgorithmId
  readonly signingKey: Buffer | undefined
  /** Sign requests and require signed responses. */
  readonly signing: boolean
  readonly cipher: CipherId | undefined
  readonly clientToServerKey: Buffer | undefined
  readonly serverToClientKey: Buffer | undefined
  /** Session.EncryptData: every request of the session goes encrypted. */
  readonly encryptData: boolean
}

export interface Smb2Request {
  readonly command: number
  /** The body after the header: one buffer, or parts sent without copying (a WRITE's data). */
  readonly body: Buffer | readonly Buffer[]
  readonly sessionId?: bigint
  readonly treeId?: number
  /** The READ/WRITE/QUERY payload the CreditCharge covers (3.1.5.2); 0 for the others. */
  readonly payloadBytes?: number
  /** Extra header flags: REPLAY_OPERATION, say (issue 15 sets it on a replayed request). */
  readonly flags?: number
  /** ChannelSequence (3.x; 3.2.4.1.1 puts it in the low 16 bits of Status). */
  readonly channelSequence?: number
  /** Encrypt this request even when neither session nor tree says so (the tree's EncryptData). */
  readonly encrypt?: boolean
  /** Leave the response's signature unchecked: the caller checks it (the final SESSION_SETUP). */
  readonly callerVerifies?: boolean
  /** Return the request's bytes as sent (signed, if signed; before any transform): the preauth hash needs them. */
  readonly keepRequestBytes?: boolean
  /**
   * Aborting sends a CANCEL for the request (3.2.4.24), naming its AsyncId once the server went
   * async; the server then answers the request itself, typically with STATUS_CANCELLED.
   */
  readonly signal?: AbortSignal
}

export interface Smb2Reply {
  readonly header: Smb2Header
  /** The whole response message, header included. */
  readonly message: Buffer
  readonly encrypted: boolean
  /** The request as sent, when keepRequestBytes asked for it. */
  readonly requestBytes?: Buffer
  /** The interim reply's AsyncId, when the server went async (3.2.5.1.5). */
  readonly asyncId?: bigint
}

interface Pending {
  readonly command: number
  readonly sessionId: bigint
  readonly treeId: number
  readonly crypto: Smb2SessionCrypto | undefined
  onAbort?: () => void
  readonly callerVerifies: boolean
  readonly encrypted: boolean
  readonly requestBytes?: Buffer
  asyncId?: bigint
  timer: NodeJS.Timeout
  resolve(reply: Smb2Reply): void
  reject(err: Error): void
}

export class Smb2WireConnection {
  /** Set by NEGOTIATE: below 2.1 (or without LARGE_MTU) every request costs one credit and CreditCharge is 0. */
  dialect = 0
  multiCredit = false
  /** Unsolicited messages (an oplock or lease break, MessageId all ones). */
  onUnsolicited: ((h: Smb2Header, message: Buffer) => void) | undefined

  private readonly window: ClientSequenceWindow
  private readonly pending = new Map<bigint, Pending>()
  private readonly waiters: Array<() => void> = []
  private readonly sessions = new Map<bigint, Smb2SessionCrypto>()
  private readonly requestTimeoutMs: number
  private readonly asyncTimeoutMs: number
  private readonly creditTarget: number
  private readonly waitingMax: number
  /** Encryption nonces: a random prefix and a counter, unique per connection and key (3.2.4.1.8). */
  private readonly noncePrefix = randomBytes(4)
  private nonceCounter = 0n
  private failure: Error | null = null

  private constructor(
    private readonly socket: Socket,
    opts: Smb2ConnectionOptions,
  ) {
    this.window = new ClientSequenceWindow(opts.inFlightMax ?? 32)
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000
    this.asyncTimeoutMs = opts.asyncTimeoutMs ?? 300_000
    this.creditTarget = opts.creditTarget ?? 256
    this.waitingMax = opts.waitingMax ?? 4096
    socket.on('error', (err) => this.fail(new Smb2TransportError(`${opts.host}:${opts.port}: ${err.message}`)))
    socket.on('close', () => this.fail(new Smb2TransportError(`${opts.host}:${opts.port}: the connection closed`)))
  }

  static open(opts: Smb2ConnectionOptions): Promise<Smb2WireConnection> {
    return new Promise((resolve, reject) => {
      const reader = new FrameAccumulator(opts.maxFrameBytes ?? CLIENT_FRAME_BYTES_MAX)
      let connection: Smb2WireConnection | null = null
      // The socket reads into the buffer the reader names (see FrameAccumulator). Nothing comes
      // before our NEGOTIATE; should it, the frames wait for the connection object.
      const early: AccumulatedFrames[] = []
      const onread = {
        buffer: () => reader.readBuffer(),
        // true: keep reading (false would pause the socket).
        callback: (nread: number): boolean => {
          const got = reader.commit(nread)
          if (connection) connection.onFrames(got)
          else if (early.length < EARLY_READS_MAX) early.push(got)
          return true
        },
      }
      const socket = netConnect({ host: opts.host, port: opts.port, noDelay: true, onread, ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}) })
      const timer = setTimeout(() => {
        socket.destroy()
        reject(new Smb2TransportError(`${opts.host}:${opts.port}: no TCP connection within ${opts.connectTimeoutMs ?? 10_000} ms`))
      }, opts.connectTimeoutMs ?? 10_000)
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(new Smb2TransportError(`${opts.host}:${opts.port}: ${err.message}`))
      })
      socket.once('connect', () => {
        clearTimeout(timer)
        socket.removeAllListeners('error')
        connection = new Smb2WireConnection(socket, opts)
        for (const got of early.splice(0)) connection.onFrames(got)
        resolve(connection)
      })
    })
  }

  get closed(): boolean {
    return this.failure !== null
  }

  get credits(): number {
    return this.window.credits
  }

  get inFlight(): number {
    return this.window.inFlight
  }

  setSession(sessionId: bigint, crypto: Smb2SessionCrypto): void {
    this.sessions.set(sessionId, crypto)
  }

  dropSession(sessionId: bigint): void {
    this.sessions.delete(sessionId)
  }

  /** Sends one request and resolves with its final reply (any status); rejects on transport failure. */
  async request(req: Smb2Request): Promise<Smb2Reply> {
    const payload = req.payloadBytes ?? 0
    const charge = this.multiCredit ? clientCreditChargeFor(payload) : 1
    const messageId = await this.acquire(charge)
    const sessionId = req.sessionId ?? 0n
    const crypto = sessionId !== 0n ? this.sessions.get(sessionId) : undefined
    const is3x = this.dialect >= SMB2_DIALECT.SMB30
    const h = makeHeader({
      command: req.command,
      creditCharge: this.multiCredit ? charge : 0,
      credits: this.window.creditRequestFor(charge, this.creditTarget),
      flags: req.flags ?? 0,
      messageId,
      treeId: req.treeId ?? 0,
      sessionId,
      status: is3x ? (req.channelSequence ?? 0) & 0xffff : 0,
    })
    const body = Buffer.isBuffer(req.body) ? [req.body] : [...req.body]
    const first = Buffer.concat([encodeHeader(h), body[0] ?? Buffer.alloc(0)])
    const parts = [first, ...body.slice(1)]
    const encrypt = crypto !== undefined && (crypto.encryptData || req.encrypt === true) && crypto.clientToServerKey !== undefined && crypto.cipher !== undefined
    if (!encrypt && crypto?.signing && crypto.signingKey) signSmb2Message(crypto.signingAlgorithm, crypto.signingKey, parts)
    // After signing: the preauth hash covers the message as it went (a signed one, when it is signed).
    const requestBytes = req.keepRequestBytes ? Buffer.concat(parts) : undefined

    return new Promise<Smb2Reply>((resolve, reject) => {
      const entry: Pending = {
        command: req.command,
        sessionId,
        treeId: req.treeId ?? 0,
        crypto: encrypt || crypto?.signing ? crypto : undefined,
        callerVerifies: req.callerVerifies === true,
        encrypted: encrypt,
        ...(requestBytes ? { requestBytes } : {}),
        timer: this.deadline(messageId, this.requestTimeoutMs),
        resolve,
        reject,
      }
      this.pending.set(messageId, entry)
      if (req.signal) {
        const onAbort = (): void => this.sendCancel(messageId)
        if (req.signal.aborted) queueMicrotask(onAbort)
        else {
          req.signal.addEventListener('abort', onAbort, { once: true })
          entry.onAbort = () => req.signal?.removeEventListener('abort', onAbort)
        }
      }
      try {
        if (encrypt) {
          const c = crypto as Smb2SessionCrypto
          const framed = encryptSmb2Message(c.cipher as CipherId, c.clientToServerKey as Buffer, this.nextNonce(c.cipher as CipherId), sessionId, parts)
          this.writeFrame(framed)
        } else {
          this.writeFrame(parts)
        }
      } catch (err) {
        this.finish(messageId)
        reject(err instanceof Error ? err : new Error(String(err)))
      }
    })
  }

  /** Closes the socket; what is still pending fails. */
  close(): void {
    this.fail(new Smb2TransportError('the connection was closed by the client'))
  }

  /**
   * CANCEL (2.2.30, 3.2.4.24): the MessageId of the request, its AsyncId once known; no credits
   * taken or asked; signed or encrypted as the request was. Nothing answers the CANCEL itself.
   */
  private sendCancel(messageId: bigint): void {
    const p = this.pending.get(messageId)
    if (!p || this.failure) return
    const async = p.asyncId !== undefined
    const h = makeHeader({
      command: SMB2_COMMAND.CANCEL,
      messageId,
      sessionId: p.sessionId,
      flags: async ? SMB2_FLAGS.ASYNC_COMMAND : 0,
      ...(async ? { asyncId: p.asyncId } : { treeId: p.treeId }),
    })
    const message = Buffer.concat([encodeHeader(h), encodeEmptyBody()])
    const c = p.crypto
    try {
      if (p.encrypted && c?.cipher !== undefined && c.clientToServerKey) this.writeFrame(encryptSmb2Message(c.cipher, c.clientToServerKey, this.nextNonce(c.cipher), p.sessionId, message))
      else {
        if (c?.signing && c.signingKey) signSmb2Message(c.signingAlgorithm, c.signingKey, message)
        this.writeFrame([message])
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private nextNonce(cipher: CipherId): Buffer {
    const nonce = Buffer.alloc(nonceBytes(cipher))
    nonce.writeBigUInt64LE(this.nonceCounter++, 0)
    this.noncePrefix.copy(nonce, 8, 0, nonce.length - 8)
    return nonce
  }

  private writeFrame(parts: readonly Buffer[]): void {
    if (this.failure) throw this.failure
    const length = parts.reduce((n, p) => n + p.length, 0)
    this.socket.cork()
    this.socket.write(directTcpHeader(length))
    for (const p of parts) if (p.length > 0) this.socket.write(p)
    this.socket.uncork()
  }

  private deadline(messageId: bigint, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const p = this.pending.get(messageId)
      if (!p) return
      // A request without an answer leaves the window's ids in doubt: the connection is done.
      this.fail(new Smb2TransportError(`${smb2CommandName(p.command)} (MessageId ${messageId}) got no reply within ${ms} ms`))
    }, ms)
    timer.unref()
    return timer
  }

  private async acquire(charge: number): Promise<bigint> {
    for (;;) {
      if (this.failure) throw this.failure
      const taken = this.window.take(charge)
      if (taken.ok) return taken.messageId
      if (this.window.starved) throw new Smb2TransportError(`the server left the client without credits (a request needs ${charge})`)
      // The caller's mistake, not the connection's: the connection stays up.
      if (this.waiters.length >= this.waitingMax) throw new RangeError(`more than ${this.waitingMax} requests waiting for credits or an in-flight slot`)
      await new Promise<void>((resolve) => this.waiters.push(resolve))
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  private finish(messageId: bigint): Pending | undefined {
    const p = this.pending.get(messageId)
    if (!p) return undefined
    clearTimeout(p.timer)
    p.onAbort?.()
    this.pending.delete(messageId)
    this.window.settle()
    this.wake()
    return p
  }

  private onFrames(got: AccumulatedFrames): void {
    if (this.failure) return
    if (!got.ok) return this.fail(new Smb2TransportError(`bad frame from the server: ${got.reason}`))
    for (const frame of got.frames) {
      this.onFrame(frame)
      if (this.failure) return
    }
  }

  private onFrame(frame: Buffer): void {
    const kind = frameKind(frame)
    let plain = frame
    let encrypted = false
    if (kind === 'transform') {
      if (frame.length < 52) return this.fail(new Smb2TransportError('a transform frame shorter than its header'))
      const sessionId = frame.readBigUInt64LE(44)
      const crypto = this.sessions.get(sessionId)
      if (!crypto?.serverToClientKey || crypto.cipher === undefined) return this.fail(new Smb2TransportError(`an encrypted frame for session 0x${sessionId.toString(16)}, which has no keys here`))
      const d = decryptSmb2Message(crypto.cipher, crypto.serverToClientKey, frame)
      if (!d.ok) return this.fail(new Smb2TransportError(`an encrypted frame failed: ${d.error.reason}`))
      plain = d.value.message
      encrypted = true
      // The plaintext is new memory: nothing reads the transform frame any more.
      clientFrameBuffers.release(frame)
    } else if (kind !== 'smb2') {
      return this.fail(new Smb2TransportError(`a ${kind} frame from the server`))
    }
    const split = splitCompound(plain)
    if (!split.ok) return this.fail(new Smb2TransportError(`a malformed response: ${split.error.reason}`))
    for (const message of split.value) {
      this.onMessage(message, encrypted)
      if (this.failure) return
    }
  }

  private onMessage(message: Buffer, encrypted: boolean): void {
    const decoded = decodeHeader(message)
    if (!decoded.ok) return this.fail(new Smb2TransportError(`a malformed response header: ${decoded.error.reason}`))
    const h = decoded.value
    if ((h.flags & SMB2_FLAGS.SERVER_TO_REDIR) === 0) return this.fail(new Smb2TransportError('a message from the server without SERVER_TO_REDIR'))
    if (h.messageId === SMB2_MESSAGE_ID_NONE) {
      this.onUnsolicited?.(h, message)
      return
    }
    const p = this.pending.get(h.messageId)
    if (!p) return this.fail(new Smb2TransportError(`a response to MessageId ${h.messageId}, which is not outstanding`))
    const interim = h.status === NT_STATUS.PENDING && isAsync(h)
    // 3.2.5.1.3: a signed message is checked; in a signing session an unsigned one is refused,
    // but for the interim reply (Windows does not sign it) and what came inside a transform.
    const crypto = this.sessions.get(h.sessionId !== 0n ? h.sessionId : p.sessionId)
    if (!encrypted && !p.callerVerifies && crypto?.signing && crypto.signingKey) {
      const signed = (h.flags & SMB2_FLAGS.SIGNED) !== 0
      if (signed && !verifySmb2Message(crypto.signingAlgorithm, crypto.signingKey, message)) {
        return this.fail(new Smb2TransportError(`the ${smb2CommandName(h.command)} response's signature does not verify`))
      }
      if (!signed && !interim) return this.fail(new Smb2TransportError(`an unsigned ${smb2CommandName(h.command)} response in a signed session`))
    }
    if (p.encrypted && !encrypted && h.status !== NT_STATUS.PENDING) {
      return this.fail(new Smb2TransportError(`an unencrypted ${smb2CommandName(h.command)} response to an encrypted request`))
    }
    this.window.grant(h.credits)
    if (interim) {
      p.asyncId = h.asyncId
      clearTimeout(p.timer)
      p.timer = this.deadline(h.messageId, this.asyncTimeoutMs)
      this.wake()
      return
    }
    this.finish(h.messageId)
    p.resolve({ header: h, message, encrypted, ...(p.requestBytes ? { requestBytes: p.requestBytes } : {}), ...(p.asyncId !== undefined ? { asyncId: p.asyncId } : {}) })
  }

  private fail(err: Error): void {
    if (this.failure) return
    this.failure = err
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.onAbort?.()
      this.pending.delete(id)
      p.reject(err)
    }
    this.wake()
    this.socket.destroy()
  }
}
