// Oplocks and leases of one CSV's files as a deterministic state machine (MS-SMB2 3.3.5.9.8,
// 3.3.5.9.11, 3.3.5.22, 3.3.4.6/3.3.4.7; MS-FSA 2.1.4.12 and 2.1.5.17 for when a break is due).
// The adapter tells it of opens, closes, writes and acknowledgments, with the time; it answers
// with what to grant and with effects: break notifications to send and the deadlines by which
// their acknowledgments must come (tick() then times them out). Nothing here does IO.
//
// Leases are keyed by (ClientGuid, LeaseKey): every open of one client with one key shares the
// lease, on one file only. The state lives beside the opens in the handle table (the records
// carry each open's lease key and oplock level), so a node that takes the CSV over can rebuild
// it from preserved opens.
import assert from 'node:assert/strict'
import { ACCESS } from '../../protocol/smb2/constants.js'

/** Oplock levels (MS-SMB2 2.2.13 RequestedOplockLevel). */
export const OPLOCK_LEVEL = { NONE: 0x00, LEVEL_II: 0x01, EXCLUSIVE: 0x08, BATCH: 0x09, LEASE: 0xff } as const
/** Lease state bits (2.2.13.2.8). */
export const LEASE = { NONE: 0, R: 0x01, H: 0x02, W: 0x04 } as const
/** Windows' oplock and lease break acknowledgment wait (OplockBreakWait: 35 s). */
export const BREAK_TIMEOUT_MS = 35_000
/** Bounds: leases one CSV owner keeps. */
export const LEASES_MAX = 100_000

/** The access that makes no data-level use of a file: such an open breaks no oplock (MS-FSA 2.1.5.1.2.1). */
const STAT_ACCESS = ACCESS.READ_ATTRIBUTES | ACCESS.WRITE_ATTRIBUTES | 0x00100000 /* SYNCHRONIZE */
/** …and no lease either (READ_CONTROL too, as Windows and smbd treat it). */
const LEASE_STAT_ACCESS = STAT_ACCESS | 0x00020000 /* READ_CONTROL */

export interface LeaseRequest {
  /** 16 bytes as 32 hex digits. */
  readonly key: string
  readonly state: number
  /** 1: SMB2_CREATE_REQUEST_LEASE; 2: _V2 (epochs, parent keys). */
  readonly version: 1 | 2
  /** v2: the parent directory's lease key, when the client set SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET. */
  readonly parentKey?: string
  /** v2: the client's epoch. */
  readonly epoch?: number
}

export interface OpenFacts {
  readonly persistentId: string
  /** Share and path, lower case: the file the open is of. */
  readonly fileKey: string
  readonly clientGuid: string
  /** Normalised desired access. */
  readonly access: number
  readonly shareAccess: number
  readonly directory: boolean
}

export interface NewOpen extends OpenFacts {
  /** CreateDisposition overwrites or supersedes the file. */
  readonly overwrites: boolean
  readonly requestedOplock: number
  readonly lease: LeaseRequest | null
}

/** What a grant says back in the CREATE response. */
export interface Grant {
  readonly oplockLevel: number
  /** Present when the response carries a lease context (2.2.14.2.10 / 2.2.14.2.11). */
  readonly lease: { readonly key: string; readonly state: number; readonly flags: number; readonly epoch: number; readonly version: 1 | 2; readonly parentKey?: string } | null
}

export type BreakNotice =
  | { readonly kind: 'oplock'; readonly persistentId: string; readonly toLevel: number; readonly ackRequired: boolean }
  | {
      readonly kind: 'lease'
      readonly clientGuid: string
      readonly key: string
      readonly fileKey: string
      readonly version: 1 | 2
      /** v2: the epoch after the break (2.2.23.2 NewEpoch); 0 for v1. */
      readonly newEpoch: number
      readonly currentState: number
      readonly newState: number
      readonly ackRequired: boolean
      /** The lease's opens: the adapter sends the break on a connection of one of them. */
      readonly persistentIds: readonly string[]
    }

