// The witness-driven failover client (MS-SWN 1.5 and MS-SMB2 3.2.4.x): it connects its data
// path to one node, registers with the witness service of another, keeps one AsyncNotify
// outstanding, and when its data node becomes UNAVAILABLE (or a CLIENT_MOVE / SHARE_MOVE
// arrives) it moves to a surviving node: NEGOTIATE with the same ClientGuid, SESSION_SETUP
// with PreviousSessionId, TREE_CONNECT, DH2C for every persistent handle, replay of every
// write that had no answer, then registers again. Without witness (timeoutOnly) it notices a
// dead node only when a request times out.
//
// What to do and when is decided by the failover core (core/failover/failover-core.ts), a pure
// state machine; this class is its adapter. It does the IO the core's actions ask for (SMB
// and witness calls, timers), feeds every result back with the clock reading, and gives the
// application its API: promises for start/stop and data-path calls, and the events the core
// emits, with the same names and payloads as always.
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { Credential } from '../cluster/credentials.js'
import { WIN_ERROR, winErrorName } from '../protocol/swn/win-errors.js'
import { WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S, WITNESS_REGISTER_IP_NOTIFICATION } from '../protocol/swn/witness-calls.js'
import { FailoverCore } from '../core/failover/failover-core.js'
import type { ClientEvent, FailoverAction } from '../core/failover/failover-action.js'
import type { FailoverInput, RequestFailure } from '../core/failover/failover-input.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, INTERFACE_LIST_DEADLINE_MS, REQUEST_ATTEMPTS_MAX } from '../core/failover/failover-bounds.js'
import { witnessSilenceDeadlineMs } from '../core/failover/witness-loss.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../protocol/smb2/constants.js'
import type { Smb2FileId } from '../protocol/smb2/file-id.js'
import { NT_STATUS } from '../protocol/smb2/ntstatus.js'
import { Smb2DataPath } from './smb2/smb2-data-path.js'
import { Smb2ConnectTimeout, Smb2StatusError, Smb2TransportError, type Smb2Failure, type Smb2Result } from './smb2/smb2-result.js'
import { DcerpcClientError, DcerpcWitnessClient } from './dcerpc-witness-client.js'
import type { DcerpcAuthLevelName } from './dcerpc-client-security.js'
import { monoNowMs } from '../runtime/clock.js'
import { sleep } from '../runtime/sleep.js'
import { clientFrameBuffers } from './smb2/frame-accumulator.js'

/** One node of the cluster name, as a resolver returns it. */
export interface NodeAddress {
  readonly ip: string
  /** The node's SMB 2/3 direct TCP port (its smb2Port); 0 when it has none. */
  readonly smbPort: number
  /** The node's witness service on the wire (DCE/RPC ncacn_ip_tcp, its dcerpcPort); 0 when it has none. */
  readonly dcerpcPort: number
}

export interface FailoverClientOptions {
  /** Resolves the cluster name to every node's address (the client's "DNS"). */
  readonly resolve: () => readonly NodeAddress[]
  readonly netName: string
  readonly share: string
  readonly credential: Credential
  readonly clientName?: string
  /** Start on this node's IP instead of a random one. */
  readonly preferredIp?: string
  /** Register with this node's witness service when it is a candidate (tests and demos). */
  readonly preferredWitnessIp?: string
  /** No witness: notice a dead node only by a request timeout. */
  readonly timeoutOnly?: boolean
  /** Request expiry; Windows uses 60 s (SessTimeout). */
  readonly requestTimeoutMs?: number
  /**
   * The longest a failover's connect (TCP, NEGOTIATE, SESSION_SETUP, TREE_CONNECT) may take
   * before the core tries the next node. The first gets 250 ms, and each that times out doubles
   * the next one's, up to this. Default 4 s; start() gets 10 s.
   */
  readonly connectTimeoutMs?: number
  /**
   * RegisterEx's KeepAliveTimeout (MS-SWN 3.1.4.5): the witness answers AsyncNotify within it,
   * with news or ERROR_TIMEOUT, so an AsyncNotify unanswered past it and a grace is a lost
   * witness (core/failover/witness-loss.ts). Default 120 s, as Windows clients send; a
   * cluster's clients ask for witnessKeepAliveTimeoutSFor(its profile): 2 s in the fast one.
   */
  readonly keepAliveTimeoutS?: number
  /** A monotonic clock in epoch ms (comparable across processes on one host). */
  readonly now?: () => number
  /**
   * How the witness calls are protected (MS-SWN 2.1: RPC over TCP with an authenticated bind).
   * Default 'privacy' (sealed), as Windows clients bind; 'integrity' (signed, stubs readable in a
   * capture) is for demos.
   */
  readonly witnessAuthLevel?: Extract<DcerpcAuthLevelName, 'integrity' | 'privacy'>
  /**
   * The client's own source address for its SMB and witness connections (e.g. 127.0.4.K); the
   * harness can then cut this client alone from a node, or from one of its ports. Default: the system's choice.
   */
  readonly localAddress?: string
}

