// `swlab chaos matrix`: runs the cells of chaos-matrix-cells.ts, each in a fresh 3-node cluster
// in a network namespace of its own (`--netns`, file quorum witness, fast profile), and measures
// them. Per trial: the leader L, the owner O of the client's CSV (moved off the leader first) and
// the third node X; the node lost is the one playing the cell's role, and the client's data and
// witness nodes are chosen among the others (so a row measures its role alone, as far as three
// nodes allow; what else the node played is reported). A failover client (`client run`, with
// its own source address) writes throughout; the fault is applied by the harness; the recovery
// metrics are taken from the cluster's status (polled) and the client's ledger and events, all
// on the cross-process monotonic clock. The cluster is taken down after each trial.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster, type ClusterStatus } from '../../cluster/cluster.js'
import { clientSourceAddress } from '../../cluster/net-fault-rules.js'
import { waitUntil } from '../../cluster/processes.js'
import { monoNowMs } from '../../runtime/clock.js'
import { packageRoot } from '../../proto/loader.js'
import { cellId, clusterSizeOf, MATRIX_REQUEST_TIMEOUT_MS, type MatrixCell, type MatrixMetric, type MatrixRole } from './chaos-matrix-cells.js'

const CLI = join(packageRoot(), 'dist', 'cli', 'swlab.js')

export interface MatrixOptions {
  /** A folder of its own: each trial's cluster goes in a subfolder. */
  readonly dir: string
  readonly cells: readonly MatrixCell[]
  readonly trials: number
  /** How long each trial is watched after the fault. */
  readonly observeMs: number
  readonly log?: (line: string) => void
}

export interface TrialResult {
  readonly trial: number
  /** The node lost, and every role it played at the fault. */
  readonly node: string
  readonly played: readonly MatrixRole[]
  readonly dataNode: string
  readonly witnessNode: string
  /** Per metric of the cell: ms from the fault to the recovery, null when not seen in the window. */
  readonly recoveredMs: Readonly<Partial<Record<MatrixMetric, number | null>>>
  /** The client's longest pause between two acknowledged writes around the fault. */
  readonly ioPauseMs: number | null
  readonly failovers: number
  readonly witnessLosses: number
  readonly lostWrites: number
  readonly clientErrors: readonly string[]
  /** Status samples in which two nodes served the client's CSV at once. */
  readonly servedTwiceSamples: number
  readonly withinBounds: boolean
  readonly problems: readonly string[]
}

export interface CellReport {
  readonly cell: string
  readonly bounds: MatrixCell['bounds']
  readonly limit?: string
  readonly unaffected?: string
  readonly trials: readonly TrialResult[]
  /** Per metric, over the trials that recovered: p50 and max (ms). */
  readonly measured: Readonly<Partial<Record<MatrixMetric, { readonly p50: number; readonly max: number; readonly missed: number }>>>
  readonly ok: boolean
}

export interface MatrixReport {
  readonly profile: 'fast'
  /** 3, and 2 for the quorum witness holder's row (clusterSizeOf). */
  readonly nodes: string
  readonly quorumWitness: 'file'
  readonly requestTimeoutMs: number
  readonly trialsPerCell: number
  readonly cells: readonly CellReport[]
  readonly failed: readonly string[]
}

const CLIENT_SOURCE = clientSourceAddress(1)
/** The client writes this many times before the fault. */
const WARMUP_WRITES = 20
/** A pause between two acknowledged writes this long is the client stopping (it writes every few ms). */
const PAUSE_NOTICED_MS = 500
/** The client runs this much longer than the window watched. */
const CLIENT_SLACK_MS = 10_000

