// bench/cluster-up: time from `cluster up` to quorate for 3 and 5 nodes, and node-down
// detection time per profile for kill and pause, next to the profile's theoretical floor; and
// per cluster size (--sizes): time to quorate with every CSV served, idle CPU and RSS per node
// (and PSS, which counts the node binary's shared pages once, and anonymous memory),
// heartbeat datagrams per second, then a kill of a CSV owner and of the leader with the time to
// the down-declaration and to its CSVs served elsewhere, and `servedTwice`: every CSV served by
// two nodes at once in the serving logs, through the start and both kills (the chaos runner's
// invariant check; [] is the pass). Prints one JSON document. Detection is
// read from the nodes' own logs (the node.declared.down line), so the number is what the
// cluster saw, not a status poll; "moved" is the first status poll that shows the CSVs served
// by other nodes (polled every 100 ms: up to that much late). Load averages go with each size.
//
//   node dist/bench/cluster-up.js [--trials 10] [--up-trials 3] [--profiles fast,ws2012]
//        [--sizes 3,5,16,32,64] [--scale-profile fast] [--idle-seconds 10] [--settle-seconds 10] [--rest-seconds 120] [--scale-only] [--out file]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../cluster/cluster.js'
import { PROFILES, isProfileName, timingOf, type ProfileName } from '../core/quorum/profiles.js'
import { waitUntil } from '../cluster/processes.js'
import { readFileSync } from 'node:fs'
import { processCpuMs } from '../runtime/process-cpu.js'
import { servingOverlaps } from '../tools/chaos/chaos.js'

interface Distribution {
  n: number
  minMs: number
  p50Ms: number
  p90Ms: number
  maxMs: number
  meanMs: number
}

function distribution(samples: number[]): Distribution {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]
  const round = (x: number) => Math.round(x * 10) / 10
  return {
    n: s.length,
    minMs: round(s[0] ?? NaN),
    p50Ms: round(at(0.5) ?? NaN),
    p90Ms: round(at(0.9) ?? NaN),
    maxMs: round(s[s.length - 1] ?? NaN),
    meanMs: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)),
  }
}

function monoNow(): number {
  return performance.timeOrigin + performance.now()
}

/** The leader's log line that declared `peer` down after `sinceMono`, if any. */
function declaredDownAt(dir: string, leader: string, peer: string, sinceMono: number): number | null {
  const text = readFileSync(join(dir, 'logs', `${leader}.ndjson`), 'utf8')
  for (const line of text.split('\n')) {
    if (!line.includes('node.declared.down') || !line.includes(peer)) continue
    const l = JSON.parse(line) as { event: string; peer: string; mono: number }
    if (l.event === 'node.declared.down' && l.peer === peer && l.mono >= sinceMono) return l.mono
  }
  return null
}

async function timeUp(nodes: number, trials: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < trials; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-up-'))
    const t0 = performance.now()
    const cluster = await Cluster.up({ dir, nodes })
    samples.push(performance.now() - t0)
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
  return samples
}

async function timeDetection(profile: ProfileName, trials: number): Promise<{ kill: number[]; pause: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-detect-'))
  const cluster = await Cluster.up({ dir, nodes: 3, profile })
  const { detectionMs } = timingOf(PROFILES[profile])
  const limitMs = 3 * detectionMs + 5000
  const kill: number[] = []
  const pause: number[] = []
  try {
    for (let i = 0; i < trials; i++) {
      for (const fault of ['kill', 'pause'] as const) {
        const s = await cluster.waitFor((st) => st.quorum && st.nodes.every((n) => n.state === 'up' && n.serving), limitMs)
        const others = s.nodes.filter((n) => n.id !== s.leader)
        const victim = others[i % others.length].id
        const since = monoNow()
        if (fault === 'kill') cluster.kill(victim)
        else cluster.pause(victim)
        let at: number | null = null
        await waitUntil(() => (at = declaredDownAt(dir, s.leader, victim, since)) !== null, limitMs, 10)
        if (at === null) throw new Error(`${fault} of ${victim} not detected within ${limitMs} ms`)
        ;(fault === 'kill' ? kill : pause).push((at as number) - since)
        if (fault === 'kill') await cluster.start(victim, limitMs)
        else cluster.resume(victim)
      }
    }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
  return { kill, pause }
}

function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)
}

