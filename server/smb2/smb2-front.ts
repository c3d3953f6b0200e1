// The SMB 2/3 wire front of one node: a direct TCP listener on the node's client address whose
// connections run the SMB2 request pipeline (smb2-connection) over the same session core and
// CSV routing as the gRPC front. It owns what the connections of the node share: the session
// core, the server GUID, the policy (signing required, encryption), the GSS acceptor factory
// and the cryptography port.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { SmbSessionCore } from '../../core/smb/smb-session-core.js'
import { CIPHER_PREFERENCE, type NegotiatePolicy, SIGNING_PREFERENCE } from '../../core/smb2/negotiate-decision.js'
import { filetimeFromUnixMs } from '../../protocol/smb2/filetime.js'
import { smb2CommandName } from '../../protocol/smb2/header.js'
import { ntStatusName } from '../../protocol/smb2/ntstatus.js'
import type { Clock } from '../../runtime/clock.js'
import type { FileIdJson, HandleOp, HandleOpReply, OplockBreaker, ShareInfo } from '../smb/csv-service.js'
import type { BreakNotice } from '../../core/smb/oplock-lease-table.js'
import { DEFAULT_SERVER_TYPE, csvShareListing, ipcShareListing, type ShareListing } from '../../core/smb/srvsvc-shares.js'
import { srvsvcRpcInterface } from '../dcerpc/srvsvc-rpc-interface.js'
import { NamedPipeRegistry } from './named-pipe.js'
import type { RpcAuthConfig } from '../dcerpc/rpc-connection.js'
import type { NetworkInterface } from '../../protocol/smb2/fsctl.js'
import { Smb2Connection, type ServingHold, type Smb2NodeContext } from './smb2-connection.js'
import { Smb2FileCommands } from './smb2-file-commands.js'
import type { SanDataPath } from './san-data-path.js'
import type { RequestContext } from './smb2-request.js'
import type { Smb2Security } from './smb2-security.js'
import type { GssAcceptor, WireSession, WireTree } from './smb2-state.js'
import { SMB2_LISTENER_LIMITS, type Smb2ListenerLimits, Smb2TcpListener } from './smb2-tcp-listener.js'

export interface Smb2FrontOptions {
  readonly nodeId: string
  /** The cluster's node ids in config order (default: this node alone); a SessionId carries its node's place here. */
  readonly nodeIds?: readonly string[]
  /** Names the server GUID together with the node (stable across restarts). */
  readonly clusterName: string
  /** The node's shares (the CSV router's live list: shares added at run time appear). */
  readonly shares: readonly ShareInfo[]
  readonly isServing: () => boolean
  /**
   * The node does not serve yet but expects to within a round trip (its lease asked of a
   * leader that counts it up). Its connections then hold what arrives, up to servingHoldMs,
   * and answer it once serving (servingMayHaveChanged), rather than leave it unanswered.
   */
  readonly leasePending?: () => boolean
  /** How long a connection holds requests for a pending lease; 0 (default) holds nothing. */
  readonly servingHoldMs?: number
  /**
   * How long a connection holds requests while the node does not serve and expects no lease
   * (cut off from its leader, or without quorum); 0 (default) holds nothing. The profile's
   * detection period: a node cut off for less than that keeps its CSVs and serves again, and
   * must then answer what came meanwhile (left unanswered, a client whose node came back
   * waited out its 60 s request timeout). Past it the cluster has declared the node down, and
   * the requests stay unanswered: that is the hung node clients without the witness time out on.
   */
  readonly quorumLossHoldMs?: number
  readonly route: (csv: string, op: HandleOp) => Promise<HandleOpReply | 'unavailable'>
  /** With a user: a PreviousSessionId reclaim, which ends only that user's session and opens. */
  readonly endSession: (sessionKey: string, close: boolean, user?: string) => Promise<void>
  /** `smb2 signing: required` (default) or enabled. */
  readonly signingRequired: boolean
  /** `--smb-encrypt`: every session encrypts. */
  readonly encryptAll: boolean
  /** Shares that require encryption (by name, lower case). */
  readonly encryptedShares?: ReadonlySet<string>
  readonly security: Smb2Security
  /** What the security port implements, in preference order. */
  readonly ciphers?: readonly number[]
  readonly signingAlgorithms?: readonly number[]
  readonly newAcceptor: () => GssAcceptor
  /** DCE/RPC authentication on the IPC$ pipes (binds that authenticate; others are served too). */
  readonly rpcAuth?: RpcAuthConfig
  readonly spnegoInitialToken: Buffer
  readonly clock: Clock
  readonly log: Logger
  readonly limits?: Smb2ListenerLimits
  /** The node's client interfaces (FSCTL_QUERY_NETWORK_INTERFACE_INFO); none by default. */
  readonly networkInterfaces?: () => readonly NetworkInterface[]
  /** SAN mode: READ and WRITE go between this node and storage (absent: through the CSV's owner). */
  readonly san?: SanDataPath
  /** Every event the front logs, for the node's metrics (smb2.session.reclaimed...). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void
  /** Each file command answered: its name as the metrics label it ("Write"), seconds, and NTSTATUS name (or "pending", "unavailable"). */
  readonly onOperation?: (op: string, seconds: number, outcome: string) => void
}

