// One cluster node process: wires the quorum core to its gRPC peer and admin services, the
// hard-state file, the quorum witness and the logger. The core decides; this shell only
// reads the monotonic clock, moves bytes and runs timers.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { join } from 'node:path'
import type { ClusterConfig, NodeConfig } from '../cluster/config.js'
import { QuorumNode } from '../core/quorum/quorum.js'
import type { Input, NodeId, Output } from '../core/quorum/types.js'
import { PROFILES, timingOf } from '../core/quorum/profiles.js'
import type { QuorumWitnessStore } from '../cluster/witness/quorum-witness.js'
import type { AdminHandlers } from '../proto/gen/swlab/admin/v1/Admin.js'
import type { NodeStatus } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import type { PeerHandlers } from '../proto/gen/swlab/peer/v1/Peer.js'
import { loadAdminProto, loadPeerProto } from '../proto/loader.js'
import { readHardState, writeHardState } from './hard-state-store.js'
import { authenticate, readCredentials, type ClusterCredentials } from '../cluster/credentials.js'
import { loadWitnessProto } from '../proto/loader.js'
import type { View } from '../core/quorum/types.js'
import { isUp } from '../core/quorum/view.js'
import type { RegistrationFilter } from '../core/witness/witness-core.js'
import { WitnessHost } from './swn/witness-host.js'
import { WitnessGrpcFront } from './swn/witness-grpc-front.js'
import { CsvService, CsvServiceClosed, type HandleOp, type HandleOpReply, type ShareInfo } from './smb/csv-service.js'
import { SmbFront } from './smb/smb-front.js'
import { TokenBucket } from './smb/token-bucket.js'
import { DirectIo } from './smb/direct-io.js'
import { decodeHandleMessage, encodeHandleMessage } from './smb/handle-op-codec.js'
import { loadCbtProto, loadSmbProto } from '../proto/loader.js'
import type { VendorCbtHandlers } from '../proto/gen/swlab/cbt/v1/VendorCbt.js'
import { openCbtFilter, saveCbtFilter } from './smb/cbt-filter-store.js'
import { CsvSnapshotLocks } from './csv-snapshot-locks.js'
import { instrumentUnaryHandlers, NodeMetrics } from './node-metrics.js'
import { RpcTcpServer } from './dcerpc/rpc-tcp-server.js'
import { epmRpcInterface, witnessRpcInterface } from './dcerpc/witness-rpc-interface.js'
import { WITNESS_INTERFACE } from '../protocol/dcerpc/witness-ndr.js'

/** The endpoint mapper's well-known port. */
const EPM_PORT = 135
import type { CsvSnapshotReply } from '../proto/gen/swlab/admin/v1/CsvSnapshotReply.js'
import { randomBytes } from 'node:crypto'
import type { WitnessFilter__Output } from '../proto/gen/swlab/admin/v1/WitnessFilter.js'
import { envelopeFromProto, viewToProto } from './peer-codec.js'
import { PeerTransport } from './peer-transport.js'
import { systemClock } from '../runtime/clock.js'

/** Ticks per heartbeat interval: lease expiry and elections are noticed within this resolution. */
const TICKS_PER_INTERVAL = 10

/** How often preserved opens are checked for expiry (the durable open scavenger). */
const SCAVENGE_INTERVAL_MS = 1000

/** Largest gRPC message of the data path: 8 MiB of data, base64-encoded when forwarded. */
export const MESSAGE_BYTES_MAX = 16 * 1024 * 1024

/** Deadline of a handle operation forwarded to a CSV owner. */
const FORWARD_DEADLINE_MS = 10_000

export interface NodeProcessOptions {
  readonly config: ClusterConfig
  readonly nodeId: NodeId
  readonly log: Logger
  readonly witness: QuorumWitnessStore | null
  /** Called when the process should exit (graceful stop finished, or a fatal error). */
  readonly exit: (code: number) => void
}

type MoveWaiter = (result: Extract<Output, { kind: 'move-result' }>) => void

