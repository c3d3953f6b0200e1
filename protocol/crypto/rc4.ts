// RC4, which NTLMSSP needs: KEY_EXCH wraps the exported session key with it (MS-NLMP 3.1.5.1.2,
// 3.2.5.1.2) and sealing and signing with extended session security run one RC4 stream per
// direction for the life of the security context (MS-NLMP 3.4.3, 3.4.4.2). Node 20's OpenSSL 3
// has no rc4 cipher outside the legacy provider. Checked against the RFC 6229 keystreams.
import assert from 'node:assert/strict'

/** RFC 6229 keys run from 40 to 256 bits; the key-scheduling algorithm takes 1 to 256 bytes. */
export const RC4_KEY_BYTES_MAX = 256

/** A keyed RC4 stream: each update continues the keystream where the last one stopped. */
export class Rc4 {
  private readonly state = new Uint8Array(256)
  private i = 0
  private j = 0

  constructor(key: Uint8Array) {
    assert.ok(key.length >= 1 && key.length <= RC4_KEY_BYTES_MAX, `RC4 key of ${key.length} bytes`)
    const s = this.state
    for (let n = 0; n < 256; n++) s[n] = n
    let j = 0
    for (let n = 0; n < 256; n++) {
      j = (j + s[n] + key[n % key.length]) & 0xff
      const t = s[n]
      s[n] = s[j]
      s[j] = t
    }
  }

  /** data XOR the next data.length keystream bytes, in a new buffer; data is not modified. */
  update(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(data.length)
    const s = this.state
    let i = this.i
    let j = this.j
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff
      j = (j + s[i]) & 0xff
      const t = s[i]
      s[i] = s[j]
      s[j] = t
      out[n] = data[n] ^ s[(s[i] + s[j]) & 0xff]
    }
    this.i = i
    this.j = j
    return out
  }
}

/** One-shot RC4: data under a fresh keystream of key (encryption and decryption are the same). */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  return new Rc4(key).update(data)
}
