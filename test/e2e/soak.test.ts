// A short soak inside npm test (the long one is `npm run soak -- --faults 1000`): six faults on
// a fresh 3-node cluster with a file share witness, in a namespace of its own (root), with
// six different fault kinds (the seed deals them); its JSON adds up, shows no violation, and
// it leaves no process, mount or folder behind. 31 s at load 10 on 2 cores, 54 s beside a
// 1,000-fault soak. Bad options are refused with a clear message.
import t from 'tap'
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { namespaceProblem } from '../../cluster/network-namespace.js'
import { CLI, freshDir, swlab } from '../helpers/cluster-fixture.js'

const skip = namespaceProblem() ?? false

t.test('swlab soak refuses bad options', async (t) => {
  // Two cases only: each CLI start costs seconds under load.
  for (const [args, message] of [
    [['--faults', '0'], /--faults must be a whole number from 1 to 100000 \(got "0"\)/],
    [['--faults', '5', '--seed', '-1'], /--seed must be a whole number/],
  ] as const) {
    const r = swlab(['soak', ...args], 20_000)
    t.not(r.code, 0, `soak ${args.join(' ')} fails`)
    t.match(r.stderr, message)
  }
})

t.test('swlab soak --faults 6: a fresh cluster, every fault healed, no violation, nothing left behind', { skip }, async (t) => {
  // The soak's run folders go under TMPDIR: a fresh one shows that it removed them.
  const tmp = freshDir(t, 'swlab-soak-test-')
  const out = freshDir(t, 'swlab-soak-out-')
  const child = spawn(process.execPath, [CLI, 'soak', '--faults', '6', '--seed', '3', '--json', '--out', out], {
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // A test that fails or times out stops the soak, which takes its cluster down (SIGTERM).
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM')
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  t.equal(code, 0, stderr.slice(-2000))
  const report = JSON.parse(stdout)
  t.equal(report.interrupted, false)
  t.equal(report.networkFaults, 'nftables', 'the cut kinds ran: nftables rules in the namespace')
  t.equal(report.total.runs, 1)
  t.equal(report.total.faults, 6, 'six faults injected')
  const perKind = Object.values(report.total.faultsPerKind as Record<string, number>).reduce((a, b) => a + b, 0)
  t.equal(perKind, 6, `faults per kind add up: ${JSON.stringify(report.total.faultsPerKind)}`)
  t.ok(Object.values(report.total.faultsPerKind as Record<string, number>).filter((n) => n > 0).length === 6, 'six different kinds (one of each per round)')
  t.same(report.total.clusters, { '3 nodes, file witness': 1 })
  t.ok(report.total.operations.writes > 0 && report.total.operations.reads > 0, `${report.total.operations.writes} writes, ${report.total.operations.reads} reads`)
  t.equal(report.total.violations, 0, JSON.stringify(report.failing))
  t.ok(Object.values(report.total.violationsByInvariant as Record<string, number>).every((n) => n === 0), 'no violation of any invariant')
  t.same(report.total.linearizability, { linearizable: 1, 'not-linearizable': 0, unknown: 0, none: 0 })
  t.same(report.failing, [])
  t.same(JSON.parse(readFileSync(join(out, 'soak.json'), 'utf8')).total, report.total, 'the JSON is kept in --out')
  t.same(readdirSync(out), ['soak.json'], 'no failing run kept')
  t.same(readdirSync(tmp), [], 'the run folders are gone')
  const mounts = readFileSync('/proc/mounts', 'utf8')
  t.notMatch(mounts, new RegExp(tmp), 'no CSV volume left mounted')
})
