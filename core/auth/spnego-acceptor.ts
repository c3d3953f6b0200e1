// The server side of SPNEGO (RFC 4178, MS-SPNG 3.2.5) around the NTLM acceptor, as a pure state
// machine: one call per security token of SMB2 SESSION_SETUP (or DCE/RPC bind / alter context),
// one response token and an NTSTATUS out.
//
// Legs, with NTLMSSP the only mechanism offered (serverInitialToken):
//   client negTokenInit(mechTypes, mechToken = NEGOTIATE)   -> negTokenResp(accept-incomplete, NTLMSSP, CHALLENGE)
//   client negTokenResp(AUTHENTICATE [, mechListMIC])        -> negTokenResp(accept-completed [, mechListMIC])
// A negTokenInit whose preferred mechanism is not NTLMSSP (Windows puts Kerberos first) gets
// negTokenResp(request-mic, NTLMSSP) without a token, and the client sends NEGOTIATE next. A first
// token that is bare NTLMSSP (no SPNEGO) runs NTLM unwrapped, as Samba's SPNEGO server allows. An
// empty first token gets the server's negTokenInit once.
//
// The mechListMIC (RFC 4178 5, MS-SPNG 3.3.5.1) protects mechTypes against a downgrade. It is
// required when the client's NTLM AUTHENTICATE carried a verified MIC and signing was negotiated
// (Samba's "new SPNEGO": its client then refuses a final token without one), when the client sent
// one anyway, and when NTLMSSP was not the client's first choice. The client's is checked with the
// client-to-server NTLMSSP signing state at sequence 0, and the server's is the server-to-client
// signature of the same MechTypeList DER (MS-NLMP 3.4.4.2). The RC4 streams are then started
// afresh with the sequence numbers kept, as Samba's client does (checked against it in
// test/core/spnego-acceptor.test.ts); the outcome hands that state on.
import { NT_STATUS_AUTH } from '../../protocol/smb2/ntstatus.js'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../../protocol/ntlmssp/negotiate-flags.js'
import { NTLMSSP_SIGNATURE } from '../../protocol/ntlmssp/ntlmssp-reader.js'
import { NtlmSessionSecurity } from '../../protocol/ntlmssp/session-security.js'
import { NEG_STATE, NTLMSSP_OID, decodeNegotiationToken, encodeNegTokenResp, serverInitialToken, type NegTokenResp } from '../../protocol/spnego/spnego-token.js'
import { NtlmAcceptor, type NtlmAcceptorConfig, type NtlmAuthenticated, type NtlmChallengeInputs } from './ntlm-acceptor.js'

export type SpnegoStatus = (typeof NT_STATUS_AUTH)[keyof typeof NT_STATUS_AUTH]

export type SpnegoOutcome =
  | { readonly status: typeof NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED; readonly token: Buffer }
  | {
      readonly status: typeof NT_STATUS_AUTH.SUCCESS
      /** The last token for the client (empty for bare NTLMSSP). */
      readonly token: Buffer
      readonly authenticated: NtlmAuthenticated
      /** Both mechListMICs were exchanged. */
      readonly mechListMicExchanged: boolean
      /**
       * NTLMSSP session security for what follows (DCE/RPC integrity and privacy), in the state the
       * client is in: after a mechListMIC exchange, sequence numbers 1 and fresh RC4 streams.
       * Undefined for anonymous, or without extended session security.
       */
      readonly sessionSecurity: NtlmSessionSecurity | undefined
    }
  | {
      readonly status: typeof NT_STATUS_AUTH.INVALID_PARAMETER | typeof NT_STATUS_AUTH.LOGON_FAILURE | typeof NT_STATUS_AUTH.ACCESS_DENIED
      /** One line for the node's log, never sent to the client. */
      readonly reason: string
    }

type Phase =
  | { readonly name: 'start'; readonly emptyTokensSeen: number }
  | { readonly name: 'await-negotiate'; readonly mechTypesDer: Buffer; readonly micRequired: boolean }
  | { readonly name: 'await-authenticate'; readonly mechTypesDer: Buffer | undefined; readonly micRequired: boolean }
  | { readonly name: 'done' }

const RAW_NTLMSSP_PREFIX = NTLMSSP_SIGNATURE

