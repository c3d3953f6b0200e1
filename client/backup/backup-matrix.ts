// `swlab backup matrix`: every row of seed 000's table on both storage flavours. For each row
// it starts a small cluster of that flavour (one per flavour, shared by its rows), hosts with
// the row's OS mix, a VM at the row's configuration level on the first host, takes a full
// backup, changes 1 % of the disk in random 64 KiB blocks, takes the incremental with
// `--method auto`, and verifies every restore point. The result shows which method the table
// chose, why, and what it cost: bytes read for the 1 % change.
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { Prng } from '../../core/sim/prng.js'
import { HyperVHost, MAX_VM_CONFIG } from '../hyperv/hyperv-host.js'
import { runBackup } from './backup-agent.js'
import { clusterAgentOptions } from './cluster-agent-options.js'
import { BackupRepository, BACKUP_BLOCK_BYTES } from './backup-repository.js'
import { SEED_000_ROWS, type CbtMethod, type StorageFlavour } from '../../core/cbt/cbt-decision.js'

export interface MatrixRow {
  readonly row: number
  readonly hosts: string
  readonly vmLevel: string
  readonly clusterLevel: string
  readonly flavour: StorageFlavour
  /** What seed 000's table says for this row (before the flavour is taken into account). */
  readonly tableSays: CbtMethod
  readonly method: string
  readonly reason: string
  readonly bytesRead: number
  readonly bytesChanged: number
  readonly bytesStored: number
  readonly verified: boolean
}

export interface MatrixOptions {
  /** A folder for the clusters and repositories (created). */
  readonly dir: string
  readonly diskBytes: number
  /** Fraction of the disk changed between the full and the incremental. */
  readonly changeFraction: number
  readonly log?: (line: string) => void
}

export async function runBackupMatrix(opts: MatrixOptions): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = []
  for (const flavour of ['microsoft', 'third-party'] as const) {
    const clusterDir = join(opts.dir, `cluster-${flavour}`)
    mkdirSync(opts.dir, { recursive: true })
    const cluster = await Cluster.up({ dir: clusterDir, nodes: 3, flavour })
    try {
      for (const seedRow of SEED_000_ROWS) {
        const row = await runRow(cluster, flavour, seedRow, opts)
        opts.log?.(`row ${row.row} ${row.flavour}: ${row.method} (${row.reason}); read ${row.bytesRead} bytes for ${row.bytesChanged} changed; verified ${row.verified}`)
        rows.push(row)
      }
    } finally {
      await cluster.down()
    }
  }
  return rows
}

async function runRow(cluster: Cluster, flavour: StorageFlavour, seedRow: (typeof SEED_000_ROWS)[number], opts: MatrixOptions): Promise<MatrixRow> {
  const { context } = seedRow
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new Error('the cluster has no credentials')
  const hosts = context.hostOses.map(
    (os, i) => new HyperVHost({ name: `row${seedRow.row}-host${i + 1}`, os, resolve: () => cluster.addresses(), netName: cluster.config.name, credential, witnessAuthLevel: cluster.config.clientWitnessAuthLevel }),
  )
  const vm = `row${seedRow.row}-vm`
  const repo = BackupRepository.open(join(opts.dir, `repo-${flavour}`), { create: true })
  // The VM runs on the host that can run its configuration level (a 2012 R2 host runs 5.0).
  const host = hosts.find((h) => context.vmConfigVersion <= MAX_VM_CONFIG[h.os]) ?? hosts[0]
  try {
    await host.createVm(vm, { share: 'share-1', configVersion: context.vmConfigVersion, diskBytes: opts.diskBytes })
    const agent = clusterAgentOptions(cluster, host, repo, vm, { hostOses: context.hostOses, clusterFunctionalLevel: context.clusterFunctionalLevel, flavour })
    await runBackup(agent)
    const blockCount = Math.ceil(opts.diskBytes / BACKUP_BLOCK_BYTES)
    const rng = new Prng(seedRow.row * 1000 + (flavour === 'microsoft' ? 1 : 2))
    const changed = new Set<number>()
    const want = Math.max(1, Math.round(blockCount * opts.changeFraction))
    for (let i = 0; changed.size < want && i < 100 * want; i++) changed.add(rng.int(0, blockCount - 1))
    for (const b of changed) await host.writeGuest(vm, 'disk0', b * BACKUP_BLOCK_BYTES, randomBytes(BACKUP_BLOCK_BYTES))
    const report = await runBackup(agent)
    const point = report.disks[0].point
    const verified = repo.list(vm).every((p) => repo.verify(p.id).ok)
    return {
      row: seedRow.row,
      hosts: seedRow.hosts,
      vmLevel: seedRow.vmLevel,
      clusterLevel: seedRow.clusterLevel,
      flavour,
      tableSays: seedRow.expected,
      method: point.method,
      reason: point.reason,
      bytesRead: point.bytesRead,
      bytesChanged: changed.size * BACKUP_BLOCK_BYTES,
      bytesStored: point.bytesStored,
      verified,
    }
  } finally {
    for (const h of hosts) await h.shutdown()
  }
}
