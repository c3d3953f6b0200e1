// Records smbd's own smbtorture results on this machine: the baseline the wire conformance
// test compares a node with (test/conformance-wire/smbtorture-baseline.json). Starts the
// reference smbd of tools/reference-smbd.ts, runs every sub-test of the suites of issue 14 on
// its own, and writes the outcomes with the command and versions that made them.
//
//   npm run conformance:baseline [-- --out FILE] [--timeout-ms N]
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { packageRoot } from '../proto/loader.js'
import { startReferenceSmbd } from '../tools/reference-smbd.js'
import { listSubTests, runSubTest, smbtortureMissing, tally, type Baseline, type TortureOutcome } from '../tools/smb-conformance/smbtorture.js'

export const BASELINE_PATH = join(packageRoot(), 'test', 'conformance-wire', 'smbtorture-baseline.json')

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: BASELINE_PATH }, 'timeout-ms': { type: 'string', default: '120000' } } })
  const missing = smbtortureMissing()
  if (missing) throw new Error(missing)
  const names = listSubTests()
  const server = await startReferenceSmbd()
  const results: Record<string, TortureOutcome> = {}
  const details: Record<string, string> = {}
  try {
    for (const name of names) {
      const r = await runSubTest(server.target, name, { timeoutMs: Number(values['timeout-ms']) })
      results[name] = r.outcome
      if (r.outcome !== 'success') details[name] = r.detail.split('\n')[0].slice(0, 200)
      process.stderr.write(`${r.outcome.padEnd(8)} ${String(r.ms).padStart(6)} ms  ${name}\n`)
    }
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
    results,
    details,
  }
  writeFileSync(values.out!, `${JSON.stringify(baseline, null, 2)}\n`)
  process.stderr.write(`${names.length} sub-tests: ${JSON.stringify(tally(Object.values(results).map((outcome) => ({ outcome }))))} -> ${values.out}\n`)
}

main().catch((err: Error) => {
  process.stderr.write(`smbtorture-baseline: ${err.message}\n`)
  process.exit(1)
})
