// SMB 3 encryption (MS-SMB2 3.1.4.3, 3.2.4.1.8, 3.3.4.1.4, 3.3.5.2.1.1): a message (or a whole
// compound) is sent as an SMB2 TRANSFORM_HEADER followed by its ciphertext:
//   0 ProtocolId 0xFD 'S' 'M' 'B'   4 Signature(16): the AEAD tag    20 Nonce(16)
//   36 OriginalMessageSize(4)       40 Reserved(2)                   42 Flags(2) = 0x0001 (Encrypted;
//   3.0/3.0.2 call it EncryptionAlgorithm, AES-128-CCM, the same value)   44 SessionId(8)   52
// The additional authenticated data is the header from Nonce onwards (bytes 20 to 52). CCM takes
// the first 11 bytes of Nonce, GCM the first 12; the rest is zero. AES-128 or AES-256 by the
// negotiated cipher (key-derivation gives 16- or 32-byte keys). Nonces come in from the caller,
// who keeps them unique per key (a counter does).
//
// decryptSmb2Message faces the network: a frame that is too short, has another ProtocolId, wrong
// Flags, an OriginalMessageSize other than the ciphertext's length, or fails authentication is a
// returned Smb2TransformError (the server then disconnects, MS-SMB2 3.3.5.2.1.1). It never throws.
import assert from 'node:assert/strict'
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { CIPHER, TRANSFORM_FLAG_ENCRYPTED, type CipherId } from './constants.js'
import { cipherKeyBytes } from './key-derivation.js'

export const TRANSFORM_HEADER_BYTES = 52
export const TRANSFORM_PROTOCOL_ID = Buffer.from([0xfd, 0x53, 0x4d, 0x42])
const SIGNATURE_OFFSET = 4
const NONCE_OFFSET = 20
const ORIGINAL_SIZE_OFFSET = 36
const FLAGS_OFFSET = 42
const SESSION_ID_OFFSET = 44
const TAG_BYTES = 16
const NONCE_FIELD_BYTES = 16
/** OriginalMessageSize is a u32; the transport's frame limit (a 24-bit NBSS length) is far below it anyway. */
const ORIGINAL_SIZE_MAX = 0xffffffff

export interface TransformHeader {
  readonly signature: Buffer
  /** The 16-byte Nonce field. */
  readonly nonce: Buffer
  readonly originalMessageSize: number
  readonly flags: number
  readonly sessionId: bigint
}

export class Smb2TransformError {
  readonly name = 'Smb2TransformError'

  constructor(readonly reason: string) {}
}

export type Smb2TransformResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Smb2TransformError }

export function isCcm(cipher: CipherId): boolean {
  return cipher === CIPHER.AES128_CCM || cipher === CIPHER.AES256_CCM
}

/** Nonce bytes the cipher uses: 11 for CCM, 12 for GCM (MS-SMB2 2.2.41). */
export function nonceBytes(cipher: CipherId): 11 | 12 {
  return isCcm(cipher) ? 11 : 12
}

function algorithmName(cipher: CipherId): 'aes-128-ccm' | 'aes-256-ccm' | 'aes-128-gcm' | 'aes-256-gcm' {
  switch (cipher) {
    case CIPHER.AES128_CCM:
      return 'aes-128-ccm'
    case CIPHER.AES256_CCM:
      return 'aes-256-ccm'
    case CIPHER.AES128_GCM:
      return 'aes-128-gcm'
    case CIPHER.AES256_GCM:
      return 'aes-256-gcm'
    default:
      throw new RangeError(`cipher ${String(cipher)}`)
  }
}

/** The header fields of a transform frame, or why it is not one. */
export function decodeTransformHeader(frame: Uint8Array): Smb2TransformResult<TransformHeader> {
  if (!(frame instanceof Uint8Array)) return fail('not a byte array')
  if (frame.length < TRANSFORM_HEADER_BYTES) return fail(`${frame.length} bytes is shorter than a TRANSFORM_HEADER`)
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)
  if (!b.subarray(0, 4).equals(TRANSFORM_PROTOCOL_ID)) return fail('ProtocolId is not 0xFD S M B')
  return {
    ok: true,
    value: {
      signature: Buffer.from(b.subarray(SIGNATURE_OFFSET, SIGNATURE_OFFSET + TAG_BYTES)),
      nonce: Buffer.from(b.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_FIELD_BYTES)),
      originalMessageSize: b.readUInt32LE(ORIGINAL_SIZE_OFFSET),
      flags: b.readUInt16LE(FLAGS_OFFSET),
      sessionId: b.readBigUInt64LE(SESSION_ID_OFFSET),
    },
  }
}

