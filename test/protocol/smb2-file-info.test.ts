// The file information classes of QUERY_INFO and SET_INFO (protocol/smb2/file-info.ts): byte
// layouts written out against the MS-FSCC structure sizes, FILETIME vectors, the short-buffer
// rules smbtorture's smb2.getinfo.qfile_buffercheck checks, round trips of the SET_INFO
// classes, and fuzzing of the decoders and of the query entry point.
import t from 'tap'
import fc from 'fast-check'
import {
  FILE_ATTRIBUTE,
  FILE_INFO_CLASS,
  QUERY_FILE_INFO_MIN_BYTES,
  decodeFileBasicInformation,
  decodeFileDispositionInformation,
  decodeFileDispositionInformationEx,
  decodeFileEndOfFileInformation,
  decodeFileModeInformation,
  decodeFileRenameInformation,
  decodeSetFileInfo,
  effectiveAttributes,
  encodeFileAllInformation,
  encodeFileAllocationInformation,
  encodeFileAttributeTagInformation,
  encodeFileBasicInformation,
  encodeFileBasicInformationChange,
  encodeFileCompressionInformation,
  encodeFileDispositionInformation,
  encodeFileDispositionInformationEx,
  encodeFileEndOfFileInformation,
  encodeFileNetworkOpenInformation,
  encodeFileRenameInformation,
  encodeFileStandardInformation,
  encodeFileStreamInformation,
  queryFileInfo,
  type FileFacts,
  type InfoAnswer,
} from '../../protocol/smb2/file-info.js'
import { FILETIME_UNIX_EPOCH, filetimeFromUnixMs, filetimeFromUnixNs, unixMsFromFiletime, unixNsFromFiletime } from '../../protocol/smb2/filetime.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { decodeUtf16leName } from '../../protocol/smb2/utf16-name.js'

/** Bytes from a hex string; spaces are only there to show the field boundaries. */
function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

function utf16Hex(text: string): string {
  return Buffer.from(text, 'utf16le').toString('hex')
}

function expectData(answer: InfoAnswer): { status: number; buffer: Buffer } {
  if (answer.kind !== 'data') throw new Error(`expected data, got ${answer.kind} 0x${answer.status.toString(16)}`)
  return answer
}

// Distinct byte patterns in every field, so a field written at the wrong offset shows.
const FILE: FileFacts = {
  creationTime: 0x0102030405060708n,
  lastAccessTime: 0x1112131415161718n,
  lastWriteTime: 0x2122232425262728n,
  changeTime: 0x3132333435363738n,
  endOfFileBytes: 0x1234n,
  allocationBytes: 0x2000n,
  attributes: FILE_ATTRIBUTE.ARCHIVE,
  directory: false,
  indexNumber: 0x0a0b0c0d0e0f1011n,
  name: '\\dir\\f.txt',
  shortName: 'F.TXT',
  grantedAccess: 0x001f01ff,
  mode: 0x2,
}
const TIMES_HEX = '0807060504030201 1817161514131211 2827262524232221 3837363534333231'

t.test('FILETIME conversions', async (t) => {
  // 1970-01-01 is 116444736000000000 ticks after 1601-01-01 (0x019DB1DED53E8000).
  t.equal(FILETIME_UNIX_EPOCH, 0x019db1ded53e8000n)
  t.equal(filetimeFromUnixMs(0), FILETIME_UNIX_EPOCH)
  // 2000-01-01T00:00:00Z = 946684800 s after the Unix epoch.
  t.equal(filetimeFromUnixMs(946_684_800_000), 125_911_584_000_000_000n)
  t.equal(filetimeFromUnixNs(946_684_800_000_000_123n), 125_911_584_000_000_001n, 'ns truncate to the 100 ns tick')
  t.equal(filetimeFromUnixMs(1.5), FILETIME_UNIX_EPOCH + 15_000n, 'fractions of a ms are kept')
  t.equal(filetimeFromUnixMs(-12_000_000_000_000_000), 0n, 'before 1601 clamps to 0')
  t.equal(unixMsFromFiletime(125_911_584_000_000_000n), 946_684_800_000)
  t.equal(unixNsFromFiletime(125_911_584_000_000_001n), 946_684_800_000_000_100n)
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 19n }), (unixNs) => {
      const filetime = filetimeFromUnixNs(unixNs)
      return unixNsFromFiletime(filetime) === unixNs - (unixNs % 100n)
    }),
  )
  t.throws(() => filetimeFromUnixMs(Number.NaN))
})

