// The MessageBuffer of an MS-SWN WitnessrAsyncNotify response (MS-SWN §2.2.2.1 to §2.2.2.4).
//
// The RPC layer marshals the RESP_ASYNC_NOTIFY structure with NDR, but its MessageBuffer is an
// opaque byte array whose contents are raw little-endian structures, not NDR. This module is the
// byte-exact codec for those contents: packed RESOURCE_CHANGE records for resource change
// notifications, and a single IPADDR_INFO_LIST for client move, share move and IP change
// notifications.
//
// The decoders face the network. Whatever bytes arrive, they return a DecodeResult and never
// throw; every length they read is checked against the bytes actually present before it is used,
// and every loop consumes at least one fixed-size unit of input per iteration, so a hostile peer
// can neither crash the caller nor make it spin or allocate beyond the size of the input.
// The encoders serve our own server code, so a value that cannot be represented on the wire is a
// programmer error and they throw.

import { allZero, bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes, IPV4_BYTES, IPV6_BYTES } from '../ip-address.js'

/** MessageType values of RESP_ASYNC_NOTIFY (MS-SWN §2.2.2.4 and §3.1.4.5). */
export const MESSAGE_TYPE = { RESOURCE_CHANGE: 1, CLIENT_MOVE: 2, SHARE_MOVE: 3, IP_CHANGE: 4 } as const

export const MESSAGE_TYPE_NAMES: Record<number, string> = Object.freeze({
  [MESSAGE_TYPE.RESOURCE_CHANGE]: 'RESOURCE_CHANGE_NOTIFICATION',
  [MESSAGE_TYPE.CLIENT_MOVE]: 'CLIENT_MOVE_NOTIFICATION',
  [MESSAGE_TYPE.SHARE_MOVE]: 'SHARE_MOVE_NOTIFICATION',
  [MESSAGE_TYPE.IP_CHANGE]: 'IP_CHANGE_NOTIFICATION',
})

/** ChangeType values of a RESOURCE_CHANGE record. */
export const RESOURCE_STATE = { UNKNOWN: 0x00, AVAILABLE: 0x01, UNAVAILABLE: 0xff } as const

export const RESOURCE_STATE_NAMES: Record<number, string> = Object.freeze({
  [RESOURCE_STATE.UNKNOWN]: 'RESOURCE_STATE_UNKNOWN',
  [RESOURCE_STATE.AVAILABLE]: 'RESOURCE_STATE_AVAILABLE',
  [RESOURCE_STATE.UNAVAILABLE]: 'RESOURCE_STATE_UNAVAILABLE',
})

/** Bits of IPADDR_INFO.Flags. V4 and V6 are mutually exclusive; ONLINE and OFFLINE are version 2 only. */
export const IPADDR_FLAGS = { V4: 0x1, V6: 0x2, ONLINE: 0x8, OFFLINE: 0x10 } as const

/** The union of the defined flag bits. Windows leaves the other bits uninitialised, so receivers mask with this. */
export const IPADDR_FLAGS_DEFINED_MASK = 0x1b

export interface ResourceChangeRecord {
  readonly changeType: number
  readonly resourceName: string
}

/**
 * One IPADDR_INFO. An address field is '' when it is all zeros and its family flag is not set;
 * otherwise it holds the dotted quad or the canonical RFC 5952 text of the bytes on the wire.
 */
export interface IpAddrInfo {
  readonly flags: number
  readonly ipv4: string
  readonly ipv6: string
}

