// Regenerates the layer graph in README.md's architecture section from the real imports:
// dependency-cruiser's mermaid output, cores, protocol and tools by subfolder, the rest by
// top folder. `npm run layers:graph`; the text between the two markers is replaced.
// `--check` changes nothing and exits 1 when the README's graph is not the current one.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const BEGIN = '<!-- layers-graph:begin (npm run layers:graph) -->'
const END = '<!-- layers-graph:end -->'
const bin = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const mermaid = execFileSync(
  process.execPath,
  [
    bin,
    '--config', '.dependency-cruiser.cjs',
    '--output-type', 'mermaid',
    '--include-only', '^(protocol|core|runtime|server|client|cluster|cli|bench|tools|scripts|proto)/',
    '--collapse', '^(protocol|core|tools)/[^/]+|^(runtime|server|client|cluster|cli|bench|scripts|proto)',
    'protocol', 'core', 'runtime', 'server', 'client', 'cluster', 'cli', 'bench', 'tools', 'scripts', 'proto/loader.ts',
  ],
  { cwd: root, encoding: 'utf8' },
).trim()
const readmePath = join(root, 'README.md')
const readme = readFileSync(readmePath, 'utf8')
const begin = readme.indexOf(BEGIN)
const end = readme.indexOf(END)
if (begin < 0 || end < begin) {
  console.error(`README.md has no ${BEGIN} … ${END} block`)
  process.exit(1)
}
const block = `${BEGIN}\n\`\`\`mermaid\n${mermaid}\n\`\`\`\n`
const updated = readme.slice(0, begin) + block + readme.slice(end)
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md: the layer graph is stale; run `npm run layers:graph`')
    process.exit(1)
  }
  console.log('README.md: the layer graph is current')
  process.exit(0)
}
writeFileSync(readmePath, updated)
console.log(`README.md: layer graph of ${mermaid.split('\n').filter((l) => l.includes('-->')).length} edges`)
