// The access QUERY_INFO needs per class (MS-SMB2 3.3.5.20.1, 3.3.5.20.3), as smbtorture's
// smb2.getinfo.getinfo_access checks it: the "unrestricted" classes with SYNCHRONIZE alone, the
// others with FILE_READ_ATTRIBUTES, FILE_READ_EA or READ_CONTROL and not without.
import t from 'tap'
import { FILE_INFO_CLASS, INFO_TYPE } from '../../protocol/smb2/file-info.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { QUERY_ACCESS, queryInfoAccessRefusal, specificFileAccess } from '../../protocol/smb2/query-info-access.js'

const SYNCHRONIZE = QUERY_ACCESS.SYNCHRONIZE
const READ_ATTRIBUTES = QUERY_ACCESS.READ_ATTRIBUTES
const READ_EA = QUERY_ACCESS.READ_EA
const READ_CONTROL = QUERY_ACCESS.READ_CONTROL

t.test('classes any open may read', async (t) => {
  for (const c of [
    FILE_INFO_CLASS.STANDARD,
    FILE_INFO_CLASS.INTERNAL,
    FILE_INFO_CLASS.EA,
    FILE_INFO_CLASS.ACCESS,
    FILE_INFO_CLASS.POSITION,
    FILE_INFO_CLASS.MODE,
    FILE_INFO_CLASS.ALIGNMENT,
    FILE_INFO_CLASS.ALTERNATE_NAME,
    FILE_INFO_CLASS.STREAM,
    FILE_INFO_CLASS.COMPRESSION,
    FILE_INFO_CLASS.NORMALIZED_NAME,
  ]) {
    t.equal(queryInfoAccessRefusal(INFO_TYPE.FILE, c, 0, SYNCHRONIZE), null, `class ${c} with SYNCHRONIZE alone`)
  }
})

t.test('classes that need FILE_READ_ATTRIBUTES, FILE_READ_EA or READ_CONTROL', async (t) => {
  for (const c of [FILE_INFO_CLASS.BASIC, FILE_INFO_CLASS.ALL, FILE_INFO_CLASS.NETWORK_OPEN, FILE_INFO_CLASS.ATTRIBUTE_TAG]) {
    t.equal(queryInfoAccessRefusal(INFO_TYPE.FILE, c, 0, SYNCHRONIZE), NT_STATUS.ACCESS_DENIED, `class ${c} without READ_ATTRIBUTES`)
    t.equal(queryInfoAccessRefusal(INFO_TYPE.FILE, c, 0, READ_ATTRIBUTES), null, `class ${c} with READ_ATTRIBUTES`)
  }
  t.equal(queryInfoAccessRefusal(INFO_TYPE.FILE, FILE_INFO_CLASS.FULL_EA, 0, READ_ATTRIBUTES), NT_STATUS.ACCESS_DENIED, 'FileFullEa: READ_ATTRIBUTES is the wrong right')
  t.equal(queryInfoAccessRefusal(INFO_TYPE.FILE, FILE_INFO_CLASS.FULL_EA, 0, READ_EA), null, 'FileFullEa with READ_EA')
  t.equal(queryInfoAccessRefusal(INFO_TYPE.SECURITY, 0, 0x7, READ_ATTRIBUTES), NT_STATUS.ACCESS_DENIED, 'owner, group, DACL without READ_CONTROL')
  t.equal(queryInfoAccessRefusal(INFO_TYPE.SECURITY, 0, 0x7, READ_CONTROL), null, 'owner, group, DACL with READ_CONTROL')
  t.equal(queryInfoAccessRefusal(INFO_TYPE.SECURITY, 0, 0x8, READ_CONTROL), NT_STATUS.ACCESS_DENIED, 'the SACL needs ACCESS_SYSTEM_SECURITY')
  t.equal(queryInfoAccessRefusal(INFO_TYPE.SECURITY, 0, 0x8, QUERY_ACCESS.ACCESS_SYSTEM_SECURITY), null)
  t.equal(queryInfoAccessRefusal(INFO_TYPE.FILESYSTEM, 1, 0, 0), null, 'file-system classes are not checked here')
})

t.test('generic rights map to the file rights they stand for', async (t) => {
  t.equal(specificFileAccess(SYNCHRONIZE), SYNCHRONIZE, 'a specific right stays as it is')
  t.equal(specificFileAccess(QUERY_ACCESS.GENERIC_READ), 0x00120089, 'GENERIC_READ: FILE_GENERIC_READ')
  t.equal(specificFileAccess(QUERY_ACCESS.GENERIC_EXECUTE), 0x001200a0, 'GENERIC_EXECUTE: FILE_GENERIC_EXECUTE')
  t.equal(specificFileAccess(QUERY_ACCESS.GENERIC_WRITE), 0x00120116, 'GENERIC_WRITE: FILE_GENERIC_WRITE')
  t.equal(specificFileAccess(QUERY_ACCESS.MAXIMUM_ALLOWED), 0x001f01ff, 'MAXIMUM_ALLOWED: FILE_ALL_ACCESS')
  t.equal(specificFileAccess(QUERY_ACCESS.GENERIC_ALL), 0x001f01ff, 'GENERIC_ALL: FILE_ALL_ACCESS')
  t.equal(specificFileAccess(QUERY_ACCESS.ACCESS_SYSTEM_SECURITY) & QUERY_ACCESS.ACCESS_SYSTEM_SECURITY, QUERY_ACCESS.ACCESS_SYSTEM_SECURITY, 'ACCESS_SYSTEM_SECURITY asked for by name')
  t.equal(specificFileAccess(QUERY_ACCESS.MAXIMUM_ALLOWED) & QUERY_ACCESS.ACCESS_SYSTEM_SECURITY, 0, 'not by MAXIMUM_ALLOWED')
})
