// NegotiateFlags of the NTLMSSP messages (MS-NLMP 2.2.2.5), by the spec's names without the
// NTLMSSP_ prefix. Bit letters in the spec run from W (0x80000000) down to A (0x00000001).

export const NTLMSSP_NEGOTIATE = {
  /** A: text fields are UTF-16LE. */
  UNICODE: 0x00000001,
  /** B: text fields are in the OEM code page. */
  OEM: 0x00000002,
  /** C: the server's CHALLENGE carries TargetName. */
  REQUEST_TARGET: 0x00000004,
  /** D: session security with message integrity (MS-NLMP 3.4). */
  SIGN: 0x00000010,
  /** E: session security with message confidentiality. */
  SEAL: 0x00000020,
  /** F: connectionless NTLM. */
  DATAGRAM: 0x00000040,
  /** G: LAN Manager session key computation. */
  LM_KEY: 0x00000080,
  /** H: NTLM v1 session security (ignored by NTLMv2 servers but sent by every client). */
  NTLM: 0x00000200,
  /** J: the connection is anonymous. */
  ANONYMOUS: 0x00000800,
  /** K: the NEGOTIATE carries a domain name. */
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  /** L: the NEGOTIATE carries a workstation name. */
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  /** M: sign even without SIGN (the dummy signature otherwise). */
  ALWAYS_SIGN: 0x00008000,
  /** N: TargetName is a domain name. */
  TARGET_TYPE_DOMAIN: 0x00010000,
  /** O: TargetName is a server name. */
  TARGET_TYPE_SERVER: 0x00020000,
  /** P: NTLM v2 session security (extended session security). */
  EXTENDED_SESSIONSECURITY: 0x00080000,
  /** Q: an identify-level token is requested. */
  IDENTIFY: 0x00100000,
  /** R: the LMOWF-based session key. */
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  /** S: the CHALLENGE carries TargetInfo. */
  TARGET_INFO: 0x00800000,
  /** T: the messages carry the VERSION field. */
  VERSION: 0x02000000,
  /** U: 128-bit session key. */
  NEGOTIATE_128: 0x20000000,
  /** V: explicit key exchange: AUTHENTICATE carries EncryptedRandomSessionKey. */
  KEY_EXCH: 0x40000000,
  /** W: 56-bit encryption. */
  NEGOTIATE_56: 0x80000000,
} as const

export type NtlmsspNegotiateFlagName = keyof typeof NTLMSSP_NEGOTIATE

/** True when every bit of flag is set in flags (flags as a u32). */
export function hasFlag(flags: number, flag: number): boolean {
  return ((flags >>> 0) & flag) >>> 0 === flag >>> 0
}

/** "UNICODE|NTLM|…" for a log line; unknown bits as hex. */
export function negotiateFlagNames(flags: number): string {
  const names: string[] = []
  let rest = flags >>> 0
  for (const [name, bit] of Object.entries(NTLMSSP_NEGOTIATE)) {
    if (hasFlag(flags, bit)) {
      names.push(name)
      rest = (rest & ~bit) >>> 0
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16).padStart(8, '0')}`)
  return names.join('|')
}
