// The handle table and replay logic: named cases from Microsoft's test suite run against the
// pure table, then a property test drives random sequences of create, write, replay,
// disconnect, reconnect, failover and expiry and checks DESIGN section 5's invariants:
// (3) every acknowledged write is on storage, (4) a replayed write is applied once,
// (5) a persistent handle survives failover until its timeout and nobody else can take it.
import t from 'tap'
import fc from 'fast-check'
import { HandleTable, PERSISTENT_OPEN_LOCKS_MAX, durableTimeoutMs, takenByAppInstance, type CreateRequest, type HandleEffect, type IoRequest, type OpenRecord } from '../../core/smb/handle-table.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../../protocol/smb2/constants.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { normaliseSharePath } from '../../server/smb/share-path.js'

let ids = 0
function createReq(over: Partial<CreateRequest> = {}): CreateRequest {
  ids++
  return {
    sessionKey: 's1',
    clientGuid: 'client-a',
    user: 'alice',
    share: 'share-1',
    shareIsCa: true,
    caTimeoutMs: 0,
    path: 'vm/disk.vhdx',
    disposition: DISPOSITION.OPEN_IF,
    desiredAccess: ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE,
    shareAccess: SHARE_ACCESS.READ,
    fileExists: false,
    persistentCapable: true,
    replay: false,
    newPersistentId: `p${ids}`,
    newVolatileId: `v${ids}`,
    ...over,
  }
}

function io(over: Partial<IoRequest> & Pick<IoRequest, 'persistentId'>): IoRequest {
  return { sessionKey: 's1', volatileId: '', kind: 'write', channelSequence: 0, replay: false, messageId: `m${++ids}`, ...over }
}

function persisted(effects: readonly HandleEffect[]): OpenRecord[] {
  return effects.filter((e): e is Extract<HandleEffect, { kind: 'persist' }> => e.kind === 'persist').map((e) => e.record)
}

t.test('BVT_PersistentHandle_Reconnect', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  t.equal(open.status, NT_STATUS.SUCCESS)
  t.equal(open.persistent, true, 'persistent granted on a CA share')
  t.equal(open.timeoutMs, 60_000, 'server default timeout')
  t.equal(persisted(open.effects).length, 1, 'the record is persisted before the CREATE is answered')
  table.disconnectSession('s1', 1000)
  const again = table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: open.persistentId!, createGuid: 'g1', persistent: true } }))
  t.equal(again.status, NT_STATUS.SUCCESS)
  t.equal(again.persistentId, open.persistentId, 'same file id')
  t.equal(table.beginIo(io({ sessionKey: 's2', persistentId: open.persistentId! })).status, NT_STATUS.SUCCESS)
})

t.test('PersistentHandle_ReOpenFromDiffClient', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  table.disconnectSession('s1', 0)
  const thief = table.create(createReq({ sessionKey: 's9', clientGuid: 'client-b', dh2c: { persistentId: open.persistentId!, createGuid: 'g1', persistent: true } }))
  t.equal(thief.status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'another ClientGuid cannot reclaim it')
  const wrongGuid = table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: open.persistentId!, createGuid: 'gX', persistent: true } }))
  t.equal(wrongGuid.status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'a wrong CreateGuid cannot')
  const block = table.create(createReq({ sessionKey: 's9', clientGuid: 'client-b', newPersistentId: 'other' }))
  t.equal(block.status, NT_STATUS.SHARING_VIOLATION, 'FileServerFailover_BlockCreateFromDifferentClient: the preserved open still locks the file')
  table.scavenge(60_000)
  const late = table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: open.persistentId!, createGuid: 'g1', persistent: true } }))
  t.equal(late.status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'after expiry')
})


