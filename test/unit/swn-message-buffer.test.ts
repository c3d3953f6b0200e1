// The MS-SWN notification MessageBuffer codec: byte-exact vectors written out by hand, a Windows
// capture, round trips, and fuzzing of the decoders, which face the network.
import t from 'tap'
import fc from 'fast-check'
import { SocketAddress } from 'node:net'
import { IPADDR_FLAGS, IPADDR_FLAGS_DEFINED_MASK, MESSAGE_TYPE, MESSAGE_TYPE_NAMES, RESOURCE_STATE, RESOURCE_STATE_NAMES, decodeIpAddrInfoList, decodeResourceChanges, encodeIpAddrInfoList, encodeResourceChanges, ipAddrInfoFor, type DecodeResult, type IpAddrInfo, type ResourceChangeRecord } from '../../protocol/swn/message-buffer.js'
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from '../../protocol/ip-address.js'

/** Bytes from a hex string; spaces are only there to show the field boundaries. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

/** The decoded value; a refusal throws, which fails the enclosing subtest with the decoder's error. */
function expectOk<T>(result: DecodeResult<T>, what: string): T {
  if (!result.ok) throw new Error(`${what} did not decode: ${result.error}`)
  return result.value
}

// --- Hand-written vectors ------------------------------------------------------------------------

// One record: ('SOFS', UNAVAILABLE).
// Length = 8 (Length + ChangeType) + 2·4 (four UTF-16 code units) + 2 (NUL) = 18 = 0x12, so the
// first word is 12000000, not the 14000000 that the brief's sketch shows. ChangeType 0xff → ff000000.
// 'S' 'O' 'F' 'S' are 0x53 0x4f 0x46 0x53, each followed by a zero high byte; then the NUL 0000.
const SOFS_UNAVAILABLE_HEX = '12000000 ff000000 5300 4f00 4600 5300 0000'

// Three records packed back to back with no padding:
//  1. ('A', AVAILABLE): Length = 8 + 2·1 + 2 = 12 = 0x0c; 'A' = 0x41.
//  2. ('fs01', UNKNOWN): Length = 8 + 2·4 + 2 = 18 = 0x12; 'f' 's' '0' '1' = 0x66 0x73 0x30 0x31.
//  3. ('π📁', UNAVAILABLE): 'π' is U+03C0, one code unit 03c0 → bytes c0 03; '📁' is U+1F4C1, which
//     is outside the BMP: U+1F4C1 − 0x10000 = 0xF4C1; high = 0xD800 + (0xF4C1 >> 10) = 0xD83D,
//     low = 0xDC00 + (0xF4C1 & 0x3ff) = 0xDCC1 → bytes 3d d8 c1 dc. Three code units, so
//     Length = 8 + 2·3 + 2 = 16 = 0x10.
// Total = 12 + 18 + 16 = 46 bytes, NumberOfMessages = 3.
const THREE_RECORDS: ResourceChangeRecord[] = [
  { changeType: RESOURCE_STATE.AVAILABLE, resourceName: 'A' },
  { changeType: RESOURCE_STATE.UNKNOWN, resourceName: 'fs01' },
  { changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'π\u{1F4C1}' },
]
const THREE_RECORDS_HEX = [
  '0c000000 01000000 4100 0000',
  '12000000 00000000 6600 7300 3000 3100 0000',
  '10000000 ff000000 c003 3dd8 c1dc 0000',
].join(' ')

// One IPv4 ONLINE entry for 10.0.0.2.
// List Length = 12 + 24·1 = 36 = 0x24; Reserved 0; IPAddrInstances 1.
// Flags = IPADDR_V4 | IPADDR_ONLINE = 0x1 | 0x8 = 0x9 → 09000000; IPV4 in network order 0a 00 00 02;
// IPV6 unused → sixteen zero bytes.
const ONE_V4_ONLINE_HEX = '24000000 00000000 01000000' + ' 09000000 0a000002 00000000000000000000000000000000'

