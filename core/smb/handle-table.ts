// The open (handle) table of one CSV: MS-SMB2's durable v2 and persistent handles as a
// deterministic state machine. Requests come in with the facts the adapter looked up (does
// the file exist) and the time; decisions and effects come out (persist or delete a handle
// record, create or truncate the file). The adapter does the IO, in order, before it answers.
//
// What it implements, with the spec sections:
// - CREATE with DH2Q (3.3.5.9.10): durable or persistent grant, timeout rules, replay of a
//   create with the same CreateGuid + ClientGuid returning the same open (applied once).
// - CREATE with DH2C (3.3.5.9.12): reconnect by FileId + CreateGuid + ClientGuid.
// - CREATE with DHnQ / DHnC (3.3.5.9.6, 3.3.5.9.7): durable v1, granted and reconnected by FileId.
// - Share access (3.3.5.9 / MS-FSA): a conflicting open, connected or preserved, refuses.
// - ChannelSequence and the REPLAY flag (3.3.5.2.10) for WRITE, SET_INFO and IOCTL; a READ's
//   newer ChannelSequence advances the open's too (a stale one is no error for it).
// - Disconnect (3.3.7.1): durable and persistent opens are kept until their timeout, others close.
import assert from 'node:assert/strict'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../../protocol/smb2/constants.js'

/** Windows' DurableHandleV2TimeoutInSeconds default (WS2012) and its 300 s cap. */
export const DEFAULT_DURABLE_TIMEOUT_MS = 60_000
export const MAX_DURABLE_TIMEOUT_MS = 300_000
/** Bounds on what clients can make one CSV owner hold. */
export const OPENS_MAX = 100_000
export const APPLIED_WRITES_REMEMBERED = 64

/** The persisted form of a persistent open: what another node needs to take it over. */
export interface OpenRecord {
  readonly persistentId: string
  readonly share: string
  /** Share-relative path, normalised with '/' separators. */
  readonly path: string
  readonly clientGuid: string
  readonly createGuid: string
  readonly user: string
  readonly desiredAccess: number
  readonly shareAccess: number
  readonly persistent: boolean
  readonly timeoutMs: number
  readonly channelSequence: number
  /** MessageIds of the latest WRITEs applied, so that a replay is applied once. */
  readonly appliedWrites: readonly string[]
  /**
   * The session the open was attached to when last written (null: disconnected). A new owner
   * of the CSV keeps the open attached if that session's node is still alive, so a CSV that
   * moves between live nodes does not disturb the clients using it.
   */
  readonly sessionKey?: string | null
  /** The volatile half of the FileId the attached session uses. */
  readonly volatileId?: string
  /** SMB2_CREATE_APP_INSTANCE_ID of the create that made the open ('' or absent: none). */
  readonly appInstanceId?: string
  /** An open of a directory (absent: a file). */
  readonly directory?: boolean
  /** The oplock the open holds (MS-SMB2 2.2.14 OplockLevel; absent or 0: none; 0xFF: a lease). */
  readonly oplockLevel?: number
  /** The byte-range locks the open holds (kept for a persistent open, so that a new owner honours them). */
  readonly locks?: readonly PersistedLock[]
  /** The filled slots of its LockSequenceArray (3.3.5.14), so that a LOCK replayed after a failover is recognised. */
  readonly lockSequences?: readonly { readonly index: number; readonly number: number }[]
  /**
   * The lease the open shares (with oplockLevel 0xFF): its key (32 hex digits) and version.
   * With the ClientGuid it names the lease, so that a new owner of the CSV can rebuild it,
   * with the state and epoch last granted or acknowledged (absent in records written before
   * they were kept: read caching, epoch 0).
   */
  readonly lease?: PersistedLease
  /**
   * CurrentByteOffset (MS-FSCC 2.4.35) as SET_INFO FilePositionInformation last set it, decimal
   * (absent: 0). The offsets READ and WRITE leave are kept in memory only: writing a record per
   * IO would cost a metadata write per data write, and SMB2 IO carries its own offsets.
   */
  readonly position?: string
}

export interface PersistedLease {
  readonly key: string
  readonly version: 1 | 2
  readonly state?: number
  readonly epoch?: number
  readonly parentKey?: string
}

/** A held byte-range lock in a record: offset and length in decimal (64-bit values in JSON). */
export interface PersistedLock {
  readonly offset: string
  readonly length: string
  readonly exclusive: boolean
}

/** Locks one persistent open may hold: each one is in its record, written on every change. */
export const PERSISTENT_OPEN_LOCKS_MAX = 1024

/** The CreateGuid of a DH2C that names an open made without one (a durable v1 open). */
const NIL_GUID = '00000000-0000-0000-0000-000000000000'

/** Oplock levels (MS-SMB2 2.2.13 RequestedOplockLevel). */
export const OPLOCK = { NONE: 0x00, LEVEL_II: 0x01, EXCLUSIVE: 0x08, BATCH: 0x09, LEASE: 0xff } as const

interface Open {
  record: OpenRecord
  volatileId: string
  durable: boolean
  /** Session the open is attached to; null while disconnected (preserved). */
  sessionKey: string | null
  disconnectedAtMs: number
  outstandingRequestCount: number
  outstandingPreRequestCount: number
  /** What the CREATE that made the open did to the file, for its replays' CreateAction. */
  fileAction?: FileAction
  /**
   * Open.IsReplayEligible (MS-SMB2 3.3.1.10): the client may not have seen the CREATE's answer
   * until it sends a request on the open; after that a CREATE with its CreateGuid is a new open
   * (smbtorture replay.replay6).
   */
  replayIneligible?: boolean
  /** CurrentByteOffset (FilePositionInformation), decimal; kept here so that a reconnect restores it (a persistent open's record keeps the last one SET_INFO set). */
  position?: string
}