t.test('a preserved persistent open holds its file at 3.x: FILE_NOT_AVAILABLE until its client reconnects (3.3.5.9)', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE, dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  const other = (over: Partial<CreateRequest> = {}) =>
    table.create(createReq({ sessionKey: 's9', clientGuid: 'client-b', desiredAccess: ACCESS.READ_DATA, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE, smb3: true, ...over }))
  t.equal(other().status, NT_STATUS.SUCCESS, 'while attached, a compatible open of another client is let in')
  table.disconnectSession('s1', 0)
  const held = other({ path: 'VM/Disk.vhdx' })
  t.equal(held.status, NT_STATUS.FILE_NOT_AVAILABLE, 'preserved: any other 3.x open is told to retry, even one that shares')
  t.ok(held.effects.some((e) => e.kind === 'event' && e.event === 'handle.held-for-reconnect'))
  t.equal(other({ smb3: false }).status, NT_STATUS.SUCCESS, 'below 3.x only share access counts')
  t.equal(other({ path: 'vm/other.vhdx' }).status, NT_STATUS.SUCCESS, 'another file is not held')
  const back = table.create(createReq({ sessionKey: 's2', smb3: true, dh2c: { persistentId: open.persistentId!, createGuid: 'g1', persistent: true } }))
  t.equal(back.status, NT_STATUS.SUCCESS, 'its own client reconnects with DH2C')
  t.equal(other().status, NT_STATUS.SUCCESS, 'reconnected, the file is shared again as its share access says')
})
t.test("a persistent open's record keeps its byte-range locks; a durable one's does not", async (t) => {
  const table = new HandleTable('csv-1')
  const persistent = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  const durable = table.create(createReq({ path: 'other', dh2q: { createGuid: 'g2', timeoutMs: 0, persistent: false } }))
  const locks = [{ offset: '0', length: '10', exclusive: true }]
  t.same(persisted(table.setLocks(persistent.persistentId!, locks)).map((r) => r.locks), [locks], 'written with the locks')
  t.same(table.setLocks(persistent.persistentId!, [{ ...locks[0] }]), [], 'nothing written when they did not change')
  t.same(table.setLocks(durable.persistentId!, locks), [], 'a durable open has no record')
  const slots = [{ index: 1, number: 2 }]
  t.same(persisted(table.setLocks(persistent.persistentId!, locks, slots)).map((r) => r.lockSequences), [slots], 'a new LockSequence slot is written too')
  const cleared = persisted(table.setLocks(persistent.persistentId!, []))
  t.equal(cleared.length, 1)
  t.notOk('locks' in cleared[0] || 'lockSequences' in cleared[0], 'no locks and no slots: none in the record')
  t.throws(() => table.setLocks(persistent.persistentId!, Array.from({ length: PERSISTENT_OPEN_LOCKS_MAX + 1 }, () => locks[0])), 'the adapter bounds them')
})

t.test('AppInstanceId_OpenFromDifferentClient: the same AppInstanceId takes the file over, another does not', async (t) => {
  const table = new HandleTable('csv-1')
  const first = table.create(createReq({ appInstanceId: 'vm-1', dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  t.equal(first.status, NT_STATUS.SUCCESS)
  table.disconnectSession('s1', 0)
  const stranger = table.create(createReq({ sessionKey: 's8', clientGuid: 'client-c', appInstanceId: 'vm-2', newPersistentId: 'x1' }))
  t.equal(stranger.status, NT_STATUS.SHARING_VIOLATION, 'a different AppInstanceId is blocked by the preserved open')
  t.equal(table.openCount(), 1, 'and closes nothing')
  const other = table.create(createReq({ sessionKey: 's9', clientGuid: 'client-b', appInstanceId: 'vm-1', newPersistentId: 'x2', dh2q: { createGuid: 'g2', timeoutMs: 0, persistent: true } }))
  t.equal(other.status, NT_STATUS.SUCCESS, 'the same AppInstanceId from another client opens the file')
  t.ok(other.effects.some((e) => e.kind === 'forget' && e.persistentId === first.persistentId), 'the old persistent record is forgotten')
  t.equal(table.openCount(), 1, 'only the new open remains')
  const reclaim = table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: first.persistentId!, createGuid: 'g1', persistent: true } }))
  t.equal(reclaim.status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'the old client cannot reclaim the closed open')
})

t.test('takenByAppInstance: only another client\'s open with the same AppInstanceId', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ appInstanceId: 'app-1' }))
  const record = table.recordOf(open.persistentId!)!
  t.ok(takenByAppInstance(record, 'client-b', 'app-1'))
  t.notOk(takenByAppInstance(record, 'client-a', 'app-1'), 'not the same client')
  t.notOk(takenByAppInstance(record, 'client-b', 'app-2'), 'not another AppInstanceId')
  t.notOk(takenByAppInstance(record, 'client-b', ''), 'not without one')
})

t.test('DurableHandleV2_NoPersistenceGrantedOnNonCAShare', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ shareIsCa: false, dh2q: { createGuid: 'g1', timeoutMs: 500_000, persistent: true } }))
  t.equal(open.status, NT_STATUS.SUCCESS)
  t.equal(open.persistent, false, 'no persistence on a non-CA share')
  t.equal(open.durable, true, 'still durable')
  t.equal(open.timeoutMs, 300_000, 'requested timeout capped at 300 s')
  t.same(persisted(open.effects), [], 'a durable handle lives in memory only')
  t.equal(durableTimeoutMs(0, 90_000), 90_000, 'CATimeout when none is requested')
})

