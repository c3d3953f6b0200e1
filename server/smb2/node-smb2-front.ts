// The SMB 2/3 wire front of a node, made from the node's config: its policy (signing,
// encryption per server and per share), the NTLM accounts of credentials.json, the node's
// names in the NTLM CHALLENGE, and the protocol layer's cryptography.
import type { Logger } from 'pino'
import type { ClusterConfig, NodeConfig } from '../../cluster/config.js'
import type { ClusterCredentials } from '../../cluster/credentials.js'
import { rpcAuthConfig } from '../dcerpc/rpc-auth-config.js'
import { filetimeFromUnixMs } from '../../protocol/smb2/filetime.js'
import type { Clock } from '../../runtime/clock.js'
import type { CsvRouter } from '../csv-router.js'
import type { DirectIo } from '../smb/direct-io.js'
import { Smb2Front } from './smb2-front.js'
import { smb2Security } from './smb2-security-impl.js'
import { SPNEGO_INITIAL_TOKEN, accountsOf, spnegoGssAcceptor } from './spnego-gss-acceptor.js'

/** NetBIOS names are at most 15 characters. */
const NETBIOS_NAME_MAX = 15
/** What a node reports as its interface's speed: loopback has none, and clients skip an interface of speed 0 (smbd does too). */
const LINK_SPEED_BITS_PER_SECOND = 10_000_000_000n

export interface NodeSmb2Options {
  readonly config: ClusterConfig
  readonly self: NodeConfig
  readonly router: CsvRouter
  readonly credentials: ClusterCredentials | null
  readonly isServing: () => boolean
  /** Not serving yet, but the lease is a round trip away: requests wait for it (Smb2FrontOptions). */
  readonly leasePending: () => boolean
  /** How long a request waits for a pending lease. */
  readonly servingHoldMs: number
  /** How long a request waits while the node is cut off (Smb2FrontOptions.quorumLossHoldMs). */
  readonly quorumLossHoldMs: number
  /** SAN mode's direct data IO of this node (the shared storage, under the node's bandwidth cap). */
  readonly direct: DirectIo
  readonly clock: Clock
  readonly log: Logger
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void
  readonly onOperation?: (op: string, seconds: number, outcome: string) => void
}

/** null when the config gives the node no SMB 2/3 port (a config written before the wire front). */
export function nodeSmb2Front(o: NodeSmb2Options): Smb2Front | null {
  if (o.self.smb2Port === undefined) return null
  const { config, router, clock } = o
  const gss = {
    computerName: o.self.id.toUpperCase().slice(0, NETBIOS_NAME_MAX),
    domainName: config.name.toUpperCase().slice(0, NETBIOS_NAME_MAX),
    accounts: accountsOf(o.credentials),
    nowFiletime: () => filetimeFromUnixMs(clock.wallNowMs()),
  }
  const front = new Smb2Front({
    nodeId: o.self.id,
    nodeIds: config.nodes.map((n) => n.id),
    clusterName: config.name,
    shares: router.shares,
    isServing: o.isServing,
    leasePending: o.leasePending,
    servingHoldMs: o.servingHoldMs,
    quorumLossHoldMs: o.quorumLossHoldMs,
    route: (csv, op) => router.route(csv, op),
    endSession: (key, close, user) => router.endSession(key, close, user),
    signingRequired: config.smb2Signing !== 'enabled',
    encryptAll: config.smbEncrypt === true,
    encryptedShares: new Set(config.shares.filter((s) => s.encrypt).map((s) => s.name.toLowerCase())),
    security: smb2Security(),
    newAcceptor: () => spnegoGssAcceptor(gss),
    rpcAuth: rpcAuthConfig(o.credentials, o.self.id, () => clock.wallNowMs()) ?? undefined,
    spnegoInitialToken: SPNEGO_INITIAL_TOKEN,
    // One interface per node, its client address, indexed by the node's place in the cluster;
    // the cluster's other nodes are not listed: a channel must bind to the node with the session.
    networkInterfaces: () => [{ ifIndex: config.nodes.findIndex((n) => n.id === o.self.id) + 1, capabilities: 0, linkSpeedBitsPerSecond: LINK_SPEED_BITS_PER_SECOND, address: o.self.clientAddress }],
    san: { isDirect: (csv) => router.directIo(csv), io: o.direct, isServing: o.isServing },
    clock,
    log: o.log,
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    ...(o.onOperation ? { onOperation: o.onOperation } : {}),
  })
  // Oplocks are granted where their breaks can be sent: to this front's clients.
  router.oplockBreaker = front
  // A client that reconnected elsewhere with a PreviousSessionId of this node ends its session here.
  router.sessionReclaimer = (key, user) => front.sessionReclaimed(key, user)
  return front
}
