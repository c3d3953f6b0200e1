// Wires the backup agent to a running cluster: the failover client's address list, the node
// behind each address, and the vendor CBT filter of the node that owns the VM's CSV.
import type { Cluster } from '../../cluster/cluster.js'
import type { BackupRunOptions, HostApi } from './backup-agent.js'
import type { BackupRepository } from './backup-repository.js'
import { queryCbtFilter, type FilterAnswer } from './cbt-filter-client.js'

/** Asks the filter of the node that owns the share's CSV right now. */
export async function queryClusterFilter(cluster: Cluster, share: string, path: string, sinceId: string): Promise<FilterAnswer> {
  const credential = cluster.credentials()?.users[0]
  if (!credential) return { ok: false, error: 'the cluster has no credentials', node: '' }
  const csv = cluster.config.shares.find((s) => s.name.toLowerCase() === share.toLowerCase())?.csv
  if (!csv) return { ok: false, error: `no share ${share}`, node: '' }
  const status = await cluster.status()
  const owner = status.csvs.find((c) => c.name === csv)?.owner ?? ''
  if (!owner) return { ok: false, error: `${csv} has no owner right now`, node: '' }
  const node = cluster.nodeConfig(owner)
  return queryCbtFilter(`${node.clientAddress}:${node.smbPort}`, credential, share, path, sinceId)
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
    nodeOfIp: (ip) => cluster.config.nodes.find((n) => n.clientAddress === ip)?.id ?? ip,
    queryFilter: (share, path, sinceId) => queryClusterFilter(cluster, share, path, sinceId),
    ...over,
  }
}
