// SMB 2/3 key derivation, signing and encryption (MS-SMB2 3.1.4.1 - 3.1.4.4):
// - the SMB 3.0 keys of Microsoft's "Encryption in SMB 3.0: A protocol perspective" example;
// - twelve real sessions of smbclient 4.17 with smbd 4.17 (test/protocol/fixtures/smbd-4.17-sessions.json,
//   see its "source"): from the password alone, the NTLM exported session key, the 3.1.1 preauth
//   integrity hash, the keys, then every signature verified and re-made byte for byte
//   (HMAC-SHA256 at 2.0.2, 2.1 and 3.1.1; AES-CMAC at 3.0 and 3.1.1; AES-GMAC at 3.1.1) and every
//   encrypted frame decrypted and re-encrypted byte for byte (AES-128-CCM at 3.0 and 3.0.2;
//   AES-128-CCM, AES-128-GCM, AES-256-CCM, AES-256-GCM at 3.1.1);
// - the parts API against the one-buffer API, the GMAC nonce, malformed transform frames, fuzzing.
import t from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { createCipheriv } from 'node:crypto'
import { CIPHER, SIGNING_ALGORITHM, SMB2_DIALECT, type CipherId, type SigningAlgorithmId } from '../../protocol/smb2/constants.js'
import { deriveSmb2SessionKeys, signingAlgorithmFor, smb2SessionKey } from '../../protocol/smb2/key-derivation.js'
import { PREAUTH_HASH_INITIAL, PreauthIntegrityHash, preauthHashNext } from '../../protocol/smb2/preauth-integrity.js'
import { SMB2_FLAGS_SIGNED, gmacNonce, signSmb2Message, smb2Signature, verifySmb2Message } from '../../protocol/smb2/signing.js'
import { Smb2TransformError, TRANSFORM_HEADER_BYTES, decodeTransformHeader, decryptSmb2Message, encryptSmb2Message } from '../../protocol/smb2/encryption.js'
import { decodeNegotiationToken } from '../../protocol/spnego/spnego-token.js'
import { decodeChallengeMessage } from '../../protocol/ntlmssp/challenge-message.js'
import { decodeAuthenticateMessage } from '../../protocol/ntlmssp/authenticate-message.js'
import { decodeNtlmv2Response } from '../../protocol/ntlmssp/ntlmv2-response.js'
import { NTLMSSP_NEGOTIATE, hasFlag } from '../../protocol/ntlmssp/negotiate-flags.js'
import { exportedSessionKey, ntHash, ntProofStr, ntowfv2, sessionBaseKeyV2 } from '../../protocol/ntlmssp/ntlmv2-keys.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

t.test('SMB 3.0 keys of Microsoft\'s "Encryption in SMB 3.0" example (official)', async (t) => {
  const keys = deriveSmb2SessionKeys(SMB2_DIALECT.SMB30, hex('B4546771B515F766A86735532DD6C4F0'))
  t.equal(keys.signingKey.toString('hex'), 'f773cd23c18fd1e08ee510cada7cf852', 'SigningKey')
  t.equal(keys.clientToServerKey?.toString('hex'), '261b72350558f2e9dcf613070383edbf', 'client EncryptionKey = server DecryptionKey (ServerIn)')
  t.equal(keys.serverToClientKey?.toString('hex'), '8fe2b57ec34d2db5b1a9727f526bbdb5', 'client DecryptionKey = server EncryptionKey (ServerOut)')
  t.same(deriveSmb2SessionKeys(SMB2_DIALECT.SMB302, hex('B4546771B515F766A86735532DD6C4F0')), keys, '3.0.2 derives the same')
})

