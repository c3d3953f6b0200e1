// `swlab share create|list` and `swlab smb put|get|ls` on a real cluster, and
// DurableHandleV2_NoPersistenceGrantedOnNonCAShare on the wire (client/smb2) through a share created without CA.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import { unwrapSmb2 } from '../../client/smb2/smb2-result.js'
import { DISPOSITION, SHARE_CAP } from '../../protocol/smb2/constants.js'
import { OPLOCK_LEVEL } from '../../protocol/smb2/create.js'
import { acceptsConnections, freshDir, swlab, upCluster } from '../helpers/cluster-fixture.js'
import { until } from '../helpers/until.js'

t.test('share and smb commands', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const scratch = freshDir(t)
  const local = join(scratch, 'blob.bin')
  const data = randomBytes(2_500_000)
  writeFileSync(local, data)
  const put = swlab(['smb', 'put', local, '//node-2/share-1/dir/blob.bin', '--dir', cluster.dir, '--json'])
  t.equal(put.code, 0, put.stderr)
  t.match(JSON.parse(put.stdout), { bytes: data.length, persistent: true }, 'a CA share gets a persistent handle')
  const back = join(scratch, 'back.bin')
  const get = swlab(['smb', 'get', `//${cluster.nodeConfig('node-3').clientAddress}/share-1/dir/blob.bin`, back, '--dir', cluster.dir])
  t.equal(get.code, 0, get.stderr)
  t.same(readFileSync(back), data, 'the same bytes through another node')
  const ls = JSON.parse(swlab(['smb', 'ls', '//node-1/share-1/dir', '--dir', cluster.dir, '--json']).stdout)
  t.same(ls, [{ name: 'blob.bin', directory: false, endOfFile: data.length }])
  const missing = swlab(['smb', 'get', '//node-1/share-1/nope', back, '--dir', cluster.dir])
  t.not(missing.code, 0)
  t.match(missing.stderr.trim(), /^swlab: error: CREATE nope: STATUS_OBJECT_NAME_NOT_FOUND \(0xC0000034\)$/)
  t.match(swlab(['smb', 'ls', 'share-1', '--dir', cluster.dir]).stderr, /bad path/)
  const noShare = swlab(['smb', 'ls', '//node-1/no-such-share', '--dir', cluster.dir])
  t.not(noShare.code, 0)
  t.match(noShare.stderr.trim(), /^swlab: error: \/\/node-1\/no-such-share: TREE_CONNECT: STATUS_BAD_NETWORK_NAME \(0xC00000CC\)$/, 'one line with the NTSTATUS name')
  const lsRoot = JSON.parse(swlab(['smb', 'ls', '//node-1/share-1', '--dir', cluster.dir, '--json']).stdout) as Array<{ name: string; directory: boolean }>
  t.ok(lsRoot.some((e) => e.name === 'dir' && e.directory), 'the folder put made, listed at the root')

  // A share that is not continuously available, of a general-use role: on a scale-out share a
  // batch oplock is granted as level II (as Windows there), so no handle is durable but a persistent one.
  const created = swlab(['share', 'create', 'plain', '--csv', 'csv-2', '--no-ca', '--role', 'general', '--dir', cluster.dir, '--json'])
  t.equal(created.code, 0, created.stderr)
  const role = (JSON.parse(created.stdout) as { role: { address: string; smb2Port: number } }).role
  const shares = JSON.parse(swlab(['share', 'list', '--dir', cluster.dir, '--json']).stdout) as Array<{ name: string; flags: string[] }>
  t.same(shares.find((s) => s.name === 'plain')?.flags, ['CLUSTER'])
  t.match(swlab(['share', 'create', 'plain', '--dir', cluster.dir]).stderr, /share plain exists/)

  await t.test('DurableHandleV2_NoPersistenceGrantedOnNonCAShare', async (t) => {
    await until('the role address to accept connections', async () => ((await acceptsConnections(role.address, role.smb2Port)) ? true : null))
    const user = cluster.credentials()!.users[0]
    const c = unwrapSmb2(await Smb2Client.connect({ host: role.address, port: role.smb2Port, user: user.user, password: user.password }))
    t.teardown(() => c.close())
    const tree = unwrapSmb2(await c.treeConnect('plain', 'FS-1'))
    t.equal(tree.capabilities & SHARE_CAP.CONTINUOUS_AVAILABILITY, 0, 'no CONTINUOUS_AVAILABILITY')
    // A batch oplock, so that the open may be durable at all (MS-SMB2 3.3.5.9.10).
    const open = unwrapSmb2(await tree.create('f.bin', { disposition: DISPOSITION.OPEN_IF, oplockLevel: OPLOCK_LEVEL.BATCH, durableV2: { persistent: true } }))
    t.ok(open.durable, 'a durable v2 handle is granted')
    t.equal(open.durable?.persistent, false, 'persistence is not')
  })
})
