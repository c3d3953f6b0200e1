// Heartbeats between nodes as UDP datagrams (protocol/cluster/heartbeat-datagram.ts), as
// Windows failover clusters send theirs: one datagram per heartbeat and per reply instead of a
// unary gRPC call each (at 16 nodes and more, an idle node's CPU went mostly to HTTP/2 and
// grpc-js). Loss and reordering are normal: the receiver drops what is stale by sequence
// number, and the next interval repeats what was lost. The peer transport decides what goes
// here and applies the injected faults; this only moves datagrams.
import { createSocket, type Socket } from 'node:dgram'
import { randomInt } from 'node:crypto'
import type { Logger } from 'pino'
import type { Envelope, Heartbeat, HeartbeatReply, NodeId } from '../core/quorum/types.js'
import {
  HeartbeatEncodeError,
  decodeHeartbeatDatagram,
  encodeHeartbeatBody,
  frameHeartbeatDatagram,
  isFreshSeq,
} from '../protocol/cluster/heartbeat-datagram.js'

/** Where a peer receives its heartbeats. */
export interface DatagramTarget {
  readonly address: string
  readonly port: number
}

export interface HeartbeatChannelOptions {
  readonly selfId: NodeId
  readonly peers: readonly NodeId[]
  /** Where each peer listens (its cluster address, or the link address of this pair). */
  readonly targetOf: (peer: NodeId) => DatagramTarget
  /** The addresses this node receives on, all at `port`; the first one also sends. */
  readonly listenAddresses: readonly string[]
  readonly port: number
  /** A datagram that decoded, came from a peer, was addressed here and is not stale. */
  readonly receive: (envelope: Envelope) => void
  readonly log: Logger
}

/** What the channel did, for metrics and the cluster-up bench. */
export interface HeartbeatChannelCounts {
  readonly sent: number
  readonly received: number
  /** Malformed, misaddressed, from an unknown sender, or stale. */
  readonly dropped: number
  /** The socket refused to send (a full buffer: the kernel drops, so do we). */
  readonly sendErrors: number
}

/** Malformed datagrams are logged at most this often (one line per interval of a noisy sender). */
const DECODE_ERROR_LOG_INTERVAL = 100

export class HeartbeatChannel {
  private readonly sockets: Socket[] = []
  private readonly incarnation = randomInt(2 ** 32 - 1)
  /** Per peer, the sequence number of the last datagram sent to it. */
  private readonly seqTo = new Map<NodeId, number>()
  /** Per peer, the newest datagram taken from it (incarnation and sequence number). */
  private readonly lastFrom = new Map<NodeId, { incarnation: number; seq: number }>()
  /** The body of the last broadcast, encoded once for every peer it goes to. */
  private lastBody: { readonly body: Heartbeat | HeartbeatReply; readonly bytes: Buffer } | null = null
  private readonly peers: ReadonlySet<NodeId>
  private counts = { sent: 0, received: 0, dropped: 0, sendErrors: 0 }
  private closed = false

  constructor(private readonly opts: HeartbeatChannelOptions) {
    this.peers = new Set(opts.peers)
  }

  /** Binds every listening address; rejects with the socket's error (e.g. EADDRINUSE). */
  async start(): Promise<void> {
    for (const address of this.opts.listenAddresses) {
      const socket = createSocket({ type: 'udp4' })
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind({ address, port: this.opts.port, exclusive: true }, () => {
          socket.off('error', reject)
          resolve()
        })
      }).catch((err: NodeJS.ErrnoException) => {
        socket.close()
        throw new Error(`heartbeat port ${address}:${this.opts.port} (udp): ${err.code ?? err.message}`)
      })
      socket.on('message', (msg) => this.onMessage(msg))
      // An ICMP error on an unconnected socket, or a send on a closed one: the datagram is lost.
      socket.on('error', () => this.counts.sendErrors++)
      this.sockets.push(socket)
    }
  }

  /** Sends a heartbeat or reply as one datagram; false when it cannot go as one (the caller uses the reliable channel). */
  send(envelope: Envelope): boolean {
    const body = envelope.body
    if (body.kind !== 'heartbeat' && body.kind !== 'heartbeat-reply') return false
    const socket = this.sockets[0]
    if (!socket || this.closed || !this.peers.has(envelope.to)) return false
    let datagram: Buffer
    try {
      if (this.lastBody?.body !== body) this.lastBody = { body, bytes: encodeHeartbeatBody(body) }
      const seq = ((this.seqTo.get(envelope.to) ?? 0) + 1) >>> 0
      this.seqTo.set(envelope.to, seq)
      datagram = frameHeartbeatDatagram({ incarnation: this.incarnation, seq, from: this.opts.selfId, to: envelope.to }, this.lastBody.bytes)
    } catch (err) {
      if (err instanceof HeartbeatEncodeError) return false
      throw err
    }
    const { address, port } = this.opts.targetOf(envelope.to)
    socket.send(datagram, port, address, (err) => {
      if (err) this.counts.sendErrors++
    })
    this.counts.sent++
    return true
  }

  get stats(): HeartbeatChannelCounts {
    return { ...this.counts }
  }

  close(): void {
    this.closed = true
    for (const socket of this.sockets) socket.close()
    this.sockets.length = 0
  }

  private onMessage(msg: Buffer): void {
    const decoded = decodeHeartbeatDatagram(msg)
    if (!decoded.ok) {
      this.counts.dropped++
      if (this.counts.dropped % DECODE_ERROR_LOG_INTERVAL === 1) {
        this.opts.log.warn({ component: 'transport', event: 'heartbeat.malformed', error: decoded.error, dropped: this.counts.dropped })
      }
      return
    }
    const { incarnation, seq, from, to, body } = decoded.datagram
    if (to !== this.opts.selfId || !this.peers.has(from) || !isFreshSeq(this.lastFrom.get(from), incarnation, seq)) {
      this.counts.dropped++
      return
    }
    this.lastFrom.set(from, { incarnation, seq })
    this.counts.received++
    this.opts.receive({ from, to, body })
  }
}
