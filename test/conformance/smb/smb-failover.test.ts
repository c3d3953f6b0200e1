// SMB 3 continuous availability against a real 3-node cluster, one test per case of
// Microsoft's protocol test suite (FileServer/ServerFailover and SMB2 DurableHandle/Replay),
// plus the cases the issue adds: a durable handle dies with its node; a write acknowledged
// just before a kill is on disk; bad input changes nothing on disk.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { ACCESS, DISPOSITION, NT_STATUS, SHARE_ACCESS, SmbClient } from '../../../client/smb-client.js'
import type { Cluster } from '../../../cluster/cluster.js'
import { upCluster } from '../../helpers/cluster-fixture.js'

const SHARE = '\\\\SOFS\\share-1'

function endpoint(cluster: Cluster, id: string): string {
  const n = cluster.nodeConfig(id)
  return `${n.clientAddress}:${n.smbPort}`
}

/** Puts csv-1 (share-1) on `owner` and returns when it serves it. */
async function placeShare(cluster: Cluster, owner: string): Promise<void> {
  const s = await cluster.status()
  if (s.csvs.find((c) => c.name === 'csv-1')?.owner !== owner) await cluster.moveCsv('csv-1', owner)
  await cluster.waitFor((st) => st.csvs.some((c) => c.name === 'csv-1' && c.servedBy.length === 1 && c.servedBy[0] === owner), 10_000)
}

async function client(t: Tap, cluster: Cluster, node: string, clientGuid?: string): Promise<SmbClient> {
  const c = new SmbClient(endpoint(cluster, node), clientGuid)
  t.teardown(() => c.closeTransport())
  await c.connect(cluster.credentials()!.users[0], SHARE)
  return c
}

type Tap = { teardown(fn: () => unknown): void }

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

/** Reconnects a client through another node: same ClientGuid, PreviousSessionId, new channel. */
async function reconnect(t: Tap, cluster: Cluster, old: SmbClient, node: string): Promise<SmbClient> {
  const c = new SmbClient(endpoint(cluster, node), old.clientGuid)
  t.teardown(() => c.closeTransport())
  c.channelSequence = old.channelSequence
  c.bumpChannelSequence()
  // The CSV may still be moving right after a failover: retry the connect briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await c.connect(cluster.credentials()!.users[0], SHARE, old.sessionId)
      return c
    } catch (err) {
      if (attempt > 50) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

/** DH2C, retried while the CSV has no serving owner yet (the call fails UNAVAILABLE). */
async function reclaim(c: SmbClient, path: string, open: { fileId: { persistent: string; volatile: string }; createGuid: string }, persistent = true) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await c.create(path, { reconnect: { fileId: open.fileId, createGuid: open.createGuid, persistent } })
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE || attempt > 100) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

