// IP address text <-> network byte order, without node:net: the protocol layer does no IO, and
// the witness buffers (MS-SWN 2.2.2.1, 2.2.2.3) and NDR stubs carry addresses as raw bytes.

export const IPV4_BYTES = 4
export const IPV6_BYTES = 16
/** The longest IPv6 text form: eight 4-digit groups with an embedded dotted quad, 45 characters (INET6_ADDRSTRLEN - 1). */
const IPV6_TEXT_LENGTH_MAX = 45
/** A dotted quad of decimal octets 0-255 without leading zeros (as node:net's isIPv4 reads it). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/

/** 4 for a dotted quad, 6 for an IPv6 address (zone identifiers refused), 0 otherwise: node:net's isIP without IO. */
export function ipFamily(ip: string): 0 | 4 | 6 {
  if (ipv4ToBytes(ip) !== null) return 4
  return ipv6ToBytes(ip) !== null ? 6 : 0
}

// ---------------------------------------------------------------------------------------------

/** The 4 bytes of a dotted quad in network order, or null if ip is not one (leading zeros are rejected, as node:net does). */
export function ipv4ToBytes(ip: string): Buffer | null {
  if (typeof ip !== 'string' || !DOTTED_QUAD.test(ip)) return null
  return Buffer.from(ip.split('.').map((part) => Number(part)))
}

/**
 * The 16 bytes of an IPv6 address in network order, or null if ip is not one (RFC 4291 2.2 text
 * forms: eight groups, '::' once for one or more zero groups, an embedded dotted quad as the last
 * 32 bits). Zone identifiers (fe80::1%eth0) are refused because the wire field has no room for
 * them. Agrees with node:net's isIPv6 on everything without a zone (a property test checks it).
 */
export function ipv6ToBytes(ip: string): Buffer | null {
  if (typeof ip !== 'string' || ip.length > IPV6_TEXT_LENGTH_MAX || ip.includes('%')) return null
  let text = ip
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two 16-bit groups.
  const lastColonIndex = text.lastIndexOf(':')
  const tail = text.slice(lastColonIndex + 1)
  if (tail.includes('.')) {
    const tailBytes = ipv4ToBytes(tail)
    if (tailBytes === null) return null
    const high = tailBytes.readUInt16BE(0).toString(16)
    const low = tailBytes.readUInt16BE(2).toString(16)
    text = `${text.slice(0, lastColonIndex + 1)}${high}:${low}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const splitGroups = (part: string): string[] => (part === '' ? [] : part.split(':'))
  const headGroups = splitGroups(halves[0])
  const tailGroups = halves.length === 2 ? splitGroups(halves[1]) : []
  const explicitGroupCount = headGroups.length + tailGroups.length
  // Without '::' all eight groups are spelled out; with it, '::' stands for at least one group.
  if (halves.length === 1 ? explicitGroupCount !== 8 : explicitGroupCount > 7) return null
  const zeroGroups: string[] = new Array<string>(8 - explicitGroupCount).fill('0')
  const groups = [...headGroups, ...zeroGroups, ...tailGroups]
  const out = Buffer.alloc(IPV6_BYTES)
  for (let index = 0; index < 8; index++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[index])) return null
    out.writeUInt16BE(parseInt(groups[index], 16), 2 * index)
  }
  return out
}

/** The dotted quad of 4 bytes in network order. */
export function bytesToIpv4(b: Uint8Array): string {
  if (b.length !== IPV4_BYTES) throw new RangeError(`an IPv4 address is ${IPV4_BYTES} bytes, not ${b.length}`)
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
}

/**
 * The canonical RFC 5952 text of 16 bytes in network order: lower-case hex without leading zeros,
 * the longest run of two or more zero groups (the first, on a tie) compressed to '::', and
 * IPv4-mapped addresses (::ffff:0:0/96) in mixed notation as RFC 5952 §5 recommends. This matches
 * what node:net's SocketAddress prints, except for the deprecated IPv4-compatible range ::/96,
 * which RFC 5952 leaves in hex.
 */
export function bytesToIpv6(b: Uint8Array): string {
  if (b.length !== IPV6_BYTES) throw new RangeError(`an IPv6 address is ${IPV6_BYTES} bytes, not ${b.length}`)
  if (allZero(b.subarray(0, 10)) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${bytesToIpv4(b.subarray(12, 16))}`
  const groups: number[] = []
  for (let index = 0; index < 8; index++) groups.push((b[2 * index] << 8) | b[2 * index + 1])
  let bestStart = -1
  let bestLength = 0
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++
      continue
    }
    let end = start
    while (end < 8 && groups[end] === 0) end++
    if (end - start > bestLength) {
      bestStart = start
      bestLength = end - start
    }
    start = end
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((group) => group.toString(16)).join(':')
  // RFC 5952 §4.2.2: a single zero group is never compressed.
  if (bestLength < 2) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`
}

export function allZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0)
}
