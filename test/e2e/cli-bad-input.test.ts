// Bad input gets one clear line on stderr and a non-zero exit, and leaves nothing running.
import t, { type Test } from 'tap'
import { createServer } from 'node:net'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { Cluster } from '../../cluster/cluster.js'
import { packageRoot } from '../../proto/loader.js'
import { CLI, freshDir, swlab, upCluster } from '../helpers/cluster-fixture.js'

function oneLineError(t: Test, r: { code: number; stderr: string }, pattern: RegExp): void {
  t.not(r.code, 0, 'exits non-zero')
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, `one line: ${r.stderr.trim()}`)
  t.match(lines[0], pattern)
}

function noClusterProcesses(dir: string): boolean {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout
  return !ps.split('\n').some((l) => l.includes(dir))
}

t.test('duplicate node ids', async (t) => {
  const dir = freshDir(t)
  const r = swlab(['cluster', 'up', '--dir', dir, '--nodes', '3', '--node-ids', 'node-1,node-2,node-1'])
  oneLineError(t, r, /duplicate node id node-1/)
  t.ok(noClusterProcesses(dir), 'nothing left running')
})

t.test('a port in use', async (t) => {
  const dir = freshDir(t)
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.2.1', resolve))
  t.teardown(() => blocker.close())
  const address = blocker.address()
  const port = typeof address === 'object' && address ? address.port : 0
  const r = swlab(['cluster', 'up', '--dir', dir, '--nodes', '3', '--base-port', String(port)])
  oneLineError(t, r, new RegExp(`port in use: 127\\.0\\.2\\.1:${port}`))
  t.ok(noClusterProcesses(dir), 'nothing left running')
  t.notOk(existsSync(join(dir, 'run.json')), 'no run state left')
})

t.test('cluster up twice on the same dir, unknown node id, bad partition', async (t) => {
  const dir = freshDir(t)
  t.teardown(async () => Cluster.open(dir).down())
  const first = swlab(['cluster', 'up', '--dir', dir, '--nodes', '3', '--json'])
  t.equal(first.code, 0, first.stderr)
  const status = JSON.parse(first.stdout)
  t.equal(status.quorum, true)
  t.ok(status.quorateAfterMs > 0)
  const pids = status.nodes.map((n: { pid: number }) => n.pid)
  const second = swlab(['cluster', 'up', '--dir', dir, '--nodes', '3'])
  oneLineError(t, second, /a cluster is already running in/)
  const after = JSON.parse(swlab(['cluster', 'status', '--dir', dir, '--json']).stdout)
  t.same(after.nodes.map((n: { pid: number }) => n.pid), pids, 'the running cluster is untouched')
  oneLineError(t, swlab(['node', 'kill', 'node-9', '--dir', dir]), /unknown node id node-9/)
  oneLineError(t, swlab(['net', 'partition', 'node-1', '--dir', dir]), /bad partition/)
  oneLineError(t, swlab(['net', 'partition', 'node-1/node-7', '--dir', dir]), /unknown node id node-7/)
  oneLineError(t, swlab(['net', 'delay', 'node-1', 'soon', '--dir', dir]), /must be an integer/)
  oneLineError(t, swlab(['net', 'cut', 'node-1', 'node-2', '--dir', dir]), /net cut needs a cluster in a network namespace of its own/)
  oneLineError(t, swlab(['net', 'cut', 'node-1', 'node-9', '--dir', dir]), /unknown node id node-9/)
  oneLineError(t, swlab(['net', 'cut', '10.0.0.1', 'node-2', '--dir', dir]), /loopback IPv4 source address/)
  const down = swlab(['cluster', 'down', '--dir', dir, '--json'])
  t.equal(down.code, 0)
  t.ok(noClusterProcesses(dir), 'cluster down leaves no process behind')
  oneLineError(t, swlab(['cluster', 'status', '--dir', join(dir, 'nope')]), /no cluster in/)
})

t.test('an unreachable cloud witness', async (t) => {
  const dir = freshDir(t)
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const address = probe.address()
  const port = typeof address === 'object' && address ? address.port : 0
  await new Promise((resolve) => probe.close(resolve))
  const url = `http://127.0.0.1:${port}`
  const r = swlab(['cluster', 'up', '--dir', dir, '--nodes', '2', '--witness', 'cloud', '--cloud-witness-url', url])
  oneLineError(t, r, new RegExp(`cloud witness at ${url.replace(/[.]/g, '\\.')} is unreachable`))
  t.ok(noClusterProcesses(dir), 'nothing left running')
})

t.test('a malformed config file', async (t) => {
  const dir = freshDir(t)
  const path = join(dir, 'bad.json')
  writeFileSync(path, '{ "name": "SOFS", "nodes": [ ')
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--config', path]), /malformed config file .*bad\.json/)
  writeFileSync(path, JSON.stringify({ name: 'SOFS', profile: 'fast', nodes: [{ id: 'a' }, { id: 'a' }] }))
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--config', path]), /duplicate node id a/)
  writeFileSync(path, JSON.stringify({ name: 'SOFS', profile: 'slow', nodes: [{ id: 'a' }] }))
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--config', path]), /profile must be one of/)
  writeFileSync(path, JSON.stringify({ name: 'SOFS', profile: 'fast', nodes: [{ id: 'a' }], functionalLevel: 7 }))
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--config', path]), /invalid config file .*bad\.json: functionalLevel: /)
  writeFileSync(path, JSON.stringify({ name: 'SOFS', profile: 'fast', nodes: [{ id: 'a' }], flavour: 'netapp' }))
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--config', path]), /flavour must be microsoft or third-party/)
  // The node binary itself rejects a malformed config with one line too.
  const node = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'server', 'node-main.js'), '--config', path, '--id', 'a'], { encoding: 'utf8' })
  t.equal(node.status, 2)
  t.match(node.stderr.trim(), /^swlab-node: invalid config file .*bad\.json: config\.dir must be/)
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--nodes', 'three']), /--nodes must be an integer/)
  oneLineError(t, swlab(['cluster', 'up', '--dir', dir, '--nodes', '0']), /--nodes must be an integer from 1 to 64/)
})

t.test('bench: an unknown name is one line; --help helps', async (t) => {
  oneLineError(t, swlab(['bench', 'nope']), /unknown bench nope \(failover, backup, /)
  const help = swlab(['bench', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: swlab bench <name> \[options\.\.\.\]/)
})

t.test('a reader that went away (swlab … | head) does not crash a long-running command', async (t) => {
  const cluster = await upCluster(t, { nodes: 1 })
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
  const child = spawn(process.execPath, [CLI, 'dashboard', '--dir', cluster.dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  // Close our end at once: the URL the dashboard prints goes to a closed pipe.
  child.stdout.destroy()
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
  let answers = 0
  for (const deadline = Date.now() + 20_000; answers < 3 && child.exitCode === null && Date.now() < deadline; ) {
    const ok = await fetch(`http://127.0.0.1:${port}/api/state`).then((r) => r.ok, () => false)
    if (ok) answers++
    await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(answers, 3, 'it keeps serving after its output failed')
  child.kill('SIGTERM')
  t.equal(await closed, 0, 'and stops cleanly on SIGTERM')
  t.equal(stderr, '', 'no crash report')
})
