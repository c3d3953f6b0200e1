// Bundles the node process (dist/server/node-main.js and everything it imports, our modules and
// the libraries) into one file, dist/bundle/node-main.js, which `swlab cluster up` starts (issue
// 18). Measured: a node spent 230 ms of CPU loading ~300 ES modules one by one (resolve, read,
// compile, link each); from one file it spends 130 ms, and a bare `node` already costs 55. At 64
// nodes starting on 2 cores that is 6 s of CPU less before the cluster can form.
//
// Run after `tsc` (npm run build does). Libraries are bundled too; prom-client stays a runtime
// require (server/node-metrics.ts loads it on first use through createRequire), resolved from
// the package's node_modules as before.
import { build } from 'esbuild'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

await build({
  entryPoints: [join(root, 'dist', 'server', 'node-main.js')],
  outfile: join(root, 'dist', 'bundle', 'node-main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS libraries inside an ES module bundle call require() for Node's built-ins.
  banner: { js: "import { createRequire as __swlabCreateRequire } from 'node:module'; const require = __swlabCreateRequire(import.meta.url);" },
  // Stack traces in a node's crash log point at the TypeScript sources with --enable-source-maps.
  sourcemap: 'linked',
  logLevel: 'warning',
})
