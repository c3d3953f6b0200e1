// The resume position of a directory enumeration (core/smb/directory-cursor.ts): a page is the
// names after the cursor in name order, whatever was created or deleted since the last page.
import fc from 'fast-check'
import t from 'tap'
import { DOT_NAMES, advanceCursor, compareNames, pageOfNames, startCursor } from '../../core/smb/directory-cursor.js'

t.test('a page is the matching names after the cursor, in order, at most limit of them', async (t) => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { maxLength: 40 }), fc.option(fc.string({ maxLength: 4 }), { nil: null }), fc.integer({ min: 0, max: 50 }), (names, after, limit) => {
      const sorted = [...names].sort(compareNames)
      const matches = (n: string) => n.charCodeAt(0) % 2 === 0
      const expected = sorted.filter((n) => (after === null || n > after) && matches(n)).slice(0, limit)
      t.same(pageOfNames(sorted, after, matches, limit), expected)
    }),
    { numRuns: 300 },
  )
})

t.test('the cursor moves past the dots, then to the last name returned', async (t) => {
  const c0 = startCursor('*')
  t.same(c0, { pattern: '*', dotsDone: 0, afterName: null })
  const c1 = advanceCursor(c0, 2, ['a', 'b'], 1)
  t.same(c1, { pattern: '*', dotsDone: 1, afterName: null }, 'one of the two dots')
  const c2 = advanceCursor(c1, 1, ['a', 'b'], 2)
  t.same(c2, { pattern: '*', dotsDone: DOT_NAMES.length, afterName: 'a' }, '".." and "a"')
  const c3 = advanceCursor(c2, 0, ['b', 'c'], 0)
  t.same(c3, c2, 'nothing returned: the cursor stays')
  const c4 = advanceCursor(startCursor('x*'), 0, ['x1', 'x2'], 2)
  t.same(c4, { pattern: 'x*', dotsDone: DOT_NAMES.length, afterName: 'x2' }, 'dots the pattern passes over are done')
})

t.test('enumerating while names come and go returns no name twice and none deleted before its turn', async (t) => {
  const dir = new Set(['b', 'd', 'f', 'h'])
  let cursor = startCursor('*')
  const seen: string[] = []
  for (let round = 0; round < 10; round++) {
    const page = pageOfNames([...dir].sort(compareNames), cursor.afterName, () => true, 1)
    if (page.length === 0) break
    seen.push(page[0])
    cursor = advanceCursor({ ...cursor, dotsDone: 2 }, 0, page, 1)
    if (round === 0) {
      dir.delete('f')
      dir.add('a')
      dir.add('g')
    }
  }
  t.same(seen, ['b', 'd', 'g', 'h'], 'f deleted, a made before the cursor, g after it')
})
