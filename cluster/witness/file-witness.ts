// A file share witness: the quorum witness lease kept as a small JSON file in a folder that
// every node can reach (a "shared folder"). Any node may take the lease when it is free or
// expired, or renew it while it holds it, and the change must be an atomic compare-and-swap
// even when the contenders are separate processes or machines. A lock file made with an
// exclusive create gives mutual exclusion; the new lease is written to a temporary file,
// flushed, and renamed over the old one, so a reader sees either the old lease or the new
// one and never a torn write.

import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs/promises'
import { hostname } from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  describeError,
  errorCodeOf,
  invalidAcquireArguments,
  isLeaseValid,
  type QuorumWitnessStore,
  type WitnessLeaseResult,
  type WitnessLeaseSnapshot,
  type WitnessReadResult,
  compareWitnessViewIds,
  newerViewId,
  NO_VIEW_ID,
  type WitnessViewId,
} from './quorum-witness.js'

export const LEASE_FILE_NAME = 'witness.lease'
export const LOCK_FILE_NAME = 'witness.lock'

export const DEFAULT_STALE_LOCK_MS = 2000
export const DEFAULT_LOCK_WAIT_MS = 200
export const DEFAULT_FILE_OPERATION_TIMEOUT_MS = 1000

/** The longest and shortest pause between two attempts to create the lock file. */
const LOCK_RETRY_MIN_WAIT_MS = 2
const LOCK_RETRY_MAX_WAIT_MS = 15

export interface FileWitnessOptions {
  /**
   * A lock file older than this is taken to be left behind by a process that crashed while
   * holding it, and is broken. A holder keeps the lock for a few milliseconds, so this only
   * needs to exceed the longest pause a live holder may suffer.
   */
  readonly staleLockMs?: number
  /** The longest acquire() waits for the lock before it gives up with an error result. */
  readonly lockWaitMs?: number
  /**
   * The longest acquire(), release() or read() may take in all. A folder on a network share
   * can hang on IO; past this the call answers with an error result, and the abandoned IO
   * finishes (and releases the lock) in the background.
   */
  readonly operationTimeoutMs?: number
  /**
   * Wall clock for lease expiry, Date.now() unless a test injects another. It must be the
   * wall clock: it is the only clock that separate machines sharing the folder have in
   * common, whereas a monotonic clock counts from an arbitrary origin on each machine.
   */
  readonly clock?: () => number
}

/** The JSON held in witness.lease. */
export interface FileLeaseRecord {
  readonly holder: string
  readonly term: number
  /** Wall-clock (Date.now()-based) end of the lease; see FileWitnessOptions.clock. */
  readonly expiresAtMs: number
  /** Bumped on every write, so that an operator or a test can see each change. */
  readonly version: number
  /** The newest view id granted with (the paxos tag); -1 when none was given. */
  readonly viewTerm: number
  readonly epoch: number
}

/** The JSON held in witness.lock while some process holds it, for diagnosis. */
interface LockOwner {
  readonly pid: number
  readonly host: string
  readonly acquiredAtMs: number
  readonly token: string
}

interface HeldLock {
  readonly token: string
  /** Monotonic time at which the lock was taken, to bound how long this process keeps it. */
  readonly acquiredAtMonoMs: number
}

type LeaseFileState =
  | { readonly kind: 'lease'; readonly lease: FileLeaseRecord }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt' }
  | { readonly kind: 'error'; readonly error: string }

export interface FileWitnessReleaseResult {
  /** The lease was held by the caller and now is not. */
  readonly released: boolean
  readonly error?: string
}

export class FileWitness implements QuorumWitnessStore {
  readonly kind = 'file' as const
  readonly folderPath: string
  readonly leasePath: string
  readonly lockPath: string
  private readonly staleLockMs: number
  private readonly lockWaitMs: number
  private readonly operationTimeoutMs: number
  private readonly clock: () => number
  private folderReady: Promise<string | undefined> | undefined
  private readonly inFlight = new Set<Promise<unknown>>()
  private closed = false

