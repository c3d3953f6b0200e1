// The file information classes of SMB2 QUERY_INFO and SET_INFO with InfoType SMB2_0_INFO_FILE
// (MS-SMB2 2.2.37, 2.2.39, 3.3.5.20.1, 3.3.5.21.1; the structures are MS-FSCC 2.4, the rules
// for short buffers MS-FSA 2.1.5.12 and 2.1.5.15).
//
// Query side: every class a server answers is encoded from one plain FileFacts value (what the
// adapter read from storage plus the few facts of the open itself), and queryFileInfo() applies
// the buffer rules a client sees from Windows and that smbtorture's smb2.getinfo checks:
// - OutputBufferLength below the class's minimum -> STATUS_INFO_LENGTH_MISMATCH and no data.
//   The minimum is the C sizeof of the structure, i.e. the fixed part rounded up with a
//   one-character name (MS-FSA: BlockAlign(FieldOffset(name), 8) for most classes;
//   smbtorture's qfile_buffercheck table has the same numbers).
// - A buffer that holds the fixed part but not the whole name or list -> STATUS_BUFFER_OVERFLOW
//   with the fixed part and as much of the variable part as fits (the length fields keep the
//   full length, MS-FSA 2.1.5.12.x), or the whole list entries that fit (FileStreamInformation).
// - Otherwise STATUS_SUCCESS with exactly the structure's bytes (never padded to the buffer).
//
// Set side: the decoders read what SET_INFO sends for the classes a client changes (basic,
// end-of-file, allocation, disposition, rename, position, mode). They face the network: any
// input returns a typed result carrying the NTSTATUS Windows answers (MS-FSA 2.1.5.15), never an
// exception. What needs the file itself (a directory attribute on a file, a target that exists)
// is the caller's check.
import { NT_STATUS } from './ntstatus.js'
import { decodeUtf16leName, utf16leBytes } from './utf16-name.js'
import { type ExtendedAttribute, queryFullEaInformation } from './extended-attributes.js'

/** InfoType of QUERY_INFO and SET_INFO (MS-SMB2 2.2.37). */
export const INFO_TYPE = { FILE: 0x01, FILESYSTEM: 0x02, SECURITY: 0x03, QUOTA: 0x04 } as const

/** FileInformationClass values (MS-FSCC 2.4), for QUERY_INFO, SET_INFO and QUERY_DIRECTORY. */
export const FILE_INFO_CLASS = {
  DIRECTORY: 1,
  FULL_DIRECTORY: 2,
  BOTH_DIRECTORY: 3,
  BASIC: 4,
  STANDARD: 5,
  INTERNAL: 6,
  EA: 7,
  ACCESS: 8,
  NAME: 9,
  RENAME: 10,
  LINK: 11,
  NAMES: 12,
  DISPOSITION: 13,
  POSITION: 14,
  FULL_EA: 15,
  MODE: 16,
  ALIGNMENT: 17,
  ALL: 18,
  ALLOCATION: 19,
  END_OF_FILE: 20,
  ALTERNATE_NAME: 21,
  STREAM: 22,
  PIPE: 23,
  PIPE_LOCAL: 24,
  PIPE_REMOTE: 25,
  COMPRESSION: 28,
  OBJECT_ID: 29,
  QUOTA: 32,
  REPARSE_POINT: 33,
  NETWORK_OPEN: 34,
  ATTRIBUTE_TAG: 35,
  ID_BOTH_DIRECTORY: 37,
  ID_FULL_DIRECTORY: 38,
  VALID_DATA_LENGTH: 39,
  SHORT_NAME: 40,
  SFIO_RESERVE: 44,
  SFIO_VOLUME: 45,
  HARD_LINK: 46,
  NORMALIZED_NAME: 48,
  ID_GLOBAL_TX_DIRECTORY: 50,
  STANDARD_LINK: 54,
  ID: 59,
  ID_EXTD_DIRECTORY: 60,
  DISPOSITION_EX: 64,
  RENAME_EX: 65,
} as const

/** FILE_ATTRIBUTE_* (MS-FSCC 2.6). */
/** The allocation unit the data path reports (a cluster of NTFS's default size, 4 KiB). */
export const ALLOCATION_UNIT_BYTES = 4096

export const FILE_ATTRIBUTE = {
  READONLY: 0x00000001,
  HIDDEN: 0x00000002,
  SYSTEM: 0x00000004,
  DIRECTORY: 0x00000010,
  ARCHIVE: 0x00000020,
  NORMAL: 0x00000080,
  TEMPORARY: 0x00000100,
  SPARSE_FILE: 0x00000200,
  REPARSE_POINT: 0x00000400,
  COMPRESSED: 0x00000800,
  OFFLINE: 0x00001000,
  NOT_CONTENT_INDEXED: 0x00002000,
  ENCRYPTED: 0x00004000,
  INTEGRITY_STREAM: 0x00008000,
  NO_SCRUB_DATA: 0x00020000,
} as const

/** The Mode bits of FileModeInformation (MS-FSCC 2.4.31). */
export const FILE_MODE = {
  WRITE_THROUGH: 0x00000002,
  SEQUENTIAL_ONLY: 0x00000004,
  NO_INTERMEDIATE_BUFFERING: 0x00000008,
  SYNCHRONOUS_IO_ALERT: 0x00000010,
  SYNCHRONOUS_IO_NONALERT: 0x00000020,
  DELETE_ON_CLOSE: 0x00001000,
} as const

/** Flags of FileDispositionInformationEx (MS-FSCC 2.4.12). */
export const FILE_DISPOSITION_FLAG = {
  DELETE: 0x00000001,
  POSIX_SEMANTICS: 0x00000002,
  FORCE_IMAGE_SECTION_CHECK: 0x00000004,
  ON_CLOSE: 0x00000008,
  IGNORE_READONLY_ATTRIBUTE: 0x00000010,
} as const

/** One data stream of a file, for FileStreamInformation. */
export interface StreamFacts {
  /** The stream name as Windows spells it: "::$DATA" for the unnamed stream, ":name:$DATA" for a named one. */
  readonly name: string
  readonly sizeBytes: bigint
  readonly allocationBytes: bigint
}