t.test('BVT_Replay_ReplayCreate', async (t) => {
  const table = new HandleTable('csv-1')
  const first = table.create(createReq({ dh2q: { createGuid: 'g7', timeoutMs: 0, persistent: true } }))
  const replay = table.create(createReq({ replay: true, dh2q: { createGuid: 'g7', timeoutMs: 0, persistent: true } }))
  t.equal(replay.status, NT_STATUS.SUCCESS)
  t.equal(replay.persistentId, first.persistentId, 'the replayed create returns the same open')
  t.equal(replay.existing, true)
  t.equal(replay.fileAction, 'none', 'and touches no file')
  t.equal(replay.replayedFileAction, 'create', "but answers the original's CreateAction (smbtorture replay.replay6)")
  t.equal(table.openCount(), 1, 'applied once')
  const batch = table.create(createReq({ path: 'b', dh2q: { createGuid: 'g8', timeoutMs: 0, persistent: false } }))
  table.setOplock(batch.persistentId!, 0x09)
  const again = table.create(createReq({ path: 'b', replay: true, dh2q: { createGuid: 'g8', timeoutMs: 0, persistent: false } }))
  t.equal(again.persistentId, batch.persistentId, 'a replay of an oplock open returns it')
  t.equal(table.recordOf(again.persistentId!)?.oplockLevel, 0x09, 'with its oplock level (granted by the oplock-lease table) as recorded')
})

t.test('BVT_Replay_WriteWithInvalidChannelSequence', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  const p = open.persistentId!
  const w1 = io({ persistentId: p, channelSequence: 1 })
  t.equal(table.beginIo(w1).status, NT_STATUS.SUCCESS, 'a newer ChannelSequence is taken')
  table.completeIo(w1, true)
  const stale = table.beginIo(io({ persistentId: p, channelSequence: 0x8001 }))
  t.equal(stale.status, NT_STATUS.FILE_NOT_AVAILABLE, 'a stale ChannelSequence gets STATUS_FILE_NOT_AVAILABLE')
  const replayed = table.beginIo({ ...w1, replay: true })
  t.equal(replayed.alreadyApplied, true, 'a replayed WRITE that was applied is not applied again')
})

t.test('smb2.replay.replay4: a READ with a newer ChannelSequence advances the open, so a WRITE with the old one is stale; a stale READ is no error', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  const p = open.persistentId!
  const w0 = io({ persistentId: p, channelSequence: 0 })
  t.equal(table.beginIo(w0).status, NT_STATUS.SUCCESS)
  table.completeIo(w0, true)
  t.equal(table.beginIo(io({ persistentId: p, kind: 'read', channelSequence: 1, sequenced: true })).status, NT_STATUS.SUCCESS, 'the READ with ChannelSequence 1 goes ahead')
  t.equal(table.recordOf(p)?.channelSequence, 1, 'and moves the open to 1')
  t.equal(table.beginIo(io({ persistentId: p, channelSequence: 0 })).status, NT_STATUS.FILE_NOT_AVAILABLE, 'a WRITE with the old ChannelSequence is then stale')
  t.equal(table.beginIo(io({ persistentId: p, channelSequence: 0, replay: true })).status, NT_STATUS.FILE_NOT_AVAILABLE, 'so is its replay')
  t.equal(table.beginIo(io({ persistentId: p, kind: 'set-info', channelSequence: 0 })).status, NT_STATUS.FILE_NOT_AVAILABLE, 'and a SET_INFO')
  t.equal(table.beginIo(io({ persistentId: p, kind: 'read', channelSequence: 0, sequenced: true })).status, NT_STATUS.SUCCESS, 'a READ with the stale one still reads')
  t.equal(table.recordOf(p)?.channelSequence, 1, 'and leaves the open at 1')
  const replay = io({ persistentId: p, channelSequence: 1, replay: true })
  t.equal(table.beginIo(replay).status, NT_STATUS.SUCCESS, 'a replayed WRITE with the current ChannelSequence is taken')
  table.completeIo(replay, true)
  t.equal(table.beginIo(io({ persistentId: p, kind: 'read', channelSequence: 7 })).status, NT_STATUS.SUCCESS, 'a READ without a ChannelSequence of its own (below 3.0)')
  t.equal(table.recordOf(p)?.channelSequence, 1, 'leaves the open where it was')
})

