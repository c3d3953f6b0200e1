// MD4 (RFC 1320), which NTLM needs for the NT hash (MS-NLMP 3.3.1 NTOWFv1, and NTOWFv2 builds on
// it). Node 20's OpenSSL 3 moved MD4 to the legacy provider, so createHash('md4') fails; this is
// the algorithm of RFC 1320 section 3 in a few lines, checked against the RFC's test suite.
// Inputs here are passwords and hashes, small; the implementation is plain, not fast.

const BLOCK_BYTES = 64
const LENGTH_FIELD_BYTES = 8

function rotl(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0
}

/** The 16-byte MD4 digest of data. */
export function md4(data: Uint8Array): Buffer {
  // Padding (RFC 1320 3.1, 3.2): one 1 bit, zeros up to 56 mod 64 bytes, then the bit length as a
  // 64-bit little-endian number.
  const paddedBytes = Math.ceil((data.length + 1 + LENGTH_FIELD_BYTES) / BLOCK_BYTES) * BLOCK_BYTES
  const padded = Buffer.alloc(paddedBytes)
  padded.set(data, 0)
  padded[data.length] = 0x80
  const bitLength = BigInt(data.length) * 8n
  padded.writeBigUInt64LE(bitLength & 0xffffffffffffffffn, paddedBytes - LENGTH_FIELD_BYTES)

  let a = 0x67452301
  let b = 0xefcdab89
  let c = 0x98badcfe
  let d = 0x10325476
  const x = new Uint32Array(16)
  const f = (p: number, q: number, r: number): number => (p & q) | (~p & r)
  const g = (p: number, q: number, r: number): number => (p & q) | (p & r) | (q & r)
  const h = (p: number, q: number, r: number): number => p ^ q ^ r
  for (let block = 0; block < paddedBytes; block += BLOCK_BYTES) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(block + i * 4)
    const [aa, bb, cc, dd] = [a, b, c, d]
    // Round 1 (RFC 1320 3.4): [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
    for (const k of [0, 4, 8, 12]) {
      a = rotl((a + f(b, c, d) + x[k]) >>> 0, 3)
      d = rotl((d + f(a, b, c) + x[k + 1]) >>> 0, 7)
      c = rotl((c + f(d, a, b) + x[k + 2]) >>> 0, 11)
      b = rotl((b + f(c, d, a) + x[k + 3]) >>> 0, 19)
    }
    // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s
    for (const k of [0, 1, 2, 3]) {
      a = rotl((a + g(b, c, d) + x[k] + 0x5a827999) >>> 0, 3)
      d = rotl((d + g(a, b, c) + x[k + 4] + 0x5a827999) >>> 0, 5)
      c = rotl((c + g(d, a, b) + x[k + 8] + 0x5a827999) >>> 0, 9)
      b = rotl((b + g(c, d, a) + x[k + 12] + 0x5a827999) >>> 0, 13)
    }
    // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s
    for (const k of [0, 2, 1, 3]) {
      a = rotl((a + h(b, c, d) + x[k] + 0x6ed9eba1) >>> 0, 3)
      d = rotl((d + h(a, b, c) + x[k + 8] + 0x6ed9eba1) >>> 0, 9)
      c = rotl((c + h(d, a, b) + x[k + 4] + 0x6ed9eba1) >>> 0, 11)
      b = rotl((b + h(c, d, a) + x[k + 12] + 0x6ed9eba1) >>> 0, 15)
    }
    a = (a + aa) >>> 0
    b = (b + bb) >>> 0
    c = (c + cc) >>> 0
    d = (d + dd) >>> 0
  }
  const digest = Buffer.alloc(16)
  digest.writeUInt32LE(a, 0)
  digest.writeUInt32LE(b, 4)
  digest.writeUInt32LE(c, 8)
  digest.writeUInt32LE(d, 12)
  return digest
}