export interface FailoverHandle {
  readonly path: string
  readonly createGuid: string
  fileId: Smb2FileId
  /** A CLOSE was sent: if the node died before answering, the open may be gone already. */
  closing?: boolean
}

/** A core input before the adapter stamps it with the clock. */
type CoreInput = FailoverInput extends infer I ? (I extends { nowMs: number } ? Omit<I, 'nowMs'> : never) : never

/** The deadline of a witness connect (TCP and authenticated bind) and of each witness call but AsyncNotify. */
const WITNESS_CALL_TIMEOUT_MS = 10_000
/** A connect that failed this way found no process behind the port (its node is gone). */
const REFUSED = /ECONNREFUSED/
/**
 * How long past the failover client's own deadline the wire connection waits for an answer
 * before it gives the connection up: the client's deadline decides, the connection's is a bound.
 */
const WIRE_DEADLINE_SLACK_MS = 5_000
/**
 * A node that serves answers a failover's connect (four round trips) in tens of ms (at most
 * ~100 ms measured at load average 18 on 2 cores); one without quorum or lease (a survivor
 * whose lease from the new leader has not come yet) accepts the TCP connection and answers
 * nothing (server/smb2/smb2-connection.ts), and a failover must not wait on it: the 30 s the
 * node then takes to close an unnegotiated connection delayed a quarter of bench:failover's
 * pause trials to 31 s. The first connect of a failover waits FIRST_CONNECT_TIMEOUT_MS; each
 * one that times out doubles the next one's (a slow machine, not a silent node), up to the
 * option. start() has no faster node to go to: it waits longer.
 */
const FIRST_CONNECT_TIMEOUT_MS = 250
const DEFAULT_CONNECT_TIMEOUT_MS = 4_000
const START_CONNECT_TIMEOUT_MS = 10_000

/** A promise with its settle functions; a rejection nobody awaits is not an unhandled one. */
class Deferred {
  readonly promise: Promise<void>
  resolve!: () => void
  reject!: (err: Error) => void

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.promise.catch(() => undefined)
  }
}

export class FailoverClient extends EventEmitter {
  readonly clientGuid = randomUUID()
  readonly clientName: string
  private readonly core: FailoverCore
  private readonly now: () => number
  /** The connection requests go to (the core's use-connection), possibly closed by a failover. */
  private smb: Smb2DataPath | null = null
  /** Open connections by connectionId (the opId of the connect that made them). */
  private readonly connections = new Map<number, Smb2DataPath>()
  /** The witness channel each registration was made on, by registration key. */
  private readonly witnessChannels = new Map<string, DcerpcWitnessClient>()
  private readonly handles = new Map<number, FailoverHandle>()
  private readonly handleIds = new Map<FailoverHandle, number>()
  /** Ids of handles, writes and requests, for the core. */
  private nextLocalId = 1
  /** Settles when the failover under way does: requests wait for it. */
  private failing: Deferred | null = null
  private starting: Deferred | null = null
  private stopping: Deferred | null = null
  /** The error of the last connect that failed, thrown by start as it is. */
  private lastConnectError: Error | null = null
  /** The addresses last given to the core, joined. */
  private resolvedKey = ''
  /** Connects in a row that timed out: each doubles the next one's deadline. */
  private connectTimeoutsInARow = 0

