// The storage array process's server and the nodes' client over a real unix socket (issue 17
// item 2): registered keys write, a preempted key is refused and the file keeps what the
// registrant wrote, metadata changes go through the same check, pipelined requests are all
// answered, and a request that leaves its LUN never decodes.
import t, { type Test } from 'tap'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ARRAY_STATUS } from '../../protocol/storage-array/array-frame.js'
import { StorageArrayClient } from '../../runtime/storage-array-client.js'
import { StorageArrayServer } from '../../cluster/storage-array/storage-array-server.js'

async function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-array-'))
  mkdirSync(join(dir, 'storage', 'csv-1', 'share-1'), { recursive: true })
  const server = new StorageArrayServer({ storageDir: join(dir, 'storage'), luns: ['csv-1'], socketPath: join(dir, 'array.sock'), log: pino({ level: 'silent' }) })
  await server.listen()
  const a = new StorageArrayClient(join(dir, 'array.sock'), 'node-1')
  const b = new StorageArrayClient(join(dir, 'array.sock'), 'node-2')
  t.teardown(async () => {
    a.close()
    b.close()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { dir, server, a, b, file: join(dir, 'storage', 'csv-1', 'share-1', 'f.bin') }
}

t.test('registrants write; a preempted key is refused and the file keeps what was written', async (t) => {
  const { a, b, file, server } = await setup(t)
  const lun = 'csv-1'
  t.equal((await a.request({ op: 'register', lun, key: 0x11n })).status, ARRAY_STATUS.OK)
  t.equal((await b.request({ op: 'register', lun, key: 0x22n })).status, ARRAY_STATUS.OK)
  t.equal((await a.request({ op: 'reserve', lun, key: 0x11n })).status, ARRAY_STATUS.OK)
  t.equal((await a.request({ op: 'create-file', lun, key: 0x11n, path: 'share-1/f.bin', truncate: false })).status, ARRAY_STATUS.OK)
  const w = await a.request({ op: 'write', lun, key: 0x11n, path: 'share-1/f.bin', offset: 0, data: Buffer.from('owner-1'), sync: true })
  t.same(w.body, { kind: 'count', count: 7 })
  const p = await b.request({ op: 'preempt', lun, key: 0x22n, victimKey: 0x11n })
  t.same(p.body, { kind: 'removed', initiators: ['node-1'] })
  const late = await a.request({ op: 'write', lun, key: 0x11n, path: 'share-1/f.bin', offset: 0, data: Buffer.from('LATE!!!'), sync: true })
  t.equal(late.status, ARRAY_STATUS.RESERVATION_CONFLICT, 'the preempted key is refused')
  const rename = await a.request({ op: 'rename', lun, key: 0x11n, path: 'share-1/f.bin', newPath: 'share-1/g.bin' })
  t.equal(rename.status, ARRAY_STATUS.RESERVATION_CONFLICT, 'so are its metadata changes')
  t.equal(readFileSync(file, 'utf8'), 'owner-1', 'the file is what the registrant wrote')
  const res = await b.request({ op: 'read-reservation', lun })
  t.same(res.body, { kind: 'reservation', generation: 3, holder: { initiator: 'node-2', key: 0x22n }, refusedWrites: 2 })
  t.equal(server.counters.get(lun)?.refusedWrites, 2)
  // The new holder writes, renames and removes; the harness can make it let go of its files.
  t.equal((await b.request({ op: 'write', lun, key: 0x22n, path: 'share-1/f.bin', offset: 0, data: Buffer.from('owner-2'), sync: true })).status, ARRAY_STATUS.OK)
  t.equal((await b.request({ op: 'release-files', lun })).status, ARRAY_STATUS.OK)
  t.equal((await b.request({ op: 'rename', lun, key: 0x22n, path: 'share-1/f.bin', newPath: 'share-1/g.bin' })).status, ARRAY_STATUS.OK)
  t.equal(readFileSync(join(file, '..', 'g.bin'), 'utf8'), 'owner-2')
  t.equal((await b.request({ op: 'remove', lun, key: 0x22n, path: 'share-1/g.bin', directory: false })).status, ARRAY_STATUS.OK)
  t.notOk(existsSync(join(file, '..', 'g.bin')))
  const missing = await b.request({ op: 'write', lun, key: 0x22n, path: 'share-1/none.bin', offset: 0, data: Buffer.from('x'), sync: false })
  t.equal(missing.status, ARRAY_STATUS.IO_ERROR)
  t.match(missing.body, { kind: 'error', code: 'ENOENT' }, 'a storage error comes back with its errno')
})

t.test('pipelined writes beyond the in-flight bound are all answered, in any order', async (t) => {
  const { a, file } = await setup(t)
  const lun = 'csv-1'
  await a.request({ op: 'register', lun, key: 5n })
  await a.request({ op: 'reserve', lun, key: 5n })
  await a.request({ op: 'create-file', lun, key: 5n, path: 'share-1/f.bin', truncate: false })
  const blocks = 300
  const replies = await Promise.all(Array.from({ length: blocks }, (_, i) => a.request({ op: 'write', lun, key: 5n, path: 'share-1/f.bin', offset: i * 4, data: Buffer.from(String(i % 10000).padStart(4, '0')), sync: false })))
  t.ok(replies.every((r) => r.status === ARRAY_STATUS.OK), `${blocks} writes answered OK`)
  const text = readFileSync(file, 'utf8')
  t.equal(text, Array.from({ length: blocks }, (_, i) => String(i).padStart(4, '0')).join(''))
})

t.test('an unreachable array fails requests with an EIO-like error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-array-none-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const client = new StorageArrayClient(join(dir, 'none.sock'), 'node-1')
  t.teardown(() => client.close())
  await t.rejects(client.request({ op: 'read-keys', lun: 'csv-1' }), { code: 'EIO' })
})
