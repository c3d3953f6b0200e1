// The client side of a DCE/RPC association's security context (MS-RPCE 3.3.1.5.2): NTLMSSP with
// three legs (bind, bind_ack, auth3) or SPNEGO with four (bind, bind_ack, alter_context,
// alter_context_resp), as rpcclient speaks them, then the NTLMSSP session security that signs (and
// seals) requests and checks responses. The socket work is the caller's; this holds the state.
import { randomBytes } from 'node:crypto'
import { AUTH_LEVEL, AUTH_TYPE, DCERPC_AUTH_TRAILER_BYTES, PTYPE, type AuthTrailer } from '../protocol/dcerpc/pdu-codec.js'
import { protectPdu, unprotectPdu, type SecurityContextId, type UnprotectResult } from '../protocol/dcerpc/auth-verifier.js'
import { NtlmSessionSecurity } from '../protocol/ntlmssp/session-security.js'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../protocol/ntlmssp/negotiate-flags.js'
import { NtlmInitiator, type NtlmAuthenticateInputs } from '../core/auth/ntlm-initiator.js'
import { SpnegoInitiator } from '../core/auth/spnego-initiator.js'

export type DcerpcAuthLevelName = 'connect' | 'integrity' | 'privacy'

export interface DcerpcClientAuth {
  readonly user: string
  readonly password: string
  /** The user's domain; default '' (a standalone server takes any). */
  readonly domain?: string
  /** Default 'privacy' (sealed), as `[seal]` in an rpcclient binding. */
  readonly level?: DcerpcAuthLevelName
  /** Default 'spnego', as Windows; 'ntlmssp' is rpcclient's default auth type. */
  readonly type?: 'spnego' | 'ntlmssp'
  /** The auth_context_id of the sec_trailer. Default 0. */
  readonly authContextId?: number
  readonly workstation?: string
}

export const AUTH_LEVEL_OF: Readonly<Record<DcerpcAuthLevelName, number>> = {
  connect: AUTH_LEVEL.CONNECT,
  integrity: AUTH_LEVEL.PKT_INTEGRITY,
  privacy: AUTH_LEVEL.PKT_PRIVACY,
}

/** What to send after the bind_ack (or alter_context_resp). */
export type ClientLegStep =
  | { readonly next: 'auth3'; readonly token: Buffer }
  | { readonly next: 'alter_context'; readonly token: Buffer }
  | { readonly next: 'done' }
  | { readonly next: 'failed'; readonly reason: string }

export class DcerpcClientSecurity {
  readonly id: SecurityContextId
  private readonly ntlm: NtlmInitiator | null
  private readonly spnego: SpnegoInitiator | null
  private session: NtlmSessionSecurity | undefined
  private completed = false

  constructor(auth: DcerpcClientAuth) {
    const type = auth.type ?? 'spnego'
    this.id = { authType: type === 'spnego' ? AUTH_TYPE.SPNEGO : AUTH_TYPE.NTLMSSP, authLevel: AUTH_LEVEL_OF[auth.level ?? 'privacy'], authContextId: auth.authContextId ?? 0 }
    const config = { userName: auth.user, domainName: auth.domain ?? '', password: auth.password, workstation: auth.workstation ?? 'SWLAB-CLIENT' }
    this.ntlm = type === 'ntlmssp' ? new NtlmInitiator(config) : null
    this.spnego = type === 'spnego' ? new SpnegoInitiator(config) : null
  }

  /** The token of the bind. */
  bindToken(): Buffer {
    return this.ntlm !== null ? this.ntlm.negotiate() : (this.spnego as SpnegoInitiator).initialToken()
  }

  /** The server's token in the bind_ack or alter_context_resp. */
  onServerToken(trailer: AuthTrailer | null): ClientLegStep {
    if (trailer === null) return this.failed('the server answered without a token')
    if (trailer.authType !== this.id.authType || trailer.authLevel !== this.id.authLevel || trailer.authContextId !== this.id.authContextId) {
      return this.failed(`the server's sec_trailer names ${trailer.authType}/${trailer.authLevel}/${trailer.authContextId}`)
    }
    const token = Buffer.from(trailer.credentials)
    if (this.ntlm !== null) {
      const r = this.ntlm.authenticate(token, authenticateInputs())
      if (!r.ok) return this.failed(r.reason)
      if (r.sessionKey !== undefined && hasFlag(r.flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY)) this.session = new NtlmSessionSecurity('client', r.sessionKey, r.flags)
      this.completed = true
      return { next: 'auth3', token: r.token }
    }
    const r = (this.spnego as SpnegoInitiator).step(token, authenticateInputs())
    if (r.state === 'failed') return this.failed(r.reason)
    if (r.state === 'continue') return { next: 'alter_context', token: r.token }
    this.session = r.sessionSecurity
    this.completed = true
    return { next: 'done' }
  }

  get done(): boolean {
    return this.completed
  }

  /** True when requests and responses carry a verifier (integrity or privacy). */
  get protects(): boolean {
    return this.id.authLevel >= AUTH_LEVEL.PKT_INTEGRITY
  }

  /** Signs (and seals) one request fragment; advances the client's sequence number. */
  protect(pdu: Buffer, stubOffset: number): Buffer {
    if (this.session === undefined) throw new Error('no session security: the exchange did not complete with a session key')
    return protectPdu(pdu, stubOffset, this.id, this.session)
  }

  /** Checks (and unseals) one response fragment. */
  unprotect(frame: Buffer, stubOffset: number, auth: AuthTrailer | null): UnprotectResult {
    if (this.session === undefined) return { ok: false, failure: 'missing_verifier', reason: 'no session security' }
    return unprotectPdu(frame, stubOffset, auth, this.id, this.session)
  }

  private failed(reason: string): ClientLegStep {
    return { next: 'failed', reason }
  }
}

function authenticateInputs(): NtlmAuthenticateInputs {
  return { clientChallenge: randomBytes(8), randomSessionKey: randomBytes(16), timestamp: 116_444_736_000_000_000n + BigInt(Date.now()) * 10_000n }
}

/** An auth3 PDU: the common header, a 4-byte pad (MS-RPCE 2.2.2.10), the sec_trailer and the token. */
export function encodeAuth3(callId: number, id: SecurityContextId, token: Uint8Array): Buffer {
  const headerAndPad = 20
  const out = Buffer.alloc(headerAndPad + DCERPC_AUTH_TRAILER_BYTES + token.length)
  out[0] = 5
  out[2] = PTYPE.AUTH3
  out[3] = 0x03
  out[4] = 0x10
  out.writeUInt16LE(out.length, 8)
  out.writeUInt16LE(token.length, 10)
  out.writeUInt32LE(callId >>> 0, 12)
  out[headerAndPad] = id.authType
  out[headerAndPad + 1] = id.authLevel
  out.writeUInt32LE(id.authContextId >>> 0, headerAndPad + 4)
  Buffer.from(token.buffer, token.byteOffset, token.byteLength).copy(out, headerAndPad + DCERPC_AUTH_TRAILER_BYTES)
  return out
}
