// MS-CMRP (clusapi) as the witness port serves it: the NDR stubs byte by byte, the pure
// ClusterResources core (names, handles, states, results), and the adapter's access rules and the
// witness notifications a state change makes.
import t from 'tap'
import fc from 'fast-check'
import {
  CLUSAPI_ERROR,
  CLUSAPI_OPNUM,
  CLUSTER_RESOURCE_STATE,
  decodeClusapiRequest,
  encodeGetResourceStateResponse,
  encodeHandleRequest,
  encodeOpenResourceRequest,
  encodeOpenResourceResponse,
  encodeResourceControlResponse,
} from '../../protocol/dcerpc/clusapi-ndr.js'
import { CLUSTER_NAME_RESOURCE, ClusterResources } from '../../core/clusapi/cluster-resources.js'
import { clusapiRpcInterface, exactAnyCase } from '../../server/dcerpc/clusapi-rpc-interface.js'
import { AUTH_LEVEL, FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import { NdrReader } from '../../protocol/dcerpc/ndr-reader.js'
import type { WitnessHost } from '../../server/swn/witness-host.js'
import type { CallOutcome } from '../../server/dcerpc/rpc-connection.js'

const H = { attributes: 0, uuid: '11111111-2222-3333-4444-555555555555' }

t.test('NDR: OpenResource request and response, GetResourceState and the control responses, byte by byte', async (t) => {
  // "SOFS": max 5, offset 0, actual 5, UTF-16LE with the NUL.
  t.equal(encodeOpenResourceRequest('SOFS').toString('hex'), '05000000' + '00000000' + '05000000' + '53004f0046005300' + '0000')
  const decoded = decodeClusapiRequest(CLUSAPI_OPNUM.OpenResource, encodeOpenResourceRequest('SOFS'))
  t.same(decoded, { ok: true, request: { op: 'OpenResource', name: 'SOFS' } })
  t.equal(encodeOpenResourceResponse(0, H).toString('hex'), '00000000' + '00000000' + '00000000' + '11111111222233334444555555555555', 'Status, rpc_status, then the handle: attributes and the GUID in NDR order')
  const state = encodeGetResourceStateResponse(CLUSTER_RESOURCE_STATE.ONLINE, 'NODE-1', 'SOFS', 0)
  const r = new NdrReader(state)
  t.equal(r.u32('State'), 2)
  t.ok(r.uniquePointer('NodeName'))
  t.equal(r.conformantVaryingString('NodeName'), 'NODE-1')
  t.ok(r.uniquePointer('GroupName'))
  t.equal(r.conformantVaryingString('GroupName'), 'SOFS')
  t.equal(r.u32('rpc_status'), 0)
  t.equal(r.u32('result'), 0)
  t.equal(encodeResourceControlResponse(997).toString('hex'), '00000000e5030000')
  for (const op of [CLUSAPI_OPNUM.CloseResource, CLUSAPI_OPNUM.GetResourceState, CLUSAPI_OPNUM.OnlineResource, CLUSAPI_OPNUM.OfflineResource, CLUSAPI_OPNUM.CloseCluster]) {
    const d = decodeClusapiRequest(op, encodeHandleRequest(H))
    t.ok(d.ok && 'handle' in d.request && d.request.handle.uuid === H.uuid, `opnum ${op} carries the handle`)
  }
  t.same(decodeClusapiRequest(9, Buffer.alloc(20)), { ok: false, fault: 'op-range', reason: 'opnum 9 is not a clusapi operation served here' })
  t.equal(decodeClusapiRequest(CLUSAPI_OPNUM.GetResourceState, Buffer.alloc(7)).ok, false, 'a short handle is bad stub data')
})

t.test('NDR decoders never throw', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 130 }), fc.uint8Array({ maxLength: 200 }), (opnum, bytes) => {
      decodeClusapiRequest(opnum, bytes)
    }),
    { numRuns: 3000 },
  )
  t.pass()
})

const model = { netName: 'SOFS', selfId: 'node-1', nodes: [{ id: 'node-1', clientAddress: '127.0.1.1' }, { id: 'node-2', clientAddress: '127.0.1.2' }] }

t.test('ClusterResources: names, handles, states', async (t) => {
  const c = new ClusterResources(model)
  t.same(c.list().map((r) => r.name), [CLUSTER_NAME_RESOURCE, 'SOFS', 'IP Address 127.0.1.1', 'IP Address 127.0.1.2'])
  t.same(c.openResource('admin', '', 'a'.repeat(8) + '-0000-0000-0000-000000000001'), { status: CLUSAPI_ERROR.RESOURCE_NOT_FOUND, handle: null })
  t.same(c.openResource('admin', 'jfUF38fjSNcfn', '00000000-0000-0000-0000-000000000002'), { status: CLUSAPI_ERROR.RESOURCE_NOT_FOUND, handle: null })
  const sofs = c.openResource('admin', 'sofs', '00000000-0000-0000-0000-000000000003')
  t.equal(sofs.status, 0, 'names in any case')
  const h = sofs.handle!
  t.same(c.state('admin', h), { result: 0, state: CLUSTER_RESOURCE_STATE.ONLINE, nodeName: 'NODE-1', groupName: 'SOFS' })
  t.equal(c.state('bob', h).result, CLUSAPI_ERROR.INVALID_HANDLE, "another principal's handle is invalid")
  const off = c.setOnline('admin', h, false)
  t.equal(off.result, 0)
  t.equal(off.change?.online, false)
  t.equal(c.state('admin', h).state, CLUSTER_RESOURCE_STATE.OFFLINE)
  t.same(c.setOnline('admin', h, false), { result: 0, change: null }, 'offline again: nothing to do')
  t.equal(c.setOnline('admin', h, true).change?.online, true)
  const ip = c.openResource('admin', '127.0.1.2', '00000000-0000-0000-0000-000000000004')
  t.equal(c.state('admin', ip.handle!).nodeName, 'NODE-2', 'an IP resource by its bare address, owned by its node')
  t.equal(c.close('admin', h, 'resource'), 0)
  t.equal(c.close('admin', h, 'resource'), CLUSAPI_ERROR.INVALID_HANDLE, 'closed twice')
  t.equal(c.state('admin', h).result, CLUSAPI_ERROR.INVALID_HANDLE)
  const cl = c.openCluster('admin', '00000000-0000-0000-0000-000000000005')
  t.equal(c.close('admin', cl.handle!, 'resource'), CLUSAPI_ERROR.INVALID_HANDLE, 'a cluster handle is not a resource handle')
  t.equal(c.close('admin', cl.handle!, 'cluster'), 0)
})

