// Security descriptors for QUERY_INFO and SET_INFO with InfoType SMB2_0_INFO_SECURITY
// (MS-SMB2 3.3.5.20.3, 3.3.5.21.3; the structures are MS-DTYP 2.4.2 SID, 2.4.4 ACE, 2.4.5 ACL,
// 2.4.6 SECURITY_DESCRIPTOR in its self-relative form).
//
// The data path keeps no ACLs: every file answers the same minimal descriptor, an owner, a
// group and a DACL granting Everyone full control (inherited by children when the file is a
// directory), which is what smbclient's allinfo, Windows Explorer and smbtorture need to see a
// well-formed answer. AdditionalInformation selects the parts (OWNER, GROUP, DACL; SACL and the
// label/attribute/scope parts are answered absent). A buffer smaller than the descriptor gets
// STATUS_BUFFER_TOO_SMALL with the needed size (MS-SMB2 3.3.5.20.3), which smbtorture's
// smb2.getinfo.qsec_buffercheck checks with 0- and 1-byte buffers.
//
// decodeSecurityDescriptor() reads what SET_INFO sends; it faces the network, checks every
// offset, count and size against the bytes present, and answers STATUS_INVALID_SECURITY_DESCR
// for anything malformed instead of throwing.
import { type InfoAnswer } from './file-info.js'
import { NT_STATUS } from './ntstatus.js'

/** AdditionalInformation bits of QUERY_INFO/SET_INFO for security (MS-SMB2 2.2.37, MS-DTYP 2.4.7). */
export const SECURITY_INFORMATION = {
  OWNER: 0x00000001,
  GROUP: 0x00000002,
  DACL: 0x00000004,
  SACL: 0x00000008,
  LABEL: 0x00000010,
  ATTRIBUTE: 0x00000020,
  SCOPE: 0x00000040,
  BACKUP: 0x00010000,
} as const

/** SECURITY_DESCRIPTOR Control bits (MS-DTYP 2.4.6). */
export const SE_CONTROL = {
  OWNER_DEFAULTED: 0x0001,
  GROUP_DEFAULTED: 0x0002,
  DACL_PRESENT: 0x0004,
  DACL_DEFAULTED: 0x0008,
  SACL_PRESENT: 0x0010,
  SACL_DEFAULTED: 0x0020,
  DACL_AUTO_INHERIT_REQ: 0x0100,
  SACL_AUTO_INHERIT_REQ: 0x0200,
  DACL_AUTO_INHERITED: 0x0400,
  SACL_AUTO_INHERITED: 0x0800,
  DACL_PROTECTED: 0x1000,
  SACL_PROTECTED: 0x2000,
  RM_CONTROL_VALID: 0x4000,
  SELF_RELATIVE: 0x8000,
} as const

/** AceType values (MS-DTYP 2.4.4.1) of the simple ACEs: a mask and a SID. */
export const ACE_TYPE = { ACCESS_ALLOWED: 0x00, ACCESS_DENIED: 0x01, SYSTEM_AUDIT: 0x02, SYSTEM_MANDATORY_LABEL: 0x11 } as const

/** AceFlags (MS-DTYP 2.4.4.1). */
export const ACE_FLAG = {
  OBJECT_INHERIT: 0x01,
  CONTAINER_INHERIT: 0x02,
  NO_PROPAGATE_INHERIT: 0x04,
  INHERIT_ONLY: 0x08,
  INHERITED: 0x10,
  SUCCESSFUL_ACCESS: 0x40,
  FAILED_ACCESS: 0x80,
} as const

/** FILE_ALL_ACCESS (MS-SMB2 2.2.13.1.1): STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF. */
export const FILE_ALL_ACCESS = 0x001f01ff

/** Well-known SIDs (MS-DTYP 2.4.2.4). */
export const WELL_KNOWN_SID = {
  EVERYONE: 'S-1-1-0',
  LOCAL_SYSTEM: 'S-1-5-18',
  BUILTIN_ADMINISTRATORS: 'S-1-5-32-544',
  BUILTIN_USERS: 'S-1-5-32-545',
} as const

/** One ACE. mask and sid are present for the types with that body (allowed, denied, audit, label); raw holds the whole ACE. */
export interface Ace {
  readonly type: number
  readonly flags: number
  readonly mask?: number
  readonly sid?: string
  readonly raw: Buffer
}

export interface SecurityDescriptor {
  readonly control: number
  readonly owner: string | null
  readonly group: string | null
  /** null: no DACL present (or a NULL DACL, which grants everything). */
  readonly dacl: readonly Ace[] | null
  readonly sacl: readonly Ace[] | null
}

