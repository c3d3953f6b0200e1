// The reference server of the SMB wire work: Samba's own smbd (Debian package `samba`, 4.17
// here) started as a private server in a fresh temp folder on a free loopback port, with a
// share asked to be of the same kind as the emulator's CSV shares (continuously available,
// scale-out, cluster; signing mandatory). smbd 4.17 does not know the switches that announce
// those capabilities (they came with Samba 4.20), so to smbtorture its share is a plain one:
// the baseline is of a plain share. The conformance tests and `bench:smb-wire` run every
// third-party client against it and against a node, so that "as well as smbd does" is
// measured on this machine, in the same run.
//
// Process management: smbd runs in the foreground (-F) under a two-line shell guard in a
// process group of its own. The guard reads its stdin, a pipe held by this process: when this
// process goes away, however it goes (a SIGKILL included), the guard reads end of file and
// signals the whole group: smbd and every child it forked. stop() signals the same group and
// nothing else, waits until it is empty, and removes the folder.
//
//   node dist/tools/reference-smbd.js [--port N] [--share NAME]   (runs until SIGINT/SIGTERM)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SmbTarget } from './smb-target.js'

/** The unix account the reference server's SMB user maps to (smbd needs one). */
export const REFERENCE_UNIX_USER = 'swlab-smb'
const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 5_000
const PORT_ATTEMPTS = 3

export interface ReferenceSmbdOptions {
  /** Loopback address to serve on (default 127.0.0.1). */
  readonly host?: string
  /** TCP port (default: a free one). */
  readonly port?: number
  /** The disk share's name (default share-1, as a node's first CSV share). */
  readonly share?: string
  /** The SMB user: a unix account of that name must exist or be creatable (default swlab-smb). */
  readonly user?: string
  /** Its password (default: random). */
  readonly password?: string
  /** Extra [global] parameters, e.g. { 'server smb encrypt': 'required' }. */
  readonly global?: Readonly<Record<string, string>>
  /** smbd's debug level in its log files (default 1). */
  readonly debugLevel?: number
  readonly startTimeoutMs?: number
}

export interface ReferenceSmbd {
  /** What a client needs to reach it; name is 'smbd'. */
  readonly target: SmbTarget
  /** The temp folder holding smb.conf, every state directory, the share and the logs. */
  readonly dir: string
  readonly confPath: string
  readonly logDir: string
  /** The process group of the guard, smbd and its children. */
  readonly pgid: number
  readonly smbdPid: number
  /** smbd's version line, e.g. "Version 4.17.12-Debian". */
  readonly version: string
  stop(): Promise<void>
}

export class ReferenceSmbdError extends Error {}

/** The executable's path, searched on PATH and the sbin folders (a user's PATH may lack them). */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const path = join(dir, name)
    if (isExecutable(path)) return path
  }
  return null
}

const SAMBA_DCERPCD_PATHS = ['/usr/libexec/samba/samba-dcerpcd', '/usr/lib/samba/samba-dcerpcd']

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Why a reference smbd cannot be started here, in one line; null when it can. */
export function referenceSmbdProblem(): string | null {
  if (!findExecutable('smbd') || !findExecutable('smbpasswd')) return "Samba's smbd is not installed (apt-get install samba)"
  if (!SAMBA_DCERPCD_PATHS.some(isExecutable)) return `samba-dcerpcd is missing (looked in ${SAMBA_DCERPCD_PATHS.join(', ')}): Samba 4.16 or later is needed`
  if (process.getuid?.() !== 0) return 'the reference smbd needs root (smbd switches to the unix user of each session)'
  return null
}

