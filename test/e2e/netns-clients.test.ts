// Clients of a cluster in its own network namespace (`--netns`): each with a source address of
// its own, so that nftables cuts one client from one node's witness or SMB port; and chaos run
// --netns, whose clients and partitions live there. Skips with the reason where the namespace
// cannot be made (not root, or ip, nsenter or nft missing).
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inNamespace, namespaceExists, namespaceProblem } from '../../cluster/network-namespace.js'
import { waitUntil } from '../../cluster/processes.js'
import { CLI, freshDir, swlab, upCluster } from '../helpers/cluster-fixture.js'

const problem = namespaceProblem()
const skip = problem ? `--netns ${problem}` : false

/** Lines of a file, 0 when it does not exist yet. */
function lineCount(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0
}

/** The one client's file in <dir>/clients ending so, or '' while there is none. */
function clientFile(dir: string, suffix: string): string {
  const folder = join(dir, 'clients')
  const name = existsSync(folder) ? readdirSync(folder).find((f) => f.endsWith(suffix)) : undefined
  return name ? join(folder, name) : ''
}

/** `swlab client run` in the background (it enters the namespace itself), killed with its process group at teardown. */
function startClient(t: Test, dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'client', 'run', '--dir', dir, '--json', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // Already gone.
    }
  })
  return exited
}

/**
 * From inside the namespace, whether a TCP connection from source to address:port is made
 * within 1 s (a dropped SYN makes none).
 */
function connects(namespace: string, source: string, address: string, port: number): boolean {
  const script = `const s = require('node:net').connect({ host: '${address}', port: ${port}, localAddress: '${source}' }); s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(2)); setTimeout(() => process.exit(3), 1000)`
  const [command, ...args] = inNamespace(namespace, [process.execPath, '-e', script])
  return spawnSync(command, args, { timeout: 10_000 }).status === 0
}

t.test('a client cut from the witness on every node keeps its data path: no failover, nothing lost', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: true })
  await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  const namespace = cluster.config.network!.namespace
  const source = '127.0.4.1'
  const exited = startClient(t, cluster.dir, ['--node', 'node-1', '--source-address', source, '--duration', '8', '--request-timeout', '5000'])
  t.ok(
    await waitUntil(() => clientFile(cluster.dir, '.events.ndjson') !== '' && /client\.registered/.test(readFileSync(clientFile(cluster.dir, '.events.ndjson'), 'utf8')), 15_000, 50),
    'the client registered with a witness',
  )
  for (const n of cluster.config.nodes) await cluster.cut(source, n.id, 'witness')
  const ledger = clientFile(cluster.dir, '.ledger.ndjson')
  const writesAtCut = lineCount(ledger)
  // The kernel drops this client's witness traffic, and neither its SMB traffic nor another source's witness traffic.
  const n2 = cluster.nodeConfig('node-2')
  t.notOk(connects(namespace, source, n2.clientAddress, n2.dcerpcPort!), `${source} cannot reach node-2's witness`)
  t.ok(connects(namespace, source, n2.clientAddress, n2.smb2Port!), `${source} still reaches node-2's SMB 2/3 port`)
  t.ok(connects(namespace, '127.0.4.2', n2.clientAddress, n2.dcerpcPort!), "another client still reaches node-2's witness")
  const r = await exited
  t.equal(r.code, 0, r.stderr)
  const result = JSON.parse(r.stdout) as { writes: number; failovers: unknown[]; lost: unknown[]; errors: string[] }
  t.same(result.failovers, [], 'no data-path failover')
  t.same(result.lost, [], 'no acknowledged write lost')
  t.ok(lineCount(ledger) > writesAtCut, `writes went on after the cut (${writesAtCut} before, ${lineCount(ledger)} at the end)`)
})

t.test("a client cut from its data node's SMB port only fails over to another node; nothing lost", { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: true })
  await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  const source = '127.0.4.1'
  const exited = startClient(t, cluster.dir, ['--node', 'node-1', '--source-address', source, '--duration', '14', '--request-timeout', '3000'])
  t.ok(await waitUntil(() => lineCount(clientFile(cluster.dir, '.ledger.ndjson')) > 0, 15_000, 50), 'the client writes')
  const r1 = await cluster.cut(source, 'node-1', 'smb2')
  t.match(r1.rules, [/ip saddr 127\.0\.4\.1 ip daddr 127\.0\.1\.1 tcp dport \d+ counter packets \d+ bytes \d+ drop/])
  const r = await exited
  t.equal(r.code, 0, r.stderr)
  const result = JSON.parse(r.stdout) as { failovers: { from: string; to: string }[]; lost: unknown[] }
  t.ok(result.failovers.length >= 1, `the client failed over (${JSON.stringify(result.failovers)})`)
  t.equal(result.failovers[0]?.from, '127.0.1.1', 'away from node-1')
  t.not(result.failovers.at(-1)?.to, '127.0.1.1', 'to another node')
  t.same(result.lost, [], 'no acknowledged write lost')
  const s = await cluster.status()
  t.ok(s.nodes.every((n) => n.state === 'up' && n.serving), 'the cluster saw nothing: every node up and serving')
})

t.test('chaos run --netns: its partitions are nftables rules, its clients have their own addresses, no violation', { skip }, async (t) => {
  const dir = freshDir(t)
  t.teardown(() => swlab(['cluster', 'down', '--dir', dir]))
  // Partitions only, so that every fault is a rule; seed 3 draws two within 10 s.
  const r = swlab(['chaos', 'run', '--netns', '--dir', dir, '--seed', '3', '--duration', '10', '--clients', '2', '--faults', 'partition', '--json'], 180_000)
  t.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as { networkFaults: { applied: string; namespace: string }; faultsInjected: unknown[]; violations: string[]; reportPath: string }
  t.equal(report.networkFaults.applied, 'nftables')
  t.ok(report.faultsInjected.length >= 1, `${report.faultsInjected.length} partition(s)`)
  t.same(report.violations, [], 'no violation')
  t.notOk(namespaceExists(report.networkFaults.namespace), 'the run took its cluster and namespace down')
  t.notOk(existsSync(join(dir, 'run.json')), 'no run state left')
  // The harness logged the rules it applied; no node logged a fault of its own.
  const faults = readFileSync(join(dir, 'logs', 'faults.ndjson'), 'utf8')
  t.match(faults, /"event":"fault\.net".*"rules":\["partition node-\d -> node-\d"/)
  for (const id of ['node-1', 'node-2', 'node-3']) {
    // A heal still clears the (self-applied) delays of every node, with nothing to partition.
    const told = readFileSync(join(dir, 'logs', `${id}.ndjson`), 'utf8').split('\n').filter((l) => l.includes('"event":"net.faults.set"'))
    t.ok(told.every((l) => (JSON.parse(l) as { partitionedFrom: unknown[] }).partitionedFrom.length === 0), `${id} was told of no partition (${told.length} fault update(s), all empty)`)
  }
  t.match(readFileSync(report.reportPath, 'utf8'), /nftables: partition node-/, 'the report marks the rules')
  // The clients connected from 127.0.4.1 and 127.0.4.2: the nodes logged each NEGOTIATE's remote address.
  const remotes = new Set(
    ['node-1', 'node-2', 'node-3'].flatMap((id) =>
      readFileSync(join(dir, 'logs', `${id}.ndjson`), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"event":"smb2.negotiate"'))
        .map((l) => String((JSON.parse(l) as { remote: unknown }).remote).replace(/:\d+$/, '')),
    ),
  )
  t.same([...remotes].sort(), ['127.0.4.1', '127.0.4.2'], 'every SMB connection came from a client address of its own')
})
