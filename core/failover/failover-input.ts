// What the failover core is told: the application's calls, the results of the actions it asked
// for, witness notifications, timers firing. Every input carries the adapter's monotonic clock
// reading (`nowMs`); the core reads no clock of its own.
//
// Results answer an action by its `opId` (and timers by their `timerId`). A result whose id the
// core no longer waits for is stale: it is ignored, or undone when it created something (a
// connection is closed, a registration is UnRegistered).
import type { IpAddrInfo, ResourceChangeRecord } from '../../protocol/swn/message-buffer.js'

/** How the witness was lost, as the adapter saw it (core/failover/witness-loss.ts). */
export type WitnessLossReason =
  /** The witness connection closed or reset (a killed node), or there was none to use. */
  | 'connection-closed'
  /** No AsyncNotify answer within the keep-alive and its grace (a frozen node, or one cut off). */
  | 'no-answer'
  /** The witness answered AsyncNotify with an error (the registration is gone, the node no longer serves). */
  | 'refused'

/** One entry of a GetInterfaceList answer, as much of it as the client looks at. */
export interface WitnessInterfaceEntry {
  readonly ipv4: string
  /** INTERFACE_STATE (protocol/swn/witness-calls). */
  readonly state: number
  /** INTERFACE_FLAGS bits. */
  readonly flags: number
}

/** A successful AsyncNotify answer (MS-SWN RESP_ASYNC_NOTIFY, decoded). */
export interface WitnessMessage {
  /** MESSAGE_TYPE (protocol/swn/message-buffer). */
  readonly messageType: number
  readonly resourceChanges: readonly ResourceChangeRecord[]
  readonly ipAddresses: readonly IpAddrInfo[]
}

/**
 * Why a request sent on the data path failed, as the adapter classified it:
 * - `timed-out`: no answer before the request's deadline (the only thing a client without
 *   witness learns of a dead node);
 * - `connection-lost`: the node's process is gone (refused, dropped, never established);
 * - `unavailable`: anything else worth retrying (the call was cancelled by a move, a CSV is
 *   briefly without owner).
 * Failures not worth retrying never reach the core: the adapter hands them to the application.
 */
export type RequestFailure = 'timed-out' | 'connection-lost' | 'unavailable'

export type FailoverInput =
  /**
   * Connect the data path. `nodeIps` are the cluster name's addresses (the client's DNS);
   * `random` in [0, 1) picks the first node when no preferred IP is configured.
   */
  | { readonly kind: 'start'; readonly nowMs: number; readonly nodeIps: readonly string[]; readonly random: number }
  /** The cluster name resolved again to these addresses. */
  | { readonly kind: 'addresses'; readonly nowMs: number; readonly nodeIps: readonly string[] }
  /** NEGOTIATE + SESSION_SETUP + TREE_CONNECT of a `connect` action succeeded. */
  | { readonly kind: 'connect-result'; readonly nowMs: number; readonly opId: number; readonly outcome: 'ok'; readonly sessionId: string }
  /** ... or failed: `refused` when the node's port refused (its process is gone). */
  | { readonly kind: 'connect-result'; readonly nowMs: number; readonly opId: number; readonly outcome: 'refused' | 'failed'; readonly error: string }
  /**
   * A DH2C of a `reclaim` action: `reclaimed` (the handle has its new FileId), `gone` (its
   * CLOSE had reached the failed node: the open no longer exists, as the application asked),
   * `unavailable` (the CSV has no owner yet: try again) or `failed`.
   */
  | { readonly kind: 'reclaim-result'; readonly nowMs: number; readonly opId: number; readonly outcome: 'reclaimed' | 'gone' | 'unavailable' }
  | { readonly kind: 'reclaim-result'; readonly nowMs: number; readonly opId: number; readonly outcome: 'failed'; readonly error: string }
  /** `random` in [0, 1) picks the witness node among the candidates (spreading a cluster's registrations). */
  | {
      readonly kind: 'interface-list-result'
      readonly nowMs: number
      readonly opId: number
      readonly ok: true
      readonly interfaces: readonly WitnessInterfaceEntry[]
      readonly random: number
    }
  | { readonly kind: 'interface-list-result'; readonly nowMs: number; readonly opId: number; readonly ok: false; readonly error: string }
  | { readonly kind: 'register-result'; readonly nowMs: number; readonly opId: number; readonly ok: true; readonly key: string }
  | { readonly kind: 'register-result'; readonly nowMs: number; readonly opId: number; readonly ok: false; readonly error: string }
  /** An AsyncNotify answered ERROR_SUCCESS with this message. */
  | { readonly kind: 'notification'; readonly nowMs: number; readonly opId: number; readonly message: WitnessMessage }
  /** An AsyncNotify answered ERROR_TIMEOUT: nothing happened, ask again. */
  | { readonly kind: 'notify-timeout'; readonly nowMs: number; readonly opId: number }
  /** An AsyncNotify failed (its node died, went silent or refused the registration): the witness is lost. */
  | { readonly kind: 'witness-lost'; readonly nowMs: number; readonly opId: number; readonly reason: WitnessLossReason; readonly error: string }
  /** `done`: the registration is gone from its node (ERROR_SUCCESS or ERROR_NOT_FOUND). */
  | { readonly kind: 'unregister-result'; readonly nowMs: number; readonly opId: number; readonly done: boolean }
  | { readonly kind: 'timer'; readonly nowMs: number; readonly timerId: number }
  /** A request sent to `sentToIp` failed; the core answers with retry-request or fail-request. */
  | { readonly kind: 'request-failed'; readonly nowMs: number; readonly requestId: number; readonly sentToIp: string; readonly failure: RequestFailure }
  /** Move the data path off `fromIp` (to one of `toIps`, if any): the adapter's public failover(). */
  | { readonly kind: 'failover-requested'; readonly nowMs: number; readonly cause: string; readonly fromIp: string; readonly toIps: readonly string[] }
  /** The application opened a persistent handle (ids are the adapter's, unique). */
  | { readonly kind: 'handle-opened'; readonly nowMs: number; readonly handleId: number; readonly path: string }
  | { readonly kind: 'handle-closed'; readonly nowMs: number; readonly handleId: number }
  /** A write is about to be sent; until write-finished it is replayed after every move. */
  | { readonly kind: 'write-started'; readonly nowMs: number; readonly writeId: number }
  | { readonly kind: 'write-finished'; readonly nowMs: number; readonly writeId: number }
  | { readonly kind: 'stop'; readonly nowMs: number }
