// SMB2 SessionIds that name the node that minted them. A client that fails over to another node
// sends its old SessionId as PreviousSessionId (MS-SMB2 3.2.4.2.3, 3.3.5.5.3); the node it now
// talks to must find the node that held that session, to end it there and at every CSV owner
// (whose opens are keyed "<node>/<hex id>"). Windows scale-out nodes mint disjoint SessionIds
// too. The high 16 bits carry the node's 1-based place in the cluster's node list, the low 48
// bits are random (drawn by the adapter): no id is 0 or all ones (both reserved, 2.2.1).
import assert from 'node:assert/strict'

const NODE_SHIFT = 48n
const RANDOM_MASK = (1n << NODE_SHIFT) - 1n
/** Node places 1..0xfffe: 0 would allow SessionId 0, 0xffff the all-ones id. */
export const SESSION_ID_NODE_INDEX_MAX = 0xfffe

/** The SessionId for a node's 1-based place in the cluster and 48 (or more, masked) random bits. */
export function mintSessionId(nodeIndex: number, random: bigint): bigint {
  assert.ok(Number.isInteger(nodeIndex) && nodeIndex >= 1 && nodeIndex <= SESSION_ID_NODE_INDEX_MAX, `node index ${nodeIndex} out of range`)
  return (BigInt(nodeIndex) << NODE_SHIFT) | (random & RANDOM_MASK)
}

/** The 1-based place of the node that minted a SessionId; 0 (none) for an id no node of ours minted. */
export function nodeIndexOfSessionId(sessionId: bigint): number {
  if (sessionId < 0n || sessionId > 0xffffffffffffffffn) return 0
  const index = Number(sessionId >> NODE_SHIFT)
  return index >= 1 && index <= SESSION_ID_NODE_INDEX_MAX ? index : 0
}

/** The name the session core and the CSV owners know a session by: "<node>/<16 hex digits>". */
export function sessionKeyName(nodeId: string, sessionId: bigint): string {
  return `${nodeId}/${sessionId.toString(16).padStart(16, '0')}`
}

/**
 * The key of the session a PreviousSessionId names: on the node that minted it, found by its place
 * among `nodeIds` (the cluster's nodes in config order). An id no node of the cluster minted is
 * named as this node's: no such session exists, and nothing else is touched.
 */
export function previousSessionKey(previousSessionId: bigint, nodeIds: readonly string[], selfId: string): string {
  const index = nodeIndexOfSessionId(previousSessionId)
  const owner = index >= 1 && index <= nodeIds.length ? nodeIds[index - 1] : selfId
  return sessionKeyName(owner, previousSessionId)
}
