// The simulator's adapter around the failover core: one witness-aware client whose actions
// become messages on the simulated client network, whose results, timers and deadlines come
// back as core inputs, and whose application writes steadily to one persistent handle, so
// that a dead data node is also noticed the way a real client notices it: a request fails.
// It plays the part client/failover-client.ts plays for real processes, with the same rules
// (what a failure means, when a request is retried), but time and IO are the simulator's.
import assert from 'node:assert/strict'
import { FailoverCore } from '../failover/failover-core.js'
import type { FailoverAction } from '../failover/failover-action.js'
import { INTERFACE_LIST_DEADLINE_MS } from '../failover/failover-bounds.js'
import { witnessSilenceDeadlineMs } from '../failover/witness-loss.js'
import type { FailoverInput, RequestFailure } from '../failover/failover-input.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { WITNESS_REGISTER_IP_NOTIFICATION, WITNESS_VERSION_2 } from '../../protocol/swn/witness-calls.js'
import type { ClientRequest, NodeAnswer } from './client-wire.js'
import { Prng } from './prng.js'
import type { ClientInput, ClientOutput, ClientRegistration, SimClientLogic } from './sim-client.js'

/** The application writes this often while its previous write is answered (a VM's steady IO). */
export const WRITE_INTERVAL_MS = 50

/**
 * How long this client takes to move its data path off a node once it knows the node is gone:
 * a notification moves it in the step it arrives; a reset connection is noticed by the next
 * write, at most one write interval later (plus the step that runs it and the one that fails it).
 */
export function clientReactionMs(stepMs: number): number {
  return WRITE_INTERVAL_MS + 2 * stepMs
}

/** A client that could not start (no node answered) starts again after this pause. */
export const START_RETRY_MS = 500

/** Deadline of a RegisterEx (the gRPC witness client's default). */
export const WITNESS_CALL_DEADLINE_MS = 10_000

/** Timers the core may have set at once (failover, registration, each dropped registration). */
export const TIMERS_MAX = 64

/** Connections the adapter keeps open at once (the one in use plus attempts being closed). */
export const CONNECTIONS_MAX = 8

/** The one persistent handle the application holds (a VM's disk). */
const DISK_HANDLE_ID = 1

export interface SimFailoverClientOptions {
  readonly name: string
  readonly netName: string
  readonly share: string
  /** Every node's client address: the cluster name's DNS answer. */
  readonly nodeAddresses: readonly string[]
  readonly preferredAddress?: string
  readonly preferredWitnessAddress?: string
  readonly keepAliveTimeoutS: number
  /**
   * Deadline of one SMB request (connect, DH2C, write). Windows uses 60 s; the simulator
   * passes a few detection periods so that a schedule of seconds exercises request timeouts.
   */
  readonly requestTimeoutMs: number
  /** In [0, 1): picks the first node when no preferred address is given. */
  readonly random: number
}

type Purpose =
  | { readonly kind: 'connect'; readonly opId: number; readonly ip: string }
  | { readonly kind: 'reclaim'; readonly opId: number }
  /** The application's request: its handle's CREATE (`open`), or a write through it. */
  | { readonly kind: 'write'; readonly writeId: number; readonly open: boolean; readonly connectionId: number; readonly ip: string }
  | { readonly kind: 'list'; readonly opId: number }
  | { readonly kind: 'register'; readonly opId: number }
  | { readonly kind: 'notify'; readonly opId: number; readonly key: string }
  | { readonly kind: 'unregister'; readonly opId: number }

interface Outstanding {
  readonly purpose: Purpose
  readonly deadlineMs: number
}

interface Connection {
  readonly ip: string
  /** The node's process reset it: every request on it fails at once. */
  lost: boolean
}

/**
 * The application's writer: it opens its handle, then writes through it, one request at a
 * time, the next one an interval after the last answer. `sinceMs` starts the request's
 * deadline, as FailoverClient.withFailover measures it: from the first send, and again after
 * waiting for a failover. `open` marks the handle's CREATE (not a write: never replayed).
 */
interface WriterRequest {
  readonly writeId: number
  readonly open: boolean
  readonly sends: number
  readonly sinceMs: number
}

type Writer =
  | { readonly state: 'idle'; readonly nextAtMs: number }
  | ({ readonly state: 'sent' } & WriterRequest)
  | ({ readonly state: 'retry'; readonly atMs: number } & WriterRequest)
  /** Waits for the failover under way to finish (its replay sends it). */
  | ({ readonly state: 'waiting' } & WriterRequest)

