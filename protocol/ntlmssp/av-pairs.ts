// AV_PAIR lists (MS-NLMP 2.2.2.1): the TargetInfo of a CHALLENGE and the AvPairs of an NTLMv2
// client challenge. A list is kept as the ordered pairs seen (unknown ids included, so a list
// round-trips and the bytes a MIC or NTProofStr covers are not reinterpreted); TargetInfo is the
// typed view of the ids MS-NLMP defines.
import assert from 'node:assert/strict'
import { NtlmsspDecodeError, NtlmsspReader, decodeNtlmssp, type NtlmsspDecoded } from './ntlmssp-reader.js'

/** AvId values (MS-NLMP 2.2.2.1). */
export const AV_ID = {
  EOL: 0x0000,
  NB_COMPUTER_NAME: 0x0001,
  NB_DOMAIN_NAME: 0x0002,
  DNS_COMPUTER_NAME: 0x0003,
  DNS_DOMAIN_NAME: 0x0004,
  DNS_TREE_NAME: 0x0005,
  FLAGS: 0x0006,
  TIMESTAMP: 0x0007,
  SINGLE_HOST: 0x0008,
  TARGET_NAME: 0x0009,
  CHANNEL_BINDINGS: 0x000a,
} as const

/** Bits of the MsvAvFlags value (MS-NLMP 2.2.2.1). */
export const AV_FLAGS = {
  /** The server's account authentication is constrained. */
  CONSTRAINED: 0x00000001,
  /** The AUTHENTICATE message carries a MIC. */
  MIC_PRESENT: 0x00000002,
  /** The SPN came from an untrusted source. */
  SPN_UNTRUSTED: 0x00000004,
} as const

export interface AvPair {
  readonly id: number
  readonly value: Buffer
}

/** The typed view of an AV_PAIR list: the first pair of each id MS-NLMP defines. */
export interface TargetInfo {
  readonly nbComputerName?: string
  readonly nbDomainName?: string
  readonly dnsComputerName?: string
  readonly dnsDomainName?: string
  readonly dnsTreeName?: string
  /** MsvAvFlags, AV_FLAGS bits. */
  readonly flags?: number
  /** MsvAvTimestamp: a FILETIME (100 ns units since 1601-01-01 UTC). */
  readonly timestamp?: bigint
  /** MsvAvSingleHost: the Single_Host_Data structure (2.2.2.2), kept raw. */
  readonly singleHost?: Buffer
  /** MsvAvTargetName: the SPN of the target server. */
  readonly targetName?: string
  /** MsvAvChannelBindings: MD5 of gss_channel_bindings_struct, 16 bytes. */
  readonly channelBindings?: Buffer
}

const AV_HEADER_BYTES = 4
/** A real list has about a dozen pairs; a hostile one is refused long before it costs anything. */
export const AV_PAIRS_MAX = 128
const FLAGS_BYTES = 4
const TIMESTAMP_BYTES = 8
const CHANNEL_BINDINGS_BYTES = 16
const SINGLE_HOST_BYTES_MIN = 48

/** The pairs at bytes[offset..], up to and excluding MsvAvEOL, and the offset after the EOL pair. */
export function readAvPairs(r: NtlmsspReader, offset: number, what: string): { pairs: AvPair[]; endOffset: number } {
  const pairs: AvPair[] = []
  let at = offset
  for (;;) {
    if (at + AV_HEADER_BYTES > r.length) r.fail(`${what}: AV_PAIR list ends without MsvAvEOL`, at)
    const id = r.u16(at)
    const length = r.u16(at + 2)
    if (id === AV_ID.EOL) {
      if (length !== 0) r.fail(`${what}: MsvAvEOL with AvLen ${length}`, at)
      return { pairs, endOffset: at + AV_HEADER_BYTES }
    }
    if (pairs.length >= AV_PAIRS_MAX) r.fail(`${what}: more than ${AV_PAIRS_MAX} AV pairs`, at)
    if (at + AV_HEADER_BYTES + length > r.length) r.fail(`${what}: AV pair ${id} of ${length} bytes runs past the end (${r.length})`, at)
    pairs.push({ id, value: r.copy(at + AV_HEADER_BYTES, length) })
    at += AV_HEADER_BYTES + length
  }
}

/** An AV_PAIR list that fills bytes (data after MsvAvEOL is refused: TargetInfo is exactly the list). */
export function decodeAvPairs(bytes: Uint8Array): NtlmsspDecoded<AvPair[]> {
  return decodeNtlmssp(bytes, (r) => {
    const { pairs, endOffset } = readAvPairs(r, 0, 'TargetInfo')
    if (endOffset !== r.length) r.fail(`TargetInfo: ${r.length - endOffset} bytes after MsvAvEOL`, endOffset)
    return pairs
  })
}

/** The pairs followed by MsvAvEOL. */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  assert.ok(pairs.length <= AV_PAIRS_MAX, `${pairs.length} AV pairs`)
  const parts: Buffer[] = []
  for (const { id, value } of pairs) {
    assert.ok(id !== AV_ID.EOL && id >= 0 && id <= 0xffff, `AvId ${id}`)
    assert.ok(value.length <= 0xffff, `AV pair value of ${value.length} bytes`)
    const header = Buffer.alloc(AV_HEADER_BYTES)
    header.writeUInt16LE(id, 0)
    header.writeUInt16LE(value.length, 2)
    parts.push(header, value)
  }
  parts.push(Buffer.alloc(AV_HEADER_BYTES))
  return Buffer.concat(parts)
}

