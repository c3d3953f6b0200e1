// The server side of NTLMSSP with NTLMv2 (MS-NLMP 3.2.5 from the server's view, 3.3.2), as a
// pure state machine: NEGOTIATE in, CHALLENGE out; AUTHENTICATE in, a verdict out. Randomness
// (the server challenge) and time (the Timestamp AV pair) come in as inputs; nothing here reads a
// clock or draws a number.
//
// The verdicts are the NTSTATUS values Windows gives (and Samba 4.17 follows):
// - a malformed NEGOTIATE or AUTHENTICATE, or an NTLMv2 blob that does not parse, is
//   STATUS_INVALID_PARAMETER (smbtorture's smb2.session.ntlmssp_bug14932 sends the latter); the blob
//   is parsed before the password is checked, as Samba's ntlmssp_server_preauth does;
// - an unknown user, a wrong password, or an NTLMv1 response (refused like Windows at
//   LmCompatibilityLevel 5) is STATUS_LOGON_FAILURE;
// - a MIC that does not match is STATUS_INVALID_PARAMETER (Samba's ntlmssp_server_postauth).
// Anonymous (MS-NLMP 3.2.5.1.2, `smbclient -U%`): an empty user name with an empty NT response and
// an empty or one-zero-byte LM response. It succeeds with no session key; what an anonymous
// session may reach is the caller's decision.
//
// The user's domain: NTOWFv2 mixes in the domain as the client sent it. Like Samba's
// ntlm_password_check, the check tries that domain, then its upper case, then no domain.
import assert from 'node:assert/strict'
import { timingSafeEqual } from 'node:crypto'
import { NT_STATUS_AUTH } from '../../protocol/smb2/ntstatus.js'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../../protocol/ntlmssp/negotiate-flags.js'
import { AV_FLAGS, avPairsOf, targetInfoOf, type TargetInfo } from '../../protocol/ntlmssp/av-pairs.js'
import { decodeNegotiateMessage } from '../../protocol/ntlmssp/negotiate-message.js'
import { SERVER_CHALLENGE_BYTES, encodeChallengeMessage } from '../../protocol/ntlmssp/challenge-message.js'
import { decodeAuthenticateMessage, type AuthenticateMessage } from '../../protocol/ntlmssp/authenticate-message.js'
import { NTLMV1_RESPONSE_BYTES, decodeNtlmv2Response } from '../../protocol/ntlmssp/ntlmv2-response.js'
import { SESSION_KEY_BYTES, computeMic, exportedSessionKey, ntProofStr, ntowfv2, sessionBaseKeyV2, upcaseUnicode } from '../../protocol/ntlmssp/ntlmv2-keys.js'
import { WINDOWS_10_VERSION, type NtlmVersion } from '../../protocol/ntlmssp/ntlmssp-reader.js'
import type { NtlmAccountLookup } from './ntlm-accounts.js'

/** The names the server gives in its CHALLENGE (the TargetInfo AV pairs). */
export interface NtlmServerNames {
  /** MsvAvNbComputerName, also the TargetName of a standalone server. impacket indexes this pair: it must be there. */
  readonly nbComputerName: string
  /** MsvAvNbDomainName: the workgroup, or the computer name on a standalone server. */
  readonly nbDomainName: string
  /** The DNS pairs are left out when undefined (a server without DNS names, or MS-NLMP 4.2.4's example). */
  readonly dnsComputerName?: string
  readonly dnsDomainName?: string
  readonly dnsTreeName?: string
}

export interface NtlmAcceptorConfig {
  readonly names: NtlmServerNames
  readonly accounts: NtlmAccountLookup
  /** The VERSION the server reports when the client asks for one. */
  readonly version?: NtlmVersion
}

/** What the NEGOTIATE leg needs from outside. */
export interface NtlmChallengeInputs {
  /** 8 random bytes. */
  readonly serverChallenge: Buffer
  /**
   * The current time as a FILETIME (100 ns since 1601), for the MsvAvTimestamp AV pair. With it, a
   * current client adds a MIC to its AUTHENTICATE (and Samba's then wants a SPNEGO mechListMIC,
   * which spnego-acceptor gives); without it the pair is left out.
   */
  readonly timestamp?: bigint
}

export interface NtlmAuthenticated {
  /** The account's name as the table spells it; '' for anonymous. */
  readonly userName: string
  /** The user name and domain as the client sent them. */
  readonly clientUserName: string
  readonly clientDomainName: string
  readonly workstation: string
  readonly anonymous: boolean
  /** The exported session key (16 bytes); undefined for anonymous. The SMB2 session key is its first 16 bytes. */
  readonly sessionKey: Buffer | undefined
  /** The flags in force: the CHALLENGE's as the AUTHENTICATE confirmed them. */
  readonly flags: number
  /** The AUTHENTICATE carried a MIC and it matched (MS-NLMP 3.3.2 step 11). */
  readonly micVerified: boolean
}

