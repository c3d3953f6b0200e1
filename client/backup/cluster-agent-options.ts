// Wires the backup agent to a running cluster: the failover client's address list, the node
// behind each address, and the vendor CBT filter of the node that owns the VM's CSV.
import type { Cluster } from '../../cluster/cluster.js'
import type { BackupRunOptions, HostApi, SnapshotCoordinator } from './backup-agent.js'
import type { BackupRepository } from './backup-repository.js'
import { queryCbtFilter, type FilterAnswer } from './cbt-filter-client.js'

/** The node that owns the share's CSV right now, or why there is none. */
async function ownerOfShare(cluster: Cluster, share: string): Promise<{ ok: true; owner: string } | { ok: false; error: string }> {
  const csv = cluster.config.shares.find((s) => s.name.toLowerCase() === share.toLowerCase())?.csv
  if (!csv) return { ok: false, error: `no share ${share}` }
  const status = await cluster.status()
  const owner = status.csvs.find((c) => c.name === csv)?.owner ?? ''
  if (!owner) return { ok: false, error: `${csv} has no owner right now` }
  return { ok: true, owner }
}

/** Asks the filter of the node that owns the share's CSV right now. */
export async function queryClusterFilter(cluster: Cluster, share: string, path: string, sinceId: string): Promise<FilterAnswer> {
  const credential = cluster.credentials()?.users[0]
  if (!credential) return { ok: false, error: 'the cluster has no credentials', node: '' }
  const found = await ownerOfShare(cluster, share)
  if (!found.ok) return { ok: false, error: found.error, node: '' }
  const node = cluster.nodeConfig(found.owner)
  return queryCbtFilter(`${node.clientAddress}:${node.smbPort}`, credential, share, path, sinceId)
}

/** Bounds on waiting for another job's snapshot of the same CSV. */
const SNAPSHOT_POLL_MS = 100
const SNAPSHOT_WAIT_MAX_MS = 15 * 60_000

/**
 * Seed 004 through the CSV's owner: a legacy job waits while another snapshot of its CSV
 * exists and keeps the CSV in redirected access during its own; a direct job never waits.
 */
export function clusterSnapshotCoordinator(cluster: Cluster, mode: 'legacy' | 'direct'): SnapshotCoordinator {
  const csvOf = (share: string) => {
    const csv = cluster.config.shares.find((s) => s.name.toLowerCase() === share.toLowerCase())?.csv
    if (!csv) throw new Error(`no share ${share}`)
    return csv
  }
  return {
    mode,
    async begin(share, jobId) {
      const csv = csvOf(share)
      const started = performance.now()
      const waitedFor = new Set<string>()
      for (;;) {
        const reply = await cluster.csvSnapshot(csv, jobId, 'begin', mode)
        if (reply.granted) {
          if (reply.redirect) await cluster.setCsvRedirected(csv, true)
          return { jobId, csv, mode, waitedMs: Math.round(performance.now() - started), waitedFor: [...waitedFor], redirected: reply.redirect }
        }
        waitedFor.add(reply.holder)
        if (performance.now() - started > SNAPSHOT_WAIT_MAX_MS) throw new Error(`gave up waiting for ${csv}: ${reply.reason}`)
        await new Promise((r) => setTimeout(r, SNAPSHOT_POLL_MS))
      }
    },
    async end(share, jobId) {
      const csv = csvOf(share)
      const reply = await cluster.csvSnapshot(csv, jobId, 'end', mode)
      if (mode === 'legacy' && reply.redirectOver) await cluster.setCsvRedirected(csv, false)
    },
  }
}

export function clusterAgentOptions(
  cluster: Cluster,
  host: HostApi,
  repo: BackupRepository,
  vm: string,
  facts: BackupRunOptions['cluster'],
  over: Partial<BackupRunOptions> = {},
): BackupRunOptions {
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new Error('the cluster has no credentials')
  return {
    host,
    vm,
    repo,
    method: 'auto',
    cluster: facts,
    resolve: () => cluster.addresses(),
    netName: cluster.config.name,
    credential,
    witnessAuthLevel: cluster.config.clientWitnessAuthLevel,
    nodeOfIp: (ip) => cluster.config.nodes.find((n) => n.clientAddress === ip)?.id ?? ip,
    queryFilter: (share, path, sinceId) => queryClusterFilter(cluster, share, path, sinceId),
    // No owner right now (a CSV moving): any node, as the name resolves.
    preferredNodeIp: async (share) => {
      const found = await ownerOfShare(cluster, share).catch(() => null)
      return found?.ok ? cluster.nodeConfig(found.owner).clientAddress : undefined
    },
    ...over,
  }
}