export type OplockLeaseEffect = { readonly kind: 'send'; readonly notice: BreakNotice } | { readonly kind: 'deadline'; readonly atMs: number }

/** What an opener must do before its open can go ahead. */
export interface OpenPlan {
  /** Break notices to send now (new breaks only; breaks already under way are not repeated). */
  readonly effects: readonly OplockLeaseEffect[]
  /** Breaks that must be acknowledged (or time out) first: the opener waits, then plans again. */
  readonly mustWait: boolean
  /** The lease key is in use by this client on another file (INVALID_PARAMETER). */
  readonly leaseKeyConflict: boolean
}

interface OpenState {
  readonly facts: OpenFacts
  /** Oplock of the open (not a lease). */
  oplock: number
  /** Level being broken to, while a break waits for its acknowledgment. */
  oplockBreakingTo: number | null
  oplockDeadlineMs: number
  leaseId: string | null
}

interface LeaseState {
  readonly id: string
  readonly clientGuid: string
  readonly key: string
  readonly fileKey: string
  version: 1 | 2
  parentKey?: string
  state: number
  epoch: number
  /** State being broken to, while a break waits for its acknowledgment. */
  breakingTo: number | null
  deadlineMs: number
  readonly opens: Set<string>
}

function leaseIdOf(clientGuid: string, key: string): string {
  return `${clientGuid.toLowerCase()}/${key.toLowerCase()}`
}

/** The lease states a request can get: R, RH, RW, RWH; anything without R gets none (smbtorture's lease.request). */
export function grantableLeaseState(requested: number): number {
  const s = requested & (LEASE.R | LEASE.H | LEASE.W)
  return s & LEASE.R ? s : LEASE.NONE
}

/** A lease as a persistent open's record keeps it (handle-table OpenRecord.lease). */
export interface RestoredLease {
  readonly key: string
  readonly version: 1 | 2
  readonly state: number
  readonly epoch: number
  readonly parentKey?: string
}

export interface OplockLeasePolicy {
  /**
   * A scale-out share (STYPE_CLUSTER_SOFS) at SMB 3.x: Windows grants no batch or exclusive
   * oplock there (MS-SMB2 3.3.5.9: BATCH is made LEVEL_II) and no write or handle caching lease.
   */
  readonly scaleOut: boolean
}

export class OplockLeaseTable {
  private readonly opens = new Map<string, OpenState>()
  private readonly leases = new Map<string, LeaseState>()

  /** The opens of a file, in the order they were made. */
  private opensOf(fileKey: string): OpenState[] {
    return [...this.opens.values()].filter((o) => o.facts.fileKey === fileKey)
  }

  private leasesOf(fileKey: string): LeaseState[] {
    return [...this.leases.values()].filter((l) => l.fileKey === fileKey)
  }

  leaseOf(persistentId: string): { key: string; state: number; epoch: number; version: 1 | 2; breaking: boolean } | null {
    const open = this.opens.get(persistentId)
    const lease = open?.leaseId ? this.leases.get(open.leaseId) : undefined
    return lease ? { key: lease.key, state: lease.state, epoch: lease.epoch, version: lease.version, breaking: lease.breakingTo !== null } : null
  }

  /** The persistent ids of the opens that share a lease (for keeping their records' state). */
  opensOfLease(clientGuid: string, key: string): string[] {
    return [...(this.leases.get(leaseIdOf(clientGuid, key))?.opens ?? [])]
  }

