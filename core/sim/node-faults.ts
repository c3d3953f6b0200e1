// The node and network faults both random schedules draw from (the quorum-only one and the
// whole-system one): crashes, restarts, pauses, resumes, partitions, a heal, and a change of
// network weather. Each draw consumes the same random numbers in the same order, so seeds
// replay as before.
import type { NodeId } from '../quorum/types.js'
import type { Prng } from './prng.js'
import type { ClusterSim } from './simulator.js'

/** How rough the network weather a schedule may draw can get. */
export interface NetworkWeatherLimits {
  readonly lossMax: number
  readonly duplicateMax: number
  readonly jitterMaxMs: number
  readonly longDelayMaxMs: number
}

/** Fault kinds 0..NODE_FAULT_KINDS-1 are node and network faults; schedules add their own above. */
export const NODE_FAULT_KINDS = 9

/** Applies node or network fault `kind` (0..8) to `id` or a node the draw picks. */
export function injectNodeFault(sim: ClusterSim, pick: Prng, id: NodeId, kind: number, weather: NetworkWeatherLimits): void {
  const ids = sim.nodeIds
  switch (kind) {
    case 0:
    case 1:
      sim.crash(id)
      break
    case 2:
      sim.restart(pick.pick(ids))
      break
    case 3:
      sim.pause(id)
      break
    case 4:
      sim.resume(pick.pick(ids))
      break
    case 5:
    case 6: {
      const shuffled = pick.shuffle(ids)
      const cutAt = pick.int(1, ids.length - 1)
      sim.partition([shuffled.slice(0, cutAt), shuffled.slice(cutAt)])
      break
    }
    case 7:
      sim.heal()
      break
    case 8:
      sim.network = {
        lossProbability: pick.chance(0.5) ? pick.next() * weather.lossMax : 0,
        duplicateProbability: pick.chance(0.5) ? pick.next() * weather.duplicateMax : 0,
        delayBaseMs: pick.next() * 2,
        delayJitterMs: pick.next() * weather.jitterMaxMs,
        longDelayProbability: pick.chance(0.5) ? pick.next() * 0.05 : 0,
        longDelayMs: pick.int(50, weather.longDelayMaxMs),
      }
      break
    default:
      throw new RangeError(`node fault kind ${kind} is not in 0..${NODE_FAULT_KINDS - 1}`)
  }
}
