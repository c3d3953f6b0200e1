// The client side of SPNEGO (RFC 4178) around the NTLM initiator: the counterpart of
// spnego-acceptor for this project's own clients and tests. It offers NTLMSSP only, sends the NTLM
// NEGOTIATE optimistically, and exchanges mechListMICs when its AUTHENTICATE carried a MIC and
// signing was negotiated (as Samba's client does), then starts the RC4 streams afresh with the
// sequence numbers kept.
import assert from 'node:assert/strict'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../../protocol/ntlmssp/negotiate-flags.js'
import { NtlmSessionSecurity } from '../../protocol/ntlmssp/session-security.js'
import { NEG_STATE, NTLMSSP_OID, decodeNegotiationToken, encodeMechTypeList, encodeNegTokenInit, encodeNegTokenResp } from '../../protocol/spnego/spnego-token.js'
import { NtlmInitiator, type NtlmAuthenticateInputs, type NtlmInitiatorConfig } from './ntlm-initiator.js'

export type SpnegoInitiatorStep =
  | { readonly state: 'continue'; readonly token: Buffer }
  | { readonly state: 'done'; readonly sessionKey: Buffer | undefined; readonly sessionSecurity: NtlmSessionSecurity | undefined; readonly mechListMicExchanged: boolean }
  | { readonly state: 'failed'; readonly reason: string }

type Phase = 'initial' | 'await-challenge' | 'await-completion' | 'done'

export class SpnegoInitiator {
  private phase: Phase = 'initial'
  private readonly ntlm: NtlmInitiator
  private readonly mechTypesDer = encodeMechTypeList([NTLMSSP_OID])
  private result: { sessionKey: Buffer | undefined; security: NtlmSessionSecurity | undefined; micSent: boolean } | undefined

  constructor(config: NtlmInitiatorConfig) {
    this.ntlm = new NtlmInitiator(config)
  }

  /** The first token: negTokenInit offering NTLMSSP with its NEGOTIATE. */
  initialToken(): Buffer {
    assert.equal(this.phase, 'initial')
    this.phase = 'await-challenge'
    return encodeNegTokenInit({ mechTypes: [NTLMSSP_OID], mechToken: this.ntlm.negotiate() })
  }

  /** A token from the server. inputs are used on the CHALLENGE leg. */
  step(serverToken: Buffer, inputs: NtlmAuthenticateInputs): SpnegoInitiatorStep {
    const decoded = decodeNegotiationToken(serverToken)
    if (!decoded.ok) return this.fail(`SPNEGO: ${decoded.error.toString()}`)
    if (decoded.value.kind !== 'resp') return this.fail('SPNEGO: negTokenInit from the server in the middle of the exchange')
    const resp = decoded.value.resp
    if (resp.negState === NEG_STATE.REJECT) return this.fail('SPNEGO: the server rejected the exchange')
    if (this.phase === 'await-challenge') {
      if (resp.supportedMech !== undefined && resp.supportedMech !== NTLMSSP_OID) return this.fail(`SPNEGO: the server chose ${resp.supportedMech}`)
      if (resp.responseToken === undefined) return this.fail('SPNEGO: no CHALLENGE from the server')
      const r = this.ntlm.authenticate(resp.responseToken, inputs)
      if (!r.ok) return this.fail(r.reason)
      const security = r.sessionKey !== undefined && hasFlag(r.flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY) ? new NtlmSessionSecurity('client', r.sessionKey, r.flags) : undefined
      const sendMic = r.micSent && security !== undefined && hasFlag(r.flags, NTLMSSP_NEGOTIATE.SIGN)
      this.result = { sessionKey: r.sessionKey, security, micSent: sendMic }
      this.phase = 'await-completion'
      return { state: 'continue', token: encodeNegTokenResp({ responseToken: r.token, ...(sendMic && security ? { mechListMIC: security.sign(this.mechTypesDer) } : {}) }) }
    }
    if (this.phase === 'await-completion') {
      assert.ok(this.result)
      if (resp.negState !== NEG_STATE.ACCEPT_COMPLETED) return this.fail(`SPNEGO: final negState ${String(resp.negState)}`)
      const { sessionKey, security, micSent } = this.result
      if (micSent && security) {
        if (resp.mechListMIC === undefined) return this.fail('SPNEGO: the server sent no mechListMIC')
        const verdict = security.verify(resp.mechListMIC, this.mechTypesDer)
        if (!verdict.ok) return this.fail(`SPNEGO: server mechListMIC: ${verdict.reason}`)
        security.reinitializeSealingState()
      }
      this.phase = 'done'
      return { state: 'done', sessionKey, sessionSecurity: security, mechListMicExchanged: micSent }
    }
    return this.fail(`SPNEGO: a server token in phase ${this.phase}`)
  }

  private fail(reason: string): SpnegoInitiatorStep {
    this.phase = 'done'
    return { state: 'failed', reason }
  }
}
