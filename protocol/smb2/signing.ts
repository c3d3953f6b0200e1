// Signing of one SMB2 message (MS-SMB2 3.1.4.1, 3.2.4.1.1, 3.3.4.1.1): the signature is computed
// over the whole message (header, body and, in a compound, the padding up to NextCommand) with its
// Signature field taken as zeros and SMB2_FLAGS_SIGNED set:
//   HMAC-SHA256 (2.0.2, 2.1): the first 16 bytes of HMAC-SHA256(SigningKey, message)
//   AES-CMAC (3.0, 3.0.2, 3.1.1 default): AES-128-CMAC(SigningKey, message)
//   AES-GMAC (3.1.1 with SMB2_SIGNING_CAPABILITIES): the GCM tag of AES-128-GCM(SigningKey, nonce)
//     over message as additional data and no plaintext; the 12-byte nonce is MessageId (8 bytes,
//     little-endian) then a 32-bit little-endian word whose bit 0 says the message goes from server
//     to client (SMB2_FLAGS_SERVER_TO_REDIR) and bit 1 that it is a CANCEL request.
// The message may be given in parts (a header buffer and a payload the caller does not copy); the
// first part holds the whole 64-byte header. Nothing is copied and, except by sign, nothing written.
import assert from 'node:assert/strict'
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto'
import { AesCmac } from '../crypto/aes-cmac.js'
import { SIGNING_ALGORITHM, type SigningAlgorithmId } from './constants.js'

/** Header layout (MS-SMB2 2.2.1) used here. */
export const SMB2_HEADER_SIZE = 64
export const SMB2_SIGNATURE_OFFSET = 48
export const SMB2_SIGNATURE_BYTES = 16
const FLAGS_OFFSET = 16
const COMMAND_OFFSET = 12
const MESSAGE_ID_OFFSET = 24
/** SMB2_FLAGS_SERVER_TO_REDIR and SMB2_FLAGS_SIGNED (MS-SMB2 2.2.1.1). */
const FLAG_SERVER_TO_REDIR = 0x00000001
export const SMB2_FLAGS_SIGNED = 0x00000008
/** SMB2 CANCEL (MS-SMB2 2.2.1.1 Command). */
const COMMAND_CANCEL = 0x000c
const GMAC_NONCE_BYTES = 12

export type Smb2MessageParts = Uint8Array | readonly Uint8Array[]

function partsOf(message: Smb2MessageParts): readonly Uint8Array[] {
  return message instanceof Uint8Array ? [message] : message
}

/** The AES-GMAC nonce of a message (MS-SMB2 3.1.4.1). */
export function gmacNonce(header: Uint8Array): Buffer {
  const h = Buffer.from(header.buffer, header.byteOffset, SMB2_HEADER_SIZE)
  const nonce = Buffer.alloc(GMAC_NONCE_BYTES)
  h.copy(nonce, 0, MESSAGE_ID_OFFSET, MESSAGE_ID_OFFSET + 8)
  const toClient = (h.readUInt32LE(FLAGS_OFFSET) & FLAG_SERVER_TO_REDIR) !== 0
  const cancel = h.readUInt16LE(COMMAND_OFFSET) === COMMAND_CANCEL
  nonce.writeUInt32LE((toClient ? 1 : 0) | (cancel ? 2 : 0), 8)
  return nonce
}

/** Feeds the message, Signature field as zeros, to update. */
function feed(parts: readonly Uint8Array[], update: (chunk: Uint8Array) => void): void {
  const header = parts[0]
  update(header.subarray(0, SMB2_SIGNATURE_OFFSET))
  update(ZERO_SIGNATURE)
  update(header.subarray(SMB2_HEADER_SIZE))
  for (let i = 1; i < parts.length; i++) update(parts[i])
}

const ZERO_SIGNATURE = Buffer.alloc(SMB2_SIGNATURE_BYTES)

/** The 16-byte signature of a message under key with algorithm. The Signature field's content is ignored. */
export function smb2Signature(algorithm: SigningAlgorithmId, key: Uint8Array, message: Smb2MessageParts): Buffer {
  const parts = partsOf(message)
  assert.ok(parts.length > 0 && parts[0].length >= SMB2_HEADER_SIZE, 'the first part holds the whole SMB2 header')
  assert.equal(key.length, 16, 'SMB2 signing keys are 128 bits')
  switch (algorithm) {
    case SIGNING_ALGORITHM.HMAC_SHA256: {
      const hmac = createHmac('sha256', key)
      feed(parts, (c) => hmac.update(c))
      return hmac.digest().subarray(0, SMB2_SIGNATURE_BYTES)
    }
    case SIGNING_ALGORITHM.AES_CMAC: {
      const cmac = new AesCmac(key)
      feed(parts, (c) => cmac.update(c))
      return cmac.digest()
    }
    case SIGNING_ALGORITHM.AES_GMAC: {
      const gcm = createCipheriv('aes-128-gcm', key, gmacNonce(parts[0]), { authTagLength: SMB2_SIGNATURE_BYTES })
      feed(parts, (c) => {
        if (c.length > 0) gcm.setAAD(c)
      })
      gcm.final()
      return gcm.getAuthTag()
    }
    default:
      throw new RangeError(`signing algorithm ${String(algorithm)}`)
  }
}

/** Sets SMB2_FLAGS_SIGNED in the header and writes the signature into it (the first part is modified). */
export function signSmb2Message(algorithm: SigningAlgorithmId, key: Uint8Array, message: Smb2MessageParts): void {
  const parts = partsOf(message)
  const header = Buffer.from(parts[0].buffer, parts[0].byteOffset, parts[0].byteLength)
  header.writeUInt32LE((header.readUInt32LE(FLAGS_OFFSET) | SMB2_FLAGS_SIGNED) >>> 0, FLAGS_OFFSET)
  smb2Signature(algorithm, key, parts).copy(header, SMB2_SIGNATURE_OFFSET)
}

/**
 * Whether the message's Signature field holds its signature under key, compared in constant time.
 * Whether the message had to be signed (SMB2_FLAGS_SIGNED, session state) is the caller's decision.
 */
export function verifySmb2Message(algorithm: SigningAlgorithmId, key: Uint8Array, message: Smb2MessageParts): boolean {
  const parts = partsOf(message)
  if (parts.length === 0 || parts[0].length < SMB2_HEADER_SIZE) return false
  const received = parts[0].subarray(SMB2_SIGNATURE_OFFSET, SMB2_SIGNATURE_OFFSET + SMB2_SIGNATURE_BYTES)
  return timingSafeEqual(smb2Signature(algorithm, key, parts), received)
}
