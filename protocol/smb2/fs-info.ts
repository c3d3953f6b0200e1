// The file system information classes of SMB2 QUERY_INFO with InfoType SMB2_0_INFO_FILESYSTEM
// (MS-SMB2 3.3.5.20.2; the structures are MS-FSCC 2.5, the short-buffer rules MS-FSA 2.1.5.13).
//
// Every class is encoded from one plain VolumeFacts value, and queryFsInfo() answers a buffer
// below the class's minimum with STATUS_INFO_LENGTH_MISMATCH and a buffer that cuts the volume
// label or file system name with STATUS_BUFFER_OVERFLOW and exactly OutputBufferLength bytes
// (the length field keeps the full length; Windows 10 with caching off asks FsVolume with 24
// bytes and needs exactly 24 back, smbtorture's smb2.getinfo.qfs1_buffer24). The minimums are
// the C sizeof of each structure, as smbtorture's qfs_buffercheck table has them.
import { type InfoAnswer, errorAnswer } from './file-info.js'
import { NT_STATUS } from './ntstatus.js'
import { utf16leBytes } from './utf16-name.js'

/** FsInformationClass values (MS-FSCC 2.5). */
export const FS_INFO_CLASS = {
  VOLUME: 1,
  LABEL: 2,
  SIZE: 3,
  DEVICE: 4,
  ATTRIBUTE: 5,
  CONTROL: 6,
  FULL_SIZE: 7,
  OBJECT_ID: 8,
  DRIVER_PATH: 9,
  VOLUME_FLAGS: 10,
  SECTOR_SIZE: 11,
} as const

/** FileSystemAttributes of FILE_FS_ATTRIBUTE_INFORMATION (MS-FSCC 2.5.1). */
export const FILE_SYSTEM_ATTRIBUTE = {
  CASE_SENSITIVE_SEARCH: 0x00000001,
  CASE_PRESERVED_NAMES: 0x00000002,
  UNICODE_ON_DISK: 0x00000004,
  PERSISTENT_ACLS: 0x00000008,
  FILE_COMPRESSION: 0x00000010,
  VOLUME_QUOTAS: 0x00000020,
  SUPPORTS_SPARSE_FILES: 0x00000040,
  SUPPORTS_REPARSE_POINTS: 0x00000080,
  SUPPORTS_REMOTE_STORAGE: 0x00000100,
  VOLUME_IS_COMPRESSED: 0x00008000,
  SUPPORTS_OBJECT_IDS: 0x00010000,
  SUPPORTS_ENCRYPTION: 0x00020000,
  NAMED_STREAMS: 0x00040000,
  READ_ONLY_VOLUME: 0x00080000,
  SEQUENTIAL_WRITE_ONCE: 0x00100000,
  SUPPORTS_TRANSACTIONS: 0x00200000,
  SUPPORTS_HARD_LINKS: 0x00400000,
  SUPPORTS_EXTENDED_ATTRIBUTES: 0x00800000,
  SUPPORTS_OPEN_BY_FILE_ID: 0x01000000,
  SUPPORTS_USN_JOURNAL: 0x02000000,
  SUPPORTS_INTEGRITY_STREAMS: 0x04000000,
  SUPPORTS_BLOCK_REFCOUNTING: 0x08000000,
  SUPPORTS_SPARSE_VDL: 0x10000000,
} as const

/** DeviceType of FILE_FS_DEVICE_INFORMATION (MS-FSCC 2.5.10). */
export const FILE_DEVICE = { CD_ROM: 0x00000002, DISK: 0x00000007 } as const

/** Characteristics of FILE_FS_DEVICE_INFORMATION (MS-FSCC 2.5.10). */
export const FILE_DEVICE_CHARACTERISTIC = {
  REMOVABLE_MEDIA: 0x00000001,
  READ_ONLY_DEVICE: 0x00000002,
  FLOPPY_DISKETTE: 0x00000004,
  WRITE_ONCE_MEDIA: 0x00000008,
  REMOTE_DEVICE: 0x00000010,
  DEVICE_IS_MOUNTED: 0x00000020,
  VIRTUAL_VOLUME: 0x00000040,
  SECURE_OPEN: 0x00000100,
} as const

/** Flags of FILE_FS_SECTOR_SIZE_INFORMATION (MS-FSCC 2.5.8). */
export const SSINFO_FLAG = {
  ALIGNED_DEVICE: 0x00000001,
  PARTITION_ALIGNED_ON_DEVICE: 0x00000002,
  NO_SEEK_PENALTY: 0x00000004,
  TRIM_ENABLED: 0x00000008,
} as const