export class SpnegoAcceptor {
  private phase: Phase = { name: 'start', emptyTokensSeen: 0 }
  private readonly ntlm: NtlmAcceptor

  constructor(config: NtlmAcceptorConfig) {
    this.ntlm = new NtlmAcceptor(config)
  }

  /** The security buffer of the SMB2 NEGOTIATE response. */
  static initialToken(): Buffer {
    return serverInitialToken()
  }

  /** True once a verdict (success or failure) was given: later tokens are refused. */
  get finished(): boolean {
    return this.phase.name === 'done'
  }

  /**
   * One client token. inputs (a fresh server challenge, the time) are used only on the leg that
   * carries the NTLM NEGOTIATE; the caller supplies them on every leg.
   */
  step(token: Buffer, inputs: NtlmChallengeInputs): SpnegoOutcome {
    const phase = this.phase
    switch (phase.name) {
      case 'start':
        return this.first(token, inputs, phase.emptyTokensSeen)
      case 'await-negotiate':
        return this.negotiateLeg(token, inputs, phase.mechTypesDer, phase.micRequired)
      case 'await-authenticate':
        return this.authenticateLeg(token, phase.mechTypesDer, phase.micRequired)
      case 'done':
        return { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: 'SPNEGO: a token after the exchange ended' }
    }
  }

