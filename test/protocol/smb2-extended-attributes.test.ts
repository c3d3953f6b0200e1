// FILE_FULL_EA_INFORMATION lists (MS-FSCC 2.4.15): what a CREATE's ExtA context carries and
// QUERY_INFO FileFullEaInformation answers. The decoder faces the network: it never throws.
import fc from 'fast-check'
import t from 'tap'
import { EAS_PER_FILE_MAX, type ExtendedAttribute, decodeFullEaInformation, eaListBytes, encodeFullEaInformation, queryFullEaInformation } from '../../protocol/smb2/extended-attributes.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

// smbtorture's complex file: EAONE=VALUE1, SECONDEA=ValueTwo (source4/torture/smb2/util.c).
const TORTURE: ExtendedAttribute[] = [
  { flags: 0, name: 'EAONE', value: Buffer.from('VALUE1') },
  { flags: 0, name: 'SECONDEA', value: Buffer.from('ValueTwo') },
]

t.test('the two EAs of smbtorture, byte for byte', async (t) => {
  const { buffer, count } = encodeFullEaInformation(TORTURE)
  t.equal(count, 2)
  // Entry 1: 8 + "EAONE\0" (6) + "VALUE1" (6) = 20, already 4-aligned; entry 2 unpadded: 8 + 9 + 8 = 25.
  t.equal(buffer.length, 45)
  t.equal(buffer.readUInt32LE(0), 20, 'NextEntryOffset')
  t.equal(buffer[5], 5, 'EaNameLength')
  t.equal(buffer.readUInt16LE(6), 6, 'EaValueLength')
  t.equal(buffer.subarray(8, 14).toString('latin1'), 'EAONE\0')
  t.equal(buffer.readUInt32LE(20), 0, 'the last entry ends the list')
  t.same(decodeFullEaInformation(buffer), { ok: true, eas: TORTURE })
  t.equal(eaListBytes(TORTURE), 45)
  t.equal(eaListBytes([]), 0)
})

t.test('a query: every EA, the ones that fit, or the status that says why not', async (t) => {
  t.same(queryFullEaInformation([], 1000), { status: NT_STATUS.NO_EAS_ON_FILE, buffer: null })
  t.equal(queryFullEaInformation(TORTURE, 1000).status, NT_STATUS.SUCCESS)
  const part = queryFullEaInformation(TORTURE, 30)
  t.equal(part.status, NT_STATUS.BUFFER_OVERFLOW)
  t.equal(part.buffer?.length, 20, 'the first EA alone')
  t.same(queryFullEaInformation(TORTURE, 10), { status: NT_STATUS.BUFFER_TOO_SMALL, buffer: null })
})

t.test('malformed lists are EA_LIST_INCONSISTENT; a repeated name replaces; an empty value is no EA', async (t) => {
  const one = encodeFullEaInformation([TORTURE[0]]).buffer
  t.equal(decodeFullEaInformation(one.subarray(0, 7)).ok, false, 'shorter than an entry')
  t.equal(decodeFullEaInformation(one.subarray(0, one.length - 1)).ok, false, 'a value past the end')
  const noNul = Buffer.from(one)
  noNul[8 + 5] = 0x41
  t.equal(decodeFullEaInformation(noNul).ok, false, 'a name without its NUL')
  const looped = Buffer.concat([one, Buffer.alloc(0)])
  looped.writeUInt32LE(4, 0)
  const d = decodeFullEaInformation(looped)
  t.same(d.ok ? null : d.status, NT_STATUS.EA_LIST_INCONSISTENT, 'a NextEntryOffset inside its own entry')
  const twice = encodeFullEaInformation([TORTURE[0], { flags: 0, name: 'eaone', value: Buffer.from('x') }, { flags: 0, name: 'GONE', value: Buffer.alloc(0) }]).buffer
  t.same(decodeFullEaInformation(twice), { ok: true, eas: [{ flags: 0, name: 'eaone', value: Buffer.from('x') }] })
  const many = encodeFullEaInformation(Array.from({ length: EAS_PER_FILE_MAX + 1 }, (_, i) => ({ flags: 0, name: `E${i}`, value: Buffer.from('v') }))).buffer
  t.equal(decodeFullEaInformation(many).ok, false, 'more EAs than a file may have')
})

t.test('any list of EAs round-trips; any bytes decode or are refused, never throw', async (t) => {
  const ea = fc.record({
    flags: fc.constantFrom(0, 0x80),
    name: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,12}$/),
    value: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((u) => Buffer.from(u)),
  })
  fc.assert(
    fc.property(fc.uniqueArray(ea, { minLength: 1, maxLength: 8, selector: (e) => e.name.toUpperCase() }), (eas) => {
      const d = decodeFullEaInformation(encodeFullEaInformation(eas).buffer)
      return d.ok && JSON.stringify(d.eas) === JSON.stringify(eas)
    }),
    { numRuns: 300 },
  )
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const d = decodeFullEaInformation(Buffer.from(bytes))
      return d.ok || d.status === NT_STATUS.EA_LIST_INCONSISTENT
    }),
    { numRuns: 2000 },
  )
})
