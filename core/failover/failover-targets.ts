// Which node the data path goes to: the cluster name's addresses without those the witness
// reported OFFLINE (unless nothing else is left), the first node at start, and the node of each
// failover attempt. Pure functions of what the core knows.
import assert from 'node:assert/strict'

/** The addresses to try, without those reported offline unless nothing else is left. */
export function onlineAddresses(nodeIps: readonly string[], offline: ReadonlySet<string>): string[] {
  const online = nodeIps.filter((ip) => !offline.has(ip))
  return online.length > 0 ? online : [...nodeIps]
}

/**
 * The order in which start tries the nodes: the preferred IP (or one picked by `random` in
 * [0, 1)) first, then the others in the order the name resolves to, as DNS round-robin clients
 * do when a node refuses. Empty when there is nothing to try.
 */
export function startOrder(online: readonly string[], preferredIp: string | undefined, random: number): string[] {
  assert.ok(random >= 0 && random < 1, `random must be in [0, 1), got ${random}`)
  const first = preferredIp ?? online[Math.floor(random * online.length)]
  if (first === undefined) return []
  return [first, ...online.filter((ip) => ip !== first)]
}

/**
 * The nodes a failover may move to: every online address but the one being left, with the
 * notification's destinations first when it named any (a CLIENT_MOVE or SHARE_MOVE), and the
 * node being left last. A destination that refuses (it died, or lost its lease, after the move
 * was sent) does not hold the client: the other nodes follow it, as a client that re-resolves
 * the name would go there. When the witness had reported every other address OFFLINE, those
 * reports may be stale (the node that would have sent ONLINE is the one that died): then every
 * other address of the name is tried rather than none. The node being left comes after all of
 * them, in every round: a Windows client re-resolves the name and reconnects to any of its
 * addresses, the one it left included (its persistent handles are reclaimable there, MS-SMB2
 * 3.2.4.4), so when no other node takes it (two nodes, the other one lost) it is not stranded
 * while the node it left serves again; with others to go to, it is tried only after each of
 * them failed once more.
 */
export function failoverCandidates(nodeIps: readonly string[], online: readonly string[], fromIp: string, toIps: readonly string[]): string[] {
  const onlineOthers = online.filter((ip) => ip !== fromIp)
  const others = onlineOthers.length > 0 ? onlineOthers : nodeIps.filter((ip) => ip !== fromIp)
  const left = nodeIps.includes(fromIp) ? [fromIp] : []
  return [...new Set([...toIps, ...others.filter((ip) => !toIps.includes(ip)), ...left])]
}

/** The node of attempt `attempt` (0-based): the candidates in turn, so a refusing node is skipped. */
export function attemptTarget(candidates: readonly string[], attempt: number): string | undefined {
  return candidates.length > 0 ? candidates[attempt % candidates.length] : undefined
}
