// QUERY_DIRECTORY entries (protocol/smb2/directory-info.ts), the search pattern matcher
// (protocol/smb2/name-pattern.ts) and 8.3 names (protocol/smb2/short-name.ts): entry layouts
// byte for byte at the MS-FSCC sizes, filling a bounded buffer, round trips through the
// client decoder, the MS-FSA 2.1.4.4 wildcard rules, and fuzzing of the decoder.
import t from 'tap'
import fc from 'fast-check'
import { DIRECTORY_ENTRY_FIXED_BYTES, decodeDirectoryEntries, encodeDirectoryEntries } from '../../protocol/smb2/directory-info.js'
import { FILE_ATTRIBUTE, FILE_INFO_CLASS, type FileFacts } from '../../protocol/smb2/file-info.js'
import { compileNamePattern, hasWildcard, matchesNamePattern } from '../../protocol/smb2/name-pattern.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { dosShortName, isLegal8dot3 } from '../../protocol/smb2/short-name.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

function utf16Hex(text: string): string {
  return Buffer.from(text, 'utf16le').toString('hex')
}

const TIMES_HEX = '0807060504030201 1817161514131211 2827262524232221 3837363534333231'
const FILE_A: FileFacts = {
  creationTime: 0x0102030405060708n,
  lastAccessTime: 0x1112131415161718n,
  lastWriteTime: 0x2122232425262728n,
  changeTime: 0x3132333435363738n,
  endOfFileBytes: 0x1234n,
  allocationBytes: 0x2000n,
  attributes: FILE_ATTRIBUTE.ARCHIVE,
  directory: false,
  indexNumber: 0x0a0b0c0d0e0f1011n,
  name: 'a.txt',
  shortName: 'A.TXT',
}
const DIR_SUB: FileFacts = { ...FILE_A, attributes: 0, directory: true, endOfFileBytes: 0n, allocationBytes: 0n, indexNumber: 7n, name: 'sub', shortName: 'SUB' }
const DIRECTORY_CLASSES = [FILE_INFO_CLASS.DIRECTORY, FILE_INFO_CLASS.FULL_DIRECTORY, FILE_INFO_CLASS.ID_FULL_DIRECTORY, FILE_INFO_CLASS.BOTH_DIRECTORY, FILE_INFO_CLASS.ID_BOTH_DIRECTORY, FILE_INFO_CLASS.NAMES]

t.test('fixed parts at the MS-FSCC sizes', async (t) => {
  t.same(DIRECTORY_ENTRY_FIXED_BYTES, { 1: 64, 2: 68, 38: 80, 3: 94, 37: 104, 12: 12 })
})

t.test('FileIdBothDirectoryInformation byte for byte (what smbclient asks)', async (t) => {
  const encoded = encodeDirectoryEntries(FILE_INFO_CLASS.ID_BOTH_DIRECTORY, [FILE_A, DIR_SUB], 65_536)
  t.equal(encoded.status, NT_STATUS.SUCCESS)
  t.equal(encoded.entryCount, 2)
  // Entry 1: 104 + 10 = 114 bytes, so entry 2 starts at 120 (0x78).
  const entry1 =
    '78000000 00000000' + // NextEntryOffset, FileIndex
    TIMES_HEX +
    '3412000000000000 0020000000000000' + // EndOfFile, AllocationSize
    '20000000 0a000000 00000000' + // FileAttributes, FileNameLength, EaSize
    `0a 00 ${utf16Hex('A.TXT')}${'00'.repeat(14)}` + // ShortNameLength, Reserved1, ShortName[24]
    '0000 1110 0f0e 0d0c 0b0a' + // Reserved2, FileId
    utf16Hex('a.txt') +
    '000000000000' // padding to 120
  const entry2 = '00000000 00000000' + TIMES_HEX + '0000000000000000 0000000000000000' + '10000000 06000000 00000000' + `06 00 ${utf16Hex('SUB')}${'00'.repeat(18)}` + '0000 0700000000000000' + utf16Hex('sub')
  t.same(encoded.buffer, hex(entry1 + entry2))
})

