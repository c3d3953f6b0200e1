// The witness core and a general-use file server role (issue 15 item 6): registrations with the
// role's network name and address are accepted as MS-SWN does for shares that are not
// STYPE_CLUSTER_SOFS, get RESOURCE_CHANGE UNAVAILABLE then AVAILABLE as the role goes offline on
// its owner and online on the next one, and nothing for node changes, CLIENT_MOVE or SHARE_MOVE,
// which are the SOFS name's; the interface list stays the nodes'.
import t from 'tap'
import { WitnessCore, type ClusterSnapshot, type WitnessOutput, type WitnessProfile } from '../../core/witness/witness-core.js'
import { WITNESS_VERSION_1, WITNESS_VERSION_2, type WitnessCall, type WitnessReply } from '../../protocol/swn/witness-calls.js'
import { MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'

const ROLE = { name: 'FS-1', address: '127.0.3.1' }

function snapshot(up: Record<string, boolean>, owners: Record<string, string>): ClusterSnapshot {
  return {
    nodes: [
      { id: 'node-1', clientAddresses: ['127.0.1.1'], up: up['node-1'] ?? true },
      { id: 'node-2', clientAddresses: ['127.0.1.2'], up: up['node-2'] ?? true },
      { id: 'node-3', clientAddresses: ['127.0.1.3'], up: up['node-3'] ?? true },
    ],
    csvOwners: { 'csv-1': 'node-1', 'csv-2': 'node-2', ...owners },
  }
}

class Harness {
  readonly core: WitnessCore
  nowMs = 0
  private callId = 0
  private keyId = 0
  readonly replies = new Map<number, WitnessReply>()
  events: { event: string; fields: Readonly<Record<string, unknown>> }[] = []

  constructor(profile: WitnessProfile = 'ws2012r2') {
    this.core = new WitnessCore({
      nodeId: 'node-3',
      serverGlobalName: 'SOFS',
      profile,
      shares: [
        { name: 'share-1', csv: 'csv-1' },
        { name: 'gen1', csv: 'csv-2', role: ROLE },
      ],
    })
    this.take(this.core.cluster(snapshot({}, {}), this.nowMs))
  }

  take(outputs: WitnessOutput[]): void {
    for (const o of outputs) {
      if (o.kind === 'reply') this.replies.set(o.callId, o.reply)
      else this.events.push({ event: o.event, fields: o.fields })
    }
  }

  call(call: WitnessCall): number {
    const id = ++this.callId
    this.take(this.core.call(id, 'alice', call, this.nowMs, `00000000-0000-4000-8000-${String(++this.keyId).padStart(12, '0')}`))
    return id
  }

  registerEx(extra: Partial<Extract<WitnessCall, { method: 'RegisterEx' }>> = {}): { result: number; key: string } {
    const id = this.call({ method: 'RegisterEx', version: WITNESS_VERSION_2, netName: ROLE.name, ipAddress: ROLE.address, clientComputerName: 'c1', flags: 0, keepAliveTimeoutS: 120, ...extra })
    const r = this.replies.get(id) as Extract<WitnessReply, { key: string }>
    return { result: r.result, key: r.key }
  }

  notify(key: string): number {
    return this.call({ method: 'AsyncNotify', key })
  }

  view(up: Record<string, boolean>, owners: Record<string, string>): void {
    this.nowMs += 1000
    this.take(this.core.cluster(snapshot(up, owners), this.nowMs))
  }

  changes(callId: number): { changeType: number; resourceName: string }[] | undefined {
    const r = this.replies.get(callId)
    if (!r || r.method !== 'AsyncNotify' || !r.notify) return undefined
    t.equal(r.notify.messageType, MESSAGE_TYPE.RESOURCE_CHANGE, 'a RESOURCE_CHANGE')
    return r.notify.resourceChanges.map((c) => ({ changeType: c.changeType, resourceName: c.resourceName }))
  }
}

t.test("registrations with the role's name: its own IP and unknown share names are accepted (not STYPE_CLUSTER_SOFS)", async (t) => {
  const h = new Harness()
  t.equal(h.registerEx().result, WIN_ERROR.SUCCESS, "the role's name and IP")
  t.equal(h.registerEx({ netName: 'fs-1.contoso.com' }).result, WIN_ERROR.SUCCESS, 'a DNS name whose first label is the role name')
  t.equal(h.registerEx({ ipAddress: '255.255.255.255' }).result, WIN_ERROR.SUCCESS, 'an IP in no interface: SUCCESS on a non-scale-out name (WPTS SWNRegistration_InvalidIpAddress)')
  t.equal(h.registerEx({ shareName: 'XXXXInvalidShareNameXXXX' }).result, WIN_ERROR.SUCCESS, 'an unknown share: SUCCESS on a non-scale-out name (WPTS SWNRegistrationEx_InvalidShareName)')
  t.equal(h.registerEx({ netName: 'FS-2' }).result, WIN_ERROR.INVALID_PARAMETER, 'another name is still refused')
  t.equal(h.registerEx({ version: WITNESS_VERSION_1 }).result, WIN_ERROR.REVISION_MISMATCH, 'the version check comes first')
  // The SOFS name keeps its scale-out checks.
  t.equal(h.registerEx({ netName: 'SOFS', ipAddress: ROLE.address }).result, WIN_ERROR.INVALID_STATE, "the SOFS name with the role's IP (no witness interface)")
  t.equal(h.registerEx({ netName: 'SOFS', ipAddress: '127.0.1.1', shareName: 'nope' }).result, WIN_ERROR.INVALID_STATE, 'the SOFS name with an unknown share')
  const list = h.call({ method: 'GetInterfaceList' })
  const reply = h.replies.get(list) as Extract<WitnessReply, { method: 'GetInterfaceList' }>
  t.same(reply.interfaces.map((i) => i.ipv4), ['127.0.1.1', '127.0.1.2', '127.0.1.3'], "the interface list is the nodes' (the role's IP is a client access point, not a witness interface; MS-SWN 4.1)")
})

t.test('the role fails over: UNAVAILABLE when its owner goes, AVAILABLE when the next owner has it', async (t) => {
  const h = new Harness()
  const { key } = h.registerEx()
  const sofs = h.registerEx({ netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'c2' }).key
  const roleCall = h.notify(key)
  const sofsCall = h.notify(sofs)
  // node-2 (the role's owner) is down; its CSV has no owner yet.
  h.view({ 'node-2': false }, { 'csv-2': '' })
  t.same(h.changes(roleCall), [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'FS-1' }], 'UNAVAILABLE, named as registered (the role)')
  t.equal(h.replies.get(sofsCall), undefined, "node-2's death is no news for a client of node-1 on the SOFS name")
  const next = h.notify(key)
  t.equal(h.replies.get(next), undefined, 'nothing more while the role is offline')
  h.view({ 'node-2': false }, { 'csv-2': 'node-1' })
  t.same(h.changes(next), [{ changeType: RESOURCE_STATE.AVAILABLE, resourceName: 'FS-1' }], 'AVAILABLE once node-1 owns the CSV')
  t.ok(h.events.some((e) => e.event === 'witness.role.changed' && e.fields.to === 'node-1'), 'logged')
})