t.test('exactAnyCase builds a case-insensitive exact regex', async (t) => {
  const re = new RegExp(exactAnyCase('SOFS'))
  t.ok(re.test('sofs') && re.test('SOFS') && !re.test('SOFS2') && !re.test('xSOFS'))
  const ip = new RegExp(exactAnyCase('127.0.1.2'))
  t.ok(ip.test('127.0.1.2') && !ip.test('127x0.1.2'))
})

t.test('adapter: privacy required, admin for online/offline, and the witness notifications', async (t) => {
  const forced: { filter: unknown; response: unknown }[] = []
  const witness = {
    administer: (action: (core: unknown, nowMs: number) => { result: { ok: true; affected: number } }) =>
      action(
        {
          forceResponse: (filter: unknown, response: unknown) => {
            forced.push({ filter, response })
            return { result: { ok: true, affected: 1 }, outputs: [] }
          },
        },
        0,
      ).result,
  } as unknown as WitnessHost
  const iface = clusapiRpcInterface({ resources: new ClusterResources(model), witness, isAdmin: (p) => p === 'admin', log: () => undefined })
  const call = (opnum: number, stub: Buffer, principal: string | null, authLevel: number): CallOutcome => {
    let out: CallOutcome | undefined
    iface.call(opnum, stub, (o) => (out = o), { principal, authLevel })
    return out!
  }
  const open = encodeOpenResourceRequest('SOFS')
  t.same(call(CLUSAPI_OPNUM.OpenResource, open, 'admin', AUTH_LEVEL.PKT_INTEGRITY), { fault: FAULT.ACCESS_DENIED }, 'integrity is not enough')
  t.same(call(CLUSAPI_OPNUM.OpenResource, open, null, AUTH_LEVEL.NONE), { fault: FAULT.ACCESS_DENIED })
  const opened = call(CLUSAPI_OPNUM.OpenResource, open, 'admin', AUTH_LEVEL.PKT_PRIVACY)
  t.ok('stub' in opened)
  if (!('stub' in opened)) return
  const reader = new NdrReader(opened.stub)
  t.equal(reader.u32('Status'), 0)
  reader.u32('rpc_status')
  const handle = reader.contextHandle('hResource')
  const offline = call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(handle), 'admin', AUTH_LEVEL.PKT_PRIVACY)
  t.same(offline, { stub: encodeResourceControlResponse(0) })
  t.equal(forced.length, 1)
  t.match(forced[0], { response: { messageType: 1, resourceChanges: [{ changeType: 0xff, resourceName: 'SOFS' }] } })
  t.ok(new RegExp((forced[0].filter as { netName: string }).netName).test('sofs'))
  const state = call(CLUSAPI_OPNUM.GetResourceState, encodeHandleRequest(handle), 'admin', AUTH_LEVEL.PKT_PRIVACY)
  t.equal('stub' in state ? state.stub.readUInt32LE(0) : -1, CLUSTER_RESOURCE_STATE.OFFLINE)
  call(CLUSAPI_OPNUM.OnlineResource, encodeHandleRequest(handle), 'admin', AUTH_LEVEL.PKT_PRIVACY)
  t.match(forced[1], { response: { messageType: 1, resourceChanges: [{ changeType: 1 }] } })
  // A user may look but not touch.
  const userOpen = call(CLUSAPI_OPNUM.OpenResource, encodeOpenResourceRequest('IP Address 127.0.1.2'), 'alice', AUTH_LEVEL.PKT_PRIVACY)
  const userHandle = 'stub' in userOpen ? new NdrReader(userOpen.stub.subarray(8)).contextHandle('h') : H
  t.same(call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(userHandle), 'alice', AUTH_LEVEL.PKT_PRIVACY), { stub: encodeResourceControlResponse(CLUSAPI_ERROR.ACCESS_DENIED) })
  t.equal(forced.length, 2)
  // The admin takes an IP resource offline: IP_CHANGE, flagged OFFLINE, to that address's registrations.
  const ipOpen = call(CLUSAPI_OPNUM.OpenResource, encodeOpenResourceRequest('IP Address 127.0.1.2'), 'admin', AUTH_LEVEL.PKT_PRIVACY)
  const ipHandle = 'stub' in ipOpen ? new NdrReader(ipOpen.stub.subarray(8)).contextHandle('h') : H
  call(CLUSAPI_OPNUM.OfflineResource, encodeHandleRequest(ipHandle), 'admin', AUTH_LEVEL.PKT_PRIVACY)
  t.match(forced[2], { response: { messageType: 4, ipAddresses: [{ flags: 0x11, ipv4: '127.0.1.2' }] } })
  t.same(call(40, Buffer.alloc(0), 'admin', AUTH_LEVEL.PKT_PRIVACY), { fault: FAULT.OP_RNG_ERROR })
})