t.test('FileNamesInformation byte for byte', async (t) => {
  const encoded = encodeDirectoryEntries(FILE_INFO_CLASS.NAMES, [FILE_A, DIR_SUB], 65_536)
  // 12 + 10 = 22 -> the next at 24.
  t.same(encoded.buffer, hex(`18000000 00000000 0a000000 ${utf16Hex('a.txt')} 0000` + `00000000 00000000 06000000 ${utf16Hex('sub')}`))
})

t.test('the other classes put each field where MS-FSCC says', async (t) => {
  const reparse: FileFacts = { ...FILE_A, attributes: FILE_ATTRIBUTE.REPARSE_POINT, reparseTag: 0xa000000c, eaSizeBytes: 99 }
  const directory = encodeDirectoryEntries(FILE_INFO_CLASS.DIRECTORY, [FILE_A], 1000).buffer!
  t.equal(directory.length, 64 + 10)
  t.same(directory.subarray(56, 64), hex('20000000 0a000000'))
  const full = encodeDirectoryEntries(FILE_INFO_CLASS.FULL_DIRECTORY, [reparse], 1000).buffer!
  t.equal(full.readUInt32LE(64), 0xa000000c, 'EaSize carries the reparse tag of a reparse point')
  t.equal(full.subarray(68).toString('utf16le'), 'a.txt')
  const idFull = encodeDirectoryEntries(FILE_INFO_CLASS.ID_FULL_DIRECTORY, [{ ...FILE_A, eaSizeBytes: 99 }], 1000).buffer!
  t.same(idFull.subarray(64, 80), hex('63000000 00000000 1110 0f0e 0d0c 0b0a'))
  const both = encodeDirectoryEntries(FILE_INFO_CLASS.BOTH_DIRECTORY, [FILE_A], 1000).buffer!
  t.equal(both.length, 94 + 10)
  t.same(both.subarray(68, 80), hex(`0a 00 ${utf16Hex('A.TXT')}`))
  t.equal(both.subarray(94).toString('utf16le'), 'a.txt')
  const noShort = encodeDirectoryEntries(FILE_INFO_CLASS.BOTH_DIRECTORY, [{ ...FILE_A, shortName: undefined }], 1000).buffer!
  t.equal(noShort[68], 0, 'no short name: ShortNameLength 0')
})

t.test('filling a bounded buffer', async (t) => {
  const idBoth = FILE_INFO_CLASS.ID_BOTH_DIRECTORY
  for (const [max, count] of [
    [114, 1],
    [229, 1],
    [230, 2],
  ] as const) {
    const encoded = encodeDirectoryEntries(idBoth, [FILE_A, DIR_SUB], max)
    t.equal(encoded.status, NT_STATUS.SUCCESS)
    t.equal(encoded.entryCount, count, `${count} entries in ${max} bytes`)
    t.ok(encoded.buffer!.length <= max)
    t.equal(encoded.buffer!.readUInt32LE(0), count === 1 ? 0 : 120, 'the last entry has NextEntryOffset 0')
  }
  t.equal(encodeDirectoryEntries(idBoth, [FILE_A, DIR_SUB], 65_536, { singleEntry: true }).entryCount, 1, 'RETURN_SINGLE_ENTRY')
  t.same(encodeDirectoryEntries(idBoth, [FILE_A], 103), { status: NT_STATUS.INFO_LENGTH_MISMATCH, entryCount: 0 }, 'below the fixed part')
  const cut = encodeDirectoryEntries(idBoth, [FILE_A, DIR_SUB], 109)
  t.equal(cut.status, NT_STATUS.BUFFER_OVERFLOW, 'the first name cut')
  t.equal(cut.entryCount, 1)
  t.equal(cut.buffer!.length, 108, 'whole UTF-16 units of the name')
  t.equal(cut.buffer!.readUInt32LE(60), 10, 'FileNameLength stays whole')
  t.same(encodeDirectoryEntries(idBoth, [], 65_536), { status: NT_STATUS.SUCCESS, buffer: Buffer.alloc(0), entryCount: 0 })
  t.same(encodeDirectoryEntries(FILE_INFO_CLASS.BASIC, [FILE_A], 65_536), { status: NT_STATUS.INVALID_INFO_CLASS, entryCount: 0 })
})