export interface CreateRequest {
  readonly sessionKey: string
  readonly clientGuid: string
  readonly user: string
  readonly share: string
  readonly shareIsCa: boolean
  /** The share's CATimeout in ms (0: not set). */
  readonly caTimeoutMs: number
  readonly path: string
  readonly disposition: number
  readonly desiredAccess: number
  readonly shareAccess: number
  /** Whether the file exists on storage (the adapter looked). */
  readonly fileExists: boolean
  /** The server and the connection both do persistent handles (SMB 3.x + capability). */
  readonly persistentCapable: boolean
  readonly dh2q?: { readonly createGuid: string; readonly timeoutMs: number; readonly persistent: boolean }
  readonly dh2c?: { readonly persistentId: string; readonly createGuid: string; readonly persistent: boolean }
  /** DHnQ: a durable v1 open is asked for (ignored with DH2Q, which the adapter refuses). */
  readonly dhnq?: boolean
  /** DHnC: reconnect to the durable v1 open of that persistent FileId. */
  readonly dhnc?: { readonly persistentId: string }
  /** The connection speaks a 3.x dialect (the wire front says; absent: not known, no 3.x-only checks). */
  readonly smb3?: boolean
  /** The share is a scale-out one (SMB2_SHARE_CAP_SCALEOUT) and the connection 3.x. */
  readonly scaleOut?: boolean
  /**
   * DHnC/DH2C: the lease key (32 hex digits) of the request's RqLs context, whatever its
   * RequestedOplockLevel (absent: no lease context); with `path`, the name the request gives.
   */
  readonly reconnectLeaseKey?: string
  readonly replay: boolean
  /** SMB2_CREATE_APP_INSTANCE_ID ('' or absent: none). */
  readonly appInstanceId?: string
  /** The open is of a directory (the adapter looked, or the client asked for a new one). */
  readonly directory?: boolean
  /** Fresh ids from the adapter, used if a new open is made. */
  readonly newPersistentId: string
  readonly newVolatileId: string
}

export type FileAction = 'none' | 'create' | 'truncate'

export interface CreateResult {
  readonly status: number
  readonly persistentId?: string
  readonly volatileId?: string
  readonly durable?: boolean
  readonly persistent?: boolean
  readonly timeoutMs?: number
  /** What the adapter must do to the file before answering. */
  readonly fileAction: FileAction
  /** The create was a replay or a reconnect of an existing open. */
  readonly existing: boolean
  /** A replay: what the original CREATE did to the file (its CreateAction is answered again). */
  readonly replayedFileAction?: FileAction
  readonly effects: readonly HandleEffect[]
}

export type IoKind = 'read' | 'write' | 'flush' | 'query-info' | 'set-info' | 'ioctl' | 'close' | 'list-directory' | 'delete' | 'rename'

export interface IoRequest {
  readonly sessionKey: string
  readonly persistentId: string
  readonly volatileId: string
  readonly kind: IoKind
  readonly channelSequence: number
  readonly replay: boolean
  /** MessageId of the request; a replay carries the same one. */
  readonly messageId: string
  /**
   * A READ that carried a ChannelSequence (SMB 3.x on the wire): a newer one advances the
   * open's, as for any request on a FileId (3.3.5.2.10). Without it a READ leaves it alone.
   */
  readonly sequenced?: boolean
}

export interface IoDecision {
  readonly status: number
  /** The request may go ahead (the adapter does the IO, then calls completeIo). */
  readonly proceed: boolean
  /** A replayed WRITE that was applied already: answer success without writing again. */
  readonly alreadyApplied: boolean
  readonly record?: OpenRecord
}

export type HandleEffect =
  | { readonly kind: 'persist'; readonly record: OpenRecord }
  | { readonly kind: 'forget'; readonly persistentId: string }
  | { readonly kind: 'event'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> }

export class HandleTable {
  private readonly opens = new Map<string, Open>()

  constructor(readonly csv: string) {}

  /**
   * Takes over the persistent opens found on the CSV. An open whose session is still alive
   * (its node is up) stays attached; the others are preserved with their timeouts restarted.
   */
  load(records: readonly OpenRecord[], nowMs: number, sessionAlive: (sessionKey: string) => boolean = () => false): HandleEffect[] {
    const effects: HandleEffect[] = []
    for (const record of records) {
      if (this.opens.has(record.persistentId)) continue
      const attached = record.sessionKey && sessionAlive(record.sessionKey) ? record.sessionKey : null
      this.opens.set(record.persistentId, {
        record,
        volatileId: attached ? (record.volatileId ?? '') : '',
        durable: true,
        sessionKey: attached,
        disconnectedAtMs: attached ? -1 : nowMs,
        outstandingRequestCount: 0,
        outstandingPreRequestCount: 0,
        ...(record.position !== undefined && /^\d{1,20}$/.test(record.position) ? { position: record.position } : {}),
      })
      effects.push(event('handle.takeover', { csv: this.csv, persistentId: record.persistentId, path: record.path }))
    }
    return effects
  }

  /** The record of an open, for adapters that need its share and path (the CBT filter). */
  recordOf(persistentId: string): OpenRecord | null {
    return this.opens.get(persistentId)?.record ?? null
  }

