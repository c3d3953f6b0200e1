// The commands of a whole-system transcript (test/sim/testdata/*.txt), in the spirit of etcd
// raft's interaction tests: each command drives the simulator and returns the event lines it
// produced, which the transcript test compares with the expected ones.
//
//   start nodes=4 [profile=fast] [seed=1] [quorum-witness=true] [witness-profile=ws2012r2]
//   client <name> data=<node> [witness=<node>] [share=share-1]
//   kill|restart|pause|resume <node>
//   partition <node,...>[/<node,...>]   (one group: that group against all the others)
//   heal
//   cut|restore <client> <node>          (the client-access link between them)
//   move-client <client> to=<node> [via=<node>]   (net witness client-move)
//   run ms=<n>
//   status
import { isProfileName, PROFILES } from '../quorum/profiles.js'
import { WITNESS_PROFILES, type WitnessProfile } from '../witness/witness-core.js'
import { ClusterSimulator } from './cluster-simulator.js'
import type { SimClientLogic } from './sim-client.js'
import { fieldsText } from './event-lines.js'

/** How a transcript's `client` command makes the code that plays the client. */
export type ClientFactory = (sim: ClusterSimulator, name: string, opts: { dataAddress?: string; witnessAddress?: string; share: string }) => SimClientLogic

/** A transcript's start waits at most this long (simulated) for the cluster to converge. */
export const START_CONVERGENCE_LIMIT_MS = 10_000

export interface ParsedCommand {
  readonly name: string
  readonly positional: readonly string[]
  readonly args: ReadonlyMap<string, string>
}

export function parseCommand(line: string): ParsedCommand {
  const [name, ...rest] = line.trim().split(/\s+/)
  const positional: string[] = []
  const args = new Map<string, string>()
  for (const word of rest) {
    const eq = word.indexOf('=')
    if (eq > 0) args.set(word.slice(0, eq), word.slice(eq + 1))
    else positional.push(word)
  }
  return { name, positional, args }
}

export class TranscriptSession {
  private sim: ClusterSimulator | null = null

  constructor(private readonly makeClient: ClientFactory) {}

  /** Runs one command and returns its output lines; throws with a readable message on a bad command. */
  run(line: string): string[] {
    const cmd = parseCommand(line)
    if (cmd.name === 'start') return this.start(cmd)
    const sim = this.sim
    if (!sim) throw new Error(`${cmd.name}: no cluster yet (start first)`)
    const from = sim.lines.length
    const extra = this.apply(sim, cmd)
    return [...sim.lines.slice(from), ...extra]
  }

  private start(cmd: ParsedCommand): string[] {
    const profileName = cmd.args.get('profile') ?? 'fast'
    if (!isProfileName(profileName)) throw new Error(`start: unknown profile ${profileName}`)
    const witnessProfile = cmd.args.get('witness-profile') ?? 'ws2012r2'
    if (!WITNESS_PROFILES.includes(witnessProfile as WitnessProfile)) throw new Error(`start: unknown witness profile ${witnessProfile}`)
    const seed = intArg(cmd, 'seed', 1)
    const sim = new ClusterSimulator({
      seed,
      nodeCount: intArg(cmd, 'nodes', 3),
      quorumWitness: cmd.args.get('quorum-witness') === 'true',
      profile: PROFILES[profileName],
      witnessProfile: witnessProfile as WitnessProfile,
      runName: `transcript seed ${seed}`,
      trace: true,
    })
    this.sim = sim
    const tookMs = sim.runUntil(() => sim.converged(), START_CONVERGENCE_LIMIT_MS)
    if (tookMs < 0) throw new Error(`start: no convergence within ${START_CONVERGENCE_LIMIT_MS}ms`)
    // The election and first view are the quorum scenarios' business; a transcript starts from a formed cluster.
    sim.lines.length = 0
    const view = sim.clusterView
    return [`converged after ${tookMs}ms: ${fieldsText([['leader', view.leaderId], ['epoch', view.epoch], ['owners', view.csvs.map((c) => `${c.name}:${c.owner}`)]])}`]
  }

