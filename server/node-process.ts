// One cluster node process, as a composition root: it creates the real clock and wires the
// parts, each with one job — the quorum shell, the peer transport, the witness host with its
// gRPC and DCE/RPC fronts, the CSV router under the SMB 2/3 wire front, the admin and CBT
// services and the metrics — to their listening sockets. It decides nothing itself.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { join } from 'node:path'
import type { ClusterConfig, NodeConfig } from '../cluster/config.js'
import { readCredentials, type ClusterCredentials } from '../cluster/credentials.js'
import type { QuorumWitnessStore } from '../cluster/witness/quorum-witness.js'
import { PROFILES, timingOf } from '../core/quorum/profiles.js'
import type { NodeId } from '../core/quorum/types.js'
import type { NodeStatus } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import { loadAdminProto, loadCbtProto, loadPeerProto, loadWitnessProto } from '../proto/loader.js'
import { WITNESS_INTERFACE } from '../protocol/dcerpc/witness-ndr.js'
import { systemClock } from '../runtime/clock.js'
import { adminHandlers } from './admin-service.js'
import { cbtHandlers } from './cbt-service.js'
import { CsvRouter } from './csv-router.js'
import { RpcTcpServer } from './dcerpc/rpc-tcp-server.js'
import { rpcAuthConfig } from './dcerpc/rpc-auth-config.js'
import { clusapiRpcInterface } from './dcerpc/clusapi-rpc-interface.js'
import { ClusapiPeerFanOut } from './dcerpc/clusapi-peer-fanout.js'
import { ClusterResources } from '../core/clusapi/cluster-resources.js'
import { epmRpcInterface, witnessRpcInterface } from './dcerpc/witness-rpc-interface.js'
import { bindGrpc, bindGrpcUnix } from './grpc-listen.js'
import { adminSocketPath, peerLinkAddress } from '../cluster/net-fault-rules.js'
import { NodeMetrics } from './node-metrics.js'
import { nodeStatus } from './node-status.js'
import { PEER_MESSAGE_BYTES_MAX, PeerTransport } from './peer-transport.js'
import { QuorumShell } from './quorum-shell.js'
import { RoleAccessPoints } from './role-access-points.js'
import { FencedStorage } from './smb/fenced-storage.js'
import { StorageArrayClient } from '../runtime/storage-array-client.js'
import { DirectIo } from './smb/direct-io.js'
import { nodeSmb2Front } from './smb2/node-smb2-front.js'
import type { Smb2Front } from './smb2/smb2-front.js'
import { TokenBucket } from './smb/token-bucket.js'
import { WitnessGrpcFront, witnessServiceDefinition } from './swn/witness-grpc-front.js'
import { WitnessHost } from './swn/witness-host.js'

/** The endpoint mapper's well-known port. */
const EPM_PORT = 135

/** Largest gRPC message of the data path: 8 MiB of data and its framing, as forwarded between nodes. */
export const MESSAGE_BYTES_MAX = PEER_MESSAGE_BYTES_MAX

export interface NodeProcessOptions {
  readonly config: ClusterConfig
  readonly nodeId: NodeId
  readonly log: Logger
  readonly witness: QuorumWitnessStore | null
  /** Heartbeats as gRPC calls instead of UDP datagrams (SWLAB_HEARTBEATS=grpc: the old way, for comparisons). */
  readonly grpcHeartbeats?: boolean
  /** Called when the process should exit (graceful stop finished, or a fatal error). */
  readonly exit: (code: number) => void
}

export class NodeProcess {
  readonly self: NodeConfig
  /** The one real clock of the process; every part reads the time through it. */
  private readonly clock = systemClock()
  private readonly startedMs = this.clock.nowMs()
  private readonly credentials: ClusterCredentials | null
  private readonly metrics: NodeMetrics
  private readonly quorum: QuorumShell
  private readonly transport: PeerTransport
  private readonly witness: WitnessHost
  private readonly router: CsvRouter
  private readonly bandwidth: TokenBucket | null
  private readonly direct: DirectIo
  /** The storage array's client and this node's reservations; null without an array in the config. */
  private readonly arrayClient: StorageArrayClient | null
  private readonly fenced: FencedStorage | null
  /** SMB 2/3 on the real wire; null when the config gives the node no port for it. */
  private readonly smb2: Smb2Front | null
  /** Listeners on the addresses of the general-use roles this node owns. */
  private readonly roles: RoleAccessPoints
  private readonly dcerpcServer: RpcTcpServer
  private readonly clusapiFanOut: ClusapiPeerFanOut
  private readonly epmServer: RpcTcpServer | null
  private readonly peerServer = new grpc.Server({ 'grpc.max_receive_message_length': MESSAGE_BYTES_MAX })
  private readonly adminServer = new grpc.Server()
  private readonly witnessServer = new grpc.Server()
  /** The vendor CBT service (gRPC), on the port the gRPC SMB front had (NodeConfig.smbPort). */
  private readonly cbtServer = new grpc.Server()

