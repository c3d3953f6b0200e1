// Samba's smbclient against any SMB server, as a table of cases run the same way against the
// reference smbd and a node (issue 14, acceptance): ls, put, get (bytes identical), mkdir,
// rename, rm, allinfo with signing required, the same sealed (--client-protection=encrypt),
// `smbclient -L` listing every share and IPC$, and the bad inputs with the NTSTATUS each must
// give. Each case is one smbclient process, so each status is that case's own.
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { SmbTarget } from '../smb-target.js'

export function smbclientMissing(): string | null {
  return spawnSync('smbclient', ['--version'], { encoding: 'utf8' }).status === 0 ? null : 'smbclient is not installed (apt-get install smbclient)'
}

export type Protection = 'sign' | 'encrypt'

export interface SmbclientRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** The first NT_STATUS_… smbclient printed, or null. */
  readonly status: string | null
  readonly argv: readonly string[]
}

export interface SmbclientOptions {
  readonly protection?: Protection
  /** -m: the highest dialect to offer (default SMB3: 2.0.2 … 3.1.1). */
  readonly maxProtocol?: string
  readonly share?: string
  readonly user?: string
  readonly password?: string
  readonly timeoutMs?: number
  readonly extraArgs?: readonly string[]
}

/** One smbclient process running `-c command` on the target's share. */
export function smbclient(target: SmbTarget, command: string, opts: SmbclientOptions = {}): SmbclientRun {
  const argv = [
    `//${target.host}/${opts.share ?? target.share}`,
    '-p',
    String(target.port),
    '-U',
    `${opts.user ?? target.user}%${opts.password ?? target.password}`,
    '-m',
    opts.maxProtocol ?? 'SMB3',
    `--client-protection=${opts.protection ?? 'sign'}`,
    ...(opts.extraArgs ?? []),
    '-c',
    command,
  ]
  return run(argv, opts.timeoutMs)
}

/** `smbclient -L` in grepable form: one `Type|Name|Comment` line per share. */
export function smbclientList(target: SmbTarget, opts: SmbclientOptions = {}): SmbclientRun & { shares: { type: string; name: string }[] } {
  const argv = [
    '-L',
    target.host,
    '-p',
    String(target.port),
    '-U',
    `${opts.user ?? target.user}%${opts.password ?? target.password}`,
    '-m',
    opts.maxProtocol ?? 'SMB3',
    `--client-protection=${opts.protection ?? 'sign'}`,
    '-g',
  ]
  const r = run(argv, opts.timeoutMs)
  const shares = r.stdout
    .split('\n')
    .map((l) => l.split('|'))
    .filter((f) => f.length >= 2 && ['Disk', 'IPC', 'Printer', 'Device'].includes(f[0]))
    .map((f) => ({ type: f[0], name: f[1] }))
  return { ...r, shares }
}

function run(argv: string[], timeoutMs = 120_000): SmbclientRun {
  const r = spawnSync('smbclient', argv, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })
  const text = `${r.stdout}\n${r.stderr}`
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, status: /NT_STATUS_[A-Z0-9_]+/.exec(text)?.[0] ?? null, argv }
}

