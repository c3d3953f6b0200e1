// `swlab demo --short --json` as a user runs it: it exits 0, its summary's figures are there
// and sane (an IO pause above zero and under 5 s, seed 000's table as the source says, every
// restore point verified, no write lost), its report's timeline has the kill before the
// client's failover and a notification after the kill, and no process of the demo is left.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { buildRunModel, readRun } from '../../tools/report/run-report.js'
import { killAllHosts } from '../../client/hyperv/host-launcher.js'
import type { DemoSummary } from '../../cli/demo-summary.js'
import { CLI, freshDir } from '../helpers/cluster-fixture.js'

const DEMO_DEADLINE_MS = 240_000

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_DEADLINE_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

t.test('swlab demo --short: the summary, the report and a clean exit', async (t) => {
  const dir = join(freshDir(t, 'swlab-demo-'), 'demo')
  t.teardown(async () => {
    // Only if the demo failed to clean up after itself.
    if (existsSync(join(dir, 'run.json'))) {
      await killAllHosts(dir).catch(() => undefined)
      await Cluster.open(dir).down().catch(() => undefined)
    }
  })
  const run = await runCli(['demo', '--short', '--json', '--dir', dir])
  t.equal(run.code, 0, "exit 0", { stderr: run.stderr.slice(-3000) })
  const s = JSON.parse(run.stdout) as DemoSummary
  t.match(run.stderr, /\[1\/8\][\s\S]*\[8\/8\] Summary/, 'narrated step by step')

  t.not(s.registration.dataNode, s.registration.witnessNode, 'seed 001: the witness registration is on another node than the data node')
  t.equal(s.registration.interfaces, 4)
  t.equal(s.fullBackup.bytesRead, s.fullBackup.diskBytes, 'the full backup reads the whole disk')
  t.equal(s.rctIncremental.method, 'rct')
  t.ok(s.rctIncremental.bytesRead > 0 && s.rctIncremental.bytesRead < s.rctIncremental.diskBytes / 2, `the RCT incremental reads what changed: ${s.rctIncremental.bytesRead} of ${s.rctIncremental.diskBytes}`)

  t.ok(s.kill.ioPauseMs > 0 && s.kill.ioPauseMs < 5_000, `IO pause through the kill in (0, 5 s): ${s.kill.ioPauseMs} ms`)
  t.ok(s.kill.vmGuestLongestGapMs > 0 && s.kill.vmGuestLongestGapMs < 5_000, `the VM's guest IO pause through the kill in (0, 5 s): ${s.kill.vmGuestLongestGapMs} ms`)
  t.ok(s.kill.clientFailoverMs > 0 && s.kill.clientFailoverMs < 5_000, `client failover: ${s.kill.clientFailoverMs} ms`)
  t.ok(s.kill.notifiedAfterMs !== null && s.kill.notifiedAfterMs < 5_000, `a witness notification after the kill: ${s.kill.notifiedAfterMs} ms`)
  t.equal(s.kill.backupDuringKill.method, 'rct', 'the backup through the kill stays incremental')
  t.ok(s.clientMove.moveMs > 0 && s.clientMove.moveMs < 5_000 && s.clientMove.to !== s.clientMove.from, `client move ${s.clientMove.from} -> ${s.clientMove.to} in ${s.clientMove.moveMs} ms`)
  t.ok(s.partition.quorumLostMs > 0 && s.partition.quorumLostMs < 10_000, `partition: quorum lost in ${s.partition.quorumLostMs} ms`)

  const table = (flavour: string) => s.seed000.filter((r) => r.flavour === flavour).map((r) => [r.row, r.tableSays, r.method])
  t.same(table('microsoft'), [
    [1, 'filter', 'filter'],
    [2, 'none', 'none'],
    [3, 'none', 'none'],
    [4, 'rct', 'rct'],
  ])
  t.same(table('third-party'), [
    [1, 'filter', 'none'],
    [2, 'none', 'none'],
    [3, 'none', 'none'],
    [4, 'rct', 'rct'],
  ])
  t.equal(s.thirdParty.method, 'none', 'third-party SMB: no vendor filter, so none')
  t.ok(s.thirdParty.bytesRead > s.thirdParty.bytesChanged, 'none reads more than changed')
  t.ok(s.verify.passed && s.verify.points >= 11, `verify passed for ${s.verify.points} restore points: ${s.verify.problems.join('; ')}`)
  t.same(s.servingOverlaps, [], 'no CSV served by two nodes at once, from the serving logs')
  t.same(
    s.writes.map((w) => w.lost),
    [0, 0],
    'no acknowledged write lost',
  )

  t.ok(existsSync(s.reportPath), 'the report is left behind')
  const model = buildRunModel(readRun(dir))
  const victim = model.nodes.find((n) => n.id === s.kill.node)!
  const killAt = victim.marks.find((m) => m.kind === 'fault' && /kill/.test(m.label))!.at
  const clientA = model.clients.find((c) => c.name === 'client-a')!
  const failover = clientA.pauses.find((p) => p.from >= killAt)!
  t.ok(killAt < failover.from && failover.from < failover.to, 'timeline: the kill, then the client failover')
  t.ok(
    model.clients.some((c) => c.marks.some((m) => m.kind === 'notify' && m.at > killAt)),
    'timeline: a witness notification after the kill',
  )
  t.ok(model.backups.length >= 3 && model.backups.every((b) => b.ok), 'the backups are on the timeline')

  t.notOk(existsSync(join(dir, 'run.json')), 'the cluster is down')
  const left = spawnSync('pgrep', ['-f', dir], { encoding: 'utf8' })
  t.equal(left.stdout.trim(), '', 'no process of the demo is left running')
})
