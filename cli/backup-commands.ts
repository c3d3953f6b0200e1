// `swlab backup run|list|restore|verify`: Hyper-V backups of a VM on an emulated host into a
// backup repository folder. `run` decides the CBT method from the cluster's facts (the OS of
// every running host, the functional level, the storage flavour, the VM's configuration
// version), takes a checkpoint through the host's control API, reads what changed over the
// failover client and writes one restore point per disk.
import { Command, Option } from 'commander'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { runLoggedBackup } from '../client/backup/backup-log.js'
import { agentOptions } from '../client/backup/agent-wiring.js'
import { runBackupMatrix } from '../client/backup/backup-matrix.js'
import { clusterSnapshotCoordinator } from '../client/backup/cluster-agent-options.js'
import { parseByteSize } from './byte-size.js'
import { BackupRepository, type RestorePointMeta } from '../client/backup/backup-repository.js'
import type { CbtMethod } from '../core/cbt/cbt-decision.js'
import { HostControlClient } from '../client/hyperv/host-control-client.js'
import { formatBytes } from './byte-size.js'
import { expectedErrorsAsClusterErrors } from './cli-errors.js'
import { print } from './print-output.js'

function describePoint(p: RestorePointMeta): string {
  return [
    `  ${p.disk}: restore point ${p.id} (${p.kind}, method ${p.method})`,
    `    read ${formatBytes(p.bytesRead)}, stored ${formatBytes(p.bytesStored)} in ${p.blocksStored} block(s), ${p.durationMs} ms, served by ${p.nodesServed.join(', ') || '-'}`,
    `    ${p.reason}`,
  ].join('\n')
}