/** What the file system classes say about the volume behind a share. */
export interface VolumeFacts {
  /** FILETIME (protocol/smb2/filetime.ts). */
  readonly creationTime: bigint
  readonly serialNumber: number
  readonly label: string
  readonly totalAllocationUnits: bigint
  /** Units free to the caller (FsSize AvailableAllocationUnits, FsFullSize CallerAvailableAllocationUnits). */
  readonly callerAvailableAllocationUnits: bigint
  /** Units free on the volume (FsFullSize ActualAvailableAllocationUnits). Default: callerAvailableAllocationUnits. */
  readonly actualAvailableAllocationUnits?: bigint
  readonly sectorsPerAllocationUnit: number
  readonly bytesPerSector: number
  /** Default "NTFS": clients (Windows, smbclient) decide features by this name. */
  readonly fileSystemName?: string
  /** Default DEFAULT_FILE_SYSTEM_ATTRIBUTES. */
  readonly fileSystemAttributes?: number
  /** Default 255. */
  readonly maximumComponentNameLength?: number
  /** Default FILE_DEVICE.DISK. */
  readonly deviceType?: number
  /** Default DEVICE_IS_MOUNTED, what NTFS reports for a local disk and Samba reports too. */
  readonly deviceCharacteristics?: number
  /** FileFsObjectIdInformation.ObjectId: 16 bytes (a GUID per volume). Default: zeros. */
  readonly objectId?: Uint8Array
  /** FileFsSectorSizeInformation.Flags. Default ALIGNED_DEVICE | PARTITION_ALIGNED_ON_DEVICE. */
  readonly sectorSizeFlags?: number
}

/** Case-preserving, Unicode, persistent ACLs: the NTFS basics the data path keeps, nothing it does not (no streams, EAs, sparse files). */
export const DEFAULT_FILE_SYSTEM_ATTRIBUTES = FILE_SYSTEM_ATTRIBUTE.CASE_PRESERVED_NAMES | FILE_SYSTEM_ATTRIBUTE.UNICODE_ON_DISK | FILE_SYSTEM_ATTRIBUTE.PERSISTENT_ACLS

// Structure sizes (MS-FSCC 2.5), in bytes.
/** VolumeCreationTime, VolumeSerialNumber, VolumeLabelLength, SupportsObjects, Reserved. */
export const FILE_FS_VOLUME_INFORMATION_FIXED_BYTES = 18
export const FILE_FS_SIZE_INFORMATION_BYTES = 24
export const FILE_FS_DEVICE_INFORMATION_BYTES = 8
/** FileSystemAttributes, MaximumComponentNameLength, FileSystemNameLength. */
export const FILE_FS_ATTRIBUTE_INFORMATION_FIXED_BYTES = 12
export const FILE_FS_CONTROL_INFORMATION_BYTES = 48
export const FILE_FS_FULL_SIZE_INFORMATION_BYTES = 32
export const FILE_FS_OBJECTID_INFORMATION_BYTES = 64
export const FILE_FS_SECTOR_SIZE_INFORMATION_BYTES = 28
const OBJECT_ID_BYTES = 16

/**
 * The least OutputBufferLength of each class (smbtorture's qfs_buffercheck: 1->24, 3->24, 4->8,
 * 5->16, 6->48, 7->32, 11->28). FsAttribute is 16 although MS-FSA writes
 * BlockAlign(FieldOffset(FileSystemName), 4) = 12: Windows and Samba check the C sizeof.
 */
export const QUERY_FS_INFO_MIN_BYTES: Readonly<Record<number, number>> = Object.freeze({
  [FS_INFO_CLASS.VOLUME]: 24,
  [FS_INFO_CLASS.SIZE]: FILE_FS_SIZE_INFORMATION_BYTES,
  [FS_INFO_CLASS.DEVICE]: FILE_FS_DEVICE_INFORMATION_BYTES,
  [FS_INFO_CLASS.ATTRIBUTE]: 16,
  [FS_INFO_CLASS.CONTROL]: FILE_FS_CONTROL_INFORMATION_BYTES,
  [FS_INFO_CLASS.FULL_SIZE]: FILE_FS_FULL_SIZE_INFORMATION_BYTES,
  [FS_INFO_CLASS.OBJECT_ID]: FILE_FS_OBJECTID_INFORMATION_BYTES,
  [FS_INFO_CLASS.SECTOR_SIZE]: FILE_FS_SECTOR_SIZE_INFORMATION_BYTES,
})

