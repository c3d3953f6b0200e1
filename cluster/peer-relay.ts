// The harness's delay relay for a cluster in its own network namespace (`cluster up --netns`):
// this kernel has no netem, so a delay between nodes is a process of the harness on the path.
// nftables DNATs a delayed peer link (127.5.<A>.<B>:port, the address A reaches B on) to the
// relay's address for that link (127.6.<A>.<B>:port); the relay holds every chunk (TCP) or
// datagram (UDP) for the link's delay and forwards it, from its own source address
// (RELAY_SOURCE_ADDRESS, which the DNAT rule leaves alone), to the link address itself. So the
// partition and cut rules, which match the link address on input, still apply to what the
// relay forwards, and the nodes' code never hears of the delay.
//
// Both directions of a connection (or of a UDP flow) are held: a delay of d on a link adds 2d to
// a request's round trip. Order is kept within a direction. A link's delay may change at any
// time; data already held keeps its release time.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram'
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { ClusterConfig } from './config.js'
import { peerLinkAddress, RELAY_SOURCE_ADDRESS, relayLinkAddress } from './net-fault-rules.js'

/** Bytes held in one direction of one TCP connection before the sender is paused (backpressure). */
export const HELD_BYTES_MAX = 8 * 1024 * 1024

/** TCP connections (both sides counted once) the relay carries at once; more are refused. */
export const CONNECTIONS_MAX = 1024

/** UDP flows (one per source address and port per link) kept at once; the oldest goes first. */
export const UDP_FLOWS_MAX = 1024

/** A UDP flow with no datagram either way for this long is forgotten. */
export const UDP_FLOW_IDLE_MS = 60_000

/** A datagram larger than this is dropped (the largest UDP payload). */
const DATAGRAM_BYTES_MAX = 65_507

export interface RelayLink {
  /** Node ids: traffic from `from` to `to` (and its replies) crosses this link. */
  readonly from: string
  readonly to: string
  readonly protocol: 'tcp' | 'udp'
  /** Where the relay listens (the DNAT target): 127.6.<A>.<B>. */
  readonly listenAddress: string
  /** Where it forwards to: the link address 127.5.<A>.<B>; the port is the same on both. */
  readonly targetAddress: string
  readonly port: number
}

/**
 * Every ordered pair's link, on each protocol its peer traffic uses: the peer service (TCP) and
 * the heartbeat datagrams (UDP, issue 18), both on the peer port's number.
 */
export function relayLinksOf(config: ClusterConfig): RelayLink[] {
  const nodes = config.nodes
  return nodes.flatMap((a) =>
    nodes
      .filter((b) => b.id !== a.id)
      .flatMap((b) =>
        (['tcp', 'udp'] as const).map((protocol): RelayLink => ({
          from: a.id,
          to: b.id,
          protocol,
          listenAddress: relayLinkAddress(nodes, a.id, b.id),
          targetAddress: peerLinkAddress(nodes, a.id, b.id),
          port: b.peerPort,
        })),
      ),
  )
}

/** Delays in force: per node id, what every message to and from it is held (ms). */
export type NodeDelays = Readonly<Record<string, number>>

/** One direction's hold on a link: the delays of both its ends add up. */
export function linkDelayMs(delays: NodeDelays, from: string, to: string): number {
  return Math.max(0, delays[from] ?? 0) + Math.max(0, delays[to] ?? 0)
}

export interface PeerRelayStats {
  readonly connections: number
  readonly udpFlows: number
  readonly heldBytes: number
  readonly refusedConnections: number
}

/** Sends data after delayMs, keeping the order of what it was given. */
class DelayLine {
  private readonly queue: { readonly dueMs: number; readonly data: Buffer }[] = []
  private lastDueMs = 0
  private timer: NodeJS.Timeout | null = null
  heldBytes = 0

  constructor(
    private readonly send: (data: Buffer) => void,
    private readonly onDrained: () => void,
  ) {}

  push(data: Buffer, delayMs: number): void {
    // Never before what was pushed earlier: a delay lowered meanwhile must not reorder.
    const dueMs = Math.max(this.lastDueMs, performance.now() + delayMs)
    this.lastDueMs = dueMs
    if (delayMs <= 0 && this.queue.length === 0) {
      this.send(data)
      return
    }
    this.queue.push({ dueMs, data })
    this.heldBytes += data.length
    this.arm()
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = null
      const now = performance.now()
      while (this.queue.length > 0 && this.queue[0].dueMs <= now + 1) {
        const { data } = this.queue.shift()!
        this.heldBytes -= data.length
        this.send(data)
      }
      if (this.heldBytes < HELD_BYTES_MAX) this.onDrained()
      this.arm()
    }, Math.max(0, this.queue[0].dueMs - performance.now()))
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.queue.length = 0
    this.heldBytes = 0
  }
}

export class PeerRelay {
  private readonly servers: Server[] = []
  private readonly udpSockets: UdpSocket[] = []
  private readonly sockets = new Set<Socket>()
  private readonly lines = new Set<DelayLine>()
  private readonly flows = new Map<string, { readonly upstream: UdpSocket; lastUsedMs: number; readonly toClient: DelayLine; readonly toTarget: DelayLine }>()
  private delays: NodeDelays = {}
  private refused = 0
  private sweep: NodeJS.Timeout | null = null

