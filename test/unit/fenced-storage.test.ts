// A node's side of the array's reservations (server/smb/fenced-storage.ts) against the real
// array server over a unix socket: a node that takes a CSV back while its watch after handing
// the CSV over is about to register again ends up registered once and holding the reservation
// (found by bench:failover, 2026-12-06: both registered a fresh key at once, the array kept the
// watch's, and the take-over's RESERVE and PREEMPT under the other key were refused for good:
// the node owned the CSV and answered STATUS_FILE_NOT_AVAILABLE for minutes).
import t, { type Test } from 'tap'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { StorageArrayClient } from '../../runtime/storage-array-client.js'
import { StorageArrayServer } from '../../cluster/storage-array/storage-array-server.js'
import { FencedStorage } from '../../server/smb/fenced-storage.js'

const LUN = 'csv-1'

/** A client whose REGISTERs take `registerDelayMs` to reach the array: the window of the race, made wide. */
function slowRegisters(client: StorageArrayClient, registerDelayMs: number): StorageArrayClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'request') return Reflect.get(target, prop, receiver)
      return async (req: Parameters<StorageArrayClient['request']>[0]) => {
        if (req.op === 'register') await new Promise((r) => setTimeout(r, registerDelayMs))
        return target.request(req)
      }
    },
  })
}

async function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-fenced-'))
  mkdirSync(join(dir, 'storage', LUN), { recursive: true })
  const server = new StorageArrayServer({ storageDir: join(dir, 'storage'), luns: [LUN], socketPath: join(dir, 'array.sock'), log: pino({ level: 'silent' }) })
  await server.listen()
  const clients = [new StorageArrayClient(join(dir, 'array.sock'), 'node-1'), new StorageArrayClient(join(dir, 'array.sock'), 'node-2')]
  t.teardown(async () => {
    for (const c of clients) c.close()
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const log = pino({ level: 'silent' })
  const node1 = new FencedStorage(clients[0], [LUN], 0, log, () => true)
  const node2 = new FencedStorage(slowRegisters(clients[1], 20), [LUN], 1, log, () => true)
  await Promise.all([node1.register('start'), node2.register('start')])
  return { node1, node2, array: clients[0] }
}

t.test('a CSV taken back while the hand-over watch registers again: one registration, the reservation held', async (t) => {
  // The watch polls every 100 ms; the take-over starts at offsets around its first poll, so
  // that the two registrations overlap (each REGISTER takes 20 ms here).
  for (const offsetMs of [80, 90, 95, 100, 105]) {
    const { node1, node2, array } = await setup(t)
    await node2.takeOver(LUN, [])
    // A planned move to node-1: node-2 watches for node-1's PREEMPT of its registration.
    const watch = node2.handedOver(LUN)
    await node1.takeOver(LUN, [])
    // ... and the CSV moves straight back to node-2, around the watch's first look.
    await new Promise((r) => setTimeout(r, offsetMs))
    const key = await node2.takeOver(LUN, [])
    await watch
    const keys = await array.request({ op: 'read-keys', lun: LUN })
    const res = await array.request({ op: 'read-reservation', lun: LUN })
    t.same(res.body.kind === 'reservation' ? res.body.holder : null, { initiator: 'node-2', key }, `offset ${offsetMs} ms: node-2 holds the reservation under the key it returned`)
    const mine = keys.body.kind === 'keys' ? keys.body.registrations.filter((k) => k.initiator === 'node-2') : []
    t.same(mine, [{ initiator: 'node-2', key }], `offset ${offsetMs} ms: that key is node-2's registration`)
    t.equal(node2.keyOf(LUN), key, 'and the key its writes carry')
  }
})
