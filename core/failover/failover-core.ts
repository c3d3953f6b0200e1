// The failover core: what ONE witness-aware SMB 3 client does when its data node fails or
// moves (MS-SWN 3.2, MS-SMB2 3.2.4.x, DESIGN §4), as a deterministic state machine.
//
//   step(input) -> actions
//
// Inputs are the application's calls, the results of earlier actions, witness notifications
// and timers, each with the adapter's clock reading; randomness (the first node at start) comes
// in with the start input. Actions are the IO to do (connect, reclaim handles, replay writes,
// register with a witness, AsyncNotify, UnRegister), timers to set, verdicts on failed
// requests and the client events to emit. It does no IO, reads no clock and holds no promise,
// so the FailoverClient adapter and the seeded simulator drive the same logic.
//
// The rules, in the order of a client's life:
// - start: connect the data path to the preferred (or a randomly picked) node; a node that
//   refuses is skipped for the next address of the name. Then, unless timeout-only, register.
// - register: GetInterfaceList on the data node, RegisterEx on another node's AVAILABLE witness
//   interface (the preferred one first, a just-lost one last), keep one AsyncNotify outstanding.
//   A registration replaced by another is UnRegistered (a few tries: its node may be busy).
// - RESOURCE_CHANGE UNAVAILABLE for the data node (named by the registered NetName or IP):
//   fail over. For another resource, or AVAILABLE: keep listening.
// - CLIENT_MOVE / SHARE_MOVE naming destinations other than the data node: fail over to them.
// - IP_CHANGE: OFFLINE addresses leave the failover targets, ONLINE ones come back.
// - AsyncNotify failed, or went unanswered past the keep-alive and a grace (the witness node
//   died, froze or was cut off): register again, elsewhere (GetInterfaceList from the data
//   node, or from another node when it does not answer), then catch up on what the lost
//   registration would have said: the new witness node's interface list, taken once the new
//   registration exists, shows the data node UNAVAILABLE -> fail over (witness-loss.ts).
// - A request timed out: fail over (the only detection a timeout-only client has). A request
//   whose connection was refused or dropped: fail over at once, unless timeout-only.
// - failover: one at a time; close the old connection, then attempt the candidates in turn
//   (bounded, a pause between attempts): session setup with PreviousSessionId and the next
//   ChannelSequence, DH2C of every persistent handle (retried while its CSV has no owner),
//   replay of every write that had no answer, then register again.
import assert from 'node:assert/strict'
import type { ClientEvent, FailoverAction, FailoverCause } from './failover-action.js'
import {
  DROPS_MAX,
  HANDLES_MAX,
  LOST_WITNESS_AVOID_MS,
  OFFLINE_ADDRESSES_MAX,
  ORPHAN_REGISTERS_MAX,
  RECONNECT_ATTEMPTS_MAX,
  RECONCILE_ATTEMPTS_MAX,
  RECONNECT_RETRY_MS,
  REGISTER_RETRY_MS,
  UNREGISTER_ATTEMPTS_MAX,
  UNREGISTER_DEADLINE_MS,
  UNREGISTER_ONCE_DEADLINE_MS,
  UNREGISTER_RETRY_MS,
  WRITES_IN_FLIGHT_MAX,
} from './failover-bounds.js'
import type { FailoverInput, WitnessLossReason, WitnessMessage } from './failover-input.js'
import { attemptTarget, failoverCandidates, onlineAddresses, startOrder } from './failover-targets.js'
import { judgeNotification } from './notification-rules.js'
import { witnessCandidates } from './witness-choice.js'
import { reconcileWithInterfaces } from './witness-loss.js'

export interface FailoverCoreConfig {
  /** The cluster's network name the client registers (Windows names it in RESOURCE_CHANGE). */
  readonly netName: string
  /** Start on this node's IP instead of a random one. */
  readonly preferredIp?: string
  /** Register with this node's witness service when it is a candidate. */
  readonly preferredWitnessIp?: string
  /** No witness: a dead node is noticed only when a request times out. */
  readonly timeoutOnly: boolean
}

/**
 * idle: not started (or start failed); starting: connecting the first data path; attached:
 * the data path is on `dataIp`; failing-over: moving it; stopping: the final UnRegister is
 * out; stopped: nothing more happens but pending UnRegisters.
 */
export type FailoverPhase = 'idle' | 'starting' | 'attached' | 'failing-over' | 'stopping' | 'stopped'

interface StartProgress {
  readonly order: readonly string[]
  index: number
  opId: number
}

interface FailoverProgress {
  readonly cause: FailoverCause
  readonly fromIp: string
  readonly toIps: readonly string[]
  readonly startedMs: number
  /** The session the new one replaces (PreviousSessionId), and the ChannelSequence after it. */
  readonly previousSessionId: string
  readonly channelSequence: number
  attempt: number
  lastError: string
  target: string
  step: 'connecting' | 'reclaiming' | 'waiting-to-attempt' | 'waiting-to-reclaim'
  /** The connect or reclaim this failover waits for, or the timer. */
  opId: number
  timerId: number
  /** Handles still to reclaim on this attempt's connection, in open order. */
  reclaimQueue: number[]
  reclaimTries: number
}

