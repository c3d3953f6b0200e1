// Hyper-V backups through the command line only, with real processes: a 3-node cluster, host
// processes (`swlab host`), a VM on a CA share (`swlab vm`), and `swlab backup` into a
// repository. A full, then an RCT incremental that reads exactly the changed blocks; then a
// host crash (SIGKILL) with a workload running: the VM restarts with RCT recovered from the
// MRT, and the next backup reads the MRT's regions (more than what changed, less than the
// disk); a move to another host keeps RCT; every point verifies and restores. Bad input is
// one line with a non-zero exit and changes nothing; a flipped byte in a stored block is found.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { isOurProcess, killAndWait } from '../../cluster/processes.js'
import { killAllHosts } from '../../client/hyperv/host-launcher.js'
import { HOST_MAIN } from '../../client/hyperv/host-registry.js'
import { swlab } from '../helpers/cluster-fixture.js'
import { digestMapSha256Of } from '../../core/cbt/block-digests.js'

const KiB = 1024
const MiB = 1024 * KiB
const BLOCK = 64 * KiB
const REGION = MiB
const DISK = 8 * MiB

type Run = ReturnType<typeof swlab>

function ok(t: Test, r: Run, what: string): Run {
  t.equal(r.code, 0, `${what}: exit 0 ${r.stderr.trim()}`)
  return r
}

/** Runs a command that must succeed with --json and returns its parsed output. */
function json(t: Test, args: string[]): any {
  const r = ok(t, swlab([...args, '--json']), args.slice(0, 2).join(' '))
  return JSON.parse(r.stdout)
}

function oneLineError(t: Test, r: Run, pattern: RegExp, what: string): void {
  t.not(r.code, 0, `${what}: exits non-zero`)
  const lines = r.stderr.trim().split('\n')
  t.equal(lines.length, 1, `${what}: one line: ${r.stderr.trim()}`)
  t.match(lines[0], pattern, what)
}

