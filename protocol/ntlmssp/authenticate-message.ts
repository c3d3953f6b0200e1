// AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3), the client's last NTLMSSP token:
//   0 Signature(8) 8 MessageType(4)=3 12 LmChallengeResponseFields(8)
//   20 NtChallengeResponseFields(8) 28 DomainNameFields(8) 36 UserNameFields(8)
//   44 WorkstationFields(8) 52 EncryptedRandomSessionKeyFields(8) 60 NegotiateFlags(4)
//   64 Version(8) 72 MIC(16) 88 Payload
// Version and MIC exist only when the payload leaves room for them: an older client's payload
// starts at 64 or 72. Whether the 16 bytes at 72 are a MIC is said by the MsvAvFlags of the NTLMv2
// response (MS-NLMP 3.2.5.1.2, 3.3.2 step 11); the decoder returns them when the room is there.
import assert from 'node:assert/strict'
import { NTLMSSP_NEGOTIATE, hasFlag } from './negotiate-flags.js'
import { NTLMSSP_MESSAGE_TYPE, NTLM_VERSION_BYTES, NtlmsspWriter, decodeNtlmssp, encodeNtlmText, type NtlmVersion, type NtlmsspDecoded } from './ntlmssp-reader.js'

export interface AuthenticateMessage {
  readonly flags: number
  readonly lmChallengeResponse: Buffer
  readonly ntChallengeResponse: Buffer
  readonly domainName: string
  readonly userName: string
  readonly workstation: string
  /** With NTLMSSP_NEGOTIATE_KEY_EXCH: the exported session key, RC4-encrypted with the key-exchange key. */
  readonly encryptedRandomSessionKey: Buffer
  /** Present when the payload starts at 72 or later and NTLMSSP_NEGOTIATE_VERSION is set. */
  readonly version?: NtlmVersion
  /** The 16 bytes at 72, present when the payload starts at 88 or later. */
  readonly mic?: Buffer
}

export const AUTHENTICATE_MIC_OFFSET = 72
export const MIC_BYTES = 16

const LM_FIELD = 12
const NT_FIELD = 20
const DOMAIN_FIELD = 28
const USER_FIELD = 36
const WORKSTATION_FIELD = 44
const SESSION_KEY_FIELD = 52
const FLAGS_OFFSET = 60
const FIELDS_END = 64
const VERSION_OFFSET = 64
const PAYLOAD_FIELDS = [LM_FIELD, NT_FIELD, DOMAIN_FIELD, USER_FIELD, WORKSTATION_FIELD, SESSION_KEY_FIELD]

export function decodeAuthenticateMessage(bytes: Uint8Array): NtlmsspDecoded<AuthenticateMessage> {
  return decodeNtlmssp(bytes, (r) => {
    r.header(NTLMSSP_MESSAGE_TYPE.AUTHENTICATE, FIELDS_END, 'AUTHENTICATE_MESSAGE')
    const flags = r.u32(FLAGS_OFFSET)
    const unicode = hasFlag(flags, NTLMSSP_NEGOTIATE.UNICODE)
    const firstPayload = r.firstPayloadOffset(PAYLOAD_FIELDS)
    const versionEnd = VERSION_OFFSET + NTLM_VERSION_BYTES
    const micEnd = AUTHENTICATE_MIC_OFFSET + MIC_BYTES
    const hasVersion = hasFlag(flags, NTLMSSP_NEGOTIATE.VERSION) && r.length >= versionEnd && firstPayload >= versionEnd
    const hasMic = r.length >= micEnd && firstPayload >= micEnd
    const fixedBytes = hasMic ? micEnd : hasVersion ? versionEnd : FIELDS_END
    const text = (field: number, what: string): string => r.text(r.payload(field, fixedBytes, what), unicode, what, field)
    const message: AuthenticateMessage = {
      flags,
      lmChallengeResponse: r.payload(LM_FIELD, fixedBytes, 'LmChallengeResponse'),
      ntChallengeResponse: r.payload(NT_FIELD, fixedBytes, 'NtChallengeResponse'),
      domainName: text(DOMAIN_FIELD, 'DomainName'),
      userName: text(USER_FIELD, 'UserName'),
      workstation: text(WORKSTATION_FIELD, 'Workstation'),
      encryptedRandomSessionKey: r.payload(SESSION_KEY_FIELD, fixedBytes, 'EncryptedRandomSessionKey'),
      ...(hasVersion ? { version: r.version(VERSION_OFFSET) } : {}),
      ...(hasMic ? { mic: r.copy(AUTHENTICATE_MIC_OFFSET, MIC_BYTES) } : {}),
    }
    return message
  })
}

/** The fixed part is 88 bytes with a MIC, 72 with a Version only, else 64. */
export function encodeAuthenticateMessage(m: AuthenticateMessage): Buffer {
  assert.equal(hasFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION), m.version !== undefined, 'AUTHENTICATE: Version present exactly when NTLMSSP_NEGOTIATE_VERSION is set')
  assert.ok(m.mic === undefined || m.mic.length === MIC_BYTES, 'AUTHENTICATE: MIC of 16 bytes')
  const fixedBytes = m.mic ? AUTHENTICATE_MIC_OFFSET + MIC_BYTES : m.version ? VERSION_OFFSET + NTLM_VERSION_BYTES : FIELDS_END
  const unicode = hasFlag(m.flags, NTLMSSP_NEGOTIATE.UNICODE)
  const w = new NtlmsspWriter(NTLMSSP_MESSAGE_TYPE.AUTHENTICATE, fixedBytes)
  w.fixedPart.writeUInt32LE(m.flags >>> 0, FLAGS_OFFSET)
  // Windows' payload order: domain, user, workstation, then the responses and the key.
  w.field(DOMAIN_FIELD, encodeNtlmText(m.domainName, unicode))
  w.field(USER_FIELD, encodeNtlmText(m.userName, unicode))
  w.field(WORKSTATION_FIELD, encodeNtlmText(m.workstation, unicode))
  w.field(LM_FIELD, m.lmChallengeResponse)
  w.field(NT_FIELD, m.ntChallengeResponse)
  w.field(SESSION_KEY_FIELD, m.encryptedRandomSessionKey)
  if (m.version) w.version(VERSION_OFFSET, m.version)
  if (m.mic) m.mic.copy(w.fixedPart, AUTHENTICATE_MIC_OFFSET)
  return w.finish()
}
