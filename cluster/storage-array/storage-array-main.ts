// Process entry of the emulated storage array (issue 17 item 2), started by `cluster up`:
//   node dist/cluster/storage-array/storage-array-main.js --storage <dir>/storage --socket <dir>/array.sock \
//     --luns csv-1,csv-2 --log <dir>/logs/array.ndjson
// It prints one JSON line once it listens, and exits on SIGTERM or SIGINT. Its reservations
// live in memory: a restarted array starts with none, as an array that lost its PR state would
// (the nodes register again when they reconnect).
import { rmSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createNodeLogger } from '../../runtime/logger.js'
import { StorageArrayServer } from './storage-array-server.js'

const USAGE = 'usage: storage-array-main --storage <dir> --socket <path> --luns <csv,...> [--log <file>]'

async function main(): Promise<void> {
  let values: { storage?: string; socket?: string; luns?: string; log?: string }
  try {
    values = parseArgs({ options: { storage: { type: 'string' }, socket: { type: 'string' }, luns: { type: 'string' }, log: { type: 'string' } }, strict: true, allowPositionals: false }).values
    if (!values.storage || !values.socket || !values.luns) throw new Error('--storage, --socket and --luns are required')
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  const log = createNodeLogger('array', values.log ?? null)
  const luns = values.luns.split(',').filter((l) => l !== '')
  // A socket file a killed array left behind would refuse the listen.
  rmSync(values.socket, { force: true })
  const array = new StorageArrayServer({ storageDir: values.storage, luns, socketPath: values.socket, log })
  await array.listen()
  log.info({ component: 'array', event: 'array.listening', socket: values.socket, luns })
  process.stdout.write(`${JSON.stringify({ event: 'array.listening', socket: values.socket, pid: process.pid })}\n`)
  const stop = (): void => {
    setTimeout(() => process.exit(0), 2000).unref()
    void array.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`storage-array: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