  private first(token: Buffer, inputs: NtlmChallengeInputs, emptyTokensSeen: number): SpnegoOutcome {
    if (token.length === 0) {
      if (emptyTokensSeen > 0) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, 'SPNEGO: a second empty token')
      this.phase = { name: 'start', emptyTokensSeen: emptyTokensSeen + 1 }
      return { status: NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, token: serverInitialToken() }
    }
    if (token.subarray(0, RAW_NTLMSSP_PREFIX.length).equals(RAW_NTLMSSP_PREFIX)) {
      const r = this.ntlm.challenge(token, inputs)
      if (r.status !== NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) return this.fail(r.status, r.reason)
      this.phase = { name: 'await-authenticate', mechTypesDer: undefined, micRequired: false }
      return r
    }
    const decoded = decodeNegotiationToken(token)
    if (!decoded.ok) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, `SPNEGO: ${decoded.error.toString()}`)
    if (decoded.value.kind !== 'init') return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, 'SPNEGO: negTokenResp before negTokenInit')
    const { init, mechTypesDer } = decoded.value
    const ntlmIndex = init.mechTypes.indexOf(NTLMSSP_OID)
    if (ntlmIndex < 0) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, `SPNEGO: no NTLMSSP among the offered mechanisms ${init.mechTypes.join(', ')}`)
    if (ntlmIndex > 0 || init.mechToken === undefined) {
      // The optimistic token (if any) is for another mechanism: name NTLMSSP and wait for its first token.
      const micRequired = ntlmIndex > 0
      this.phase = { name: 'await-negotiate', mechTypesDer, micRequired }
      return { status: NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, token: encodeNegTokenResp({ negState: micRequired ? NEG_STATE.REQUEST_MIC : NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID }) }
    }
    const r = this.ntlm.challenge(init.mechToken, inputs)
    if (r.status !== NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) return this.fail(r.status, r.reason)
    this.phase = { name: 'await-authenticate', mechTypesDer, micRequired: false }
    return { status: NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, supportedMech: NTLMSSP_OID, responseToken: r.token }) }
  }

  private negotiateLeg(token: Buffer, inputs: NtlmChallengeInputs, mechTypesDer: Buffer, micRequired: boolean): SpnegoOutcome {
    const resp = this.responseOf(token)
    if ('reason' in resp) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, resp.reason)
    if (resp.responseToken === undefined) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, 'SPNEGO: negTokenResp without the NTLMSSP NEGOTIATE')
    const r = this.ntlm.challenge(resp.responseToken, inputs)
    if (r.status !== NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) return this.fail(r.status, r.reason)
    this.phase = { name: 'await-authenticate', mechTypesDer, micRequired }
    return { status: NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_INCOMPLETE, responseToken: r.token }) }
  }

  private authenticateLeg(token: Buffer, mechTypesDer: Buffer | undefined, micRequired: boolean): SpnegoOutcome {
    if (mechTypesDer === undefined) {
      // Bare NTLMSSP: no SPNEGO framing, no mechListMIC.
      const r = this.ntlm.authenticate(token)
      if (r.status !== NT_STATUS_AUTH.SUCCESS) return this.fail(r.status, r.reason)
      this.phase = { name: 'done' }
      return { status: NT_STATUS_AUTH.SUCCESS, token: Buffer.alloc(0), authenticated: r.authenticated, mechListMicExchanged: false, sessionSecurity: freshSecurity(r.authenticated) }
    }
    const resp = this.responseOf(token)
    if ('reason' in resp) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, resp.reason)
    if (resp.responseToken === undefined) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, 'SPNEGO: negTokenResp without the NTLMSSP AUTHENTICATE')
    const r = this.ntlm.authenticate(resp.responseToken)
    if (r.status !== NT_STATUS_AUTH.SUCCESS) return this.fail(r.status, r.reason)
    const auth = r.authenticated
    const key = auth.sessionKey
    // Samba's NTLMSSP offers GENSEC_FEATURE_NEW_SPNEGO when a MIC was verified and signing negotiated.
    const newSpnego = auth.micVerified && hasFlag(auth.flags, NTLMSSP_NEGOTIATE.SIGN)
    const micNeeded = key !== undefined && (newSpnego || micRequired || resp.mechListMIC !== undefined)
    if (!micNeeded) {
      this.phase = { name: 'done' }
      return { status: NT_STATUS_AUTH.SUCCESS, token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED }), authenticated: auth, mechListMicExchanged: false, sessionSecurity: freshSecurity(auth) }
    }
    if (resp.mechListMIC === undefined) return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, `SPNEGO: user ${JSON.stringify(auth.clientUserName)}: mechListMIC required but not sent`)
    if (!hasFlag(auth.flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY)) {
      return this.fail(NT_STATUS_AUTH.INVALID_PARAMETER, `SPNEGO: user ${JSON.stringify(auth.clientUserName)}: mechListMIC without NTLM extended session security is not supported`)
    }
    const security = new NtlmSessionSecurity('server', key, auth.flags)
    const verdict = security.verify(resp.mechListMIC, mechTypesDer)
    if (!verdict.ok) return this.fail(NT_STATUS_AUTH.ACCESS_DENIED, `SPNEGO: user ${JSON.stringify(auth.clientUserName)}: client mechListMIC: ${verdict.reason}`)
    const mechListMIC = security.sign(mechTypesDer)
    security.reinitializeSealingState()
    this.phase = { name: 'done' }
    return { status: NT_STATUS_AUTH.SUCCESS, token: encodeNegTokenResp({ negState: NEG_STATE.ACCEPT_COMPLETED, mechListMIC }), authenticated: auth, mechListMicExchanged: true, sessionSecurity: security }
  }

  /** A negTokenResp that does not reject. */
  private responseOf(token: Buffer): NegTokenResp | { reason: string } {
    const decoded = decodeNegotiationToken(token)
    if (!decoded.ok) return { reason: `SPNEGO: ${decoded.error.toString()}` }
    if (decoded.value.kind !== 'resp') return { reason: 'SPNEGO: a second negTokenInit' }
    const resp = decoded.value.resp
    if (resp.negState === NEG_STATE.REJECT) return { reason: 'SPNEGO: the client rejected the exchange' }
    if (resp.supportedMech !== undefined && resp.supportedMech !== NTLMSSP_OID) return { reason: `SPNEGO: the client switched to mechanism ${resp.supportedMech}` }
    return resp
  }

  private fail(status: typeof NT_STATUS_AUTH.INVALID_PARAMETER | typeof NT_STATUS_AUTH.LOGON_FAILURE | typeof NT_STATUS_AUTH.ACCESS_DENIED, reason: string): SpnegoOutcome {
    this.phase = { name: 'done' }
    return { status, reason }
  }
}

function freshSecurity(auth: NtlmAuthenticated): NtlmSessionSecurity | undefined {
  if (auth.sessionKey === undefined || !hasFlag(auth.flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY)) return undefined
  return new NtlmSessionSecurity('server', auth.sessionKey, auth.flags)
}
