// Network faults as nftables rules, for a cluster in a network namespace of its own (`cluster up
// --netns`): the kernel drops the packets, the nodes' code never hears of the fault.
//
// Every address stays on `lo` of the cluster's namespace (this kernel has no veth or dummy
// links), and a node's outgoing gRPC connections cannot bind a source address, so rules match
// DESTINATIONS only: node B listens for its peer service on one extra address per other node A
// (peerLinkAddress(A, B) = 127.5.<A>.<B>) and A reaches B there; dropping that destination cuts
// A -> B and nothing else. Clients of ours can bind a source address of their own, so a cut
// from a client matches its source too. Packets are dropped on input, not output: the sender
// sees silence (retransmits, deadlines), as on a real network, not an immediate EPERM.
//
// Heartbeats travel as UDP datagrams to the same link address and port number as the peer
// service (server/heartbeat-channel.ts): the peer rules match both protocols.
//
// A one-way cut of TCP stalls both directions of the connections it carries (the replies ride
// them): A -> B cut means A's calls to B fail and B's calls to A still work, because each side
// calls the other on connections of its own.
import { join } from 'node:path'
import type { ClusterConfig, NodeConfig } from './config.js'

/** The network of the per-pair peer link addresses: 127.5.<from>.<to> (1-based node positions). */
export const PEER_LINK_NET = '127.5'

/** Source addresses of the lab's own clients in a namespaced cluster: client K gets 127.0.4.K. */
export const CLIENT_SOURCE_NET = '127.0.4'

/** The source address of client k (1..254). */
export function clientSourceAddress(k: number): string {
  if (!Number.isInteger(k) || k < 1 || k > 254) throw new Error(`client source address number ${k} is not 1..254`)
  return `${CLIENT_SOURCE_NET}.${k}`
}

/** Our nftables table in the cluster's namespace; heal and down flush it. */
export const NFT_TABLE = 'inet swlab'

/** What a one-way cut takes: the peer service, the witness (gRPC and DCE/RPC), SMB 2/3, or every port. */
export type CutPort = 'peer' | 'witness' | 'smb2' | 'all'
export const CUT_PORTS: readonly CutPort[] = ['peer', 'witness', 'smb2', 'all']

/** One direction cut: from a node id or a client's source address, to a node id. */
export interface NetCut {
  readonly from: string
  readonly to: string
  readonly port: CutPort
  /**
   * Drop only this share of the packets, 1..99 (nft `numgen random`): loss instead of a cut.
   * TCP retransmits what is lost, so the senders see delays of its retransmission timeouts
   * (200 ms and up), not gaps. Absent: every packet (a cut).
   */
  readonly lossPercent?: number
}

/**
 * The faults the harness applies as rules. Delays (no netem in this kernel) are the harness's
 * relay (cluster/peer-relay.ts): the rules DNAT a delayed link to it, see nftNatRulesOf.
 */
export interface RuleFaults {
  readonly partitions: readonly (readonly string[])[]
  readonly cuts: readonly NetCut[]
  /** Per node id, ms held on every peer link to and from it (absent or 0: none). */
  readonly delays?: Readonly<Record<string, number>>
}

/** The relay's address for link from -> to: 127.6.<from>.<to> (see cluster/peer-relay.ts). */
export function relayLinkAddress(nodes: readonly NodeConfig[], from: string, to: string): string {
  return peerLinkAddress(nodes, from, to).replace(/^127\.5\./, '127.6.')
}

/** The relay's own source address, which the DNAT rule leaves alone (see cluster/peer-relay.ts). */
export const RELAY_SOURCE_ADDRESS = '127.7.0.1'

/** The ordered pairs of nodes whose link the relay carries: one end or the other has a delay. */
export function delayedLinks(config: ClusterConfig, delays: Readonly<Record<string, number>> | undefined): { from: string; to: string }[] {
  const ids = config.nodes.map((n) => n.id)
  const delayed = (id: string) => (delays?.[id] ?? 0) > 0
  return ids.flatMap((from) => ids.filter((to) => to !== from && (delayed(from) || delayed(to))).map((to) => ({ from, to })))
}

/**
 * The NAT rules (output hook) that send a delayed link's new connections and flows to the
 * relay: everything to the link address except what the relay itself sends on.
 */
export function nftNatRulesOf(config: ClusterConfig, faults: RuleFaults): string[] {
  return delayedLinks(config, faults.delays).map(
    ({ from, to }) =>
      `ip daddr ${peerLinkAddress(config.nodes, from, to)} ip saddr != ${RELAY_SOURCE_ADDRESS} counter dnat to ${relayLinkAddress(config.nodes, from, to)} comment "delay ${from} -> ${to} via relay"`,
  )
}

/** Where node `to` listens for peer traffic from node `from` (both in config.nodes). */
export function peerLinkAddress(nodes: readonly NodeConfig[], from: string, to: string): string {
  const a = nodes.findIndex((n) => n.id === from)
  const b = nodes.findIndex((n) => n.id === to)
  if (a < 0 || b < 0 || a === b) throw new Error(`no peer link from ${from} to ${to}`)
  return `${PEER_LINK_NET}.${a + 1}.${b + 1}`
}

/** The unix socket of a node's admin service in a namespaced cluster (reachable from outside it). */
export function adminSocketPath(dir: string, id: string): string {
  return join(dir, 'sockets', `${id}.admin.sock`)
}