t.test('effective attributes: DIRECTORY for a directory, NORMAL only alone', async (t) => {
  t.equal(effectiveAttributes({ attributes: 0, directory: false }), FILE_ATTRIBUTE.NORMAL)
  t.equal(effectiveAttributes({ attributes: 0, directory: true }), FILE_ATTRIBUTE.DIRECTORY)
  t.equal(effectiveAttributes({ attributes: FILE_ATTRIBUTE.NORMAL | FILE_ATTRIBUTE.ARCHIVE, directory: false }), FILE_ATTRIBUTE.ARCHIVE)
  t.equal(effectiveAttributes({ attributes: FILE_ATTRIBUTE.NORMAL, directory: true }), FILE_ATTRIBUTE.DIRECTORY)
})

t.test('fixed classes byte for byte, at the MS-FSCC sizes', async (t) => {
  const basic = encodeFileBasicInformation(FILE)
  t.equal(basic.length, 40, 'FileBasicInformation is 40 bytes')
  t.same(basic, hex(`${TIMES_HEX} 20000000 00000000`))

  const standard = encodeFileStandardInformation(FILE)
  t.equal(standard.length, 24, 'FileStandardInformation is 24 bytes')
  // AllocationSize, EndOfFile, NumberOfLinks 1, DeletePending 0, Directory 0, Reserved.
  t.same(standard, hex('0020000000000000 3412000000000000 01000000 00 00 0000'))
  t.same(encodeFileStandardInformation({ ...FILE, directory: true, deletePending: true, numberOfLinks: 3 }).subarray(16), hex('03000000 01 01 0000'))

  const networkOpen = encodeFileNetworkOpenInformation(FILE)
  t.equal(networkOpen.length, 56, 'FileNetworkOpenInformation is 56 bytes')
  t.same(networkOpen, hex(`${TIMES_HEX} 0020000000000000 3412000000000000 20000000 00000000`))

  t.same(encodeFileAttributeTagInformation({ ...FILE, reparseTag: 0xa000000c }), hex('20000000 0c0000a0'), 'FileAttributeTagInformation is 8 bytes')
  t.same(encodeFileCompressionInformation(FILE), hex('3412000000000000 0000 00 00 00 000000'), 'FileCompressionInformation is 16 bytes')

  const expectFixed: Array<[number, string]> = [
    [FILE_INFO_CLASS.INTERNAL, '1110 0f0e 0d0c 0b0a'],
    [FILE_INFO_CLASS.EA, '00000000'],
    [FILE_INFO_CLASS.ACCESS, 'ff011f00'],
    [FILE_INFO_CLASS.POSITION, '0000000000000000'],
    [FILE_INFO_CLASS.MODE, '02000000'],
    [FILE_INFO_CLASS.ALIGNMENT, '00000000'],
  ]
  for (const [infoClass, expectHex] of expectFixed) {
    const answer = expectData(queryFileInfo(infoClass, FILE, 65_535))
    t.equal(answer.status, NT_STATUS.SUCCESS)
    t.same(answer.buffer, hex(expectHex), `class ${infoClass}`)
  }
})

t.test('FileAllInformation: 100 fixed bytes then the name', async (t) => {
  const all = encodeFileAllInformation(FILE)
  const nameHex = utf16Hex('\\dir\\f.txt')
  t.equal(all.length, 100 + 20)
  t.same(
    all,
    hex(
      `${TIMES_HEX} 20000000 00000000` + // Basic
        '0020000000000000 3412000000000000 01000000 00 00 0000' + // Standard
        '1110 0f0e 0d0c 0b0a' + // Internal
        '00000000' + // EA
        'ff011f00' + // Access
        '0000000000000000' + // Position
        '02000000' + // Mode
        '00000000' + // Alignment
        `14000000 ${nameHex}`, // Name: 10 UTF-16 units
    ),
  )
})

