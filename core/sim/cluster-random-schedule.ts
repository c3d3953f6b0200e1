// Random whole-system schedules: a seed picks the cluster (3 to 5 nodes, a quorum witness or
// not, the witness service's profile), 2 to 4 failover clients (data node, preferred witness, share), the networks, and a
// short run of faults -- crashes, restarts, pauses, partitions, cut client links, slow and
// lossy node links, admin client moves. The simulator checks its invariants on every step
// (the quorum's, and the clients' (a) notified and (b) left). When the faults stop, the
// cluster must converge and every client must be back at work -- its data path on a serving
// node, IO acknowledged, registered with another node's witness -- within stated bounds.
import { CONVERGENCE_DETECTIONS } from './random-schedule.js'
import type { NodeId } from '../quorum/types.js'
import type { ClientId } from './client-wire.js'
import { ClusterSimulator } from './cluster-simulator.js'
import type { FailoverTally } from './failover-invariants.js'
import { injectNodeFault, NODE_FAULT_KINDS, type NetworkWeatherLimits } from './node-faults.js'
import { Prng } from './prng.js'
import { REQUEST_TIMEOUT_DETECTIONS, simClientFactory } from './sim-clients.js'
import { CALM_NETWORK } from './simulator.js'

/** Largest one-way delay a schedule sets between nodes: base 2 + jitter 30 + a 300 ms detour. */
export const NODE_DELAY_MAX_MS = 332
/** Largest one-way delay a schedule sets on a client link: base 2 + jitter 20. */
export const CLIENT_DELAY_MAX_MS = 22

/**
 * Simulated time per step. A node process ticks every 25 ms (a tenth of the fast profile's
 * heartbeat interval); 10 ms steps are finer than that and halve the cost of 5 ms ones.
 */
export const SCHEDULE_STEP_MS = 10

/** How long faults are injected (simulated ms): short, so that 2,000 schedules run in seconds. */
export const FAULT_WINDOW_MS = 2_500

/**
 * After the cluster converged, every client must be back within this many detection periods:
 * a client whose failover gave up waits out its request deadline (REQUEST_TIMEOUT_DETECTIONS)
 * before it fails over again, and then needs a reconnect and a registration round.
 */
export const CLIENT_RECOVERY_DETECTIONS = REQUEST_TIMEOUT_DETECTIONS + 2

export interface ClusterScheduleResult {
  readonly seed: number
  readonly ok: boolean
  readonly nodeCount: number
  readonly clientCount: number
  readonly faults: number
  /** From the end of the faults until every client was back, or -1. */
  readonly recoveredAfterMs: number
  readonly violation?: string
  readonly tally: FailoverTally | null
  readonly lines: readonly string[]
}

export interface ClusterScheduleOptions {
  readonly trace?: boolean
  /** Overrides the clients' reaction bound (a test breaks it on purpose). */
  readonly clientReactionMs?: number
  readonly faultWindowMs?: number
}

/** How to replay a seed (run with this fault window), printed with every failure. */
export function replayCommand(seed: number, faultWindowMs = FAULT_WINDOW_MS): string {
  return `npx tsx scripts/cluster-simrun.ts ${seed}${faultWindowMs === FAULT_WINDOW_MS ? '' : ` --window ${faultWindowMs}`} --trace`
}

