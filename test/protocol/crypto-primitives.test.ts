// The primitives Node 20's OpenSSL 3 lacks (MD4, RC4, AES-CMAC) and the SP 800-108 KDF of SMB 3,
// against the test vectors of their RFCs and of Microsoft, plus property tests of the incremental
// forms against the one-shot forms and against a block-by-block reference.
import t from 'tap'
import fc from 'fast-check'
import { createCipheriv } from 'node:crypto'
import { md4 } from '../../protocol/crypto/md4.js'
import { Rc4, rc4 } from '../../protocol/crypto/rc4.js'
import { AesCmac, aesCmac, aesCmacSubkeys } from '../../protocol/crypto/aes-cmac.js'
import { kdfLabel, sp800108CounterHmacSha256 } from '../../protocol/crypto/sp800-108.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

t.test('MD4: the RFC 1320 appendix A.5 test suite', async (t) => {
  const suite: Array<[string, string]> = [
    ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
    ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
    ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
    ['message digest', 'd9130a8164549fe818874806e1c7014b'],
    ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
  ]
  for (const [input, digest] of suite) t.equal(md4(Buffer.from(input, 'latin1')).toString('hex'), digest, `MD4("${input}")`)
})

t.test('MD4: the NT hash of "Password" (MS-NLMP 4.2.2.1.2 NTOWFv1)', async (t) => {
  t.equal(md4(Buffer.from('Password', 'utf16le')).toString('hex'), 'a4f49c406510bdcab6824ee7c30fd852')
})

t.test('MD4: lengths around the padding boundary give distinct 16-byte digests', async (t) => {
  const seen = new Set<string>()
  for (let n = 50; n <= 130; n++) {
    const d = md4(Buffer.alloc(n, 0x61))
    t.equal(d.length, 16)
    seen.add(d.toString('hex'))
  }
  t.equal(seen.size, 81)
})

t.test('RC4: RFC 6229 section 2 keystreams', async (t) => {
  // Keystream bytes at the offsets the RFC lists, for two of its keys (40 and 256 bits).
  const vectors: Array<[string, Array<[number, string]>]> = [
    [
      '0102030405',
      [
        [0, 'b2396305f03dc027ccc3524a0a1118a8'],
        [16, '6982944f18fc82d589c403a47a0d0919'],
        [240, '28cb1132c96ce286421dcaadb8b69eae'],
        [256, '1cfcf62b03eddb641d77dfcf7f8d8c93'],
        [4080, '068326a2118416d21f9d04b2cd1ca050'],
        [4096, 'ff25b58995996707e51fbdf08b34d875'],
      ],
    ],
    [
      '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20',
      [
        [0, 'eaa6bd25880bf93d3f5d1e4ca2611d91'],
        [16, 'cfa45c9f7e714b54bdfa80027cb14380'],
        [240, '114ae344ded71b35f2e60febad727fd8'],
        [256, '02e1e7056b0f623900496422943e97b6'],
        [4080, 'a13a7c79c7e119b5ab0296ab28c300b9'],
        [4096, 'f3e4c0a2e02d1d01f7f0a74618af2b48'],
      ],
    ],
  ]
  for (const [key, rows] of vectors) {
    const keystream = rc4(hex(key), Buffer.alloc(4112))
    for (const [offset, bytes] of rows) t.equal(keystream.subarray(offset, offset + 16).toString('hex'), bytes, `key ${key} offset ${offset}`)
  }
})

t.test('RC4: a stream fed in pieces equals one pass, and decryption undoes encryption', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 5 }), (key, data, cuts) => {
      const whole = rc4(key, data)
      const stream = new Rc4(key)
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
      const pieces: Buffer[] = []
      let from = 0
      for (const p of [...points, data.length]) {
        pieces.push(stream.update(data.subarray(from, p)))
        from = p
      }
      return Buffer.concat(pieces).equals(whole) && rc4(key, whole).equals(Buffer.from(data))
    }),
  )
})

t.test('AES-CMAC: RFC 4493 section 4 subkeys and examples', async (t) => {
  const key = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c')
  const { k1, k2 } = aesCmacSubkeys(key)
  t.equal(k1.toString('hex'), 'fbeed618357133667c85e08f7236a8de', 'K1')
  t.equal(k2.toString('hex'), 'f7ddac306ae266ccf90bc11ee46d513b', 'K2')
  const message = hex(`6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51
                       30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710`)
  const examples: Array<[number, string]> = [
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ]
  for (const [length, tag] of examples) t.equal(aesCmac(key, message.subarray(0, length)).toString('hex'), tag, `Example with len = ${length}`)
})