/** Starts a private smbd; throws ReferenceSmbdError with one clear line when it cannot. */
export async function startReferenceSmbd(opts: ReferenceSmbdOptions = {}): Promise<ReferenceSmbd> {
  const problem = referenceSmbdProblem()
  if (problem) throw new ReferenceSmbdError(problem)
  const smbd = findExecutable('smbd')!
  const dcerpcd = SAMBA_DCERPCD_PATHS.find(isExecutable)!
  const host = opts.host ?? '127.0.0.1'
  const share = opts.share ?? 'share-1'
  const user = opts.user ?? REFERENCE_UNIX_USER
  // Hex: nothing a command line (-U user%pass) or smb.conf would read specially.
  const password = opts.password ?? randomBytes(12).toString('hex')
  const account = ensureUnixUser(user)

  const dir = mkdtempSync(join(tmpdir(), 'swlab-smbd-'))
  let started: ChildProcess | undefined
  try {
    // The session's unix user must traverse the folder to reach the share inside it.
    chmodSync(dir, 0o711)
    const sharePath = join(dir, 'share')
    for (const sub of ['state', 'lock', 'cache', 'pid', 'private', 'ncalrpc', 'log', 'share']) mkdirSync(join(dir, sub))
    chownSync(sharePath, account.uid, account.gid)
    chmodSync(sharePath, 0o755)
    const version = spawnSync(smbd, ['--version'], { encoding: 'utf8' }).stdout.trim()

    for (let attempt = 1; ; attempt++) {
      const port = opts.port ?? (await freePort(host))
      const confPath = join(dir, 'smb.conf')
      writeFileSync(confPath, smbConf({ dir, host, port, share, sharePath, global: opts.global ?? {} }))
      if (attempt === 1) addSambaUser(confPath, user, password)
      const run = await launch(smbd, dcerpcd, confPath, host, port, opts.debugLevel ?? 1, opts.startTimeoutMs ?? START_TIMEOUT_MS, dir)
      started = run.child
      if (run.ok) {
        const pgid = run.child.pid!
        const server: ReferenceSmbd = {
          target: { name: 'smbd', host, port, user, password, share, sharePath },
          dir,
          confPath,
          logDir: join(dir, 'log'),
          pgid,
          smbdPid: run.smbdPid,
          version,
          stop: once(async () => {
            await stopGroup(run.child)
            rmSync(dir, { recursive: true, force: true })
          }),
        }
        return server
      }
      await stopGroup(run.child)
      started = undefined
      // Another process may have taken the probed port in between: try another one.
      const portTaken = /Address already in use|bind failed/i.test(run.why)
      if (!portTaken || opts.port !== undefined || attempt >= PORT_ATTEMPTS) throw new ReferenceSmbdError(`smbd did not start: ${run.why}`)
    }
  } catch (err) {
    if (started) await stopGroup(started)
    rmSync(dir, { recursive: true, force: true })
    throw err instanceof ReferenceSmbdError ? err : new ReferenceSmbdError((err as Error).message)
  }
}

interface SmbConfInput {
  readonly dir: string
  readonly host: string
  readonly port: number
  readonly share: string
  readonly sharePath: string
  readonly global: Readonly<Record<string, string>>
}

