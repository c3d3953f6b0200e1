// The cryptography the SMB2 wire front needs, as one port: key derivation (MS-SMB2 3.3.5.5.3),
// message signing (3.1.4.1) and the transform header's encryption (3.1.4.3). The front does
// not implement any of it; the node wires in the protocol layer's implementation.
import type { Smb2SessionKeys } from './smb2-state.js'

export interface SigningContext {
  readonly dialect: number
  readonly signingAlgorithm: number
}

export interface Smb2Security {
  /** The session's keys from the GSS session key; preauthHash at 3.1.1 (null before). */
  deriveKeys(sessionKey: Buffer, dialect: number, preauthHash: Buffer | null, cipher: number | null): Smb2SessionKeys
  /**
   * The 16-byte signature of one message (header included, its Signature field taken as zero;
   * padding of a compound member included). In parts, the first holding the whole header: a
   * READ response's payload is signed where it lies, never copied behind its header.
   */
  sign(message: Buffer | readonly Buffer[], signingKey: Buffer, ctx: SigningContext): Buffer
  /** Whether a signed message's signature is right. */
  verify(message: Buffer, signingKey: Buffer, ctx: SigningContext): boolean
  /** A TRANSFORM_HEADER frame carrying the plaintext (a message or compound), for SessionId. */
  encrypt(plaintext: readonly Buffer[], sessionId: bigint, encryptionKey: Buffer, cipher: number): Buffer[]
  /** The plaintext of a TRANSFORM_HEADER frame, given the decryption key of its SessionId; null when it does not decrypt. */
  decrypt(frame: Buffer, keyOf: (sessionId: bigint) => Buffer | null, cipher: number): { readonly sessionId: bigint; readonly plaintext: Buffer } | null
}