t.test('smb2.replay.replay6: a DH2Q CREATE with a CreateGuid in use but without REPLAY is DUPLICATE_OBJECTID; with REPLAY, a used open is created anew', async (t) => {
  const table = new HandleTable('csv-1')
  const shared = { shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE }
  const first = table.create(createReq({ dh2q: { createGuid: 'g6', timeoutMs: 0, persistent: false }, ...shared }))
  t.equal(first.status, NT_STATUS.SUCCESS)
  const replay = table.create(createReq({ replay: true, dh2q: { createGuid: 'g6', timeoutMs: 0, persistent: false }, ...shared }))
  t.equal(replay.persistentId, first.persistentId, 'a replay before any use gives the open back')
  const dup = table.create(createReq({ dh2q: { createGuid: 'g6', timeoutMs: 0, persistent: false }, ...shared }))
  t.equal(dup.status, NT_STATUS.DUPLICATE_OBJECTID, 'the same CreateGuid without REPLAY is a duplicate')
  t.equal(dup.persistentId, undefined, 'and opens nothing')
  table.beginIo(io({ persistentId: first.persistentId!, kind: 'query-info' }))
  const fresh = table.create(createReq({ replay: true, dh2q: { createGuid: 'g6', timeoutMs: 0, persistent: false }, ...shared }))
  t.equal(fresh.status, NT_STATUS.SUCCESS, 'a replay after the open was used is a new create')
  t.not(fresh.persistentId, first.persistentId, 'with a handle of its own')
  const other = table.create(createReq({ clientGuid: 'another-client', dh2q: { createGuid: 'g6', timeoutMs: 0, persistent: false }, ...shared }))
  t.equal(other.status, NT_STATUS.SUCCESS, 'another client may use the same CreateGuid')
})

t.test('smb2.replay.replay5: a preserved persistent open\'s CreateGuid without REPLAY: FILE_NOT_AVAILABLE on a scale-out share, DUPLICATE_OBJECTID elsewhere; with REPLAY it comes back', async (t) => {
  for (const scaleOut of [true, false]) {
    const table = new HandleTable('csv-1')
    const dh2q = { createGuid: 'g5', timeoutMs: 0, persistent: true }
    const open = table.create(createReq({ dh2q, smb3: true, scaleOut }))
    table.disconnectSession('s1', 0)
    const again = table.create(createReq({ sessionKey: 's2', dh2q, smb3: true, scaleOut }))
    t.equal(again.status, scaleOut ? NT_STATUS.FILE_NOT_AVAILABLE : NT_STATUS.DUPLICATE_OBJECTID, `scale-out ${scaleOut}: without REPLAY`)
    const replayed = table.create(createReq({ sessionKey: 's2', dh2q, smb3: true, scaleOut, replay: true }))
    t.equal(replayed.persistentId, open.persistentId, `scale-out ${scaleOut}: with REPLAY the preserved open comes back`)
  }
})

t.test('openWithAccess: an open of exactly that path with one of those rights (a rename into a directory open for DELETE is refused)', async (t) => {
  const table = new HandleTable('csv-1')
  table.create(createReq({ path: 'dir', directory: true, desiredAccess: ACCESS.DELETE | ACCESS.READ_DATA, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE }))
  t.equal(table.openWithAccess('share-1', 'DIR', ACCESS.DELETE), true, 'case-insensitively')
  t.equal(table.openWithAccess('share-1', 'dir', ACCESS.WRITE_DATA), false, 'not for a right it was not granted')
  t.equal(table.openWithAccess('share-1', 'dir/sub', ACCESS.DELETE), false, 'not for a path below it')
  t.equal(table.openWithAccess('share-2', 'dir', ACCESS.DELETE), false, 'not on another share')
})

