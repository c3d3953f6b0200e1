// Extended attributes (EAs) as SMB2 carries them: a FILE_FULL_EA_INFORMATION list (MS-FSCC
// 2.4.15) in a CREATE's ExtA context (MS-SMB2 2.2.13.2.1) and in QUERY_INFO's
// FileFullEaInformation answer. A file's EAs are plain values here; where they are kept is the
// CSV owner's business.
import { NT_STATUS } from './ntstatus.js'

export interface ExtendedAttribute {
  /** FILE_NEED_EA (0x80) or 0. */
  readonly flags: number
  /** ASCII, as the client spelled it (names compare case-insensitively). */
  readonly name: string
  readonly value: Buffer
}

/** A bound on one list (the ExtA context is at most this; NTFS allows 64 KiB of EAs a file). */
export const EA_LIST_BYTES_MAX = 64 * 1024
/** A bound on the EAs of one file. */
export const EAS_PER_FILE_MAX = 256

const ENTRY_FIXED_BYTES = 8
const ENTRY_ALIGN_BYTES = 4

export type EaListDecoded = { readonly ok: true; readonly eas: readonly ExtendedAttribute[] } | { readonly ok: false; readonly status: number; readonly reason: string }

/**
 * Reads a FILE_FULL_EA_INFORMATION list: NextEntryOffset, Flags, EaNameLength, EaValueLength,
 * the name and its NUL, the value. A list that runs past its buffer, loops, or names an EA
 * with no name or a non-ASCII one is STATUS_EA_LIST_INCONSISTENT (MS-FSA 2.1.5.1.2.1's check).
 * A later EA of the same name replaces an earlier one.
 */
export function decodeFullEaInformation(bytes: Buffer): EaListDecoded {
  const bad = (reason: string): EaListDecoded => ({ ok: false, status: NT_STATUS.EA_LIST_INCONSISTENT, reason })
  if (bytes.length > EA_LIST_BYTES_MAX) return bad(`an EA list of ${bytes.length} bytes`)
  const eas: ExtendedAttribute[] = []
  let at = 0
  for (;;) {
    if (at + ENTRY_FIXED_BYTES > bytes.length) return bad(`an EA entry at ${at} past the list's ${bytes.length} bytes`)
    const next = bytes.readUInt32LE(at)
    const flags = bytes[at + 4]
    const nameBytes = bytes[at + 5]
    const valueBytes = bytes.readUInt16LE(at + 6)
    const nameAt = at + ENTRY_FIXED_BYTES
    const valueAt = nameAt + nameBytes + 1
    if (valueAt + valueBytes > bytes.length) return bad(`EA ${eas.length} runs past the list`)
    if (nameBytes === 0) return bad(`EA ${eas.length} has no name`)
    if (bytes[nameAt + nameBytes] !== 0) return bad(`EA ${eas.length}'s name is not NUL-terminated`)
    const raw = bytes.subarray(nameAt, nameAt + nameBytes)
    if (raw.some((b) => b < 0x20 || b > 0x7e)) return bad(`EA ${eas.length}'s name is not printable ASCII`)
    const name = raw.toString('latin1')
    const ea: ExtendedAttribute = { flags, name, value: Buffer.from(bytes.subarray(valueAt, valueAt + valueBytes)) }
    const same = eas.findIndex((e) => e.name.toUpperCase() === name.toUpperCase())
    if (same >= 0) eas[same] = ea
    else eas.push(ea)
    if (eas.length > EAS_PER_FILE_MAX) return bad(`more than ${EAS_PER_FILE_MAX} EAs`)
    if (next === 0) break
    if (next < ENTRY_FIXED_BYTES || next % ENTRY_ALIGN_BYTES !== 0 || at + next < valueAt + valueBytes) return bad(`EA ${eas.length - 1}'s NextEntryOffset ${next}`)
    at += next
  }
  // An EA with an empty value is no EA (setting one deletes it).
  return { ok: true, eas: eas.filter((e) => e.value.length > 0) }
}

/** The bytes of one entry, unpadded. */
function entryBytes(ea: ExtendedAttribute): number {
  return ENTRY_FIXED_BYTES + Buffer.byteLength(ea.name, 'latin1') + 1 + ea.value.length
}

/** The FILE_FULL_EA_INFORMATION list of the EAs that fit whole in maxBytes (entries 4-aligned, the last unpadded). */
export function encodeFullEaInformation(eas: readonly ExtendedAttribute[], maxBytes = Number.MAX_SAFE_INTEGER): { buffer: Buffer; count: number } {
  const starts: number[] = []
  let end = 0
  for (const ea of eas) {
    const start = starts.length === 0 ? 0 : Math.ceil(end / ENTRY_ALIGN_BYTES) * ENTRY_ALIGN_BYTES
    if (start + entryBytes(ea) > maxBytes) break
    starts.push(start)
    end = start + entryBytes(ea)
  }
  const out = Buffer.alloc(end)
  starts.forEach((start, i) => {
    const ea = eas[i]
    const name = Buffer.from(ea.name, 'latin1')
    out.writeUInt32LE(i + 1 < starts.length ? starts[i + 1] - start : 0, start)
    out[start + 4] = ea.flags & 0xff
    out[start + 5] = name.length
    out.writeUInt16LE(ea.value.length, start + 6)
    name.copy(out, start + ENTRY_FIXED_BYTES)
    ea.value.copy(out, start + ENTRY_FIXED_BYTES + name.length + 1)
  })
  return { buffer: out, count: starts.length }
}

/** FileEaInformation's EaSize: the bytes of the whole list (0 without EAs). */
export function eaListBytes(eas: readonly ExtendedAttribute[]): number {
  return eas.length === 0 ? 0 : encodeFullEaInformation(eas).buffer.length
}

/**
 * QUERY_INFO FileFullEaInformation from the first EA (every query restarts the scan; the
 * FILE_GET_EA_INFORMATION filter is not applied): STATUS_NO_EAS_ON_FILE without EAs,
 * STATUS_BUFFER_TOO_SMALL when not even the first fits, STATUS_BUFFER_OVERFLOW with the EAs
 * that fit when not all do.
 */
export function queryFullEaInformation(eas: readonly ExtendedAttribute[], outputBufferLength: number): { readonly status: number; readonly buffer: Buffer | null } {
  if (eas.length === 0) return { status: NT_STATUS.NO_EAS_ON_FILE, buffer: null }
  const { buffer, count } = encodeFullEaInformation(eas, outputBufferLength)
  if (count === 0) return { status: NT_STATUS.BUFFER_TOO_SMALL, buffer: null }
  return { status: count === eas.length ? NT_STATUS.SUCCESS : NT_STATUS.BUFFER_OVERFLOW, buffer }
}
