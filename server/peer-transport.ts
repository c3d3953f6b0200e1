// The peer transport, both directions: delivers quorum-core envelopes to other nodes —
// heartbeats as UDP datagrams (heartbeat-channel.ts) once useDatagrams() ran, everything else
// (votes, views being changed, and heartbeats that cannot go as a datagram) with one unary
// gRPC call each — carries forwarded operations and session ends as opaque payloads (what is
// in them is the CSV router's business), and applies injected faults (partitions drop, delays
// hold back) to all of it, in both directions.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import type { NodeConfig } from '../cluster/config.js'
import type { Envelope, NodeId } from '../core/quorum/types.js'
import type { PeerClient, PeerHandlers } from '../proto/gen/swlab/peer/v1/Peer.js'
import { loadPeerProto } from '../proto/loader.js'
import type { Clock } from '../runtime/clock.js'
import { envelopeFromProto, envelopeToProto } from './peer-codec.js'
import { HeartbeatChannel, type HeartbeatChannelCounts, type HeartbeatChannelOptions } from './heartbeat-channel.js'
import { sleep } from '../runtime/sleep.js'

/** Largest peer message: a forwarded operation carries up to 8 MiB of data and its framing. */
export const PEER_MESSAGE_BYTES_MAX = 16 * 1024 * 1024

/** More calls than this in flight to one peer means it is not answering: drop, don't queue. */
const IN_FLIGHT_PER_PEER_MAX = 64

/** Probes of a peer whose connection dropped: how many, and how far apart. */
const PROBE_ATTEMPTS_MAX = 4
const PROBE_RETRY_MS = 20

/** Connectivity watches are re-armed after this long even when nothing changed. */
const WATCH_WINDOW_MS = 60_000

export interface PeerFaults {
  readonly partitionedFrom: readonly NodeId[]
  readonly delayMs: Readonly<Record<NodeId, number>>
}

/** How the receiving side answered a forwarded payload; expected failures are values. */
export type ForwardAnswer =
  | { readonly ok: true; readonly payload: Buffer }
  // 'not-serving': the node does not serve the CSV (not yet, or no more), so it ran nothing.
  | { readonly ok: false; readonly failure: 'unavailable' | 'not-serving' | 'failed'; readonly details: string }

/** Where traffic from peers goes once the injected faults let it through. */
export interface PeerReceiver<Op> {
  /** A quorum envelope addressed to this node. */
  receive(envelope: Envelope): void
  /** Decodes a forwarded payload; null when it is malformed (answered INVALID_ARGUMENT). */
  decodeForwarded(payload: Buffer): Op | null
  /** Serves a forwarded operation on a CSV this node should own. */
  serveForwarded(csv: string, op: Op): Promise<ForwardAnswer>
  /** A peer says a session ended (close: its opens go; else they are preserved). */
  sessionEnded(sessionKey: string, close: boolean, user?: string): void
}

export interface PeerTransportOptions {
  readonly selfId: NodeId
  readonly peers: readonly NodeConfig[]
  /** Where to reach a peer's peer service (default: its cluster address and peer port). */
  readonly peerTarget?: (peer: NodeConfig) => string
  /** Deadline of a delivery, probe or session-end call. */
  readonly callDeadlineMs: number
  /** attemptMs: the monotonic time the refused connection attempt started. */
  readonly onRefused: (peer: NodeId, attemptMs: number) => void
  readonly clock: Clock
  readonly log: Logger
}

export function isConnectionRefused(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && /ECONNREFUSED/.test(err.details ?? err.message)
}

export class PeerTransport {
  private readonly clients = new Map<NodeId, PeerClient>()
  private readonly inFlight = new Map<NodeId, number>()
  private partitioned = new Set<NodeId>()
  private delays = new Map<NodeId, number>()
  /**
   * When the connection attempt to each peer that a refusal may stem from began. grpc-js fails a
   * call made in TRANSIENT_FAILURE at once with the error of the channel's last attempt, which
   * may predate the peer's listener (a cluster starting up): the core must judge the refusal by
   * that attempt's start, not by the call's, or it takes a live peer for a dead one.
   */
  private readonly connectAttemptMs = new Map<NodeId, number>()
  /** The connection attempt the last heartbeat call to each peer on a channel not connected rode (repeatsAttempt). */
  private readonly heartbeatCallAttemptMs = new Map<NodeId, number>()
  private closed = false
  dropped = 0
  /** Heartbeats go here once useDatagrams() ran; null: as gRPC calls. */
  private datagrams: HeartbeatChannel | null = null
  private datagramReceiver: ((envelope: Envelope) => void) | null = null
  /** Per peer, the newest committed epoch and the last proposal sent to it on the reliable channel. */
  private readonly reliableEpoch = new Map<NodeId, number>()
  private readonly reliableProposal = new Map<NodeId, string>()

