// Security descriptors of QUERY_INFO/SET_INFO SMB2_0_INFO_SECURITY (protocol/smb2/security-info.ts):
// SID and descriptor bytes written out from MS-DTYP, AdditionalInformation selecting the parts,
// STATUS_BUFFER_TOO_SMALL as smbtorture's qsec_buffercheck expects, round trips and a fuzz of
// the decoder.
import t from 'tap'
import fc from 'fast-check'
import {
  ACE_FLAG,
  ACE_TYPE,
  FILE_ALL_ACCESS,
  SECURITY_INFORMATION,
  SE_CONTROL,
  bufferTooSmallErrorData,
  decodeSecurityDescriptor,
  encodeAce,
  encodeAcl,
  encodeSecurityDescriptor,
  fileSecurityDescriptor,
  querySecurityInfo,
  readSid,
  sidFromString,
} from '../../protocol/smb2/security-info.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex')
}

const EVERYONE_HEX = '01 01 000000000001 00000000'
const ADMINISTRATORS_HEX = '01 02 000000000005 20000000 20020000'
const SYSTEM_HEX = '01 01 000000000005 12000000'
const ALL_PARTS = SECURITY_INFORMATION.OWNER | SECURITY_INFORMATION.GROUP | SECURITY_INFORMATION.DACL

t.test('SIDs (MS-DTYP 2.4.2)', async (t) => {
  t.same(sidFromString('S-1-1-0'), hex(EVERYONE_HEX))
  t.same(sidFromString('S-1-5-32-544'), hex(ADMINISTRATORS_HEX))
  t.same(sidFromString('S-1-5-18'), hex(SYSTEM_HEX))
  t.same(readSid(hex(ADMINISTRATORS_HEX), 0), { sid: 'S-1-5-32-544', lengthBytes: 16 })
  t.same(readSid(sidFromString('S-1-0x123456789ABC-7'), 0), { sid: 'S-1-0x123456789ABC-7', lengthBytes: 12 }, 'an authority of 2^32 and above prints in hex')
  t.equal(readSid(hex('01 02 000000000005 20000000'), 0), null, 'sub-authorities past the end')
  t.equal(readSid(hex('02 00 000000000005'), 0), null, 'revision 2')
  t.throws(() => sidFromString('S-1-5-x'))
  t.throws(() => sidFromString(`S-1-5${'-1'.repeat(16)}`), 'more than 15 sub-authorities')
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }), (authority, subAuthorities) => {
      const text = ['S-1', String(authority), ...subAuthorities.map(String)].join('-')
      return readSid(sidFromString(text), 0)?.sid === text
    }),
  )
})

t.test('the descriptor every file answers, byte for byte', async (t) => {
  // Header: revision 1, Sbz1, Control SELF_RELATIVE|DACL_PRESENT, owner at 48, group at 64, no SACL, DACL at 20.
  // DACL: revision 2, size 28, one ACE: ACCESS_ALLOWED, no flags, size 20, FILE_ALL_ACCESS, Everyone.
  const expected = hex(`01 00 0480 30000000 40000000 00000000 14000000` + `02 00 1c00 0100 0000` + `00 00 1400 ff011f00 ${EVERYONE_HEX}` + ADMINISTRATORS_HEX + SYSTEM_HEX)
  t.same(fileSecurityDescriptor({ directory: false }, ALL_PARTS), expected)
  t.equal(expected.length, 76)
  const directory = fileSecurityDescriptor({ directory: true }, ALL_PARTS)
  t.equal(directory[20 + 8 + 1], ACE_FLAG.OBJECT_INHERIT | ACE_FLAG.CONTAINER_INHERIT, 'a directory passes the ACE on to its children')
  t.same(fileSecurityDescriptor({ directory: false }, 0), hex('01 00 0080 00000000 00000000 00000000 00000000'), 'nothing asked: the bare header')
  t.same(fileSecurityDescriptor({ directory: false, ownerSid: 'S-1-5-21-1-2-3-500' }, SECURITY_INFORMATION.OWNER), Buffer.concat([hex('01 00 0080 14000000 00000000 00000000 00000000'), sidFromString('S-1-5-21-1-2-3-500')]))
  t.same(fileSecurityDescriptor({ directory: false }, SECURITY_INFORMATION.SACL).readUInt16LE(2), SE_CONTROL.SELF_RELATIVE, 'a SACL asked for is answered absent')
})

