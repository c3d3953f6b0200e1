// Hyper-V backups over the cluster, with real node processes: a host (in this process) runs a
// VM on a CA share, the agent takes a full and incrementals with RCT, with the vendor filter
// and with none, through storage-node kills mid-backup; every restore point verifies byte for
// byte against the disk hash the host recorded at its checkpoint.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { BackupRepository } from '../../client/backup/backup-repository.js'
import { runBackup, type BackupRunOptions, type HostApi } from '../../client/backup/backup-agent.js'
import { clusterAgentOptions, clusterSnapshotCoordinator } from '../../client/backup/cluster-agent-options.js'
import { runBackupMatrix } from '../../client/backup/backup-matrix.js'
import type { HostOs } from '../../core/cbt/cbt-decision.js'
import { HyperVHost } from '../../client/hyperv/hyperv-host.js'
import type { Cluster } from '../../cluster/cluster.js'
import { Prng } from '../../core/sim/prng.js'
import { freshDir, upCluster } from '../helpers/cluster-fixture.js'

const MiB = 1024 * 1024
const BLOCK = 64 * 1024

function hostFor(t: Test, cluster: Cluster, name: string, os: HostOs): HyperVHost {
  const host = new HyperVHost({ name, os, resolve: () => cluster.addresses(), netName: cluster.config.name, credential: cluster.credentials()!.users[0] })
  t.teardown(() => host.shutdown())
  return host
}

function agentOptions(cluster: Cluster, host: HyperVHost, repo: BackupRepository, vm: string, over: Partial<BackupRunOptions> = {}): BackupRunOptions {
  const facts = { hostOses: [host.os], clusterFunctionalLevel: host.os === '2012r2' ? 8 : 10, flavour: cluster.config.flavour }
  return clusterAgentOptions(cluster, host, repo, vm, over.cluster ?? facts, over)
}

/** Changes `count` random 64 KiB blocks of the disk; returns how many distinct blocks changed. */
async function changeBlocks(host: HyperVHost, vm: string, diskBytes: number, count: number, seed: number): Promise<number> {
  const rng = new Prng(seed)
  const blocks = new Set<number>()
  for (let i = 0; blocks.size < count && i < 100_000; i++) blocks.add(rng.int(0, Math.floor(diskBytes / BLOCK) - 1))
  for (const b of blocks) await host.writeGuest(vm, 'disk0', b * BLOCK, randomBytes(BLOCK))
  return blocks.size
}

function verifyAll(t: Test, repo: BackupRepository): void {
  for (const p of repo.list()) {
    const v = repo.verify(p.id)
    t.ok(v.ok, `restore point ${p.id} (${p.method}) verifies: ${v.problems.join('; ')}`)
  }
}

t.test('rct: full, then incrementals that read only what changed, through a storage-node kill mid-backup', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const host = hostFor(t, cluster, 'host-1', '2016')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 16 * MiB
  await host.createVm('vm1', { share: 'share-1', configVersion: 8, diskBytes })
  await changeBlocks(host, 'vm1', diskBytes, 40, 1)
  const full = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  t.equal(full.method, 'rct', full.reason)
  t.equal(full.disks[0].point.kind, 'full')
  const changed = await changeBlocks(host, 'vm1', diskBytes, 3, 2)
  const inc = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  t.equal(inc.disks[0].point.method, 'rct', inc.disks[0].point.reason)
  t.equal(inc.disks[0].point.bytesRead, changed * BLOCK, `read ${inc.disks[0].point.bytesRead} bytes for ${changed} changed blocks`)
  t.equal(inc.disks[0].point.extra.hostDigestBlocksRead, 0, 'whole-block writes: the checkpoint read nothing to state the disk digest')
  t.equal(inc.disks[0].point.expectedDiskSha256, null, 'nor hashed the whole disk')

  // Kill the node serving the VM's share while the next backup reads.
  const changed2 = await changeBlocks(host, 'vm1', diskBytes, 4, 3)
  const status = await cluster.status()
  const owner = status.csvs.find((c) => c.name === 'csv-1')!.owner
  // The kill lands between the backup's checkpoint and its first read, every time.
  const killAfterCheckpoint: HostApi = {
    name: host.name,
    vmInfo: (vm) => host.vmInfo(vm),
    changes: (vm, disk, since, target) => host.changes(vm, disk, since, target),
    merge: (vm) => host.merge(vm),
    checkpoint: async (vm, o) => {
      const checkpoint = await host.checkpoint(vm, o)
      cluster.kill(owner)
      return checkpoint
    },
  }
  const after = await runBackup(agentOptions(cluster, host, repo, 'vm1', { host: killAfterCheckpoint }))
  const p = after.disks[0].point
  t.equal(p.method, 'rct', `still incremental after the kill: ${p.reason}`)
  t.ok(p.bytesRead <= changed2 * BLOCK + BLOCK, `read ${p.bytesRead} bytes for ${changed2} changed blocks`)
  verifyAll(t, repo)
})

