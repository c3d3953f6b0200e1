// The witness core as a pure state machine: validation order and codes, profile
// differences, timers (keep-alive, unused registrations, Samba's forced unregister),
// ownership, bounds, and notification ordering, with time as an input.
import t from 'tap'
import { cleanString, UNUSED_REGISTRATION_TIMEOUT_MS, WitnessCore, type ClusterSnapshot, type WitnessOutput, type WitnessProfile } from '../../core/witness/witness-core.js'
import { WITNESS_VERSION_1, WITNESS_VERSION_2, type WitnessCall, type WitnessReply } from '../../protocol/swn/witness-calls.js'
import { MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'

const SNAPSHOT: ClusterSnapshot = {
  nodes: [
    { id: 'node-1', clientAddresses: ['127.0.1.1'], up: true },
    { id: 'node-2', clientAddresses: ['127.0.1.2'], up: true },
    { id: 'node-3', clientAddresses: ['127.0.1.3', 'fd00::3'], up: true },
  ],
  csvOwners: { 'csv-1': 'node-1', 'csv-2': 'node-2' },
}

class Harness {
  readonly core: WitnessCore
  nowMs = 0
  private callId = 0
  private keyId = 0
  readonly replies = new Map<number, WitnessReply>()

  constructor(profile: WitnessProfile = 'ws2012r2', snapshot = SNAPSHOT, extra: { keepAliveTimeoutMaxS?: number } = {}) {
    this.core = new WitnessCore({
      nodeId: 'node-2',
      serverGlobalName: 'SOFS',
      profile,
      shares: [
        { name: 'share-1', csv: 'csv-1' },
        { name: 'share-2', csv: 'csv-2' },
      ],
      ...extra,
    })
    this.take(this.core.cluster(snapshot, this.nowMs))
  }

  take(outputs: WitnessOutput[]): WitnessOutput[] {
    for (const o of outputs) if (o.kind === 'reply') this.replies.set(o.callId, o.reply)
    return outputs
  }

  call(call: WitnessCall, principal = 'alice'): number {
    const id = ++this.callId
    this.take(this.core.call(id, principal, call, this.nowMs, `00000000-0000-4000-8000-${String(++this.keyId).padStart(12, '0')}`))
    return id
  }

  result(id: number): number | undefined {
    return this.replies.get(id)?.result
  }

  register(extra: Partial<Extract<WitnessCall, { method: 'RegisterEx' }>> = {}, principal = 'alice'): string {
    const id = this.call({ method: 'RegisterEx', version: WITNESS_VERSION_2, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'c1', flags: 0, keepAliveTimeoutS: 10, ...extra }, principal)
    const reply = this.replies.get(id)
    if (!reply || reply.method !== 'RegisterEx' || reply.result !== WIN_ERROR.SUCCESS) throw new Error(`register failed: ${JSON.stringify(reply)}`)
    return reply.key
  }

  advance(ms: number): void {
    this.nowMs += ms
    this.take(this.core.tick(this.nowMs))
  }
}

t.test('Register validates in the spec order with the spec codes', async (t) => {
  const h = new Harness()
  const reg = (c: Partial<Extract<WitnessCall, { method: 'Register' }>>) =>
    h.result(h.call({ method: 'Register', version: WITNESS_VERSION_1, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'c', ...c }))
  t.equal(reg({ version: WITNESS_VERSION_2, netName: undefined }), WIN_ERROR.REVISION_MISMATCH, 'version first')
  t.equal(reg({ netName: undefined }), WIN_ERROR.INVALID_PARAMETER, 'NULL NetName')
  t.equal(reg({ clientComputerName: undefined, ipAddress: 'nope' }), WIN_ERROR.INVALID_PARAMETER, 'NULL before the IP check')
  t.equal(reg({ netName: 'OTHER', ipAddress: '1.2.3.4' }), WIN_ERROR.INVALID_PARAMETER, 'NetName before the IP check')
  t.equal(reg({ ipAddress: '1.2.3.4' }), WIN_ERROR.INVALID_STATE, 'IP not in the interface list')
  t.equal(reg({ ipAddress: 'not-an-ip' }), WIN_ERROR.INVALID_STATE, 'an IP that does not parse is not in the list')
  t.equal(reg({ netName: 'sofs.contoso.com' }), WIN_ERROR.SUCCESS, 'a DNS name whose first label is the cluster name')
  t.equal(reg({ ipAddress: 'FD00::3' }), WIN_ERROR.SUCCESS, 'IPv6 compares without case')
  t.equal(reg({ netName: '' }), WIN_ERROR.INVALID_PARAMETER, 'empty NetName')
  t.equal(reg({ netName: 'S'.repeat(256) }), WIN_ERROR.INVALID_PARAMETER, 'NetName over 255')
  t.equal(reg({ clientComputerName: 'bad\u0000name' }), WIN_ERROR.INVALID_PARAMETER, 'NUL inside a string')
  t.equal(reg({ clientComputerName: 'bad\ud800' }), WIN_ERROR.INVALID_PARAMETER, 'an unpaired surrogate (not UTF-8-clean)')
  t.equal(reg({ ipAddress: '1'.repeat(46) }), WIN_ERROR.INVALID_PARAMETER, 'IP string over INET6_ADDRSTRLEN')
})

t.test('RegisterEx checks the share before the IP', async (t) => {
  const h = new Harness()
  const regEx = (c: Partial<Extract<WitnessCall, { method: 'RegisterEx' }>>) =>
    h.result(h.call({ method: 'RegisterEx', version: WITNESS_VERSION_2, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'c', flags: 0, keepAliveTimeoutS: 0, ...c }))
  t.equal(regEx({ version: WITNESS_VERSION_1 }), WIN_ERROR.REVISION_MISMATCH)
  t.equal(regEx({ shareName: 'nope', ipAddress: '9.9.9.9' }), WIN_ERROR.INVALID_STATE)
  t.equal(regEx({ shareName: 'SHARE-1' }), WIN_ERROR.SUCCESS, 'share names compare without case')
  t.equal(regEx({ shareName: 'x'.repeat(81) }), WIN_ERROR.INVALID_PARAMETER, 'share name over 80')
})

t.test('UnRegister of an unknown handle differs per profile', async (t) => {
  for (const [profile, code] of [['ws2012r2', WIN_ERROR.INVALID_PARAMETER], ['ws2012', WIN_ERROR.NOT_FOUND], ['samba', WIN_ERROR.NOT_FOUND]] as const) {
    const h = new Harness(profile)
    t.equal(h.result(h.call({ method: 'UnRegister', key: 'no-such-key' })), code, profile)
    t.equal(h.result(h.call({ method: 'UnRegisterEx', key: 'no-such-key' })), WIN_ERROR.INVALID_PARAMETER, `${profile} UnRegisterEx`)
  }
})

t.test('a registration belongs to its principal', async (t) => {
  const h = new Harness()
  const key = h.register()
  t.equal(h.result(h.call({ method: 'AsyncNotify', key }, 'bob')), WIN_ERROR.ACCESS_DENIED)
  t.equal(h.result(h.call({ method: 'UnRegister', key }, 'bob')), WIN_ERROR.ACCESS_DENIED)
  t.equal(h.result(h.call({ method: 'UnRegister', key })), WIN_ERROR.SUCCESS)
})

t.test('AsyncNotify waits, times out after KeepAliveTimeout, and queues news in order', async (t) => {
  const h = new Harness()
  const key = h.register({ keepAliveTimeoutS: 10, shareName: 'share-1', flags: 1 })
  const first = h.call({ method: 'AsyncNotify', key })
  t.equal(h.result(first), undefined, 'blocked')
  h.advance(9_900)
  t.equal(h.result(first), undefined, 'still blocked before the keep-alive')
  h.advance(200)
  t.equal(h.result(first), WIN_ERROR.TIMEOUT, 'TIMEOUT after 10 s')
  // Between two AsyncNotify calls nothing is lost: node-1 goes down, then csv-1 moves.
  h.take(h.core.cluster({ ...SNAPSHOT, nodes: SNAPSHOT.nodes.map((n) => (n.id === 'node-1' ? { ...n, up: false } : n)), csvOwners: { 'csv-1': 'node-3', 'csv-2': 'node-2' } }, h.nowMs))
  const replies = [1, 2, 3].map(() => h.replies.get(h.call({ method: 'AsyncNotify', key })))
  const types = replies.map((r) => (r && r.method === 'AsyncNotify' ? r.notify?.messageType : undefined))
  t.same(types, [MESSAGE_TYPE.RESOURCE_CHANGE, MESSAGE_TYPE.SHARE_MOVE, MESSAGE_TYPE.IP_CHANGE], 'resource change, then share move, then IP change')
  const change = replies[0]
  if (change?.method === 'AsyncNotify') t.same(change.notify?.resourceChanges, [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'SOFS' }])
  const ipChange = replies[2]
  if (ipChange?.method === 'AsyncNotify') t.same(ipChange.notify?.ipAddresses, [{ flags: 0x11, ipv4: '127.0.1.1', ipv6: '' }], 'V4|OFFLINE')
})