t.test('a move within one view gives UNAVAILABLE then AVAILABLE in one reply; registrations by IP alone count too', async (t) => {
  const h = new Harness()
  const { key } = h.registerEx()
  const byIp = h.call({ method: 'Register', version: WITNESS_VERSION_1, netName: 'FS-1', ipAddress: ROLE.address, clientComputerName: 'c3' })
  const v1Key = (h.replies.get(byIp) as Extract<WitnessReply, { key: string }>).key
  const a = h.notify(key)
  const b = h.notify(v1Key)
  h.view({}, { 'csv-2': 'node-3' })
  const both = [
    { changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'FS-1' },
    { changeType: RESOURCE_STATE.AVAILABLE, resourceName: 'FS-1' },
  ]
  t.same(h.changes(a), both)
  t.same(h.changes(b), both, 'a version 1 registration too')
})

t.test('Samba names the registered IP; node changes and moves of other CSVs say nothing to the role', async (t) => {
  const h = new Harness('samba')
  const { key } = h.registerEx()
  const call = h.notify(key)
  h.view({ 'node-1': false }, { 'csv-1': 'node-3' })
  t.equal(h.replies.get(call), undefined, "node-1 and csv-1 are not the role's")
  h.view({ 'node-1': false, 'node-2': false }, { 'csv-1': 'node-3', 'csv-2': 'node-3' })
  t.same(h.changes(call), [
    { changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: ROLE.address },
    { changeType: RESOURCE_STATE.AVAILABLE, resourceName: ROLE.address },
  ])
})

t.test('CLIENT_MOVE and SHARE_MOVE are not sent to the clients of a general role', async (t) => {
  const h = new Harness()
  const { key } = h.registerEx({ shareName: 'gen1' })
  const call = h.notify(key)
  const moved = h.core.clientMove({ applyToAll: true }, { nodeId: 'node-1' }, h.nowMs)
  h.take(moved.outputs)
  t.same(moved.result, { ok: true, affected: 0 }, 'no registration of the role is moved')
  const shareMoved = h.core.shareMove({ netName: 'FS-1' }, { nodeId: 'node-1' }, h.nowMs)
  h.take(shareMoved.outputs)
  t.same(shareMoved.result, { ok: true, affected: 0 })
  t.equal(h.replies.get(call), undefined, 'still waiting')
})

t.test('a role added at run time is one to register with', async (t) => {
  const h = new Harness()
  t.equal(h.registerEx({ netName: 'FS-9', ipAddress: '127.0.3.9' }).result, WIN_ERROR.INVALID_PARAMETER, 'unknown before')
  h.core.addShare({ name: 'gen9', csv: 'csv-1', role: { name: 'FS-9', address: '127.0.3.9' } })
  const { result, key } = h.registerEx({ netName: 'FS-9', ipAddress: '127.0.3.9' })
  t.equal(result, WIN_ERROR.SUCCESS)
  const call = h.notify(key)
  h.view({ 'node-1': false }, { 'csv-1': 'node-2' })
  t.same(h.changes(call)?.map((c) => c.changeType), [RESOURCE_STATE.UNAVAILABLE, RESOURCE_STATE.AVAILABLE], 'it fails over with its CSV')
})