/**
 * Everything the file information classes say about a file, in one plain value. Times are
 * FILETIMEs (protocol/smb2/filetime.ts converts from ms or ns); 0 means "no time".
 */
export interface FileFacts {
  readonly creationTime: bigint
  readonly lastAccessTime: bigint
  readonly lastWriteTime: bigint
  readonly changeTime: bigint
  readonly endOfFileBytes: bigint
  readonly allocationBytes: bigint
  /** FILE_ATTRIBUTE_* as stored. DIRECTORY is added for a directory and NORMAL when nothing is left (effectiveAttributes). */
  readonly attributes: number
  readonly directory: boolean
  /** The 64-bit file id: FileInternalInformation.IndexNumber and the FileId of the directory classes (an inode number, say). */
  readonly indexNumber: bigint
  /**
   * FileNameInformation and FileAllInformation: the path from the share root with a leading
   * backslash ("\dir\file.txt"), as Windows answers; a directory entry: the entry's own name.
   */
  readonly name: string
  /** The 8.3 name (FileAlternateNameInformation, ShortName of the Both directory classes); absent: none. */
  readonly shortName?: string
  /** Default 1. */
  readonly numberOfLinks?: number
  readonly deletePending?: boolean
  /** Bytes the file's EAs take (FileEaInformation, EaSize of the directory classes). Default 0. */
  readonly eaSizeBytes?: number
  /** The file's EAs, for FileFullEaInformation (none when absent). */
  readonly extendedAttributes?: readonly ExtendedAttribute[]
  /** FileAttributeTagInformation.ReparseTag. Default 0. */
  readonly reparseTag?: number
  /** Default: "::$DATA" of EndOfFile/AllocationSize for a file, none for a directory. */
  readonly streams?: readonly StreamFacts[]
  // Facts of the open rather than the file:
  /** FileAccessInformation.AccessFlags: the access granted to the open. Default 0. */
  readonly grantedAccess?: number
  /** FilePositionInformation.CurrentByteOffset. Default 0. */
  readonly currentByteOffset?: bigint
  /** FileModeInformation.Mode (FILE_MODE bits of the open). Default 0. */
  readonly mode?: number
}

/** What queryFileInfo (and the fs and security classes) answer. */
export type InfoAnswer =
  /** STATUS_SUCCESS, or STATUS_BUFFER_OVERFLOW with the truncated structure. */
  | { readonly kind: 'data'; readonly status: number; readonly buffer: Buffer }
  /** An error status and no data. */
  | { readonly kind: 'error'; readonly status: number }
  /** STATUS_BUFFER_TOO_SMALL: the error response carries requiredBytes as its 4-byte ErrorData (MS-SMB2 3.3.5.20.2, 3.3.5.20.3). */
  | { readonly kind: 'too-small'; readonly status: number; readonly requiredBytes: number }

// Structure sizes (MS-FSCC 2.4), in bytes.
export const FILE_BASIC_INFORMATION_BYTES = 40
export const FILE_STANDARD_INFORMATION_BYTES = 24
export const FILE_INTERNAL_INFORMATION_BYTES = 8
export const FILE_EA_INFORMATION_BYTES = 4
export const FILE_ACCESS_INFORMATION_BYTES = 4
export const FILE_POSITION_INFORMATION_BYTES = 8
export const FILE_MODE_INFORMATION_BYTES = 4
export const FILE_ALIGNMENT_INFORMATION_BYTES = 4
export const FILE_NETWORK_OPEN_INFORMATION_BYTES = 56
export const FILE_ATTRIBUTE_TAG_INFORMATION_BYTES = 8
export const FILE_COMPRESSION_INFORMATION_BYTES = 16
/** FileNameLength: the fixed part of FILE_NAME_INFORMATION. */
export const FILE_NAME_INFORMATION_FIXED_BYTES = 4
/** Basic, Standard, Internal, EA, Access, Position, Mode, Alignment and FileNameLength. */
export const FILE_ALL_INFORMATION_FIXED_BYTES = 100
/** NextEntryOffset, StreamNameLength, StreamSize, StreamAllocationSize. */
export const FILE_STREAM_ENTRY_FIXED_BYTES = 24

/**
 * The least OutputBufferLength each queryable class accepts; below it the answer is
 * STATUS_INFO_LENGTH_MISMATCH. These are the C sizeof values Windows checks (smbtorture's
 * qfile_buffercheck: 4->40, 5->24, 6->8, 7->4, 8->4, 16->4, 17->4, 18->104, 21->8, 22->32,
 * 28->16, 34->56, 35->8).
 */
export const QUERY_FILE_INFO_MIN_BYTES: Readonly<Record<number, number>> = Object.freeze({
  [FILE_INFO_CLASS.BASIC]: FILE_BASIC_INFORMATION_BYTES,
  [FILE_INFO_CLASS.STANDARD]: FILE_STANDARD_INFORMATION_BYTES,
  [FILE_INFO_CLASS.INTERNAL]: FILE_INTERNAL_INFORMATION_BYTES,
  [FILE_INFO_CLASS.EA]: FILE_EA_INFORMATION_BYTES,
  [FILE_INFO_CLASS.ACCESS]: FILE_ACCESS_INFORMATION_BYTES,
  // BlockAlign(FieldOffset(FileName) + 2, 4) (MS-FSA 2.1.5.12.19).
  [FILE_INFO_CLASS.NAME]: 8,
  [FILE_INFO_CLASS.POSITION]: FILE_POSITION_INFORMATION_BYTES,
  [FILE_INFO_CLASS.MODE]: FILE_MODE_INFORMATION_BYTES,
  [FILE_INFO_CLASS.ALIGNMENT]: FILE_ALIGNMENT_INFORMATION_BYTES,
  // BlockAlign(FieldOffset(NameInformation.FileName), 8).
  [FILE_INFO_CLASS.ALL]: 104,
  [FILE_INFO_CLASS.ALTERNATE_NAME]: 8,
  [FILE_INFO_CLASS.NORMALIZED_NAME]: 8,
  // BlockAlign(FieldOffset(StreamName), 8).
  [FILE_INFO_CLASS.STREAM]: 32,
  [FILE_INFO_CLASS.COMPRESSION]: FILE_COMPRESSION_INFORMATION_BYTES,
  [FILE_INFO_CLASS.NETWORK_OPEN]: FILE_NETWORK_OPEN_INFORMATION_BYTES,
  [FILE_INFO_CLASS.ATTRIBUTE_TAG]: FILE_ATTRIBUTE_TAG_INFORMATION_BYTES,
})

