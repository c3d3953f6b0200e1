// The bounds and delays of one failover client: every retry and every queue the failover core
// keeps has its limit here, so that a dead cluster costs a bounded number of calls and a
// hostile or broken peer cannot make the client hold unbounded state.

/** Writes the application may have in flight at once (each one is replayed after a move). */
export const WRITES_IN_FLIGHT_MAX = 256
/** Persistent handles the client keeps and reclaims after a move. */
export const HANDLES_MAX = 4096
/** Connect attempts of one failover, registration rounds of one data node, DH2C tries of one handle. */
export const RECONNECT_ATTEMPTS_MAX = 200
/** Pause between two failover attempts, two DH2C tries, and before a request is sent again. */
export const RECONNECT_RETRY_MS = 25
/** Pause between two registration rounds (GetInterfaceList, then RegisterEx on each candidate). */
export const REGISTER_RETRY_MS = 100
/**
 * How long a witness node the client lost is tried last by its later registrations (after a
 * failover, say): a node that froze or is cut off from the client would hold each RegisterEx
 * sent to it until its deadline.
 */
export const LOST_WITNESS_AVOID_MS = 60_000
/** GetInterfaceList tries of the catching-up after a lost witness (one every REGISTER_RETRY_MS). */
export const RECONCILE_ATTEMPTS_MAX = 5
/** Tries at UnRegistering a registration the client moved away from, and the pause between them. */
export const UNREGISTER_ATTEMPTS_MAX = 10
export const UNREGISTER_RETRY_MS = 300
/** Deadline of one of those UnRegister calls. */
export const UNREGISTER_DEADLINE_MS = 2_000
/** Deadline of a single best-effort UnRegister (at stop, or of a registration that came too late). */
export const UNREGISTER_ONCE_DEADLINE_MS = 10_000
/** Registrations being dropped at once; past it the oldest is given up (it expires on its node). */
export const DROPS_MAX = 16
/** RegisterEx calls whose answer no longer matters but must be UnRegistered if they succeed. */
export const ORPHAN_REGISTERS_MAX = 16
/** Addresses an IP_CHANGE may mark offline (the rest of a longer list is ignored). */
export const OFFLINE_ADDRESSES_MAX = 1024
/** Sends of one request, failovers included. */
export const REQUEST_ATTEMPTS_MAX = RECONNECT_ATTEMPTS_MAX * 100
/** Request expiry when the application sets none; Windows uses 60 s (SessTimeout). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000
/** Deadline of GetInterfaceList on the data node. */
export const INTERFACE_LIST_DEADLINE_MS = 5_000
