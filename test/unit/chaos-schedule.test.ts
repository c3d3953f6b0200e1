// The chaos schedule and the soak's plan and sums, without a cluster: every fault kind appears,
// a seed reproduces its schedule, faults never overlap and keep their holds and gaps, the soak
// alternates 3 and 5 nodes and both quorum witnesses and adds its runs up, and a crashed run
// or a violation carries the command that replays it.
import t from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { CHAOS_FAULTS, DENSE_SPACING, NORMAL_SPACING, chaosSchedule, countByKind, type ChaosFault } from '../../tools/chaos/chaos-schedule.js'
import { chaosArgs, keep, replayCommand, runResult, soakPlan, soakTotals, SOAK_FAULTS_PER_RUN, type SoakRunResult } from '../../tools/chaos/soak.js'

const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5']

t.test('every kind appears, once in every round of |kinds| faults', async (t) => {
  const s = chaosSchedule(3, 600_000, CHAOS_FAULTS, NODES, { spacing: DENSE_SPACING, csvs: 5, clients: 4 })
  t.ok(s.length >= 5 * CHAOS_FAULTS.length, `${s.length} faults`)
  for (let round = 0; round + CHAOS_FAULTS.length <= s.length; round += CHAOS_FAULTS.length) {
    t.same([...new Set(s.slice(round, round + CHAOS_FAULTS.length).map((e) => e.fault))].sort(), [...CHAOS_FAULTS].sort(), `round ${round / CHAOS_FAULTS.length}`)
  }
  const counts = countByKind(s)
  t.ok(CHAOS_FAULTS.every((k) => counts[k] > 0), JSON.stringify(counts))
  // Only the kinds asked for.
  const two = chaosSchedule(3, 60_000, ['kill', 'disk-full'], NODES)
  t.same([...new Set(two.map((e) => e.fault))].sort(), ['disk-full', 'kill'])
})

t.test('the same seed gives the same schedule; another seed another one', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
      const a = chaosSchedule(seed, 120_000, CHAOS_FAULTS, NODES, { spacing: DENSE_SPACING, csvs: 3, clients: 4 })
      const b = chaosSchedule(seed, 120_000, CHAOS_FAULTS, NODES, { spacing: DENSE_SPACING, csvs: 3, clients: 4 })
      return JSON.stringify(a) === JSON.stringify(b)
    }),
    { numRuns: 50 },
  )
  t.not(JSON.stringify(chaosSchedule(1, 120_000, CHAOS_FAULTS, NODES)), JSON.stringify(chaosSchedule(2, 120_000, CHAOS_FAULTS, NODES)))
})

t.test('one fault at a time: holds, gaps, the quiet end and the fault count are bounded', async (t) => {
  for (const spacing of [NORMAL_SPACING, DENSE_SPACING]) {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 10_000, max: 300_000 }), fc.integer({ min: 1, max: 60 }), (seed, durationMs, maxFaults) => {
        const s = chaosSchedule(seed, durationMs, CHAOS_FAULTS, NODES.slice(0, 3), { spacing, maxFaults, csvs: 3, clients: 4 })
        if (s.length > maxFaults) return false
        for (const [i, e] of s.entries()) {
          if (e.forMs > spacing.holdMs[1] || e.forMs <= 0) return false
          if (e.atMs + e.forMs > durationMs - spacing.quietMs) return false
          if (i === 0 && (e.atMs < spacing.firstMs[0] || e.atMs > spacing.firstMs[1])) return false
          // No overlap: the next starts a gap after this one healed.
          if (i > 0 && e.atMs < s[i - 1].atMs + s[i - 1].forMs + spacing.gapMs[0]) return false
          if (!NODES.slice(0, 3).includes(e.node)) return false
          if (e.fault === 'one-way-cut' && e.direction !== 'in' && e.direction !== 'out') return false
          if ((e.fault === 'disk-full' || e.fault === 'move-leader-kill') && !(e.csvIndex! >= 0 && e.csvIndex! < 3)) return false
          if (e.fault === 'move-witness-freeze' && !(e.clientIndex! >= 0 && e.clientIndex! < 4)) return false
        }
        return true
      }),
      { numRuns: 200 },
    )
  }
  t.same(chaosSchedule(1, 2000, CHAOS_FAULTS, NODES), [], 'no room before the quiet end: no fault')
  t.throws(() => chaosSchedule(1, 60_000, [], NODES), /at least one fault kind/)
  // The dense spacing packs more than twice as many faults into a run as the normal one.
  const normal = chaosSchedule(9, 300_000, CHAOS_FAULTS, NODES).length
  const dense = chaosSchedule(9, 300_000, CHAOS_FAULTS, NODES, { spacing: DENSE_SPACING }).length
  t.ok(dense > 2 * normal, `dense ${dense}, normal ${normal}`)
})