export function addBackupCommands(program: Command, dirOption: () => Option): void {
  const backup = program.command('backup').description('Hyper-V backups of VMs into a backup repository')
  backup
    .command('run')
    .description('back up every disk of a VM: full the first time, then what CBT reports changed')
    .requiredOption('--vm <vm>', 'VM name')
    .requiredOption('--host <host>', 'host the VM runs on')
    .requiredOption('--repo <dir>', 'backup repository folder')
    .addOption(new Option('--method <method>', 'CBT method (auto: the compatibility table decides)').choices(['auto', 'rct', 'filter', 'none']).default('auto'))
    .option('--create-repo', 'create the repository if the folder is missing or empty')
    .addOption(
      new Option('--snapshot-mode <mode>', "coordinate the CSV snapshot through the CSV's owner (seed 004): legacy redirects the CSV and waits for other jobs, direct does not")
        .choices(['legacy', 'direct']),
    )
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        try {
          const host = HostControlClient.forHost(cluster.dir, o.host)
          // The VM is checked before the repository is opened: a typo must not create a repository.
          await host.vmInfo(o.vm)
          const repo = BackupRepository.open(o.repo, { create: Boolean(o.createRepo) })
          const snapshot = o.snapshotMode ? clusterSnapshotCoordinator(cluster, o.snapshotMode as 'legacy' | 'direct') : undefined
          const options = { ...agentOptions({ cluster, host, repo, vm: o.vm, method: o.method as 'auto' | CbtMethod }), snapshot }
          const report = await runLoggedBackup(cluster.dir, o.host, options)
          print(Boolean(o.json), { ...report, context: options.cluster }, () =>
            [
              `backup of ${report.vm} on ${o.host}: method ${report.method}, ${report.durationMs} ms (checkpoint ${report.checkpoint})`,
              `  ${report.reason}`,
              `  hosts ${options.cluster.hostOses.join(',')}, cluster level ${options.cluster.clusterFunctionalLevel}, ${options.cluster.flavour} storage`,
              ...(report.snapshot
                ? [`  snapshot of ${report.snapshot.csv} (${report.snapshot.mode}): waited ${report.snapshot.waitedMs} ms${report.snapshot.waitedFor.length ? ` for ${report.snapshot.waitedFor.join(', ')}` : ''}${report.snapshot.redirected ? ', CSV redirected meanwhile' : ''}`]
                : []),
              ...report.disks.map((d) => describePoint(d.point)),
            ].join('\n'),
          )
        } finally {
          cluster.closeAdmins()
        }
      }),
    )
  backup
    .command('list')
    .description('restore points of a repository, oldest first per disk')
    .requiredOption('--repo <dir>', 'backup repository folder')
    .option('--vm <vm>', 'only this VM')
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const points = BackupRepository.open(o.repo, { readOnly: true }).list(o.vm)
        print(Boolean(o.json), points, () =>
          [
            'RESTORE POINT                 KIND         METHOD  READ        STORED      NODES           CREATED',
            ...points.map((p) =>
              [
                p.id.padEnd(29),
                p.kind.padEnd(12),
                p.method.padEnd(7),
                formatBytes(p.bytesRead).padEnd(11),
                formatBytes(p.bytesStored).padEnd(11),
                (p.nodesServed.join(',') || '-').padEnd(15),
                new Date(p.createdAtMs).toISOString(),
              ].join(' '),
            ),
          ].join('\n'),
        )
      }),
    )
  backup
    .command('restore')
    .description('rebuild the disk image of a restore point into a new file (every block checked)')
    .requiredOption('--repo <dir>', 'backup repository folder')
    .requiredOption('--point <id>', 'restore point id, e.g. vm1/disk0/000003')
    .requiredOption('--out <file>', 'image file to create (never overwritten)')
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const repo = BackupRepository.open(o.repo, { readOnly: true })
        const meta = repo.point(o.point)
        const { diskSha256, digestMapSha256 } = repo.restore(o.point, o.out)
        // The host states the whole disk's sha256 when it read the disk at the checkpoint, and
        // its block digest map's sha256 (kept as the guest writes) otherwise.
        const expectedDigestMap = meta.expectedDigestMapSha256 ?? null
        const mismatch =
          meta.expectedDiskSha256 !== null && diskSha256 !== meta.expectedDiskSha256
            ? `the restored image has sha256 ${diskSha256}, not ${meta.expectedDiskSha256} as recorded at the checkpoint`
            : expectedDigestMap !== null && digestMapSha256 !== expectedDigestMap
              ? `the restored image's block digest map has sha256 ${digestMapSha256}, not ${expectedDigestMap} as the host stated at the checkpoint`
              : null
        const result = { point: meta.id, out: o.out, bytes: meta.diskBytes, diskSha256, digestMapSha256, matchesBackup: mismatch === null }
        print(Boolean(o.json), result, () => `restored ${meta.id} to ${o.out}: ${formatBytes(meta.diskBytes)}, sha256 ${diskSha256}${result.matchesBackup ? ' (as at the checkpoint)' : ' (DIFFERS from the checkpoint)'}`)
        if (mismatch !== null) throw new ClusterError(`restore point ${meta.id}: ${mismatch}`)
      }),
    )
  backup
    .command('verify')
    .description('check restore points without the cluster: files, chains, every block, the rebuilt image')
    .requiredOption('--repo <dir>', 'backup repository folder')
    .option('--point <id>', 'only this restore point (default: all)')
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const repo = BackupRepository.open(o.repo, { readOnly: true })
        const ids = o.point !== undefined ? [repo.point(o.point).id] : repo.list().map((p) => p.id)
        const results = ids.map((id) => ({ point: id, ...repo.verify(id) }))
        const failed = results.filter((r) => !r.ok)
        print(Boolean(o.json), { ok: failed.length === 0, points: results }, () =>
          results.length === 0
            ? `no restore points in ${repo.dir}`
            : results.map((r) => (r.ok ? `${r.point}: ok (sha256 ${r.diskSha256})` : `${r.point}: FAILED\n    ${r.problems.join('\n    ')}`)).join('\n'),
        )
        if (failed.length > 0) {
          const first = failed[0]
          throw new ClusterError(`${failed.length} of ${results.length} restore point(s) failed verification; ${first.point}: ${first.problems.join('; ')}`)
        }
      }),
    )
  backup
    .command('matrix')
    .description("seed 000's table on both storage flavours: the method chosen, why, bytes read for a small change, verify")
    .option('--disk-size <size>', 'disk of each VM', '4MiB')
    .option('--change <fraction>', 'fraction of the disk changed before the incremental', '0.01')
    .option('--work-dir <dir>', 'folder for the clusters and repositories (a temporary one by default, removed after)')
    .option('--json', 'print JSON: one row object each')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const diskBytes = parseByteSize('--disk-size', String(o.diskSize))
        const change = Number(o.change)
        if (!(diskBytes >= 256 * 1024 && diskBytes <= 1024 ** 3)) throw new ClusterError('--disk-size must be 256KiB..1GiB')
        if (!(change > 0 && change <= 1)) throw new ClusterError('--change must be a fraction in (0, 1]')
        const dir = o.workDir ? String(o.workDir) : mkdtempSync(join(tmpdir(), 'swlab-matrix-'))
        try {
          const rows = await runBackupMatrix({ dir, diskBytes, changeFraction: change, log: o.json ? undefined : (line) => process.stderr.write(`${line}\n`) })
          print(Boolean(o.json), rows, () =>
            [
              '| hosts | VM level | cluster level | storage | table says | method | bytes read | bytes changed | verified |',
              '|---|---|---|---|---|---|---|---|---|',
              ...rows.map((r) => `| ${r.hosts} | ${r.vmLevel} | ${r.clusterLevel} | ${r.flavour} | ${r.tableSays} | ${r.method} | ${formatBytes(r.bytesRead)} | ${formatBytes(r.bytesChanged)} | ${r.verified ? 'yes' : 'NO'} |`),
              ...rows.filter((r) => r.method !== r.tableSays).map((r) => `row ${r.row} on ${r.flavour}: ${r.reason}`),
            ].join('\n'),
          )
          if (rows.some((r) => !r.verified)) process.exitCode = 1
        } finally {
          if (!o.workDir) rmSync(dir, { recursive: true, force: true })
        }
      }),
    )
}
