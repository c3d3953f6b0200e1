// NTLMv2_RESPONSE and NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.8, 2.2.2.7): the NtChallengeResponse
// of an NTLMv2 AUTHENTICATE is NTProofStr(16) followed by the client challenge blob
//   0 RespType(1)=1 1 HiRespType(1)=1 2 Reserved1(2) 4 Reserved2(4) 8 TimeStamp(8)
//   16 ChallengeFromClient(8) 24 Reserved3(4) 28 AvPairs(... MsvAvEOL) [trailing bytes]
// Clients append bytes after the list (MS-NLMP 3.3.2's temp ends with Z(4)); NTProofStr covers the
// blob as sent, so the raw blob is kept next to the parsed fields.
import assert from 'node:assert/strict'
import { encodeAvPairs, readAvPairs, type AvPair } from './av-pairs.js'
import { decodeNtlmssp, NtlmsspReader, type NtlmsspDecoded } from './ntlmssp-reader.js'

export const NT_PROOF_STR_BYTES = 16
export const CLIENT_CHALLENGE_BYTES = 8
/** The fixed part of NTLMv2_CLIENT_CHALLENGE, before AvPairs. */
export const NTLMV2_CLIENT_CHALLENGE_FIXED_BYTES = 28
/** An NTLMv1 response is 24 bytes; anything longer is NTLMv2 (MS-NLMP 3.3.1, 3.3.2). */
export const NTLMV1_RESPONSE_BYTES = 24
/** MS-NLMP 2.2.2.7: RespType and HiRespType are both 1. */
export const NTLMV2_RESP_TYPE = 1

export interface Ntlmv2ClientChallenge {
  readonly respType: number
  readonly hiRespType: number
  /** A FILETIME. */
  readonly timestamp: bigint
  readonly challengeFromClient: Buffer
  /** Without MsvAvEOL. */
  readonly avPairs: readonly AvPair[]
  /** The bytes after MsvAvEOL (usually four zeros). */
  readonly trailing: Buffer
}

export interface Ntlmv2Response {
  readonly ntProofStr: Buffer
  readonly clientChallenge: Ntlmv2ClientChallenge
  /** The client challenge blob as sent: what NTProofStr is computed over, after the server challenge. */
  readonly blob: Buffer
}

/** The NtChallengeResponse of an NTLMv2 client; a truncated blob or an AvPairs list without MsvAvEOL is malformed. */
export function decodeNtlmv2Response(bytes: Uint8Array): NtlmsspDecoded<Ntlmv2Response> {
  return decodeNtlmssp(bytes, (r) => {
    if (r.length < NT_PROOF_STR_BYTES + NTLMV2_CLIENT_CHALLENGE_FIXED_BYTES) r.fail(`NTLMv2 response of ${r.length} bytes is shorter than NTProofStr and the client challenge header`, 0)
    const blob = r.copy(NT_PROOF_STR_BYTES, r.length - NT_PROOF_STR_BYTES)
    const b = new NtlmsspReader(blob)
    const { pairs, endOffset } = readAvPairs(b, NTLMV2_CLIENT_CHALLENGE_FIXED_BYTES, 'NTLMv2 AvPairs')
    return {
      ntProofStr: r.copy(0, NT_PROOF_STR_BYTES),
      blob,
      clientChallenge: {
        respType: b.u8(0),
        hiRespType: b.u8(1),
        timestamp: b.u64(8),
        challengeFromClient: b.copy(16, CLIENT_CHALLENGE_BYTES),
        avPairs: pairs,
        trailing: b.copy(endOffset, blob.length - endOffset),
      },
    }
  })
}

/** The client challenge blob (the temp of MS-NLMP 3.3.2 after its first two bytes and Z(6) ... up to and including the trailing bytes). */
export function encodeNtlmv2ClientChallenge(c: Ntlmv2ClientChallenge): Buffer {
  assert.equal(c.challengeFromClient.length, CLIENT_CHALLENGE_BYTES, 'ChallengeFromClient of 8 bytes')
  const fixed = Buffer.alloc(NTLMV2_CLIENT_CHALLENGE_FIXED_BYTES)
  fixed.writeUInt8(c.respType, 0)
  fixed.writeUInt8(c.hiRespType, 1)
  fixed.writeBigUInt64LE(c.timestamp, 8)
  c.challengeFromClient.copy(fixed, 16)
  return Buffer.concat([fixed, encodeAvPairs(c.avPairs), c.trailing])
}
