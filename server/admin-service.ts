// The admin service of one node (gRPC, on the cluster address): status, injected faults, CSV
// moves, redirected access and snapshots, shares added at run time, the witness admin actions
// (in the spirit of Samba's `net witness`) and stop. Every call needs the admin credential.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { ROLE_NAME, isLoopback, type ClusterConfig } from '../cluster/config.js'
import { authenticate, type ClusterCredentials } from '../cluster/credentials.js'
import type { NodeId } from '../core/quorum/types.js'
import type { RegistrationFilter } from '../core/witness/witness-core.js'
import type { AdminHandlers } from '../proto/gen/swlab/admin/v1/Admin.js'
import type { CsvSnapshotReply } from '../proto/gen/swlab/admin/v1/CsvSnapshotReply.js'
import type { NodeStatus } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import type { WitnessFilter__Output } from '../proto/gen/swlab/admin/v1/WitnessFilter.js'
import type { Clock } from '../runtime/clock.js'
import type { CsvRouter } from './csv-router.js'
import { CsvSnapshotLocks } from './csv-snapshot-locks.js'
import type { PeerTransport } from './peer-transport.js'
import type { QuorumShell } from './quorum-shell.js'
import type { RoleAccessPoints } from './role-access-points.js'
import type { WitnessHost } from './swn/witness-host.js'

const JOB_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/

export interface AdminServiceOptions {
  readonly config: ClusterConfig
  readonly selfId: NodeId
  readonly credentials: ClusterCredentials | null
  readonly quorum: Pick<QuorumShell, 'readout' | 'ownerOf' | 'moveCsv' | 'leaveGracefully'>
  readonly router: Pick<CsvRouter, 'setRedirected' | 'addShare' | 'setFilesFrozen'>
  readonly witness: Pick<WitnessHost, 'list' | 'administer' | 'addShare'>
  /** The general-use roles' access points of this node. */
  readonly roles: Pick<RoleAccessPoints, 'add'>
  readonly transport: Pick<PeerTransport, 'setFaults' | 'faults'>
  readonly status: () => NodeStatus
  readonly clock: Clock
  readonly log: Logger
  /** The process should exit now (a stop that is not graceful). */
  readonly exit: (code: number) => void
}

