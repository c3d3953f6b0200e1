// The CSV side of a node's SMB data path: keeps one CSV service for each CSV this node serves
// (started and stopped as views commit), runs each handle operation where its CSV is served
// (here, or forwarded to the owner over the peer transport in the handle-op wire form), serves
// what peers forward here, and tells every owner when a session ends.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ClusterConfig } from '../cluster/config.js'
import type { NodeId, View } from '../core/quorum/types.js'
import { isUp } from '../core/quorum/view.js'
import type { Clock } from '../runtime/clock.js'
import type { ForwardAnswer, PeerTransport } from './peer-transport.js'
import type { QuorumReadout } from './quorum-shell.js'
import { newCbtFilterWithoutMarker, openCbtFilter, saveCbtFilter } from './smb/cbt-filter-store.js'
import type { FencedStorage } from './smb/fenced-storage.js'
import { RetriedTakeOver } from './smb/retried-take-over.js'
import { CsvService, CsvServiceClosed, type CsvStorageArray, type HandleOp, type HandleOpReply, type OplockBreaker, type ShareInfo } from './smb/csv-service.js'
import { decodeHandleMessage, encodeHandleMessage } from './smb/handle-op-codec.js'
import type { TokenBucket } from './smb/token-bucket.js'
import type { CbtFilter } from '../core/cbt/cbt-filter.js'
import { storageFaultStatusOf } from '../protocol/smb2/storage-errno.js'
import { NT_STATUS } from '../protocol/smb2/ntstatus.js'

/** Deadline of a handle operation forwarded to a CSV owner. */
const FORWARD_DEADLINE_MS = 10_000

/**
 * Operations that change nothing at the owner (or nothing a second run would change): one
 * forwarded to an owner the CSV moved away from is sent again to the new owner, as CSVFS
 * re-issues the IO it held while its volume moved.
 */
const REROUTABLE_OPS: ReadonlySet<HandleOp['op']> = new Set(['read', 'query-info', 'stat', 'query-directory', 'list-directory', 'fs-size'])
/**
 * Operations that may have changed the CSV at the owner the CSV moved away from, each answered
 * by a status of its SMB command: STATUS_FILE_NOT_AVAILABLE, so that the client sends it again as
 * a replay (MS-SMB2 3.2.5.1.x, 3.3.5.2.10) on its healthy connection. The data node cannot tell
 * whether the old owner applied it: re-running it here would be a second application nobody
 * asked for, while the client's replay is the one SMB 3 defines (the client owns the retry and
 * its ChannelSequence; a frozen old owner's late IO is refused by the storage array).
 */
const REPLAYED_BY_CLIENT_OPS: ReadonlySet<HandleOp['op']> = new Set(['create', 'close', 'flush', 'write', 'set-info', 'set-file-info', 'lock'])
/** Re-routes of one operation after moves of its CSV (each move is a committed view). */
const REROUTES_MAX = 4

/**
 * How long an operation on a CSV between owners (a planned move commits a view without the old
 * owner, then one with the new: ~100-200 ms; a lost owner's CSV is assigned in about a second)
 * waits for the next owner before the connection is dropped as before. Nothing was sent, so it
 * is safe to run once the owner is named; under the client's request timeout (5 s in the lab's
 * matrix, 60 s on Windows), as CSVFS holds IO while its volume is paused.
 */
const OWNERLESS_HOLD_MS = 2000
/** Pause before asking an owner that does not serve the CSV yet again (or at the next committed view). */
const NOT_SERVING_RETRY_MS = 50

/** A forward waiting for its owner's answer; `moved` ends the wait when the CSV moved off that owner. */
interface PendingForward {
  readonly csv: string
  readonly owner: NodeId
  readonly moved: () => void
}

/** How often preserved opens are checked for expiry (the durable open scavenger). */
const SCAVENGE_INTERVAL_MS = 1000
/** A CSV's take-over at the storage array that failed is started again by an operation this long after. */
const TAKE_OVER_RETRY_MS = 1000

const SHARE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/

export type CsvChange = { readonly ok: true } | { readonly ok: false; readonly error: string }

export interface CsvRouterOptions {
  readonly config: ClusterConfig
  readonly selfId: NodeId
  readonly quorum: { readonly readout: QuorumReadout; ownerOf(csv: string): NodeId | '' }
  readonly transport: Pick<PeerTransport, 'forward' | 'endSession'>
  readonly bandwidth: TokenBucket | null
  /** The storage array's reservations and IO path; null without an array (writes go to the folder directly). */
  readonly fenced?: FencedStorage | null
  readonly clock: Clock
  readonly log: Logger
}