  private apply(sim: ClusterSimulator, cmd: ParsedCommand): string[] {
    const node = (i = 0) => nodeArg(sim, cmd, cmd.positional[i])
    switch (cmd.name) {
      case 'client': {
        const name = cmd.positional[0]
        if (!name) throw new Error('client: name it')
        const data = nodeArg(sim, cmd, cmd.args.get('data'))
        const witness = cmd.args.get('witness')
        sim.addClient(
          name,
          this.makeClient(sim, name, {
            dataAddress: sim.addressOf(data),
            witnessAddress: witness === undefined ? undefined : sim.addressOf(nodeArg(sim, cmd, witness)),
            share: cmd.args.get('share') ?? 'share-1',
          }),
        )
        return []
      }
      case 'kill':
        sim.crash(node())
        return []
      case 'restart':
        sim.restart(node())
        return []
      case 'pause':
        sim.pause(node())
        return []
      case 'resume':
        sim.resume(node())
        return []
      case 'partition': {
        const spec = cmd.positional[0] ?? ''
        const groups = spec.split('/').map((g) => g.split(',').filter((x) => x !== ''))
        for (const g of groups) for (const id of g) nodeArg(sim, cmd, id)
        if (groups.length === 1) groups.push(sim.nodeIds.filter((id) => !groups[0].includes(id)))
        sim.partition(groups)
        return []
      }
      case 'heal':
        sim.heal()
        return []
      case 'cut':
      case 'restore': {
        const client = clientArg(sim, cmd, cmd.positional[0])
        sim.cutClient(client, nodeArg(sim, cmd, cmd.positional[1]), cmd.name === 'cut')
        return []
      }
      case 'move-client': {
        const client = clientArg(sim, cmd, cmd.positional[0])
        const to = nodeArg(sim, cmd, cmd.args.get('to'))
        const reg = sim.client(client).registration()
        const via = cmd.args.get('via') ?? (reg ? sim.nodeAt(reg.witnessAddress) : '')
        if (via === '') throw new Error(`move-client: ${client} is registered nowhere; say via=<node>`)
        const result = sim.clientMove(nodeArg(sim, cmd, via), client, to)
        return result.ok ? [`client-move via ${via}: ${result.affected} registration(s)`] : [`client-move via ${via} failed: ${result.error}`]
      }
      case 'run':
        sim.run(intArg(cmd, 'ms', 1000))
        return []
      case 'status':
        return status(sim)
      default:
        throw new Error(`unknown command ${cmd.name}`)
    }
  }
}

function status(sim: ClusterSimulator): string[] {
  const lines: string[] = []
  for (const id of sim.nodeIds) {
    const core = sim.core(id)
    const state = !core ? 'dead' : !sim.isRunning(id) ? 'paused' : sim.serving(id) ? 'serving' : 'not-serving'
    const registrations = sim.witnessHost(id)?.core.registrationCount() ?? 0
    const declared = sim.downSinceMs.has(id) ? 'down' : 'up'
    lines.push(`${id} ${fieldsText([['state', state], ['declared', declared], ['role', core?.role ?? '-'], ['epoch', core?.committed.epoch ?? '-'], ['registrations', registrations]])}`)
  }
  for (const id of sim.clientIds()) {
    const logic = sim.client(id)
    const reg = logic.registration()
    lines.push(
      `${id} ${fieldsText([
        ['data', sim.nodeAt(logic.dataAddress()) || '-'],
        ['witness', reg ? sim.nodeAt(reg.witnessAddress) : '-'],
        ['reg', reg?.key ?? '-'],
        ['for', reg ? sim.nodeAt(reg.forAddress) : '-'],
      ])}`,
    )
  }
  return lines
}

function intArg(cmd: ParsedCommand, key: string, fallback: number): number {
  const raw = cmd.args.get(key)
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${cmd.name}: ${key} must be a whole number, not ${raw}`)
  return n
}

function nodeArg(sim: ClusterSimulator, cmd: ParsedCommand, id: string | undefined): string {
  if (id === undefined || !sim.nodeIds.includes(id)) throw new Error(`${cmd.name}: unknown node ${id ?? '(none)'}`)
  return id
}

function clientArg(sim: ClusterSimulator, cmd: ParsedCommand, id: string | undefined): string {
  if (id === undefined || !sim.clientIds().includes(id)) throw new Error(`${cmd.name}: unknown client ${id ?? '(none)'}`)
  return id
}
