// The witness-driven failover client (MS-SWN 1.5 and MS-SMB2 3.2.4.x): it connects its data
// path to one node, registers with the witness service of another, keeps one AsyncNotify
// outstanding, and when its data node becomes UNAVAILABLE (or a CLIENT_MOVE / SHARE_MOVE
// arrives) it moves to a surviving node: NEGOTIATE with the same ClientGuid, SESSION_SETUP
// with PreviousSessionId, TREE_CONNECT, DH2C for every persistent handle, replay of every
// write that had no answer, then registers again. Without witness (timeoutOnly) it notices a
// dead node only when a request times out.
import * as grpc from '@grpc/grpc-js'
import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { Credential } from '../cluster/credentials.js'
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE } from '../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../protocol/swn/win-errors.js'
import { ACCESS, DISPOSITION, NT_STATUS, SHARE_ACCESS, SmbClient, SmbError, type FileId } from './smb-client.js'
import { WitnessClient } from './witness-client.js'
import { monoNowMs } from '../runtime/clock.js'
import { sleep } from '../runtime/sleep.js'

/** One node of the cluster name, as a resolver returns it. */
export interface NodeAddress {
  readonly ip: string
  readonly smbPort: number
  readonly witnessPort: number
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
  readonly keepAliveTimeoutS?: number
  /** A monotonic clock in epoch ms (comparable across processes on one host). */
  readonly now?: () => number
}

export interface FailoverHandle {
  readonly path: string
  readonly createGuid: string
  fileId: FileId
  /** A CLOSE was sent: if the node died before answering, the open may be gone already. */
  closing?: boolean
}

interface Pending {
  readonly handle: FailoverHandle
  readonly offset: number
  readonly data: Buffer
  readonly messageId: string
}

/** Bounds: writes in flight, and attempts at each reconnect step. */
const IN_FLIGHT_MAX = 256
const RECONNECT_ATTEMPTS_MAX = 200
const RECONNECT_RETRY_MS = 25
/** Bounds on retrying the UnRegister of a registration the client moved away from. */
const UNREGISTER_ATTEMPTS_MAX = 10
const UNREGISTER_RETRY_MS = 300

export class FailoverClient extends EventEmitter {
  readonly clientGuid = randomUUID()
  readonly clientName: string
  private smb: SmbClient | null = null
  private dataIp = ''
  private witness: WitnessClient | null = null
  private registration = ''
  private witnessIp = ''
  private readonly handles: FailoverHandle[] = []
  private readonly inFlight = new Map<string, Pending>()
  private failing: Promise<void> | null = null
  private stopped = false
  /** Addresses an IP_CHANGE reported OFFLINE (and no later one ONLINE): not tried while others remain. */
  private readonly offline = new Set<string>()
  private readonly now: () => number

  constructor(private readonly opts: FailoverClientOptions) {
    super()
    this.clientName = opts.clientName ?? `client-${this.clientGuid.slice(0, 8)}`
    this.now = opts.now ?? monoNowMs
  }

  get dataNodeIp(): string {
    return this.dataIp
  }

  get witnessNodeIp(): string {
    return this.witnessIp
  }

  /** The addresses of the cluster name that the witness last reported OFFLINE. */
  get offlineAddresses(): string[] {
    return [...this.offline].sort()
  }

  /** The cluster name's addresses, without those reported offline unless nothing else is left. */
  private addresses(): string[] {
    const all = this.opts.resolve().map((n) => n.ip)
    const online = all.filter((ip) => !this.offline.has(ip))
    return online.length > 0 ? online : all
  }

  async start(): Promise<void> {
    const ips = this.addresses()
    const first = this.opts.preferredIp ?? ips[Math.floor(Math.random() * ips.length)]
    if (!first) throw new Error('the cluster name resolves to no address')
    // A name resolves to every node; one that is down refuses, so try the next (as DNS round
    // robin clients do), the preferred or randomly chosen one first.
    const order = [first, ...ips.filter((ip) => ip !== first)]
    let lastError: unknown
    for (const ip of order) {
      try {
        await this.connectTo(ip, '')
        lastError = undefined
        break
      } catch (err) {
        lastError = err
      }
    }
    if (lastError !== undefined) throw lastError
    if (!this.opts.timeoutOnly) void this.register()
  }