interface Registering {
  readonly dataIp: string
  /** The witness node lost just before (tried last), '' when none was. */
  readonly lostWitnessIp: string
  /** When it was lost (the clock of the witness-lost input). */
  readonly lostAtMs: number
  /** The witness node to try last: the one just lost, or one lost less than LOST_WITNESS_AVOID_MS ago. */
  readonly avoidIp: string
  /** The nodes to ask for the interface list, in turn after one fails to answer: the data node first. */
  readonly listers: readonly string[]
  listerIndex: number
  round: number
  step: 'listing' | 'registering' | 'waiting'
  candidates: string[]
  index: number
  interfaceCount: number
  opId: number
  timerId: number
}

interface Registration {
  readonly key: string
  readonly witnessIp: string
  readonly dataIp: string
  /** The outstanding AsyncNotify; null when the client stopped listening on it. */
  notifyOpId: number | null
}

/** The catching-up after a lost witness: GetInterfaceList on the new witness node. */
interface Reconciling {
  readonly key: string
  readonly witnessIp: string
  tries: number
  opId: number
  timerId: number
}

interface Drop {
  readonly key: string
  readonly witnessIp: string
  readonly attemptsMax: number
  readonly deadlineMs: number
  attempt: number
  opId: number
  timerId: number
}

export class FailoverCore {
  private phaseValue: FailoverPhase = 'idle'
  private nodeIps: readonly string[] = []
  /** Addresses an IP_CHANGE reported OFFLINE (and no later one ONLINE): not tried while others remain. */
  private readonly offline = new Set<string>()
  private dataIpValue = ''
  /** The connection in use (the opId of its connect), and its session. */
  private connectionId: number | null = null
  private sessionId = ''
  private channelSequence = 0
  private hasSession = false
  private starting: StartProgress | null = null
  private failover: FailoverProgress | null = null
  private registering: Registering | null = null
  private registration: Registration | null = null
  private reconciling: Reconciling | null = null
  /** The last witness node lost, and when: registrations soon after (a failover's) try it last too. */
  private lastLostWitness: { readonly ip: string; readonly atMs: number } | null = null
  private witnessIpValue = ''
  private readonly drops = new Map<string, Drop>()
  /** RegisterEx calls whose attempt was given up: opId -> witness IP. */
  private readonly orphanRegisters = new Map<number, string>()
  private stopUnregisterOpId: number | null = null
  /** handleId -> path, in open order (the order handles are reclaimed in). */
  private readonly handles = new Map<number, string>()
  private readonly writes = new Set<number>()
  private nextId = 1
  /** The clock reading of the input being handled. */
  private nowMs = 0
  private out: FailoverAction[] = []

  constructor(private readonly config: FailoverCoreConfig) {}

  get phase(): FailoverPhase {
    return this.phaseValue
  }

  /** The node the data path is on ('' before start). */
  get dataIp(): string {
    return this.dataIpValue
  }

  /** The node of the latest registration ('' before the first). */
  get witnessIp(): string {
    return this.witnessIpValue
  }

  /** The addresses the witness last reported OFFLINE, sorted. */
  get offlineAddresses(): string[] {
    return [...this.offline].sort()
  }

  get handleIds(): number[] {
    return [...this.handles.keys()]
  }

  get pendingWriteIds(): number[] {
    return [...this.writes]
  }

  step(input: FailoverInput): FailoverAction[] {
    this.out = []
    this.nowMs = input.nowMs
    switch (input.kind) {
      case 'start':
        this.onStart(input.nodeIps, input.random)
        break
      case 'addresses':
        this.nodeIps = [...input.nodeIps]
        break
      case 'connect-result':
        this.onConnectResult(input)
        break
      case 'reclaim-result':
        this.onReclaimResult(input)
        break
      case 'interface-list-result':
        this.onInterfaceList(input)
        break
      case 'register-result':
        this.onRegisterResult(input)
        break
      case 'notification':
        this.onNotification(input.opId, input.message, input.nowMs)
        break
      case 'notify-timeout':
        this.onNotifyTimeout(input.opId)
        break
      case 'witness-lost':
        this.onWitnessLost(input.opId, input.reason, input.error, input.nowMs)
        break
      case 'unregister-result':
        this.onUnregisterResult(input.opId, input.done)
        break
      case 'timer':
        this.onTimer(input.timerId, input.nowMs)
        break
      case 'request-failed':
        this.onRequestFailed(input)
        break
      case 'failover-requested':
        this.requestFailover(input.cause, input.fromIp, input.toIps, input.nowMs)
        break
      case 'handle-opened':
        this.onHandleOpened(input.handleId, input.path)
        break
      case 'handle-closed':
        this.handles.delete(input.handleId)
        break
      case 'write-started':
        this.onWriteStarted(input.writeId)
        break
      case 'write-finished':
        this.writes.delete(input.writeId)
        break
      case 'stop':
        this.onStop()
        break
      default: {
        const never: never = input
        assert.fail(`unknown input ${JSON.stringify(never)}`)
      }
    }
    this.checkInvariants()
    return this.out
  }