t.test('2.x: the session key is the signing key; session keys are 16 bytes, zero-padded', async (t) => {
  const k = deriveSmb2SessionKeys(SMB2_DIALECT.SMB21, hex('00112233445566778899aabbccddeeff 0102'))
  t.equal(k.signingKey.toString('hex'), '00112233445566778899aabbccddeeff')
  t.equal(k.serverToClientKey, undefined)
  t.equal(smb2SessionKey(hex('0102')).toString('hex'), '0102' + '00'.repeat(14))
  t.equal(signingAlgorithmFor(SMB2_DIALECT.SMB202), SIGNING_ALGORITHM.HMAC_SHA256)
  t.equal(signingAlgorithmFor(SMB2_DIALECT.SMB21, SIGNING_ALGORITHM.AES_GMAC), SIGNING_ALGORITHM.HMAC_SHA256)
  t.equal(signingAlgorithmFor(SMB2_DIALECT.SMB30), SIGNING_ALGORITHM.AES_CMAC)
  t.equal(signingAlgorithmFor(SMB2_DIALECT.SMB311), SIGNING_ALGORITHM.AES_CMAC, '3.1.1 without a signing context')
  t.equal(signingAlgorithmFor(SMB2_DIALECT.SMB311, SIGNING_ALGORITHM.AES_GMAC), SIGNING_ALGORITHM.AES_GMAC)
  t.throws(() => deriveSmb2SessionKeys(SMB2_DIALECT.SMB311, Buffer.alloc(16)), 'no preauth hash at 3.1.1')
  const k256 = deriveSmb2SessionKeys(SMB2_DIALECT.SMB311, Buffer.alloc(16, 1), { preauthHash: Buffer.alloc(64, 2), cipher: CIPHER.AES256_GCM })
  t.equal(k256.serverToClientKey?.length, 32)
  t.equal(k256.signingKey.length, 16)
  const k256full = deriveSmb2SessionKeys(SMB2_DIALECT.SMB311, Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(16, 9)]), { preauthHash: Buffer.alloc(64, 2), cipher: CIPHER.AES256_GCM })
  t.not(k256full.serverToClientKey?.toString('hex'), k256.serverToClientKey?.toString('hex'), 'AES-256 keys come from the full session key')
  t.equal(k256full.signingKey.toString('hex'), k256.signingKey.toString('hex'), 'the signing key from its first 16 bytes')
})

t.test('the preauth integrity hash chain is SHA-512(previous || message)', async (t) => {
  const a = Buffer.from('negotiate request')
  const b = Buffer.from('negotiate response')
  const chain = new PreauthIntegrityHash().update(a).update(b.subarray(0, 5), b.subarray(5))
  t.equal(chain.value.toString('hex'), preauthHashNext(preauthHashNext(PREAUTH_HASH_INITIAL, a), b).toString('hex'))
  const fork = chain.fork().update(Buffer.from('session setup'))
  t.not(fork.value.toString('hex'), chain.value.toString('hex'), 'a fork moves on alone')
})

// --- Real sessions of smbclient and smbd 4.17 -------------------------------------------------------

interface Frame {
  readonly dir: 'c2s' | 's2c'
  readonly hex: string
}
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/smbd-4.17-sessions.json', import.meta.url), 'utf8')) as { user: string; password: string; sessions: Record<string, Frame[]> }

const EXPECTED: Record<string, { dialect: number; signing: SigningAlgorithmId; cipher?: CipherId }> = {
  smb202: { dialect: 0x202, signing: SIGNING_ALGORITHM.HMAC_SHA256 },
  smb21: { dialect: 0x210, signing: SIGNING_ALGORITHM.HMAC_SHA256 },
  smb30: { dialect: 0x300, signing: SIGNING_ALGORITHM.AES_CMAC },
  'smb30-encrypt': { dialect: 0x300, signing: SIGNING_ALGORITHM.AES_CMAC, cipher: CIPHER.AES128_CCM },
  'smb302-encrypt': { dialect: 0x302, signing: SIGNING_ALGORITHM.AES_CMAC, cipher: CIPHER.AES128_CCM },
  'smb311-gmac': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_GMAC },
  'smb311-cmac': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_CMAC },
  'smb311-hmac': { dialect: 0x311, signing: SIGNING_ALGORITHM.HMAC_SHA256 },
  'smb311-aes-128-ccm': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_GMAC, cipher: CIPHER.AES128_CCM },
  'smb311-aes-128-gcm': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_GMAC, cipher: CIPHER.AES128_GCM },
  'smb311-aes-256-ccm': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_GMAC, cipher: CIPHER.AES256_CCM },
  'smb311-aes-256-gcm': { dialect: 0x311, signing: SIGNING_ALGORITHM.AES_GMAC, cipher: CIPHER.AES256_GCM },
}