  constructor(private readonly opts: FailoverClientOptions) {
    super()
    this.clientName = opts.clientName ?? `client-${this.clientGuid.slice(0, 8)}`
    this.now = opts.now ?? monoNowMs
    this.core = new FailoverCore({
      netName: opts.netName,
      preferredIp: opts.preferredIp,
      preferredWitnessIp: opts.preferredWitnessIp,
      timeoutOnly: opts.timeoutOnly ?? false,
    })
  }

  get dataNodeIp(): string {
    return this.core.dataIp
  }

  get witnessNodeIp(): string {
    return this.core.witnessIp
  }

  /** The addresses of the cluster name that the witness last reported OFFLINE. */
  get offlineAddresses(): string[] {
    return this.core.offlineAddresses
  }

  async start(): Promise<void> {
    const starting = new Deferred()
    this.starting = starting
    this.lastConnectError = null
    // A name resolves to every node; one that is down refuses, so the core tries the next (as
    // DNS round robin clients do), the preferred or randomly chosen one first.
    const nodeIps = this.opts.resolve().map((n) => n.ip)
    this.feed({ kind: 'start', nodeIps, random: this.opts.preferredIp === undefined ? Math.random() : 0 })
    try {
      await starting.promise
    } finally {
      if (this.starting === starting) this.starting = null
    }
  }

  /**
   * CREATE with a persistent handle. By default it opens or creates the file for reading and
   * writing and lets others only read; `readOnly` opens an existing file for reading and lets
   * others read and write (a backup reading a disk a VM keeps writing).
   */
  async open(path: string, opts: { readOnly?: boolean; mustExist?: boolean; appInstanceId?: string } = {}): Promise<FailoverHandle> {
    const createGuid = randomUUID()
    const readOnly = opts.readOnly ?? false
    // A CREATE sent again after a failover carries the REPLAY flag and the same CreateGuid: the
    // node answers with the open the first one made, if it was made (MS-SMB2 3.3.5.9.10).
    let sends = 0
    const create = () =>
      this.withFailover(() =>
        this.need().create(path, {
          disposition: readOnly || opts.mustExist ? DISPOSITION.OPEN : DISPOSITION.OPEN_IF,
          desiredAccess: readOnly ? ACCESS.GENERIC_READ : ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE,
          shareAccess: readOnly ? SHARE_ACCESS.READ | SHARE_ACCESS.WRITE : SHARE_ACCESS.READ,
          createGuid,
          ...(opts.appInstanceId ? { appInstanceId: opts.appInstanceId } : {}),
          replay: sends++ > 0,
        }),
      )
    let r = await create()
    // A file created in a folder that does not exist yet (a VM's first disk): the folders first.
    const parent = path.replace(/\\/g, '/').split('/').slice(0, -1).join('/')
    if (!r.ok && r.failure.status === NT_STATUS.OBJECT_PATH_NOT_FOUND && !readOnly && !opts.mustExist && parent !== '') {
      valueOf(await this.withFailover(() => this.need().ensureDirectory(parent)), parent)
      sends = 0
      r = await create()
    }
    const handle: FailoverHandle = { path, createGuid, fileId: valueOf(r, path).fileId }
    const handleId = this.nextLocalId++
    const refused = this.feed({ kind: 'handle-opened', handleId, path }).find((a) => a.kind === 'refuse-handle')
    if (refused?.kind === 'refuse-handle') {
      await this.need().close(handle.fileId).catch(() => undefined)
      throw new Error(`CREATE ${path}: ${refused.reason}`)
    }
    this.handles.set(handleId, handle)
    this.handleIds.set(handle, handleId)
    return handle
  }

