// The client side of NTLMSSP with NTLMv2 (MS-NLMP 3.1.5), as a pure state machine: the
// counterpart of ntlm-acceptor for this project's own clients (swlab tools, tests). Randomness
// (client challenge, random session key) and the time come in as inputs.
//
// Like Windows and Samba: NTLMv2 with extended session security and key exchange; when the
// CHALLENGE carries MsvAvTimestamp, that timestamp goes into the client challenge, MsvAvFlags
// announces a MIC and the AUTHENTICATE carries one (MS-NLMP 3.1.5.1.2); the LMv2 response is then
// sent as zeros, as the spec says.
import assert from 'node:assert/strict'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../../protocol/ntlmssp/negotiate-flags.js'
import { AV_FLAGS, AV_ID, targetInfoOf, type AvPair } from '../../protocol/ntlmssp/av-pairs.js'
import { encodeNegotiateMessage } from '../../protocol/ntlmssp/negotiate-message.js'
import { decodeChallengeMessage } from '../../protocol/ntlmssp/challenge-message.js'
import { MIC_BYTES, AUTHENTICATE_MIC_OFFSET, encodeAuthenticateMessage } from '../../protocol/ntlmssp/authenticate-message.js'
import { CLIENT_CHALLENGE_BYTES, NTLMV2_RESP_TYPE, encodeNtlmv2ClientChallenge } from '../../protocol/ntlmssp/ntlmv2-response.js'
import { NT_HASH_BYTES, SESSION_KEY_BYTES, computeMic, encryptRandomSessionKey, lmv2Response, ntHash, ntProofStr, ntowfv2, sessionBaseKeyV2 } from '../../protocol/ntlmssp/ntlmv2-keys.js'
import { WINDOWS_10_VERSION, type NtlmVersion } from '../../protocol/ntlmssp/ntlmssp-reader.js'

export interface NtlmInitiatorConfig {
  readonly userName: string
  readonly domainName: string
  /** The password, or its NT hash; neither for anonymous. */
  readonly password?: string
  readonly ntHash?: Buffer
  readonly workstation: string
  /** Empty user, empty responses, no session key (MS-NLMP 3.2.5.1.2). */
  readonly anonymous?: boolean
  /** NEGOTIATE flags; the default is what Samba 4.17 asks for plus sealing. */
  readonly flags?: number
  readonly version?: NtlmVersion
}

/** What the AUTHENTICATE leg needs from outside. */
export interface NtlmAuthenticateInputs {
  /** 8 random bytes. */
  readonly clientChallenge: Buffer
  /** 16 random bytes: the exported session key under KEY_EXCH. */
  readonly randomSessionKey: Buffer
  /** The time as a FILETIME, used when the CHALLENGE has no MsvAvTimestamp. */
  readonly timestamp: bigint
}

export type NtlmInitiatorResult =
  | {
      readonly ok: true
      readonly token: Buffer
      /** The exported session key; undefined for anonymous. */
      readonly sessionKey: Buffer | undefined
      readonly flags: number
      readonly micSent: boolean
    }
  | { readonly ok: false; readonly reason: string }

export const DEFAULT_INITIATOR_FLAGS =
  (NTLMSSP_NEGOTIATE.UNICODE |
    NTLMSSP_NEGOTIATE.REQUEST_TARGET |
    NTLMSSP_NEGOTIATE.SIGN |
    NTLMSSP_NEGOTIATE.SEAL |
    NTLMSSP_NEGOTIATE.NTLM |
    NTLMSSP_NEGOTIATE.ALWAYS_SIGN |
    NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY |
    NTLMSSP_NEGOTIATE.VERSION |
    NTLMSSP_NEGOTIATE.NEGOTIATE_128 |
    NTLMSSP_NEGOTIATE.KEY_EXCH) >>>
  0

export class NtlmInitiator {
  private negotiateToken: Buffer | undefined
  private readonly flags: number

  constructor(private readonly config: NtlmInitiatorConfig) {
    this.flags = (config.flags ?? DEFAULT_INITIATOR_FLAGS) >>> 0
    if (!config.anonymous) assert.ok((config.password !== undefined) !== (config.ntHash !== undefined), 'a password or an NT hash')
  }

  negotiate(): Buffer {
    assert.equal(this.negotiateToken, undefined, 'NEGOTIATE sent twice')
    this.negotiateToken = encodeNegotiateMessage({ flags: this.flags, ...(hasFlag(this.flags, NTLMSSP_NEGOTIATE.VERSION) ? { version: this.config.version ?? WINDOWS_10_VERSION } : {}) })
    return this.negotiateToken
  }