export class SimFailoverClient implements SimClientLogic {
  readonly core: FailoverCore
  private readonly outstanding = new Map<number, Outstanding>()
  private readonly timers = new Map<number, number>()
  private readonly connections = new Map<number, Connection>()
  private inUse: number | null = null
  private started = false
  private startAtMs = -Infinity
  private writer: Writer = { state: 'idle', nextAtMs: Infinity }
  private nextWriteId = 1
  private nextRequestId = 1
  /** The application's handle is open (its CREATE succeeded); until then it opens, not writes. */
  private handleOpen = false
  /** The witness registration the core listens on (an AsyncNotify out or about to be), as the adapter saw it made. */
  private listening: ClientRegistration | null = null
  /** The node the last acknowledged write went to. */
  private lastAckIp = ''
  private nowMs = 0
  private out: ClientOutput[] = []

  /**
   * The witness choice's randomness: a stream of its own, seeded from the client's start
   * number, so that it draws nothing from the simulator's generator (every seed's network and
   * fault schedule stay as they were).
   */
  private readonly witnessRandom: Prng

  constructor(private readonly opts: SimFailoverClientOptions) {
    this.witnessRandom = new Prng(Math.floor(opts.random * 0x1_0000_0000) ^ 0x5717e55)
    this.core = new FailoverCore({
      netName: opts.netName,
      preferredIp: opts.preferredAddress,
      preferredWitnessIp: opts.preferredWitnessAddress,
      timeoutOnly: false,
    })
  }

  /** The node its data path is on: attached there with a connection in use (none while it moves, or after a failed move). */
  dataAddress(): string {
    const connection = this.inUse === null ? undefined : this.connections.get(this.inUse)
    return this.core.phase === 'attached' && connection ? connection.ip : ''
  }

  registration(): ClientRegistration | null {
    return this.listening
  }

  step(input: ClientInput): ClientOutput[] {
    this.out = []
    this.nowMs = input.nowMs
    switch (input.kind) {
      case 'start':
        this.startAtMs = input.nowMs
        this.tick()
        break
      case 'tick':
        this.tick()
        break
      case 'answer':
        this.onAnswer(input.requestId, input.answer)
        break
      case 'session-lost':
        this.onSessionLost(input.address)
        break
    }
    return this.out
  }

  // ---- clock ----

  private tick(): void {
    if (!this.started && this.core.phase === 'idle' && this.nowMs >= this.startAtMs) {
      this.startAtMs = Infinity
      this.feed({ kind: 'start', nowMs: this.nowMs, nodeIps: this.opts.nodeAddresses, random: this.opts.random })
    }
    for (const [requestId, o] of [...this.outstanding]) {
      if (this.nowMs < o.deadlineMs) continue
      this.outstanding.delete(requestId)
      this.out.push({ kind: 'cancel', requestId })
      this.failed(o.purpose, 'timed-out', 'the request timed out')
    }
    for (const [timerId, atMs] of [...this.timers]) {
      if (this.nowMs < atMs) continue
      this.timers.delete(timerId)
      this.feed({ kind: 'timer', nowMs: this.nowMs, timerId })
    }
    const w = this.writer
    if (w.state === 'idle' && this.nowMs >= w.nextAtMs) this.startWrite()
    else if (w.state === 'retry' && this.nowMs >= w.atMs) this.sendWrite(w)
  }

  // ---- answers ----