  /** A write the application sees acknowledged exactly once, whatever fails in between. */
  async write(handle: FailoverHandle, offset: number, data: Buffer): Promise<void> {
    const writeId = this.nextLocalId++
    const refused = this.feed({ kind: 'write-started', writeId }).find((a) => a.kind === 'refuse-write')
    if (refused?.kind === 'refuse-write') throw new Error(refused.reason)
    // Every send after the first is a replay (SMB2_FLAGS_REPLAY_OPERATION, 3.2.4.1.1): the
    // server may have applied an earlier one whose answer was lost with its node or channel. A
    // STATUS_FILE_NOT_AVAILABLE (the channel moved under it, 3.3.5.2.10) is sent again too, by withFailover.
    let sends = 0
    try {
      const r = await this.withFailover(() => this.need().write(handle.fileId, offset, data, { replay: sends++ > 0 }))
      if (!r.ok) throw new Error(`WRITE at ${offset}: ${r.failure.statusName}`)
    } finally {
      this.feed({ kind: 'write-finished', writeId })
    }
  }

  async read(handle: FailoverHandle, offset: number, length: number): Promise<Buffer> {
    const r = await this.withFailover(() => this.need().read(handle.fileId, offset, length))
    if (!r.ok) throw new Error(`READ at ${offset}: ${r.failure.statusName}`)
    return r.value
  }

  /**
   * Gives back the memory of what read() returned, once nothing reads those bytes any more (a
   * bulk reader that copied them away): the next large reply is received into it. Optional; a
   * buffer not given back is collected as any other.
   */
  recycle(data: Buffer): void {
    clientFrameBuffers.release(data)
  }

  /** The file's size in bytes (QUERY_INFO). */
  async size(handle: FailoverHandle): Promise<number> {
    return valueOf(await this.withFailover(() => this.need().endOfFile(handle.fileId)), handle.path)
  }

  /** Sets the file's size (SET_INFO end of file): a new disk is created at its full size. */
  async setSize(handle: FailoverHandle, bytes: number): Promise<void> {
    let sends = 0
    valueOf(await this.withFailover(() => this.need().setEndOfFile(handle.fileId, bytes, { replay: sends++ > 0 })), handle.path)
  }

  /** Names a share's files and folders at `path` (QUERY_DIRECTORY). */
  async list(path = ''): Promise<Array<{ name: string; directory: boolean; endOfFile: number }>> {
    return valueOf(await this.withFailover(() => this.need().list(path)), path)
  }

  /** CLOSE: the handle is given up (a persistent handle no longer outlives the client). */
  async close(handle: FailoverHandle): Promise<void> {
    handle.closing = true
    const r = await this.withFailover(() => this.need().close(handle.fileId))
    const handleId = this.handleIds.get(handle)
    if (handleId !== undefined) {
      this.forgetHandle(handleId)
      this.feed({ kind: 'handle-closed', handleId })
    }
    if (!r.ok && r.failure.status !== NT_STATUS.FILE_CLOSED) throw new Error(`CLOSE ${handle.path}: ${r.failure.statusName}`)
  }

  /** UnRegisters (one try), closes the witness channel and the data path; 'stopped' follows. */
  async stop(): Promise<void> {
    if (this.stopping) return this.stopping.promise
    const stopping = new Deferred()
    this.stopping = stopping
    this.feed({ kind: 'stop' })
    try {
      await stopping.promise
    } finally {
      this.stopping = null
    }
  }

  /** Moves the data path off `fromIp` (to one of `toIps` if given). One failover at a time. */
  failover(cause: string, fromIp: string, toIps: readonly string[]): Promise<void> {
    if (this.failing) return this.failing.promise
    const actions = this.feed({ kind: 'failover-requested', cause, fromIp, toIps })
    const failed = actions.find((a) => a.kind === 'emit' && a.event.name === 'failover-failed')
    if (failed?.kind === 'emit' && failed.event.name === 'failover-failed') return Promise.reject(new Error(failed.event.fields.error))
    // feed() may have started one (TypeScript keeps the narrowing from above).
    const started = this.failing as Deferred | null
    return started?.promise ?? Promise.resolve()
  }

  // ---- requests ----