  constructor(folderPath: string, options: FileWitnessOptions = {}) {
    this.folderPath = path.resolve(folderPath)
    this.leasePath = path.join(this.folderPath, LEASE_FILE_NAME)
    this.lockPath = path.join(this.folderPath, LOCK_FILE_NAME)
    this.staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS
    this.lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS
    this.operationTimeoutMs = options.operationTimeoutMs ?? DEFAULT_FILE_OPERATION_TIMEOUT_MS
    this.clock = options.clock ?? Date.now
  }

  acquire(nodeId: string, durationMs: number, term: number, viewId: WitnessViewId = NO_VIEW_ID): Promise<WitnessLeaseResult> {
    const invalid = invalidAcquireArguments(nodeId, durationMs, term)
    if (invalid !== undefined) return Promise.resolve({ granted: false, holder: '', error: invalid })
    if (this.closed) return Promise.resolve({ granted: false, holder: '', error: 'file witness is closed' })
    return this.bounded(this.acquireUnbounded(nodeId, durationMs, term, viewId), (error) => ({
      granted: false,
      holder: '',
      error,
    }))
  }

  async read(): Promise<WitnessReadResult> {
    if (this.closed) return { error: 'file witness is closed' }
    return this.bounded(this.readUnbounded(), (error) => ({ error }))
  }

  /**
   * Gives the lease up early if nodeId holds it, so that another node need not wait for it
   * to expire (a clean shutdown). The lease keeps its holder's name with an expiry of now.
   */
  release(nodeId: string): Promise<FileWitnessReleaseResult> {
    if (this.closed) return Promise.resolve({ released: false, error: 'file witness is closed' })
    return this.bounded(this.releaseUnbounded(nodeId), (error) => ({ released: false, error }))
  }