  private onAnswer(requestId: number, answer: NodeAnswer): void {
    const o = this.outstanding.get(requestId)
    if (!o) return
    this.outstanding.delete(requestId)
    const p = o.purpose
    const now = this.nowMs
    switch (p.kind) {
      case 'connect':
        if (answer.kind === 'smb' && answer.status === 'SUCCESS') {
          this.connections.set(p.opId, { ip: p.ip, lost: false })
          this.feed({ kind: 'connect-result', nowMs: now, opId: p.opId, outcome: 'ok', sessionId: answer.sessionId })
        } else {
          const outcome = answer.kind === 'refused' ? 'refused' : 'failed'
          this.feed({ kind: 'connect-result', nowMs: now, opId: p.opId, outcome, error: failureText(answer) })
        }
        return
      case 'reclaim': {
        // As FailoverClient.reclaim: every gRPC UNAVAILABLE (a node not serving, a CSV without
        // owner, a dropped or refused connection) means "try again"; an SMB status fails it.
        const unavailable = answer.kind !== 'smb' || answer.status === 'NOT_SERVING' || answer.status === 'CSV_UNAVAILABLE'
        if (answer.kind === 'smb' && answer.status === 'SUCCESS') this.feed({ kind: 'reclaim-result', nowMs: now, opId: p.opId, outcome: 'reclaimed' })
        else if (unavailable) this.feed({ kind: 'reclaim-result', nowMs: now, opId: p.opId, outcome: 'unavailable' })
        else this.feed({ kind: 'reclaim-result', nowMs: now, opId: p.opId, outcome: 'failed', error: failureText(answer) })
        return
      }
      case 'write':
        this.onWriteAnswer(p, answer)
        return
      case 'list':
        if (answer.kind === 'witness-reply' && answer.reply.method === 'GetInterfaceList' && answer.reply.result === WIN_ERROR.SUCCESS) {
          this.feed({ kind: 'interface-list-result', nowMs: now, opId: p.opId, ok: true, interfaces: answer.reply.interfaces, random: this.witnessRandom.next() })
        } else {
          this.feed({ kind: 'interface-list-result', nowMs: now, opId: p.opId, ok: false, error: failureText(answer) })
        }
        return
      case 'register':
        if (answer.kind === 'witness-reply' && answer.reply.method === 'RegisterEx' && answer.reply.result === WIN_ERROR.SUCCESS) {
          this.feed({ kind: 'register-result', nowMs: now, opId: p.opId, ok: true, key: answer.reply.key })
        } else {
          this.feed({ kind: 'register-result', nowMs: now, opId: p.opId, ok: false, error: failureText(answer) })
        }
        return
      case 'notify': {
        const reply = answer.kind === 'witness-reply' && answer.reply.method === 'AsyncNotify' ? answer.reply : null
        if (reply && reply.result === WIN_ERROR.SUCCESS && reply.notify) {
          const n = reply.notify
          this.feed({
            kind: 'notification',
            nowMs: now,
            opId: p.opId,
            message: { messageType: n.messageType, resourceChanges: n.resourceChanges, ipAddresses: n.ipAddresses },
          })
        } else if (reply && reply.result === WIN_ERROR.TIMEOUT) {
          this.feed({ kind: 'notify-timeout', nowMs: now, opId: p.opId })
        } else {
          const reason = answer.kind === 'witness-reply' || answer.kind === 'witness-unavailable' ? 'refused' : 'connection-closed'
          this.feed({ kind: 'witness-lost', nowMs: now, opId: p.opId, reason, error: failureText(answer) })
        }
        // A core that does not ask again stopped listening on this registration (it is
        // leaving the node the registration is about): the client is no longer registered.
        const asksAgain = [...this.outstanding.values()].some((o) => o.purpose.kind === 'notify' && o.purpose.key === p.key)
        if (!asksAgain && this.listening?.key === p.key) this.listening = null
        return
      }
      case 'unregister': {
        const done =
          answer.kind === 'witness-reply' &&
          (answer.reply.method === 'UnRegister' || answer.reply.method === 'UnRegisterEx') &&
          (answer.reply.result === WIN_ERROR.SUCCESS || answer.reply.result === WIN_ERROR.NOT_FOUND)
        this.feed({ kind: 'unregister-result', nowMs: now, opId: p.opId, done })
        return
      }
    }
  }

  /** A request ended without an answer: its deadline passed, or its connection broke. */
  private failed(p: Purpose, failure: RequestFailure, error: string): void {
    const now = this.nowMs
    switch (p.kind) {
      case 'connect':
        return this.feed({ kind: 'connect-result', nowMs: now, opId: p.opId, outcome: 'failed', error })
      case 'reclaim':
        return this.feed({ kind: 'reclaim-result', nowMs: now, opId: p.opId, outcome: 'failed', error })
      case 'write':
        return this.writeFailed(p, failure)
      case 'list':
        return this.feed({ kind: 'interface-list-result', nowMs: now, opId: p.opId, ok: false, error })
      case 'register':
        return this.feed({ kind: 'register-result', nowMs: now, opId: p.opId, ok: false, error })
      case 'notify':
        return this.feed({ kind: 'witness-lost', nowMs: now, opId: p.opId, reason: failure === 'timed-out' ? 'no-answer' : 'connection-closed', error })
      case 'unregister':
        return this.feed({ kind: 'unregister-result', nowMs: now, opId: p.opId, done: false })
    }
  }