  openCount(): number {
    return this.opens.size
  }

  create(req: CreateRequest): CreateResult {
    const none = (status: number, effects: HandleEffect[] = []): CreateResult => ({ status, fileAction: 'none', existing: false, effects })
    if (req.dh2q && req.dh2c) return none(NT_STATUS.INVALID_PARAMETER)
    if (req.dh2c || req.dhnc) return this.reconnect(req)
    if (req.dh2q) {
      // 3.3.5.9.10: without the REPLAY flag, a CreateGuid this client already has an open with
      // is a duplicate (smbd and Windows: DUPLICATE_OBJECTID, smb2.replay.replay6), whether or
      // not that open could still be replayed.
      // On a scale-out share, a preserved persistent open's file is held first: its client gets
      // FILE_NOT_AVAILABLE until it asks with REPLAY (Windows, as smb2.replay.replay5 expects).
      const createGuid = req.dh2q.createGuid
      const same = req.replay ? undefined : [...this.opens.values()].find((o) => o.record.createGuid === createGuid && o.record.clientGuid === req.clientGuid)
      if (same) return none(req.scaleOut && same.sessionKey === null && same.record.persistent ? NT_STATUS.FILE_NOT_AVAILABLE : NT_STATUS.DUPLICATE_OBJECTID)
      // With it, the open it made is given back while it is replay-eligible (no request has
      // used it since), else this is a new create.
      const replayed = this.replayed(req.clientGuid, createGuid)
      if (replayed) {
        replayed.sessionKey = req.sessionKey
        replayed.volatileId = replayed.volatileId || req.newVolatileId
        replayed.record = { ...replayed.record, sessionKey: req.sessionKey, volatileId: replayed.volatileId }
        return {
          status: NT_STATUS.SUCCESS,
          persistentId: replayed.record.persistentId,
          volatileId: replayed.volatileId,
          durable: replayed.durable,
          persistent: replayed.record.persistent,
          timeoutMs: replayed.record.timeoutMs,
          fileAction: 'none',
          existing: true,
          replayedFileAction: replayed.fileAction ?? 'none',
          effects: [
            ...(replayed.record.persistent ? [{ kind: 'persist' as const, record: replayed.record }] : []),
            event('handle.create.replayed', { csv: this.csv, persistentId: replayed.record.persistentId }),
          ],
        }
      }
    }
    // 3.3.5.9: at 3.x, a new open of a file whose persistent open is preserved (its client gone,
    // not yet reconnected) is refused with FILE_NOT_AVAILABLE, which a client retries: the file
    // is held for its owner's DH2C, as Windows holds it through a failover.
    if (req.smb3) {
      const held = [...this.opens.values()].find(
        (o) => o.sessionKey === null && o.record.persistent && o.record.share === req.share && o.record.path.toLowerCase() === req.path.toLowerCase(),
      )
      if (held) return none(NT_STATUS.FILE_NOT_AVAILABLE, [event('handle.held-for-reconnect', { csv: this.csv, path: req.path, holder: held.record.persistentId })])
    }
    if (this.opens.size >= OPENS_MAX) return none(NT_STATUS.INSUFFICIENT_RESOURCES)
    let fileAction: FileAction
    switch (req.disposition) {
      case DISPOSITION.OPEN:
        if (!req.fileExists) return none(NT_STATUS.OBJECT_NAME_NOT_FOUND)
        fileAction = 'none'
        break
      case DISPOSITION.CREATE:
        if (req.fileExists) return none(NT_STATUS.OBJECT_NAME_COLLISION)
        fileAction = 'create'
        break
      case DISPOSITION.OPEN_IF:
        fileAction = req.fileExists ? 'none' : 'create'
        break
      case DISPOSITION.OVERWRITE:
        if (!req.fileExists) return none(NT_STATUS.OBJECT_NAME_NOT_FOUND)
        fileAction = 'truncate'
        break
      case DISPOSITION.OVERWRITE_IF:
      case DISPOSITION.SUPERSEDE:
        fileAction = req.fileExists ? 'truncate' : 'create'
        break
      default:
        return none(NT_STATUS.INVALID_PARAMETER)
    }
    const access = normaliseAccess(req.desiredAccess)
    // A directory is opened or made, never overwritten (MS-FSA 2.1.5.1.2).
    if (req.directory && fileAction === 'truncate') return none(NT_STATUS.INVALID_PARAMETER)
    // Overwriting a file with an open that asked no write access is allowed: the truncation
    // implies FILE_WRITE_DATA, as Windows and smbd treat it (smbtorture's oplock.exclusive5 opens
    // with attribute access only and OVERWRITE_IF); every open here may write the share.
    // 3.3.5.9.13: an open of the same file with the same AppInstanceId made by another client
    // is closed first: the application moved and takes its files with it.
    const closedForAppInstance = this.closeForAppInstance(req)
    // Share access against every other open of the file, preserved ones included: a
    // persistent handle keeps its file locked through a failover.
    for (const other of this.opens.values()) {
      if (other.record.share !== req.share || other.record.path.toLowerCase() !== req.path.toLowerCase()) continue
      if (conflicts(access, req.shareAccess, normaliseAccess(other.record.desiredAccess), other.record.shareAccess)) {
        return none(NT_STATUS.SHARING_VIOLATION, [
          ...closedForAppInstance,
          event('handle.sharing-violation', { csv: this.csv, path: req.path, holder: other.record.persistentId }),
        ])
      }
    }
    // Oplocks and leases are granted by the oplock-lease table (core/smb/oplock-lease-table.ts)
    // and recorded here with setOplock. A durable (not persistent) open of the wire front needs a
    // batch oplock or a handle-caching lease (MS-SMB2 3.3.5.9.6, 3.3.5.9.10): it is made durable
    // here, and keepDurable() takes that back once the adapter knows the grant.
    const persistent = req.dh2q?.persistent === true && req.shareIsCa && req.persistentCapable
    const wantsDurable = req.dh2q !== undefined || req.dhnq === true
    // DHnQ has no timeout of its own: the server's (Windows' 16 min is configurable; smbd 60 s).
    const timeoutMs = wantsDurable ? durableTimeoutMs(req.dh2q?.timeoutMs ?? 0, req.caTimeoutMs) : 0
    const record: OpenRecord = {
      persistentId: req.newPersistentId,
      share: req.share,
      path: req.path,
      clientGuid: req.clientGuid,
      createGuid: req.dh2q?.createGuid ?? '',
      user: req.user,
      desiredAccess: access,
      shareAccess: req.shareAccess,
      persistent,
      timeoutMs,
      channelSequence: 0,
      appliedWrites: [],
      sessionKey: req.sessionKey,
      volatileId: req.newVolatileId,
      ...(req.appInstanceId ? { appInstanceId: req.appInstanceId } : {}),
      ...(req.directory ? { directory: true } : {}),
    }
    assert.ok(!this.opens.has(record.persistentId), 'persistent ids are unique')
    this.opens.set(record.persistentId, {
      record,
      volatileId: req.newVolatileId,
      durable: wantsDurable,
      sessionKey: req.sessionKey,
      disconnectedAtMs: -1,
      outstandingRequestCount: 0,
      outstandingPreRequestCount: 0,
      fileAction,
    })
    const effects: HandleEffect[] = [...closedForAppInstance]
    // A persistent open is on stable storage before the CREATE is answered.
    if (persistent) effects.push({ kind: 'persist', record })
    effects.push(event('handle.opened', { csv: this.csv, persistentId: record.persistentId, path: req.path, durable: wantsDurable, persistent, timeoutMs }))
    return {
      status: NT_STATUS.SUCCESS,
      persistentId: record.persistentId,
      volatileId: req.newVolatileId,
      durable: wantsDurable,
      persistent,
      timeoutMs,
      fileAction,
      existing: false,
      effects,
    }
  }