const entryArb: fc.Arbitrary<FileFacts> = fc.record({
  creationTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  lastAccessTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  lastWriteTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  changeTime: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  endOfFileBytes: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  allocationBytes: fc.bigInt({ min: 0n, max: 0x7fffffffffffffffn }),
  attributes: fc.constantFrom(0, FILE_ATTRIBUTE.ARCHIVE, FILE_ATTRIBUTE.HIDDEN | FILE_ATTRIBUTE.READONLY),
  directory: fc.boolean(),
  indexNumber: fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  name: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  shortName: fc.option(fc.stringMatching(/^[A-Z0-9]{1,8}(\.[A-Z0-9]{1,3})?$/), { nil: undefined }),
})

t.test('round trips through the client decoder, entries 8-byte aligned', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...DIRECTORY_CLASSES), fc.array(entryArb, { maxLength: 12 }), fc.integer({ min: 120, max: 3000 }), (infoClass, entries, max) => {
      const encoded = encodeDirectoryEntries(infoClass, entries, max)
      if (encoded.status !== NT_STATUS.SUCCESS) return encoded.status === NT_STATUS.BUFFER_OVERFLOW && encoded.entryCount === 1
      if (encoded.buffer!.length > max) return false
      const decoded = decodeDirectoryEntries(infoClass, encoded.buffer!)
      if (!decoded.ok || decoded.entries.length !== encoded.entryCount) return false
      let offset = 0
      for (let index = 0; index < encoded.entryCount; index++) {
        const entry = decoded.entries[index]
        const facts = entries[index]
        if (entry.name !== facts.name || offset % 8 !== 0) return false
        if (infoClass !== FILE_INFO_CLASS.NAMES && (entry.lastWriteTime !== facts.lastWriteTime || entry.endOfFileBytes !== facts.endOfFileBytes)) return false
        if ((infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY || infoClass === FILE_INFO_CLASS.ID_FULL_DIRECTORY) && entry.fileId !== facts.indexNumber) return false
        if ((infoClass === FILE_INFO_CLASS.BOTH_DIRECTORY || infoClass === FILE_INFO_CLASS.ID_BOTH_DIRECTORY) && entry.shortName !== (facts.shortName ?? '')) return false
        offset += encoded.buffer!.readUInt32LE(offset)
      }
      // Whatever fits is used: the next entry would not have fitted.
      return encoded.entryCount === entries.length || encodeDirectoryEntries(infoClass, entries.slice(0, encoded.entryCount + 1), max).entryCount === encoded.entryCount
    }),
    { numRuns: 2_000 },
  )
  t.pass()
})

t.test('fuzz: the client decoder takes any bytes', async (t) => {
  const valid = encodeDirectoryEntries(FILE_INFO_CLASS.ID_BOTH_DIRECTORY, [FILE_A, DIR_SUB, FILE_A], 65_536).buffer!
  fc.assert(
    fc.property(fc.constantFrom(...DIRECTORY_CLASSES, 0, 99), fc.uint8Array({ maxLength: 400 }), fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), (infoClass, random, flips) => {
      const mutated = Buffer.from(valid)
      for (const [at, value] of flips) mutated[at] = value
      for (const bytes of [random, mutated]) {
        const decoded = decodeDirectoryEntries(infoClass, bytes)
        if (decoded.ok && decoded.entries.length > bytes.length / 12 + 1) return false
      }
      return true
    }),
    { numRuns: 20_000 },
  )
  t.pass()
})

