// The witness on DCE/RPC with our own client, on a real cluster: a response fragmented to a
// small max_recv_frag and reassembled, several calls in flight on one connection (an
// AsyncNotify waits while GetInterfaceList and Register go on), the AsyncNotify answered with
// RESOURCE_CHANGE when the registered node is killed, and a registration made on DCE/RPC seen
// by the admin list of the core the gRPC front uses, owned by the authenticated principal. The
// client binds with SPNEGO/NTLMSSP at packet privacy (a cluster user), as Windows does; an
// unauthenticated bind gets ACCESS_DENIED for every witness call.
import t from 'tap'
import { DcerpcWitnessClient, DcerpcClientError } from '../../client/dcerpc-witness-client.js'
import { FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import { MESSAGE_TYPE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { upCluster } from '../helpers/cluster-fixture.js'

t.test('DCE/RPC witness: fragments, concurrent calls, a real notification, one core behind both wires', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.95' })
  const status = await cluster.status()
  const dce = status.nodes[0].dcerpc!
  // 1432 bytes per fragment (C706's minimum): the 3-interface list (~1.7 KB of stub) must come in pieces.
  const alice = cluster.credentials()!.users[0]
  const anonymous = await DcerpcWitnessClient.connect(dce.address, dce.port)
  t.teardown(() => anonymous.close())
  const denied = await anonymous.getInterfaceList().then(
    () => null,
    (err: unknown) => err,
  )
  t.ok(denied instanceof DcerpcClientError && denied.status === FAULT.ACCESS_DENIED, 'an unauthenticated bind gets ACCESS_DENIED')
  const client = await DcerpcWitnessClient.connect(dce.address, dce.port, { maxRecvFrag: 1432, auth: { user: alice.user, password: alice.password, level: 'privacy' } })
  t.teardown(() => client.close())
  const list = await client.getInterfaceList()
  t.equal(list.result, WIN_ERROR.SUCCESS)
  t.equal(list.interfaces?.length, 3, 'three interfaces, reassembled from fragments')

  const target = cluster.nodeConfig('node-2').clientAddress
  const reg = await client.register({ netName: cluster.config.name, ipAddress: target, clientComputerName: 'DCE-CLIENT' })
  t.equal(reg.result, WIN_ERROR.SUCCESS)
  const notify = client.asyncNotify(reg.key, 60_000)
  // The AsyncNotify waits on the server while other calls on the same connection go on.
  const again = await client.getInterfaceList()
  t.equal(again.result, WIN_ERROR.SUCCESS, 'GetInterfaceList answered while AsyncNotify waits')
  const other = await client.register({ netName: cluster.config.name, ipAddress: target, clientComputerName: 'DCE-OTHER' })
  t.equal(other.result, WIN_ERROR.SUCCESS, 'so is a Register')

  // The core behind the gRPC front holds what DCE/RPC registered.
  const listed = await cluster.admin('node-1').witnessList({})
  t.ok(listed.registrations.some((r) => r.registrationId === reg.key && r.clientComputerName === 'DCE-CLIENT'), 'the registration shows in the admin list')
  t.equal(listed.registrations.find((r) => r.registrationId === reg.key)?.principal, alice.user, 'owned by the authenticated principal')

  cluster.kill('node-2')
  const n = await notify
  t.equal(n.result, WIN_ERROR.SUCCESS)
  t.equal(n.notify?.messageType, MESSAGE_TYPE.RESOURCE_CHANGE, 'AsyncNotify returns RESOURCE_CHANGE')
  t.equal(n.notify?.resourceChanges?.[0]?.changeType, 0xff, 'UNAVAILABLE')
  t.equal((await client.unRegister(reg.key)).result, WIN_ERROR.SUCCESS)
  t.equal((await client.unRegister(reg.key)).result, WIN_ERROR.INVALID_PARAMETER, 'a second UnRegister of the same handle')
  t.equal((await client.unRegister(other.key)).result, WIN_ERROR.SUCCESS)
})