  /** Refuses new calls and waits for the ones under way, so that none leaves the lock behind. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.allSettled([...this.inFlight])
  }

  private async acquireUnbounded(
    nodeId: string,
    durationMs: number,
    term: number,
    viewId: WitnessViewId,
  ): Promise<WitnessLeaseResult> {
    const folderError = await this.ensureFolder()
    if (folderError !== undefined) return { granted: false, holder: '', error: folderError }

    // Fast path without the lock: a lease that another node holds and that has not expired
    // cannot change hands before it expires, so a refusal based on this read is correct
    // even though the lease may be renewed in the meantime. Most calls of a follower end here.
    const seen = await this.readLeaseFile()
    const seenHolder = seen.kind === 'lease' && isLeaseValid(seen.lease.expiresAtMs, this.clock()) ? seen.lease.holder : ''
    if (seenHolder !== '' && seenHolder !== nodeId) return { granted: false, holder: seenHolder }

    const lock = await this.takeLock()
    if ('error' in lock) return { granted: false, holder: seenHolder, error: lock.error }
    try {
      const current = await this.readLeaseFile()
      if (current.kind === 'error') return { granted: false, holder: seenHolder, error: current.error }
      // A corrupt lease file (torn by a crash of something that did not use the
      // temp-and-rename protocol, or edited by hand) is treated as free and overwritten: it
      // names no holder that could be protected, and refusing forever would leave the
      // cluster without its tie-breaker.
      const lease = current.kind === 'lease' ? current.lease : undefined
      // Expiry is judged, and the new one counted, from now, after the lock is taken. The
      // caller counts its lease from when it asked, which is earlier, so the caller always
      // believes its lease ends no later than the witness does.
      const nowMs = this.clock()
      if (lease !== undefined && lease.holder !== nodeId && isLeaseValid(lease.expiresAtMs, nowMs)) {
        return { granted: false, holder: lease.holder }
      }
      const storedView = lease ? { viewTerm: lease.viewTerm, epoch: lease.epoch } : NO_VIEW_ID
      if (compareWitnessViewIds(viewId, storedView) < 0) {
        return { granted: false, holder: lease !== undefined && isLeaseValid(lease.expiresAtMs, nowMs) ? lease.holder : '', staleView: true }
      }
      const view = newerViewId(viewId, storedView)
      const next: FileLeaseRecord = {
        holder: nodeId,
        term,
        expiresAtMs: nowMs + durationMs,
        version: (lease?.version ?? 0) + 1,
        viewTerm: view.viewTerm,
        epoch: view.epoch,
      }
      const writeError = await this.writeLeaseFile(next, lock)
      if (writeError !== undefined) return { granted: false, holder: '', error: writeError }
      return { granted: true, holder: nodeId }
    } catch (err) {
      return { granted: false, holder: '', error: `file witness: ${describeError(err)}` }
    } finally {
      await this.releaseLock(lock)
    }
  }

  private async readUnbounded(): Promise<WitnessReadResult> {
    const state = await this.readLeaseFile()
    switch (state.kind) {
      case 'lease': {
        const snapshot: WitnessLeaseSnapshot = {
          holder: state.lease.holder,
          term: state.lease.term,
          expiresAtMs: state.lease.expiresAtMs,
        }
        return snapshot
      }
      // A corrupt file counts as free, as in acquire(), so it reads as never held.
      case 'missing':
      case 'corrupt':
        return null
      case 'error':
        return { error: state.error }
    }
  }

  private async releaseUnbounded(nodeId: string): Promise<FileWitnessReleaseResult> {
    const folderError = await this.ensureFolder()
    if (folderError !== undefined) return { released: false, error: folderError }
    const lock = await this.takeLock()
    if ('error' in lock) return { released: false, error: lock.error }
    try {
      const current = await this.readLeaseFile()
      if (current.kind === 'error') return { released: false, error: current.error }
      if (current.kind !== 'lease') return { released: false }
      const nowMs = this.clock()
      const lease = current.lease
      if (lease.holder !== nodeId || !isLeaseValid(lease.expiresAtMs, nowMs)) return { released: false }
      const writeError = await this.writeLeaseFile({ ...lease, expiresAtMs: nowMs, version: lease.version + 1 }, lock)
      if (writeError !== undefined) return { released: false, error: writeError }
      return { released: true }
    } catch (err) {
      return { released: false, error: `file witness: ${describeError(err)}` }
    } finally {
      await this.releaseLock(lock)
    }
  }

  /**
   * Runs one operation with the overall time bound. The operation is tracked until it
   * really ends, so that close() can wait for it even after its caller has been answered.
   */
  private async bounded<T>(operation: Promise<T>, onTimeout: (error: string) => T): Promise<T> {
    this.inFlight.add(operation)
    void operation.then(
      () => this.inFlight.delete(operation),
      () => this.inFlight.delete(operation),
    )
    const abandon = new AbortController()
    const timeout = sleep(this.operationTimeoutMs, undefined, { signal: abandon.signal }).then(
      () => onTimeout(`file witness: no answer from ${this.folderPath} within ${this.operationTimeoutMs} ms`),
      () => undefined,
    )
    try {
      const winner = await Promise.race([operation, timeout])
      // The timeout promise resolves to undefined only once aborted, which happens below,
      // so here the winner is always a real answer.
      return winner as T
    } catch (err) {
      return onTimeout(`file witness: ${describeError(err)}`)
    } finally {
      abandon.abort()
    }
  }

  /** Creates the shared folder once, at first use; returns an error line if that fails. */
  private ensureFolder(): Promise<string | undefined> {
    // The folder is created only once: if it disappears later, that is a fault of the share
    // (which a lab may inject on purpose), and quietly recreating it would hide the fault.
    this.folderReady ??= fs.mkdir(this.folderPath, { recursive: true }).then(
      () => undefined,
      (err: unknown) => {
        this.folderReady = undefined
        return `file witness: cannot create ${this.folderPath}: ${describeError(err)}`
      },
    )
    return this.folderReady
  }

  private async readLeaseFile(): Promise<LeaseFileState> {
    let text: string
    try {
      text = await fs.readFile(this.leasePath, 'utf8')
    } catch (err) {
      if (errorCodeOf(err) === 'ENOENT') return { kind: 'missing' }
      return { kind: 'error', error: `file witness: cannot read ${this.leasePath}: ${describeError(err)}` }
    }
    const lease = parseLeaseRecord(text)
    return lease === undefined ? { kind: 'corrupt' } : { kind: 'lease', lease }
  }