  constructor(private readonly opts: NodeProcessOptions) {
    const { config, nodeId, log } = opts
    const clock = this.clock
    const self = config.nodes.find((n) => n.id === nodeId)
    if (!self) throw new Error(`node ${nodeId} is not in the cluster config`)
    this.self = self
    this.credentials = readCredentials(config.dir)
    const onEvent = (event: string, fields: Record<string, unknown>) => this.metrics.observe(event, fields)
    const isServing = () => this.quorum.readout.isServing(clock.nowMs())
    this.metrics = new NodeMetrics(nodeId, () => this.witness.registrationCount(), () => this.transport.datagramStats())
    this.transport = new PeerTransport({
      selfId: nodeId,
      peers: config.nodes.filter((n) => n.id !== nodeId),
      // In a namespaced cluster each pair has a link address of its own, so that the harness's
      // nftables rules can cut one direction between two nodes (cluster/net-fault-rules.ts).
      ...(config.network ? { peerTarget: (peer: NodeConfig) => `${peerLinkAddress(config.nodes, nodeId, peer.id)}:${peer.peerPort}` } : {}),
      callDeadlineMs: PROFILES[config.profile].heartbeatIntervalMs,
      onRefused: (peer, attemptMs) => this.quorum.peerRefused(peer, attemptMs),
      clock,
      log,
    })
    this.quorum = new QuorumShell({
      config,
      selfId: nodeId,
      hardStatePath: join(config.dir, 'nodes', nodeId, 'hardstate.json'),
      send: (envelope) => this.transport.send(envelope),
      witness: opts.witness,
      listener: {
        viewCommitted: (before, view) => {
          this.router.viewCommitted(before, view)
          this.roles.sync()
          // The heartbeats that carry this view to the other nodes were just handed to the
          // transport; grpc-js writes them on a later turn of the event loop. The witness's
          // fan-out (thousands of AsyncNotify replies) runs after they have left, so every node
          // learns the view one round trip after the commit, not after this node's fan-out.
          setImmediate(() => this.witness.viewCommitted(view))
        },
        stepped: () => {
          this.router.sync()
          // Requests held for a pending lease go on once it is granted.
          this.smb2?.servingMayHaveChanged()
          // A role's address follows its CSV: opened when this node serves it, closed the moment it does not.
          this.roles.sync()
        },
      },
      clock,
      log,
      onEvent,
      exit: opts.exit,
    })
    const { name: serverGlobalName, witnessProfile: profile, shares, nodes } = config
    const keepAliveTimeoutMaxS = config.witnessKeepAliveMaxS
    this.witness = new WitnessHost({ nodeId, serverGlobalName, profile, shares, nodes, isServing, clock, log, onEvent, ...(keepAliveTimeoutMaxS !== undefined ? { keepAliveTimeoutMaxS } : {}) })
    // The witness on the real wire (DCE/RPC, NDR20), a second front over the same host.
    const rpcLog = (event: string, fields: Record<string, unknown>) => log.info({ component: 'dcerpc', event, ...fields })
    const rpcAuth = rpcAuthConfig(this.credentials, nodeId, () => clock.wallNowMs()) ?? undefined
    const allowAnonymous = config.witnessAllowAnonymous === true
    // The cluster API (MS-CMRP) on the same port, for clients that move resources (smbtorture rpc.witness).
    const clusterResources = new ClusterResources({ netName: serverGlobalName, nodes, selfId: nodeId })
    const adminUser = this.credentials?.admin.user
    this.clusapiFanOut = new ClusapiPeerFanOut(nodeId, config.nodes, this.credentials?.admin, log)
    const clusapi = clusapiRpcInterface({ resources: clusterResources, witness: this.witness, isAdmin: (principal) => principal === adminUser, log: rpcLog, fanOut: (forced) => this.clusapiFanOut.fanOut(forced) })
    const rpcInterfaces = [witnessRpcInterface({ host: this.witness, log: rpcLog, allowAnonymous }), clusapi]
    this.dcerpcServer = new RpcTcpServer(rpcInterfaces, rpcLog, rpcAuth)
    const epmTargets = () => (self.dcerpcPort ? [{ interfaceUuid: WITNESS_INTERFACE.uuid, versionMajor: 1, versionMinor: 1, ipv4: self.clientAddress, port: self.dcerpcPort }] : [])
    this.epmServer = config.epm ? new RpcTcpServer([epmRpcInterface(epmTargets)], rpcLog) : null
    this.bandwidth = config.ioBandwidthBytesPerSecond > 0 ? new TokenBucket(config.ioBandwidthBytesPerSecond, () => clock.nowMs()) : null
    this.arrayClient = config.storageArray ? new StorageArrayClient(config.storageArray.socket, nodeId) : null
    this.fenced = this.arrayClient ? new FencedStorage(this.arrayClient, config.csvs, config.nodes.indexOf(self), log, isServing) : null
    this.direct = new DirectIo(join(config.dir, 'storage'), this.bandwidth, this.fenced)
    this.router = new CsvRouter({ config, selfId: nodeId, quorum: this.quorum, transport: this.transport, bandwidth: this.bandwidth, fenced: this.fenced, clock, log })
    this.router.releaseDirect = (csv) => this.direct.releaseCsv(csv)
    const { router, credentials } = this
    const onOperation = (op: string, seconds: number, outcome: string) => this.metrics.smbOperation(op, seconds, outcome)
    const leasePending = () => this.quorum.readout.leasePending(clock.nowMs())
    // A lease a round trip away comes within an interval even if the request was lost (the next heartbeat asks again).
    const servingHoldMs = PROFILES[config.profile].heartbeatIntervalMs
    const quorumLossHoldMs = timingOf(PROFILES[config.profile]).detectionMs
    this.smb2 = nodeSmb2Front({ config, self, router, credentials, isServing, leasePending, servingHoldMs, quorumLossHoldMs, direct: this.direct, clock, log, onEvent, onOperation })
    const smb2 = this.smb2
    // A role's address carries what a Windows node serves on every address it holds: SMB, and
    // the witness (DCE/RPC, at this node's witness port), where a client connected to the role
    // asks GetInterfaceList first (MS-SWN 3.2.4.1).
    const listenOnRole = async (address: string, port: number) => {
      if (!smb2) throw new Error('this node serves no SMB 2/3')
      const smbListener = await smb2.listenAlso(address, port)
      if (!self.dcerpcPort) return smbListener
      const rpc = new RpcTcpServer(rpcInterfaces, rpcLog, rpcAuth)
      try {
        await rpc.listen(address, self.dcerpcPort)
      } catch (err) {
        rpc.close()
        smbListener.close()
        throw err
      }
      return { close: () => (smbListener.close(), rpc.close()) }
    }
    this.roles = new RoleAccessPoints({
      listen: listenOnRole,
      servingCsvs: () => this.quorum.readout.servingCsvs(clock.nowMs()),
      log,
    })
    for (const s of config.shares) if (s.role) this.roles.add({ name: s.role.name, address: s.role.address, smb2Port: s.role.smb2Port, csv: s.csv })
  }