export class CsvRouter {
  /** Shared with the SMB front, which sees shares added at run time. */
  readonly shares: ShareInfo[]
  private readonly services = new Map<string, CsvService>()
  /** CSVs in redirected access: all their IO goes via the owner, also in SAN mode. */
  private readonly redirected = new Set<string>()
  private readonly storageDir: string
  private scavenger: NodeJS.Timeout | undefined
  /** Forwards in flight, each ended when its CSV is committed to another owner (bounded by the requests in flight). */
  private readonly forwards = new Set<PendingForward>()
  /** Operations held for their CSV's next owner (bounded by the requests in flight, each by OWNERLESS_HOLD_MS). */
  private readonly ownerWaits = new Set<{ readonly csv: string; readonly anyView: boolean; readonly named: () => void }>()
  /** Oplock breaks go to this node's SMB2 wire front; without it no oplock is granted. */
  oplockBreaker: OplockBreaker | null = null
  /** Ends a session of this node's SMB2 wire front that a client reclaimed on another node (PreviousSessionId). */
  sessionReclaimer: ((sessionKey: string, user: string) => void) | null = null

  constructor(private readonly opts: CsvRouterOptions) {
    this.storageDir = join(opts.config.dir, 'storage')
    this.shares = opts.config.shares.map((s) => ({ name: s.name, csv: s.csv, continuouslyAvailable: s.ca ?? true, caTimeoutMs: s.caTimeoutMs ?? 0, scaleOut: s.kind !== 'general' }))
  }

  start(): void {
    this.scavenger = setInterval(() => {
      for (const service of this.services.values()) service.scavenge(this.opts.clock.nowMs())
    }, SCAVENGE_INTERVAL_MS)
  }

  /** Stops serving; a graceful stop keeps each CBT filter for this node's next start (a crash loses it). */
  async stop(): Promise<void> {
    clearInterval(this.scavenger)
    for (const [csv, service] of this.services) {
      if (!service.filter) continue
      try {
        saveCbtFilter(this.storageDir, csv, service.filter)
      } catch (err) {
        // A full or read-only CSV: the filter is not kept (the next start makes a new one), and the stop goes on.
        if (storageFaultStatusOf(err) === null) throw err
        this.opts.log.warn({ component: 'cbt', event: 'cbt.filter.save-failed', csv, code: (err as NodeJS.ErrnoException).code })
        continue
      }
      this.opts.log.info({ component: 'cbt', event: 'cbt.filter.saved', csv, instance: service.filter.instanceId })
    }
    await Promise.allSettled([...this.services.values()].map((s) => s.close()))
  }

  /** The CSV's service when this node serves the CSV now, else null. */
  localService(csv: string): CsvService | null {
    const service = this.services.get(csv)
    if (!service || !this.opts.quorum.readout.servingCsvs(this.opts.clock.nowMs()).includes(csv)) return null
    return service
  }

  ownerOf(csv: string): NodeId | '' {
    return this.opts.quorum.ownerOf(csv)
  }

  /** SAN mode: data IO direct from every node, unless the CSV is in redirected access. */
  directIo(csv: string): boolean {
    return this.opts.config.csvMode === 'san' && !this.redirected.has(csv)
  }

  setRedirected(csv: string, redirected: boolean): CsvChange {
    if (!this.opts.config.csvs.includes(csv)) return { ok: false, error: `unknown CSV ${csv}` }
    if (redirected) this.redirected.add(csv)
    else this.redirected.delete(csv)
    this.opts.log.info({ component: 'smb', event: redirected ? 'csv.redirected' : 'csv.direct', csv })
    return { ok: true }
  }

  redirectedCsvs(): string[] {
    return [...this.redirected].sort()
  }

  addShare(share: ShareInfo): CsvChange {
    if (!SHARE_NAME_PATTERN.test(share.name)) return { ok: false, error: `bad share name ${JSON.stringify(share.name)}` }
    if (!this.opts.config.csvs.includes(share.csv)) return { ok: false, error: `unknown CSV ${share.csv}` }
    if (this.shares.some((s) => s.name.toLowerCase() === share.name.toLowerCase())) return { ok: false, error: `share ${share.name} exists` }
    try {
      this.services.get(share.csv)?.addShare(share)
    } catch (err) {
      // A full or read-only CSV cannot take the share's folder: the share is not made.
      if (storageFaultStatusOf(err) === null) throw err
      return { ok: false, error: `${share.csv} cannot take the folder of share ${share.name} now (${(err as NodeJS.ErrnoException).code}): clear its storage fault first` }
    }
    this.shares.push(share)
    this.opts.log.info({ component: 'smb', event: 'smb.share.added', share: share.name, csv: share.csv, ca: share.continuouslyAvailable, scaleOut: share.scaleOut !== false })
    return { ok: true }
  }