  /**
   * Runs a data-path call; when it fails in a way worth retrying, the core says whether to wait
   * for a failover (which the failure may just have started), pause, or give up. The request
   * deadline restarts after each failover.
   */
  private async withFailover<T>(call: () => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    const requestId = this.nextLocalId++
    let startedMs = this.now()
    const firstMs = startedMs
    let lastFailure = ''
    for (let attempt = 0; attempt < REQUEST_ATTEMPTS_MAX; attempt++) {
      if (this.failing) {
        await this.failing.promise
        startedMs = this.now()
      }
      const ip = this.core.dataIp
      try {
        const result = await withDeadline(call(), Math.max(1, startedMs + timeoutMs - this.now()))
        // The node is up but cannot serve the request now (MS-SMB2 3.2.5.1.x: send it again, as a replay).
        if (!isTemporarilyUnavailable(result)) return result
        throw new NotConnected(`${(result as FailedResult).failure.command}: ${(result as FailedResult).failure.statusName}`)
      } catch (err) {
        // On the wire a node that died, or that has no serving owner for the CSV behind the
        // request (server/smb2 drops the connection then, so that the client reconnects as after
        // a node failure), shows as a connection that closed or reset: connection-lost. No
        // connection at all (a failover is moving it) is unavailable: wait and send again.
        const retryable = err instanceof Smb2TransportError || err instanceof NotConnected || err instanceof RequestTimeout
        if (!retryable) throw err
        lastFailure = (err as Error).message
        const expired = err instanceof RequestTimeout || this.now() >= startedMs + timeoutMs
        const failure: RequestFailure = expired ? 'timed-out' : err instanceof NotConnected ? 'unavailable' : 'connection-lost'
        const verdict = this.feed({ kind: 'request-failed', requestId, sentToIp: ip, failure }).find(
          (a) => (a.kind === 'retry-request' || a.kind === 'fail-request') && a.requestId === requestId,
        )
        if (verdict?.kind === 'fail-request') throw verdict.reason === 'client-stopped' ? err : new Error(verdict.error)
        if (verdict?.kind !== 'retry-request') throw err
        if (verdict.delayMs > 0) await sleep(verdict.delayMs)
      }
    }
    throw new Error(`gave up after ${REQUEST_ATTEMPTS_MAX} attempts in ${Math.round(this.now() - firstMs)} ms, through failovers and retries; the last: ${lastFailure}`)
  }

  private need(): Smb2DataPath {
    if (!this.smb) throw new NotConnected('not connected')
    return this.smb
  }

  private forgetHandle(handleId: number): void {
    const handle = this.handles.get(handleId)
    if (handle) this.handleIds.delete(handle)
    this.handles.delete(handleId)
  }

  // ---- the core ----

  /** Steps the core (telling it first when the name resolves differently) and does its actions. */
  private feed(input: CoreInput): FailoverAction[] {
    const nodeIps = this.opts.resolve().map((n) => n.ip)
    const key = nodeIps.join(',')
    if (key !== this.resolvedKey) {
      this.resolvedKey = key
      this.step({ kind: 'addresses', nodeIps })
    }
    return this.step(input)
  }

  private step(input: CoreInput): FailoverAction[] {
    const actions = this.core.step({ ...input, nowMs: this.now() } as FailoverInput)
    for (const action of actions) this.execute(action)
    return actions
  }

  private execute(a: FailoverAction): void {
    switch (a.kind) {
      case 'connect':
        void this.connect(a)
        return
      case 'use-connection':
        this.smb = this.connections.get(a.connectionId) ?? null
        return
      case 'disconnect':
        this.connections.get(a.connectionId)?.closeTransport()
        this.connections.delete(a.connectionId)
        return
      case 'reclaim':
        void this.reclaim(a)
        return
      case 'replay': {
        // The writes that had no answer wait for this failover; they now send again with the
        // REPLAY flag and their MessageId.
        const failing = this.failing
        this.failing = null
        failing?.resolve()
        return
      }
      case 'list-interfaces':
        void this.listInterfaces(a)
        return
      case 'register':
        void this.register(a)
        return
      case 'await-notification':
        void this.awaitNotification(a)
        return
      case 'unregister':
        void this.unregister(a)
        return
      case 'release-registration':
        this.witnessChannels.get(a.key)?.close()
        this.witnessChannels.delete(a.key)
        return
      case 'set-timer':
        setTimeout(() => this.feed({ kind: 'timer', timerId: a.timerId }), a.delayMs)
        return
      case 'started':
        this.starting?.resolve()
        return
      case 'start-failed':
        this.starting?.reject(this.lastConnectError?.message === a.error ? this.lastConnectError : new Error(a.error))
        return
      case 'emit':
        this.emitClientEvent(a.event)
        return
      // Verdicts the caller reads from the actions it got back.
      case 'retry-request':
      case 'fail-request':
      case 'refuse-write':
      case 'refuse-handle':
      // Decisions for a log; the client's events already say what happened.
      case 'log':
        return
      default: {
        const never: never = a
        throw new Error(`unknown failover action ${JSON.stringify(never)}`)
      }
    }
  }