t.test('FileStreamInformation: 8-byte aligned entries with NextEntryOffset, the last unpadded', async (t) => {
  const streams = [
    { name: '::$DATA', sizeBytes: 0x1234n, allocationBytes: 0x2000n },
    { name: ':s:$DATA', sizeBytes: 1n, allocationBytes: 8n },
  ]
  const { buffer, complete } = encodeFileStreamInformation(streams)
  t.ok(complete)
  // Entry 1: 24 + 14 = 38 bytes, the next starts at 40.
  t.same(buffer, hex(`28000000 0e000000 3412000000000000 0020000000000000 ${utf16Hex('::$DATA')} 0000` + `00000000 10000000 0100000000000000 0800000000000000 ${utf16Hex(':s:$DATA')}`))
  t.equal(buffer.length, 80)
  const facts = { ...FILE, streams }
  for (let length = 0; length <= 80; length++) {
    const answer = queryFileInfo(FILE_INFO_CLASS.STREAM, facts, length)
    if (length < 32) {
      t.equal(answer.status, NT_STATUS.INFO_LENGTH_MISMATCH)
      continue
    }
    const data = expectData(answer)
    t.equal(data.status, length < 80 ? NT_STATUS.BUFFER_OVERFLOW : NT_STATUS.SUCCESS)
    t.equal(data.buffer.length, length < 38 ? 0 : length < 80 ? 38 : 80, `whole entries only at ${length}`)
    if (data.buffer.length === 38) t.equal(data.buffer.readUInt32LE(0), 0, 'a lone entry has NextEntryOffset 0')
  }
  const directory = expectData(queryFileInfo(FILE_INFO_CLASS.STREAM, { ...FILE, directory: true }, 65_535))
  t.equal(directory.status, NT_STATUS.SUCCESS)
  t.equal(directory.buffer.length, 0, 'a directory has no data stream')
  const defaultStream = expectData(queryFileInfo(FILE_INFO_CLASS.STREAM, FILE, 65_535)).buffer
  t.equal(decodeUtf16leName(defaultStream.subarray(24, 24 + defaultStream.readUInt32LE(4))), '::$DATA', 'a file has ::$DATA by default')
})

t.test('short buffers answer as smbtorture smb2.getinfo.qfile_buffercheck expects', async (t) => {
  // The table of smbtorture's qfile_buffercheck (level -> fixed size).
  const torture: Array<[number, number]> = [
    [4, 40],
    [5, 24],
    [6, 8],
    [7, 4],
    [8, 4],
    [16, 4],
    [17, 4],
    [18, 104],
    [21, 8],
    [22, 32],
    [28, 16],
    [34, 56],
    [35, 8],
  ]
  for (const [level, fixed] of torture) {
    t.equal(QUERY_FILE_INFO_MIN_BYTES[level], fixed, `minimum of level ${level}`)
    const full = expectData(queryFileInfo(level, FILE, 65_535))
    t.equal(full.status, NT_STATUS.SUCCESS)
    for (let length = 0; length <= full.buffer.length; length++) {
      const answer = queryFileInfo(level, FILE, length)
      const expected = length < fixed ? NT_STATUS.INFO_LENGTH_MISMATCH : length < full.buffer.length ? NT_STATUS.BUFFER_OVERFLOW : NT_STATUS.SUCCESS
      if (answer.status !== expected) t.fail(`level ${level} length ${length}: 0x${answer.status.toString(16)}, expected 0x${expected.toString(16)}`)
      if (answer.kind === 'data') t.ok(answer.buffer.length <= length, 'never more than OutputBufferLength')
    }
  }
})