export class NodeProcess {
  readonly self: NodeConfig
  /** The one real clock of the process; every part reads the time through it. */
  private readonly clock = systemClock()
  private readonly core: QuorumNode
  private readonly transport: PeerTransport
  private readonly hardStatePath: string
  /** Forwarded and client IO carries up to 8 MiB of data (base64 on the peer wire). */
  private readonly peerServer = new grpc.Server({ 'grpc.max_receive_message_length': MESSAGE_BYTES_MAX })
  private readonly adminServer = new grpc.Server()
  private readonly witnessServer = new grpc.Server()
  private readonly smbServer = new grpc.Server({ 'grpc.max_receive_message_length': MESSAGE_BYTES_MAX })
  private readonly smb: SmbFront
  /** Shared with the SMB front and the CSV services, which see shares added at run time. */
  private readonly shares: ShareInfo[]
  private readonly csvServices = new Map<string, CsvService>()
  private scavenger: NodeJS.Timeout | undefined
  private readonly bandwidth: TokenBucket | null
  private readonly direct: DirectIo
  /** CSVs in redirected access: all their IO goes via the owner, also in SAN mode. */
  private readonly redirected = new Set<string>()
  private readonly credentials: ClusterCredentials | null
  private readonly dcerpcServer: RpcTcpServer
  private readonly metrics: NodeMetrics
  private readonly epmServer: RpcTcpServer | null
  /** Snapshot coordination for the CSVs this node owns (in memory: lost with the owner). */
  private readonly snapshotLocks = new CsvSnapshotLocks()
  private readonly witness: WitnessHost
  private witnessView: View | null = null
  private ticker: NodeJS.Timeout | undefined
  private witnessInFlight = false
  private moveWaiter: MoveWaiter | null = null
  private leaveTimer: NodeJS.Timeout | undefined
  private readonly startedMs = this.clock.nowMs()

  constructor(private readonly opts: NodeProcessOptions) {
    const { config, nodeId } = opts
    const self = config.nodes.find((n) => n.id === nodeId)
    if (!self) throw new Error(`node ${nodeId} is not in the cluster config`)
    this.self = self
    const timing = timingOf(PROFILES[config.profile])
    this.hardStatePath = join(config.dir, 'nodes', nodeId, 'hardstate.json')
    this.core = new QuorumNode(
      {
        selfId: nodeId,
        nodeIds: config.nodes.map((n) => n.id),
        csvNames: config.csvs,
        timing,
        witnessConfigured: config.witness.kind !== 'none',
      },
      this.clock.nowMs(),
      readHardState(this.hardStatePath),
    )
    this.credentials = readCredentials(config.dir)
    this.metrics = new NodeMetrics(nodeId, () => this.witness.registrationCount())
    this.witness = new WitnessHost({
      nodeId,
      serverGlobalName: config.name,
      profile: config.witnessProfile,
      shares: config.shares,
      nodes: config.nodes,
      isServing: () => this.core.isServing(this.clock.nowMs()),
      clock: this.clock,
      log: opts.log,
      onEvent: (event, fields) => this.metrics.observe(event, fields),
    })
    // The witness on the real wire (DCE/RPC, NDR20), a second front over the same host.
    const rpcLog = (event: string, fields: Record<string, unknown>) => opts.log.info({ component: 'dcerpc', event, ...fields })
    const witnessRpc = witnessRpcInterface({ host: this.witness, log: rpcLog })
    this.dcerpcServer = new RpcTcpServer([witnessRpc], rpcLog)
    this.epmServer = config.epm
      ? new RpcTcpServer(
          [epmRpcInterface(() => (self.dcerpcPort ? [{ interfaceUuid: WITNESS_INTERFACE.uuid, versionMajor: 1, versionMinor: 1, ipv4: self.clientAddress, port: self.dcerpcPort }] : []))],
          rpcLog,
        )
      : null
    this.bandwidth = config.ioBandwidthBytesPerSecond > 0 ? new TokenBucket(config.ioBandwidthBytesPerSecond, () => this.clock.nowMs()) : null
    this.direct = new DirectIo(join(config.dir, 'storage'), this.bandwidth)
    this.shares = config.shares.map((s) => ({ name: s.name, csv: s.csv, continuouslyAvailable: s.ca ?? true, caTimeoutMs: s.caTimeoutMs ?? 0 }))
    this.smb = new SmbFront({
      onEvent: (event, fields) => this.metrics.observe(event, fields),
      nodeId,
      shares: this.shares,
      credentials: this.credentials,
      log: opts.log,
      isServing: () => this.core.isServing(this.clock.nowMs()),
      route: (csv, op) => this.route(csv, op),
      endSession: (key, close) => this.endSession(key, close),
      // SAN: data IO direct from every node, unless the CSV is in redirected access.
      directIo: (csv) => config.csvMode === 'san' && !this.redirected.has(csv),
      direct: this.direct,
    })
    this.transport = new PeerTransport(
      config.nodes.filter((n) => n.id !== nodeId),
      timing.heartbeatIntervalMs,
      (peer, attemptMs) => this.input({ kind: 'peer-refused', nowMs: this.clock.nowMs(), peerId: peer, attemptMs }),
      opts.log,
    )
  }