  /**
   * Replaces the lease file: write a temp file, flush it, rename it over the lease, flush
   * the folder. Returns an error line, or undefined on success.
   */
  private async writeLeaseFile(lease: FileLeaseRecord, lock: HeldLock): Promise<string | undefined> {
    const tempPath = `${this.leasePath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
    let renamed = false
    try {
      const handle = await fs.open(tempPath, 'wx')
      try {
        await handle.writeFile(`${JSON.stringify(lease)}\n`, 'utf8')
        // Flush before the rename: otherwise a crash could leave a renamed but empty file.
        await handle.sync()
      } finally {
        await handle.close()
      }
      const lost = await this.checkLockStillHeld(lock)
      if (lost !== undefined) return lost
      await fs.rename(tempPath, this.leasePath)
      renamed = true
      await this.syncFolder()
      return undefined
    } catch (err) {
      return `file witness: cannot write ${this.leasePath}: ${describeError(err)}`
    } finally {
      if (!renamed) await fs.rm(tempPath, { force: true }).catch(() => undefined)
    }
  }

  /**
   * Flushes the folder so that the rename itself survives a crash. This is best effort:
   * some platforms (Windows) and network filesystems cannot open or flush a directory, and
   * the rename is already visible to every other reader of the share.
   */
  private async syncFolder(): Promise<void> {
    let handle: fs.FileHandle | undefined
    try {
      handle = await fs.open(this.folderPath, 'r')
      await handle.sync()
    } catch {
      // Best effort, as explained above.
    } finally {
      await handle?.close().catch(() => undefined)
    }
  }

  /**
   * Takes the lock by creating witness.lock exclusively. Retries with short pauses, breaks
   * a stale lock, and gives up after lockWaitMs with an error line.
   */
  private async takeLock(): Promise<HeldLock | { readonly error: string }> {
    const deadlineMonoMs = performance.now() + this.lockWaitMs
    let waitMs = LOCK_RETRY_MIN_WAIT_MS
    for (;;) {
      const token = `${process.pid}-${randomBytes(8).toString('hex')}`
      const created = await this.tryCreateLock(token)
      if (created === 'created') return { token, acquiredAtMonoMs: performance.now() }
      if (created !== 'exists') return { error: created.error }
      const broken = await this.breakLockIfStale()
      const remainingMs = deadlineMonoMs - performance.now()
      if (remainingMs <= 0) {
        const owner = await this.describeLockOwner()
        return { error: `file witness: lock ${this.lockPath} busy for ${this.lockWaitMs} ms${owner}` }
      }
      if (broken) continue
      // Jitter keeps contenders that collided from colliding again in lockstep.
      const pauseMs = Math.min(remainingMs, waitMs * (0.5 + Math.random()))
      await sleep(pauseMs)
      waitMs = Math.min(LOCK_RETRY_MAX_WAIT_MS, waitMs * 2)
    }
  }

  private async tryCreateLock(token: string): Promise<'created' | 'exists' | { readonly error: string }> {
    let handle: fs.FileHandle
    try {
      handle = await fs.open(this.lockPath, 'wx')
    } catch (err) {
      if (errorCodeOf(err) === 'EEXIST') return 'exists'
      return { error: `file witness: cannot create ${this.lockPath}: ${describeError(err)}` }
    }
    const owner: LockOwner = { pid: process.pid, host: hostname(), acquiredAtMs: Date.now(), token }
    try {
      await handle.writeFile(JSON.stringify(owner), 'utf8')
      await handle.close()
      return 'created'
    } catch (err) {
      // The lock exists but does not name us, so nobody could ever verify it: remove it.
      await handle.close().catch(() => undefined)
      await fs.rm(this.lockPath, { force: true }).catch(() => undefined)
      return { error: `file witness: cannot write ${this.lockPath}: ${describeError(err)}` }
    }
  }

  /**
   * Breaks the lock if it is older than staleLockMs. Returns true when the lock is gone
   * (broken here, or released meanwhile), so the caller may retry at once.
   */
  private async breakLockIfStale(): Promise<boolean> {
    let observed: Awaited<ReturnType<typeof fs.stat>>
    try {
      observed = await fs.stat(this.lockPath)
    } catch (err) {
      return errorCodeOf(err) === 'ENOENT'
    }
    // Age by the file's modification time, which on a network share is stamped by the
    // server's clock; it assumes the clocks of the machines agree well within staleLockMs.
    if (Date.now() - observed.mtimeMs <= this.staleLockMs) return false
    // Move the lock aside rather than delete it: between the stat above and this point the
    // stale lock may have been broken by someone else and a fresh one created, and deleting
    // by name would remove that fresh lock. After the move we can check what we moved.
    const asidePath = `${this.lockPath}.stale.${process.pid}.${randomBytes(6).toString('hex')}`
    try {
      await fs.rename(this.lockPath, asidePath)
    } catch (err) {
      return errorCodeOf(err) === 'ENOENT'
    }
    try {
      const moved = await fs.stat(asidePath)
      const sameFile = moved.ino === observed.ino && moved.mtimeMs === observed.mtimeMs
      if (!sameFile) {
        // We moved a fresh lock: put it back, unless yet another lock has appeared, in which
        // case its owner notices the loss when it checks its token before committing.
        await fs.link(asidePath, this.lockPath).catch(() => undefined)
      }
    } finally {
      await fs.rm(asidePath, { force: true }).catch(() => undefined)
    }
    return true
  }

  /**
   * Checks, just before the commit, that the lock is still ours: that this process has not
   * held it so long that others may take it for stale, and that it still names our token.
   * Returns an error line if the lock was lost.
   */
  private async checkLockStillHeld(lock: HeldLock): Promise<string | undefined> {
    const heldMs = performance.now() - lock.acquiredAtMonoMs
    // Half the stale age leaves a margin for clock differences between the machines.
    if (heldMs > this.staleLockMs / 2) {
      return `file witness: held the lock for ${Math.round(heldMs)} ms, too long to commit safely`
    }
    const owner = await this.readLockOwner()
    if (owner?.token !== lock.token) return 'file witness: the lock was broken by another process before the commit'
    return undefined
  }

  private async releaseLock(lock: HeldLock): Promise<void> {
    // Remove the lock only if it is still ours: if it was broken as stale, the file now
    // belongs to another process.
    const owner = await this.readLockOwner()
    if (owner?.token === lock.token) await fs.rm(this.lockPath, { force: true }).catch(() => undefined)
  }

  private async readLockOwner(): Promise<LockOwner | undefined> {
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(this.lockPath, 'utf8'))
      if (typeof parsed !== 'object' || parsed === null) return undefined
      const owner = parsed as Partial<LockOwner>
      if (typeof owner.token !== 'string' || typeof owner.pid !== 'number') return undefined
      return {
        token: owner.token,
        pid: owner.pid,
        host: typeof owner.host === 'string' ? owner.host : '',
        acquiredAtMs: typeof owner.acquiredAtMs === 'number' ? owner.acquiredAtMs : Number.NaN,
      }
    } catch {
      return undefined
    }
  }

  private async describeLockOwner(): Promise<string> {
    const owner = await this.readLockOwner()
    if (owner === undefined) return ''
    return ` (held by pid ${owner.pid}${owner.host === '' ? '' : ` on ${owner.host}`})`
  }
}

/** Parses the lease file; undefined if it is not a well-formed lease record. */
export function parseLeaseRecord(text: string): FileLeaseRecord | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const record = parsed as Record<string, unknown>
  const { holder, term, expiresAtMs, version } = record
  if (typeof holder !== 'string') return undefined
  if (typeof term !== 'number' || !Number.isFinite(term)) return undefined
  if (typeof expiresAtMs !== 'number' || !Number.isFinite(expiresAtMs)) return undefined
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) return undefined
  // Files written before the view id existed read as holding no view id.
  const viewTerm = typeof record.viewTerm === 'number' ? record.viewTerm : -1
  const epoch = typeof record.epoch === 'number' ? record.epoch : -1
  return { holder, term, expiresAtMs, version, viewTerm, epoch }
}
