// Records smbd's own smbtorture results on this machine: the baseline the wire conformance
// test compares a node with (test/conformance-wire/smbtorture-baseline.json). Starts the
// reference smbd of tools/reference-smbd.ts, runs every sub-test of the suites of issue 14 on
// its own, and writes the outcomes with the command and versions that made them.
//
// With --draft-differences FILE it runs the same sub-tests against node-1 of a fresh cluster
// instead (`npm run build` first) and writes every outcome that differs from the committed
// baseline in the shape of smbtorture-known-differences.json, each with smbtorture's own
// message as a first reason: a draft to review and give real reasons, never to commit as is.
//
//   npm run conformance:baseline [-- --out FILE] [--timeout-ms N]
//   npm run conformance:baseline -- --draft-differences FILE
//   npm run conformance:baseline -- --suites smb2.oplock,smb2.lease
//
// --suites re-records only those suites' sub-tests and keeps every other entry of the
// committed baseline as it was (a suite added to the gate needs no run of all the others).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../cluster/cluster.js'
import { packageRoot } from '../proto/loader.js'
import { startReferenceSmbd } from '../tools/reference-smbd.js'
import { emulatorTarget, type SmbTarget } from '../tools/smb-target.js'
import { SMBTORTURE_SUITES, compareWithBaseline, listSubTests, runSubTest, smbtortureMissing, tally, type Baseline, type KnownDifferences, type TortureOutcome, type TortureResult } from '../tools/smb-conformance/smbtorture.js'

export const BASELINE_PATH = join(packageRoot(), 'test', 'conformance-wire', 'smbtorture-baseline.json')

async function runAll(target: SmbTarget, names: readonly string[], timeoutMs: number): Promise<TortureResult[]> {
  const results: TortureResult[] = []
  for (const name of names) {
    const r = await runSubTest(target, name, { timeoutMs })
    results.push(r)
    process.stderr.write(`${r.outcome.padEnd(8)} ${String(r.ms).padStart(6)} ms  ${name}\n`)
  }
  return results
}

async function recordBaseline(out: string, timeoutMs: number, suites: readonly string[] | null): Promise<void> {
  const chosen = suites ? SMBTORTURE_SUITES.filter((s) => suites.includes(s.suite)) : SMBTORTURE_SUITES
  if (suites && chosen.length !== suites.length) throw new Error(`--suites names a suite the gate does not run: ${suites.join(', ')}`)
  const names = listSubTests(chosen)
  // Re-recording some suites keeps the other entries (and their details) of the baseline at out.
  const kept = suites ? (JSON.parse(readFileSync(out, 'utf8')) as Baseline & { details?: Record<string, string> }) : null
  const inChosen = (name: string) => chosen.some((s) => name.startsWith(`${s.suite}.`))
  const server = await startReferenceSmbd()
  let results: TortureResult[]
  try {
    results = await runAll(server.target, names, timeoutMs)
  } finally {
    await server.stop()
  }
  const baseline: Baseline & { details: Record<string, string> } = {
    comment:
      "smbd's own smbtorture outcomes on this machine, against tools/reference-smbd.ts's private smbd (a CA, scale-out, cluster share; signing mandatory). The wire conformance test compares a node with these; differences it accepts are in smbtorture-known-differences.json.",
    command: 'npm run conformance:baseline',
    smbdVersion: server.version,
    smbtortureVersion: spawnSync('smbtorture', ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n').pop() ?? '',
    recordedAt: new Date().toISOString(),
    results: {
      ...Object.fromEntries(Object.entries(kept?.results ?? {}).filter(([n]) => !inChosen(n))),
      ...(Object.fromEntries(results.map((r) => [r.name, r.outcome])) as Record<string, TortureOutcome>),
    },
    details: {
      ...Object.fromEntries(Object.entries(kept?.details ?? {}).filter(([n]) => !inChosen(n))),
      ...Object.fromEntries(results.filter((r) => r.outcome !== 'success').map((r) => [r.name, r.detail.split('\n')[0].slice(0, 200)])),
    },
  }
  writeFileSync(out, `${JSON.stringify(baseline, null, 2)}\n`)
  process.stderr.write(`${names.length} sub-tests: ${JSON.stringify(tally(results))} -> ${out}\n`)
}

async function draftDifferences(out: string, timeoutMs: number, suites: readonly string[] | null): Promise<void> {
  const baseline = JSON.parse(readFileSync(BASELINE_PATH, 'utf8')) as Baseline
  const dir = mkdtempSync(join(tmpdir(), 'swlab-torture-draft-'))
  const cluster = await Cluster.up({ dir, nodes: 1 })
  let results: TortureResult[]
  try {
    const found = await emulatorTarget(cluster)
    if ('missing' in found) throw new Error(found.missing)
    const names = Object.keys(baseline.results).filter((n) => !suites || suites.some((s) => n.startsWith(`${s}.`)))
    results = await runAll(found.target, names, timeoutMs)
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
  const none: KnownDifferences = { comment: '', differences: {} }
  const ran = new Set(results.map((r) => r.name))
  const c = compareWithBaseline(results, { ...baseline, results: Object.fromEntries(Object.entries(baseline.results).filter(([n]) => ran.has(n))) }, none)
  const byName = new Map(results.map((r) => [r.name, r]))
  const draft: KnownDifferences = {
    comment: `DRAFT written by \`npm run conformance:baseline -- --draft-differences\` on ${new Date().toISOString()}: review every entry and replace smbtorture's message with the reason the node differs.`,
    differences: Object.fromEntries(
      c.unexpected.map((u) => {
        const said = (byName.get(u.name)?.detail ?? '').split('\n')[0].slice(0, 240)
        const smbdSaid = (baseline as Baseline & { details?: Record<string, string> }).details?.[u.name] ?? ''
        const reason = u.got === 'success' ? `passes where smbd ${u.expected}s: ${smbdSaid || 'no message'}` : `smbd ${u.expected}; smbtorture: ${said || u.got}`
        return [u.name, { outcome: u.got, reason }]
      }),
    ),
  }
  writeFileSync(out, `${JSON.stringify(draft, null, 2)}\n`)
  process.stderr.write(`${results.length} sub-tests on the node: ${JSON.stringify(tally(results))}; ${c.matched} as smbd, ${c.unexpected.length} differ -> ${out}\n`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: BASELINE_PATH }, suites: { type: 'string' }, 'timeout-ms': { type: 'string', default: '120000' }, 'draft-differences': { type: 'string' } },
  })
  const missing = smbtortureMissing()
  if (missing) throw new Error(missing)
  const timeoutMs = Number(values['timeout-ms'])
  const suites = values.suites ? values.suites.split(',').map((x) => x.trim()) : null
  if (values['draft-differences']) await draftDifferences(values['draft-differences'], Math.min(timeoutMs, 60_000), suites)
  else await recordBaseline(values.out!, timeoutMs, suites)
}

main().catch((err: Error) => {
  process.stderr.write(`smbtorture-baseline: ${err.message}\n`)
  process.exit(1)
})