t.test('durable v1 (DHnQ/DHnC) and the wire front\'s grant rule: durable only with a batch oplock, unless persistent', async (t) => {
  const table = new HandleTable('csv-1')
  // The wire front creates, asks the oplock-lease table for the grant, then keeps the durability
  // only with a batch oplock or a handle-caching lease (keepDurable).
  const plain = table.create(createReq({ path: 'a', dhnq: true }))
  t.equal(table.keepDurable(plain.persistentId!, false), false, 'DHnQ without an oplock: not durable (MS-SMB2 3.3.5.9.6)')
  const v2 = table.create(createReq({ path: 'b', dh2q: { createGuid: 'g-b', timeoutMs: 0, persistent: false } }))
  t.equal(table.keepDurable(v2.persistentId!, false), false, 'DH2Q without an oplock or persistence: not durable (3.3.5.9.10)')
  t.equal(table.recordOf(v2.persistentId!)?.timeoutMs, 0)
  const ca = table.create(createReq({ path: 'c', dh2q: { createGuid: 'g-c', timeoutMs: 0, persistent: true } }))
  t.ok(ca.durable && ca.persistent && table.keepDurable(ca.persistentId!, false), 'a persistent DH2Q on a CA share is durable without an oplock')
  const batch = table.create(createReq({ path: 'd', dhnq: true }))
  table.setOplock(batch.persistentId!, 0x09)
  t.equal(table.keepDurable(batch.persistentId!, true), true, 'DHnQ with a batch oplock: durable')
  t.equal(batch.timeoutMs, 60_000, "the server's default timeout")
  const same = table.create(createReq({ path: 'd', dhnc: { persistentId: batch.persistentId! } }))
  t.equal(same.status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'a reconnect from the session still holding the open is refused')
  table.disconnectSession('s1', 1000)
  t.equal(table.create(createReq({ sessionKey: 's2', user: 'bob', dhnc: { persistentId: batch.persistentId! } })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'another user cannot reconnect')
  t.equal(table.create(createReq({ sessionKey: 's2', dhnc: { persistentId: ca.persistentId! } })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'DHnC does not reconnect a persistent open')
  t.equal(table.create(createReq({ sessionKey: 's2', dhnc: { persistentId: plain.persistentId! } })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'a non-durable open was closed')
  const back = table.create(createReq({ sessionKey: 's2', clientGuid: 'client-b', dhnc: { persistentId: batch.persistentId! } }))
  t.equal(back.status, NT_STATUS.SUCCESS, 'DHnC from another ClientGuid (an oplock open) reconnects')
  t.equal(back.persistentId, batch.persistentId)
  t.equal(table.recordOf(back.persistentId!)?.oplockLevel, 0x09, 'with its batch oplock')
  t.equal(table.positionOf(batch.persistentId!), '0')
  table.setPosition(batch.persistentId!, 0x1000n)
  t.equal(table.positionOf(batch.persistentId!), '4096', 'the owner keeps the byte offset for the next reconnect (durable-open.file-position)')
})

t.test("a persistent open's record keeps the CurrentByteOffset SET_INFO set, and the next owner restores it", async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0, persistent: true } }))
  const id = open.persistentId!
  t.same(table.setPosition(id, 0x2000n), [], 'the offset a READ or WRITE leaves is not written')
  t.equal(table.recordOf(id)?.position, undefined)
  const effects = table.setPosition(id, 0x1000n, true)
  t.same(effects.map((e) => e.kind), ['persist'], 'the offset SET_INFO sets is written to the record')
  t.equal(table.recordOf(id)?.position, '4096')
  t.same(table.setPosition(id, 0x1000n, true), [], 'the same offset again writes nothing')
  const durable = table.create(createReq({ path: 'other.bin', dh2q: { createGuid: 'g2', timeoutMs: 0, persistent: false } }))
  t.same(table.setPosition(durable.persistentId!, 0x1000n, true), [], 'a durable (not persistent) open has no record to write')
  const next = new HandleTable('csv-1')
  next.load([table.recordOf(id)!], 0)
  t.equal(next.positionOf(id), '4096', 'the owner that loads the record answers with that offset')
  t.same(table.setPosition(id, 0n, true).map((e) => e.kind), ['persist'])
  t.equal(table.recordOf(id)?.position, undefined, 'an offset set back to 0 leaves the record without one')
})

t.test('DH2C of a durable oplock open from another ClientGuid reconnects; an IOCTL is checked against the ChannelSequence', async (t) => {
  const table = new HandleTable('csv-1')
  const open = table.create(createReq({ dh2q: { createGuid: 'g1', timeoutMs: 0xffffffff, persistent: false } }))
  table.setOplock(open.persistentId!, 0x09)
  t.equal(table.keepDurable(open.persistentId!, true), true)
  t.equal(open.timeoutMs, 300_000, 'UINT32_MAX is capped at 300 s')
  t.equal(table.beginIo(io({ persistentId: open.persistentId!, kind: 'ioctl', channelSequence: 0x8000 })).status, NT_STATUS.FILE_NOT_AVAILABLE, 'a stale ChannelSequence on an IOCTL')
  table.disconnectSession('s1', 0)
  const back = table.create(createReq({ sessionKey: 's2', clientGuid: 'client-b', dh2c: { persistentId: open.persistentId!, createGuid: 'g1', persistent: false } }))
  t.equal(back.status, NT_STATUS.SUCCESS, '"for oplocks, the client guid can be different" (smbtorture durable-v2-open.reopen1a)')
})