  /**
   * CREATE with a persistent handle. By default it opens or creates the file for reading and
   * writing and lets others only read; `readOnly` opens an existing file for reading and lets
   * others read and write (a backup reading a disk a VM keeps writing).
   */
  async open(path: string, opts: { readOnly?: boolean; mustExist?: boolean; appInstanceId?: string } = {}): Promise<FailoverHandle> {
    const createGuid = randomUUID()
    const readOnly = opts.readOnly ?? false
    const r = await this.withFailover(() =>
      this.need().create(path, {
        disposition: readOnly || opts.mustExist ? DISPOSITION.OPEN : DISPOSITION.OPEN_IF,
        desiredAccess: readOnly ? ACCESS.GENERIC_READ : ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE,
        shareAccess: readOnly ? SHARE_ACCESS.READ | SHARE_ACCESS.WRITE : SHARE_ACCESS.READ,
        durable: { createGuid, persistent: true },
        appInstanceId: opts.appInstanceId,
      }),
    )
    if (r.status.code !== NT_STATUS.SUCCESS) throw new SmbError(r.status, `CREATE ${path}`)
    const handle: FailoverHandle = { path, createGuid, fileId: r.fileId }
    this.handles.push(handle)
    return handle
  }

  /** A write the application sees acknowledged exactly once, whatever fails in between. */
  async write(handle: FailoverHandle, offset: number, data: Buffer): Promise<void> {
    if (this.inFlight.size >= IN_FLIGHT_MAX) throw new Error('too many writes in flight')
    const messageId = `${this.clientGuid}:${randomUUID()}`
    const pending: Pending = { handle, offset, data, messageId }
    this.inFlight.set(messageId, pending)
    // Every send after the first is a replay (REPLAY flag, the same MessageId): the server
    // may have applied an earlier one whose answer was lost with its node or channel.
    let sends = 0
    try {
      for (let attempt = 0; ; attempt++) {
        const r = await this.withFailover(() => this.need().write(handle.fileId, offset, data, { replay: sends++ > 0, messageId }))
        if (r.status.code === NT_STATUS.SUCCESS) return
        // The channel moved under this write: replay it on the new one.
        if (r.status.code === NT_STATUS.FILE_NOT_AVAILABLE && attempt < 3) continue
        throw new Error(`WRITE at ${offset}: ${r.status.name}`)
      }
    } finally {
      this.inFlight.delete(messageId)
    }
  }

  async read(handle: FailoverHandle, offset: number, length: number): Promise<Buffer> {
    const r = await this.withFailover(() => this.need().read(handle.fileId, offset, length))
    if (r.status.code !== NT_STATUS.SUCCESS) throw new Error(`READ at ${offset}: ${r.status.name}`)
    return r.data
  }

  /** The file's size in bytes (QUERY_INFO). */
  async size(handle: FailoverHandle): Promise<number> {
    const r = await this.withFailover(() => this.need().queryInfo(handle.fileId))
    if (r.status.code !== NT_STATUS.SUCCESS) throw new SmbError(r.status, `QUERY_INFO ${handle.path}`)
    return r.endOfFile
  }

  /** Sets the file's size (SET_INFO end of file): a new disk is created at its full size. */
  async setSize(handle: FailoverHandle, bytes: number): Promise<void> {
    const status = await this.withFailover(() => this.need().setEndOfFile(handle.fileId, bytes))
    if (status.code !== NT_STATUS.SUCCESS) throw new SmbError(status, `SET_INFO ${handle.path}`)
  }

  /** Names a share's files and folders at `path` (QUERY_DIRECTORY). */
  async list(path = ''): Promise<Array<{ name: string; directory: boolean; endOfFile: number }>> {
    const r = await this.withFailover(() => this.need().queryDirectory(path))
    if (r.status.code !== NT_STATUS.SUCCESS) throw new SmbError(r.status, `QUERY_DIRECTORY ${path}`)
    return r.entries
  }