  /**
   * Runs a handle operation where the CSV is served: here, or on its owner (S2D). A forward
   * whose CSV is committed to another owner meanwhile (its owner declared down, frozen or cut
   * off) does not wait out its deadline: it goes to the new owner when running it again is
   * harmless, and otherwise ends with STATUS_FILE_NOT_AVAILABLE for the client to replay.
   */
  async route(csv: string, op: HandleOp): Promise<HandleOpReply | 'unavailable'> {
    // Between owners, or at an owner that does not serve yet (it starts on its next step): the
    // operation was not run anywhere, so it waits for the CSV's next owner, up to the hold.
    let holdEndMs = Infinity
    const holdLeftMs = () => {
      if (holdEndMs === Infinity) holdEndMs = this.opts.clock.nowMs() + OWNERLESS_HOLD_MS
      return holdEndMs - this.opts.clock.nowMs()
    }
    /** An owner that does not serve the CSV (yet, or any more): asked again after a pause or the next view, within the hold; false once it ran out. */
    const retryNotServing = async (): Promise<boolean> => {
      const leftMs = holdLeftMs()
      if (leftMs <= 0) return false
      await this.ownerNamed(csv, Math.min(leftMs, NOT_SERVING_RETRY_MS), true)
      return true
    }
    let reroutes = 0
    for (;;) {
      const owner = this.opts.quorum.ownerOf(csv)
      if (owner === '') {
        const leftMs = holdLeftMs()
        if (leftMs <= 0 || !(await this.ownerNamed(csv, leftMs))) return 'unavailable'
        continue
      }
      if (owner === this.opts.selfId) {
        const service = this.services.get(csv)
        if (!service) {
          // Named owner, but not serving it: a move away from here stopped the service before
          // its view committed, or the one to here has not started it yet. Nothing ran.
          if (!(await retryNotServing())) return 'unavailable'
          continue
        }
        try {
          return await service.execute(op)
        } catch (err) {
          if (err instanceof CsvServiceClosed) return 'unavailable'
          throw err
        }
      }
      const answer = await this.forwardUnlessMoved(owner, csv, op)
      if (answer === 'moved') {
        this.opts.log.info({ component: 'smb', event: 'csv.forward.moved', csv, op: op.op, from: owner, to: this.opts.quorum.ownerOf(csv), reroutes })
        if (REROUTABLE_OPS.has(op.op) && reroutes < REROUTES_MAX) {
          reroutes++
          continue
        }
        return REPLAYED_BY_CLIENT_OPS.has(op.op) ? { status: NT_STATUS.FILE_NOT_AVAILABLE } : 'unavailable'
      }
      if (answer === 'not-serving') {
        if (!(await retryNotServing())) return 'unavailable'
        continue
      }
      if (answer === 'unavailable') return 'unavailable'
      try {
        return decodeHandleMessage(answer) as HandleOpReply
      } catch {
        return 'unavailable'
      }
    }
  }

  /** The owner's answer, or 'moved' as soon as the committed view gives the CSV another owner. */
  private async forwardUnlessMoved(owner: NodeId, csv: string, op: HandleOp): Promise<Buffer | 'unavailable' | 'not-serving' | 'moved'> {
    let pending: PendingForward | undefined
    const moved = new Promise<'moved'>((resolve) => {
      pending = { csv, owner, moved: () => resolve('moved') }
    })
    this.forwards.add(pending!)
    try {
      // The answer of a forward given up on is dropped when it comes (the peer call has its deadline).
      return await Promise.race([this.opts.transport.forward(owner, csv, op.op, encodeHandleMessage(op), FORWARD_DEADLINE_MS), moved])
    } finally {
      this.forwards.delete(pending!)
    }
  }

  /** True once the committed view names an owner for the CSV (with `anyView`: once a view commits), false after `holdMs`. */
  private ownerNamed(csv: string, holdMs: number, anyView = false): Promise<boolean> {
    return new Promise((resolve) => {
      const wait = {
        csv,
        anyView,
        named: () => {
          clearTimeout(timer)
          this.ownerWaits.delete(wait)
          resolve(true)
        },
      }
      const timer = setTimeout(() => {
        this.ownerWaits.delete(wait)
        resolve(false)
      }, holdMs)
      this.ownerWaits.add(wait)
    })
  }

