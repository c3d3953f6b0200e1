// A short chaos run inside npm test (the long one is `swlab chaos run --seed 1 --duration 60`),
// the determinism of the fault schedule, and the serving-overlap check on crafted logs.
import t from 'tap'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { chaosSchedule, historyDir, servingOverlaps } from '../../tools/chaos/chaos.js'
import { ZERO_BLOCK_SHA256 } from '../../client/workload.js'
import { checkHistory } from '../../core/history/linearizability-check.js'
import type { RegisterOp } from '../../core/history/register-history.js'
import { freshDir, swlab } from '../helpers/cluster-fixture.js'

t.test('the same seed gives the same fault schedule', async (t) => {
  const nodes = ['node-1', 'node-2', 'node-3']
  t.same(chaosSchedule(7, 60_000, ['kill', 'pause', 'partition'], nodes), chaosSchedule(7, 60_000, ['kill', 'pause', 'partition'], nodes))
  t.not(JSON.stringify(chaosSchedule(7, 60_000, ['kill', 'pause'], nodes)), JSON.stringify(chaosSchedule(8, 60_000, ['kill', 'pause'], nodes)))
  const s = chaosSchedule(7, 60_000, ['kill'], nodes)
  t.ok(s.every((e, i) => i === 0 || e.atMs >= s[i - 1].atMs + s[i - 1].forMs), 'one fault at a time')
  t.ok(s.every((e) => e.atMs + e.forMs <= 57_000), 'quiet at the end')
})

t.test('the serving-overlap check finds two owners of one CSV', async (t) => {
  const dir = freshDir(t)
  mkdirSync(join(dir, 'logs'))
  const node = (i: number) => ({ id: `node-${i}`, clientAddress: `127.0.1.${i}`, clusterAddress: `127.0.2.${i}`, peerPort: 1000 + i, adminPort: 2000 + i, witnessPort: 3000 + i, smbPort: 4000 + i })
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ name: 'SOFS', dir, profile: 'fast', nodes: [node(1), node(2)], csvs: ['csv-1'], witness: { kind: 'none' } }))
  const line = (n: string, event: string, mono: number) => JSON.stringify({ node: n, event, csv: 'csv-1', mono })
  writeFileSync(join(dir, 'logs', 'node-1.ndjson'), [line('node-1', 'csv.service.started', 100), line('node-1', 'csv.service.stopped', 500)].join('\n'))
  writeFileSync(join(dir, 'logs', 'node-2.ndjson'), [line('node-2', 'csv.service.started', 400), line('node-2', 'csv.service.stopped', 900)].join('\n'))
  const cluster = Cluster.open(dir)
  t.equal(servingOverlaps(cluster, new Map()).length, 1, 'an overlap from 400 to 500 is found')
  t.same(servingOverlaps(cluster, new Map([['node-1', [350]]])), [], 'none when node-1 was frozen at 350')
})

t.test('swlab chaos run: faults under 2 clients, no violation', async (t) => {
  const dir = freshDir(t)
  t.teardown(async () => {
    try {
      await Cluster.open(dir).down()
    } catch {
      // The run stopped its cluster itself.
    }
  })
  // 15 s of faults, then a cluster start, the clients' verification and the checks: about 26 s
  // alone, past 60 s when npm test runs other files beside it on 2 cores.
  const r = swlab(['chaos', 'run', '--dir', dir, '--seed', '1', '--duration', '15', '--clients', '2', '--json'], 180_000)
  t.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  t.ok(report.faultsInjected.length >= 2, `${report.faultsInjected.length} faults injected`)
  t.ok(report.writes > 0, `${report.writes} acknowledged writes`)
  t.same(report.violations, [], 'no violation')
  t.equal(report.notifications.received, report.notifications.sent, `every notification sent arrived (${report.notifications.sent})`)
  t.ok(report.notifications.sent > 0, 'the witness nodes sent notifications (IP_CHANGE at least, for every fault)')
  t.type(report.replays.replays, 'number', 'replayed writes are counted')
  t.ok(report.clients.every((c: { lost: number; errors: string[] }) => c.lost === 0 && c.errors.length === 0), 'every client verified its ledger')
  const html = readFileSync(report.reportPath, 'utf8')
  const faultText = /kill -9 \(SIGKILL\)|faults: |paused \(SIGSTOP\)/
  t.match(html, new RegExp(`<svg [\\s\\S]*(${faultText.source})`), 'the run report has its timeline with the faults')
  t.match(html, /<h2>Violations<\/h2>[\s\S]*<td>none<\/td>/)

  // The clients read as well as write, and their history is linearizable.
  const lin = report.linearizability
  t.equal(lin.verdict, 'linearizable', JSON.stringify(lin))
  t.ok(report.clients.every((c: { reads: number }) => c.reads > 0), 'every client read blocks back')
  t.ok(lin.operations > report.writes, `${lin.operations} operations recorded (writes, reads, the final verification)`)
  // A stale read put into the recorded history: a block read back after its write was
  // acknowledged returns what it held before (zeros). The checker rejects it and shows it.
  const history: RegisterOp[] = readdirSync(historyDir(dir)).flatMap((f) =>
    readFileSync(join(historyDir(dir), f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as RegisterOp),
  )
  t.equal(history.length, lin.operations, 'the history files hold every operation')
  t.equal(checkHistory(history, { initialValue: ZERO_BLOCK_SHA256, maxStatesPerRegister: 200_000 }).verdict, 'linearizable')
  const victim = history.findIndex((op) => op.kind === 'read' && history.some((w) => w.kind === 'write' && w.key === op.key && w.completeMs !== null && w.completeMs < op.invokeMs))
  t.ok(victim >= 0, 'a read of a block after its write was acknowledged')
  const stale = history.map((op, i) => (i === victim ? { ...op, value: ZERO_BLOCK_SHA256 } : op))
  const verdict = checkHistory(stale, { initialValue: ZERO_BLOCK_SHA256, maxStatesPerRegister: 200_000 })
  t.equal(verdict.verdict, 'not-linearizable')
  t.same(
    verdict.violations.map((v) => v.key),
    [history[victim].key],
  )
  t.ok(
    verdict.violations[0].ops.some((op) => op.kind === 'read' && op.value === ZERO_BLOCK_SHA256 && op.invokeMs === history[victim].invokeMs),
    'the window holds the stale read',
  )
})
