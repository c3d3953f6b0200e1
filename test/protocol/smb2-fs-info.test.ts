// The file system information classes of QUERY_INFO (protocol/smb2/fs-info.ts): byte layouts
// against the MS-FSCC 2.5 structures, smbtorture's qfs_buffercheck and qfs1_buffer24 rules,
// and a fuzz of the query entry point.
import t from 'tap'
import fc from 'fast-check'
import {
  DEFAULT_FILE_SYSTEM_ATTRIBUTES,
  FILE_SYSTEM_ATTRIBUTE,
  FS_INFO_CLASS,
  QUERY_FS_INFO_MIN_BYTES,
  encodeFileFsAttributeInformation,
  encodeFileFsControlInformation,
  encodeFileFsDeviceInformation,
  encodeFileFsFullSizeInformation,
  encodeFileFsObjectIdInformation,
  encodeFileFsSectorSizeInformation,
  encodeFileFsSizeInformation,
  encodeFileFsVolumeInformation,
  queryFsInfo,
  type VolumeFacts,
} from '../../protocol/smb2/fs-info.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

const VOLUME: VolumeFacts = {
  creationTime: 0x01d9000000000001n,
  serialNumber: 0xcafe1234,
  label: 'csv1',
  totalAllocationUnits: 0x100000n,
  callerAvailableAllocationUnits: 0x80000n,
  actualAvailableAllocationUnits: 0x90000n,
  sectorsPerAllocationUnit: 8,
  bytesPerSector: 512,
  objectId: hex('00112233445566778899aabbccddeeff'),
}

t.test('layouts at the MS-FSCC sizes', async (t) => {
  const label = Buffer.from('csv1', 'utf16le').toString('hex')
  // VolumeCreationTime, VolumeSerialNumber, VolumeLabelLength 8, SupportsObjects 0, Reserved, label.
  t.same(encodeFileFsVolumeInformation(VOLUME), hex(`010000000000d901 3412feca 08000000 00 00 ${label}`))
  t.same(encodeFileFsSizeInformation(VOLUME), hex('0000100000000000 0000080000000000 08000000 00020000'))
  t.equal(encodeFileFsSizeInformation(VOLUME).length, 24)
  t.same(encodeFileFsFullSizeInformation(VOLUME), hex('0000100000000000 0000080000000000 0000090000000000 08000000 00020000'))
  t.equal(encodeFileFsFullSizeInformation(VOLUME).length, 32)
  t.equal(encodeFileFsFullSizeInformation({ ...VOLUME, actualAvailableAllocationUnits: undefined }).readBigUInt64LE(16), 0x80000n, 'actual defaults to caller-available')
  // FILE_DEVICE_DISK, FILE_DEVICE_IS_MOUNTED.
  t.same(encodeFileFsDeviceInformation(VOLUME), hex('07000000 20000000'))
  // Case-preserved, Unicode, persistent ACLs; 255; "NTFS".
  t.equal(DEFAULT_FILE_SYSTEM_ATTRIBUTES, FILE_SYSTEM_ATTRIBUTE.CASE_PRESERVED_NAMES | FILE_SYSTEM_ATTRIBUTE.UNICODE_ON_DISK | FILE_SYSTEM_ATTRIBUTE.PERSISTENT_ACLS)
  t.same(encodeFileFsAttributeInformation(VOLUME), hex(`0e000000 ff000000 08000000 ${Buffer.from('NTFS', 'utf16le').toString('hex')}`))
  const control = encodeFileFsControlInformation(VOLUME)
  t.equal(control.length, 48)
  t.same(control, hex(`${'00'.repeat(24)} ffffffffffffffff ffffffffffffffff 00000000 00000000`))
  const objectId = encodeFileFsObjectIdInformation(VOLUME)
  t.equal(objectId.length, 64)
  t.same(objectId, Buffer.concat([hex('00112233445566778899aabbccddeeff'), Buffer.alloc(48)]))
  t.throws(() => encodeFileFsObjectIdInformation({ ...VOLUME, objectId: Buffer.alloc(15) }))
  t.same(encodeFileFsSectorSizeInformation(VOLUME), hex('00020000 00020000 00020000 00020000 03000000 00000000 00000000'))
})

t.test('short buffers answer as smbtorture smb2.getinfo.qfs_buffercheck expects', async (t) => {
  const torture: Array<[number, number]> = [
    [1, 24],
    [3, 24],
    [4, 8],
    [5, 16],
    [6, 48],
    [7, 32],
    [11, 28],
  ]
  for (const [level, fixed] of torture) {
    t.equal(QUERY_FS_INFO_MIN_BYTES[level], fixed, `minimum of level ${level}`)
    const full = queryFsInfo(level, VOLUME, 65_535)
    if (full.kind !== 'data') throw new Error(`level ${level} answered 0x${full.status.toString(16)}`)
    t.equal(full.status, NT_STATUS.SUCCESS)
    for (let length = 0; length <= full.buffer.length; length++) {
      const answer = queryFsInfo(level, VOLUME, length)
      const expected = length < fixed ? NT_STATUS.INFO_LENGTH_MISMATCH : length < full.buffer.length ? NT_STATUS.BUFFER_OVERFLOW : NT_STATUS.SUCCESS
      if (answer.status !== expected) t.fail(`level ${level} length ${length}: 0x${answer.status.toString(16)}, expected 0x${expected.toString(16)}`)
      if (answer.kind === 'data' && answer.status === NT_STATUS.BUFFER_OVERFLOW) t.equal(answer.buffer.length, length, 'a cut name fills the buffer exactly')
    }
  }
})

t.test('FsVolume with a 24-byte buffer returns exactly 24 bytes (smbtorture qfs1_buffer24)', async (t) => {
  const answer = queryFsInfo(FS_INFO_CLASS.VOLUME, { ...VOLUME, label: 'a-longer-label' }, 24)
  t.equal(answer.status, NT_STATUS.BUFFER_OVERFLOW)
  t.equal(answer.kind === 'data' ? answer.buffer.length : -1, 24)
  t.equal(answer.kind === 'data' ? answer.buffer.readUInt32LE(12) : -1, 28, 'VolumeLabelLength keeps the full length')
  const empty = queryFsInfo(FS_INFO_CLASS.VOLUME, { ...VOLUME, label: '' }, 24)
  t.same(empty.kind === 'data' ? empty.buffer.length : -1, 18, 'no label: the 18 fixed bytes')
})

t.test('classes that are not answered', async (t) => {
  t.equal(queryFsInfo(FS_INFO_CLASS.LABEL, VOLUME, 1000).status, NT_STATUS.INVALID_INFO_CLASS)
  t.equal(queryFsInfo(FS_INFO_CLASS.DRIVER_PATH, VOLUME, 1000).status, NT_STATUS.INVALID_INFO_CLASS)
  t.equal(queryFsInfo(0, VOLUME, 1000).status, NT_STATUS.INVALID_INFO_CLASS)
})

t.test('fuzz: queryFsInfo answers within OutputBufferLength', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 20 }), fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 200 }), (infoClass, label, length) => {
      const answer = queryFsInfo(infoClass, { ...VOLUME, label }, length)
      return answer.kind !== 'data' || answer.buffer.length <= length
    }),
    { numRuns: 5_000 },
  )
  t.pass()
})
