// The failover core as a pure state machine: one test per rule of what a witness-aware
// client does on a notification, a refused connection, a lost witness or a timed-out request,
// each asserting the exact actions; and determinism (same inputs and randomness, same actions).
import t from 'tap'
import { FailoverCore, type FailoverCoreConfig } from '../../core/failover/failover-core.js'
import type { FailoverAction } from '../../core/failover/failover-action.js'
import type { FailoverInput, WitnessInterfaceEntry, WitnessMessage } from '../../core/failover/failover-input.js'
import {
  RECONNECT_ATTEMPTS_MAX,
  RECONNECT_RETRY_MS,
  REGISTER_RETRY_MS,
  UNREGISTER_ATTEMPTS_MAX,
  UNREGISTER_DEADLINE_MS,
  UNREGISTER_ONCE_DEADLINE_MS,
  WRITES_IN_FLIGHT_MAX,
} from '../../core/failover/failover-bounds.js'
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { INTERFACE_FLAGS, INTERFACE_STATE } from '../../protocol/swn/witness-calls.js'
import { Prng } from '../../core/sim/prng.js'

const A = '127.0.1.1'
const B = '127.0.1.2'
const C = '127.0.1.3'
const D = '127.0.1.4'
const NODES = [A, B, C]

type Step = FailoverInput extends infer I ? (I extends { nowMs: number } ? Omit<I, 'nowMs'> : never) : never

/** Drives one core: inputs get the harness clock; IO actions come back without log lines. */
class Harness {
  readonly core: FailoverCore
  nowMs = 1000
  /** The opId of the latest list-interfaces action, so that helpers can answer it. */
  lastListOpId = 0

  constructor(config: Partial<FailoverCoreConfig> = {}) {
    this.core = new FailoverCore({ netName: 'SOFS', timeoutOnly: false, ...config })
  }

  /** All actions of one input, log lines included. */
  all(input: Step): FailoverAction[] {
    const actions = this.core.step({ ...input, nowMs: this.nowMs } as FailoverInput)
    for (const a of actions) if (a.kind === 'list-interfaces') this.lastListOpId = a.opId
    return actions
  }

  /** The actions of one input without log lines. */
  step(input: Step): FailoverAction[] {
    return this.all(input).filter((a) => a.kind !== 'log')
  }
}

function only<K extends FailoverAction['kind']>(actions: readonly FailoverAction[], kind: K): Extract<FailoverAction, { kind: K }> {
  const found = actions.filter((a): a is Extract<FailoverAction, { kind: K }> => a.kind === kind)
  if (found.length !== 1) throw new Error(`expected one ${kind} action, got ${JSON.stringify(actions)}`)
  return found[0]
}

function events(actions: readonly FailoverAction[]): string[] {
  return actions.flatMap((a) => (a.kind === 'emit' ? [a.event.name] : []))
}

function witnessList(...ips: string[]): WitnessInterfaceEntry[] {
  return ips.map((ip) => ({ ipv4: ip, state: INTERFACE_STATE.AVAILABLE, flags: INTERFACE_FLAGS.IPV4 | INTERFACE_FLAGS.INTERFACE_WITNESS }))
}

const ALL_WITNESSES = witnessList(A, B, C)

/**
 * Starts (on the preferred node, or A) with session s-1, registers (key k-1) with the first
 * candidate witness, then opens the handles and starts the writes; returns the AsyncNotify opId.
 */
function startAndRegister(h: Harness, opts: { handles?: string[]; writes?: number[] } = {}): number {
  const connect = only(h.step({ kind: 'start', nodeIps: NODES, random: 0 }), 'connect')
  h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' })
  const register = only(h.step({ kind: 'interface-list-result', opId: h.lastListOpId, ok: true, interfaces: ALL_WITNESSES, random: 0 }), 'register')
  const notify = only(h.step({ kind: 'register-result', opId: register.opId, ok: true, key: 'k-1' }), 'await-notification')
  ;(opts.handles ?? []).forEach((path, i) => h.step({ kind: 'handle-opened', handleId: i + 1, path }))
  for (const w of opts.writes ?? []) h.step({ kind: 'write-started', writeId: w })
  return notify.opId
}

function resourceChange(name: string, state: number): WitnessMessage {
  return { messageType: MESSAGE_TYPE.RESOURCE_CHANGE, resourceChanges: [{ changeType: state, resourceName: name }], ipAddresses: [] }
}

function ipList(type: number, entries: { ip: string; flags?: number }[]): WitnessMessage {
  return { messageType: type, resourceChanges: [], ipAddresses: entries.map((e) => ({ flags: IPADDR_FLAGS.V4 | (e.flags ?? 0), ipv4: e.ip, ipv6: '' })) }
}

