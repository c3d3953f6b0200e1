// The security context of one DCE/RPC association on the server side (MS-RPCE 3.3.1.5.2): which
// auth type, level and context id the bind chose, the token legs (bind -> bind_ack, then auth3 for
// NTLMSSP's three legs or alter_context -> alter_context_resp for SPNEGO's four), the verdict, and
// afterwards the NTLMSSP session security that protects every request and response.
//
// The token exchange itself is the SPNEGO acceptor (which also runs bare NTLMSSP), checking the
// client against the accounts of credentials.json. This class only sequences the legs and refuses
// what cannot be: an unknown auth type or level, a token after the verdict, a trailer that names
// another type, level or context id.
import { AUTH_LEVEL, AUTH_TYPE, type AuthTrailer } from '../../protocol/dcerpc/pdu-codec.js'
import type { SecurityContextId } from '../../protocol/dcerpc/auth-verifier.js'
import { NT_STATUS_AUTH } from '../../protocol/smb2/ntstatus.js'
import { NTLMSSP_SIGNATURE } from '../../protocol/ntlmssp/ntlmssp-reader.js'
import type { NtlmSessionSecurity } from '../../protocol/ntlmssp/session-security.js'
import { SpnegoAcceptor } from '../../core/auth/spnego-acceptor.js'
import type { NtlmAcceptorConfig, NtlmChallengeInputs } from '../../core/auth/ntlm-acceptor.js'

/** What an association's transport hands in to accept authenticated binds. */
export interface RpcAuthConfig {
  readonly acceptor: NtlmAcceptorConfig
  /** A fresh server challenge and the time, drawn for each NEGOTIATE leg. */
  readonly challengeInputs: () => NtlmChallengeInputs
}

/** Who is calling, and how well protected: handed to each interface with each call. */
export interface RpcCaller {
  /** The authenticated account, or null on an unauthenticated association (or an anonymous NTLM logon). */
  readonly principal: string | null
  /** AUTH_LEVEL.NONE (1) on an unauthenticated association. */
  readonly authLevel: number
}

export const ANONYMOUS_CALLER: RpcCaller = Object.freeze({ principal: null, authLevel: AUTH_LEVEL.NONE })

/** The answer to one token leg. */
export type LegOutcome =
  | { readonly kind: 'continue'; readonly token: Buffer }
  | { readonly kind: 'complete'; readonly token: Buffer }
  | { readonly kind: 'refused'; readonly why: 'auth_type' | 'auth_level' | 'failed'; readonly reason: string }

const SUPPORTED_LEVELS: ReadonlySet<number> = new Set([AUTH_LEVEL.CONNECT, AUTH_LEVEL.PKT_INTEGRITY, AUTH_LEVEL.PKT_PRIVACY])

export class RpcSecurityContext {
  readonly id: SecurityContextId
  private readonly acceptor: SpnegoAcceptor
  private verdict: { readonly principal: string | null; readonly security: NtlmSessionSecurity | undefined } | 'failed' | null = null

  private constructor(
    trailer: AuthTrailer,
    private readonly config: RpcAuthConfig,
  ) {
    this.id = { authType: trailer.authType, authLevel: trailer.authLevel, authContextId: trailer.authContextId }
    this.acceptor = new SpnegoAcceptor(config.acceptor)
  }

  /** The first leg, carried by the bind. */
  static start(trailer: AuthTrailer, config: RpcAuthConfig): { context: RpcSecurityContext; outcome: LegOutcome } | { context: null; outcome: LegOutcome } {
    if (trailer.authType !== AUTH_TYPE.NTLMSSP && trailer.authType !== AUTH_TYPE.SPNEGO) {
      return { context: null, outcome: { kind: 'refused', why: 'auth_type', reason: `auth_type ${trailer.authType} (only NTLMSSP and SPNEGO)` } }
    }
    if (!SUPPORTED_LEVELS.has(trailer.authLevel)) {
      return { context: null, outcome: { kind: 'refused', why: 'auth_level', reason: `auth_level ${trailer.authLevel} (only connect, packet integrity and packet privacy)` } }
    }
    // auth_type NTLMSSP carries bare NTLMSSP tokens; SPNEGO tokens under it are refused.
    if (trailer.authType === AUTH_TYPE.NTLMSSP && !trailer.credentials.subarray(0, NTLMSSP_SIGNATURE.length).equals(NTLMSSP_SIGNATURE)) {
      return { context: null, outcome: { kind: 'refused', why: 'failed', reason: 'auth_type NTLMSSP with a token that is not NTLMSSP' } }
    }
    const context = new RpcSecurityContext(trailer, config)
    return { context, outcome: context.step(trailer) }
  }

  /** A later leg (auth3 or alter_context). The trailer must name the bind's type, level and context id. */
  next(trailer: AuthTrailer): LegOutcome {
    if (this.verdict !== null) return { kind: 'refused', why: 'failed', reason: 'a token after the exchange ended' }
    if (trailer.authType !== this.id.authType || trailer.authLevel !== this.id.authLevel || trailer.authContextId !== this.id.authContextId) {
      this.verdict = 'failed'
      return { kind: 'refused', why: 'failed', reason: `a leg with type ${trailer.authType} level ${trailer.authLevel} context ${trailer.authContextId}, the bind had ${this.id.authType}/${this.id.authLevel}/${this.id.authContextId}` }
    }
    return this.step(trailer)
  }

  /** True while the exchange waits for another leg. */
  get pending(): boolean {
    return this.verdict === null
  }

  /** Marks an unfinished exchange failed (an auth3 that did not complete it). */
  fail(): void {
    if (this.verdict === null) this.verdict = 'failed'
  }

  /** True once the exchange failed: every request is then refused. */
  get failed(): boolean {
    return this.verdict === 'failed'
  }

  /** The caller as requests see it; null until the exchange succeeded. */
  caller(): RpcCaller | null {
    if (this.verdict === null || this.verdict === 'failed') return null
    return { principal: this.verdict.principal, authLevel: this.id.authLevel }
  }

  /** The session security of a completed exchange at integrity or privacy. */
  security(): NtlmSessionSecurity | undefined {
    return this.verdict !== null && this.verdict !== 'failed' ? this.verdict.security : undefined
  }

  private step(trailer: AuthTrailer): LegOutcome {
    const outcome = this.acceptor.step(Buffer.from(trailer.credentials), this.config.challengeInputs())
    if (outcome.status === NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) return { kind: 'continue', token: outcome.token }
    if (outcome.status !== NT_STATUS_AUTH.SUCCESS) {
      this.verdict = 'failed'
      return { kind: 'refused', why: 'failed', reason: outcome.reason }
    }
    const protects = this.id.authLevel >= AUTH_LEVEL.PKT_INTEGRITY
    if (protects && outcome.sessionSecurity === undefined) {
      // An anonymous logon has no session key: it cannot sign, so it cannot hold this level.
      this.verdict = 'failed'
      return { kind: 'refused', why: 'failed', reason: 'packet integrity or privacy without a session key (anonymous NTLM logon)' }
    }
    const auth = outcome.authenticated
    this.verdict = { principal: auth.anonymous ? null : auth.userName, security: protects ? outcome.sessionSecurity : undefined }
    return { kind: 'complete', token: outcome.token }
  }
}
