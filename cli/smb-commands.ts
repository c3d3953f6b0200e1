// `swlab share create|list` and `swlab smb put|get|ls`: a person or a script pokes at a
// share through the real data path: SMB 2/3 on the wire (client/smb2) to the node's smb2
// endpoint, signed, encrypted when the share or server asks (CA shares get persistent handles).
import { Command, Option } from 'commander'
import { open as openFile } from 'node:fs/promises'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { Smb2Client } from '../client/smb2/smb2-client.js'
import { Smb2TransportError, formatNtStatus, type Smb2Result } from '../client/smb2/smb2-result.js'
import type { Smb2Tree } from '../client/smb2/smb2-tree.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS, SHARE_CAP } from '../protocol/smb2/constants.js'
import { FILE_ATTRIBUTE } from '../protocol/smb2/file-info.js'
import { NT_STATUS } from '../protocol/smb2/ntstatus.js'
import { print } from './print-output.js'

/** IO size of put and get: 1 MiB, well under the 8 MiB MaxRead/MaxWriteSize. */
const CHUNK_BYTES = 1024 * 1024
/** READs or WRITEs in flight at once. */
const IO_IN_FLIGHT = 4

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

interface Connected {
  readonly client: Smb2Client
  readonly tree: Smb2Tree
}

/** Where //<server> points: a node (by id or address), or a general-use role (by name or address), which its owner serves. */
function endpointOf(cluster: Cluster, server: string): { host: string; port: number; serverName: string } {
  const role = cluster.config.shares.find((s) => s.role && (s.role.name.toLowerCase() === server.toLowerCase() || s.role.address === server))?.role
  if (role) return { host: role.address, port: role.smb2Port, serverName: role.name }
  const node = cluster.config.nodes.find((n) => n.id === server || n.clientAddress === server)
  if (!node) throw new ClusterError(`unknown node ${server} (nodes: ${cluster.config.nodes.map((n) => `${n.id} ${n.clientAddress}`).join(', ')})`)
  if (node.smb2Port === undefined) throw new ClusterError(`${node.id} has no SMB 2/3 endpoint in the cluster config`)
  // The scale-out name, as a Windows client names the share; the node reads only the share part.
  return { host: node.clientAddress, port: node.smb2Port, serverName: cluster.config.name }
}

/** Logs in to the node's (or role's) SMB 2/3 endpoint as the cluster's first user and connects the share. */
async function connect(cluster: Cluster, unc: UncPath): Promise<Connected> {
  const endpoint = endpointOf(cluster, unc.node)
  const credential = cluster.credentials()?.users[0]
  if (!credential) throw new ClusterError('the cluster folder has no credentials')
  const where = `//${unc.node}/${unc.share}`
  let client: Smb2Client
  try {
    client = check(await Smb2Client.connect({ host: endpoint.host, port: endpoint.port, user: credential.user, password: credential.password }))
  } catch (err) {
    throw err instanceof Smb2TransportError || err instanceof ClusterError ? new ClusterError(`${where}: ${err.message}`) : err
  }
  try {
    const tree = check(await client.treeConnect(unc.share, endpoint.serverName))
    return { client, tree }
  } catch (err) {
    await client.close()
    throw err instanceof ClusterError ? new ClusterError(`${where}: ${err.message}`) : err
  }
}

/** The value, or a ClusterError of one line: "CREATE dir/f.bin: STATUS_NAME (0x........)". */
function check<T>(r: Smb2Result<T>, subject?: string): T {
  if (r.ok) return r.value
  const f = r.failure
  throw new ClusterError(`${f.command}${subject ? ` ${subject}` : ''}: ${formatNtStatus(f.status)}${f.detail ? ` (${f.detail})` : ''}`)
}

/** Runs body against the share, turning transport failures into one-line errors and closing everything. */
async function withShare<T>(cluster: Cluster, unc: UncPath, body: (c: Connected) => Promise<T>): Promise<T> {
  try {
    const c = await connect(cluster, unc)
    try {
      return await body(c)
    } finally {
      await c.client.close()
    }
  } catch (err) {
    if (err instanceof Smb2TransportError) throw new ClusterError(`//${unc.node}/${unc.share}: ${err.message}`)
    throw err
  } finally {
    cluster.closeAdmins()
  }
}