  // ---- start ----

  private onStart(nodeIps: readonly string[], random: number): void {
    if (this.phaseValue !== 'idle') {
      this.out.push({ kind: 'start-failed', error: `the client is ${this.phaseValue}, not idle` })
      return
    }
    this.nodeIps = [...nodeIps]
    const order = startOrder(onlineAddresses(this.nodeIps, this.offline), this.config.preferredIp, random)
    if (order.length === 0) {
      this.out.push({ kind: 'start-failed', error: 'the cluster name resolves to no address' })
      return
    }
    this.phaseValue = 'starting'
    this.starting = { order, index: 0, opId: 0 }
    this.connectStartCandidate()
  }

  private connectStartCandidate(): void {
    const s = this.starting
    assert.ok(s)
    s.opId = this.id()
    this.out.push({ kind: 'connect', opId: s.opId, ip: s.order[s.index], previousSessionId: '', channelSequence: 0 })
  }

  // ---- the data path ----

  private onConnectResult(input: Extract<FailoverInput, { kind: 'connect-result' }>): void {
    const s = this.starting
    if (s && input.opId === s.opId) {
      const ip = s.order[s.index]
      if (input.outcome === 'ok') {
        this.starting = null
        this.attach(input.opId, ip, input.sessionId, 0)
        this.phaseValue = 'attached'
        this.out.push({ kind: 'started', dataIp: ip })
        if (!this.config.timeoutOnly) this.beginRegistration('')
        return
      }
      this.log('failover.start.connect-failed', { ip, outcome: input.outcome, error: input.error })
      s.index++
      if (s.index < s.order.length) {
        this.connectStartCandidate()
        return
      }
      this.starting = null
      this.phaseValue = 'idle'
      this.out.push({ kind: 'start-failed', error: input.error })
      return
    }
    const f = this.failover
    if (f && f.step === 'connecting' && input.opId === f.opId) {
      if (input.outcome === 'ok') {
        this.attach(input.opId, f.target, input.sessionId, f.channelSequence)
        f.reclaimQueue = [...this.handles.keys()]
        this.reclaimNext()
      } else {
        this.log('failover.attempt.connect-failed', { to: f.target, attempt: f.attempt, outcome: input.outcome, error: input.error })
        this.attemptFailed(input.error)
      }
      return
    }
    // Nobody waits for this connection any more (the client stopped meanwhile): close it.
    if (input.outcome === 'ok') {
      this.log('failover.connect.stale', { connectionId: input.opId })
      this.out.push({ kind: 'disconnect', connectionId: input.opId })
    }
  }

  /** The data path is now on `ip`; a connection it replaces (an attempt that failed later) is closed. */
  private attach(connectionId: number, ip: string, sessionId: string, channelSequence: number): void {
    if (this.connectionId !== null && this.connectionId !== connectionId) this.out.push({ kind: 'disconnect', connectionId: this.connectionId })
    this.connectionId = connectionId
    this.sessionId = sessionId
    this.channelSequence = channelSequence
    this.hasSession = true
    this.dataIpValue = ip
    // A node that just answered is online, whatever an older IP_CHANGE said.
    this.offline.delete(ip)
    this.out.push({ kind: 'use-connection', connectionId })
  }

  private onRequestFailed(input: Extract<FailoverInput, { kind: 'request-failed' }>): void {
    if (this.phaseValue === 'stopping' || this.phaseValue === 'stopped') {
      this.out.push({ kind: 'fail-request', requestId: input.requestId, reason: 'client-stopped', error: 'the client stopped' })
      return
    }
    // Only a failure on the node still in use says something about it: one from a node the
    // client already left is simply retried.
    const timedOut = input.failure === 'timed-out'
    const nodeGone = timedOut || (input.failure === 'connection-lost' && !this.config.timeoutOnly)
    const movesNow = nodeGone && input.sentToIp === this.dataIpValue
    if (movesNow) {
      const before = this.out.length
      this.requestFailover(timedOut ? 'request-timeout' : 'connection-failed', input.sentToIp, [], input.nowMs)
      // A failover that failed at once (no node to go to) fails the request that waited for it.
      const failed = this.out.slice(before).find((a) => a.kind === 'emit' && a.event.name === 'failover-failed')
      if (failed && failed.kind === 'emit' && failed.event.name === 'failover-failed') {
        this.out.push({ kind: 'fail-request', requestId: input.requestId, reason: 'failover-failed', error: failed.event.fields.error })
        return
      }
    }
    // Waiting for the failover replaces the pause; without one, pause before sending again.
    const delayMs = movesNow && this.phaseValue === 'failing-over' ? 0 : RECONNECT_RETRY_MS
    this.out.push({ kind: 'retry-request', requestId: input.requestId, delayMs })
  }