t.test('AES-CMAC: the AES-256 empty-message example of NIST SP 800-38B', async (t) => {
  const key = hex('603deb10 15ca71be 2b73aef0 857d7781 1f352c07 3b6108d7 2d9810a3 0914dff4')
  t.equal(aesCmac(key, Buffer.alloc(0)).toString('hex'), '028962f61b7bf89efc6b551f4667d983')
})

/** RFC 4493 2.4 block by block on AES-ECB: an independent path to the tag. */
function referenceCmac(key: Uint8Array, message: Uint8Array): Buffer {
  const aes = (block: Buffer): Buffer => createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(block)
  const { k1, k2 } = aesCmacSubkeys(key)
  const n = Math.max(1, Math.ceil(message.length / 16))
  const complete = message.length > 0 && message.length % 16 === 0
  let x: Buffer = Buffer.alloc(16)
  for (let i = 0; i < n; i++) {
    const block = Buffer.alloc(16)
    const chunk = message.subarray(i * 16, i * 16 + 16)
    block.set(chunk)
    if (i === n - 1) {
      if (!complete) block[chunk.length] = 0x80
      const mask = complete ? k1 : k2
      for (let j = 0; j < 16; j++) block[j] ^= mask[j]
    }
    for (let j = 0; j < 16; j++) block[j] ^= x[j]
    x = aes(block)
  }
  return x
}

t.test('AES-CMAC: fed in pieces equals one pass equals the block-by-block reference', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 6 }), (key, data, cuts) => {
      const one = aesCmac(key, data)
      const mac = new AesCmac(key)
      const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b)
      let from = 0
      for (const p of [...points, data.length]) {
        mac.update(data.subarray(from, p))
        from = p
      }
      return mac.digest().equals(one) && one.equals(referenceCmac(key, data))
    }),
  )
})

t.test('SP 800-108 counter mode: the SMB 3.0 keys of Microsoft\'s "Encryption in SMB 3.0" example', async (t) => {
  // Session key B4546771B515F766A86735532DD6C4F0 and the encryption, decryption and signing keys
  // of Microsoft's Open Specifications blog post "Encryption in SMB 3.0: A protocol perspective".
  const sessionKey = hex('B4546771B515F766A86735532DD6C4F0')
  const derive = (label: string, context: string): string => sp800108CounterHmacSha256(sessionKey, kdfLabel(label), kdfLabel(context), 128).toString('hex')
  t.equal(derive('SMB2AESCCM\0', 'ServerIn \0'), '261b72350558f2e9dcf613070383edbf', 'client encryption key (ServerIn)')
  t.equal(derive('SMB2AESCCM\0', 'ServerOut\0'), '8fe2b57ec34d2db5b1a9727f526bbdb5', 'client decryption key (ServerOut)')
  t.equal(derive('SMB2AESCMAC\0', 'SmbSign\0'), 'f773cd23c18fd1e08ee510cada7cf852', 'signing key')
  // Not from the blog: computed here and by the KBKDFHMAC of Python's `cryptography` 38.
  t.equal(derive('SMB2APP\0', 'SmbRpc\0'), '77432f808ce99156b5bc6a3676d730d1', 'application key')
})

t.test('SP 800-108 counter mode: 256-bit and multi-block outputs (checked against Python cryptography KBKDFHMAC)', async (t) => {
  const sessionKey = hex('B4546771B515F766A86735532DD6C4F0')
  const context = Buffer.from(Array.from({ length: 64 }, (_, i) => i))
  t.equal(
    sp800108CounterHmacSha256(sessionKey, kdfLabel('SMBC2SCipherKey\0'), context, 256).toString('hex'),
    'e233883c13771b982cd20bdca351521dd473f03feb6ee02d2e4de00453c5b653',
  )
  t.equal(
    sp800108CounterHmacSha256(sessionKey, kdfLabel('x\0'), kdfLabel('y\0'), 384).toString('hex'),
    '5eacc71a5c79e13a2d06d2dbe7bc0b0f46d01cdccd772f64617e98a3b7feb0ce29ffec9eb7dc803615d3557aa974a33f',
  )
  t.throws(() => kdfLabel('no terminator'))
  t.throws(() => sp800108CounterHmacSha256(sessionKey, kdfLabel('x\0'), kdfLabel('y\0'), 12))
})