export function addSmbCommands(program: Command, dirOption: () => Option): void {
  const share = program.command('share').description('SMB shares on the CSVs')
  share
    .command('create <name>')
    .description('create a share on a CSV (continuously available unless --no-ca): a scale-out share, or with --role general the share of a general-use file server role, online on the CSV owner only at the role\'s own IP')
    .option('--csv <csv>', 'the CSV (default: csv-1)', 'csv-1')
    .option('--role <kind>', 'scale-out (the SOFS role, every node) or general (a role of its own that moves on failover)', 'scale-out')
    .option('--role-name <name>', 'general: the role\'s network name (default FS-K; an existing role on the same CSV takes the share too)')
    .option('--role-ip <ip>', 'general: the role\'s IP address (default 127.0.3.K)')
    .option('--role-port <port>', 'general: the SMB port on that IP (default 445 where the nodes use it and it is free, else a free port)')
    .option('--no-ca', 'not continuously available: durable handles only, no persistent ones')
    .option('--ca-timeout <seconds>', "the share's CATimeout", '0')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (name: string, o) => {
      const cluster = Cluster.open(o.dir)
      if (o.rolePort !== undefined && !/^\d{1,5}$/.test(o.rolePort)) throw new ClusterError(`--role-port must be a port number (got ${JSON.stringify(o.rolePort)})`)
      const created = await cluster.addShare(name, o.csv, {
        ca: Boolean(o.ca),
        caTimeoutMs: Number(o.caTimeout) * 1000,
        kind: o.role,
        ...(o.roleName !== undefined ? { roleName: o.roleName } : {}),
        ...(o.roleIp !== undefined ? { roleAddress: o.roleIp } : {}),
        ...(o.rolePort !== undefined ? { roleSmb2Port: Number(o.rolePort) } : {}),
      })
      cluster.closeAdmins()
      const role = created.role
      print(Boolean(o.json), { share: name, csv: o.csv, ca: Boolean(o.ca), kind: created.kind, flags: created.flags, role }, () =>
        `share ${name} on ${o.csv}${o.ca ? ' (CA)' : ''}, ${created.kind}${role ? `: role ${role.name} at ${role.address}:${role.smb2Port}, owner ${role.owner || '-'}` : ''}`,
      )
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
      // owner: the CSV's owner (for a general share, its role's owner: '' while the role moves).
      const rows = status.shares.map((s) => ({ ...s, owner: s.role ? s.role.owner : (status.csvs.find((c) => c.name === s.csv)?.owner ?? '') }))
      print(Boolean(o.json), rows, () =>
        [
          'SHARE        CSV      KIND       OWNER    ROLE                         FLAGS',
          ...rows.map((r) => {
            const role = r.role ? `${r.role.name} ${r.role.address}:${r.role.smb2Port}` : '-'
            return `${r.name.padEnd(12)} ${r.csv.padEnd(8)} ${r.kind.padEnd(10)} ${(r.owner || '-').padEnd(8)} ${role.padEnd(28)} ${r.flags.join(',')}`
          }),
        ].join('\n'),
      )
    })

  const smb = program.command('smb').description('copy files to and from shares over SMB 2/3 on the wire')
  smb
    .command('put <local> <remote>')
    .description('copy a local file to //<node>/<share>/<path>')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (local: string, remote: string, o) => {
      const unc = parseUnc(remote)
      if (unc.path === '') throw new ClusterError('give a file path after the share')
      const cluster = Cluster.open(o.dir)
      // Read chunk by chunk as the WRITEs go: at most IO_IN_FLIGHT chunks in memory, whatever the file's size.
      const input = await openFile(local, 'r').catch((err: NodeJS.ErrnoException) => {
        throw new ClusterError(`cannot read ${local}: ${err.code ?? err.message}`)
      })
      const stats = await input.stat()
      if (!stats.isFile()) {
        await input.close()
        throw new ClusterError(`cannot read ${local}: not a file`)
      }
      const size = stats.size
      const readChunk = async (at: number, length: number): Promise<Buffer> => {
        const buffer = Buffer.allocUnsafe(length)
        const { bytesRead } = await input.read(buffer, 0, length, at)
        if (bytesRead !== length) throw new ClusterError(`${local} changed while being copied: ${bytesRead} of ${length} bytes at ${at}`)
        return buffer
      }
      await withShare(cluster, unc, async ({ tree }) => {
        const ca = (tree.capabilities & SHARE_CAP.CONTINUOUS_AVAILABILITY) !== 0
        const create = () =>
          tree.create(unc.path, {
            disposition: DISPOSITION.OVERWRITE_IF,
            desiredAccess: (ACCESS.GENERIC_WRITE | ACCESS.GENERIC_READ) >>> 0,
            shareAccess: SHARE_ACCESS.READ,
            durableV2: { persistent: ca },
          })
        let created = await create()
        // The folders on the way are made as `mkdir -p` would (the gRPC path made them implicitly).
        const parent = unc.path.split('/').slice(0, -1).join('/')
        if (!created.ok && created.failure.status === NT_STATUS.OBJECT_PATH_NOT_FOUND && parent !== '') {
          check(await tree.ensureDirectory(parent), parent)
          created = await create()
        }
        const opened = check(created, unc.path)
        try {
          check(await tree.writeFrom(opened.fileId, 0, size, readChunk, { chunkBytes: CHUNK_BYTES, inFlight: IO_IN_FLIGHT }))
          check(await tree.flush(opened.fileId))
        } catch (err) {
          // The first failure is the one to report; the CLOSE is only tidying up.
          await tree.close(opened.fileId).catch(() => undefined)
          throw err
        }
        check(await tree.close(opened.fileId))
        const persistent = opened.durable?.persistent ?? false
        print(Boolean(o.json), { remote, bytes: size, persistent }, () => `${size} bytes -> ${remote}`)
      }).finally(() => input.close())
    })
  smb
    .command('get <remote> <local>')
    .description('copy //<node>/<share>/<path> to a local file')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (remote: string, local: string, o) => {
      const unc = parseUnc(remote)
      const cluster = Cluster.open(o.dir)
      await withShare(cluster, unc, async ({ tree }) => {
        const opened = check(await tree.create(unc.path, { disposition: DISPOSITION.OPEN, desiredAccess: ACCESS.GENERIC_READ >>> 0, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE }), unc.path)
        let bytes = 0
        try {
          const info = check(await tree.queryStandardInfo(opened.fileId))
          if (info.directory) throw new ClusterError(`${unc.path} is a directory`)
          bytes = Number(info.endOfFileBytes)
          const out = await openFile(local, 'w').catch((err: NodeJS.ErrnoException) => {
            throw new ClusterError(`cannot write ${local}: ${err.code ?? err.message}`)
          })
          try {
            check(await tree.readRange(opened.fileId, 0, bytes, async (at, chunk) => void (await out.write(chunk, 0, chunk.length, at)), { chunkBytes: CHUNK_BYTES, inFlight: IO_IN_FLIGHT }))
          } finally {
            await out.close()
          }
        } finally {
          await tree.close(opened.fileId).catch(() => undefined)
        }
        print(Boolean(o.json), { remote, local, bytes }, () => `${remote} -> ${bytes} bytes in ${local}`)
      })
    })
  smb
    .command('ls <remote>')
    .description('list //<node>/<share>[/<dir>]')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (remote: string, o) => {
      const unc = parseUnc(remote)
      const cluster = Cluster.open(o.dir)
      await withShare(cluster, unc, async ({ tree }) => {
        const listed = await tree.list(unc.path)
        const entries = check(listed, unc.path || '\\').map((e) => ({
          name: e.name,
          directory: ((e.attributes ?? 0) & FILE_ATTRIBUTE.DIRECTORY) !== 0,
          endOfFile: Number(e.endOfFileBytes ?? 0n),
        }))
        print(Boolean(o.json), entries, () => entries.map((e) => `${e.directory ? 'd' : '-'} ${String(e.endOfFile).padStart(12)} ${e.name}`).join('\n') || '(empty)')
      })
    })
}