/**
 * Classes MS-FSCC defines for query that this codec does not encode: a Windows server would
 * answer them, so the answer is STATUS_NOT_SUPPORTED rather than STATUS_INVALID_INFO_CLASS.
 */
const QUERY_CLASSES_NOT_ENCODED: ReadonlySet<number> = new Set([
  FILE_INFO_CLASS.PIPE,
  FILE_INFO_CLASS.PIPE_LOCAL,
  FILE_INFO_CLASS.PIPE_REMOTE,
  FILE_INFO_CLASS.OBJECT_ID,
  FILE_INFO_CLASS.QUOTA,
  FILE_INFO_CLASS.REPARSE_POINT,
  FILE_INFO_CLASS.HARD_LINK,
  FILE_INFO_CLASS.STANDARD_LINK,
  FILE_INFO_CLASS.ID,
])

const INT64_MAX = 0x7fff_ffff_ffff_ffffn
const STREAM_ENTRY_ALIGN_BYTES = 8

/** The attributes the info classes report: DIRECTORY for a directory, NORMAL when no other bit is set (MS-FSA 2.1.5.12.*). */
export function effectiveAttributes(facts: Pick<FileFacts, 'attributes' | 'directory'>): number {
  let attributes = facts.attributes >>> 0
  if (facts.directory) attributes |= FILE_ATTRIBUTE.DIRECTORY
  // NORMAL is valid only alone.
  if (attributes !== FILE_ATTRIBUTE.NORMAL) attributes &= ~FILE_ATTRIBUTE.NORMAL
  return (attributes === 0 ? FILE_ATTRIBUTE.NORMAL : attributes) >>> 0
}

/** The streams FileStreamInformation lists: the facts' own, or the unnamed data stream of a file. */
export function streamsOf(facts: FileFacts): readonly StreamFacts[] {
  if (facts.streams !== undefined) return facts.streams
  return facts.directory ? [] : [{ name: '::$DATA', sizeBytes: facts.endOfFileBytes, allocationBytes: facts.allocationBytes }]
}

// ---------------------------------------------------------------------------------------------
// Encoders of the whole structures (what a buffer of any size at or above the need receives)
// ---------------------------------------------------------------------------------------------

/** FILE_BASIC_INFORMATION (MS-FSCC 2.4.7), 40 bytes. */
export function encodeFileBasicInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_BASIC_INFORMATION_BYTES)
  writeBasic(out, 0, facts)
  return out
}

/** FILE_STANDARD_INFORMATION (MS-FSCC 2.4.47), 24 bytes. */
export function encodeFileStandardInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_STANDARD_INFORMATION_BYTES)
  writeStandard(out, 0, facts)
  return out
}

/** FILE_INTERNAL_INFORMATION (MS-FSCC 2.4.26), 8 bytes: IndexNumber. */
export function encodeFileInternalInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_INTERNAL_INFORMATION_BYTES)
  out.writeBigUInt64LE(facts.indexNumber, 0)
  return out
}

/** FILE_EA_INFORMATION (MS-FSCC 2.4.13), 4 bytes: EaSize. */
export function encodeFileEaInformation(facts: FileFacts): Buffer {
  return u32Buffer(facts.eaSizeBytes ?? 0)
}

/** FILE_ACCESS_INFORMATION (MS-FSCC 2.4.1), 4 bytes: AccessFlags. */
export function encodeFileAccessInformation(facts: FileFacts): Buffer {
  return u32Buffer(facts.grantedAccess ?? 0)
}

/** FILE_POSITION_INFORMATION (MS-FSCC 2.4.40), 8 bytes: CurrentByteOffset. */
export function encodeFilePositionInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_POSITION_INFORMATION_BYTES)
  out.writeBigUInt64LE(int64(facts.currentByteOffset ?? 0n, 'CurrentByteOffset'), 0)
  return out
}

/** FILE_MODE_INFORMATION (MS-FSCC 2.4.31), 4 bytes: Mode. */
export function encodeFileModeInformation(facts: FileFacts): Buffer {
  return u32Buffer(facts.mode ?? 0)
}

/** FILE_ALIGNMENT_INFORMATION (MS-FSCC 2.4.3), 4 bytes: FILE_BYTE_ALIGNMENT (0), no alignment needed. */
export function encodeFileAlignmentInformation(_facts: FileFacts): Buffer {
  return u32Buffer(0)
}

/** FILE_NAME_INFORMATION (MS-FSCC 2.4.32) of name: FileNameLength then the UTF-16LE name. */
export function encodeFileNameInformation(name: string): Buffer {
  const nameBytes = utf16leBytes(name)
  const out = Buffer.alloc(FILE_NAME_INFORMATION_FIXED_BYTES + nameBytes.length)
  out.writeUInt32LE(nameBytes.length, 0)
  nameBytes.copy(out, FILE_NAME_INFORMATION_FIXED_BYTES)
  return out
}

/** FILE_ALL_INFORMATION (MS-FSCC 2.4.2): the eight fixed classes then FILE_NAME_INFORMATION; 100 bytes plus the name. */
export function encodeFileAllInformation(facts: FileFacts): Buffer {
  const nameBytes = utf16leBytes(facts.name)
  const out = Buffer.alloc(FILE_ALL_INFORMATION_FIXED_BYTES + nameBytes.length)
  writeAllFixed(out, facts, nameBytes.length)
  nameBytes.copy(out, FILE_ALL_INFORMATION_FIXED_BYTES)
  return out
}