export async function runMatrix(opts: MatrixOptions): Promise<MatrixReport> {
  const cells: CellReport[] = []
  for (const cell of opts.cells) {
    const trials: TrialResult[] = []
    for (let k = 1; k <= opts.trials; k++) {
      const dir = join(opts.dir, `${cellId(cell).replace('/', '-')}-${k}`)
      opts.log?.(`${cellId(cell)} trial ${k}: ${dir}`)
      trials.push(await runTrial(cell, k, dir, opts))
      const t = trials.at(-1)!
      opts.log?.(`${cellId(cell)} trial ${k}: ${JSON.stringify({ node: t.node, played: t.played, recoveredMs: t.recoveredMs, ioPauseMs: t.ioPauseMs, ok: t.withinBounds, problems: t.problems })}`)
    }
    const measured: Record<string, { p50: number; max: number; missed: number }> = {}
    const metrics = new Set<MatrixMetric>([...cell.bounds.map((b) => b.metric), ...trials.flatMap((t) => Object.keys(t.recoveredMs) as MatrixMetric[])])
    for (const m of metrics) {
      const values = trials.map((t) => t.recoveredMs[m]).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b)
      measured[m] = { p50: values.length ? values[Math.floor((values.length - 1) / 2)] : -1, max: values.length ? values.at(-1)! : -1, missed: trials.length - values.length }
    }
    cells.push({ cell: cellId(cell), bounds: cell.bounds, ...(cell.limit ? { limit: cell.limit } : {}), ...(cell.unaffected ? { unaffected: cell.unaffected } : {}), trials, measured, ok: trials.every((t) => t.withinBounds) })
  }
  return {
    profile: 'fast',
    nodes: '3; 2 for the quorum witness holder',
    quorumWitness: 'file',
    requestTimeoutMs: MATRIX_REQUEST_TIMEOUT_MS,
    trialsPerCell: opts.trials,
    cells,
    failed: cells.filter((c) => !c.ok).map((c) => c.cell),
  }
}

interface ClientRun {
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>
}

function startClient(dir: string, dataNode: string, witnessNode: string, durationS: number): ClientRun {
  const args = [CLI, 'client', 'run', '--dir', dir, '--json', '--node', dataNode, '--witness-node', witnessNode, '--source-address', CLIENT_SOURCE, '--duration', String(durationS), '--request-timeout', String(MATRIX_REQUEST_TIMEOUT_MS)]
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
  return { child, exited }
}

function clientFile(dir: string, suffix: string): string {
  const folder = join(dir, 'clients')
  const name = existsSync(folder) ? readdirSync(folder).find((f) => f.endsWith(suffix)) : undefined
  return name ? join(folder, name) : ''
}