  /**
   * A persistent open taken over from the CSV's previous owner gets back the oplock or lease
   * it held there (MS-SMB2 3.3.5.9.12: a reconnect returns it; 3.3.1.4: opens of others break
   * it as they would have). An open of a lease another taken-over open already restored joins
   * that lease. No break is under way: one the old owner sent died with it.
   */
  restore(facts: OpenFacts, oplock: number, lease: RestoredLease | null): void {
    if (this.opens.has(facts.persistentId)) return
    const state: OpenState = { facts, oplock: OPLOCK_LEVEL.NONE, oplockBreakingTo: null, oplockDeadlineMs: 0, leaseId: null }
    this.opens.set(facts.persistentId, state)
    if (!lease) {
      if (oplock === OPLOCK_LEVEL.LEVEL_II || oplock === OPLOCK_LEVEL.EXCLUSIVE || oplock === OPLOCK_LEVEL.BATCH) state.oplock = oplock
      return
    }
    if (facts.directory) return
    const id = leaseIdOf(facts.clientGuid, lease.key)
    let held = this.leases.get(id)
    if (!held) {
      if (this.leases.size >= LEASES_MAX) return
      held = {
        id,
        clientGuid: facts.clientGuid,
        key: lease.key,
        fileKey: facts.fileKey,
        version: lease.version,
        ...(lease.parentKey !== undefined ? { parentKey: lease.parentKey } : {}),
        state: grantableLeaseState(lease.state),
        epoch: lease.epoch & 0xffff,
        breakingTo: null,
        deadlineMs: 0,
        opens: new Set(),
      }
      this.leases.set(id, held)
    } else if (held.fileKey !== facts.fileKey) {
      return
    }
    held.opens.add(facts.persistentId)
    state.leaseId = id
  }

  oplockOf(persistentId: string): number {
    return this.opens.get(persistentId)?.oplock ?? OPLOCK_LEVEL.NONE
  }

  /**
   * Before a new open of a file goes ahead: the breaks it causes (MS-FSA 2.1.4.12). Call again
   * after every acknowledgment, close or timeout while mustWait.
   */
  planOpen(req: NewOpen, nowMs: number, conflictsWith: (other: OpenFacts) => boolean): OpenPlan {
    const ownLease = req.lease ? leaseIdOf(req.clientGuid, req.lease.key) : null
    const existing = ownLease ? this.leases.get(ownLease) : undefined
    if (existing && existing.fileKey !== req.fileKey) return { effects: [], mustWait: false, leaseKeyConflict: true }
    const effects: OplockLeaseEffect[] = []
    let mustWait = false
    const statOpen = (req.access & ~STAT_ACCESS) === 0 && !req.overwrites
    const leaseStatOpen = (req.access & ~LEASE_STAT_ACCESS) === 0 && !req.overwrites
    // MS-FSA 2.1.5.1.2.1: an open refused for sharing breaks only what may make the holder close
    // (a batch oplock, handle caching); an exclusive oplock is not broken by it (smbtorture's
    // oplock.exclusive1, batch1).
    const violation = this.opensOf(req.fileKey).some((o) => conflictsWith(o.facts))
    // Oplocks of other opens.
    for (const o of this.opensOf(req.fileKey)) {
      if (o.oplockBreakingTo !== null) {
        // A break under way: a later opener waits for it too (unless it breaks nothing).
        if (!statOpen) mustWait = true
        continue
      }
      if (statOpen || o.oplock === OPLOCK_LEVEL.NONE) continue
      if (violation) {
        if (o.oplock === OPLOCK_LEVEL.BATCH) {
          effects.push(...this.startOplockBreak(o, OPLOCK_LEVEL.LEVEL_II, nowMs))
          mustWait = true
        }
        continue
      }
      if (o.oplock === OPLOCK_LEVEL.BATCH || o.oplock === OPLOCK_LEVEL.EXCLUSIVE) {
        const to = req.overwrites ? OPLOCK_LEVEL.NONE : OPLOCK_LEVEL.LEVEL_II
        effects.push(...this.startOplockBreak(o, to, nowMs))
        mustWait = true
      } else if (o.oplock === OPLOCK_LEVEL.LEVEL_II && req.overwrites) {
        // A break from level II needs no acknowledgment (2.2.24.1).
        effects.push({ kind: 'send', notice: { kind: 'oplock', persistentId: o.facts.persistentId, toLevel: OPLOCK_LEVEL.NONE, ackRequired: false } })
        o.oplock = OPLOCK_LEVEL.NONE
      }
    }
    // An opener waits for a lease break that takes write caching away (dirty data) or handle
    // caching on a sharing violation (the holder may close); other breaks are acknowledged
    // later without holding it up (smbtorture's lease.breaking4: RH broken to none by an overwrite).
    const blocks = (from: number, to: number) => ((from & ~to) & LEASE.W) !== 0 || (violation && ((from & ~to) & LEASE.H) !== 0)
    // Leases other than the opener's own.
    for (const l of this.leasesOf(req.fileKey)) {
      if (l.id === ownLease) continue
      if (l.breakingTo !== null) {
        // It waits while the state it contends with is still held (the ack has not come).
        const to = leaseStatOpen ? null : this.breakNeeded(l, l.state, req, violation, conflictsWith)
        if (to !== null && blocks(l.state, to)) mustWait = true
        continue
      }
      if (leaseStatOpen) continue
      const to = this.breakNeeded(l, l.state, req, violation, conflictsWith)
      if (to === null) continue
      const from = l.state
      const e = this.startLeaseBreak(l, to, nowMs)
      effects.push(...e.effects)
      if (e.ackRequired && blocks(from, to)) mustWait = true
    }
    return { effects, mustWait, leaseKeyConflict: false }
  }

