// The access an open needs for QUERY_INFO (MS-SMB2 3.3.5.20.1 for the file classes, 3.3.5.20.3
// for security descriptors), and the rights a CREATE's DesiredAccess stands for once its
// generic rights are mapped (MS-DTYP 2.4.3 with the file-object mapping of MS-SMB2 2.2.13.1.1).
// Every file class not named here is readable by any open, even one of SYNCHRONIZE alone
// (smbtorture's smb2.getinfo.getinfo_access checks both sides on Windows' behaviour).
import { ACCESS } from './constants.js'
import { FILE_INFO_CLASS, INFO_TYPE } from './file-info.js'
import { NT_STATUS } from './ntstatus.js'
import { SECURITY_INFORMATION } from './security-info.js'

/** The file access rights QUERY_INFO looks at (MS-SMB2 2.2.13.1.1): the CREATE access mask's. */
export const QUERY_ACCESS = ACCESS

/** FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE and FILE_ALL_ACCESS (MS-SMB2 2.2.13.1.1). */
const FILE_GENERIC_READ = 0x00120089
const FILE_GENERIC_WRITE = 0x00120116
const FILE_GENERIC_EXECUTE = 0x001200a0
const FILE_ALL_ACCESS = 0x001f01ff

/**
 * The specific rights of a DesiredAccess: GENERIC_* mapped to FILE_GENERIC_*, and
 * MAXIMUM_ALLOWED to FILE_ALL_ACCESS (the node grants every right on its shares).
 * ACCESS_SYSTEM_SECURITY stays only when asked for by name.
 */
export function specificFileAccess(desiredAccess: number): number {
  let a = desiredAccess & 0x01ffffff & ~QUERY_ACCESS.MAXIMUM_ALLOWED
  if (desiredAccess & QUERY_ACCESS.GENERIC_READ) a |= FILE_GENERIC_READ
  if (desiredAccess & QUERY_ACCESS.GENERIC_WRITE) a |= FILE_GENERIC_WRITE
  if (desiredAccess & QUERY_ACCESS.GENERIC_EXECUTE) a |= FILE_GENERIC_EXECUTE
  if (desiredAccess & (QUERY_ACCESS.GENERIC_ALL | QUERY_ACCESS.MAXIMUM_ALLOWED)) a |= FILE_ALL_ACCESS
  return a >>> 0
}

/**
 * STATUS_ACCESS_DENIED when an open granted grantedAccess (already specific) may not read
 * what a QUERY_INFO asks for, else null:
 * - FileBasic, FileAll, FileNetworkOpen, FileAttributeTag and the pipe classes need FILE_READ_ATTRIBUTES;
 *   FileFullEa needs FILE_READ_EA (MS-SMB2 3.3.5.20.1);
 * - a security descriptor needs READ_CONTROL for its owner, group or DACL and
 *   ACCESS_SYSTEM_SECURITY for its SACL (MS-SMB2 3.3.5.20.3).
 */
export function queryInfoAccessRefusal(infoType: number, infoClass: number, additionalInformation: number, grantedAccess: number): number | null {
  const has = (right: number) => (grantedAccess & right) !== 0
  if (infoType === INFO_TYPE.FILE) {
    switch (infoClass) {
      case FILE_INFO_CLASS.BASIC:
      case FILE_INFO_CLASS.ALL:
      case FILE_INFO_CLASS.NETWORK_OPEN:
      case FILE_INFO_CLASS.ATTRIBUTE_TAG:
      case FILE_INFO_CLASS.PIPE:
      case FILE_INFO_CLASS.PIPE_LOCAL:
      case FILE_INFO_CLASS.PIPE_REMOTE:
        return has(QUERY_ACCESS.READ_ATTRIBUTES) ? null : NT_STATUS.ACCESS_DENIED
      case FILE_INFO_CLASS.FULL_EA:
        return has(QUERY_ACCESS.READ_EA) ? null : NT_STATUS.ACCESS_DENIED
      default:
        return null
    }
  }
  if (infoType === INFO_TYPE.SECURITY) {
    const wantsSacl = (additionalInformation & SECURITY_INFORMATION.SACL) !== 0
    const wantsControlled = (additionalInformation & (SECURITY_INFORMATION.OWNER | SECURITY_INFORMATION.GROUP | SECURITY_INFORMATION.DACL)) !== 0
    if (wantsSacl && !has(QUERY_ACCESS.ACCESS_SYSTEM_SECURITY)) return NT_STATUS.ACCESS_DENIED
    if (wantsControlled && !has(QUERY_ACCESS.READ_CONTROL)) return NT_STATUS.ACCESS_DENIED
  }
  return null
}