// Three entries: 192.168.3.45 OFFLINE, fd00::1 ONLINE, 2001:db8::ff00:42:8329 OFFLINE.
// List Length = 12 + 24·3 = 84 = 0x54; IPAddrInstances 3.
//  1. Flags V4|OFFLINE = 0x1 | 0x10 = 0x11; 192.168.3.45 = c0 a8 03 2d; IPV6 zero.
//  2. Flags V6|ONLINE = 0x2 | 0x8 = 0x0a; IPV4 zero; fd00::1 expands to fd00:0:0:0:0:0:0:1
//     → fd00 0000 0000 0000 0000 0000 0000 0001.
//  3. Flags V6|OFFLINE = 0x2 | 0x10 = 0x12; 2001:db8::ff00:42:8329 has five explicit groups, so '::'
//     stands for three zero groups: 2001 0db8 0000 0000 0000 ff00 0042 8329.
const THREE_ENTRIES: IpAddrInfo[] = [
  { flags: IPADDR_FLAGS.V4 | IPADDR_FLAGS.OFFLINE, ipv4: '192.168.3.45', ipv6: '' },
  { flags: IPADDR_FLAGS.V6 | IPADDR_FLAGS.ONLINE, ipv4: '', ipv6: 'fd00::1' },
  { flags: IPADDR_FLAGS.V6 | IPADDR_FLAGS.OFFLINE, ipv4: '', ipv6: '2001:db8::ff00:42:8329' },
]
const THREE_ENTRIES_HEX = [
  '54000000 00000000 03000000',
  '11000000 c0a8032d 00000000000000000000000000000000',
  '0a000000 00000000 fd000000000000000000000000000001',
  '12000000 00000000 20010db8000000000000ff0000428329',
].join(' ')

// witness_AsyncNotify_data_OUT from Samba's source4/torture/ndr/witness.c: the NDR stub of a
// WitnessrAsyncNotify response captured from Windows. Its layout is: the unique pointer referent
// 00000200, MessageType u32, Length u32, NumberOfMessages u32, the MessageBuffer pointer referent
// 04000200, the conformant array's max count u32, then Length bytes of MessageBuffer, padding to
// 4 bytes, and the WERROR return value.
const SAMBA_ASYNC_NOTIFY_OUT_HEX =
  '00000200 01000000 12000000 01000000 04000200 12000000' +
  ' 12000000 ff000000 53004f00 46005300 0000' +
  ' 0000 00000000'

t.test('exported constants carry the MS-SWN values and names', async (t) => {
  t.same(MESSAGE_TYPE, { RESOURCE_CHANGE: 1, CLIENT_MOVE: 2, SHARE_MOVE: 3, IP_CHANGE: 4 })
  t.same(MESSAGE_TYPE_NAMES, {
    1: 'RESOURCE_CHANGE_NOTIFICATION',
    2: 'CLIENT_MOVE_NOTIFICATION',
    3: 'SHARE_MOVE_NOTIFICATION',
    4: 'IP_CHANGE_NOTIFICATION',
  })
  t.same(RESOURCE_STATE, { UNKNOWN: 0, AVAILABLE: 1, UNAVAILABLE: 0xff })
  t.same(RESOURCE_STATE_NAMES, { 0: 'RESOURCE_STATE_UNKNOWN', 1: 'RESOURCE_STATE_AVAILABLE', 255: 'RESOURCE_STATE_UNAVAILABLE' })
  t.same(IPADDR_FLAGS, { V4: 1, V6: 2, ONLINE: 8, OFFLINE: 0x10 })
  t.equal(IPADDR_FLAGS_DEFINED_MASK, IPADDR_FLAGS.V4 | IPADDR_FLAGS.V6 | IPADDR_FLAGS.ONLINE | IPADDR_FLAGS.OFFLINE)
  t.equal(IPADDR_FLAGS.V4 | IPADDR_FLAGS.ONLINE, 0x9)
  t.equal(IPADDR_FLAGS.V4 | IPADDR_FLAGS.OFFLINE, 0x11)
})