/** The outcome of decoding untrusted bytes; error is a single line meant for a log. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string }

// Sizes of the fixed parts, in bytes.
const RESOURCE_CHANGE_HEADER_BYTES = 8
const UTF16_NUL_BYTES = 2
// The smallest record is a header followed by an empty name and its terminator.
const RESOURCE_CHANGE_MIN_BYTES = RESOURCE_CHANGE_HEADER_BYTES + UTF16_NUL_BYTES
const IPADDR_INFO_LIST_HEADER_BYTES = 12
const IPADDR_INFO_BYTES = 24
const UINT32_MAX = 0xffffffff

const KNOWN_RESOURCE_STATES: ReadonlySet<number> = new Set(Object.values(RESOURCE_STATE))

// ---------------------------------------------------------------------------------------------
// RESOURCE_CHANGE records
// ---------------------------------------------------------------------------------------------

/**
 * Encodes RESOURCE_CHANGE records back to back, as the MessageBuffer of a resource change
 * notification. The response's NumberOfMessages is records.length and its Length is the size of
 * the returned buffer.
 */
export function encodeResourceChanges(records: readonly ResourceChangeRecord[]): Buffer {
  const encodedRecords = records.map((record, index) => {
    if (!KNOWN_RESOURCE_STATES.has(record.changeType)) {
      throw new RangeError(`record ${index}: changeType ${String(record.changeType)} is not a RESOURCE_STATE value`)
    }
    // A NUL would end the name early on the wire, and a lone surrogate has no UTF-16 meaning a
    // client could decode, so neither can be sent faithfully.
    const problem = utf16Problem(record.resourceName)
    if (problem !== null) throw new RangeError(`record ${index}: resourceName ${problem}`)
    const nameBytes = Buffer.from(record.resourceName, 'utf16le')
    const recordLengthBytes = RESOURCE_CHANGE_HEADER_BYTES + nameBytes.length + UTF16_NUL_BYTES
    if (recordLengthBytes > UINT32_MAX) throw new RangeError(`record ${index}: resourceName is too long for a u32 Length`)
    const out = Buffer.alloc(recordLengthBytes)
    out.writeUInt32LE(recordLengthBytes, 0)
    out.writeUInt32LE(record.changeType, 4)
    nameBytes.copy(out, RESOURCE_CHANGE_HEADER_BYTES)
    // The trailing two bytes are already zero: they are the UTF-16 NUL terminator.
    return out
  })
  return Buffer.concat(encodedRecords)
}

/**
 * Decodes the MessageBuffer of a resource change notification. When numberOfMessages is given
 * (the response's NumberOfMessages), exactly that many records must fill the buffer exactly;
 * otherwise records are read until the buffer ends, which must coincide with a record boundary.
 */