/** Every file under the repository with its mode, size and sha256: what "nothing changed" means. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out[relative(dir, p)] = `${(statSync(p).mode & 0o777).toString(8)} ${statSync(p).size} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`
    }
  }
  walk(dir)
  return out
}

t.test('backup CLI: full, rct, host crash (MRT), move, verify, bad input', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-backup-cli-'))
  const repo = join(dir, 'repo')
  const hostPids: number[] = []
  // One teardown, in this order: hosts, cluster, folder (the hosts' registry lives in it).
  t.teardown(async () => {
    for (const pid of hostPids) if (isOurProcess(pid, [HOST_MAIN, dir])) await killAndWait(pid, [HOST_MAIN, dir])
    await killAllHosts(dir).catch(() => undefined)
    await Promise.resolve()
      .then(() => Cluster.open(dir).down())
      .catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })
  const D = ['--dir', dir]

  const up = json(t, ['cluster', 'up', '--nodes', '3', ...D])
  t.equal(up.quorum, true, 'cluster quorate')
  t.equal(up.functionalLevel, 10, 'functional level 10 by default')
  t.equal(json(t, ['cluster', 'status', ...D]).functionalLevel, 10, 'status shows the functional level')

  const h1 = json(t, ['host', 'start', '--name', 'host-1', '--os', '2016', ...D])
  hostPids.push(h1.pid)
  t.equal(h1.os, '2016')
  t.ok(existsSync(join(dir, 'hosts', 'host-1.json')), 'host registered')
  t.ok(h1.port > 0, `control API on port ${h1.port}`)

  // A 2016 host runs VM configuration 8.0 at most (9.0 needs 2019).
  oneLineError(t, swlab(['vm', 'create', '--host', 'host-1', '--name', 'vm1', '--share', 'share-1', '--config-version', '9.0', '--disk-size', '8MiB', ...D]), /9\.0 cannot run on a 2016 host/, 'config 9.0 on 2016')
  const created = json(t, ['vm', 'create', '--host', 'host-1', '--name', 'vm1', '--share', 'share-1', '--config-version', '8.0', '--disk-size', '8MiB', ...D])
  t.equal(created.rct, true, 'RCT tracks the VM')
  t.equal(created.disks[0].bytes, DISK)

  const write = (host: string, offset: number, length: number, seed: number) =>
    json(t, ['vm', 'write', '--host', host, '--name', 'vm1', '--offset', String(offset), '--length', String(length), '--seed', String(seed), ...D])
  const backup = (host: string, extra: string[] = []) => json(t, ['backup', 'run', '--vm', 'vm1', '--host', host, '--repo', repo, ...extra, ...D])

  write('host-1', 0, 512 * KiB, 1)
  const full = backup('host-1', ['--create-repo'])
  t.equal(full.method, 'rct', full.reason)
  t.equal(full.disks[0].point.kind, 'full')
  t.equal(full.disks[0].point.bytesRead, DISK, 'the full reads the whole disk')
  t.same(full.context.hostOses, ['2016'])
  t.equal(full.context.clusterFunctionalLevel, 10)

  // Three changed blocks: one, and a write across the boundary of two.
  write('host-1', 1 * MiB, BLOCK, 2)
  write('host-1', 4 * MiB + 32 * KiB, BLOCK, 3)
  const inc = backup('host-1')
  t.equal(inc.disks[0].point.method, 'rct', inc.disks[0].point.reason)
  t.equal(inc.disks[0].point.bytesRead, 3 * BLOCK, 'rct reads only the changed blocks')

  // A host crash with a workload running (in region 0) after writes to regions 3 and 6.
  ok(t, swlab(['vm', 'workload', 'start', '--host', 'host-1', '--name', 'vm1', '--rate', '50', '--write-size', '4KiB', '--hot', '0.01', ...D]), 'workload start')
  write('host-1', 3 * MiB, BLOCK, 4)
  write('host-1', 6 * MiB, 2 * BLOCK, 5)
  const changedAtMost = (2 + 1 + 2) * BLOCK // the workload's hot 80 KiB are blocks 0 and 1
  // The crash must come after the workload wrote (its region must be in the MRT): wait on its count.
  const workloadWrites = () => {
    const r = swlab(['vm', 'workload', 'status', '--host', 'host-1', '--name', 'vm1', '--json', ...D])
    return r.code === 0 ? (JSON.parse(r.stdout) as { writes: number }).writes : -1
  }
  const deadline = Date.now() + 30_000
  while (workloadWrites() < 3 && Date.now() < deadline);
  t.ok(workloadWrites() >= 3, 'the workload wrote before the crash')
  const killed = json(t, ['host', 'kill', '--name', 'host-1', ...D])
  t.equal(killed.pid, h1.pid)
  t.equal(json(t, ['host', 'list', ...D]).find((h: { name: string }) => h.name === 'host-1').state, 'crashed', 'a killed host is listed as crashed')

  const h1b = json(t, ['host', 'start', '--name', 'host-1', ...D])
  hostPids.push(h1b.pid)
  t.equal(h1b.os, '2016', 'a restarted host keeps its OS')
  const restarted = json(t, ['vm', 'start', '--host', 'host-1', '--name', 'vm1', '--share', 'share-1', ...D])
  t.equal(restarted.disks[0].open.rct, 'recovered', 'RCT recovered from the MRT')
  const regions = restarted.disks[0].open.recoveredRegions
  t.equal(regions, 3, 'the MRT named regions 0, 3 and 6')
  t.equal(restarted.disks[0].open.digests, 'recovered', 'block digests recovered from their journal')
  t.equal(restarted.disks[0].open.digestBlocksRead, regions * 16, 'by reading back the blocks of the same three 1 MiB regions, not the disk')
  // A workload's stop reports its writes and the longest wait between two (0 when it wrote none).
  ok(t, swlab(['vm', 'workload', 'start', '--host', 'host-1', '--name', 'vm1', '--rate', '50', '--write-size', '4KiB', '--hot', '0.01', ...D]), 'workload start again')
  const workloadStopped = json(t, ['vm', 'workload', 'stop', '--host', 'host-1', '--name', 'vm1', ...D])
  t.ok(Number.isInteger(workloadStopped.writes) && Number.isInteger(workloadStopped.longestGapMs) && workloadStopped.longestGapMs >= 0, `workload stop: ${JSON.stringify(workloadStopped)}`)
  const afterCrash = backup('host-1')
  const p3 = afterCrash.disks[0].point
  t.equal(p3.method, 'rct', p3.reason)
  t.equal(p3.bytesRead, regions * REGION, 'reads the MRT regions')
  t.ok(p3.bytesRead > changedAtMost && p3.bytesRead < DISK, `read ${p3.bytesRead} bytes: more than the ${changedAtMost} changed, less than the disk`)

  const verified = json(t, ['backup', 'verify', '--repo', repo])
  t.equal(verified.ok, true, 'every point verifies')
  t.equal(verified.points.length, 3)
  const restored = json(t, ['backup', 'restore', '--repo', repo, '--point', p3.id, '--out', join(dir, 'vm1-disk0.img')])
  t.equal(restored.matchesBackup, true, 'the restored image is the disk at the checkpoint')
  // The host stated the disk's block digest map (kept as the guest wrote), not read the disk.
  t.equal(p3.expectedDiskSha256, null, 'the checkpoint did not hash the whole disk')
  t.equal(digestMapSha256Of(readFileSync(join(dir, 'vm1-disk0.img'))), p3.expectedDigestMapSha256, 'the restored image has the block digests the host stated')

  // Move the VM to another 2016 host: RCT travels with the disk.
  const h2 = json(t, ['host', 'start', '--name', 'host-2', '--os', '2016', ...D])
  hostPids.push(h2.pid)
  oneLineError(t, swlab(['vm', 'start', '--host', 'host-2', '--name', 'vm1', '--share', 'share-1', ...D]), /VM vm1 runs on host host-1: stop it there first/, 'start while it runs elsewhere')
  ok(t, swlab(['vm', 'stop', '--host', 'host-1', '--name', 'vm1', ...D]), 'vm stop on host-1')
  const moved = json(t, ['vm', 'start', '--host', 'host-2', '--name', 'vm1', '--share', 'share-1', ...D])
  t.equal(moved.host, 'host-2')
  t.equal(moved.disks[0].open.rct, 'clean', 'a clean stop left RCT clean')
  t.same(json(t, ['vm', 'list', ...D]).map((v: { name: string; host: string }) => `${v.name}@${v.host}`), ['vm1@host-2'])
  write('host-2', 7 * MiB, BLOCK, 6)
  const afterMove = backup('host-2')
  t.equal(afterMove.disks[0].point.method, 'rct', afterMove.disks[0].point.reason)
  t.equal(afterMove.disks[0].point.bytesRead, BLOCK, 'a small read after the move')
  t.same(afterMove.context.hostOses, ['2016', '2016'], 'every running host counts')

  // Bad input: one line, non-zero, nothing modified.
  const before = snapshot(repo)
  oneLineError(t, swlab(['backup', 'run', '--vm', 'nope', '--host', 'host-2', '--repo', repo, ...D]), /no VM nope runs on host host-2/, 'unknown VM')
  oneLineError(t, swlab(['backup', 'run', '--vm', 'vm1', '--host', 'host-9', '--repo', repo, ...D]), /unknown host host-9/, 'unknown host')
  const missing = join(dir, 'no-repo')
  oneLineError(t, swlab(['backup', 'run', '--vm', 'vm1', '--host', 'host-2', '--repo', missing, ...D]), /backup repository .*no-repo does not exist/, 'missing repository')
  t.notOk(existsSync(missing), 'the missing repository was not created')
  oneLineError(t, swlab(['backup', 'run', '--vm', 'nope', '--host', 'host-2', '--repo', missing, '--create-repo', ...D]), /no VM nope/, 'unknown VM with --create-repo')
  t.notOk(existsSync(missing), 'no repository created for an unknown VM')
  oneLineError(t, swlab(['backup', 'list', '--repo', missing]), /does not exist/, 'list of a missing repository')
  oneLineError(t, swlab(['vm', 'write', '--host', 'host-2', '--name', 'vm1', '--offset', '8MiB', '--length', '1', ...D]), /outside vm1\/disk0/, 'write outside the disk')
  oneLineError(t, swlab(['vm', 'create', '--host', 'host-2', '--name', 'vm3', '--share', 'share-9', ...D]), /unknown share share-9/, 'unknown share')
  oneLineError(t, swlab(['vm', 'create', '--host', 'host-2', '--name', 'vm3', '--share', 'share-1', '--disk-size', '8 parsecs', ...D]), /--disk-size must be a whole number of bytes/, 'bad size')
  t.same(snapshot(repo), before, 'no restore point file changed')

  // A flipped byte in block 5 of the full's stored blocks.
  const blocksBin = join(repo, 'vm1', 'disk0', '000001', 'blocks.bin')
  chmodSync(blocksBin, 0o644)
  const bytes = readFileSync(blocksBin)
  bytes[5 * BLOCK + 100] ^= 0xff
  writeFileSync(blocksBin, bytes)
  chmodSync(blocksBin, 0o444)
  const corrupt = snapshot(repo)
  const bad = swlab(['backup', 'verify', '--repo', repo])
  oneLineError(t, bad, /restore point vm1\/disk0\/000001: .*block 5 does not match its digest/, 'verify names the point and the block')
  t.equal(bad.code, 1, 'verify exits 1')
  t.match(bad.stdout, /vm1\/disk0\/000004: FAILED/, 'points whose chain holds the block fail too')
  const badJson = swlab(['backup', 'verify', '--repo', repo, '--point', 'vm1/disk0/000001', '--json'])
  t.equal(badJson.code, 1)
  t.equal(JSON.parse(badJson.stdout).ok, false)
  oneLineError(t, swlab(['backup', 'restore', '--repo', repo, '--point', 'vm1/disk0/000002', '--out', join(dir, 'bad.img')]), /block 5 of the rebuilt disk does not match its digest/, 'restore refuses the damaged block')
  t.notOk(existsSync(join(dir, 'bad.img')), 'no partial image left')
  t.same(snapshot(repo), corrupt, 'verify and restore changed no restore point file')

  const stopped = json(t, ['host', 'stop', '--name', 'host-2', ...D])
  t.equal(stopped.pid, h2.pid)
  const hosts = json(t, ['host', 'list', ...D])
  t.same(
    hosts.map((h: { name: string; state: string }) => `${h.name}:${h.state}`),
    ['host-1:running', 'host-2:stopped'],
  )
})

t.test('functional level: validated at cluster up, and a level below 9 means no RCT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-backup-cli-'))
  const repo = join(dir, 'repo')
  t.teardown(async () => {
    await killAllHosts(dir).catch(() => undefined)
    await Promise.resolve()
      .then(() => Cluster.open(dir).down())
      .catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })
  const D = ['--dir', dir]
  oneLineError(t, swlab(['cluster', 'up', '--nodes', '3', '--functional-level', '12', ...D]), /functional level must be an integer from 8 to 11.*got 12/, 'level 12')
  oneLineError(t, swlab(['cluster', 'up', '--nodes', '3', '--functional-level', '9.5', ...D]), /got "9\.5"/, 'level 9.5')
  t.notOk(existsSync(join(dir, 'cluster.json')), 'nothing written for a bad level')

  // Every host on 2016 but the rolling upgrade's last step (raising the level) not done.
  t.equal(json(t, ['cluster', 'up', '--nodes', '3', '--functional-level', '8', ...D]).functionalLevel, 8)
  json(t, ['host', 'start', '--name', 'host-1', '--os', '2016', ...D])
  json(t, ['vm', 'create', '--host', 'host-1', '--name', 'vm1', '--share', 'share-2', '--disk-size', '1MiB', ...D])
  const full = json(t, ['backup', 'run', '--vm', 'vm1', '--host', 'host-1', '--repo', repo, '--create-repo', ...D])
  t.equal(full.method, 'none', full.reason)
  t.match(full.reason, /cluster level 8 < 9/)
  t.equal(full.context.clusterFunctionalLevel, 8)
  oneLineError(
    t,
    swlab(['backup', 'run', '--vm', 'vm1', '--host', 'host-1', '--repo', repo, '--method', 'rct', ...D]),
    /rct needs every host on 2016\+, VM config 8\+ and cluster level 9\+/,
    'forced rct below level 9',
  )
  t.equal(json(t, ['backup', 'list', '--repo', repo]).length, 1, 'the refused backup wrote no point')
})