/** FILE_NETWORK_OPEN_INFORMATION (MS-FSCC 2.4.34), 56 bytes. */
export function encodeFileNetworkOpenInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_NETWORK_OPEN_INFORMATION_BYTES)
  writeTimes(out, 0, facts)
  out.writeBigUInt64LE(int64(facts.allocationBytes, 'AllocationSize'), 32)
  out.writeBigUInt64LE(int64(facts.endOfFileBytes, 'EndOfFile'), 40)
  out.writeUInt32LE(effectiveAttributes(facts), 48)
  // 52: Reserved (4 bytes).
  return out
}

/** FILE_ATTRIBUTE_TAG_INFORMATION (MS-FSCC 2.4.6), 8 bytes. */
export function encodeFileAttributeTagInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_ATTRIBUTE_TAG_INFORMATION_BYTES)
  out.writeUInt32LE(effectiveAttributes(facts), 0)
  out.writeUInt32LE((facts.reparseTag ?? 0) >>> 0, 4)
  return out
}

/**
 * FILE_COMPRESSION_INFORMATION (MS-FSCC 2.4.9), 16 bytes, for an uncompressed file:
 * CompressedFileSize is EndOfFile, CompressionFormat COMPRESSION_FORMAT_NONE, the shifts 0.
 */
export function encodeFileCompressionInformation(facts: FileFacts): Buffer {
  const out = Buffer.alloc(FILE_COMPRESSION_INFORMATION_BYTES)
  out.writeBigUInt64LE(int64(facts.endOfFileBytes, 'EndOfFile'), 0)
  // 8: CompressionFormat (2), 10: CompressionUnitShift, 11: ChunkShift, 12: ClusterShift, 13: Reserved (3): all 0.
  return out
}

/**
 * FILE_STREAM_INFORMATION entries (MS-FSCC 2.4.49), each 8-byte aligned with NextEntryOffset,
 * the last unpadded, of the streams that fit in maxBytes whole. complete is false when some did not.
 */
export function encodeFileStreamInformation(streams: readonly StreamFacts[], maxBytes = Number.MAX_SAFE_INTEGER): { buffer: Buffer; complete: boolean } {
  const encodedNames = streams.map((stream) => utf16leBytes(stream.name))
  const starts: number[] = []
  let endBytes = 0
  for (const nameBytes of encodedNames) {
    const start = starts.length === 0 ? 0 : alignUp(endBytes, STREAM_ENTRY_ALIGN_BYTES)
    const end = start + FILE_STREAM_ENTRY_FIXED_BYTES + nameBytes.length
    if (end > maxBytes) break
    starts.push(start)
    endBytes = end
  }
  const out = Buffer.alloc(endBytes)
  starts.forEach((start, index) => {
    const nameBytes = encodedNames[index]
    const next = index + 1 < starts.length ? starts[index + 1] - start : 0
    out.writeUInt32LE(next, start)
    out.writeUInt32LE(nameBytes.length, start + 4)
    out.writeBigUInt64LE(int64(streams[index].sizeBytes, 'StreamSize'), start + 8)
    out.writeBigUInt64LE(int64(streams[index].allocationBytes, 'StreamAllocationSize'), start + 16)
    nameBytes.copy(out, start + FILE_STREAM_ENTRY_FIXED_BYTES)
  })
  return { buffer: out, complete: starts.length === streams.length }
}

// ---------------------------------------------------------------------------------------------
// QUERY_INFO (SMB2_0_INFO_FILE)
// ---------------------------------------------------------------------------------------------

/**
 * The answer to QUERY_INFO of infoClass with OutputBufferLength outputBufferLength.
 * Unknown and set-only classes answer STATUS_INVALID_INFO_CLASS; FileFullEaInformation answers
 * the EAs (STATUS_NO_EAS_ON_FILE without any); FileAlternateNameInformation without a short name
 * answers STATUS_OBJECT_NAME_NOT_FOUND, as NTFS does with 8.3 names off.
 */