export type NtlmChallengeOutcome = { readonly status: typeof NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED; readonly token: Buffer } | NtlmFailure
export type NtlmAuthenticateOutcome = { readonly status: typeof NT_STATUS_AUTH.SUCCESS; readonly authenticated: NtlmAuthenticated } | NtlmFailure
export interface NtlmFailure {
  readonly status: typeof NT_STATUS_AUTH.INVALID_PARAMETER | typeof NT_STATUS_AUTH.LOGON_FAILURE
  /** One line for the node's log; never sent to the client. */
  readonly reason: string
}

/** The flags the server echoes when the client asks for them (MS-NLMP 3.2.5.1.1); the rest it sets or clears itself. */
const ECHOED_FLAGS = [
  NTLMSSP_NEGOTIATE.SIGN,
  NTLMSSP_NEGOTIATE.SEAL,
  NTLMSSP_NEGOTIATE.ALWAYS_SIGN,
  NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY,
  NTLMSSP_NEGOTIATE.IDENTIFY,
  NTLMSSP_NEGOTIATE.VERSION,
  NTLMSSP_NEGOTIATE.NEGOTIATE_128,
  NTLMSSP_NEGOTIATE.KEY_EXCH,
  NTLMSSP_NEGOTIATE.NEGOTIATE_56,
].reduce((a, b) => a | b, 0)

/** The flags the AUTHENTICATE may keep of those the CHALLENGE offered; anything else it sets is ignored. */
const CONFIRMED_FLAGS = ECHOED_FLAGS | NTLMSSP_NEGOTIATE.UNICODE | NTLMSSP_NEGOTIATE.OEM | NTLMSSP_NEGOTIATE.NTLM

type State = { readonly name: 'negotiate' } | { readonly name: 'authenticate'; readonly negotiate: Buffer; readonly challenge: Buffer; readonly serverChallenge: Buffer; readonly flags: number } | { readonly name: 'done' }

export class NtlmAcceptor {
  private state: State = { name: 'negotiate' }

  constructor(private readonly config: NtlmAcceptorConfig) {
    assert.ok(config.names.nbComputerName.length > 0, 'the server needs a NetBIOS computer name')
  }

  /** 'negotiate' (waiting for NEGOTIATE), 'authenticate' (CHALLENGE sent), 'done' (a verdict was given). */
  get phase(): State['name'] {
    return this.state.name
  }

  /** NEGOTIATE_MESSAGE in, CHALLENGE_MESSAGE out. */
  challenge(negotiateToken: Buffer, inputs: NtlmChallengeInputs): NtlmChallengeOutcome {
    assert.equal(this.state.name, 'negotiate', 'NTLM acceptor: NEGOTIATE after the first leg')
    assert.equal(inputs.serverChallenge.length, SERVER_CHALLENGE_BYTES, 'server challenge of 8 bytes')
    const decoded = decodeNegotiateMessage(negotiateToken)
    if (!decoded.ok) {
      this.state = { name: 'done' }
      return { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason: `NEGOTIATE_MESSAGE: ${decoded.error.toString()}` }
    }
    const requested = decoded.value.flags
    const unicode = hasFlag(requested, NTLMSSP_NEGOTIATE.UNICODE)
    // Always NTLM, TargetInfo and the target type of a standalone server; TargetName is always
    // filled in, REQUEST_TARGET echoed.
    let flags = (requested & (ECHOED_FLAGS | NTLMSSP_NEGOTIATE.REQUEST_TARGET)) | NTLMSSP_NEGOTIATE.NTLM | NTLMSSP_NEGOTIATE.TARGET_INFO | NTLMSSP_NEGOTIATE.TARGET_TYPE_SERVER
    flags |= unicode ? NTLMSSP_NEGOTIATE.UNICODE : NTLMSSP_NEGOTIATE.OEM
    // MS-NLMP 3.3.1: with extended session security, NEGOTIATE_LM_KEY is not set (it is never set here).
    flags >>>= 0
    const names = this.config.names
    const info: TargetInfo = {
      nbDomainName: names.nbDomainName,
      nbComputerName: names.nbComputerName,
      ...(names.dnsDomainName !== undefined ? { dnsDomainName: names.dnsDomainName } : {}),
      ...(names.dnsComputerName !== undefined ? { dnsComputerName: names.dnsComputerName } : {}),
      ...(names.dnsTreeName !== undefined ? { dnsTreeName: names.dnsTreeName } : {}),
      ...(inputs.timestamp !== undefined ? { timestamp: inputs.timestamp } : {}),
    }
    const token = encodeChallengeMessage({
      flags,
      targetName: names.nbComputerName,
      serverChallenge: Buffer.from(inputs.serverChallenge),
      targetInfo: avPairsOf(info),
      ...(hasFlag(flags, NTLMSSP_NEGOTIATE.VERSION) ? { version: this.config.version ?? WINDOWS_10_VERSION } : {}),
    })
    this.state = { name: 'authenticate', negotiate: Buffer.from(negotiateToken), challenge: token, serverChallenge: Buffer.from(inputs.serverChallenge), flags }
    return { status: NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, token }
  }

