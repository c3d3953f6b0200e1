// Promise wrappers over a node's admin service, each call bounded by a deadline.
import * as grpc from '@grpc/grpc-js'
import type { NodeConfig } from './config.js'
import type { AdminClient } from '../proto/gen/swlab/admin/v1/Admin.js'
import type { NodeStatus__Output } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import type { FaultReply__Output } from '../proto/gen/swlab/admin/v1/FaultReply.js'
import type { MoveCsvReply__Output } from '../proto/gen/swlab/admin/v1/MoveCsvReply.js'
import type { CsvSnapshotReply__Output } from '../proto/gen/swlab/admin/v1/CsvSnapshotReply.js'
import { loadAdminProto } from '../proto/loader.js'
import type { WitnessFilter } from '../proto/gen/swlab/admin/v1/WitnessFilter.js'
import type { WitnessListReply__Output } from '../proto/gen/swlab/admin/v1/WitnessListReply.js'
import type { WitnessActionRequest } from '../proto/gen/swlab/admin/v1/WitnessActionRequest.js'
import type { WitnessActionReply__Output } from '../proto/gen/swlab/admin/v1/WitnessActionReply.js'
import { credentialMetadata, type Credential } from './credentials.js'

export const ADMIN_DEADLINE_MS = 1000

export class NodeAdmin {
  private readonly client: AdminClient

  private readonly metadata: grpc.Metadata

  constructor(
    readonly node: NodeConfig,
    admin: Credential | null,
    /** Where to dial (default: the node's cluster address and admin port); `unix:<path>` for a namespaced cluster. */
    target = `${node.clusterAddress}:${node.adminPort}`,
  ) {
    this.metadata = admin ? credentialMetadata(admin) : new grpc.Metadata()
    const { Admin } = loadAdminProto().swlab.admin.v1
    this.client = new Admin(target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 250,
    })
  }

  status(deadlineMs = ADMIN_DEADLINE_MS): Promise<NodeStatus__Output> {
    return this.unary('Status', {}, deadlineMs)
  }

  setFaults(partitionedFrom: string[], delayMs: Record<string, number>): Promise<FaultReply__Output> {
    return this.unary('SetFaults', { partitionedFrom, delayMs })
  }

  moveCsv(csv: string, to: string): Promise<MoveCsvReply__Output> {
    return this.unary('MoveCsv', { csv, to })
  }

  witnessList(filter: WitnessFilter): Promise<WitnessListReply__Output> {
    return this.unary('WitnessList', { filter })
  }

  witnessAction(request: WitnessActionRequest): Promise<WitnessActionReply__Output> {
    return this.unary('WitnessAction', request)
  }

  addShare(request: {
    name: string
    csv: string
    continuouslyAvailable: boolean
    caTimeoutMs: number
    kind?: string
    roleName?: string
    roleAddress?: string
    roleSmb2Port?: number
  }): Promise<{ ok: boolean; error: string }> {
    return this.unary('AddShare', request)
  }

  setCsvRedirected(csv: string, redirected: boolean): Promise<{ ok: boolean; error: string }> {
    return this.unary('SetCsvRedirected', { csv, redirected })
  }

  setCsvFilesFrozen(csv: string, frozen: boolean, holdMs: number): Promise<{ ok: boolean; error: string; released: number }> {
    return this.unary('SetCsvFilesFrozen', { csv, frozen, holdMs })
  }

  csvSnapshot(request: { csv: string; jobId: string; action: 'begin' | 'end'; mode: string }): Promise<CsvSnapshotReply__Output> {
    return this.unary('CsvSnapshot', request)
  }

  async stop(graceful: boolean): Promise<void> {
    await this.unary('Stop', { graceful })
  }

  /** One admin call with the admin credential and a deadline; a missing reply is an error. */
  private unary<T>(method: string, request: object, deadlineMs = ADMIN_DEADLINE_MS): Promise<T> {
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client)
    return new Promise((resolve, reject) =>
      fn(request, this.metadata, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: T | undefined) =>
        err || reply === undefined ? reject(err ?? new Error(`${method}: no reply`)) : resolve(reply),
      ),
    )
  }

  close(): void {
    this.client.close()
  }
}