export function queryFileInfo(infoClass: number, facts: FileFacts, outputBufferLength: number): InfoAnswer {
  switch (infoClass) {
    case FILE_INFO_CLASS.BASIC:
      return fixedAnswer(infoClass, encodeFileBasicInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.STANDARD:
      return fixedAnswer(infoClass, encodeFileStandardInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.INTERNAL:
      return fixedAnswer(infoClass, encodeFileInternalInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.EA:
      return fixedAnswer(infoClass, encodeFileEaInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.ACCESS:
      return fixedAnswer(infoClass, encodeFileAccessInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.POSITION:
      return fixedAnswer(infoClass, encodeFilePositionInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.MODE:
      return fixedAnswer(infoClass, encodeFileModeInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.ALIGNMENT:
      return fixedAnswer(infoClass, encodeFileAlignmentInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.NETWORK_OPEN:
      return fixedAnswer(infoClass, encodeFileNetworkOpenInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.ATTRIBUTE_TAG:
      return fixedAnswer(infoClass, encodeFileAttributeTagInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.COMPRESSION:
      return fixedAnswer(infoClass, encodeFileCompressionInformation(facts), outputBufferLength)
    case FILE_INFO_CLASS.NAME:
      return nameAnswer(infoClass, encodeFileNameInformation(facts.name), FILE_NAME_INFORMATION_FIXED_BYTES, outputBufferLength)
    case FILE_INFO_CLASS.ALTERNATE_NAME:
      if (outputBufferLength < QUERY_FILE_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
      if (facts.shortName === undefined || facts.shortName === '') return errorAnswer(NT_STATUS.OBJECT_NAME_NOT_FOUND)
      return nameAnswer(infoClass, encodeFileNameInformation(facts.shortName), FILE_NAME_INFORMATION_FIXED_BYTES, outputBufferLength)
    case FILE_INFO_CLASS.NORMALIZED_NAME:
      // MS-FSCC 2.4.30 (a FILE_NAME_INFORMATION): the path from the share's root as the file
      // system spells it, without the leading backslash of FileNameInformation; the root's is
      // empty (smbtorture's smb2.getinfo.normalized, as Windows answers). Only 3.1.1 asks for
      // it: before that the caller answers NOT_SUPPORTED (MS-SMB2 3.3.5.20.1).
      return nameAnswer(infoClass, encodeFileNameInformation(normalizedNameOf(facts.name)), FILE_NAME_INFORMATION_FIXED_BYTES, outputBufferLength)
    case FILE_INFO_CLASS.ALL:
      return nameAnswer(infoClass, encodeFileAllInformation(facts), FILE_ALL_INFORMATION_FIXED_BYTES, outputBufferLength)
    case FILE_INFO_CLASS.STREAM: {
      if (outputBufferLength < QUERY_FILE_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
      const { buffer, complete } = encodeFileStreamInformation(streamsOf(facts), outputBufferLength)
      return { kind: 'data', status: complete ? NT_STATUS.SUCCESS : NT_STATUS.BUFFER_OVERFLOW, buffer }
    }
    case FILE_INFO_CLASS.FULL_EA: {
      const eas = queryFullEaInformation(facts.extendedAttributes ?? [], outputBufferLength)
      return eas.buffer ? { kind: 'data', status: eas.status, buffer: eas.buffer } : errorAnswer(eas.status)
    }
    default:
      return errorAnswer(QUERY_CLASSES_NOT_ENCODED.has(infoClass) ? NT_STATUS.NOT_SUPPORTED : NT_STATUS.INVALID_INFO_CLASS)
  }
}

/** FileNormalizedNameInformation's name of a file whose FileNameInformation name is name ("\\a\\b" gives "a\\b"). */
export function normalizedNameOf(name: string): string {
  return name.startsWith('\\') ? name.slice(1) : name
}

/** A fixed-size class: the whole structure, or INFO_LENGTH_MISMATCH when the buffer is below its size. */
function fixedAnswer(infoClass: number, whole: Buffer, outputBufferLength: number): InfoAnswer {
  if (outputBufferLength < QUERY_FILE_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
  return { kind: 'data', status: NT_STATUS.SUCCESS, buffer: whole }
}

/**
 * A class ending in a name whose length field sits just before it (FileNameInformation,
 * FileAlternateNameInformation, FileAllInformation): a short buffer gets the fixed part with the
 * full FileNameLength and the whole UTF-16 units of the name that fit (MS-FSA 2.1.5.12.19:
 * AvailableNameLength = BlockAlignTruncate(OutputBufferSize - FieldOffset(FileName), 2)).
 */
function nameAnswer(infoClass: number, whole: Buffer, nameOffset: number, outputBufferLength: number): InfoAnswer {
  if (outputBufferLength < QUERY_FILE_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
  if (whole.length <= outputBufferLength) return { kind: 'data', status: NT_STATUS.SUCCESS, buffer: whole }
  const availableNameBytes = (outputBufferLength - nameOffset) & ~1
  return { kind: 'data', status: NT_STATUS.BUFFER_OVERFLOW, buffer: whole.subarray(0, nameOffset + availableNameBytes) }
}

export function errorAnswer(status: number): InfoAnswer {
  return { kind: 'error', status }
}

// ---------------------------------------------------------------------------------------------
// SET_INFO (SMB2_0_INFO_FILE) decoders
// ---------------------------------------------------------------------------------------------

/** A decoded SET_INFO buffer, or the NTSTATUS to answer and a line for the log. */
export type SetInfoDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: number; readonly reason: string }

/** What a FileBasicInformation time field asks for (MS-FSA 2.1.5.15.1; MS-FSCC 2.4.7). */
export type TimeChange =
  /** 0: leave the time as it is. */
  | { readonly kind: 'keep' }
  | { readonly kind: 'set'; readonly filetime: bigint }
  /** -1: stop updating this time automatically for the rest of the open. */
  | { readonly kind: 'stop-auto-update' }
  /** -2: resume updating it automatically. */
  | { readonly kind: 'resume-auto-update' }

export interface BasicInfoChange {
  readonly creationTime: TimeChange
  readonly lastAccessTime: TimeChange
  readonly lastWriteTime: TimeChange
  readonly changeTime: TimeChange
  /** null: leave the attributes (FileAttributes 0); otherwise the FILE_ATTRIBUTE_* bits to store. */
  readonly attributes: number | null
}

export interface RenameInfo {
  readonly replaceIfExists: boolean
  /** SMB2 clients send 0 (MS-SMB2 2.2.39); the caller decides what to do with another value. */
  readonly rootDirectory: bigint
  /** The target as sent: a path from the share root, without a leading backslash as a rule. */
  readonly fileName: string
}

export interface DispositionExInfo {
  readonly flags: number
  /** FILE_DISPOSITION_DELETE: set (true) or clear (false) the delete-pending state. */
  readonly deletePending: boolean
  readonly posixSemantics: boolean
  readonly onClose: boolean
  readonly ignoreReadOnlyAttribute: boolean
}

/** The decoded buffer of each settable class. */
export type SetFileInfo =
  | { readonly infoClass: typeof FILE_INFO_CLASS.BASIC; readonly basic: BasicInfoChange }
  | { readonly infoClass: typeof FILE_INFO_CLASS.END_OF_FILE; readonly endOfFileBytes: bigint }
  | { readonly infoClass: typeof FILE_INFO_CLASS.ALLOCATION; readonly allocationBytes: bigint }
  | { readonly infoClass: typeof FILE_INFO_CLASS.DISPOSITION; readonly deletePending: boolean }
  | { readonly infoClass: typeof FILE_INFO_CLASS.DISPOSITION_EX; readonly dispositionEx: DispositionExInfo }
  | { readonly infoClass: typeof FILE_INFO_CLASS.RENAME; readonly rename: RenameInfo }
  | { readonly infoClass: typeof FILE_INFO_CLASS.POSITION; readonly currentByteOffset: bigint }
  | { readonly infoClass: typeof FILE_INFO_CLASS.MODE; readonly mode: number }

/** Bytes before FileName in the SMB2 form of FILE_RENAME_INFORMATION (MS-FSCC 2.4.42.2). */
export const FILE_RENAME_INFORMATION_FIXED_BYTES = 20
const FILE_DISPOSITION_INFORMATION_BYTES = 1
const FILE_DISPOSITION_INFORMATION_EX_BYTES = 4
const FILE_END_OF_FILE_INFORMATION_BYTES = 8
const FILE_ALLOCATION_INFORMATION_BYTES = 8
/** The only Mode bits a SET_INFO can change on an SMB2 open (MS-FSA 2.1.5.15.9: the SYNCHRONOUS_IO bits must match the open's, which has none). */
const SETTABLE_MODE_BITS = FILE_MODE.WRITE_THROUGH | FILE_MODE.SEQUENTIAL_ONLY

/**
 * Decodes the buffer of SET_INFO for infoClass. Classes that cannot be set answer
 * STATUS_INVALID_INFO_CLASS; settable classes this codec does not handle (link, short name,
 * valid data length, FileRenameInformationEx, ...) answer STATUS_NOT_SUPPORTED.
 */
export function decodeSetFileInfo(infoClass: number, buffer: Uint8Array): SetInfoDecoded<SetFileInfo> {
  switch (infoClass) {
    case FILE_INFO_CLASS.BASIC:
      return mapDecoded(decodeFileBasicInformation(buffer), (basic) => ({ infoClass, basic }))
    case FILE_INFO_CLASS.END_OF_FILE:
      return mapDecoded(decodeFileEndOfFileInformation(buffer), (endOfFileBytes) => ({ infoClass, endOfFileBytes }))
    case FILE_INFO_CLASS.ALLOCATION:
      return mapDecoded(decodeFileAllocationInformation(buffer), (allocationBytes) => ({ infoClass, allocationBytes }))
    case FILE_INFO_CLASS.DISPOSITION:
      return mapDecoded(decodeFileDispositionInformation(buffer), (deletePending) => ({ infoClass, deletePending }))
    case FILE_INFO_CLASS.DISPOSITION_EX:
      return mapDecoded(decodeFileDispositionInformationEx(buffer), (dispositionEx) => ({ infoClass, dispositionEx }))
    case FILE_INFO_CLASS.RENAME:
      return mapDecoded(decodeFileRenameInformation(buffer), (rename) => ({ infoClass, rename }))
    case FILE_INFO_CLASS.POSITION:
      return mapDecoded(decodeFilePositionInformation(buffer), (currentByteOffset) => ({ infoClass, currentByteOffset }))
    case FILE_INFO_CLASS.MODE:
      return mapDecoded(decodeFileModeInformation(buffer), (mode) => ({ infoClass, mode }))
    case FILE_INFO_CLASS.LINK:
    case FILE_INFO_CLASS.FULL_EA:
    case FILE_INFO_CLASS.SHORT_NAME:
    case FILE_INFO_CLASS.VALID_DATA_LENGTH:
    case FILE_INFO_CLASS.OBJECT_ID:
    case FILE_INFO_CLASS.PIPE:
    case FILE_INFO_CLASS.QUOTA:
    case FILE_INFO_CLASS.SFIO_RESERVE:
    case FILE_INFO_CLASS.RENAME_EX:
      return refuse(NT_STATUS.NOT_SUPPORTED, `FileInformationClass ${infoClass} cannot be set here`)
    default:
      return refuse(NT_STATUS.INVALID_INFO_CLASS, `FileInformationClass ${infoClass} is not a settable class`)
  }
}

/** FILE_BASIC_INFORMATION as SET_INFO sends it (MS-FSA 2.1.5.15.1). */
export function decodeFileBasicInformation(buffer: Uint8Array): SetInfoDecoded<BasicInfoChange> {
  if (buffer.byteLength < FILE_BASIC_INFORMATION_BYTES) return shortBuffer('FileBasicInformation', buffer, FILE_BASIC_INFORMATION_BYTES)
  const view = viewOf(buffer)
  const times: TimeChange[] = []
  const fieldNames = ['CreationTime', 'LastAccessTime', 'LastWriteTime', 'ChangeTime']
  for (let index = 0; index < fieldNames.length; index++) {
    const raw = view.getBigInt64(index * 8, true)
    // Below -2 is no defined request (MS-FSA 2.1.5.15.1).
    if (raw < -2n) return refuse(NT_STATUS.INVALID_PARAMETER, `FileBasicInformation ${fieldNames[index]} ${raw} is below -2`)
    times.push(raw === 0n ? { kind: 'keep' } : raw === -1n ? { kind: 'stop-auto-update' } : raw === -2n ? { kind: 'resume-auto-update' } : { kind: 'set', filetime: raw })
  }
  const attributes = view.getUint32(32, true)
  return { ok: true, value: { creationTime: times[0], lastAccessTime: times[1], lastWriteTime: times[2], changeTime: times[3], attributes: attributes === 0 ? null : attributes } }
}

/** FILE_END_OF_FILE_INFORMATION (MS-FSCC 2.4.14): EndOfFile, a signed 64-bit size; a negative one is STATUS_INVALID_PARAMETER. */
export function decodeFileEndOfFileInformation(buffer: Uint8Array): SetInfoDecoded<bigint> {
  return decodeSize(buffer, 'FileEndOfFileInformation', FILE_END_OF_FILE_INFORMATION_BYTES)
}

/** FILE_ALLOCATION_INFORMATION (MS-FSCC 2.4.4): AllocationSize. */
export function decodeFileAllocationInformation(buffer: Uint8Array): SetInfoDecoded<bigint> {
  return decodeSize(buffer, 'FileAllocationInformation', FILE_ALLOCATION_INFORMATION_BYTES)
}

/** FILE_POSITION_INFORMATION (MS-FSCC 2.4.40): CurrentByteOffset. */
export function decodeFilePositionInformation(buffer: Uint8Array): SetInfoDecoded<bigint> {
  return decodeSize(buffer, 'FilePositionInformation', FILE_POSITION_INFORMATION_BYTES)
}

/** FILE_DISPOSITION_INFORMATION (MS-FSCC 2.4.11): DeletePending, any non-zero byte is TRUE. */
export function decodeFileDispositionInformation(buffer: Uint8Array): SetInfoDecoded<boolean> {
  if (buffer.byteLength < FILE_DISPOSITION_INFORMATION_BYTES) return shortBuffer('FileDispositionInformation', buffer, FILE_DISPOSITION_INFORMATION_BYTES)
  return { ok: true, value: buffer[0] !== 0 }
}

/** FILE_DISPOSITION_INFORMATION_EX (MS-FSCC 2.4.12): a u32 of FILE_DISPOSITION_FLAG bits. */
export function decodeFileDispositionInformationEx(buffer: Uint8Array): SetInfoDecoded<DispositionExInfo> {
  if (buffer.byteLength < FILE_DISPOSITION_INFORMATION_EX_BYTES) return shortBuffer('FileDispositionInformationEx', buffer, FILE_DISPOSITION_INFORMATION_EX_BYTES)
  const flags = viewOf(buffer).getUint32(0, true)
  return {
    ok: true,
    value: {
      flags,
      deletePending: (flags & FILE_DISPOSITION_FLAG.DELETE) !== 0,
      posixSemantics: (flags & FILE_DISPOSITION_FLAG.POSIX_SEMANTICS) !== 0,
      onClose: (flags & FILE_DISPOSITION_FLAG.ON_CLOSE) !== 0,
      ignoreReadOnlyAttribute: (flags & FILE_DISPOSITION_FLAG.IGNORE_READONLY_ATTRIBUTE) !== 0,
    },
  }
}

/**
 * The SMB2 form of FILE_RENAME_INFORMATION (MS-FSCC 2.4.42.2): ReplaceIfExists (1), Reserved (7),
 * RootDirectory (8), FileNameLength (4), FileName. A FileNameLength of 0, odd, or past the
 * buffer is STATUS_INVALID_PARAMETER (as Windows and Samba answer); a name that is not
 * well-formed UTF-16 is STATUS_OBJECT_NAME_INVALID.
 */
export function decodeFileRenameInformation(buffer: Uint8Array): SetInfoDecoded<RenameInfo> {
  if (buffer.byteLength < FILE_RENAME_INFORMATION_FIXED_BYTES) return shortBuffer('FileRenameInformation', buffer, FILE_RENAME_INFORMATION_FIXED_BYTES)
  const view = viewOf(buffer)
  const nameLengthBytes = view.getUint32(16, true)
  if (nameLengthBytes === 0) return refuse(NT_STATUS.INVALID_PARAMETER, 'FileRenameInformation with an empty FileName')
  if (nameLengthBytes % 2 !== 0) return refuse(NT_STATUS.INVALID_PARAMETER, `FileRenameInformation FileNameLength ${nameLengthBytes} is odd`)
  if (nameLengthBytes > buffer.byteLength - FILE_RENAME_INFORMATION_FIXED_BYTES) {
    return refuse(NT_STATUS.INVALID_PARAMETER, `FileRenameInformation FileNameLength ${nameLengthBytes} exceeds the ${buffer.byteLength - FILE_RENAME_INFORMATION_FIXED_BYTES} bytes after the fixed part`)
  }
  const fileName = decodeUtf16leName(buffer.subarray(FILE_RENAME_INFORMATION_FIXED_BYTES, FILE_RENAME_INFORMATION_FIXED_BYTES + nameLengthBytes))
  if (fileName === null) return refuse(NT_STATUS.OBJECT_NAME_INVALID, 'FileRenameInformation FileName is not well-formed UTF-16')
  return { ok: true, value: { replaceIfExists: buffer[0] !== 0, rootDirectory: view.getBigUint64(8, true), fileName } }
}

/** FILE_MODE_INFORMATION (MS-FSCC 2.4.31): only WRITE_THROUGH and SEQUENTIAL_ONLY can be set on an SMB2 open; any other bit is STATUS_INVALID_PARAMETER. */
export function decodeFileModeInformation(buffer: Uint8Array): SetInfoDecoded<number> {
  if (buffer.byteLength < FILE_MODE_INFORMATION_BYTES) return shortBuffer('FileModeInformation', buffer, FILE_MODE_INFORMATION_BYTES)
  const mode = viewOf(buffer).getUint32(0, true)
  if ((mode & ~SETTABLE_MODE_BITS) !== 0) return refuse(NT_STATUS.INVALID_PARAMETER, `FileModeInformation Mode 0x${mode.toString(16)} has bits that cannot be set`)
  return { ok: true, value: mode }
}

// ---------------------------------------------------------------------------------------------
// SET_INFO encoders (what a client sends; the decoders above read them back)
// ---------------------------------------------------------------------------------------------

/** FILE_BASIC_INFORMATION for SET_INFO: each time as TimeChange, attributes null to keep them. */
export function encodeFileBasicInformationChange(change: BasicInfoChange): Buffer {
  const out = Buffer.alloc(FILE_BASIC_INFORMATION_BYTES)
  const times = [change.creationTime, change.lastAccessTime, change.lastWriteTime, change.changeTime]
  times.forEach((time, index) => {
    const raw = time.kind === 'keep' ? 0n : time.kind === 'stop-auto-update' ? -1n : time.kind === 'resume-auto-update' ? -2n : int64(time.filetime, 'time')
    out.writeBigInt64LE(raw, index * 8)
  })
  out.writeUInt32LE((change.attributes ?? 0) >>> 0, 32)
  return out
}

/** FILE_END_OF_FILE_INFORMATION: 8 bytes. */
export function encodeFileEndOfFileInformation(endOfFileBytes: bigint): Buffer {
  return int64Buffer(endOfFileBytes, 'EndOfFile')
}

/** FILE_ALLOCATION_INFORMATION: 8 bytes. */
export function encodeFileAllocationInformation(allocationBytes: bigint): Buffer {
  return int64Buffer(allocationBytes, 'AllocationSize')
}

/** FILE_DISPOSITION_INFORMATION: 1 byte. */
export function encodeFileDispositionInformation(deletePending: boolean): Buffer {
  return Buffer.from([deletePending ? 1 : 0])
}

/** FILE_DISPOSITION_INFORMATION_EX: 4 bytes of FILE_DISPOSITION_FLAG bits. */
export function encodeFileDispositionInformationEx(flags: number): Buffer {
  return u32Buffer(flags)
}

/** The SMB2 form of FILE_RENAME_INFORMATION: 20 bytes and the UTF-16LE name (smbclient sends exactly this, unpadded). */
export function encodeFileRenameInformation(rename: RenameInfo): Buffer {
  const nameBytes = utf16leBytes(rename.fileName)
  const out = Buffer.alloc(FILE_RENAME_INFORMATION_FIXED_BYTES + nameBytes.length)
  out.writeUInt8(rename.replaceIfExists ? 1 : 0, 0)
  out.writeBigUInt64LE(rename.rootDirectory, 8)
  out.writeUInt32LE(nameBytes.length, 16)
  nameBytes.copy(out, FILE_RENAME_INFORMATION_FIXED_BYTES)
  return out
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function decodeSize(buffer: Uint8Array, what: string, needBytes: number): SetInfoDecoded<bigint> {
  if (buffer.byteLength < needBytes) return shortBuffer(what, buffer, needBytes)
  const value = viewOf(buffer).getBigInt64(0, true)
  if (value < 0n) return refuse(NT_STATUS.INVALID_PARAMETER, `${what} value ${value} is negative`)
  return { ok: true, value }
}

/** MS-FSA 2.1.5.15: an InputBufferSize below the structure is STATUS_INFO_LENGTH_MISMATCH. */
function shortBuffer(what: string, buffer: Uint8Array, needBytes: number): SetInfoDecoded<never> {
  return refuse(NT_STATUS.INFO_LENGTH_MISMATCH, `${what} needs ${needBytes} bytes, got ${buffer.byteLength}`)
}

function refuse(status: number, reason: string): SetInfoDecoded<never> {
  return { ok: false, status, reason }
}

function mapDecoded<T, U>(decoded: SetInfoDecoded<T>, map: (value: T) => U): SetInfoDecoded<U> {
  return decoded.ok ? { ok: true, value: map(decoded.value) } : decoded
}

function viewOf(buffer: Uint8Array): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

function int64Buffer(value: bigint, what: string): Buffer {
  const out = Buffer.alloc(8)
  out.writeBigUInt64LE(int64(value, what), 0)
  return out
}

function u32Buffer(value: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32LE(value >>> 0, 0)
  return out
}

export function alignUp(value: number, boundary: number): number {
  return Math.ceil(value / boundary) * boundary
}

/** A size or offset field: a signed 64-bit LARGE_INTEGER that must not be negative. */
function int64(value: bigint, what: string): bigint {
  if (value < 0n || value > INT64_MAX) throw new RangeError(`${what} ${value} does not fit a non-negative LARGE_INTEGER`)
  return value
}

/** The four times at offset: CreationTime, LastAccessTime, LastWriteTime, ChangeTime. */
export function writeTimes(out: Buffer, offset: number, facts: Pick<FileFacts, 'creationTime' | 'lastAccessTime' | 'lastWriteTime' | 'changeTime'>): void {
  out.writeBigUInt64LE(int64(facts.creationTime, 'CreationTime'), offset)
  out.writeBigUInt64LE(int64(facts.lastAccessTime, 'LastAccessTime'), offset + 8)
  out.writeBigUInt64LE(int64(facts.lastWriteTime, 'LastWriteTime'), offset + 16)
  out.writeBigUInt64LE(int64(facts.changeTime, 'ChangeTime'), offset + 24)
}

/** EndOfFile then AllocationSize, the order of the directory classes; returns the offset after them. */
export function writeSizes(out: Buffer, offset: number, facts: Pick<FileFacts, 'endOfFileBytes' | 'allocationBytes'>): number {
  out.writeBigUInt64LE(int64(facts.endOfFileBytes, 'EndOfFile'), offset)
  out.writeBigUInt64LE(int64(facts.allocationBytes, 'AllocationSize'), offset + 8)
  return offset + 16
}

function writeBasic(out: Buffer, offset: number, facts: FileFacts): void {
  writeTimes(out, offset, facts)
  out.writeUInt32LE(effectiveAttributes(facts), offset + 32)
  // offset + 36: Reserved (4 bytes).
}

function writeStandard(out: Buffer, offset: number, facts: FileFacts): void {
  out.writeBigUInt64LE(int64(facts.allocationBytes, 'AllocationSize'), offset)
  out.writeBigUInt64LE(int64(facts.endOfFileBytes, 'EndOfFile'), offset + 8)
  out.writeUInt32LE((facts.numberOfLinks ?? 1) >>> 0, offset + 16)
  out.writeUInt8(facts.deletePending === true ? 1 : 0, offset + 20)
  out.writeUInt8(facts.directory ? 1 : 0, offset + 21)
  // offset + 22: Reserved (2 bytes).
}

function writeAllFixed(out: Buffer, facts: FileFacts, nameLengthBytes: number): void {
  writeBasic(out, 0, facts)
  writeStandard(out, 40, facts)
  out.writeBigUInt64LE(facts.indexNumber, 64)
  out.writeUInt32LE((facts.eaSizeBytes ?? 0) >>> 0, 72)
  out.writeUInt32LE((facts.grantedAccess ?? 0) >>> 0, 76)
  out.writeBigUInt64LE(int64(facts.currentByteOffset ?? 0n, 'CurrentByteOffset'), 80)
  out.writeUInt32LE((facts.mode ?? 0) >>> 0, 88)
  out.writeUInt32LE(0, 92) // AlignmentRequirement: FILE_BYTE_ALIGNMENT
  out.writeUInt32LE(nameLengthBytes, 96)
}
