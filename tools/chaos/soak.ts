// The soak (issue 17 item 6): seeded chaos runs one after another, each a fresh cluster in a
// fresh folder and network namespace, until N faults have been injected across every fault
// kind, alternating 3- and 5-node clusters and the two quorum witnesses (file share, cloud).
// Each run is its own `swlab chaos run` process: the command that replays a run is the command
// that ran it, and a run that crashes or hangs takes no state of the soak with it. The soak
// adds up the runs' JSON: faults per kind, failovers, operations, violations per invariant, the
// linearizability verdicts ("unknown" apart), and for every violation the seed and the command.
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { CHAOS_FAULTS, type ChaosFault } from './chaos-schedule.js'
import { INVARIANTS, type Invariant } from './chaos.js'
import { monoNowMs } from '../../runtime/clock.js'

/** One run of the soak: its seed and cluster. */
export interface SoakRunPlan {
  readonly index: number
  readonly seed: number
  readonly nodes: 3 | 5
  readonly witness: 'file' | 'cloud'
  /** Faults this run injects at most. */
  readonly maxFaults: number
}

export interface SoakOptions {
  readonly faults: number
  readonly seed: number
  /** Where failing runs' logs and histories are kept (else they are removed with the rest). */
  readonly outDir?: string
  /** Cluster in its own namespace (root): the cut kinds run; without it they are skipped and said so. */
  readonly netns: boolean
  /** Each CSV on a volume of its own (root, loop devices): disk-full runs; without it it is skipped. */
  readonly csvSize?: string
  /** The CLI to run (dist/cli/swlab.js). */
  readonly cli: string
  readonly log?: (line: string) => void
  /** Set when the soak must stop (Ctrl-C): the run in progress is stopped and cleaned up. */
  readonly signal?: AbortSignal
}

/** Faults per run: a minute or two of dense faults per cluster (its start and checks, about 15 s, are paid once per run). */
export const SOAK_FAULTS_PER_RUN = 60
/** Nominal duration of a run (dense spacing averages 1.2 s a fault before recoveries: 60 fit). */
export const SOAK_RUN_DURATION_S = 90
/** Chaos clients per run. */
export const SOAK_CLIENTS = 4
/** A run that takes longer is stopped and counted as failed (a hang is a finding). */
export const SOAK_RUN_TIMEOUT_MS = 15 * 60_000
/** The most faults a soak may ask for. */
export const SOAK_FAULTS_MAX = 100_000

/**
 * The runs of a soak: seeds seed, seed+1, …; nodes alternate 3, 5; witnesses alternate every
 * two runs (file, file, cloud, cloud, …) so that both node counts meet both witnesses.
 */
export function soakPlan(faults: number, seed: number, perRun = SOAK_FAULTS_PER_RUN): SoakRunPlan[] {
  if (!(Number.isInteger(faults) && faults >= 1)) throw new Error(`faults must be a positive integer (got ${faults})`)
  const plan: SoakRunPlan[] = []
  for (let left = faults, i = 0; left > 0; i++) {
    const run = soakRun(i, seed, left, perRun)
    plan.push(run)
    left -= run.maxFaults
  }
  return plan
}

/** Run i of a soak with seed `seed`, faultsLeft still to inject. */
export function soakRun(i: number, seed: number, faultsLeft: number, perRun = SOAK_FAULTS_PER_RUN): SoakRunPlan {
  return { index: i, seed: seed + i, nodes: i % 2 === 0 ? 3 : 5, witness: Math.floor(i / 2) % 2 === 0 ? 'file' : 'cloud', maxFaults: Math.min(perRun, faultsLeft) }
}

/** The arguments of `swlab chaos run` for one run of the soak. */
export function chaosArgs(run: SoakRunPlan, dir: string, opts: { netns: boolean; csvSize?: string; maxFaults?: number }): string[] {
  return [
    'chaos', 'run',
    '--dir', dir,
    '--seed', String(run.seed),
    '--nodes', String(run.nodes),
    '--witness', run.witness,
    '--faults', 'all',
    '--spacing', 'dense',
    '--max-faults', String(opts.maxFaults ?? run.maxFaults),
    '--duration', String(SOAK_RUN_DURATION_S),
    '--clients', String(SOAK_CLIENTS),
    ...(opts.netns ? ['--netns'] : []),
    ...(opts.csvSize !== undefined ? ['--csv-size', opts.csvSize] : []),
    '--json',
  ]
}