  /** AUTHENTICATE_MESSAGE in, the verdict out. The acceptor is done after it, whatever it says. */
  authenticate(authenticateToken: Buffer): NtlmAuthenticateOutcome {
    const state = this.state
    assert.equal(state.name, 'authenticate', 'NTLM acceptor: AUTHENTICATE before CHALLENGE or after the verdict')
    this.state = { name: 'done' }
    const decoded = decodeAuthenticateMessage(authenticateToken)
    if (!decoded.ok) return invalid(`AUTHENTICATE_MESSAGE: ${decoded.error.toString()}`)
    const m = decoded.value
    const flags = ((m.flags & CONFIRMED_FLAGS & state.flags) | (state.flags & ~CONFIRMED_FLAGS)) >>> 0

    if (isAnonymous(m)) {
      return {
        status: NT_STATUS_AUTH.SUCCESS,
        authenticated: { userName: '', clientUserName: '', clientDomainName: m.domainName, workstation: m.workstation, anonymous: true, sessionKey: undefined, flags, micVerified: false },
      }
    }
    if (m.ntChallengeResponse.length <= NTLMV1_RESPONSE_BYTES) {
      return m.ntChallengeResponse.length === 0 && m.userName.length > 0
        ? logonFailure(`user ${JSON.stringify(m.userName)}: no NT response (LM-only authentication is refused)`)
        : logonFailure(`user ${JSON.stringify(m.userName)}: NTLMv1 response of ${m.ntChallengeResponse.length} bytes (only NTLMv2 is accepted)`)
    }
    // Samba's ntlmssp_server_preauth parses the blob before anything else: a blob that does not
    // parse is INVALID_PARAMETER whatever the password.
    const v2 = decodeNtlmv2Response(m.ntChallengeResponse)
    if (!v2.ok) return invalid(`user ${JSON.stringify(m.userName)}: NTLMv2 response: ${v2.error.toString()}`)
    const clientInfo = targetInfoOf(v2.value.clientChallenge.avPairs)
    if (!clientInfo.ok) return invalid(`user ${JSON.stringify(m.userName)}: NTLMv2 AvPairs: ${clientInfo.error.toString()}`)

    const account = this.config.accounts(m.userName, m.domainName)
    if (account === undefined) return logonFailure(`unknown user ${JSON.stringify(m.userName)} (domain ${JSON.stringify(m.domainName)})`)

    let baseKey: Buffer | undefined
    for (const domain of domainCandidates(m.domainName)) {
      const key = ntowfv2(account.ntHash, m.userName, domain)
      const proof = ntProofStr(key, state.serverChallenge, v2.value.blob)
      if (timingSafeEqual(proof, v2.value.ntProofStr)) {
        baseKey = sessionBaseKeyV2(key, proof)
        break
      }
    }
    if (baseKey === undefined) return logonFailure(`user ${JSON.stringify(m.userName)}: wrong password (NTProofStr does not match)`)

    const keyExch = hasFlag(flags, NTLMSSP_NEGOTIATE.KEY_EXCH)
    if (keyExch && m.encryptedRandomSessionKey.length !== SESSION_KEY_BYTES) {
      return invalid(`user ${JSON.stringify(m.userName)}: KEY_EXCH with an EncryptedRandomSessionKey of ${m.encryptedRandomSessionKey.length} bytes`)
    }
    const sessionKey = exportedSessionKey(baseKey, keyExch, m.encryptedRandomSessionKey)

    let micVerified = false
    if (((clientInfo.value.flags ?? 0) & AV_FLAGS.MIC_PRESENT) !== 0) {
      if (m.mic === undefined) return invalid(`user ${JSON.stringify(m.userName)}: MsvAvFlags announce a MIC but the AUTHENTICATE has no room for one`)
      const expected = computeMic(sessionKey, state.negotiate, state.challenge, authenticateToken)
      if (!timingSafeEqual(expected, m.mic)) return invalid(`user ${JSON.stringify(m.userName)}: the AUTHENTICATE MIC does not match`)
      micVerified = true
    }
    return {
      status: NT_STATUS_AUTH.SUCCESS,
      authenticated: { userName: account.userName, clientUserName: m.userName, clientDomainName: m.domainName, workstation: m.workstation, anonymous: false, sessionKey, flags, micVerified },
    }
  }
}

/** MS-NLMP 3.2.5.1.2 / 3.3.2: anonymous is an empty user with empty responses (LM may be one zero byte). */
function isAnonymous(m: AuthenticateMessage): boolean {
  const lm = m.lmChallengeResponse
  return m.userName === '' && m.ntChallengeResponse.length === 0 && (lm.length === 0 || (lm.length === 1 && lm[0] === 0))
}

/** The domains NTOWFv2 is tried with, as Samba's ntlm_password_check: as sent, upper case, none. */
function domainCandidates(domain: string): string[] {
  return [...new Set([domain, upcaseUnicode(domain), ''])]
}

function invalid(reason: string): NtlmFailure {
  return { status: NT_STATUS_AUTH.INVALID_PARAMETER, reason }
}

function logonFailure(reason: string): NtlmFailure {
  return { status: NT_STATUS_AUTH.LOGON_FAILURE, reason }
}