/**
 * The transform header and ciphertext of message (its parts concatenated), encrypted with key for
 * sessionId under nonce (11 bytes for CCM, 12 for GCM). Returns [header, ciphertext...] for a
 * vectored write.
 */
export function encryptSmb2Message(cipher: CipherId, key: Uint8Array, nonce: Uint8Array, sessionId: bigint, message: Uint8Array | readonly Uint8Array[]): Buffer[] {
  const parts = message instanceof Uint8Array ? [message] : message
  const size = parts.reduce((n, p) => n + p.length, 0)
  assert.equal(key.length, cipherKeyBytes(cipher), `${algorithmName(cipher)} key of ${key.length} bytes`)
  assert.equal(nonce.length, nonceBytes(cipher), `${algorithmName(cipher)} nonce of ${nonce.length} bytes`)
  assert.ok(size > 0 && size <= ORIGINAL_SIZE_MAX, `message of ${size} bytes`)
  const header = Buffer.alloc(TRANSFORM_HEADER_BYTES)
  TRANSFORM_PROTOCOL_ID.copy(header, 0)
  header.set(nonce, NONCE_OFFSET)
  header.writeUInt32LE(size, ORIGINAL_SIZE_OFFSET)
  header.writeUInt16LE(TRANSFORM_FLAG_ENCRYPTED, FLAGS_OFFSET)
  header.writeBigUInt64LE(BigInt.asUintN(64, sessionId), SESSION_ID_OFFSET)
  const aad = header.subarray(NONCE_OFFSET)
  let ciphertext: Buffer[]
  if (isCcm(cipher)) {
    // CCM needs the plaintext in one update (Node / OpenSSL), so the parts are joined.
    const c = createCipheriv(algorithmName(cipher) as 'aes-128-ccm', key, nonce, { authTagLength: TAG_BYTES })
    c.setAAD(aad, { plaintextLength: size })
    ciphertext = [c.update(parts.length === 1 ? parts[0] : Buffer.concat(parts)), c.final()]
    c.getAuthTag().copy(header, SIGNATURE_OFFSET)
  } else {
    const c = createCipheriv(algorithmName(cipher) as 'aes-128-gcm', key, nonce, { authTagLength: TAG_BYTES })
    c.setAAD(aad)
    ciphertext = parts.map((p) => c.update(p))
    ciphertext.push(c.final())
    c.getAuthTag().copy(header, SIGNATURE_OFFSET)
  }
  return [header, ...ciphertext.filter((p) => p.length > 0)]
}

/** The plaintext SMB2 message (or compound) inside a transform frame, checked and authenticated. */
export function decryptSmb2Message(cipher: CipherId, key: Uint8Array, frame: Uint8Array): Smb2TransformResult<{ header: TransformHeader; message: Buffer }> {
  const decoded = decodeTransformHeader(frame)
  if (!decoded.ok) return decoded
  const header = decoded.value
  if (header.flags !== TRANSFORM_FLAG_ENCRYPTED) return fail(`Flags 0x${header.flags.toString(16)} is not Encrypted`)
  const ciphertext = frame.subarray(TRANSFORM_HEADER_BYTES)
  if (ciphertext.length === 0) return fail('no ciphertext after the TRANSFORM_HEADER')
  if (header.originalMessageSize !== ciphertext.length) return fail(`OriginalMessageSize ${header.originalMessageSize} but ${ciphertext.length} bytes follow`)
  if (key.length !== cipherKeyBytes(cipher)) return fail(`${algorithmName(cipher)} key of ${key.length} bytes`)
  const nonce = header.nonce.subarray(0, nonceBytes(cipher))
  const aad = frame.subarray(NONCE_OFFSET, TRANSFORM_HEADER_BYTES)
  try {
    let message: Buffer
    if (isCcm(cipher)) {
      const d = createDecipheriv(algorithmName(cipher) as 'aes-128-ccm', key, nonce, { authTagLength: TAG_BYTES })
      d.setAuthTag(header.signature)
      d.setAAD(aad, { plaintextLength: ciphertext.length })
      message = d.update(ciphertext)
      d.final()
    } else {
      const d = createDecipheriv(algorithmName(cipher) as 'aes-128-gcm', key, nonce, { authTagLength: TAG_BYTES })
      d.setAuthTag(header.signature)
      d.setAAD(aad)
      message = d.update(ciphertext)
      d.final()
    }
    return { ok: true, value: { header, message } }
  } catch (err) {
    // OpenSSL reports a tag mismatch as an Error ("Unsupported state or unable to authenticate data").
    return fail(`decryption failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}

function fail(reason: string): { ok: false; error: Smb2TransformError } {
  return { ok: false, error: new Smb2TransformError(reason) }
}
