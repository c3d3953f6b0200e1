// Drafts the general share's known differences: runs the share-kind suites (SHARE_KIND_SUITES)
// against a CA share of a general-use role on node-1 of a fresh cluster (`npm run build`
// first), and writes to FILE a copy of smbtorture-known-differences.json in which
//   - a shared entry whose outcome the general share does not give is marked `kinds:
//     ["scale-out"]` (a scale-out behaviour, e.g. a skip on SCALEOUT or a scale-out grant);
//   - every outcome of the general share that differs from smbd's and is not covered by a
//     shared entry gets a `byKind.general` entry with smbtorture's message as a DRAFT reason.
// Review every DRAFT reason before committing; the wire conformance test then checks the file.
//
//   npx tsx scripts/smbtorture-share-kind-draft.ts FILE [--timeout-ms N]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Cluster } from '../cluster/cluster.js'
import { packageRoot } from '../proto/loader.js'
import { emulatorTarget } from '../tools/smb-target.js'
import { inShareKindSuites, runSubTest, smbtortureMissing, tally, type Baseline, type KnownDifference, type KnownDifferences, type TortureResult } from '../tools/smb-conformance/smbtorture.js'

const HERE = join(packageRoot(), 'test', 'conformance-wire')

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'timeout-ms': { type: 'string', default: '60000' } } })
  const out = positionals[0]
  if (!out) throw new Error('give the file to write')
  const missing = smbtortureMissing()
  if (missing) throw new Error(missing)
  const baseline = JSON.parse(readFileSync(join(HERE, 'smbtorture-baseline.json'), 'utf8')) as Baseline
  const known = JSON.parse(readFileSync(join(HERE, 'smbtorture-known-differences.json'), 'utf8')) as KnownDifferences
  const names = Object.keys(baseline.results).filter(inShareKindSuites)
  const dir = mkdtempSync(join(tmpdir(), 'swlab-torture-kind-'))
  const results: TortureResult[] = []
  const cluster = await Cluster.up({ dir, nodes: 1, smb445: false })
  try {
    await cluster.addShare('gen-1', 'csv-1', { kind: 'general', roleName: 'FS-1' })
    const found = await emulatorTarget(cluster, 'node-1', 'gen-1')
    if ('missing' in found) throw new Error(found.missing)
    for (const name of names) results.push(await runSubTest(found.target, name, { timeoutMs: Number(values['timeout-ms']) }))
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
  const differences: Record<string, KnownDifference> = { ...known.differences }
  const general: Record<string, KnownDifference> = { ...(known.byKind?.general ?? {}) }
  for (const r of results) {
    const shared = known.differences[r.name]
    const appliesToGeneral = shared !== undefined && (shared.kinds === undefined || shared.kinds.includes('general'))
    if (appliesToGeneral && shared.outcome !== r.outcome) differences[r.name] = { ...shared, kinds: ['scale-out'] }
    const coveredByShared = appliesToGeneral && shared.outcome === r.outcome
    if (r.outcome !== baseline.results[r.name] && !coveredByShared && general[r.name]?.outcome !== r.outcome) {
      general[r.name] = { outcome: r.outcome, reason: `DRAFT: smbd ${baseline.results[r.name]}; smbtorture: ${r.detail.split('\n')[0].slice(0, 240) || r.outcome}` }
    }
    if (r.outcome === baseline.results[r.name]) delete general[r.name]
  }
  const draft: KnownDifferences = { ...known, differences, byKind: { ...known.byKind, general } }
  writeFileSync(out, `${JSON.stringify(draft, null, 2)}\n`)
  process.stderr.write(`${results.length} sub-tests on the general share: ${JSON.stringify(tally(results))} -> ${out}\n`)
}

main().catch((err: Error) => {
  process.stderr.write(`smbtorture-share-kind-draft: ${err.message}\n`)
  process.exit(1)
})