  /** The open's CurrentByteOffset (MS-FSCC 2.4.35) as its last READ, WRITE or SET_INFO left it; '0' if none. */
  positionOf(persistentId: string): string {
    return this.opens.get(persistentId)?.position ?? '0'
  }

  /** With persist (SET_INFO FilePositionInformation), a persistent open's record keeps it too. */
  setPosition(persistentId: string, position: bigint, persist = false): HandleEffect[] {
    const open = this.opens.get(persistentId)
    if (!open || position < 0n) return []
    open.position = position.toString()
    if (!persist || !open.record.persistent || (open.record.position ?? '0') === open.position) return []
    const { position: _old, ...rest } = open.record
    open.record = open.position === '0' ? rest : { ...rest, position: open.position }
    return [{ kind: 'persist', record: open.record }]
  }

  /** Whether a CREATE with this DH2Q CreateGuid is a replay of an open (which then breaks nothing). */
  isReplay(clientGuid: string, createGuid: string): boolean {
    return this.replayed(clientGuid, createGuid) !== undefined
  }

  /** The record of the open a CREATE with this DH2Q CreateGuid replays, if any. */
  replayedRecord(clientGuid: string, createGuid: string): OpenRecord | undefined {
    return this.replayed(clientGuid, createGuid)?.record
  }

  private replayed(clientGuid: string, createGuid: string): Open | undefined {
    return [...this.opens.values()].find((o) => !o.replayIneligible && o.record.createGuid === createGuid && o.record.clientGuid === clientGuid)
  }

  /**
   * After the grant of a new open: a durable request of the wire front that got neither a batch
   * oplock nor a handle-caching lease is not durable (MS-SMB2 3.3.5.9.6, 3.3.5.9.10, as Windows
   * grants them); a persistent open stays durable. Returns whether the open is durable now.
   */
  keepDurable(persistentId: string, handleCaching: boolean): boolean {
    const open = this.opens.get(persistentId)
    if (!open) return false
    if (open.durable && !open.record.persistent && !handleCaching) {
      open.durable = false
      open.record = { ...open.record, timeoutMs: 0 }
    }
    return open.durable
  }

  /** Preserved opens (no session) of a file holding an oplock or a lease: a new open closes them rather than break (they cannot acknowledge). */
  preservedHolders(share: string, path: string): string[] {
    const lower = path.toLowerCase()
    return [...this.opens.values()]
      .filter((o) => o.sessionKey === null && o.record.share === share && o.record.path.toLowerCase() === lower && (o.record.oplockLevel ?? 0) >= OPLOCK.EXCLUSIVE)
      .map((o) => o.record.persistentId)
  }