  /** Starts moving the data path off `fromIp`, unless a move is under way or it left that node already. */
  private requestFailover(cause: FailoverCause, fromIp: string, toIps: readonly string[], nowMs: number): void {
    if (this.phaseValue === 'failing-over') {
      this.log('failover.already-under-way', { cause, from: fromIp })
      return
    }
    if (this.phaseValue !== 'attached' && this.phaseValue !== 'idle') {
      this.log('failover.not-now', { cause, from: fromIp, phase: this.phaseValue })
      return
    }
    if (fromIp !== this.dataIpValue) {
      this.log('failover.stale', { cause, from: fromIp, data: this.dataIpValue })
      return
    }
    this.phaseValue = 'failing-over'
    this.failover = {
      cause,
      fromIp,
      toIps: [...toIps],
      startedMs: nowMs,
      previousSessionId: this.hasSession ? this.sessionId : '',
      channelSequence: this.hasSession ? (this.channelSequence + 1) & 0xffff : 0,
      attempt: 0,
      lastError: '',
      target: '',
      step: 'waiting-to-attempt',
      opId: 0,
      timerId: 0,
      reclaimQueue: [],
      reclaimTries: 0,
    }
    this.emit({ name: 'failover-start', fields: { cause, from: fromIp, atMs: nowMs } })
    // Calls in flight on the old node fail now instead of at their deadline.
    if (this.connectionId !== null) {
      this.out.push({ kind: 'disconnect', connectionId: this.connectionId })
      this.connectionId = null
    }
    this.attemptFailover()
  }

  private attemptFailover(): void {
    const f = this.failover
    assert.ok(f)
    const target = f.attempt < RECONNECT_ATTEMPTS_MAX ? attemptTarget(failoverCandidates(this.nodeIps, this.online(), f.fromIp, f.toIps), f.attempt) : undefined
    if (target === undefined) {
      this.failoverFailed(f.lastError)
      return
    }
    f.target = target
    f.step = 'connecting'
    f.opId = this.id()
    this.emit({ name: 'failover-attempt', fields: { cause: f.cause, from: f.fromIp, to: target, attempt: f.attempt } })
    this.out.push({ kind: 'connect', opId: f.opId, ip: target, previousSessionId: f.previousSessionId, channelSequence: f.channelSequence })
  }

  private attemptFailed(error: string): void {
    const f = this.failover
    assert.ok(f)
    f.lastError = error
    f.attempt++
    f.step = 'waiting-to-attempt'
    f.timerId = this.id()
    this.out.push({ kind: 'set-timer', timerId: f.timerId, delayMs: RECONNECT_RETRY_MS })
  }

  private reclaimNext(): void {
    const f = this.failover
    assert.ok(f)
    // A handle closed meanwhile needs no reclaim.
    while (f.reclaimQueue.length > 0 && !this.handles.has(f.reclaimQueue[0])) f.reclaimQueue.shift()
    if (f.reclaimQueue.length === 0) {
      this.failoverSucceeded()
      return
    }
    f.reclaimTries = 0
    this.sendReclaim()
  }

  private sendReclaim(): void {
    const f = this.failover
    assert.ok(f && f.reclaimQueue.length > 0)
    f.step = 'reclaiming'
    f.opId = this.id()
    this.out.push({ kind: 'reclaim', opId: f.opId, handleId: f.reclaimQueue[0] })
  }

  private onReclaimResult(input: Extract<FailoverInput, { kind: 'reclaim-result' }>): void {
    const f = this.failover
    if (!f || f.step !== 'reclaiming' || input.opId !== f.opId) {
      this.log('failover.reclaim.stale', { opId: input.opId })
      return
    }
    const handleId = f.reclaimQueue[0]
    switch (input.outcome) {
      case 'reclaimed':
        f.reclaimQueue.shift()
        this.reclaimNext()
        return
      case 'gone':
        // Its CLOSE reached the failed node and only the answer was lost.
        this.handles.delete(handleId)
        f.reclaimQueue.shift()
        this.reclaimNext()
        return
      case 'unavailable':
        // The CSV may still be moving to its new owner.
        f.reclaimTries++
        if (f.reclaimTries >= RECONNECT_ATTEMPTS_MAX) {
          this.attemptFailed(`DH2C ${this.handles.get(handleId) ?? handleId}: the CSV never came back`)
          return
        }
        f.step = 'waiting-to-reclaim'
        f.timerId = this.id()
        this.out.push({ kind: 'set-timer', timerId: f.timerId, delayMs: RECONNECT_RETRY_MS })
        return
      case 'failed':
        this.attemptFailed(input.error)
        return
    }
  }