  /** Ends the forwards whose CSV the committed view now gives to another owner, and the holds of CSVs that have one again. */
  private endMovedForwards(): void {
    for (const f of this.forwards) {
      const owner = this.opts.quorum.ownerOf(f.csv)
      // '' is a CSV between owners: the forward waits for the next one (or its deadline).
      if (owner !== '' && owner !== f.owner) f.moved()
    }
    for (const w of [...this.ownerWaits]) if (w.anyView || this.opts.quorum.ownerOf(w.csv) !== '') w.named()
  }

  /**
   * A session ended here: every node that is up drops (close) or preserves its opens. With a
   * user, a client reclaimed the session with PreviousSessionId (possibly one of another node):
   * only that user's opens are touched, and the node that holds the session ends it.
   */
  async endSession(sessionKey: string, close: boolean, user?: string): Promise<void> {
    this.sessionEnded(sessionKey, close, user)
    // A node the view holds down serves nothing, and its sessions' opens were disconnected when
    // it went down: waiting for its answer would only add a call deadline to a failover.
    const committed = this.opts.quorum.readout.committed
    const peers = this.opts.config.nodes.filter((n) => n.id !== this.opts.selfId && isUp(committed, n.id))
    await Promise.all(peers.map((n) => this.opts.transport.endSession(n.id, sessionKey, close, user)))
  }

  sessionEnded(sessionKey: string, close: boolean, user?: string): void {
    if (user !== undefined && sessionKey.startsWith(`${this.opts.selfId}/`)) this.sessionReclaimer?.(sessionKey, user)
    for (const service of this.services.values()) {
      if (close) service.closeSession(sessionKey)
      else service.disconnectSession(sessionKey, this.opts.clock.nowMs(), user)
    }
  }

  decodeForwarded(payload: Buffer): HandleOp | null {
    try {
      return decodeHandleMessage(payload) as HandleOp
    } catch {
      return null
    }
  }

  async serveForwarded(csv: string, op: HandleOp): Promise<ForwardAnswer> {
    const service = this.localService(csv)
    if (!service) return { ok: false, failure: 'not-serving', details: `${this.opts.selfId} does not serve ${csv}` }
    try {
      return { ok: true, payload: encodeHandleMessage(await service.execute(op)) }
    } catch (err) {
      return { ok: false, failure: err instanceof CsvServiceClosed ? 'unavailable' : 'failed', details: (err as Error).message }
    }
  }

  /** The CBT filter a CSV starts with; a full or write-protected CSV still gets one (a new one). */
  private openFilter(csv: string): { filter: CbtFilter; restored: boolean } {
    try {
      return openCbtFilter(this.storageDir, csv, this.opts.selfId)
    } catch (err) {
      if (storageFaultStatusOf(err) === null) throw err
      const fresh = newCbtFilterWithoutMarker(this.storageDir, csv, this.opts.selfId)
      this.opts.log.warn({ component: 'cbt', event: 'cbt.filter.marker-failed', csv, code: (err as NodeJS.ErrnoException).code, markerRemoved: fresh.markerRemoved })
      return { filter: fresh.filter, restored: false }
    }
  }

  /**
   * The harness remounts a CSV's volume: the CSV's service here (if this node owns it) holds its
   * operations back and closes its files, as do the direct-IO files of SAN mode (releaseDirect);
   * frozen false lets them go on.
   */
  async setFilesFrozen(csv: string, frozen: boolean, holdMs: number): Promise<{ ok: boolean; error: string; released: number }> {
    if (!this.opts.config.csvs.includes(csv)) return { ok: false, error: `unknown CSV ${csv}`, released: 0 }
    const service = this.services.get(csv)
    if (!frozen) {
      service?.thaw()
      return { ok: true, error: '', released: 0 }
    }
    const direct = (await this.releaseDirect?.(csv)) ?? 0
    const local = service ? await service.releaseFiles(holdMs) : { released: 0, idle: true }
    return { ok: true, error: local.idle ? '' : 'operations still running at the end of the hold', released: direct + local.released }
  }

  /** Closes this node's SAN direct-IO files of a CSV (set by the SMB front); resolves to how many. */
  releaseDirect: ((csv: string) => Promise<number>) | null = null

