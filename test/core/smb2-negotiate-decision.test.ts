// What NEGOTIATE gets (core/smb2/negotiate-decision), by MS-SMB2 3.3.5.4: dialect choice,
// capabilities, security mode, and at 3.1.1 the contexts' checks and choices.
import t from 'tap'
import { decideNegotiate, wildcardNegotiate, type NegotiatePolicy } from '../../core/smb2/negotiate-decision.js'
import { GLOBAL_CAP } from '../../protocol/smb2/constants.js'
import { CIPHER, HASH_ALGORITHM, SIGNING_ALGORITHM, type NegotiateContext } from '../../protocol/smb2/negotiate-contexts.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

const policy: NegotiatePolicy = {
  signingRequired: true,
  encryptionSupported: true,
  ciphers: [CIPHER.AES128_GCM, CIPHER.AES128_CCM, CIPHER.AES256_GCM, CIPHER.AES256_CCM],
  signingAlgorithms: [SIGNING_ALGORITHM.AES_GMAC, SIGNING_ALGORITHM.AES_CMAC, SIGNING_ALGORITHM.HMAC_SHA256],
}
const salt = Buffer.alloc(32, 9)
const preauth: NegotiateContext = { kind: 'preauth', hashAlgorithms: [HASH_ALGORITHM.SHA512], salt: Buffer.alloc(32) }

t.test('the highest common dialect; capabilities by dialect; DFS never', async (t) => {
  const d = (dialects: number[], caps = 0x7f) => decideNegotiate({ dialects, clientCapabilities: caps, negotiateContexts: [preauth], salt }, policy)
  t.match(d([0x0202]), { status: 0, dialect: 0x0202, capabilities: 0, maxIoBytes: 65536 })
  t.match(d([0x0202, 0x0210]), { status: 0, dialect: 0x0210, capabilities: GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU })
  t.match(d([0x0300], 0x7f), { dialect: 0x0300, capabilities: GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU | GLOBAL_CAP.MULTI_CHANNEL | GLOBAL_CAP.PERSISTENT_HANDLES | GLOBAL_CAP.ENCRYPTION, cipher: CIPHER.AES128_CCM, signingAlgorithm: SIGNING_ALGORITHM.AES_CMAC })
  t.match(d([0x0302], 0), { dialect: 0x0302, cipher: null, capabilities: GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU | GLOBAL_CAP.PERSISTENT_HANDLES }, 'no encryption nor multichannel when the client does not announce them')
  t.equal((d([0x0210], 0x7f) as { capabilities: number }).capabilities & GLOBAL_CAP.MULTI_CHANNEL, 0, 'no multichannel below 3.0')
  t.match(d([0x0300, 0x0311]), { dialect: 0x0311, preauthHash: HASH_ALGORITHM.SHA512 })
  t.equal(d([0x0311]).status === 0 && ((d([0x0311]) as { capabilities: number }).capabilities & GLOBAL_CAP.DFS), 0)
  t.match(d([0x0222, 0x0400]), { status: NT_STATUS.NOT_SUPPORTED })
  t.match(d([]), { status: NT_STATUS.INVALID_PARAMETER })
  t.match(d([0x0210]), { securityMode: 3 })
  t.match(decideNegotiate({ dialects: [0x0210], clientCapabilities: 0, negotiateContexts: [], salt }, { ...policy, signingRequired: false }), { securityMode: 1 })
})

t.test('3.1.1 contexts: one preauth with SHA-512; one of each kind; a cipher and a signing algorithm chosen by our preference', async (t) => {
  const d = (contexts: NegotiateContext[]) => decideNegotiate({ dialects: [0x0311], clientCapabilities: 0, negotiateContexts: contexts, salt }, policy)
  t.match(d([]), { status: NT_STATUS.INVALID_PARAMETER })
  t.match(d([preauth, preauth]), { status: NT_STATUS.INVALID_PARAMETER })
  t.match(d([{ kind: 'preauth', hashAlgorithms: [], salt }]), { status: NT_STATUS.INVALID_PARAMETER })
  t.match(d([{ kind: 'preauth', hashAlgorithms: [2], salt }]), { status: NT_STATUS.SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP })
  t.match(d([preauth, { kind: 'encryption', ciphers: [] }]), { status: NT_STATUS.INVALID_PARAMETER })
  t.match(d([preauth, { kind: 'signing', signingAlgorithms: [] }]), { status: NT_STATUS.INVALID_PARAMETER })
  const smbclient = d([preauth, { kind: 'encryption', ciphers: [CIPHER.AES128_GCM, CIPHER.AES128_CCM, CIPHER.AES256_GCM, CIPHER.AES256_CCM] }, { kind: 'signing', signingAlgorithms: [2, 1, 0] }, { kind: 'netname', netName: 'x' }])
  t.match(smbclient, { status: 0, cipher: CIPHER.AES128_GCM, signingAlgorithm: SIGNING_ALGORITHM.AES_GMAC })
  if ('responseContexts' in smbclient) {
    t.same(smbclient.responseContexts, [
      { kind: 'preauth', hashAlgorithms: [HASH_ALGORITHM.SHA512], salt },
      { kind: 'encryption', ciphers: [CIPHER.AES128_GCM] },
      { kind: 'signing', signingAlgorithms: [SIGNING_ALGORITHM.AES_GMAC] },
    ])
  }
  const impacket = d([preauth, { kind: 'encryption', ciphers: [CIPHER.AES128_CCM] }])
  t.match(impacket, { cipher: CIPHER.AES128_CCM, signingAlgorithm: SIGNING_ALGORITHM.AES_CMAC }, 'no signing context: AES-CMAC')
  t.match(d([preauth, { kind: 'encryption', ciphers: [0x99] }]), { status: 0, cipher: null })
})

t.test('the 0x02FF answer to an SMB1 NEGOTIATE', async (t) => {
  t.match(wildcardNegotiate(policy), { dialect: 0x02ff, securityMode: 3, capabilities: GLOBAL_CAP.LEASING | GLOBAL_CAP.LARGE_MTU })
})