t.test('a leased durable open comes back only with its lease, from its client, for its file (smbtorture durable-open.reopen2-lease, reopen1a-lease)', async (t) => {
  const table = new HandleTable('csv-1')
  const key = 'aa'.repeat(16)
  const leased = table.create(createReq({ path: 'dir/Leased.dat', dh2q: { createGuid: 'g-l', timeoutMs: 0, persistent: false } }))
  table.setOplock(leased.persistentId!, 0xff, { key, version: 1 })
  t.equal(table.keepDurable(leased.persistentId!, true), true, 'durable with a handle-caching lease')
  const oplocked = table.create(createReq({ path: 'plain.dat', dhnq: true }))
  table.setOplock(oplocked.persistentId!, 0x09)
  t.equal(table.keepDurable(oplocked.persistentId!, true), true)
  table.disconnectSession('s1', 1000)
  const dhnc = (over: Partial<CreateRequest>) => table.create(createReq({ sessionKey: 's2', path: 'dir/Leased.dat', dhnc: { persistentId: leased.persistentId! }, ...over })).status
  const dh2c = (over: Partial<CreateRequest>) => table.create(createReq({ sessionKey: 's2', path: 'dir/Leased.dat', dh2c: { persistentId: leased.persistentId!, createGuid: 'g-l', persistent: false }, ...over })).status
  t.equal(dhnc({}), NT_STATUS.OBJECT_NAME_NOT_FOUND, 'DHnC without the lease context')
  t.equal(dh2c({ path: '' }), NT_STATUS.OBJECT_NAME_NOT_FOUND, 'DH2C without the lease context, whatever the name')
  t.equal(dhnc({ reconnectLeaseKey: 'ab'.repeat(16) }), NT_STATUS.OBJECT_NAME_NOT_FOUND, 'another lease key')
  t.equal(dhnc({ reconnectLeaseKey: key, clientGuid: 'client-b' }), NT_STATUS.OBJECT_NAME_NOT_FOUND, "the lease key from another client names another lease")
  t.equal(dh2c({ reconnectLeaseKey: key, path: 'other.dat' }), NT_STATUS.INVALID_PARAMETER, 'the lease but the name of another file')
  t.equal(table.create(createReq({ sessionKey: 's2', path: 'plain.dat', dhnc: { persistentId: oplocked.persistentId! }, reconnectLeaseKey: key })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'a lease asked of an oplock open')
  const back = table.create(createReq({ sessionKey: 's2', path: 'DIR/leased.dat', dhnc: { persistentId: leased.persistentId! }, reconnectLeaseKey: key }))
  t.equal(back.status, NT_STATUS.SUCCESS, 'its lease key and its name (in any case) reconnect it')
  t.equal(back.persistentId, leased.persistentId)
})

t.test('DH2C with the nil CreateGuid takes back a durable v1 open, and no other (smbtorture durable-open.reopen2-lease)', async (t) => {
  const table = new HandleTable('csv-1')
  const v1 = table.create(createReq({ path: 'v1.dat', dhnq: true }))
  table.setOplock(v1.persistentId!, 0x09)
  t.equal(table.keepDurable(v1.persistentId!, true), true)
  const v2 = table.create(createReq({ path: 'v2.dat', dh2q: { createGuid: 'c0ffee00-0000-0000-0000-000000000001', timeoutMs: 0, persistent: false } }))
  table.setOplock(v2.persistentId!, 0x09)
  t.equal(table.keepDurable(v2.persistentId!, true), true)
  table.disconnectSession('s1', 1000)
  const nil = '00000000-0000-0000-0000-000000000000'
  t.equal(table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: v2.persistentId!, createGuid: nil, persistent: false } })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, "not a v2 open: its CreateGuid is not nil")
  t.equal(table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: v1.persistentId!, createGuid: 'c0ffee00-0000-0000-0000-000000000002', persistent: false } })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND, 'a v1 open with a CreateGuid')
  t.equal(table.create(createReq({ sessionKey: 's2', dh2c: { persistentId: v1.persistentId!, createGuid: nil, persistent: false } })).status, NT_STATUS.SUCCESS)
})

