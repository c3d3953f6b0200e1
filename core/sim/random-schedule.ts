// Random fault schedules for the simulator: a seed picks the cluster size, the witness, the
// network conditions and a sequence of crashes, pauses, partitions and heals; then every
// fault stops and the cluster must converge within a stated bound.
import type { NodeId } from '../quorum/types.js'
import { injectNodeFault, NODE_FAULT_KINDS, type NetworkWeatherLimits } from './node-faults.js'
import { Prng } from './prng.js'
import { ClusterSim, SimViolation, type SimOptions } from './simulator.js'

export interface ScheduleResult {
  readonly seed: number
  readonly ok: boolean
  readonly nodeCount: number
  readonly witness: boolean
  readonly faults: number
  /** Time from the end of the faults until the cluster converged, or -1. */
  readonly convergedAfterMs: number
  readonly violation?: string
  readonly trace: readonly string[]
}

export interface ScheduleOptions {
  /** How long faults are injected (simulated ms). */
  readonly faultWindowMs?: number
  /** After the faults stop, the cluster must converge within this many detection periods. */
  readonly convergenceDetections?: number
  readonly trace?: boolean
  /** How the nodes' timers run (default: a tick every 5 ms step). */
  readonly timers?: Pick<SimOptions, 'stepMs' | 'tickIntervalMs' | 'wakeAtDeadlines'>
}

/** The convergence bound, in detection periods (interval x threshold) after the last fault. */
export const CONVERGENCE_DETECTIONS = 6

export function runRandomSchedule(seed: number, opts: ScheduleOptions = {}): ScheduleResult {
  const pick = new Prng(seed ^ 0x9e3779b9)
  const nodeCount = pick.int(3, 5)
  const witness = nodeCount % 2 === 0 ? pick.chance(0.7) : pick.chance(0.3)
  const sim = new ClusterSim({ seed, nodeCount, witness, trace: opts.trace, ...opts.timers })
  const faultWindowMs = opts.faultWindowMs ?? 6000
  const boundMs = (opts.convergenceDetections ?? CONVERGENCE_DETECTIONS) * sim.timing.detectionMs
  let faults = 0
  const base = { seed, nodeCount, witness }
  try {
    sim.run(pick.int(0, 1500))
    const endMs = sim.nowMs + faultWindowMs
    while (sim.nowMs < endMs) {
      injectFault(sim, pick)
      faults++
      sim.run(pick.int(50, 1200))
    }
    // Every fault stops: restart the dead, resume the paused, heal the network.
    sim.network = { ...sim.network, lossProbability: 0, duplicateProbability: 0, longDelayProbability: 0 }
    sim.heal()
    for (const id of sim.nodeIds) {
      sim.resume(id)
      sim.restart(id)
    }
    const convergedAfterMs = sim.runUntil(() => sim.converged(), boundMs)
    if (convergedAfterMs < 0) {
      return { ...base, ok: false, faults, convergedAfterMs, violation: `no convergence within ${boundMs}ms`, trace: sim.trace }
    }
    // Stay converged: a converged cluster must not churn on its own.
    sim.run(2 * sim.timing.detectionMs)
    if (!sim.converged()) {
      return { ...base, ok: false, faults, convergedAfterMs, violation: 'converged, then diverged without faults', trace: sim.trace }
    }
    return { ...base, ok: true, faults, convergedAfterMs, trace: sim.trace }
  } catch (err) {
    if (!(err instanceof SimViolation)) throw err
    return { ...base, ok: false, faults, convergedAfterMs: -1, violation: err.message, trace: sim.trace }
  }
}

/** The quorum schedules' weather: rougher than the whole-system one, which also carries clients. */
const WEATHER: NetworkWeatherLimits = { lossMax: 0.3, duplicateMax: 0.2, jitterMaxMs: 40, longDelayMaxMs: 900 }

function injectFault(sim: ClusterSim, pick: Prng): void {
  const ids = sim.nodeIds
  const id: NodeId = pick.pick(ids)
  const kind = pick.int(0, NODE_FAULT_KINDS)
  if (kind < NODE_FAULT_KINDS) injectNodeFault(sim, pick, id, kind, WEATHER)
  else for (const other of ids) sim.resume(other)
}