  private onSessionLost(address: string): void {
    for (const [id, c] of this.connections) {
      if (c.ip !== address || c.lost) continue
      c.lost = true
      // Calls in flight on the broken connection fail now, as the transport reports it.
      for (const [requestId, o] of [...this.outstanding]) {
        const p = o.purpose
        const onIt = (p.kind === 'write' && p.connectionId === id) || (p.kind === 'reclaim' && this.inUse === id)
        if (!onIt) continue
        this.outstanding.delete(requestId)
        this.out.push({ kind: 'cancel', requestId })
        this.failed(p, 'connection-lost', 'the connection was reset')
      }
    }
  }

  // ---- the application's writes ----

  private startWrite(): void {
    const writeId = this.nextWriteId++
    if (!this.handleOpen) return this.sendWrite({ writeId, open: true, sends: 0, sinceMs: this.nowMs })
    const refused = this.core.step({ kind: 'write-started', nowMs: this.nowMs, writeId })
    for (const action of refused) this.act(action)
    if (refused.some((a) => a.kind === 'refuse-write')) {
      this.writer = { state: 'idle', nextAtMs: this.nowMs + WRITE_INTERVAL_MS }
      return
    }
    this.sendWrite({ writeId, open: false, sends: 0, sinceMs: this.nowMs })
  }

  /** Sends the request on the connection in use, or fails it at once the way the transport would. */
  private sendWrite(r: WriterRequest): void {
    const phase = this.core.phase
    if (phase === 'failing-over' || phase === 'starting') {
      this.writer = { ...r, state: 'waiting' }
      return
    }
    const connection = this.inUse === null ? undefined : this.connections.get(this.inUse)
    this.writer = { ...r, state: 'sent', sends: r.sends + 1 }
    const ip = connection?.ip ?? this.core.dataIp
    const purpose: Purpose = { kind: 'write', writeId: r.writeId, open: r.open, connectionId: this.inUse ?? -1, ip }
    // No connection (a failover failed): "not connected". A reset one: the call fails locally.
    if (!connection) return this.writeFailed(purpose, 'unavailable')
    if (connection.lost) return this.writeFailed(purpose, 'connection-lost')
    const remainingMs = Math.max(1, r.sinceMs + this.opts.requestTimeoutMs - this.nowMs)
    const request: ClientRequest = r.open
      ? { kind: 'smb-open', handleId: DISK_HANDLE_ID }
      : { kind: 'smb-write', handleId: DISK_HANDLE_ID, writeId: r.writeId, replay: r.sends > 0 }
    this.send(connection.ip, request, purpose, remainingMs)
  }

  private onWriteAnswer(p: Extract<Purpose, { kind: 'write' }>, answer: NodeAnswer): void {
    if (answer.kind === 'smb' && answer.status === 'SUCCESS') {
      if (p.open) {
        this.handleOpen = true
        this.feed({ kind: 'handle-opened', nowMs: this.nowMs, handleId: DISK_HANDLE_ID, path: 'disk.vhdx' })
        this.writer = { state: 'idle', nextAtMs: this.nowMs }
        return
      }
      this.feed({ kind: 'write-finished', nowMs: this.nowMs, writeId: p.writeId })
      if (p.ip !== this.lastAckIp) {
        this.out.push({ kind: 'event', event: 'io.acked', fields: { on: p.ip, write: p.writeId } })
        this.lastAckIp = p.ip
      }
      this.writer = { state: 'idle', nextAtMs: this.nowMs + WRITE_INTERVAL_MS }
      return
    }
    // A status that no failover mends goes to the application (FailoverClient.write throws).
    if (answer.kind === 'smb' && answer.status === 'FILE_CLOSED') {
      const w = this.writer
      if (w.state === 'sent' && w.writeId === p.writeId) this.writeGivenUp(w, 'FILE_CLOSED')
      return
    }
    const lost = answer.kind === 'refused' || answer.kind === 'reset' || (answer.kind === 'smb' && answer.status === 'SESSION_DELETED')
    this.writeFailed(p, lost ? 'connection-lost' : 'unavailable')
  }

