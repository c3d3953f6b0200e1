// The chaos runner: random faults at seeded random times against a cluster while failover
// clients write, then the invariants of DESIGN section 5 that can be checked from outside:
// one serving owner per CSV at any instant (from the nodes' serving logs), every acknowledged
// write present with its hash, every replayed write applied once, every client back at work
// after the last fault, every notification a registered client was owed sent and delivered.
// The same seed gives the same fault schedule.
import { witnessKeepAliveTimeoutSFor } from '../../core/failover/witness-loss.js'
import { runWorkload, ZERO_BLOCK_SHA256, type WorkloadResult } from '../../client/workload.js'
import { checkHistory, type HistoryVerdict } from '../../core/history/linearizability-check.js'
import { monoNowMs } from '../../runtime/clock.js'
import { join } from 'node:path'
import { sleep } from '../../runtime/sleep.js'
import { Cluster } from '../../cluster/cluster.js'
import { Prng } from '../../core/sim/prng.js'
import { notificationViolations, type NotificationCounts, type Outage } from './chaos-notifications.js'
import { replayViolations, type ReplayCounts } from './chaos-replays.js'
import { clientEventsPath, nodeLogPath, readLogLines, type LogLine } from '../../cluster/run-logs.js'
import { clientSourceAddress } from '../../cluster/net-fault-rules.js'

export type ChaosFault = 'kill' | 'pause' | 'partition' | 'delay'

export interface ChaosOptions {
  readonly cluster: Cluster
  readonly seed: number
  readonly durationMs: number
  readonly faults: readonly ChaosFault[]
  readonly clients: number
  readonly log?: (line: string) => void
}

export interface ChaosEvent {
  readonly atMs: number
  readonly fault: ChaosFault
  readonly node: string
  readonly forMs: number
}

export interface ChaosReport {
  readonly seed: number
  readonly durationMs: number
  readonly faultsInjected: readonly ChaosEvent[]
  readonly failovers: number
  readonly ioPauseMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null }
  readonly writes: number
  readonly notifications: NotificationCounts
  readonly replays: ReplayCounts
  /** The clients' reads and writes, checked as a register per block (Wing–Gong search). */
  readonly linearizability: LinearizabilitySummary
  readonly violations: readonly string[]
  readonly clients: readonly WorkloadResult[]
}

export interface LinearizabilitySummary extends Omit<HistoryVerdict, 'violations'> {
  /** Where each client's history is (NDJSON of RegisterOp). */
  readonly historyDir: string
  readonly violations: readonly { key: string; fromMs: number; toMs: number; ops: number }[]
}

/** Share of a chaos client's operations that read back a block it wrote. */
const CHAOS_READ_FRACTION = 0.25
/** Per block register, the configurations the linearizability search may try before it answers "unknown". */
const CHAOS_SEARCH_STATES_MAX = 200_000

/** The fault schedule of a seed: one fault at a time, each healed before the next. */
export function chaosSchedule(seed: number, durationMs: number, faults: readonly ChaosFault[], nodeIds: readonly string[]): ChaosEvent[] {
  const rng = new Prng(seed)
  const events: ChaosEvent[] = []
  let t = 1500 + rng.int(0, 1000)
  const quietEndMs = durationMs - 3000
  for (let i = 0; i < 1000 && t < quietEndMs; i++) {
    const forMs = rng.int(1200, 2500)
    events.push({ atMs: t, fault: rng.pick(faults), node: rng.pick(nodeIds), forMs: Math.min(forMs, quietEndMs - t) })
    t += forMs + rng.int(1500, 3500)
  }
  return events
}