/** The typed view; a pair of a defined id with a value of the wrong size is malformed. */
export function targetInfoOf(pairs: readonly AvPair[]): NtlmsspDecoded<TargetInfo> {
  const info: { -readonly [K in keyof TargetInfo]: TargetInfo[K] } = {}
  for (const [index, { id, value }] of pairs.entries()) {
    const bad = (why: string): NtlmsspDecoded<TargetInfo> => ({ ok: false, error: new NtlmsspDecodeError(`AV pair ${index} (id ${id}): ${why}`, 0) })
    const text = (): string | undefined => (value.length % 2 === 0 ? value.toString('utf16le') : undefined)
    switch (id) {
      case AV_ID.NB_COMPUTER_NAME:
      case AV_ID.NB_DOMAIN_NAME:
      case AV_ID.DNS_COMPUTER_NAME:
      case AV_ID.DNS_DOMAIN_NAME:
      case AV_ID.DNS_TREE_NAME:
      case AV_ID.TARGET_NAME: {
        const s = text()
        if (s === undefined) return bad(`odd UTF-16 byte count ${value.length}`)
        const key = TEXT_KEYS[id]
        if (info[key] === undefined) info[key] = s
        break
      }
      case AV_ID.FLAGS:
        if (value.length !== FLAGS_BYTES) return bad(`MsvAvFlags of ${value.length} bytes`)
        info.flags ??= value.readUInt32LE(0)
        break
      case AV_ID.TIMESTAMP:
        if (value.length !== TIMESTAMP_BYTES) return bad(`MsvAvTimestamp of ${value.length} bytes`)
        info.timestamp ??= value.readBigUInt64LE(0)
        break
      case AV_ID.CHANNEL_BINDINGS:
        if (value.length !== CHANNEL_BINDINGS_BYTES) return bad(`MsvAvChannelBindings of ${value.length} bytes`)
        info.channelBindings ??= Buffer.from(value)
        break
      case AV_ID.SINGLE_HOST:
        if (value.length < SINGLE_HOST_BYTES_MIN) return bad(`MsvAvSingleHost of ${value.length} bytes`)
        info.singleHost ??= Buffer.from(value)
        break
      default:
        // Ids MS-NLMP may add later are carried, not interpreted (3.1.5.1.2: ignore unknown AvIds).
        break
    }
  }
  return { ok: true, value: info }
}

const TEXT_KEYS = {
  [AV_ID.NB_COMPUTER_NAME]: 'nbComputerName',
  [AV_ID.NB_DOMAIN_NAME]: 'nbDomainName',
  [AV_ID.DNS_COMPUTER_NAME]: 'dnsComputerName',
  [AV_ID.DNS_DOMAIN_NAME]: 'dnsDomainName',
  [AV_ID.DNS_TREE_NAME]: 'dnsTreeName',
  [AV_ID.TARGET_NAME]: 'targetName',
} as const satisfies Record<number, keyof TargetInfo>

/**
 * The pairs of info in the order Windows writes them: NbDomainName, NbComputerName,
 * DnsDomainName, DnsComputerName, DnsTreeName, Flags, Timestamp, SingleHost, TargetName,
 * ChannelBindings.
 */
export function avPairsOf(info: TargetInfo): AvPair[] {
  const pairs: AvPair[] = []
  const text = (id: number, s: string | undefined): void => {
    if (s !== undefined) pairs.push({ id, value: Buffer.from(s, 'utf16le') })
  }
  text(AV_ID.NB_DOMAIN_NAME, info.nbDomainName)
  text(AV_ID.NB_COMPUTER_NAME, info.nbComputerName)
  text(AV_ID.DNS_DOMAIN_NAME, info.dnsDomainName)
  text(AV_ID.DNS_COMPUTER_NAME, info.dnsComputerName)
  text(AV_ID.DNS_TREE_NAME, info.dnsTreeName)
  if (info.flags !== undefined) {
    const value = Buffer.alloc(FLAGS_BYTES)
    value.writeUInt32LE(info.flags >>> 0)
    pairs.push({ id: AV_ID.FLAGS, value })
  }
  if (info.timestamp !== undefined) {
    const value = Buffer.alloc(TIMESTAMP_BYTES)
    value.writeBigUInt64LE(info.timestamp)
    pairs.push({ id: AV_ID.TIMESTAMP, value })
  }
  if (info.singleHost !== undefined) pairs.push({ id: AV_ID.SINGLE_HOST, value: Buffer.from(info.singleHost) })
  text(AV_ID.TARGET_NAME, info.targetName)
  if (info.channelBindings !== undefined) {
    assert.equal(info.channelBindings.length, CHANNEL_BINDINGS_BYTES)
    pairs.push({ id: AV_ID.CHANNEL_BINDINGS, value: Buffer.from(info.channelBindings) })
  }
  return pairs
}
