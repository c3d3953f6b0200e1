// `swlab storage fault read-only|full|clear <csv>`: disk faults on a CSV, applied by the harness
// from outside the node processes (cluster/csv-volumes.ts). Clients of the CSV's shares then get
// STATUS_MEDIA_WRITE_PROTECTED or STATUS_DISK_FULL for what needs to write; reads go on.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { formatBytes } from './byte-size.js'
import { print } from './print-output.js'

const METHOD_TEXT: Readonly<Record<string, string>> = {
  remount: "its volume remounted read-only",
  'bind-read-only': 'a read-only bind mount over its folder (the fallback: no volume of its own without `cluster up --csv-size`)',
  filler: 'its volume filled by a filler file',
}

export function addStorageCommands(program: Command, dirOption: () => Option): void {
  const storage = program.command('storage').description("disk faults on a CSV's storage, applied by the harness (root)")
  storage
    .command('fault <kind> <csv>')
    .description('read-only: remount the CSV read-only; full: fill it to ENOSPC; clear: undo either')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (kind: string, csv: string, o) => {
      if (kind !== 'read-only' && kind !== 'full' && kind !== 'clear') throw new ClusterError(`a storage fault is read-only, full or clear (got ${JSON.stringify(kind)})`)
      const c = Cluster.open(o.dir)
      try {
        if (kind === 'clear') {
          const cleared = await c.clearStorageFault(csv)
          const usage = (await c.status()).csvs.find((x) => x.name === csv)
          print(Boolean(o.json), { csv, cleared: cleared?.kind ?? null, method: cleared?.method ?? null, freeBytes: usage?.freeBytes ?? -1 }, () =>
            cleared ? `${csv}: ${cleared.kind} fault cleared (${formatBytes(usage?.freeBytes ?? 0)} free)` : `${csv}: no storage fault to clear`,
          )
          return
        }
        const fault = await c.storageFault(csv, kind)
        const usage = (await c.status()).csvs.find((x) => x.name === csv)
        print(Boolean(o.json), { csv, fault: fault.kind, method: fault.method, ...(fault.fillerBytes !== undefined ? { fillerBytes: fault.fillerBytes } : {}), freeBytes: usage?.freeBytes ?? -1 }, () =>
          `${csv}: ${fault.kind}, by ${METHOD_TEXT[fault.method]}${fault.fillerBytes !== undefined ? ` (${formatBytes(fault.fillerBytes)})` : ''}; ${formatBytes(usage?.freeBytes ?? 0)} free`,
        )
      } finally {
        c.closeAdmins()
      }
    })
}
