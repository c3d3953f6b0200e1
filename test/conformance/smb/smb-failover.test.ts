// SMB 3 continuous availability against a real 3-node cluster, on the real wire (client/smb2),
// one test per case of Microsoft's protocol test suite (FileServer/ServerFailover and SMB2
// DurableHandle/Replay), plus the cases the issue adds: a durable handle dies with its node; a
// write acknowledged just before a kill is on disk; bad input changes nothing on disk. The
// reconnects carry what Windows sends: the same ClientGuid, SESSION_SETUP's PreviousSessionId,
// DH2C with the CreateGuid, and a ChannelSequence advanced past the old channel's.
import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Smb2Client } from '../../../client/smb2/smb2-client.js'
import { Smb2TransportError, unwrapSmb2, type Smb2Result } from '../../../client/smb2/smb2-result.js'
import type { Smb2Open, Smb2Tree } from '../../../client/smb2/smb2-tree.js'
import type { Cluster } from '../../../cluster/cluster.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS, SHARE_CAP } from '../../../protocol/smb2/constants.js'
import { OPLOCK_LEVEL, encodeCreateRequest } from '../../../protocol/smb2/create.js'
import { decodeFileBasicInformationAnswer, decodeFileStandardInformationAnswer } from '../../../protocol/smb2/file-info-answers.js'
import { FILE_INFO_CLASS, INFO_TYPE, encodeFileBasicInformationChange } from '../../../protocol/smb2/file-info.js'
import { filetimeFromUnixMs, unixMsFromFiletime } from '../../../protocol/smb2/filetime.js'
import { SMB2_COMMAND } from '../../../protocol/smb2/header.js'
import { HASH_ALGORITHM } from '../../../protocol/smb2/negotiate-contexts.js'
import { SECURITY_MODE, encodeNegotiateRequest } from '../../../protocol/smb2/negotiate.js'
import { NT_STATUS } from '../../../protocol/smb2/ntstatus.js'
import { CHANNEL, encodeReadRequest, encodeWriteRequest } from '../../../protocol/smb2/read-write.js'
import { encodeTreeConnectRequest } from '../../../protocol/smb2/tree-connect.js'
import { acceptsConnections, upCluster } from '../../helpers/cluster-fixture.js'
import { until } from '../../helpers/until.js'
import { Smb2TestClient } from '../../helpers/smb2-test-client.js'

const SERVER = 'SOFS'
const SHARE = 'share-1'
/** LARGE_MTU's 8 MiB: the nodes' MaxReadSize and MaxWriteSize. */
const NODE_IO_BYTES_MAX = 8 * 1024 * 1024

/** A client on one node and its tree on share-1, closed at teardown. */
interface Mount {
  readonly client: Smb2Client
  readonly tree: Smb2Tree
  /** The ChannelSequence this client's requests carry (3.2.4.1.1); a reconnect advances it. */
  channelSequence: number
}

function endpoint(cluster: Cluster, node: string) {
  const n = cluster.nodeConfig(node)
  const user = cluster.credentials()!.users[0]
  return { host: n.clientAddress, port: n.smb2Port!, user: user.user, password: user.password }
}

/** Puts csv-1 (share-1) on `owner` and returns when it serves it. */
async function placeShare(cluster: Cluster, owner: string): Promise<void> {
  const s = await cluster.status()
  if (s.csvs.find((c) => c.name === 'csv-1')?.owner !== owner) await cluster.moveCsv('csv-1', owner)
  await cluster.waitFor((st) => st.csvs.some((c) => c.name === 'csv-1' && c.servedBy.length === 1 && c.servedBy[0] === owner), 10_000)
}

async function mount(t: Test, cluster: Cluster, node: string, o: { clientGuid?: string; previousSessionId?: bigint; channelSequence?: number } = {}): Promise<Mount> {
  const client = unwrapSmb2(await Smb2Client.connect({ ...endpoint(cluster, node), ...o }))
  t.teardown(() => client.close())
  const tree = unwrapSmb2(await client.treeConnect(SHARE, SERVER))
  return { client, tree, channelSequence: o.channelSequence ?? 0 }
}

