// Which code plays a simulated client: the one place that decides, for transcripts and random
// schedules alike.
import { CLUSTER_NET_NAME, type ClusterSimulator } from './cluster-simulator.js'
import { RegistrarClient } from './registrar-client.js'
import type { SimClientLogic } from './sim-client.js'

/** Windows clients ask for a 120 s keep-alive in RegisterEx. */
export const CLIENT_KEEP_ALIVE_TIMEOUT_S = 120

export function simClientFactory(
  _sim: ClusterSimulator,
  name: string,
  opts: { dataAddress: string; witnessAddress?: string; share: string },
): SimClientLogic {
  return new RegistrarClient({
    name,
    netName: CLUSTER_NET_NAME,
    share: opts.share,
    dataAddress: opts.dataAddress,
    witnessAddress: opts.witnessAddress,
    keepAliveTimeoutS: CLIENT_KEEP_ALIVE_TIMEOUT_S,
  })
}
