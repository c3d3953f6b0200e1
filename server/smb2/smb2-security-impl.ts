// The SMB2 wire front's cryptography port, implemented by the protocol layer: SP800-108 key
// derivation (key-derivation), HMAC-SHA256 / AES-CMAC / AES-GMAC signing (signing) and the
// TRANSFORM_HEADER's AES-CCM / AES-GCM (encryption). Nonces are random: 11 or 12 bytes drawn per
// message, which MS-SMB2 3.1.4.3 allows (it asks only that a nonce is not reused with a key).
import { randomBytes } from 'node:crypto'
import type { CipherId, SigningAlgorithmId } from '../../protocol/smb2/constants.js'
import { decodeTransformHeader, decryptSmb2Message, encryptSmb2Message, nonceBytes } from '../../protocol/smb2/encryption.js'
import { deriveSmb2SessionKeys, signingAlgorithmFor } from '../../protocol/smb2/key-derivation.js'
import { smb2Signature, verifySmb2Message } from '../../protocol/smb2/signing.js'
import type { Smb2Security, SigningContext } from './smb2-security.js'

const EMPTY = Buffer.alloc(0)

function algorithmOf(ctx: SigningContext): SigningAlgorithmId {
  return signingAlgorithmFor(ctx.dialect, ctx.signingAlgorithm as SigningAlgorithmId)
}

export function smb2Security(): Smb2Security {
  return {
    deriveKeys(sessionKey, dialect, preauthHash, cipher) {
      const keys = deriveSmb2SessionKeys(dialect, sessionKey, { ...(preauthHash ? { preauthHash } : {}), ...(cipher !== null ? { cipher: cipher as CipherId } : {}) })
      return {
        signingKey: keys.signingKey,
        encryptionKey: keys.serverToClientKey ?? EMPTY,
        decryptionKey: keys.clientToServerKey ?? EMPTY,
        applicationKey: keys.applicationKey ?? EMPTY,
      }
    },
    sign: (message, signingKey, ctx) => smb2Signature(algorithmOf(ctx), signingKey, message),
    verify: (message, signingKey, ctx) => verifySmb2Message(algorithmOf(ctx), signingKey, message),
    encrypt(plaintext, sessionId, encryptionKey, cipher) {
      const id = cipher as CipherId
      return encryptSmb2Message(id, encryptionKey, randomBytes(nonceBytes(id)), sessionId, plaintext)
    },
    decrypt(frame, keyOf, cipher) {
      const header = decodeTransformHeader(frame)
      if (!header.ok) return null
      const key = keyOf(header.value.sessionId)
      if (!key || key.length === 0) return null
      const opened = decryptSmb2Message(cipher as CipherId, key, frame)
      return opened.ok ? { sessionId: header.value.sessionId, plaintext: opened.value.message } : null
    },
  }
}
