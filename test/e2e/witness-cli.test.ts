// The witness service end to end through the CLI and the client library: `witness list`,
// `client-move`, `force-unregister`, `force-response`, `conformance witness --target`, and a
// client that loses its witness node registering with another.
import t from 'tap'
import { WitnessClient } from '../../client/witness-client.js'
import { MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { swlab, upCluster } from '../helpers/cluster-fixture.js'

t.test('witness admin commands, conformance CLI, re-registration after a witness node dies', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const creds = cluster.credentials()!
  const endpoint = (id: string) => `${cluster.nodeConfig(id).clientAddress}:${cluster.nodeConfig(id).witnessPort}`
  const client = new WitnessClient(endpoint('node-2'), creds.users[0])
  t.teardown(() => client.close())
  const dataIp = cluster.nodeConfig('node-1').clientAddress
  const reg = await client.registerEx({ netName: 'SOFS', ipAddress: dataIp, clientComputerName: 'host-a', shareName: 'share-1', keepAliveTimeoutS: 60 })
  t.equal(reg.result.code, WIN_ERROR.SUCCESS)

  const list = swlab(['witness', 'list', '--dir', cluster.dir, '--json'])
  t.equal(list.code, 0, list.stderr)
  const regs = JSON.parse(list.stdout)
  t.equal(regs.length, 1)
  t.match(regs[0], { registrationId: reg.key, node: 'node-2', netName: 'SOFS', shareName: 'share-1', ipAddress: dataIp, clientComputerName: 'host-a', principal: 'alice' })
  t.equal(JSON.parse(swlab(['cluster', 'status', '--dir', cluster.dir, '--json']).stdout).witnessRegistrations, 1, 'status counts it')

  // client-move through the CLI: CLIENT_MOVE with the destination's IP.
  const moved = client.asyncNotify(reg.key, 10_000)
  const move = swlab(['witness', 'client-move', '--dir', cluster.dir, '--witness-client-computer-name', '^host-a$', '--witness-new-node', 'node-3', '--json'])
  t.equal(move.code, 0, move.stderr)
  t.same(JSON.parse(move.stdout), { action: 'client-move', affected: 1 })
  const n = await moved
  t.equal(n.messageType, MESSAGE_TYPE.CLIENT_MOVE)
  t.same(n.ipAddresses.map((a) => a.ipv4), [cluster.nodeConfig('node-3').clientAddress])

  // force-response in Samba's JSON shape.
  const forced = client.asyncNotify(reg.key, 10_000)
  const fr = swlab([
    'witness', 'force-response', '--dir', cluster.dir, '--witness-registration', reg.key,
    '--witness-forced-response', '{"result":0,"response":{"type":1,"messages":[{"type":255,"name":"x"}]}}',
  ])
  t.equal(fr.code, 0, fr.stderr)
  const f = await forced
  t.same(f.resourceChanges, [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'x' }])

  // Bad admin input: one line, non-zero.
  const bad = swlab(['witness', 'client-move', '--dir', cluster.dir, '--witness-new-node', 'node-3'])
  t.not(bad.code, 0)
  t.match(bad.stderr.trim(), /^swlab: error: give filters or --witness-apply-to-all$/)
  const badRegex = swlab(['witness', 'list', '--dir', cluster.dir, '--witness-net-name', '(('])
  t.match(badRegex.stderr.trim(), /^swlab: error: bad regex/)

  // force-unregister: the pending AsyncNotify gets NOT_FOUND.
  const gone = client.asyncNotify(reg.key, 10_000)
  t.equal(swlab(['witness', 'force-unregister', '--dir', cluster.dir, '--witness-apply-to-all']).code, 0)
  t.equal((await gone).result.code, WIN_ERROR.NOT_FOUND)

  // The conformance CLI against node-3, without hooks (read-only cases).
  const conf = swlab(['conformance', 'witness', '--target', endpoint('node-3'), '--dir', cluster.dir, '--keep-alive', '1', '--only', '^(BVT_SWN_Check|SWNRegistration_|WitnessrRegisterEx_SWNAsyncNotification_Timeout)', '--json'])
  t.equal(conf.code, 0, conf.stderr)
  const cases = JSON.parse(conf.stdout) as Array<{ name: string; result: string }>
  t.ok(cases.length >= 5, `${cases.length} cases`)
  t.ok(cases.every((c) => c.result === 'pass'), JSON.stringify(cases.filter((c) => c.result !== 'pass')))

  // The witness node dies: its registrations die with it; the client registers elsewhere.
  const again = await client.register({ netName: 'SOFS', ipAddress: dataIp, clientComputerName: 'host-a' })
  const pending = client.asyncNotify(again.key, 20_000)
  cluster.kill('node-2')
  await t.rejects(pending, 'the AsyncNotify on the killed witness node fails')
  const other = new WitnessClient(endpoint('node-3'), creds.users[0])
  t.teardown(() => other.close())
  const list3 = await other.getInterfaceList()
  const available = list3.interfaces.filter((i) => i.state === 1 && (i.flags & 4) !== 0).map((i) => i.ipv4)
  t.ok(available.includes(cluster.nodeConfig('node-1').clientAddress), 'node-1 is still an AVAILABLE witness interface')
  const reg3 = await other.register({ netName: 'SOFS', ipAddress: dataIp, clientComputerName: 'host-a' })
  t.equal(reg3.result.code, WIN_ERROR.SUCCESS, 'registered with another node')
  const regsAfter = JSON.parse(swlab(['witness', 'list', '--dir', cluster.dir, '--json']).stdout)
  t.same(regsAfter.map((r: { node: string }) => r.node), ['node-3'], 'only the new registration exists')
})