/** The command a person types to replay a run (in a fresh folder). */
export function replayCommand(run: SoakRunPlan, opts: { netns: boolean; csvSize?: string }): string {
  return `swlab ${chaosArgs(run, '<fresh folder>', opts).filter((a) => a !== '--json').join(' ')}`.replace('--dir <fresh folder>', '--dir "$(mktemp -d)"')
}

type Verdict = 'linearizable' | 'not-linearizable' | 'unknown' | 'none'

export interface SoakRunResult {
  readonly seed: number
  readonly nodes: number
  readonly witness: string
  readonly faults: number
  readonly faultsPerKind: Record<ChaosFault, number>
  /** Faults that fell back to a plainer one (a refused move, a client between registrations). */
  readonly faultsNotAsPlanned: Record<ChaosFault, number>
  readonly skippedKinds: readonly string[]
  readonly failovers: number
  readonly reads: number
  readonly writes: number
  readonly refusedWrites: number
  readonly violationsByInvariant: Record<SoakInvariant, number>
  readonly linearizability: Verdict
  readonly ioPauseMaxMs: number | null
  readonly elapsedMs: number
  /** Present on a failing run: how to replay it and what it found (the first few). */
  readonly replay?: string
  readonly violations?: readonly string[]
  readonly keptIn?: string
}

/** The chaos invariants, and the soak's own: the run ended with its JSON (no crash, no hang). */
export type SoakInvariant = Invariant | 'run-completed'
export const SOAK_INVARIANTS: readonly SoakInvariant[] = [...INVARIANTS, 'run-completed']

export interface SoakReport {
  readonly command: string
  readonly seed: number
  readonly faultsAsked: number
  readonly networkFaults: 'nftables' | 'self-applied'
  readonly csvVolumes: boolean
  readonly spacing: string
  readonly elapsedMs: number
  readonly interrupted: boolean
  readonly total: {
    readonly runs: number
    readonly faults: number
    readonly faultsPerKind: Record<ChaosFault, number>
    readonly faultsNotAsPlanned: Record<ChaosFault, number>
    readonly failovers: number
    readonly operations: { readonly reads: number; readonly writes: number; readonly refusedWrites: number }
    readonly violationsByInvariant: Record<SoakInvariant, number>
    readonly violations: number
    readonly linearizability: Record<Verdict, number>
    readonly clusters: Record<string, number>
  }
  readonly failing: readonly { seed: number; command: string; violations: readonly string[] }[]
  readonly runs: readonly SoakRunResult[]
}

const zeroKinds = () => Object.fromEntries(CHAOS_FAULTS.map((k) => [k, 0])) as Record<ChaosFault, number>
const zeroInvariants = () => Object.fromEntries(SOAK_INVARIANTS.map((k) => [k, 0])) as Record<SoakInvariant, number>

/** The fields of `chaos run --json` the soak reads. */
interface ChaosJson {
  faultsApplied: { fault: ChaosFault }[]
  faultsPerKind: Record<ChaosFault, number>
  faultsNotAsPlanned?: Record<ChaosFault, number>
  skippedKinds: { fault: ChaosFault; reason: string }[]
  failovers: number
  writes: number
  reads: number
  refusedWrites: number
  violations: string[]
  violationsByInvariant: Record<Invariant, number>
  linearizability: { verdict: Verdict }
  ioPauseMs: { max: number | null }
}

