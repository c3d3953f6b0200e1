// bench/cluster-up: time from `cluster up` to quorate for 3 and 5 nodes, and node-down
// detection time per profile for kill and pause, next to the profile's theoretical floor.
// Prints one JSON document. Detection is read from the leader's own log (its
// node.declared.down line), so the number is what the cluster saw, not a status poll.
//
//   node dist/bench/cluster-up.js [--trials 10] [--up-trials 3] [--profiles fast,ws2012] [--out file]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../cluster/cluster.js'
import { PROFILES, isProfileName, timingOf, type ProfileName } from '../core/quorum/profiles.js'
import { waitUntil } from '../cluster/processes.js'
import { readFileSync } from 'node:fs'

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '10' },
      'up-trials': { type: 'string', default: '3' },
      profiles: { type: 'string', default: 'fast,ws2012' },
      out: { type: 'string' },
    },
  })
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
      nodes5: { ...distribution(up5), targetMs: 3000 },
    },
    detection,
  }
  const json = JSON.stringify(result, null, 2)
  if (values.out) writeFileSync(values.out, `${json}\n`)
  process.stdout.write(`${json}\n`)
}

main().catch((err: Error) => {
  process.stderr.write(`bench cluster-up: ${err.message}\n`)
  process.exit(1)
})
