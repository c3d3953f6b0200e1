// Process entry of one cluster node: `node dist/server/node-main.js --config <file> --id <node>`.
// Exits non-zero with one line on stderr when it cannot start (bad config, port in use).
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import { loadConfig } from '../cluster/config.js'
import { createWitnessStore } from '../cluster/witness/create-witness-store.js'
import { createNodeLogger } from '../runtime/logger.js'
import { NodeProcess } from './node-process.js'

function fatal(message: string, code: number): never {
  process.stderr.write(`swlab-node: ${message}\n`)
  process.exit(code)
}

const { values } = parseArgs({ options: { config: { type: 'string' }, id: { type: 'string' } }, strict: true })
if (!values.config || !values.id) fatal('usage: node-main --config <cluster.json> --id <node-id>', 2)
const loaded = loadConfig(values.config)
if (!loaded.ok) fatal(loaded.error, 2)
const config = loaded.config
const nodeId = values.id
if (!config.nodes.some((n) => n.id === nodeId)) fatal(`unknown node id ${nodeId}`, 2)

const log = createNodeLogger(nodeId, join(config.dir, 'logs', `${nodeId}.ndjson`))
const node = new NodeProcess({
  config,
  nodeId,
  log,
  witness: createWitnessStore(config),
  grpcHeartbeats: process.env.SWLAB_HEARTBEATS === 'grpc',
  exit: (code) => {
    log.info({ component: 'node', event: 'node.exit', code })
    void node
      .stop()
      .catch((err: Error) => log.error({ component: 'node', event: 'node.stop-failed', error: err.message }))
      .finally(() => process.exit(code))
  },
})
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => node.leaveGracefully())
process.on('uncaughtException', (err) => {
  log.fatal({ component: 'node', event: 'node.crash', error: String(err), stack: err.stack })
  process.exit(70)
})
node.start().catch((err: Error) => fatal(`${nodeId}: ${err.message}`, 3))
