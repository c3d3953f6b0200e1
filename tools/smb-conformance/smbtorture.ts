// Samba's smbtorture smb2 suites as a conformance gate against any SMB server: each sub-test
// runs on its own (one that crashes or hangs smbtorture cannot hide the others), its outcome
// is read from smbtorture's subunit lines, and the outcomes are compared with a committed
// baseline of smbd 4.17's own results on this machine plus a committed list of known
// differences, each with its reason (issue 14, acceptance).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SmbTarget } from '../smb-target.js'

/** The suites of issue 14's acceptance (smb2.session only for its signing, encryption, reauth, bind, reconnect, two_logoff and ntlmssp_bug14932 tests) and multichannel's generic tests. */
export const SMBTORTURE_SUITES: readonly { readonly suite: string; readonly only?: RegExp }[] = [
  { suite: 'smb2.connect' },
  { suite: 'smb2.read' },
  { suite: 'smb2.getinfo' },
  { suite: 'smb2.setinfo' },
  { suite: 'smb2.dir' },
  { suite: 'smb2.lock' },
  { suite: 'smb2.compound' },
  { suite: 'smb2.session', only: /^smb2\.session\.(signing-|encryption-|reauth|bind|reconnect|two_logoff\.|ntlmssp_bug14932\.)/ },
  // Session binding and the interface list (multichannel, issue 15 item 7); the oplock and lease
  // sub-tests of smb2.multichannel also cut channels with iptables on the client side.
  { suite: 'smb2.multichannel', only: /^smb2\.multichannel\.generic\./ },
  // Durable handles v1 and v2, replay and channel sequence (issue 15 items 2 and 3); session
  // reconnect with PreviousSessionId is smb2.session's reconnect* above (item 4).
  { suite: 'smb2.durable-open' },
  { suite: 'smb2.durable-v2-open' },
  { suite: 'smb2.durable-v2-delay' },
  { suite: 'smb2.replay' },
  // Issue 15 item 1: oplock levels and leases v1/v2 with their breaks.
  { suite: 'smb2.oplock' },
  { suite: 'smb2.lease' },
]

/** The kinds of CA share the gate runs against (cluster/config.ts ShareKind). */
export type ShareKindLabel = 'scale-out' | 'general'

/**
 * The suites whose behaviour depends on the share's kind (issue 15's acceptance: "against a CA
 * share of each kind"): Windows and smbtorture treat a scale-out share and a general-use
 * role's share differently (leases and oplocks granted, pending opens, replay's expectations).
 * The scale-out share runs every suite; a general share runs these. smb2.lease and smb2.oplock
 * count once they are in the baseline.
 */
export const SHARE_KIND_SUITES: readonly string[] = [
  'smb2.durable-open',
  'smb2.durable-v2-open',
  'smb2.durable-v2-delay',
  'smb2.replay',
  'smb2.session',
  'smb2.lease',
  'smb2.oplock',
]

/** Whether a sub-test belongs to the share-kind suites. */
export function inShareKindSuites(name: string): boolean {
  return SHARE_KIND_SUITES.some((suite) => name.startsWith(`${suite}.`))
}

/** subunit's outcomes, plus what the runner itself observes. */
export type TortureOutcome = 'success' | 'failure' | 'error' | 'skip' | 'xfail' | 'timeout' | 'crash'

export interface TortureResult {
  /** The sub-test as listed by `smbtorture --list`, e.g. smb2.read.eof.eof. */
  readonly name: string
  readonly outcome: TortureOutcome
  readonly ms: number
  /** The reason smbtorture gave (failure, error, skip), or the end of its output. */
  readonly detail: string
}

export function smbtortureMissing(): string | null {
  return spawnSync('smbtorture', ['--version'], { encoding: 'utf8' }).status === 0 ? null : 'smbtorture is not installed (apt-get install samba-testsuite)'
}

/** The sub-tests of the suites, in smbtorture's order. */
export function listSubTests(suites = SMBTORTURE_SUITES): string[] {
  const names: string[] = []
  for (const { suite, only } of suites) {
    const r = spawnSync('smbtorture', ['--list', suite], { encoding: 'utf8', timeout: 30_000 })
    if (r.status !== 0) throw new Error(`smbtorture --list ${suite} failed: ${(r.stderr || r.stdout).trim().slice(-300)}`)
    names.push(...parseList(r.stdout, suite).filter((n) => !only || only.test(n)))
  }
  return names
}

