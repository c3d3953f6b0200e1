// The NTLMv2 computations of MS-NLMP 3.3.2 and 3.1.5.1.2 / 3.2.5.1.2, shared by the server
// (core/auth/ntlm-acceptor) and any client-side encoder:
//   NTOWFv1         = MD4(UNICODE(Password))                              (the NT hash)
//   NTOWFv2         = HMAC_MD5(NTOWFv1, UNICODE(Uppercase(User) + UserDom))
//   NTProofStr      = HMAC_MD5(NTOWFv2, ServerChallenge + temp)          (temp: the client challenge blob)
//   LMv2 response   = HMAC_MD5(NTOWFv2, ServerChallenge + ClientChallenge) + ClientChallenge
//   SessionBaseKey  = HMAC_MD5(NTOWFv2, NTProofStr)
//   KeyExchangeKey  = SessionBaseKey                                     (NTLMv2, MS-NLMP 3.4.5.1)
//   ExportedSessionKey = RC4(KeyExchangeKey, EncryptedRandomSessionKey) with KEY_EXCH, else KeyExchangeKey
//   MIC             = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with MIC zeroed)
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { md4 } from '../crypto/md4.js'
import { rc4 } from '../crypto/rc4.js'
import { AUTHENTICATE_MIC_OFFSET, MIC_BYTES } from './authenticate-message.js'

export const NT_HASH_BYTES = 16
export const SESSION_KEY_BYTES = 16

function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** NTOWFv1: the NT hash of a password. */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'))
}

/**
 * Upper case as Windows' RtlUpcaseUnicodeChar does it: one UTF-16 unit to one, so a character whose
 * JavaScript upper case is longer ('ß' -> 'SS') stays as it is.
 */
export function upcaseUnicode(text: string): string {
  let out = ''
  for (const unit of text) {
    const up = unit.toUpperCase()
    out += up.length === unit.length ? up : unit
  }
  return out
}

/** NTOWFv2 from the NT hash (MS-NLMP 3.3.2): the user name upper-cased, the domain as the client sent it. */
export function ntowfv2(ntHashBytes: Uint8Array, user: string, domain: string): Buffer {
  assert.equal(ntHashBytes.length, NT_HASH_BYTES)
  return hmacMd5(ntHashBytes, Buffer.from(upcaseUnicode(user) + domain, 'utf16le'))
}

export function ntProofStr(ntowfv2Key: Uint8Array, serverChallenge: Uint8Array, clientChallengeBlob: Uint8Array): Buffer {
  return hmacMd5(ntowfv2Key, serverChallenge, clientChallengeBlob)
}

export function lmv2Response(ntowfv2Key: Uint8Array, serverChallenge: Uint8Array, clientChallenge: Uint8Array): Buffer {
  return Buffer.concat([hmacMd5(ntowfv2Key, serverChallenge, clientChallenge), clientChallenge])
}

export function sessionBaseKeyV2(ntowfv2Key: Uint8Array, proof: Uint8Array): Buffer {
  return hmacMd5(ntowfv2Key, proof)
}

/** The exported session key from the NTLMv2 key-exchange key (MS-NLMP 3.2.5.1.2, 3.3.2). */
export function exportedSessionKey(keyExchangeKey: Uint8Array, keyExch: boolean, encryptedRandomSessionKey: Uint8Array): Buffer {
  return keyExch ? rc4(keyExchangeKey, encryptedRandomSessionKey) : Buffer.from(keyExchangeKey)
}

/** The client side of key exchange: EncryptedRandomSessionKey = RC4(KeyExchangeKey, ExportedSessionKey). */
export function encryptRandomSessionKey(keyExchangeKey: Uint8Array, randomSessionKey: Uint8Array): Buffer {
  return rc4(keyExchangeKey, randomSessionKey)
}

/** The MIC over the three messages as sent, the AUTHENTICATE's MIC field taken as zeros (MS-NLMP 3.1.5.1.2). */
export function computeMic(sessionKey: Uint8Array, negotiate: Uint8Array, challenge: Uint8Array, authenticate: Uint8Array): Buffer {
  assert.ok(authenticate.length >= AUTHENTICATE_MIC_OFFSET + MIC_BYTES)
  return hmacMd5(sessionKey, negotiate, challenge, authenticate.subarray(0, AUTHENTICATE_MIC_OFFSET), Buffer.alloc(MIC_BYTES), authenticate.subarray(AUTHENTICATE_MIC_OFFSET + MIC_BYTES))
}