/** The private smb.conf: everything under dir, nothing of the system's Samba touched. */
export function smbConf(c: SmbConfInput): string {
  const global: Record<string, string> = {
    'server role': 'standalone server',
    workgroup: 'SWLAB',
    'netbios name': 'SWLAB-SMBD',
    'smb ports': String(c.port),
    interfaces: c.host,
    'bind interfaces only': 'yes',
    'disable netbios': 'yes',
    'state directory': join(c.dir, 'state'),
    'lock directory': join(c.dir, 'lock'),
    'cache directory': join(c.dir, 'cache'),
    'pid directory': join(c.dir, 'pid'),
    'private dir': join(c.dir, 'private'),
    'ncalrpc dir': join(c.dir, 'ncalrpc'),
    'log file': join(c.dir, 'log', 'log.%m'),
    'max log size': '10000',
    'passdb backend': `tdbsam:${join(c.dir, 'passdb.tdb')}`,
    // What the emulator does by default (issue 14: signing required, SMB2 and up).
    'server signing': 'mandatory',
    'server min protocol': 'SMB2_02',
    'map to guest': 'never',
    // No printing: no spoolss, no background queue daemon to manage.
    'load printers': 'no',
    printing: 'bsd',
    'printcap name': '/dev/null',
    'disable spoolss': 'yes',
    // The system's usershares and registry stay out of it.
    'usershare path': '',
    'registry shares': 'no',
    // samba-dcerpcd runs under our guard (see GUARD), not started on demand by smbd.
    'rpc start on demand helpers': 'no',
    ...c.global,
  }
  const share: Record<string, string> = {
    path: c.sharePath,
    'read only': 'no',
    // Byte-range locks, share modes and oplocks live in smbd only, as in a node's handle
    // table: Linux's own locks would answer for other processes too.
    'kernel oplocks': 'no',
    'kernel share modes': 'no',
    'posix locking': 'no',
    // The same kind of share as a node's CSV share: continuously available, scale-out,
    // cluster (MS-SMB2 2.2.10 share capabilities). Samba 4.20 added these switches
    // (source3/smbd/smb2_tcon.c); 4.17 ignores them and announces none of the three.
    'smb3 share cap:CONTINUOUS AVAILABILITY': 'yes',
    'smb3 share cap:SCALE OUT': 'yes',
    'smb3 share cap:CLUSTER': 'yes',
  }
  const section = (name: string, params: Record<string, string>) => [`[${name}]`, ...Object.entries(params).map(([k, v]) => `  ${k} = ${v}`)].join('\n')
  return `# Written by tools/reference-smbd.ts for one run; removed with it.\n${section('global', global)}\n\n${section(c.share, share)}\n`
}

function ensureUnixUser(user: string): { uid: number; gid: number } {
  const lookup = () => spawnSync('getent', ['passwd', user], { encoding: 'utf8' })
  let entry = lookup()
  if (entry.status !== 0) {
    // A system account of its own, never a real user's: what smbd maps the session to.
    const add = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', user], { encoding: 'utf8' })
    if (add.status !== 0) throw new ReferenceSmbdError(`could not create the unix account ${user} for smbd: ${(add.stderr || add.error?.message || '').trim()}`)
    entry = lookup()
  }
  const fields = entry.stdout.trim().split(':')
  const uid = Number(fields[2])
  const gid = Number(fields[3])
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new ReferenceSmbdError(`no unix account ${user} for smbd`)
  return { uid, gid }
}

function addSambaUser(confPath: string, user: string, password: string): void {
  const r = spawnSync(findExecutable('smbpasswd')!, ['-c', confPath, '-s', '-a', user], { input: `${password}\n${password}\n`, encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new ReferenceSmbdError(`smbpasswd -a ${user} failed: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`)
}

// $1 smbd, $2 smb.conf, $3 debug level, $4 samba-dcerpcd, $5 the temp folder (removed by the
// guard when it is this process that went away, after the servers exit). smbd's stdin is /dev/null: with a
// socket there (which is what Node's stdio pipes are) smbd would take it for an inetd
// connection. samba-dcerpcd (the named-pipe RPC services: srvsvc for `smbclient -L`) runs here
// too: started on demand by smbd it would set up a session of its own and outlive us.
const GUARD = [
  '"$1" -s "$2" -F --no-process-group -d "$3" </dev/null &',
  'echo "smbd-pid $!"',
  '"$4" -s "$2" --libexec-rpcds -F --no-process-group -d "$3" </dev/null &',
  'echo "dcerpcd-pid $!"',
  'while read -r _; do :; done',
  "trap '' TERM",
  'kill -TERM 0',
  'wait',
  'rm -rf "$5"',
].join('\n')

type LaunchResult = { ok: true; child: ChildProcess; smbdPid: number } | { ok: false; child: ChildProcess; why: string }

async function launch(smbd: string, dcerpcd: string, confPath: string, host: string, port: number, debugLevel: number, timeoutMs: number, dir: string): Promise<LaunchResult> {
  const child = spawn('/bin/sh', ['-c', GUARD, 'swlab-smbd-guard', smbd, confPath, String(debugLevel), dcerpcd, dir], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4096)))
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4096)))
  let exited = false
  child.once('exit', () => (exited = true))
  // A forgotten server must not keep this process alive; when it exits, the guard sees EOF.
  child.unref()
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.()
  const smbdPid = () => Number(/smbd-pid (\d+)/.exec(output)?.[1] ?? 0)
  const deadline = Date.now() + timeoutMs
  // Ready: smbd accepts on its port and samba-dcerpcd on the srvsvc pipe's socket (until it
  // does, smbd answers a CREATE of \PIPE\srvsvc with OBJECT_NAME_NOT_FOUND).
  const srvsvcSocket = join(dir, 'ncalrpc', 'np', 'srvsvc')
  for (;;) {
    const pid = smbdPid()
    if (pid > 0 && (await accepts(host, port)) && (await acceptsUnix(srvsvcSocket))) return { ok: true, child, smbdPid: pid }
    if (exited) return { ok: false, child, why: `the guard shell exited: ${output.trim()}` }
    if (pid > 0 && !alive(pid)) return { ok: false, child, why: lastLogLines(dir) || 'smbd exited at once (no log)' }
    if (Date.now() > deadline) return { ok: false, child, why: `port ${port} did not accept within ${timeoutMs} ms: ${lastLogLines(dir)}` }
    await new Promise((r) => setTimeout(r, 25))
  }
}

