// A cluster in a network namespace of its own (`cluster up --netns`) is reached by the CLI
// entering that namespace itself: a command on such a cluster re-runs itself under `nsenter
// --net=/run/netns/<name>` (root), so that its clients, hosts and captures connect to the nodes'
// loopback addresses as they would on the host. `cluster up` (it creates the namespace), the
// dashboard (its page must stay on the host's loopback) and commands that read files only stay
// outside: the harness reaches the nodes' admin services through unix sockets in the cluster
// folder, and applies nftables rules with nsenter, from anywhere.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { inNamespace, insideNamespace, namespaceExists } from '../cluster/network-namespace.js'

/** Top-level commands that never enter a cluster's namespace. */
const STAYS_OUTSIDE = new Set(['dashboard', 'report', 'bench', 'demo', 'soak', 'help', '--help', '-h'])

/** The value of --dir in argv (either form), or the default. */
function dirOf(argv: readonly string[], defaultDir: string): string {
  for (const [i, arg] of argv.entries()) {
    if (arg === '--dir' && i + 1 < argv.length) return argv[i + 1]
    if (arg.startsWith('--dir=')) return arg.slice('--dir='.length)
  }
  return defaultDir
}

/** The namespace this command must run in and does not yet, or null. */
export function namespaceToEnter(argv: readonly string[], defaultDir: string): string | null {
  const [command, sub] = argv
  if (command === undefined || STAYS_OUTSIDE.has(command) || (command === 'cluster' && sub === 'up')) return null
  let namespace: unknown
  try {
    const config = JSON.parse(readFileSync(join(resolve(dirOf(argv, defaultDir)), 'cluster.json'), 'utf8')) as { network?: { namespace?: unknown } }
    namespace = config.network?.namespace
  } catch {
    return null
  }
  // A cluster that is down has no namespace left: the command runs here (and says it is down).
  if (typeof namespace !== 'string' || !namespaceExists(namespace) || insideNamespace(namespace)) return null
  return namespace
}

/** Runs this same CLI invocation inside the namespace; returns its exit code. */
export function runInNamespace(namespace: string, argv: readonly string[]): number {
  const [command, ...args] = inNamespace(namespace, [process.execPath, ...process.execArgv, process.argv[1], ...argv])
  const r = spawnSync(command, args, { stdio: 'inherit' })
  if (r.error) {
    process.stderr.write(`swlab: error: cannot enter network namespace ${namespace}: ${r.error.message}\n`)
    return 1
  }
  return r.status ?? 1
}