t.test('an oplock break on a preserved open closes a durable one and keeps a persistent one', async (t) => {
  const table = new HandleTable('csv-1')
  const durable = table.create(createReq({ path: 'a', dhnq: true }))
  const persistent = table.create(createReq({ path: 'b', dh2q: { createGuid: 'g-b', timeoutMs: 0, persistent: true } }))
  for (const o of [durable, persistent]) table.setOplock(o.persistentId!, 0x09)
  t.equal(table.breakPreserved(durable.persistentId!).closed, false, 'an attached open is not closed by a break')
  table.disconnectSession('s1', 0)
  t.equal(table.breakPreserved(durable.persistentId!).closed, true, 'durable-open.oplock: nobody can acknowledge, the open goes')
  t.equal(table.recordOf(durable.persistentId!), null)
  t.equal(table.breakPreserved(persistent.persistentId!).closed, false, 'a persistent open stays')
  t.not(table.recordOf(persistent.persistentId!), null)
})

t.test('bad input: foreign or closed handles, read-only opens, paths', async (t) => {
  const table = new HandleTable('csv-1')
  const ro = table.create(createReq({ desiredAccess: ACCESS.GENERIC_READ, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE }))
  t.equal(table.beginIo(io({ persistentId: ro.persistentId! })).status, NT_STATUS.ACCESS_DENIED, 'write to a read-only open')
  t.equal(table.beginIo(io({ persistentId: ro.persistentId!, sessionKey: 'other' })).status, NT_STATUS.FILE_CLOSED, 'a foreign handle')
  t.equal(table.close('s1', ro.persistentId!, '').status, NT_STATUS.SUCCESS)
  t.equal(table.beginIo(io({ persistentId: ro.persistentId!, kind: 'read' })).status, NT_STATUS.FILE_CLOSED, 'a closed handle')
  t.equal(table.create(createReq({ disposition: DISPOSITION.OPEN, fileExists: false })).status, NT_STATUS.OBJECT_NAME_NOT_FOUND)
  t.equal(table.create(createReq({ disposition: DISPOSITION.CREATE, fileExists: true })).status, NT_STATUS.OBJECT_NAME_COLLISION)
  t.equal(table.create(createReq({ disposition: 9 })).status, NT_STATUS.INVALID_PARAMETER)
  t.same(normaliseSharePath('a/../b'), { ok: false, status: NT_STATUS.OBJECT_PATH_SYNTAX_BAD })
  t.same(normaliseSharePath('\\abs'), { ok: false, status: NT_STATUS.INVALID_PARAMETER })
  t.same(normaliseSharePath('bad\u0000name'), { ok: false, status: NT_STATUS.OBJECT_NAME_INVALID })
  t.same(normaliseSharePath('vm\\disk.vhdx'), { ok: true, path: 'vm/disk.vhdx' })
})

// ---- the property test ----

type Op =
  | { op: 'create'; client: 0 | 1; guid: number; persistent: boolean }
  | { op: 'write'; pick: number; seqBump: number }
  | { op: 'replay'; pick: number }
  | { op: 'disconnect'; client: 0 | 1 }
  | { op: 'reconnect'; client: 0 | 1; pick: number; guid: number }
  | { op: 'failover' }
  | { op: 'advance'; ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), client: fc.constantFrom(0 as const, 1 as const), guid: fc.nat(3), persistent: fc.boolean() }),
  fc.record({ op: fc.constant('write' as const), pick: fc.nat(7), seqBump: fc.constantFrom(0, 0, 1, 0x9000) }),
  fc.record({ op: fc.constant('replay' as const), pick: fc.nat(15) }),
  fc.record({ op: fc.constant('disconnect' as const), client: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ op: fc.constant('reconnect' as const), client: fc.constantFrom(0 as const, 1 as const), pick: fc.nat(7), guid: fc.nat(3) }),
  fc.constant({ op: 'failover' as const }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 30_000, 61_000) }),
)

interface Granted {
  client: 0 | 1
  persistentId: string
  createGuid: string
  persistent: boolean
}

