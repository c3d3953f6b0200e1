// AES-CMAC (RFC 4493; NIST SP 800-38B), the SMB 3.0 and 3.0.2 signing algorithm and the default of
// 3.1.1 (MS-SMB2 3.1.4.1). Node 20 has no CMAC API, so it is built here on OpenSSL's AES: the
// subkeys come from one AES-ECB block (RFC 4493 2.3) and the chaining from an AES-CBC stream with a
// zero IV, whose output after the last, masked block is the tag (2.4). The incremental form lets a
// caller sign a message that lives in several buffers (an SMB2 header and a payload it does not
// copy) and hold back only the last 16 bytes.
import assert from 'node:assert/strict'
import { createCipheriv, type Cipher } from 'node:crypto'

export const AES_BLOCK_BYTES = 16
export const AES_CMAC_TAG_BYTES = 16
/** R_b of RFC 4493 2.3 for a 128-bit block cipher. */
const CONST_RB = 0x87

function cipherName(key: Uint8Array, mode: 'ecb' | 'cbc'): string {
  assert.ok(key.length === 16 || key.length === 32, `AES-CMAC key of ${key.length} bytes`)
  return `aes-${key.length * 8}-${mode}`
}

/** One 128-bit left shift; the carry out of the top bit folds R_b back in (RFC 4493 2.3). */
function doubleBlock(block: Buffer): Buffer {
  const out = Buffer.alloc(AES_BLOCK_BYTES)
  for (let i = 0; i < AES_BLOCK_BYTES; i++) {
    const next = i + 1 < AES_BLOCK_BYTES ? block[i + 1] : 0
    out[i] = ((block[i] << 1) | (next >>> 7)) & 0xff
  }
  if (block[0] & 0x80) out[AES_BLOCK_BYTES - 1] ^= CONST_RB
  return out
}

/** K1 and K2 of RFC 4493 2.3 (Generate_Subkey). */
export function aesCmacSubkeys(key: Uint8Array): { k1: Buffer; k2: Buffer } {
  const ecb = createCipheriv(cipherName(key, 'ecb'), key, null).setAutoPadding(false)
  const l = Buffer.concat([ecb.update(Buffer.alloc(AES_BLOCK_BYTES)), ecb.final()])
  const k1 = doubleBlock(l)
  return { k1, k2: doubleBlock(k1) }
}

/** An AES-CMAC computation fed in pieces; digest() may be called once. */
export class AesCmac {
  private readonly cbc: Cipher
  private readonly k1: Buffer
  private readonly k2: Buffer
  /** The last 0 to 16 bytes seen: the final block is masked with K1 or K2 before it is chained. */
  private pending: Buffer = Buffer.alloc(0)
  private done = false

  constructor(key: Uint8Array) {
    ;({ k1: this.k1, k2: this.k2 } = aesCmacSubkeys(key))
    this.cbc = createCipheriv(cipherName(key, 'cbc'), key, Buffer.alloc(AES_BLOCK_BYTES)).setAutoPadding(false)
  }

  update(data: Uint8Array): this {
    assert.ok(!this.done, 'AES-CMAC updated after digest')
    const total = this.pending.length + data.length
    if (total <= AES_BLOCK_BYTES) {
      this.pending = Buffer.concat([this.pending, data])
      return this
    }
    // Chain every whole block but the last one, which may be the final block (1 to 16 bytes).
    const chainBytes = Math.floor((total - 1) / AES_BLOCK_BYTES) * AES_BLOCK_BYTES
    const fromData = chainBytes - this.pending.length
    if (this.pending.length > 0) this.cbc.update(this.pending)
    this.cbc.update(data.subarray(0, fromData))
    this.pending = Buffer.from(data.subarray(fromData))
    return this
  }

  /** The 16-byte tag. */
  digest(): Buffer {
    assert.ok(!this.done, 'AES-CMAC digest taken twice')
    this.done = true
    // RFC 4493 2.4 step 4: a complete last block is XORed with K1; a short one (or an empty
    // message) is padded with 10* and XORed with K2. CBC chains it with the previous block.
    const complete = this.pending.length === AES_BLOCK_BYTES
    const last = Buffer.alloc(AES_BLOCK_BYTES)
    this.pending.copy(last)
    if (!complete) last[this.pending.length] = 0x80
    const mask = complete ? this.k1 : this.k2
    for (let i = 0; i < AES_BLOCK_BYTES; i++) last[i] ^= mask[i]
    const tag = this.cbc.update(last)
    this.cbc.final()
    assert.equal(tag.length, AES_CMAC_TAG_BYTES)
    return tag
  }
}

/** The 16-byte AES-CMAC of message under a 16-byte (or 32-byte) key. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  return new AesCmac(key).update(message).digest()
}
