// The generated protobuf types are committed; this fails when they drift from the .proto
// files (run `npm run gen:proto` and commit the result).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { packageRoot } from '../../proto/loader.js'

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? listFiles(path) : [path]
  })
}

t.test('proto/gen matches the .proto files', async (t) => {
  const root = packageRoot()
  const out = mkdtempSync(join(tmpdir(), 'swlab-gen-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  execFileSync(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), out], { stdio: 'pipe' })
  const committed = join(root, 'proto', 'gen')
  const fresh = listFiles(out).map((p) => relative(out, p)).sort()
  t.same(listFiles(committed).map((p) => relative(committed, p)).sort(), fresh, 'same files')
  for (const file of fresh) {
    // The generator records the absolute path of the source .proto; compare without it.
    const strip = (s: string) => s.replace(/^\/\/ Original file: .*$/m, '')
    t.equal(strip(readFileSync(join(committed, file), 'utf8')), strip(readFileSync(join(out, file), 'utf8')), file)
  }
})