  /** The state a lease must be broken to before req can open, or null if none (Windows' rules, as smbtorture shows them). */
  private breakNeeded(l: LeaseState, state: number, req: NewOpen, violation: boolean, conflictsWith: (other: OpenFacts) => boolean): number | null {
    // An overwrite or supersede invalidates every cached byte and handle (smbtorture's lease.breaking2).
    if (req.overwrites) return state === LEASE.NONE ? null : LEASE.NONE
    let to = state
    // Another open writes-caches no more: W goes, unless the open is refused for sharing anyway
    // (smbtorture's lease.break_twice: RWH breaks to RW then).
    if (to & LEASE.W && !violation) to &= ~LEASE.W
    // An open that would be refused for sharing by a handle-cached open: H goes, so that the
    // client can close its cached handles (MS-FSA 2.1.5.1.2: the sharing check is then made again).
    if (to & LEASE.H && [...l.opens].some((id) => { const o = this.opens.get(id); return o !== undefined && conflictsWith(o.facts) })) to &= ~LEASE.H
    return to === state ? null : to
  }

  private startOplockBreak(o: OpenState, to: number, nowMs: number): OplockLeaseEffect[] {
    o.oplockBreakingTo = to
    o.oplockDeadlineMs = nowMs + BREAK_TIMEOUT_MS
    return [
      { kind: 'send', notice: { kind: 'oplock', persistentId: o.facts.persistentId, toLevel: to, ackRequired: true } },
      { kind: 'deadline', atMs: o.oplockDeadlineMs },
    ]
  }

  private startLeaseBreak(l: LeaseState, to: number, nowMs: number): { effects: OplockLeaseEffect[]; ackRequired: boolean } {
    // A break from R alone to none needs no acknowledgment (3.3.4.7); W or H held does.
    const ackRequired = (l.state & (LEASE.W | LEASE.H)) !== 0
    const newEpoch = l.version === 2 ? (l.epoch + 1) & 0xffff : 0
    const notice: BreakNotice = {
      kind: 'lease',
      clientGuid: l.clientGuid,
      key: l.key,
      fileKey: l.fileKey,
      version: l.version,
      newEpoch,
      currentState: l.state,
      newState: to,
      ackRequired,
      persistentIds: [...l.opens],
    }
    if (l.version === 2) l.epoch = newEpoch
    if (!ackRequired) {
      l.state = to
      return { effects: [{ kind: 'send', notice }], ackRequired }
    }
    l.breakingTo = to
    l.deadlineMs = nowMs + BREAK_TIMEOUT_MS
    return { effects: [{ kind: 'send', notice }, { kind: 'deadline', atMs: l.deadlineMs }], ackRequired }
  }

