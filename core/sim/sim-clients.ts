// Which code plays a simulated client: the failover core, through the simulator's adapter.
// The one place that decides, for transcripts and random schedules alike.
import { CLUSTER_NET_NAME, type ClusterSimulator } from './cluster-simulator.js'
import type { SimClientLogic } from './sim-client.js'
import { SimFailoverClient } from './sim-failover-client.js'
import { witnessKeepAliveTimeoutSFor } from '../failover/witness-loss.js'

/**
 * The keep-alive the simulated clients ask for in RegisterEx: the fast profile's, as the
 * simulator runs that profile's timing (4 s; Windows clients ask for 120 s), so that a witness
 * node that is paused or cut off from a client is left within a schedule (witness-loss.ts).
 */
export const CLIENT_KEEP_ALIVE_TIMEOUT_S = witnessKeepAliveTimeoutSFor('fast')

/**
 * One SMB request's deadline, in detection periods (4 s with the fast profile). Windows waits
 * 60 s; a few detection periods let a schedule of seconds exercise the request-timeout path
 * (a node that is paused or cut off from the client and not yet declared down).
 */
export const REQUEST_TIMEOUT_DETECTIONS = 4

export interface SimClientOptions {
  readonly dataAddress?: string
  readonly witnessAddress?: string
  readonly share: string
}

export function simClientFactory(sim: ClusterSimulator, name: string, opts: SimClientOptions): SimClientLogic {
  return new SimFailoverClient({
    name,
    netName: CLUSTER_NET_NAME,
    share: opts.share,
    nodeAddresses: sim.nodeIds.map((id) => sim.addressOf(id)),
    preferredAddress: opts.dataAddress,
    preferredWitnessAddress: opts.witnessAddress,
    keepAliveTimeoutS: CLIENT_KEEP_ALIVE_TIMEOUT_S,
    requestTimeoutMs: REQUEST_TIMEOUT_DETECTIONS * sim.timing.detectionMs,
    random: sim.rng.next(),
  })
}