t.test('search patterns: * and ?', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['*', 'anything.txt', true],
    ['*.*', 'noextension', true], // MS-FSA 2.1.4.4 part 1
    ['', 'a', true], // an empty pattern is "*" (MS-FSA 2.1.5.6)
    ['*', '', false], // an empty name matches nothing
    ['*.txt', 'file.txt', true],
    ['*.txt', 'FILE.TXT', true], // case-insensitive
    ['*.TXT', 'file.txt', true],
    ['*.txt', 'file.txt.bak', false],
    ['*.txt', 'txt', false],
    ['file.txt', 'FiLe.TxT', true],
    ['file.txt', 'file.txt2', false],
    ['?', 'a', true],
    ['?', 'ab', false],
    ['??', 'a', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*a*b*c*', 'xaybzc', true],
    ['*ab*cd', 'abxcd', true],
    ['a*b*c', 'abc', true],
    ['a*', 'a', true],
    ['*.', 'a.', true],
    ['straße', 'STRAßE', true], // ß has no single-unit upper case and is compared as it is
    ['é*', 'École', true],
  ]
  for (const [pattern, name, expected] of cases) t.equal(matchesNamePattern(pattern, name), expected, `${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}`)
  // Against a regular expression for the two plain wildcards.
  fc.assert(
    fc.property(fc.stringMatching(/^[ab.*?]{0,8}$/), fc.stringMatching(/^[abAB.]{1,8}$/), (pattern, name) => {
      if (pattern === '' || pattern === '*.*') return true
      const regex = new RegExp(`^${pattern.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'is')
      return matchesNamePattern(pattern, name) === regex.test(name)
    }),
    { numRuns: 5_000 },
  )
})

t.test('search patterns: the DOS wildcards < > "', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    // DOS_STAR: up to, not past, the last period. Win32 sends "*.txt" as "<.txt".
    ['<.txt', 'file.txt', true],
    ['<.txt', 'a.b.txt', true],
    ['<.b', 'a.b.c', false],
    ['<', 'abc', true],
    ['<', 'a.txt', false],
    ['<"*', 'abc', true], // "*.*" as older Win32 sends it
    ['<"*', 'a.b', true],
    ['<"*', '.profile', true],
    // DOS_QM: one character, or nothing before a period or the end.
    ['>', 'a', true],
    ['>', 'ab', false],
    ['>>', 'a', true],
    ['a>>>', 'a', true],
    ['a>>>', 'abcd', true],
    ['a>>>', 'abcde', false],
    ['name>.c', 'name.c', true],
    ['name>.c', 'name1.c', true],
    ['name>.c', 'name12.c', false],
    ['>>>>>>>>.>>>', 'file.txt', true], // "????????.???" as Win32 sends it
    ['>>>>>>>>.>>>', 'longfilename.txt', false],
    ['>.>', 'a.b', true],
    // DOS_DOT: a period, or nothing at the end.
    ['a"', 'a', true],
    ['a"', 'a.', true],
    ['a"', 'ab', false],
    ['a"b', 'a.b', true],
    ['a"b', 'ab', false],
    ['"', '.', true],
  ]
  for (const [pattern, name, expected] of cases) t.equal(matchesNamePattern(pattern, name), expected, `${JSON.stringify(pattern)} ~ ${JSON.stringify(name)}`)
  t.ok(hasWildcard('a<b') && hasWildcard('x"') && !hasWildcard('plain.txt'))
})

t.test('the matcher is linear in pattern x name: no backtracking blow-up', async (t) => {
  const matches = compileNamePattern(`${'*a'.repeat(2000)}b`)
  const name = 'a'.repeat(255)
  const started = process.hrtime.bigint()
  t.equal(matches(name), false)
  t.ok(process.hrtime.bigint() - started < 2_000_000_000n, 'well under 2 s')
})

t.test('8.3 short names', async (t) => {
  t.equal(dosShortName('a.txt'), 'A.TXT', 'a legal 8.3 name is its own short name, upper-cased')
  t.equal(dosShortName('README'), 'README')
  t.equal(dosShortName('testsmb2_file.dat'), 'TESTSM~1.DAT')
  t.equal(dosShortName('testsmb2_file.dat', 2), 'TESTSM~2.DAT')
  t.equal(dosShortName('long name with spaces.html'), 'LONGNA~1.HTM')
  t.equal(dosShortName('.profile'), 'PROFIL~1')
  t.equal(dosShortName('a.b.c'), 'AB~1.C')
  t.equal(dosShortName('日本語.txt'), '_~1.TXT')
  t.equal(dosShortName('x', 123_456), 'X', 'a legal name needs no index')
  t.equal(dosShortName('abcdefghi', 12_345), 'AB~12345', 'the base shrinks to keep 8 characters')
  t.equal(dosShortName('.'), undefined)
  t.equal(dosShortName('..'), undefined)
  t.notOk(isLegal8dot3('ABCDEFGHI'))
  t.notOk(isLegal8dot3('A.TEXT'))
  t.notOk(isLegal8dot3('A B'))
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 999_999 }), (name, index) => {
      const short = dosShortName(name, index)
      return short === undefined ? name === '.' || name === '..' : short.length <= 12 && short === short.toUpperCase()
    }),
  )
})