  /** The open went ahead: what it is granted (3.3.5.9.8 / 3.3.5.9.11 / MS-FSA 2.1.5.17). */
  opened(req: NewOpen, policy: OplockLeasePolicy): Grant {
    assert.ok(!this.opens.has(req.persistentId), 'an open is attached once')
    const state: OpenState = { facts: req, oplock: OPLOCK_LEVEL.NONE, oplockBreakingTo: null, oplockDeadlineMs: 0, leaseId: null }
    const others = this.opensOf(req.fileKey)
    this.opens.set(req.persistentId, state)
    if (req.requestedOplock === OPLOCK_LEVEL.LEASE) {
      // Directories get no lease (no SMB2_GLOBAL_CAP_DIRECTORY_LEASING is announced): none, no context.
      if (!req.lease || req.directory) return { oplockLevel: OPLOCK_LEVEL.NONE, lease: null }
      return this.grantLease(state, req, req.lease, others, policy)
    }
    if (req.directory || req.requestedOplock === OPLOCK_LEVEL.NONE) return { oplockLevel: OPLOCK_LEVEL.NONE, lease: null }
    let wanted = req.requestedOplock
    if (wanted !== OPLOCK_LEVEL.LEVEL_II && wanted !== OPLOCK_LEVEL.EXCLUSIVE && wanted !== OPLOCK_LEVEL.BATCH) return { oplockLevel: OPLOCK_LEVEL.NONE, lease: null }
    if (policy.scaleOut && wanted !== OPLOCK_LEVEL.LEVEL_II) wanted = OPLOCK_LEVEL.LEVEL_II
    const fileLeases = this.leasesOf(req.fileKey)
    const someoneWrites = others.some((o) => o.oplock === OPLOCK_LEVEL.BATCH || o.oplock === OPLOCK_LEVEL.EXCLUSIVE || o.oplockBreakingTo !== null) || fileLeases.some((l) => (l.state & LEASE.W) !== 0 || l.breakingTo !== null)
    // Alone: the other opens are stat opens holding no oplock (smbtorture's oplock.batch9a).
    const alone = others.every((o) => (o.facts.access & ~STAT_ACCESS) === 0 && o.oplock === OPLOCK_LEVEL.NONE && o.oplockBreakingTo === null) && fileLeases.length === 0
    let level: number = OPLOCK_LEVEL.NONE
    // No level II beside a handle-caching lease (smbtorture's lease.oplock: RH held, s asked, none).
    const handleCached = fileLeases.some((l) => ((l.breakingTo ?? l.state) & LEASE.H) !== 0)
    if ((wanted === OPLOCK_LEVEL.BATCH || wanted === OPLOCK_LEVEL.EXCLUSIVE) && alone) level = wanted
    else if (!someoneWrites && !handleCached) level = OPLOCK_LEVEL.LEVEL_II
    state.oplock = level
    return { oplockLevel: level, lease: null }
  }