t.test('a KeepAliveTimeout of 0: Windows times the AsyncNotify out at once, Samba waits without limit', async (t) => {
  const nodeDown = { ...SNAPSHOT, nodes: SNAPSHOT.nodes.map((n) => (n.id === 'node-1' ? { ...n, up: false } : n)) }
  for (const profile of ['ws2012r2', 'ws2012'] as const) {
    const h = new Harness(profile)
    // WS2012 has no RegisterEx; its core still answers it (the host refuses the method before the core).
    const key = h.register({ keepAliveTimeoutS: 0 })
    const call = h.call({ method: 'AsyncNotify', key })
    t.equal(h.result(call), WIN_ERROR.TIMEOUT, `${profile}: TIMEOUT in the same step, not at the next tick`)
    const listed = h.core.list()
    t.ok(Array.isArray(listed) && listed[0].keepAliveTimeoutS === 0 && !listed[0].asyncNotifyPending, `${profile}: nothing left waiting`)
    // News pending beats the timeout: the change is answered, not TIMEOUT.
    h.take(h.core.cluster(nodeDown, h.nowMs))
    const news = h.replies.get(h.call({ method: 'AsyncNotify', key }))
    t.equal(news?.method === 'AsyncNotify' ? news.notify?.messageType : null, MESSAGE_TYPE.RESOURCE_CHANGE, `${profile}: pending news first`)
  }
  const samba = new Harness('samba')
  const key = samba.register({ keepAliveTimeoutS: 0 })
  const call = samba.call({ method: 'AsyncNotify', key })
  samba.advance(3_600_000)
  t.equal(samba.result(call), undefined, 'samba: still waiting an hour later')
  samba.take(samba.core.cluster(nodeDown, samba.nowMs))
  t.equal(samba.result(call), WIN_ERROR.SUCCESS, 'samba: answered by the news')
  // A version 1 registration has no keep-alive on any profile.
  const v1 = new Harness('ws2012r2')
  v1.call({ method: 'Register', version: WITNESS_VERSION_1, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'old' })
  const v1Key = [...(v1.core.list() as { registrationId: string }[])][0].registrationId
  const v1Call = v1.call({ method: 'AsyncNotify', key: v1Key })
  v1.advance(3_600_000)
  t.equal(v1.result(v1Call), undefined, 'v1: still waiting an hour later')
})