t.test('a truncated name keeps the full FileNameLength and whole UTF-16 units', async (t) => {
  const all = encodeFileAllInformation(FILE)
  const answer = expectData(queryFileInfo(FILE_INFO_CLASS.ALL, FILE, 109))
  t.equal(answer.status, NT_STATUS.BUFFER_OVERFLOW)
  t.equal(answer.buffer.length, 108, 'an odd remainder drops the half unit')
  t.equal(answer.buffer.readUInt32LE(96), 20, 'FileNameLength is the full length')
  t.same(answer.buffer, all.subarray(0, 108))
  const name = expectData(queryFileInfo(FILE_INFO_CLASS.NAME, FILE, 9))
  t.equal(name.status, NT_STATUS.BUFFER_OVERFLOW)
  t.same(name.buffer, hex(`14000000 ${utf16Hex('\\d')}`))
  t.equal(queryFileInfo(FILE_INFO_CLASS.NAME, FILE, 7).status, NT_STATUS.INFO_LENGTH_MISMATCH)
  const alt = expectData(queryFileInfo(FILE_INFO_CLASS.ALTERNATE_NAME, FILE, 100))
  t.same(alt.buffer, hex(`0a000000 ${utf16Hex('F.TXT')}`))
  t.equal(queryFileInfo(FILE_INFO_CLASS.ALTERNATE_NAME, { ...FILE, shortName: undefined }, 100).status, NT_STATUS.OBJECT_NAME_NOT_FOUND)
})

t.test('FileNormalizedNameInformation: the path from the share root without the leading backslash, empty for the root', async (t) => {
  const named = expectData(queryFileInfo(FILE_INFO_CLASS.NORMALIZED_NAME, { ...FILE, name: '\\torture_dIr1N\\fIlE4NaMe' }, 1000))
  t.equal(named.status, NT_STATUS.SUCCESS)
  t.same(named.buffer, hex(`2e000000 ${utf16Hex('torture_dIr1N\\fIlE4NaMe')}`))
  const root = expectData(queryFileInfo(FILE_INFO_CLASS.NORMALIZED_NAME, { ...FILE, name: '\\' }, 1000))
  t.same(root.buffer, hex('00000000'), 'the root: FileNameLength 0 and no name')
  t.equal(queryFileInfo(FILE_INFO_CLASS.NORMALIZED_NAME, FILE, 7).status, NT_STATUS.INFO_LENGTH_MISMATCH, 'below the fixed part')
  const cut = expectData(queryFileInfo(FILE_INFO_CLASS.NORMALIZED_NAME, { ...FILE, name: '\\abcdef' }, 8))
  t.equal(cut.status, NT_STATUS.BUFFER_OVERFLOW, 'a name that does not fit overflows')
  t.equal(cut.buffer.readUInt32LE(0), 12, 'FileNameLength is the full length')
})

t.test('classes that are not answered', async (t) => {
  t.equal(queryFileInfo(FILE_INFO_CLASS.RENAME, FILE, 1000).status, NT_STATUS.INVALID_INFO_CLASS, 'a set-only class')
  t.equal(queryFileInfo(200, FILE, 1000).status, NT_STATUS.INVALID_INFO_CLASS, 'an unknown class')
  t.equal(queryFileInfo(FILE_INFO_CLASS.FULL_EA, FILE, 1000).status, NT_STATUS.NO_EAS_ON_FILE)
})

t.test('SET_INFO FileBasicInformation', async (t) => {
  const decoded = decodeFileBasicInformation(encodeFileBasicInformation(FILE))
  t.same(decoded, {
    ok: true,
    value: {
      creationTime: { kind: 'set', filetime: FILE.creationTime },
      lastAccessTime: { kind: 'set', filetime: FILE.lastAccessTime },
      lastWriteTime: { kind: 'set', filetime: FILE.lastWriteTime },
      changeTime: { kind: 'set', filetime: FILE.changeTime },
      attributes: FILE_ATTRIBUTE.ARCHIVE,
    },
  })
  // 0 keeps, -1 stops automatic updates, -2 resumes them, attributes 0 keeps.
  const special = hex('0000000000000000 ffffffffffffffff feffffffffffffff 0000000000000000 00000000 00000000')
  t.same(decodeFileBasicInformation(special), {
    ok: true,
    value: { creationTime: { kind: 'keep' }, lastAccessTime: { kind: 'stop-auto-update' }, lastWriteTime: { kind: 'resume-auto-update' }, changeTime: { kind: 'keep' }, attributes: null },
  })
  const belowMinusTwo = decodeFileBasicInformation(Buffer.concat([hex('fdffffffffffffff'), Buffer.alloc(32)]))
  t.match(belowMinusTwo, { ok: false, status: NT_STATUS.INVALID_PARAMETER })
  t.match(decodeFileBasicInformation(Buffer.alloc(36)), { ok: false, status: NT_STATUS.INFO_LENGTH_MISMATCH })
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant({ kind: 'keep' as const }), fc.constant({ kind: 'stop-auto-update' as const }), fc.constant({ kind: 'resume-auto-update' as const }), fc.bigInt({ min: 1n, max: 0x7fffffffffffffffn }).map((filetime) => ({ kind: 'set' as const, filetime }))), { minLength: 4, maxLength: 4 }),
      fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: null }),
      (times, attributes) => {
        const change = { creationTime: times[0], lastAccessTime: times[1], lastWriteTime: times[2], changeTime: times[3], attributes }
        const round = decodeFileBasicInformation(encodeFileBasicInformationChange(change))
        return round.ok && JSON.stringify(round.value, bigintJson) === JSON.stringify(change, bigintJson)
      },
    ),
  )
})