t.test('random create/write/replay/disconnect/reconnect/failover/expire keep the invariants', async (t) => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      let table = new HandleTable('csv-1')
      let nowMs = 0
      let n = 0
      const disk = new Map<string, OpenRecord>()
      // `${messageId}@${owner}` -> times applied. A replay is recognised by the owner that applied
      // the write; the applied-write memory is not persisted (on the wire a replay after a
      // failover comes with a new MessageId anyway), so a new owner may apply it again: the same
      // bytes at the same offset, as Windows does, which does not deduplicate WRITEs.
      const storage = new Map<string, number>()
      let owner = 0
      const acked = new Set<string>()
      const sent: Array<{ req: IoRequest; client: 0 | 1 }> = []
      const granted: Granted[] = []
      const session = ['a1', 'b1']
      const clientGuid = ['client-a', 'client-b']
      const seq = [0, 0]
      const applyEffects = (effects: readonly HandleEffect[]) => {
        for (const e of effects) {
          if (e.kind === 'persist') disk.set(e.record.persistentId, e.record)
          if (e.kind === 'forget') disk.delete(e.persistentId)
        }
      }
      const doWrite = (req: IoRequest) => {
        const d = table.beginIo(req)
        if (d.proceed) {
          const key = `${req.messageId}@${owner}`
          storage.set(key, (storage.get(key) ?? 0) + 1)
          applyEffects(table.completeIo(req, true))
        }
        if (d.status === NT_STATUS.SUCCESS) acked.add(req.messageId)
      }
      for (const o of ops) {
        switch (o.op) {
          case 'create': {
            n++
            const r = table.create(
              createReq({
                sessionKey: session[o.client],
                clientGuid: clientGuid[o.client],
                user: clientGuid[o.client],
                shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE,
                path: `f${o.guid % 2}`,
                dh2q: { createGuid: `${o.client}-g${o.guid}`, timeoutMs: 60_000, persistent: o.persistent },
                newPersistentId: `p${n}`,
                newVolatileId: `v${n}`,
              }),
            )
            applyEffects(r.effects)
            if (r.status === NT_STATUS.SUCCESS && !r.existing) {
              granted.push({ client: o.client, persistentId: r.persistentId!, createGuid: `${o.client}-g${o.guid}`, persistent: r.persistent! })
            }
            break
          }
          case 'write': {
            const g = granted[o.pick % Math.max(1, granted.length)]
            if (!g) break
            seq[g.client] = (seq[g.client] + o.seqBump) & 0xffff
            const req = io({ sessionKey: session[g.client], persistentId: g.persistentId, channelSequence: seq[g.client] })
            sent.push({ req, client: g.client })
            doWrite(req)
            break
          }
          case 'replay': {
            const s = sent[o.pick % Math.max(1, sent.length)]
            if (!s) break
            doWrite({ ...s.req, sessionKey: session[s.client], replay: true, channelSequence: seq[s.client] })
            break
          }
          case 'disconnect':
            applyEffects(table.disconnectSession(session[o.client], nowMs))
            session[o.client] = `${session[o.client]}'`
            seq[o.client] = (seq[o.client] + 1) & 0xffff
            break
          case 'reconnect': {
            const g = granted.filter((x) => x.client === o.client)[o.pick % Math.max(1, granted.length)]
            if (!g) break
            n++
            const r = table.create(
              createReq({
                sessionKey: session[o.client],
                clientGuid: clientGuid[o.client],
                user: clientGuid[o.client],
                dh2c: { persistentId: g.persistentId, createGuid: o.guid === 0 ? 'wrong' : g.createGuid, persistent: g.persistent },
                newVolatileId: `v${n}`,
              }),
            )
            // Invariant 5: nobody reclaims with a wrong CreateGuid.
            if (o.guid === 0 && r.status === NT_STATUS.SUCCESS) throw new Error('reclaimed with a wrong CreateGuid')
            break
          }
          case 'failover': {
            // The owner dies: memory is gone, the CSV's handle records remain.
            const before = [...disk.values()]
            owner++
            table = new HandleTable('csv-1')
            applyEffects(table.load(before, nowMs))
            for (const s of [0, 1] as const) {
              session[s] = `${session[s]}+`
              seq[s] = (seq[s] + 1) & 0xffff
            }
            // Invariant 5: each persistent open can be reclaimed by its owner right after
            // failover, and not by the other client.
            for (const rec of before) {
              const other = rec.clientGuid === 'client-a' ? 1 : 0
              const stolen = table.create(
                createReq({
                  sessionKey: session[other],
                  clientGuid: clientGuid[other],
                  user: clientGuid[other],
                  dh2c: { persistentId: rec.persistentId, createGuid: rec.createGuid, persistent: true },
                  newVolatileId: 'x',
                }),
              )
              if (stolen.status === NT_STATUS.SUCCESS) throw new Error('another client stole a persistent handle')
            }
            break
          }
          case 'advance':
            nowMs += o.ms
            applyEffects(table.scavenge(nowMs))
            break
        }
        // Invariant 4: no write was applied twice by one owner; invariant 3: every acked write is on storage.
        for (const [id, times] of storage) if (times > 1) throw new Error(`write ${id} applied ${times} times`)
        const applied = new Set([...storage.keys()].map((k) => k.slice(0, k.lastIndexOf('@'))))
        for (const id of acked) if (!applied.has(id)) throw new Error(`acknowledged write ${id} is not on storage`)
      }
    }),
    { numRuns: 1500 },
  )
  t.pass('1500 random sequences kept invariants 3, 4 and 5')
})
