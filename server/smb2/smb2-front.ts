// The SMB 2/3 wire front of one node: a direct TCP listener on the node's client address whose
// connections run the SMB2 request pipeline (smb2-connection) over the same session core and
// CSV routing as the gRPC front. It owns what the connections of the node share: the session
// core, the server GUID, the policy (signing required, encryption), the GSS acceptor factory
// and the cryptography port.
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import { SmbSessionCore } from '../../core/smb/smb-session-core.js'
import { CIPHER_PREFERENCE, type NegotiatePolicy, SIGNING_PREFERENCE } from '../../core/smb2/negotiate-decision.js'
import { filetimeFromUnixMs } from '../../protocol/smb2/filetime.js'
import type { Clock } from '../../runtime/clock.js'
import type { FileIdJson, HandleOp, HandleOpReply, OplockBreaker, ShareInfo } from '../smb/csv-service.js'
import { DEFAULT_SERVER_TYPE, csvShareListing, ipcShareListing, type ShareListing } from '../../core/smb/srvsvc-shares.js'
import { srvsvcRpcInterface } from '../dcerpc/srvsvc-rpc-interface.js'
import { NamedPipeRegistry } from './named-pipe.js'
import type { RpcAuthConfig } from '../dcerpc/rpc-connection.js'
import type { NetworkInterface } from '../../protocol/smb2/fsctl.js'
import { Smb2Connection, type Smb2NodeContext } from './smb2-connection.js'
import { Smb2FileCommands } from './smb2-file-commands.js'
import type { RequestContext } from './smb2-request.js'
import type { Smb2Security } from './smb2-security.js'
import type { GssAcceptor, WireSession, WireTree } from './smb2-state.js'
import { SMB2_LISTENER_LIMITS, type Smb2ListenerLimits, Smb2TcpListener } from './smb2-tcp-listener.js'

export interface Smb2FrontOptions {
  readonly nodeId: string
  /** Names the server GUID together with the node (stable across restarts). */
  readonly clusterName: string
  /** The node's shares (the CSV router's live list: shares added at run time appear). */
  readonly shares: readonly ShareInfo[]
  readonly isServing: () => boolean
  readonly route: (csv: string, op: HandleOp) => Promise<HandleOpReply | 'unavailable'>
  readonly endSession: (sessionKey: string, close: boolean) => Promise<void>
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
}

export class Smb2Front implements OplockBreaker {
  private readonly connections = new Set<Smb2Connection>()
  readonly sessionCore = new SmbSessionCore<ShareInfo>()
  private readonly listener: Smb2TcpListener
  private readonly files: Smb2FileCommands
  private readonly context: Smb2NodeContext
  /** The named pipes of IPC$: srvsvc (NetShareEnumAll, NetShareGetInfo, NetServerGetInfo). */
  readonly pipes: NamedPipeRegistry
  readonly serverGuid: string

  constructor(private readonly opts: Smb2FrontOptions) {
    const log = (event: string, fields: Record<string, unknown>) => opts.log.info({ component: 'smb2', event, ...fields })
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
    this.files = new Smb2FileCommands({ route: opts.route, serverGuid: this.serverGuid, serverStartTime, pipes: this.pipes, networkInterfaces, log })
    const policy: NegotiatePolicy = {
      signingRequired: opts.signingRequired,
      encryptionSupported: (opts.ciphers ?? CIPHER_PREFERENCE).length > 0,
      ciphers: opts.ciphers ?? CIPHER_PREFERENCE,
      signingAlgorithms: opts.signingAlgorithms ?? SIGNING_PREFERENCE,
    }
    const encrypted = opts.encryptedShares ?? new Set<string>()
    const files = this.files
    this.context = {
      nodeId: opts.nodeId,
      serverGuid: this.serverGuid,
      serverStartTime,
      policy,
      security: opts.security,
      sessionCore: this.sessionCore,
      spnegoInitialToken: opts.spnegoInitialToken,
      newAcceptor: opts.newAcceptor,
      nowFiletime: () => filetimeFromUnixMs(opts.clock.wallNowMs()),
      isServing: opts.isServing,
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
      fileCommand: (ctx: RequestContext) => files.handle(ctx, ctx.connection.validate),
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

  async breakOplock(sessionKey: string, fileId: FileIdJson, toLevel: number): Promise<void> {
    for (const c of this.connections) if (c.hasSession(sessionKey)) return c.sendOplockBreak(sessionKey, fileId, toLevel)
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
  }
}

/** A GUID (text) from a name: the same node is the same server to its clients across restarts. */
function guidOf(name: string): string {
  const h = createHash('sha256').update(name).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}