function lastLogLines(dir: string): string {
  const logs = join(dir, 'log')
  try {
    return readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), 'utf8'))
      .join('\n')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('['))
      .slice(-3)
      .map((l) => l.trim())
      .join(' | ')
  } catch {
    return ''
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

/** True while a live process (not a zombie waiting to be reaped) is in the group. */
function groupExists(pgid: number): boolean {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return false
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // After the parenthesised command name: state, ppid, pgrp (proc(5)).
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true
  }
  return false
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // Already gone.
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid
  if (pgid === undefined) return
  const waitEmpty = async (ms: number) => {
    for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
      if (!groupExists(pgid)) return true
      await new Promise((r) => setTimeout(r, 20))
    }
    return !groupExists(pgid)
  }
  signalGroup(pgid, 'SIGTERM')
  if (!(await waitEmpty(STOP_TIMEOUT_MS))) {
    signalGroup(pgid, 'SIGKILL')
    await waitEmpty(STOP_TIMEOUT_MS)
  }
  child.stdin?.destroy()
  child.stdout?.destroy()
  child.stderr?.destroy()
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined
  return () => (p ??= fn())
}

export function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

export function accepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return connects({ host, port }, timeoutMs)
}

function acceptsUnix(path: string, timeoutMs = 1000): Promise<boolean> {
  return existsSync(path) ? connects({ path }, timeoutMs) : Promise.resolve(false)
}

function connects(to: { host: string; port: number } | { path: string }, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(to)
    const finish = (ok: boolean) => {
      socket.destroy()
      done(ok)
    }
    socket.setTimeout(timeoutMs, () => finish(false))
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
  })
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { port: { type: 'string' }, share: { type: 'string' }, host: { type: 'string' } } })
  const server = await startReferenceSmbd({
    port: values.port !== undefined ? Number(values.port) : undefined,
    share: values.share,
    host: values.host,
  })
  const { target } = server
  process.stdout.write(
    `${JSON.stringify({
      event: 'reference-smbd.listening',
      ...target,
      dir: server.dir,
      version: server.version,
      smbclient: `smbclient //${target.host}/${target.share} -p ${target.port} -U ${target.user}%${target.password} -m SMB3`,
    })}\n`,
  )
  const stop = () => void server.stop().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  // Keep running until a signal: the guard's pipes are unref'd.
  setInterval(() => undefined, 1 << 30)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`reference-smbd: ${err.message}\n`)
    process.exit(1)
  })
}
