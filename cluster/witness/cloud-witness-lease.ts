// The lease state machine of the fake cloud witness, kept apart from its HTTP plumbing so
// that it can be reasoned about and tested as a pure function. It follows the shape of an
// Azure Blob Storage "Lease Blob" operation: a lease has an id chosen by the client that
// proposes it, and renew and release must present that id. Azure only allows leases of
// 15 to 60 seconds or infinite ones; this fake also takes a duration in milliseconds,
// because the lab's fast profile renews its witness lease every few hundred milliseconds.

import { compareWitnessViewIds, newerViewId, NO_VIEW_ID, type WitnessViewId } from './quorum-witness.js'

/** Header names of the lease protocol; x-swlab-* are this fake's extensions to Azure's. */
export const CLOUD_WITNESS_HEADERS = {
  leaseAction: 'x-ms-lease-action',
  proposedLeaseId: 'x-ms-proposed-lease-id',
  leaseId: 'x-ms-lease-id',
  leaseDurationSeconds: 'x-ms-lease-duration',
  leaseState: 'x-ms-lease-state',
  leaseStatus: 'x-ms-lease-status',
  errorCode: 'x-ms-error-code',
  requestId: 'x-ms-request-id',
  version: 'x-ms-version',
  /** Requested lease duration in milliseconds; takes precedence over x-ms-lease-duration. */
  leaseDurationMs: 'x-swlab-lease-duration-ms',
  /** Node id of the caller, so the fake can say who holds a lease. */
  holder: 'x-swlab-holder',
  /** Quorum term of the caller, kept with the lease for diagnosis. */
  term: 'x-swlab-term',
  /** Holder of the lease, on every lease response and on reads. */
  leaseHolder: 'x-swlab-lease-holder',
  /** Wall-clock end of the lease in ms, on reads and on grants. */
  leaseExpiresMs: 'x-swlab-lease-expires-ms',
  leaseTerm: 'x-swlab-lease-term',
  /** The requester's newest view id; the witness refuses one older than it granted with. */
  viewTerm: 'x-swlab-view-term',
  viewEpoch: 'x-swlab-view-epoch',
} as const

/** Azure's default container for a cloud witness. */
export const DEFAULT_WITNESS_CONTAINER = 'msft-cloud-witness'

export type LeaseAction = 'acquire' | 'renew' | 'release'

export const LEASE_ACTIONS: readonly LeaseAction[] = ['acquire', 'renew', 'release']

export function isLeaseAction(value: string): value is LeaseAction {
  return (LEASE_ACTIONS as readonly string[]).includes(value)
}

/** Lease state of one blob. */
export interface CloudLeaseRecord {
  readonly leaseId: string
  readonly holder: string
  readonly term: number
  /** Wall-clock end of the lease (Infinity for an infinite lease). */
  readonly expiresAtMs: number
  /** Duration of the last acquire or renew, reused by a renew that names none. */
  readonly durationMs: number
  /** Released by its holder: the blob is free, and the lease id is no longer good for renew. */
  readonly released: boolean
  /** The newest view id granted with (WSFC's paxos tag); it outlives expiry and release. */
  readonly viewTerm: number
  readonly viewEpoch: number
}

export interface LeaseRequest {
  readonly action: LeaseAction
  /** x-ms-proposed-lease-id: the id an acquire asks for. */
  readonly proposedLeaseId?: string
  /** x-ms-lease-id: the id a renew or release presents. */
  readonly leaseId?: string
  /** Lease duration in ms, Infinity for an infinite lease; undefined if the request named none. */
  readonly durationMs?: number
  readonly holder: string
  readonly term: number
  /** The requester's newest view id, when it sent one. */
  readonly viewTerm?: number
  readonly viewEpoch?: number
}

/** Azure error codes the fake uses, as sent in x-ms-error-code. */
export type LeaseErrorCode =
  | 'LeaseAlreadyPresent'
  | 'LeaseIdMismatchWithLeaseOperation'
  | 'LeaseNotPresentWithLeaseOperation'
  | 'MissingRequiredHeader'
  | 'InvalidHeaderValue'
  /** The fake's own: the requester's view is older than one the lease was granted with. */
  | 'StaleView'

export type LeaseOutcome =
  | { readonly ok: true; readonly status: 200 | 201; readonly lease: CloudLeaseRecord }
  | {
      readonly ok: false
      readonly status: 400 | 409
      readonly code: LeaseErrorCode
      readonly message: string
      /** Holder of a valid lease on the blob, '' if none. */
      readonly holder: string
    }

export interface LeaseDecision {
  /** State after the request; unchanged on refusal. */
  readonly next: CloudLeaseRecord | undefined
  readonly outcome: LeaseOutcome
}

/** The lease is in force: held, not released, not expired. */
export function isLeaseActive(record: CloudLeaseRecord | undefined, nowMs: number): boolean {
  return record !== undefined && !record.released && record.expiresAtMs > nowMs
}

