// SAN mode on the wire (client/smb2): data IO goes direct from the node a client uses to the
// shared storage, while the CSV's owner keeps the handles; redirected access sends all IO via
// the owner again. Persistent handles still survive the owner's death.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Smb2Client } from '../../../client/smb2/smb2-client.js'
import { Smb2TransportError, unwrapSmb2 } from '../../../client/smb2/smb2-result.js'
import { ACCESS, DISPOSITION } from '../../../protocol/smb2/constants.js'
import { readLog, upCluster } from '../../helpers/cluster-fixture.js'

const READ_WRITE = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

t.test('SAN mode: direct data IO, redirected access, failover', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, csvMode: 'san' })
  const s = await cluster.status()
  t.equal(s.csvMode, 'san')
  const owner = s.csvs.find((c) => c.name === 'csv-1')!.owner
  const front = s.nodes.find((n) => n.id !== owner)!.id
  const n = cluster.nodeConfig(front)
  const user = cluster.credentials()!.users[0]
  const target = { host: n.clientAddress, port: n.smb2Port!, user: user.user, password: user.password }
  const c = unwrapSmb2(await Smb2Client.connect(target))
  t.teardown(() => c.close())
  const tree = unwrapSmb2(await c.treeConnect('share-1', 'SOFS'))
  unwrapSmb2(await tree.ensureDirectory('san'))
  const open = unwrapSmb2(await tree.create('san/direct.bin', { desiredAccess: READ_WRITE, disposition: DISPOSITION.OPEN_IF, durableV2: { persistent: true } }))
  t.same(open.durable?.persistent, true, 'a persistent handle')
  const data = Buffer.from('written directly by a non-owner node\n'.repeat(50))
  t.equal(unwrapSmb2(await tree.write(open.fileId, 0, data, { channelSequence: 0 })), data.length)
  t.same(unwrapSmb2(await tree.read(open.fileId, 0, data.length)), data, 'read back')
  t.same(readFileSync(join(cluster.dir, 'storage', 'csv-1', 'share-1', 'san', 'direct.bin')), data, 'on the shared storage')
  // A replay (REPLAY_OPERATION, a new MessageId) is checked by the owner and answered.
  t.equal(unwrapSmb2(await tree.write(open.fileId, 0, data, { replay: true, channelSequence: 0 })), data.length, 'a replay is answered')

  // Redirected access: the same calls work, now through the owner.
  await cluster.setCsvRedirected('csv-1', true)
  t.equal((await cluster.status()).csvs.find((x) => x.name === 'csv-1')?.redirected, true, 'status shows it')
  const more = Buffer.from('while redirected')
  t.equal(unwrapSmb2(await tree.write(open.fileId, data.length, more)), more.length)
  t.same(unwrapSmb2(await tree.read(open.fileId, data.length, more.length)), more)
  t.ok(readLog(cluster.dir, front).some((l) => l.event === 'csv.redirected'), 'the front logged the redirection')
  await cluster.setCsvRedirected('csv-1', false)

  // The owner dies: the persistent handle is reclaimed through the same front.
  cluster.kill(owner)
  await cluster.waitFor((st) => st.csvs.some((x) => x.name === 'csv-1' && x.servedBy.length === 1 && x.servedBy[0] !== owner), 10_000)
  for (let attempt = 0; ; attempt++) {
    try {
      const b = unwrapSmb2(await Smb2Client.connect({ ...target, clientGuid: c.clientGuid, previousSessionId: c.sessionId }))
      t.teardown(() => b.close())
      const bt = unwrapSmb2(await b.treeConnect('share-1', 'SOFS'))
      const again = unwrapSmb2(await bt.create('san/direct.bin', { reconnectV2: { fileId: open.fileId, createGuid: open.createGuid!, persistent: true }, channelSequence: 1 }))
      t.pass('reclaimed after the owner died')
      t.same(unwrapSmb2(await bt.read(again.fileId, 0, data.length + more.length)), Buffer.concat([data, more]))
      break
    } catch (err) {
      // The CSV may still be moving: the node drops the connection, and the client tries again.
      if (!(err instanceof Smb2TransportError) || attempt > 50) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
})