export function decodeResourceChanges(buffer: Uint8Array, numberOfMessages?: number): DecodeResult<ResourceChangeRecord[]> {
  if (!(buffer instanceof Uint8Array)) return fail('MessageBuffer is not a byte array')
  const totalBytes = buffer.byteLength
  if (numberOfMessages !== undefined) {
    if (typeof numberOfMessages !== 'number' || !Number.isInteger(numberOfMessages) || numberOfMessages < 0 || numberOfMessages > UINT32_MAX) {
      return fail(`NumberOfMessages ${String(numberOfMessages)} is not a u32`)
    }
    // Checking this first bounds the loop and the result array by the input size, whatever count the peer claims.
    if (numberOfMessages * RESOURCE_CHANGE_MIN_BYTES > totalBytes) {
      return fail(`NumberOfMessages ${numberOfMessages} cannot fit in ${totalBytes} bytes (a record needs at least ${RESOURCE_CHANGE_MIN_BYTES})`)
    }
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const records: ResourceChangeRecord[] = []
  let offsetBytes = 0
  while (numberOfMessages === undefined ? offsetBytes < totalBytes : records.length < numberOfMessages) {
    const where = `record ${records.length} at offset ${offsetBytes}`
    const remainingBytes = totalBytes - offsetBytes
    if (remainingBytes < RESOURCE_CHANGE_HEADER_BYTES) {
      return fail(`${where}: truncated header, ${remainingBytes} of ${RESOURCE_CHANGE_HEADER_BYTES} bytes present`)
    }
    const recordLengthBytes = view.getUint32(offsetBytes, true)
    const changeType = view.getUint32(offsetBytes + 4, true)
    if (recordLengthBytes < RESOURCE_CHANGE_MIN_BYTES) {
      return fail(`${where}: Length ${recordLengthBytes} is below the minimum of ${RESOURCE_CHANGE_MIN_BYTES} (header and NUL terminator)`)
    }
    if (recordLengthBytes > remainingBytes) {
      return fail(`${where}: Length ${recordLengthBytes} exceeds the ${remainingBytes} bytes remaining`)
    }
    if (!KNOWN_RESOURCE_STATES.has(changeType)) {
      return fail(`${where}: ChangeType 0x${changeType.toString(16)} is not a RESOURCE_STATE value`)
    }
    const nameBytes = recordLengthBytes - RESOURCE_CHANGE_HEADER_BYTES
    if (nameBytes % 2 !== 0) return fail(`${where}: ResourceName occupies an odd number of bytes (${nameBytes})`)
    const name = decodeNulTerminatedUtf16(view, offsetBytes + RESOURCE_CHANGE_HEADER_BYTES, nameBytes / 2)
    if (!name.ok) return fail(`${where}: ResourceName ${name.error}`)
    records.push({ changeType, resourceName: name.value })
    offsetBytes += recordLengthBytes
  }
  if (offsetBytes !== totalBytes) {
    return fail(`${totalBytes - offsetBytes} extra trailing bytes after the ${records.length} records that NumberOfMessages announces`)
  }
  return { ok: true, value: records }
}

/**
 * Reads codeUnitCount UTF-16LE code units at startBytes. The last unit must be the NUL terminator,
 * no other unit may be NUL, and surrogates must pair up, so that the string re-encodes to the
 * same bytes.
 */
function decodeNulTerminatedUtf16(view: DataView, startBytes: number, codeUnitCount: number): DecodeResult<string> {
  const lastIndex = codeUnitCount - 1
  if (view.getUint16(startBytes + 2 * lastIndex, true) !== 0) return fail('is not terminated by a UTF-16 NUL')
  const codeUnits = new Uint16Array(lastIndex)
  for (let index = 0; index < lastIndex; index++) codeUnits[index] = view.getUint16(startBytes + 2 * index, true)
  for (let index = 0; index < lastIndex; index++) {
    const unit = codeUnits[index]
    if (unit === 0) return fail(`contains a NUL at code unit ${index} before its terminator`)
    if (isHighSurrogate(unit)) {
      if (index + 1 < lastIndex && isLowSurrogate(codeUnits[index + 1])) {
        index++
        continue
      }
      return fail(`has an unpaired high surrogate at code unit ${index}`)
    }
    if (isLowSurrogate(unit)) return fail(`has an unpaired low surrogate at code unit ${index}`)
  }
  // The units are validated, so decoding them in bounded chunks cannot lose or alter anything;
  // chunking keeps the argument list of fromCharCode far below engine limits.
  const chunkUnits = 4096
  let text = ''
  for (let index = 0; index < codeUnits.length; index += chunkUnits) {
    text += String.fromCharCode(...codeUnits.subarray(index, index + chunkUnits))
  }
  return { ok: true, value: text }
}

/** Why a string cannot be sent as a NUL-terminated UTF-16 name, or null if it can. */
function utf16Problem(text: string): string | null {
  if (typeof text !== 'string') return 'is not a string'
  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index)
    if (unit === 0) return `contains a NUL at code unit ${index}`
    if (isHighSurrogate(unit)) {
      if (index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1))) {
        index++
        continue
      }
      return `has an unpaired high surrogate at code unit ${index}`
    }
    if (isLowSurrogate(unit)) return `has an unpaired low surrogate at code unit ${index}`
  }
  return null
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff
}

// ---------------------------------------------------------------------------------------------
// IPADDR_INFO_LIST
// ---------------------------------------------------------------------------------------------