  private failoverSucceeded(): void {
    const f = this.failover
    assert.ok(f)
    this.failover = null
    this.phaseValue = 'attached'
    this.emit({ name: 'reconnected', fields: { cause: f.cause, from: f.fromIp, to: f.target, afterMs: this.nowMs - f.startedMs, handles: this.handles.size } })
    this.out.push({ kind: 'replay', writeIds: [...this.writes] })
    this.emit({ name: 'replayed', fields: { count: this.writes.size } })
    if (!this.config.timeoutOnly) this.beginRegistration('')
  }

  private failoverFailed(lastError: string): void {
    const f = this.failover
    assert.ok(f)
    this.failover = null
    // The data path stays where it is; a later failed request may start another failover.
    this.phaseValue = 'attached'
    this.emit({ name: 'failover-failed', fields: { cause: f.cause, from: f.fromIp, error: `could not fail over from ${f.fromIp}: ${lastError}` } })
  }

  // ---- the witness ----

  /** Drops the current registration (if any) and registers anew for the current data node. */
  private beginRegistration(lostWitnessIp: string, lostAtMs = 0): void {
    assert.ok(!this.config.timeoutOnly, 'a timeout-only client never registers')
    if (this.registration) {
      this.startDrop(this.registration.key, this.registration.witnessIp, UNREGISTER_ATTEMPTS_MAX, UNREGISTER_DEADLINE_MS)
      this.registration = null
    }
    this.reconciling = null
    this.abandonRegistering()
    const dataIp = this.dataIpValue
    const recent = this.lastLostWitness
    const avoidIp = lostWitnessIp !== '' ? lostWitnessIp : recent && this.nowMs - recent.atMs < LOST_WITNESS_AVOID_MS ? recent.ip : ''
    // The data node first (MS-SWN 3.2.4.1); if it does not answer, the other nodes, the lost
    // witness last: any serving node lists the cluster's interfaces.
    const others = this.nodeIps.filter((ip) => ip !== dataIp && ip !== avoidIp)
    const listers = [dataIp, ...others, ...(avoidIp !== '' && avoidIp !== dataIp ? [avoidIp] : [])]
    this.registering = {
      dataIp,
      lostWitnessIp,
      lostAtMs,
      avoidIp,
      listers,
      listerIndex: 0,
      round: 0,
      step: 'listing',
      candidates: [],
      index: 0,
      interfaceCount: 0,
      opId: 0,
      timerId: 0,
    }
    this.registerRound()
  }

  /** Gives up the registration attempt; a RegisterEx it has out is UnRegistered if it succeeds. */
  private abandonRegistering(): void {
    const r = this.registering
    if (!r) return
    if (r.step === 'registering') {
      if (this.orphanRegisters.size >= ORPHAN_REGISTERS_MAX) {
        const [oldest] = this.orphanRegisters.keys()
        this.orphanRegisters.delete(oldest)
        this.log('failover.register.orphan-forgotten', { opId: oldest })
      }
      this.orphanRegisters.set(r.opId, r.candidates[r.index])
    }
    this.registering = null
  }

  private registerRound(): void {
    const r = this.registering
    assert.ok(r)
    let givingUp = ''
    if (this.phaseValue === 'stopping' || this.phaseValue === 'stopped') givingUp = 'the client stopped'
    else if (r.dataIp !== this.dataIpValue) givingUp = 'the data path moved'
    else if (r.round >= RECONNECT_ATTEMPTS_MAX) givingUp = `${r.round} rounds failed`
    else if (!this.nodeIps.includes(r.dataIp)) givingUp = 'the data node no longer resolves'
    if (givingUp) {
      this.log('failover.register.gave-up', { data: r.dataIp, reason: givingUp })
      this.registering = null
      return
    }
    r.step = 'listing'
    r.opId = this.id()
    this.out.push({ kind: 'list-interfaces', opId: r.opId, dataIp: r.dataIp, askIp: this.listerOf(r) })
  }

  private listerOf(r: Registering): string {
    return r.listers[r.listerIndex % r.listers.length]
  }

  private onInterfaceList(input: Extract<FailoverInput, { kind: 'interface-list-result' }>): void {
    if (this.reconciling && this.reconciling.opId === input.opId && this.reconciling.timerId === 0) {
      this.onReconcileList(input)
      return
    }
    const r = this.registering
    if (!r || r.step !== 'listing' || input.opId !== r.opId) return
    const listerIp = this.listerOf(r)
    if (!input.ok) {
      this.log('failover.register.list-failed', { data: r.dataIp, asked: listerIp, error: input.error })
      // The next round asks the next node: a data node that does not answer (frozen, or cut
      // off from the client) must not keep the client from registering.
      r.listerIndex++
      this.nextRegisterRound()
      return
    }
    r.candidates = witnessCandidates(
      input.interfaces,
      r.dataIp,
      {
        preferredWitnessIp: this.config.preferredWitnessIp,
        lostWitnessIp: r.avoidIp,
        ...(listerIp !== r.dataIp ? { listerIp } : {}),
      },
      input.random,
    )
    r.interfaceCount = input.interfaces.length
    r.index = 0
    this.registerWithCandidate()
  }