/** Lines of `smbtorture --list SUITE` that name a sub-test of exactly that suite. */
export function parseList(stdout: string, suite: string): string[] {
  // --list matches by prefix: `smb2.session` also lists smb2.session-require-signing.
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(`${suite}.`))
}

/** The test name smbtorture reports in `test:`/`success:` lines: the last component. */
export function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1)
}

const RESULT = /^(success|successful|failure|fail|error|skip|xfail|uxsuccess): (\S+)(?: \[(.*))?$/

/**
 * The outcome of one sub-test from smbtorture's output (subunit v1: `test: NAME` then one of
 * `success: NAME`, `failure: NAME [ reason ]`, `error: …`, `skip: …`, `xfail: …`). Without a
 * result line for the test, a non-zero exit is an error.
 */
export function parseOutcome(stdout: string, name: string, exitCode: number | null): { outcome: TortureOutcome; detail: string } {
  const short = shortName(name)
  const lines = stdout.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = RESULT.exec(lines[i].trimEnd())
    if (!m || m[2] !== short) continue
    const word = m[1]
    const outcome: TortureOutcome =
      word === 'success' || word === 'successful' ? 'success' : word === 'fail' || word === 'failure' || word === 'uxsuccess' ? 'failure' : (word as TortureOutcome)
    // A reason runs to the closing "]" line.
    const rest = lines.slice(i + 1)
    const end = rest.findIndex((l) => l.trim() === ']')
    const reason = [m[3] ?? '', ...(m[3] !== undefined && end >= 0 ? rest.slice(0, end) : [])].join('\n').replace(/\]\s*$/, '').trim()
    return { outcome, detail: reason.slice(0, 2000) }
  }
  return { outcome: 'error', detail: `no result line for ${short} (exit ${exitCode}): ${stdout.slice(-600).trim()}` }
}

/**
 * The seed of smbtorture's random() for every sub-test (--seed). Left alone it is time(NULL),
 * so a sub-test that draws with rand() gives a different run each second:
 * smb2.replay.channel-sequence draws ChannelSequences with rand() % 0x8000 and expects
 * FILE_NOT_AVAILABLE for each, but a draw of 0 (0x7fff ahead) or 0x7fff (equal) is not stale
 * (MS-SMB2 3.3.5.2.10): 1 in 32,768 per draw, 12 draws, and smbd fails it as a node does
 * (seed 1796509057; a CI run hit it on the general share, 2026-12-06). A fixed seed makes each
 * run the same and any failure replayable; seed 1 draws none of those values.
 */
export const SMBTORTURE_SEED = 1

export interface RunOptions {
  readonly timeoutMs?: number
  /** smbtorture's --seed; SMBTORTURE_SEED unless given. */
  readonly seed?: number
  /** Extra smbtorture arguments, e.g. --option=torture:user2name=… */
  readonly extraArgs?: readonly string[]
  /** A private client smb.conf (-s); default: smbtorture's own default. */
  readonly clientConf?: string
}

export function smbtortureArgs(target: SmbTarget, name: string, opts: RunOptions = {}): string[] {
  return [
    `//${target.host}/${target.share}`,
    '-p',
    String(target.port),
    '-U',
    `${target.user}%${target.password}`,
    ...(opts.clientConf ? ['-s', opts.clientConf] : []),
    '--seed',
    String(opts.seed ?? SMBTORTURE_SEED),
    ...(opts.extraArgs ?? []),
    name,
  ]
}

/** Runs one sub-test; never throws. A hang past timeoutMs is killed and reported as timeout. */
export function runSubTest(target: SmbTarget, name: string, opts: RunOptions = {}): Promise<TortureResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000
  const started = performance.now()
  return new Promise((resolve) => {
    // smbtorture makes a scratch folder (smbtortureXXXXXX) in its working directory and removes
    // it only when it exits by itself: a killed one would leave it in the caller's tree.
    const scratch = mkdtempSync(join(tmpdir(), 'swlab-smbtorture-'))
    const child = spawn('smbtorture', smbtortureArgs(target, name, opts), { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratch })
    child.once('close', () => rmSync(scratch, { recursive: true, force: true }))
    let stdout = ''
    let stderr = ''
    // Bounded: a failing test may print a lot; the result line is at the end.
    child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-64 * 1024)))
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8 * 1024)))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer)
      const ms = Math.round(performance.now() - started)
      if (timedOut) return resolve({ name, outcome: 'timeout', ms, detail: `killed after ${timeoutMs} ms: ${stdout.slice(-400).trim()}` })
      const parsed = parseOutcome(stdout, name, code)
      if (parsed.detail.startsWith('no result line') && signal) {
        return resolve({ name, outcome: 'crash', ms, detail: `smbtorture died of ${signal}: ${(stderr || stdout).slice(-400).trim()}` })
      }
      resolve({ name, ...parsed, ms, detail: parsed.detail || (parsed.outcome === 'error' ? stderr.slice(-400).trim() : '') })
    }
    child.once('close', done)
    child.once('error', (err) => {
      clearTimeout(timer)
      rmSync(scratch, { recursive: true, force: true })
      resolve({ name, outcome: 'error', ms: 0, detail: `could not run smbtorture: ${err.message}` })
    })
  })
}

