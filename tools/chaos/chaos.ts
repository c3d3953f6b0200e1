// The chaos runner: random faults at seeded random times against a cluster while failover
// clients write, then the invariants of DESIGN section 5 that can be checked from outside:
// one serving owner per CSV at any instant (from the nodes' serving logs), every acknowledged
// write present with its hash, every replayed write applied once, every client back at work
// after the last fault, every notification a registered client was owed sent and delivered.
// The same seed gives the same fault schedule.
import { witnessKeepAliveTimeoutSFor } from '../../core/failover/witness-loss.js'
import { BLOCK_BYTES as WORKLOAD_BLOCK_BYTES, runWorkload, ZERO_BLOCK_SHA256, type WorkloadResult } from '../../client/workload.js'
import { checkHistory, type HistoryVerdict } from '../../core/history/linearizability-check.js'
import { monoNowMs } from '../../runtime/clock.js'
import { join } from 'node:path'
import { sleep } from '../../runtime/sleep.js'
import { Cluster, type ClusterStatus } from '../../cluster/cluster.js'
import { csvVolumes } from '../../cluster/csv-volumes.js'
import { chaosSchedule, countByKind, NETNS_FAULTS, NORMAL_SPACING, VOLUME_FAULTS, type ChaosEvent, type ChaosFault, type ChaosSpacing } from './chaos-schedule.js'
import { notificationViolations, type NotificationCounts, type Outage } from './chaos-notifications.js'
import { replayViolations, type ReplayCounts } from './chaos-replays.js'
import { clientEventsPath, nodeLogPath, readLogLines, type LogLine } from '../../cluster/run-logs.js'
import { clientSourceAddress } from '../../cluster/net-fault-rules.js'

export { chaosSchedule, CHAOS_FAULTS, NETNS_FAULTS, VOLUME_FAULTS, NORMAL_SPACING, DENSE_SPACING, countByKind, type ChaosFault, type ChaosEvent, type ChaosSpacing } from './chaos-schedule.js'

export interface ChaosOptions {
  readonly cluster: Cluster
  readonly seed: number
  readonly durationMs: number
  readonly faults: readonly ChaosFault[]
  readonly clients: number
  /** How densely faults follow each other (default NORMAL_SPACING). */
  readonly spacing?: ChaosSpacing
  /** Inject at most this many faults. */
  readonly maxFaults?: number
  readonly log?: (line: string) => void
}

/** A fault as it was applied: the node it hit (the leader, a client's witness node) and what it did. */
export interface AppliedFault {
  readonly atMs: number
  readonly fault: ChaosFault
  readonly node: string
  readonly forMs: number
  readonly detail: string
  /** False when it could not be applied as its kind says (the move was refused, the client had no registration): a plain kill or freeze instead, or nothing. */
  readonly asPlanned: boolean
}

/** The invariants a chaos run checks, each counted on its own. */
export const INVARIANTS = [
  'one-serving-owner',
  'acknowledged-writes-present',
  'replays-once',
  'clients-back-at-work',
  'notifications-delivered',
  'linearizable',
  'no-internal-errors',
  'clients-without-errors',
  'cluster-recovers',
] as const
export type Invariant = (typeof INVARIANTS)[number]

export interface ChaosReport {
  readonly seed: number
  readonly durationMs: number
  readonly faultsInjected: readonly ChaosEvent[]
  /** The same faults as applied, with the node each really hit. */
  readonly faultsApplied: readonly AppliedFault[]
  readonly faultsPerKind: Record<ChaosFault, number>
  /** Of those, the faults not applied as their kind says (AppliedFault.asPlanned false), per kind. */
  readonly faultsNotAsPlanned: Record<ChaosFault, number>
  /** Kinds asked for but not injected, and why (no --netns, no --csv-size). */
  readonly skippedKinds: readonly { fault: ChaosFault; reason: string }[]
  /** Wall time from the clients' start to their stop. */
  readonly elapsedMs: number
  readonly failovers: number
  readonly ioPauseMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null }
  readonly writes: number
  readonly reads: number
  /** Writes the share refused (STATUS_DISK_FULL, MEDIA_WRITE_PROTECTED): answered, not lost. */
  readonly refusedWrites: number
  readonly notifications: NotificationCounts
  readonly replays: ReplayCounts
  /** The clients' reads and writes, checked as a register per block (Wing–Gong search). */
  readonly linearizability: LinearizabilitySummary
  readonly violations: readonly string[]
  readonly violationsByInvariant: Record<Invariant, number>
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
/** How long the cluster may take to be whole again after a heal before the next fault (else a violation). */
const RECOVERY_BOUND_MS = 30_000
/** The clients stop at most this long after the duration, if the faults ran late (recoveries took long). */
const CLIENTS_OVERRUN_MAX_MS = 600_000