/** The longest path a unix socket may have (sun_path holds 108 bytes with the NUL). */
export const UNIX_SOCKET_PATH_BYTES_MAX = 107

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** A cut's problem in one line, or null when the rules can express it. */
export function cutProblem(config: ClusterConfig, cut: NetCut): string | null {
  const ids = config.nodes.map((n) => n.id)
  if (!ids.includes(cut.to)) return `unknown node id ${cut.to} (nodes: ${ids.join(', ')})`
  if (!CUT_PORTS.includes(cut.port)) return `--port must be one of ${CUT_PORTS.join(', ')} (got ${JSON.stringify(cut.port)})`
  if (cut.lossPercent !== undefined && !(Number.isInteger(cut.lossPercent) && cut.lossPercent >= 1 && cut.lossPercent <= 99)) {
    return `loss must be a whole percentage from 1 to 99 (got ${JSON.stringify(cut.lossPercent)}; 100 is net cut)`
  }
  if (ids.includes(cut.from)) {
    if (cut.from === cut.to) return `a cut needs two different nodes (got ${cut.from} twice)`
    // Nodes reach each other on the peer service only.
    if (cut.port !== 'peer' && cut.port !== 'all') return `nodes reach each other on the peer port only: --port ${cut.port} needs a client address as <from>`
    return null
  }
  const m = IPV4.exec(cut.from)
  if (!m || m.slice(1).some((x) => Number(x) > 255) || m[1] !== '127') return `<from> must be a node id or a client's loopback IPv4 source address (got ${JSON.stringify(cut.from)})`
  if (cut.port === 'peer') return '--port peer is between nodes: <from> must be a node id'
  return null
}

/** The rules (nft rule statements, one per line) that apply these faults. */
export function nftRulesOf(config: ClusterConfig, faults: RuleFaults): string[] {
  const nodes = config.nodes
  const node = (id: string): NodeConfig => {
    const n = nodes.find((x) => x.id === id)
    if (!n) throw new Error(`unknown node ${id}`)
    return n
  }
  const delayed = delayedLinks(config, faults.delays)
  const isDelayed = (from: string, to: string) => delayed.some((l) => l.from === from && l.to === to)
  // A delayed link's new connections reach the relay's address (DNAT on output), so a cut of it
  // drops that address too; what the relay forwards carries the link address again.
  const peerRule = (from: string, to: string, why: string, loss = '') =>
    // TCP for the peer service, UDP for the heartbeat datagrams on the same port number.
    `ip daddr ${isDelayed(from, to) ? `{ ${peerLinkAddress(nodes, from, to)}, ${relayLinkAddress(nodes, from, to)} }` : peerLinkAddress(nodes, from, to)} meta l4proto { tcp, udp } th dport ${node(to).peerPort}${loss} counter drop comment "${why}"`
  const rules: string[] = []
  for (const [i, group] of faults.partitions.entries()) {
    for (const [j, other] of faults.partitions.entries()) {
      if (i === j) continue
      for (const from of group) for (const to of other) rules.push(peerRule(from, to, `partition ${from} -> ${to}`))
    }
  }
  for (const cut of faults.cuts) {
    const to = node(cut.to)
    const loss = cut.lossPercent !== undefined ? ` numgen random mod 100 < ${cut.lossPercent}` : ''
    const what = cut.lossPercent !== undefined ? `loss ${cut.lossPercent}%` : 'cut'
    if (nodes.some((n) => n.id === cut.from)) {
      rules.push(peerRule(cut.from, cut.to, `${what} ${cut.from} -> ${cut.to} peer`, loss))
      continue
    }
    const ports = cut.port === 'witness' ? [to.witnessPort, ...(to.dcerpcPort ? [to.dcerpcPort] : [])] : cut.port === 'smb2' ? (to.smb2Port ? [to.smb2Port] : []) : []
    const dport = ports.length === 0 ? '' : ports.length === 1 ? ` tcp dport ${ports[0]}` : ` tcp dport { ${ports.join(', ')} }`
    rules.push(`ip saddr ${cut.from} ip daddr ${to.clientAddress}${dport}${loss} counter drop comment "${what} ${cut.from} -> ${cut.to} ${cut.port}"`)
  }
  // A connection made before the delay is not NATed (conntrack decided at its first packet): its
  // packets still reach the link address from a node, so reset it; the node reconnects, through
  // the relay. After the drops: a cut link stays silent.
  for (const { from, to } of delayed) {
    rules.push(`ip daddr ${peerLinkAddress(nodes, from, to)} ip saddr != ${RELAY_SOURCE_ADDRESS} meta l4proto tcp counter reject with tcp reset comment "delay ${from} -> ${to}: reset a connection made before it"`)
  }
  return rules
}

/** An nft script that replaces our table atomically with one holding these rules (and NAT rules, for delays). */
export function nftScript(rules: readonly string[], natRules: readonly string[] = []): string {
  const nat = natRules.length === 0 ? [] : ['  chain output-nat {', '    type nat hook output priority -100; policy accept;', ...natRules.map((r) => `    ${r}`), '  }']
  return [
    // Declaring the table first makes the delete succeed when it does not exist yet.
    `table ${NFT_TABLE}`,
    `delete table ${NFT_TABLE}`,
    `table ${NFT_TABLE} {`,
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    ...rules.map((r) => `    ${r}`),
    '  }',
    ...nat,
    '}',
    '',
  ].join('\n')
}