function onDisk(cluster: Cluster, path: string): Buffer | null {
  const file = join(cluster.dir, 'storage', 'csv-1', 'share-1', ...path.split('/'))
  return existsSync(file) ? readFileSync(file) : null
}

/** After a node restarts the leader rebalances the CSVs: wait until each node owns one again. */
async function settled(cluster: Cluster): Promise<void> {
  await cluster.waitFor(
    (s) => s.nodes.every((n) => n.serving && n.servingCsvs.length === 1) && s.csvs.every((c) => c.servedBy.length === 1),
    15_000,
  )
}

const retryPauseMs = () => new Promise((r) => setTimeout(r, 100))

/**
 * Reconnects a client through a node as Windows does after losing its channel: the same
 * ClientGuid, PreviousSessionId naming the old session, the next ChannelSequence. Right after
 * a failover the CSV may still be moving, and the node then drops the connection: retried.
 */
async function reconnect(t: Test, cluster: Cluster, old: Mount, node: string): Promise<Mount> {
  const channelSequence = (old.channelSequence + 1) & 0xffff
  for (let attempt = 0; ; attempt++) {
    try {
      return await mount(t, cluster, node, { clientGuid: old.client.clientGuid, previousSessionId: old.client.sessionId, channelSequence })
    } catch (err) {
      if (attempt > 50) throw err
      await retryPauseMs()
    }
  }
}

/** DH2C on a fresh reconnect, retried while the CSV has no serving owner yet (the node drops the connection then). */
async function reclaim(t: Test, cluster: Cluster, old: Mount, node: string, path: string, open: Smb2Open, persistent = true): Promise<{ mount: Mount; reopened: Smb2Result<Smb2Open> }> {
  for (let attempt = 0; ; attempt++) {
    const m = await reconnect(t, cluster, old, node)
    try {
      const reopened = await m.tree.create(path, { reconnectV2: { fileId: open.fileId, createGuid: open.createGuid!, persistent }, channelSequence: m.channelSequence })
      return { mount: m, reopened }
    } catch (err) {
      if (!(err instanceof Smb2TransportError) || attempt > 50) throw err
      await retryPauseMs()
    }
  }
}

const statusOf = (r: Smb2Result<unknown>): number => (r.ok ? NT_STATUS.SUCCESS : r.failure.status)

const READ_WRITE = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

/**
 * A persistent open of path for reading and writing, created if missing; or a durable one only,
 * which needs a batch oplock (or a handle lease) to be granted at all (MS-SMB2 3.3.5.9.10).
 */
async function durableOpen(m: Mount, path: string, persistent = true): Promise<Smb2Open> {
  unwrapSmb2(await m.tree.ensureDirectory(path.split('/').slice(0, -1).join('/')))
  const oplockLevel = persistent ? OPLOCK_LEVEL.NONE : OPLOCK_LEVEL.BATCH
  return unwrapSmb2(await m.tree.create(path, { desiredAccess: READ_WRITE, disposition: DISPOSITION.OPEN_IF, durableV2: { persistent }, oplockLevel, channelSequence: m.channelSequence }))
}

/** A CREATE whose name goes as given (the client's create() makes names share-relative first). */
async function rawCreate(m: Mount, name: string): Promise<number> {
  const body = encodeCreateRequest({
    securityFlags: 0,
    requestedOplockLevel: OPLOCK_LEVEL.NONE,
    impersonationLevel: 2,
    smbCreateFlags: 0n,
    desiredAccess: READ_WRITE,
    fileAttributes: 0,
    shareAccess: SHARE_ACCESS.READ,
    createDisposition: DISPOSITION.OPEN_IF,
    createOptions: 0,
    name,
    createContexts: [],
  })
  return (await m.tree.request({ command: SMB2_COMMAND.CREATE, body })).header.status
}