  /**
   * 3.3.5.9.13: an open of the same file with the same AppInstanceId made by another client is
   * closed first: the application moved and takes its files with it (no break is sent for it).
   */
  closeForAppInstance(req: { readonly share: string; readonly path: string; readonly clientGuid: string; readonly appInstanceId?: string }): HandleEffect[] {
    const closed: HandleEffect[] = []
    if (!req.appInstanceId) return closed
    for (const other of [...this.opens.values()]) {
      if (!takenByAppInstance(other.record, req.clientGuid, req.appInstanceId)) continue
      if (other.record.share !== req.share || other.record.path.toLowerCase() !== req.path.toLowerCase()) continue
      this.opens.delete(other.record.persistentId)
      if (other.record.persistent) closed.push({ kind: 'forget', persistentId: other.record.persistentId })
      closed.push(event('handle.closed', { csv: this.csv, persistentId: other.record.persistentId, path: other.record.path, reason: 'app-instance' }))
    }
    return closed
  }

  /** The oplock of an open after a break (or its acknowledgment). */
  setOplock(persistentId: string, level: number, lease?: PersistedLease): HandleEffect[] {
    const open = this.opens.get(persistentId)
    if (!open) return []
    const { oplockLevel: _dropped, lease: held, ...rest } = open.record
    // A lease stays the open's for its life; only its state and epoch change.
    const keptLease = lease ?? held
    open.record = level === OPLOCK.NONE && !keptLease ? rest : { ...rest, oplockLevel: keptLease ? OPLOCK.LEASE : level, ...(keptLease ? { lease: keptLease } : {}) }
    return open.record.persistent ? [{ kind: 'persist', record: open.record }] : []
  }

  private reconnect(req: CreateRequest): CreateResult {
    const dh2c = req.dh2c
    const persistentId = dh2c?.persistentId ?? req.dhnc?.persistentId
    assert.ok(persistentId !== undefined)
    const open = this.opens.get(persistentId)
    const notFound: CreateResult = {
      status: NT_STATUS.OBJECT_NAME_NOT_FOUND,
      fileAction: 'none',
      existing: false,
      effects: [event('handle.reconnect.refused', { csv: this.csv, persistentId })],
    }
    // 3.3.5.9.12 (DH2C): the open must exist and be durable, and CreateGuid, the persistent flag
    // and the user must match (below for ClientGuid); expiry already removed stale ones. 3.3.5.9.7
    // (DHnC): a durable open of the same user; its ClientGuid may differ (an oplock
    // open; a lease open's is checked through its lease key). An open still attached to the
    // asking session is not reconnected: Windows answers OBJECT_NAME_NOT_FOUND.
    if (!open || !open.durable || open.sessionKey === req.sessionKey) return notFound
    const r = open.record
    if (r.user !== req.user) return notFound
    // A leased open comes back only with its lease (3.3.5.9.7, 3.3.5.9.12): the request's lease
    // context must name its key, and a lease is its client's (ClientGuid and LeaseKey name it),
    // so that another client or a request without the lease finds no open; an open without a
    // lease is not reconnected with one (smbd, smbtorture durable-open.reopen2-lease). The key
    // right but the name of another file is INVALID_PARAMETER (as smbd: the lease is of that file).
    if (r.lease !== undefined) {
      if (req.reconnectLeaseKey !== r.lease.key || r.clientGuid !== req.clientGuid) return notFound
      if (req.path.toLowerCase() !== r.path.toLowerCase()) return { ...notFound, status: NT_STATUS.INVALID_PARAMETER }
    } else if (req.reconnectLeaseKey !== undefined) return notFound
    if (dh2c) {
      // The ClientGuid may differ for a durable oplock open ("for oplocks, the client guid can be
      // different", smbtorture durable-v2-open.reopen1a, as Windows); a persistent open keeps
      // its client's (a lease open too: its lease key is the client's).
      // A durable v1 open has no CreateGuid: DH2C takes it back with the nil GUID (smbd does;
      // smbtorture durable-open.reopen2-lease reconnects a DHnQ open so).
      const createGuid = r.createGuid === '' ? NIL_GUID : r.createGuid
      if (createGuid !== dh2c.createGuid || r.persistent !== dh2c.persistent || (r.persistent && r.clientGuid !== req.clientGuid)) return notFound
    } else if (r.persistent) {
      // DHnC reconnects a v2 durable open too (smbtorture durable-v2-open.reopen2b), but not a
      // persistent one, which only DH2C with its CreateGuid takes back.
      return notFound
    }
    // Still attached to another session: that can only be an older session of this very
    // client (ClientGuid, CreateGuid and user match), whose PreviousSessionId teardown did not
    // reach this owner (the CSV was moving at the time). The client has moved on: let it in.
    const tookOver = open.sessionKey !== null && open.sessionKey !== req.sessionKey
    open.sessionKey = req.sessionKey
    open.volatileId = req.newVolatileId
    open.disconnectedAtMs = -1
    open.record = { ...r, sessionKey: req.sessionKey, volatileId: req.newVolatileId }
    return {
      status: NT_STATUS.SUCCESS,
      persistentId: r.persistentId,
      volatileId: open.volatileId,
      durable: true,
      persistent: r.persistent,
      timeoutMs: r.timeoutMs,
      fileAction: 'none',
      existing: true,
      effects: [
        ...(r.persistent ? [{ kind: 'persist' as const, record: open.record }] : []),
        event('handle.reconnected', { csv: this.csv, persistentId: r.persistentId, path: r.path, tookOver }),
      ],
    }
  }