/**
 * Encodes one IPADDR_INFO_LIST, the whole MessageBuffer of a client move, share move or IP change
 * notification (whose NumberOfMessages is 1). Flags are written as given, undefined bits included,
 * so tests can reproduce what Windows sends.
 */
export function encodeIpAddrInfoList(list: readonly IpAddrInfo[]): Buffer {
  // MS-SWN §2.2.2.2 calls IPAddrInfo "an array of one or more IPADDR_INFO structures".
  if (list.length === 0) throw new RangeError('an IPADDR_INFO_LIST carries at least one IPADDR_INFO')
  const listLengthBytes = IPADDR_INFO_LIST_HEADER_BYTES + IPADDR_INFO_BYTES * list.length
  if (listLengthBytes > UINT32_MAX) throw new RangeError(`${list.length} entries do not fit a u32 Length`)
  const out = Buffer.alloc(listLengthBytes)
  out.writeUInt32LE(listLengthBytes, 0)
  out.writeUInt32LE(0, 4) // Reserved: the server MUST set it to zero.
  out.writeUInt32LE(list.length, 8)
  list.forEach((entry, index) => {
    const entryOffsetBytes = IPADDR_INFO_LIST_HEADER_BYTES + IPADDR_INFO_BYTES * index
    if (!Number.isInteger(entry.flags) || entry.flags < 0 || entry.flags > UINT32_MAX) {
      throw new RangeError(`entry ${index}: flags ${String(entry.flags)} is not a u32`)
    }
    if ((entry.flags & IPADDR_FLAGS.V4) !== 0 && (entry.flags & IPADDR_FLAGS.V6) !== 0) {
      throw new RangeError(`entry ${index}: flags set both IPADDR_V4 and IPADDR_V6, which MS-SWN forbids`)
    }
    const ipv4Bytes = entry.ipv4 === '' ? Buffer.alloc(IPV4_BYTES) : ipv4ToBytes(entry.ipv4)
    if (ipv4Bytes === null) throw new RangeError(`entry ${index}: ipv4 ${JSON.stringify(entry.ipv4)} is not a dotted quad`)
    const ipv6Bytes = entry.ipv6 === '' ? Buffer.alloc(IPV6_BYTES) : ipv6ToBytes(entry.ipv6)
    if (ipv6Bytes === null) throw new RangeError(`entry ${index}: ipv6 ${JSON.stringify(entry.ipv6)} is not an IPv6 address`)
    out.writeUInt32LE(entry.flags >>> 0, entryOffsetBytes)
    ipv4Bytes.copy(out, entryOffsetBytes + 4)
    ipv6Bytes.copy(out, entryOffsetBytes + 4 + IPV4_BYTES)
  })
  return out
}

/**
 * Decodes the MessageBuffer of a client move, share move or IP change notification: exactly one
 * IPADDR_INFO_LIST filling the buffer. entries[i].flags is masked to the defined bits, because
 * Windows leaves the others uninitialised; rawFlags[i] is the value as received. Reserved is
 * ignored, as MS-SWN §2.2.2.2 requires of clients.
 */