t.test('RESOURCE_CHANGE vectors', async (t) => {
  const single = encodeResourceChanges([{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'SOFS' }])
  t.equal(single.toString('hex'), hex(SOFS_UNAVAILABLE_HEX).toString('hex'))
  t.equal(single.length, 18)
  t.same(expectOk(decodeResourceChanges(single, 1), 'SOFS'), [{ changeType: 0xff, resourceName: 'SOFS' }])

  const three = encodeResourceChanges(THREE_RECORDS)
  t.equal(three.toString('hex'), hex(THREE_RECORDS_HEX).toString('hex'))
  t.equal(three.length, 46)
  t.same(expectOk(decodeResourceChanges(three, 3), 'three records'), THREE_RECORDS)
  t.same(expectOk(decodeResourceChanges(three), 'three records, count not given'), THREE_RECORDS)

  t.equal(encodeResourceChanges([]).length, 0, 'no records make an empty buffer')
  t.same(expectOk(decodeResourceChanges(new Uint8Array(0), 0), 'empty'), [])
})

t.test('the Windows capture from Samba decodes and re-encodes byte for byte', async (t) => {
  const stub = hex(SAMBA_ASYNC_NOTIFY_OUT_HEX)
  const messageType = stub.readUInt32LE(4)
  const lengthBytes = stub.readUInt32LE(8)
  const numberOfMessages = stub.readUInt32LE(12)
  t.equal(messageType, MESSAGE_TYPE.RESOURCE_CHANGE)
  t.equal(lengthBytes, 18)
  t.equal(numberOfMessages, 1)
  t.equal(stub.readUInt32LE(20), lengthBytes, 'the conformant max count equals Length')
  const messageBuffer = stub.subarray(24, 24 + lengthBytes)
  const records = expectOk(decodeResourceChanges(messageBuffer, numberOfMessages), 'capture')
  t.same(records, [{ changeType: RESOURCE_STATE.UNAVAILABLE, resourceName: 'SOFS' }])
  t.same(encodeResourceChanges(records), messageBuffer)
  t.same(messageBuffer, hex(SOFS_UNAVAILABLE_HEX), 'the capture agrees with the hand-computed vector')
})

t.test('IPADDR_INFO_LIST vectors', async (t) => {
  const v4Online = ipAddrInfoFor('10.0.0.2', IPADDR_FLAGS.ONLINE)
  t.same(v4Online, { flags: 0x9, ipv4: '10.0.0.2', ipv6: '' })
  if (v4Online === null) return
  const one = encodeIpAddrInfoList([v4Online])
  t.equal(one.toString('hex'), hex(ONE_V4_ONLINE_HEX).toString('hex'))
  t.equal(one.length, 36)
  t.same(expectOk(decodeIpAddrInfoList(one), 'one entry'), { entries: [v4Online], rawFlags: [0x9] })

  const built = [
    ipAddrInfoFor('192.168.3.45', IPADDR_FLAGS.OFFLINE),
    ipAddrInfoFor('fd00::1', IPADDR_FLAGS.ONLINE),
    ipAddrInfoFor('2001:DB8:0:0:0:FF00:42:8329', IPADDR_FLAGS.OFFLINE),
  ]
  t.same(built, THREE_ENTRIES, 'ipAddrInfoFor canonicalises the address text')
  const three = encodeIpAddrInfoList(THREE_ENTRIES)
  t.equal(three.toString('hex'), hex(THREE_ENTRIES_HEX).toString('hex'))
  t.equal(three.length, 84)
  t.same(expectOk(decodeIpAddrInfoList(three), 'three entries'), { entries: THREE_ENTRIES, rawFlags: [0x11, 0x0a, 0x12] })
})

