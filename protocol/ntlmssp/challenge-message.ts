// CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2), the server's NTLMSSP token:
//   0 Signature(8) 8 MessageType(4)=2 12 TargetNameFields(8) 20 NegotiateFlags(4)
//   28 ServerChallenge(8) 36 Reserved(8) 40 TargetInfoFields(8)
//   48 Version(8, with NTLMSSP_NEGOTIATE_VERSION) 56 Payload
// TargetName is UTF-16LE with NTLMSSP_NEGOTIATE_UNICODE, else OEM; TargetInfo is an AV_PAIR list.
import assert from 'node:assert/strict'
import { NTLMSSP_NEGOTIATE, hasFlag } from './negotiate-flags.js'
import { encodeAvPairs, readAvPairs, type AvPair } from './av-pairs.js'
import { NTLMSSP_MESSAGE_TYPE, NTLM_VERSION_BYTES, NtlmsspReader, NtlmsspWriter, decodeNtlmssp, encodeNtlmText, type NtlmVersion, type NtlmsspDecoded } from './ntlmssp-reader.js'

export const SERVER_CHALLENGE_BYTES = 8

export interface ChallengeMessage {
  readonly flags: number
  readonly targetName: string
  readonly serverChallenge: Buffer
  /** The TargetInfo AV pairs, without MsvAvEOL; empty when TargetInfoFields is empty. */
  readonly targetInfo: readonly AvPair[]
  /** With NTLMSSP_NEGOTIATE_VERSION. */
  readonly version?: NtlmVersion
}

const TARGET_NAME_FIELD = 12
const FLAGS_OFFSET = 20
const SERVER_CHALLENGE_OFFSET = 24
const TARGET_INFO_FIELD = 40
const FIELDS_END = 48
const VERSION_OFFSET = 48

export function decodeChallengeMessage(bytes: Uint8Array): NtlmsspDecoded<ChallengeMessage> {
  return decodeNtlmssp(bytes, (r) => {
    r.header(NTLMSSP_MESSAGE_TYPE.CHALLENGE, FIELDS_END, 'CHALLENGE_MESSAGE')
    const flags = r.u32(FLAGS_OFFSET)
    const firstPayload = r.firstPayloadOffset([TARGET_NAME_FIELD, TARGET_INFO_FIELD])
    const hasVersion = hasFlag(flags, NTLMSSP_NEGOTIATE.VERSION) && r.length >= VERSION_OFFSET + NTLM_VERSION_BYTES && firstPayload >= VERSION_OFFSET + NTLM_VERSION_BYTES
    const fixedBytes = hasVersion ? VERSION_OFFSET + NTLM_VERSION_BYTES : FIELDS_END
    const unicode = hasFlag(flags, NTLMSSP_NEGOTIATE.UNICODE)
    const targetName = r.text(r.payload(TARGET_NAME_FIELD, fixedBytes, 'TargetName'), unicode, 'TargetName', TARGET_NAME_FIELD)
    const infoBytes = r.payload(TARGET_INFO_FIELD, fixedBytes, 'TargetInfo')
    let targetInfo: AvPair[] = []
    if (infoBytes.length > 0) {
      const sub = new NtlmsspReader(infoBytes)
      const { pairs, endOffset } = readAvPairs(sub, 0, 'TargetInfo')
      if (endOffset !== infoBytes.length) r.fail(`TargetInfo: ${infoBytes.length - endOffset} bytes after MsvAvEOL`, TARGET_INFO_FIELD)
      targetInfo = pairs
    }
    const message: ChallengeMessage = {
      flags,
      targetName,
      serverChallenge: r.copy(SERVER_CHALLENGE_OFFSET, SERVER_CHALLENGE_BYTES),
      targetInfo,
      ...(hasVersion ? { version: r.version(VERSION_OFFSET) } : {}),
    }
    return message
  })
}

/** TargetInfo is written (MsvAvEOL at least) exactly when NTLMSSP_NEGOTIATE_TARGET_INFO is set. */
export function encodeChallengeMessage(m: ChallengeMessage): Buffer {
  assert.equal(hasFlag(m.flags, NTLMSSP_NEGOTIATE.VERSION), m.version !== undefined, 'CHALLENGE: Version present exactly when NTLMSSP_NEGOTIATE_VERSION is set')
  assert.equal(m.serverChallenge.length, SERVER_CHALLENGE_BYTES, 'CHALLENGE: ServerChallenge of 8 bytes')
  assert.ok(hasFlag(m.flags, NTLMSSP_NEGOTIATE.TARGET_INFO) || m.targetInfo.length === 0, 'CHALLENGE: TargetInfo without NTLMSSP_NEGOTIATE_TARGET_INFO')
  const w = new NtlmsspWriter(NTLMSSP_MESSAGE_TYPE.CHALLENGE, m.version ? VERSION_OFFSET + NTLM_VERSION_BYTES : FIELDS_END)
  w.fixedPart.writeUInt32LE(m.flags >>> 0, FLAGS_OFFSET)
  m.serverChallenge.copy(w.fixedPart, SERVER_CHALLENGE_OFFSET)
  w.field(TARGET_NAME_FIELD, encodeNtlmText(m.targetName, hasFlag(m.flags, NTLMSSP_NEGOTIATE.UNICODE)))
  w.field(TARGET_INFO_FIELD, hasFlag(m.flags, NTLMSSP_NEGOTIATE.TARGET_INFO) ? encodeAvPairs(m.targetInfo) : Buffer.alloc(0))
  if (m.version) w.version(VERSION_OFFSET, m.version)
  return w.finish()
}
