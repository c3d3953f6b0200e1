// The GSS acceptor of the SMB2 wire front: core/auth's SPNEGO acceptor (NTLMSSP NTLMv2) over
// the users of the cluster's credentials.json, with the randomness (server challenge) and the
// time (the CHALLENGE's timestamp) it takes as inputs drawn here.
import { randomBytes } from 'node:crypto'
import { ntlmAccountTable, type NtlmAccountLookup } from '../../core/auth/ntlm-accounts.js'
import { SpnegoAcceptor } from '../../core/auth/spnego-acceptor.js'
import type { ClusterCredentials } from '../../cluster/credentials.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import type { GssAcceptor, GssStep } from './smb2-state.js'

export interface SpnegoGssOptions {
  /** The NetBIOS name the CHALLENGE gives (the node's, upper case). */
  readonly computerName: string
  /** The workgroup it names (the cluster's). */
  readonly domainName: string
  readonly accounts: NtlmAccountLookup
  /** FILETIME now, for the CHALLENGE's timestamp. */
  readonly nowFiletime: () => bigint
}

/** Every user of credentials.json, the admin too; none when there is no file (only the null session then). */
export function accountsOf(credentials: ClusterCredentials | null): NtlmAccountLookup {
  if (!credentials) return ntlmAccountTable([])
  return ntlmAccountTable([credentials.admin, ...credentials.users].map((c) => ({ user: c.user, password: c.password })))
}

export function spnegoGssAcceptor(opts: SpnegoGssOptions): GssAcceptor {
  const acceptor = new SpnegoAcceptor({ names: { nbComputerName: opts.computerName, nbDomainName: opts.domainName }, accounts: opts.accounts })
  return {
    step(token): GssStep {
      const outcome = acceptor.step(token, { serverChallenge: randomBytes(8), timestamp: opts.nowFiletime() })
      switch (outcome.status) {
        case NT_STATUS.MORE_PROCESSING_REQUIRED:
          return { kind: 'continue', token: outcome.token }
        case NT_STATUS.SUCCESS: {
          const a = outcome.authenticated
          return { kind: 'accepted', token: outcome.token, user: a.anonymous ? '' : a.userName, anonymous: a.anonymous, sessionKey: a.sessionKey ?? Buffer.alloc(0) }
        }
        default:
          return { kind: 'refused', status: outcome.status, reason: outcome.reason }
      }
    },
  }
}

export const SPNEGO_INITIAL_TOKEN = SpnegoAcceptor.initialToken()