/** Connections holding requests for a pending lease at once; more are left unanswered, as before. */
const SERVING_WAITERS_MAX = 1024

export class Smb2Front implements OplockBreaker {
  private readonly connections = new Set<Smb2Connection>()
  private readonly servingWaiters = new Set<(serving: boolean) => void>()
  /** Connections with requests given up on after a hold, told when the node serves again (bounded: SERVING_WAITERS_MAX). */
  private readonly servingAgainWaiters = new Set<() => void>()
  /** The CSV each lease break came from, by ClientGuid/LeaseKey: where its acknowledgment goes. */
  private readonly leaseBreakCsvs = new Map<string, string>()
  readonly sessionCore = new SmbSessionCore<ShareInfo>()
  private readonly listener: Smb2TcpListener
  private readonly files: Smb2FileCommands
  private readonly context: Smb2NodeContext
  /** The named pipes of IPC$: srvsvc (NetShareEnumAll, NetShareGetInfo, NetServerGetInfo). */
  readonly pipes: NamedPipeRegistry
  readonly serverGuid: string

  constructor(private readonly opts: Smb2FrontOptions) {
    const log = (event: string, fields: Record<string, unknown>) => {
      opts.log.info({ component: 'smb2', event, ...fields })
      opts.onEvent?.(event, fields)
    }
    this.serverGuid = guidOf(`${opts.clusterName}/${opts.nodeId}`)
    const serverStartTime = filetimeFromUnixMs(opts.clock.wallNowMs())
    this.pipes = new NamedPipeRegistry(log)
    const encryptedShares = opts.encryptedShares ?? new Set<string>()
    const listing = (): ShareListing[] => [
      ...opts.shares.map((s) => csvShareListing({ name: s.name, csv: s.csv, scaleOut: s.scaleOut !== false, continuouslyAvailable: s.continuouslyAvailable, encryptData: opts.encryptAll || encryptedShares.has(s.name.toLowerCase()) })),
      ipcShareListing(),
    ]
    const server = { name: opts.clusterName.toUpperCase(), comment: `${opts.clusterName} scale-out file server (${opts.nodeId})`, versionMajor: 10, versionMinor: 0, type: DEFAULT_SERVER_TYPE }
    this.pipes.register({ name: 'srvsvc', interfaces: [srvsvcRpcInterface({ shares: listing, server: () => server, log })], ...(opts.rpcAuth ? { auth: opts.rpcAuth } : {}) })
    const networkInterfaces = opts.networkInterfaces ?? (() => [])
    this.files = new Smb2FileCommands({
      route: opts.route,
      serverGuid: this.serverGuid,
      serverStartTime,
      pipes: this.pipes,
      networkInterfaces,
      log,
      leaseBreakCsv: (clientGuid, leaseKey) => this.leaseBreakCsvs.get(`${clientGuid.toLowerCase()}/${leaseKey}`) ?? null,
      ...(opts.san ? { san: opts.san } : {}),
    })
    const policy: NegotiatePolicy = {
      signingRequired: opts.signingRequired,
      encryptionSupported: (opts.ciphers ?? CIPHER_PREFERENCE).length > 0,
      ciphers: opts.ciphers ?? CIPHER_PREFERENCE,
      signingAlgorithms: opts.signingAlgorithms ?? SIGNING_PREFERENCE,
    }
    const encrypted = opts.encryptedShares ?? new Set<string>()
    const files = this.files
    const nodeIds = opts.nodeIds ?? [opts.nodeId]
    assert.ok(nodeIds.includes(opts.nodeId), 'the node is one of the cluster')
    this.context = {
      nodeId: opts.nodeId,
      nodeIndex: nodeIds.indexOf(opts.nodeId) + 1,
      nodeIds,
      serverGuid: this.serverGuid,
      serverStartTime,
      policy,
      security: opts.security,
      sessionCore: this.sessionCore,
      spnegoInitialToken: opts.spnegoInitialToken,
      newAcceptor: opts.newAcceptor,
      nowFiletime: () => filetimeFromUnixMs(opts.clock.wallNowMs()),
      isServing: opts.isServing,
      awaitServing: () => this.awaitServing(),
      onServingAgain: (then) => this.onServingAgain(then),
      shares: () => opts.shares,
      encryptAll: opts.encryptAll,
      shareEncrypts: (share) => encrypted.has(share.name.toLowerCase()),
      findSession: (sessionId: bigint) => {
        for (const c of this.connections) {
          const session = c.sessionById(sessionId)
          if (session) return session
        }
        return null
      },
      endSession: opts.endSession,
      fileCommand: async (ctx: RequestContext) => {
        const startedMs = opts.clock.nowMs()
        const reply = await files.handle(ctx, ctx.connection.validate)
        opts.onOperation?.(operationLabel(ctx.header.command), (opts.clock.nowMs() - startedMs) / 1000, reply.kind === 'reply' ? ntStatusName(reply.status) : reply.kind)
        return reply
      },
      treeClosed: (session: WireSession, tree: WireTree) => files.treeClosed(session, tree),
      sessionLost: (session: WireSession) => files.sessionLost(session),
      log,
    }
    this.listener = this.newListener()
  }