/** Decides one lease request against the current state of a blob. Pure. */
export function decideLease(current: CloudLeaseRecord | undefined, request: LeaseRequest, nowMs: number): LeaseDecision {
  const activeHolder = current !== undefined && isLeaseActive(current, nowMs) ? current.holder : ''
  const refuse = (status: 400 | 409, code: LeaseErrorCode, message: string): LeaseDecision => ({
    next: current,
    outcome: { ok: false, status, code, message, holder: activeHolder },
  })

  switch (request.action) {
    case 'acquire': {
      const proposed = request.proposedLeaseId
      if (proposed === undefined || proposed === '') {
        return refuse(400, 'MissingRequiredHeader', 'acquire needs x-ms-proposed-lease-id')
      }
      if (request.durationMs === undefined) {
        return refuse(400, 'MissingRequiredHeader', 'acquire needs a lease duration')
      }
      // Acquire succeeds on a free or expired blob, and, as in Azure, on a blob whose
      // active lease already has the proposed id: that renews it with the new duration.
      if (current !== undefined && isLeaseActive(current, nowMs) && current.leaseId !== proposed) {
        return refuse(409, 'LeaseAlreadyPresent', 'There is already a lease present.')
      }
      if (isStaleView(current, request)) return refuse(409, 'StaleView', 'The requester holds an older view than the lease was granted with.')
      const lease = grant(proposed, request, request.durationMs, nowMs, current)
      return { next: lease, outcome: { ok: true, status: 201, lease } }
    }
    case 'renew': {
      const presented = request.leaseId
      if (presented === undefined || presented === '') {
        return refuse(400, 'MissingRequiredHeader', 'renew needs x-ms-lease-id')
      }
      if (current === undefined || current.released) {
        return refuse(409, 'LeaseNotPresentWithLeaseOperation', 'There is currently no lease on the blob.')
      }
      if (current.leaseId !== presented) {
        return refuse(409, 'LeaseIdMismatchWithLeaseOperation', 'The lease ID specified did not match the lease ID for the blob.')
      }
      // As in Azure, a lease that expired may still be renewed with its id as long as
      // nobody else has acquired the blob since: the id is only replaced by an acquire.
      if (isStaleView(current, request)) return refuse(409, 'StaleView', 'The requester holds an older view than the lease was granted with.')
      const lease = grant(presented, request, request.durationMs ?? current.durationMs, nowMs, current)
      return { next: lease, outcome: { ok: true, status: 200, lease } }
    }
    case 'release': {
      const presented = request.leaseId
      if (presented === undefined || presented === '') {
        return refuse(400, 'MissingRequiredHeader', 'release needs x-ms-lease-id')
      }
      if (current === undefined || current.released) {
        return refuse(409, 'LeaseNotPresentWithLeaseOperation', 'There is currently no lease on the blob.')
      }
      if (current.leaseId !== presented) {
        return refuse(409, 'LeaseIdMismatchWithLeaseOperation', 'The lease ID specified did not match the lease ID for the blob.')
      }
      const lease: CloudLeaseRecord = { ...current, expiresAtMs: Math.min(current.expiresAtMs, nowMs), released: true }
      return { next: lease, outcome: { ok: true, status: 200, lease } }
    }
  }
}

function viewIdOf(record: CloudLeaseRecord): WitnessViewId {
  return { viewTerm: record.viewTerm, epoch: record.viewEpoch }
}

function requestViewId(request: LeaseRequest): WitnessViewId | undefined {
  if (request.viewTerm === undefined || request.viewEpoch === undefined) return undefined
  return { viewTerm: request.viewTerm, epoch: request.viewEpoch }
}

function isStaleView(current: CloudLeaseRecord | undefined, request: LeaseRequest): boolean {
  const asked = requestViewId(request)
  return current !== undefined && asked !== undefined && compareWitnessViewIds(asked, viewIdOf(current)) < 0
}

function newerView(current: CloudLeaseRecord | undefined, request: LeaseRequest): { viewTerm: number; viewEpoch: number } {
  const asked = requestViewId(request) ?? NO_VIEW_ID
  const newest = current === undefined ? asked : newerViewId(asked, viewIdOf(current))
  return { viewTerm: newest.viewTerm, viewEpoch: newest.epoch }
}

function grant(
  leaseId: string,
  request: LeaseRequest,
  durationMs: number,
  nowMs: number,
  current: CloudLeaseRecord | undefined,
): CloudLeaseRecord {
  return {
    ...newerView(current, request),
    leaseId,
    holder: request.holder,
    term: request.term,
    expiresAtMs: nowMs + durationMs,
    durationMs,
    released: false,
  }
}

/**
 * Reads the requested duration: the fake's millisecond header when present (a positive
 * integer), else Azure's x-ms-lease-duration in seconds (15..60, or -1 for infinite).
 * Returns undefined when neither is given, or an error message when one is malformed.
 */
export function parseLeaseDuration(
  durationMsHeader: string | undefined,
  durationSecondsHeader: string | undefined,
): number | undefined | { readonly error: string } {
  if (durationMsHeader !== undefined) {
    const durationMs = Number(durationMsHeader)
    if (!Number.isSafeInteger(durationMs) || durationMs <= 0) {
      return { error: `x-swlab-lease-duration-ms must be a positive integer, got '${durationMsHeader}'` }
    }
    return durationMs
  }
  if (durationSecondsHeader !== undefined) {
    const seconds = Number(durationSecondsHeader)
    if (seconds === -1) return Number.POSITIVE_INFINITY
    if (!Number.isInteger(seconds) || seconds < 15 || seconds > 60) {
      return { error: `x-ms-lease-duration must be -1 or 15..60, got '${durationSecondsHeader}'` }
    }
    return seconds * 1000
  }
  return undefined
}

/** The lease state of every blob the fake has seen, keyed by container and blob. */
export class CloudLeaseTable {
  private readonly records = new Map<string, CloudLeaseRecord>()

  apply(container: string, blob: string, request: LeaseRequest, nowMs: number): LeaseOutcome {
    const key = tableKey(container, blob)
    const decision = decideLease(this.records.get(key), request, nowMs)
    if (decision.next !== undefined) this.records.set(key, decision.next)
    return decision.outcome
  }

  get(container: string, blob: string): CloudLeaseRecord | undefined {
    return this.records.get(tableKey(container, blob))
  }
}

function tableKey(container: string, blob: string): string {
  // JSON keeps the two parts apart whatever characters they hold.
  return JSON.stringify([container, blob])
}