  private emitClientEvent(event: ClientEvent): void {
    if (event.name === 'failover-start') this.failing = new Deferred()
    this.emit(event.name, event.fields)
    if (event.name === 'failover-failed') {
      const failing = this.failing
      this.failing = null
      failing?.reject(new Error(event.fields.error))
    }
    if (event.name === 'stopped') this.stopping?.resolve()
  }

  // ---- IO for the core's actions; every result goes back to it ----

  private async connect(a: Extract<FailoverAction, { kind: 'connect' }>): Promise<void> {
    const node = this.opts.resolve().find((n) => n.ip === a.ip)
    let smb: Smb2DataPath
    try {
      if (!node) throw new Error(`no address ${a.ip}`)
      if (!(node.smbPort > 0)) throw new Error(`${a.ip} has no SMB 2/3 port`)
      smb = await Smb2DataPath.connect({
        host: a.ip,
        port: node.smbPort,
        user: this.opts.credential.user,
        password: this.opts.credential.password,
        clientGuid: this.clientGuid,
        netName: this.opts.netName,
        share: this.opts.share,
        previousSessionId: a.previousSessionId,
        channelSequence: a.channelSequence,
        requestTimeoutMs: (this.opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) + WIRE_DEADLINE_SLACK_MS,
        connectTimeoutMs: this.connectTimeoutMs(),
        ...(this.opts.localAddress !== undefined ? { localAddress: this.opts.localAddress } : {}),
      })
    } catch (err) {
      if (err instanceof Smb2ConnectTimeout) this.connectTimeoutsInARow = Math.min(this.connectTimeoutsInARow + 1, 16)
      this.lastConnectError = err as Error
      const error = (err as Error).message
      this.feed({ kind: 'connect-result', opId: a.opId, outcome: err instanceof Smb2TransportError && REFUSED.test(error) ? 'refused' : 'failed', error })
      return
    }
    this.connectTimeoutsInARow = 0
    this.connections.set(a.opId, smb)
    this.feed({ kind: 'connect-result', opId: a.opId, outcome: 'ok', sessionId: smb.sessionId })
  }

  private connectTimeoutMs(): number {
    const maxMs = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    if (this.starting) return Math.max(START_CONNECT_TIMEOUT_MS, maxMs)
    return Math.min(maxMs, FIRST_CONNECT_TIMEOUT_MS * 2 ** this.connectTimeoutsInARow)
  }