  /** Binds both services; rejects with a one-line reason (e.g. the port is in use). */
  async start(): Promise<void> {
    const { Peer } = loadPeerProto().swlab.peer.v1
    const { Admin } = loadAdminProto().swlab.admin.v1
    const { Witness } = loadWitnessProto().swlab.witness.v1
    const { Smb } = loadSmbProto().swlab.smb.v1
    this.smbServer.addService(Smb.service, instrumentUnaryHandlers(this.smb.handlers(), this.clock, (op, s, outcome) => this.metrics.smbOperation(op, s, outcome)))
    this.smbServer.addService(loadCbtProto().swlab.cbt.v1.VendorCbt.service, this.cbtHandlers())
    this.peerServer.addService(Peer.service, this.peerHandlers())
    this.adminServer.addService(Admin.service, this.adminHandlers())
    this.witnessServer.addService(Witness.service, new WitnessGrpcFront(this.witness, this.credentials).handlers())
    await bind(this.peerServer, this.self.clusterAddress, this.self.peerPort)
    await bind(this.adminServer, this.self.clusterAddress, this.self.adminPort)
    await bind(this.witnessServer, this.self.clientAddress, this.self.witnessPort)
    await bind(this.smbServer, this.self.clientAddress, this.self.smbPort)
    if (this.self.dcerpcPort) await this.dcerpcServer.listen(this.self.clientAddress, this.self.dcerpcPort)
    if (this.epmServer) await this.epmServer.listen(this.self.clientAddress, EPM_PORT)
    if (this.self.metricsPort) await this.metrics.listen(this.self.clientAddress, this.self.metricsPort)
    this.scavenger = setInterval(() => {
      for (const service of this.csvServices.values()) service.scavenge(this.clock.nowMs())
    }, SCAVENGE_INTERVAL_MS)
    this.witness.start()
    const intervalMs = PROFILES[this.opts.config.profile].heartbeatIntervalMs
    this.ticker = setInterval(() => this.input({ kind: 'tick', nowMs: this.clock.nowMs() }), intervalMs / TICKS_PER_INTERVAL)
    this.opts.log.info({
      component: 'node',
      event: 'node.started',
      clientAddress: this.self.clientAddress,
      clusterAddress: this.self.clusterAddress,
      peerPort: this.self.peerPort,
      adminPort: this.self.adminPort,
      profile: this.opts.config.profile,
      term: this.core.term,
      epoch: this.core.committed.epoch,
    })
    this.input({ kind: 'tick', nowMs: this.clock.nowMs() })
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker)
    this.witness.stop()
    clearInterval(this.scavenger)
    this.bandwidth?.close()
    await this.direct.close()
    this.smbServer.forceShutdown()
    // A graceful stop keeps each CBT filter for this node's next start (a crash loses it).
    for (const [csv, service] of this.csvServices) {
      if (!service.filter) continue
      saveCbtFilter(join(this.opts.config.dir, 'storage'), csv, service.filter)
      this.opts.log.info({ component: 'cbt', event: 'cbt.filter.saved', csv, instance: service.filter.instanceId })
    }
    await Promise.allSettled([...this.csvServices.values()].map((s) => s.close()))
    clearTimeout(this.leaveTimer)
    this.witnessServer.forceShutdown()
    this.dcerpcServer.close()
    this.metrics.close()
    this.epmServer?.close()
    this.transport.close()
    this.peerServer.forceShutdown()
    this.adminServer.forceShutdown()
    await this.opts.witness?.close()
  }

  private input(input: Input): Output[] {
    const outputs = this.core.step(input)
    for (const out of outputs) this.apply(out)
    this.maybeUpdateWitness()
    this.syncCsvServices()
    return outputs
  }

  /**
   * Keeps one CSV service per CSV this node serves: a CSV it starts serving loads the
   * persistent opens left on the CSV; one it stops serving drops its in-memory state.
   */
  private syncCsvServices(): void {
    const now = this.clock.nowMs()
    const serving = new Set(this.core.servingCsvs(now))
    for (const [csv, service] of this.csvServices) {
      if (serving.has(csv)) continue
      this.csvServices.delete(csv)
      void service.close()
      this.opts.log.info({ component: 'smb', event: 'csv.service.stopped', csv })
    }
    for (const csv of serving) {
      if (this.csvServices.has(csv)) continue
      const shares = this.shares.filter((s) => s.csv === csv)
      // A session lives on its node (the key's prefix): alive while that node is up.
      const sessionAlive = (key: string) => this.core.committed.members.some((m) => m.state === 'up' && key.startsWith(`${m.id}/`))
      const mayServe = () => this.core.servingCsvs(this.clock.nowMs()).includes(csv)
      const storageDir = join(this.opts.config.dir, 'storage')
      // The vendor's CBT filter exists only on a Microsoft file server (seed 000).
      const cbt = this.opts.config.flavour === 'microsoft' ? openCbtFilter(storageDir, csv, this.self.id) : null
      if (cbt) this.opts.log.info({ component: 'cbt', event: 'cbt.filter.started', csv, instance: cbt.filter.instanceId, restored: cbt.restored })
      const service = new CsvService(storageDir, csv, shares, this.opts.log, newFileIds, now, this.bandwidth, sessionAlive, mayServe, cbt?.filter ?? null)
      this.csvServices.set(csv, service)
      this.opts.log.info({ component: 'smb', event: 'csv.service.started', csv, preservedOpens: service.openCount() })
    }
  }

  /** Runs a handle operation where the CSV is served: here, or on its owner (S2D). */
  private async route(csv: string, op: HandleOp): Promise<HandleOpReply | 'unavailable'> {
    const owner = this.core.committed.csvs.find((c) => c.name === csv)?.owner ?? ''
    if (owner === '') return 'unavailable'
    if (owner === this.self.id) {
      const service = this.csvServices.get(csv)
      if (!service) return 'unavailable'
      try {
        return await service.execute(op)
      } catch (err) {
        if (err instanceof CsvServiceClosed) return 'unavailable'
        throw err
      }
    }
    return (await this.transport.forward(owner, this.self.id, csv, op, FORWARD_DEADLINE_MS)) as HandleOpReply | 'unavailable'
  }

  private async endSession(sessionKey: string, close: boolean): Promise<void> {
    this.endSessionLocally(sessionKey, close)
    // A node the view holds down serves nothing, and its sessions' opens were disconnected when
    // it went down: waiting for its answer would only add a call deadline to a failover.
    const peers = this.opts.config.nodes.filter((n) => n.id !== this.self.id && isUp(this.core.committed, n.id))
    await Promise.all(peers.map((n) => this.transport.endSession(n.id, sessionKey, close)))
  }

  private endSessionLocally(sessionKey: string, close: boolean): void {
    for (const service of this.csvServices.values()) {
      if (close) service.closeSession(sessionKey)
      else service.disconnectSession(sessionKey, this.clock.nowMs())
    }
  }

  /** Tells the witness service about each newly committed view (node states, CSV owners). */
  private maybeUpdateWitness(): void {
    const view = this.core.committed
    if (view === this.witnessView) return
    // The sessions a dead node served are gone: preserve their durable opens here.
    const before = this.witnessView
    for (const m of view.members) {
      const was = before?.members.find((x) => x.id === m.id)
      if (m.state === 'down' && was?.state === 'up') {
        for (const service of this.csvServices.values()) service.disconnectNode(m.id, this.clock.nowMs())
      }
    }
    this.witnessView = view
    this.witness.viewCommitted(view)
  }

  private apply(out: Output): void {
    switch (out.kind) {
      case 'persist':
        writeHardState(this.hardStatePath, out.hardState)
        break
      case 'send':
        this.transport.send(out.envelope)
        break
      case 'witness-acquire':
        this.acquireWitness(out)
        break
      case 'event':
        this.opts.log.info({ component: componentOf(out.event), event: out.event, ...out.fields })
        this.metrics.observe(out.event, out.fields)
        if (out.event === 'node.leave.complete') this.finishLeave('leave committed')
        break
      case 'move-result':
        this.moveWaiter?.(out)
        break
    }
  }

  private acquireWitness(req: Extract<Output, { kind: 'witness-acquire' }>): void {
    const witness = this.opts.witness
    // One request at a time: the core asks again every interval anyway.
    if (!witness || this.witnessInFlight) return
    this.witnessInFlight = true
    const { sentAtMs, viewTerm, epoch } = req
    witness
      .acquire(this.self.id, req.durationMs, req.term, { viewTerm, epoch })
      .then((result) => {
        if (result.error) this.opts.log.warn({ component: 'witness', event: 'witness.error', error: result.error })
        this.input({
          kind: 'witness-result',
          nowMs: this.clock.nowMs(),
          granted: result.granted,
          sentAtMs,
          viewTerm,
          epoch,
          holder: result.holder,
        })
      })
      .catch((err: unknown) => {
        this.opts.log.warn({ component: 'witness', event: 'witness.error', error: String(err) })
      })
      .finally(() => {
        this.witnessInFlight = false
      })
  }

  private peerHandlers(): PeerHandlers {
    return {
      SmbForward: (call, callback) => {
        const { csv, payload } = call.request
        let op: HandleOp
        try {
          op = decodeHandleMessage(payload) as HandleOp
        } catch {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: 'malformed forwarded operation' })
          return
        }
        if (this.transport.isPartitioned(call.request.from)) return
        const service = this.csvServices.get(csv)
        if (!service || !this.core.servingCsvs(this.clock.nowMs()).includes(csv)) {
          callback({ code: grpc.status.UNAVAILABLE, details: `${this.self.id} does not serve ${csv}` })
          return
        }
        service
          .execute(op)
          .then((reply) => callback(null, { payload: encodeHandleMessage(reply) }))
          .catch((err: Error) =>
            callback({ code: err instanceof CsvServiceClosed ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL, details: err.message }),
          )
      },
      SmbDisconnect: (call, callback) => {
        callback(null, {})
        this.endSessionLocally(call.request.sessionKey, call.request.close)
      },
      Deliver: (call, callback) => {
        callback(null, {})
        const envelope = envelopeFromProto(call.request)
        if (!envelope || envelope.to !== this.self.id) return
        if (this.transport.isPartitioned(envelope.from)) return
        const delayMs = this.transport.delayOf(envelope.from)
        const deliver = () => {
          if (!this.transport.isPartitioned(envelope.from)) this.input({ kind: 'receive', nowMs: this.clock.nowMs(), envelope })
        }
        if (delayMs > 0) setTimeout(deliver, delayMs)
        else deliver()
      },
    }
  }

  private adminHandlers(): AdminHandlers {
    const handlers: AdminHandlers = {
      Status: (_call, callback) => callback(null, this.status()),
      SetCsvRedirected: (call, callback) => {
        const { csv, redirected } = call.request
        if (!this.opts.config.csvs.includes(csv)) return callback(null, { ok: false, error: `unknown CSV ${csv}` })
        if (redirected) this.redirected.add(csv)
        else this.redirected.delete(csv)
        this.opts.log.info({ component: 'smb', event: redirected ? 'csv.redirected' : 'csv.direct', csv })
        callback(null, { ok: true, error: '' })
      },
      CsvSnapshot: (call, callback) => {
        const { csv, jobId, action, mode } = call.request
        const answer = (fields: Partial<CsvSnapshotReply>) =>
          callback(null, { ok: true, error: '', granted: false, holder: '', reason: '', redirect: false, redirectOver: false, node: this.self.id, ...fields })
        if (!this.opts.config.csvs.includes(csv)) return answer({ ok: false, error: `unknown CSV ${csv}` })
        if (mode !== 'legacy' && mode !== 'direct') return answer({ ok: false, error: `snapshot mode must be legacy or direct, not ${JSON.stringify(mode)}` })
        if (!/^[A-Za-z0-9._:-]{1,128}$/.test(jobId)) return answer({ ok: false, error: `bad job id ${JSON.stringify(jobId)}` })
        // The owner coordinates snapshots of its CSV (seed 004); ask it, not any node.
        if (!this.core.servingCsvs(this.clock.nowMs()).includes(csv)) {
          const owner = this.core.committed.csvs.find((c) => c.name === csv)?.owner ?? ''
          return answer({ ok: false, error: `${this.self.id} does not own ${csv}${owner ? `; ${owner} does` : ''}` })
        }
        if (action === 'begin') {
          const r = this.snapshotLocks.begin(csv, jobId, mode, this.clock.nowMs())
          this.opts.log.info({ component: 'csv', event: r.granted ? 'csv.snapshot.granted' : 'csv.snapshot.wait', csv, job: jobId, mode, holder: r.granted ? null : r.holder })
          return r.granted ? answer({ granted: true, redirect: r.redirect }) : answer({ granted: false, holder: r.holder, reason: r.reason })
        }
        if (action === 'end') {
          const r = this.snapshotLocks.end(csv, jobId)
          this.opts.log.info({ component: 'csv', event: 'csv.snapshot.ended', csv, job: jobId, released: r.released })
          return answer({ redirectOver: r.redirectOver })
        }
        answer({ ok: false, error: `action must be begin or end, not ${JSON.stringify(action)}` })
      },
      AddShare: (call, callback) => {
        const r = call.request
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(r.name)) return callback(null, { ok: false, error: `bad share name ${JSON.stringify(r.name)}` })
        if (!this.opts.config.csvs.includes(r.csv)) return callback(null, { ok: false, error: `unknown CSV ${r.csv}` })
        if (this.shares.some((s) => s.name.toLowerCase() === r.name.toLowerCase())) return callback(null, { ok: false, error: `share ${r.name} exists` })
        const share: ShareInfo = { name: r.name, csv: r.csv, continuouslyAvailable: r.continuouslyAvailable, caTimeoutMs: r.caTimeoutMs }
        this.shares.push(share)
        this.csvServices.get(r.csv)?.addShare(share)
        this.opts.log.info({ component: 'smb', event: 'smb.share.added', share: r.name, csv: r.csv, ca: r.continuouslyAvailable })
        callback(null, { ok: true, error: '' })
      },
      WitnessList: (call, callback) => {
        const listed = this.witness.list(toFilter(call.request.filter, true))
        if ('error' in listed) return callback(null, { ok: false, error: listed.error, registrations: [] })
        callback(null, {
          ok: true,
          error: '',
          registrations: listed.map((r) => ({ ...r, keepAliveTimeout: r.keepAliveTimeoutS, node: this.self.id })),
        })
      },
      WitnessAction: (call, callback) => {
        const r = call.request
        const filter = toFilter(r.filter, false)
        const destination = r.newIp !== '' ? { ip: r.newIp } : { nodeId: r.newNode }
        let result
        switch (r.action) {
          case 'client-move':
            result = this.witness.administer((core, nowMs) => core.clientMove(filter, destination, nowMs))
            break
          case 'share-move':
            result = this.witness.administer((core, nowMs) => core.shareMove(filter, destination, nowMs))
            break
          case 'force-unregister':
            result = this.witness.administer((core) => core.forceUnregister(filter))
            break
          case 'force-response': {
            const response = {
              result: r.result,
              messageType: r.messageType === 0 ? undefined : r.messageType,
              resourceChanges: r.resourceChanges.map((c) => ({ changeType: c.changeType, resourceName: c.resourceName })),
              ipAddresses: r.ipAddresses.map((a) => ({ flags: a.flags, ipv4: a.ipv4, ipv6: a.ipv6 })),
            }
            result = this.witness.administer((core, nowMs) => core.forceResponse(filter, response, nowMs))
            break
          }
          default:
            return callback(null, { ok: false, error: `unknown witness action ${JSON.stringify(r.action)}`, affected: 0 })
        }
        callback(null, result.ok ? { ok: true, error: '', affected: result.affected } : { ok: false, error: result.error, affected: 0 })
      },
      SetFaults: (call, callback) => {
        const known = new Set(this.opts.config.nodes.map((n) => n.id))
        const unknown = [...call.request.partitionedFrom, ...Object.keys(call.request.delayMs)].filter((id) => !known.has(id))
        if (unknown.length > 0) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: `unknown node id ${unknown[0]}` })
          return
        }
        this.transport.setFaults({ partitionedFrom: call.request.partitionedFrom, delayMs: call.request.delayMs })
        const faults = this.transport.faults()
        callback(null, { partitionedFrom: [...faults.partitionedFrom], delayMs: { ...faults.delayMs } })
      },
      MoveCsv: (call, callback) => {
        let result: Extract<Output, { kind: 'move-result' }> | null = null
        this.moveWaiter = (r) => {
          result = r
        }
        try {
          this.input({ kind: 'move-csv', nowMs: this.clock.nowMs(), csv: call.request.csv, to: call.request.to })
        } finally {
          this.moveWaiter = null
        }
        const r = result as Extract<Output, { kind: 'move-result' }> | null
        callback(null, r ? { ok: r.ok, error: r.error, leaderId: r.leaderId } : { ok: false, error: 'no result', leaderId: '' })
      },
      Stop: (call, callback) => {
        callback(null, { ok: true })
        if (!call.request.graceful) {
          setImmediate(() => this.opts.exit(0))
          return
        }
        this.leaveGracefully()
      },
    }
    return this.requireAdmin(handlers)
  }

  /** Every admin call needs the cluster's admin credential. */
  private requireAdmin(handlers: AdminHandlers): AdminHandlers {
    const guarded: Record<string, unknown> = {}
    for (const [name, handler] of Object.entries(handlers)) {
      guarded[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const principal = authenticate(this.credentials, call.metadata)
        if (!principal) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'admin calls need the admin credential' })
        if (!principal.admin) return callback({ code: grpc.status.PERMISSION_DENIED, details: `${principal.user} is not the admin` })
        ;(handler as (c: unknown, cb: unknown) => void)(call, callback)
      }
    }
    return guarded as unknown as AdminHandlers
  }

  /** Gives up the vote and hands CSVs over, then exits; bounded in time if there is no quorum. */
  /** The vendor CBT filter's query service: answered by the node that serves the file's CSV. */
  private cbtHandlers(): VendorCbtHandlers {
    return {
      Changes: (call, callback) => {
        const fail = (error: string) => callback(null, { ok: false, error, node: this.self.id })
        if (!authenticate(this.credentials, call.metadata)) {
          callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad or missing credentials' })
          return
        }
        const { share, path, sinceId } = call.request
        const info = this.shares.find((s) => s.name.toLowerCase() === share.toLowerCase())
        if (!info) return fail(`no share ${share}`)
        const service = this.csvServices.get(info.csv)
        if (!service || !this.core.servingCsvs(this.clock.nowMs()).includes(info.csv)) {
          const owner = this.core.committed.csvs.find((c) => c.name === info.csv)?.owner ?? ''
          return fail(`${this.self.id} does not serve ${info.csv}${owner ? `; ${owner} does` : ''}`)
        }
        service
          .cbtChanges(info.name, path, sinceId)
          .then((r) => {
            if (!r.ok) return fail(r.error)
            this.opts.log.info({ component: 'cbt', event: 'cbt.changes', csv: info.csv, path, sinceId, referenceId: r.referenceId, changedBytes: r.changedBytes })
            callback(null, { ok: true, error: '', referenceId: r.referenceId, node: this.self.id, ranges: r.ranges, fileBytes: r.fileBytes, changedBytes: r.changedBytes })
          })
          .catch((err: Error) => fail(err instanceof CsvServiceClosed ? `${info.csv} moved away during the query` : err.message))
      },
    }
  }

  leaveGracefully(): void {
    if (this.leaveTimer) return
    const { detectionMs } = timingOf(PROFILES[this.opts.config.profile])
    this.leaveTimer = setTimeout(() => this.finishLeave('leave timed out'), 3 * detectionMs)
    this.input({ kind: 'leave', nowMs: this.clock.nowMs() })
  }

  private finishLeave(reason: string): void {
    this.opts.log.info({ component: 'node', event: 'node.stopping', reason })
    // Let the heartbeats that carry the committed leave go out before the process ends.
    setTimeout(() => this.opts.exit(0), 50)
  }

  status(): NodeStatus {
    const now = this.clock.nowMs()
    const core = this.core
    const faults = this.transport.faults()
    return {
      id: this.self.id,
      pid: process.pid,
      role: core.role,
      term: core.term,
      leaderId: core.leaderId,
      committed: viewToProto(core.committed),
      quorum: core.hasQuorum(now),
      serving: core.isServing(now),
      leaseRemainingMs: Math.max(0, Number.isFinite(core.leaseExpiryMs) ? core.leaseExpiryMs - now : 0),
      servingCsvs: core.servingCsvs(now),
      peers: core.peers().map((p) => ({
        id: p.id,
        reachability: faults.partitionedFrom.includes(p.id)
          ? 'partitioned'
          : p.refused
            ? 'refused'
            : now - p.lastHeardMs > timingOf(PROFILES[this.opts.config.profile]).detectionMs
              ? 'silent'
              : 'ok',
        lastHeardAgoMs: Number.isFinite(p.lastHeardMs) ? now - p.lastHeardMs : -1,
        delayMs: faults.delayMs[p.id] ?? 0,
        partitioned: faults.partitionedFrom.includes(p.id),
      })),
      clientAddress: this.self.clientAddress,
      clusterAddress: this.self.clusterAddress,
      peerPort: this.self.peerPort,
      adminPort: this.self.adminPort,
      profile: this.opts.config.profile,
      uptimeMs: now - this.startedMs,
      witnessHolder: core.witnessHolder(now),
      witnessKind: this.opts.config.witness.kind,
      leaving: core.leaving,
      witnessAddress: this.self.clientAddress,
      witnessPort: this.self.witnessPort,
      witnessProfile: this.opts.config.witnessProfile,
      witnessRegistrations: this.witness.registrationCount(),
      redirectedCsvs: [...this.redirected].sort(),
    }
  }
}

function newFileIds(): { persistent: string; volatile: string } {
  return { persistent: randomBytes(8).toString('hex'), volatile: randomBytes(8).toString('hex') }
}

function toFilter(f: WitnessFilter__Output | null, listAllByDefault: boolean): RegistrationFilter {
  if (!f) return { applyToAll: listAllByDefault }
  const filter: RegistrationFilter = {
    registrationId: f.registrationId,
    netName: f.netName,
    shareName: f.shareName,
    ipAddress: f.ipAddress,
    clientComputerName: f.clientComputerName,
  }
  const any = Object.values(filter).some((v) => v !== undefined)
  return { ...filter, applyToAll: f.applyToAll || (listAllByDefault && !any) }
}

function componentOf(event: string): string {
  const prefix = event.split('.')[0]
  return prefix === 'view' || prefix === 'csv' || prefix === 'lease' || prefix === 'witness' ? prefix : 'quorum'
}

function bind(server: grpc.Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (!err) return resolve()
      const inUse = /EADDRINUSE|address already in use/i.test(err.message)
      reject(new Error(inUse ? `port in use: ${address}:${port}` : `cannot listen on ${address}:${port}: ${err.message}`))
    })
  })
}