t.test('SMB 3 continuous availability', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const data = Buffer.from('persistent bytes that must survive a failover\n'.repeat(100))

  await t.test('BVT_PersistentHandle_Reconnect', async (t) => {
    const a = await client(t, cluster, 'node-2')
    t.equal(a.shareCapabilities & 0x70, 0x70, 'share is CA, scale-out and cluster')
    const open = await a.create('bvt/reconnect.bin', { durable: { persistent: true } })
    t.equal(open.status.code, NT_STATUS.SUCCESS)
    t.equal(open.persistent, true, 'persistent handle granted')
    t.equal((await a.write(open.fileId, 0, data)).status.code, NT_STATUS.SUCCESS)
    const b = await reconnect(t, cluster, a, 'node-2')
    const again = await b.create('bvt/reconnect.bin', { reconnect: { fileId: open.fileId, createGuid: open.createGuid, persistent: true } })
    t.equal(again.status.code, NT_STATUS.SUCCESS, 'DH2C reclaims it')
    t.same((await b.read(again.fileId, 0, data.length)).data, data)
    await b.close(again.fileId)
  })

  await t.test('PersistentHandle_ReOpenFromDiffClient', async (t) => {
    const a = await client(t, cluster, 'node-2')
    const open = await a.create('bvt/diffclient.bin', { durable: { persistent: true } })
    const other = await client(t, cluster, 'node-3')
    const stolen = await other.create('bvt/diffclient.bin', { reconnect: { fileId: open.fileId, createGuid: open.createGuid, persistent: true } })
    t.equal(stolen.status.code, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'another ClientGuid gets STATUS_OBJECT_NAME_NOT_FOUND')
    await a.close(open.fileId)
  })

  await t.test('BVT_Replay_ReplayCreate', async (t) => {
    const a = await client(t, cluster, 'node-3')
    const open = await a.create('bvt/replay-create.bin', { durable: { persistent: true } })
    const replay = await a.create('bvt/replay-create.bin', { durable: { createGuid: open.createGuid, persistent: true }, replay: true })
    t.equal(replay.status.code, NT_STATUS.SUCCESS)
    t.same(replay.fileId.persistent, open.fileId.persistent, 'the replayed CREATE returns the same open')
    await a.close(open.fileId)
  })

  await t.test('BVT_Replay_WriteWithInvalidChannelSequence', async (t) => {
    const a = await client(t, cluster, 'node-1')
    const open = await a.create('bvt/channel-sequence.bin', { durable: { persistent: true } })
    a.channelSequence = 5
    const w = await a.write(open.fileId, 0, Buffer.from('first'))
    t.equal(w.status.code, NT_STATUS.SUCCESS)
    a.channelSequence = 5 + 0x8000
    t.equal((await a.write(open.fileId, 0, Buffer.from('stale'))).status.code, NT_STATUS.FILE_NOT_AVAILABLE, 'stale ChannelSequence')
    a.channelSequence = 5
    const replayed = await a.write(open.fileId, 0, Buffer.from('first'), { replay: true, messageId: w.messageId })
    t.equal(replayed.status.code, NT_STATUS.SUCCESS, 'a replay of an applied write succeeds without applying it twice')
    await a.close(open.fileId)
  })

  await t.test('FileServerFailover_ScaleOutFileServer', async (t) => {
    await placeShare(cluster, 'node-1')
    const a = await client(t, cluster, 'node-1')
    const open = await a.create('vm/failover.vhdx', { durable: { persistent: true } })
    t.equal(open.persistent, true)
    t.equal((await a.write(open.fileId, 0, data)).status.code, NT_STATUS.SUCCESS)
    t.equal((await a.flush(open.fileId)).code, NT_STATUS.SUCCESS)
    cluster.kill('node-1')
    const b = await reconnect(t, cluster, a, 'node-2')
    const again = await reclaim(b, 'vm/failover.vhdx', open)
    t.equal(again.status.code, NT_STATUS.SUCCESS, 'reclaimed through node-2 after node-1 died')
    t.same((await b.read(again.fileId, 0, data.length)).data, data, 'the same bytes')
    await t.test('FileServerFailover_BlockCreateFromDifferentClient', async (t) => {
      const other = await client(t, cluster, 'node-3')
      t.equal((await other.create('vm/failover.vhdx')).status.code, NT_STATUS.SHARING_VIOLATION, 'another client is still blocked after failover')
    })
    // QUERY_INFO and SET_INFO on the reclaimed handle: size and last write time.
    t.equal((await b.setEndOfFile(again.fileId, 100)).code, NT_STATUS.SUCCESS)
    t.equal((await b.setLastWriteTime(again.fileId, 1_600_000_000_000)).code, NT_STATUS.SUCCESS)
    const info = await b.queryInfo(again.fileId)
    t.equal(info.endOfFile, 100, 'end of file set')
    t.equal(Math.round(info.lastWriteTimeMs), 1_600_000_000_000, 'last write time set')
    await b.close(again.fileId)
    await cluster.start('node-1')
    await settled(cluster)
  })

  await t.test('FileServerFailover_ScaleOutFileServer_ReconnectWithoutFailover', async (t) => {
    const a = await client(t, cluster, 'node-2')
    const open = await a.create('vm/no-failover.vhdx', { durable: { persistent: true } })
    await a.write(open.fileId, 0, data)
    const b = await reconnect(t, cluster, a, 'node-3')
    const again = await b.create('vm/no-failover.vhdx', { reconnect: { fileId: open.fileId, createGuid: open.createGuid, persistent: true } })
    t.equal(again.status.code, NT_STATUS.SUCCESS, 'reclaimed through another node with no failover')
    t.same((await b.read(again.fileId, 0, data.length)).data, data)
    await b.close(again.fileId)
  })

  await t.test('a durable, not persistent, handle dies with its node; an acknowledged write is on disk', async (t) => {
    await placeShare(cluster, 'node-3')
    const a = await client(t, cluster, 'node-3')
    const durable = await a.create('vm/durable-only.bin', { durable: { persistent: false } })
    t.equal(durable.durable, true)
    t.equal(durable.persistent, false)
    const last = Buffer.from('acknowledged just before the kill')
    t.equal((await a.write(durable.fileId, 0, last)).status.code, NT_STATUS.SUCCESS)
    cluster.kill('node-3')
    t.same(onDisk(cluster, 'vm/durable-only.bin'), last, 'the acknowledged write is on storage')
    const b = await reconnect(t, cluster, a, 'node-1')
    const again = await reclaim(b, 'vm/durable-only.bin', durable, false)
    t.equal(again.status.code, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'the durable handle lived only in the dead node')
    await cluster.start('node-3')
    await settled(cluster)
  })

  await t.test('bad input gets the Windows NTSTATUS and changes nothing on disk', async (t) => {
    const a = await client(t, cluster, 'node-2')
    const before = onDisk(cluster, 'bvt/reconnect.bin')
    t.equal((await a.create('../outside.txt')).status.code, NT_STATUS.OBJECT_PATH_SYNTAX_BAD, 'path traversal')
    t.equal((await a.create('\\absolute.txt')).status.code, NT_STATUS.INVALID_PARAMETER, 'absolute path')
    t.equal((await a.create('nul\u0000name')).status.code, NT_STATUS.OBJECT_NAME_INVALID, 'NUL in a name')
    t.notOk(existsSync(join(cluster.dir, 'storage', 'csv-1', 'outside.txt')), 'nothing escaped the share')
    const ro = await a.create('bvt/reconnect.bin', { desiredAccess: ACCESS.GENERIC_READ, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE, disposition: DISPOSITION.OPEN })
    t.equal(ro.status.code, NT_STATUS.SUCCESS)
    t.equal((await a.write(ro.fileId, 0, Buffer.from('x'))).status.code, NT_STATUS.ACCESS_DENIED, 'write to a read-only open')
    t.equal((await a.write(ro.fileId, -1, Buffer.from('x'))).status.code, NT_STATUS.INVALID_PARAMETER, 'negative offset')
    t.equal((await a.read(ro.fileId, 0, 64 * 1024 * 1024)).status.code, NT_STATUS.INVALID_PARAMETER, 'oversize read')
    t.equal((await a.write(ro.fileId, 0, Buffer.alloc(9 * 1024 * 1024))).status.code, NT_STATUS.INVALID_PARAMETER, 'oversize write')
    await a.close(ro.fileId)
    t.equal((await a.read(ro.fileId, 0, 10)).status.code, NT_STATUS.FILE_CLOSED, 'a closed handle')
    t.equal((await a.read({ persistent: 'feedfacefeedface', volatile: 'x' }, 0, 10)).status.code, NT_STATUS.FILE_CLOSED, 'a foreign handle')
    t.same(onDisk(cluster, 'bvt/reconnect.bin'), before, 'the file is unchanged')
    const fresh = new SmbClient(endpoint(cluster, 'node-2'))
    t.teardown(() => fresh.closeTransport())
    await fresh.negotiate()
    t.equal((await fresh.treeConnect(SHARE)).code, NT_STATUS.USER_SESSION_DELETED, 'a call before SESSION_SETUP')
    t.equal((await fresh.sessionSetup({ user: 'alice', password: 'wrong' })).code, NT_STATUS.LOGON_FAILURE, 'bad credentials')
    const b = await client(t, cluster, 'node-2')
    t.equal((await b.treeConnect('\\\\SOFS\\no-such-share')).code, NT_STATUS.BAD_NETWORK_NAME, 'unknown share')
  })

  await t.test('a node without quorum answers nothing on the data path', async (t) => {
    const a = await client(t, cluster, 'node-1')
    await cluster.partition([['node-1'], ['node-2', 'node-3']])
    await cluster.waitFor((s) => s.nodes.find((n) => n.id === 'node-1')?.quorum === false, 10_000)
    await t.rejects(a.echo(), { code: grpc.status.UNAVAILABLE }, 'the call fails instead of answering from stale state')
    await cluster.heal()
    await cluster.waitFor((s) => s.nodes.every((n) => n.serving), 10_000)
  })
})