/** How long a notification may be on its way, and how soon after a fault it may be cut off. */
const NOTIFICATION_GRACE_MS = 1000

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const { cluster } = opts
  const say = opts.log ?? (() => undefined)
  const nodeIds = cluster.config.nodes.map((n) => n.id)
  const schedule = chaosSchedule(opts.seed, opts.durationMs, opts.faults, nodeIds)
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new Error('the cluster has no credentials')
  await cluster.waitFor((s) => s.quorum && s.nodes.every((n) => n.serving), 30_000)
  const startMono = monoNowMs()
  const stoppedAt = new Map<string, number[]>()
  const outages = new Map<string, Outage[]>()
  let lastFaultEndMono = startMono
  const clients = Array.from({ length: opts.clients }, (_, i) =>
    runWorkload(
      {
        resolve: () => cluster.addresses(),
        netName: cluster.config.name,
        share: cluster.config.shares[i % cluster.config.shares.length].name,
        credential,
        clientName: `chaos-${opts.seed}-${i}`,
        preferredIp: cluster.config.nodes[i % nodeIds.length].clientAddress,
        // A paused witness node is noticed within the profile's keep-alive and a grace (6 s in fast).
        keepAliveTimeoutS: witnessKeepAliveTimeoutSFor(cluster.config.profile),
        // In a namespaced cluster each client has a source address of its own (nftables can cut it alone).
        ...(cluster.config.network ? { localAddress: clientSourceAddress(i + 1) } : {}),
      },
      {
        kind: i % 2 === 0 ? 'seqwrite' : 'randwrite',
        durationMs: opts.durationMs,
        path: `chaos-${opts.seed}-${i}.bin`,
        eventLog: clientEventsPath(cluster.dir),
        recordHistory: true,
        readFraction: CHAOS_READ_FRACTION,
        historyFile: join(historyDir(cluster.dir), `chaos-${opts.seed}-${i}.ndjson`),
      },
    ),
  )
  for (const e of schedule) {
    const wait = startMono + e.atMs - monoNowMs()
    if (wait > 0) await sleep(wait)
    say(`${(e.atMs / 1000).toFixed(1)}s ${e.fault} ${e.node} for ${e.forMs} ms`)
    const at = monoNowMs()
    if (e.fault === 'kill' || e.fault === 'pause') stoppedAt.set(e.node, [...(stoppedAt.get(e.node) ?? []), at])
    if (e.fault === 'kill') cluster.kill(e.node)
    else if (e.fault === 'pause') cluster.pause(e.node)
    else if (e.fault === 'partition') await cluster.partition([[e.node], nodeIds.filter((id) => id !== e.node)])
    else await cluster.delay(e.node, 150)
    await sleep(e.forMs)
    if (e.fault === 'kill') await cluster.start(e.node, 30_000).catch((err: Error) => say(`start ${e.node}: ${err.message}`))
    else if (e.fault === 'pause') cluster.resume(e.node)
    else if (e.fault === 'partition') await cluster.heal()
    else await cluster.delay(e.node, 0)
    lastFaultEndMono = monoNowMs()
    if (e.fault === 'kill' || e.fault === 'pause') outages.set(e.node, [...(outages.get(e.node) ?? []), { from: at, to: lastFaultEndMono }])
  }
  const results = await Promise.all(clients)
  const violations: string[] = []
  for (const r of results) {
    for (const lost of r.lost) violations.push(`${r.client}: acknowledged write at ${lost.offset} is not on the share`)
    for (const err of r.errors) violations.push(`${r.client}: ${err}`)
  }
  // Every client was back at work after the last fault: it wrote after the fault had healed.
  for (const r of results) {
    if (r.lastWriteMono === null) violations.push(`${r.client}: no write at all`)
    else if (r.lastWriteMono < lastFaultEndMono) violations.push(`${r.client}: no write after the last fault healed`)
  }
  violations.push(...servingOverlaps(cluster, stoppedAt))
  const nodeLogs = new Map<string, LogLine[]>(
    nodeIds.map((id) => [id, readLogLines(nodeLogPath(cluster.dir, id), (raw) => raw.includes('"witness.') || raw.includes('"node.started"') || raw.includes('"smb.write.replayed"'))]),
  )
  // Invariant 8: no fault makes a node fail a request with an internal error.
  for (const id of nodeIds) {
    for (const l of readLogLines(nodeLogPath(cluster.dir, id), (raw) => raw.includes('"level":50') || raw.includes('"level":60'))) {
      violations.push(`${id} logged ${l.event}: ${String(l.error ?? l.msg ?? '').slice(0, 200)}`)
    }
  }
  const replays = replayViolations(nodeLogs)
  violations.push(...replays.violations)
  const notifications = notificationViolations({
    nodeLogs,
    clientEvents: readLogLines(clientEventsPath(cluster.dir), (raw) => raw.includes('"client.notified"') || raw.includes('"client.registered"')),
    nodeAddresses: new Map(cluster.config.nodes.map((n) => [n.id, [n.clientAddress]])),
    clients: new Set(results.map((r) => r.client)),
    outages,
    clientsStopMono: startMono + opts.durationMs,
    graceMs: NOTIFICATION_GRACE_MS,
  })
  violations.push(...notifications.violations)
  const checked = checkHistory(
    results.flatMap((r) => r.history),
    { initialValue: ZERO_BLOCK_SHA256, maxStatesPerRegister: CHAOS_SEARCH_STATES_MAX },
  )
  for (const v of checked.violations) {
    const ops = v.ops.map((op) => `${op.kind} ${op.value?.slice(0, 8) ?? '?'} [${Math.round(op.invokeMs - startMono)}, ${op.completeMs === null ? 'no answer' : Math.round(op.completeMs - startMono)}] ms`)
    violations.push(`not linearizable: ${v.key} between ${Math.round(v.fromMs - startMono)} and ${Math.round(v.toMs - startMono)} ms: ${ops.join('; ')}`)
  }
  for (const r of results) if (r.historyTruncated) violations.push(`${r.client}: history truncated; the linearizability check saw only its beginning`)
  const linearizability: LinearizabilitySummary = {
    ...checked,
    historyDir: historyDir(cluster.dir),
    violations: checked.violations.map((v) => ({ key: v.key, fromMs: Math.round(v.fromMs - startMono), toMs: Math.round(v.toMs - startMono), ops: v.ops.length })),
  }
  const pauses = results.flatMap((r) => r.failovers.map((f) => f.ioPauseMs ?? 0)).sort((a, b) => a - b)
  const q = (p: number) => (pauses.length ? pauses[Math.min(pauses.length - 1, Math.floor(p * pauses.length))] : null)
  return {
    seed: opts.seed,
    durationMs: opts.durationMs,
    faultsInjected: schedule,
    failovers: results.reduce((n, r) => n + r.failovers.length, 0),
    ioPauseMs: { p50: q(0.5), p99: q(0.99), max: pauses.length ? pauses[pauses.length - 1] : null },
    writes: results.reduce((n, r) => n + r.writes, 0),
    notifications: notifications.counts,
    replays: replays.counts,
    linearizability,
    violations,
    clients: results,
  }
}