t.test('a buffer smaller than the descriptor: STATUS_BUFFER_TOO_SMALL with the size (smbtorture qsec_buffercheck)', async (t) => {
  for (const length of [0, 1]) {
    t.same(querySecurityInfo({ directory: true }, 0, length), { kind: 'too-small', status: NT_STATUS.BUFFER_TOO_SMALL, requiredBytes: 20 })
  }
  t.same(querySecurityInfo({ directory: false }, ALL_PARTS, 75), { kind: 'too-small', status: NT_STATUS.BUFFER_TOO_SMALL, requiredBytes: 76 })
  const answer = querySecurityInfo({ directory: false }, ALL_PARTS, 76)
  t.equal(answer.status, NT_STATUS.SUCCESS)
  t.same(bufferTooSmallErrorData(76), hex('4c000000'))
})

t.test('decode what SET_INFO sends', async (t) => {
  const decoded = decodeSecurityDescriptor(fileSecurityDescriptor({ directory: true }, ALL_PARTS))
  t.ok(decoded.ok)
  if (!decoded.ok) return
  t.equal(decoded.value.owner, 'S-1-5-32-544')
  t.equal(decoded.value.group, 'S-1-5-18')
  t.equal(decoded.value.sacl, null)
  t.match(decoded.value.dacl, [{ type: ACE_TYPE.ACCESS_ALLOWED, flags: 3, mask: FILE_ALL_ACCESS, sid: 'S-1-1-0' }])
  // Two ACEs, one of a type without a SID body (kept raw), and a SACL.
  const oddAce = hex('07 00 0800 11223344')
  const sd = encodeSecurityDescriptor({
    owner: null,
    group: 'S-1-5-32-545',
    dacl: encodeAcl([encodeAce(ACE_TYPE.ACCESS_DENIED, 0, 0x10000, 'S-1-5-7'), oddAce]),
    sacl: encodeAcl([encodeAce(ACE_TYPE.SYSTEM_AUDIT, ACE_FLAG.FAILED_ACCESS, 0x1, 'S-1-1-0')]),
  })
  const round = decodeSecurityDescriptor(sd)
  t.match(round, { ok: true, value: { owner: null, group: 'S-1-5-32-545', dacl: [{ type: ACE_TYPE.ACCESS_DENIED, mask: 0x10000, sid: 'S-1-5-7' }, { type: 7, raw: oddAce }], sacl: [{ type: ACE_TYPE.SYSTEM_AUDIT, sid: 'S-1-1-0' }] } })

  const refusals: Array<[string, Buffer]> = [
    ['too short', hex('01 00 0480')],
    ['revision 2', hex('02 00 0480 00000000 00000000 00000000 00000000')],
    ['absolute form', hex('01 00 0400 00000000 00000000 00000000 00000000')],
    ['owner past the end', hex('01 00 0080 40000000 00000000 00000000 00000000')],
    ['DACL past the end', hex('01 00 0480 00000000 00000000 00000000 14000000')],
    ['AclSize past the end', hex('01 00 0480 00000000 00000000 00000000 14000000 02 00 ff00 0000 0000')],
    ['ACE count past the size', hex('01 00 0480 00000000 00000000 00000000 14000000 02 00 0800 0100 0000')],
    ['ACE size 0', hex('01 00 0480 00000000 00000000 00000000 14000000 02 00 0c00 0100 0000 00 00 0000')],
    ['allowed ACE without a SID', hex('01 00 0480 00000000 00000000 00000000 14000000 02 00 1000 0100 0000 00 00 0800 ff011f00')],
  ]
  for (const [what, bytes] of refusals) t.match(decodeSecurityDescriptor(bytes), { ok: false, status: NT_STATUS.INVALID_SECURITY_DESCR }, what)
})

t.test('fuzz: the decoder takes any bytes', async (t) => {
  const valid = fileSecurityDescriptor({ directory: true }, ALL_PARTS)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (random, flips) => {
      const mutated = Buffer.from(valid)
      for (const [at, value] of flips) mutated[at] = value
      for (const bytes of [random, mutated]) {
        const decoded = decodeSecurityDescriptor(bytes)
        if (!decoded.ok && decoded.status !== NT_STATUS.INVALID_SECURITY_DESCR) return false
      }
      return true
    }),
    { numRuns: 20_000 },
  )
  t.pass()
})
