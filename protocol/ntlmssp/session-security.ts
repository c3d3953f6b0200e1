// NTLMSSP session security with extended session security (MS-NLMP 3.4): message integrity
// (sign/verify) and confidentiality (seal/unseal) after authentication, as GSS_GetMIC/GSS_WrapEx
// use it. Here for the SPNEGO mechListMIC of an SMB2 SESSION_SETUP and for DCE/RPC packet
// integrity and privacy (the witness binding).
//
// Keys (MS-NLMP 3.4.5.2, 3.4.5.3), from the exported session key:
//   SignKey = MD5(ExportedSessionKey + "session key to {client-to-server|server-to-client} signing key magic constant\0")
//   SealKey = MD5(ExportedSessionKey[0..n] + "session key to {…} sealing key magic constant\0"),
//             n = 16 with NEGOTIATE_128, 7 with NEGOTIATE_56, else 5.
// Each direction has its own sequence number and its own RC4 stream keyed with that direction's
// sealing key, kept for the life of the context (connection-oriented NTLM). The signature
// (NTLMSSP_MESSAGE_SIGNATURE, 2.2.2.9.1) is Version(4)=1, Checksum(8), SeqNum(4):
//   Checksum = HMAC_MD5(SignKey, SeqNum + Message)[0..8], RC4-encrypted with the stream when KEY_EXCH.
// Sealing encrypts the message with the stream first, then signs the plaintext (3.4.3): the
// checksum's RC4 continues the same stream.
// Only extended session security is implemented: every client that negotiates NTLMv2 today sets
// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY (Windows, Samba, impacket).
import assert from 'node:assert/strict'
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { Rc4 } from '../crypto/rc4.js'
import { NTLMSSP_NEGOTIATE, hasFlag } from './negotiate-flags.js'

export const NTLMSSP_SIGNATURE_BYTES = 16
const SIGNATURE_VERSION = 1
const CHECKSUM_BYTES = 8
const SEQ_NUM_MAX = 0xffffffff

export type NtlmRole = 'client' | 'server'

const MAGIC = {
  clientSign: 'session key to client-to-server signing key magic constant\0',
  serverSign: 'session key to server-to-client signing key magic constant\0',
  clientSeal: 'session key to client-to-server sealing key magic constant\0',
  serverSeal: 'session key to server-to-client sealing key magic constant\0',
} as const

function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash('md5')
  for (const p of parts) h.update(p)
  return h.digest()
}

/** The four keys of MS-NLMP 3.4.5.2 and 3.4.5.3 with extended session security. */
export interface NtlmSessionKeys {
  readonly clientSigningKey: Buffer
  readonly serverSigningKey: Buffer
  readonly clientSealingKey: Buffer
  readonly serverSealingKey: Buffer
}

export function deriveNtlmSessionKeys(exportedSessionKey: Uint8Array, flags: number): NtlmSessionKeys {
  assert.equal(exportedSessionKey.length, 16, 'exported session key of 16 bytes')
  const sealBytes = hasFlag(flags, NTLMSSP_NEGOTIATE.NEGOTIATE_128) ? 16 : hasFlag(flags, NTLMSSP_NEGOTIATE.NEGOTIATE_56) ? 7 : 5
  const sealBase = exportedSessionKey.subarray(0, sealBytes)
  const magic = (s: string): Buffer => Buffer.from(s, 'latin1')
  return {
    clientSigningKey: md5(exportedSessionKey, magic(MAGIC.clientSign)),
    serverSigningKey: md5(exportedSessionKey, magic(MAGIC.serverSign)),
    clientSealingKey: md5(sealBase, magic(MAGIC.clientSeal)),
    serverSealingKey: md5(sealBase, magic(MAGIC.serverSeal)),
  }
}

interface Direction {
  readonly signingKey: Buffer
  readonly sealingKey: Buffer
  rc4: Rc4
  seqNum: number
}

/** The verdict on a received message. */
export type NtlmVerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/** One side's NTLMSSP session security: outbound and inbound state with their sequence numbers. */
export class NtlmSessionSecurity {
  private readonly outbound: Direction
  private readonly inbound: Direction
  private readonly keyExch: boolean
  private inboundBroken = false

  constructor(
    readonly role: NtlmRole,
    exportedSessionKey: Uint8Array,
    readonly flags: number,
  ) {
    assert.ok(hasFlag(flags, NTLMSSP_NEGOTIATE.EXTENDED_SESSIONSECURITY), 'NTLMSSP session security without extended session security is not implemented')
    const keys = deriveNtlmSessionKeys(exportedSessionKey, flags)
    const client = { signingKey: keys.clientSigningKey, sealingKey: keys.clientSealingKey }
    const server = { signingKey: keys.serverSigningKey, sealingKey: keys.serverSealingKey }
    const [out, inn] = role === 'client' ? [client, server] : [server, client]
    this.outbound = { ...out, rc4: new Rc4(out.sealingKey), seqNum: 0 }
    this.inbound = { ...inn, rc4: new Rc4(inn.sealingKey), seqNum: 0 }
    this.keyExch = hasFlag(flags, NTLMSSP_NEGOTIATE.KEY_EXCH)
  }

