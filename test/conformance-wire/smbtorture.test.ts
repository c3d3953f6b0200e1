// smbtorture's smb2 suites of issue 14 (smb2.connect, read, getinfo, setinfo, dir, lock,
// compound, and session's signing-*, encryption-* and reauth*) and of issue 15 (multichannel's
// generic tests, session's bind* and reconnect*, durable-open, durable-v2-open, durable-v2-delay,
// replay, oplock and lease: tools/smb-conformance/smbtorture.ts SMBTORTURE_SUITES), every sub-test on its own,
// against smbd and a node. smbd must reproduce its committed baseline
// (smbtorture-baseline.json, made by `npm run conformance:baseline`): that validates the
// runner and catches a Samba upgrade. A node must match the same baseline except for the
// differences listed with their reasons in smbtorture-known-differences.json; a listed
// difference that no longer differs fails too, so that the list only shrinks.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  compareWithBaseline,
  listSubTests,
  runSubTest,
  smbtortureMissing,
  tally,
  type Baseline,
  type KnownDifferences,
  type TortureResult,
} from '../../tools/smb-conformance/smbtorture.js'
import type { SmbTarget } from '../../tools/smb-target.js'
import { wireTargets } from './wire-targets.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const BASELINE = JSON.parse(readFileSync(join(HERE, 'smbtorture-baseline.json'), 'utf8')) as Baseline
const KNOWN = JSON.parse(readFileSync(join(HERE, 'smbtorture-known-differences.json'), 'utf8')) as KnownDifferences
const NONE: KnownDifferences = { comment: 'smbd against its own baseline', differences: {} }
const OUTCOMES = ['success', 'failure', 'error', 'skip', 'xfail', 'timeout', 'crash']
/** A run that goes past this stops starting sub-tests (they count as timeouts): the whole command stays under ~25 min. */
const RUN_BUDGET_MS = 15 * 60_000

const missing = smbtortureMissing()
// Client addresses of its own: a node that binds 445 (as root) must not meet another test's.
const targets = await wireTargets(t, missing, '127.0.83')

t.test('the baseline and the known differences are well formed and name real sub-tests', { skip: missing ?? false }, async (t) => {
  const listed = listSubTests()
  t.ok(listed.length >= 70, `smbtorture lists ${listed.length} sub-tests in the suites`)
  t.same(Object.keys(BASELINE.results).sort(), [...listed].sort(), `the baseline covers exactly the sub-tests this smbtorture lists (re-record with \`${BASELINE.command}\` after a Samba upgrade)`)
  t.ok(BASELINE.command && BASELINE.smbdVersion, `recorded by \`${BASELINE.command}\` with smbd ${BASELINE.smbdVersion}`)
  for (const [name, d] of Object.entries(KNOWN.differences)) {
    t.ok(name in BASELINE.results, `known difference ${name} is a sub-test of the baseline`)
    t.ok(OUTCOMES.includes(d.outcome), `known difference ${name} names an outcome (${d.outcome})`)
    t.ok(typeof d.reason === 'string' && d.reason.length >= 20, `known difference ${name} says why`)
    t.not(d.outcome, BASELINE.results[name], `known difference ${name} differs from smbd's ${BASELINE.results[name]}`)
  }
})

async function runAll(target: SmbTarget, known: KnownDifferences): Promise<TortureResult[]> {
  const results: TortureResult[] = []
  const deadline = Date.now() + RUN_BUDGET_MS
  for (const name of Object.keys(BASELINE.results)) {
    const left = deadline - Date.now()
    if (left <= 0) {
      results.push({ name, outcome: 'timeout', ms: 0, detail: `not run: the run's ${RUN_BUDGET_MS / 60_000} min budget was spent` })
      continue
    }
    // A listed difference may hang where smbd answers: it gets less time.
    const timeoutMs = Math.min(left, known.differences[name] ? 20_000 : 60_000)
    results.push(await runSubTest(target, name, { timeoutMs }))
  }
  return results
}

for (const { label, target, skip } of targets) {
  const isSmbd = target?.name === 'smbd'
  t.test(`smbtorture smb2 suites against ${label}: ${isSmbd ? "smbd's own baseline" : "smbd's baseline but for the known differences"}`, { skip }, async (t) => {
    const known = isSmbd ? NONE : KNOWN
    const results = await runAll(target!, known)
    const c = compareWithBaseline(results, BASELINE, known)
    t.comment(`${results.length} sub-tests in ${Math.round(results.reduce((s, r) => s + r.ms, 0) / 1000)} s: ${JSON.stringify(tally(results))}; ${c.matched} as smbd`)
    t.same(c.notRun, [], 'every sub-test of the baseline ran')
    t.same(c.notInBaseline, [], 'every sub-test run is in the baseline')
    for (const u of c.unexpected) t.fail(`${u.name}: ${u.got}, smbd ${u.expected}${u.detail ? ` — ${u.detail.split('\n')[0].slice(0, 300)}` : ''}`)
    t.equal(c.unexpected.length, 0, `no outcome differs from smbd's beyond the known differences (${c.unexpected.length} do)`)
    for (const n of c.noLongerDifferent) t.fail(`${n.name} is listed as a known difference (${n.reason.slice(0, 80)}…) but now gives ${n.outcome} as smbd does: take it off the list`)
    for (const d of c.differentlyDifferent) t.comment(`${d.name}: listed as ${d.listed}, now ${d.got} (still not smbd's)`)
  })
}