  private registerWithCandidate(): void {
    const r = this.registering
    assert.ok(r)
    while (r.index < r.candidates.length && !this.nodeIps.includes(r.candidates[r.index])) r.index++
    if (r.index >= r.candidates.length) {
      this.log('failover.register.no-candidate', { data: r.dataIp, candidates: r.candidates })
      this.nextRegisterRound()
      return
    }
    r.step = 'registering'
    r.opId = this.id()
    this.out.push({ kind: 'register', opId: r.opId, witnessIp: r.candidates[r.index], dataIp: r.dataIp })
  }

  private nextRegisterRound(): void {
    const r = this.registering
    assert.ok(r)
    r.round++
    r.step = 'waiting'
    r.timerId = this.id()
    this.out.push({ kind: 'set-timer', timerId: r.timerId, delayMs: REGISTER_RETRY_MS })
  }

  private onRegisterResult(input: Extract<FailoverInput, { kind: 'register-result' }>): void {
    const orphanWitnessIp = this.orphanRegisters.get(input.opId)
    if (orphanWitnessIp !== undefined) {
      this.orphanRegisters.delete(input.opId)
      if (input.ok) this.startDrop(input.key, orphanWitnessIp, 1, UNREGISTER_ONCE_DEADLINE_MS)
      return
    }
    const r = this.registering
    if (!r || r.step !== 'registering' || input.opId !== r.opId) {
      this.log('failover.register.stale', { opId: input.opId })
      return
    }
    const witnessIp = r.candidates[r.index]
    if (!input.ok) {
      this.log('failover.register.refused', { witness: witnessIp, error: input.error })
      r.index++
      this.registerWithCandidate()
      return
    }
    this.registering = null
    if (r.dataIp !== this.dataIpValue || this.phaseValue === 'stopping' || this.phaseValue === 'stopped') {
      // Too late: the data path moved (or the client stopped) while RegisterEx was out.
      this.startDrop(input.key, witnessIp, 1, UNREGISTER_ONCE_DEADLINE_MS)
      return
    }
    this.registration = { key: input.key, witnessIp, dataIp: r.dataIp, notifyOpId: null }
    this.witnessIpValue = witnessIp
    this.emit({
      name: 'registered',
      fields: { witness: witnessIp, data: r.dataIp, registration: input.key, interfaces: r.interfaceCount, candidates: r.candidates.length },
    })
    this.awaitNotification()
    if (r.lostWitnessIp === '') return
    this.emit({
      name: 'witness.reregistered',
      fields: { from: r.lostWitnessIp, witness: witnessIp, data: r.dataIp, registration: input.key, afterMs: this.nowMs - r.lostAtMs, atMs: this.nowMs },
    })
    // Catch up on what the lost registration would have said (witness-loss.ts): the new
    // witness node's interface list, asked now that the new registration exists.
    this.reconciling = { key: input.key, witnessIp, tries: 0, opId: 0, timerId: 0 }
    this.askReconcileList()
  }

  private askReconcileList(): void {
    const c = this.reconciling
    const reg = this.registration
    assert.ok(c && reg && reg.key === c.key)
    c.opId = this.id()
    c.timerId = 0
    this.out.push({ kind: 'list-interfaces', opId: c.opId, dataIp: reg.dataIp, askIp: c.witnessIp })
  }

  private onReconcileList(input: Extract<FailoverInput, { kind: 'interface-list-result' }>): void {
    const c = this.reconciling
    assert.ok(c)
    const reg = this.registration
    if (!reg || reg.key !== c.key || this.phaseValue !== 'attached' || reg.dataIp !== this.dataIpValue) {
      this.reconciling = null
      return
    }
    if (!input.ok) {
      c.tries++
      if (c.tries >= RECONCILE_ATTEMPTS_MAX) {
        this.log('failover.witness.reconcile-gave-up', { witness: c.witnessIp, tries: c.tries, error: input.error })
        this.reconciling = null
        return
      }
      c.timerId = this.id()
      this.out.push({ kind: 'set-timer', timerId: c.timerId, delayMs: REGISTER_RETRY_MS })
      return
    }
    this.reconciling = null
    const v = reconcileWithInterfaces(input.interfaces, reg.dataIp, this.offline)
    const offline: string[] = []
    for (const ip of v.offline) {
      if (this.offline.size >= OFFLINE_ADDRESSES_MAX) break
      this.offline.add(ip)
      offline.push(ip)
    }
    for (const ip of v.online) this.offline.delete(ip)
    const failover = v.dataState === 'unavailable'
    this.emit({ name: 'witness.reconciled', fields: { witness: c.witnessIp, data: reg.dataIp, dataState: v.dataState, offline, online: v.online, failover, atMs: this.nowMs } })
    if (offline.length > 0 || v.online.length > 0) this.emit({ name: 'ip-change', fields: { online: [...v.online], offline, atMs: this.nowMs } })
    // As the RESOURCE_CHANGE UNAVAILABLE it missed would have: leave the data node.
    if (failover) this.requestFailover('witness-reconciled', reg.dataIp, [], this.nowMs)
  }

