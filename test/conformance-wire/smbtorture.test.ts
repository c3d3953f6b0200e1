// smbtorture's smb2 suites of issue 14 (smb2.connect, read, getinfo, setinfo, dir, lock,
// compound, and session's signing-*, encryption-* and reauth*) and of issue 15 (multichannel's
// generic tests, session's bind* and reconnect*, durable-open, durable-v2-open, durable-v2-delay,
// replay, oplock and lease: tools/smb-conformance/smbtorture.ts SMBTORTURE_SUITES), every sub-test on its own,
// against smbd and a node's CA scale-out share; the share-kind suites of issue 15 (durable-open,
// durable-v2-open, durable-v2-delay, replay, session, lease, oplock: SHARE_KIND_SUITES) also
// against a CA share of a general-use file server role on the same node, reached at the role's
// own address (issue 15 item 6 and its acceptance). smbd must reproduce its committed baseline
// (smbtorture-baseline.json, made by `npm run conformance:baseline`): that validates the
// runner and catches a Samba upgrade. A node must match the same baseline except for the
// differences listed with their reasons in smbtorture-known-differences.json (per share kind:
// an entry's `kinds`, and `byKind`); a listed difference that no longer differs fails too, so
// that the list only shrinks.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  compareWithBaseline,
  inShareKindSuites,
  knownDifferencesOf,
  listSubTests,
  runSubTest,
  smbtortureMissing,
  tally,
  type Baseline,
  type KnownDifferences,
  type ShareKindLabel,
  type TortureResult,
} from '../../tools/smb-conformance/smbtorture.js'
import type { SmbTarget } from '../../tools/smb-target.js'
import { shareKindTargets, smbdTarget, type WireTarget } from './wire-targets.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const BASELINE = JSON.parse(readFileSync(join(HERE, 'smbtorture-baseline.json'), 'utf8')) as Baseline
const KNOWN = JSON.parse(readFileSync(join(HERE, 'smbtorture-known-differences.json'), 'utf8')) as KnownDifferences
const NONE: KnownDifferences = { comment: 'smbd against its own baseline', differences: {} }
const OUTCOMES = ['success', 'failure', 'error', 'skip', 'xfail', 'timeout', 'crash']
/** A run that goes past this stops starting sub-tests (they count as timeouts): the whole command stays under ~25 min. */
const RUN_BUDGET_MS = 15 * 60_000
/**
 * The general share's run: the share-kind suites only. 45 s here today (2 cores under load);
 * with oplocks and leases (smbd's smb2.oplock and smb2.lease in the baseline, and the
 * dhv2-pending tests waiting out breaks on this share) a draft run took 513 s.
 */
const GENERAL_RUN_BUDGET_MS = 12 * 60_000

const missing = smbtortureMissing()
// Client addresses of its own: a node that binds 445 (as root) must not meet another test's.
const smbd = await smbdTarget(t, missing)
const kinds = await shareKindTargets(t, missing, '127.0.83')
const targets: { readonly run: WireTarget; readonly kind: ShareKindLabel | null }[] = [
  { run: smbd, kind: null },
  { run: kinds.scaleOut, kind: 'scale-out' },
  { run: kinds.general, kind: 'general' },
]
/** Sub-tests run against each kind of share: everything against the scale-out one, the share-kind suites against the general one. */
const subTestsOf = (kind: ShareKindLabel | null): string[] => Object.keys(BASELINE.results).filter((n) => kind !== 'general' || inShareKindSuites(n))