  private grantLease(open: OpenState, req: NewOpen, request: LeaseRequest, others: OpenState[], policy: OplockLeasePolicy): Grant {
    const id = leaseIdOf(req.clientGuid, request.key)
    let lease = this.leases.get(id)
    const fresh = lease === undefined
    if (!lease) {
      assert.ok(this.leases.size < LEASES_MAX, 'lease table bounded')
      lease = {
        id,
        clientGuid: req.clientGuid,
        key: request.key,
        fileKey: req.fileKey,
        version: request.version,
        ...(request.parentKey !== undefined ? { parentKey: request.parentKey } : {}),
        state: LEASE.NONE,
        // v2: the server's epoch starts from the client's (3.3.5.9.11).
        epoch: request.version === 2 ? (request.epoch ?? 0) : 0,
        breakingTo: null,
        deadlineMs: 0,
        opens: new Set(),
      }
      this.leases.set(id, lease)
    }
    lease.opens.add(req.persistentId)
    open.leaseId = id
    let wanted = grantableLeaseState(request.state)
    if (policy.scaleOut) wanted &= LEASE.R
    // What other opens allow: W only to the only lease of a file with no other data opens; no
    // lease beside a batch or exclusive oplock still held.
    const strangers = others.filter((o) => o.leaseId !== id)
    const foreignLeases = this.leasesOf(req.fileKey).filter((l) => l.id !== id)
    if (strangers.some((o) => (o.facts.access & ~STAT_ACCESS) !== 0) || foreignLeases.some((l) => l.state !== LEASE.NONE)) wanted &= ~LEASE.W
    if (strangers.some((o) => o.oplock === OPLOCK_LEVEL.BATCH || o.oplock === OPLOCK_LEVEL.EXCLUSIVE)) wanted = LEASE.NONE
    // Beside an oplock holder a lease is read caching only (smbtorture's lease.oplock, results_2).
    if (strangers.some((o) => o.oplock !== OPLOCK_LEVEL.NONE || o.oplockBreakingTo !== null)) wanted &= LEASE.R
    // A held lease is upgraded only to a strict superset, and only when all of it can be granted
    // (smbtorture's lease.upgrade3: R beside another lease, RH asked: RH; RWH asked: R stays); a
    // new lease, or one broken to none, gets what can be granted (lease.nobreakself).
    const asked = grantableLeaseState(request.state)
    const afresh = fresh || lease.state === LEASE.NONE
    if (lease.breakingTo === null && (afresh || wanted === asked)) {
      const upgraded = afresh ? wanted : (wanted & lease.state) === lease.state && wanted !== lease.state ? wanted : lease.state
      if (upgraded !== lease.state) {
        lease.state = upgraded
        if (lease.version === 2 && !fresh) lease.epoch = (lease.epoch + 1) & 0xffff
      }
      if (fresh && lease.version === 2 && lease.state !== LEASE.NONE) lease.epoch = (lease.epoch + 1) & 0xffff
    }
    const flags = (lease.breakingTo !== null ? 0x02 : 0) | (lease.version === 2 && lease.parentKey !== undefined ? 0x04 : 0)
    return {
      oplockLevel: OPLOCK_LEVEL.LEASE,
      lease: { key: lease.key, state: lease.state, flags, epoch: lease.version === 2 ? lease.epoch : 0, version: lease.version, ...(lease.parentKey !== undefined ? { parentKey: lease.parentKey } : {}) },
    }
  }

  /**
   * A WRITE, a size change or a byte-range lock through an open: level II oplocks (the writer's
   * own too: smbtorture's oplock.batch1) and read leases of other keys break to none,
   * unacknowledged (MS-FSA 2.1.4.12 for writes).
   */
  wrote(persistentId: string, nowMs: number): OplockLeaseEffect[] {
    const open = this.opens.get(persistentId)
    if (!open) return []
    const effects: OplockLeaseEffect[] = []
    for (const o of this.opensOf(open.facts.fileKey)) {
      if (o.oplock !== OPLOCK_LEVEL.LEVEL_II) continue
      o.oplock = OPLOCK_LEVEL.NONE
      effects.push({ kind: 'send', notice: { kind: 'oplock', persistentId: o.facts.persistentId, toLevel: OPLOCK_LEVEL.NONE, ackRequired: false } })
    }
    for (const l of this.leasesOf(open.facts.fileKey)) {
      // Read and read-handle leases of other keys go to none (smbtorture's lease.lock1, lease.timeout);
      // a handle-caching one is acknowledged, but the write does not wait for it.
      if (l.id === open.leaseId || l.breakingTo !== null || l.state === LEASE.NONE || (l.state & LEASE.W) !== 0) continue
      effects.push(...this.startLeaseBreak(l, LEASE.NONE, nowMs).effects)
    }
    return effects
  }

