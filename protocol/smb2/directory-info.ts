// The entry classes of SMB2 QUERY_DIRECTORY (MS-SMB2 2.2.33, 3.3.5.18; the structures are
// MS-FSCC 2.4.8, 2.4.10, 2.4.14, 2.4.17, 2.4.18, 2.4.28; the buffer rules MS-FSA 2.1.5.6.3).
//
// encodeDirectoryEntries() lays entries (FileFacts with the entry's own name) into at most
// OutputBufferLength bytes: each entry 8-byte aligned, NextEntryOffset chaining them, 0 in the
// last, no padding after it. It says how many entries it used; the caller keeps its position
// in the directory and continues from there on the next QUERY_DIRECTORY (and adds "." and ".."
// itself, and answers STATUS_NO_SUCH_FILE / STATUS_NO_MORE_FILES when nothing is left).
// A buffer below the fixed part of the class is STATUS_INFO_LENGTH_MISMATCH; when the first
// entry's name does not fit, the fixed part and the whole UTF-16 units of the name that fit
// go back with STATUS_BUFFER_OVERFLOW and the entry counts as returned, as NTFS and FastFAT do
// (Samba answers STATUS_INFO_LENGTH_MISMATCH there instead; clients ask 64 KiB and never meet
// either).
//
// decodeDirectoryEntries() is the client side (swlab smb ls); it faces the network, follows
// NextEntryOffset only forward and inside the buffer, and never throws.
import { type FileFacts, FILE_ATTRIBUTE, FILE_INFO_CLASS, alignUp, effectiveAttributes, writeSizes, writeTimes } from './file-info.js'
import { NT_STATUS } from './ntstatus.js'
import { decodeUtf16leName, utf16leBytes } from './utf16-name.js'

/** The QUERY_DIRECTORY classes this codec encodes and decodes, with the offset of FileName in each (its fixed part). */
export const DIRECTORY_ENTRY_FIXED_BYTES: Readonly<Record<number, number>> = Object.freeze({
  [FILE_INFO_CLASS.DIRECTORY]: 64,
  [FILE_INFO_CLASS.FULL_DIRECTORY]: 68,
  [FILE_INFO_CLASS.ID_FULL_DIRECTORY]: 80,
  [FILE_INFO_CLASS.BOTH_DIRECTORY]: 94,
  [FILE_INFO_CLASS.ID_BOTH_DIRECTORY]: 104,
  [FILE_INFO_CLASS.NAMES]: 12,
})

const ENTRY_ALIGN_BYTES = 8
/** ShortName is a fixed 24-byte field: 12 UTF-16 units, an 8.3 name. */
const SHORT_NAME_FIELD_BYTES = 24

export type DirectoryEncoded =
  | { readonly status: number; readonly buffer: Buffer; readonly entryCount: number }
  | { readonly status: number; readonly buffer?: undefined; readonly entryCount: 0 }

/**
 * Encodes entries of infoClass into at most maxOutputBytes. singleEntry: RETURN_SINGLE_ENTRY.
 * With no entries the result is STATUS_SUCCESS, an empty buffer and entryCount 0.
 */
export function encodeDirectoryEntries(infoClass: number, entries: readonly FileFacts[], maxOutputBytes: number, options: { readonly singleEntry?: boolean } = {}): DirectoryEncoded {
  const fixedBytes = DIRECTORY_ENTRY_FIXED_BYTES[infoClass]
  if (fixedBytes === undefined) return { status: NT_STATUS.INVALID_INFO_CLASS, entryCount: 0 }
  if (maxOutputBytes < fixedBytes) return { status: NT_STATUS.INFO_LENGTH_MISMATCH, entryCount: 0 }
  const maxEntries = options.singleEntry === true ? Math.min(1, entries.length) : entries.length
  // Lay the entries out first so the buffer is allocated once, at its final size.
  const names: Buffer[] = []
  const starts: number[] = []
  let endBytes = 0
  for (let index = 0; index < maxEntries; index++) {
    const nameBytes = utf16leBytes(entries[index].name)
    const start = index === 0 ? 0 : alignUp(endBytes, ENTRY_ALIGN_BYTES)
    const end = start + fixedBytes + nameBytes.length
    if (end > maxOutputBytes) {
      if (index > 0) break
      // The first entry alone is too large: its fixed part and the part of its name that fits.
      const out = Buffer.alloc(fixedBytes + ((maxOutputBytes - fixedBytes) & ~1))
      writeEntry(out, 0, infoClass, entries[0], nameBytes, 0)
      return { status: NT_STATUS.BUFFER_OVERFLOW, buffer: out, entryCount: 1 }
    }
    names.push(nameBytes)
    starts.push(start)
    endBytes = end
  }
  const out = Buffer.alloc(endBytes)
  starts.forEach((start, index) => {
    const next = index + 1 < starts.length ? starts[index + 1] - start : 0
    writeEntry(out, start, infoClass, entries[index], names[index], next)
  })
  return { status: NT_STATUS.SUCCESS, buffer: out, entryCount: starts.length }
}