t.test('start connects to the preferred node and registers with another node\'s witness (seed 001)', async (t) => {
  const h = new Harness({ preferredIp: B })
  const connect = only(h.step({ kind: 'start', nodeIps: NODES, random: 0.9 }), 'connect')
  t.same(connect, { kind: 'connect', opId: connect.opId, ip: B, previousSessionId: '', channelSequence: 0 }, 'the preferred node first, a new session')
  const attached = h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' })
  t.same(attached.map((a) => a.kind), ['use-connection', 'started', 'list-interfaces'])
  t.same(only(attached, 'list-interfaces').dataIp, B, 'GetInterfaceList on the data node')
  const register = only(h.step({ kind: 'interface-list-result', opId: only(attached, 'list-interfaces').opId, ok: true, interfaces: ALL_WITNESSES, random: 0 }), 'register')
  t.same([register.witnessIp, register.dataIp], [A, B], 'RegisterEx on the first witness that is not the data node')
  const done = h.step({ kind: 'register-result', opId: register.opId, ok: true, key: 'k-1' })
  t.same(done, [
    { kind: 'emit', event: { name: 'registered', fields: { witness: A, data: B, registration: 'k-1', interfaces: 3, candidates: 2 } } },
    { kind: 'await-notification', opId: only(done, 'await-notification').opId, witnessIp: A, key: 'k-1' },
  ])
  t.equal(h.core.witnessIp, A)
  t.equal(h.core.dataIp, B)
})

t.test('start without a preferred node picks one with the random number', async (t) => {
  for (const [random, ip] of [[0, A], [0.5, B], [0.99, C]] as const) {
    const h = new Harness()
    t.equal(only(h.step({ kind: 'start', nodeIps: NODES, random }), 'connect').ip, ip, `random ${random} -> ${ip}`)
  }
  t.same(new Harness().step({ kind: 'start', nodeIps: [], random: 0 }), [{ kind: 'start-failed', error: 'the cluster name resolves to no address' }])
})

t.test('a refused start goes to the next address of the name, and fails when none is left', async (t) => {
  const h = new Harness({ preferredIp: C })
  let connect = only(h.step({ kind: 'start', nodeIps: NODES, random: 0 }), 'connect')
  const tried = [connect.ip]
  for (;;) {
    const next = h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'refused', error: `ECONNREFUSED ${connect.ip}` })
    if (next.some((a) => a.kind === 'start-failed')) {
      t.same(next, [{ kind: 'start-failed', error: `ECONNREFUSED ${connect.ip}` }], 'the last error')
      break
    }
    connect = only(next, 'connect')
    tried.push(connect.ip)
  }
  t.same(tried, [C, A, B], 'the preferred node, then the others in order, each once')
  t.equal(h.core.phase, 'idle')
})

t.test('RESOURCE_CHANGE UNAVAILABLE for the data node: fail over, reclaim, replay, register again', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: C })
  const notifyOp = startAndRegister(h, { handles: ['disk-1.vhdx', 'disk-2.vhdx'], writes: [7, 8] })
  h.nowMs = 5000
  const moved = h.step({ kind: 'notification', opId: notifyOp, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  const connect = only(moved, 'connect')
  t.same(moved, [
    { kind: 'emit', event: { name: 'notified', fields: { type: MESSAGE_TYPE.RESOURCE_CHANGE, registration: 'k-1', atMs: 5000, resourceChanges: [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'SOFS' }], ipAddresses: [] } } },
    { kind: 'emit', event: { name: 'failover-start', fields: { cause: 'witness-unavailable', from: A, atMs: 5000 } } },
    { kind: 'disconnect', connectionId: 1 },
    { kind: 'emit', event: { name: 'failover-attempt', fields: { cause: 'witness-unavailable', from: A, to: B, attempt: 0 } } },
    { kind: 'connect', opId: connect.opId, ip: B, previousSessionId: 's-1', channelSequence: 1 },
  ])
  h.nowMs = 5040
  const connected = h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-2' })
  t.same(connected.map((a) => a.kind), ['use-connection', 'reclaim'])
  const first = only(connected, 'reclaim')
  t.equal(first.handleId, 1, 'handles are reclaimed in open order')
  const second = only(h.step({ kind: 'reclaim-result', opId: first.opId, outcome: 'reclaimed' }), 'reclaim')
  t.equal(second.handleId, 2)
  h.nowMs = 5060
  const back = h.step({ kind: 'reclaim-result', opId: second.opId, outcome: 'reclaimed' })
  t.same(back.slice(0, 3), [
    { kind: 'emit', event: { name: 'reconnected', fields: { cause: 'witness-unavailable', from: A, to: B, afterMs: 60, handles: 2 } } },
    { kind: 'replay', writeIds: [7, 8] },
    { kind: 'emit', event: { name: 'replayed', fields: { count: 2 } } },
  ])
  const drop = only(back, 'unregister')
  t.same([drop.witnessIp, drop.key, drop.deadlineMs], [C, 'k-1', UNREGISTER_DEADLINE_MS], 'the old registration is UnRegistered')
  t.equal(only(back, 'list-interfaces').dataIp, B, 'and a new one made for the new data node')
  t.equal(h.core.dataIp, B)
  t.equal(h.core.phase, 'attached')
})

t.test('RESOURCE_CHANGE naming the registered IP (Samba) is the data node too; AVAILABLE keeps listening', async (t) => {
  const h = new Harness({ preferredIp: A })
  let notifyOp = startAndRegister(h)
  const available = h.step({ kind: 'notification', opId: notifyOp, message: resourceChange('sofs', RESOURCE_STATE.AVAILABLE) })
  t.same(available.map((a) => a.kind), ['emit', 'await-notification'], 'AVAILABLE: notified, then the next AsyncNotify')
  notifyOp = only(available, 'await-notification').opId
  const samba = h.step({ kind: 'notification', opId: notifyOp, message: resourceChange(A, RESOURCE_STATE.UNAVAILABLE) })
  t.same(events(samba), ['notified', 'failover-start', 'failover-attempt'])
})