/** A run's result from its exit code and output (pure: the unit tests feed it). */
export function runResult(run: SoakRunPlan, out: { code: number | null; stdout: string; stderr: string; elapsedMs: number }, replay: string): SoakRunResult {
  let json: ChaosJson | null = null
  try {
    json = JSON.parse(out.stdout) as ChaosJson
  } catch {
    json = null
  }
  const base = { seed: run.seed, nodes: run.nodes, witness: run.witness, elapsedMs: Math.round(out.elapsedMs) }
  if (json === null || typeof json.violationsByInvariant !== 'object') {
    const why = `the run ended without its report (exit ${out.code}): ${out.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 600)}`
    return {
      ...base,
      faults: 0,
      faultsPerKind: zeroKinds(),
      faultsNotAsPlanned: zeroKinds(),
      skippedKinds: [],
      failovers: 0,
      reads: 0,
      writes: 0,
      refusedWrites: 0,
      violationsByInvariant: { ...zeroInvariants(), 'run-completed': 1 },
      linearizability: 'none',
      ioPauseMaxMs: null,
      replay,
      violations: [why],
    }
  }
  const violationsByInvariant = { ...zeroInvariants(), ...json.violationsByInvariant }
  const failed = json.violations.length > 0 || out.code !== 0
  if (failed && json.violations.length === 0) violationsByInvariant['run-completed'] = 1
  return {
    ...base,
    faults: json.faultsApplied.length,
    faultsPerKind: { ...zeroKinds(), ...json.faultsPerKind },
    faultsNotAsPlanned: { ...zeroKinds(), ...json.faultsNotAsPlanned },
    skippedKinds: json.skippedKinds.map((s) => s.fault),
    failovers: json.failovers,
    reads: json.reads,
    writes: json.writes,
    refusedWrites: json.refusedWrites,
    violationsByInvariant,
    linearizability: json.linearizability.verdict,
    ioPauseMaxMs: json.ioPauseMs.max,
    ...(failed ? { replay, violations: json.violations.length > 0 ? json.violations.slice(0, 20) : [`exit ${out.code}`] } : {}),
  }
}

/** The totals over the runs. */
export function soakTotals(runs: readonly SoakRunResult[]): SoakReport['total'] {
  const faultsPerKind = zeroKinds()
  const faultsNotAsPlanned = zeroKinds()
  const violationsByInvariant = zeroInvariants()
  const linearizability: Record<Verdict, number> = { linearizable: 0, 'not-linearizable': 0, unknown: 0, none: 0 }
  const clusters: Record<string, number> = {}
  for (const r of runs) {
    for (const k of CHAOS_FAULTS) faultsPerKind[k] += r.faultsPerKind[k] ?? 0
    for (const k of CHAOS_FAULTS) faultsNotAsPlanned[k] += r.faultsNotAsPlanned[k] ?? 0
    for (const k of SOAK_INVARIANTS) violationsByInvariant[k] += r.violationsByInvariant[k] ?? 0
    linearizability[r.linearizability]++
    const key = `${r.nodes} nodes, ${r.witness} witness`
    clusters[key] = (clusters[key] ?? 0) + 1
  }
  const sum = (f: (r: SoakRunResult) => number) => runs.reduce((n, r) => n + f(r), 0)
  return {
    runs: runs.length,
    faults: sum((r) => r.faults),
    faultsPerKind,
    faultsNotAsPlanned,
    failovers: sum((r) => r.failovers),
    operations: { reads: sum((r) => r.reads), writes: sum((r) => r.writes), refusedWrites: sum((r) => r.refusedWrites) },
    violationsByInvariant,
    violations: Object.values(violationsByInvariant).reduce((a, b) => a + b, 0),
    linearizability,
    clusters,
  }
}

