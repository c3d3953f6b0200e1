// The accounts an NTLM acceptor checks responses against: user name to NT hash (NTOWFv1),
// looked up case-insensitively as Windows' SAM does. Built from passwords (credentials.json
// holds them) or from NT hashes; the passwords themselves are not kept.
import assert from 'node:assert/strict'
import { NT_HASH_BYTES, ntHash, upcaseUnicode } from '../../protocol/ntlmssp/ntlmv2-keys.js'

export interface NtlmAccount {
  /** The name as the table spells it (the client may send it in another case). */
  readonly userName: string
  readonly ntHash: Buffer
}

/**
 * The account a client names. domain is the client's UserDom: a standalone server (this one) has
 * only local accounts, and like Windows and Samba on a standalone server it maps any domain name to
 * them, so a lookup may ignore it.
 */
export type NtlmAccountLookup = (userName: string, domain: string) => NtlmAccount | undefined

export type NtlmAccountEntry = { readonly user: string; readonly password: string } | { readonly user: string; readonly ntHash: Buffer }

/** A bound on the table: credentials.json lists a handful of users. */
export const NTLM_ACCOUNTS_MAX = 10_000

export function ntlmAccountTable(entries: readonly NtlmAccountEntry[]): NtlmAccountLookup {
  assert.ok(entries.length <= NTLM_ACCOUNTS_MAX, `${entries.length} accounts`)
  const byName = new Map<string, NtlmAccount>()
  for (const e of entries) {
    assert.ok(e.user.length > 0, 'an account needs a user name')
    const hash = 'password' in e ? ntHash(e.password) : Buffer.from(e.ntHash)
    assert.equal(hash.length, NT_HASH_BYTES)
    const key = upcaseUnicode(e.user)
    assert.ok(!byName.has(key), `account ${e.user} listed twice (names are case-insensitive)`)
    byName.set(key, { userName: e.user, ntHash: hash })
  }
  return (userName) => byName.get(upcaseUnicode(userName))
}