t.test('RESOURCE_CHANGE for another node: keep listening, no move', async (t) => {
  const h = new Harness({ preferredIp: A })
  const notifyOp = startAndRegister(h)
  const actions = h.all({ kind: 'notification', opId: notifyOp, message: resourceChange(C, RESOURCE_STATE.UNAVAILABLE) })
  t.same(actions.map((a) => a.kind), ['emit', 'log', 'await-notification'])
  t.same(actions[1], { kind: 'log', event: 'failover.notification.no-move', fields: { registration: 'k-1', type: MESSAGE_TYPE.RESOURCE_CHANGE, reason: 'a resource change for another resource' } })
  t.equal(h.core.phase, 'attached')
  t.equal(h.core.dataIp, A)
})

t.test('CLIENT_MOVE: fail over to the named node; a move to the data node itself is no move', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: B })
  const notifyOp = startAndRegister(h)
  const stay = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.CLIENT_MOVE, [{ ip: A }]) })
  t.same(stay.map((a) => a.kind), ['emit', 'await-notification'], 'already there')
  const move = h.step({ kind: 'notification', opId: only(stay, 'await-notification').opId, message: ipList(MESSAGE_TYPE.CLIENT_MOVE, [{ ip: C }]) })
  t.same(events(move), ['notified', 'failover-start', 'failover-attempt'])
  t.equal(only(move, 'connect').ip, C, 'to the destination, not the next node in order (B)')
  t.notOk(move.some((a) => a.kind === 'await-notification'), 'stops listening on the registration it leaves')
  const connected = h.step({ kind: 'connect-result', opId: only(move, 'connect').opId, outcome: 'ok', sessionId: 's-2' })
  t.same(events(connected), ['reconnected', 'replayed'])
  t.match(connected.find((a) => a.kind === 'emit' && a.event.name === 'reconnected'), { event: { fields: { cause: 'client-move', from: A, to: C, handles: 0 } } })
})

t.test('CLIENT_MOVE to a node that refuses: the other nodes are tried after it, not only the destination', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: B })
  const notifyOp = startAndRegister(h)
  const move = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.CLIENT_MOVE, [{ ip: C }]) })
  t.equal(only(move, 'connect').ip, C, 'the destination first')
  const refused = h.step({ kind: 'connect-result', opId: only(move, 'connect').opId, outcome: 'failed', error: 'ECONNREFUSED' })
  const retry = h.step({ kind: 'timer', timerId: only(refused, 'set-timer').timerId })
  t.equal(only(retry, 'connect').ip, B, 'then another node of the name')
})

t.test('SHARE_MOVE: fail over to the node that owns the share now', async (t) => {
  const h = new Harness({ preferredIp: A })
  const notifyOp = startAndRegister(h)
  const move = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.SHARE_MOVE, [{ ip: C }, { ip: B }]) })
  t.match(move.find((a) => a.kind === 'emit' && a.event.name === 'failover-start'), { event: { fields: { cause: 'share-move', from: A } } })
  const first = only(move, 'connect')
  t.equal(first.ip, C, 'the first destination')
  const pause = only(h.step({ kind: 'connect-result', opId: first.opId, outcome: 'refused', error: 'ECONNREFUSED' }), 'set-timer')
  t.equal(only(h.step({ kind: 'timer', timerId: pause.timerId }), 'connect').ip, B, 'then the next destination named')
})

t.test('IP_CHANGE OFFLINE takes an address out of the failover targets', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: C })
  const notifyOp = startAndRegister(h)
  h.nowMs = 3000
  const change = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.IP_CHANGE, [{ ip: B, flags: IPADDR_FLAGS.OFFLINE }]) })
  t.same(change[1], { kind: 'emit', event: { name: 'ip-change', fields: { online: [], offline: [B], atMs: 3000 } } })
  t.equal(change[2].kind, 'await-notification', 'keeps listening')
  t.same(h.core.offlineAddresses, [B])
  const move = h.step({ kind: 'notification', opId: (change[2] as { opId: number }).opId, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  t.equal(only(move, 'connect').ip, C, 'B is skipped although it comes first')
})

