// Disk faults from outside the node processes (issue 17 item 3), with real processes and the
// real wire: `cluster up --csv-size` puts each CSV on a loop-mounted ext4 volume; a wire client
// writes until `storage fault full` makes the CSV's volume full and gets STATUS_DISK_FULL; what
// it saw acknowledged is on storage with its hash, reads go on, the other CSV takes writes, the
// node stays a member, and `storage fault clear` lets writes go on. Then read-only: writes and
// new files get STATUS_MEDIA_WRITE_PROTECTED, reads go on, also after the CSV moves to the other
// node, and clear restores. `cluster down` (and
// a failed `cluster up`) leave no mount and no loop device. Root only (loop mounts).
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import { unwrapSmb2, type Smb2Result } from '../../client/smb2/smb2-result.js'
import type { Smb2Tree } from '../../client/smb2/smb2-tree.js'
import { Cluster, type ClusterStatus } from '../../cluster/cluster.js'
import { loopDevicesOf, loopVolumeProblem } from '../../cluster/csv-volumes.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../../protocol/smb2/constants.js'
import { ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { CLI, freshDir, readLog, swlab } from '../helpers/cluster-fixture.js'

const skip = loopVolumeProblem() ?? false
const CHUNK_BYTES = 1024 * 1024
const RW = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

function statusOf<T>(r: Smb2Result<T>): string {
  return r.ok ? 'STATUS_SUCCESS' : ntStatusName(r.failure.status)
}

function cli(t: Test, args: string[]): unknown {
  const r = swlab([...args, '--json'], 120_000)
  t.equal(r.code, 0, `swlab ${args.join(' ')}${r.code !== 0 ? `: ${r.stderr.trim()}` : ''}`)
  return r.code === 0 ? JSON.parse(r.stdout) : null
}

/** Mounts and loop devices of a cluster folder, to show that none is left. */
function leftovers(dir: string): { mounts: string[]; loops: string[] } {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir))
  const loops = ['csv-1', 'csv-2'].map((c) => join(dir, 'volumes', `${c}.img`)).filter((img) => existsSync(img)).flatMap((img) => loopDevicesOf(img))
  return { mounts, loops }
}

/** sha256 of the first bytes of a file on the CSV's storage, read by the test itself. */
function storageHash(path: string, bytes: number): string {
  const hash = createHash('sha256')
  const fd = openSync(path, 'r')
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES)
    for (let at = 0; at < bytes; ) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, bytes - at), at)
      if (n === 0) break
      hash.update(buffer.subarray(0, n))
      at += n
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

async function readHash(tree: Smb2Tree, fileId: Parameters<Smb2Tree['read']>[0], bytes: number): Promise<{ status: string; hash: string }> {
  const hash = createHash('sha256')
  for (let at = 0; at < bytes; at += CHUNK_BYTES) {
    const r = await tree.read(fileId, at, Math.min(CHUNK_BYTES, bytes - at))
    if (!r.ok) return { status: statusOf(r), hash: '' }
    hash.update(r.value)
  }
  return { status: 'STATUS_SUCCESS', hash: hash.digest('hex') }
}

function healthy(t: Test, s: ClusterStatus, when: string): void {
  t.ok(s.quorum, `${when}: quorate`)
  t.ok(s.nodes.every((n) => n.state === 'up' && n.serving && n.process === 'running'), `${when}: every node up and serving`)
  t.ok(s.csvs.every((c) => c.servedBy.length === 1), `${when}: every CSV served once`)
}