const UINT64_MAX = 0xffff_ffff_ffff_ffffn

/** FILE_FS_VOLUME_INFORMATION (MS-FSCC 2.5.9): 18 bytes then the label. SupportsObjects is FALSE: no object ids are kept. */
export function encodeFileFsVolumeInformation(facts: VolumeFacts): Buffer {
  const labelBytes = utf16leBytes(facts.label)
  const out = Buffer.alloc(FILE_FS_VOLUME_INFORMATION_FIXED_BYTES + labelBytes.length)
  out.writeBigUInt64LE(facts.creationTime, 0)
  out.writeUInt32LE(facts.serialNumber >>> 0, 8)
  out.writeUInt32LE(labelBytes.length, 12)
  // 16: SupportsObjects (FALSE), 17: Reserved.
  labelBytes.copy(out, FILE_FS_VOLUME_INFORMATION_FIXED_BYTES)
  return out
}

/** FILE_FS_SIZE_INFORMATION (MS-FSCC 2.5.8), 24 bytes. */
export function encodeFileFsSizeInformation(facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_SIZE_INFORMATION_BYTES)
  out.writeBigUInt64LE(facts.totalAllocationUnits, 0)
  out.writeBigUInt64LE(facts.callerAvailableAllocationUnits, 8)
  out.writeUInt32LE(facts.sectorsPerAllocationUnit >>> 0, 16)
  out.writeUInt32LE(facts.bytesPerSector >>> 0, 20)
  return out
}

/** FILE_FS_FULL_SIZE_INFORMATION (MS-FSCC 2.5.4), 32 bytes. */
export function encodeFileFsFullSizeInformation(facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_FULL_SIZE_INFORMATION_BYTES)
  out.writeBigUInt64LE(facts.totalAllocationUnits, 0)
  out.writeBigUInt64LE(facts.callerAvailableAllocationUnits, 8)
  out.writeBigUInt64LE(facts.actualAvailableAllocationUnits ?? facts.callerAvailableAllocationUnits, 16)
  out.writeUInt32LE(facts.sectorsPerAllocationUnit >>> 0, 24)
  out.writeUInt32LE(facts.bytesPerSector >>> 0, 28)
  return out
}

/** FILE_FS_DEVICE_INFORMATION (MS-FSCC 2.5.10), 8 bytes. */
export function encodeFileFsDeviceInformation(facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_DEVICE_INFORMATION_BYTES)
  out.writeUInt32LE((facts.deviceType ?? FILE_DEVICE.DISK) >>> 0, 0)
  out.writeUInt32LE((facts.deviceCharacteristics ?? FILE_DEVICE_CHARACTERISTIC.DEVICE_IS_MOUNTED) >>> 0, 4)
  return out
}

/** FILE_FS_ATTRIBUTE_INFORMATION (MS-FSCC 2.5.1): 12 bytes then the file system name ("NTFS"). */
export function encodeFileFsAttributeInformation(facts: VolumeFacts): Buffer {
  const nameBytes = utf16leBytes(facts.fileSystemName ?? 'NTFS')
  const out = Buffer.alloc(FILE_FS_ATTRIBUTE_INFORMATION_FIXED_BYTES + nameBytes.length)
  out.writeUInt32LE((facts.fileSystemAttributes ?? DEFAULT_FILE_SYSTEM_ATTRIBUTES) >>> 0, 0)
  out.writeInt32LE(facts.maximumComponentNameLength ?? 255, 4)
  out.writeUInt32LE(nameBytes.length, 8)
  nameBytes.copy(out, FILE_FS_ATTRIBUTE_INFORMATION_FIXED_BYTES)
  return out
}

/**
 * FILE_FS_CONTROL_INFORMATION (MS-FSCC 2.5.2), 48 bytes, for a volume without quotas: the
 * free-space filters 0, the default quota threshold and limit "none" (all ones), control flags 0.
 */
export function encodeFileFsControlInformation(_facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_CONTROL_INFORMATION_BYTES)
  out.writeBigUInt64LE(UINT64_MAX, 24) // DefaultQuotaThreshold
  out.writeBigUInt64LE(UINT64_MAX, 32) // DefaultQuotaLimit
  // 40: FileSystemControlFlags 0, 44: Padding.
  return out
}