  private async reclaim(a: Extract<FailoverAction, { kind: 'reclaim' }>): Promise<void> {
    const h = this.handles.get(a.handleId)
    if (!h) {
      this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'gone' })
      return
    }
    try {
      const r = await this.need().reconnect(h.path, h.fileId, h.createGuid)
      if (r.ok) {
        h.fileId = r.value.fileId
        this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'reclaimed' })
      } else if (TEMPORARILY_UNAVAILABLE.has(r.failure.status)) {
        this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'unavailable' })
      } else if (h.closing && r.failure.status === NT_STATUS.OBJECT_NAME_NOT_FOUND) {
        // The CLOSE reached the failed node and only its answer was lost: the open is gone,
        // which is what the application asked for. Its CLOSE is answered FILE_CLOSED.
        this.forgetHandle(a.handleId)
        this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'gone' })
      } else {
        this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'failed', error: `DH2C ${h.path}: ${r.failure.statusName}` })
      }
    } catch (err) {
      // The CSV may still be moving to its new owner: the node then drops the connection (see
      // withFailover), and the core makes another connect attempt, to this node or the next.
      this.feed({ kind: 'reclaim-result', opId: a.opId, outcome: 'failed', error: (err as Error).message })
    }
  }

  /**
   * A witness channel to ip: TCP to its DCE/RPC port, bind to the witness interface with
   * NTLMSSP in SPNEGO at the chosen level, within timeoutMs. Every failure (no such node, a
   * refused or silent connect, a refused bind) is an Error whose message says which; the core
   * treats them all as the witness being unreachable, as it did the gRPC errors before.
   */
  private async witnessConnect(ip: string, timeoutMs: number): Promise<DcerpcWitnessClient> {
    const node = this.opts.resolve().find((n) => n.ip === ip)
    if (!node) throw new Error(`no address ${ip}`)
    if (node.dcerpcPort <= 0) throw new Error(`${ip} serves no witness on DCE/RPC`)
    return DcerpcWitnessClient.connect(ip, node.dcerpcPort, {
      auth: { user: this.opts.credential.user, password: this.opts.credential.password, level: this.opts.witnessAuthLevel ?? 'privacy' },
      connectTimeoutMs: timeoutMs,
      callTimeoutMs: WITNESS_CALL_TIMEOUT_MS,
      ...(this.opts.localAddress !== undefined ? { localAddress: this.opts.localAddress } : {}),
    })
  }

  /** GetInterfaceList on the node the core asks (connect and call within INTERFACE_LIST_DEADLINE_MS). */
  private async listInterfaces(a: Extract<FailoverAction, { kind: 'list-interfaces' }>): Promise<void> {
    const deadline = this.now() + INTERFACE_LIST_DEADLINE_MS
    let interfaces
    try {
      const lister = await this.witnessConnect(a.askIp, INTERFACE_LIST_DEADLINE_MS)
      const list = await lister.getInterfaceList(Math.max(1, deadline - this.now())).finally(() => lister.close())
      if (list.result !== WIN_ERROR.SUCCESS || list.interfaces === null) throw new Error(`GetInterfaceList: ${winErrorName(list.result)}`)
      interfaces = list.interfaces.map((i) => ({ ipv4: i.ipv4, state: i.state, flags: i.flags }))
    } catch (err) {
      this.feed({ kind: 'interface-list-result', opId: a.opId, ok: false, error: (err as Error).message })
      return
    }
    // A random witness node among the candidates, so that a cluster's registrations spread over its nodes.
    this.feed({ kind: 'interface-list-result', opId: a.opId, ok: true, interfaces, random: Math.random() })
  }

  private keepAliveTimeoutS(): number {
    return this.opts.keepAliveTimeoutS ?? WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S
  }

  /** RegisterEx on the chosen witness node; its channel is kept for the registration's AsyncNotify. */
  private async register(a: Extract<FailoverAction, { kind: 'register' }>): Promise<void> {
    let w: DcerpcWitnessClient
    try {
      w = await this.witnessConnect(a.witnessIp, WITNESS_CALL_TIMEOUT_MS)
    } catch (err) {
      this.feed({ kind: 'register-result', opId: a.opId, ok: false, error: (err as Error).message })
      return
    }
    const r = await w
      .registerEx({
        netName: this.opts.netName,
        shareName: this.opts.share,
        ipAddress: a.dataIp,
        clientComputerName: this.clientName,
        flags: WITNESS_REGISTER_IP_NOTIFICATION,
        keepAliveTimeoutS: this.keepAliveTimeoutS(),
      })
      .catch((err: Error) => err)
    if (r instanceof Error || r.result !== WIN_ERROR.SUCCESS) {
      w.close()
      this.feed({ kind: 'register-result', opId: a.opId, ok: false, error: r instanceof Error ? r.message : `RegisterEx: ${winErrorName(r.result)}` })
      return
    }
    this.witnessChannels.set(r.key, w)
    this.feed({ kind: 'register-result', opId: a.opId, ok: true, key: r.key })
  }

  private async awaitNotification(a: Extract<FailoverAction, { kind: 'await-notification' }>): Promise<void> {
    const w = this.witnessChannels.get(a.key)
    if (!w) {
      this.feed({ kind: 'witness-lost', opId: a.opId, reason: 'connection-closed', error: `no channel for registration ${a.key}` })
      return
    }
    let n
    try {
      // A live witness answers within the keep-alive (ERROR_TIMEOUT at worst). One that does not
      // is frozen or cut off behind a connection that looks alive: give up on it then (the call
      // is orphaned), so that the client registers elsewhere instead of waiting on it for ever.
      n = await w.asyncNotify(a.key, witnessSilenceDeadlineMs(this.keepAliveTimeoutS()))
    } catch (err) {
      // The witness node died ('closed'), stopped answering ('timeout'), faulted the call, or
      // the channel was closed by us: in every case this registration hears nothing more.
      const kind = err instanceof DcerpcClientError ? err.kind : 'closed'
      const reason = kind === 'timeout' ? 'no-answer' : kind === 'closed' ? 'connection-closed' : 'refused'
      this.feed({ kind: 'witness-lost', opId: a.opId, reason, error: (err as Error).message })
      return
    }
    if (n.result === WIN_ERROR.TIMEOUT) this.feed({ kind: 'notify-timeout', opId: a.opId })
    else if (n.result !== WIN_ERROR.SUCCESS || n.notify === null) {
      this.feed({ kind: 'witness-lost', opId: a.opId, reason: 'refused', error: `AsyncNotify: ${winErrorName(n.result)}` })
    }
    else {
      const { messageType, resourceChanges, ipAddresses } = n.notify
      this.feed({ kind: 'notification', opId: a.opId, message: { messageType, resourceChanges, ipAddresses } })
    }
  }

  /**
   * UnRegister on the registration's channel. A witness node that is briefly not serving (its
   * lease lapsed while the cluster elected a leader) refuses: the core retries a few times, so
   * that the node does not keep a registration nobody listens to until it expires.
   */
  private async unregister(a: Extract<FailoverAction, { kind: 'unregister' }>): Promise<void> {
    const deadline = this.now() + a.deadlineMs
    const kept = this.witnessChannels.get(a.key)
    const usable = kept && !kept.closed ? kept : null
    const w = usable ?? (await this.witnessConnect(a.witnessIp, a.deadlineMs).catch(() => null))
    const done = w
      ? await w.unRegister(a.key, Math.max(1, deadline - this.now())).then(
          (r) => r.result === WIN_ERROR.SUCCESS || r.result === WIN_ERROR.NOT_FOUND,
          () => false,
        )
      : false
    if (!usable) w?.close()
    this.feed({ kind: 'unregister-result', opId: a.opId, done })
  }
}