t.test('keepAliveTimeoutMaxS shortens longer keep-alives and keeps shorter ones', async (t) => {
  const h = new Harness('ws2012r2', SNAPSHOT, { keepAliveTimeoutMaxS: 2 })
  const long = h.register({ keepAliveTimeoutS: 120, clientComputerName: 'long' })
  const short = h.register({ keepAliveTimeoutS: 1, clientComputerName: 'short' })
  const zero = h.register({ keepAliveTimeoutS: 0, clientComputerName: 'zero' })
  const longCall = h.call({ method: 'AsyncNotify', key: long })
  const shortCall = h.call({ method: 'AsyncNotify', key: short })
  t.equal(h.result(h.call({ method: 'AsyncNotify', key: zero })), WIN_ERROR.TIMEOUT, '0 still times out at once')
  h.advance(900)
  t.equal(h.result(shortCall), undefined, 'the 1 s keep-alive has not passed')
  h.advance(200)
  t.equal(h.result(shortCall), WIN_ERROR.TIMEOUT, 'the 1 s keep-alive as asked')
  t.equal(h.result(longCall), undefined, 'the capped one waits on')
  h.advance(1_000)
  t.equal(h.result(longCall), WIN_ERROR.TIMEOUT, '120 s capped to 2 s')
  const listed = h.core.list({ clientComputerName: '^long$' })
  t.ok(Array.isArray(listed) && listed[0].keepAliveTimeoutS === 120, 'the registration still shows what the client asked for')
  t.throws(() => new Harness('ws2012r2', SNAPSHOT, { keepAliveTimeoutMaxS: -1 }), /keepAliveTimeoutMaxS/)
  // Samba's unlimited 0 is capped too; a version 1 registration (no keep-alive) is not.
  const samba = new Harness('samba', SNAPSHOT, { keepAliveTimeoutMaxS: 2 })
  const unlimited = samba.call({ method: 'AsyncNotify', key: samba.register({ keepAliveTimeoutS: 0 }) })
  samba.call({ method: 'Register', version: WITNESS_VERSION_1, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'old' })
  const v1Key = (samba.core.list({ clientComputerName: '^old$' }) as { registrationId: string }[])[0].registrationId
  const v1 = samba.call({ method: 'AsyncNotify', key: v1Key })
  samba.advance(2_100)
  t.equal(samba.result(unlimited), WIN_ERROR.TIMEOUT, 'samba: 0 (no limit) capped to 2 s')
  t.equal(samba.result(v1), undefined, 'version 1: not capped')
})

