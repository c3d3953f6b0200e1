// What a third-party SMB tool needs to reach a server: the reference smbd or a node of the
// emulator. The conformance tests and bench:smb-wire run the same cases against either.
//
// A node's SMB 2/3 endpoint is `nodes[i].smb2: { address, port }` in `cluster status --json`
// (issue 14). Until the node process serves it the field is absent or null, and every case
// against the emulator skips with the message of emulatorTarget().
import { join } from 'node:path'
import type { Cluster } from '../cluster/cluster.js'

export interface SmbTarget {
  /** 'smbd' or the node id: names the server in results. */
  readonly name: string
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** The disk share the cases use. */
  readonly share: string
  /** The share's folder on this machine, when the harness can look at it directly. */
  readonly sharePath?: string
  /** Every share the server should list (besides IPC$), when known. */
  readonly shares?: readonly string[]
  /** The server's own log (a node's logs/<id>.ndjson), when the harness can read it. */
  readonly logPath?: string
}

export interface Smb2Endpoint {
  readonly address: string
  readonly port: number
}

/** The node's SMB 2/3 endpoint from one node entry of `cluster status --json`, or null. */
export function smb2EndpointOf(node: unknown): Smb2Endpoint | null {
  const smb2 = (node as { smb2?: unknown } | null)?.smb2 as { address?: unknown; port?: unknown } | null | undefined
  if (!smb2 || typeof smb2.address !== 'string' || typeof smb2.port !== 'number' || smb2.port <= 0) return null
  return { address: smb2.address, port: smb2.port }
}

export const NO_SMB2_ENDPOINT = 'the nodes have no SMB 2/3 endpoint yet (no `smb2: {address, port}` in `cluster status --json`; issue 14)'

/**
 * A target on one node of a running cluster, or why there is none. With shareName, that share;
 * a general-use role's share is reached at the role's address (served by its owner, nodeId).
 */
export async function emulatorTarget(cluster: Cluster, nodeId = 'node-1', shareName?: string): Promise<{ target: SmbTarget } | { missing: string }> {
  const status = await cluster.status()
  const node = status.nodes.find((n) => n.id === nodeId)
  if (!node) return { missing: `no node ${nodeId}` }
  const endpoint = smb2EndpointOf(node)
  if (!endpoint) return { missing: NO_SMB2_ENDPOINT }
  const user = cluster.credentials()?.users[0]
  if (!user) return { missing: `no users in ${join(cluster.dir, 'credentials.json')}` }
  const share = shareName === undefined ? status.shares[0] : status.shares.find((s) => s.name === shareName)
  if (!share) return { missing: shareName === undefined ? 'the cluster has no share' : `the cluster has no share ${shareName}` }
  const role = share.role
  return {
    target: {
      name: role ? `${role.name} on ${nodeId}` : nodeId,
      host: role ? role.address : endpoint.address,
      port: role ? role.smb2Port : endpoint.port,
      user: user.user,
      password: user.password,
      share: share.name,
      // A share's folder is <dir>/storage/<csv>/<share>/ (server/smb/csv-service.ts).
      sharePath: join(cluster.dir, 'storage', share.csv, share.name),
      shares: status.shares.map((s) => s.name),
      logPath: join(cluster.dir, 'logs', `${nodeId}.ndjson`),
    },
  }
}