  private awaitNotification(): void {
    const reg = this.registration
    assert.ok(reg)
    reg.notifyOpId = this.id()
    this.out.push({ kind: 'await-notification', opId: reg.notifyOpId, witnessIp: reg.witnessIp, key: reg.key })
  }

  /** The registration whose AsyncNotify this opId is, while the client listens. */
  private listeningRegistration(opId: number): Registration | null {
    if (this.phaseValue === 'stopping' || this.phaseValue === 'stopped') return null
    const reg = this.registration
    return reg && reg.notifyOpId === opId ? reg : null
  }

  private onNotification(opId: number, message: WitnessMessage, nowMs: number): void {
    const reg = this.listeningRegistration(opId)
    if (!reg) return
    reg.notifyOpId = null
    this.emit({
      name: 'notified',
      fields: { type: message.messageType, registration: reg.key, atMs: nowMs, resourceChanges: message.resourceChanges, ipAddresses: message.ipAddresses },
    })
    const verdict = judgeNotification(message, { netName: this.config.netName, dataIp: reg.dataIp })
    switch (verdict.kind) {
      case 'fail-over':
        // This registration is about the node being left: the client stops listening on it
        // and registers anew once the data path is elsewhere.
        this.requestFailover(verdict.cause, reg.dataIp, verdict.toIps, nowMs)
        return
      case 'ip-change': {
        const online: string[] = []
        const offline: string[] = []
        for (const c of verdict.changes) {
          if (c.online) {
            this.offline.delete(c.ip)
            online.push(c.ip)
          } else if (this.offline.has(c.ip) || this.offline.size < OFFLINE_ADDRESSES_MAX) {
            this.offline.add(c.ip)
            offline.push(c.ip)
          }
        }
        this.emit({ name: 'ip-change', fields: { online, offline, atMs: nowMs } })
        this.awaitNotification()
        return
      }
      case 'keep-listening':
        this.log('failover.notification.no-move', { registration: reg.key, type: message.messageType, reason: verdict.reason })
        this.awaitNotification()
        return
    }
  }

  private onNotifyTimeout(opId: number): void {
    if (this.listeningRegistration(opId)) this.awaitNotification()
  }

  private onWitnessLost(opId: number, reason: WitnessLossReason, error: string, nowMs: number): void {
    const reg = this.listeningRegistration(opId)
    if (!reg) return
    reg.notifyOpId = null
    this.emit({ name: 'witness.lost', fields: { witness: reg.witnessIp, registration: reg.key, reason, error, atMs: nowMs } })
    // No witness node until the next registration: nothing would tell the client of a change.
    this.witnessIpValue = ''
    this.lastLostWitness = { ip: reg.witnessIp, atMs: nowMs }
    // UnRegistered in the background, a few bounded tries (its node may come back): never waited for.
    this.beginRegistration(reg.witnessIp, nowMs)
  }

  private startDrop(key: string, witnessIp: string, attemptsMax: number, deadlineMs: number): void {
    assert.ok(!this.drops.has(key), `registration ${key} dropped twice`)
    if (this.drops.size >= DROPS_MAX) {
      const [oldest] = this.drops.values()
      this.drops.delete(oldest.key)
      this.log('failover.unregister.given-up', { registration: oldest.key, witness: oldest.witnessIp, reason: 'too many registrations being dropped' })
      this.out.push({ kind: 'release-registration', key: oldest.key })
    }
    const drop: Drop = { key, witnessIp, attemptsMax, deadlineMs, attempt: 0, opId: this.id(), timerId: 0 }
    this.drops.set(key, drop)
    this.out.push({ kind: 'unregister', opId: drop.opId, witnessIp, key, deadlineMs })
  }

  private onUnregisterResult(opId: number, done: boolean): void {
    if (this.stopUnregisterOpId !== null && opId === this.stopUnregisterOpId) {
      this.finishStop()
      return
    }
    const drop = [...this.drops.values()].find((d) => d.opId === opId && d.timerId === 0)
    if (!drop) return
    drop.attempt++
    if (done || drop.attempt >= drop.attemptsMax) {
      // Not done after every try: its node keeps it until it expires.
      if (!done) this.log('failover.unregister.given-up', { registration: drop.key, witness: drop.witnessIp, attempts: drop.attempt })
      this.drops.delete(drop.key)
      this.out.push({ kind: 'release-registration', key: drop.key })
      return
    }
    // A witness node briefly not serving (its lease lapsed during an election) refuses: retry.
    drop.timerId = this.id()
    this.out.push({ kind: 'set-timer', timerId: drop.timerId, delayMs: UNREGISTER_RETRY_MS })
  }

