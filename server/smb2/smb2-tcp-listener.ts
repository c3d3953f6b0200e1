// The SMB2 direct TCP transport of one node (MS-SMB2 2.1): a listener on the node's client
// address, one Smb2Connection per socket, the 4-byte framing, and the bounds the issue asks
// for: frame size, connections, bytes of requests in flight per connection and of replies not
// yet taken by the kernel (reading pauses beyond either), and dropping of connections that
// never negotiate, that idle, that leave more replies unread than their credits allow, or whose
// peer is gone (TCP keepalive finds a half-open one).
import { createServer, type Server, type Socket } from 'node:net'
import { listenTcp } from '../../runtime/tcp-listen.js'
import { DIRECT_TCP_HEADER_BYTES, peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'
import { POOLED_BYTES_MIN, dataPathBuffers } from '../../runtime/buffer-pool.js'
import { CREDITS_OUTSTANDING_MAX } from '../../core/smb2/credit-window.js'

export interface Smb2Transport {
  /**
   * Sends one frame (its parts are written in order after the 4-byte header, without copying
   * them). `sent` runs once the socket no longer needs the parts: written, or the connection gone.
   */
  send(parts: readonly Buffer[], sent?: () => void): void
  /** Closes the connection (after what was sent is flushed). */
  close(reason: string): void
  readonly remote: string
}

/** What the listener needs of a connection. */
export interface Smb2ConnectionHandler {
  /** One complete frame, without the 4-byte header; a large one may be memory of the data path's pool. */
  receive(frame: Buffer): void
  /** Bytes of requests received and not yet answered: reading pauses while beyond the bound. */
  inFlightBytes(): number
  /** Whether NEGOTIATE completed. */
  negotiated(): boolean
  /** Requests waiting for an answer (a pending CHANGE_NOTIFY or pipe read keeps an idle connection). */
  outstandingRequests(): number
  end(): void
}

export interface Smb2ListenerLimits {
  /** The largest frame: an 8 MiB WRITE and its headers, a transform header, a compound. */
  readonly frameBytesMax: number
  readonly connectionsMax: number
  /** Bytes of requests one connection may have in flight before reading pauses. */
  readonly inFlightBytesMax: number
  /** Bytes of replies waiting for the kernel beyond which reading pauses (no new requests come in). */
  readonly unsentReplyBytesPause: number
  /** Bytes of replies a client may leave unread before it is dropped. */
  readonly unreadReplyBytesMax: number
  /** A connection must negotiate this soon. */
  readonly negotiateTimeoutMs: number
  /** A negotiated connection with nothing outstanding may idle this long (Windows: 15 min by default; shorter here). */
  readonly idleTimeoutMs: number
  /** TCP keepalive probes start after this much silence; a peer that is gone is found by them. */
  readonly keepAliveMs: number
}

export const SMB2_LISTENER_LIMITS: Smb2ListenerLimits = {
  frameBytesMax: 8 * 1024 * 1024 + 64 * 1024,
  connectionsMax: 1024,
  inFlightBytesMax: 64 * 1024 * 1024,
  unsentReplyBytesPause: 16 * 1024 * 1024,
  // What a client within its credits may have asked for at once: every credit a 64 KiB READ
  // (3.1.5.2), and room for the headers, signatures and transform headers. At 64 MiB, a client
  // with 8 READs of 8 MiB in flight (1,024 of the 8,192 credits) was dropped once all 8 replies
  // waited, a few hundred bytes of headers over the bound.
  unreadReplyBytesMax: CREDITS_OUTSTANDING_MAX * 64 * 1024 + 16 * 1024 * 1024,
  negotiateTimeoutMs: 30_000,
  idleTimeoutMs: 600_000,
  keepAliveMs: 60_000,
}

export class Smb2TcpListener {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private boundPort = 0

  constructor(
    private readonly connect: (transport: Smb2Transport) => Smb2ConnectionHandler,
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    private readonly limits: Smb2ListenerLimits = SMB2_LISTENER_LIMITS,
  ) {
    this.server = createServer((socket) => this.accept(socket))
  }

  get port(): number {
    return this.boundPort
  }

  get connectionCount(): number {
    return this.sockets.size
  }

  /** Binds address:port (0: a free port); resolves with the bound port. */
  async listen(address: string, port: number): Promise<number> {
    this.boundPort = await listenTcp(this.server, address, port)
    return this.boundPort
  }

  close(): void {
    for (const s of this.sockets) s.destroy()
    this.server.close()
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.limits.connectionsMax) {
      this.log('smb2.connection.refused', { remote: socket.remoteAddress, reason: 'connections at their bound' })
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, this.limits.keepAliveMs)
    const remote = `${socket.remoteAddress}:${socket.remotePort}`
    let closing = false
    /** Reading is paused: too many request bytes in flight, or too many reply bytes unsent. */
    let paused = false
    const transport: Smb2Transport = {
      remote,
      send: (parts, sent) => {
        if (socket.destroyed || closing) {
          sent?.()
          return
        }
        let length = 0
        for (const p of parts) length += p.length
        const header = Buffer.alloc(DIRECT_TCP_HEADER_BYTES)
        header.writeUInt32BE(length, 0)
        // Corked: the header and every part go to the kernel in one writev.
        socket.cork()
        socket.write(header)
        // A write's callback runs when it is flushed or the socket is destroyed (with an error),
        // in order: the last part's says the socket is done with them all.
        parts.forEach((p, i) => (i === parts.length - 1 && sent ? socket.write(p, () => sent()) : socket.write(p)))
        if (parts.length === 0) sent?.()
        socket.uncork()
        if (socket.writableLength > this.limits.unreadReplyBytesMax) {
          this.log('smb2.connection.dropped', { remote, reason: 'the client leaves its replies unread' })
          socket.destroy()
        } else if (!paused && socket.writableLength > this.limits.unsentReplyBytesPause) {
          // Requests already received are answered; new ones wait in the kernel (TCP backpressure).
          paused = true
          socket.pause()
        }
      },
      close: (reason) => {
        if (closing) return
        closing = true
        this.log('smb2.connection.dropped', { remote, reason })
        socket.end()
        setTimeout(() => socket.destroy(), 1000).unref()
      },
    }
    const connection = this.connect(transport)
    const chunks: Buffer[] = []
    let buffered = 0
    const maybeResume = () => {
      if (paused && connection.inFlightBytes() <= this.limits.inFlightBytesMax && socket.writableLength <= this.limits.unsentReplyBytesPause) {
        paused = false
        socket.resume()
      }
    }
    // Resuming is checked when replies go out (in-flight requests finish then).
    socket.on('drain', maybeResume)
    const resumeTimer = setInterval(maybeResume, 50)
    resumeTimer.unref()
    socket.setTimeout(this.limits.negotiateTimeoutMs)
    socket.on('timeout', () => {
      if (!connection.negotiated()) transport.close('no NEGOTIATE in time')
      else if (connection.outstandingRequests() === 0) transport.close('idle')
    })
    /** A large frame being filled as its bytes arrive, in pooled memory (no copy at its end). */
    let assembling: { readonly frame: Buffer; filled: number } | null = null
    const deliver = (frame: Buffer) => {
      if (connection.negotiated()) socket.setTimeout(this.limits.idleTimeoutMs)
      connection.receive(frame)
    }
    socket.on('data', (data: Buffer) => {
      let chunk = data
      if (assembling) {
        const take = Math.min(chunk.length, assembling.frame.length - assembling.filled)
        chunk.copy(assembling.frame, assembling.filled, 0, take)
        assembling.filled += take
        chunk = chunk.subarray(take)
        if (assembling.filled === assembling.frame.length) {
          const frame = assembling.frame
          assembling = null
          deliver(frame)
        }
      }
      if (chunk.length > 0) {
        chunks.push(chunk)
        buffered += chunk.length
      }
      while (buffered > 0) {
        const head = chunks[0].length >= DIRECT_TCP_HEADER_BYTES ? chunks[0] : Buffer.concat(chunks, Math.min(buffered, DIRECT_TCP_HEADER_BYTES))
        const peek = peekDirectTcpFrame(head, this.limits.frameBytesMax)
        if (peek.kind === 'need-more') break
        if (peek.kind === 'bad') {
          // 3.3.5.2: a frame that cannot be one is a broken connection.
          chunks.length = 0
          buffered = 0
          transport.close(peek.reason)
          return
        }
        const total = DIRECT_TCP_HEADER_BYTES + peek.length
        if (buffered < total) {
          // A large frame (a WRITE's data) is copied into reused memory as it arrives, so that
          // it is whole when its last bytes are; the connection gives it back once the write
          // is done (Smb2Connection.receive).
          if (peek.length >= POOLED_BYTES_MIN) {
            takeBytes(chunks, DIRECT_TCP_HEADER_BYTES)
            const frame = dataPathBuffers.acquire(peek.length)
            let filled = 0
            for (const c of chunks) {
              c.copy(frame, filled)
              filled += c.length
            }
            chunks.length = 0
            buffered = 0
            assembling = { frame, filled }
          }
          break
        }
        const frame = takeBytes(chunks, total).subarray(DIRECT_TCP_HEADER_BYTES)
        buffered -= total
        deliver(frame)
      }
      if (!paused && connection.inFlightBytes() > this.limits.inFlightBytesMax) {
        paused = true
        socket.pause()
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearInterval(resumeTimer)
      this.sockets.delete(socket)
      connection.end()
    })
  }
}

/** The first n bytes of the chunk list, removed from it; a view when they lie in one chunk. */
function takeBytes(chunks: Buffer[], n: number): Buffer {
  if (chunks[0].length >= n) {
    const out = chunks[0].subarray(0, n)
    if (chunks[0].length === n) chunks.shift()
    else chunks[0] = chunks[0].subarray(n)
    return out
  }
  const out = Buffer.allocUnsafe(n)
  let at = 0
  while (at < n) {
    const c = chunks[0]
    const take = Math.min(c.length, n - at)
    c.copy(out, at, 0, take)
    at += take
    if (take === c.length) chunks.shift()
    else chunks[0] = c.subarray(take)
  }
  return out
}
