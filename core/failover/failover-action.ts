// What the failover core asks its adapter to do, in order: IO on the data path and on the
// witness service, timers, verdicts on the application's requests, and the client events the
// application sees. Actions that expect a result carry an `opId`, which the result echoes.
import type { WitnessLossReason } from './failover-input.js'
import type { IpAddrInfo, ResourceChangeRecord } from '../../protocol/swn/message-buffer.js'

/** Why the data path moved: the causes the core itself starts, or the application's own. */
export type FailoverCause =
  | 'witness-unavailable'
  | 'client-move'
  | 'share-move'
  | 'request-timeout'
  | 'connection-failed'
  /** The interface list of a new witness node, after the old one was lost, shows the data node UNAVAILABLE. */
  | 'witness-reconciled'
  | (string & {})

/**
 * The client's observable events, with exactly the payloads the FailoverClient emits and the
 * client event log writes (the run report, the dashboard and the chaos checks parse them).
 */
export type ClientEvent =
  | { readonly name: 'failover-start'; readonly fields: { readonly cause: FailoverCause; readonly from: string; readonly atMs: number } }
  | { readonly name: 'failover-attempt'; readonly fields: { readonly cause: FailoverCause; readonly from: string; readonly to: string; readonly attempt: number } }
  | {
      readonly name: 'reconnected'
      readonly fields: { readonly cause: FailoverCause; readonly from: string; readonly to: string; readonly afterMs: number; readonly handles: number }
    }
  | { readonly name: 'replayed'; readonly fields: { readonly count: number } }
  | { readonly name: 'failover-failed'; readonly fields: { readonly cause: FailoverCause; readonly from: string; readonly error: string } }
  | {
      readonly name: 'registered'
      readonly fields: { readonly witness: string; readonly data: string; readonly registration: string; readonly interfaces: number; readonly candidates: number }
    }
  | {
      readonly name: 'notified'
      readonly fields: {
        readonly type: number
        readonly registration: string
        readonly atMs: number
        readonly resourceChanges: readonly ResourceChangeRecord[]
        readonly ipAddresses: readonly IpAddrInfo[]
      }
    }
  | { readonly name: 'ip-change'; readonly fields: { readonly online: readonly string[]; readonly offline: readonly string[]; readonly atMs: number } }
  | { readonly name: 'stopped'; readonly fields: { readonly data: string } }
  /** The witness node stopped answering, closed the connection or refused the registration. */
  | {
      readonly name: 'witness.lost'
      readonly fields: { readonly witness: string; readonly registration: string; readonly reason: WitnessLossReason; readonly error: string; readonly atMs: number }
    }
  /** Registered with another node after a loss; afterMs from the loss. */
  | {
      readonly name: 'witness.reregistered'
      readonly fields: { readonly from: string; readonly witness: string; readonly data: string; readonly registration: string; readonly afterMs: number; readonly atMs: number }
    }
  /**
   * What the new witness node's interface list said once the new registration existed, and what
   * the client did about it (witness-loss.ts): `failover` when the data node was UNAVAILABLE.
   */
  | {
      readonly name: 'witness.reconciled'
      readonly fields: {
        readonly witness: string
        readonly data: string
        readonly dataState: 'available' | 'unavailable' | 'unknown'
        readonly offline: readonly string[]
        readonly online: readonly string[]
        readonly failover: boolean
        readonly atMs: number
      }
    }

export type ClientEventName = ClientEvent['name']

export type FailoverAction =
  /**
   * Set up a data path on `ip`: NEGOTIATE (the client's ClientGuid), SESSION_SETUP with
   * PreviousSessionId, TREE_CONNECT, with this ChannelSequence. Answer with connect-result; a
   * connection that succeeds is known afterwards by this opId (its `connectionId`).
   */
  | { readonly kind: 'connect'; readonly opId: number; readonly ip: string; readonly previousSessionId: string; readonly channelSequence: number }
  /** Send the application's requests on this connection from now on. */
  | { readonly kind: 'use-connection'; readonly connectionId: number }
  /** Close this connection's transport (calls in flight on it fail and are retried). */
  | { readonly kind: 'disconnect'; readonly connectionId: number }
  /** DH2C of one persistent handle on the connection in use (same CreateGuid); answer reclaim-result. */
  | { readonly kind: 'reclaim'; readonly opId: number; readonly handleId: number }
  /** The data path is back: the writes that had no answer are sent again (REPLAY flag, same MessageId). */
  | { readonly kind: 'replay'; readonly writeIds: readonly number[] }
  /**
   * GetInterfaceList on `askIp`'s witness service (the data node's, unless it did not answer,
   * or the new witness node's when catching up after a loss); answer interface-list-result.
   */
  | { readonly kind: 'list-interfaces'; readonly opId: number; readonly dataIp: string; readonly askIp: string }
  /** RegisterEx on `witnessIp` for the data path on `dataIp` (IP notifications asked); answer register-result. */
  | { readonly kind: 'register'; readonly opId: number; readonly witnessIp: string; readonly dataIp: string }
  /** One AsyncNotify on the registration; answer notification, notify-timeout or witness-lost. */
  | { readonly kind: 'await-notification'; readonly opId: number; readonly witnessIp: string; readonly key: string }
  /** UnRegister with this deadline; answer unregister-result. */
  | { readonly kind: 'unregister'; readonly opId: number; readonly witnessIp: string; readonly key: string; readonly deadlineMs: number }
  /** The core is done with this registration: close whatever channel the adapter kept for it. */
  | { readonly kind: 'release-registration'; readonly key: string }
  /** Feed a timer input with this id after the delay. */
  | { readonly kind: 'set-timer'; readonly timerId: number; readonly delayMs: number }
  /**
   * Verdict on a failed request: send it again after `delayMs` (0: a failover is under way,
   * wait for it first).
   */
  | { readonly kind: 'retry-request'; readonly requestId: number; readonly delayMs: number }
  /**
   * Verdict on a failed request: give up. `client-stopped`: the application gets the request's
   * own error; `failover-failed`: the failover it triggered failed at once, with `error`.
   */
  | { readonly kind: 'fail-request'; readonly requestId: number; readonly reason: 'client-stopped' | 'failover-failed'; readonly error: string }
  /** The write may not start (a bound); the application gets an error. */
  | { readonly kind: 'refuse-write'; readonly writeId: number; readonly reason: string }
  /** The handle cannot be kept (a bound): close it and give the application an error. */
  | { readonly kind: 'refuse-handle'; readonly handleId: number; readonly reason: string }
  /** start succeeded: the data path is on `dataIp`. */
  | { readonly kind: 'started'; readonly dataIp: string }
  /** start failed (no node could be connected). */
  | { readonly kind: 'start-failed'; readonly error: string }
  /** Emit this client event. */
  | { readonly kind: 'emit'; readonly event: ClientEvent }
  /** A decision worth a log line (the adapter may drop it: the client events say what happened). */
  | { readonly kind: 'log'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> }