  /** An oplock break acknowledgment (3.3.5.22.1): its status and the level now held. */
  ackOplock(persistentId: string, level: number): { status: 'ok' | 'invalid-protocol' | 'not-found'; level: number } {
    const o = this.opens.get(persistentId)
    if (!o) return { status: 'not-found', level: OPLOCK_LEVEL.NONE }
    if (o.oplockBreakingTo === null) return { status: 'invalid-protocol', level: o.oplock }
    // The client may go lower than the break asked, never higher.
    if (level !== OPLOCK_LEVEL.NONE && level !== OPLOCK_LEVEL.LEVEL_II) return { status: 'invalid-protocol', level: o.oplock }
    if (level === OPLOCK_LEVEL.LEVEL_II && o.oplockBreakingTo === OPLOCK_LEVEL.NONE) {
      o.oplock = OPLOCK_LEVEL.NONE
      o.oplockBreakingTo = null
      return { status: 'invalid-protocol', level: OPLOCK_LEVEL.NONE }
    }
    o.oplock = level
    o.oplockBreakingTo = null
    return { status: 'ok', level }
  }

  /** A lease break acknowledgment (3.3.5.22.2). */
  ackLease(clientGuid: string, key: string, state: number): { status: 'ok' | 'not-found' | 'unsuccessful' | 'not-accepted'; state: number } {
    const l = this.leases.get(leaseIdOf(clientGuid, key))
    if (!l) return { status: 'not-found', state: LEASE.NONE }
    if (l.breakingTo === null) return { status: 'unsuccessful', state: l.state }
    // The acknowledged state must be within what the break allowed.
    if ((state & ~l.breakingTo) !== 0) return { status: 'not-accepted', state: l.state }
    l.state = state
    l.breakingTo = null
    return { status: 'ok', state }
  }

  /** Breaks whose acknowledgment did not come by their deadline end as if acknowledged with none. */
  tick(nowMs: number): { timedOut: number; nextDeadlineMs: number | null } {
    let timedOut = 0
    let next: number | null = null
    for (const o of this.opens.values()) {
      if (o.oplockBreakingTo === null) continue
      if (nowMs >= o.oplockDeadlineMs) {
        o.oplock = OPLOCK_LEVEL.NONE
        o.oplockBreakingTo = null
        timedOut++
      } else next = next === null ? o.oplockDeadlineMs : Math.min(next, o.oplockDeadlineMs)
    }
    for (const l of this.leases.values()) {
      if (l.breakingTo === null) continue
      if (nowMs >= l.deadlineMs) {
        // smbtorture's lease.timeout: the lease is none afterwards, and a late ack is UNSUCCESSFUL.
        l.state = LEASE.NONE
        l.breakingTo = null
        timedOut++
      } else next = next === null ? l.deadlineMs : Math.min(next, l.deadlineMs)
    }
    return { timedOut, nextDeadlineMs: next }
  }

  /** The open closed (or was lost): its oplock goes; a lease goes with its last open. */
  closed(persistentId: string): void {
    const o = this.opens.get(persistentId)
    if (!o) return
    this.opens.delete(persistentId)
    if (!o.leaseId) return
    const l = this.leases.get(o.leaseId)
    if (!l) return
    l.opens.delete(persistentId)
    if (l.opens.size === 0) this.leases.delete(l.id)
  }

  /** A rename moved the file: its opens and leases follow it. */
  renamed(oldFileKey: string, newFileKey: string): void {
    for (const [id, o] of this.opens) if (o.facts.fileKey === oldFileKey) this.opens.set(id, { ...o, facts: { ...o.facts, fileKey: newFileKey } })
    for (const [id, l] of this.leases) if (l.fileKey === oldFileKey) this.leases.set(id, { ...l, fileKey: newFileKey })
  }

  counts(): { opens: number; leases: number } {
    return { opens: this.opens.size, leases: this.leases.size }
  }
}
