// Hyper-V backups over the cluster, with real node processes: a host (in this process) runs a
// VM on a CA share, the agent takes a full and incrementals with RCT, with the vendor filter
// and with none, through storage-node kills mid-backup; every restore point verifies byte for
// byte against the disk hash the host recorded at its checkpoint.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { BackupRepository } from '../../client/backup/backup-repository.js'
import { runBackup, type BackupRunOptions } from '../../client/backup/backup-agent.js'
import { queryCbtFilter } from '../../client/backup/cbt-filter-client.js'
import type { HostOs } from '../../client/backup/cbt-decision.js'
import { HyperVHost } from '../../client/hyperv/hyperv-host.js'
import type { Cluster } from '../../cluster/cluster.js'
import { Prng } from '../../cluster/sim/prng.js'
import { freshDir, upCluster } from '../helpers/cluster-fixture.js'

const MiB = 1024 * 1024
const BLOCK = 64 * 1024

function hostFor(t: Test, cluster: Cluster, name: string, os: HostOs): HyperVHost {
  const host = new HyperVHost({ name, os, resolve: () => cluster.addresses(), netName: cluster.config.name, credential: cluster.credentials()!.users[0] })
  t.teardown(() => host.shutdown())
  return host
}

function agentOptions(cluster: Cluster, host: HyperVHost, repo: BackupRepository, vm: string, over: Partial<BackupRunOptions> = {}): BackupRunOptions {
  const credential = cluster.credentials()!.users[0]
  return {
    host,
    vm,
    repo,
    method: 'auto',
    cluster: { hostOses: [host.os], clusterFunctionalLevel: host.os === '2012r2' ? 8 : 10, flavour: cluster.config.flavour },
    resolve: () => cluster.addresses(),
    netName: cluster.config.name,
    credential,
    nodeOfIp: (ip) => cluster.config.nodes.find((n) => n.clientAddress === ip)?.id ?? ip,
    queryFilter: async (share, path, sinceId) => {
      const status = await cluster.status()
      const csv = cluster.config.shares.find((s) => s.name === share)?.csv
      const owner = status.csvs.find((c) => c.name === csv)?.owner ?? ''
      if (!owner) return { ok: false, error: `${csv} has no owner`, node: '' }
      const n = cluster.nodeConfig(owner)
      return queryCbtFilter(`${n.clientAddress}:${n.smbPort}`, credential, share, path, sinceId)
    },
    ...over,
  }
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

  // Kill the node serving the VM's share while the next backup reads.
  const changed2 = await changeBlocks(host, 'vm1', diskBytes, 4, 3)
  const status = await cluster.status()
  const owner = status.csvs.find((c) => c.name === 'csv-1')!.owner
  const running = runBackup(agentOptions(cluster, host, repo, 'vm1'))
  await new Promise((r) => setTimeout(r, 50))
  cluster.kill(owner)
  const after = await running
  const p = after.disks[0].point
  t.equal(p.method, 'rct', `still incremental after the kill: ${p.reason}`)
  t.ok(p.bytesRead <= changed2 * BLOCK + BLOCK, `read ${p.bytesRead} bytes for ${changed2} changed blocks`)
  verifyAll(t, repo)
})
