// `swlab share create|list` and `swlab smb put|get|ls`: a person or a script pokes at a
// share through the real data path (CA shares use persistent handles).
import { Command, Option } from 'commander'
import { open as openFile, readFile, stat } from 'node:fs/promises'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { ACCESS, DISPOSITION, NT_STATUS, SHARE_ACCESS, SmbClient, type FileId } from '../client/smb-client.js'
import { print } from './print-output.js'

/** IO size of put and get: 1 MiB, well under the 8 MiB MaxRead/MaxWriteSize. */
const CHUNK_BYTES = 1024 * 1024

interface UncPath {
  readonly node: string
  readonly share: string
  readonly path: string
}

/** //<node-id-or-ip>/<share>[/<path>] (backslashes work too). */
export function parseUnc(text: string): UncPath {
  const m = /^(?:\/\/|\\\\)([^/\\]+)[/\\]([^/\\]+)(?:[/\\](.*))?$/.exec(text)
  if (!m) throw new ClusterError(`bad path ${JSON.stringify(text)}: expected //<node-id-or-ip>/<share>/<path>`)
  return { node: m[1], share: m[2], path: (m[3] ?? '').replace(/\\/g, '/') }
}

async function connect(cluster: Cluster, unc: UncPath): Promise<SmbClient> {
  const node = cluster.config.nodes.find((n) => n.id === unc.node || n.clientAddress === unc.node)
  if (!node) throw new ClusterError(`unknown node ${unc.node} (nodes: ${cluster.config.nodes.map((n) => `${n.id} ${n.clientAddress}`).join(', ')})`)
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new ClusterError('the cluster folder has no credentials')
  const client = new SmbClient(`${node.clientAddress}:${node.smbPort}`)
  try {
    await client.connect(credential, `\\\\${cluster.config.name}\\${unc.share}`)
  } catch (err) {
    client.closeTransport()
    throw new ClusterError(`//${unc.node}/${unc.share}: ${(err as Error).message}`)
  }
  return client
}

function check(what: string, status: { code: number; name: string }): void {
  if (status.code !== NT_STATUS.SUCCESS) throw new ClusterError(`${what}: ${status.name} (0x${status.code.toString(16).toUpperCase()})`)
}

export function addSmbCommands(program: Command, dirOption: () => Option): void {
  const share = program.command('share').description('SMB shares on the CSVs')
  share
    .command('create <name>')
    .description('create a share on a CSV (continuously available unless --no-ca)')
    .option('--csv <csv>', 'the CSV (default: csv-1)', 'csv-1')
    .option('--no-ca', 'not continuously available: durable handles only, no persistent ones')
    .option('--ca-timeout <seconds>', "the share's CATimeout", '0')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (name: string, o) => {
      const cluster = Cluster.open(o.dir)
      await cluster.addShare(name, o.csv, Boolean(o.ca), Number(o.caTimeout) * 1000)
      cluster.closeAdmins()
      print(Boolean(o.json), { share: name, csv: o.csv, ca: Boolean(o.ca) }, () => `share ${name} on ${o.csv}${o.ca ? ' (CA)' : ''}`)
    })
  share
    .command('list')
    .description('shares, their CSVs, owners and flags')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const cluster = Cluster.open(o.dir)
      const status = await cluster.status()
      cluster.closeAdmins()
      const rows = status.shares.map((s) => ({ ...s, owner: status.csvs.find((c) => c.name === s.csv)?.owner ?? '' }))
      print(Boolean(o.json), rows, () =>
        ['SHARE        CSV      OWNER    FLAGS', ...rows.map((r) => `${r.name.padEnd(12)} ${r.csv.padEnd(8)} ${(r.owner || '-').padEnd(8)} ${r.flags.join(',')}`)].join('\n'),
      )
    })

  const smb = program.command('smb').description('copy files to and from shares over the SMB data path')
  smb
    .command('put <local> <remote>')
    .description('copy a local file to //<node>/<share>/<path>')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (local: string, remote: string, o) => {
      const unc = parseUnc(remote)
      if (unc.path === '') throw new ClusterError('give a file path after the share')
      const data = await readFile(local).catch((err: NodeJS.ErrnoException) => {
        throw new ClusterError(`cannot read ${local}: ${err.code ?? err.message}`)
      })
      const cluster = Cluster.open(o.dir)
      const client = await connect(cluster, unc)
      try {
        const ca = (client.shareCapabilities & 0x10) !== 0
        const opened = await client.create(unc.path, {
          disposition: DISPOSITION.OVERWRITE_IF,
          desiredAccess: ACCESS.GENERIC_WRITE | ACCESS.GENERIC_READ,
          shareAccess: SHARE_ACCESS.READ,
          durable: { persistent: ca },
        })
        check(`CREATE ${unc.path}`, opened.status)
        for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
          check(`WRITE at ${offset}`, (await client.write(opened.fileId, offset, data.subarray(offset, offset + CHUNK_BYTES))).status)
        }
        check('FLUSH', await client.flush(opened.fileId))
        check('CLOSE', await client.close(opened.fileId))
        print(Boolean(o.json), { remote, bytes: data.length, persistent: opened.persistent }, () => `${data.length} bytes -> ${remote}`)
      } finally {
        client.closeTransport()
        cluster.closeAdmins()
      }
    })
  smb
    .command('get <remote> <local>')
    .description('copy //<node>/<share>/<path> to a local file')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (remote: string, local: string, o) => {
      const unc = parseUnc(remote)
      const cluster = Cluster.open(o.dir)
      const client = await connect(cluster, unc)
      let fileId: FileId | null = null
      try {
        const opened = await client.create(unc.path, { disposition: DISPOSITION.OPEN, desiredAccess: ACCESS.GENERIC_READ, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE })
        check(`CREATE ${unc.path}`, opened.status)
        fileId = opened.fileId
        const info = await client.queryInfo(fileId)
        check('QUERY_INFO', info.status)
        const out = await openFile(local, 'w')
        try {
          for (let offset = 0; offset < info.endOfFile; offset += CHUNK_BYTES) {
            const r = await client.read(fileId, offset, Math.min(CHUNK_BYTES, info.endOfFile - offset))
            check(`READ at ${offset}`, r.status)
            await out.write(r.data, 0, r.data.length, offset)
          }
        } finally {
          await out.close()
        }
        const bytes = (await stat(local)).size
        print(Boolean(o.json), { remote, local, bytes }, () => `${remote} -> ${bytes} bytes in ${local}`)
      } finally {
        if (fileId) await client.close(fileId).catch(() => undefined)
        client.closeTransport()
        cluster.closeAdmins()
      }
    })
  smb
    .command('ls <remote>')
    .description('list //<node>/<share>[/<dir>]')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (remote: string, o) => {
      const unc = parseUnc(remote)
      const cluster = Cluster.open(o.dir)
      const client = await connect(cluster, unc)
      try {
        const r = await client.queryDirectory(unc.path)
        check(`QUERY_DIRECTORY ${unc.path || '/'}`, r.status)
        print(Boolean(o.json), r.entries, () => r.entries.map((e) => `${e.directory ? 'd' : '-'} ${String(e.endOfFile).padStart(12)} ${e.name}`).join('\n') || '(empty)')
      } finally {
        client.closeTransport()
        cluster.closeAdmins()
      }
    })
}
