// Promise wrappers over a node's admin service, each call bounded by a deadline.
import * as grpc from '@grpc/grpc-js'
import type { NodeConfig } from './config.js'
import type { AdminClient } from '../proto/gen/swlab/admin/v1/Admin.js'
import type { NodeStatus__Output } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import type { FaultReply__Output } from '../proto/gen/swlab/admin/v1/FaultReply.js'
import type { MoveCsvReply__Output } from '../proto/gen/swlab/admin/v1/MoveCsvReply.js'
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
  ) {
    this.metadata = admin ? credentialMetadata(admin) : new grpc.Metadata()
    const { Admin } = loadAdminProto().swlab.admin.v1
    this.client = new Admin(`${node.clusterAddress}:${node.adminPort}`, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 250,
    })
  }

  status(deadlineMs = ADMIN_DEADLINE_MS): Promise<NodeStatus__Output> {
    return new Promise((resolve, reject) =>
      this.client.Status({}, this.metadata, { deadline: Date.now() + deadlineMs }, (err, reply) => (err || !reply ? reject(err) : resolve(reply))),
    )
  }

  setFaults(partitionedFrom: string[], delayMs: Record<string, number>): Promise<FaultReply__Output> {
    return new Promise((resolve, reject) =>
      this.client.SetFaults({ partitionedFrom, delayMs }, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  moveCsv(csv: string, to: string): Promise<MoveCsvReply__Output> {
    return new Promise((resolve, reject) =>
      this.client.MoveCsv({ csv, to }, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  witnessList(filter: WitnessFilter): Promise<WitnessListReply__Output> {
    return new Promise((resolve, reject) =>
      this.client.WitnessList({ filter }, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  witnessAction(request: WitnessActionRequest): Promise<WitnessActionReply__Output> {
    return new Promise((resolve, reject) =>
      this.client.WitnessAction(request, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  addShare(request: { name: string; csv: string; continuouslyAvailable: boolean; caTimeoutMs: number }): Promise<{ ok: boolean; error: string }> {
    return new Promise((resolve, reject) =>
      this.client.AddShare(request, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  setCsvRedirected(csv: string, redirected: boolean): Promise<{ ok: boolean; error: string }> {
    return new Promise((resolve, reject) =>
      this.client.SetCsvRedirected({ csv, redirected }, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err, reply) =>
        err || !reply ? reject(err) : resolve(reply),
      ),
    )
  }

  stop(graceful: boolean): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.Stop({ graceful }, this.metadata, { deadline: Date.now() + ADMIN_DEADLINE_MS }, (err) => (err ? reject(err) : resolve())),
    )
  }

  close(): void {
    this.client.close()
  }
}
