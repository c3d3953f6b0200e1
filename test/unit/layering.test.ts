// The layering of DESIGN.md §3, checked on every `npm test`: dependency-cruiser runs the rules
// of .dependency-cruiser.cjs over the sources (a violation fails with the rule's name, the
// importing file and the imported one), and a scan of protocol/ and core/ finds the clock,
// timer and randomness calls that need no import and so escape the import graph.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { packageRoot } from '../../proto/loader.js'

const ROOT = packageRoot()
const CRUISED = ['protocol', 'core', 'runtime', 'server', 'client', 'cluster', 'cli', 'bench', 'tools', 'scripts', 'index.ts', 'proto/loader.ts']
const PURE_DIRS = ['protocol', 'core']
/** Global calls that read a clock, schedule work or draw randomness: cores take these as inputs. */
const IMPURE_CALL = /\b(setTimeout|setInterval|setImmediate|queueMicrotask|performance\.now|Date\.now|new Date\(|Math\.random|randomUUID|randomBytes|getRandomValues|process\.)/

interface CruiseViolation {
  readonly from: string
  readonly to: string
  readonly rule: { readonly name: string; readonly severity: string }
}

t.test('dependency-cruiser: no layering rule is broken', async (t) => {
  const bin = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
  const r = spawnSync(process.execPath, [bin, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...CRUISED], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  t.equal(r.error, undefined, 'depcruise ran')
  const result = JSON.parse(r.stdout) as { summary: { violations: CruiseViolation[]; totalCruised: number } }
  t.ok(result.summary.totalCruised > 100, `${result.summary.totalCruised} modules cruised`)
  const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)
  t.same(violations, [], violations.length === 0 ? 'no violations' : `layering broken:\n  ${violations.join('\n  ')}`)
})

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

t.test('protocol/ and core/ read no clock, set no timer and draw no randomness', async (t) => {
  const files = PURE_DIRS.flatMap((d) => sources(join(ROOT, d)))
  t.ok(files.length > 20, `${files.length} files scanned`)
  const found: string[] = []
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '')
        if (/^\s*(\*|\/\*)/.test(code)) return
        const m = IMPURE_CALL.exec(code)
        if (m) found.push(`${relative(ROOT, file)}:${i + 1}: ${m[1]}`)
      })
  }
  t.same(found, [], found.length === 0 ? 'none' : `impure calls in pure layers:\n  ${found.join('\n  ')}`)
})

t.test("README's layer graph is the one the imports draw", async (t) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'layers-graph.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' })
  t.equal(r.status, 0, (r.stderr || r.stdout).trim())
})
