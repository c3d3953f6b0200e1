// Generates the TypeScript types of proto/*.proto into proto/gen (or the folder given as
// the first argument, which the drift test uses). The flags must match LOADER_OPTIONS in
// proto/loader.ts, or the generated types would lie about the runtime shapes.
import { execFileSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = process.argv[2] ?? join(root, 'proto', 'gen')
const protoDir = join(root, 'proto')
const files = readdirSync(protoDir).filter((f) => f.endsWith('.proto')).sort()
const require = createRequire(import.meta.url)
const bin = join(dirname(require.resolve('@grpc/proto-loader/package.json')), 'build', 'bin', 'proto-loader-gen-types.js')
rmSync(outDir, { recursive: true, force: true })
execFileSync(process.execPath, [bin,
  '--longs=String', '--enums=String', '--defaults', '--oneofs', '--includeComments',
  '--grpcLib=@grpc/grpc-js', '--importFileExtension=.js', `--outDir=${outDir}`,
  ...files, `--includeDirs=${protoDir}`], { cwd: protoDir, stdio: 'inherit' })