/** The negotiate contexts of a 3.1.1 NEGOTIATE response we need: cipher (2) and signing (8) ids (MS-SMB2 2.2.4). */
function negotiatedIds(resp: Buffer): { cipher?: number; signing?: number } {
  const count = resp.readUInt16LE(64 + 6)
  let at = resp.readUInt32LE(64 + 60)
  const ids: { cipher?: number; signing?: number } = {}
  for (let i = 0; i < count; i++) {
    const type = resp.readUInt16LE(at)
    const length = resp.readUInt16LE(at + 2)
    if (type === 2) ids.cipher = resp.readUInt16LE(at + 10)
    if (type === 8) ids.signing = resp.readUInt16LE(at + 10)
    at = (at + 8 + length + 7) & ~7
  }
  return ids
}

/** The security buffer of a SESSION_SETUP request (offset 12 of the body) or response (offset 4). */
function securityBuffer(frame: Buffer, request: boolean): Buffer {
  const [offset, length] = request ? [frame.readUInt16LE(64 + 12), frame.readUInt16LE(64 + 14)] : [frame.readUInt16LE(64 + 4), frame.readUInt16LE(64 + 6)]
  return frame.subarray(offset, offset + length)
}

function ntlmTokenOf(spnego: Buffer): Buffer | undefined {
  const d = decodeNegotiationToken(spnego)
  if (!d.ok) throw new Error(d.error.toString())
  return d.value.kind === 'init' ? d.value.init.mechToken : d.value.resp.responseToken
}