  /** A listener whose connections run this front's pipeline (the node's address, or a role's). */
  private newListener(): Smb2TcpListener {
    const log = (event: string, fields: Record<string, unknown>) => this.opts.log.info({ component: 'smb2', event, ...fields })
    return new Smb2TcpListener(
      (transport) => {
        const connection = new Smb2Connection(this.context, transport)
        this.connections.add(connection)
        return {
          receive: (frame) => connection.receive(frame),
          inFlightBytes: () => connection.inFlightBytes(),
          negotiated: () => connection.negotiated(),
          outstandingRequests: () => connection.outstandingRequests(),
          end: () => {
            this.connections.delete(connection)
            connection.end()
          },
        }
      },
      log,
      this.opts.limits ?? SMB2_LISTENER_LIMITS,
    )
  }

  /**
   * Serves the same front on another address too: a general-use role's client access point,
   * opened while this node owns the role. close() drops the listener and its connections, as a
   * Windows node's connections to an IP address that moves away end.
   */
  async listenAlso(address: string, port: number): Promise<{ readonly port: number; close(): void }> {
    const listener = this.newListener()
    try {
      const bound = await listener.listen(address, port)
      return { port: bound, close: () => listener.close() }
    } catch (err) {
      listener.close()
      throw err
    }
  }

  /** Oplocks are granted to sessions of this node's connections: their breaks can be delivered. */
  canBreak(sessionKey: string): boolean {
    for (const c of this.connections) if (c.hasSession(sessionKey)) return true
    return false
  }

  breakOplock(sessionKey: string, fileId: FileIdJson, toLevel: number): void {
    for (const c of this.connections) if (c.hasSession(sessionKey)) return c.sendOplockBreak(sessionKey, fileId, toLevel)
  }