t.test('undefined flag bits are masked off but reported raw', async (t) => {
  // The one-entry vector with Flags 0xffffff09, as Windows may send it: bytes 09 ff ff ff.
  const noisy = hex(ONE_V4_ONLINE_HEX)
  noisy.writeUInt32LE(0xffffff09, 12)
  const decoded = expectOk(decodeIpAddrInfoList(noisy), 'noisy flags')
  t.same(decoded.entries, [{ flags: 0x09, ipv4: '10.0.0.2', ipv6: '' }])
  t.same(decoded.rawFlags, [0xffffff09])
  // Re-encoding with the raw flags reproduces the original bytes exactly.
  t.same(encodeIpAddrInfoList(decoded.entries.map((entry, index) => ({ ...entry, flags: decoded.rawFlags[index] }))), noisy)

  // Bits 0x4 and 0x20 and above are undefined; masking must not let them fake V4|V6.
  const undefinedOnly = hex(ONE_V4_ONLINE_HEX)
  undefinedOnly.writeUInt32LE(0xffffffe5, 12) // 0xe5 = 1110 0101: V4 and undefined bits 0x4, 0x20, 0x40, 0x80.
  t.same(expectOk(decodeIpAddrInfoList(undefinedOnly), 'undefined bits').entries[0].flags, IPADDR_FLAGS.V4)
})

t.test('Reserved is ignored on receipt, as MS-SWN requires of clients', async (t) => {
  const withReserved = hex(ONE_V4_ONLINE_HEX)
  withReserved.writeUInt32LE(0xdeadbeef, 4)
  t.same(expectOk(decodeIpAddrInfoList(withReserved), 'reserved').entries, [{ flags: 0x9, ipv4: '10.0.0.2', ipv6: '' }])
})

t.test('address fields: unflagged zeros are empty, flagged or non-zero fields are shown', async (t) => {
  // A V4 entry for 0.0.0.0 keeps its address; an unflagged but non-zero IPV6 field is not dropped.
  const list: IpAddrInfo[] = [
    { flags: IPADDR_FLAGS.V4, ipv4: '0.0.0.0', ipv6: '' },
    { flags: IPADDR_FLAGS.V6, ipv4: '', ipv6: '::' },
    { flags: IPADDR_FLAGS.V4 | IPADDR_FLAGS.ONLINE, ipv4: '1.2.3.4', ipv6: '::1' },
    { flags: IPADDR_FLAGS.OFFLINE, ipv4: '', ipv6: '' },
  ]
  const bytes = encodeIpAddrInfoList(list)
  t.same(expectOk(decodeIpAddrInfoList(bytes), 'address fields').entries, list)
})

t.test('address text conversions', async (t) => {
  t.same(ipv4ToBytes('10.0.0.2'), hex('0a000002'))
  t.same(ipv4ToBytes('255.255.255.255'), hex('ffffffff'))
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ' 1.2.3.4', '1.2.3.4/8', '::1', 'a.b.c.d']) {
    t.equal(ipv4ToBytes(bad), null, `ipv4ToBytes(${JSON.stringify(bad)})`)
  }
  t.equal(bytesToIpv4(hex('c0a8032d')), '192.168.3.45')

  const ipv6Cases: [string, string, string][] = [
    // input, the 16 bytes in hex, canonical text
    ['::', '00000000000000000000000000000000', '::'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['fd00::1', 'fd000000000000000000000000000001', 'fd00::1'],
    ['2001:0DB8:0000:0000:0000:FF00:0042:8329', '20010db8000000000000ff0000428329', '2001:db8::ff00:42:8329'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
    ['::ffff:102:304', '00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304', '1:2:3:4:5:6:102:304'],
    ['::1.2.3.4', '00000000000000000000000001020304', '::102:304'],
    // RFC 5952 §4.2.2: one zero group stays; §4.2.3: the longest run wins, the first on a tie.
    ['1:0:1:1:1:1:1:1', '00010000000100010001000100010001', '1:0:1:1:1:1:1:1'],
    ['1:0:0:1:0:0:0:1', '00010000000000010000000000000001', '1:0:0:1::1'],
    ['1:0:0:1:1:0:0:1', '00010000000000010001000000000001', '1::1:1:0:0:1'],
  ]
  for (const [input, bytesHex, canonical] of ipv6Cases) {
    const bytes = ipv6ToBytes(input)
    t.equal(bytes?.toString('hex'), bytesHex, `ipv6ToBytes(${input})`)
    t.equal(bytesToIpv6(hex(bytesHex)), canonical, `bytesToIpv6 of ${input}`)
  }
  for (const bad of ['', ':', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '[::1]', '::ffff:01.2.3.4', '1.2.3.4', 'g::1', ' ::1']) {
    t.equal(ipv6ToBytes(bad), null, `ipv6ToBytes(${JSON.stringify(bad)})`)
  }

  t.throws(() => bytesToIpv4(new Uint8Array(3)), RangeError, 'bytesToIpv4 wants exactly 4 bytes')
  t.throws(() => bytesToIpv6(new Uint8Array(4)), RangeError, 'bytesToIpv6 wants exactly 16 bytes')

  t.equal(ipAddrInfoFor('not an address', IPADDR_FLAGS.ONLINE), null)
  t.same(ipAddrInfoFor('::ffff:10.0.0.2', 0), { flags: IPADDR_FLAGS.V6, ipv4: '', ipv6: '::ffff:10.0.0.2' })
  t.throws(() => ipAddrInfoFor('10.0.0.2', IPADDR_FLAGS.V6), RangeError, 'the family bit comes from the address')
})