/** FILE_FS_OBJECTID_INFORMATION (MS-FSCC 2.5.6), 64 bytes: the volume's ObjectId and 48 bytes of ExtendedInfo (zeros). */
export function encodeFileFsObjectIdInformation(facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_OBJECTID_INFORMATION_BYTES)
  if (facts.objectId !== undefined) {
    if (facts.objectId.byteLength !== OBJECT_ID_BYTES) throw new RangeError(`an ObjectId is ${OBJECT_ID_BYTES} bytes, not ${facts.objectId.byteLength}`)
    out.set(facts.objectId, 0)
  }
  return out
}

/**
 * FILE_FS_SECTOR_SIZE_INFORMATION (MS-FSCC 2.5.7), 28 bytes: every sector size is
 * bytesPerSector, both alignment offsets 0.
 */
export function encodeFileFsSectorSizeInformation(facts: VolumeFacts): Buffer {
  const out = Buffer.alloc(FILE_FS_SECTOR_SIZE_INFORMATION_BYTES)
  const sectorBytes = facts.bytesPerSector >>> 0
  out.writeUInt32LE(sectorBytes, 0) // LogicalBytesPerSector
  out.writeUInt32LE(sectorBytes, 4) // PhysicalBytesPerSectorForAtomicity
  out.writeUInt32LE(sectorBytes, 8) // PhysicalBytesPerSectorForPerformance
  out.writeUInt32LE(sectorBytes, 12) // FileSystemEffectivePhysicalBytesPerSectorForAtomicity
  out.writeUInt32LE((facts.sectorSizeFlags ?? SSINFO_FLAG.ALIGNED_DEVICE | SSINFO_FLAG.PARTITION_ALIGNED_ON_DEVICE) >>> 0, 16)
  // 20: ByteOffsetForSectorAlignment 0, 24: ByteOffsetForPartitionAlignment 0.
  return out
}

/**
 * The answer to QUERY_INFO SMB2_0_INFO_FILESYSTEM of infoClass. Set-only classes (label),
 * classes that are not defined and the local-only ones (driver path, volume flags) answer
 * STATUS_INVALID_INFO_CLASS, as Windows does for a remote query.
 */
export function queryFsInfo(infoClass: number, facts: VolumeFacts, outputBufferLength: number): InfoAnswer {
  switch (infoClass) {
    case FS_INFO_CLASS.VOLUME:
      return truncatableAnswer(infoClass, encodeFileFsVolumeInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.ATTRIBUTE:
      return truncatableAnswer(infoClass, encodeFileFsAttributeInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.SIZE:
      return fixedAnswer(infoClass, encodeFileFsSizeInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.FULL_SIZE:
      return fixedAnswer(infoClass, encodeFileFsFullSizeInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.DEVICE:
      return fixedAnswer(infoClass, encodeFileFsDeviceInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.CONTROL:
      return fixedAnswer(infoClass, encodeFileFsControlInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.OBJECT_ID:
      return fixedAnswer(infoClass, encodeFileFsObjectIdInformation(facts), outputBufferLength)
    case FS_INFO_CLASS.SECTOR_SIZE:
      return fixedAnswer(infoClass, encodeFileFsSectorSizeInformation(facts), outputBufferLength)
    default:
      return errorAnswer(NT_STATUS.INVALID_INFO_CLASS)
  }
}

function fixedAnswer(infoClass: number, whole: Buffer, outputBufferLength: number): InfoAnswer {
  if (outputBufferLength < QUERY_FS_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
  return { kind: 'data', status: NT_STATUS.SUCCESS, buffer: whole }
}

/**
 * FsVolume and FsAttribute end in a name: a buffer past the minimum that cuts it gets exactly
 * OutputBufferLength bytes (MS-FSA 2.1.5.13.1 and 2.1.5.13.5: BytesToCopy = RemainingLength,
 * not rounded to whole characters) and STATUS_BUFFER_OVERFLOW.
 */
function truncatableAnswer(infoClass: number, whole: Buffer, outputBufferLength: number): InfoAnswer {
  if (outputBufferLength < QUERY_FS_INFO_MIN_BYTES[infoClass]) return errorAnswer(NT_STATUS.INFO_LENGTH_MISMATCH)
  if (whole.length <= outputBufferLength) return { kind: 'data', status: NT_STATUS.SUCCESS, buffer: whole }
  return { kind: 'data', status: NT_STATUS.BUFFER_OVERFLOW, buffer: whole.subarray(0, outputBufferLength) }
}
