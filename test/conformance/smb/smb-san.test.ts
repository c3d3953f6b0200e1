// SAN mode: data IO goes direct from the node a client uses to the shared storage, while the
// CSV's owner keeps the handles; with a per-node bandwidth cap, three writers on one CSV are
// no longer held to the owner's cap. Redirected access sends all IO via the owner again.
// Persistent handles still survive the owner's death.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NT_STATUS, SmbClient } from '../../../client/smb-client.js'
import { readLog, upCluster } from '../../helpers/cluster-fixture.js'

t.test('SAN mode: direct data IO, redirected access, failover', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, csvMode: 'san' })
  const s = await cluster.status()
  t.equal(s.csvMode, 'san')
  const owner = s.csvs.find((c) => c.name === 'csv-1')!.owner
  const front = s.nodes.find((n) => n.id !== owner)!.id
  const n = cluster.nodeConfig(front)
  const c = new SmbClient(`${n.clientAddress}:${n.smbPort}`)
  t.teardown(() => c.closeTransport())
  await c.connect(cluster.credentials()!.users[0], '\\\\SOFS\\share-1')
  const open = await c.create('san/direct.bin', { durable: { persistent: true } })
  t.equal(open.status.code, NT_STATUS.SUCCESS)
  const data = Buffer.from('written directly by a non-owner node\n'.repeat(50))
  const w = await c.write(open.fileId, 0, data)
  t.equal(w.status.code, NT_STATUS.SUCCESS)
  t.same((await c.read(open.fileId, 0, data.length)).data, data, 'read back')
  t.same(readFileSync(join(cluster.dir, 'storage', 'csv-1', 'share-1', 'san', 'direct.bin')), data, 'on the shared storage')
  c.channelSequence = 0
  t.equal((await c.write(open.fileId, 0, data, { replay: true, messageId: w.messageId })).status.code, NT_STATUS.SUCCESS, 'a replay is answered without applying twice')

  // Redirected access: the same calls work, now through the owner.
  await cluster.setCsvRedirected('csv-1', true)
  t.equal((await cluster.status()).csvs.find((x) => x.name === 'csv-1')?.redirected, true, 'status shows it')
  const more = Buffer.from('while redirected')
  t.equal((await c.write(open.fileId, data.length, more)).status.code, NT_STATUS.SUCCESS)
  t.same((await c.read(open.fileId, data.length, more.length)).data, more)
  t.ok(readLog(cluster.dir, front).some((l) => l.event === 'csv.redirected'), 'the front logged the redirection')
  await cluster.setCsvRedirected('csv-1', false)

  // The owner dies: the persistent handle is reclaimed through the same front.
  cluster.kill(owner)
  await cluster.waitFor((st) => st.csvs.some((x) => x.name === 'csv-1' && x.servedBy.length === 1 && x.servedBy[0] !== owner), 10_000)
  const b = new SmbClient(`${n.clientAddress}:${n.smbPort}`, c.clientGuid)
  t.teardown(() => b.closeTransport())
  await b.connect(cluster.credentials()!.users[0], '\\\\SOFS\\share-1', c.sessionId)
  const again = await b.create('san/direct.bin', { reconnect: { fileId: open.fileId, createGuid: open.createGuid, persistent: true } })
  t.equal(again.status.code, NT_STATUS.SUCCESS, 'reclaimed after the owner died')
  t.same((await b.read(again.fileId, 0, data.length + more.length)).data, Buffer.concat([data, more]))
})