  authenticate(challengeToken: Buffer, inputs: NtlmAuthenticateInputs): NtlmInitiatorResult {
    assert.ok(this.negotiateToken !== undefined, 'CHALLENGE before NEGOTIATE')
    assert.equal(inputs.clientChallenge.length, CLIENT_CHALLENGE_BYTES)
    assert.equal(inputs.randomSessionKey.length, SESSION_KEY_BYTES)
    const decoded = decodeChallengeMessage(challengeToken)
    if (!decoded.ok) return { ok: false, reason: `CHALLENGE_MESSAGE: ${decoded.error.toString()}` }
    const challenge = decoded.value
    const info = targetInfoOf(challenge.targetInfo)
    if (!info.ok) return { ok: false, reason: `CHALLENGE TargetInfo: ${info.error.toString()}` }
    // The AUTHENTICATE's flags: what both sides agreed, plus the client's own VERSION.
    const flags = ((challenge.flags & this.flags) | (this.flags & NTLMSSP_NEGOTIATE.VERSION)) >>> 0
    const unicode = hasFlag(flags, NTLMSSP_NEGOTIATE.UNICODE)
    const version = hasFlag(flags, NTLMSSP_NEGOTIATE.VERSION) ? { version: this.config.version ?? WINDOWS_10_VERSION } : {}
    if (!unicode && !hasFlag(flags, NTLMSSP_NEGOTIATE.OEM)) return { ok: false, reason: 'the server chose neither UNICODE nor OEM' }

    if (this.config.anonymous) {
      const token = encodeAuthenticateMessage({
        flags: (flags | NTLMSSP_NEGOTIATE.ANONYMOUS) >>> 0,
        lmChallengeResponse: Buffer.alloc(1),
        ntChallengeResponse: Buffer.alloc(0),
        domainName: '',
        userName: '',
        workstation: this.config.workstation,
        encryptedRandomSessionKey: Buffer.alloc(0),
        ...version,
      })
      return { ok: true, token, sessionKey: undefined, flags, micSent: false }
    }

    const micSent = info.value.timestamp !== undefined
    const timestamp = info.value.timestamp ?? inputs.timestamp
    // The server's pairs as received, MsvAvFlags (MIC present) added when a MIC is sent.
    const pairs: AvPair[] = challenge.targetInfo.filter((p) => !(micSent && p.id === AV_ID.FLAGS))
    if (micSent) {
      const value = Buffer.alloc(4)
      value.writeUInt32LE(((info.value.flags ?? 0) | AV_FLAGS.MIC_PRESENT) >>> 0)
      pairs.push({ id: AV_ID.FLAGS, value })
    }
    const blob = encodeNtlmv2ClientChallenge({ respType: NTLMV2_RESP_TYPE, hiRespType: NTLMV2_RESP_TYPE, timestamp, challengeFromClient: inputs.clientChallenge, avPairs: pairs, trailing: Buffer.alloc(4) })
    const hash = this.config.ntHash ?? ntHash(this.config.password ?? '')
    assert.equal(hash.length, NT_HASH_BYTES)
    const key = ntowfv2(hash, this.config.userName, this.config.domainName)
    const proof = ntProofStr(key, challenge.serverChallenge, blob)
    const baseKey = sessionBaseKeyV2(key, proof)
    const keyExch = hasFlag(flags, NTLMSSP_NEGOTIATE.KEY_EXCH)
    const sessionKey = keyExch ? Buffer.from(inputs.randomSessionKey) : baseKey
    const message = {
      flags,
      // MS-NLMP 3.1.5.1.2: with MsvAvTimestamp in the CHALLENGE, LmChallengeResponse is Z(24).
      lmChallengeResponse: micSent ? Buffer.alloc(24) : lmv2Response(key, challenge.serverChallenge, inputs.clientChallenge),
      ntChallengeResponse: Buffer.concat([proof, blob]),
      domainName: this.config.domainName,
      userName: this.config.userName,
      workstation: this.config.workstation,
      encryptedRandomSessionKey: keyExch ? encryptRandomSessionKey(baseKey, inputs.randomSessionKey) : Buffer.alloc(0),
      ...version,
      ...(micSent ? { mic: Buffer.alloc(MIC_BYTES) } : {}),
    }
    const token = encodeAuthenticateMessage(message)
    if (micSent) computeMic(sessionKey, this.negotiateToken, challengeToken, token).copy(token, AUTHENTICATE_MIC_OFFSET)
    return { ok: true, token, sessionKey, flags, micSent }
  }
}
