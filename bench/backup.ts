// bench/backup: what each CBT method costs for one incremental. A 3-node cluster (Microsoft
// flavour), one VM per method with a disk of --disk-size (1 GiB by default): a full backup,
// then --change (1 %) of the disk rewritten in random 64 KiB writes, then the incremental,
// timed. Reports bytes read, bytes stored, the time, and bytes read per byte changed.
//
//   node dist/bench/backup.js [--disk-size 1GiB] [--change 0.01] [--out file]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { runBackup } from '../client/backup/backup-agent.js'
import { BackupRepository, BACKUP_BLOCK_BYTES } from '../client/backup/backup-repository.js'
import type { CbtMethod, HostOs } from '../core/cbt/cbt-decision.js'
import { clusterAgentOptions } from '../client/backup/cluster-agent-options.js'
import { HyperVHost } from '../client/hyperv/hyperv-host.js'
import { Cluster } from '../cluster/cluster.js'
import { Prng } from '../core/sim/prng.js'
import { parseByteSize } from '../cli/byte-size.js'

interface Case {
  readonly method: CbtMethod
  readonly os: HostOs
  readonly configVersion: number
  readonly level: number
}

const CASES: readonly Case[] = [
  { method: 'rct', os: '2019', configVersion: 9, level: 10 },
  { method: 'filter', os: '2012r2', configVersion: 5, level: 8 },
  { method: 'none', os: '2019', configVersion: 9, level: 10 },
]

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'disk-size': { type: 'string', default: '1GiB' }, change: { type: 'string', default: '0.01' }, out: { type: 'string' } },
  })
  const diskBytes = parseByteSize('--disk-size', String(values['disk-size']))
  const change = Number(values.change)
  if (!(diskBytes >= 4 * BACKUP_BLOCK_BYTES)) throw new Error('--disk-size must be at least 256 KiB')
  if (!(change > 0 && change <= 1)) throw new Error('--change must be in (0, 1]')
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-backup-'))
  const cluster = await Cluster.up({ dir: join(dir, 'cluster'), nodes: 3 })
  const results: Record<string, unknown>[] = []
  try {
    const credential = cluster.credentials()!.users[0]
    for (const c of CASES) {
      const host = new HyperVHost({ name: `host-${c.method}`, os: c.os, resolve: () => cluster.addresses(), netName: cluster.config.name, credential })
      const vm = `vm-${c.method}`
      try {
        await host.createVm(vm, { share: 'share-1', configVersion: c.configVersion, diskBytes })
        const repo = BackupRepository.open(join(dir, `repo-${c.method}`), { create: true })
        const agent = clusterAgentOptions(cluster, host, repo, vm, { hostOses: [c.os], clusterFunctionalLevel: c.level, flavour: 'microsoft' }, { method: c.method })
        const fullStarted = performance.now()
        await runBackup(agent)
        const fullMs = performance.now() - fullStarted
        const blockCount = Math.ceil(diskBytes / BACKUP_BLOCK_BYTES)
        const rng = new Prng(42)
        const changed = new Set<number>()
        const want = Math.max(1, Math.round(blockCount * change))
        for (let i = 0; changed.size < want && i < 100 * want; i++) changed.add(rng.int(0, blockCount - 1))
        for (const b of changed) await host.writeGuest(vm, 'disk0', b * BACKUP_BLOCK_BYTES, randomBytes(BACKUP_BLOCK_BYTES))
        const started = performance.now()
        const report = await runBackup(agent)
        const incMs = performance.now() - started
        const p = report.disks[0].point
        const bytesChanged = changed.size * BACKUP_BLOCK_BYTES
        results.push({
          method: c.method,
          used: p.method,
          reason: p.reason,
          disk_bytes: diskBytes,
          bytes_changed: bytesChanged,
          bytes_read: p.bytesRead,
          bytes_stored: p.bytesStored,
          read_to_changed: Math.round((p.bytesRead / bytesChanged) * 100) / 100,
          read_fraction_of_disk: Math.round((p.bytesRead / diskBytes) * 1000) / 1000,
          stored_fraction_of_disk: Math.round((p.bytesStored / diskBytes) * 1000) / 1000,
          // The backup of the disk after its checkpoint; the job adds the checkpoint (the host
          // hashes the frozen base, for verify) and the merge.
          backup_ms: p.durationMs,
          job_ms: Math.round(incMs),
          full_job_ms: Math.round(fullMs),
          read_mb_per_s: Math.round((p.bytesRead / 1e6 / Math.max(0.001, p.durationMs / 1000)) * 10) / 10,
        })
      } finally {
        await host.shutdown()
      }
    }
    const json = JSON.stringify({ bench: 'backup', disk_bytes: diskBytes, change, targets: { rct_read_to_changed_max: 1.1, none_read_fraction: 1, none_stored_fraction: change }, results }, null, 2)
    if (values.out) writeFileSync(values.out, `${json}\n`)
    process.stdout.write(`${json}\n`)
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench backup: ${err.message}\n`)
  process.exit(1)
})