export function adminHandlers(opts: AdminServiceOptions): AdminHandlers {
  const { config, selfId, quorum, router, witness, log } = opts
  /** Snapshot coordination for the CSVs this node owns (in memory: lost with the owner). */
  const snapshotLocks = new CsvSnapshotLocks()
  const handlers: AdminHandlers = {
    Status: (_call, callback) => callback(null, opts.status()),
    SetCsvRedirected: (call, callback) => {
      const changed = router.setRedirected(call.request.csv, call.request.redirected)
      callback(null, changed.ok ? { ok: true, error: '' } : { ok: false, error: changed.error })
    },
    SetCsvFilesFrozen: (call, callback) => {
      const { csv, frozen, holdMs } = call.request
      router.setFilesFrozen(csv, frozen, holdMs).then(
        (r) => callback(null, r),
        (err: Error) => callback(null, { ok: false, error: err.message, released: 0 }),
      )
    },
    CsvSnapshot: (call, callback) => {
      const { csv, jobId, action, mode } = call.request
      const answer = (fields: Partial<CsvSnapshotReply>) =>
        callback(null, { ok: true, error: '', granted: false, holder: '', reason: '', redirect: false, redirectOver: false, node: selfId, ...fields })
      if (!config.csvs.includes(csv)) return answer({ ok: false, error: `unknown CSV ${csv}` })
      if (mode !== 'legacy' && mode !== 'direct') return answer({ ok: false, error: `snapshot mode must be legacy or direct, not ${JSON.stringify(mode)}` })
      if (!JOB_ID_PATTERN.test(jobId)) return answer({ ok: false, error: `bad job id ${JSON.stringify(jobId)}` })
      const nowMs = opts.clock.nowMs()
      // The owner coordinates snapshots of its CSV (seed 004); ask it, not any node.
      if (!quorum.readout.servingCsvs(nowMs).includes(csv)) {
        const owner = quorum.ownerOf(csv)
        return answer({ ok: false, error: `${selfId} does not own ${csv}${owner ? `; ${owner} does` : ''}` })
      }
      if (action === 'begin') {
        const r = snapshotLocks.begin(csv, jobId, mode, nowMs)
        log.info({ component: 'csv', event: r.granted ? 'csv.snapshot.granted' : 'csv.snapshot.wait', csv, job: jobId, mode, holder: r.granted ? null : r.holder })
        return r.granted ? answer({ granted: true, redirect: r.redirect }) : answer({ granted: false, holder: r.holder, reason: r.reason })
      }
      if (action === 'end') {
        const r = snapshotLocks.end(csv, jobId)
        log.info({ component: 'csv', event: 'csv.snapshot.ended', csv, job: jobId, released: r.released })
        return answer({ redirectOver: r.redirectOver })
      }
      answer({ ok: false, error: `action must be begin or end, not ${JSON.stringify(action)}` })
    },
    AddShare: (call, callback) => {
      const r = call.request
      const general = r.kind === 'general'
      if (!general && r.kind !== '' && r.kind !== 'scale-out') return callback(null, { ok: false, error: `share kind must be scale-out or general, not ${JSON.stringify(r.kind)}` })
      if (general && (!ROLE_NAME.test(r.roleName) || !isLoopback(r.roleAddress) || r.roleSmb2Port < 1 || r.roleSmb2Port > 65535)) {
        return callback(null, { ok: false, error: `a general share needs a role name, a loopback address and a port (got ${JSON.stringify([r.roleName, r.roleAddress, r.roleSmb2Port])})` })
      }
      const added = router.addShare({ name: r.name, csv: r.csv, continuouslyAvailable: r.continuouslyAvailable, caTimeoutMs: r.caTimeoutMs, scaleOut: !general })
      if (!added.ok) return callback(null, { ok: false, error: added.error })
      const role = general ? { name: r.roleName, address: r.roleAddress } : undefined
      opts.witness.addShare({ name: r.name, csv: r.csv, ...(role ? { role } : {}) })
      const online = general ? opts.roles.add({ ...role!, smb2Port: r.roleSmb2Port, csv: r.csv }) : { ok: true as const }
      callback(null, online.ok ? { ok: true, error: '' } : { ok: false, error: online.error })
    },
    WitnessList: (call, callback) => {
      const listed = witness.list(toFilter(call.request.filter, true))
      if ('error' in listed) return callback(null, { ok: false, error: listed.error, registrations: [] })
      callback(null, {
        ok: true,
        error: '',
        registrations: listed.map((r) => ({ ...r, keepAliveTimeout: r.keepAliveTimeoutS, node: selfId })),
      })
    },
    WitnessAction: (call, callback) => {
      const r = call.request
      const filter = toFilter(r.filter, false)
      const destination = r.newIp !== '' ? { ip: r.newIp } : { nodeId: r.newNode }
      let result
      switch (r.action) {
        case 'client-move':
          result = witness.administer((core, nowMs) => core.clientMove(filter, destination, nowMs))
          break
        case 'share-move':
          result = witness.administer((core, nowMs) => core.shareMove(filter, destination, nowMs))
          break
        case 'force-unregister':
          result = witness.administer((core) => core.forceUnregister(filter))
          break
        case 'force-response': {
          const response = {
            result: r.result,
            messageType: r.messageType === 0 ? undefined : r.messageType,
            resourceChanges: r.resourceChanges.map((c) => ({ changeType: c.changeType, resourceName: c.resourceName })),
            ipAddresses: r.ipAddresses.map((a) => ({ flags: a.flags, ipv4: a.ipv4, ipv6: a.ipv6 })),
          }
          result = witness.administer((core, nowMs) => core.forceResponse(filter, response, nowMs))
          break
        }
        default:
          return callback(null, { ok: false, error: `unknown witness action ${JSON.stringify(r.action)}`, affected: 0 })
      }
      callback(null, result.ok ? { ok: true, error: '', affected: result.affected } : { ok: false, error: result.error, affected: 0 })
    },
    SetFaults: (call, callback) => {
      const known = new Set(config.nodes.map((n) => n.id))
      const unknown = [...call.request.partitionedFrom, ...Object.keys(call.request.delayMs)].filter((id) => !known.has(id))
      if (unknown.length > 0) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: `unknown node id ${unknown[0]}` })
        return
      }
      opts.transport.setFaults({ partitionedFrom: call.request.partitionedFrom, delayMs: call.request.delayMs })
      const faults = opts.transport.faults()
      callback(null, { partitionedFrom: [...faults.partitionedFrom], delayMs: { ...faults.delayMs } })
    },
    MoveCsv: (call, callback) => {
      const r = quorum.moveCsv(call.request.csv, call.request.to)
      callback(null, r.ok ? { ok: true, error: '', leaderId: r.leaderId } : { ok: false, error: r.error, leaderId: r.leaderId })
    },
    Stop: (call, callback) => {
      callback(null, { ok: true })
      if (!call.request.graceful) {
        setImmediate(() => opts.exit(0))
        return
      }
      quorum.leaveGracefully()
    },
  }
  return requireAdmin(opts.credentials, handlers)
}

/** Every admin call needs the cluster's admin credential. */
function requireAdmin(credentials: ClusterCredentials | null, handlers: AdminHandlers): AdminHandlers {
  const guarded: Record<string, unknown> = {}
  for (const [name, handler] of Object.entries(handlers)) {
    guarded[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const principal = authenticate(credentials, call.metadata)
      if (!principal) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'admin calls need the admin credential' })
      if (!principal.admin) return callback({ code: grpc.status.PERMISSION_DENIED, details: `${principal.user} is not the admin` })
      ;(handler as (c: unknown, cb: unknown) => void)(call, callback)
    }
  }
  return guarded as unknown as AdminHandlers
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