  /** Checks a handle-based request and its ChannelSequence before the adapter does the IO. */
  beginIo(req: IoRequest): IoDecision {
    const refuse = (status: number): IoDecision => ({ status, proceed: false, alreadyApplied: false })
    const open = this.opens.get(req.persistentId)
    if (!open || open.sessionKey !== req.sessionKey || (req.volatileId !== '' && open.volatileId !== req.volatileId)) {
      return refuse(NT_STATUS.FILE_CLOSED)
    }
    open.replayIneligible = true
    const access = open.record.desiredAccess
    // Data IO on a directory, or a listing of a file (MS-FSA 2.1.5.2, 2.1.5.5).
    if ((req.kind === 'read' || req.kind === 'write' || req.kind === 'flush') && open.record.directory) return refuse(NT_STATUS.INVALID_DEVICE_REQUEST)
    if (req.kind === 'list-directory' && !open.record.directory) return refuse(NT_STATUS.INVALID_PARAMETER)
    if ((req.kind === 'delete' || req.kind === 'rename') && (access & ACCESS.DELETE) === 0) return refuse(NT_STATUS.ACCESS_DENIED)
    if (req.kind === 'write' && (access & (ACCESS.WRITE_DATA | ACCESS.APPEND_DATA)) === 0) return refuse(NT_STATUS.ACCESS_DENIED)
    // 3.3.5.12: READ needs FILE_READ_DATA or FILE_EXECUTE.
    if (req.kind === 'read' && (access & (ACCESS.READ_DATA | ACCESS.EXECUTE)) === 0) return refuse(NT_STATUS.ACCESS_DENIED)
    if (req.kind === 'set-info' && (access & (ACCESS.WRITE_DATA | ACCESS.WRITE_ATTRIBUTES)) === 0) return refuse(NT_STATUS.ACCESS_DENIED)
    if (req.kind === 'read' && req.sequenced) this.observeChannelSequence(open, req.channelSequence, req.replay)
    if (req.kind === 'write' || req.kind === 'set-info' || req.kind === 'ioctl') {
      const verdict = this.checkChannelSequence(open, req.channelSequence, req.replay)
      if (verdict !== NT_STATUS.SUCCESS) return refuse(verdict)
      if (req.kind === 'write' && open.record.appliedWrites.includes(req.messageId)) {
        this.finishCount(open, req.channelSequence)
        return { status: NT_STATUS.SUCCESS, proceed: false, alreadyApplied: true, record: open.record }
      }
    }
    return { status: NT_STATUS.SUCCESS, proceed: true, alreadyApplied: false, record: open.record }
  }

  /**
   * The IO of a request that began is done; a WRITE is remembered (by connection and MessageId)
   * so that the same request met again is applied once. It is not persisted: on the wire a
   * replay after a failover comes on a new connection with a new MessageId, which no record
   * could match (MS-SMB2 judges replays by ChannelSequence, 3.3.5.2.10, and does not
   * deduplicate WRITEs), and rewriting a persistent open's record durably on every WRITE held
   * the node's event loop (4 KiB random writes on a persistent open ran at about 60 IOPS).
   */
  completeIo(req: IoRequest, applied: boolean): HandleEffect[] {
    const open = this.opens.get(req.persistentId)
    if (!open) return []
    if (req.kind === 'write' || req.kind === 'set-info' || req.kind === 'ioctl') this.finishCount(open, req.channelSequence)
    if (req.kind !== 'write' || !applied) return []
    const appliedWrites = [...open.record.appliedWrites, req.messageId].slice(-APPLIED_WRITES_REMEMBERED)
    open.record = { ...open.record, appliedWrites }
    return []
  }

  /**
   * A rename went through on storage: the open now names newPath (and every other open of the
   * same file, which Windows moves with it).
   */
  renamed(share: string, oldPath: string, newPath: string): HandleEffect[] {
    const effects: HandleEffect[] = []
    const old = oldPath.toLowerCase()
    for (const open of this.opens.values()) {
      if (open.record.share !== share) continue
      const p = open.record.path
      const lower = p.toLowerCase()
      if (lower !== old && !lower.startsWith(`${old}/`)) continue
      open.record = { ...open.record, path: newPath + p.slice(oldPath.length) }
      if (open.record.persistent) effects.push({ kind: 'persist', record: open.record })
    }
    effects.push(event('handle.renamed', { csv: this.csv, share, from: oldPath, to: newPath }))
    return effects
  }

  /** Other opens of a file or of anything under a directory (a rename or delete must not pull them away). */
  /** Whether any open of exactly this path (case-insensitively) was granted an access in accessMask. */
  openWithAccess(share: string, path: string, accessMask: number): boolean {
    const lower = path.toLowerCase()
    for (const open of this.opens.values()) {
      if (open.record.share === share && open.record.path.toLowerCase() === lower && (open.record.desiredAccess & accessMask) !== 0) return true
    }
    return false
  }

  othersOpenUnder(share: string, path: string, exceptPersistentId: string): number {
    const lower = path.toLowerCase()
    let n = 0
    for (const open of this.opens.values()) {
      if (open.record.persistentId === exceptPersistentId || open.record.share !== share) continue
      const p = open.record.path.toLowerCase()
      if (p === lower || p.startsWith(`${lower}/`) || lower === '') n++
    }
    return n
  }

  close(sessionKey: string, persistentId: string, volatileId: string): { status: number; effects: HandleEffect[] } {
    const open = this.opens.get(persistentId)
    if (!open || open.sessionKey !== sessionKey || (volatileId !== '' && open.volatileId !== volatileId)) {
      return { status: NT_STATUS.FILE_CLOSED, effects: [] }
    }
    this.opens.delete(persistentId)
    const effects: HandleEffect[] = [event('handle.closed', { csv: this.csv, persistentId, path: open.record.path })]
    if (open.record.persistent) effects.unshift({ kind: 'forget', persistentId })
    return { status: NT_STATUS.SUCCESS, effects }
  }

