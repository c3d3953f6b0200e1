// The DCE/RPC security provider of a node: NTLMSSP (bare or under SPNEGO) against the cluster's
// accounts in credentials.json, with the node's own name in the CHALLENGE, and the two inputs the
// pure acceptor takes from outside (a random server challenge and the time).
import { randomBytes } from 'node:crypto'
import type { ClusterCredentials } from '../../cluster/credentials.js'
import { ntlmAccountTable } from '../../core/auth/ntlm-accounts.js'
import type { RpcAuthConfig } from './rpc-security-context.js'

/** 100 ns intervals between 1601-01-01 and 1970-01-01 (FILETIME epoch to Unix epoch). */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n
const NETBIOS_NAME_CHARS_MAX = 15

export function filetimeFromUnixMs(ms: number): bigint {
  return FILETIME_UNIX_EPOCH + BigInt(Math.trunc(ms)) * 10_000n
}

/** A security provider for a node's DCE/RPC endpoints; null without credentials (nothing to check against). */
export function rpcAuthConfig(credentials: ClusterCredentials | null, computerName: string, nowMs: () => number): RpcAuthConfig | null {
  if (credentials === null) return null
  const accounts = ntlmAccountTable([credentials.admin, ...credentials.users].map((c) => ({ user: c.user, password: c.password })))
  // A standalone server: its NetBIOS domain is its own name (MS-NLMP 2.2.2.1).
  const nb = computerName.toUpperCase().slice(0, NETBIOS_NAME_CHARS_MAX)
  return {
    acceptor: { names: { nbComputerName: nb, nbDomainName: nb, dnsComputerName: computerName.toLowerCase() }, accounts },
    challengeInputs: () => ({ serverChallenge: randomBytes(8), timestamp: filetimeFromUnixMs(nowMs()) }),
  }
}