  constructor(private readonly opts: PeerTransportOptions) {
    const { Peer } = loadPeerProto().swlab.peer.v1
    for (const peer of opts.peers) {
      this.clients.set(
        peer.id,
        new Peer(opts.peerTarget?.(peer) ?? `${peer.clusterAddress}:${peer.peerPort}`, grpc.credentials.createInsecure(), {
          // Reconnect quickly to a restarted peer instead of grpc's default backoff of seconds.
          'grpc.initial_reconnect_backoff_ms': 50,
          'grpc.min_reconnect_backoff_ms': 50,
          'grpc.max_reconnect_backoff_ms': 250,
          'grpc.max_receive_message_length': PEER_MESSAGE_BYTES_MAX,
          'grpc.max_send_message_length': PEER_MESSAGE_BYTES_MAX,
        }),
      )
      this.inFlight.set(peer.id, 0)
      this.watchConnection(peer.id)
    }
  }

  /**
   * When the connection to a peer drops (its process died and the kernel closed the socket),
   * probe it at once instead of waiting for the next heartbeat: a refused reconnect proves the
   * process is gone within milliseconds. A frozen peer keeps its socket, so it stays silent.
   */
  private watchConnection(peer: NodeId): void {
    const client = this.clients.get(peer)
    if (!client) return
    const channel = client.getChannel()
    const watch = (last: grpc.connectivityState): void => {
      if (this.closed) return
      channel.watchConnectivityState(last, this.opts.clock.wallNowMs() + WATCH_WINDOW_MS, () => {
        if (this.closed) return
        const now = channel.getConnectivityState(false)
        // Leaving READY ends the old connection: every refusal from here on comes from a newer attempt.
        const leftReady = last === grpc.connectivityState.READY && now !== grpc.connectivityState.READY
        if (leftReady || now === grpc.connectivityState.CONNECTING) this.connectAttemptMs.set(peer, this.opts.clock.nowMs())
        if (last === grpc.connectivityState.READY && now !== grpc.connectivityState.READY) this.probe(peer)
        // With heartbeats on datagrams a channel may carry no call for a long time, and grpc-js
        // leaves a channel IDLE after a failed attempt (a peer not listening yet, at start):
        // connect it again, or a killed peer's closed connection would go unnoticed here and
        // this node would learn of the death only from the silence (measured: a 3-node
        // cluster's leader kill elected the other survivor, whose channel was connected).
        if (this.datagrams && now === grpc.connectivityState.IDLE) channel.getConnectivityState(true)
        watch(now)
      })
    }
    watch(channel.getConnectivityState(false))
  }

  private probe(peer: NodeId, attempt = 1): void {
    const client = this.clients.get(peer)
    if (!client || this.partitioned.has(peer) || this.closed) return
    // An envelope without a body: the receiver drops it, only the connection attempt matters.
    const attemptMs = this.attemptStartMs(peer, client)
    client.Deliver({ from: '', to: '' }, { deadline: this.deadline(this.opts.callDeadlineMs) }, (err) => {
      if (!err || this.partitioned.has(peer)) return
      if (isConnectionRefused(err)) this.opts.onRefused(peer, attemptMs)
      // The first probe may still ride the dying connection; try a new one, a few times.
      else if (err.code === grpc.status.UNAVAILABLE && attempt < PROBE_ATTEMPTS_MAX) {
        setTimeout(() => this.probe(peer, attempt + 1), PROBE_RETRY_MS)
      }
    })
  }

  /**
   * The start of the connection attempt whose outcome a call issued now reports: a call on an
   * idle or connected channel starts or rides a fresh attempt (now); one on a channel that is
   * connecting or failed reports the attempt already under way or over.
   */
  private attemptStartMs(peer: NodeId, client: PeerClient): number {
    const now = this.opts.clock.nowMs()
    const state = client.getChannel().getConnectivityState(false)
    if (state === grpc.connectivityState.READY) return now
    if (state === grpc.connectivityState.IDLE) {
      this.connectAttemptMs.set(peer, now)
      return now
    }
    return Math.min(now, this.connectAttemptMs.get(peer) ?? -Infinity)
  }

  faults(): PeerFaults {
    return { partitionedFrom: [...this.partitioned].sort(), delayMs: Object.fromEntries(this.delays) }
  }

  setFaults(faults: PeerFaults): void {
    this.partitioned = new Set(faults.partitionedFrom)
    this.delays = new Map(Object.entries(faults.delayMs).filter(([, ms]) => ms > 0))
    this.opts.log.info({ component: 'transport', event: 'net.faults.set', ...this.faults() })
  }

