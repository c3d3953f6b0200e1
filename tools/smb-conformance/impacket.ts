// Runs impacket-cases.py (Debian's python3-impacket 0.10.0, under /usr/bin/python3) against a
// target and reads its JSON lines. What each case must give is stated here, once, for every
// target: smbd and a node are held to the same table.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../proto/loader.js'
import type { SmbTarget } from '../smb-target.js'

export const PYTHON = '/usr/bin/python3'

export function impacketScript(): string {
  // The .py file is not compiled: it is found beside the sources, from src or from dist.
  return join(packageRoot(), 'tools', 'smb-conformance', 'impacket-cases.py')
}

export function impacketMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} is missing (apt-get install python3)`
  const r = spawnSync(PYTHON, ['-c', 'import impacket.smbconnection'], { encoding: 'utf8' })
  return r.status === 0 ? null : 'impacket is not installed for /usr/bin/python3 (apt-get install python3-impacket)'
}

export interface DialectResult {
  readonly group: 'dialects'
  readonly case: string
  readonly dialect: string
  readonly ok: boolean
  readonly steps: readonly string[]
  readonly negotiated?: string
  readonly shares?: readonly string[]
  readonly failedStep?: string
  readonly error?: string
  readonly ms: number
}

export interface StatusResult {
  readonly group: 'bad-input'
  readonly case: string
  readonly status: string
  readonly name?: string
  readonly trace?: string
}

export type ImpacketResult = DialectResult | StatusResult

/** Runs the script; every JSON line it printed, plus its exit and stderr for messages. */
export function runImpacketCases(target: SmbTarget, group: 'dialects' | 'bad-input' | 'all' = 'all', timeoutMs = 300_000) {
  const r = spawnSync(
    PYTHON,
    [impacketScript(), '--host', target.host, '--port', String(target.port), '--user', target.user, '--password', target.password, '--share', target.share, '--group', group],
    { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
  )
  const results = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ImpacketResult)
  return { results, code: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) }
}

/**
 * What each dialect case must do, on any server that checks signatures. impacket 0.10.0's
 * plain 3.1.1 login derives a wrong signing key (see impacket-cases.py): its first signed
 * request, the TREE_CONNECT to IPC$ of listShares, must be refused with ACCESS_DENIED, as
 * smbd 4.17 refuses it. The same login with the preauth hash seeded must pass.
 */
export const DIALECT_EXPECTATIONS: Readonly<Record<string, { ok: true } | { ok: false; failedStep: string; error: string; why: string }>> = {
  'SMBConnection 2.0.2': { ok: true },
  'SMBConnection 2.1': { ok: true },
  'SMBConnection 3.0': { ok: true },
  'SMBConnection 3.1.1': {
    ok: false,
    failedStep: 'listShares',
    error: 'STATUS_ACCESS_DENIED',
    why: "impacket 0.10.0's NTLM login at 3.1.1 starts the session's preauth hash from zeros, not from the connection's (MS-SMB2 3.2.5.3.1), so its signatures are wrong and the server refuses its first signed request",
  },
  'SMBConnection 3.1.1 (preauth fix)': { ok: true },
  'SMB3 3.0.2': { ok: true },
}
