// The cluster API (MS-CMRP clusapi v3.0) on a real cluster's witness port, sealed: the admin takes
// the SOFS net name offline on node-1 and a registration parked on node-2 hears RESOURCE_CHANGE
// UNAVAILABLE (the change reaches every node), then AVAILABLE when it comes back online; an IP
// address resource offline sends IP_CHANGE with the address flagged OFFLINE. A user may open and
// query but not take resources offline, and nobody gets in below packet privacy.
import t from 'tap'
import { DcerpcClientError, DcerpcWitnessClient } from '../../client/dcerpc-witness-client.js'
import {
  CLUSAPI_ERROR,
  CLUSAPI_INTERFACE,
  CLUSAPI_OPNUM,
  CLUSTER_RESOURCE_STATE,
  encodeHandleRequest,
  encodeOpenResourceRequest,
  encodeResourceControlResponse,
} from '../../protocol/dcerpc/clusapi-ndr.js'
import { NdrReader, type NdrContextHandle } from '../../protocol/dcerpc/ndr-reader.js'
import { FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const CLUSAPI = { uuid: CLUSAPI_INTERFACE.uuid, major: CLUSAPI_INTERFACE.version.major, minor: CLUSAPI_INTERFACE.version.minor }

async function openResource(c: DcerpcWitnessClient, name: string): Promise<{ status: number; handle: NdrContextHandle }> {
  const r = new NdrReader(await c.call(CLUSAPI_OPNUM.OpenResource, encodeOpenResourceRequest(name)))
  const status = r.u32('Status')
  r.u32('rpc_status')
  return { status, handle: r.contextHandle('hResource') }
}

async function stateOf(c: DcerpcWitnessClient, handle: NdrContextHandle): Promise<number> {
  return (await c.call(CLUSAPI_OPNUM.GetResourceState, encodeHandleRequest(handle))).readUInt32LE(0)
}

t.test('clusapi: resource state changes reach the witness registrations of every node', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.87' })
  const status = await cluster.status()
  const dce = (id: string) => status.nodes.find((n) => n.id === id)!.dcerpc!
  const creds = cluster.credentials()!
  const admin = { user: creds.admin.user, password: creds.admin.password }
  const alice = { user: creds.users[0].user, password: creds.users[0].password }

  // Below packet privacy clusapi refuses every call.
  const signedOnly = await DcerpcWitnessClient.connect(dce('node-1').address, dce('node-1').port, { abstractSyntax: CLUSAPI, auth: { ...admin, level: 'integrity' } })
  t.teardown(() => signedOnly.close())
  const refused = await signedOnly.call(CLUSAPI_OPNUM.OpenResource, encodeOpenResourceRequest('SOFS')).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(refused instanceof DcerpcClientError && refused.status === FAULT.ACCESS_DENIED, 'integrity is not enough for clusapi')

  const api = await DcerpcWitnessClient.connect(dce('node-1').address, dce('node-1').port, { abstractSyntax: CLUSAPI, auth: { ...admin, level: 'privacy' } })
  t.teardown(() => api.close())
  t.equal((await openResource(api, 'jfUF38fjSNcfn')).status, CLUSAPI_ERROR.RESOURCE_NOT_FOUND, 'an unknown name is RESOURCE_NOT_FOUND')
  const sofs = await openResource(api, cluster.config.name)
  t.equal(sofs.status, CLUSAPI_ERROR.SUCCESS)
  t.equal(await stateOf(api, sofs.handle), CLUSTER_RESOURCE_STATE.ONLINE)

  // alice registers on node-2 and waits.
  const witness = await DcerpcWitnessClient.connect(dce('node-2').address, dce('node-2').port, { auth: { ...alice, level: 'privacy' } })
  t.teardown(() => witness.close())
  const reg = await witness.register({ netName: cluster.config.name, ipAddress: cluster.config.nodes[2].clientAddress, clientComputerName: 'CLUSAPI-E2E' })
  t.equal(reg.result, WIN_ERROR.SUCCESS)
  const parked = async (node: string, key: string) => {
    for (let i = 0; i < 200; i++) {
      const l = await cluster.admin(node).witnessList({})
      if (l.registrations.some((r) => r.registrationId === key && r.asyncNotifyPending)) return true
      await new Promise((r) => setTimeout(r, 50))
    }
    return false
  }
  let notify = witness.asyncNotify(reg.key, 30_000)
  t.ok(await parked('node-2', reg.key), 'AsyncNotify parked on node-2')

  // alice may look but not take it offline.
  const userApi = await DcerpcWitnessClient.connect(dce('node-1').address, dce('node-1').port, { abstractSyntax: CLUSAPI, auth: { ...alice, level: 'privacy' } })
  t.teardown(() => userApi.close())
  const userHandle = (await openResource(userApi, cluster.config.name)).handle
  t.same(await userApi.call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(userHandle)), encodeResourceControlResponse(CLUSAPI_ERROR.ACCESS_DENIED), 'a user gets ACCESS_DENIED')

  t.same(await api.call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(sofs.handle)), encodeResourceControlResponse(0))
  t.equal(await stateOf(api, sofs.handle), CLUSTER_RESOURCE_STATE.OFFLINE, 'offline at once')
  let n = await notify
  t.equal(n.notify?.messageType, MESSAGE_TYPE.RESOURCE_CHANGE)
  t.same(n.notify?.resourceChanges, [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: cluster.config.name }], 'node-2 hears UNAVAILABLE for the net name')

  notify = witness.asyncNotify(reg.key, 30_000)
  t.ok(await parked('node-2', reg.key))
  t.same(await api.call(CLUSAPI_OPNUM.OnlineResource, encodeHandleRequest(sofs.handle)), encodeResourceControlResponse(0))
  n = await notify
  t.same(n.notify?.resourceChanges, [{ changeType: RESOURCE_STATE.AVAILABLE, resourceName: cluster.config.name }], 'and AVAILABLE when it is back')

  // An IP address resource: IP_CHANGE to the registrations for that address.
  const ip = cluster.config.nodes[2].clientAddress
  notify = witness.asyncNotify(reg.key, 30_000)
  t.ok(await parked('node-2', reg.key))
  const ipRes = await openResource(api, `IP Address ${ip}`)
  t.equal(ipRes.status, 0)
  t.same(await api.call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(ipRes.handle)), encodeResourceControlResponse(0))
  n = await notify
  t.equal(n.notify?.messageType, MESSAGE_TYPE.IP_CHANGE)
  t.same(n.notify?.ipAddresses, [{ flags: IPADDR_FLAGS.V4 | IPADDR_FLAGS.OFFLINE, ipv4: ip, ipv6: '' }], 'IP_CHANGE with the address OFFLINE')
  t.same(await api.call(CLUSAPI_OPNUM.OnlineResource, encodeHandleRequest(ipRes.handle)), encodeResourceControlResponse(0))

  // CloseResource zeroes the handle; a closed handle is INVALID_HANDLE.
  const closed = await api.call(CLUSAPI_OPNUM.CloseResource, encodeHandleRequest(sofs.handle))
  t.same(closed, Buffer.alloc(24), 'a NULL handle and ERROR_SUCCESS')
  const stale = await api.call(CLUSAPI_OPNUM.GetResourceState, encodeHandleRequest(sofs.handle))
  t.equal(stale.readUInt32LE(stale.length - 4), CLUSAPI_ERROR.INVALID_HANDLE, 'a closed handle is INVALID_HANDLE')
  t.equal((await witness.unRegister(reg.key)).result, WIN_ERROR.SUCCESS)
})