  /** LOGOFF (3.3.5.6): every open of the session closes, durable ones too. */
  closeSession(sessionKey: string): HandleEffect[] {
    const effects: HandleEffect[] = []
    for (const open of [...this.opens.values()]) {
      if (open.sessionKey !== sessionKey) continue
      effects.push(...this.close(sessionKey, open.record.persistentId, '').effects)
    }
    return effects
  }

  /**
   * The session's connection went away (3.3.7.1): keep durable opens until their timeout. With a
   * user, a PreviousSessionId named the session (3.3.5.5.3), maybe from another node that cannot
   * know whose it was: only that user's opens go, as only that user's session is ended.
   */
  disconnectSession(sessionKey: string, nowMs: number, user?: string): HandleEffect[] {
    return this.disconnectSessions((key) => key === sessionKey, nowMs, user)
  }

  /** Disconnects every session the predicate names (e.g. all sessions of a node that died). */
  disconnectSessions(which: (sessionKey: string) => boolean, nowMs: number, user?: string): HandleEffect[] {
    const effects: HandleEffect[] = []
    for (const open of [...this.opens.values()]) {
      if (open.sessionKey === null || !which(open.sessionKey)) continue
      if (user !== undefined && open.record.user !== user) continue
      if (open.durable) {
        open.sessionKey = null
        open.disconnectedAtMs = nowMs
        open.outstandingRequestCount = 0
        open.outstandingPreRequestCount = 0
        open.record = { ...open.record, sessionKey: null }
        if (open.record.persistent) effects.push({ kind: 'persist', record: open.record })
        effects.push(event('handle.preserved', { csv: this.csv, persistentId: open.record.persistentId, timeoutMs: open.record.timeoutMs }))
      } else {
        this.opens.delete(open.record.persistentId)
        effects.push(event('handle.closed', { csv: this.csv, persistentId: open.record.persistentId, reason: 'disconnect' }))
      }
    }
    return effects
  }

  /**
   * The oplock of a preserved (disconnected) open must break for another opener: nobody can
   * acknowledge it, so a durable, not persistent, open is closed there (MS-SMB2 3.3.4.6; smbtorture
   * durable-open.oplock: the second opener gets its batch oplock, the first cannot reclaim). A
   * persistent open keeps its file through the break. True when the open went.
   */
  breakPreserved(persistentId: string): { closed: boolean; effects: HandleEffect[] } {
    const open = this.opens.get(persistentId)
    if (!open || open.sessionKey !== null || open.record.persistent) return { closed: false, effects: [] }
    this.opens.delete(persistentId)
    return { closed: true, effects: [event('handle.closed', { csv: this.csv, persistentId, path: open.record.path, reason: 'disconnect' })] }
  }

  /**
   * The byte-range locks an open now holds: a persistent open's record keeps them (written before
   * the LOCK is answered), so the node that takes the CSV over honours them. Others keep none.
   */
  setLocks(persistentId: string, locks: readonly PersistedLock[], lockSequences: readonly { index: number; number: number }[] = []): HandleEffect[] {
    const open = this.opens.get(persistentId)
    if (!open || !open.record.persistent) return []
    assert.ok(locks.length <= PERSISTENT_OPEN_LOCKS_MAX, 'the adapter bounds the locks of a persistent open')
    const before = open.record.locks ?? []
    const sequencesBefore = open.record.lockSequences ?? []
    const sameLocks = before.length === locks.length && before.every((l, i) => l.offset === locks[i].offset && l.length === locks[i].length && l.exclusive === locks[i].exclusive)
    const sameSequences = sequencesBefore.length === lockSequences.length && sequencesBefore.every((q, i) => q.index === lockSequences[i].index && q.number === lockSequences[i].number)
    if (sameLocks && sameSequences) return []
    const { locks: _locks, lockSequences: _sequences, ...rest } = open.record
    open.record = { ...rest, ...(locks.length > 0 ? { locks } : {}), ...(lockSequences.length > 0 ? { lockSequences } : {}) }
    return [{ kind: 'persist', record: open.record }]
  }

  /** The durable open scavenger: preserved opens whose timeout ran out are closed. */
  scavenge(nowMs: number): HandleEffect[] {
    const effects: HandleEffect[] = []
    for (const open of [...this.opens.values()]) {
      if (open.sessionKey !== null || nowMs < open.disconnectedAtMs + open.record.timeoutMs) continue
      this.opens.delete(open.record.persistentId)
      if (open.record.persistent) effects.push({ kind: 'forget', persistentId: open.record.persistentId })
      effects.push(event('handle.expired', { csv: this.csv, persistentId: open.record.persistentId, path: open.record.path }))
    }
    return effects
  }

  /** 3.3.5.2.10 Verifying the Channel Sequence Number. */
  private checkChannelSequence(open: Open, channelSequence: number, replay: boolean): number {
    const current = open.record.channelSequence
    const newer = newerChannelSequence(channelSequence, current)
    if (channelSequence === current) {
      if (replay && open.outstandingPreRequestCount > 0) return NT_STATUS.FILE_NOT_AVAILABLE
      open.outstandingRequestCount++
      return NT_STATUS.SUCCESS
    }
    if (newer) {
      open.outstandingPreRequestCount += open.outstandingRequestCount
      open.outstandingRequestCount = 1
      open.record = { ...open.record, channelSequence }
      return NT_STATUS.SUCCESS
    }
    return NT_STATUS.FILE_NOT_AVAILABLE
  }

