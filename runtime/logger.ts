// pino loggers for node processes: one NDJSON line per protocol event with node, component
// and event, written synchronously because nodes get SIGKILLed and must not lose lines.
import { pino, type Logger } from 'pino'
import { monoNowMs } from './clock.js'


export function createNodeLogger(nodeId: string, logFile: string | null): Logger {
  const destination = pino.destination({ dest: logFile ?? 1, sync: true, mkdir: true })
  return pino(
    {
      base: { node: nodeId, pid: process.pid },
      level: process.env.LOG_LEVEL ?? 'info',
      mixin: () => ({ mono: monoNowMs() }),
    },
    destination,
  )
}