for (const [name, frames] of Object.entries(FIXTURE.sessions)) {
  t.test(`smbd 4.17 session ${name}`, async (t) => {
    const expected = EXPECTED[name]
    const bytes = frames.map((f) => ({ dir: f.dir, b: Buffer.from(f.hex, 'hex') }))
    const command = (b: Buffer): number => (b[0] === 0xfe ? b.readUInt16LE(12) : -1)
    const negotiate = bytes.filter((f) => command(f.b) === 0)
    t.equal(negotiate.length, 2, 'NEGOTIATE request and response')
    const dialect = negotiate[1].b.readUInt16LE(64 + 4)
    t.equal(dialect, expected.dialect, 'dialect')
    const ids = dialect === SMB2_DIALECT.SMB311 ? negotiatedIds(negotiate[1].b) : {}
    const cipher = (ids.cipher ?? CIPHER.AES128_CCM) as CipherId
    const signing = signingAlgorithmFor(dialect, ids.signing as SigningAlgorithmId | undefined)
    t.equal(signing, expected.signing, 'signing algorithm')
    if (expected.cipher !== undefined) t.equal(cipher, expected.cipher, 'cipher')

    // The preauth hash: NEGOTIATE request and response, then each SESSION_SETUP but the final success.
    const session = new PreauthIntegrityHash().update(negotiate[0].b).update(negotiate[1].b).fork()
    let keyHash: Buffer | undefined
    const ntlm: Buffer[] = []
    for (const f of bytes.filter((x) => command(x.b) === 1)) {
      const token = ntlmTokenOf(securityBuffer(f.b, f.dir === 'c2s'))
      if (token) ntlm.push(token)
      const finalSuccess = f.dir === 's2c' && f.b.readUInt32LE(8) === 0
      if (!finalSuccess) session.update(f.b)
      if (f.dir === 'c2s') keyHash = session.value
    }
    // NTLMv2 from the password: the exported session key.
    const challenge = decodeChallengeMessage(ntlm[1])
    const auth = decodeAuthenticateMessage(ntlm[2])
    if (!challenge.ok || !auth.ok) throw new Error('NTLM messages')
    const v2 = decodeNtlmv2Response(auth.value.ntChallengeResponse)
    if (!v2.ok) throw new Error(v2.error.toString())
    const key = ntowfv2(ntHash(FIXTURE.password), auth.value.userName, auth.value.domainName)
    const proof = ntProofStr(key, challenge.value.serverChallenge, v2.value.blob)
    t.ok(proof.equals(v2.value.ntProofStr), 'NTProofStr from the password')
    const gssKey = exportedSessionKey(sessionBaseKeyV2(key, proof), hasFlag(auth.value.flags, NTLMSSP_NEGOTIATE.KEY_EXCH), auth.value.encryptedRandomSessionKey)
    const keys = deriveSmb2SessionKeys(dialect, gssKey, { preauthHash: keyHash, cipher })

    let signed = 0
    let encrypted = 0
    for (const f of bytes) {
      if (f.b[0] === 0xfd) {
        const k = f.dir === 'c2s' ? keys.clientToServerKey! : keys.serverToClientKey!
        const r = decryptSmb2Message(cipher, k, f.b)
        if (!r.ok) throw new Error(`${f.dir} frame: ${r.error.reason}`)
        t.equal(r.value.message.subarray(0, 4).toString('hex'), 'fe534d42', 'an SMB2 message inside')
        t.equal(r.value.message.readBigUInt64LE(40), r.value.header.sessionId, 'its SessionId is the transform header\'s')
        const again = Buffer.concat(encryptSmb2Message(cipher, k, r.value.header.nonce.subarray(0, cipher === CIPHER.AES128_CCM || cipher === CIPHER.AES256_CCM ? 11 : 12), r.value.header.sessionId, r.value.message))
        t.equal(again.toString('hex'), f.b.toString('hex'), `${f.dir}: re-encrypted byte for byte`)
        const tampered = Buffer.from(f.b)
        tampered[tampered.length - 1] ^= 1
        t.notOk(decryptSmb2Message(cipher, k, tampered).ok, 'a flipped ciphertext bit fails')
        encrypted++
      } else if (f.b.readUInt32LE(16) & SMB2_FLAGS_SIGNED) {
        t.ok(verifySmb2Message(signing, keys.signingKey, f.b), `${f.dir} command ${command(f.b)}: signature verifies`)
        const copy = Buffer.from(f.b)
        copy.fill(0, 48, 64)
        copy.writeUInt32LE(copy.readUInt32LE(16) & ~SMB2_FLAGS_SIGNED, 16)
        signSmb2Message(signing, keys.signingKey, copy)
        t.equal(copy.toString('hex'), f.b.toString('hex'), 're-signed byte for byte')
        const tampered = Buffer.from(f.b)
        tampered[tampered.length - 1] ^= 1
        t.notOk(verifySmb2Message(signing, keys.signingKey, tampered), 'a flipped bit fails')
        signed++
      }
    }
    t.ok(signed + encrypted >= 3, `${signed} signed and ${encrypted} encrypted frames checked`)
    if (expected.cipher !== undefined) t.ok(encrypted >= 4, 'encrypted frames both ways')
    if (dialect === SMB2_DIALECT.SMB311) {
      const finalResponse = bytes.find((f) => command(f.b) === 1 && f.dir === 's2c' && f.b.readUInt32LE(8) === 0)
      t.ok(finalResponse && verifySmb2Message(signing, keys.signingKey, finalResponse.b), 'the final SESSION_SETUP response is signed (3.1.1)')
    }
  })
}

// --- Parts, nonces, malformed frames ---------------------------------------------------------------