t.test('unused v2 registrations expire after 30 s; v1 ones stay', async (t) => {
  const h = new Harness()
  const v2 = h.register()
  h.call({ method: 'Register', version: WITNESS_VERSION_1, netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'old' })
  h.advance(UNUSED_REGISTRATION_TIMEOUT_MS + 100)
  t.equal(h.core.registrationCount(), 1, 'the v2 registration expired')
  t.equal(h.result(h.call({ method: 'AsyncNotify', key: v2 })), WIN_ERROR.NOT_FOUND)
})

t.test('Samba: resource names are IPs, moves carry ONLINE, registrations die 5 s after an UNAVAILABLE', async (t) => {
  const h = new Harness('samba')
  const key = h.register({ keepAliveTimeoutS: 0 })
  const waiting = h.call({ method: 'AsyncNotify', key })
  h.take(h.core.cluster({ ...SNAPSHOT, nodes: SNAPSHOT.nodes.map((n) => (n.id === 'node-1' ? { ...n, up: false } : n)) }, h.nowMs))
  const reply = h.replies.get(waiting)
  t.same(reply?.method === 'AsyncNotify' ? reply.notify?.resourceChanges : null, [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: '127.0.1.1' }])
  const next = h.call({ method: 'AsyncNotify', key })
  h.advance(5_100)
  t.equal(h.result(next), WIN_ERROR.NOT_FOUND, 'forced unregister after 5 s')
  const h2 = new Harness('samba')
  const key2 = h2.register()
  h2.take(h2.core.clientMove({ applyToAll: true }, { nodeId: 'node-3' }, 0).outputs)
  const moved = h2.replies.get(h2.call({ method: 'AsyncNotify', key: key2 }))
  t.same(moved?.method === 'AsyncNotify' ? moved.notify?.ipAddresses.map((a) => a.flags) : null, [0x9, 0xa], 'V4|ONLINE and V6|ONLINE')
  // Samba never sends IP_CHANGE.
  const h3 = new Harness('samba')
  const key3 = h3.register({ flags: 1 })
  h3.take(h3.core.cluster({ ...SNAPSHOT, nodes: SNAPSHOT.nodes.map((n) => (n.id === 'node-3' ? { ...n, up: false } : n)) }, 0))
  t.equal(h3.result(h3.call({ method: 'AsyncNotify', key: key3 })), undefined, 'no IP_CHANGE')
})

t.test('GetInterfaceList: NO_MORE_ITEMS when empty; blocks without a witness node (not on Samba)', async (t) => {
  const empty = new Harness('ws2012r2', { nodes: [], csvOwners: {} })
  t.equal(empty.result(empty.call({ method: 'GetInterfaceList' })), WIN_ERROR.NO_MORE_ITEMS)
  const alone: ClusterSnapshot = { nodes: SNAPSHOT.nodes.map((n) => ({ ...n, up: n.id === 'node-2' })), csvOwners: {} }
  const h = new Harness('ws2012r2', alone)
  const blocked = h.call({ method: 'GetInterfaceList' })
  t.equal(h.result(blocked), undefined, 'blocked')
  h.take(h.core.cluster(SNAPSHOT, 1))
  t.equal(h.result(blocked), WIN_ERROR.SUCCESS, 'answered when another node is back')
  const samba = new Harness('samba', alone)
  t.equal(samba.result(samba.call({ method: 'GetInterfaceList' })), WIN_ERROR.SUCCESS, 'Samba never blocks')
})