t.test('the soak plan: N faults over runs alternating 3/5 nodes and file/cloud witnesses', async (t) => {
  const plan = soakPlan(1000, 7)
  t.equal(plan.reduce((n, r) => n + r.maxFaults, 0), 1000)
  t.ok(plan.every((r) => r.maxFaults <= SOAK_FAULTS_PER_RUN))
  t.same(plan.map((r) => r.seed).slice(0, 4), [7, 8, 9, 10])
  t.same(plan.slice(0, 4).map((r) => `${r.nodes}/${r.witness}`), ['3/file', '5/file', '3/cloud', '5/cloud'], 'every node count meets every witness in four runs')
  t.same(soakPlan(6, 1).map((r) => r.maxFaults), [6])
  t.throws(() => soakPlan(0, 1))
  const args = chaosArgs(plan[1], '/tmp/x', { netns: true, csvSize: '64MiB' })
  t.match(args.join(' '), /chaos run --dir \/tmp\/x --seed 8 --nodes 5 --witness file --faults all --spacing dense --max-faults 60 .*--netns --csv-size 64MiB --json/)
  const replay = replayCommand(plan[1], { netns: true, csvSize: '64MiB' })
  t.match(replay, /^swlab chaos run --dir "\$\(mktemp -d\)" --seed 8 --nodes 5 /)
  t.notMatch(replay, /--json/)
  t.notMatch(replayCommand(plan[1], { netns: false }), /--netns|--csv-size/, 'without root: neither')
})

const kinds = (over: Partial<Record<ChaosFault, number>> = {}) => ({ ...countByKind([]), ...over })

t.test("a run's result: from its JSON, a violation with its replay, a crash", async (t) => {
  const run = soakPlan(40, 3)[0]
  const json = {
    faultsApplied: [{ fault: 'kill' }, { fault: 'disk-full' }],
    faultsPerKind: kinds({ kill: 1, 'disk-full': 1 }),
    faultsNotAsPlanned: kinds({ 'disk-full': 1 }),
    skippedKinds: [],
    failovers: 3,
    writes: 100,
    reads: 20,
    refusedWrites: 5,
    violations: [],
    violationsByInvariant: { 'one-serving-owner': 0 },
    linearizability: { verdict: 'linearizable' },
    ioPauseMs: { max: 900 },
  }
  const ok = runResult(run, { code: 0, stdout: JSON.stringify(json), stderr: '', elapsedMs: 1000 }, 'replay-it')
  t.equal(ok.faults, 2)
  t.equal(ok.refusedWrites, 5)
  t.equal(ok.replay, undefined, 'a clean run carries no replay')
  const bad = runResult(run, { code: 1, stdout: JSON.stringify({ ...json, violations: ['x lost'], violationsByInvariant: { 'acknowledged-writes-present': 1 } }), stderr: '', elapsedMs: 1000 }, 'replay-it')
  t.equal(bad.replay, 'replay-it')
  t.same(bad.violations, ['x lost'])
  t.equal(bad.violationsByInvariant['acknowledged-writes-present'], 1)
  const crashed = runResult(run, { code: 134, stdout: '', stderr: 'boom\nAborted', elapsedMs: 1000 }, 'replay-it')
  t.equal(crashed.violationsByInvariant['run-completed'], 1)
  t.equal(crashed.linearizability, 'none')
  t.match(crashed.violations![0], /without its report \(exit 134\): boom \| Aborted/)

  const total = soakTotals([ok, bad, crashed] as SoakRunResult[])
  t.equal(total.runs, 3)
  t.equal(total.faults, 4)
  t.equal(total.faultsPerKind.kill, 2)
  t.equal(total.faultsNotAsPlanned['disk-full'], 2, 'faults that fell back to a plainer one are added up too')
  t.equal(crashed.faultsNotAsPlanned.kill, 0)
  t.same(total.operations, { reads: 40, writes: 200, refusedWrites: 10 })
  t.equal(total.violations, 2)
  t.same(total.linearizability, { linearizable: 2, 'not-linearizable': 0, unknown: 0, none: 1 })
})

t.test("the soak keeps a failing run's folder: logs and histories, not its sockets or volumes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-keep-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const run = join(dir, 'run')
  mkdirSync(join(run, 'logs'), { recursive: true })
  mkdirSync(join(run, 'volumes'))
  writeFileSync(join(run, 'logs', 'node-1.log'), 'a line\n')
  writeFileSync(join(run, 'volumes', 'csv-1.img'), 'image')
  // The storage array's socket sits in the run's folder (cpSync throws EINVAL on one).
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(join(run, 'array.sock'), resolve))
  t.teardown(() => server.close())
  const to = join(dir, 'kept')
  keep(run, to, { stdout: '{}', stderr: 'err' })
  t.same(readdirSync(to).sort(), ['chaos-run.json', 'chaos-run.stderr', 'logs'])
  t.equal(readFileSync(join(to, 'logs', 'node-1.log'), 'utf8'), 'a line\n')
})