  /** Tells the core a send of the request failed; one past its deadline has timed out. */
  private writeFailed(p: Extract<Purpose, { kind: 'write' }>, failure: RequestFailure): void {
    const w = this.writer
    if (w.state !== 'sent' || w.writeId !== p.writeId) return
    const expired = this.nowMs >= w.sinceMs + this.opts.requestTimeoutMs
    this.writer = { ...w, state: 'waiting' }
    this.feed({ kind: 'request-failed', nowMs: this.nowMs, requestId: p.writeId, sentToIp: p.ip, failure: expired ? 'timed-out' : failure })
  }

  /** The application gets the request's error; the writer goes on with the next one. */
  private writeGivenUp(r: WriterRequest, reason: string): void {
    this.out.push({ kind: 'event', event: 'io.failed', fields: { [r.open ? 'open' : 'write']: r.writeId, reason } })
    this.writer = { state: 'idle', nextAtMs: this.nowMs + WRITE_INTERVAL_MS }
    if (!r.open) this.feed({ kind: 'write-finished', nowMs: this.nowMs, writeId: r.writeId })
  }

  // ---- actions ----

  private feed(input: FailoverInput): void {
    for (const action of this.core.step(input)) this.act(action)
  }

  private act(a: FailoverAction): void {
    const now = this.nowMs
    const timeout = this.opts.requestTimeoutMs
    switch (a.kind) {
      case 'connect':
        this.send(a.ip, { kind: 'smb-connect', share: this.opts.share, previousSessionId: a.previousSessionId }, { kind: 'connect', opId: a.opId, ip: a.ip }, timeout)
        return
      case 'use-connection':
        // Writes wait for the whole failover (DH2C included): its replay sends them.
        this.inUse = a.connectionId
        return
      case 'disconnect': {
        this.connections.delete(a.connectionId)
        if (this.inUse === a.connectionId) this.inUse = null
        // Calls in flight on it fail (and are retried after the move).
        for (const [requestId, o] of [...this.outstanding]) {
          if (o.purpose.kind !== 'write' || o.purpose.connectionId !== a.connectionId) continue
          this.outstanding.delete(requestId)
          this.out.push({ kind: 'cancel', requestId })
          this.writeFailed(o.purpose, 'unavailable')
        }
        return
      }
      case 'reclaim': {
        const c = this.inUse === null ? undefined : this.connections.get(this.inUse)
        if (!c || c.lost) {
          this.feed({ kind: 'reclaim-result', nowMs: now, opId: a.opId, outcome: 'failed', error: 'no connection in use' })
          return
        }
        this.send(c.ip, { kind: 'smb-reclaim', handleId: a.handleId }, { kind: 'reclaim', opId: a.opId }, timeout)
        return
      }
      case 'replay': {
        // The failover is over: the request that waited for it goes now (a write as a replay).
        const w = this.writer
        if (w.state === 'waiting' && (w.open || a.writeIds.includes(w.writeId))) this.sendWrite({ ...w, sinceMs: now })
        return
      }
      case 'list-interfaces':
        this.send(a.askIp, { kind: 'witness-call', call: { method: 'GetInterfaceList' } }, { kind: 'list', opId: a.opId }, INTERFACE_LIST_DEADLINE_MS)
        return
      case 'register':
        this.send(
          a.witnessIp,
          {
            kind: 'witness-call',
            call: {
              method: 'RegisterEx',
              version: WITNESS_VERSION_2,
              netName: this.opts.netName,
              shareName: this.opts.share,
              ipAddress: a.dataIp,
              clientComputerName: this.opts.name,
              flags: WITNESS_REGISTER_IP_NOTIFICATION,
              keepAliveTimeoutS: this.opts.keepAliveTimeoutS,
            },
          },
          { kind: 'register', opId: a.opId },
          WITNESS_CALL_DEADLINE_MS,
        )
        return
      case 'await-notification': {
        // The core listens only on a registration made for its data node of the moment.
        if (this.listening?.key !== a.key) this.listening = { witnessAddress: a.witnessIp, key: a.key, forAddress: this.core.dataIp }
        // The server answers TIMEOUT after the keep-alive; one silent past it and a grace (a
        // paused or cut-off node) is lost, as FailoverClient judges it (witness-loss.ts).
        this.send(a.witnessIp, { kind: 'witness-call', call: { method: 'AsyncNotify', key: a.key } }, { kind: 'notify', opId: a.opId, key: a.key }, witnessSilenceDeadlineMs(this.opts.keepAliveTimeoutS))
        return
      }
      case 'unregister':
        if (this.listening?.key === a.key) this.listening = null
        this.send(a.witnessIp, { kind: 'witness-call', call: { method: 'UnRegister', key: a.key } }, { kind: 'unregister', opId: a.opId }, a.deadlineMs)
        return
      case 'release-registration':
        if (this.listening?.key === a.key) this.listening = null
        for (const [requestId, o] of [...this.outstanding]) {
          if (o.purpose.kind !== 'notify' || o.purpose.key !== a.key) continue
          this.outstanding.delete(requestId)
          this.out.push({ kind: 'cancel', requestId })
        }
        return
      case 'set-timer':
        assert.ok(this.timers.size < TIMERS_MAX || this.timers.has(a.timerId), `client ${this.opts.name} has ${TIMERS_MAX} timers`)
        this.timers.set(a.timerId, now + a.delayMs)
        return
      case 'retry-request': {
        const w = this.writer
        if (w.state !== 'waiting' || w.writeId !== a.requestId) return
        // 0: a failover is under way; its replay sends the write (or it started none: send now).
        if (a.delayMs > 0) this.writer = { ...w, state: 'retry', atMs: now + a.delayMs }
        else if (this.core.phase !== 'failing-over') this.sendWrite(w)
        return
      }
      case 'fail-request': {
        const w = this.writer
        if (w.state !== 'idle' && w.writeId === a.requestId) this.writeGivenUp(w, a.reason)
        return
      }
      case 'refuse-write':
        this.out.push({ kind: 'event', event: 'io.refused', fields: { write: a.writeId, reason: a.reason } })
        return
      case 'refuse-handle':
        this.out.push({ kind: 'event', event: 'refuse-handle', fields: { handle: a.handleId, reason: a.reason } })
        return
      case 'started':
        // The application opens its disk, then writes to it.
        this.started = true
        this.writer = { state: 'idle', nextAtMs: now }
        return
      case 'start-failed':
        this.out.push({ kind: 'event', event: 'start-failed', fields: { error: a.error } })
        this.startAtMs = now + START_RETRY_MS
        return
      case 'emit':
        this.onClientEvent(a.event)
        return
      case 'log':
        return
    }
  }