class RequestTimeout extends Error {}

/** The data path has no connection now (a failover is making the next one), or its node cannot serve the request yet. */
class NotConnected extends Error {}

/**
 * The statuses SMB 3 defines as "try again" (MS-SMB2 2.2.2 and 3.2.5.1.x): a client with
 * persistent handles replays the request (STATUS_FILE_NOT_AVAILABLE) or sends it again after a
 * while (STATUS_SERVER_UNAVAILABLE), as cifs.ko maps both to EAGAIN.
 */
const TEMPORARILY_UNAVAILABLE: ReadonlySet<number> = new Set([NT_STATUS.FILE_NOT_AVAILABLE, NT_STATUS.SERVER_UNAVAILABLE])

type FailedResult = Extract<Smb2Result<unknown>, { ok: false }>

function isTemporarilyUnavailable(result: unknown): boolean {
  const r = result as Partial<FailedResult> | null
  return typeof r === 'object' && r !== null && r.ok === false && r.failure !== undefined && TEMPORARILY_UNAVAILABLE.has(r.failure.status)
}

/** The value of a data-path result, or the status thrown as an Smb2StatusError naming `what`. */
function valueOf<T>(r: Smb2Result<T>, what: string): T {
  if (r.ok) return r.value
  const failure: Smb2Failure = { ...r.failure, detail: r.failure.detail ? `${what}: ${r.failure.detail}` : what }
  throw new Smb2StatusError(failure)
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RequestTimeout(`request expired after ${ms} ms`)), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}

