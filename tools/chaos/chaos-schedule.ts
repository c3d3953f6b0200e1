// The fault schedule of a chaos run: which fault, on which node (or CSV, or client), held how
// long, after how long a gap. Pure and seeded: the same seed, kinds and nodes give the same
// schedule. One fault at a time: each is healed before the next begins (no overlap), and the
// runner also waits, before the next, until the cluster is whole again (quorate, every node
// serving, every CSV served once), so a gap is a minimum, not an exact time.
import { Prng } from '../../core/sim/prng.js'

/**
 * What the chaos runner can do to a cluster:
 * - kill, pause: SIGKILL (then a restart) or SIGSTOP (then SIGCONT) of a node's process;
 * - partition: the node cut off from every other node, both ways;
 * - delay: every peer message to and from the node delayed 150 ms (self-applied, no netem);
 * - one-way-cut: the node's peer traffic cut in one direction only (node -> peers or peers -> node);
 * - client-cut: every chaos client cut off from the node's SMB data path (its witness reachable);
 * - witness-cut: every chaos client cut off from the node's witness ports (its data path reachable);
 * - disk-full: a CSV's volume filled (STATUS_DISK_FULL), then cleared;
 * - move-leader-kill: a CSV move asked of the leader, then the leader killed while it is in flight;
 * - move-witness-freeze: a chaos client sent CLIENT_MOVE, then its witness node frozen.
 * The cut kinds need a cluster in a network namespace (nftables); disk-full needs CSV volumes.
 */
export type ChaosFault =
  | 'kill'
  | 'pause'
  | 'partition'
  | 'delay'
  | 'one-way-cut'
  | 'client-cut'
  | 'witness-cut'
  | 'disk-full'
  | 'move-leader-kill'
  | 'move-witness-freeze'

export const CHAOS_FAULTS: readonly ChaosFault[] = ['kill', 'pause', 'partition', 'delay', 'one-way-cut', 'client-cut', 'witness-cut', 'disk-full', 'move-leader-kill', 'move-witness-freeze']

/** The kinds that are nftables rules: they need `--netns`. */
export const NETNS_FAULTS: readonly ChaosFault[] = ['one-way-cut', 'client-cut', 'witness-cut']

/** The kinds that fill a CSV's own volume: they need `--csv-size`. */
export const VOLUME_FAULTS: readonly ChaosFault[] = ['disk-full']

export interface ChaosEvent {
  /** Earliest start, from the run's start (later when the cluster took longer to recover). */
  readonly atMs: number
  readonly fault: ChaosFault
  /**
   * The node it hits. move-leader-kill hits whichever node leads at the time (the leader
   * cannot be known in advance) and move-witness-freeze the client's witness node; the
   * runner reports the node it hit.
   */
  readonly node: string
  readonly forMs: number
  /** one-way-cut: out = the node's calls to its peers are dropped, in = its peers' calls to it. */
  readonly direction?: 'out' | 'in'
  /** disk-full and move-leader-kill: the CSV (an index into the cluster's CSVs). */
  readonly csvIndex?: number
  /** move-witness-freeze: the chaos client moved (an index). */
  readonly clientIndex?: number
}

/** How densely faults follow each other: how long each is held, and the least gap after its heal. */
export interface ChaosSpacing {
  readonly holdMs: readonly [number, number]
  readonly gapMs: readonly [number, number]
  /** The first fault's earliest start. */
  readonly firstMs: readonly [number, number]
  /** Faults end this long before the run's duration: the clients work on past the last heal. */
  readonly quietMs: number
}

/** The spacing chaos runs always had: faults of 1.2 to 2.5 s, 1.5 to 3.5 s apart. */
export const NORMAL_SPACING: ChaosSpacing = { holdMs: [1200, 2500], gapMs: [1500, 3500], firstMs: [1500, 2500], quietMs: 3000 }

/**
 * The soak's spacing: faults of 0.4 to 1.2 s (a pause under the fast profile's 1 s detection
 * is a freeze the cluster must ride out without a failover; longer ones fail over), at least
 * 0.2 to 0.6 s apart after the heal, plus whatever the cluster takes to be whole again (the
 * runner waits for that before every fault). Measured on 2 shared cores at load 10 to 14 with
 * 0.5-1.5 s and 0.3-0.8 s: 2.0 s a fault, recoveries included.
 */
export const DENSE_SPACING: ChaosSpacing = { holdMs: [400, 1200], gapMs: [200, 600], firstMs: [800, 1200], quietMs: 3000 }

/** The most faults one schedule holds. */
export const SCHEDULE_FAULTS_MAX = 1000

export interface ScheduleOptions {
  readonly spacing?: ChaosSpacing
  /** Stop after this many faults (default SCHEDULE_FAULTS_MAX). */
  readonly maxFaults?: number
  /** How many CSVs and chaos clients the cluster has (for disk-full, move-*). */
  readonly csvs?: number
  readonly clients?: number
}

/**
 * The fault schedule of a seed. Kinds are dealt round-robin in a seeded order (each kind
 * appears once in every |faults| faults, so every kind is hit even in a short run), nodes and
 * the rest at random.
 */
export function chaosSchedule(seed: number, durationMs: number, faults: readonly ChaosFault[], nodeIds: readonly string[], opts: ScheduleOptions = {}): ChaosEvent[] {
  if (faults.length === 0) throw new Error('a chaos schedule needs at least one fault kind')
  if (nodeIds.length === 0) throw new Error('a chaos schedule needs at least one node')
  const spacing = opts.spacing ?? NORMAL_SPACING
  const maxFaults = Math.min(opts.maxFaults ?? SCHEDULE_FAULTS_MAX, SCHEDULE_FAULTS_MAX)
  const rng = new Prng(seed)
  const events: ChaosEvent[] = []
  let t = rng.int(spacing.firstMs[0], spacing.firstMs[1])
  const quietEndMs = durationMs - spacing.quietMs
  let deck: ChaosFault[] = []
  for (let i = 0; i < maxFaults && t < quietEndMs; i++) {
    if (deck.length === 0) deck = shuffled(rng, faults)
    const fault = deck.pop() as ChaosFault
    const forMs = rng.int(spacing.holdMs[0], spacing.holdMs[1])
    const node = rng.pick(nodeIds)
    const extra =
      fault === 'one-way-cut'
        ? { direction: rng.int(0, 1) === 0 ? ('out' as const) : ('in' as const) }
        : fault === 'disk-full' || fault === 'move-leader-kill'
          ? { csvIndex: rng.int(0, Math.max(0, (opts.csvs ?? 1) - 1)) }
          : fault === 'move-witness-freeze'
            ? { clientIndex: rng.int(0, Math.max(0, (opts.clients ?? 1) - 1)) }
            : {}
    events.push({ atMs: t, fault, node, forMs: Math.min(forMs, quietEndMs - t), ...extra })
    t += forMs + rng.int(spacing.gapMs[0], spacing.gapMs[1])
  }
  return events
}

function shuffled<T>(rng: Prng, items: readonly T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}

/** Faults per kind, every kind present (0 when none). */
export function countByKind(events: readonly { fault: ChaosFault }[]): Record<ChaosFault, number> {
  const counts = Object.fromEntries(CHAOS_FAULTS.map((k) => [k, 0])) as Record<ChaosFault, number>
  for (const e of events) counts[e.fault]++
  return counts
}
