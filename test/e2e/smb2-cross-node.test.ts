// Session reconnect and persistent handles across nodes on the real wire (issue 15, items 4 and
// 5), with our wire client against a 3-node cluster:
// - A PreviousSessionId minted by another node that is still up: that node ends the session (a
//   request on it is then USER_SESSION_DELETED), its non-durable open is closed at the CSV owner
//   (the file opens exclusively again), its persistent open comes back with DH2C.
// - The CSV owner the client uses is killed (SIGKILL): the CSV moves, another client's CREATE is
//   told FILE_NOT_AVAILABLE while the persistent open is preserved, the client reconnects through
//   the new owner with PreviousSessionId and DH2C, reads its bytes and writes, and the byte-range
//   lock it took before the kill is honoured by the new owner until it unlocks it (and that LOCK,
//   replayed there with its LockSequence, is recognised as done); a persistent open's lease is
//   rebuilt there from its record and given back, same key, state and epoch, with the DH2C.
import t, { type Test } from 'tap'
import { until } from '../helpers/until.js'
import { randomBytes, randomUUID } from 'node:crypto'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import type { Smb2Tree } from '../../client/smb2/smb2-tree.js'
import { unwrapSmb2, type Smb2Result } from '../../client/smb2/smb2-result.js'
import type { Cluster } from '../../cluster/cluster.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import { SMB2_COMMAND } from '../../protocol/smb2/header.js'
import { LOCK_FLAGS, encodeLockRequest } from '../../protocol/smb2/lock.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { decodeFullEaInformation, encodeFullEaInformation } from '../../protocol/smb2/extended-attributes.js'
import { FILE_ATTRIBUTE, FILE_BASIC_INFORMATION_BYTES, FILE_INFO_CLASS, FILE_POSITION_INFORMATION_BYTES, INFO_TYPE } from '../../protocol/smb2/file-info.js'
import { nodeIndexOfSessionId } from '../../core/smb/session-id.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const READ_WRITE = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

function endpoint(cluster: Cluster, id: string) {
  const n = cluster.nodeConfig(id)
  const user = cluster.credentials()!.users[0]
  return { host: n.clientAddress, port: n.smb2Port!, user: user.user, password: user.password, dialects: [SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311] }
}

/** Polls check until it gives a value (the fan-out of a reclaim is asynchronous); fails after timeoutMs. */
function statusOf(r: Smb2Result<unknown>): string {
  return r.ok ? 'STATUS_SUCCESS' : r.failure.statusName
}

async function lock(tree: Smb2Tree, fileId: Smb2FileId, offset: bigint, length: bigint, flags: number, lockSequence = 0): Promise<number> {
  const reply = await tree.request({ command: SMB2_COMMAND.LOCK, body: encodeLockRequest({ lockSequence, fileId, locks: [{ offset, length, flags }] }) })
  return reply.header.status
}

async function client(t: Test, opts: Parameters<typeof Smb2Client.connect>[0]): Promise<Smb2Client> {
  const c = unwrapSmb2(await Smb2Client.connect(opts))
  t.teardown(() => c.close())
  return c
}