  /**
   * The sessions a node that went down served are gone: preserve their durable opens here. With
   * the storage array: the leader preempts the keys of each node this view declares down (before
   * any of its CSVs is served elsewhere: the new owner's take-over preempts them too, and waits);
   * this node registers a new key when it is up again after a view that held it down.
   */
  viewCommitted(before: View | null, view: View): void {
    this.endMovedForwards()
    const fenced = this.opts.fenced ?? null
    for (const m of view.members) {
      const was = before?.members.find((x) => x.id === m.id)
      if (m.id === this.opts.selfId) {
        if (m.state === 'down') this.reRegister = true
        else if (this.reRegister && fenced) {
          this.reRegister = false
          fenced.register('rejoin').catch((err: Error) => this.opts.log.warn({ component: 'array', event: 'array.register.failed', error: err.message }))
        }
        continue
      }
      if (m.state !== 'down' || was?.state !== 'up') continue
      for (const service of this.services.values()) service.disconnectNode(m.id, this.opts.clock.nowMs())
      if (fenced && view.leaderId === this.opts.selfId) {
        fenced.preemptNode(m.id).catch((err: Error) => this.opts.log.warn({ component: 'array', event: 'array.preempt.failed', peer: m.id, error: err.message }))
      }
    }
  }

  /** This node was held down in a committed view: it registers a new key once it is up again. */
  private reRegister = false

  /**
   * The storage array's side of starting to serve a CSV: preempt the keys of the nodes the
   * committed view holds down, then take the WERO reservation. The service waits for it.
   */
  private takeOver(csv: string): CsvStorageArray | null {
    const fenced = this.opts.fenced
    if (!fenced) return null
    const takeOver = new RetriedTakeOver(
      () => fenced.takeOver(csv, this.opts.quorum.readout.committed.members.filter((m) => m.state === 'down').map((m) => m.id)),
      () => this.opts.clock.nowMs(),
      TAKE_OVER_RETRY_MS,
      (err) => this.opts.log.warn({ component: 'array', event: 'array.takeover.failed', csv, error: err.message, retryAfterMs: TAKE_OVER_RETRY_MS }),
    )
    return {
      fenced,
      get ready() {
        return takeOver.ready
      },
    }
  }

  /**
   * Keeps one CSV service per CSV this node serves: a CSV it starts serving loads the
   * persistent opens left on the CSV; one it stops serving drops its in-memory state.
   */
  sync(): void {
    this.endMovedForwards()
    const { readout } = this.opts.quorum
    const nowMs = this.opts.clock.nowMs()
    const serving = new Set(readout.servingCsvs(nowMs))
    for (const [csv, service] of this.services) {
      if (serving.has(csv)) continue
      this.services.delete(csv)
      // The reservation stays where it is: the next owner takes it by PREEMPT (a RELEASE first
      // would leave the LUN with no reservation in force, when SPC lets anyone write). A node
      // that still serves (a planned move) registers again once that PREEMPT removed it.
      void service.close()
      if (this.opts.fenced && readout.isServing(nowMs)) {
        this.opts.fenced.handedOver(csv).catch((err: Error) => this.opts.log.warn({ component: 'array', event: 'array.register.failed', csv, error: err.message }))
      }
      this.opts.log.info({ component: 'smb', event: 'csv.service.stopped', csv })
    }
    for (const csv of serving) {
      if (this.services.has(csv)) continue
      const shares = this.shares.filter((s) => s.csv === csv)
      // A session lives on its node (the key's prefix): alive while that node is up.
      const sessionAlive = (key: string) => readout.committed.members.some((m) => m.state === 'up' && key.startsWith(`${m.id}/`))
      const mayServe = () => readout.servingCsvs(this.opts.clock.nowMs()).includes(csv)
      // The vendor's CBT filter exists only on a Microsoft file server (seed 000).
      const cbt = this.opts.config.flavour === 'microsoft' ? this.openFilter(csv) : null
      if (cbt) this.opts.log.info({ component: 'cbt', event: 'cbt.filter.started', csv, instance: cbt.filter.instanceId, restored: cbt.restored })
      const oplocks = this.oplockBreaker
      const array = this.takeOver(csv)
      const service = new CsvService(this.storageDir, csv, shares, this.opts.log, newFileIds, nowMs, this.opts.bandwidth, sessionAlive, mayServe, cbt?.filter ?? null, oplocks, array)
      this.services.set(csv, service)
      this.opts.log.info({ component: 'smb', event: 'csv.service.started', csv, preservedOpens: service.openCount() })
    }
  }
}

function newFileIds(): { persistent: string; volatile: string } {
  return { persistent: randomBytes(8).toString('hex'), volatile: randomBytes(8).toString('hex') }
}