export interface Baseline {
  readonly comment: string
  readonly command: string
  readonly smbdVersion: string
  readonly smbtortureVersion: string
  readonly recordedAt: string
  readonly results: Readonly<Record<string, TortureOutcome>>
}

export interface KnownDifference {
  readonly outcome: TortureOutcome
  readonly reason: string
  /** The share kinds it applies to; absent: both. */
  readonly kinds?: readonly ShareKindLabel[]
}

export interface KnownDifferences {
  readonly comment: string
  /** Per sub-test: the outcome expected instead of smbd's, and why. */
  readonly differences: Readonly<Record<string, KnownDifference>>
  /** Per share kind: entries that replace (or add to) the shared ones for that kind only. */
  readonly byKind?: Readonly<Partial<Record<ShareKindLabel, Readonly<Record<string, KnownDifference>>>>>
}

/** The known differences of one share kind: the shared entries that apply to it, then its own. */
export function knownDifferencesOf(known: KnownDifferences, kind: ShareKindLabel): KnownDifferences {
  const shared = Object.entries(known.differences).filter(([, d]) => d.kinds === undefined || d.kinds.includes(kind))
  return { comment: known.comment, differences: { ...Object.fromEntries(shared), ...(known.byKind?.[kind] ?? {}) } }
}

export interface Comparison {
  /** Differ from the baseline and are not listed: the gate fails. */
  readonly unexpected: readonly { name: string; expected: TortureOutcome; got: TortureOutcome; detail: string }[]
  /** Listed as different but now match the baseline: take them off the list. */
  readonly noLongerDifferent: readonly { name: string; outcome: TortureOutcome; reason: string }[]
  /** Listed and still different, but not in the listed way (reported, not failed). */
  readonly differentlyDifferent: readonly { name: string; listed: TortureOutcome; got: TortureOutcome }[]
  /** Run here but absent from the baseline (a newer smbtorture): record a new baseline. */
  readonly notInBaseline: readonly string[]
  /** In the baseline but not run (an older smbtorture, or a listing problem). */
  readonly notRun: readonly string[]
  readonly matched: number
}

/** Compares one run with smbd's baseline and the known differences. Pure. */
export function compareWithBaseline(results: readonly TortureResult[], baseline: Baseline, known: KnownDifferences): Comparison {
  const unexpected: Comparison['unexpected'][number][] = []
  const noLongerDifferent: Comparison['noLongerDifferent'][number][] = []
  const differentlyDifferent: Comparison['differentlyDifferent'][number][] = []
  const notInBaseline: string[] = []
  let matched = 0
  for (const r of results) {
    const expected = baseline.results[r.name]
    if (expected === undefined) {
      notInBaseline.push(r.name)
      continue
    }
    const listed = known.differences[r.name]
    if (r.outcome === expected) {
      if (listed) noLongerDifferent.push({ name: r.name, outcome: r.outcome, reason: listed.reason })
      else matched++
    } else if (!listed) {
      unexpected.push({ name: r.name, expected, got: r.outcome, detail: r.detail })
    } else if (listed.outcome !== r.outcome) {
      differentlyDifferent.push({ name: r.name, listed: listed.outcome, got: r.outcome })
    }
  }
  const ran = new Set(results.map((r) => r.name))
  const notRun = Object.keys(baseline.results).filter((n) => !ran.has(n))
  return { unexpected, noLongerDifferent, differentlyDifferent, notInBaseline, notRun, matched }
}

/** Counts per outcome, e.g. { success: 70, failure: 3, skip: 12 }. */
export function tally(results: Iterable<{ outcome: TortureOutcome }>): Partial<Record<TortureOutcome, number>> {
  const counts: Partial<Record<TortureOutcome, number>> = {}
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1
  return counts
}