t.test('a full, then a read-only CSV: what clients see, and nothing acknowledged lost', { skip }, async (t) => {
  const dir = freshDir(t, 'swlab-disk-')
  t.teardown(async () => {
    try {
      await Cluster.open(dir).down()
    } catch {
      // Down already, or never up.
    }
  })
  const up = cli(t, ['cluster', 'up', '--dir', dir, '--nodes', '2', '--csv-size', '32MiB', '--no-smb-445']) as ClusterStatus | null
  if (!up) return
  for (const c of up.csvs) {
    t.equal(c.volume, 'loop', `${c.name} on a volume of its own`)
    t.ok(c.sizeBytes! > 16 * 1024 * 1024 && c.sizeBytes! <= 32 * 1024 * 1024, `${c.name}: ${c.sizeBytes} bytes`)
    t.ok(c.freeBytes! > 0 && c.freeBytes! < c.sizeBytes!, `${c.name}: ${c.freeBytes} bytes free`)
  }
  const { cluster, client } = await connectToNode1(t, dir)
  const tree1 = unwrapSmb2(await client.treeConnect('share-1'))
  const tree2 = unwrapSmb2(await client.treeConnect('share-2'))
  const open = unwrapSmb2(await tree1.create('data.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: RW, shareAccess: SHARE_ACCESS.READ, durableV2: { persistent: true } }))
  t.ok(open.durable?.persistent, 'a persistent handle on the CA share')
  const storagePath = join(dir, 'storage', 'csv-1', 'share-1', 'data.bin')

  // Writes until the volume is full: the harness fills it after the third acknowledged write.
  const acknowledged = createHash('sha256')
  let ackBytes = 0
  let failed: Smb2Result<number> | null = null
  for (let i = 0; i < 64 && !failed; i++) {
    if (i === 3) {
      const fault = cli(t, ['storage', 'fault', 'full', 'csv-1', '--dir', dir]) as { method: string; freeBytes: number } | null
      t.equal(fault?.method, 'filler', 'full: a filler file on the volume')
      t.equal(fault?.freeBytes, 0, 'no byte free after the filler')
    }
    const data = randomBytes(CHUNK_BYTES)
    const r = await tree1.write(open.fileId, ackBytes, data)
    if (!r.ok) failed = r
    else {
      acknowledged.update(data)
      ackBytes += data.length
    }
  }
  t.equal(failed && statusOf(failed), 'STATUS_DISK_FULL', 'a WRITE on the full CSV: STATUS_DISK_FULL')
  t.equal(ackBytes, 3 * CHUNK_BYTES, 'the writes before it were acknowledged')
  const ackHash = acknowledged.digest('hex')
  t.equal(storageHash(storagePath, ackBytes), ackHash, 'every acknowledged byte is on storage')
  const read = await readHash(tree1, open.fileId, ackBytes)
  t.same(read, { status: 'STATUS_SUCCESS', hash: ackHash }, 'reads go on on the full CSV, with the acknowledged bytes')
  const newOpen = await tree1.create('new.bin', { disposition: DISPOSITION.CREATE, desiredAccess: RW, durableV2: { persistent: true } })
  t.equal(statusOf(newOpen), 'STATUS_DISK_FULL', 'a persistent CREATE whose handle record cannot be written: STATUS_DISK_FULL, and no open')

  // The other CSV, and the node itself, are fine.
  const other = unwrapSmb2(await tree2.create('other.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: RW, durableV2: { persistent: true } }))
  t.equal(statusOf(await tree2.write(other.fileId, 0, randomBytes(CHUNK_BYTES))), 'STATUS_SUCCESS', 'the other CSV takes writes')
  healthy(t, await cluster.status(), 'with csv-1 full')

  const cleared = cli(t, ['storage', 'fault', 'clear', 'csv-1', '--dir', dir]) as { cleared: string; freeBytes: number } | null
  t.equal(cleared?.cleared, 'full', 'clear removes the filler')
  t.ok((cleared?.freeBytes ?? 0) > 4 * CHUNK_BYTES, `${cleared?.freeBytes} bytes free again`)
  const more = randomBytes(CHUNK_BYTES)
  t.equal(statusOf(await tree1.write(open.fileId, ackBytes, more)), 'STATUS_SUCCESS', 'writes go on where they were acknowledged')
  t.equal(storageHash(storagePath, ackBytes), ackHash, 'the acknowledged bytes are unchanged')
  t.ok(readFileSync(storagePath).subarray(ackBytes, ackBytes + more.length).equals(more), 'the new write follows them')
  ackBytes += more.length

  // Read-only: the harness remounts the volume while the client holds a writable handle.
  const ro = cli(t, ['storage', 'fault', 'read-only', 'csv-1', '--dir', dir]) as { method: string } | null
  t.equal(ro?.method, 'remount', 'read-only: the volume remounted')
  t.ok(readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.includes(join(dir, 'storage', 'csv-1')) && / ro[ ,]/.test(l)), 'the kernel has it read-only')
  t.equal(statusOf(await tree1.write(open.fileId, ackBytes, randomBytes(4096))), 'STATUS_MEDIA_WRITE_PROTECTED', 'a WRITE: STATUS_MEDIA_WRITE_PROTECTED')
  t.equal(statusOf(await tree1.create('ro-new.bin', { disposition: DISPOSITION.CREATE, desiredAccess: RW })), 'STATUS_MEDIA_WRITE_PROTECTED', 'a CREATE of a new file')
  t.equal(statusOf(await tree1.create('data.bin', { disposition: DISPOSITION.OPEN, desiredAccess: RW, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE })), 'STATUS_MEDIA_WRITE_PROTECTED', 'an open for writing')
  const roRead = await readHash(tree1, open.fileId, ackBytes)
  t.equal(roRead.status, 'STATUS_SUCCESS', 'reads go on on the read-only CSV')
  t.equal(storageHash(storagePath, ackBytes), roRead.hash, 'and read what is on storage')
  const reader = await tree1.create('data.bin', { disposition: DISPOSITION.OPEN, desiredAccess: ACCESS.GENERIC_READ >>> 0, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE })
  t.equal(statusOf(reader), 'STATUS_SUCCESS', 'an open for reading')
  if (reader.ok) unwrapSmb2(await tree1.close(reader.value.fileId))
  t.equal(statusOf(await tree2.write(other.fileId, CHUNK_BYTES, randomBytes(CHUNK_BYTES))), 'STATUS_SUCCESS', 'the other CSV takes writes')
  healthy(t, await cluster.status(), 'with csv-1 read-only')
  const status = cli(t, ['cluster', 'status', '--dir', dir]) as ClusterStatus | null
  t.same(status?.csvs.find((c) => c.name === 'csv-1')?.fault, { kind: 'read-only', method: 'remount' }, 'cluster status shows the fault')

  const share = swlab(['share', 'create', 'extra', '--csv', 'csv-1', '--dir', dir])
  t.equal(share.code, 1, 'a share on the read-only CSV is refused')
  t.match(share.stderr, /^swlab: error: .*csv-1 cannot take the folder of share extra now \(EROFS\).*\n$/, 'in one line')

  // The CSV moves to the other node while read-only: it takes the opens over and serves reads.
  const moved = cli(t, ['csv', 'move', 'csv-1', 'node-2', '--dir', dir]) as { servedBy: string[] } | null
  t.same(moved?.servedBy, ['node-2'], 'the read-only CSV moved to node-2')
  const movedRead = await readHash(tree1, open.fileId, ackBytes)
  t.same(movedRead, roRead, 'reads through the persistent handle go on at the new owner')
  t.equal(statusOf(await tree1.write(open.fileId, ackBytes, randomBytes(4096))), 'STATUS_MEDIA_WRITE_PROTECTED', 'and writes are refused there too')
  healthy(t, await cluster.status(), 'after the move')

  t.equal((cli(t, ['storage', 'fault', 'clear', 'csv-1', '--dir', dir]) as { cleared: string } | null)?.cleared, 'read-only')
  t.equal(statusOf(await tree1.write(open.fileId, ackBytes, randomBytes(4096))), 'STATUS_SUCCESS', 'writes go on once the volume is writable')
  unwrapSmb2(await tree1.close(open.fileId))
  unwrapSmb2(await tree2.close(other.fileId))

  for (const id of ['node-1', 'node-2']) t.notOk(readLog(dir, id).some((l) => l.event === 'node.crash' || l.event === 'node.exit'), `${id} neither crashed nor left`)
  await client.close()
  cluster.closeAdmins()
  t.equal(swlab(['cluster', 'down', '--dir', dir]).code, 0, 'cluster down')
  t.same(leftovers(dir), { mounts: [], loops: [] }, 'no mount and no loop device left')
})

t.test('a cluster up that fails leaves no mount and no loop device; without root it is one line', { skip }, async (t) => {
  const dir = freshDir(t, 'swlab-disk-')
  // Node 1's peer port taken: the node cannot start, after the volumes were mounted.
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.2.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const port = (blocker.address() as { port: number }).port
  const r = swlab(['cluster', 'up', '--dir', dir, '--nodes', '1', '--csv-size', '16MiB', '--base-port', String(port), '--no-smb-445'])
  t.not(r.code, 0, 'up fails')
  t.match(r.stderr, /^swlab: error: .+\n$/, `one line: ${r.stderr.trim()}`)
  t.ok(existsSync(join(dir, 'volumes', 'csv-1.img')), 'the volume had been made')
  t.same(leftovers(dir), { mounts: [], loops: [] }, 'no mount and no loop device left')

  const setpriv = spawnSync('setpriv', ['--version'])
  if (setpriv.status !== 0) return
  // A checkout nobody may not read (a clone under `mktemp -d`, mode 0700) cannot run as nobody.
  const readable = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', CLI])
  if (readable.status !== 0) return t.comment(`the non-root case skipped: user nobody cannot read ${CLI}`)
  // `env -u NODE_OPTIONS`: not tap's process hooks, which write where nobody may not.
  const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', '-u', 'NODE_OPTIONS', process.execPath, CLI, 'cluster', 'up', '--dir', join(dir, 'nobody'), '--nodes', '1', '--csv-size', '64MiB'], { encoding: 'utf8' })
  t.equal(asNobody.status, 1, 'without root: exit 1')
  t.match(asNobody.stderr, /^swlab: error: --csv-size needs root.*\n$/, 'and one line that says why')
})

t.test('without a volume of its own, read-only is a read-only bind mount of the folder, and full is refused', { skip }, async (t) => {
  const dir = freshDir(t, 'swlab-disk-')
  t.teardown(async () => {
    try {
      await Cluster.open(dir).down()
    } catch {
      // Down already, or never up.
    }
  })
  const up = cli(t, ['cluster', 'up', '--dir', dir, '--nodes', '1', '--no-smb-445']) as ClusterStatus | null
  if (!up) return
  t.equal(up.csvs[0].volume, 'folder', 'a plain folder')
  const full = swlab(['storage', 'fault', 'full', 'csv-1', '--dir', dir])
  t.equal(full.code, 1, 'full is refused')
  t.match(full.stderr, /^swlab: error: full needs csv-1 on a volume of its own.*\n$/, 'in one line that says why')
  const { cluster, client } = await connectToNode1(t, dir)
  const tree = unwrapSmb2(await client.treeConnect('share-1'))
  const open = unwrapSmb2(await tree.create('data.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: RW, durableV2: { persistent: true } }))
  const data = randomBytes(64 * 1024)
  t.equal(statusOf(await tree.write(open.fileId, 0, data)), 'STATUS_SUCCESS')
  const ro = cli(t, ['storage', 'fault', 'read-only', 'csv-1', '--dir', dir]) as { method: string } | null
  t.equal(ro?.method, 'bind-read-only', 'the fallback, named')
  t.equal(statusOf(await tree.write(open.fileId, data.length, data)), 'STATUS_MEDIA_WRITE_PROTECTED', 'a WRITE: STATUS_MEDIA_WRITE_PROTECTED')
  const back = await tree.read(open.fileId, 0, data.length)
  t.ok(back.ok && back.value.equals(data), 'reads go on')
  t.equal((cli(t, ['storage', 'fault', 'clear', 'csv-1', '--dir', dir]) as { cleared: string } | null)?.cleared, 'read-only')
  t.equal(statusOf(await tree.write(open.fileId, data.length, data)), 'STATUS_SUCCESS', 'writes go on after clear')
  unwrapSmb2(await tree.close(open.fileId))
  await client.close()
  cluster.closeAdmins()
  t.equal(swlab(['cluster', 'down', '--dir', dir]).code, 0, 'cluster down')
  t.same(leftovers(dir).mounts, [], 'no mount left')
})

/** The cluster in dir and a wire client on node-1 as its first user; both closed at teardown. */
async function connectToNode1(t: Test, dir: string): Promise<{ cluster: Cluster; client: Smb2Client }> {
  const cluster = Cluster.open(dir)
  t.teardown(() => cluster.closeAdmins())
  const node = cluster.nodeConfig('node-1')
  const user = cluster.credentials()!.users[0]
  const client = unwrapSmb2(await Smb2Client.connect({ host: node.clientAddress, port: node.smb2Port!, user: user.user, password: user.password }))
  t.teardown(() => client.close())
  return { cluster, client }
}