t.test('the baseline and the known differences are well formed and name real sub-tests', { skip: missing ?? false }, async (t) => {
  const listed = listSubTests()
  t.ok(listed.length >= 70, `smbtorture lists ${listed.length} sub-tests in the suites`)
  t.same(Object.keys(BASELINE.results).sort(), [...listed].sort(), `the baseline covers exactly the sub-tests this smbtorture lists (re-record with \`${BASELINE.command}\` after a Samba upgrade)`)
  t.ok(BASELINE.command && BASELINE.smbdVersion, `recorded by \`${BASELINE.command}\` with smbd ${BASELINE.smbdVersion}`)
  t.same(Object.keys(KNOWN.byKind ?? {}).filter((k) => k !== 'scale-out' && k !== 'general'), [], 'byKind names share kinds')
  const entries = [...Object.entries(KNOWN.differences), ...Object.values(KNOWN.byKind ?? {}).flatMap((d) => Object.entries(d ?? {}))]
  for (const [name, d] of entries) {
    t.ok(name in BASELINE.results, `known difference ${name} is a sub-test of the baseline`)
    t.ok(OUTCOMES.includes(d.outcome), `known difference ${name} names an outcome (${d.outcome})`)
    t.ok(typeof d.reason === 'string' && d.reason.length >= 20, `known difference ${name} says why`)
    t.not(d.outcome, BASELINE.results[name], `known difference ${name} differs from smbd's ${BASELINE.results[name]}`)
    t.ok(d.kinds === undefined || (d.kinds.length > 0 && d.kinds.every((k) => k === 'scale-out' || k === 'general')), `known difference ${name} names share kinds, if any`)
  }
  for (const [name] of Object.entries(KNOWN.byKind?.general ?? {})) t.ok(inShareKindSuites(name), `general-share difference ${name} is of a suite run against that share`)
})

async function runAll(target: SmbTarget, names: readonly string[], known: KnownDifferences, budgetMs: number): Promise<TortureResult[]> {
  const results: TortureResult[] = []
  const deadline = Date.now() + budgetMs
  for (const name of names) {
    const left = deadline - Date.now()
    if (left <= 0) {
      results.push({ name, outcome: 'timeout', ms: 0, detail: `not run: the run's ${budgetMs / 60_000} min budget was spent` })
      continue
    }
    // A difference listed as a hang gets less time; any other sub-test the same 60 s, so that
    // one that ends on its own (some wait out break timeouts for 25 s and more) is not cut off
    // into a timeout on a loaded machine and on time on a quiet one.
    const timeoutMs = Math.min(left, known.differences[name]?.outcome === 'timeout' ? 20_000 : 60_000)
    results.push(await runSubTest(target, name, { timeoutMs }))
  }
  return results
}

for (const { run: { label, target, skip }, kind } of targets) {
  const isSmbd = kind === null
  t.test(`smbtorture smb2 suites against ${label}: ${isSmbd ? "smbd's own baseline" : "smbd's baseline but for the known differences"}`, { skip }, async (t) => {
    const known = kind === null ? NONE : knownDifferencesOf(KNOWN, kind)
    const names = subTestsOf(kind)
    const results = await runAll(target!, names, known, kind === 'general' ? GENERAL_RUN_BUDGET_MS : RUN_BUDGET_MS)
    // The general share runs part of the baseline: compared with that part.
    const ran = new Set(names)
    const baseline: Baseline = { ...BASELINE, results: Object.fromEntries(Object.entries(BASELINE.results).filter(([n]) => ran.has(n))) }
    const c = compareWithBaseline(results, baseline, { ...known, differences: Object.fromEntries(Object.entries(known.differences).filter(([n]) => ran.has(n))) })
    t.comment(`${results.length} sub-tests in ${Math.round(results.reduce((s, r) => s + r.ms, 0) / 1000)} s: ${JSON.stringify(tally(results))}; ${c.matched} as smbd`)
    t.same(c.notRun, [], 'every sub-test of the baseline ran')
    t.same(c.notInBaseline, [], 'every sub-test run is in the baseline')
    for (const u of c.unexpected) t.fail(`${u.name}: ${u.got}, smbd ${u.expected}${u.detail ? ` — ${u.detail.split('\n')[0].slice(0, 300)}` : ''}`)
    t.equal(c.unexpected.length, 0, `no outcome differs from smbd's beyond the known differences (${c.unexpected.length} do)`)
    for (const n of c.noLongerDifferent) t.fail(`${n.name} is listed as a known difference (${n.reason.slice(0, 80)}…) but now gives ${n.outcome} as smbd does: take it off the list`)
    for (const d of c.differentlyDifferent) t.comment(`${d.name}: listed as ${d.listed}, now ${d.got} (still not smbd's)`)
  })
}