/** utime + stime of a process, in clock ticks (100 a second on Linux). */
function cpuTicks(pid: number): number {
  return (processCpuMs(pid) ?? 0) / 10
}

/**
 * What a node's memory costs the machine, from /proc: its RSS, its proportional set size (pages
 * shared with other processes counted as a share: ~44 MB of every node's RSS is the node
 * binary's code, mapped once for all of them) and its anonymous pages (heap, stacks: its own).
 * 0 when the process is gone.
 */
function memoryMb(pid: number): { rss: number; pss: number; anon: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const rss = /VmRSS:\s+(\d+)/.exec(status)
    const anon = /RssAnon:\s+(\d+)/.exec(status)
    const pss = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return { rss: rss ? Number(rss[1]) / 1024 : 0, pss: pss ? Number(pss[1]) / 1024 : 0, anon: anon ? Number(anon[1]) / 1024 : 0 }
  } catch {
    return { rss: 0, pss: 0, anon: 0 }
  }
}

/** A scrape's deadline: 64 nodes on 2 cores leave each a small share (at load 60, 2 s timed out). */
const METRICS_TIMEOUT_MS = 10_000

/** Heartbeat datagrams a node sent, from its metrics endpoint; null when it has none. */
async function datagramsSent(address: string, port: number | undefined): Promise<number | null> {
  if (!port) return null
  try {
    const text = await (await fetch(`http://${address}:${port}/metrics`, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) })).text()
    const m = /swlab_heartbeat_datagrams\{[^}]*direction="sent"[^}]*\} (\d+)/.exec(text)
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** The first node.declared.down of `peer` after `sinceMono` in any node's log. */
function declaredDownAnywhere(dir: string, ids: readonly string[], peer: string, sinceMono: number): number | null {
  let first: number | null = null
  for (const id of ids) {
    let text = ''
    try {
      text = readFileSync(join(dir, 'logs', `${id}.ndjson`), 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n')) {
      if (!line.includes('node.declared.down') || !line.includes(`"${peer}"`)) continue
      const l = JSON.parse(line) as { event: string; peer: string; mono: number }
      if (l.event === 'node.declared.down' && l.peer === peer && l.mono >= sinceMono && (first === null || l.mono < first)) first = l.mono
    }
  }
  return first
}

interface KillResult {
  readonly victim: string
  readonly wasLeader: boolean
  readonly csvs: readonly string[]
  readonly declaredDownMs: number | null
  readonly csvsMovedMs: number | null
  /** When the victim was killed (monotonic ms, the logs' clock): where its serving ended. */
  readonly killedAtMono: number
}

async function killAndTime(cluster: Cluster, dir: string, leader: boolean, limitMs: number): Promise<KillResult> {
  const s = await cluster.waitFor((st) => st.quorum && st.leader !== '' && st.csvs.every((c) => c.servedBy.length === 1), limitMs)
  const ids = s.nodes.map((n) => n.id)
  const owners = new Set(s.csvs.map((c) => c.owner))
  const victim = leader ? s.leader : (s.nodes.find((n) => n.id !== s.leader && owners.has(n.id))?.id ?? '')
  if (victim === '') throw new Error('no follower owns a CSV')
  const csvs = s.csvs.filter((c) => c.owner === victim).map((c) => c.name)
  const since = monoNow()
  cluster.kill(victim)
  let movedMs: number | null = null
  await waitUntil(async () => {
    const st = await cluster.status()
    const moved = csvs.every((name) => {
      const c = st.csvs.find((x) => x.name === name)
      return c !== undefined && c.servedBy.length === 1 && c.servedBy[0] !== victim
    })
    if (moved) movedMs = monoNow() - since
    return moved
  }, limitMs, 100)
  const down = declaredDownAnywhere(dir, ids.filter((id) => id !== victim), victim, since)
  return { victim, wasLeader: leader, csvs, declaredDownMs: down === null ? null : Math.round(down - since), csvsMovedMs: movedMs === null ? null : Math.round(movedMs), killedAtMono: since }
}

/**
 * The nodes' CPU over `seconds`, starting `afterUpSeconds` after up, and the heartbeat datagrams
 * they sent meanwhile. The first scrape comes before the CPU window (a node loads prom-client on
 * its first scrape), and the window closes before the second: answering scrapes is not idle work.
 */
async function idleWindow(
  nodes: ReadonlyArray<{ clientAddress: string; metricsPort?: number }>,
  pids: readonly number[],
  upAt: number,
  afterUpSeconds: number,
  seconds: number,
): Promise<Record<string, number | null>> {
  await new Promise((r) => setTimeout(r, Math.max(0, upAt + afterUpSeconds * 1000 - performance.now())))
  const sent0 = await Promise.all(nodes.map((n) => datagramsSent(n.clientAddress, n.metricsPort)))
  const sentAt0 = performance.now()
  const ticks0 = pids.map(cpuTicks)
  const idle0 = performance.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const ticks = pids.map(cpuTicks).reduce((a, b, i) => a + b - ticks0[i], 0)
  const idleS = (performance.now() - idle0) / 1000
  const sent1 = await Promise.all(nodes.map((n) => datagramsSent(n.clientAddress, n.metricsPort)))
  const sentS = (performance.now() - sentAt0) / 1000
  const cpuPctOfOneCore = (100 * ticks) / 100 / idleS
  const sentDelta = sent1.reduce<number | null>((a, b, i) => (a === null || b === null || sent0[i] === null ? null : a + b - (sent0[i] as number)), 0)
  return {
    afterUpSeconds,
    seconds: Math.round(idleS * 10) / 10,
    cpuPctOfOneCoreTotal: Math.round(cpuPctOfOneCore * 10) / 10,
    cpuPctPerNode: Math.round((cpuPctOfOneCore / pids.length) * 100) / 100,
    heartbeatDatagramsPerSecond: sentDelta === null ? null : Math.round(sentDelta / sentS),
  }
}

function withoutMono({ killedAtMono: _, ...result }: KillResult): Omit<KillResult, 'killedAtMono'> {
  return result
}

/** One cluster of `nodes` nodes: up, idle, a CSV owner killed, the leader killed. */
async function scaleRun(nodes: number, profile: ProfileName, idleSeconds: number, settleSeconds: number, restSeconds: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-scale-'))
  const { detectionMs } = timingOf(PROFILES[profile])
  const loadAtStart = loadAverage()
  const t0 = performance.now()
  const cluster = await Cluster.up({ dir, nodes, profile, timeoutMs: 60_000 + 2 * detectionMs })
  const upMs = Math.round(performance.now() - t0)
  try {
    const config = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { nodes: Array<{ id: string; clientAddress: string; metricsPort?: number }> }
    const pids = config.nodes.map((n) => cluster.pidOf(n.id))
    // Idle twice: soon after `up` (settleSeconds), when the start's tail still runs (CSV services
    // starting, V8 compiling what the start made hot: measured at 64 nodes, 45 to 70 % of a core
    // for the first ~90 s), and at rest (restSeconds after up), what an idle cluster costs.
    const upAt = performance.now()
    const idle = await idleWindow(config.nodes, pids, upAt, settleSeconds, idleSeconds)
    const idleAtRest = restSeconds > settleSeconds ? await idleWindow(config.nodes, pids, upAt, restSeconds, idleSeconds) : null
    const memory = pids.map(memoryMb)
    const rss = memory.map((m) => m.rss)
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
    const loadIdle = loadAverage()
    const limitMs = 10 * detectionMs + 20_000
    const ownerKill = await killAndTime(cluster, dir, false, limitMs)
    const leaderKill = await killAndTime(cluster, dir, true, limitMs)
    // Invariant 1 through the start and both kills, from every node's serving log (the chaos
    // runner's check): [] when no CSV was served by two nodes at once.
    const killedAt = new Map<string, number[]>()
    for (const k of [ownerKill, leaderKill]) killedAt.set(k.victim, [...(killedAt.get(k.victim) ?? []), k.killedAtMono])
    const servedTwice = servingOverlaps(cluster, killedAt)
    return {
      nodes,
      profile,
      detectionMs,
      upMs,
      idle: {
        ...idle,
        rssMbPerNode: Math.round(rss.reduce((a, b) => a + b, 0) / nodes),
        rssMbTotal: Math.round(rss.reduce((a, b) => a + b, 0)),
        pssMbPerNode: Math.round(sum(memory.map((m) => m.pss)) / nodes),
        pssMbTotal: Math.round(sum(memory.map((m) => m.pss))),
        anonMbPerNode: Math.round(sum(memory.map((m) => m.anon)) / nodes),
      },
      idleAtRest,
      ownerKill: withoutMono(ownerKill),
      leaderKill: withoutMono(leaderKill),
      servedTwice,
      loadAverage: { start: loadAtStart, idle: loadIdle, end: loadAverage() },
    }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '10' },
      'up-trials': { type: 'string', default: '3' },
      profiles: { type: 'string', default: 'fast,ws2012' },
      sizes: { type: 'string', default: '3,5,16,32,64' },
      'scale-profile': { type: 'string', default: 'fast' },
      'idle-seconds': { type: 'string', default: '10' },
      'settle-seconds': { type: 'string', default: '10' },
      'rest-seconds': { type: 'string', default: '120' },
      'scale-only': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  })
  const scaleProfile = String(values['scale-profile'])
  if (!isProfileName(scaleProfile)) throw new Error(`unknown profile ${scaleProfile}`)
  const sizes = String(values.sizes).split(',').filter((x) => x !== '').map(Number)
  const scale: Record<string, unknown>[] = []
  for (const n of sizes) {
    scale.push(await scaleRun(n, scaleProfile, Number(values['idle-seconds']), Number(values['settle-seconds']), Number(values['rest-seconds'])))
    process.stderr.write(`${JSON.stringify(scale[scale.length - 1])}\n`)
  }
  if (values['scale-only']) {
    const json = JSON.stringify({ bench: 'cluster-up', node: process.version, cpus: (await import('node:os')).cpus().length, scale }, null, 2)
    if (values.out) writeFileSync(values.out, `${json}\n`)
    process.stdout.write(`${json}\n`)
    return
  }
  const trials = Number(values.trials)
  const upTrials = Number(values['up-trials'])
  const profiles = values.profiles === 'all' ? (Object.keys(PROFILES) as ProfileName[]) : String(values.profiles).split(',')
  for (const p of profiles) if (!isProfileName(p)) throw new Error(`unknown profile ${p}`)
  const up3 = await timeUp(3, upTrials)
  const up5 = await timeUp(5, upTrials)
  const detection: Record<string, unknown> = {}
  for (const p of profiles as ProfileName[]) {
    const { heartbeatIntervalMs, detectionMs, leaseMs } = timingOf(PROFILES[p])
    const d = await timeDetection(p, trials)
    detection[p] = {
      heartbeatIntervalMs,
      missedHeartbeatThreshold: PROFILES[p].missedHeartbeatThreshold,
      leaseMs,
      kill: {
        ...distribution(d.kill),
        // A dead process refuses the next heartbeat's connection: at most one interval.
        floorMs: 0,
        boundMs: heartbeatIntervalMs,
      },
      pause: {
        ...distribution(d.pause),
        // Silence cannot be told from slowness sooner than interval x threshold.
        floorMs: detectionMs,
      },
    }
  }
  const result = {
    bench: 'cluster-up',
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    clusterUp: {
      nodes3: distribution(up3),
      nodes5: { ...distribution(up5), targetMs: 1500 },
    },
    detection,
    scale,
  }
  const json = JSON.stringify(result, null, 2)
  if (values.out) writeFileSync(values.out, `${json}\n`)
  process.stdout.write(`${json}\n`)
}

main().catch((err: Error) => {
  process.stderr.write(`bench cluster-up: ${err.message}\n`)
  process.exit(1)
})
