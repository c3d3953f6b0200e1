// The quorum witness: the tie-breaker vote of a failover cluster. A leader, or a
// candidate, asks the witness for a time-limited lease that only one node can hold at a
// time; whoever holds it counts the witness vote. Two stores implement it: a lease file in
// a shared folder (a file share witness) and an Azure-shaped lease blob (a cloud witness).
//
// The quorum core calls acquire() every heartbeat, so the stores are built to answer
// quickly and never to throw for failures that are expected in a cluster (a share that is
// gone, a witness that does not answer): those come back as values with an `error` line.

export type QuorumWitnessKind = 'file' | 'cloud'

/**
 * The newest view a requester holds, as (viewTerm, epoch). A witness remembers the newest id
 * it granted with (WSFC's "paxos tag") and refuses a requester whose view is older: a view
 * committed with the witness's vote then cannot be lost by the next leader.
 */
export interface WitnessViewId {
  readonly viewTerm: number
  readonly epoch: number
}

export const NO_VIEW_ID: WitnessViewId = { viewTerm: -1, epoch: -1 }

export function compareWitnessViewIds(a: WitnessViewId, b: WitnessViewId): number {
  return a.viewTerm !== b.viewTerm ? a.viewTerm - b.viewTerm : a.epoch - b.epoch
}

export function newerViewId(a: WitnessViewId, b: WitnessViewId): WitnessViewId {
  return compareWitnessViewIds(a, b) >= 0 ? a : b
}

export interface WitnessLeaseResult {
  readonly granted: boolean
  /** Refused because the requester's view is older than one the witness granted with. */
  readonly staleView?: boolean
  /** Node currently holding the lease ('' if none or unknown). */
  readonly holder: string
  /** Set when the witness could not be asked (IO error, HTTP 5xx, timeout, network). One line. */
  readonly error?: string
}

/** What the witness knows about its lease. */
export interface WitnessLeaseSnapshot {
  /** Node that holds, or last held, the lease ('' if it was released). */
  readonly holder: string
  /** Term the holder stated when it last acquired or renewed. */
  readonly term: number
  /**
   * Wall-clock (Date.now()-based) end of the lease. It may lie in the past: the lease has
   * then expired and is free to take.
   */
  readonly expiresAtMs: number
}

/** The witness could not be read; `error` is one line. */
export interface WitnessReadFailure {
  readonly error: string
}

/** A snapshot, null when the lease was never held, or a failure. */
export type WitnessReadResult = WitnessLeaseSnapshot | null | WitnessReadFailure

export interface QuorumWitnessStore {
  readonly kind: QuorumWitnessKind
  /** Acquire, or renew if nodeId already holds it, the lease for durationMs. Granted if free, expired, or held by nodeId. */
  acquire(nodeId: string, durationMs: number, term: number, viewId?: WitnessViewId): Promise<WitnessLeaseResult>
  /** Current holder and expiry (wall-clock ms), or null if never held, or a failure. */
  read(): Promise<WitnessReadResult>
  close(): Promise<void>
}

export function isWitnessReadFailure(result: WitnessReadResult): result is WitnessReadFailure {
  return result !== null && 'error' in result
}

/** A lease that ends at expiresAtMs is still valid at nowMs (the end itself is expired). */
export function isLeaseValid(expiresAtMs: number, nowMs: number): boolean {
  return expiresAtMs > nowMs
}

/**
 * Checks the arguments of acquire() and returns a one-line complaint, or undefined when
 * they are fine. A bad argument is a bug in the caller, but the witness is polled from a
 * timer loop, so the stores report it as an error result rather than reject.
 */
export function invalidAcquireArguments(nodeId: string, durationMs: number, term: number): string | undefined {
  if (typeof nodeId !== 'string' || nodeId.length === 0) return 'invalid nodeId: must be a non-empty string'
  if (!Number.isFinite(durationMs) || durationMs <= 0) return `invalid durationMs: ${String(durationMs)}`
  if (!Number.isFinite(term)) return `invalid term: ${String(term)}`
  return undefined
}

/** Collapses any message onto one line so that it fits a log field or a status column. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/** Error code of a Node or undici error, if it carries one. */
export function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const cause = (err as { cause?: unknown }).cause
  const causeCode = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  if (typeof causeCode === 'string') return causeCode
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** One line describing an unknown thrown value: its code, if any, and its message. */
export function describeError(err: unknown): string {
  const code = errorCodeOf(err)
  const message = err instanceof Error ? err.message : String(err)
  if (code !== undefined && !message.includes(code)) return oneLine(`${code}: ${message}`)
  return oneLine(message)
}
