// Our layering rule: no import cycles among the sources (as grpc-js checks with madge).
import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { packageRoot } from '../../proto/loader.js'

const ROOT = packageRoot()
const SOURCE_DIRS = ['protocol', 'core', 'runtime', 'cluster', 'server', 'client', 'cli', 'bench', 'tools', 'proto']

function sources(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'gen' ? [] : sources(path)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((m) => m[1])
  // Type-only imports vanish at run time but still tangle the design; count them too.
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')))
}

t.test('no import cycles', async (t) => {
  const files = SOURCE_DIRS.flatMap((d) => sources(join(ROOT, d)))
  t.ok(files.length > 10, `${files.length} source files`)
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((i) => files.includes(i))]))
  const state = new Map<string, 'visiting' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(ROOT, f)).join(' -> '))
      return
    }
    state.set(file, 'visiting')
    for (const dep of graph.get(file) ?? []) visit(dep, [...path, file])
    state.set(file, 'done')
  }
  for (const f of files) visit(f, [])
  t.same(cycles, [], 'no cycles')
})
