// A cluster's own network namespace (`cluster up --netns`): created and removed by the harness
// with `ip netns`, entered with `nsenter --net=/run/netns/<name>` (which execs its command, so a
// process started through it keeps its pid and command line), and filtered with nftables run
// inside it. Every failure is one line for the user.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { NFT_TABLE, nftScript } from './net-fault-rules.js'

/** Where `ip netns add` bind-mounts a named namespace. */
export const NETNS_RUN_DIR = '/run/netns'

/** How long one ip/nft command may take before it counts as failed. */
const COMMAND_TIMEOUT_MS = 10_000

export class NamespaceError extends Error {}

/** The namespace of the cluster in dir: one per cluster folder, so a leaked one is found again. */
export function namespaceNameFor(dir: string): string {
  return `swlab-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`
}

export function namespacePath(name: string): string {
  return `${NETNS_RUN_DIR}/${name}`
}

export function namespaceExists(name: string): boolean {
  return existsSync(namespacePath(name))
}

/** Why --netns cannot run here, in one line; null when it can be tried. */
export function namespaceProblem(): string | null {
  if (process.platform !== 'linux') return 'needs Linux'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (ip netns add, nftables)'
  for (const tool of ['ip', 'nsenter', 'nft']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
    if (r.status !== 0) return `needs ${tool} (${tool === 'nft' ? 'Debian package nftables' : tool === 'ip' ? 'iproute2' : 'util-linux'})`
  }
  return null
}

/** argv that runs argv inside the namespace (nsenter execs it: same pid, same command line after). */
export function inNamespace(name: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${namespacePath(name)}`, '--', ...argv]
}

/** True when this process already runs in the namespace. */
export function insideNamespace(name: string): boolean {
  try {
    const mine = statSync('/proc/self/ns/net')
    const theirs = statSync(namespacePath(name))
    return mine.ino === theirs.ino && mine.dev === theirs.dev
  } catch {
    return false
  }
}

function run(argv: readonly string[], input?: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', input, timeout: COMMAND_TIMEOUT_MS })
  if (r.error) throw new NamespaceError(`${argv.join(' ')}: ${r.error.message}`)
  if (r.status !== 0) throw new NamespaceError(`${argv.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n')[0] || `exit code ${r.status}`}`)
}

/**
 * Creates the namespace with lo up and our (empty) nftables table in it. A namespace of that
 * name left by an earlier run of the same folder (nothing of it runs any more: the caller
 * checked) is removed first.
 */
export function createNamespace(name: string): void {
  if (namespaceExists(name)) deleteNamespace(name)
  run(['ip', 'netns', 'add', name])
  try {
    run(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
    applyNftRules(name, [])
  } catch (err) {
    deleteNamespace(name)
    throw err
  }
}

/** Removes the namespace's name; the namespace goes with its last process. A missing one is fine. */
export function deleteNamespace(name: string): void {
  if (!namespaceExists(name)) return
  run(['ip', 'netns', 'delete', name])
}

/** Replaces our table in the namespace, atomically, with one holding exactly these rules (and NAT rules: delays). */
export function applyNftRules(name: string, rules: readonly string[], natRules: readonly string[] = []): void {
  run(inNamespace(name, ['nft', '-f', '-']), nftScript(rules, natRules))
}

/** The rules of our table in force in the namespace, as nft lists them (one statement each). */
export function listNftRules(name: string): string[] {
  if (!namespaceExists(name)) return []
  const [command, ...args] = inNamespace(name, ['nft', 'list', 'table', ...NFT_TABLE.split(' ')])
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS })
  if (r.status !== 0) return []
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / (drop|reject|dnat)\b/.test(l))
}
