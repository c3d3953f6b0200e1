// The per-CSV store of file metadata ext4 does not keep (EAs, times, attributes, allocation
// sizes): what one owner writes the next one reads, bounded, and garbage on the shared storage
// is skipped, never trusted or thrown on.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeFileDurablySync, writeFileAtomicSync } from '../../runtime/atomic-file.js'
import { FileMetadataStore, metadataOf, type FileOverrides } from '../../server/smb/file-metadata-store.js'

function store(dir: string, filesMax = 10, unreadable: string[] = []): FileMetadataStore {
  return new FileMetadataStore({
    dir,
    filesMax,
    persist: (path, data) => (data === null ? removeFileDurablySync(path) : writeFileAtomicSync(path, data)),
    onUnreadable: (file) => unreadable.push(file),
  })
}

const overrides: FileOverrides = { creationMs: 1_000, changeMs: null, mtimeMs: 2_000.5, attributes: 0x22, allocationBytes: 8192 }

t.test('what one owner sets the next one reads; an emptied entry leaves no file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-file-metadata-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = store(dir)
  t.equal(first.load(), 0, 'no folder yet: nothing')
  first.setExtendedAttributes('42', [{ flags: 0x80, name: 'Need.Me', value: Buffer.from([0, 1, 2, 255]) }])
  first.setOverrides('42', overrides)
  first.setOverrides('43', overrides)
  const second = store(dir)
  t.equal(second.load(), 2)
  const got = second.get('42')!
  t.same(got.overrides, overrides)
  t.equal(got.extendedAttributes?.[0].name, 'Need.Me')
  t.equal(got.extendedAttributes?.[0].flags, 0x80)
  t.ok(got.extendedAttributes?.[0].value.equals(Buffer.from([0, 1, 2, 255])), 'binary EA values come back byte for byte')
  second.setExtendedAttributes('42', [])
  const third = store(dir)
  third.load()
  t.same(third.get('42'), { overrides }, 'the EAs went, the overrides stayed')
  third.forget('42')
  third.setOverrides('43', null)
  t.same(readdirSync(dir), [], 'an entry with nothing in it is removed from storage')
})

t.test('bounded: past filesMax the oldest entry goes, from memory and storage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-file-metadata-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s = store(dir, 3)
  for (const ino of ['1', '2', '3', '4']) s.setOverrides(ino, overrides)
  t.equal(s.size(), 3)
  t.equal(s.get('1'), undefined, 'the oldest went')
  t.same(readdirSync(dir).sort(), ['2.json', '3.json', '4.json'])
  const reloaded = store(dir, 2)
  t.equal(reloaded.load(), 2, 'a load reads at most filesMax entries')
})

t.test('garbage in the folder is skipped and reported, never thrown on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-file-metadata-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '7.json'), '{"overrides": {"mtimeMs": "soon"}}')
  writeFileSync(join(dir, '8.json'), 'not json')
  writeFileSync(join(dir, 'notanino.json'), '{}')
  writeFileSync(join(dir, '9.json.123.tmp'), '{}')
  writeFileSync(join(dir, '10.json'), JSON.stringify({ overrides }))
  const unreadable: string[] = []
  const s = store(dir, 10, unreadable)
  t.equal(s.load(), 1)
  t.same(unreadable.sort(), ['7.json', '8.json'])
  t.same(s.get('10'), { overrides })
})

t.test('metadataOf: any JSON value gives an entry or null, never a throw', async () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const m = metadataOf(v)
      return m === null || typeof m === 'object'
    }),
    { seed: 15, numRuns: 2000 },
  )
  fc.assert(
    fc.property(fc.record({ eas: fc.array(fc.record({ flags: fc.anything(), name: fc.anything(), value: fc.anything() })), overrides: fc.dictionary(fc.string(), fc.anything()) }, { requiredKeys: [] }), (v) => {
      const m = metadataOf(v)
      return m === null || typeof m === 'object'
    }),
    { seed: 15, numRuns: 2000 },
  )
})