function ndjson(path: string): Record<string, unknown>[] {
  if (path === '' || !existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}

/** The roles a node plays in this status, for this client. */
function rolesOf(s: ClusterStatus, node: string, csv: string, dataNode: string, witnessNode: string): MatrixRole[] {
  const roles: MatrixRole[] = []
  if (node === dataNode) roles.push('data-node')
  if (node === witnessNode) roles.push('witness-node')
  if (s.csvs.find((c) => c.name === csv)?.owner === node) roles.push('csv-owner')
  if (s.leader === node) roles.push('leader')
  if (s.witness.holder === node) roles.push('quorum-witness-holder')
  return roles
}

async function runTrial(cell: MatrixCell, trial: number, dir: string, opts: MatrixOptions): Promise<TrialResult> {
  mkdirSync(dir, { recursive: true })
  const problems: string[] = []
  const nodes = clusterSizeOf(cell)
  let cluster: Cluster
  try {
    cluster = await Cluster.up({ dir, nodes, netns: true, witness: 'file' })
  } catch (err) {
    // A cluster that did not come up is this trial's failure, not the matrix's end.
    return { trial, node: '', played: [], dataNode: '', witnessNode: '', recoveredMs: {}, ioPauseMs: null, failovers: -1, witnessLosses: -1, lostWrites: -1, clientErrors: [], servedTwiceSamples: 0, withinBounds: false, problems: [`cluster up: ${(err as Error).message}`] }
  }
  let client: ClientRun | null = null
  let frozen = ''
  try {
    const csv = cluster.config.shares.find((s) => s.name === 'share-1')!.csv
    // With two nodes the quorum witness is the third vote: its holder is known once it is taken.
    let s = await cluster.waitFor((x) => x.quorum && (nodes > 2 || x.witness.holder !== '') && x.nodes.every((n) => n.serving) && x.csvs.every((c) => c.servedBy.length === 1 && c.owner !== ''), 30_000)
    const leader = s.leader
    // The client's CSV on a node that is not the leader: the rows of the two stay apart.
    if (nodes > 2 && s.csvs.find((c) => c.name === csv)!.owner === leader) {
      const to = s.nodes.find((n) => n.id !== leader)!.id
      await cluster.moveCsv(csv, to)
      s = await cluster.waitFor((x) => x.csvs.find((c) => c.name === csv)!.owner === to && x.csvs.find((c) => c.name === csv)!.servedBy.join() === to, 20_000)
    }
    const owner = s.csvs.find((c) => c.name === csv)!.owner
    const third = s.nodes.find((n) => n.id !== leader && n.id !== owner)?.id ?? ''
    const holder = s.witness.holder
    const { target, dataNode, witnessNode } = pick(cell.role, { leader, owner, third, holder })
    const played = rolesOf(s, target, csv, dataNode, witnessNode)
    if (!played.includes(cell.role)) problems.push(`${target} does not play ${cell.role}`)

    // It ends by itself (and checks its ledger) a little after the window: ready takes a few s.
    const durationS = Math.ceil((opts.observeMs + CLIENT_SLACK_MS) / 1000)
    client = startClient(dir, dataNode, witnessNode, durationS)
    const ip = (id: string) => cluster.nodeConfig(id).clientAddress
    const ready = await waitUntil(() => {
      const registered = ndjson(clientFile(dir, '.events.ndjson')).some((e) => e.event === 'client.registered' && e.witness === ip(witnessNode))
      return registered && ndjson(clientFile(dir, '.ledger.ndjson')).length >= WARMUP_WRITES
    }, 30_000, 50)
    if (!ready) throw new Error(`the client did not register with ${witnessNode} and write within 30 s`)

    const faultMono = monoNowMs()
    const others = cluster.config.nodes.map((n) => n.id).filter((id) => id !== target)
    // Every rule of a cut in one nft transaction: the fault starts at once.
    const into = others.map((o) => ({ from: o, to: target, port: 'peer' as const }))
    const outOf = others.map((o) => ({ from: target, to: o, port: 'peer' as const }))
    const fromClient = { from: CLIENT_SOURCE, to: target, port: 'all' as const }
    switch (cell.way) {
      case 'kill':
        cluster.kill(target)
        break
      case 'freeze':
        cluster.pause(target)
        frozen = target
        break
      case 'cut-both':
        await cluster.cuts([...into, ...outOf, fromClient])
        break
      case 'cut-in':
        await cluster.cuts([...into, fromClient])
        break
      case 'cut-out':
        await cluster.cuts(outOf)
        break
      case 'cut-clients':
        await cluster.cuts([fromClient])
        break
    }

    // Watch: the cluster's status, polled; the client's files at the end.
    const recovered: Partial<Record<MatrixMetric, number | null>> = {}
    const statusMetrics = cell.bounds.map((b) => b.metric).filter((m) => m === 'csv-served-elsewhere' || m === 'new-leader' || m === 'witness-rearbitrated')
    for (const m of statusMetrics) recovered[m] = null
    let servedTwice = 0
    const endMono = faultMono + opts.observeMs
    while (monoNowMs() < endMono) {
      const st = await cluster.status().catch(() => null)
      const at = Math.round(monoNowMs() - faultMono)
      if (st) {
        const c = st.csvs.find((x) => x.name === csv)!
        if (c.servedBy.length > 1) servedTwice++
        if (recovered['csv-served-elsewhere'] === null && c.owner !== '' && c.owner !== target && c.servedBy.length === 1 && c.servedBy[0] === c.owner) recovered['csv-served-elsewhere'] = at
        if (recovered['new-leader'] === null && st.quorum && st.leader !== '' && st.leader !== target) recovered['new-leader'] = at
        if (recovered['witness-rearbitrated'] === null && st.witness.holder !== '' && st.witness.holder !== target) recovered['witness-rearbitrated'] = at
      }
      await new Promise((r) => setTimeout(r, 100))
    }

    // Heal before the client's final check of its ledger (it reads through whichever node it is on).
    if (frozen) {
      cluster.resume(frozen)
      frozen = ''
    }
    if (cell.way.startsWith('cut')) await cluster.heal()

    const ledger = ndjson(clientFile(dir, '.ledger.ndjson')).map((e) => Number(e.atMs)).sort((a, b) => a - b)
    const events = ndjson(clientFile(dir, '.events.ndjson'))
    const before = ledger.filter((a) => a <= faultMono).at(-1) ?? faultMono
    const after = ledger.filter((a) => a > faultMono && a <= endMono)
    // The longest pause from the last write before the fault through the window, and the end
    // of the first one long enough to be the fault's (0: the client never stopped that long).
    let pause = 0
    let firstStopEnd: number | null = null
    let prev = before
    for (const a of after) {
      pause = Math.max(pause, a - prev)
      if (firstStopEnd === null && a - prev >= PAUSE_NOTICED_MS) firstStopEnd = a
      prev = a
    }
    // Not back: no write since the fault, or stopped at the end of the window.
    const stalledAtEnd = endMono - prev >= PAUSE_NOTICED_MS
    const clientBack = after.length === 0 || stalledAtEnd ? null : firstStopEnd === null ? 0 : Math.round(firstStopEnd - faultMono)
    if (cell.bounds.some((b) => b.metric === 'client-back')) recovered['client-back'] = clientBack
    const rereg = events.find((e) => e.event === 'client.witness.reregistered' && Number(e.mono) > faultMono)
    const lostEvents = events.filter((e) => e.event === 'client.witness.lost' && Number(e.mono) > faultMono)
    if (cell.bounds.some((b) => b.metric === 'witness-reregistered') || rereg) recovered['witness-reregistered'] = rereg ? Math.round(Number(rereg.atMs ?? rereg.mono) - faultMono) : null

    const out = await Promise.race([client.exited, new Promise<null>((r) => setTimeout(() => r(null), durationS * 1000 + 60_000))])
    let lostWrites = -1
    let failovers = -1
    let clientErrors: string[] = []
    if (out === null) problems.push('the client did not end within 60 s of its duration')
    else {
      try {
        const r = JSON.parse(out.stdout) as { lost: unknown[]; failovers: unknown[]; errors: string[] }
        lostWrites = r.lost.length
        failovers = r.failovers.length
        clientErrors = r.errors
      } catch {
        problems.push(`the client's output is not JSON: ${out.stderr.trim().split('\n').at(-1) ?? ''}`)
      }
    }
    if (lostWrites > 0) problems.push(`${lostWrites} acknowledged write(s) lost`)
    if (servedTwice > 0) problems.push(`${csv} served by two nodes in ${servedTwice} status sample(s)`)
    for (const b of cell.bounds) {
      const v = recovered[b.metric]
      if (v === null || v === undefined) problems.push(`${b.metric}: not within the ${opts.observeMs} ms watched`)
      else if (v > b.withinMs) problems.push(`${b.metric}: ${v} ms > bound ${b.withinMs} ms`)
    }
    return {
      trial,
      node: target,
      played,
      dataNode,
      witnessNode,
      recoveredMs: recovered,
      ioPauseMs: after.length ? Math.round(pause) : null,
      failovers,
      witnessLosses: lostEvents.length,
      lostWrites,
      clientErrors,
      servedTwiceSamples: servedTwice,
      withinBounds: problems.length === 0,
      problems,
    }
  } catch (err) {
    problems.push((err as Error).message)
    return { trial, node: '', played: [], dataNode: '', witnessNode: '', recoveredMs: {}, ioPauseMs: null, failovers: -1, witnessLosses: -1, lostWrites: -1, clientErrors: [], servedTwiceSamples: 0, withinBounds: false, problems }
  } finally {
    if (client && client.child.exitCode === null) {
      try {
        process.kill(-client.child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
    if (frozen) cluster.resume(frozen)
    await cluster.down().catch((err: Error) => problems.push(`down: ${err.message}`))
  }
}

/**
 * The node to lose and the client's data and witness nodes, among leader L, the CSV's owner O
 * (not L) and the third node X: the lost node plays the role, the client's two nodes are others
 * where three nodes allow it.
 */
export function pick(role: MatrixRole, n: { leader: string; owner: string; third: string; holder: string }): { target: string; dataNode: string; witnessNode: string } {
  switch (role) {
    case 'data-node':
      return { target: n.third, dataNode: n.third, witnessNode: n.owner }
    case 'witness-node':
      return { target: n.third, dataNode: n.owner, witnessNode: n.third }
    case 'csv-owner':
      return { target: n.owner, dataNode: n.third, witnessNode: n.leader }
    case 'leader':
      return { target: n.leader, dataNode: n.third, witnessNode: n.owner }
    case 'quorum-witness-holder': {
      // Two nodes (clusterSizeOf): the client's data node is the other, its witness node the holder.
      const other = [n.leader, n.owner, n.third].find((id) => id !== '' && id !== n.holder) ?? ''
      return { target: n.holder, dataNode: other, witnessNode: n.holder }
    }
  }
}
