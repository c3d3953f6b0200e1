// The errors of the backup and Hyper-V modules are expected failures with one-line messages,
// like ClusterError: the CLI shows them as such (main() prints only ClusterError plainly).
import { ClusterError } from '../cluster/cluster.js'
import { BackupError } from '../client/backup/backup-agent.js'
import { BackupRepositoryError } from '../client/backup/backup-repository.js'
import { HostControlError } from '../client/hyperv/host-control-client.js'
import { HostError } from '../client/hyperv/hyperv-host.js'

const EXPECTED = [BackupError, BackupRepositoryError, HostControlError, HostError] as const

/** Runs a command action; an expected error of those modules becomes a ClusterError. */
export async function expectedErrorsAsClusterErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err) {
    if (EXPECTED.some((kind) => err instanceof kind)) throw new ClusterError((err as Error).message.replace(/\s*\n\s*/g, ' '))
    throw err
  }
}
