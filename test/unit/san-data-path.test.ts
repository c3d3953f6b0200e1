// SAN mode's data path on the wire front (server/smb2/san-data-path.ts) against a fake owner and
// a fake storage: the owner is asked first and told after, a replay it already applied is not
// written again, a refusal writes nothing, and a node that lost its lease writes nothing either.
import t from 'tap'
import { sanRead, sanWrite, type SanDataPath } from '../../server/smb2/san-data-path.js'
import type { HandleOp, HandleOpReply } from '../../server/smb/csv-service.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

const fileId = { persistent: '00000000000000a1', volatile: '00000000000000b2' }

function fixture(begin: HandleOpReply, serving = true) {
  const ops: HandleOp[] = []
  const written: Array<{ path: string; offset: number; data: Buffer }> = []
  const san: SanDataPath = {
    isDirect: () => true,
    isServing: () => serving,
    io: {
      read: async (_csv, _share, path, _id, offset, length) => (path === 'empty.bin' ? 'end-of-file' : Buffer.alloc(length, offset)),
      write: async (_csv, _share, path, _id, offset, data) => {
        written.push({ path, offset, data })
        return data.length
      },
    },
  }
  const run = async (_csv: string, op: HandleOp): Promise<HandleOpReply> => {
    ops.push(op)
    return op.op === 'begin-io' ? begin : { status: NT_STATUS.SUCCESS }
  }
  return { san, run, ops, written }
}

const write = { csv: 'csv-1', sessionKey: 's', fileId, offset: 7, data: Buffer.from('abc'), channelSequence: 3, replay: false, messageId: '42' }

t.test('a direct write: begin-io at the owner, the bytes to storage here, complete-io after', async (t) => {
  const f = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'a/b.bin' })
  t.same(await sanWrite(f.san, f.run, write), { status: NT_STATUS.SUCCESS, count: 3 })
  t.same(f.written, [{ path: 'a/b.bin', offset: 7, data: Buffer.from('abc') }])
  t.same(f.ops.map((o) => o.op), ['begin-io', 'complete-io'])
  t.match(f.ops[0], { kind: 'write', channelSequence: 3, messageId: '42', replay: false })
  t.match(f.ops[1], { applied: true, offset: 7, length: 3 }, 'the owner learns what changed (CBT)')
})

t.test('a replay the owner already applied is answered, not written', async (t) => {
  const f = fixture({ status: NT_STATUS.SUCCESS, proceed: false, alreadyApplied: true })
  t.same(await sanWrite(f.san, f.run, { ...write, replay: true }), { status: NT_STATUS.SUCCESS, count: 3 })
  t.same(f.written, [])
  t.same(f.ops.map((o) => o.op), ['begin-io'])
})

t.test('a refused write (stale ChannelSequence) writes nothing and gives the owner\'s status', async (t) => {
  const f = fixture({ status: NT_STATUS.FILE_NOT_AVAILABLE, proceed: false })
  t.same(await sanWrite(f.san, f.run, write), { status: NT_STATUS.FILE_NOT_AVAILABLE })
  t.same(f.written, [])
})

t.test('a node that lost its lease during begin-io writes nothing and tells the owner', async (t) => {
  const f = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'a/b.bin' }, false)
  t.equal(await sanWrite(f.san, f.run, write), 'unavailable')
  t.same(f.written, [])
  t.match(f.ops[1], { op: 'complete-io', applied: false, length: 0 })
})

t.test('a direct read: the owner checks the handle, the bytes come from storage', async (t) => {
  const f = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'a/b.bin' })
  t.same(await sanRead(f.san, f.run, { csv: 'csv-1', sessionKey: 's', fileId, offset: 5, length: 4 }), { status: NT_STATUS.SUCCESS, data: Buffer.alloc(4, 5) })
  t.match(f.ops, [{ op: 'begin-io', kind: 'read' }])
  const eof = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'empty.bin' })
  t.same(await sanRead(eof.san, eof.run, { csv: 'csv-1', sessionKey: 's', fileId, offset: 0, length: 4 }), { status: NT_STATUS.END_OF_FILE })
  const denied = fixture({ status: NT_STATUS.ACCESS_DENIED, proceed: false })
  t.same(await sanRead(denied.san, denied.run, { csv: 'csv-1', sessionKey: 's', fileId, offset: 0, length: 4 }), { status: NT_STATUS.ACCESS_DENIED })
})

t.test('a direct write the volume refuses: the client gets the status, the owner hears it was not applied', async (t) => {
  for (const [code, status] of [['ENOSPC', NT_STATUS.DISK_FULL], ['EROFS', NT_STATUS.MEDIA_WRITE_PROTECTED]] as const) {
    const f = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'a/b.bin' })
    f.san.io.write = async () => {
      throw Object.assign(new Error(`${code}: refused`), { code })
    }
    t.same(await sanWrite(f.san, f.run, write), { status }, code)
    t.match(f.ops[1], { op: 'complete-io', applied: false, length: 0 })
  }
  const other = fixture({ status: NT_STATUS.SUCCESS, proceed: true, share: 'share-1', path: 'a/b.bin' })
  other.san.io.write = async () => {
    throw Object.assign(new Error('EBADF'), { code: 'EBADF' })
  }
  await t.rejects(sanWrite(other.san, other.run, write), /EBADF/, 'an error that is no storage fault is not hidden')
  t.match(other.ops[1], { op: 'complete-io', applied: false })
})