t.test('bytesToIpv6 agrees with node:net and with ipv6ToBytes', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = bytesToIpv6(bytes)
      if (ipv6ToBytes(text)?.equals(bytes) !== true) return false
      // libuv prints the deprecated IPv4-compatible range ::/96 in mixed notation; RFC 5952 does not.
      const ipv4Compatible = bytes.subarray(0, 12).every((byte) => byte === 0)
      return ipv4Compatible || new SocketAddress({ address: text, family: 'ipv6' }).address === text
    }),
    { numRuns: 1000 },
  )
  // Zero runs are rare among random bytes, so also draw addresses made of zero and non-zero groups.
  const sparseGroups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  fc.assert(
    fc.property(sparseGroups, (groups) => {
      const bytes = Buffer.alloc(16)
      groups.forEach((group, index) => bytes.writeUInt16BE(group, 2 * index))
      const text = bytesToIpv6(bytes)
      if (ipv6ToBytes(text)?.equals(bytes) !== true) return false
      const ipv4Compatible = bytes.subarray(0, 12).every((byte) => byte === 0)
      return ipv4Compatible || new SocketAddress({ address: text, family: 'ipv6' }).address === text
    }),
    { numRuns: 1000 },
  )
})

// --- Round trips ---------------------------------------------------------------------------------

// Names drawn from all of Unicode (BMP and astral code points, so surrogate pairs appear) minus NUL;
// the second source weights astral code points more heavily than fast-check's 'binary' unit does.
const resourceName = fc.string({ unit: 'binary', maxLength: 12 }).filter((name) => !name.includes('\0'))
const anyUnicodeName = fc
  .array(fc.oneof(fc.integer({ min: 1, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), { maxLength: 12 })
  .map((codePoints) => String.fromCodePoint(...codePoints))
const changeType = fc.constantFrom(RESOURCE_STATE.UNKNOWN, RESOURCE_STATE.AVAILABLE, RESOURCE_STATE.UNAVAILABLE)
const record = fc.record({ changeType, resourceName: fc.oneof(resourceName, anyUnicodeName) })
const records = fc.array(record, { maxLength: 6 })

const extraFlags = fc.constantFrom(0, IPADDR_FLAGS.ONLINE, IPADDR_FLAGS.OFFLINE)
const ipv4Entry = fc
  .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), extraFlags)
  .map(([bytes, extra]): IpAddrInfo => ({ flags: IPADDR_FLAGS.V4 | extra, ipv4: bytesToIpv4(bytes), ipv6: '' }))
const ipv6Entry = fc
  .tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), extraFlags)
  .map(([bytes, extra]): IpAddrInfo => ({ flags: IPADDR_FLAGS.V6 | extra, ipv4: '', ipv6: bytesToIpv6(bytes) }))
const ipList = fc.array(fc.oneof(ipv4Entry, ipv6Entry), { minLength: 1, maxLength: 6 })