  isPartitioned(peer: NodeId): boolean {
    return this.partitioned.has(peer)
  }

  delayOf(peer: NodeId): number {
    return this.delays.get(peer) ?? 0
  }

  /**
   * Sends heartbeats as UDP datagrams from now on, and receives them. Every gRPC channel to a
   * peer connects now: with heartbeats off it, a channel may otherwise carry nothing, and a
   * dropped connection is how a killed peer is noticed within milliseconds (watchConnection).
   */
  async useDatagrams(opts: Pick<HeartbeatChannelOptions, 'targetOf' | 'listenAddresses' | 'port'>): Promise<void> {
    const channel = new HeartbeatChannel({
      ...opts,
      selfId: this.opts.selfId,
      peers: this.opts.peers.map((p) => p.id),
      receive: (envelope) => this.receiveDatagram(envelope),
      log: this.opts.log,
    })
    await channel.start()
    this.datagrams = channel
    for (const client of this.clients.values()) client.getChannel().getConnectivityState(true)
  }

  /** True while the gRPC channel to the peer is connected (its heartbeats may go as datagrams). */
  connected(peer: NodeId): boolean {
    return this.clients.get(peer)?.getChannel().getConnectivityState(false) === grpc.connectivityState.READY
  }

  /** Datagram counts, or null while heartbeats go as gRPC calls. */
  datagramStats(): HeartbeatChannelCounts | null {
    return this.datagrams?.stats ?? null
  }

  private receiveDatagram(envelope: Envelope): void {
    if (this.partitioned.has(envelope.from)) return
    const delayMs = this.delayOf(envelope.from)
    const deliver = () => {
      if (!this.partitioned.has(envelope.from)) this.datagramReceiver?.(envelope)
    }
    if (delayMs > 0) setTimeout(deliver, delayMs)
    else deliver()
  }

  /**
   * A heartbeat goes as a datagram unless it carries a view this peer was not yet sent on the
   * reliable channel (a new proposal, or a newer committed view): a view change goes to every
   * peer once on gRPC, and its repeats ride the datagrams, which carry the views too. Sending
   * every heartbeat of a pending proposal on gRPC lost the leadership of a 64-node cluster
   * starting on 2 cores (ws2016): 63 calls an interval, past their deadline under load, and no
   * acknowledgement within a lease.
   */
  private sendDatagram(envelope: Envelope): boolean {
    const body = envelope.body
    if (!this.datagrams || (body.kind !== 'heartbeat' && body.kind !== 'heartbeat-reply')) return false
    const peer = envelope.to
    // While the gRPC channel to the peer is not connected (a peer starting, or killed), the
    // heartbeat goes as a call, as before datagrams: its refused connection is how a dead
    // process is declared down at once, and a datagram to a closed port says nothing.
    // (Measured: with datagrams only, a 3-node cluster's leader kill was noticed by one survivor
    // through its channel and not by the other, which should have won the election.)
    if (!this.connected(peer)) return false
    let reliable = false
    if (body.committed && body.committed.epoch > (this.reliableEpoch.get(peer) ?? -1)) {
      this.reliableEpoch.set(peer, body.committed.epoch)
      reliable = true
    }
    if (body.proposed) {
      const key = `${body.proposed.viewTerm}:${body.proposed.epoch}`
      if (this.reliableProposal.get(peer) !== key) {
        this.reliableProposal.set(peer, key)
        reliable = true
      }
    }
    return !reliable && this.datagrams.send(envelope)
  }

  send(envelope: Envelope): void {
    const peer = envelope.to
    const client = this.clients.get(peer)
    if (!client || this.partitioned.has(peer)) {
      this.dropped++
      return
    }
    const delayMs = this.delayOf(peer)
    if (delayMs > 0) setTimeout(() => this.transmit(client, envelope), delayMs)
    else this.transmit(client, envelope)
  }

  private transmit(client: PeerClient, envelope: Envelope): void {
    const peer = envelope.to
    // A partition may have started while the message was delayed.
    if (this.partitioned.has(peer)) return
    if (this.sendDatagram(envelope)) return
    const inFlight = this.inFlight.get(peer) ?? 0
    if (inFlight >= IN_FLIGHT_PER_PEER_MAX) {
      this.dropped++
      return
    }
    const attemptMs = this.attemptStartMs(peer, client)
    if (this.repeatsAttempt(peer, envelope, attemptMs)) {
      this.dropped++
      return
    }
    this.inFlight.set(peer, inFlight + 1)
    client.Deliver(envelopeToProto(envelope), { deadline: this.deadline(this.opts.callDeadlineMs) }, (err) => {
      this.inFlight.set(peer, (this.inFlight.get(peer) ?? 1) - 1)
      if (err && isConnectionRefused(err) && !this.partitioned.has(peer)) this.opts.onRefused(peer, attemptMs)
    })
  }