t.test('SET_INFO sizes, disposition and mode', async (t) => {
  t.same(encodeFileEndOfFileInformation(0x123456789n), hex('8967452301000000'))
  t.same(decodeFileEndOfFileInformation(hex('8967452301000000')), { ok: true, value: 0x123456789n })
  t.match(decodeFileEndOfFileInformation(hex('ffffffffffffffff')), { ok: false, status: NT_STATUS.INVALID_PARAMETER })
  t.match(decodeFileEndOfFileInformation(hex('00000000000000')), { ok: false, status: NT_STATUS.INFO_LENGTH_MISMATCH })
  t.same(decodeSetFileInfo(FILE_INFO_CLASS.ALLOCATION, encodeFileAllocationInformation(4096n)), { ok: true, value: { infoClass: FILE_INFO_CLASS.ALLOCATION, allocationBytes: 4096n } })
  t.same(decodeSetFileInfo(FILE_INFO_CLASS.POSITION, hex('0002000000000000')), { ok: true, value: { infoClass: FILE_INFO_CLASS.POSITION, currentByteOffset: 512n } })

  t.same(encodeFileDispositionInformation(true), hex('01'))
  t.same(decodeFileDispositionInformation(hex('01')), { ok: true, value: true })
  t.same(decodeFileDispositionInformation(hex('ff')), { ok: true, value: true }, 'any non-zero byte is TRUE')
  t.same(decodeFileDispositionInformation(hex('00')), { ok: true, value: false })
  t.match(decodeFileDispositionInformation(Buffer.alloc(0)), { ok: false, status: NT_STATUS.INFO_LENGTH_MISMATCH })
  t.same(decodeFileDispositionInformationEx(encodeFileDispositionInformationEx(0x13)), {
    ok: true,
    value: { flags: 0x13, deletePending: true, posixSemantics: true, onClose: false, ignoreReadOnlyAttribute: true },
  })

  t.same(decodeFileModeInformation(hex('06000000')), { ok: true, value: 6 })
  t.match(decodeFileModeInformation(hex('08000000')), { ok: false, status: NT_STATUS.INVALID_PARAMETER }, 'NO_INTERMEDIATE_BUFFERING cannot be set')
  t.match(decodeFileModeInformation(hex('20000000')), { ok: false, status: NT_STATUS.INVALID_PARAMETER }, 'SYNCHRONOUS_IO does not match an SMB2 open')
})

