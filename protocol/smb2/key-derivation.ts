// The SMB 2/3 session keys (MS-SMB2 3.3.5.5.3 for the server, 3.2.5.3.1 for the client):
//
//   dialect      signing key                        server encrypts with (S2C)       server decrypts with (C2S)      application key
//   2.0.2, 2.1   SessionKey                         -                                 -                               -
//   3.0, 3.0.2   KDF(SessionKey, "SMB2AESCMAC\0",   KDF(.., "SMB2AESCCM\0",           KDF(.., "SMB2AESCCM\0",         KDF(.., "SMB2APP\0",
//                        "SmbSign\0")                       "ServerOut\0")                    "ServerIn \0")                  "SmbRpc\0")
//   3.1.1        KDF(SessionKey, "SMBSigningKey\0", KDF(.., "SMBS2CCipherKey\0", H)      KDF(.., "SMBC2SCipherKey\0", H)  KDF(.., "SMBAppKey\0", H)
//                        H)
//
// KDF is SP 800-108 counter mode with HMAC-SHA256 (protocol/crypto/sp800-108), H the session's
// preauth integrity hash (SHA-512). SessionKey is the first 16 bytes of the key GSS-API exported
// (zero-padded if shorter, 3.3.5.5.3). With AES-256-CCM/GCM the two cipher keys are 256 bits and
// are derived from the full session key (Session.FullSessionKey); NTLM's key is 16 bytes anyway.
import assert from 'node:assert/strict'
import { kdfLabel, sp800108CounterHmacSha256 } from '../crypto/sp800-108.js'
import { CIPHER, SIGNING_ALGORITHM, SMB2_DIALECT, type CipherId, type SigningAlgorithmId } from './constants.js'

export const SMB2_SESSION_KEY_BYTES = 16
export const PREAUTH_HASH_BYTES = 64

export interface Smb2SessionKeys {
  readonly signingKey: Buffer
  /** The server encrypts what it sends with this key (the client decrypts with it); undefined below 3.0. */
  readonly serverToClientKey: Buffer | undefined
  /** The client encrypts what it sends with this key (the server decrypts with it); undefined below 3.0. */
  readonly clientToServerKey: Buffer | undefined
  readonly applicationKey: Buffer | undefined
}

/** Session.SessionKey: the first 16 bytes of the GSS key, zero-padded if shorter (MS-SMB2 3.3.5.5.3). */
export function smb2SessionKey(gssSessionKey: Uint8Array): Buffer {
  const key = Buffer.alloc(SMB2_SESSION_KEY_BYTES)
  key.set(gssSessionKey.subarray(0, SMB2_SESSION_KEY_BYTES))
  return key
}

export function cipherKeyBytes(cipher: CipherId): 16 | 32 {
  return cipher === CIPHER.AES256_CCM || cipher === CIPHER.AES256_GCM ? 32 : 16
}

/**
 * The keys of a session. preauthHash is required at 3.1.1 (the session's hash after the last
 * SESSION_SETUP request); cipher decides the cipher key length (AES-128-CCM at 3.0 and 3.0.2).
 */
export function deriveSmb2SessionKeys(dialect: number, gssSessionKey: Uint8Array, options: { preauthHash?: Uint8Array; cipher?: CipherId } = {}): Smb2SessionKeys {
  const sessionKey = smb2SessionKey(gssSessionKey)
  if (dialect === SMB2_DIALECT.SMB202 || dialect === SMB2_DIALECT.SMB21) {
    return { signingKey: sessionKey, serverToClientKey: undefined, clientToServerKey: undefined, applicationKey: undefined }
  }
  const cipher = options.cipher ?? CIPHER.AES128_CCM
  const cipherBits = cipherKeyBytes(cipher) * 8
  // Session.FullSessionKey for 256-bit cipher keys; a key shorter than 16 bytes is padded first.
  const cipherKi = cipherBits === 256 && gssSessionKey.length > SMB2_SESSION_KEY_BYTES ? Buffer.from(gssSessionKey) : sessionKey
  const kdf = (ki: Buffer, label: string, context: Uint8Array, bits: number): Buffer => sp800108CounterHmacSha256(ki, kdfLabel(label), context, bits)
  if (dialect === SMB2_DIALECT.SMB30 || dialect === SMB2_DIALECT.SMB302) {
    return {
      signingKey: kdf(sessionKey, 'SMB2AESCMAC\0', kdfLabel('SmbSign\0'), 128),
      serverToClientKey: kdf(cipherKi, 'SMB2AESCCM\0', kdfLabel('ServerOut\0'), cipherBits),
      clientToServerKey: kdf(cipherKi, 'SMB2AESCCM\0', kdfLabel('ServerIn \0'), cipherBits),
      applicationKey: kdf(sessionKey, 'SMB2APP\0', kdfLabel('SmbRpc\0'), 128),
    }
  }
  assert.equal(dialect, SMB2_DIALECT.SMB311, `dialect 0x${dialect.toString(16)}`)
  const hash = options.preauthHash
  assert.ok(hash !== undefined && hash.length === PREAUTH_HASH_BYTES, 'SMB 3.1.1 keys need the 64-byte preauth integrity hash')
  return {
    signingKey: kdf(sessionKey, 'SMBSigningKey\0', hash, 128),
    serverToClientKey: kdf(cipherKi, 'SMBS2CCipherKey\0', hash, cipherBits),
    clientToServerKey: kdf(cipherKi, 'SMBC2SCipherKey\0', hash, cipherBits),
    applicationKey: kdf(sessionKey, 'SMBAppKey\0', hash, 128),
  }
}

/**
 * The signing algorithm of a connection (MS-SMB2 3.1.4.1): HMAC-SHA256 for 2.x, AES-CMAC for 3.0
 * and 3.0.2 and for 3.1.1 without a signing-capabilities context, else what that context chose.
 */
export function signingAlgorithmFor(dialect: number, negotiated?: SigningAlgorithmId): SigningAlgorithmId {
  if (dialect === SMB2_DIALECT.SMB202 || dialect === SMB2_DIALECT.SMB21) return SIGNING_ALGORITHM.HMAC_SHA256
  if (dialect === SMB2_DIALECT.SMB311 && negotiated !== undefined) return negotiated
  return SIGNING_ALGORITHM.AES_CMAC
}