  /**
   * True for a heartbeat that would go as a call on a channel not connected, when one already
   * went during the same connection attempt: grpc-js fails it with that attempt's outcome (a
   * failed channel) or queues it behind the first (a connecting one), so it tells neither side
   * anything the first did not. Such calls were most of a starting cluster's gRPC work (64
   * nodes, ws2016: 18,355 heartbeat calls on channels not connected, 189 on connected ones).
   */
  private repeatsAttempt(peer: NodeId, envelope: Envelope, attemptMs: number): boolean {
    const kind = envelope.body.kind
    if (!this.datagrams || (kind !== 'heartbeat' && kind !== 'heartbeat-reply') || this.connected(peer)) return false
    if (this.heartbeatCallAttemptMs.get(peer) === attemptMs) return true
    this.heartbeatCallAttemptMs.set(peer, attemptMs)
    return false
  }

  /**
   * Sends an operation for a CSV to its owner and resolves with the owner's answer payload;
   * 'not-serving' when the owner answered that it does not serve the CSV (it ran nothing);
   * 'unavailable' when the owner cannot be reached or did not answer.
   */
  forward(peer: NodeId, csv: string, op: string, payload: Buffer, deadlineMs: number): Promise<Buffer | 'unavailable' | 'not-serving'> {
    const client = this.clients.get(peer)
    if (!client || this.partitioned.has(peer)) return Promise.resolve('unavailable')
    const send = () =>
      new Promise<Buffer | 'unavailable' | 'not-serving'>((resolve) => {
        client.SmbForward({ from: this.opts.selfId, csv, op, payload }, { deadline: this.deadline(deadlineMs) }, (err, reply) => {
          if (err && err.code === grpc.status.FAILED_PRECONDITION && !this.partitioned.has(peer)) return resolve('not-serving')
          if (err || !reply || this.partitioned.has(peer)) return resolve('unavailable')
          resolve(reply.payload)
        })
      })
    const delayMs = this.delayOf(peer)
    return delayMs > 0 ? sleep(delayMs).then(send) : send()
  }

  /** Tells a peer that a session ended; best effort, bounded by the call deadline. */
  endSession(peer: NodeId, sessionKey: string, close: boolean, user?: string): Promise<void> {
    const client = this.clients.get(peer)
    if (!client || this.partitioned.has(peer)) return Promise.resolve()
    return new Promise((resolve) => {
      client.SmbDisconnect({ sessionKey, close, ...(user !== undefined ? { reclaimedBy: user } : {}) }, { deadline: this.deadline(this.opts.callDeadlineMs) }, () => resolve())
    })
  }

  /** The peer service: what other nodes send here, through the same injected faults. */
  handlers<Op>(receiver: PeerReceiver<Op>): PeerHandlers {
    this.datagramReceiver = (envelope) => receiver.receive(envelope)
    return {
      SmbForward: (call, callback) => {
        const { from, csv, payload } = call.request
        const op = receiver.decodeForwarded(payload)
        if (op === null) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed forwarded operation' })
          return
        }
        // A partitioned sender gets no answer at all: its call runs into its deadline.
        if (this.partitioned.has(from)) return
        receiver.serveForwarded(csv, op).then(
          (answer) => {
            if (answer.ok) callback(null, { payload: answer.payload })
            else callback({ code: answer.failure === 'unavailable' ? grpc.status.UNAVAILABLE : answer.failure === 'not-serving' ? grpc.status.FAILED_PRECONDITION : grpc.status.INTERNAL, details: answer.details })
          },
          (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
        )
      },
      SmbDisconnect: (call, callback) => {
        callback(null, {})
        // reclaimed_by is set only by a PreviousSessionId reclaim (proto3: '' when absent).
        const user = call.request.reclaimedBy
        receiver.sessionEnded(call.request.sessionKey, call.request.close, user ? user : undefined)
      },
      Deliver: (call, callback) => {
        callback(null, {})
        const envelope = envelopeFromProto(call.request)
        if (!envelope || envelope.to !== this.opts.selfId) return
        if (this.partitioned.has(envelope.from)) return
        const delayMs = this.delayOf(envelope.from)
        const deliver = () => {
          if (!this.partitioned.has(envelope.from)) receiver.receive(envelope)
        }
        if (delayMs > 0) setTimeout(deliver, delayMs)
        else deliver()
      },
    }
  }

  close(): void {
    this.closed = true
    this.datagrams?.close()
    for (const client of this.clients.values()) client.close()
  }

  /** gRPC takes deadlines on the wall clock. */
  private deadline(afterMs: number): number {
    return this.opts.clock.wallNowMs() + afterMs
  }
}