/** How long a notification may be on its way, and how soon after a fault it may be cut off. */
const NOTIFICATION_GRACE_MS = 1000

/** Whole: quorate, every node serving, every CSV served by one node. */
function whole(s: ClusterStatus): boolean {
  return s.quorum && s.nodes.every((n) => n.serving) && s.csvs.every((c) => c.servedBy.length === 1)
}

/** Kinds this cluster cannot take, with the reason. */
export function unsupportedKinds(cluster: Cluster, faults: readonly ChaosFault[]): { fault: ChaosFault; reason: string }[] {
  const out: { fault: ChaosFault; reason: string }[] = []
  for (const f of faults) {
    if (NETNS_FAULTS.includes(f) && !cluster.config.network) out.push({ fault: f, reason: 'needs a cluster in a network namespace (--netns, root): the nodes cannot cut themselves one way or from clients only' })
    else if (VOLUME_FAULTS.includes(f) && csvVolumes(cluster.dir).length === 0) out.push({ fault: f, reason: 'needs CSVs on volumes of their own (--csv-size, root)' })
  }
  return out
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const { cluster } = opts
  const say = opts.log ?? (() => undefined)
  const nodeIds = cluster.config.nodes.map((n) => n.id)
  const skippedKinds = unsupportedKinds(cluster, opts.faults)
  const kinds = opts.faults.filter((f) => !skippedKinds.some((s) => s.fault === f))
  for (const s of skippedKinds) say(`skipping ${s.fault}: ${s.reason}`)
  const schedule =
    kinds.length === 0 ? [] : chaosSchedule(opts.seed, opts.durationMs, kinds, nodeIds, { spacing: opts.spacing, maxFaults: opts.maxFaults, csvs: cluster.config.csvs.length, clients: opts.clients })
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new Error('the cluster has no credentials')
  await cluster.waitFor(whole, 30_000)
  const startMono = monoNowMs()
  const stoppedAt = new Map<string, number[]>()
  const outages = new Map<string, Outage[]>()
  const tagged: { invariant: Invariant; text: string }[] = []
  const violate = (invariant: Invariant, text: string) => tagged.push({ invariant, text })
  let lastFaultEndMono = startMono
  /** When the last fault had healed and the cluster was whole again: the clients work on quietMs past it. */
  let quietFromMono: number | null = null
  let clientsStopMono: number | null = null
  const quietMs = (opts.spacing ?? NORMAL_SPACING).quietMs
  // The clients work until the faults are over and the quiet time after the last heal has passed.
  const shouldStop = () => {
    if (clientsStopMono !== null) return true
    const now = monoNowMs()
    const quietOver = quietFromMono !== null && now >= quietFromMono + quietMs && (schedule.length > 0 || now >= startMono + opts.durationMs)
    if (quietOver || now >= startMono + opts.durationMs + CLIENTS_OVERRUN_MAX_MS) clientsStopMono = now
    return clientsStopMono !== null
  }
  const clientName = (i: number) => `chaos-${opts.seed}-${i}`
  // On CSVs of their own small volumes (--csv-size) the clients of one CSV write at most half of
  // it between them: their files must not fill it (the soak's 64 MiB volumes filled in a 90 s
  // run, and every later write was refused with DISK_FULL, which no fault had caused).
  const volumeBytes = Math.min(...csvVolumes(cluster.dir).map((v) => v.sizeBytes))
  const clientsPerCsv = Math.ceil(opts.clients / Math.max(1, cluster.config.shares.length))
  const spanBlocks = Number.isFinite(volumeBytes) ? Math.max(16, Math.floor(volumeBytes / 2 / clientsPerCsv / WORKLOAD_BLOCK_BYTES)) : undefined
  const clients = Array.from({ length: opts.clients }, (_, i) =>
    runWorkload(
      {
        resolve: () => cluster.addresses(),
        netName: cluster.config.name,
        share: cluster.config.shares[i % cluster.config.shares.length].name,
        credential,
        clientName: clientName(i),
        preferredIp: cluster.config.nodes[i % nodeIds.length].clientAddress,
        // A paused witness node is noticed within the profile's keep-alive and a grace (6 s in fast).
        keepAliveTimeoutS: witnessKeepAliveTimeoutSFor(cluster.config.profile),
        // In a namespaced cluster each client has a source address of its own (nftables can cut it alone).
        ...(cluster.config.network ? { localAddress: clientSourceAddress(i + 1) } : {}),
      },
      {
        kind: i % 2 === 0 ? 'seqwrite' : 'randwrite',
        durationMs: opts.durationMs + CLIENTS_OVERRUN_MAX_MS,
        shouldStop,
        path: `chaos-${opts.seed}-${i}.bin`,
        eventLog: clientEventsPath(cluster.dir),
        recordHistory: true,
        readFraction: CHAOS_READ_FRACTION,
        ...(spanBlocks !== undefined ? { spanBlocks } : {}),
        historyFile: join(historyDir(cluster.dir), `chaos-${opts.seed}-${i}.ndjson`),
      },
    ),
  )
  const clientAddresses = cluster.config.network ? Array.from({ length: opts.clients }, (_, i) => clientSourceAddress(i + 1)) : []
  const stopped = (node: string, at: number) => stoppedAt.set(node, [...(stoppedAt.get(node) ?? []), at])
  const applied: AppliedFault[] = []
  let clientsEnded = false
  void Promise.all(clients).then(
    () => (clientsEnded = true),
    () => (clientsEnded = true),
  )
  for (const e of schedule) {
    if (clientsEnded) break
    // The next fault waits for its time, and for the cluster to be whole again after the last one.
    const wait = startMono + e.atMs - monoNowMs()
    if (wait > 0) await sleep(wait)
    const recovered = await cluster.waitFor(whole, RECOVERY_BOUND_MS).then(
      () => true,
      () => false,
    )
    const last = applied[applied.length - 1]
    if (!recovered) violate('cluster-recovers', `the cluster was not whole ${RECOVERY_BOUND_MS} ms after the heal of ${last ? `${last.fault} ${last.node} (applied at ${(last.atMs / 1000).toFixed(1)} s for ${last.forMs} ms)` : 'nothing'}`)
    const at = monoNowMs()
    const hit = await injectFault(cluster, e, { nodeIds, clientAddresses, clientName, stopped: (n) => stopped(n, at) }).catch((err: Error) => ({
      node: e.node,
      detail: `could not apply: ${err.message}`,
      heal: async () => undefined,
      outage: false,
      asPlanned: false,
    }))
    const atMs = Math.round(at - startMono)
    say(`${(atMs / 1000).toFixed(1)}s ${e.fault} ${hit.node} for ${e.forMs} ms${hit.detail ? ` (${hit.detail})` : ''}`)
    applied.push({ atMs, fault: e.fault, node: hit.node, forMs: e.forMs, detail: hit.detail, asPlanned: hit.asPlanned ?? true })
    await sleep(e.forMs)
    await hit.heal().catch((err: Error) => say(`heal ${e.fault} ${hit.node}: ${err.message}`))
    lastFaultEndMono = monoNowMs()
    if (hit.outage) outages.set(hit.node, [...(outages.get(hit.node) ?? []), { from: at, to: lastFaultEndMono }])
  }
  if (schedule.length > 0 && !(await cluster.waitFor(whole, RECOVERY_BOUND_MS).then(() => true, () => false))) {
    violate('cluster-recovers', `the cluster was not whole ${RECOVERY_BOUND_MS} ms after the last fault (${applied[applied.length - 1]?.fault ?? 'none'})`)
  }
  quietFromMono = monoNowMs()
  const results = await Promise.all(clients)
  const stopMono = clientsStopMono ?? monoNowMs()
  for (const r of results) {
    for (const lost of r.lost) violate('acknowledged-writes-present', `${r.client}: acknowledged write at ${lost.offset} is not on the share`)
    for (const err of r.errors) violate('clients-without-errors', `${r.client}: ${err}`)
  }
  // Every client was back at work after the last fault: it wrote after the fault had healed.
  for (const r of results) {
    if (r.lastWriteMono === null) violate('clients-back-at-work', `${r.client}: no write at all`)
    else if (r.lastWriteMono < lastFaultEndMono) violate('clients-back-at-work', `${r.client}: no write after the last fault healed`)
  }
  for (const v of servingOverlaps(cluster, stoppedAt)) violate('one-serving-owner', v)
  const nodeLogs = new Map<string, LogLine[]>(
    nodeIds.map((id) => [id, readLogLines(nodeLogPath(cluster.dir, id), (raw) => raw.includes('"witness.') || raw.includes('"node.started"') || raw.includes('"smb.write.replayed"'))]),
  )
  // Invariant 8: no fault makes a node fail a request with an internal error.
  for (const id of nodeIds) {
    for (const l of readLogLines(nodeLogPath(cluster.dir, id), (raw) => raw.includes('"level":50') || raw.includes('"level":60'))) {
      violate('no-internal-errors', `${id} logged ${l.event}: ${String(l.error ?? l.msg ?? '').slice(0, 200)}`)
    }
  }
  const replays = replayViolations(nodeLogs)
  for (const v of replays.violations) violate('replays-once', v)
  const notifications = notificationViolations({
    nodeLogs,
    clientEvents: readLogLines(clientEventsPath(cluster.dir), (raw) => raw.includes('"client.notified"') || raw.includes('"client.registered"')),
    nodeAddresses: new Map(cluster.config.nodes.map((n) => [n.id, [n.clientAddress]])),
    clients: new Set(results.map((r) => r.client)),
    outages,
    clientsStopMono: stopMono,
    graceMs: NOTIFICATION_GRACE_MS,
  })
  for (const v of notifications.violations) violate('notifications-delivered', v)
  const checked = checkHistory(
    results.flatMap((r) => r.history),
    { initialValue: ZERO_BLOCK_SHA256, maxStatesPerRegister: CHAOS_SEARCH_STATES_MAX },
  )
  for (const v of checked.violations) {
    const ops = v.ops.map((op) => `${op.kind} ${op.value?.slice(0, 8) ?? '?'} [${Math.round(op.invokeMs - startMono)}, ${op.completeMs === null ? 'no answer' : Math.round(op.completeMs - startMono)}] ms`)
    violate('linearizable', `not linearizable: ${v.key} between ${Math.round(v.fromMs - startMono)} and ${Math.round(v.toMs - startMono)} ms: ${ops.join('; ')}`)
  }
  for (const r of results) if (r.historyTruncated) violate('linearizable', `${r.client}: history truncated; the linearizability check saw only its beginning`)
  const linearizability: LinearizabilitySummary = {
    ...checked,
    historyDir: historyDir(cluster.dir),
    violations: checked.violations.map((v) => ({ key: v.key, fromMs: Math.round(v.fromMs - startMono), toMs: Math.round(v.toMs - startMono), ops: v.ops.length })),
  }
  const pauses = results.flatMap((r) => r.failovers.map((f) => f.ioPauseMs ?? 0)).sort((a, b) => a - b)
  const q = (p: number) => (pauses.length ? pauses[Math.min(pauses.length - 1, Math.floor(p * pauses.length))] : null)
  const violationsByInvariant = Object.fromEntries(INVARIANTS.map((inv) => [inv, tagged.filter((v) => v.invariant === inv).length])) as Record<Invariant, number>
  return {
    seed: opts.seed,
    durationMs: opts.durationMs,
    faultsInjected: schedule.slice(0, applied.length),
    faultsApplied: applied,
    faultsPerKind: countByKind(applied),
    faultsNotAsPlanned: countByKind(applied.filter((a) => !a.asPlanned)),
    skippedKinds,
    elapsedMs: Math.round(stopMono - startMono),
    failovers: results.reduce((n, r) => n + r.failovers.length, 0),
    ioPauseMs: { p50: q(0.5), p99: q(0.99), max: pauses.length ? pauses[pauses.length - 1] : null },
    writes: results.reduce((n, r) => n + r.writes, 0),
    reads: results.reduce((n, r) => n + r.reads, 0),
    refusedWrites: results.reduce((n, r) => n + r.refusedWrites, 0),
    notifications: notifications.counts,
    replays: replays.counts,
    linearizability,
    violations: tagged.map((v) => v.text),
    violationsByInvariant,
    clients: results,
  }
}