/** Runs the soak. Every run's cluster is taken down, and its folder removed (or kept in outDir when it failed). */
export async function runSoak(opts: SoakOptions, command: string): Promise<SoakReport> {
  const say = opts.log ?? (() => undefined)
  const started = monoNowMs()
  const base = mkdtempSync(join(tmpdir(), 'swlab-soak-'))
  const runs: SoakRunResult[] = []
  let injected = 0
  let interrupted = false
  try {
    // Runs go on until the faults asked for were injected: a run may inject fewer than it was
    // planned for (its clients ended early, a recovery ran long), and the plan is redrawn from there.
    for (let i = 0; injected < opts.faults && i < SOAK_FAULTS_MAX; i++) {
      if (opts.signal?.aborted) {
        interrupted = true
        break
      }
      const run = soakRun(i, opts.seed, opts.faults - injected)
      const dir = join(base, `run-${run.seed}`)
      const args = chaosArgs(run, dir, opts)
      const replay = replayCommand(run, opts)
      const t0 = monoNowMs()
      const out = await runChild(opts.cli, args, SOAK_RUN_TIMEOUT_MS, opts.signal)
      // Whatever the run left (it was stopped, it crashed before its own cleanup): down.
      await cleanUp(dir)
      if (out.aborted) {
        interrupted = true
        rmSync(dir, { recursive: true, force: true })
        break
      }
      let result = runResult(run, { ...out, elapsedMs: monoNowMs() - t0 }, replay)
      if (result.violations && opts.outDir) {
        const kept = join(opts.outDir, `run-${run.seed}`)
        // Keeping the evidence must not end the soak (and lose every run's figures).
        try {
          keep(dir, kept, out)
          result = { ...result, keptIn: kept }
        } catch (err) {
          say(`run ${i + 1} seed ${run.seed}: could not keep its folder in ${kept}: ${(err as Error).message}`)
        }
      }
      rmSync(dir, { recursive: true, force: true })
      runs.push(result)
      injected += result.faults
      // A run that injected nothing (it failed before its first fault) still counts against a bound.
      if (result.faults === 0 && runs.filter((r) => r.faults === 0).length >= 3) {
        say('three runs injected no fault: stopping')
        break
      }
      const v = Object.values(result.violationsByInvariant).reduce((a, b) => a + b, 0)
      say(
        `run ${i + 1} seed ${run.seed} (${run.nodes} nodes, ${run.witness} witness): ${result.faults} faults, ${result.failovers} failovers, ${result.writes} writes, ${result.reads} reads, ${result.refusedWrites} refused, ${result.linearizability}, ${v} violation(s), ${(result.elapsedMs / 1000).toFixed(0)} s; ${injected}/${opts.faults} faults`,
      )
    }
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
  const total = soakTotals(runs)
  return {
    command,
    seed: opts.seed,
    faultsAsked: opts.faults,
    networkFaults: opts.netns ? 'nftables' : 'self-applied',
    csvVolumes: opts.csvSize !== undefined,
    spacing: 'dense: faults held 0.4-1.2 s, each healed, then at least 0.2-0.6 s and until the cluster is whole again (quorate, every node serving, every CSV served once) before the next: one fault at a time',
    elapsedMs: Math.round(monoNowMs() - started),
    interrupted,
    total,
    failing: runs.filter((r) => r.violations).map((r) => ({ seed: r.seed, command: r.replay ?? '', violations: r.violations ?? [] })),
    runs,
  }
}

interface ChildOutput {
  code: number | null
  stdout: string
  stderr: string
  aborted: boolean
}

/** The most output of a run kept in memory (its JSON report is far smaller). */
const CHILD_OUTPUT_MAX_BYTES = 64 * 1024 * 1024

/** Runs a chaos run in a process group of its own (a Ctrl-C reaches the soak, which stops the run). */
function runChild(cli: string, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<ChildOutput> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [cli, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let aborted = false
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < CHILD_OUTPUT_MAX_BYTES) stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-64 * 1024)
    })
    const stopGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig)
      } catch {
        // Already gone.
      }
    }
    const stop = () => {
      stopGroup('SIGTERM')
      setTimeout(() => stopGroup('SIGKILL'), 3000).unref()
    }
    const timer = setTimeout(() => {
      stderr += `\nthe run took longer than ${timeoutMs} ms: stopped`
      stop()
    }, timeoutMs)
    const onAbort = () => {
      aborted = true
      stop()
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    child.on('close', (code) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      resolve({ code, stdout, stderr, aborted })
    })
  })
}

/** Takes down whatever a run left in its folder: processes, namespace, volumes. */
async function cleanUp(dir: string): Promise<void> {
  if (!existsSync(join(dir, 'run.json'))) return
  try {
    if (existsSync(join(dir, 'cluster.json'))) await Cluster.open(dir).down()
    else await Cluster.downLeftovers(dir)
  } catch {
    await Cluster.downLeftovers(dir).catch(() => undefined)
  }
}

/** Keeps a failing run's logs, histories and output (not its volume images). */
export function keep(dir: string, to: string, out: Pick<ChildOutput, 'stdout' | 'stderr'>): void {
  mkdirSync(to, { recursive: true })
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir)) {
      if (entry === 'volumes' || entry === 'sockets') continue
      // Unix sockets (the storage array's array.sock) cannot be copied, and need not be.
      cpSync(join(dir, entry), join(to, entry), { recursive: true, filter: (src) => !lstatSync(src).isSocket() })
    }
  }
  writeFileSync(join(to, 'chaos-run.json'), out.stdout)
  writeFileSync(join(to, 'chaos-run.stderr'), out.stderr)
}