t.test('rct after a host crash reads the MRT regions: more than changed, far less than all', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const host = hostFor(t, cluster, 'host-1', '2019')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 32 * MiB
  await host.createVm('vm1', { share: 'share-1', configVersion: 9, diskBytes })
  await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  const changed = await changeBlocks(host, 'vm1', diskBytes, 5, 7)
  await host.crash()
  // The VM restarts on another host; its AppInstanceId takes the files from the dead one.
  const other = hostFor(t, cluster, 'host-2', '2019')
  const started = await other.startVm('vm1', 'share-1')
  t.equal(started.disks[0].open?.rct, 'recovered', `RCT recovered from the MRT (${started.disks[0].open?.recoveredRegions} regions)`)
  // The old host hashed its writes in memory only: the digests' journal names their regions,
  // and only those are read back (the journal and the MRT both mark 1 MiB regions).
  t.equal(started.disks[0].open?.digests, 'recovered', `digests recovered: ${started.disks[0].open?.digestsReason}`)
  t.equal(started.disks[0].open?.digestBlocksRead, (started.disks[0].open?.recoveredRegions ?? 0) * (MiB / BLOCK), 'the digests of the journal regions are read back, not the disk')
  const inc = await runBackup(agentOptions(cluster, other, repo, 'vm1'))
  const p = inc.disks[0].point
  t.equal(p.method, 'rct', p.reason)
  t.ok(p.bytesRead > changed * BLOCK, `read ${p.bytesRead} bytes, more than the ${changed * BLOCK} changed`)
  t.ok(p.bytesRead <= changed * MiB, `read ${p.bytesRead} bytes: at most the ${changed} 1 MiB MRT regions, far from the ${diskBytes}-byte disk`)
  t.equal(p.blocksStored, changed, 'stores only the blocks that really differ')
  // A write into part of a block: its digest is learnt by reading that block at the checkpoint.
  await other.writeGuest('vm1', 'disk0', 3 * BLOCK + 100, randomBytes(4096))
  const partial = (await runBackup(agentOptions(cluster, other, repo, 'vm1'))).disks[0].point
  t.equal(partial.extra.hostDigestBlocksRead, 1, 'the checkpoint read back only the block written in part')
  t.equal(partial.bytesRead, BLOCK, 'and the backup read that block')
  verifyAll(t, repo)
})

t.test('a VM moved to another host keeps RCT', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const host1 = hostFor(t, cluster, 'host-1', '2016')
  const host2 = hostFor(t, cluster, 'host-2', '2022')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 16 * MiB
  await host1.createVm('vm1', { share: 'share-2', configVersion: 8, diskBytes })
  await runBackup(agentOptions(cluster, host1, repo, 'vm1'))
  const before = await changeBlocks(host1, 'vm1', diskBytes, 2, 11)
  await host1.stopVm('vm1')
  const moved = await host2.startVm('vm1', 'share-2')
  t.equal(moved.disks[0].open?.rct, 'clean', 'the RCT files travelled with the disk')
  const after = await changeBlocks(host2, 'vm1', diskBytes, 2, 12)
  const inc = await runBackup(agentOptions(cluster, host2, repo, 'vm1', { cluster: { hostOses: ['2016', '2022'], clusterFunctionalLevel: 9, flavour: 'microsoft' } }))
  const p = inc.disks[0].point
  t.equal(p.method, 'rct', p.reason)
  t.ok(p.bytesRead <= (before + after) * BLOCK, `read ${p.bytesRead} bytes for changes on both hosts`)
  verifyAll(t, repo)
})

t.test('filter: incremental on the owner, then a kill of that node loses it and the backup falls back to none, saying why', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const host = hostFor(t, cluster, 'host-1', '2012r2')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 8 * MiB
  await host.createVm('vm1', { share: 'share-1', configVersion: 5, diskBytes })
  const full = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  t.equal(full.method, 'filter', full.reason)
  const changed = await changeBlocks(host, 'vm1', diskBytes, 3, 21)
  const inc = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  t.equal(inc.disks[0].point.method, 'filter', inc.disks[0].point.reason)
  // The merge of the checkpoint rewrites the blocks the VM wrote meanwhile: none here.
  t.equal(inc.disks[0].point.bytesRead, changed * BLOCK, 'the filter knew exactly what changed')
  const owner = (await cluster.status()).csvs.find((c) => c.name === 'csv-1')!.owner
  cluster.kill(owner)
  await cluster.waitFor((s) => s.csvs.some((c) => c.name === 'csv-1' && c.owner !== owner && c.servedBy.length === 1), 15_000)
  await changeBlocks(host, 'vm1', diskBytes, 2, 22)
  const lost = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  const p = lost.disks[0].point
  t.equal(p.method, 'none', 'falls back to none')
  t.match(p.reason, /tracking was lost/, `and says why: ${p.reason}`)
  t.equal(p.bytesRead, diskBytes, 'reads the whole disk')
  t.equal(p.blocksStored, 2, 'stores only the blocks whose digests differ')
  verifyAll(t, repo)
})