t.test('IP_CHANGE ONLINE brings the address back; a node that answers is online', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: C })
  let notifyOp = startAndRegister(h)
  const off = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.IP_CHANGE, [{ ip: B, flags: IPADDR_FLAGS.OFFLINE }, { ip: C, flags: IPADDR_FLAGS.OFFLINE }]) })
  t.same(h.core.offlineAddresses, [B, C])
  notifyOp = only(off, 'await-notification').opId
  const on = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.IP_CHANGE, [{ ip: B, flags: IPADDR_FLAGS.ONLINE }]) })
  t.match(on[1], { event: { name: 'ip-change', fields: { online: [B], offline: [] } } })
  t.same(h.core.offlineAddresses, [C])
  const move = h.step({ kind: 'notification', opId: only(on, 'await-notification').opId, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  t.equal(only(move, 'connect').ip, B, 'B is a target again')
  // All remaining targets offline: they are tried anyway rather than none.
  const h2 = new Harness({ preferredIp: A })
  const op2 = startAndRegister(h2)
  const all = h2.step({ kind: 'notification', opId: op2, message: ipList(MESSAGE_TYPE.IP_CHANGE, [A, B, C].map((ip) => ({ ip, flags: IPADDR_FLAGS.OFFLINE }))) })
  const move2 = h2.step({ kind: 'notification', opId: only(all, 'await-notification').opId, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  const connect = only(move2, 'connect')
  t.equal(connect.ip, B, 'every address offline: the name resolves to all of them again')
  h2.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-2' })
  t.same(h2.core.offlineAddresses, [A, C], 'B answered: no longer offline')
})

t.test('IP_CHANGE OFFLINE for every other node, then the data node dies: the other addresses are tried anyway', async (t) => {
  // The reports may be stale: the node that would have sent ONLINE may be the one that died
  // (the whole-system simulator found a client stuck on its dead data node this way, seed 575).
  const h = new Harness({ preferredIp: A, preferredWitnessIp: C })
  const notifyOp = startAndRegister(h)
  const off = h.step({ kind: 'notification', opId: notifyOp, message: ipList(MESSAGE_TYPE.IP_CHANGE, [{ ip: B, flags: IPADDR_FLAGS.OFFLINE }, { ip: C, flags: IPADDR_FLAGS.OFFLINE }]) })
  t.same(h.core.offlineAddresses, [B, C])
  const move = h.step({ kind: 'notification', opId: only(off, 'await-notification').opId, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  t.notOk(events(move).includes('failover-failed'), 'the failover does not give up for lack of targets')
  t.equal(only(move, 'connect').ip, B, 'the first other address of the name')
})

t.test('refused connect: the next candidate after a pause, bounded attempts, then failover-failed', async (t) => {
  const h = new Harness({ preferredIp: A })
  const notifyOp = startAndRegister(h)
  let actions = h.step({ kind: 'notification', opId: notifyOp, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  const targets: string[] = []
  let timers = 0
  for (let i = 0; i < RECONNECT_ATTEMPTS_MAX + 5; i++) {
    const connect = actions.find((a) => a.kind === 'connect')
    if (!connect || connect.kind !== 'connect') break
    targets.push(connect.ip)
    const pause = only(h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'refused', error: `connect ECONNREFUSED ${connect.ip}` }), 'set-timer')
    t.equal(pause.delayMs, RECONNECT_RETRY_MS)
    timers++
    actions = h.step({ kind: 'timer', timerId: pause.timerId })
  }
  t.equal(targets.length, RECONNECT_ATTEMPTS_MAX, `${RECONNECT_ATTEMPTS_MAX} attempts`)
  t.same(targets.slice(0, 6), [B, C, A, B, C, A], 'the candidates in turn, others first, the node being left after them')
  t.equal(timers, RECONNECT_ATTEMPTS_MAX)
  t.same(actions, [
    { kind: 'emit', event: { name: 'failover-failed', fields: { cause: 'witness-unavailable', from: A, error: `could not fail over from ${A}: connect ECONNREFUSED ${C}` } } },
  ])
  t.equal(h.core.phase, 'attached', 'a later failure may try again')
})

t.test('two nodes, the other one lost: the failover retries the node it left after it, and gets back there with its handles', async (t) => {
  // The quorum witness holder's row of the chaos matrix: a write forwarded to the lost node
  // timed out on the survivor, whose failover had only the lost node to go to. A Windows client
  // re-resolves the name and reconnects to any address, the one it left included.
  const h = new Harness({ preferredIp: A })
  const connect = only(h.step({ kind: 'start', nodeIps: [A, B], random: 0 }), 'connect')
  h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' })
  const register = only(h.step({ kind: 'interface-list-result', opId: h.lastListOpId, ok: true, interfaces: witnessList(A, B), random: 0 }), 'register')
  t.equal(register.witnessIp, B)
  h.step({ kind: 'register-result', opId: register.opId, ok: true, key: 'k-1' })
  h.step({ kind: 'handle-opened', handleId: 1, path: 'a.bin' })
  h.step({ kind: 'write-started', writeId: 7 })
  let actions = h.step({ kind: 'request-failed', requestId: 7, sentToIp: A, failure: 'timed-out' })
  const targets: string[] = []
  for (let i = 0; i < 3; i++) {
    const c = only(actions, 'connect')
    targets.push(c.ip)
    actions = h.step({ kind: 'timer', timerId: only(h.step({ kind: 'connect-result', opId: c.opId, outcome: 'failed', error: `connect to ${c.ip} timed out` }), 'set-timer').timerId })
  }
  t.same(targets, [B, A, B], 'the other node first, then the one left, in turn')
  const back = only(actions, 'connect')
  t.equal(back.ip, A, 'the node it left, again')
  t.equal(back.previousSessionId, 's-1', 'reclaiming its session there')
  const reclaim = only(h.step({ kind: 'connect-result', opId: back.opId, outcome: 'ok', sessionId: 's-2' }), 'reclaim')
  t.equal(reclaim.handleId, 1, 'its persistent handle reclaimed')
  const done = h.step({ kind: 'reclaim-result', opId: reclaim.opId, outcome: 'reclaimed' })
  t.ok(events(done).includes('reconnected'), 'back at work')
  t.equal(h.core.dataIp, A)
  t.equal(h.core.phase, 'attached')
})

t.test('a handle whose CSV has no owner yet is retried; a closed one is dropped; a failed DH2C fails the attempt', async (t) => {
  const h = new Harness({ preferredIp: A })
  const notifyOp = startAndRegister(h, { handles: ['a.bin', 'b.bin'] })
  const move = h.step({ kind: 'notification', opId: notifyOp, message: resourceChange('SOFS', RESOURCE_STATE.UNAVAILABLE) })
  const first = only(h.step({ kind: 'connect-result', opId: only(move, 'connect').opId, outcome: 'ok', sessionId: 's-2' }), 'reclaim')
  const wait = only(h.step({ kind: 'reclaim-result', opId: first.opId, outcome: 'unavailable' }), 'set-timer')
  const again = only(h.step({ kind: 'timer', timerId: wait.timerId }), 'reclaim')
  t.equal(again.handleId, first.handleId, 'the same handle again')
  const second = only(h.step({ kind: 'reclaim-result', opId: again.opId, outcome: 'gone' }), 'reclaim')
  t.equal(second.handleId, 2)
  t.same(h.core.handleIds, [2], 'the handle whose CLOSE had gone through is forgotten')
  const failed = h.step({ kind: 'reclaim-result', opId: second.opId, outcome: 'failed', error: 'DH2C b.bin: STATUS_ACCESS_DENIED' })
  const retry = only(failed, 'set-timer')
  const next = h.step({ kind: 'timer', timerId: retry.timerId })
  const connect = only(next, 'connect')
  t.equal(connect.ip, C, 'the next candidate')
  t.same([connect.previousSessionId, connect.channelSequence], ['s-1', 1], 'still replacing the session the client had before the failover')
  const done = h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-3' })
  t.same(done.slice(0, 2), [{ kind: 'disconnect', connectionId: only(move, 'connect').opId }, { kind: 'use-connection', connectionId: connect.opId }], 'the half-done attempt\'s connection is closed')
})

t.test('witness node lost: drop its registration and register with another node', async (t) => {
  const h = new Harness({ preferredIp: A, preferredWitnessIp: B })
  const notifyOp = startAndRegister(h)
  t.equal(h.core.witnessIp, B)
  const lost = h.step({ kind: 'witness-lost', opId: notifyOp, reason: 'connection-closed', error: '14 UNAVAILABLE: Connection dropped' })
  const drop = only(lost, 'unregister')
  t.same([drop.witnessIp, drop.key], [B, 'k-1'], 'the lost registration is UnRegistered (its node may come back)')
  const list = only(lost, 'list-interfaces')
  t.equal(list.dataIp, A)
  // The cluster has not noticed yet: B is still listed, and preferred; it goes last now.
  const register = only(h.step({ kind: 'interface-list-result', opId: list.opId, ok: true, interfaces: ALL_WITNESSES, random: 0 }), 'register')
  t.equal(register.witnessIp, C, 'another node than the lost witness')
  const done = h.step({ kind: 'register-result', opId: register.opId, ok: true, key: 'k-2' })
  t.match(done[0], { event: { name: 'registered', fields: { witness: C, data: A, registration: 'k-2' } } })
  t.equal(h.core.witnessIp, C)
  t.equal(h.core.dataIp, A, 'the data path never moved')
  // The drop is retried a bounded number of times against the dead node.
  let unregister = drop
  let tries = 1
  for (;;) {
    const r = h.step({ kind: 'unregister-result', opId: unregister.opId, done: false })
    if (r.some((a) => a.kind === 'release-registration')) {
      t.same(r, [{ kind: 'release-registration', key: 'k-1' }])
      break
    }
    unregister = only(h.step({ kind: 'timer', timerId: only(r, 'set-timer').timerId }), 'unregister')
    tries++
  }
  t.equal(tries, UNREGISTER_ATTEMPTS_MAX)
})

t.test('registration retries: no candidate, then a refusing candidate, then success; rounds are bounded', async (t) => {
  const h = new Harness({ preferredIp: A })
  h.step({ kind: 'start', nodeIps: NODES, random: 0 })
  h.step({ kind: 'connect-result', opId: 1, outcome: 'ok', sessionId: 's-1' })
  const wait = only(h.step({ kind: 'interface-list-result', opId: h.lastListOpId, ok: true, interfaces: witnessList(A), random: 0 }), 'set-timer')
  t.equal(wait.delayMs, REGISTER_RETRY_MS, 'only the data node has a witness: wait and list again')
  const list2 = only(h.step({ kind: 'timer', timerId: wait.timerId }), 'list-interfaces')
  const reg = only(h.step({ kind: 'interface-list-result', opId: list2.opId, ok: true, interfaces: [...witnessList(B, C), { ipv4: D, state: INTERFACE_STATE.UNAVAILABLE, flags: INTERFACE_FLAGS.INTERFACE_WITNESS }], random: 0 }), 'register')
  t.equal(reg.witnessIp, B)
  const reg2 = only(h.step({ kind: 'register-result', opId: reg.opId, ok: false, error: 'ERROR_INVALID_STATE' }), 'register')
  t.equal(reg2.witnessIp, C, 'the next candidate')
  t.match(only(h.step({ kind: 'register-result', opId: reg2.opId, ok: true, key: 'k-9' }), 'emit'), { event: { name: 'registered', fields: { witness: C, candidates: 2, interfaces: 3 } } })

  const bounded = new Harness({ preferredIp: A })
  bounded.step({ kind: 'start', nodeIps: NODES, random: 0 })
  bounded.step({ kind: 'connect-result', opId: 1, outcome: 'ok', sessionId: 's-1' })
  let rounds = 0
  let actions: FailoverAction[] = [{ kind: 'list-interfaces', opId: bounded.lastListOpId, dataIp: A, askIp: A }]
  for (let i = 0; i < RECONNECT_ATTEMPTS_MAX + 5; i++) {
    const l = actions.find((a) => a.kind === 'list-interfaces')
    if (!l || l.kind !== 'list-interfaces') break
    rounds++
    const w = only(bounded.step({ kind: 'interface-list-result', opId: l.opId, ok: false, error: 'UNAVAILABLE' }), 'set-timer')
    actions = bounded.step({ kind: 'timer', timerId: w.timerId })
  }
  t.equal(rounds, RECONNECT_ATTEMPTS_MAX, 'registration rounds are bounded')
  t.same(actions, [])
})

t.test('a RegisterEx answered after the data path moved is UnRegistered at once', async (t) => {
  const h = new Harness({ preferredIp: A })
  const notifyOp = startAndRegister(h)
  // The witness is lost: a new registration for A starts...
  const lost = h.step({ kind: 'witness-lost', opId: notifyOp, reason: 'connection-closed', error: 'gone' })
  const register = only(h.step({ kind: 'interface-list-result', opId: only(lost, 'list-interfaces').opId, ok: true, interfaces: ALL_WITNESSES, random: 0 }), 'register')
  // ...and A fails while RegisterEx is out.
  const move = h.step({ kind: 'request-failed', requestId: 1, sentToIp: A, failure: 'connection-lost' })
  h.step({ kind: 'connect-result', opId: only(move, 'connect').opId, outcome: 'ok', sessionId: 's-2' })
  const late = h.step({ kind: 'register-result', opId: register.opId, ok: true, key: 'k-late' })
  t.same(late, [{ kind: 'unregister', opId: only(late, 'unregister').opId, witnessIp: register.witnessIp, key: 'k-late', deadlineMs: UNREGISTER_ONCE_DEADLINE_MS }])
  t.same(h.step({ kind: 'unregister-result', opId: only(late, 'unregister').opId, done: false }), [{ kind: 'release-registration', key: 'k-late' }], 'a single try')
})

t.test('timeout-only mode: no witness; a dead node is noticed only through a request timeout', async (t) => {
  const h = new Harness({ preferredIp: A, timeoutOnly: true })
  const connect = only(h.step({ kind: 'start', nodeIps: NODES, random: 0 }), 'connect')
  t.same(h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' }).map((a) => a.kind), ['use-connection', 'started'], 'no registration')
  t.same(h.step({ kind: 'request-failed', requestId: 1, sentToIp: A, failure: 'connection-lost' }), [{ kind: 'retry-request', requestId: 1, delayMs: RECONNECT_RETRY_MS }], 'a refused connection is only retried')
  t.equal(h.core.phase, 'attached')
  h.nowMs = 61_000
  const timedOut = h.step({ kind: 'request-failed', requestId: 1, sentToIp: A, failure: 'timed-out' })
  t.same(events(timedOut), ['failover-start', 'failover-attempt'])
  t.match(timedOut[0], { event: { fields: { cause: 'request-timeout', from: A, atMs: 61_000 } } })
  t.same(timedOut.at(-1), { kind: 'retry-request', requestId: 1, delayMs: 0 }, 'the request waits for the failover')
  const back = h.step({ kind: 'connect-result', opId: only(timedOut, 'connect').opId, outcome: 'ok', sessionId: 's-2' })
  t.same(events(back), ['reconnected', 'replayed'])
  t.notOk(back.some((a) => a.kind === 'list-interfaces' || a.kind === 'register'), 'and still no witness')
})

t.test('a witness client fails over at once when the connection is refused; a failure from a node it left is retried', async (t) => {
  const h = new Harness({ preferredIp: A })
  startAndRegister(h)
  t.same(h.step({ kind: 'request-failed', requestId: 1, sentToIp: C, failure: 'connection-lost' }), [{ kind: 'retry-request', requestId: 1, delayMs: RECONNECT_RETRY_MS }])
  t.same(h.step({ kind: 'request-failed', requestId: 2, sentToIp: A, failure: 'unavailable' }), [{ kind: 'retry-request', requestId: 2, delayMs: RECONNECT_RETRY_MS }], 'a CSV without owner is not a dead node')
  const moved = h.step({ kind: 'request-failed', requestId: 3, sentToIp: A, failure: 'connection-lost' })
  t.match(moved[0], { event: { name: 'failover-start', fields: { cause: 'connection-failed' } } })
  const second = h.step({ kind: 'request-failed', requestId: 4, sentToIp: A, failure: 'timed-out' })
  t.same(second, [{ kind: 'retry-request', requestId: 4, delayMs: 0 }], 'one failover at a time: the second request waits for it')
})

t.test('a one-address name: the failover reconnects to the node it left, the only one there is', async (t) => {
  const h = new Harness({ timeoutOnly: true })
  const connect = only(h.step({ kind: 'start', nodeIps: [A], random: 0 }), 'connect')
  h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' })
  const r = h.step({ kind: 'request-failed', requestId: 5, sentToIp: A, failure: 'timed-out' })
  t.same(events(r), ['failover-start', 'failover-attempt'])
  t.same(only(r, 'connect').ip, A, 'the node it left')
  t.same(only(r, 'retry-request'), { kind: 'retry-request', requestId: 5, delayMs: 0 }, 'the request waits for the failover')
})

t.test('writes in flight are bounded and replayed; stop UnRegisters, closes and refuses requests', async (t) => {
  const h = new Harness({ preferredIp: A })
  startAndRegister(h)
  const admitted = Array.from({ length: WRITES_IN_FLIGHT_MAX }, (_, i) => h.step({ kind: 'write-started', writeId: i })).flat()
  t.same(admitted, [], `${WRITES_IN_FLIGHT_MAX} writes admitted silently`)
  t.same(h.step({ kind: 'write-started', writeId: 999 }), [{ kind: 'refuse-write', writeId: 999, reason: 'too many writes in flight' }])
  h.step({ kind: 'write-finished', writeId: 0 })
  t.equal(h.core.pendingWriteIds.length, WRITES_IN_FLIGHT_MAX - 1)
  const stop = h.step({ kind: 'stop' })
  const unregister = only(stop, 'unregister')
  t.same([unregister.key, unregister.deadlineMs], ['k-1', UNREGISTER_ONCE_DEADLINE_MS])
  t.equal(h.core.phase, 'stopping')
  t.same(h.step({ kind: 'request-failed', requestId: 9, sentToIp: A, failure: 'timed-out' }), [{ kind: 'fail-request', requestId: 9, reason: 'client-stopped', error: 'the client stopped' }])
  t.same(h.step({ kind: 'unregister-result', opId: unregister.opId, done: true }), [
    { kind: 'release-registration', key: 'k-1' },
    { kind: 'disconnect', connectionId: 1 },
    { kind: 'emit', event: { name: 'stopped', fields: { data: A } } },
  ])
  t.same(h.step({ kind: 'stop' }), [{ kind: 'emit', event: { name: 'stopped', fields: { data: A } } }], 'stopping again says so again, without IO')
})

t.test('stop during a failover fails it; a connection that completes afterwards is closed', async (t) => {
  const h = new Harness({ preferredIp: A, timeoutOnly: true })
  const connect = only(h.step({ kind: 'start', nodeIps: NODES, random: 0 }), 'connect')
  h.step({ kind: 'connect-result', opId: connect.opId, outcome: 'ok', sessionId: 's-1' })
  const move = h.step({ kind: 'failover-requested', cause: 'operator', fromIp: A, toIps: [] })
  const stop = h.step({ kind: 'stop' })
  t.same(events(stop), ['failover-failed', 'stopped'])
  t.same(h.step({ kind: 'connect-result', opId: only(move, 'connect').opId, outcome: 'ok', sessionId: 's-2' }), [{ kind: 'disconnect', connectionId: only(move, 'connect').opId }])
  t.same(h.step({ kind: 'failover-requested', cause: 'operator', fromIp: A, toIps: [] }), [], 'no failover after stop')
})

/**
 * A scripted world around one core: it answers every action from a seeded PRNG (connects that
 * refuse, lists, registrations, notifications of every kind, request failures). The transcript
 * is every action in order.
 */
function run(seed: number): FailoverAction[] {
  const prng = new Prng(seed)
  const core = new FailoverCore({ netName: 'SOFS', timeoutOnly: false, preferredWitnessIp: C })
  const transcript: FailoverAction[] = []
  const pending: FailoverInput[] = []
  let nowMs = 0
  let notifyOp = 0
  const feed = (input: FailoverInput) => {
    const actions = core.step(input)
    transcript.push(...actions)
    for (const a of actions) {
      nowMs += prng.int(0, 5)
      switch (a.kind) {
        case 'connect':
          pending.push(prng.chance(0.3) ? { kind: 'connect-result', nowMs, opId: a.opId, outcome: 'refused', error: 'refused' } : { kind: 'connect-result', nowMs, opId: a.opId, outcome: 'ok', sessionId: `s-${a.opId}` })
          break
        case 'reclaim':
          pending.push({ kind: 'reclaim-result', nowMs, opId: a.opId, outcome: prng.pick(['reclaimed', 'reclaimed', 'unavailable'] as const) })
          break
        case 'list-interfaces':
          pending.push({ kind: 'interface-list-result', nowMs, opId: a.opId, ok: true, interfaces: witnessList(...prng.shuffle(NODES)), random: 0 })
          break
        case 'register':
          pending.push(prng.chance(0.2) ? { kind: 'register-result', nowMs, opId: a.opId, ok: false, error: 'refused' } : { kind: 'register-result', nowMs, opId: a.opId, ok: true, key: `k-${a.opId}` })
          break
        case 'await-notification':
          notifyOp = a.opId
          break
        case 'unregister':
          pending.push({ kind: 'unregister-result', nowMs, opId: a.opId, done: prng.chance(0.5) })
          break
        case 'set-timer':
          pending.push({ kind: 'timer', nowMs: nowMs + a.delayMs, timerId: a.timerId })
          break
        default:
          break
      }
    }
  }
  feed({ kind: 'start', nowMs, nodeIps: NODES, random: prng.next() })
  for (let i = 1; i <= 3; i++) feed({ kind: 'handle-opened', nowMs, handleId: i, path: `f${i}` })
  for (let i = 0; i < 400; i++) {
    const r = prng.next()
    if (r < 0.6 && pending.length > 0) {
      feed(pending.splice(prng.int(0, pending.length - 1), 1)[0])
    } else if (r < 0.8 && notifyOp > 0) {
      const op = notifyOp
      notifyOp = 0
      const kind = prng.int(0, 5)
      if (kind === 0) feed({ kind: 'witness-lost', nowMs, opId: op, reason: prng.pick(['connection-closed', 'no-answer', 'refused'] as const), error: 'lost' })
      else if (kind === 1) feed({ kind: 'notify-timeout', nowMs, opId: op })
      else if (kind === 2) feed({ kind: 'notification', nowMs, opId: op, message: resourceChange('SOFS', prng.pick([RESOURCE_STATE.AVAILABLE, RESOURCE_STATE.UNAVAILABLE])) })
      else if (kind === 3) feed({ kind: 'notification', nowMs, opId: op, message: ipList(prng.pick([MESSAGE_TYPE.CLIENT_MOVE, MESSAGE_TYPE.SHARE_MOVE]), [{ ip: prng.pick(NODES) }]) })
      else feed({ kind: 'notification', nowMs, opId: op, message: ipList(MESSAGE_TYPE.IP_CHANGE, [{ ip: prng.pick(NODES), flags: prng.pick([IPADDR_FLAGS.ONLINE, IPADDR_FLAGS.OFFLINE]) }]) })
    } else {
      feed({ kind: 'request-failed', nowMs, requestId: i, sentToIp: core.dataIp, failure: prng.pick(['timed-out', 'connection-lost', 'unavailable'] as const) })
    }
  }
  feed({ kind: 'stop', nowMs })
  return transcript
}

t.test('determinism: the same inputs and randomness give the same actions', async (t) => {
  for (const seed of [1, 2, 3, 42]) {
    const first = run(seed)
    t.ok(first.length > 100, `seed ${seed}: ${first.length} actions`)
    t.ok(events(first).includes('reconnected') && events(first).includes('registered'), `seed ${seed} fails over and registers`)
    t.same(run(seed), first, `seed ${seed} replays exactly`)
  }
  t.not(JSON.stringify(run(1)), JSON.stringify(run(2)), 'another seed, another run')
})

t.test('the witness node is picked at random among the other nodes, so registrations spread (issue 16)', async (t) => {
  const D_NODES = [A, B, C, D]
  const all = witnessList(A, B, C, D)
  const registerWith = (config: Partial<FailoverCoreConfig>, random: number, interfaces = all): string => {
    const h = new Harness({ preferredIp: A, ...config })
    h.step({ kind: 'start', nodeIps: D_NODES, random: 0 })
    h.step({ kind: 'connect-result', opId: 1, outcome: 'ok', sessionId: 's-1' })
    return only(h.step({ kind: 'interface-list-result', opId: h.lastListOpId, ok: true, interfaces, random }), 'register').witnessIp
  }
  // The candidates are B, C and D (never the data node A); the random number picks the first.
  t.same([0, 0.34, 0.67, 0.999].map((r) => registerWith({}, r)), [B, C, D, D])
  // A preferred witness still wins whatever the draw (tests and the demo pin it).
  t.same([0, 0.5, 0.99].map((r) => registerWith({ preferredWitnessIp: B }, r)), [B, B, B])
  // Unavailable interfaces and those without the witness flag are never drawn.
  const someDown = [...witnessList(A, B), { ipv4: C, state: INTERFACE_STATE.UNAVAILABLE, flags: INTERFACE_FLAGS.INTERFACE_WITNESS }, { ipv4: D, state: INTERFACE_STATE.AVAILABLE, flags: INTERFACE_FLAGS.IPV4 }]
  t.same([0, 0.5, 0.99].map((r) => registerWith({}, r, someDown)), [B, B, B])
  // Over many seeded draws every other node gets its share (none gets less than a quarter).
  const prng = new Prng(16)
  const counts = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    const ip = registerWith({}, prng.next())
    counts.set(ip, (counts.get(ip) ?? 0) + 1)
  }
  t.same([...counts.keys()].sort(), [B, C, D])
  for (const [ip, n] of counts) t.ok(n >= 75, `${ip} got ${n} of 300`)
})

t.test('after its first pick fails, the client tries the other candidates in turn, wrapping around', async (t) => {
  const h = new Harness({ preferredIp: A })
  h.step({ kind: 'start', nodeIps: [A, B, C, D], random: 0 })
  h.step({ kind: 'connect-result', opId: 1, outcome: 'ok', sessionId: 's-1' })
  let reg = only(h.step({ kind: 'interface-list-result', opId: h.lastListOpId, ok: true, interfaces: witnessList(A, B, C, D), random: 0.7 }), 'register')
  const tried = [reg.witnessIp]
  for (let i = 0; i < 2; i++) {
    reg = only(h.step({ kind: 'register-result', opId: reg.opId, ok: false, error: 'ERROR_INVALID_STATE' }), 'register')
    tried.push(reg.witnessIp)
  }
  t.same(tried, [D, B, C])
})
