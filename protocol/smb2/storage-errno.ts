// The NTSTATUS a client gets when the storage under a share fails, from the POSIX errno name
// the file system gave (Node's err.code). Windows answers STATUS_DISK_FULL when a volume has no
// room and STATUS_MEDIA_WRITE_PROTECTED when it is write-protected; smbd maps the same errnos
// the same way (source3/lib/errmap_unix.c: ENOSPC, EDQUOT and EFBIG to NT_STATUS_DISK_FULL,
// "Windows apps need this, not NT_STATUS_QUOTA_EXCEEDED"; EROFS to
// NT_STATUS_MEDIA_WRITE_PROTECTED; EIO to NT_STATUS_IO_DEVICE_ERROR). Only these storage
// faults are mapped here: other errnos are the caller's business (a missing file is part of a
// command's own logic, not a fault of the volume).
import { NT_STATUS } from './ntstatus.js'

const STORAGE_FAULT_STATUS: Readonly<Record<string, number>> = {
  ENOSPC: NT_STATUS.DISK_FULL,
  EDQUOT: NT_STATUS.DISK_FULL,
  EFBIG: NT_STATUS.DISK_FULL,
  EROFS: NT_STATUS.MEDIA_WRITE_PROTECTED,
  EIO: NT_STATUS.IO_DEVICE_ERROR,
}

/** The NTSTATUS of a storage fault's errno name ('ENOSPC'), or null when it is not one. */
export function storageFaultStatus(errnoCode: unknown): number | null {
  if (typeof errnoCode !== 'string' || !Object.hasOwn(STORAGE_FAULT_STATUS, errnoCode)) return null
  return STORAGE_FAULT_STATUS[errnoCode]
}

/** The NTSTATUS of an error thrown by a file system call, or null when it is no storage fault. */
export function storageFaultStatusOf(err: unknown): number | null {
  return typeof err === 'object' && err !== null ? storageFaultStatus((err as { code?: unknown }).code) : null
}