function message(bodyBytes: number, flags = 0, command = 8, messageId = 5n): Buffer {
  const m = Buffer.alloc(64 + bodyBytes, 0x61)
  m.writeUInt32BE(0xfe534d42, 0)
  m.writeUInt16LE(64, 4)
  m.writeUInt16LE(command, 12)
  m.writeUInt32LE(flags, 16)
  m.writeBigUInt64LE(messageId, 24)
  m.fill(0x77, 48, 64)
  return m
}

t.test('a message in parts signs as in one buffer; the Signature field content is ignored', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom<SigningAlgorithmId>(0, 1, 2), fc.integer({ min: 0, max: 300 }), fc.array(fc.nat(364), { maxLength: 4 }), (alg, body, cuts) => {
      const m = message(body)
      const key = Buffer.alloc(16, 3)
      const points = [...new Set(cuts.map((c) => 64 + (c % (body + 1))))].sort((a, b) => a - b)
      const parts: Buffer[] = []
      let from = 0
      for (const p of [...points, m.length]) {
        parts.push(m.subarray(from, p))
        from = p
      }
      const one = smb2Signature(alg, key, m)
      const other = Buffer.from(m)
      other.fill(0, 48, 64)
      return smb2Signature(alg, key, parts).equals(one) && smb2Signature(alg, key, other).equals(one)
    }),
    { numRuns: 300 },
  )
})

t.test('AES-GMAC: the nonce is MessageId, then bit 0 for server-to-client and bit 1 for CANCEL', async (t) => {
  t.equal(gmacNonce(message(0, 0, 8, 0x0102030405060708n)).toString('hex'), '080706050403020100000000')
  t.equal(gmacNonce(message(0, 1, 8, 1n)).toString('hex'), '010000000000000001000000', 'a response')
  t.equal(gmacNonce(message(0, 0, 0x0c, 1n)).toString('hex'), '010000000000000002000000', 'a CANCEL request')
  // GMAC is GCM over additional data only: the same tag as a direct GCM computation with the message as AAD.
  const m = message(40, 1)
  const zeroed = Buffer.from(m)
  zeroed.fill(0, 48, 64)
  const gcm = createCipheriv('aes-128-gcm', Buffer.alloc(16, 9), gmacNonce(m))
  gcm.setAAD(zeroed)
  gcm.final()
  t.equal(smb2Signature(SIGNING_ALGORITHM.AES_GMAC, Buffer.alloc(16, 9), m).toString('hex'), gcm.getAuthTag().toString('hex'))
  const req = message(40, 0)
  t.not(smb2Signature(SIGNING_ALGORITHM.AES_GMAC, Buffer.alloc(16, 9), req).toString('hex'), smb2Signature(SIGNING_ALGORITHM.AES_GMAC, Buffer.alloc(16, 9), m).toString('hex'))
})

t.test('verify refuses short messages and wrong keys; sign sets SMB2_FLAGS_SIGNED', async (t) => {
  t.notOk(verifySmb2Message(SIGNING_ALGORITHM.AES_CMAC, Buffer.alloc(16), Buffer.alloc(63)))
  t.notOk(verifySmb2Message(SIGNING_ALGORITHM.AES_CMAC, Buffer.alloc(16), []))
  const m = message(10)
  signSmb2Message(SIGNING_ALGORITHM.AES_CMAC, Buffer.alloc(16, 1), m)
  t.ok(m.readUInt32LE(16) & SMB2_FLAGS_SIGNED)
  t.ok(verifySmb2Message(SIGNING_ALGORITHM.AES_CMAC, Buffer.alloc(16, 1), m))
  t.notOk(verifySmb2Message(SIGNING_ALGORITHM.AES_CMAC, Buffer.alloc(16, 2), m))
  t.notOk(verifySmb2Message(SIGNING_ALGORITHM.HMAC_SHA256, Buffer.alloc(16, 1), m))
})