  /** Binds every service; rejects with a one-line reason (e.g. the port is in use). */
  async start(): Promise<void> {
    const { self, clock } = this
    const { config, log, exit } = this.opts
    const { credentials, quorum, router, transport } = this
    const admin = adminHandlers({ config, selfId: self.id, credentials, quorum, router, witness: this.witness, roles: this.roles, transport, status: () => this.status(), clock, log, exit })
    // Peers' traffic: quorum envelopes to the shell, forwarded operations and session ends to the router.
    const peer = transport.handlers({
      receive: (envelope) => quorum.receive(envelope),
      decodeForwarded: (payload) => router.decodeForwarded(payload),
      serveForwarded: (csv, op) => router.serveForwarded(csv, op),
      sessionEnded: (sessionKey, close, user) => router.sessionEnded(sessionKey, close, user),
    })
    this.cbtServer.addService(loadCbtProto().swlab.cbt.v1.VendorCbt.service, cbtHandlers({ selfId: self.id, router, credentials, log }))
    this.peerServer.addService(loadPeerProto().swlab.peer.v1.Peer.service, peer)
    this.adminServer.addService(loadAdminProto().swlab.admin.v1.Admin.service, admin)
    const witnessService = loadWitnessProto().swlab.witness.v1.Witness.service
    const encodeAsyncNotify = witnessService.AsyncNotify.responseSerialize as (reply: unknown) => Buffer
    const witnessFront = new WitnessGrpcFront(this.witness, credentials, encodeAsyncNotify)
    this.witnessServer.addService(witnessServiceDefinition(witnessService), witnessFront.handlers())
    await bindGrpc(this.peerServer, self.clusterAddress, self.peerPort)
    await bindGrpc(this.adminServer, self.clusterAddress, self.adminPort)
    if (!this.opts.grpcHeartbeats) {
      // Heartbeats on UDP at the peer port's number, on the addresses the peer service has (in a
      // namespace, each pair's link address, so that the harness's rules cut them with the rest).
      const others = config.nodes.filter((n) => n.id !== self.id)
      await transport.useDatagrams({
        port: self.peerPort,
        listenAddresses: [self.clusterAddress, ...(config.network ? others.map((p) => peerLinkAddress(config.nodes, p.id, self.id)) : [])],
        targetOf: (id) => {
          const peer = others.find((n) => n.id === id) as NodeConfig
          return { address: config.network ? peerLinkAddress(config.nodes, self.id, id) : peer.clusterAddress, port: peer.peerPort }
        },
      })
    }
    if (config.network) {
      for (const peer of config.nodes) if (peer.id !== self.id) await bindGrpc(this.peerServer, peerLinkAddress(config.nodes, peer.id, self.id), self.peerPort)
      // The harness reaches the admin service from outside the namespace through this socket
      // (a path in the file system, not an address of the namespace); no rule ever cuts it.
      await bindGrpcUnix(this.adminServer, adminSocketPath(config.dir, self.id))
    }
    await bindGrpc(this.witnessServer, self.clientAddress, self.witnessPort)
    await bindGrpc(this.cbtServer, self.clientAddress, self.smbPort)
    if (self.dcerpcPort) await this.dcerpcServer.listen(self.clientAddress, self.dcerpcPort)
    if (this.smb2 && self.smb2Port !== undefined) await this.smb2.listen(self.clientAddress, self.smb2Port)
    if (this.epmServer) await this.epmServer.listen(self.clientAddress, EPM_PORT)
    if (self.metricsPort) await this.metrics.listen(self.clientAddress, self.metricsPort)
    // Registered on every LUN before this node serves a CSV (SCSI-3 PR: a node that is not
    // registered cannot write under the reservation): a CSV's take-over waits for it, the quorum
    // does not (joining the cluster does not need the storage).
    this.fenced?.register('start').catch((err: Error) => log.error({ component: 'array', event: 'array.register.failed', error: err.message }))
    this.router.start()
    this.witness.start()
    const { clientAddress, clusterAddress, peerPort, adminPort } = self
    const { term, committed } = this.quorum.readout
    log.info({ component: 'node', event: 'node.started', clientAddress, clusterAddress, peerPort, adminPort, profile: config.profile, term, epoch: committed.epoch })
    this.quorum.start()
  }

  async stop(): Promise<void> {
    this.clusapiFanOut.close()
    this.quorum.stop()
    this.witness.stop()
    this.bandwidth?.close()
    await this.direct.close()
    this.cbtServer.forceShutdown()
    this.roles.close()
    this.smb2?.close()
    await this.router.stop()
    this.arrayClient?.close()
    this.witnessServer.forceShutdown()
    this.dcerpcServer.close()
    this.metrics.close()
    this.epmServer?.close()
    this.transport.close()
    this.peerServer.forceShutdown()
    this.adminServer.forceShutdown()
    await this.opts.witness?.close()
  }

  /** Gives up the vote and hands CSVs over, then exits; bounded in time if there is no quorum. */
  leaveGracefully(): void {
    this.quorum.leaveGracefully()
  }

  status(): NodeStatus {
    return nodeStatus({
      config: this.opts.config,
      self: this.self,
      quorum: this.quorum.readout,
      detectionMs: this.quorum.detectionMs,
      faults: this.transport.faults(),
      witnessRegistrations: this.witness.registrationCount(),
      redirectedCsvs: this.router.redirectedCsvs(),
      startedMs: this.startedMs,
      nowMs: this.clock.nowMs(),
    })
  }

}