t.test('SMB 3 continuous availability on the wire', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const data = Buffer.from('persistent bytes that must survive a failover\n'.repeat(100))

  await t.test('BVT_PersistentHandle_Reconnect', async (t) => {
    const a = await mount(t, cluster, 'node-2')
    const ca = SHARE_CAP.CONTINUOUS_AVAILABILITY | SHARE_CAP.SCALEOUT | SHARE_CAP.CLUSTER
    t.equal(a.tree.capabilities & ca, ca, 'share is CA, scale-out and cluster')
    const open = await durableOpen(a, 'bvt/reconnect.bin')
    t.same(open.durable?.persistent, true, 'persistent handle granted')
    t.equal(unwrapSmb2(await a.tree.write(open.fileId, 0, data)), data.length)
    // A new channel to the same node, the old one still up: PreviousSessionId ends the old
    // session and preserves its persistent open for the DH2C (3.3.5.5.3).
    const { mount: b, reopened } = await reclaim(t, cluster, a, 'node-2', 'bvt/reconnect.bin', open)
    t.equal(statusOf(reopened), NT_STATUS.SUCCESS, 'DH2C reclaims it')
    const again = unwrapSmb2(reopened)
    t.same(unwrapSmb2(await b.tree.read(again.fileId, 0, data.length)), data)
    t.equal(statusOf(await a.tree.read(open.fileId, 0, 1)), NT_STATUS.USER_SESSION_DELETED, 'the old session is gone')
    unwrapSmb2(await b.tree.close(again.fileId))
  })

  await t.test('PersistentHandle_ReOpenFromDiffClient', async (t) => {
    const a = await mount(t, cluster, 'node-2')
    const open = await durableOpen(a, 'bvt/diffclient.bin')
    const other = await mount(t, cluster, 'node-3')
    const stolen = await other.tree.create('bvt/diffclient.bin', { reconnectV2: { fileId: open.fileId, createGuid: open.createGuid!, persistent: true } })
    t.equal(statusOf(stolen), NT_STATUS.OBJECT_NAME_NOT_FOUND, 'another ClientGuid gets STATUS_OBJECT_NAME_NOT_FOUND')
    unwrapSmb2(await a.tree.close(open.fileId))
  })

  await t.test('BVT_Replay_ReplayCreate', async (t) => {
    const a = await mount(t, cluster, 'node-3')
    const open = await durableOpen(a, 'bvt/replay-create.bin')
    const replay = await a.tree.create('bvt/replay-create.bin', { desiredAccess: READ_WRITE, disposition: DISPOSITION.OPEN_IF, durableV2: { createGuid: open.createGuid!, persistent: true }, replay: true })
    t.equal(statusOf(replay), NT_STATUS.SUCCESS)
    t.same(unwrapSmb2(replay).fileId, open.fileId, 'the replayed CREATE returns the same open')
    unwrapSmb2(await a.tree.close(open.fileId))
  })

  await t.test('BVT_Replay_WriteWithInvalidChannelSequence', async (t) => {
    const a = await mount(t, cluster, 'node-1')
    const open = await durableOpen(a, 'bvt/channel-sequence.bin')
    t.equal(statusOf(await a.tree.write(open.fileId, 0, Buffer.from('first'), { channelSequence: 5 })), NT_STATUS.SUCCESS)
    // 3.3.5.2.10: a ChannelSequence more than 0x7FFF behind the open's is stale.
    t.equal(statusOf(await a.tree.write(open.fileId, 0, Buffer.from('stale'), { channelSequence: 5 + 0x8000 })), NT_STATUS.FILE_NOT_AVAILABLE, 'stale ChannelSequence')
    // A replay carries the REPLAY_OPERATION flag and a new MessageId: it is applied (the same
    // bytes at the same offset), and the stale one above changed nothing.
    t.equal(statusOf(await a.tree.write(open.fileId, 0, Buffer.from('first'), { channelSequence: 5, replay: true })), NT_STATUS.SUCCESS, 'a replay with the current ChannelSequence succeeds')
    t.same(unwrapSmb2(await a.tree.read(open.fileId, 0, 5)), Buffer.from('first'), 'the stale write was not applied')
    unwrapSmb2(await a.tree.close(open.fileId))
  })

  await t.test('FileServerFailover_ScaleOutFileServer', async (t) => {
    await placeShare(cluster, 'node-1')
    const a = await mount(t, cluster, 'node-1')
    const open = await durableOpen(a, 'vm/failover.vhdx')
    t.same(open.durable?.persistent, true)
    t.equal(unwrapSmb2(await a.tree.write(open.fileId, 0, data)), data.length)
    unwrapSmb2(await a.tree.flush(open.fileId))
    cluster.kill('node-1')
    const { mount: b, reopened } = await reclaim(t, cluster, a, 'node-2', 'vm/failover.vhdx', open)
    t.equal(statusOf(reopened), NT_STATUS.SUCCESS, 'reclaimed through node-2 after node-1 died')
    const again = unwrapSmb2(reopened)
    t.same(unwrapSmb2(await b.tree.read(again.fileId, 0, data.length)), data, 'the same bytes')
    await t.test('FileServerFailover_BlockCreateFromDifferentClient', async (t) => {
      const other = await mount(t, cluster, 'node-3')
      t.equal(statusOf(await other.tree.create('vm/failover.vhdx', { desiredAccess: READ_WRITE })), NT_STATUS.SHARING_VIOLATION, 'another client is still blocked after failover')
    })
    // QUERY_INFO and SET_INFO on the reclaimed handle: size and last write time.
    unwrapSmb2(await b.tree.setEndOfFile(again.fileId, 100, { channelSequence: b.channelSequence }))
    const lastWriteMs = 1_600_000_000_000
    const keep = { kind: 'keep' } as const
    const times = encodeFileBasicInformationChange({ creationTime: keep, lastAccessTime: keep, lastWriteTime: { kind: 'set', filetime: filetimeFromUnixMs(lastWriteMs) }, changeTime: keep, attributes: null })
    unwrapSmb2(await b.tree.setInfo(again.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.BASIC, times, { channelSequence: b.channelSequence }))
    const standard = decodeFileStandardInformationAnswer(unwrapSmb2(await b.tree.queryInfo(again.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.STANDARD, 24)))
    t.equal(standard.ok && standard.value.endOfFileBytes, 100n, 'end of file set')
    const basic = decodeFileBasicInformationAnswer(unwrapSmb2(await b.tree.queryInfo(again.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.BASIC, 40)))
    t.equal(basic.ok && Math.round(unixMsFromFiletime(basic.value.lastWriteTime)), lastWriteMs, 'last write time set')
    unwrapSmb2(await b.tree.close(again.fileId))
    await cluster.start('node-1')
    await settled(cluster)
  })

  await t.test('FileServerFailover_ScaleOutFileServer_ReconnectWithoutFailover', async (t) => {
    const a = await mount(t, cluster, 'node-2')
    const open = await durableOpen(a, 'vm/no-failover.vhdx')
    t.equal(unwrapSmb2(await a.tree.write(open.fileId, 0, data)), data.length)
    // The client moves to another node with its old channel still up: the PreviousSessionId of
    // SESSION_SETUP on node-3 ends the session on node-2 that holds the open (3.3.5.5.3).
    const { mount: b, reopened } = await reclaim(t, cluster, a, 'node-3', 'vm/no-failover.vhdx', open)
    t.equal(statusOf(reopened), NT_STATUS.SUCCESS, 'reclaimed through another node with no failover')
    const again = unwrapSmb2(reopened)
    t.same(unwrapSmb2(await b.tree.read(again.fileId, 0, data.length)), data)
    unwrapSmb2(await b.tree.close(again.fileId))
    // node-2 ends it when node-3's reclaim reaches it (in the background of the SESSION_SETUP).
    const gone = await until('the old session to end on node-2', async () => {
      const status = statusOf(await a.tree.read(open.fileId, 0, 1))
      return status === NT_STATUS.USER_SESSION_DELETED ? status : null
    })
    t.equal(gone, NT_STATUS.USER_SESSION_DELETED, 'the old session on node-2 is gone')
  })

  await t.test('a durable, not persistent, handle dies with its node; an acknowledged write is on disk', async (t) => {
    // A scale-out share grants a batch oplock as level II (as Windows does there), so no open on
    // it is durable unless persistent: this case uses a CA share of a general-use role on csv-1,
    // reached at the role's own address, which follows the CSV's owner.
    await placeShare(cluster, 'node-3')
    const view = await cluster.addShare('gen-1', 'csv-1', { kind: 'general', roleName: 'FS-1' })
    const role = view.role!
    const user = cluster.credentials()!.users[0]
    const roleMount = async (o: { clientGuid?: string; previousSessionId?: bigint; channelSequence?: number } = {}): Promise<Mount> => {
      const client = unwrapSmb2(await Smb2Client.connect({ host: role.address, port: role.smb2Port, user: user.user, password: user.password, ...o }))
      t.teardown(() => client.close())
      return { client, tree: unwrapSmb2(await client.treeConnect('gen-1', role.name)), channelSequence: o.channelSequence ?? 0 }
    }
    await until('the role address to accept connections', async () => ((await acceptsConnections(role.address, role.smb2Port)) ? true : null))
    const a = await roleMount()
    const durable = await durableOpen(a, 'vm/durable-only.bin', false)
    t.same(durable.durable?.persistent, false, 'durable, not persistent')
    const last = Buffer.from('acknowledged just before the kill')
    t.equal(unwrapSmb2(await a.tree.write(durable.fileId, 0, last)), last.length)
    cluster.kill('node-3')
    const file = join(cluster.dir, 'storage', 'csv-1', 'gen-1', 'vm', 'durable-only.bin')
    t.same(existsSync(file) ? readFileSync(file) : null, last, 'the acknowledged write is on storage')
    // The role comes online on the CSV's next owner, at the same address.
    const reopened = await until('a DH2C through the role on its next owner', async () => {
      try {
        const m = await roleMount({ clientGuid: a.client.clientGuid, previousSessionId: a.client.sessionId, channelSequence: 1 })
        return await m.tree.create('vm/durable-only.bin', { reconnectV2: { fileId: durable.fileId, createGuid: durable.createGuid!, persistent: false }, channelSequence: m.channelSequence })
      } catch (err) {
        if (err instanceof Smb2TransportError || (err as Error).message.includes('ECONNREFUSED')) return null
        throw err
      }
    }, 20_000, 100)
    t.equal(statusOf(reopened), NT_STATUS.OBJECT_NAME_NOT_FOUND, 'the durable handle lived only in the dead node')
    await cluster.start('node-3')
    await settled(cluster)
  })

  await t.test('bad input gets the Windows NTSTATUS and changes nothing on disk', async (t) => {
    const a = await mount(t, cluster, 'node-2')
    const before = onDisk(cluster, 'bvt/reconnect.bin')
    t.equal(await rawCreate(a, '..\\outside.txt'), NT_STATUS.OBJECT_PATH_SYNTAX_BAD, 'path traversal')
    t.equal(await rawCreate(a, '\\absolute.txt'), NT_STATUS.INVALID_PARAMETER, 'absolute path')
    t.equal(await rawCreate(a, 'nul\u0000name'), NT_STATUS.OBJECT_NAME_INVALID, 'NUL in a name')
    t.notOk(existsSync(join(cluster.dir, 'storage', 'csv-1', 'outside.txt')), 'nothing escaped the share')
    const ro = unwrapSmb2(await a.tree.create('bvt/reconnect.bin', { desiredAccess: ACCESS.GENERIC_READ >>> 0, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE, disposition: DISPOSITION.OPEN }))
    t.equal(statusOf(await a.tree.write(ro.fileId, 0, Buffer.from('x'))), NT_STATUS.ACCESS_DENIED, 'write to a read-only open')
    // Offsets are unsigned on the wire; a "negative" one is at or beyond 2^63.
    const negative = encodeWriteRequest({ offset: 1n << 63n, fileId: ro.fileId, channel: CHANNEL.NONE, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data: Buffer.from('x') })
    t.equal((await a.tree.request({ command: SMB2_COMMAND.WRITE, body: negative, payloadBytes: 1 })).header.status, NT_STATUS.INVALID_PARAMETER, 'negative offset')
    const oversizeRead = encodeReadRequest({ padding: 0x50, flags: 0, length: NODE_IO_BYTES_MAX + 1, offset: 0n, fileId: ro.fileId, minimumCount: 0, channel: CHANNEL.NONE, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) })
    t.equal((await a.tree.request({ command: SMB2_COMMAND.READ, body: oversizeRead, payloadBytes: NODE_IO_BYTES_MAX + 1 })).header.status, NT_STATUS.INVALID_PARAMETER, 'oversize read')
    const oversizeWrite = encodeWriteRequest({ offset: 0n, fileId: ro.fileId, channel: CHANNEL.NONE, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data: Buffer.alloc(NODE_IO_BYTES_MAX + 1) })
    t.equal((await a.tree.request({ command: SMB2_COMMAND.WRITE, body: oversizeWrite, payloadBytes: NODE_IO_BYTES_MAX + 1 })).header.status, NT_STATUS.INVALID_PARAMETER, 'oversize write')
    unwrapSmb2(await a.tree.close(ro.fileId))
    t.equal(statusOf(await a.tree.read(ro.fileId, 0, 10)), NT_STATUS.FILE_CLOSED, 'a closed handle')
    t.equal(statusOf(await a.tree.read({ persistent: 'feedfacefeedface', volatile: '0123456789abcdef' }, 0, 10)), NT_STATUS.FILE_CLOSED, 'a foreign handle')
    t.same(onDisk(cluster, 'bvt/reconnect.bin'), before, 'the file is unchanged')

    const n = cluster.nodeConfig('node-2')
    const fresh = await Smb2TestClient.connect(n.clientAddress, n.smb2Port!)
    t.teardown(() => fresh.close())
    const negotiate = encodeNegotiateRequest({
      securityMode: SECURITY_MODE.SIGNING_ENABLED,
      capabilities: 0,
      clientGuid: '6e0c7d2a-3b1f-4c55-9a8e-2f4b1d0c9e11',
      dialects: [0x0311],
      negotiateContexts: [{ kind: 'preauth', hashAlgorithms: [HASH_ALGORITHM.SHA512], salt: Buffer.alloc(32, 7) }],
      clientStartTime: 0n,
    })
    t.equal((await fresh.call(SMB2_COMMAND.NEGOTIATE, negotiate)).header.status, NT_STATUS.SUCCESS)
    const early = await fresh.call(SMB2_COMMAND.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: `\\\\${SERVER}\\${SHARE}` }))
    t.equal(early.header.status, NT_STATUS.USER_SESSION_DELETED, 'a call before SESSION_SETUP')
    const wrong = await Smb2Client.connect({ ...endpoint(cluster, 'node-2'), password: 'wrong' })
    t.equal(statusOf(wrong), NT_STATUS.LOGON_FAILURE, 'bad credentials')
    t.equal(statusOf(await a.client.treeConnect('no-such-share', SERVER)), NT_STATUS.BAD_NETWORK_NAME, 'unknown share')
  })

  await t.test('a node without quorum answers nothing on the data path', async (t) => {
    const client = unwrapSmb2(await Smb2Client.connect({ ...endpoint(cluster, 'node-1'), requestTimeoutMs: 1500 }))
    t.teardown(() => client.close())
    await cluster.partition([['node-1'], ['node-2', 'node-3']])
    await cluster.waitFor((s) => s.nodes.find((n) => n.id === 'node-1')?.quorum === false, 10_000)
    await t.rejects(client.echo(), Smb2TransportError, 'the request goes unanswered instead of answered from stale state')
    await cluster.heal()
    await cluster.waitFor((s) => s.nodes.every((n) => n.serving), 10_000)
  })
})