/** What a file's descriptor is made of; the defaults are the ones every file gets. */
export interface SecurityFacts {
  readonly directory: boolean
  /** Default BUILTIN\Administrators. */
  readonly ownerSid?: string
  /** Default NT AUTHORITY\SYSTEM. */
  readonly groupSid?: string
}

const SD_HEADER_BYTES = 20
const ACL_HEADER_BYTES = 8
const ACE_HEADER_BYTES = 4
const SID_FIXED_BYTES = 8
const SID_MAX_SUB_AUTHORITIES = 15
const SD_REVISION = 1
/** ACL_REVISION; ACL_REVISION_DS (4) is accepted on input too. */
const ACL_REVISION = 2
const ACL_REVISION_DS = 4
const ACL_BYTES_MAX = 0xffff
/** The ACE types whose body is an ACCESS_MASK then a SID. */
const MASK_AND_SID_ACE_TYPES: ReadonlySet<number> = new Set([ACE_TYPE.ACCESS_ALLOWED, ACE_TYPE.ACCESS_DENIED, ACE_TYPE.SYSTEM_AUDIT, 0x03, ACE_TYPE.SYSTEM_MANDATORY_LABEL])

// ---------------------------------------------------------------------------------------------
// SIDs (MS-DTYP 2.4.2)
// ---------------------------------------------------------------------------------------------

/** The binary form of a SID in its "S-1-5-32-544" text form; throws RangeError for anything else (our own input). */
export function sidFromString(text: string): Buffer {
  const match = /^S-1-(\d+|0x[0-9a-fA-F]{12})((?:-\d+)*)$/.exec(text)
  if (match === null) throw new RangeError(`${JSON.stringify(text)} is not a SID`)
  const authority = BigInt(match[1])
  const subAuthorities = match[2] === '' ? [] : match[2].slice(1).split('-').map((part) => Number(part))
  if (authority > 0xffff_ffff_ffffn || subAuthorities.length > SID_MAX_SUB_AUTHORITIES || subAuthorities.some((value) => !Number.isSafeInteger(value) || value > 0xffffffff)) {
    throw new RangeError(`${text} is out of a SID's range`)
  }
  const out = Buffer.alloc(SID_FIXED_BYTES + 4 * subAuthorities.length)
  out.writeUInt8(1, 0)
  out.writeUInt8(subAuthorities.length, 1)
  // IdentifierAuthority is a 48-bit big-endian value.
  out.writeUIntBE(Number(authority), 2, 6)
  subAuthorities.forEach((value, index) => out.writeUInt32LE(value, SID_FIXED_BYTES + 4 * index))
  return out
}