  // ---- timers ----

  private onTimer(timerId: number, nowMs: number): void {
    const f = this.failover
    if (f && f.timerId === timerId) {
      f.timerId = 0
      if (f.step === 'waiting-to-attempt') this.attemptFailover()
      else if (f.step === 'waiting-to-reclaim') this.sendReclaim()
      return
    }
    const r = this.registering
    if (r && r.step === 'waiting' && r.timerId === timerId) {
      r.timerId = 0
      this.registerRound()
      return
    }
    const c = this.reconciling
    if (c && c.timerId === timerId) {
      const reg = this.registration
      if (!reg || reg.key !== c.key || this.phaseValue !== 'attached') this.reconciling = null
      else this.askReconcileList()
      return
    }
    const drop = [...this.drops.values()].find((d) => d.timerId === timerId)
    if (drop) {
      drop.timerId = 0
      drop.opId = this.id()
      this.out.push({ kind: 'unregister', opId: drop.opId, witnessIp: drop.witnessIp, key: drop.key, deadlineMs: drop.deadlineMs })
      return
    }
    this.log('failover.timer.stale', { timerId, atMs: nowMs })
  }

  // ---- the application's handles and writes ----

  private onHandleOpened(handleId: number, path: string): void {
    assert.ok(!this.handles.has(handleId), `handle ${handleId} opened twice`)
    if (this.handles.size >= HANDLES_MAX) {
      this.out.push({ kind: 'refuse-handle', handleId, reason: `too many open handles (${HANDLES_MAX})` })
      return
    }
    this.handles.set(handleId, path)
  }

  private onWriteStarted(writeId: number): void {
    assert.ok(!this.writes.has(writeId), `write ${writeId} started twice`)
    if (this.writes.size >= WRITES_IN_FLIGHT_MAX) {
      this.out.push({ kind: 'refuse-write', writeId, reason: 'too many writes in flight' })
      return
    }
    this.writes.add(writeId)
  }

  // ---- stop ----

  private onStop(): void {
    if (this.phaseValue === 'stopping') return
    if (this.phaseValue === 'stopped') {
      // Stopping again changes nothing, but says so again as it always did.
      this.emit({ name: 'stopped', fields: { data: this.dataIpValue } })
      return
    }
    if (this.starting) {
      this.starting = null
      this.out.push({ kind: 'start-failed', error: 'the client stopped' })
    }
    if (this.failover) this.failoverFailed(this.failover.lastError || 'the client stopped')
    this.abandonRegistering()
    this.reconciling = null
    this.phaseValue = 'stopping'
    if (this.registration) {
      this.stopUnregisterOpId = this.id()
      this.out.push({ kind: 'unregister', opId: this.stopUnregisterOpId, witnessIp: this.registration.witnessIp, key: this.registration.key, deadlineMs: UNREGISTER_ONCE_DEADLINE_MS })
      return
    }
    this.finishStop()
  }

  private finishStop(): void {
    if (this.registration) this.out.push({ kind: 'release-registration', key: this.registration.key })
    this.registration = null
    this.stopUnregisterOpId = null
    if (this.connectionId !== null) this.out.push({ kind: 'disconnect', connectionId: this.connectionId })
    this.connectionId = null
    this.phaseValue = 'stopped'
    this.emit({ name: 'stopped', fields: { data: this.dataIpValue } })
  }

  // ---- helpers ----

  private online(): string[] {
    return onlineAddresses(this.nodeIps, this.offline)
  }

  private id(): number {
    return this.nextId++
  }

  private emit(event: ClientEvent): void {
    this.out.push({ kind: 'emit', event })
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.out.push({ kind: 'log', event, fields })
  }

  private checkInvariants(): void {
    assert.equal(this.phaseValue === 'starting', this.starting !== null, 'starting <=> start progress')
    assert.equal(this.phaseValue === 'failing-over', this.failover !== null, 'failing-over <=> failover progress')
    assert.ok(this.phaseValue !== 'stopping' || this.stopUnregisterOpId !== null, 'stopping waits for the final UnRegister')
    assert.ok(!this.config.timeoutOnly || (this.registration === null && this.registering === null), 'a timeout-only client never registers')
    assert.ok(this.drops.size <= DROPS_MAX && this.orphanRegisters.size <= ORPHAN_REGISTERS_MAX, 'drops are bounded')
    assert.ok(this.handles.size <= HANDLES_MAX && this.writes.size <= WRITES_IN_FLIGHT_MAX, 'handles and writes are bounded')
    assert.ok(this.offline.size <= OFFLINE_ADDRESSES_MAX, 'offline addresses are bounded')
    assert.ok(this.reconciling === null || this.reconciling.key === this.registration?.key, 'catching up only for the registration in use')
    assert.ok(this.phaseValue !== 'stopped' || this.connectionId === null, 'a stopped client keeps no connection')
  }
}