export function runClusterSchedule(seed: number, opts: ClusterScheduleOptions = {}): ClusterScheduleResult {
  const pick = new Prng(seed ^ 0x5bd1e995)
  const nodeCount = pick.int(3, 5)
  const quorumWitness = nodeCount % 2 === 0 ? pick.chance(0.7) : pick.chance(0.3)
  const clientCount = pick.int(2, 4)
  // Windows 2012 R2+ names the NetName in RESOURCE_CHANGE; Samba names the IP, sends no
  // IP_CHANGE and drops a registration 5 s after telling it of a move or an UNAVAILABLE.
  const witnessProfile = pick.chance(0.25) ? 'samba' : 'ws2012r2'
  let sim: ClusterSimulator | null = null
  let faults = 0
  const base = { seed, nodeCount, clientCount }
  const fail = (violation: string, recoveredAfterMs = -1): ClusterScheduleResult => ({
    ...base,
    ok: false,
    faults,
    recoveredAfterMs,
    violation: `${violation} -- replay: ${replayCommand(seed, opts.faultWindowMs)}`,
    tally: sim?.invariants.tally ?? null,
    lines: sim?.lines ?? [],
  })
  try {
    sim = new ClusterSimulator({
      seed,
      nodeCount,
      quorumWitness,
      witnessProfile,
      stepMs: SCHEDULE_STEP_MS,
      clientDelayMaxMs: CLIENT_DELAY_MAX_MS,
      nodeDelayMaxMs: NODE_DELAY_MAX_MS,
      clientReactionMs: opts.clientReactionMs,
      runName: `seed ${seed}`,
      trace: opts.trace,
    })
    const s = sim
    const detectionMs = s.timing.detectionMs
    s.clientNetwork = { delayBaseMs: pick.next() * 2, delayJitterMs: pick.next() * 20 }
    if (s.runUntil(() => s.converged(), 5 * detectionMs) < 0) return fail('no convergence at start')
    const clients: ClientId[] = []
    for (let i = 0; i < clientCount; i++) {
      const id = `c${i + 1}`
      const data = pick.chance(0.8) ? s.addressOf(pick.pick(s.nodeIds)) : undefined
      const witness = pick.chance(0.5) ? s.addressOf(pick.pick(s.nodeIds)) : undefined
      s.addClient(id, simClientFactory(s, id, { dataAddress: data, witnessAddress: witness, share: pick.pick(s.shares).name }))
      clients.push(id)
    }
    s.run(pick.int(100, 600))
    const endMs = s.nowMs + (opts.faultWindowMs ?? FAULT_WINDOW_MS)
    while (s.nowMs < endMs) {
      injectFault(s, pick, clients)
      faults++
      s.run(pick.int(50, 700))
    }
    // Every fault stops: calm networks, everything healed, restarted and resumed.
    s.network = { ...CALM_NETWORK }
    s.heal()
    s.healClients()
    for (const id of s.nodeIds) {
      s.resume(id)
      s.restart(id)
    }
    const faultsEndMs = s.nowMs
    const convergenceMs = CONVERGENCE_DETECTIONS * detectionMs
    if (s.runUntil(() => s.converged(), convergenceMs) < 0) return fail(`no convergence within ${convergenceMs}ms after the faults`)
    const recoveryMs = CLIENT_RECOVERY_DETECTIONS * detectionMs
    const convergedAtMs = s.nowMs
    if (s.runUntil(() => clients.every((c) => clientBack(s, c, convergedAtMs)), recoveryMs) < 0) {
      const stuck = clients.filter((c) => !clientBack(s, c, convergedAtMs)).map((c) => `${c}: ${clientState(s, c, convergedAtMs)}`)
      return fail(`clients not back within ${recoveryMs}ms of convergence: ${stuck.join('; ')}`)
    }
    return { ...base, ok: true, faults, recoveredAfterMs: s.nowMs - faultsEndMs, tally: s.invariants.tally, lines: s.lines }
  } catch (err) {
    const e = err as Error
    return fail(`${e.name}: ${e.message}${e.name === 'AssertionError' || e.name === 'TypeError' ? `\n${e.stack ?? ''}` : ''}`)
  }
}

/** Back at work: data path on a serving node, IO acknowledged since `sinceMs`, registered with another node that holds the registration. */
export function clientBack(sim: ClusterSimulator, client: ClientId, sinceMs: number): boolean {
  return clientState(sim, client, sinceMs) === 'back'
}

function clientState(sim: ClusterSimulator, client: ClientId, sinceMs: number): string {
  const logic = sim.client(client)
  const data = sim.nodeAt(logic.dataAddress())
  if (data === '') return 'no data path'
  if (!sim.serving(data)) return `data path on ${data}, which does not serve`
  if (sim.lastWriteAckMs(client) < sinceMs) return `no IO acknowledged on ${data} since ${sinceMs}ms`
  const reg = logic.registration()
  if (!reg) return `not registered (data on ${data})`
  const witness = sim.nodeAt(reg.witnessAddress)
  if (witness === data) return `registered with its own data node ${data}`
  const held = sim.witnessHost(witness)?.core.list({ registrationId: reg.key })
  if (!held || 'error' in held || held.length === 0) return `registration ${reg.key} not held by ${witness}`
  return 'back'
}

/** Client links carry the schedule's delays too: node-to-node long delays stay below NODE_DELAY_MAX_MS. */
const WEATHER: NetworkWeatherLimits = { lossMax: 0.2, duplicateMax: 0.1, jitterMaxMs: 30, longDelayMaxMs: NODE_DELAY_MAX_MS - 32 }

function injectFault(sim: ClusterSimulator, pick: Prng, clients: readonly ClientId[]): void {
  const ids = sim.nodeIds
  const id: NodeId = pick.pick(ids)
  const kind = pick.int(0, 13)
  if (kind < NODE_FAULT_KINDS) {
    injectNodeFault(sim, pick, id, kind, WEATHER)
    return
  }
  switch (kind) {
    case 9:
    case 10:
      sim.cutClient(pick.pick(clients), id)
      break
    case 11:
      sim.healClients()
      break
    case 12: {
      // net witness client-move, run on the node the client registered with.
      const client = pick.pick(clients)
      const reg = sim.client(client).registration()
      const via = reg ? sim.nodeAt(reg.witnessAddress) : ''
      if (via !== '') sim.clientMove(via, client, id)
      break
    }
    case 13:
      for (const other of ids) sim.resume(other)
      break
  }
}
