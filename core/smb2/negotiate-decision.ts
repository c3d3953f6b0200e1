// What an SMB2 NEGOTIATE gets from this server (MS-SMB2 3.3.5.3.1 for the SMB1 multi-protocol
// form, 3.3.5.4 for SMB2): the dialect, the capabilities and security mode, and at 3.1.1 the
// preauth integrity hash, cipher and signing algorithm, with the response's negotiate
// contexts. Pure: the salt is drawn by the adapter and comes in.
import { GLOBAL_CAP, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { CIPHER, HASH_ALGORITHM, type NegotiateContext, SIGNING_ALGORITHM } from '../../protocol/smb2/negotiate-contexts.js'
import { SECURITY_MODE } from '../../protocol/smb2/negotiate.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

/** The dialects this server speaks on the wire, lowest first. */
export const WIRE_DIALECTS: readonly number[] = [SMB2_DIALECT.SMB202, SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311]

/** Ciphers in this server's order of preference (Windows Server 2022's: GCM before CCM, 128 before 256). */
export const CIPHER_PREFERENCE: readonly number[] = [CIPHER.AES128_GCM, CIPHER.AES128_CCM, CIPHER.AES256_GCM, CIPHER.AES256_CCM]
/** Signing algorithms in this server's order of preference. */
export const SIGNING_PREFERENCE: readonly number[] = [SIGNING_ALGORITHM.AES_GMAC, SIGNING_ALGORITHM.AES_CMAC, SIGNING_ALGORITHM.HMAC_SHA256]

/** MaxTransactSize, MaxReadSize and MaxWriteSize with large MTU (2.1 on): 8 MiB, as Windows. */
export const LARGE_MTU_IO_BYTES = 8 * 1024 * 1024
/** The same at 2.0.2, which has no multi-credit requests. */
export const SMB202_IO_BYTES = 65_536
/** Bytes of the preauth integrity salt the server sends (Windows sends 32). */
export const PREAUTH_SALT_BYTES = 32

export interface NegotiatePolicy {
  /** `smb2 signing: required` (the default): SecurityMode says SIGNING_REQUIRED. */
  readonly signingRequired: boolean
  /** Whether encryption can be offered at all (3.x). */
  readonly encryptionSupported: boolean
  /** The ciphers and signing algorithms this build implements, in preference order. */
  readonly ciphers: readonly number[]
  readonly signingAlgorithms: readonly number[]
}

export interface NegotiateInput {
  readonly dialects: readonly number[]
  readonly clientCapabilities: number
  readonly negotiateContexts: readonly NegotiateContext[]
  /** PREAUTH_SALT_BYTES random bytes from the adapter. */
  readonly salt: Buffer
}

export interface NegotiateOutcome {
  readonly status: typeof NT_STATUS.SUCCESS
  readonly dialect: number
  readonly securityMode: number
  readonly capabilities: number
  readonly maxIoBytes: number
  /** 3.1.1: SHA-512; otherwise null (no preauth hash). */
  readonly preauthHash: number | null
  /** The cipher both sides use; null: no encryption on this connection. */
  readonly cipher: number | null
  readonly signingAlgorithm: number
  readonly responseContexts: readonly NegotiateContext[]
}

export type NegotiateDecision = NegotiateOutcome | { readonly status: number; readonly reason: string }

const refuse = (status: number, reason: string) => ({ status, reason })

export function decideNegotiate(input: NegotiateInput, policy: NegotiatePolicy): NegotiateDecision {
  if (input.dialects.length === 0) return refuse(NT_STATUS.INVALID_PARAMETER, 'no dialects')
  let dialect: number | null = null
  for (const d of input.dialects) if (WIRE_DIALECTS.includes(d) && (dialect === null || d > dialect)) dialect = d
  if (dialect === null) return refuse(NT_STATUS.NOT_SUPPORTED, `no common dialect in ${input.dialects.map((d) => `0x${d.toString(16)}`).join(',')}`)
  const securityMode = SECURITY_MODE.SIGNING_ENABLED | (policy.signingRequired ? SECURITY_MODE.SIGNING_REQUIRED : 0)
  let capabilities = dialect >= SMB2_DIALECT.SMB21 ? GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU : 0
  if (dialect >= SMB2_DIALECT.SMB30) capabilities |= GLOBAL_CAP.PERSISTENT_HANDLES
  // Multichannel from 3.0 on, to a client that announces it (3.3.5.4; smbd does the same).
  if (dialect >= SMB2_DIALECT.SMB30 && (input.clientCapabilities & GLOBAL_CAP.MULTI_CHANNEL) !== 0) capabilities |= GLOBAL_CAP.MULTI_CHANNEL
  const base = { status: NT_STATUS.SUCCESS, dialect, securityMode, maxIoBytes: dialect >= SMB2_DIALECT.SMB21 ? LARGE_MTU_IO_BYTES : SMB202_IO_BYTES }
  if (dialect < SMB2_DIALECT.SMB311) {
    // 3.0 and 3.0.2 announce encryption by capability, and encrypt with AES-128-CCM (3.3.5.4).
    const encrypts = dialect >= SMB2_DIALECT.SMB30 && policy.encryptionSupported && (input.clientCapabilities & GLOBAL_CAP.ENCRYPTION) !== 0 && policy.ciphers.includes(CIPHER.AES128_CCM)
    if (encrypts) capabilities |= GLOBAL_CAP.ENCRYPTION
    const signingAlgorithm = dialect >= SMB2_DIALECT.SMB30 ? SIGNING_ALGORITHM.AES_CMAC : SIGNING_ALGORITHM.HMAC_SHA256
    return { ...base, capabilities, preauthHash: null, cipher: encrypts ? CIPHER.AES128_CCM : null, signingAlgorithm, responseContexts: [] }
  }
  // 3.1.1: one preauth integrity context naming SHA-512 is required; at most one of each kind.
  const of = <K extends NegotiateContext['kind']>(kind: K) => input.negotiateContexts.filter((c): c is Extract<NegotiateContext, { kind: K }> => c.kind === kind)
  const preauth = of('preauth')
  const encryption = of('encryption')
  const signing = of('signing')
  if (preauth.length !== 1) return refuse(NT_STATUS.INVALID_PARAMETER, `${preauth.length} preauth integrity contexts`)
  if (encryption.length > 1 || signing.length > 1) return refuse(NT_STATUS.INVALID_PARAMETER, 'a negotiate context kind appears twice')
  if (preauth[0].hashAlgorithms.length === 0) return refuse(NT_STATUS.INVALID_PARAMETER, 'a preauth context with no hash algorithm')
  if (!preauth[0].hashAlgorithms.includes(HASH_ALGORITHM.SHA512)) return refuse(NT_STATUS.SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP, 'no SHA-512 preauth hash')
  if (encryption.length === 1 && encryption[0].ciphers.length === 0) return refuse(NT_STATUS.INVALID_PARAMETER, 'an encryption context with no cipher')
  if (signing.length === 1 && signing[0].signingAlgorithms.length === 0) return refuse(NT_STATUS.INVALID_PARAMETER, 'a signing context with no algorithm')
  const responseContexts: NegotiateContext[] = [{ kind: 'preauth', hashAlgorithms: [HASH_ALGORITHM.SHA512], salt: input.salt }]
  let cipher: number | null = null
  if (encryption.length === 1) {
    const offered = encryption[0].ciphers
    cipher = policy.encryptionSupported ? (policy.ciphers.find((c) => offered.includes(c)) ?? null) : null
    // No common cipher: the context names cipher 0 and the connection does not encrypt (3.3.5.4).
    responseContexts.push({ kind: 'encryption', ciphers: [cipher ?? 0] })
  }
  let signingAlgorithm: number = SIGNING_ALGORITHM.AES_CMAC
  if (signing.length === 1) {
    const offered = signing[0].signingAlgorithms
    signingAlgorithm = policy.signingAlgorithms.find((a) => offered.includes(a)) ?? SIGNING_ALGORITHM.AES_CMAC
    responseContexts.push({ kind: 'signing', signingAlgorithms: [signingAlgorithm] })
  }
  return { ...base, capabilities, preauthHash: HASH_ALGORITHM.SHA512, cipher, signingAlgorithm, responseContexts }
}

/** The dialect answered to an SMB1 multi-protocol NEGOTIATE offering "SMB 2.???": the capabilities of 2.1. */
export function wildcardNegotiate(policy: NegotiatePolicy): NegotiateOutcome {
  return {
    status: NT_STATUS.SUCCESS,
    dialect: SMB2_DIALECT.WILDCARD,
    securityMode: SECURITY_MODE.SIGNING_ENABLED | (policy.signingRequired ? SECURITY_MODE.SIGNING_REQUIRED : 0),
    capabilities: GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU,
    maxIoBytes: LARGE_MTU_IO_BYTES,
    preauthHash: null,
    cipher: null,
    signingAlgorithm: SIGNING_ALGORITHM.HMAC_SHA256,
    responseContexts: [],
  }
}