interface InjectContext {
  readonly nodeIds: readonly string[]
  /** The chaos clients' source addresses (a namespaced cluster only). */
  readonly clientAddresses: readonly string[]
  readonly clientName: (i: number) => string
  /** Marks a node's process stopped (killed or frozen) now: the serving-overlap check cuts its intervals there. */
  readonly stopped: (node: string) => void
}

interface Injected {
  readonly node: string
  readonly detail: string
  readonly heal: () => Promise<unknown>
  /** The node could send nothing to clients meanwhile (stopped, or its witness cut off). */
  readonly outage: boolean
  /** False when the fault fell back to a plainer one (default true). */
  readonly asPlanned?: boolean
}

/** Applies one fault; returns how to heal it. */
async function injectFault(cluster: Cluster, e: ChaosEvent, ctx: InjectContext): Promise<Injected> {
  const others = ctx.nodeIds.filter((id) => id !== e.node)
  const restart = (node: string) => () => cluster.start(node, 30_000)
  switch (e.fault) {
    case 'kill':
      ctx.stopped(e.node)
      cluster.kill(e.node)
      return { node: e.node, detail: '', heal: restart(e.node), outage: true }
    case 'pause':
      ctx.stopped(e.node)
      cluster.pause(e.node)
      return { node: e.node, detail: '', heal: async () => cluster.resume(e.node), outage: true }
    case 'partition':
      await cluster.partition([[e.node], others])
      return { node: e.node, detail: '', heal: () => cluster.heal(), outage: false }
    case 'delay':
      await cluster.delay(e.node, 150)
      return { node: e.node, detail: '150 ms', heal: () => cluster.delay(e.node, 0), outage: false }
    case 'one-way-cut':
      for (const o of others) await (e.direction === 'in' ? cluster.cut(o, e.node, 'peer') : cluster.cut(e.node, o, 'peer'))
      return { node: e.node, detail: e.direction === 'in' ? 'peers -> node' : 'node -> peers', heal: () => cluster.heal(), outage: false }
    case 'client-cut':
      for (const a of ctx.clientAddresses) await cluster.cut(a, e.node, 'smb2')
      return { node: e.node, detail: 'clients -> smb2', heal: () => cluster.heal(), outage: false }
    case 'witness-cut':
      // Nothing the node's witness sends reaches the clients meanwhile: an outage for the notification check.
      for (const a of ctx.clientAddresses) await cluster.cut(a, e.node, 'witness')
      return { node: e.node, detail: 'clients -> witness', heal: () => cluster.heal(), outage: true }
    case 'disk-full': {
      const csv = cluster.config.csvs[(e.csvIndex ?? 0) % cluster.config.csvs.length]
      await cluster.storageFault(csv, 'full')
      return { node: e.node, detail: csv, heal: () => cluster.clearStorageFault(csv), outage: false }
    }
    case 'move-leader-kill': {
      const status = await cluster.status()
      const leader = status.leader || e.node
      const csv = cluster.config.csvs[(e.csvIndex ?? 0) % cluster.config.csvs.length]
      const owner = status.csvs.find((c) => c.name === csv)?.owner ?? ''
      // Another node than the owner, and than the leader where there is one.
      const to = ctx.nodeIds.find((id) => id !== owner && id !== leader) ?? ctx.nodeIds.find((id) => id !== owner) ?? e.node
      // Killed as soon as the leader accepted the move: the handover (drain, view, lease) is under way.
      const moved = await cluster.moveCsv(csv, to).then(
        () => ({ detail: `${csv} ${owner || '?'} -> ${to} accepted, leader killed at once`, asPlanned: true }),
        (err: Error) => ({ detail: `move ${csv} -> ${to} refused (${err.message}), leader killed`, asPlanned: false }),
      )
      ctx.stopped(leader)
      cluster.kill(leader)
      return { node: leader, ...moved, heal: restart(leader), outage: true }
    }
    case 'move-witness-freeze': {
      const i = e.clientIndex ?? 0
      const name = ctx.clientName(i)
      const status = await cluster.status()
      const lists = await Promise.all(
        status.nodes.filter((n) => n.reachable).map((n) => cluster.admin(n.id).witnessList({ clientComputerName: `^${name}$`, applyToAll: false }).catch(() => null)),
      )
      const reg = lists.flatMap((l) => l?.registrations ?? [])[0]
      if (!reg) {
        // Between registrations (re-registering after an earlier fault): freeze the node drawn.
        ctx.stopped(e.node)
        cluster.pause(e.node)
        return { node: e.node, detail: `${name} had no registration: froze ${e.node}`, heal: async () => cluster.resume(e.node), outage: true, asPlanned: false }
      }
      const dataNode = cluster.config.nodes.find((n) => n.clientAddress === reg.ipAddress)?.id ?? ''
      const to = ctx.nodeIds.find((id) => id !== dataNode && id !== reg.node) ?? ctx.nodeIds.find((id) => id !== dataNode) ?? e.node
      const sent = await cluster
        .admin(reg.node)
        .witnessAction({ action: 'client-move', filter: { registrationId: reg.registrationId, applyToAll: false }, newNode: to, newIp: '' })
        .then(
          (r) => (r.ok ? { detail: `${name} moved ${dataNode || reg.ipAddress} -> ${to}, witness node frozen`, asPlanned: true } : { detail: `client-move refused (${r.error}), witness node frozen`, asPlanned: false }),
          (err: Error) => ({ detail: `client-move failed (${err.message}), witness node frozen`, asPlanned: false }),
        )
      ctx.stopped(reg.node)
      cluster.pause(reg.node)
      return { node: reg.node, ...sent, heal: async () => cluster.resume(reg.node), outage: true }
    }
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