t.test('round trip of arbitrary records and lists', async (t) => {
  fc.assert(
    fc.property(records, (input) => {
      const bytes = encodeResourceChanges(input)
      const decoded = decodeResourceChanges(bytes, input.length)
      return decoded.ok && JSON.stringify(decoded.value) === JSON.stringify(input)
    }),
    { numRuns: 1000 },
  )
  fc.assert(
    fc.property(ipList, (input) => {
      const decoded = decodeIpAddrInfoList(encodeIpAddrInfoList(input))
      return decoded.ok && JSON.stringify(decoded.value.entries) === JSON.stringify(input) && decoded.value.rawFlags.every((raw, i) => raw === input[i].flags)
    }),
    { numRuns: 1000 },
  )
  // Each IPv4 and IPv6 text produced from bytes parses back to the same bytes.
  fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => ipv4ToBytes(bytesToIpv4(bytes))?.equals(bytes) === true), { numRuns: 500 })
  t.pass('round trips hold')
})

// --- Fuzzing the decoders ------------------------------------------------------------------------

/** The decoder's verdict on bytes: either a one-line error, or a value that re-encodes to exactly those bytes. */
function resourceVerdictHolds(bytes: Uint8Array, numberOfMessages?: number): boolean {
  const result = decodeResourceChanges(bytes, numberOfMessages)
  if (!result.ok) return isOneLineError(result.error)
  if (numberOfMessages !== undefined && result.value.length !== numberOfMessages) return false
  return encodeResourceChanges(result.value).equals(bytes)
}

function ipListVerdictHolds(bytes: Uint8Array): boolean {
  const result = decodeIpAddrInfoList(bytes)
  if (!result.ok) return isOneLineError(result.error)
  const { entries, rawFlags } = result.value
  if (entries.length !== rawFlags.length) return false
  if (entries.some((entry, i) => entry.flags !== (rawFlags[i] & IPADDR_FLAGS_DEFINED_MASK))) return false
  // Re-encode with the raw flags; Reserved is ignored on receipt, so compare with it zeroed.
  const reencoded = encodeIpAddrInfoList(entries.map((entry, i) => ({ ...entry, flags: rawFlags[i] })))
  const expected = Buffer.from(bytes)
  expected.writeUInt32LE(0, 4)
  return reencoded.equals(expected)
}

function isOneLineError(error: string): boolean {
  return typeof error === 'string' && error.length > 0 && !/[\r\n]/.test(error)
}