  /**
   * A client that reconnected to another node named a session of this node as its
   * PreviousSessionId (3.3.5.5.3): the session ends here if it is that user's, so a request on it
   * is answered USER_SESSION_DELETED, as on the node where it is reclaimed. Its opens were
   * preserved or closed by their owners, told by the same fan-out.
   */
  sessionReclaimed(sessionKey: string, user: string): void {
    if (!this.sessionCore.endSessionOf(sessionKey, user)) return
    this.opts.log.info({ component: 'smb2', event: 'smb2.session.reclaimed-elsewhere', session: sessionKey })
  }

  /** A lease break goes to one connection of the client holding it (MS-SMB2 3.3.4.7). */
  breakLease(csv: string, sessionKeys: readonly string[], notice: Extract<BreakNotice, { kind: 'lease' }>): void {
    const id = `${notice.clientGuid.toLowerCase()}/${notice.key}`
    // Bounded: the oldest entries go first (Map keeps insertion order).
    this.leaseBreakCsvs.delete(id)
    this.leaseBreakCsvs.set(id, csv)
    while (this.leaseBreakCsvs.size > LEASE_BREAK_CSVS_MAX) this.leaseBreakCsvs.delete(this.leaseBreakCsvs.keys().next().value as string)
    for (const key of sessionKeys) for (const c of this.connections) if (c.hasSession(key)) return c.sendLeaseBreak(key, notice)
  }

  /** Binds address:port (0: a free one); resolves with the port. */
  listen(address: string, port: number): Promise<number> {
    return this.listener.listen(address, port)
  }

  get port(): number {
    return this.listener.port
  }

  counts(): { connections: number; sessions: number; trees: number } {
    return this.sessionCore.counts()
  }

  close(): void {
    this.listener.close()
    this.pipes.closeAll()
    for (const done of [...this.servingWaiters]) done(false)
    this.servingAgainWaiters.clear()
  }

  /** The node may serve now: the connections holding requests for it go on. */
  servingMayHaveChanged(): void {
    if ((this.servingWaiters.size === 0 && this.servingAgainWaiters.size === 0) || !this.opts.isServing()) return
    for (const done of [...this.servingWaiters]) done(true)
    const again = [...this.servingAgainWaiters]
    this.servingAgainWaiters.clear()
    for (const then of again) then()
  }

  /** Calls then once, when the node serves again; false when too many wait already. */
  private onServingAgain(then: () => void): boolean {
    if (this.servingAgainWaiters.size >= SERVING_WAITERS_MAX) return false
    this.servingAgainWaiters.add(then)
    return true
  }

  /**
   * Resolves true once the node serves, false after the hold (servingHoldMs while its lease is
   * pending, quorumLossHoldMs otherwise); null when it holds nothing.
   */
  private awaitServing(): ServingHold | null {
    const leasePending = this.opts.leasePending?.() ?? false
    const holdMs = (leasePending ? this.opts.servingHoldMs : this.opts.quorumLossHoldMs) ?? 0
    if (holdMs <= 0 || this.servingWaiters.size >= SERVING_WAITERS_MAX) return null
    const serving = new Promise<boolean>((resolve) => {
      const done = (serving: boolean): void => {
        clearTimeout(timer)
        this.servingWaiters.delete(done)
        resolve(serving)
      }
      const timer = setTimeout(() => done(this.opts.isServing()), holdMs)
      this.servingWaiters.add(done)
    })
    return { serving, leasePending }
  }
}

/** Lease breaks whose CSV this front remembers for their acknowledgments. */
const LEASE_BREAK_CSVS_MAX = 16_384

/** A GUID (text) from a name: the same node is the same server to its clients across restarts. */
function guidOf(name: string): string {
  const h = createHash('sha256').update(name).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** "QueryInfo" for QUERY_INFO: the operation labels the node's metrics have always used. */
function operationLabel(command: number): string {
  return smb2CommandName(command)
    .toLowerCase()
    .replace(/(^|_)([a-z0-9])/g, (_m: string, _sep: string, c: string) => c.toUpperCase())
}
