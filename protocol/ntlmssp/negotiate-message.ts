// NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), the client's first NTLMSSP token:
//   0 Signature(8) 8 MessageType(4)=1 12 NegotiateFlags(4) 16 DomainNameFields(8)
//   24 WorkstationFields(8) 32 Version(8, with NTLMSSP_NEGOTIATE_VERSION) 40 Payload
// Domain and workstation are OEM text, present only with the *_SUPPLIED flags.
import assert from 'node:assert/strict'
import { NTLMSSP_NEGOTIATE, hasFlag } from './negotiate-flags.js'
import { NTLMSSP_MESSAGE_TYPE, NTLM_VERSION_BYTES, NtlmsspWriter, decodeNtlmssp, encodeNtlmText, type NtlmVersion, type NtlmsspDecoded } from './ntlmssp-reader.js'

export interface NegotiateMessage {
  readonly flags: number
  /** With OEM_DOMAIN_SUPPLIED. */
  readonly domainName?: string
  /** With OEM_WORKSTATION_SUPPLIED. */
  readonly workstation?: string
  /** With NTLMSSP_NEGOTIATE_VERSION. */
  readonly version?: NtlmVersion
}

/** Signature, MessageType and NegotiateFlags: early clients (and some tools) send no more. */
const MINIMAL_BYTES = 16
const FIELDS_END = 32
const DOMAIN_FIELD = 16
const WORKSTATION_FIELD = 24
const VERSION_OFFSET = 32

export function decodeNegotiateMessage(bytes: Uint8Array): NtlmsspDecoded<NegotiateMessage> {
  return decodeNtlmssp(bytes, (r) => {
    r.header(NTLMSSP_MESSAGE_TYPE.NEGOTIATE, MINIMAL_BYTES, 'NEGOTIATE_MESSAGE')
    const flags = r.u32(12)
    if (r.length < FIELDS_END) return { flags }
    const firstPayload = r.firstPayloadOffset([DOMAIN_FIELD, WORKSTATION_FIELD])
    const hasVersion = hasFlag(flags, NTLMSSP_NEGOTIATE.VERSION) && r.length >= VERSION_OFFSET + NTLM_VERSION_BYTES && firstPayload >= VERSION_OFFSET + NTLM_VERSION_BYTES
    const fixedBytes = hasVersion ? VERSION_OFFSET + NTLM_VERSION_BYTES : FIELDS_END
    const message: { -readonly [K in keyof NegotiateMessage]: NegotiateMessage[K] } = { flags }
    if (hasFlag(flags, NTLMSSP_NEGOTIATE.OEM_DOMAIN_SUPPLIED)) message.domainName = r.text(r.payload(DOMAIN_FIELD, fixedBytes, 'DomainName'), false, 'DomainName', DOMAIN_FIELD)
    if (hasFlag(flags, NTLMSSP_NEGOTIATE.OEM_WORKSTATION_SUPPLIED)) message.workstation = r.text(r.payload(WORKSTATION_FIELD, fixedBytes, 'Workstation'), false, 'Workstation', WORKSTATION_FIELD)
    if (hasVersion) message.version = r.version(VERSION_OFFSET)
    return message
  })
}

export function encodeNegotiateMessage(m: NegotiateMessage): Buffer {
  assert.equal(hasFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION), m.version !== undefined, 'NEGOTIATE: Version present exactly when NTLMSSP_NEGOTIATE_VERSION is set')
  assert.equal(hasFlag(m.flags, NTLMSSP_NEGOTIATE.OEM_DOMAIN_SUPPLIED), m.domainName !== undefined, 'NEGOTIATE: DomainName present exactly with OEM_DOMAIN_SUPPLIED')
  assert.equal(hasFlag(m.flags, NTLMSSP_NEGOTIATE.OEM_WORKSTATION_SUPPLIED), m.workstation !== undefined, 'NEGOTIATE: Workstation present exactly with OEM_WORKSTATION_SUPPLIED')
  const w = new NtlmsspWriter(NTLMSSP_MESSAGE_TYPE.NEGOTIATE, m.version ? VERSION_OFFSET + NTLM_VERSION_BYTES : FIELDS_END)
  w.fixedPart.writeUInt32LE(m.flags >>> 0, 12)
  w.field(DOMAIN_FIELD, encodeNtlmText(m.domainName ?? '', false))
  w.field(WORKSTATION_FIELD, encodeNtlmText(m.workstation ?? '', false))
  if (m.version) w.version(VERSION_OFFSET, m.version)
  return w.finish()
}
