// One node's status as the admin service reports it (cluster status, the dashboard, tests):
// its quorum state, how it hears each peer, its addresses and what it serves.
import type { ClusterConfig, NodeConfig } from '../cluster/config.js'
import type { NodeStatus } from '../proto/gen/swlab/admin/v1/NodeStatus.js'
import { viewToProto } from './peer-codec.js'
import type { PeerFaults } from './peer-transport.js'
import type { QuorumReadout } from './quorum-shell.js'

export interface NodeStatusInputs {
  readonly config: ClusterConfig
  readonly self: NodeConfig
  readonly quorum: QuorumReadout
  /** A peer not heard from for longer than this is reported silent. */
  readonly detectionMs: number
  readonly faults: PeerFaults
  readonly witnessRegistrations: number
  readonly redirectedCsvs: readonly string[]
  readonly startedMs: number
  readonly nowMs: number
}

export function nodeStatus(i: NodeStatusInputs): NodeStatus {
  const { quorum: core, faults, nowMs: now, self, config } = i
  return {
    id: self.id,
    pid: process.pid,
    role: core.role,
    term: core.term,
    leaderId: core.leaderId,
    committed: viewToProto(core.committed),
    quorum: core.hasQuorum(now),
    serving: core.isServing(now),
    leaseRemainingMs: Math.max(0, Number.isFinite(core.leaseExpiryMs) ? core.leaseExpiryMs - now : 0),
    servingCsvs: [...core.servingCsvs(now)],
    peers: core.peers().map((p) => ({
      id: p.id,
      reachability: faults.partitionedFrom.includes(p.id) ? 'partitioned' : p.refused ? 'refused' : now - p.lastHeardMs > i.detectionMs ? 'silent' : 'ok',
      lastHeardAgoMs: Number.isFinite(p.lastHeardMs) ? now - p.lastHeardMs : -1,
      delayMs: faults.delayMs[p.id] ?? 0,
      partitioned: faults.partitionedFrom.includes(p.id),
    })),
    clientAddress: self.clientAddress,
    clusterAddress: self.clusterAddress,
    peerPort: self.peerPort,
    adminPort: self.adminPort,
    profile: config.profile,
    uptimeMs: now - i.startedMs,
    witnessHolder: core.witnessHolder(now),
    witnessKind: config.witness.kind,
    leaving: core.leaving,
    witnessAddress: self.clientAddress,
    witnessPort: self.witnessPort,
    witnessProfile: config.witnessProfile,
    witnessRegistrations: i.witnessRegistrations,
    redirectedCsvs: [...i.redirectedCsvs],
  }
}