t.test('third-party SMB: the table says filter, the storage cannot host it: none', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, flavour: 'third-party' })
  const host = hostFor(t, cluster, 'host-1', '2012r2')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 4 * MiB
  await host.createVm('vm1', { share: 'share-1', configVersion: 5, diskBytes })
  await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  await changeBlocks(host, 'vm1', diskBytes, 1, 31)
  const inc = await runBackup(agentOptions(cluster, host, repo, 'vm1'))
  t.equal(inc.method, 'none', inc.reason)
  t.match(inc.reason, /third-party/)
  t.equal(inc.disks[0].point.bytesRead, diskBytes)
  t.equal(inc.disks[0].point.blocksStored, 1)
  verifyAll(t, repo)
})

t.test('backup matrix: seed 000 exactly, and none where third-party SMB cannot host the filter', async (t) => {
  const rows = await runBackupMatrix({ dir: freshDir(t), diskBytes: 4 * MiB, changeFraction: 0.02 })
  const methods = rows.map((r) => `${r.row}/${r.flavour}:${r.method}`)
  t.same(methods, [
    '1/microsoft:filter',
    '2/microsoft:none',
    '3/microsoft:none',
    '4/microsoft:rct',
    '1/third-party:none',
    '2/third-party:none',
    '3/third-party:none',
    '4/third-party:rct',
  ])
  for (const r of rows) {
    t.ok(r.verified, `row ${r.row} ${r.flavour} verified`)
    if (r.method === 'none') t.equal(r.bytesRead, 4 * MiB, `row ${r.row} ${r.flavour}: none reads everything`)
    else t.equal(r.bytesRead, r.bytesChanged, `row ${r.row} ${r.flavour}: ${r.method} reads only the change`)
  }
  t.match(rows.find((r) => r.row === 1 && r.flavour === 'third-party')!.reason, /third-party/)
})

t.test('CSV snapshots (seed 004): legacy jobs on one CSV wait for each other with the CSV redirected; direct ones do not', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const host = hostFor(t, cluster, 'host-1', '2019')
  const repo = BackupRepository.open(join(freshDir(t), 'repo'), { create: true })
  const diskBytes = 8 * MiB
  await host.createVm('vm-a', { share: 'share-1', configVersion: 9, diskBytes })
  await host.createVm('vm-b', { share: 'share-1', configVersion: 9, diskBytes })
  let redirectedSeen = false
  let watching = true
  const watcher = (async () => {
    while (watching) {
      if (cluster.redirectedCsvs().includes('csv-1')) redirectedSeen = true
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  const legacy = clusterSnapshotCoordinator(cluster, 'legacy')
  const [a, b] = await Promise.all([
    runBackup(agentOptions(cluster, host, repo, 'vm-a', { snapshot: legacy })),
    runBackup(agentOptions(cluster, host, repo, 'vm-b', { snapshot: legacy })),
  ])
  watching = false
  await watcher
  const waits = [a.snapshot!, b.snapshot!].sort((x, y) => x.waitedFor.length - y.waitedFor.length)
  t.same(waits[0].waitedFor, [], `the first job waited for nobody (${waits[0].waitedMs} ms)`)
  t.same(waits[1].waitedFor, [waits[0] === a.snapshot ? a.snapshot!.jobId : b.snapshot!.jobId], `the second waited ${waits[1].waitedMs} ms for the first`)
  t.ok(redirectedSeen && waits.every((w) => w.redirected), 'csv-1 was in redirected access during the snapshots')
  t.notOk(cluster.redirectedCsvs().includes('csv-1'), 'and left it afterwards')

  const direct = clusterSnapshotCoordinator(cluster, 'direct')
  const [c, d] = await Promise.all([
    runBackup(agentOptions(cluster, host, repo, 'vm-a', { snapshot: direct })),
    runBackup(agentOptions(cluster, host, repo, 'vm-b', { snapshot: direct })),
  ])
  t.same([...c.snapshot!.waitedFor, ...d.snapshot!.waitedFor], [], 'direct jobs wait for nobody')
  t.ok(!c.snapshot!.redirected && !d.snapshot!.redirected, 'and do not redirect the CSV')
  verifyAll(t, repo)
})