  /**
   * 3.3.5.2.10 for a request that modifies nothing (READ): a newer ChannelSequence moves the
   * open to it, its outstanding requests becoming "pre" requests, so that a later WRITE with the
   * old one is stale (smb2.replay.replay4); an equal or stale one changes nothing and is no
   * error. As smbd, a REPLAY does not advance while pre requests are outstanding. The READ is
   * not counted as outstanding (it has no completeIo): a replayed WRITE with the same sequence
   * while it runs is not refused because of it, where smbd's count would include it.
   */
  private observeChannelSequence(open: Open, channelSequence: number, replay: boolean): void {
    const current = open.record.channelSequence
    const newer = newerChannelSequence(channelSequence, current)
    if (!newer || (replay && open.outstandingPreRequestCount > 0)) return
    open.outstandingPreRequestCount += open.outstandingRequestCount
    open.outstandingRequestCount = 0
    open.record = { ...open.record, channelSequence }
  }

  private finishCount(open: Open, channelSequence: number): void {
    if (channelSequence === open.record.channelSequence) {
      if (open.outstandingRequestCount > 0) open.outstandingRequestCount--
    } else if (open.outstandingPreRequestCount > 0) {
      open.outstandingPreRequestCount--
    }
  }
}

/** 3.3.5.2.10: the request's ChannelSequence is ahead of the open's (16-bit unsigned difference of 1 to 0x7FFF). */
function newerChannelSequence(channelSequence: number, current: number): boolean {
  return channelSequence !== current && ((channelSequence - current) & 0xffff) <= 0x7fff
}

/** 3.3.5.9.13: an open another client made with this AppInstanceId, which a CREATE with it closes (no break first). */
export function takenByAppInstance(record: OpenRecord, clientGuid: string, appInstanceId: string | undefined): boolean {
  return appInstanceId !== undefined && appInstanceId !== '' && record.appInstanceId === appInstanceId && record.clientGuid !== clientGuid
}

/** GENERIC_* and MAXIMUM_ALLOWED mapped to the file rights they stand for. */
export function normaliseAccess(access: number): number {
  let a = access
  if (a & (ACCESS.GENERIC_READ | ACCESS.GENERIC_ALL | ACCESS.MAXIMUM_ALLOWED)) a |= ACCESS.READ_DATA | ACCESS.READ_ATTRIBUTES
  if (a & (ACCESS.GENERIC_WRITE | ACCESS.GENERIC_ALL | ACCESS.MAXIMUM_ALLOWED)) a |= ACCESS.WRITE_DATA | ACCESS.APPEND_DATA | ACCESS.WRITE_ATTRIBUTES
  if (a & (ACCESS.GENERIC_EXECUTE | ACCESS.GENERIC_ALL | ACCESS.MAXIMUM_ALLOWED)) a |= ACCESS.EXECUTE | ACCESS.READ_ATTRIBUTES
  if (a & (ACCESS.GENERIC_ALL | ACCESS.MAXIMUM_ALLOWED)) a |= ACCESS.DELETE
  return a >>> 0
}

/** The access that takes part in the share-access check (MS-FSA 2.1.5.1.2.1): data, execute, delete. */
const SHARE_CHECKED_ACCESS = ACCESS.READ_DATA | ACCESS.WRITE_DATA | ACCESS.APPEND_DATA | ACCESS.EXECUTE | ACCESS.DELETE

/** MS-FSA share-access check between a new open and an existing one. */
export function conflicts(access: number, shareAccess: number, otherAccess: number, otherShareAccess: number): boolean {
  // An open of attributes only (a "stat open") neither meets nor sets share modes (smbtorture's
  // oplock.exclusive4, lease.statopen).
  if ((access & SHARE_CHECKED_ACCESS) === 0 || (otherAccess & SHARE_CHECKED_ACCESS) === 0) return false
  const reads = (a: number) => (a & ACCESS.READ_DATA) !== 0
  const writes = (a: number) => (a & (ACCESS.WRITE_DATA | ACCESS.APPEND_DATA)) !== 0
  const deletes = (a: number) => (a & ACCESS.DELETE) !== 0
  return (
    (reads(access) && (otherShareAccess & SHARE_ACCESS.READ) === 0) ||
    (writes(access) && (otherShareAccess & SHARE_ACCESS.WRITE) === 0) ||
    (deletes(access) && (otherShareAccess & SHARE_ACCESS.DELETE) === 0) ||
    (reads(otherAccess) && (shareAccess & SHARE_ACCESS.READ) === 0) ||
    (writes(otherAccess) && (shareAccess & SHARE_ACCESS.WRITE) === 0) ||
    (deletes(otherAccess) && (shareAccess & SHARE_ACCESS.DELETE) === 0)
  )
}

/** The durable v2 timeout (reference §2): min(requested, 300 s), else CATimeout, else 60 s. */
export function durableTimeoutMs(requestedMs: number, caTimeoutMs: number): number {
  if (requestedMs > 0) return Math.min(requestedMs, MAX_DURABLE_TIMEOUT_MS)
  if (caTimeoutMs > 0) return Math.min(caTimeoutMs, MAX_DURABLE_TIMEOUT_MS)
  return DEFAULT_DURABLE_TIMEOUT_MS
}

function event(name: string, fields: Record<string, unknown>): HandleEffect {
  return { kind: 'event', event: name, fields }
}