t.test('admin filters and bad forced responses', async (t) => {
  const h = new Harness()
  h.register({ clientComputerName: 'a1' })
  h.register({ clientComputerName: 'b1', shareName: 'share-2' })
  t.same(h.core.forceUnregister({}).result, { ok: false, error: 'give filters or apply-to-all' })
  t.same(h.core.forceUnregister({ applyToAll: true, netName: 'x' }).result, { ok: false, error: 'apply-to-all cannot be combined with filters' })
  t.match(h.core.forceUnregister({ netName: '((' }).result, { ok: false, error: /bad regex/ })
  t.same(h.core.shareMove({ clientComputerName: '.' }, { nodeId: 'node-3' }, 0).result, { ok: true, affected: 1 }, 'only registrations with a share')
  t.match(h.core.clientMove({ applyToAll: true }, { nodeId: 'node-9' }, 0).result, { ok: false })
  t.match(h.core.forceResponse({ applyToAll: true }, { result: 0, messageType: 2, ipAddresses: [] }, 0).result, { ok: false, error: /bad forced response/ })
  t.match(h.core.forceResponse({ applyToAll: true }, { result: 0, messageType: 1, resourceChanges: [{ changeType: 7, resourceName: 'x' }] }, 0).result, { ok: false })
  t.same(h.core.forceUnregister({ clientComputerName: '^a' }).result, { ok: true, affected: 1 })
})

t.test('cleanString', async (t) => {
  t.ok(cleanString('node-1.contoso.com', 255))
  t.notOk(cleanString('', 255))
  t.notOk(cleanString('a\u007f', 255))
  t.ok(cleanString('emoji 📁 ok', 255), 'a paired surrogate is fine')
})

t.test('a node going down answers exactly the registrations watching it, in registration order, from an index (issue 16)', async (t) => {
  const h = new Harness()
  const watching: string[] = []
  const notifyCall = new Map<string, number>()
  const total = 3000
  for (let i = 0; i < total; i++) {
    // Spread over three addresses, one of them IPv6 registered in upper case.
    const ipAddress = ['127.0.1.1', '127.0.1.2', 'FD00::3'][i % 3]
    const key = h.register({ ipAddress, clientComputerName: `c${i}` })
    notifyCall.set(key, h.call({ method: 'AsyncNotify', key }))
    if (ipAddress === 'FD00::3') watching.push(key)
  }
  // Some watchers went away before the fault: they get nothing.
  const gone = watching.splice(0, 10)
  for (const key of gone) h.call({ method: 'UnRegisterEx', key })
  const down: ClusterSnapshot = { ...SNAPSHOT, nodes: SNAPSHOT.nodes.map((n) => (n.id === 'node-3' ? { ...n, up: false } : n)) }
  const out = h.take(h.core.cluster(down, h.nowMs))
  const answered = out.flatMap((o) => (o.kind === 'reply' ? [o.callId] : []))
  t.same(answered, watching.map((k) => notifyCall.get(k)), 'only node-3 watchers, in registration order')
  const payloads = new Set(out.flatMap((o) => (o.kind === 'reply' && o.reply.method === 'AsyncNotify' && o.reply.notify ? [o.reply.notify] : [])))
  t.equal(payloads.size, 1, 'one RESOURCE_CHANGE payload, encoded once and shared')
  t.match([...payloads][0], { messageType: MESSAGE_TYPE.RESOURCE_CHANGE, resourceChanges: [{ changeType: RESOURCE_STATE.UNAVAILABLE }] })
  t.equal(out.filter((o) => o.kind === 'event' && o.event === 'witness.node.changed').length, 1)

  const byGroup = h.register({ netName: 'SOFS', ipAddress: '127.0.1.2', clientComputerName: 'g' })
  const g = h.call({ method: 'AsyncNotify', key: byGroup })
  const node2Down: ClusterSnapshot = { ...down, nodes: down.nodes.map((n) => (n.id === 'node-2' ? { ...n, up: false } : n)) }
  const out2 = h.take(h.core.cluster(node2Down, h.nowMs))
  t.ok(out2.some((o) => o.kind === 'reply' && o.callId === g), 'a registration for node-2 address hears of node-2')
  t.equal(out2.filter((o) => o.kind === 'reply').length, total / 3 + 1, 'every node-2 watcher, none of the node-3 ones again')
})
