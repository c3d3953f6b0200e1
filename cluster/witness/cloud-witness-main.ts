// Process entry of the fake cloud witness:
//   node dist/cluster/witness/cloud-witness-main.js --host 127.0.0.1 --port 0
// It prints one JSON line with the URL it listens on, so that whoever started it can read
// the port chosen by the system, and exits cleanly on SIGTERM or SIGINT.

import { parseArgs } from 'node:util'
import { startCloudWitnessServer } from './cloud-witness-server.js'

/** Past this, a shutdown that has not finished (a stuck connection) is cut short. */
const SHUTDOWN_GRACE_MS = 2000

const USAGE = 'usage: cloud-witness-main [--host 127.0.0.1] [--port 0] [--tag <cluster-dir>]'

async function main(): Promise<void> {
  let host: string
  let port: number
  try {
    const { values } = parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        // Unused by the server: it marks the process as belonging to one cluster folder, so
        // the launcher can tell its own helper from an unrelated process that reused the PID.
        tag: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    })
    host = values.host
    port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port '${values.port}'`)
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`)
    process.exitCode = 2
    return
  }

  const server = await startCloudWitnessServer({ host, port })
  process.stdout.write(
    `${JSON.stringify({ event: 'cloud-witness.listening', url: server.url, port: server.port, pid: process.pid })}\n`,
  )

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref()
    void server.close().then(() => {
      process.exitCode = 0
    })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`cloud-witness: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