/** Applies a few random edits to valid bytes: overwrite a byte, overwrite a u32, truncate, or append. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.nat({ max: 0xffffffff })) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('append' as const), at: fc.integer({ min: 1, max: 30 }), value: fc.integer({ min: 0, max: 255 }) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(original)
  for (const m of mutations) {
    if (m.kind === 'append') {
      bytes = Buffer.concat([bytes, Buffer.alloc(m.at, m.value)])
    } else if (bytes.length === 0) {
      continue
    } else if (m.kind === 'byte') {
      bytes[m.at % bytes.length] = m.value
    } else if (m.kind === 'u32') {
      if (bytes.length >= 4) bytes.writeUInt32LE(m.value >>> 0, m.at % (bytes.length - 3))
    } else {
      bytes = bytes.subarray(0, m.at % bytes.length)
    }
  }
  return bytes
}

t.test('decoders never throw on arbitrary or mutated bytes (≥ 10,000 runs)', async (t) => {
  // Every property below counts its runs, so the total is checked rather than assumed.
  let runs = 0
  const claimedCount = fc.option(fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(-1, 1.5, Number.NaN, 0xffffffff, 2 ** 40)), { nil: undefined })
  const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 })

  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 96 }), claimedCount, (bytes, n) => {
      runs++
      return resourceVerdictHolds(bytes, n)
    }),
    { numRuns: 2500 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
      runs++
      return ipListVerdictHolds(bytes)
    }),
    { numRuns: 2500 },
  )
  fc.assert(
    fc.property(records, mutations, fc.boolean(), (input, edits, giveCount) => {
      runs++
      return resourceVerdictHolds(mutate(encodeResourceChanges(input), edits), giveCount ? input.length : undefined)
    }),
    { numRuns: 3000 },
  )
  fc.assert(
    fc.property(ipList, mutations, (input, edits) => {
      runs++
      return ipListVerdictHolds(mutate(encodeIpAddrInfoList(input), edits))
    }),
    { numRuns: 3000 },
  )
  // Arbitrary headers in front of arbitrary bytes: a plausible Length that lies, or an enormous count.
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 64 }), (lengthField, countField, rest) => {
      runs++
      const header = Buffer.alloc(12)
      header.writeUInt32LE(lengthField, 0)
      header.writeUInt32LE(countField, 8)
      const bytes = Buffer.concat([header, rest])
      return ipListVerdictHolds(bytes) && resourceVerdictHolds(bytes) && resourceVerdictHolds(bytes, countField)
    }),
    { numRuns: 1000 },
  )
  t.ok(runs >= 10_000, `${runs} fuzz runs`)
})

// --- Malformed input gives one-line errors ------------------------------------------------------

t.test('malformed RESOURCE_CHANGE buffers are refused with one-line errors', async (t) => {
  const cases: [string, string, number | undefined][] = [
    ['truncated header', '120000', undefined],
    ['truncated record: Length says 18 but 10 bytes are present', '12000000 ff000000 5300', undefined],
    ['Length smaller than 8', '04000000 ff000000 5300 0000', undefined],
    ['Length 8 leaves no room for the NUL', '08000000 ff000000', undefined],
    ['Length of 0 (would not advance)', '00000000 00000000 0000', undefined],
    ['odd name byte count', '0b000000 01000000 410000', undefined],
    ['missing NUL terminator', '10000000 ff000000 5300 4f00 4600 5300', undefined],
    ['NUL inside the name', '10000000 ff000000 4100 0000 4200 0000', undefined],
    ['unpaired high surrogate before the NUL', '0c000000 01000000 00d8 0000', undefined],
    ['high surrogate followed by a non-surrogate', '0e000000 01000000 00d8 4100 0000', undefined],
    ['unpaired low surrogate', '0c000000 01000000 00dc 0000', undefined],
    ['reversed surrogate pair', '0e000000 01000000 00dc 00d8 0000', undefined],
    ['unknown ChangeType', '0c000000 02000000 4100 0000', undefined],
    ['extra trailing byte after the last record', SOFS_UNAVAILABLE_HEX + ' 00', undefined],
    ['extra trailing bytes beyond NumberOfMessages', THREE_RECORDS_HEX, 2],
    ['NumberOfMessages larger than the records present', SOFS_UNAVAILABLE_HEX, 2],
    ['NumberOfMessages that cannot fit', SOFS_UNAVAILABLE_HEX, 0xffffffff],
    ['NumberOfMessages 0 with a record present', SOFS_UNAVAILABLE_HEX, 0],
    ['negative NumberOfMessages', SOFS_UNAVAILABLE_HEX, -1],
    ['fractional NumberOfMessages', SOFS_UNAVAILABLE_HEX, 1.5],
  ]
  for (const [name, bytesHex, numberOfMessages] of cases) {
    const result = decodeResourceChanges(hex(bytesHex), numberOfMessages)
    t.equal(result.ok, false, name)
    if (!result.ok) t.ok(isOneLineError(result.error), `${name}: ${result.error}`)
  }
  t.equal(decodeResourceChanges('not bytes' as unknown as Uint8Array).ok, false, 'a non-byte-array input')
})

t.test('malformed IPADDR_INFO_LIST buffers are refused with one-line errors', async (t) => {
  const valid = hex(ONE_V4_ONLINE_HEX)
  const withU32 = (offsetBytes: number, value: number): Buffer => {
    const copy = Buffer.from(valid)
    copy.writeUInt32LE(value, offsetBytes)
    return copy
  }
  const cases: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['truncated header', valid.subarray(0, 11)],
    ['truncated entry', valid.subarray(0, 35)],
    ['Length larger than the buffer', withU32(0, 60)],
    ['Length that lies hugely', withU32(0, 0xffffffff)],
    ['extra trailing bytes', Buffer.concat([valid, Buffer.alloc(24)])],
    ['Length smaller than the header', withU32(0, 4)],
    ['IPAddrInstances disagreeing with Length', withU32(8, 2)],
    ['IPAddrInstances enormous', withU32(8, 0xffffffff)],
    ['IPAddrInstances 0 in a 12-byte list', hex('0c000000 00000000 00000000')],
    ['Length not 12 + 24n', (() => { const b = Buffer.concat([valid, Buffer.alloc(1)]); b.writeUInt32LE(37, 0); return b })()],
    ['V4 and V6 both set', withU32(12, IPADDR_FLAGS.V4 | IPADDR_FLAGS.V6 | IPADDR_FLAGS.ONLINE)],
    ['V4 and V6 both set among undefined bits', withU32(12, 0xfffffff3)],
  ]
  for (const [name, bytes] of cases) {
    const result = decodeIpAddrInfoList(bytes)
    t.equal(result.ok, false, name)
    if (!result.ok) t.ok(isOneLineError(result.error), `${name}: ${result.error}`)
  }
  t.equal(decodeIpAddrInfoList(null as unknown as Uint8Array).ok, false, 'a non-byte-array input')
})

t.test('decoders read only their own view of a larger ArrayBuffer', async (t) => {
  // A Buffer sliced from a pooled allocation starts at a non-zero byteOffset.
  const backing = Buffer.concat([Buffer.alloc(5, 0xee), hex(SOFS_UNAVAILABLE_HEX), Buffer.alloc(7, 0xee)])
  const view = backing.subarray(5, 5 + 18)
  t.same(expectOk(decodeResourceChanges(view, 1), 'offset view'), [{ changeType: 0xff, resourceName: 'SOFS' }])
  const listBacking = Buffer.concat([Buffer.alloc(3, 0xee), hex(ONE_V4_ONLINE_HEX), Buffer.alloc(9, 0xee)])
  t.same(expectOk(decodeIpAddrInfoList(listBacking.subarray(3, 3 + 36)), 'offset list').entries, [{ flags: 9, ipv4: '10.0.0.2', ipv6: '' }])
})

t.test('encoders refuse values the wire cannot carry', async (t) => {
  t.throws(() => encodeResourceChanges([{ changeType: RESOURCE_STATE.AVAILABLE, resourceName: 'SO\0FS' }]), RangeError, 'NUL in a name')
  t.throws(() => encodeResourceChanges([{ changeType: RESOURCE_STATE.AVAILABLE, resourceName: 'a\ud800' }]), RangeError, 'lone high surrogate')
  t.throws(() => encodeResourceChanges([{ changeType: RESOURCE_STATE.AVAILABLE, resourceName: '\udc00a' }]), RangeError, 'lone low surrogate')
  t.throws(() => encodeResourceChanges([{ changeType: 2, resourceName: 'SOFS' }]), RangeError, 'unknown change type')
  t.throws(() => encodeIpAddrInfoList([]), RangeError, 'empty list')
  t.throws(() => encodeIpAddrInfoList([{ flags: IPADDR_FLAGS.V4 | IPADDR_FLAGS.V6, ipv4: '1.2.3.4', ipv6: '' }]), RangeError, 'V4 and V6')
  t.throws(() => encodeIpAddrInfoList([{ flags: IPADDR_FLAGS.V4, ipv4: '1.2.3', ipv6: '' }]), RangeError, 'bad IPv4')
  t.throws(() => encodeIpAddrInfoList([{ flags: IPADDR_FLAGS.V6, ipv4: '', ipv6: 'fe80::1%eth0' }]), RangeError, 'IPv6 with a zone')
  t.throws(() => encodeIpAddrInfoList([{ flags: -1, ipv4: '1.2.3.4', ipv6: '' }]), RangeError, 'flags out of range')
})