/**
 * Invariant 1 from the serving logs: per CSV, the intervals in which nodes served it (from
 * csv.service.started to csv.service.stopped, cut short where the process was killed or
 * frozen) never overlap between two nodes.
 */
export function servingOverlaps(cluster: Cluster, stoppedAt: ReadonlyMap<string, readonly number[]>): string[] {
  const intervals: Array<{ node: string; csv: string; from: number; to: number }> = []
  const endMono = monoNowMs()
  for (const n of cluster.config.nodes) {
    const open = new Map<string, number>()
    const stops = [...(stoppedAt.get(n.id) ?? [])].sort((a, b) => a - b)
    const cut = (from: number, to: number) => Math.min(to, stops.find((s) => s >= from) ?? to)
    const close = (csv: string, atMono: number) => {
      const from = open.get(csv)
      if (from === undefined) return
      intervals.push({ node: n.id, csv, from, to: cut(from, atMono) })
      open.delete(csv)
    }
    const lines = readLogLines(nodeLogPath(cluster.dir, n.id), (raw) => raw.includes('csv.service.') || raw.includes('"node.started"'))
    for (const l of lines) {
      const csv = String(l.csv)
      if (l.event === 'node.started') {
        // A new process: whatever the last one served ended when it was killed.
        for (const c of [...open.keys()]) close(c, l.mono)
      } else if (l.event === 'csv.service.started') {
        close(csv, l.mono)
        open.set(csv, l.mono)
      } else if (l.event === 'csv.service.stopped') close(csv, l.mono)
    }
    for (const [csv, from] of open) intervals.push({ node: n.id, csv, from, to: cut(from, endMono) })
  }
  const violations: string[] = []
  for (const a of intervals) {
    for (const b of intervals) {
      if (a.node >= b.node || a.csv !== b.csv) continue
      if (a.from < b.to && b.from < a.to) violations.push(`${a.csv} served by ${a.node} and ${b.node} at once (${Math.round(Math.max(a.from, b.from))})`)
    }
  }
  return violations
}

/** The folder of the chaos clients' histories in a cluster's folder. */
export function historyDir(clusterDir: string): string {
  return join(clusterDir, 'history')
}