t.test('encryption: every cipher round-trips messages in parts; the header layout', async (t) => {
  for (const cipher of [CIPHER.AES128_CCM, CIPHER.AES128_GCM, CIPHER.AES256_CCM, CIPHER.AES256_GCM] as CipherId[]) {
    const key = Buffer.alloc(cipher === CIPHER.AES256_CCM || cipher === CIPHER.AES256_GCM ? 32 : 16, 4)
    const nonce = Buffer.alloc(cipher === CIPHER.AES128_CCM || cipher === CIPHER.AES256_CCM ? 11 : 12, 5)
    const parts = [message(20), Buffer.alloc(1000, 6)]
    const frame = Buffer.concat(encryptSmb2Message(cipher, key, nonce, 0x1122334455667788n, parts))
    t.equal(frame.length, TRANSFORM_HEADER_BYTES + 1084)
    const h = decodeTransformHeader(frame)
    t.match(h.ok && h.value, { originalMessageSize: 1084, flags: 1, sessionId: 0x1122334455667788n })
    t.equal(h.ok && h.value.nonce.toString('hex'), nonce.toString('hex') + '00'.repeat(16 - nonce.length))
    const r = decryptSmb2Message(cipher, key, frame)
    t.ok(r.ok && r.value.message.equals(Buffer.concat(parts)), `cipher ${cipher}`)
    const aadFlip = Buffer.from(frame)
    aadFlip[44] ^= 1 // SessionId is authenticated
    t.notOk(decryptSmb2Message(cipher, key, aadFlip).ok, `cipher ${cipher}: the header is authenticated`)
  }
})

t.test('malformed transform frames: a typed error, never a throw', async (t) => {
  const key = Buffer.alloc(16, 4)
  const frame = Buffer.concat(encryptSmb2Message(CIPHER.AES128_GCM, key, Buffer.alloc(12, 1), 7n, message(30)))
  const expectError = (f: Uint8Array, pattern: RegExp, what: string, cipher: CipherId = CIPHER.AES128_GCM, k: Buffer = key): void => {
    const r = decryptSmb2Message(cipher, k, f)
    t.ok(!r.ok && r.error instanceof Smb2TransformError && pattern.test(r.error.reason), `${what}: ${!r.ok ? r.error.reason : 'decrypted'}`)
  }
  expectError(frame.subarray(0, 51), /shorter than a TRANSFORM_HEADER/, 'short')
  expectError(frame.subarray(0, 52), /no ciphertext/, 'header only')
  expectError(Buffer.concat([Buffer.from([0xfe]), frame.subarray(1)]), /ProtocolId/, 'SMB2 header')
  const flags = Buffer.from(frame)
  flags.writeUInt16LE(2, 42)
  expectError(flags, /Flags 0x2/, 'flags')
  expectError(Buffer.concat([frame, Buffer.alloc(1)]), /OriginalMessageSize 94 but 95/, 'trailing byte')
  expectError(frame, /key of 32 bytes/, 'wrong key length', CIPHER.AES128_GCM, Buffer.alloc(32))
  expectError(frame, /decryption failed/, 'wrong key', CIPHER.AES128_GCM, Buffer.alloc(16, 9))
  expectError(frame, /decryption failed/, 'CCM over a GCM frame', CIPHER.AES128_CCM)
  t.notOk(decodeTransformHeader('x' as unknown as Uint8Array).ok)
  fc.assert(
    fc.property(fc.constantFrom<CipherId>(1, 2, 3, 4), fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(200), (cipher, edits, cut) => {
      const f = Buffer.from(frame)
      for (const [at, v] of edits) if (at < f.length) f[at] = v
      const r = decryptSmb2Message(cipher, cipher === 3 || cipher === 4 ? Buffer.alloc(32, 4) : key, f.subarray(0, cut))
      return r.ok || r.error instanceof Smb2TransformError
    }),
    { numRuns: 2000 },
  )
})
