// How a failover client notices that its witness node is lost, and what it catches up on when
// it registers elsewhere (issue 17 item 5; MS-SWN 3.1.4.5 and 3.1.4.6, 3.2.4.1).
//
// Noticing. A registration made with RegisterEx carries a KeepAliveTimeout: the witness answers
// every AsyncNotify within it, with news or with ERROR_TIMEOUT, and the client asks again at
// once. So a witness that is alive never leaves an AsyncNotify unanswered past the keep-alive,
// and one that does (frozen, or cut off behind a connection that still looks open) is lost once
// the keep-alive and a grace have passed (the grace covers the server's timer resolution, the
// round trip and a loaded machine). A connection that closes or resets is a lost witness at
// once; an AsyncNotify answered with an error (NOT_FOUND after a forced unregister, a node that
// no longer serves) is one too.
//
// The keep-alive the client asks for follows the cluster's timing profile: Windows clients ask
// for 120 s, which the ws2012, ws2016 and ctdb profiles keep, so there a frozen witness is
// noticed after up to 120 s + 10 s, as a Windows client would. The fast profile asks for 2 s
// (MS-SWN 3.1.4.5 leaves KeepAliveTimeout to the client, in seconds; the server's timer ticks
// every 100 ms), and keeps the 2 s grace, which is what load and timer resolution need, not a
// share of the keep-alive.
//
// The bound from the fault (witnessLossNoticeBoundMs). The client can only count from an
// AsyncNotify it sent: nothing else says the witness is alive. A witness that froze or lost
// both directions leaves the AsyncNotify in flight unanswered: noticed within keep-alive +
// grace of its send, which was before the fault. A cut of the client's packets alone (the
// node's still arrive: nftables cut-in and cut-clients drop the client's side) lets the answer
// of the AsyncNotify in flight through, up to a keep-alive after the fault; the next one is the
// one left unanswered: keep-alive + keep-alive + grace. So the fast profile notices any loss
// within 2 + 2 + 2 = 6 s of the fault (it was 4 + 4 + 2 = 10 s with a 4 s keep-alive, measured
// 9.7-10.1 s with the re-registration, against issue 17's 10 s), and registers elsewhere within
// about 6.5 s; the Windows profiles within 120 + 120 + 10 s, as a Windows client would.
//
// Catching up. MS-SWN has no replay: notifications queued on a registration (PendingChange-
// Notifications, 3.1.1.3) stay with the node that holds it, and a server sends nothing to a new
// registration about changes that happened before it (3.1.4.5 only creates it). What can be
// caught up is state: the availability of the data node (RESOURCE_CHANGE) and of the cluster's
// interfaces (IP_CHANGE), which GetInterfaceList reports. So once the new registration exists,
// the client asks its new witness node for the interface list (the list is that node's view at
// or after the registration was made: a change after it comes as a notification on the new
// registration, a change before it shows in the list) and acts as the missed notification
// would have made it act: its data node UNAVAILABLE -> fail over; an interface UNAVAILABLE ->
// out of the failover targets (IP_CHANGE OFFLINE), AVAILABLE again -> back in (ONLINE).
// Moves (CLIENT_MOVE, SHARE_MOVE) are commands, not state: one sent to the lost registration
// is lost with it, as for any MS-SWN client; the client stays on a node that serves the share.
import { INTERFACE_STATE, WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S } from '../../protocol/swn/witness-calls.js'
import type { WitnessInterfaceEntry } from './failover-input.js'

export type { WitnessLossReason } from './failover-input.js'

/** The keep-alive a client asks for in RegisterEx, per cluster timing profile (seconds). */
export const WITNESS_KEEP_ALIVE_TIMEOUT_S_BY_PROFILE: Readonly<Record<string, number>> = {
  fast: 2,
  ws2012: WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S,
  ws2016: WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S,
  ctdb: WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S,
}

export function witnessKeepAliveTimeoutSFor(profile: string): number {
  return Object.prototype.hasOwnProperty.call(WITNESS_KEEP_ALIVE_TIMEOUT_S_BY_PROFILE, profile) ? WITNESS_KEEP_ALIVE_TIMEOUT_S_BY_PROFILE[profile] : WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S
}

/**
 * The grace past the keep-alive: half of it, at least 2 s (a loaded machine answered the fast
 * profile's AsyncNotify up to ~0.4 s late; the server's timer ticks every 100 ms) and at most 10 s.
 */
export function witnessSilenceGraceMs(keepAliveTimeoutS: number): number {
  return Math.min(10_000, Math.max(2_000, (keepAliveTimeoutS * 1000) / 2))
}

/** How long an AsyncNotify may stay unanswered before its witness counts as lost. */
export function witnessSilenceDeadlineMs(keepAliveTimeoutS: number): number {
  return keepAliveTimeoutS * 1000 + witnessSilenceGraceMs(keepAliveTimeoutS)
}

/**
 * The longest a lost witness can go unnoticed, from the fault: the answer of the AsyncNotify in
 * flight may still arrive (a cut of the client's packets only), then the next AsyncNotify is
 * the one unanswered past its deadline.
 */
export function witnessLossNoticeBoundMs(keepAliveTimeoutS: number): number {
  return keepAliveTimeoutS * 1000 + witnessSilenceDeadlineMs(keepAliveTimeoutS)
}

/** What the interface list of the new witness node says the client missed. */
export interface WitnessReconciliation {
  /** The data node's interface as listed: 'unknown' when the list does not name it. */
  readonly dataState: 'available' | 'unavailable' | 'unknown'
  /** Addresses to take out of the failover targets (listed UNAVAILABLE, not offline yet). */
  readonly offline: readonly string[]
  /** Addresses to put back (listed AVAILABLE, offline until now). */
  readonly online: readonly string[]
}

export function reconcileWithInterfaces(interfaces: readonly WitnessInterfaceEntry[], dataIp: string, offline: ReadonlySet<string>): WitnessReconciliation {
  const data = interfaces.filter((i) => i.ipv4 === dataIp && i.ipv4 !== '')
  const dataState = data.some((i) => i.state === INTERFACE_STATE.AVAILABLE)
    ? 'available'
    : data.some((i) => i.state === INTERFACE_STATE.UNAVAILABLE)
      ? 'unavailable'
      : 'unknown'
  const goingOffline = new Set<string>()
  const comingOnline = new Set<string>()
  for (const i of interfaces) {
    if (i.ipv4 === '') continue
    if (i.state === INTERFACE_STATE.AVAILABLE && offline.has(i.ipv4)) comingOnline.add(i.ipv4)
    // The data node is not taken out of the targets here: a failover away from it does that.
    else if (i.state === INTERFACE_STATE.UNAVAILABLE && !offline.has(i.ipv4) && i.ipv4 !== dataIp) goingOffline.add(i.ipv4)
  }
  return { dataState, offline: [...goingOffline].sort(), online: [...comingOnline].sort() }
}