  private onClientEvent(event: Extract<FailoverAction, { kind: 'emit' }>['event']): void {
    switch (event.name) {
      case 'failover-start':
        this.out.push({ kind: 'event', event: 'failover.start', fields: { cause: event.fields.cause, from: event.fields.from } })
        return
      case 'reconnected':
        this.out.push({ kind: 'event', event: 'failover.reconnected', fields: { to: event.fields.to, afterMs: Math.round(event.fields.afterMs) } })
        return
      case 'failover-failed': {
        this.out.push({ kind: 'event', event: 'failover.failed', fields: { from: event.fields.from, error: event.fields.error } })
        // A write that waited for the failover gets its error (FailoverClient: the awaited failover rejects).
        const w = this.writer
        if (w.state === 'waiting') this.writeGivenUp(w, 'failover-failed')
        return
      }
      case 'ip-change':
        this.out.push({ kind: 'event', event: 'ip-change', fields: { online: event.fields.online, offline: event.fields.offline } })
        return
      default:
        return
    }
  }

  private send(to: string, request: ClientRequest, purpose: Purpose, timeoutMs: number): number {
    const requestId = this.nextRequestId++
    this.outstanding.set(requestId, { purpose, deadlineMs: this.nowMs + timeoutMs })
    if (purpose.kind === 'connect') {
      // A connection is known by the opId of its connect once it succeeds.
      assert.ok(this.connections.size < CONNECTIONS_MAX, `client ${this.opts.name} keeps ${CONNECTIONS_MAX} connections`)
    }
    this.out.push({ kind: 'send', requestId, to, request })
    return requestId
  }
}

function failureText(answer: NodeAnswer): string {
  switch (answer.kind) {
    case 'smb':
      return `STATUS ${answer.status}`
    case 'witness-reply':
      return `${answer.reply.method} answered 0x${answer.reply.result.toString(16)}`
    case 'witness-unavailable':
      return 'the node is not serving'
    case 'refused':
      return 'connection refused'
    case 'reset':
      return 'connection reset'
  }
}
