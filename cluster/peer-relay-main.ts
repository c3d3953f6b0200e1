// Process entry of the harness's delay relay (cluster/peer-relay.ts), started in a cluster's
// network namespace on its first `net delay`:
//   node dist/cluster/peer-relay-main.js --dir <cluster-dir>
// It reads the nodes from <dir>/cluster.json, listens on every link's relay address, follows
// the delays in <dir>/faults.json (the harness writes them there), prints one JSON line once it
// listens, and exits on SIGTERM or SIGINT.
import { readFileSync, unwatchFile, watchFile } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from './config.js'
import { PeerRelay, relayLinksOf, type NodeDelays } from './peer-relay.js'

/** How often the delays file is looked at: a delay takes effect within this. */
const DELAYS_POLL_MS = 50

function readDelays(path: string): NodeDelays | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { delays?: unknown }
    const delays: Record<string, number> = {}
    if (parsed.delays && typeof parsed.delays === 'object') {
      for (const [id, ms] of Object.entries(parsed.delays)) if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && ms <= 60_000) delays[id] = ms
    }
    return delays
  } catch {
    // Mid-write or absent: keep what is in force.
    return null
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dir: { type: 'string' } }, strict: true, allowPositionals: false })
  if (!values.dir) {
    process.stderr.write('usage: peer-relay-main --dir <cluster-dir>\n')
    process.exitCode = 2
    return
  }
  const loaded = loadConfig(join(values.dir, 'cluster.json'))
  if (!loaded.ok) {
    process.stderr.write(`${loaded.error}\n`)
    process.exitCode = 2
    return
  }
  const relay = new PeerRelay(relayLinksOf(loaded.config))
  const faultsPath = join(values.dir, 'faults.json')
  const follow = (): void => {
    const delays = readDelays(faultsPath)
    if (delays) relay.setDelays(delays)
  }
  follow()
  watchFile(faultsPath, { interval: DELAYS_POLL_MS, persistent: true }, follow)
  await relay.start()
  process.stdout.write(`${JSON.stringify({ event: 'peer-relay.listening', pid: process.pid, links: relayLinksOf(loaded.config).length })}\n`)
  const stop = (): void => {
    unwatchFile(faultsPath)
    void relay.close().finally(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err: Error) => {
  process.stderr.write(`peer-relay: ${err.message}\n`)
  process.exit(1)
})
