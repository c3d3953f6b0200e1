// The facts the backup agent's CBT decision needs about a running cluster, read from the
// cluster itself: the OS of every host that runs now (the "hosts OS" column of seed 000 is
// about all of the cluster's hosts, not only the one running the VM), the cluster's
// functional level and its storage flavour. The plumbing (addresses, the filter of the CSV
// owner) is cluster-agent-options.ts; `swlab backup run` and the tests both come here, so
// both back up the same way.
import type { Cluster } from '../../cluster/cluster.js'
import { runningHostOses } from '../hyperv/host-registry.js'
import { BackupError, type BackupRunOptions, type HostApi } from './backup-agent.js'
import type { BackupRepository } from './backup-repository.js'
import { validateCbtContext, type CbtMethod, type HostOs } from '../../core/cbt/cbt-decision.js'
import { clusterAgentOptions } from './cluster-agent-options.js'

export interface AgentWiringOptions {
  readonly cluster: Cluster
  readonly host: HostApi
  readonly repo: BackupRepository
  readonly vm: string
  readonly method?: 'auto' | CbtMethod
  /** The OS of the host that runs the VM when it is not a registered host process (in-process hosts). */
  readonly hostOs?: HostOs
}

/** The cluster's facts for the CBT decision; a context it cannot take is a BackupError. */
export function clusterFacts(cluster: Cluster, hostOs?: HostOs): BackupRunOptions['cluster'] {
  const hostOses = runningHostOses(cluster.dir)
  // A duplicate OS changes nothing: the decision looks at the mix, not at counts.
  if (hostOs !== undefined) hostOses.push(hostOs)
  const facts = { hostOses, clusterFunctionalLevel: cluster.config.functionalLevel, flavour: cluster.config.flavour }
  // The VM's configuration version is not known here (runBackup asks the host); 8.0 stands in.
  const problem = validateCbtContext({ ...facts, vmConfigVersion: 8 })
  if (problem) throw new BackupError(`cannot decide the CBT method: ${problem}`)
  return facts
}

/** Everything runBackup needs to back up one VM of this cluster. */
export function agentOptions(o: AgentWiringOptions): BackupRunOptions {
  if (!o.cluster.credentials()?.users[0]) throw new BackupError(`the cluster folder ${o.cluster.dir} has no credentials`)
  return clusterAgentOptions(o.cluster, o.host, o.repo, o.vm, clusterFacts(o.cluster, o.hostOs), { method: o.method ?? 'auto' })
}
