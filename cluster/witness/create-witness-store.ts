// Builds the quorum witness store a cluster config asks for (none, file share or cloud).
import type { ClusterConfig } from '../config.js'
import { CloudWitnessClient } from './cloud-witness-client.js'
import { FileWitness } from './file-witness.js'
import type { QuorumWitnessStore } from './quorum-witness.js'

export function createWitnessStore(config: ClusterConfig): QuorumWitnessStore | null {
  const { witness } = config
  if (witness.kind === 'file' && witness.path) return new FileWitness(witness.path)
  if (witness.kind === 'cloud' && witness.url) return new CloudWitnessClient({ url: witness.url, blob: config.name })
  return null
}