  /** CLOSE: the handle is given up (a persistent handle no longer outlives the client). */
  async close(handle: FailoverHandle): Promise<void> {
    handle.closing = true
    const status = await this.withFailover(() => this.need().close(handle.fileId))
    const i = this.handles.indexOf(handle)
    if (i >= 0) this.handles.splice(i, 1)
    if (status.code !== NT_STATUS.SUCCESS && status.code !== NT_STATUS.FILE_CLOSED) throw new Error(`CLOSE ${handle.path}: ${status.name}`)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.witness && this.registration) await this.witness.unRegister(this.registration).catch(() => undefined)
    this.witness?.close()
    this.smb?.closeTransport()
    this.emit('stopped', { data: this.dataIp })
  }

  // ---- failover ----

  /**
   * Runs a data-path call; when its node fails (the call errors, or a witness notice started a
   * failover) it waits for the move to a surviving node and runs the call again there. The
   * timeout-only client learns of a dead node only from the request deadline.
   */
  private async withFailover<T>(call: () => Promise<T>): Promise<T> {
    const timeoutMs = this.opts.requestTimeoutMs ?? 60_000
    let startedMs = this.now()
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS_MAX * 100; attempt++) {
      if (this.failing) {
        await this.failing
        startedMs = this.now()
      }
      const ip = this.dataIp
      try {
        return await withDeadline(call(), Math.max(1, startedMs + timeoutMs - this.now()))
      } catch (err) {
        if (this.stopped) throw err
        const code = (err as grpc.ServiceError).code
        const retryable = code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED || code === grpc.status.CANCELLED
        if (!retryable && !(err instanceof RequestTimeout)) throw err
        const expired = err instanceof RequestTimeout || this.now() >= startedMs + timeoutMs
        // The timeout-only client learns of a dead node only when the request expires. The
        // witness client also moves at once when the node's process is gone (a refused or
        // dropped connection); other failures (a CSV briefly without owner) are retried.
        const gone = !this.opts.timeoutOnly && /ECONNREFUSED|Connection dropped|No connection established/.test((err as Error).message)
        if ((expired || gone) && ip === this.dataIp) void this.failover(expired ? 'request-timeout' : 'connection-failed', ip, []).catch(() => undefined)
        else await sleep(RECONNECT_RETRY_MS)
      }
    }
    throw new Error('gave up after repeated failovers')
  }

  /** Moves the data path off `fromIp` (to one of `toIps` if given). One failover at a time. */
  failover(cause: string, fromIp: string, toIps: readonly string[]): Promise<void> {
    if (this.failing) return this.failing
    if (fromIp !== this.dataIp) return Promise.resolve()
    const startedMs = this.now()
    this.emit('failover-start', { cause, from: fromIp, atMs: startedMs })
    this.failing = this.moveTo(fromIp, toIps, startedMs, cause)
      .catch((err: Error) => {
        this.emit('failover-failed', { cause, from: fromIp, error: err.message })
        throw err
      })
      .finally(() => {
        this.failing = null
      })
    return this.failing
  }

  private async moveTo(fromIp: string, toIps: readonly string[], startedMs: number, cause: string): Promise<void> {
    const old = this.smb
    old?.closeTransport()
    let lastError = ''
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS_MAX && !this.stopped; attempt++) {
      const candidates = toIps.length > 0 ? toIps : this.addresses().filter((ip) => ip !== fromIp)
      const target = candidates[attempt % Math.max(1, candidates.length)]
      if (!target) break
      this.emit('failover-attempt', { cause, from: fromIp, to: target, attempt })
      try {
        await this.connectTo(target, old?.sessionId ?? '', old)
        for (const h of [...this.handles]) await this.reclaim(h)
        this.emit('reconnected', { cause, from: fromIp, to: target, afterMs: this.now() - startedMs, handles: this.handles.length })
        // Writes that had no answer are replayed by their own loops (REPLAY flag, same MessageId).
        this.emit('replayed', { count: this.inFlight.size })
        if (!this.opts.timeoutOnly) void this.register()
        return
      } catch (err) {
        lastError = (err as Error).message
        await sleep(RECONNECT_RETRY_MS)
      }
    }
    throw new Error(`could not fail over from ${fromIp}: ${lastError}`)
  }

  private async reclaim(h: FailoverHandle): Promise<void> {
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS_MAX; attempt++) {
      try {
        const r = await this.need().create(h.path, { reconnect: { fileId: h.fileId, createGuid: h.createGuid, persistent: true } })
        if (r.status.code === NT_STATUS.SUCCESS) {
          h.fileId = r.fileId
          return
        }
        // The CLOSE reached the failed node and only its answer was lost: the open is gone,
        // which is what the application asked for. Its CLOSE is answered FILE_CLOSED.
        if (h.closing && r.status.code === NT_STATUS.OBJECT_NAME_NOT_FOUND) {
          const i = this.handles.indexOf(h)
          if (i >= 0) this.handles.splice(i, 1)
          return
        }
        throw new Error(`DH2C ${h.path}: ${r.status.name}`)
      } catch (err) {
        // The CSV may still be moving to its new owner: the call fails UNAVAILABLE until then.
        if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE) throw err
        await sleep(RECONNECT_RETRY_MS)
      }
    }
    throw new Error(`DH2C ${h.path}: the CSV never came back`)
  }

  private async connectTo(ip: string, previousSessionId: string, old?: SmbClient | null): Promise<void> {
    const node = this.opts.resolve().find((n) => n.ip === ip)
    if (!node) throw new Error(`no address ${ip}`)
    const smb = new SmbClient(`${ip}:${node.smbPort}`, this.clientGuid)
    if (old) {
      smb.channelSequence = old.channelSequence
      smb.bumpChannelSequence()
    }
    try {
      await smb.connect(this.opts.credential, `\\\\${this.opts.netName}\\${this.opts.share}`, previousSessionId)
    } catch (err) {
      smb.closeTransport()
      throw err
    }
    this.smb = smb
    this.dataIp = ip
    // A node that just answered is online, whatever an older IP_CHANGE said.
    this.offline.delete(ip)
  }

  // ---- witness (MS-SWN 1.5) ----

  private async register(): Promise<void> {
    const dataIp = this.dataIp
    const old = this.witness
    const oldRegistration = this.registration
    this.registration = ''
    this.witness = null
    if (old) void this.dropRegistration(old, oldRegistration)
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS_MAX && !this.stopped && dataIp === this.dataIp; attempt++) {
      try {
        // GetInterfaceList on the data node, then RegisterEx on another AVAILABLE witness interface.
        const dataNode = this.opts.resolve().find((n) => n.ip === dataIp)
        if (!dataNode) return
        const lister = new WitnessClient(`${dataIp}:${dataNode.witnessPort}`, this.opts.credential)
        const list = await lister.getInterfaceList(5_000).finally(() => lister.close())
        const candidates = list.interfaces.filter((i) => i.state === 1 && (i.flags & 0x4) !== 0 && i.ipv4 !== dataIp).map((i) => i.ipv4)
        const preferred = this.opts.preferredWitnessIp
        if (preferred && candidates.includes(preferred)) candidates.sort((a, b) => Number(b === preferred) - Number(a === preferred))
        for (const ip of candidates) {
          const node = this.opts.resolve().find((n) => n.ip === ip)
          if (!node) continue
          const w = new WitnessClient(`${ip}:${node.witnessPort}`, this.opts.credential)
          const r = await w
            .registerEx({
              netName: this.opts.netName,
              shareName: this.opts.share,
              ipAddress: dataIp,
              clientComputerName: this.clientName,
              flags: 1,
              keepAliveTimeoutS: this.opts.keepAliveTimeoutS ?? 120,
            })
            .catch(() => null)
          if (r?.result.code !== WIN_ERROR.SUCCESS || !r) {
            w.close()
            continue
          }
          if (dataIp !== this.dataIp || this.stopped) {
            // Best effort: a node going away answers with an error, which must not go unhandled.
            void w
              .unRegister(r.key)
              .catch(() => undefined)
              .finally(() => w.close())
            return
          }
          this.witness = w
          this.registration = r.key
          this.witnessIp = ip
          this.emit('registered', { witness: ip, data: dataIp, registration: r.key, interfaces: list.interfaces.length, candidates: candidates.length })
          void this.notifyLoop(w, r.key, dataIp)
          return
        }
      } catch {
        // The data node cannot list interfaces right now: try again shortly.
      }
      await sleep(100)
    }
  }

  /**
   * UnRegisters a registration this client gave up. A witness node that is briefly not serving
   * (its lease lapsed while the cluster elected a leader) refuses the call: retry a few times,
   * so that the node does not keep a registration nobody listens to until it expires.
   */
  private async dropRegistration(w: WitnessClient, key: string): Promise<void> {
    for (let attempt = 0; attempt < UNREGISTER_ATTEMPTS_MAX; attempt++) {
      const done = await w.unRegister(key, 2_000).then(
        (r) => r.result.code === WIN_ERROR.SUCCESS || r.result.code === WIN_ERROR.NOT_FOUND,
        () => false,
      )
      if (done) break
      await sleep(UNREGISTER_RETRY_MS)
    }
    w.close()
  }

  private async notifyLoop(w: WitnessClient, key: string, dataIp: string): Promise<void> {
    while (!this.stopped && this.registration === key) {
      let n
      try {
        n = await w.asyncNotify(key)
      } catch {
        // The witness node died: register with another.
        if (this.registration === key && !this.stopped) void this.register()
        return
      }
      if (n.result.code === WIN_ERROR.TIMEOUT) continue
      if (n.result.code !== WIN_ERROR.SUCCESS) {
        if (this.registration === key && !this.stopped) void this.register()
        return
      }
      this.emit('notified', { type: n.messageType, registration: key, atMs: this.now(), resourceChanges: n.resourceChanges, ipAddresses: n.ipAddresses })
      if (n.messageType === MESSAGE_TYPE.RESOURCE_CHANGE && n.resourceChanges.some((c) => c.changeType === RESOURCE_STATE.UNAVAILABLE)) {
        void this.failover('witness-unavailable', dataIp, []).catch(() => undefined)
        return
      }
      if (n.messageType === MESSAGE_TYPE.CLIENT_MOVE || n.messageType === MESSAGE_TYPE.SHARE_MOVE) {
        const ips = n.ipAddresses.map((a) => a.ipv4 || a.ipv6).filter((ip) => ip !== '')
        const cause = n.messageType === MESSAGE_TYPE.CLIENT_MOVE ? 'client-move' : 'share-move'
        if (ips.length > 0 && !ips.includes(dataIp)) {
          void this.failover(cause, dataIp, ips).catch(() => undefined)
          return
        }
      }
      if (n.messageType === MESSAGE_TYPE.IP_CHANGE) this.applyIpChange(n.ipAddresses)
    }
  }

  /** IP_CHANGE (version 2): OFFLINE addresses leave the list of failover targets, ONLINE ones return. */
  private applyIpChange(entries: readonly { flags: number; ipv4: string; ipv6: string }[]): void {
    const online: string[] = []
    const offline: string[] = []
    for (const e of entries) {
      const ip = e.ipv4 || e.ipv6
      if (ip === '') continue
      if (e.flags & IPADDR_FLAGS.OFFLINE) {
        this.offline.add(ip)
        offline.push(ip)
      } else if (e.flags & IPADDR_FLAGS.ONLINE) {
        this.offline.delete(ip)
        online.push(ip)
      }
    }
    this.emit('ip-change', { online, offline, atMs: this.now() })
  }

  private need(): SmbClient {
    if (!this.smb) throw Object.assign(new Error('not connected'), { code: grpc.status.UNAVAILABLE })
    return this.smb
  }
}

class RequestTimeout extends Error {}

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

