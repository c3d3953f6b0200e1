// The owner side of the SMB data path for one CSV: the handle table plus the file IO on the
// CSV's folder of shared storage. On a CA share every write is on stable storage (fdatasync)
// before it is acknowledged, and persistent handle records are written atomically before a
// CREATE is answered, so any node that takes the CSV over can reconnect them.
import { mkdirSync, readdirSync, readFileSync, type BigIntStats } from 'node:fs'
import { constants as fsConstants } from 'node:fs'
import { access, lstat, mkdir, open, readdir, rename, rm, rmdir, stat, statfs, utimes, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { removeFileDurablySync, writeFileAtomicSync } from '../../runtime/atomic-file.js'
import { dataPathBuffers } from '../../runtime/buffer-pool.js'
import type { CbtFilter } from '../../core/cbt/cbt-filter.js'
import { ByteRangeLockTable, LOCK_FLAG, type LockCompletion } from '../../core/smb/byte-range-locks.js'
import { HandleTable, OPLOCK, PERSISTENT_OPEN_LOCKS_MAX, conflicts, normaliseAccess, takenByAppInstance, type HandleEffect, type IoRequest, type OpenRecord, type PersistedLease } from '../../core/smb/handle-table.js'
import { DIRECTORY_PAGE_ENTRIES_MAX, compareNames, pageOfNames } from '../../core/smb/directory-cursor.js'
import { OplockLeaseTable, type BreakNotice, type LeaseRequest, type NewOpen, type OplockLeaseEffect } from '../../core/smb/oplock-lease-table.js'
import { ACCESS } from '../../protocol/smb2/constants.js'
import type { ExtendedAttribute } from '../../protocol/smb2/extended-attributes.js'
import { ALLOCATION_UNIT_BYTES, FILE_ATTRIBUTE } from '../../protocol/smb2/file-info.js'
import { compileNamePattern } from '../../protocol/smb2/name-pattern.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { storageFaultStatusOf } from '../../protocol/smb2/storage-errno.js'
import { LEASE_STATE } from '../../protocol/smb2/oplock-break.js'
import { normaliseSharePath } from './share-path.js'
import { FileMetadataStore } from './file-metadata-store.js'
import { ReservationConflict, arrayPathOf, type FencedStorage } from './fenced-storage.js'
import type { TokenBucket } from './token-bucket.js'

/** MaxReadSize / MaxWriteSize this server announces: 8 MiB, as Windows with large MTU. */
export const MAX_IO_BYTES = 8 * 1024 * 1024

export interface ShareInfo {
  readonly name: string
  readonly csv: string
  readonly continuouslyAvailable: boolean
  readonly caTimeoutMs: number
  /**
   * A scale-out share (STYPE_CLUSTER_SOFS), as every CSV share is today (absent: true); a
   * general-use file server's share (issue 15 item 6) is not, and is granted oplocks and leases
   * as a Windows file server grants them.
   */
  readonly scaleOut?: boolean
}

export interface FileIdJson {
  readonly persistent: string
  readonly volatile: string
}

/** A handle operation; forwarded between nodes as JSON with its data in base64 (handle-op-codec). */
export type HandleOp =
  | {
      readonly op: 'create'
      readonly sessionKey: string
      readonly clientGuid: string
      readonly user: string
      readonly persistentCapable: boolean
      readonly share: string
      readonly path: string
      readonly disposition: number
      readonly desiredAccess: number
      readonly shareAccess: number
      readonly dh2q: { createGuid: string; timeoutMs: number; persistent: boolean } | null
      readonly dh2c: { fileId: FileIdJson; createGuid: string; persistent: boolean } | null
      /** Durable v1 (the wire front only): DHnQ asked, or DHnC's FileId to reconnect to. */
      readonly dhnq?: boolean
      readonly dhnc?: { fileId: FileIdJson } | null
      readonly replay: boolean
      readonly appInstanceId?: string
      /**
       * The SMB2 wire front's CreateOptions (MS-SMB2 2.2.13): with it, directories are opened
       * and made (DIRECTORY_FILE), NON_DIRECTORY_FILE refuses one, DELETE_ON_CLOSE marks the
       * open, and a missing parent is OBJECT_PATH_NOT_FOUND. Absent (the gRPC front): files
       * only, parents made as needed.
       */
      readonly createOptions?: number
      /** RequestedOplockLevel of the wire front's CREATE (absent: none). */
      readonly requestedOplock?: number
      /** The wire front: the connection speaks 3.x (a preserved persistent open then holds its file: FILE_NOT_AVAILABLE). */
      readonly smb3?: boolean
      /** The wire front: the EAs of the CREATE's ExtA context, given to a file it creates or overwrites. */
      readonly extendedAttributes?: readonly ExtendedAttribute[]
      /** The wire front: the CREATE's FileAttributes, given to a file it creates or overwrites (MS-FSA 2.1.5.1.2.1). */
      readonly fileAttributes?: number
      /** The wire front: the AlSi context's AllocationSize, given to a file it creates or overwrites. */
      readonly allocationBytes?: number
      /** The wire front's lease request (RqLs v1 or v2) when RequestedOplockLevel is LEASE. */
      readonly lease?: LeaseRequest | null
      /** DHnC/DH2C on the wire: the key of the request's RqLs context, whatever its RequestedOplockLevel (absent: none). */
      readonly reconnectLeaseKey?: string
      /**
       * The wire front's key for this CREATE: when it must wait for oplock or lease breaks, the
       * answer is pending and fetched by create-wait (absent: the create waits inline).
       */
      readonly requestKey?: string
      /** The connection's dialect and whether the share is scale-out (what Windows grants there; absent: scale-out). */
      readonly dialect?: number
      readonly scaleOut?: boolean
    }
  /** A CREATE that answered pending: its answer once the breaks it waits for are done (a long poll). */
  | { readonly op: 'create-wait'; readonly requestKey: string; readonly waitMs: number }
  /** OPLOCK_BREAK acknowledgment of an oplock (MS-SMB2 3.3.5.22.1). */
  | { readonly op: 'oplock-break-ack'; readonly sessionKey: string; readonly fileId: FileIdJson; readonly oplockLevel: number }
  /** OPLOCK_BREAK acknowledgment of a lease (3.3.5.22.2); the key as 32 hex digits. */
  | { readonly op: 'lease-break-ack'; readonly clientGuid: string; readonly leaseKey: string; readonly leaseState: number }
  | {
      readonly op: 'read'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly offset: number
      readonly length: number
      /** SMB 3.x: the request's ChannelSequence and REPLAY flag (3.3.5.2.10). */
      readonly channel?: { readonly channelSequence: number; readonly replay: boolean }
    }
  | {
      readonly op: 'write'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly offset: number
      readonly data: Buffer
      readonly channelSequence: number
      readonly replay: boolean
      readonly messageId: string
    }
  | { readonly op: 'flush' | 'close' | 'query-info'; readonly sessionKey: string; readonly fileId: FileIdJson }
  | {
      readonly op: 'set-info'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      /** Negative: leave the size alone. */
      readonly endOfFile: number
      /** 0: leave the last write time alone. */
      readonly lastWriteTimeMs: number
      readonly channelSequence: number
      readonly replay: boolean
      readonly messageId: string
    }
  | { readonly op: 'query-directory'; readonly share: string; readonly path: string }
  /** The wire front: what QUERY_INFO and the directory classes say of an open's file. */
  | { readonly op: 'stat'; readonly sessionKey: string; readonly fileId: FileIdJson }
  /**
   * The wire front: an IOCTL, or a SET_INFO the front answers itself (FilePositionInformation),
   * passes the ChannelSequence check of MS-SMB2 3.3.5.2.10 on its open first, as WRITE does.
   */
  | {
      readonly op: 'channel-check'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly kind: 'ioctl' | 'set-info'
      readonly channelSequence: number
      readonly replay: boolean
      readonly messageId: string
      /** FilePositionInformation's new CurrentByteOffset (decimal), kept with the open for a reconnect. */
      readonly position?: string
    }
  /**
   * The wire front: the entries of an open directory, each with its stat, in name order; with a
   * page, only the names after `after` that match `pattern`, at most `limit` of them (a
   * QUERY_DIRECTORY that resumes reads the directory as it is now: core/smb/directory-cursor.ts).
   */
  | {
      readonly op: 'list-directory'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly page?: { readonly after: string | null; readonly pattern: string; readonly limit: number }
    }
  /** The wire front: SET_INFO changes other than the gRPC set-info's. */
  | {
      readonly op: 'set-file-info'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly change: FileInfoChange
      readonly channelSequence: number
      readonly replay: boolean
      readonly messageId: string
    }
  /** The wire front: the size of the share's volume. */
  | { readonly op: 'fs-size'; readonly share: string }
  /**
   * The wire front's LOCK (MS-SMB2 3.3.5.14): offsets and lengths as decimal strings (64 bits).
   * A lock that must wait answers pending; its answer is fetched by lock-wait (a long poll, so
   * that no forwarded call outlives its deadline) and it is ended early by lock-cancel.
   */
  | {
      readonly op: 'lock'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly requestKey: string
      readonly elements: readonly { readonly offset: string; readonly length: string; readonly flags: number }[]
      readonly lockSequence: number
      readonly checkLockSequence: boolean
    }
  | { readonly op: 'lock-wait'; readonly requestKey: string; readonly waitMs: number }
  | { readonly op: 'lock-cancel'; readonly requestKey: string }
  /** SAN mode: the owner validates a data operation another node performs itself. */
  | {
      readonly op: 'begin-io'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly kind: 'read' | 'write' | 'flush'
      readonly channelSequence: number
      readonly replay: boolean
      readonly messageId: string
      /** A READ's ChannelSequence is a real one (SMB 3.x), see IoRequest.sequenced. */
      readonly sequenced?: boolean
    }
  | {
      readonly op: 'complete-io'
      readonly sessionKey: string
      readonly fileId: FileIdJson
      readonly kind: 'read' | 'write' | 'flush'
      readonly channelSequence: number
      readonly messageId: string
      readonly applied: boolean
      /** The bytes a WRITE changed, for the CBT filter. */
      readonly offset?: number
      readonly length?: number
    }

/** A SET_INFO change of the wire front (MS-SMB2 3.3.5.21.1). */
export type FileInfoChange =
  | { readonly kind: 'end-of-file'; readonly bytes: number }
  /**
   * FileAllocationInformation at or past the end of file: nothing changes on storage, but it is
   * a size change to oplock holders; bytes (the AllocationSize asked) must fit on the volume.
   */
  | { readonly kind: 'allocation'; readonly bytes?: number }
  /** Times in Unix ms; null: leave alone. Creation and change times are kept beside the file (no Linux call sets them). */
  | {
      readonly kind: 'times'
      readonly lastAccessMs: number | null
      readonly lastWriteMs: number | null
      readonly creationMs?: number | null
      readonly changeMs?: number | null
      /** FILE_ATTRIBUTE_* to keep for the file (FileBasicInformation with FileAttributes not 0). */
      readonly attributes?: number | null
    }
  | { readonly kind: 'disposition'; readonly deletePending: boolean }
  /** newPath share-relative with '\\' or '/' separators. */
  | { readonly kind: 'rename'; readonly newPath: string; readonly replaceIfExists: boolean }

/** What the wire front's information classes need of a file, in JSON-safe numbers. */
export interface FileStat {
  readonly birthtimeMs: number
  readonly atimeMs: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly size: number
  readonly allocationBytes: number
  readonly ino: string
  readonly directory: boolean
  readonly readOnly: boolean
  readonly links: number
  /** FILE_ATTRIBUTE_* a client set (SET_INFO basic); absent: derived from the mode. */
  readonly dosAttributes?: number
  /** An open of the file is marked to delete it on close (stat only). */
  readonly deletePending?: boolean
  /** The EAs a CREATE gave the file (absent: none). */
  readonly extendedAttributes?: readonly ExtendedAttribute[]
}

/** Files whose EAs, times, attributes or allocation size a client set, kept per CSV (by inode, so that they follow a rename). */
const FILE_METADATA_MAX = 100_000

/** Longest a lock-wait holds its call: well inside the peer transport's forward deadline. */
export const LOCK_WAIT_MS_MAX = 5_000
/** Answers of waiting locks kept for their lock-wait (a front that went away never asks). */
const LOCK_ANSWERS_KEPT_MAX = 4_096

/** A bound on the entries one listing returns (a directory beyond it is listed in part). */
export const LISTING_ENTRIES_MAX = 100_000

export interface HandleOpReply {
  readonly status: number
  /** A reconnected open's CurrentByteOffset (decimal) and the access it was granted. */
  readonly position?: string
  readonly grantedAccess?: number
  readonly fileId?: FileIdJson
  readonly createAction?: number
  readonly endOfFile?: number
  readonly durable?: boolean
  readonly persistent?: boolean
  readonly timeoutMs?: number
  readonly data?: Buffer
  readonly count?: number
  readonly creationTimeMs?: number
  readonly lastWriteTimeMs?: number
  readonly directory?: boolean
  readonly entries?: readonly { name: string; directory: boolean; endOfFile: number }[]
  /** begin-io: the data operation may go ahead, on this file. */
  readonly proceed?: boolean
  readonly alreadyApplied?: boolean
  readonly share?: string
  readonly path?: string
  /** create, stat: the file's stat; list-directory: the directory's own. */
  readonly stat?: FileStat
  /** list-directory: its entries (no '.' or '..'). */
  readonly listing?: readonly { readonly name: string; readonly stat: FileStat }[]
  /** list-directory: the parent's stat, for '..' (the share root's own for the root). */
  readonly parentStat?: FileStat
  /** create: the oplock granted (0: none; 0xFF: a lease); oplock-break-ack: the level now held. */
  readonly oplockLevel?: number
  /** create: the lease granted (with oplockLevel 0xFF); lease-break-ack: leaseState. */
  readonly lease?: { readonly key: string; readonly state: number; readonly flags: number; readonly epoch: number; readonly version: 1 | 2; readonly parentKey?: string }
  readonly leaseState?: number
  /** lock, lock-wait: the lock waits; ask again with lock-wait. */
  readonly pending?: boolean
  /** fs-size */
  readonly totalBytes?: number
  readonly freeBytes?: number
  readonly blockBytes?: number
}

/** The lock table's key of a file: its share and path, case-insensitively. */
function lockFileKey(record: OpenRecord): string {
  return `${record.share.toLowerCase()}/${record.path.toLowerCase()}`
}

function fileStatOf(st: BigIntStats): FileStat {
  return {
    birthtimeMs: Number(st.birthtimeMs),
    atimeMs: Number(st.atimeMs),
    mtimeMs: Number(st.mtimeMs),
    ctimeMs: Number(st.ctimeMs),
    size: Number(st.size),
    allocationBytes: Number(st.blocks) * 512,
    ino: st.ino.toString(),
    directory: st.isDirectory(),
    readOnly: (Number(st.mode) & 0o200) === 0,
    links: Number(st.nlink),
  }
}

async function statOf(path: string): Promise<FileStat> {
  return fileStatOf(await stat(path, { bigint: true }))
}

const CREATE_OPTION_DIRECTORY_FILE = 0x00000001
const CREATE_OPTION_NON_DIRECTORY_FILE = 0x00000040
const CREATE_OPTION_DELETE_ON_CLOSE = 0x00001000

/**
 * Delivers oplock breaks to the clients holding them (the node's SMB2 wire front). Only a
 * session it can reach is granted an oplock.
 */
export interface OplockBreaker {
  canBreak(sessionKey: string): boolean
  /** Sends an oplock break notification (2.2.23.1); its acknowledgment comes back as an oplock-break-ack op. */
  breakOplock(sessionKey: string, fileId: FileIdJson, toLevel: number): void
  /**
   * Sends a lease break notification (2.2.23.2) on a connection of one of the sessions; its
   * acknowledgment comes back as a lease-break-ack op routed to csv.
   */
  breakLease(csv: string, sessionKeys: readonly string[], notice: Extract<BreakNotice, { kind: 'lease' }>): void
}

/** What create() answers when the CREATE must wait for breaks first. */
const MUST_WAIT = Symbol('must-wait')

/** CREATEs one CSV owner keeps waiting for breaks (each answered pending to its client). */
const PENDING_CREATES_MAX = 4_096
/** How long the answer of a waiting CREATE is kept for its create-wait. */
const CREATE_ANSWER_KEPT_MS = 60_000
/** Longest a create-wait holds its call (as lock-wait). */
export const CREATE_WAIT_MS_MAX = 5_000

/** Records of closed persistent opens whose removal failed (a read-only volume), retried at each scavenge. */
const PENDING_FORGETS_MAX = 10_000
/** The longest a freeze (releaseFiles) holds the CSV's operations back, whatever the caller asks. */
export const FREEZE_MS_MAX = 10_000
/** Access that needs a writable volume: a CREATE asking it of an existing file on a write-protected one fails. */
const WRITE_ACCESS = ACCESS.WRITE_DATA | ACCESS.APPEND_DATA | ACCESS.GENERIC_WRITE | ACCESS.GENERIC_ALL

/** The CSV moved away while an operation ran: the client retries it on the new owner. */
export class CsvServiceClosed extends Error {}

/**
 * The storage array this CSV's writes and metadata changes go through (issue 17 item 2): the
 * node's registration, the key this service was started under (what every write it issues
 * carries: a key preempted meanwhile makes them RESERVATION CONFLICTs), and the take-over
 * (preempts and the WERO reservation) that must finish before the service runs anything.
 */
export interface CsvStorageArray {
  readonly fenced: FencedStorage
  /** The take-over; resolves to the key this service's writes carry. */
  readonly ready: Promise<bigint>
}

const FILE_OPENED = 1
/** FILE_OPEN (MS-SMB2 2.2.13 CreateDisposition): what a reconnect amounts to. */
const DISPOSITION_OPEN = 1
const FILE_CREATED = 2
const FILE_OVERWRITTEN = 3

export class CsvService {
  private readonly table: HandleTable
  private readonly files = new Map<string, FileHandle>()
  /** Opens whose cached descriptor is read-only (opened while the volume was write-protected). */
  private readonly readOnlyFiles = new Set<string>()
  /** Persistent records to remove that the volume refused to remove (at most PENDING_FORGETS_MAX). */
  private readonly pendingForgets = new Set<string>()
  /** Operations running (long polls aside): a freeze waits until none is. */
  private inFlight = 0
  private idleWaiters: (() => void)[] = []
  /** While the harness remounts the CSV's volume: operations wait here (released by thaw or the freeze's bound). */
  /** The key of this service's writes at the storage array, once its take-over is done. */
  private arrayKey = 0n
  private freezeGate: { readonly released: Promise<void>; readonly release: () => void; readonly timer: NodeJS.Timeout } | null = null
  /** Opens whose file goes when they close (DELETE_ON_CLOSE, a disposition set by SET_INFO). */
  private readonly deleteOnClose = new Set<string>()
  /** The opens that set FileDispositionInformation's DeletePending: their file is delete-pending until they close (a subset of deleteOnClose). */
  private readonly dispositionDeletes = new Set<string>()
  /** Byte-range locks of the CSV's files (the owner holds them, as it holds the opens). */
  private readonly locks = new ByteRangeLockTable()
  /** Answers of waiting locks, by request key, until their lock-wait takes them. */
  private readonly lockAnswers = new Map<string, number>()
  private readonly lockWaiters = new Map<string, (status: number) => void>()
  /**
   * EAs, and creation and change times, attributes and allocation sizes set by CREATE or
   * SET_INFO, by inode (Samba keeps them in xattrs; ext4 here keeps none of them), on the CSV so
   * that the next owner has them. A change time holds while the file's mtime is the one it was
   * set with.
   */
  private readonly fileMetadata: FileMetadataStore
  private readonly handlesDir: string
  private createChain: Promise<unknown> = Promise.resolve()
  /** Oplocks and leases of the CSV's opens (the owner holds them, as it holds the opens). */
  private readonly oplockLeases = new OplockLeaseTable()
  /** CREATEs waiting for breaks, by request key: their eventual answers. */
  private readonly pendingCreates = new Map<string, Promise<HandleOpReply>>()
  /** ClientGuid/CreateGuid of the DH2Q CREATEs answered pending that still wait for breaks (at most PENDING_CREATES_MAX). */
  private readonly waitingCreateGuids = new Set<string>()
  /** Woken whenever a break ends (acknowledged, timed out, or its open closed). */
  private breakWaiters: (() => void)[] = []
  /** Counts wakes of breakWaiters. */
  private breaksEnded = 0
  private breakTimer: NodeJS.Timeout | null = null
  private closed = false

  constructor(
    private readonly storageDir: string,
    readonly csv: string,
    private readonly shares: ShareInfo[],
    private readonly log: Logger,
    private readonly ids: () => { persistent: string; volatile: string },
    nowMs: number,
    /** The node's IO bandwidth cap, shared by all CSVs it serves. */
    private readonly bandwidth: TokenBucket | null = null,
    sessionAlive: (sessionKey: string) => boolean = () => false,
    /**
     * Whether this node may serve the CSV right now, read from a fresh clock. A process that
     * was frozen mid-operation resumes with an expired lease and must not touch the CSV.
     */
    private readonly mayServe: () => boolean = () => true,
    /** The vendor CBT filter of this node (Microsoft flavour only); it sees every applied WRITE. */
    readonly filter: CbtFilter | null = null,
    /** Oplock breaks to clients; without it no oplock is granted. */
    private readonly oplocks: OplockBreaker | null = null,
    /** Writes and metadata changes through the storage array; null: straight to the shared folder (no array). */
    private readonly array: CsvStorageArray | null = null,
  ) {
    this.table = new HandleTable(csv)
    this.handlesDir = join(storageDir, csv, '.handles')
    mkdirSync(this.handlesDir, { recursive: true })
    for (const share of shares) mkdirSync(join(storageDir, csv, share.name), { recursive: true })
    this.fileMetadata = new FileMetadataStore({
      dir: join(storageDir, csv, '.file-metadata'),
      filesMax: FILE_METADATA_MAX,
      persist: (path, data) => this.persistFileMetadata(path, data),
      onUnreadable: (file) => this.log.warn({ component: 'smb', event: 'file.metadata.unreadable', csv: this.csv, file }),
    })
    this.fileMetadata.load()
    const records = this.readRecords()
    this.applyEffects(this.table.load(records, nowMs, sessionAlive))
    // The locks of the persistent opens taken over hold here as they held at the previous owner,
    // and so do their oplocks and leases (issue 15 item 5).
    for (const record of records) if ((record.locks?.length || record.lockSequences?.length) && this.table.recordOf(record.persistentId)) this.restoreLocks(record)
    for (const record of records) if (record.oplockLevel && this.table.recordOf(record.persistentId)) this.restoreOplock(record)
  }

  private restoreOplock(record: OpenRecord): void {
    const lease = record.oplockLevel === OPLOCK.LEASE && record.lease && /^[0-9a-f]{32}$/i.test(record.lease.key) ? record.lease : null
    const facts = {
      persistentId: record.persistentId,
      fileKey: `${record.share.toLowerCase()}/${record.path.toLowerCase()}`,
      clientGuid: record.clientGuid,
      access: normaliseAccess(record.desiredAccess),
      shareAccess: record.shareAccess,
      directory: record.directory === true,
    }
    const restored = lease
      ? { key: lease.key, version: lease.version === 2 ? (2 as const) : (1 as const), state: lease.state ?? LEASE_STATE.READ_CACHING, epoch: lease.epoch ?? 0, ...(lease.parentKey !== undefined ? { parentKey: lease.parentKey } : {}) }
      : null
    this.oplockLeases.restore(facts, record.oplockLevel ?? OPLOCK.NONE, restored)
    const held = this.oplockLeases.leaseOf(record.persistentId)
    this.log.info({ component: 'smb', event: 'handle.oplock.restored', csv: this.csv, persistentId: record.persistentId, oplockLevel: this.oplockLeases.oplockOf(record.persistentId), leaseState: held?.state ?? null })
  }

  private restoreLocks(record: OpenRecord): void {
    const locks: { offset: bigint; length: bigint; exclusive: boolean }[] = []
    for (const l of record.locks ?? []) if (/^\d{1,20}$/.test(l.offset) && /^\d{1,20}$/.test(l.length)) locks.push({ offset: BigInt(l.offset), length: BigInt(l.length), exclusive: l.exclusive === true })
    const restored = this.locks.restore(lockFileKey(record), record.persistentId, locks, record.lockSequences ?? [])
    this.log.info({ component: 'smb', event: 'handle.locks.restored', csv: this.csv, persistentId: record.persistentId, locks: restored, dropped: (record.locks?.length ?? 0) - restored })
  }

  /** A persistent open's record keeps the locks it holds now (before the LOCK is answered). */
  private persistLocks(persistentId: string): void {
    if (!this.table.recordOf(persistentId)?.persistent) return
    const held = this.locks.locksOf(persistentId).map((l) => ({ offset: l.offset.toString(), length: l.length.toString(), exclusive: l.exclusive }))
    this.applyEffects(this.table.setLocks(persistentId, held, this.locks.sequencesOf(persistentId)))
  }

  openCount(): number {
    return this.table.openCount()
  }

  /** A share created at run time on this CSV. */
  addShare(share: ShareInfo): void {
    // Not recursive: the CSV's folder exists, and a read-only volume then says EROFS (a
    // recursive mkdir there says ENOENT), which the router answers with.
    try {
      mkdirSync(join(this.storageDir, this.csv, share.name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    this.shares.push(share)
  }

  /** This node stops owning the CSV: in-memory (durable) state goes, persistent records stay. */
  async close(): Promise<void> {
    this.closed = true
    this.thaw()
    if (this.breakTimer) clearTimeout(this.breakTimer)
    this.breakTimer = null
    const files = [...this.files.values()]
    this.files.clear()
    await Promise.allSettled(files.map((f) => f.close()))
  }

  /** With a user (a PreviousSessionId reclaim), only that user's opens of the session. */
  disconnectSession(sessionKey: string, nowMs: number, user?: string): void {
    if (this.serving()) this.applyEffects(this.table.disconnectSession(sessionKey, nowMs, user))
  }

  closeSession(sessionKey: string): void {
    if (this.serving()) this.applyEffects(this.table.closeSession(sessionKey))
  }

  /** A node died: the sessions it served are gone, so their durable opens are preserved. */
  disconnectNode(nodeId: string, nowMs: number): void {
    if (this.serving()) this.applyEffects(this.table.disconnectSessions((key) => key.startsWith(`${nodeId}/`), nowMs))
  }

  scavenge(nowMs: number): void {
    if (!this.serving()) return
    this.retryForgets()
    this.applyEffects(this.table.scavenge(nowMs))
  }

  /**
   * The harness is about to remount the CSV's volume read-only, which the kernel refuses while
   * any file of it is open for writing (EBUSY): new operations wait (at most holdMs, bounded by
   * FREEZE_MS_MAX), the running ones finish, and every cached descriptor closes. thaw() lets
   * the operations go on; they open their files again, read-only if the volume now is. This
   * injects no fault: a file system freeze for a snapshot does the same.
   */
  async releaseFiles(holdMs: number): Promise<{ released: number; idle: boolean }> {
    const boundMs = Math.max(0, Math.min(holdMs, FREEZE_MS_MAX))
    if (!this.freezeGate) {
      let release!: () => void
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      const timer = setTimeout(() => this.thaw(), boundMs)
      timer.unref?.()
      this.freezeGate = { released, release, timer }
      this.log.info({ component: 'smb', event: 'csv.files.frozen', csv: this.csv, holdMs: boundMs })
    }
    const idle = this.inFlight === 0 || (await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), boundMs)
      this.idleWaiters.push(() => {
        clearTimeout(timer)
        resolve(true)
      })
    }))
    const files = [...this.files.keys()]
    await Promise.all(files.map((id) => this.dropFile(id)))
    return { released: files.length, idle }
  }

  /** Ends a freeze (releaseFiles): the operations that waited go on. */
  thaw(): void {
    const gate = this.freezeGate
    if (!gate) return
    this.freezeGate = null
    clearTimeout(gate.timer)
    gate.release()
    this.log.info({ component: 'smb', event: 'csv.files.thawed', csv: this.csv })
  }

  /** Records a read-only volume would not let go: removed as soon as it lets them. */
  private retryForgets(): void {
    for (const persistentId of [...this.pendingForgets]) {
      try {
        removeFileDurablySync(join(this.handlesDir, `${persistentId}.json`))
        this.pendingForgets.delete(persistentId)
      } catch (err) {
        if (storageFaultStatusOf(err) === null) throw err
        return
      }
    }
  }

  private serving(): boolean {
    return !this.closed && this.mayServe()
  }

  private assertServing(): void {
    if (!this.serving()) throw new CsvServiceClosed(`${this.csv} is no longer served here`)
  }

  async execute(op: HandleOp): Promise<HandleOpReply> {
    this.assertServing()
    if (this.array) {
      // Nothing runs before the take-over's preempts and reservation are done.
      const key = await this.array.ready.catch(() => null)
      if (key === null) return this.fencedReply(op.op)
      this.arrayKey = key
      // Checked after the key is known: an operation that waited through a freeze stops here.
      this.assertServing()
    }
    if (this.freezeGate) {
      await this.freezeGate.released
      this.assertServing()
    }
    // Long polls hold no file: a freeze need not wait for them.
    const counted = op.op !== 'create-wait' && op.op !== 'lock-wait'
    if (counted) this.inFlight++
    try {
      return await this.executeOpen(op)
    } catch (err) {
      // The array refused this node's key: it lost the cluster (it was preempted while frozen or
      // cut off). Not a fault of the volume, and not this node's to serve any more.
      if (err instanceof ReservationConflict) return this.fencedReply(op.op)
      // IO on files this service closed when the CSV moved away fails: that is a move, not a fault.
      if (this.closed) throw new CsvServiceClosed(`${this.csv} moved away: ${(err as Error).message}`)
      // A full or write-protected volume is the client's answer (DISK_FULL,
      // MEDIA_WRITE_PROTECTED), as Windows gives it, not a dropped connection; each command
      // undid what it had begun before the error reached here.
      const status = err instanceof CsvServiceClosed ? null : storageFaultStatusOf(err)
      if (status === null) throw err
      this.log.warn({ component: 'smb', event: 'smb.storage.fault', csv: this.csv, op: op.op, code: (err as NodeJS.ErrnoException).code, error: (err as Error).message })
      return { status }
    } finally {
      if (counted && --this.inFlight === 0) {
        const waiters = this.idleWaiters
        this.idleWaiters = []
        for (const wake of waiters) wake()
      }
    }
  }

  /**
   * A reservation conflict: STATUS_FILE_NOT_AVAILABLE, what Windows' CSV answers while a volume
   * is not available on the node (CsvFs pauses the volume and the SMB server fails the handle's
   * IO so that the client retries; MS-SMB2 3.3.5.2.10 uses the same status for a channel whose
   * handle moved). Our failover client and Windows' treat it as retryable on another node.
   */
  private fencedReply(op: string): HandleOpReply {
    this.log.warn({ component: 'smb', event: 'smb.storage.fenced', csv: this.csv, op })
    return { status: NT_STATUS.FILE_NOT_AVAILABLE }
  }

  /** The array's name of a path under this CSV's folder. */
  private arrayPathOfFull(full: string): string {
    return full.slice(join(this.storageDir, this.csv).length + 1)
  }

  /** The array's name of an open's file. */
  private arrayPath(record: Pick<OpenRecord, 'share' | 'path'>): string {
    return arrayPathOf(record.share, record.path)
  }

  private async executeOpen(op: HandleOp): Promise<HandleOpReply> {
    switch (op.op) {
      case 'create':
        return this.createAfterBreaks(op)
      case 'create-wait':
        return this.createWait(op)
      case 'oplock-break-ack':
        return this.oplockBreakAck(op)
      case 'lease-break-ack':
        return this.leaseBreakAck(op)
      case 'read':
        return this.read(op)
      case 'write':
        return this.write(op)
      case 'flush': {
        const d = this.table.beginIo(this.ioRequest(op, 'flush'))
        if (!d.proceed) return { status: d.status }
        if (this.array && d.record) {
          await this.array.fenced.flush(this.csv, this.arrayPath(d.record), this.arrayKey)
          return { status: NT_STATUS.SUCCESS }
        }
        const fh = await this.fileOf(op.fileId.persistent, d.record)
        await fh.datasync()
        return { status: NT_STATUS.SUCCESS }
      }
      case 'close': {
        const record = this.table.recordOf(op.fileId.persistent)
        const r = this.table.close(op.sessionKey, op.fileId.persistent, op.fileId.volatile)
        this.applyEffects(r.effects)
        if (r.status === NT_STATUS.SUCCESS) {
          await this.dropFile(op.fileId.persistent)
          this.dispositionDeletes.delete(op.fileId.persistent)
          if (this.deleteOnClose.delete(op.fileId.persistent) && record) await this.deleteClosed(record)
        }
        return { status: r.status }
      }
      case 'stat': {
        const d = this.table.beginIo(this.ioRequest(op, 'query-info'))
        if (!d.proceed || !d.record) return { status: d.status }
        const record = d.record
        const deletePending = [...this.deleteOnClose].some((id) => {
          const other = this.table.recordOf(id)
          return other !== null && other.share === record.share && other.path.toLowerCase() === record.path.toLowerCase()
        })
        return { status: NT_STATUS.SUCCESS, stat: { ...this.withTimes(await statOf(this.pathOf(record.share, record.path))), ...(deletePending ? { deletePending } : {}) } }
      }
      case 'channel-check': {
        const req: IoRequest = { ...this.ioRequest(op, op.kind === 'set-info' ? 'set-info' : 'ioctl'), channelSequence: op.channelSequence, replay: op.replay, messageId: op.messageId }
        const d = this.table.beginIo(req)
        if (d.proceed) this.applyEffects(this.table.completeIo(req, true))
        // A position SET_INFO sets is written to a persistent open's record (the client asked for
        // it, and a reconnect after the owner's death answers with it: durable-open.file-position).
        if (d.proceed && op.position !== undefined && /^\d{1,20}$/.test(op.position)) this.applyEffects(this.table.setPosition(op.fileId.persistent, BigInt(op.position), true))
        return { status: d.status }
      }
      case 'list-directory':
        return this.listDirectory(op)
      case 'set-file-info':
        return this.setFileInfo(op)
      case 'lock':
        return this.lock(op)
      case 'lock-wait':
        return this.lockWait(op)
      case 'lock-cancel':
        this.deliverLockAnswers(this.locks.cancel(op.requestKey))
        return { status: NT_STATUS.SUCCESS }
      case 'fs-size': {
        const share = this.shares.find((x) => x.name.toLowerCase() === op.share.toLowerCase())
        if (!share) return { status: NT_STATUS.BAD_NETWORK_NAME }
        const fs = await statfs(this.pathOf(share.name, ''))
        return { status: NT_STATUS.SUCCESS, totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize, blockBytes: fs.bsize }
      }
      case 'query-info': {
        const d = this.table.beginIo(this.ioRequest(op, 'query-info'))
        if (!d.proceed || !d.record) return { status: d.status }
        const st = await stat(this.pathOf(d.record.share, d.record.path))
        return { status: NT_STATUS.SUCCESS, endOfFile: st.size, creationTimeMs: st.birthtimeMs, lastWriteTimeMs: st.mtimeMs, directory: st.isDirectory() }
      }
      case 'set-info': {
        const setsSize = op.endOfFile >= 0
        const setsTime = op.lastWriteTimeMs !== 0
        if (!Number.isSafeInteger(op.endOfFile) || (setsTime && (!Number.isFinite(op.lastWriteTimeMs) || op.lastWriteTimeMs < 0))) {
          return { status: NT_STATUS.INVALID_PARAMETER }
        }
        const req: IoRequest = { ...this.ioRequest(op, 'set-info'), channelSequence: op.channelSequence, replay: op.replay, messageId: op.messageId }
        const d = this.table.beginIo(req)
        if (!d.proceed) return { status: d.status }
        try {
          const fh = await this.fileOf(op.fileId.persistent, d.record, true)
          if (!this.serving()) throw new CsvServiceClosed(`${this.csv} is no longer served here`)
          if (this.array && d.record) {
            const arrayPath = this.arrayPath(d.record)
            if (setsSize) await this.array.fenced.truncate(this.csv, arrayPath, op.endOfFile, this.arrayKey)
            if (setsTime) await this.array.fenced.setTimes(this.csv, arrayPath, (await fh.stat()).atimeMs, op.lastWriteTimeMs, this.arrayKey)
          } else {
            if (setsSize) await fh.truncate(op.endOfFile)
            if (setsTime) {
              const st = await fh.stat()
              await fh.utimes(st.atime, new Date(op.lastWriteTimeMs))
            }
            await fh.sync()
          }
        } catch (err) {
          // Not applied: a replay of it may be applied later.
          this.table.completeIo(req, false)
          throw err
        }
        this.applyEffects(this.table.completeIo(req, true))
        return { status: NT_STATUS.SUCCESS }
      }
      case 'query-directory':
        return this.queryDirectory(op)
      case 'begin-io': {
        const d = this.table.beginIo({ ...this.ioRequest(op, op.kind), channelSequence: op.channelSequence, replay: op.replay, messageId: op.messageId, sequenced: op.sequenced === true })
        if (op.kind === 'write' && op.replay) this.logReplay(op.messageId, d)
        return { status: d.status, proceed: d.proceed, alreadyApplied: d.alreadyApplied, share: d.record?.share, path: d.record?.path }
      }
      case 'complete-io': {
        const req: IoRequest = { ...this.ioRequest(op, op.kind), channelSequence: op.channelSequence, messageId: op.messageId }
        const open = this.table.recordOf(op.fileId.persistent)
        this.applyEffects(this.table.completeIo(req, op.applied))
        const { offset, length } = op
        if (op.applied && op.kind === 'write' && open && Number.isSafeInteger(offset) && Number.isSafeInteger(length) && (offset as number) >= 0) {
          this.filter?.recordWrite(open.share, open.path, offset as number, length as number)
        }
        return { status: NT_STATUS.SUCCESS }
      }
    }
    // Every op kind is handled above; a stray one from a peer is refused.
    return { status: NT_STATUS.INVALID_PARAMETER }
  }

  /**
   * A CREATE, run in the per-CSV create chain (existence checks and file creation must not
   * interleave), again after each break ends while it must wait for breaks. The waiting is done
   * outside the chain, so that the break holder's own creates (an open with its lease key, an
   * upgrade) go ahead meanwhile. With a request key the first answer is pending.
   */
  private async createAfterBreaks(op: Extract<HandleOp, { op: 'create' }>): Promise<HandleOpReply> {
    // A replay of a CREATE that still waits for breaks (the client lost its connection meanwhile)
    // is refused: Windows answers ACCESS_DENIED, smbd FILE_NOT_AVAILABLE (smbtorture's
    // replay.dhv2-pending*-windows and -sane pairs; the Windows variant is chosen).
    const createGuidKey = op.dh2q ? `${op.clientGuid}/${op.dh2q.createGuid}` : null
    if (op.replay && createGuidKey !== null && this.waitingCreateGuids.has(createGuidKey)) return { status: NT_STATUS.ACCESS_DENIED }
    const attempt = (): Promise<HandleOpReply | typeof MUST_WAIT> => {
      const run = this.createChain.then(() => this.create(op))
      this.createChain = run.catch(() => undefined)
      return run
    }
    // The generation of break endings before each attempt: one that ends between the plan and
    // the wait is not missed.
    let seen = this.breaksEnded
    const first = await attempt()
    if (first !== MUST_WAIT) return first
    const rest = (async (): Promise<HandleOpReply> => {
      for (;;) {
        if (seen === this.breaksEnded) await this.breakEnded()
        seen = this.breaksEnded
        const next = await attempt()
        if (next !== MUST_WAIT) return next
      }
    })()
    if (!op.requestKey) return rest
    if (this.pendingCreates.size >= PENDING_CREATES_MAX) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    const requestKey = op.requestKey
    this.pendingCreates.set(requestKey, rest)
    if (createGuidKey !== null) {
      this.waitingCreateGuids.add(createGuidKey)
      const done = () => this.waitingCreateGuids.delete(createGuidKey)
      rest.then(done, done)
    }
    // An answer nobody fetches (the client's connection went away meanwhile) is dropped after a
    // while, and the open it made is closed: the client never learnt of it.
    void rest.then((answer) => {
      const timer = setTimeout(() => {
        if (this.pendingCreates.get(requestKey) !== rest) return
        this.pendingCreates.delete(requestKey)
        if (answer.status === NT_STATUS.SUCCESS && answer.fileId && this.serving()) {
          this.log.info({ component: 'smb', event: 'smb.create.unclaimed', csv: this.csv, persistentId: answer.fileId.persistent })
          this.applyEffects(this.table.close(op.sessionKey, answer.fileId.persistent, answer.fileId.volatile).effects)
          void this.dropFile(answer.fileId.persistent)
        }
      }, CREATE_ANSWER_KEPT_MS)
      timer.unref?.()
    }, () => this.pendingCreates.delete(requestKey))
    return { status: NT_STATUS.PENDING, pending: true }
  }

  private async create(op: Extract<HandleOp, { op: 'create' }>): Promise<HandleOpReply | typeof MUST_WAIT> {
    const share = this.shares.find((s) => s.name.toLowerCase() === op.share.toLowerCase())
    if (!share) return { status: NT_STATUS.BAD_NETWORK_NAME }
    // A reconnect (DH2C, DHnC) names its open by FileId; the name, options and disposition of
    // the request are ignored (MS-SMB2 3.3.5.9.7, 3.3.5.9.12).
    if (op.dh2c !== null || (op.dhnc ?? null) !== null) return this.reconnect(op)
    const path = normaliseSharePath(op.path)
    if (!path.ok) return { status: path.status }
    const wire = op.createOptions !== undefined
    const options = op.createOptions ?? 0
    if (!wire && path.path === '') return { status: NT_STATUS.FILE_IS_A_DIRECTORY }
    if ((options & CREATE_OPTION_DIRECTORY_FILE) && (options & CREATE_OPTION_NON_DIRECTORY_FILE)) return { status: NT_STATUS.INVALID_PARAMETER }
    const filePath = this.pathOf(share.name, path.path)
    let exists = false
    let directory = false
    try {
      const st = await stat(filePath)
      if (st.isDirectory()) {
        if (!wire || options & CREATE_OPTION_NON_DIRECTORY_FILE) return { status: NT_STATUS.FILE_IS_A_DIRECTORY }
        directory = true
      } else if (options & CREATE_OPTION_DIRECTORY_FILE) return { status: NT_STATUS.NOT_A_DIRECTORY }
      exists = true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (wire && code === 'ENOTDIR') return { status: NT_STATUS.OBJECT_PATH_NOT_FOUND }
      if (code !== 'ENOENT') return { status: NT_STATUS.OBJECT_NAME_NOT_FOUND }
      directory = (options & CREATE_OPTION_DIRECTORY_FILE) !== 0
      if (wire) {
        // MS-FSA 2.1.5.1: the parent must exist; it is not made.
        const parent = await stat(this.pathOf(share.name, path.path.split('/').slice(0, -1).join('/'))).catch(() => null)
        if (!parent?.isDirectory()) return { status: NT_STATUS.OBJECT_PATH_NOT_FOUND }
      }
    }
    if (options & CREATE_OPTION_DELETE_ON_CLOSE && (normaliseAccess(op.desiredAccess) & ACCESS.DELETE) === 0) return { status: NT_STATUS.ACCESS_DENIED }
    // An open for writing of a file on a write-protected volume fails at CREATE, as on Windows
    // and smbd (whose open(O_RDWR) gets EROFS): STATUS_MEDIA_WRITE_PROTECTED.
    if (wire && exists && !directory && (op.desiredAccess & WRITE_ACCESS) !== 0) {
      const status = await access(filePath, fsConstants.W_OK).then(() => null, (err: unknown) => storageFaultStatusOf(err))
      if (status !== null) return { status }
    }
    // A replayed CREATE gives back its open as it is: it breaks nothing (smbtorture replay.replay6).
    const replaying = op.dh2q != null && this.table.isReplay(op.clientGuid, op.dh2q.createGuid)
    // A replay (REPLAY_OPERATION) that asks for a lease must name the lease of the open it
    // replays: an oplock open or another lease key is ACCESS_DENIED (as smbd; smbtorture
    // replay.replay-dhv2-oplock-lease, replay-dhv2-lease3).
    if (replaying && op.replay && op.lease && this.table.replayedRecord(op.clientGuid, op.dh2q!.createGuid)?.lease?.key !== op.lease.key) return { status: NT_STATUS.ACCESS_DENIED }
    // A file whose deletion an open has set (FileDispositionInformation) cannot be opened again
    // until that open closes (MS-FSA 2.1.5.1.2: DELETE_PENDING), and breaks nothing (smbtorture oplock.doc).
    if (!replaying && exists && [...this.dispositionDeletes].some((id) => this.table.recordOf(id)?.share === share.name && this.table.recordOf(id)?.path.toLowerCase() === path.path.toLowerCase())) {
      return { status: NT_STATUS.DELETE_PENDING }
    }
    if (!replaying) {
      // An open this CREATE's AppInstanceId takes over is closed, not broken (3.3.5.9.13;
      // durable-v2-open.app-instance).
      this.applyEffects(this.table.closeForAppInstance({ share: share.name, path: path.path, clientGuid: op.clientGuid, appInstanceId: op.appInstanceId ?? '' }))
      // A preserved durable open (its client gone) cannot acknowledge a break: it is closed
      // instead, and a delete-on-close one takes its file with it (durable-open.delete_on_close1);
      // a persistent one stays and is broken as any other.
      for (const persistentId of this.table.preservedHolders(share.name, path.path)) {
        const record = this.table.recordOf(persistentId)
        const dropped = this.table.breakPreserved(persistentId)
        this.applyEffects(dropped.effects)
        if (dropped.closed && this.deleteOnClose.delete(persistentId) && record) {
          await this.deleteClosed(record)
          exists = (await stat(filePath).catch(() => null)) !== null
        }
      }
    }
    // MS-FSA 2.1.4.12: oplocks and leases of other opens that this open contends with are
    // broken before it goes ahead; it waits for their acknowledgments (or the break timeout),
    // answered pending meanwhile when the wire front gave a request key (MS-SMB2 3.3.4.2).
    const fresh = this.ids()
    const newOpen = this.newOpenOf(op, share.name, path.path, directory, exists, fresh.persistent)
    const plan = replaying ? { effects: [], mustWait: false, leaseKeyConflict: false } : this.oplockLeases.planOpen(newOpen, this.nowMs(), (other) => conflicts(newOpen.access, newOpen.shareAccess, other.access, other.shareAccess))
    if (plan.leaseKeyConflict) return { status: NT_STATUS.INVALID_PARAMETER }
    this.applyBreakEffects(plan.effects)
    if (plan.mustWait && !op.dh2c) return MUST_WAIT
    const result = this.table.create({
      sessionKey: op.sessionKey,
      clientGuid: op.clientGuid,
      user: op.user,
      share: share.name,
      shareIsCa: share.continuouslyAvailable,
      caTimeoutMs: share.caTimeoutMs,
      path: path.path,
      disposition: op.disposition,
      desiredAccess: op.desiredAccess,
      shareAccess: op.shareAccess,
      fileExists: exists,
      persistentCapable: op.persistentCapable,
      dh2q: op.dh2q ?? undefined,
      ...(op.dhnq ? { dhnq: true } : {}),
      replay: op.replay,
      appInstanceId: op.appInstanceId ?? '',
      directory,
      ...(op.smb3 ? { smb3: true } : {}),
      ...(op.scaleOut !== false && op.dialect !== undefined && op.dialect >= 0x0300 ? { scaleOut: true } : {}),
      newPersistentId: fresh.persistent,
      newVolatileId: fresh.volatile,
    })
    if (result.status !== NT_STATUS.SUCCESS || !result.persistentId) {
      this.applyEffects(result.effects)
      return { status: result.status }
    }
    const opened = { persistentId: result.persistentId, volatileId: result.volatileId ?? '' }
    let madeFile = false
    try {
      // Strict: a persistent open whose record cannot be written is no open (below).
      this.applyEffects(result.effects, true)
      return await this.finishCreate(op, filePath, directory, options, wire, newOpen, { ...result, persistentId: opened.persistentId }, () => {
        madeFile = true
      })
    } catch (err) {
      const status = storageFaultStatusOf(err)
      if (status === null || this.closed || err instanceof CsvServiceClosed || result.existing) throw err
      // A full or write-protected volume: the CREATE fails whole (DISK_FULL,
      // MEDIA_WRITE_PROTECTED) and leaves no open behind, neither here nor as a record a later
      // owner would load; a file it made goes too.
      this.log.warn({ component: 'smb', event: 'smb.create.storage-fault', csv: this.csv, persistentId: opened.persistentId, persistent: result.persistent, code: (err as NodeJS.ErrnoException).code })
      this.applyEffects(this.table.close(op.sessionKey, opened.persistentId, opened.volatileId).effects)
      await this.dropFile(opened.persistentId)
      this.deleteOnClose.delete(opened.persistentId)
      if (madeFile) await (directory ? rmdir(filePath) : rm(filePath, { force: true })).catch(() => undefined)
      return { status }
    }
  }

  /** The rest of a CREATE the handle table accepted: grants, the file on storage, the answer. */
  private async finishCreate(
    op: Extract<HandleOp, { op: 'create' }>,
    filePath: string,
    directory: boolean,
    options: number,
    wire: boolean,
    newOpen: NewOpen,
    result: ReturnType<HandleTable['create']> & { persistentId: string },
    onMadeFile: () => void,
  ): Promise<HandleOpReply> {
    let durable = result.durable
    let timeoutMs = result.timeoutMs
    // A new open gets what it may; a replayed or reconnected one keeps what it had.
    const grantable = this.oplocks?.canBreak(op.sessionKey) ?? false
    let grant: { oplockLevel: number; lease: HandleOpReply['lease'] | null } = { oplockLevel: OPLOCK.NONE, lease: null }
    if (!result.existing) {
      grant = this.oplockLeases.opened(
        { ...newOpen, persistentId: result.persistentId, requestedOplock: grantable ? newOpen.requestedOplock : OPLOCK.NONE },
        { scaleOut: op.scaleOut !== false && op.dialect !== undefined && op.dialect >= 0x0300 },
      )
      if (grant.oplockLevel !== OPLOCK.NONE || grant.lease) this.applyEffects(this.table.setOplock(result.persistentId, grant.oplockLevel, grant.lease ? persistedLeaseOf(grant.lease) : undefined))
      // The wire front (CreateOptions given) grants durability as Windows does: a durable (not
      // persistent) open only with a batch oplock or a handle-caching lease (3.3.5.9.6, 3.3.5.9.10).
      if (wire && result.durable) {
        const handleCaching = grant.oplockLevel === OPLOCK.BATCH || (grant.lease != null && (grant.lease.state & LEASE_STATE.HANDLE_CACHING) !== 0)
        durable = this.table.keepDurable(result.persistentId, handleCaching)
        if (!durable) timeoutMs = 0
      }
    } else {
      const held = this.heldGrantOf(result.persistentId)
      grant = { oplockLevel: held.oplockLevel, lease: held.lease ?? null }
      // A replayed CREATE of an oplock open is answered with the oplock it asks for, if lower
      // than the one held, and durable only if that level could have been (as smbd and Windows:
      // smbtorture replay.replay-dhv2-oplock2); the open keeps its oplock and durability.
      const asked = op.requestedOplock ?? OPLOCK.NONE
      if (result.replayedFileAction !== undefined && !grant.lease && asked !== OPLOCK.LEASE && asked < grant.oplockLevel) {
        grant = { oplockLevel: asked, lease: null }
        if (wire && durable && !result.persistent && asked !== OPLOCK.BATCH) {
          durable = false
          timeoutMs = 0
        }
      }
    }
    let action = FILE_OPENED
    if (directory && result.fileAction === 'create') {
      if (this.array) await this.array.fenced.mkdir(this.csv, this.arrayPathOfFull(filePath), this.arrayKey)
      else await mkdir(filePath)
      onMadeFile()
      action = FILE_CREATED
    } else if (result.fileAction === 'create' || result.fileAction === 'truncate') {
      if (this.array) {
        // Made or emptied by the array; this node keeps a descriptor of its own for reads.
        await this.array.fenced.createFile(this.csv, this.arrayPathOfFull(filePath), result.fileAction === 'truncate', this.arrayKey)
        if (result.fileAction === 'create') onMadeFile()
        const fh = await open(filePath, 'r+')
        this.files.set(result.persistentId, fh)
        this.readOnlyFiles.delete(result.persistentId)
      } else {
        const dir = filePath.slice(0, filePath.lastIndexOf('/'))
        mkdirSync(dir, { recursive: true })
        const fh = await open(filePath, result.fileAction === 'create' ? 'w+' : 'r+')
        if (result.fileAction === 'create') onMadeFile()
        this.files.set(result.persistentId, fh)
        this.readOnlyFiles.delete(result.persistentId)
        if (result.fileAction === 'truncate') await fh.truncate(0)
        await fh.sync()
      }
      action = result.fileAction === 'create' ? FILE_CREATED : FILE_OVERWRITTEN
    }
    // A replayed CREATE answers what the original did (smbtorture replay.replay6).
    if (result.replayedFileAction === 'create') action = FILE_CREATED
    else if (result.replayedFileAction === 'truncate') action = FILE_OVERWRITTEN
    if (options & CREATE_OPTION_DELETE_ON_CLOSE) this.deleteOnClose.add(result.persistentId)
    // A file made or overwritten has the EAs the CREATE gave, and no others (an inode reused
    // after a delete does not inherit the old file's).
    if (action !== FILE_OPENED) {
      const made = await statOf(filePath)
      this.fileMetadata.setExtendedAttributes(made.ino, op.extendedAttributes ?? [])
      if (!directory) this.setCreatedAttributes(made, op.fileAttributes ?? 0, op.allocationBytes ?? 0)
    }
    const st = this.withTimes(await statOf(filePath))
    return {
      status: NT_STATUS.SUCCESS,
      fileId: { persistent: result.persistentId, volatile: result.volatileId ?? '' },
      createAction: action,
      endOfFile: st.size,
      stat: st,
      directory,
      durable,
      persistent: result.persistent,
      timeoutMs,
      oplockLevel: grant.oplockLevel,
      ...(grant.lease ? { lease: grant.lease } : {}),
    }
  }

  /** What a replayed or reconnected open holds: its oplock, or its lease as it stands. */
  private heldGrantOf(persistentId: string): { oplockLevel: number; lease?: NonNullable<HandleOpReply['lease']> } {
    const held = this.oplockLeases.leaseOf(persistentId)
    return held ? { oplockLevel: OPLOCK.LEASE, lease: { key: held.key, state: held.state, flags: 0, epoch: held.epoch, version: held.version } } : { oplockLevel: this.oplockLeases.oplockOf(persistentId) }
  }

  private newOpenOf(op: Extract<HandleOp, { op: 'create' }>, share: string, path: string, directory: boolean, exists: boolean, persistentId: string): NewOpen {
    const overwrites = exists && (op.disposition === 0 /* SUPERSEDE */ || op.disposition === 4 /* OVERWRITE */ || op.disposition === 5 /* OVERWRITE_IF */)
    return {
      persistentId,
      fileKey: `${share.toLowerCase()}/${path.toLowerCase()}`,
      clientGuid: op.clientGuid,
      access: normaliseAccess(op.desiredAccess),
      shareAccess: op.shareAccess,
      directory,
      overwrites,
      requestedOplock: op.requestedOplock ?? OPLOCK.NONE,
      lease: op.requestedOplock === OPLOCK.LEASE ? (op.lease ?? null) : null,
    }
  }

  /** Sends break notices and keeps the timer for the earliest acknowledgment deadline. */
  private applyBreakEffects(effects: readonly OplockLeaseEffect[]): void {
    for (const e of effects) {
      if (e.kind === 'deadline') {
        this.armBreakTimer()
        continue
      }
      const n = e.notice
      this.log.info({ component: 'smb', event: 'smb.break.sent', csv: this.csv, ...n })
      if (!this.oplocks) continue
      if (n.kind === 'oplock') {
        const record = this.table.recordOf(n.persistentId)
        if (record?.sessionKey) this.oplocks.breakOplock(record.sessionKey, { persistent: n.persistentId, volatile: record.volatileId ?? '' }, n.toLevel)
      } else {
        const sessions = n.persistentIds.map((id) => this.table.recordOf(id)?.sessionKey).filter((k): k is string => typeof k === 'string')
        this.oplocks.breakLease(this.csv, sessions, n)
      }
    }
  }

  private armBreakTimer(): void {
    const { nextDeadlineMs } = this.oplockLeases.tick(this.nowMs())
    if (this.breakTimer) clearTimeout(this.breakTimer)
    this.breakTimer = null
    if (nextDeadlineMs === null || this.closed) return
    this.breakTimer = setTimeout(() => {
      this.breakTimer = null
      const { timedOut } = this.oplockLeases.tick(this.nowMs())
      if (timedOut > 0) {
        this.log.info({ component: 'smb', event: 'smb.break.timeout', csv: this.csv, breaks: timedOut })
        this.wakeBreakWaiters()
      }
      this.armBreakTimer()
    }, Math.max(1, nextDeadlineMs - this.nowMs()))
    this.breakTimer.unref?.()
  }

  private breakEnded(): Promise<void> {
    return new Promise((resolve) => this.breakWaiters.push(resolve))
  }

  private wakeBreakWaiters(): void {
    this.breaksEnded++
    const waiters = this.breakWaiters
    this.breakWaiters = []
    for (const w of waiters) w()
  }

  private nowMs(): number {
    return performance.now()
  }

  private async createWait(op: Extract<HandleOp, { op: 'create-wait' }>): Promise<HandleOpReply> {
    const answer = this.pendingCreates.get(op.requestKey)
    if (!answer) return { status: NT_STATUS.INVALID_PARAMETER }
    const waitMs = Math.max(0, Math.min(op.waitMs, CREATE_WAIT_MS_MAX))
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([answer, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)))])
    clearTimeout(timer)
    if (outcome === null) return { status: NT_STATUS.PENDING, pending: true }
    this.pendingCreates.delete(op.requestKey)
    return outcome
  }

  private oplockBreakAck(op: Extract<HandleOp, { op: 'oplock-break-ack' }>): HandleOpReply {
    const record = this.table.recordOf(op.fileId.persistent)
    if (!record || record.sessionKey !== op.sessionKey) return { status: NT_STATUS.FILE_CLOSED }
    const r = this.oplockLeases.ackOplock(op.fileId.persistent, op.oplockLevel)
    this.applyEffects(this.table.setOplock(op.fileId.persistent, r.level))
    this.wakeBreakWaiters()
    if (r.status !== 'ok') return { status: r.status === 'not-found' ? NT_STATUS.FILE_CLOSED : NT_STATUS.INVALID_OPLOCK_PROTOCOL }
    return { status: NT_STATUS.SUCCESS, oplockLevel: r.level }
  }

  private leaseBreakAck(op: Extract<HandleOp, { op: 'lease-break-ack' }>): HandleOpReply {
    const r = this.oplockLeases.ackLease(op.clientGuid, op.leaseKey, op.leaseState)
    this.wakeBreakWaiters()
    switch (r.status) {
      case 'ok':
        this.persistLeaseState(op.clientGuid, op.leaseKey)
        return { status: NT_STATUS.SUCCESS, leaseState: r.state }
      case 'not-found':
        return { status: NT_STATUS.OBJECT_NAME_NOT_FOUND }
      case 'unsuccessful':
        return { status: NT_STATUS.UNSUCCESSFUL }
      case 'not-accepted':
        return { status: NT_STATUS.REQUEST_NOT_ACCEPTED }
    }
  }

  /**
   * The persistent opens of a lease keep its state and epoch once a break is acknowledged, so
   * that a new owner of the CSV rebuilds the lease as it is (an unrecorded break leaves the
   * record a state above the real one: the new owner then breaks what the client no longer
   * caches, the safe side).
   */
  private persistLeaseState(clientGuid: string, key: string): void {
    for (const persistentId of this.oplockLeases.opensOfLease(clientGuid, key)) {
      const held = this.oplockLeases.leaseOf(persistentId)
      if (held && this.table.recordOf(persistentId)?.persistent) this.applyEffects(this.table.setOplock(persistentId, OPLOCK.LEASE, persistedLeaseOf(held)))
    }
  }

  /** CREATE with DH2C or DHnC: the open the table gives back, with its file as it is now. */
  private async reconnect(op: Extract<HandleOp, { op: 'create' }>): Promise<HandleOpReply> {
    const fresh = this.ids()
    // The name is checked only against a leased open's file (a name that is not a valid path names no such file).
    const named = normaliseSharePath(op.path)
    const result = this.table.create({
      sessionKey: op.sessionKey,
      clientGuid: op.clientGuid,
      user: op.user,
      share: op.share,
      shareIsCa: false,
      caTimeoutMs: 0,
      path: named.ok ? named.path : op.path,
      ...(op.reconnectLeaseKey !== undefined ? { reconnectLeaseKey: op.reconnectLeaseKey } : {}),
      disposition: DISPOSITION_OPEN,
      desiredAccess: 0,
      shareAccess: 0,
      fileExists: true,
      persistentCapable: op.persistentCapable,
      dh2c: op.dh2c ? { persistentId: op.dh2c.fileId.persistent, createGuid: op.dh2c.createGuid, persistent: op.dh2c.persistent } : undefined,
      ...(op.dhnc ? { dhnc: { persistentId: op.dhnc.fileId.persistent } } : {}),
      replay: op.replay,
      newPersistentId: fresh.persistent,
      newVolatileId: fresh.volatile,
    })
    this.applyEffects(result.effects)
    const record = result.persistentId ? this.table.recordOf(result.persistentId) : null
    if (result.status !== NT_STATUS.SUCCESS || !record) return { status: result.status === NT_STATUS.SUCCESS ? NT_STATUS.OBJECT_NAME_NOT_FOUND : result.status }
    const st = this.withTimes(await statOf(this.pathOf(record.share, record.path)))
    return {
      status: NT_STATUS.SUCCESS,
      fileId: { persistent: record.persistentId, volatile: result.volatileId ?? '' },
      createAction: FILE_OPENED,
      endOfFile: st.size,
      stat: st,
      path: record.path,
      position: this.table.positionOf(record.persistentId),
      grantedAccess: record.desiredAccess,
      directory: record.directory ?? false,
      durable: result.durable,
      persistent: result.persistent,
      timeoutMs: result.timeoutMs,
      ...this.heldGrantOf(record.persistentId),
    }
  }

  private async read(op: Extract<HandleOp, { op: 'read' }>): Promise<HandleOpReply> {
    if (!Number.isSafeInteger(op.offset) || op.offset < 0 || op.length > MAX_IO_BYTES) return { status: NT_STATUS.INVALID_PARAMETER }
    const d = this.table.beginIo({ ...this.ioRequest(op, 'read'), ...(op.channel ? { ...op.channel, sequenced: true } : {}) })
    if (!d.proceed) return { status: d.status }
    if (d.record) {
      const conflict = this.locks.checkIo(lockFileKey(d.record), d.record.persistentId, BigInt(op.offset), BigInt(op.length), false)
      if (conflict !== NT_STATUS.SUCCESS) return { status: conflict }
    }
    if (this.bandwidth && !(await this.bandwidth.take(op.length))) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    const fh = await this.fileOf(op.fileId.persistent, d.record)
    // One pread from the page cache into reused memory, no stat first: a read at or past the end
    // gets no bytes, which is END_OF_FILE. Not zero-filled: only the bytesRead the file supplied
    // are returned. The SMB2 front gives the buffer back once the socket has sent it.
    const buffer = dataPathBuffers.acquire(op.length)
    let bytesRead: number
    try {
      ;({ bytesRead } = await fh.read(buffer, 0, buffer.length, op.offset))
    } catch (err) {
      dataPathBuffers.release(buffer)
      throw err
    }
    if (bytesRead === 0 && op.length > 0) {
      dataPathBuffers.release(buffer)
      return { status: NT_STATUS.END_OF_FILE }
    }
    this.table.setPosition(op.fileId.persistent, BigInt(op.offset + bytesRead))
    return { status: NT_STATUS.SUCCESS, data: buffer.subarray(0, bytesRead) }
  }

  private async write(op: Extract<HandleOp, { op: 'write' }>): Promise<HandleOpReply> {
    const data = op.data
    if (!Number.isSafeInteger(op.offset) || op.offset < 0 || data.length > MAX_IO_BYTES) return { status: NT_STATUS.INVALID_PARAMETER }
    const req: IoRequest = { ...this.ioRequest(op, 'write'), channelSequence: op.channelSequence, replay: op.replay, messageId: op.messageId }
    const d = this.table.beginIo(req)
    if (op.replay) this.logReplay(op.messageId, d)
    if (d.alreadyApplied) return { status: NT_STATUS.SUCCESS, count: data.length }
    if (!d.proceed) return { status: d.status }
    if (d.record) {
      const conflict = this.locks.checkIo(lockFileKey(d.record), d.record.persistentId, BigInt(op.offset), BigInt(data.length), true)
      if (conflict !== NT_STATUS.SUCCESS) {
        this.table.completeIo(req, false)
        return { status: conflict }
      }
    }
    if (this.bandwidth && !(await this.bandwidth.take(data.length))) {
      this.table.completeIo(req, false)
      return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    }
    let fh: FileHandle
    try {
      fh = await this.fileOf(op.fileId.persistent, d.record, true)
    } catch (err) {
      this.table.completeIo(req, false)
      throw err
    }
    // The awaits above may have spanned a freeze of this process: check the lease again.
    if (!this.serving()) {
      this.table.completeIo(req, false)
      throw new CsvServiceClosed(`${this.csv} is no longer served here`)
    }
    let written = 0
    try {
      if (this.array && d.record) {
        // Through the array, under this service's key; written through (fdatasync) there.
        written = await this.array.fenced.write(this.csv, this.arrayPath(d.record), op.offset, data, this.arrayKey)
      } else {
        while (written < data.length) {
          const { bytesWritten } = await fh.write(data, written, data.length - written, op.offset + written)
          written += bytesWritten
        }
        // Continuous availability: on stable storage before the WRITE is acknowledged.
        await fh.datasync()
      }
    } catch (err) {
      this.table.completeIo(req, false)
      if (err instanceof ReservationConflict) throw err
      if (this.closed) throw new CsvServiceClosed(`${this.csv} moved away during a write`)
      // Not acknowledged, so not applied as far as the client knows (its replay may be).
      // A full or write-protected volume is the client's to hear of (a warning: the node is
      // fine); anything else is an error of this node.
      const status = storageFaultStatusOf(err)
      this.log[status !== null ? 'warn' : 'error']({ component: 'smb', event: 'smb.write.failed', csv: this.csv, code: (err as NodeJS.ErrnoException).code, error: String(err) })
      return { status: status ?? NT_STATUS.INSUFFICIENT_RESOURCES }
    }
    this.applyEffects(this.table.completeIo(req, true))
    this.applyBreakEffects(this.oplockLeases.wrote(op.fileId.persistent, this.nowMs()))
    if (d.record) this.filter?.recordWrite(d.record.share, d.record.path, op.offset, written)
    this.table.setPosition(op.fileId.persistent, BigInt(op.offset + written))
    return { status: NT_STATUS.SUCCESS, count: written }
  }

  /**
   * The vendor CBT filter's answer for one file: the blocks written since `sinceId` and a new
   * reference point, taken together so that nothing written in between is missed.
   */
  async cbtChanges(share: string, path: string, sinceId: string): Promise<
    { ok: true; referenceId: string; ranges: { offset: number; length: number }[]; changedBytes: number; fileBytes: number } | { ok: false; error: string }
  > {
    if (!this.filter) return { ok: false, error: 'no CBT filter here: the vendor filter cannot be installed on third-party SMB storage' }
    this.assertServing()
    const normal = normaliseSharePath(path)
    if (!normal.ok || normal.path === '') return { ok: false, error: `invalid path ${JSON.stringify(path)}` }
    let fileBytes: number
    try {
      fileBytes = (await stat(this.pathOf(share, normal.path))).size
    } catch {
      return { ok: false, error: `no file ${share}/${normal.path}` }
    }
    this.assertServing()
    const changes = this.filter.changesSince(share, normal.path, sinceId, fileBytes)
    if (!changes.ok) return { ok: false, error: changes.reason }
    return { ok: true, referenceId: this.filter.referencePoint(), ranges: changes.ranges, changedBytes: changes.changedBytes, fileBytes }
  }

  private async listDirectory(op: Extract<HandleOp, { op: 'list-directory' }>): Promise<HandleOpReply> {
    const d = this.table.beginIo(this.ioRequest(op, 'list-directory'))
    if (!d.proceed || !d.record) return { status: d.status }
    const dir = this.pathOf(d.record.share, d.record.path)
    const all = (await readdir(dir)).sort(compareNames)
    const page = op.page
    const names = page ? pageOfNames(all, page.after, compileNamePattern(page.pattern), Math.min(page.limit, DIRECTORY_PAGE_ENTRIES_MAX)) : all.slice(0, LISTING_ENTRIES_MAX)
    const listing: { name: string; stat: FileStat }[] = []
    for (const name of names) {
      // Entries that vanish while listed, or that are not files or directories, are left out.
      const st = await lstat(join(dir, name), { bigint: true }).catch(() => null)
      if (st && (st.isFile() || st.isDirectory())) listing.push({ name, stat: this.withTimes(fileStatOf(st)) })
    }
    const parent = d.record.path === '' ? dir : this.pathOf(d.record.share, d.record.path.split('/').slice(0, -1).join('/'))
    return { status: NT_STATUS.SUCCESS, stat: this.withTimes(await statOf(dir)), parentStat: this.withTimes(await statOf(parent)), listing }
  }

  private lock(op: Extract<HandleOp, { op: 'lock' }>): HandleOpReply {
    const d = this.table.beginIo(this.ioRequest(op, 'query-info'))
    if (!d.proceed || !d.record) return { status: d.status }
    const elements: { offset: bigint; length: bigint; flags: number }[] = []
    for (const e of op.elements) {
      if (!/^\d{1,20}$/.test(e.offset) || !/^\d{1,20}$/.test(e.length)) return { status: NT_STATUS.INVALID_PARAMETER }
      elements.push({ offset: BigInt(e.offset), length: BigInt(e.length), flags: e.flags })
    }
    // A persistent open's locks are all in its record: their number is bounded.
    const locking = elements.length > 0 && (elements[0].flags & LOCK_FLAG.UNLOCK) === 0
    if (locking && d.record.persistent && this.locks.locksOf(d.record.persistentId).length + elements.length > PERSISTENT_OPEN_LOCKS_MAX) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    const outcome = this.locks.lock({
      fileKey: lockFileKey(d.record),
      openKey: d.record.persistentId,
      requestKey: op.requestKey,
      elements,
      lockSequence: op.lockSequence,
      checkLockSequence: op.checkLockSequence,
    })
    this.persistLocks(d.record.persistentId)
    this.deliverLockAnswers(outcome.completions)
    // A byte-range lock taken breaks level II oplocks as a write does (MS-FSA 2.1.5.7; oplock.brl1, brl3).
    if (outcome.kind === 'done' && outcome.status === NT_STATUS.SUCCESS && op.elements.some((e) => (e.flags & 0x4) === 0)) this.applyBreakEffects(this.oplockLeases.wrote(op.fileId.persistent, this.nowMs()))
    return outcome.kind === 'done' ? { status: outcome.status } : { status: NT_STATUS.PENDING, pending: true }
  }

  private async lockWait(op: Extract<HandleOp, { op: 'lock-wait' }>): Promise<HandleOpReply> {
    const answered = this.lockAnswers.get(op.requestKey)
    if (answered !== undefined) {
      this.lockAnswers.delete(op.requestKey)
      return { status: answered }
    }
    if (!this.locks.pendingRequests().includes(op.requestKey)) return { status: NT_STATUS.RANGE_NOT_LOCKED }
    const waitMs = Math.max(0, Math.min(op.waitMs, LOCK_WAIT_MS_MAX))
    const status = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        this.lockWaiters.delete(op.requestKey)
        resolve(null)
      }, waitMs)
      this.lockWaiters.set(op.requestKey, (s) => {
        clearTimeout(timer)
        resolve(s)
      })
    })
    return status === null ? { status: NT_STATUS.PENDING, pending: true } : { status }
  }

  /** Waiting locks that got their answer: to their lock-wait, or kept until it comes. */
  private deliverLockAnswers(completions: readonly LockCompletion[]): void {
    for (const c of completions) {
      // A waiting lock granted: the open's record keeps it (a persistent open's).
      if (c.status === NT_STATUS.SUCCESS && this.serving()) this.persistLocks(c.openKey)
      const waiter = this.lockWaiters.get(c.requestKey)
      if (waiter) {
        this.lockWaiters.delete(c.requestKey)
        waiter(c.status)
        continue
      }
      if (this.lockAnswers.size >= LOCK_ANSWERS_KEPT_MAX) this.lockAnswers.delete(this.lockAnswers.keys().next().value as string)
      this.lockAnswers.set(c.requestKey, c.status)
    }
  }

  private async setFileInfo(op: Extract<HandleOp, { op: 'set-file-info' }>): Promise<HandleOpReply> {
    const change = op.change
    const kind = change.kind === 'disposition' ? 'delete' : change.kind === 'rename' ? 'rename' : 'set-info'
    const req: IoRequest = { ...this.ioRequest(op, kind), channelSequence: op.channelSequence, replay: op.replay, messageId: op.messageId }
    const d = this.table.beginIo(req)
    if (!d.proceed || !d.record) return { status: d.status }
    const record = d.record
    const path = this.pathOf(record.share, record.path)
    const done = (status: number, applied = status === NT_STATUS.SUCCESS): HandleOpReply => {
      if (kind === 'set-info') this.applyEffects(this.table.completeIo(req, applied))
      return { status }
    }
    switch (change.kind) {
      case 'end-of-file': {
        if (!Number.isSafeInteger(change.bytes) || change.bytes < 0) return done(NT_STATUS.INVALID_PARAMETER)
        if (record.directory) return done(NT_STATUS.INVALID_PARAMETER)
        try {
          const fh = await this.fileOf(op.fileId.persistent, record, true)
          if (!this.serving()) throw new CsvServiceClosed(`${this.csv} is no longer served here`)
          if (!(await this.roomFor(path, change.bytes))) return done(NT_STATUS.DISK_FULL)
          if (this.array) await this.array.fenced.truncate(this.csv, this.arrayPath(record), change.bytes, this.arrayKey)
          else {
            await fh.truncate(change.bytes)
            await fh.sync()
          }
        } catch (err) {
          done(NT_STATUS.SUCCESS, false)
          throw err
        }
        // A size change is a write to the oplock holders (smbtorture's oplock.batch11, batch12).
        this.applyBreakEffects(this.oplockLeases.wrote(op.fileId.persistent, this.nowMs()))
        return done(NT_STATUS.SUCCESS)
      }
      case 'allocation':
        if (!record.directory) {
          // A write-protected volume refuses it, as any change (EROFS: MEDIA_WRITE_PROTECTED).
          await access(path, fsConstants.W_OK).catch((err: unknown) => {
            done(NT_STATUS.SUCCESS, false)
            throw err
          })
          if (change.bytes !== undefined && Number.isSafeInteger(change.bytes) && !(await this.roomFor(path, change.bytes))) return done(NT_STATUS.DISK_FULL)
          // MS-FSA 2.1.5.15.2 checks for oplock breaks as a size change does (smbtorture oplock.batch12).
          this.applyBreakEffects(this.oplockLeases.wrote(op.fileId.persistent, this.nowMs()))
        }
        return done(NT_STATUS.SUCCESS)
      case 'times': {
        const creationMs = change.creationMs ?? null
        const changeMs = change.changeMs ?? null
        const attributes = change.attributes ?? null
        if (change.lastAccessMs === null && change.lastWriteMs === null && creationMs === null && changeMs === null && attributes === null) return done(NT_STATUS.SUCCESS)
        const st = await stat(path)
        if (change.lastAccessMs !== null || change.lastWriteMs !== null) {
          try {
            if (this.array) await this.array.fenced.setTimes(this.csv, this.arrayPath(record), change.lastAccessMs ?? st.atimeMs, change.lastWriteMs ?? st.mtimeMs, this.arrayKey)
            else await utimes(path, new Date(change.lastAccessMs ?? st.atimeMs), new Date(change.lastWriteMs ?? st.mtimeMs))
          } catch (err) {
            done(NT_STATUS.SUCCESS, false)
            throw err
          }
        }
        if (creationMs !== null || changeMs !== null || attributes !== null) {
          const after = await stat(path, { bigint: true })
          const key = after.ino.toString()
          const before = this.fileMetadata.get(key)?.overrides
          this.fileMetadata.setOverrides(key, {
            creationMs: creationMs ?? before?.creationMs ?? null,
            changeMs: changeMs ?? (before && before.mtimeMs === Number(after.mtimeMs) ? before.changeMs : null),
            mtimeMs: Number(after.mtimeMs),
            attributes: attributes ?? before?.attributes ?? null,
            allocationBytes: before?.allocationBytes ?? null,
          })
        }
        return done(NT_STATUS.SUCCESS)
      }
      case 'disposition': {
        if (!change.deletePending) {
          this.deleteOnClose.delete(record.persistentId)
          this.dispositionDeletes.delete(record.persistentId)
          return done(NT_STATUS.SUCCESS)
        }
        if (record.path === '') return done(NT_STATUS.CANNOT_DELETE)
        // MS-FSA 2.1.5.15.3: a directory that is not empty cannot be deleted.
        if (record.directory && (await readdir(path)).length > 0) return done(NT_STATUS.DIRECTORY_NOT_EMPTY)
        this.deleteOnClose.add(record.persistentId)
        this.dispositionDeletes.add(record.persistentId)
        return done(NT_STATUS.SUCCESS)
      }
      case 'rename': {
        const target = normaliseSharePath(change.newPath.replace(/^[\\/]+/, ''))
        if (!target.ok || target.path === '') return done(target.ok ? NT_STATUS.OBJECT_NAME_INVALID : target.status)
        if (record.path === '') return done(NT_STATUS.ACCESS_DENIED)
        const targetPath = this.pathOf(record.share, target.path)
        const targetParent = target.path.split('/').slice(0, -1).join('/')
        const parent = await stat(this.pathOf(record.share, targetParent)).catch(() => null)
        if (!parent?.isDirectory()) return done(NT_STATUS.OBJECT_PATH_NOT_FOUND)
        // The directory the name goes into is open with DELETE access: SHARING_VIOLATION, no break
        // (smbd's parent_dirname_compatible_open, Windows as smbtorture's oplock.batch19 and
        // exclusive6 expect).
        if (this.table.openWithAccess(record.share, targetParent, ACCESS.DELETE)) return done(NT_STATUS.SHARING_VIOLATION)
        const sameName = target.path.toLowerCase() === record.path.toLowerCase()
        const existing = sameName ? null : await lstat(targetPath).catch(() => null)
        if (existing && (!change.replaceIfExists || existing.isDirectory())) return done(existing.isDirectory() && change.replaceIfExists ? NT_STATUS.ACCESS_DENIED : NT_STATUS.OBJECT_NAME_COLLISION)
        // A directory with opens below it cannot move (Windows: ACCESS_DENIED).
        if (record.directory && this.table.othersOpenUnder(record.share, record.path, record.persistentId) > 0) return done(NT_STATUS.ACCESS_DENIED)
        if (!this.serving()) throw new CsvServiceClosed(`${this.csv} is no longer served here`)
        if (this.array) await this.array.fenced.rename(this.csv, this.arrayPath(record), arrayPathOf(record.share, target.path), this.arrayKey)
        else await rename(path, targetPath)
        this.applyEffects(this.table.renamed(record.share, record.path, target.path))
        // Its leases follow the file: the same key opens it by its new name (smbtorture's lease.v2_rename).
        this.oplockLeases.renamed(`${record.share.toLowerCase()}/${record.path.toLowerCase()}`, `${record.share.toLowerCase()}/${target.path.toLowerCase()}`)
        return { status: NT_STATUS.SUCCESS, path: target.path }
      }
    }
  }

  /**
   * Whether the volume has room for a file to reach targetBytes. NTFS allocates what a file's
   * end of file or allocation size asks (STATUS_DISK_FULL when it cannot), where ext4 would grow
   * the file sparsely and fail only at a later write: the SET_INFO answers as Windows does.
   */
  private async roomFor(path: string, targetBytes: number): Promise<boolean> {
    const [st, fs] = await Promise.all([stat(path), statfs(path)])
    const neededBytes = Math.ceil(targetBytes / fs.bsize) * fs.bsize - st.blocks * 512
    return neededBytes <= fs.bavail * fs.bsize
  }

  /**
   * An entry of the CSV's file metadata written (data) or removed (null), as a handle record is:
   * never once another node may own the CSV; a full or write-protected volume leaves the
   * change in this owner's memory only (logged), as Windows would fail nothing for it either.
   */
  private persistFileMetadata(path: string, data: string | null): void {
    this.assertServing()
    try {
      if (data === null) removeFileDurablySync(path)
      else writeFileAtomicSync(path, data, () => this.assertServing())
    } catch (err) {
      if (storageFaultStatusOf(err) === null) throw err
      this.log.warn({ component: 'smb', event: 'file.metadata.persist-failed', csv: this.csv, code: (err as NodeJS.ErrnoException).code })
    }
  }

  /**
   * A file a CREATE made or overwrote takes the FileAttributes it asked for (READONLY, HIDDEN,
   * SYSTEM, with ARCHIVE as Windows adds it: MS-FSA 2.1.5.1.2.1) and reports the AllocationSize
   * of its AlSi context until its data needs more (smbtorture durable-open.read-only, alloc-size);
   * otherwise whatever an earlier file of that inode was given is forgotten. Kept by inode in
   * this owner's memory, as the times SET_INFO sets.
   */
  private setCreatedAttributes(made: FileStat, fileAttributes: number, allocationBytes: number): void {
    const asked = fileAttributes & (FILE_ATTRIBUTE.READONLY | FILE_ATTRIBUTE.HIDDEN | FILE_ATTRIBUTE.SYSTEM)
    if (asked === 0 && allocationBytes === 0) {
      this.fileMetadata.setOverrides(made.ino, null)
      return
    }
    this.fileMetadata.setOverrides(made.ino, {
      creationMs: null,
      changeMs: null,
      mtimeMs: made.mtimeMs,
      attributes: asked !== 0 ? asked | FILE_ATTRIBUTE.ARCHIVE : null,
      allocationBytes: allocationBytes > 0 ? Math.ceil(allocationBytes / ALLOCATION_UNIT_BYTES) * ALLOCATION_UNIT_BYTES : null,
    })
  }

  /** A stat with the creation and change times SET_INFO gave the file, and its EAs. */
  private withTimes(plain: FileStat): FileStat {
    const metadata = this.fileMetadata.get(plain.ino)
    const eas = metadata?.extendedAttributes
    const st = eas ? { ...plain, extendedAttributes: eas } : plain
    const o = metadata?.overrides
    if (!o) return st
    return {
      ...st,
      birthtimeMs: o.creationMs ?? st.birthtimeMs,
      ctimeMs: o.changeMs !== null && o.mtimeMs === st.mtimeMs ? o.changeMs : st.ctimeMs,
      ...(o.attributes !== null ? { dosAttributes: o.attributes } : {}),
      ...(o.allocationBytes !== null && !st.directory ? { allocationBytes: Math.max(st.allocationBytes, o.allocationBytes) } : {}),
    }
  }

  /** The last handle of a file marked for deletion closed: it goes. */
  private async deleteClosed(record: OpenRecord): Promise<void> {
    if (!this.serving()) return
    const path = this.pathOf(record.share, record.path)
    try {
      // Overrides are kept by inode, which the next new file may get: they go with the file.
      const gone = await stat(path, { bigint: true }).catch(() => null)
      if (gone) this.fileMetadata.forget(gone.ino.toString())
      if (this.array) await this.array.fenced.remove(this.csv, this.arrayPath(record), record.directory === true, this.arrayKey)
      else if (record.directory) await rmdir(path)
      else await rm(path, { force: true })
      this.log.info({ component: 'smb', event: 'smb.file.deleted', csv: this.csv, share: record.share, path: record.path })
    } catch (err) {
      this.log.warn({ component: 'smb', event: 'smb.file.delete-failed', csv: this.csv, path: record.path, error: String(err) })
    }
  }

  /** One line per replayed WRITE and what became of it, so that a chaos run can check it was applied once. */
  private logReplay(messageId: string, d: { alreadyApplied: boolean; proceed: boolean; status: number }): void {
    const outcome = d.alreadyApplied ? 'already-applied' : d.proceed ? 'applied' : 'refused'
    this.log.info({ component: 'smb', event: 'smb.write.replayed', csv: this.csv, messageId, outcome, status: d.status })
  }

  private async queryDirectory(op: Extract<HandleOp, { op: 'query-directory' }>): Promise<HandleOpReply> {
    const share = this.shares.find((s) => s.name.toLowerCase() === op.share.toLowerCase())
    if (!share) return { status: NT_STATUS.BAD_NETWORK_NAME }
    const path = normaliseSharePath(op.path)
    if (!path.ok) return { status: path.status }
    let names: string[]
    try {
      names = await readdir(this.pathOf(share.name, path.path))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      return { status: code === 'ENOTDIR' ? NT_STATUS.NOT_A_DIRECTORY : NT_STATUS.OBJECT_NAME_NOT_FOUND }
    }
    const entries = []
    for (const name of names.sort()) {
      const st = await stat(join(this.pathOf(share.name, path.path), name)).catch(() => null)
      if (st) entries.push({ name, directory: st.isDirectory(), endOfFile: st.isDirectory() ? 0 : st.size })
    }
    return { status: NT_STATUS.SUCCESS, entries }
  }

  private ioRequest(op: { sessionKey: string; fileId: FileIdJson }, kind: IoRequest['kind']): IoRequest {
    return { sessionKey: op.sessionKey, persistentId: op.fileId.persistent, volatileId: op.fileId.volatile, kind, channelSequence: 0, replay: false, messageId: '' }
  }

  private pathOf(share: string, path: string): string {
    return path === '' ? join(this.storageDir, this.csv, share) : join(this.storageDir, this.csv, share, ...path.split('/'))
  }

  /**
   * The open's file descriptor: cached, or opened (an open taken over from another node, or one
   * whose descriptor a freeze closed). On a write-protected volume it is opened read-only, so
   * that reads go on; forWrite then tries a writable one again, which fails with EROFS (the
   * caller's MEDIA_WRITE_PROTECTED) until the volume is writable.
   */
  private async fileOf(persistentId: string, record: OpenRecord | undefined, forWrite = false): Promise<FileHandle> {
    const cached = this.files.get(persistentId)
    if (cached && !(forWrite && this.readOnlyFiles.has(persistentId))) return cached
    if (!record) throw new Error(`no record for open ${persistentId}`)
    const path = this.pathOf(record.share, record.path)
    let fh: FileHandle
    let readOnly = false
    try {
      fh = await open(path, 'r+')
    } catch (err) {
      if (forWrite || (err as NodeJS.ErrnoException).code !== 'EROFS') throw err
      fh = await open(path, 'r')
      readOnly = true
    }
    const replaced = this.files.get(persistentId)
    this.files.set(persistentId, fh)
    if (readOnly) this.readOnlyFiles.add(persistentId)
    else this.readOnlyFiles.delete(persistentId)
    if (replaced && replaced !== fh) void replaced.close().catch(() => undefined)
    return fh
  }

  private async dropFile(persistentId: string): Promise<void> {
    const fh = this.files.get(persistentId)
    this.files.delete(persistentId)
    this.readOnlyFiles.delete(persistentId)
    // Callers do not wait for this: a failed close must not become an unhandled rejection (a node crash).
    await fh?.close().catch((err: Error) => this.log.warn({ component: 'smb', event: 'handle.file.close-failed', csv: this.csv, persistentId, error: err.message }))
  }

  /**
   * Carries out the handle table's effects. A record the volume refuses to write or remove (full,
   * write-protected) throws when strict (a CREATE, which then fails whole); otherwise it is
   * logged and the open goes on as the table has it (its record on storage is the last one
   * written: a disconnect or a lock the next owner would not see), and a removal is retried at
   * each scavenge. Timers and session ends apply effects too: a full CSV must not crash its node.
   */
  private applyEffects(effects: readonly HandleEffect[], strict = false): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'persist':
          // Never over a record the CSV's next owner may be writing.
          this.assertServing()
          try {
            writeFileAtomicSync(join(this.handlesDir, `${e.record.persistentId}.json`), JSON.stringify(e.record), () => this.assertServing())
          } catch (err) {
            if (strict || storageFaultStatusOf(err) === null) throw err
            this.log.warn({ component: 'smb', event: 'handle.record.persist-failed', csv: this.csv, persistentId: e.record.persistentId, code: (err as NodeJS.ErrnoException).code })
          }
          break
        case 'forget':
          this.assertServing()
          try {
            removeFileDurablySync(join(this.handlesDir, `${e.persistentId}.json`))
          } catch (err) {
            if (strict || storageFaultStatusOf(err) === null) throw err
            this.log.warn({ component: 'smb', event: 'handle.record.forget-failed', csv: this.csv, persistentId: e.persistentId, code: (err as NodeJS.ErrnoException).code })
            if (this.pendingForgets.size < PENDING_FORGETS_MAX) this.pendingForgets.add(e.persistentId)
          }
          void this.dropFile(e.persistentId)
          break
        case 'event':
          this.log.info({ component: 'smb', ...e.fields, event: e.event })
          if (e.event === 'handle.expired' || (e.event === 'handle.closed' && e.fields.reason === 'disconnect')) {
            void this.dropFile(String(e.fields.persistentId))
          }
          // An open that goes, however it goes, takes its byte-range locks with it.
          if (e.event === 'handle.expired' || e.event === 'handle.closed') {
            this.deliverLockAnswers(this.locks.closeOpen(String(e.fields.persistentId)))
            // …and its oplock or its share of a lease: a break it owed ends (MS-SMB2 3.3.4.7).
            this.oplockLeases.closed(String(e.fields.persistentId))
            this.dispositionDeletes.delete(String(e.fields.persistentId))
            this.wakeBreakWaiters()
          }
          break
      }
    }
  }

  private readRecords(): OpenRecord[] {
    const records: OpenRecord[] = []
    for (const name of readdirSync(this.handlesDir)) {
      if (!name.endsWith('.json')) continue
      try {
        records.push(JSON.parse(readFileSync(join(this.handlesDir, name), 'utf8')) as OpenRecord)
      } catch {
        this.log.warn({ component: 'smb', event: 'handle.record.unreadable', csv: this.csv, file: name })
      }
    }
    return records
  }
}

/** What a persistent open's record keeps of its lease. */
function persistedLeaseOf(lease: { readonly key: string; readonly version: 1 | 2; readonly state: number; readonly epoch: number; readonly parentKey?: string }): PersistedLease {
  return { key: lease.key, version: lease.version, state: lease.state, epoch: lease.epoch, ...(lease.parentKey !== undefined ? { parentKey: lease.parentKey } : {}) }
}