export function decodeIpAddrInfoList(buffer: Uint8Array): DecodeResult<{ entries: IpAddrInfo[]; rawFlags: number[] }> {
  if (!(buffer instanceof Uint8Array)) return fail('MessageBuffer is not a byte array')
  const totalBytes = buffer.byteLength
  if (totalBytes < IPADDR_INFO_LIST_HEADER_BYTES) {
    return fail(`truncated IPADDR_INFO_LIST header, ${totalBytes} of ${IPADDR_INFO_LIST_HEADER_BYTES} bytes present`)
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const listLengthBytes = view.getUint32(0, true)
  const instanceCount = view.getUint32(8, true)
  if (listLengthBytes < IPADDR_INFO_LIST_HEADER_BYTES) return fail(`Length ${listLengthBytes} is below the ${IPADDR_INFO_LIST_HEADER_BYTES}-byte list header`)
  if (listLengthBytes > totalBytes) return fail(`Length ${listLengthBytes} exceeds the ${totalBytes} bytes present`)
  if (listLengthBytes < totalBytes) return fail(`${totalBytes - listLengthBytes} extra trailing bytes after the list's Length of ${listLengthBytes}`)
  if (instanceCount === 0) return fail('IPAddrInstances is 0, but the list carries one or more IPADDR_INFO')
  // Comparing against the bytes present, which are already known to equal Length, bounds the
  // loop below by the input size before anything is allocated.
  const expectedLengthBytes = IPADDR_INFO_LIST_HEADER_BYTES + IPADDR_INFO_BYTES * instanceCount
  if (expectedLengthBytes !== listLengthBytes) {
    return fail(`Length ${listLengthBytes} disagrees with IPAddrInstances ${instanceCount}, which needs ${expectedLengthBytes}`)
  }
  const entries: IpAddrInfo[] = []
  const rawFlags: number[] = []
  for (let index = 0; index < instanceCount; index++) {
    const entryOffsetBytes = IPADDR_INFO_LIST_HEADER_BYTES + IPADDR_INFO_BYTES * index
    const raw = view.getUint32(entryOffsetBytes, true)
    const flags = raw & IPADDR_FLAGS_DEFINED_MASK
    if ((flags & IPADDR_FLAGS.V4) !== 0 && (flags & IPADDR_FLAGS.V6) !== 0) {
      return fail(`entry ${index}: Flags 0x${raw.toString(16)} set both IPADDR_V4 and IPADDR_V6, which MS-SWN forbids`)
    }
    const ipv4Bytes = buffer.subarray(entryOffsetBytes + 4, entryOffsetBytes + 4 + IPV4_BYTES)
    const ipv6Bytes = buffer.subarray(entryOffsetBytes + 4 + IPV4_BYTES, entryOffsetBytes + IPADDR_INFO_BYTES)
    // A field is shown when its flag says it is valid, and also when it is not flagged but
    // non-zero, so that nothing the peer sent is silently dropped and the entry re-encodes exactly.
    const ipv4 = (flags & IPADDR_FLAGS.V4) !== 0 || !allZero(ipv4Bytes) ? bytesToIpv4(ipv4Bytes) : ''
    const ipv6 = (flags & IPADDR_FLAGS.V6) !== 0 || !allZero(ipv6Bytes) ? bytesToIpv6(ipv6Bytes) : ''
    entries.push({ flags, ipv4, ipv6 })
    rawFlags.push(raw)
  }
  return { ok: true, value: { entries, rawFlags } }
}

/** Builds the IPADDR_INFO for one address string (IPv4 or IPv6) with extra flags (ONLINE/OFFLINE). null if it does not parse. */
export function ipAddrInfoFor(ip: string, extraFlags: number): IpAddrInfo | null {
  const allowedExtraFlags = IPADDR_FLAGS.ONLINE | IPADDR_FLAGS.OFFLINE
  // The family bit comes from the address itself; letting callers pass one could contradict it.
  if (!Number.isInteger(extraFlags) || (extraFlags & ~allowedExtraFlags) !== 0 || extraFlags < 0) {
    throw new RangeError(`extraFlags 0x${extraFlags.toString(16)} may only combine IPADDR_ONLINE and IPADDR_OFFLINE`)
  }
  const ipv4Bytes = ipv4ToBytes(ip)
  if (ipv4Bytes !== null) return { flags: IPADDR_FLAGS.V4 | extraFlags, ipv4: bytesToIpv4(ipv4Bytes), ipv6: '' }
  const ipv6Bytes = ipv6ToBytes(ip)
  if (ipv6Bytes !== null) return { flags: IPADDR_FLAGS.V6 | extraFlags, ipv4: '', ipv6: bytesToIpv6(ipv6Bytes) }
  return null
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error }
}