  constructor(private readonly links: readonly RelayLink[]) {}

  setDelays(delays: NodeDelays): void {
    this.delays = { ...delays }
  }

  stats(): PeerRelayStats {
    let held = 0
    for (const l of this.lines) held += l.heldBytes
    return { connections: this.sockets.size / 2, udpFlows: this.flows.size, heldBytes: held, refusedConnections: this.refused }
  }

  async start(): Promise<void> {
    for (const link of this.links) {
      if (link.protocol === 'tcp') await this.listenTcp(link)
      else await this.listenUdp(link)
    }
    this.sweep = setInterval(() => this.sweepFlows(), UDP_FLOW_IDLE_MS / 4)
    this.sweep.unref()
  }

  private delayOf(link: RelayLink): number {
    return linkDelayMs(this.delays, link.from, link.to)
  }

  private listenTcp(link: RelayLink): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (client) => this.relayTcp(link, client))
    this.servers.push(server)
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(link.port, link.listenAddress, () => {
        server.off('error', reject)
        resolve()
      })
    })
  }

  private relayTcp(link: RelayLink, client: Socket): void {
    if (this.sockets.size / 2 >= CONNECTIONS_MAX) {
      this.refused++
      client.destroy()
      return
    }
    const upstream = connect({ host: link.targetAddress, port: link.port, localAddress: RELAY_SOURCE_ADDRESS })
    this.sockets.add(client)
    this.sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const pipe = (from: Socket, to: Socket): DelayLine => {
      const line = new DelayLine(
        (data) => {
          if (!to.destroyed) to.write(data)
        },
        () => from.resume(),
      )
      this.lines.add(line)
      from.on('data', (data: Buffer) => {
        line.push(data, this.delayOf(link))
        // Held too much: stop reading until the line drains (the sender's TCP window fills).
        if (line.heldBytes >= HELD_BYTES_MAX) from.pause()
      })
      return line
    }
    const up = pipe(client, upstream)
    const down = pipe(upstream, client)
    let ended = false
    const end = (): void => {
      if (ended) return
      ended = true
      // The close is delayed like the data, so that what was held still arrives first.
      setTimeout(() => {
        up.close()
        down.close()
        this.lines.delete(up)
        this.lines.delete(down)
        client.destroy()
        upstream.destroy()
        this.sockets.delete(client)
        this.sockets.delete(upstream)
      }, this.delayOf(link))
    }
    for (const s of [client, upstream]) {
      s.on('error', end)
      s.on('close', end)
      s.on('end', end)
    }
    upstream.once('connect', () => client.resume())
  }

  private listenUdp(link: RelayLink): Promise<void> {
    const socket = createSocket('udp4')
    this.udpSockets.push(socket)
    socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      if (msg.length > DATAGRAM_BYTES_MAX) return
      const key = `${link.listenAddress}:${link.port}<${from.address}:${from.port}`
      let flow = this.flows.get(key)
      if (!flow) {
        if (this.flows.size >= UDP_FLOWS_MAX) this.dropOldestFlow()
        const upstream = createSocket('udp4')
        upstream.bind({ address: RELAY_SOURCE_ADDRESS, port: 0 })
        const toTarget = new DelayLine((data) => upstream.send(data, link.port, link.targetAddress), () => undefined)
        const toClient = new DelayLine((data) => socket.send(data, from.port, from.address), () => undefined)
        this.lines.add(toTarget)
        this.lines.add(toClient)
        const created = { upstream, lastUsedMs: performance.now(), toClient, toTarget }
        upstream.on('message', (reply: Buffer) => {
          created.lastUsedMs = performance.now()
          toClient.push(reply, this.delayOf(link))
        })
        upstream.on('error', () => undefined)
        flow = created
        this.flows.set(key, flow)
      }
      flow.lastUsedMs = performance.now()
      flow.toTarget.push(msg, this.delayOf(link))
    })
    socket.on('error', () => undefined)
    return new Promise((resolve, reject) => {
      socket.once('error', reject)
      socket.bind({ address: link.listenAddress, port: link.port }, () => {
        socket.off('error', reject)
        resolve()
      })
    })
  }

  private dropFlow(key: string): void {
    const flow = this.flows.get(key)
    if (!flow) return
    this.flows.delete(key)
    flow.toClient.close()
    flow.toTarget.close()
    this.lines.delete(flow.toClient)
    this.lines.delete(flow.toTarget)
    flow.upstream.close()
  }

  private dropOldestFlow(): void {
    let oldest: [string, number] | null = null
    for (const [key, f] of this.flows) if (!oldest || f.lastUsedMs < oldest[1]) oldest = [key, f.lastUsedMs]
    if (oldest) this.dropFlow(oldest[0])
  }

  private sweepFlows(): void {
    const now = performance.now()
    for (const [key, f] of [...this.flows]) if (now - f.lastUsedMs > UDP_FLOW_IDLE_MS) this.dropFlow(key)
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep)
    for (const key of [...this.flows.keys()]) this.dropFlow(key)
    for (const l of this.lines) l.close()
    for (const s of this.sockets) s.destroy()
    for (const u of this.udpSockets) u.close()
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  }
}
