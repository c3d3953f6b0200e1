// The SMB 3.1.1 preauth integrity hash (MS-SMB2 3.3.5.4, 3.3.5.5, 3.2.5.3.1): SHA-512 chained
// over the messages of the connection's NEGOTIATE and of each session's SESSION_SETUPs:
//   H0 = 64 zero bytes;  Hn = SHA-512(Hn-1 || message)
// The connection's value covers the NEGOTIATE request and response; a new session starts from
// that value and adds each SESSION_SETUP request and every SESSION_SETUP response but the final
// STATUS_SUCCESS one. The session keys are derived from the value after the last request.
// message is the whole SMB2 message as on the wire (header included, no transport framing).
import { createHash } from 'node:crypto'
import { PREAUTH_HASH_BYTES } from './key-derivation.js'

export const PREAUTH_HASH_INITIAL: Buffer = Buffer.alloc(PREAUTH_HASH_BYTES)

/** Hn from Hn-1 and one message (its parts concatenated). */
export function preauthHashNext(previous: Uint8Array, ...message: Uint8Array[]): Buffer {
  const h = createHash('sha512').update(previous)
  for (const part of message) h.update(part)
  return h.digest()
}

/** A running preauth integrity hash value. */
export class PreauthIntegrityHash {
  private current: Buffer

  constructor(start: Uint8Array = PREAUTH_HASH_INITIAL) {
    this.current = Buffer.from(start)
  }

  update(...message: Uint8Array[]): this {
    this.current = preauthHashNext(this.current, ...message)
    return this
  }

  /** A copy of the current value. */
  get value(): Buffer {
    return Buffer.from(this.current)
  }

  /** A new chain starting from this value (a session from its connection). */
  fork(): PreauthIntegrityHash {
    return new PreauthIntegrityHash(this.current)
  }
}