/** "S-1-..." text of the SID at offset, and its length in bytes; null when the bytes are not one. */
export function readSid(bytes: Uint8Array, offset: number): { sid: string; lengthBytes: number } | null {
  if (offset < 0 || offset + SID_FIXED_BYTES > bytes.byteLength) return null
  const revision = bytes[offset]
  const count = bytes[offset + 1]
  if (revision !== 1 || count > SID_MAX_SUB_AUTHORITIES) return null
  const lengthBytes = SID_FIXED_BYTES + 4 * count
  if (offset + lengthBytes > bytes.byteLength) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const authority = view.getUint16(offset + 2, false) * 2 ** 32 + view.getUint32(offset + 4, false)
  const authorityText = authority < 2 ** 32 ? String(authority) : `0x${authority.toString(16).padStart(12, '0').toUpperCase()}`
  const parts = [`S-1-${authorityText}`]
  for (let index = 0; index < count; index++) parts.push(String(view.getUint32(offset + SID_FIXED_BYTES + 4 * index, true)))
  return { sid: parts.join('-'), lengthBytes }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** An ACE with a mask and a SID (ACCESS_ALLOWED_ACE and its kin, MS-DTYP 2.4.4.2). */
export function encodeAce(type: number, flags: number, mask: number, sid: string): Buffer {
  const sidBytes = sidFromString(sid)
  const out = Buffer.alloc(ACE_HEADER_BYTES + 4 + sidBytes.length)
  out.writeUInt8(type, 0)
  out.writeUInt8(flags, 1)
  out.writeUInt16LE(out.length, 2)
  out.writeUInt32LE(mask >>> 0, 4)
  sidBytes.copy(out, 8)
  return out
}

/** An ACL of encoded ACEs (MS-DTYP 2.4.5). */
export function encodeAcl(aces: readonly Buffer[]): Buffer {
  const sizeBytes = aces.reduce((sum, ace) => sum + ace.length, ACL_HEADER_BYTES)
  if (sizeBytes > ACL_BYTES_MAX || aces.length > 0xffff) throw new RangeError(`an ACL of ${aces.length} ACEs and ${sizeBytes} bytes does not fit`)
  const header = Buffer.alloc(ACL_HEADER_BYTES)
  header.writeUInt8(ACL_REVISION, 0)
  header.writeUInt16LE(sizeBytes, 2)
  header.writeUInt16LE(aces.length, 4)
  return Buffer.concat([header, ...aces])
}

/**
 * A self-relative SECURITY_DESCRIPTOR of the parts given (null: absent). The parts follow the
 * header in the order Windows writes them: SACL, DACL, owner, group.
 */
export function encodeSecurityDescriptor(parts: { readonly owner: string | null; readonly group: string | null; readonly dacl: Buffer | null; readonly sacl: Buffer | null; readonly control?: number }): Buffer {
  let control = SE_CONTROL.SELF_RELATIVE | (parts.control ?? 0)
  if (parts.dacl !== null) control |= SE_CONTROL.DACL_PRESENT
  if (parts.sacl !== null) control |= SE_CONTROL.SACL_PRESENT
  const pieces: Buffer[] = []
  let offset = SD_HEADER_BYTES
  const place = (piece: Buffer | null): number => {
    if (piece === null) return 0
    const at = offset
    pieces.push(piece)
    offset += piece.length
    return at
  }
  const saclOffset = place(parts.sacl)
  const daclOffset = place(parts.dacl)
  const ownerOffset = place(parts.owner === null ? null : sidFromString(parts.owner))
  const groupOffset = place(parts.group === null ? null : sidFromString(parts.group))
  const header = Buffer.alloc(SD_HEADER_BYTES)
  header.writeUInt8(SD_REVISION, 0)
  header.writeUInt16LE(control, 2)
  header.writeUInt32LE(ownerOffset, 4)
  header.writeUInt32LE(groupOffset, 8)
  header.writeUInt32LE(saclOffset, 12)
  header.writeUInt32LE(daclOffset, 16)
  return Buffer.concat([header, ...pieces])
}

/**
 * The descriptor every file answers, with the parts additionalInformation asks for: owner,
 * group, and a DACL of one ACE granting Everyone FILE_ALL_ACCESS (object- and
 * container-inherited on a directory). SACL, label, attribute and scope parts are absent.
 */
export function fileSecurityDescriptor(facts: SecurityFacts, additionalInformation: number): Buffer {
  const wants = (bit: number): boolean => (additionalInformation & bit) !== 0
  const inheritFlags = facts.directory ? ACE_FLAG.OBJECT_INHERIT | ACE_FLAG.CONTAINER_INHERIT : 0
  return encodeSecurityDescriptor({
    owner: wants(SECURITY_INFORMATION.OWNER) ? (facts.ownerSid ?? WELL_KNOWN_SID.BUILTIN_ADMINISTRATORS) : null,
    group: wants(SECURITY_INFORMATION.GROUP) ? (facts.groupSid ?? WELL_KNOWN_SID.LOCAL_SYSTEM) : null,
    dacl: wants(SECURITY_INFORMATION.DACL) ? encodeAcl([encodeAce(ACE_TYPE.ACCESS_ALLOWED, inheritFlags, FILE_ALL_ACCESS, WELL_KNOWN_SID.EVERYONE)]) : null,
    sacl: null,
  })
}

/**
 * The answer to QUERY_INFO SMB2_0_INFO_SECURITY: the descriptor, or STATUS_BUFFER_TOO_SMALL
 * with its size when OutputBufferLength cannot hold it (MS-SMB2 3.3.5.20.3). Whether the open
 * may read the parts asked for (READ_CONTROL; ACCESS_SYSTEM_SECURITY for the SACL) is the
 * caller's check.
 */
export function querySecurityInfo(facts: SecurityFacts, additionalInformation: number, outputBufferLength: number): InfoAnswer {
  const descriptor = fileSecurityDescriptor(facts, additionalInformation)
  if (descriptor.length > outputBufferLength) return { kind: 'too-small', status: NT_STATUS.BUFFER_TOO_SMALL, requiredBytes: descriptor.length }
  return { kind: 'data', status: NT_STATUS.SUCCESS, buffer: descriptor }
}

/** The 4-byte ErrorData of a STATUS_BUFFER_TOO_SMALL error response: the size needed (MS-SMB2 2.2.2). */
export function bufferTooSmallErrorData(requiredBytes: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32LE(requiredBytes >>> 0, 0)
  return out
}

// ---------------------------------------------------------------------------------------------
// Decoding (SET_INFO)
// ---------------------------------------------------------------------------------------------

export type SecurityDecoded = { readonly ok: true; readonly value: SecurityDescriptor } | { readonly ok: false; readonly status: number; readonly reason: string }

/**
 * Reads a self-relative SECURITY_DESCRIPTOR (what SET_INFO sends). Any inconsistency (a
 * revision other than 1, a descriptor that is not self-relative, an offset, SID, ACL or ACE past
 * its container) is STATUS_INVALID_SECURITY_DESCR.
 */
export function decodeSecurityDescriptor(bytes: Uint8Array): SecurityDecoded {
  if (bytes.byteLength < SD_HEADER_BYTES) return invalid(`a descriptor needs ${SD_HEADER_BYTES} bytes, got ${bytes.byteLength}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes[0] !== SD_REVISION) return invalid(`revision ${bytes[0]}`)
  const control = view.getUint16(2, true)
  if ((control & SE_CONTROL.SELF_RELATIVE) === 0) return invalid('not self-relative')
  const sidAt = (offset: number, what: string): string | null | Error => {
    if (offset === 0) return null
    const read = readSid(bytes, offset)
    return read === null ? new Error(`${what} SID at ${offset} is malformed or past the end`) : read.sid
  }
  const owner = sidAt(view.getUint32(4, true), 'owner')
  if (owner instanceof Error) return invalid(owner.message)
  const group = sidAt(view.getUint32(8, true), 'group')
  if (group instanceof Error) return invalid(group.message)
  const saclOffset = view.getUint32(12, true)
  const daclOffset = view.getUint32(16, true)
  const sacl = (control & SE_CONTROL.SACL_PRESENT) !== 0 && saclOffset !== 0 ? readAcl(bytes, saclOffset) : null
  if (sacl instanceof Error) return invalid(`SACL: ${sacl.message}`)
  const dacl = (control & SE_CONTROL.DACL_PRESENT) !== 0 && daclOffset !== 0 ? readAcl(bytes, daclOffset) : null
  if (dacl instanceof Error) return invalid(`DACL: ${dacl.message}`)
  return { ok: true, value: { control, owner, group, dacl, sacl } }
}

function readAcl(bytes: Uint8Array, offset: number): Ace[] | Error {
  if (offset + ACL_HEADER_BYTES > bytes.byteLength) return new Error(`header at ${offset} past the end`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const revision = bytes[offset]
  if (revision !== ACL_REVISION && revision !== ACL_REVISION_DS) return new Error(`revision ${revision}`)
  const sizeBytes = view.getUint16(offset + 2, true)
  const aceCount = view.getUint16(offset + 4, true)
  if (sizeBytes < ACL_HEADER_BYTES || offset + sizeBytes > bytes.byteLength) return new Error(`AclSize ${sizeBytes} at ${offset} does not fit`)
  // Every ACE is at least its header, so the count is bounded by the ACL's size before any loop.
  if (aceCount * ACE_HEADER_BYTES > sizeBytes - ACL_HEADER_BYTES) return new Error(`${aceCount} ACEs cannot fit in ${sizeBytes} bytes`)
  const aces: Ace[] = []
  const end = offset + sizeBytes
  let at = offset + ACL_HEADER_BYTES
  for (let index = 0; index < aceCount; index++) {
    if (at + ACE_HEADER_BYTES > end) return new Error(`ACE ${index} header past the ACL`)
    const type = bytes[at]
    const flags = bytes[at + 1]
    const aceBytes = view.getUint16(at + 2, true)
    if (aceBytes < ACE_HEADER_BYTES || at + aceBytes > end) return new Error(`ACE ${index} size ${aceBytes} does not fit`)
    const raw = Buffer.from(bytes.subarray(at, at + aceBytes))
    if (MASK_AND_SID_ACE_TYPES.has(type)) {
      const sid = aceBytes >= ACE_HEADER_BYTES + 4 + SID_FIXED_BYTES ? readSid(raw, ACE_HEADER_BYTES + 4) : null
      if (sid === null) return new Error(`ACE ${index} of type ${type} has no valid SID`)
      aces.push({ type, flags, mask: raw.readUInt32LE(ACE_HEADER_BYTES), sid: sid.sid, raw })
    } else {
      aces.push({ type, flags, raw })
    }
    at += aceBytes
  }
  return aces
}

function invalid(reason: string): SecurityDecoded {
  return { ok: false, status: NT_STATUS.INVALID_SECURITY_DESCR, reason: `SECURITY_DESCRIPTOR: ${reason}` }
}