export interface CaseResult {
  readonly case: string
  readonly ok: boolean
  readonly detail: string
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/**
 * The file workflow of the acceptance with one protection: every step a separate smbclient.
 * workDir is a local scratch folder; names carry a tag so that runs do not meet.
 */
export function runFileWorkflow(target: SmbTarget, protection: Protection, workDir: string): CaseResult[] {
  const results: CaseResult[] = []
  const tag = `${protection}-${randomBytes(4).toString('hex')}`
  // Not a multiple of any block size: the last READ and WRITE are short.
  const payload = randomBytes(3 * 1024 * 1024 + 1234)
  const local = join(workDir, `put-${tag}.bin`)
  const back = join(workDir, `get-${tag}.bin`)
  writeFileSync(local, payload)
  const file = `wire-${tag}.bin`
  const dir = `dir-${tag}`
  const renamed = `${dir}\\renamed-${tag}.bin`
  const step = (name: string, command: string, check: (r: SmbclientRun) => string | null) => {
    const r = smbclient(target, command, { protection })
    const problem = r.code !== 0 ? `exit ${r.code}: ${(r.status ?? r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}` : check(r)
    results.push({ case: `${protection}: ${name}`, ok: problem === null, detail: problem ?? `smbclient ${r.argv.slice(-1)[0]}` })
    return problem === null
  }
  step('ls', 'ls', (r) => (/blocks of size \d+\. \d+ blocks available/.test(r.stdout) ? null : `no volume line in: ${r.stdout.slice(-300)}`))
  step(`put ${payload.length} bytes`, `put ${local} ${file}`, () => {
    if (!target.sharePath) return null
    const onDisk = join(target.sharePath, file)
    return existsSync(onDisk) && sha256(readFileSync(onDisk)) === sha256(payload) ? null : `the share's folder does not hold the bytes put (${onDisk})`
  })
  step('ls shows the size', `ls ${file}`, (r) => (new RegExp(`${file}\\s+A?\\s*${payload.length}\\b`).test(r.stdout) ? null : `ls: ${r.stdout.slice(0, 300)}`))
  step('get: bytes identical', `get ${file} ${back}`, () => (existsSync(back) && sha256(readFileSync(back)) === sha256(payload) ? null : 'the bytes got differ from the bytes put'))
  step('mkdir', `mkdir ${dir}`, () => null)
  step('ls shows the directory', `ls ${dir}`, (r) => (new RegExp(`${dir}\\s+D\\b`).test(r.stdout) ? null : `ls: ${r.stdout.slice(0, 300)}`))
  step('rename into the directory', `rename ${file} ${renamed}`, () => null)
  results.push(gone(`${protection}: the old name is gone`, smbclient(target, `ls ${file}`, { protection })))
  step('allinfo', `allinfo ${renamed}`, (r) =>
    /create_time:/.test(r.stdout) && new RegExp(`stream: \\[::\\$DATA\\], ${payload.length} bytes`).test(r.stdout) ? null : `allinfo: ${r.stdout.slice(0, 400)}`,
  )
  step('rm', `rm ${renamed}`, () => null)
  step('rmdir', `rmdir ${dir}`, () => null)
  results.push(gone(`${protection}: the directory is gone`, smbclient(target, `ls ${dir}`, { protection })))
  return results
}

/** A listing of a removed name must fail with NO_SUCH_FILE or OBJECT_NAME_NOT_FOUND. */
function gone(name: string, r: SmbclientRun): CaseResult {
  const ok = r.status === 'NT_STATUS_NO_SUCH_FILE' || r.status === 'NT_STATUS_OBJECT_NAME_NOT_FOUND'
  return { case: name, ok, detail: ok ? r.status! : `expected NT_STATUS_NO_SUCH_FILE, got exit ${r.code} ${r.status}: ${r.stdout.slice(0, 200)}` }
}

/** `smbclient -L`: every share of the target and IPC$, with their types. */
export function runShareList(target: SmbTarget, protection: Protection = 'sign'): CaseResult[] {
  const r = smbclientList(target, { protection })
  if (r.code !== 0) return [{ case: `${protection}: smbclient -L`, ok: false, detail: `exit ${r.code}: ${r.status ?? r.stderr.slice(-300)}` }]
  const want = [...(target.shares ?? [target.share]).map((name) => ({ type: 'Disk', name })), { type: 'IPC', name: 'IPC$' }]
  return want.map((w) => {
    const found = r.shares.find((s) => s.name === w.name)
    return {
      case: `${protection}: smbclient -L lists ${w.name} as ${w.type}`,
      ok: found?.type === w.type,
      detail: found ? `${found.type}|${found.name}` : `not listed (got ${r.shares.map((s) => s.name).join(', ')})`,
    }
  })
}

/**
 * A bad input and the NTSTATUS it must get. `expected` is what the spec or Windows names and
 * what a node must answer; `smbd` is what smbd 4.17 answers where it differs (the harness is
 * validated against smbd with it).
 */
export interface StatusCase {
  readonly case: string
  readonly tool: 'smbclient' | 'impacket'
  readonly expected: string
  readonly smbd?: string
  readonly why: string
}

export const BAD_INPUT_CASES: readonly StatusCase[] = [
  { case: 'wrong password', tool: 'smbclient', expected: 'NT_STATUS_LOGON_FAILURE', why: 'MS-NLMP 3.2.5.1.2 / MS-SMB2 3.3.5.5.3: a failed NTLM authentication' },
  { case: 'unknown user', tool: 'smbclient', expected: 'NT_STATUS_LOGON_FAILURE', why: 'Windows does not tell an unknown user from a wrong password' },
  { case: 'unknown share', tool: 'smbclient', expected: 'NT_STATUS_BAD_NETWORK_NAME', why: 'MS-SMB2 3.3.5.7: no share of that name' },
  { case: 'get a missing file', tool: 'smbclient', expected: 'NT_STATUS_OBJECT_NAME_NOT_FOUND', why: 'MS-FSA 2.1.5.1: FILE_OPEN of a name that does not exist' },
  { case: 'create ..\\ above the share root', tool: 'impacket', expected: 'STATUS_OBJECT_PATH_SYNTAX_BAD', why: 'a path may not leave the share (Windows and smbd: raw.chkpath)' },
  { case: 'create .. inside a name', tool: 'impacket', expected: 'STATUS_OBJECT_PATH_SYNTAX_BAD', why: 'x\\..\\..\\ climbs above the root as well' },
  {
    case: 'create an absolute path',
    tool: 'impacket',
    expected: 'STATUS_INVALID_PARAMETER',
    smbd: 'STATUS_OBJECT_PATH_NOT_FOUND',
    why: 'MS-SMB2 3.3.5.9: a name starting with a path separator is INVALID_PARAMETER (smbd 4.17 looks the path up instead)',
  },
  { case: 'create a new file above the root', tool: 'impacket', expected: 'STATUS_OBJECT_PATH_SYNTAX_BAD', why: 'and nothing is created outside the share' },
  { case: 'create a stream name', tool: 'impacket', expected: 'STATUS_OBJECT_NAME_INVALID', why: 'the share has no named streams (a CSV share of the emulator, smbd without streams_xattr)' },
  { case: 'read past end of file', tool: 'impacket', expected: 'STATUS_END_OF_FILE', why: 'MS-SMB2 3.3.5.12' },
  { case: 'write on a read-only handle', tool: 'impacket', expected: 'STATUS_ACCESS_DENIED', why: 'MS-SMB2 3.3.5.13: the open lacks FILE_WRITE_DATA' },
  { case: 'the probe file is unchanged', tool: 'impacket', expected: 'STATUS_SUCCESS', why: 'the refused write changed nothing' },
]

/** The NTSTATUS a target must give for a case (smbd's own where it is known to differ). */
export function expectedStatus(c: StatusCase, target: SmbTarget): string {
  return target.name === 'smbd' && c.smbd ? c.smbd : c.expected
}

/** The smbclient rows of BAD_INPUT_CASES: the status smbclient printed for each. */
export function runSmbclientBadInput(target: SmbTarget): Map<string, SmbclientRun> {
  const runs = new Map<string, SmbclientRun>()
  runs.set('wrong password', smbclient(target, 'ls', { password: `${target.password}-wrong` }))
  runs.set('unknown user', smbclient(target, 'ls', { user: 'no-such-user-swlab' }))
  runs.set('unknown share', smbclient(target, 'ls', { share: 'no-such-share' }))
  runs.set('get a missing file', smbclient(target, 'get no-such-file-swlab.bin /dev/null'))
  return runs
}

/** Names, sizes and modification times under a folder: what "changes nothing" compares. */
export function snapshotTree(root: string): string[] {
  const out: string[] = []
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      const st = statSync(path)
      out.push(`${prefix}${name} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`)
      if (st.isDirectory()) walk(path, `${prefix}${name}/`)
    }
  }
  walk(root, '')
  return out
}