/** Writes one entry at start; the name is cut to the buffer's end if it does not fit (FileNameLength stays whole). */
function writeEntry(out: Buffer, start: number, infoClass: number, facts: FileFacts, nameBytes: Buffer, nextEntryOffset: number): void {
  out.writeUInt32LE(nextEntryOffset, start)
  // start + 4: FileIndex 0 (MS-FSCC: SHOULD be 0 where the position is not fixed, as on NTFS).
  if (infoClass === FILE_INFO_CLASS.NAMES) {
    out.writeUInt32LE(nameBytes.length, start + 8)
    nameBytes.copy(out, start + 12)
    return
  }
  writeTimes(out, start + 8, facts)
  writeSizes(out, start + 40, facts)
  const attributes = effectiveAttributes(facts)
  out.writeUInt32LE(attributes, start + 56)
  out.writeUInt32LE(nameBytes.length, start + 60)
  let nameAt = start + 64
  if (infoClass !== FILE_INFO_CLASS.DIRECTORY) {
    // EaSize carries the reparse tag for a reparse point (MS-FSA 2.1.5.6.3.*).
    const eaSize = (attributes & FILE_ATTRIBUTE.REPARSE_POINT) !== 0 ? (facts.reparseTag ?? 0) : (facts.eaSizeBytes ?? 0)
    out.writeUInt32LE(eaSize >>> 0, start + 64)
    nameAt = start + 68
  }
  if (infoClass === FILE_INFO_CLASS.ID_FULL_DIRECTORY) {
    // start + 68: Reserved (4).
    out.writeBigUInt64LE(facts.indexNumber, start + 72)
    nameAt = start + 80
  }
  if (infoClass === FILE_INFO_CLASS.BOTH_DIRECTORY || infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY) {
    const shortName = utf16leBytes(facts.shortName ?? '').subarray(0, SHORT_NAME_FIELD_BYTES)
    out.writeUInt8(shortName.length, start + 68)
    // start + 69: Reserved1.
    shortName.copy(out, start + 70)
    nameAt = start + 94
    if (infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY) {
      // start + 94: Reserved2 (2).
      out.writeBigUInt64LE(facts.indexNumber, start + 96)
      nameAt = start + 104
    }
  }
  nameBytes.copy(out, nameAt, 0, Math.min(nameBytes.length, out.length - nameAt))
}

// ---------------------------------------------------------------------------------------------
// Client side
// ---------------------------------------------------------------------------------------------

/** One decoded entry; fields the class does not carry are absent. */
export interface DirectoryEntry {
  readonly name: string
  readonly fileIndex: number
  readonly creationTime?: bigint
  readonly lastAccessTime?: bigint
  readonly lastWriteTime?: bigint
  readonly changeTime?: bigint
  readonly endOfFileBytes?: bigint
  readonly allocationBytes?: bigint
  readonly attributes?: number
  readonly eaSize?: number
  readonly shortName?: string
  readonly fileId?: bigint
}

export type DirectoryDecoded = { readonly ok: true; readonly entries: DirectoryEntry[] } | { readonly ok: false; readonly error: string }

/** Decodes a QUERY_DIRECTORY output buffer of infoClass. An empty buffer is no entries. */
export function decodeDirectoryEntries(infoClass: number, buffer: Uint8Array): DirectoryDecoded {
  const fixedBytes = DIRECTORY_ENTRY_FIXED_BYTES[infoClass]
  if (fixedBytes === undefined) return { ok: false, error: `FileInformationClass ${infoClass} is not a directory class this codec reads` }
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
  const entries: DirectoryEntry[] = []
  let start = 0
  // Each step moves forward by at least the fixed part, so the loop ends within the buffer.
  while (start < buffer.byteLength) {
    const where = `entry ${entries.length} at ${start}`
    if (start + fixedBytes > buffer.byteLength) return { ok: false, error: `${where}: fixed part past the end` }
    const next = view.getUint32(start, true)
    const nameLengthAt = infoClass === FILE_INFO_CLASS.NAMES ? 8 : 60
    const nameBytes = view.getUint32(start + nameLengthAt, true)
    const entryEnd = next === 0 ? buffer.byteLength : start + next
    if (next !== 0 && (next < fixedBytes || entryEnd > buffer.byteLength)) return { ok: false, error: `${where}: NextEntryOffset ${next} is inside the entry or past the end` }
    if (start + fixedBytes + nameBytes > entryEnd) return { ok: false, error: `${where}: FileNameLength ${nameBytes} past the entry` }
    const name = decodeUtf16leName(buffer.subarray(start + fixedBytes, start + fixedBytes + nameBytes))
    if (name === null) return { ok: false, error: `${where}: the name is not well-formed UTF-16` }
    const fileIndex = view.getUint32(start + 4, true)
    if (infoClass === FILE_INFO_CLASS.NAMES) {
      entries.push({ name, fileIndex })
    } else {
      let entry: DirectoryEntry = {
        name,
        fileIndex,
        creationTime: view.getBigUint64(start + 8, true),
        lastAccessTime: view.getBigUint64(start + 16, true),
        lastWriteTime: view.getBigUint64(start + 24, true),
        changeTime: view.getBigUint64(start + 32, true),
        endOfFileBytes: view.getBigUint64(start + 40, true),
        allocationBytes: view.getBigUint64(start + 48, true),
        attributes: view.getUint32(start + 56, true),
      }
      if (infoClass !== FILE_INFO_CLASS.DIRECTORY) entry = { ...entry, eaSize: view.getUint32(start + 64, true) }
      if (infoClass === FILE_INFO_CLASS.ID_FULL_DIRECTORY) entry = { ...entry, fileId: view.getBigUint64(start + 72, true) }
      if (infoClass === FILE_INFO_CLASS.BOTH_DIRECTORY || infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY) {
        const shortNameBytes = Math.min(buffer[start + 68], SHORT_NAME_FIELD_BYTES)
        const shortName = decodeUtf16leName(buffer.subarray(start + 70, start + 70 + shortNameBytes))
        if (shortName === null) return { ok: false, error: `${where}: the short name is not well-formed UTF-16` }
        entry = { ...entry, shortName }
        if (infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY) entry = { ...entry, fileId: view.getBigUint64(start + 96, true) }
      }
      entries.push(entry)
    }
    if (next === 0) break
    start += next
  }
  return { ok: true, entries }
}
