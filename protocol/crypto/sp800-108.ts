// The key-derivation function of NIST SP 800-108 section 5.1 (KDF in counter mode) with
// HMAC-SHA256 as the PRF, r = 32, as MS-SMB2 3.1.4.2 uses it for the SMB 3 signing, encryption and
// application keys:
//   K(i) = HMAC-SHA256(Ki, [i]_32 || Label || 0x00 || Context || [L]_32), i = 1, 2, ...
// with i and L big-endian. MS-SMB2 writes its labels and contexts with their trailing NUL
// ("SMB2AESCMAC\0"), and that NUL is part of Label: there are two zero bytes between a label and its
// context on the wire of the HMAC. Callers pass the spec's strings, NUL included.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'

const HMAC_SHA256_BITS = 256

/** lengthBits of key material (a multiple of 8), derived from key with label and context. */
export function sp800108CounterHmacSha256(key: Uint8Array, label: Uint8Array, context: Uint8Array, lengthBits: number): Buffer {
  assert.ok(Number.isInteger(lengthBits) && lengthBits > 0 && lengthBits % 8 === 0 && lengthBits <= 0xffffffff, `KDF length ${lengthBits} bits`)
  const rounds = Math.ceil(lengthBits / HMAC_SHA256_BITS)
  const counter = Buffer.alloc(4)
  const length = Buffer.alloc(4)
  length.writeUInt32BE(lengthBits)
  const separator = Buffer.alloc(1)
  const blocks: Buffer[] = []
  for (let i = 1; i <= rounds; i++) {
    counter.writeUInt32BE(i)
    blocks.push(createHmac('sha256', key).update(counter).update(label).update(separator).update(context).update(length).digest())
  }
  return Buffer.concat(blocks).subarray(0, lengthBits / 8)
}

/** The bytes of an MS-SMB2 label or context written as text, e.g. "SmbSign\0" (ASCII, NUL included by the caller). */
export function kdfLabel(text: string): Buffer {
  assert.ok(/^[\x20-\x7e]*\0$/.test(text), `KDF label ${JSON.stringify(text)} must be ASCII ending in NUL`)
  return Buffer.from(text, 'latin1')
}