  /**
   * Fresh RC4 streams from the sealing keys, the sequence numbers kept: what SPNEGO does to the
   * NTLMSSP state after the mechListMIC exchange (Samba's gensec_may_reset_crypto with
   * full_reset=false; observed with Samba 4.17's client, whose next signature after the exchange
   * carries sequence number 1 under a fresh stream).
   */
  reinitializeSealingState(): void {
    for (const d of [this.outbound, this.inbound]) d.rc4 = new Rc4(d.sealingKey)
    this.inboundBroken = false
  }

  /** The next outbound sequence number. */
  get sendSeqNum(): number {
    return this.outbound.seqNum
  }

  get receiveSeqNum(): number {
    return this.inbound.seqNum
  }

  /** GSS_GetMIC: the 16-byte signature of message (its parts concatenated); advances the outbound sequence number. */
  sign(...message: Uint8Array[]): Buffer {
    return this.signature(this.outbound, message)
  }

  /** GSS_VerifyMIC: checks signature against message and the expected inbound sequence number. */
  verify(signature: Uint8Array, ...message: Uint8Array[]): NtlmVerifyResult {
    const refused = this.refuse(signature)
    if (refused) return refused
    return this.compare(signature, this.signature(this.inbound, message))
  }

  /**
   * GSS_WrapEx: encrypts toSeal with the outbound stream and signs signedBefore + plaintext +
   * signedAfter (DCE/RPC signs the header and trailer around the sealed stub; SMB-less callers pass
   * nothing). Returns the ciphertext and the signature.
   */
  seal(toSeal: Uint8Array, signedBefore: Uint8Array = EMPTY, signedAfter: Uint8Array = EMPTY): { sealed: Buffer; signature: Buffer } {
    const sealed = this.outbound.rc4.update(toSeal)
    const signature = this.signature(this.outbound, [signedBefore, toSeal, signedAfter])
    return { sealed, signature }
  }

  /**
   * GSS_UnwrapEx: decrypts sealed with the inbound stream and checks the signature over
   * signedBefore + plaintext + signedAfter. On failure the plaintext is not returned.
   */
  unseal(sealed: Uint8Array, signature: Uint8Array, signedBefore: Uint8Array = EMPTY, signedAfter: Uint8Array = EMPTY): { ok: true; plaintext: Buffer } | { ok: false; reason: string } {
    const refused = this.refuse(signature)
    if (refused) return refused
    const plaintext = this.inbound.rc4.update(sealed)
    const result = this.compare(signature, this.signature(this.inbound, [signedBefore, plaintext, signedAfter]))
    return result.ok ? { ok: true, plaintext } : result
  }

  private refuse(signature: Uint8Array): { ok: false; reason: string } | undefined {
    if (this.inboundBroken) return { ok: false, reason: 'an earlier message failed its check: the inbound stream is out of step' }
    if (signature.length !== NTLMSSP_SIGNATURE_BYTES) return { ok: false, reason: `signature of ${signature.length} bytes` }
    return undefined
  }

  private compare(received: Uint8Array, expected: Buffer): NtlmVerifyResult {
    if (timingSafeEqual(expected, received)) return { ok: true }
    // The RC4 stream and the sequence number have moved on: nothing after this can be checked, so
    // the context refuses every later message (a DCE/RPC or SMB peer drops the connection anyway).
    this.inboundBroken = true
    return { ok: false, reason: `bad NTLMSSP signature for sequence number ${expected.readUInt32LE(12)}` }
  }

  private signature(d: Direction, message: readonly Uint8Array[]): Buffer {
    assert.ok(d.seqNum < SEQ_NUM_MAX, 'NTLMSSP sequence number exhausted')
    const seq = Buffer.alloc(4)
    seq.writeUInt32LE(d.seqNum)
    const hmac = createHmac('md5', d.signingKey).update(seq)
    for (const part of message) hmac.update(part)
    let checksum: Buffer = hmac.digest().subarray(0, CHECKSUM_BYTES)
    if (this.keyExch) checksum = d.rc4.update(checksum)
    const out = Buffer.alloc(NTLMSSP_SIGNATURE_BYTES)
    out.writeUInt32LE(SIGNATURE_VERSION, 0)
    checksum.copy(out, 4)
    seq.copy(out, 12)
    d.seqNum++
    return out
  }
}

const EMPTY = new Uint8Array(0)