t.test('session reconnect and persistent handles across nodes', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  let s = await cluster.waitFor((st) => st.quorum && st.csvs.every((c) => c.servedBy.length === 1), 20_000)
  const nodeIds = s.nodes.map((n) => n.id)

  await t.test('a PreviousSessionId of another, live node ends that session there and at the owner', async (t) => {
    const csv = s.csvs[0]
    const share = s.shares.find((x) => x.csv === csv.name)!.name
    const [a, b] = nodeIds.filter((id) => id !== csv.owner)
    const clientGuid = randomUUID()
    const first = await client(t, { ...endpoint(cluster, a), clientGuid })
    t.equal(nodeIndexOfSessionId(first.sessionId), nodeIds.indexOf(a) + 1, `the SessionId names ${a}`)
    const tree = unwrapSmb2(await first.treeConnect(share))
    const plain = unwrapSmb2(await tree.create('reclaim-plain.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: READ_WRITE, shareAccess: 0 }))
    const data = randomBytes(32 * 1024)
    const kept = unwrapSmb2(await tree.create('reclaim-kept.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: READ_WRITE, shareAccess: SHARE_ACCESS.READ, durableV2: { persistent: true, timeoutMs: 60_000 } }))
    t.equal(kept.durable?.persistent, true, 'persistent')
    unwrapSmb2(await tree.writeRange(kept.fileId, 0, data))

    // The client moves to b without closing anything on a (a link that went away, say).
    const second = await client(t, { ...endpoint(cluster, b), clientGuid, previousSessionId: first.sessionId })
    t.equal(nodeIndexOfSessionId(second.sessionId), nodeIds.indexOf(b) + 1, `the new SessionId names ${b}`)
    const old = await until('the old session to end on its node', async () => {
      const r = await tree.read(plain.fileId, 0, 1)
      return !r.ok && r.failure.status === NT_STATUS.USER_SESSION_DELETED ? r.failure.statusName : null
    })
    t.equal(old, 'STATUS_USER_SESSION_DELETED', `${a} answers the old session USER_SESSION_DELETED`)
    const tree2 = unwrapSmb2(await second.treeConnect(share))
    const reopened = await until('the old non-durable open to be closed at the owner', async () => {
      const r = await tree2.create('reclaim-plain.bin', { desiredAccess: READ_WRITE, shareAccess: 0 })
      return r.ok ? r.value : null
    })
    unwrapSmb2(await tree2.close(reopened.fileId))
    const back = unwrapSmb2(await tree2.create('reclaim-kept.bin', { reconnectV2: { fileId: kept.fileId, createGuid: kept.createGuid!, persistent: true } }))
    t.equal(back.fileId.persistent, kept.fileId.persistent, 'DH2C gives the persistent open back')
    const read = unwrapSmb2(await tree2.read(back.fileId, 0, data.length))
    t.ok(read.equals(data), 'with its bytes')
    unwrapSmb2(await tree2.close(back.fileId))
  })

  await t.test('the CSV owner the client uses is killed: DH2C through the new owner, which honours the lock', async (t) => {
    s = await cluster.status()
    const csv = s.csvs[1]
    const share = s.shares.find((x) => x.csv === csv.name)!.name
    const victim = csv.owner
    const clientGuid = randomUUID()
    const first = await client(t, { ...endpoint(cluster, victim), clientGuid })
    const tree = unwrapSmb2(await first.treeConnect(share))
    const shared = SHARE_ACCESS.READ | SHARE_ACCESS.WRITE
    const opened = unwrapSmb2(await tree.create('locked.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: READ_WRITE, shareAccess: shared, durableV2: { persistent: true, timeoutMs: 120_000 } }))
    t.equal(opened.durable?.persistent, true, 'persistent')
    const data = randomBytes(64 * 1024)
    unwrapSmb2(await tree.writeRange(opened.fileId, 0, data))
    // LockSequenceIndex 1, number 1 (3.3.5.14): a replay of it after the failover must be recognised.
    const lockSequence = (1 << 4) | 1
    t.equal(await lock(tree, opened.fileId, 0n, 4096n, LOCK_FLAGS.EXCLUSIVE_LOCK | LOCK_FLAGS.FAIL_IMMEDIATELY, lockSequence), NT_STATUS.SUCCESS, 'an exclusive lock on [0, 4096)')
    // A persistent open with a lease: on a scale-out share read caching only (MS-SMB2 3.3.5.9).
    const leaseKey = randomBytes(16)
    const leaseAsked = { leaseKey, leaseState: 0x07, leaseFlags: 0, parentLeaseKey: null, epoch: 0 }
    const leased = unwrapSmb2(await tree.create('leased.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: READ_WRITE, shareAccess: shared, durableV2: { persistent: true, timeoutMs: 120_000 }, lease: leaseAsked }))
    t.equal(leased.lease?.leaseState, 0x01, 'the lease granted before the kill: R')
    // What NTFS keeps with a file and ext4 does not (EAs, a creation time, DOS attributes) and an
    // open's CurrentByteOffset: the new owner answers with them as the old one did.
    const eas = [{ flags: 0, name: 'SWLAB.EA', value: Buffer.from('kept across owners') }]
    const meta = unwrapSmb2(await tree.create('meta.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: READ_WRITE | ACCESS.WRITE_ATTRIBUTES | ACCESS.READ_EA | ACCESS.READ_ATTRIBUTES, shareAccess: shared, durableV2: { persistent: true, timeoutMs: 120_000 }, contexts: [{ name: Buffer.from('ExtA'), data: encodeFullEaInformation(eas).buffer }] }))
    const positionSet = Buffer.alloc(FILE_POSITION_INFORMATION_BYTES)
    positionSet.writeBigUInt64LE(0x1000n)
    unwrapSmb2(await tree.setInfo(meta.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.POSITION, positionSet))
    const creationFiletime = 126_000_000_000_000_000n // 2000-04-14
    const basicSet = Buffer.alloc(FILE_BASIC_INFORMATION_BYTES)
    basicSet.writeBigUInt64LE(creationFiletime, 0)
    basicSet.writeUInt32LE(FILE_ATTRIBUTE.HIDDEN, 32)
    unwrapSmb2(await tree.setInfo(meta.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.BASIC, basicSet))

    cluster.kill(victim)
    s = await cluster.waitFor((st) => st.quorum && st.csvs.some((c) => c.name === csv.name && c.servedBy.length === 1 && c.servedBy[0] !== victim), 30_000)
    const owner = s.csvs.find((c) => c.name === csv.name)!.owner
    t.not(owner, victim, `${csv.name} moved from ${victim} to ${owner}`)

    const other = await client(t, { ...endpoint(cluster, owner), clientGuid: randomUUID() })
    const otherTree = unwrapSmb2(await other.treeConnect(share))
    const held = await otherTree.create('locked.bin', { desiredAccess: READ_WRITE, shareAccess: shared })
    t.equal(statusOf(held), 'STATUS_FILE_NOT_AVAILABLE', 'another client is told to retry while the persistent open is preserved')

    const second = await client(t, { ...endpoint(cluster, owner), clientGuid, previousSessionId: first.sessionId })
    const tree2 = unwrapSmb2(await second.treeConnect(share))
    const back = unwrapSmb2(await tree2.create('locked.bin', { reconnectV2: { fileId: opened.fileId, createGuid: opened.createGuid!, persistent: true } }))
    t.equal(back.fileId.persistent, opened.fileId.persistent, 'the same open, through the new owner')
    t.ok(unwrapSmb2(await tree2.read(back.fileId, 0, data.length)).equals(data), 'the bytes written before the kill')
    const more = randomBytes(1000)
    t.equal(unwrapSmb2(await tree2.write(back.fileId, 8192, more)), more.length, 'a write after the reconnect')
    t.ok(unwrapSmb2(await tree2.read(back.fileId, 8192, more.length)).equals(more), 'reads back')

    // The new owner rebuilt the lease from the open's record: the reconnect gives it back.
    const leasedBack = unwrapSmb2(await tree2.create('leased.bin', { reconnectV2: { fileId: leased.fileId, createGuid: leased.createGuid!, persistent: true }, lease: leaseAsked }))
    t.equal(leasedBack.oplockLevel, 0xff, 'the leased open comes back with its lease')
    t.ok(leasedBack.lease?.leaseKey.equals(leaseKey), 'the same lease key')
    t.equal(leasedBack.lease?.leaseState, leased.lease?.leaseState, 'in the state the old owner granted')
    t.equal(leasedBack.lease?.epoch, leased.lease?.epoch, 'and its epoch')
    unwrapSmb2(await tree2.close(leasedBack.fileId))

    const metaBack = unwrapSmb2(await tree2.create('meta.bin', { reconnectV2: { fileId: meta.fileId, createGuid: meta.createGuid!, persistent: true } }))
    const position = unwrapSmb2(await tree2.queryInfo(metaBack.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.POSITION))
    t.equal(position.readBigUInt64LE(0), 0x1000n, 'the CurrentByteOffset SET_INFO set before the kill')
    const basic = unwrapSmb2(await tree2.queryInfo(metaBack.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.BASIC))
    t.equal(basic.readBigUInt64LE(0), creationFiletime, 'the creation time SET_INFO set')
    t.ok((basic.readUInt32LE(32) & FILE_ATTRIBUTE.HIDDEN) !== 0, 'and its HIDDEN attribute')
    const eaList = decodeFullEaInformation(unwrapSmb2(await tree2.queryInfo(metaBack.fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.FULL_EA)))
    t.same(eaList.ok ? eaList.eas.map((ea) => [ea.name, ea.value.toString()]) : eaList, [['SWLAB.EA', 'kept across owners']], 'the EAs its CREATE gave')
    unwrapSmb2(await tree2.close(metaBack.fileId))

    t.equal(await lock(tree2, back.fileId, 0n, 4096n, LOCK_FLAGS.EXCLUSIVE_LOCK | LOCK_FLAGS.FAIL_IMMEDIATELY, lockSequence), NT_STATUS.SUCCESS, 'the LOCK replayed at the new owner is recognised as done (its LockSequence slot came along)')
    const theirs = unwrapSmb2(await otherTree.create('locked.bin', { desiredAccess: READ_WRITE, shareAccess: shared }))
    t.equal(statusOf(await otherTree.write(theirs.fileId, 0, Buffer.from('x'))), 'STATUS_FILE_LOCK_CONFLICT', 'the lock taken before the kill holds at the new owner')
    t.equal(await lock(otherTree, theirs.fileId, 100n, 1n, LOCK_FLAGS.SHARED_LOCK | LOCK_FLAGS.FAIL_IMMEDIATELY), NT_STATUS.LOCK_NOT_GRANTED, 'and refuses a lock inside it')
    t.equal(statusOf(await otherTree.write(theirs.fileId, 5000, Buffer.from('y'))), 'STATUS_SUCCESS', 'outside the range the other client writes')
    t.equal(await lock(tree2, back.fileId, 0n, 4096n, LOCK_FLAGS.UNLOCK), NT_STATUS.SUCCESS, 'the reconnected open unlocks what it locked before the kill')
    t.equal(statusOf(await otherTree.write(theirs.fileId, 0, Buffer.from('x'))), 'STATUS_SUCCESS', 'then the range is free')
    unwrapSmb2(await otherTree.close(theirs.fileId))
    unwrapSmb2(await tree2.close(back.fileId))
  })
})