t.test('SET_INFO FileRenameInformation (SMB2 form)', async (t) => {
  // ReplaceIfExists 1, Reserved 7, RootDirectory 0, FileNameLength 14, "new.txt".
  const wire = hex(`01 00000000000000 0000000000000000 0e000000 ${utf16Hex('new.txt')}`)
  t.same(encodeFileRenameInformation({ replaceIfExists: true, rootDirectory: 0n, fileName: 'new.txt' }), wire)
  t.same(decodeFileRenameInformation(wire), { ok: true, value: { replaceIfExists: true, rootDirectory: 0n, fileName: 'new.txt' } })
  t.same(decodeSetFileInfo(FILE_INFO_CLASS.RENAME, Buffer.concat([wire, hex('0000')])), { ok: true, value: { infoClass: FILE_INFO_CLASS.RENAME, rename: { replaceIfExists: true, rootDirectory: 0n, fileName: 'new.txt' } } }, 'trailing padding is ignored')
  const withLength = (length: number, nameBytes: Buffer) => Buffer.concat([hex('00 00000000000000 0000000000000000'), hex(length.toString(16).padStart(2, '0') + '000000'), nameBytes])
  t.match(decodeFileRenameInformation(withLength(0, Buffer.alloc(4))), { ok: false, status: NT_STATUS.INVALID_PARAMETER }, 'empty name')
  t.match(decodeFileRenameInformation(withLength(3, Buffer.alloc(4))), { ok: false, status: NT_STATUS.INVALID_PARAMETER }, 'odd length')
  t.match(decodeFileRenameInformation(withLength(6, Buffer.alloc(4))), { ok: false, status: NT_STATUS.INVALID_PARAMETER }, 'past the buffer')
  t.match(decodeFileRenameInformation(withLength(2, hex('00d8'))), { ok: false, status: NT_STATUS.OBJECT_NAME_INVALID }, 'an unpaired surrogate')
  t.match(decodeFileRenameInformation(hex('01 00000000000000 0000000000000000 0e00')), { ok: false, status: NT_STATUS.INFO_LENGTH_MISMATCH })
  fc.assert(
    fc.property(fc.boolean(), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }), fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), (replaceIfExists, rootDirectory, fileName) => {
      const round = decodeFileRenameInformation(encodeFileRenameInformation({ replaceIfExists, rootDirectory, fileName }))
      return round.ok && round.value.replaceIfExists === replaceIfExists && round.value.rootDirectory === rootDirectory && round.value.fileName === fileName
    }),
  )
})

t.test('SET_INFO classes that are not decoded', async (t) => {
  t.match(decodeSetFileInfo(FILE_INFO_CLASS.STANDARD, Buffer.alloc(24)), { ok: false, status: NT_STATUS.INVALID_INFO_CLASS })
  t.match(decodeSetFileInfo(FILE_INFO_CLASS.LINK, Buffer.alloc(24)), { ok: false, status: NT_STATUS.NOT_SUPPORTED })
})

const SET_STATUSES = new Set<number>([NT_STATUS.INFO_LENGTH_MISMATCH, NT_STATUS.INVALID_PARAMETER, NT_STATUS.OBJECT_NAME_INVALID, NT_STATUS.INVALID_INFO_CLASS, NT_STATUS.NOT_SUPPORTED])

t.test('fuzz: the SET_INFO decoders take any bytes', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 80 }), fc.uint8Array({ maxLength: 120 }), (infoClass, bytes) => {
      const decoded = decodeSetFileInfo(infoClass, bytes)
      return decoded.ok ? decoded.value.infoClass === infoClass : SET_STATUSES.has(decoded.status) && decoded.reason.length > 0
    }),
    { numRuns: 20_000 },
  )
  t.pass('no input made a decoder throw')
})

t.test('fuzz: queryFileInfo answers within OutputBufferLength for any class and facts', async (t) => {
  const facts = fc.record({
    creationTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    lastAccessTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    lastWriteTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    changeTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    endOfFileBytes: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    allocationBytes: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
    attributes: fc.integer({ min: 0, max: 0xffffffff }),
    directory: fc.boolean(),
    indexNumber: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    name: fc.string({ maxLength: 60 }),
    shortName: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
  })
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 70 }), facts, fc.integer({ min: 0, max: 400 }), (infoClass, fileFacts, length) => {
      const answer = queryFileInfo(infoClass, fileFacts, length)
      if (answer.kind !== 'data') return answer.status !== NT_STATUS.SUCCESS
      return answer.buffer.length <= length && (answer.status === NT_STATUS.SUCCESS || answer.status === NT_STATUS.BUFFER_OVERFLOW)
    }),
    { numRuns: 5_000 },
  )
  t.pass()
})

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value
}
