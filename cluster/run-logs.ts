// Reading a run's logs back: the nodes' pino lines and the clients' event lines, one JSON
// object per line with a `mono` timestamp comparable across the processes of one host.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface LogLine {
  readonly event: string
  readonly mono: number
  readonly [field: string]: unknown
}

/** The lines of one ndjson file that carry an event, in file order; [] when the file is missing. */
export function readLogLines(path: string, filter?: (raw: string) => boolean): LogLine[] {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  return parseLogLines(text, filter)
}

/** The lines of NDJSON text that carry an event (and pass the raw-text filter), in order. */
export function parseLogLines(text: string, filter?: (raw: string) => boolean): LogLine[] {
  const lines: LogLine[] = []
  for (const raw of text.split('\n')) {
    if (raw === '' || (filter && !filter(raw))) continue
    try {
      const l = JSON.parse(raw) as Partial<LogLine> | null
      // A process killed mid-write may leave half a line; it carries no event.
      if (l !== null && typeof l === 'object' && typeof l.event === 'string' && typeof l.mono === 'number') lines.push(l as LogLine)
    } catch {
      continue
    }
  }
  return lines
}

/** One node's log in a cluster directory. */
export function nodeLogPath(clusterDir: string, nodeId: string): string {
  return join(clusterDir, 'logs', `${nodeId}.ndjson`)
}

/** The event log the chaos runner's clients share. */
export function clientEventsPath(clusterDir: string): string {
  return join(clusterDir, 'logs', 'clients.ndjson')
}

/** The log of backup jobs run against the cluster (one line per finished or failed job). */
export function backupEventsPath(clusterDir: string): string {
  return join(clusterDir, 'logs', 'backups.ndjson')
}

/** Signals the harness sent to nodes (kill, pause, resume): a frozen or killed node cannot log them. */
export function faultEventsPath(clusterDir: string): string {
  return join(clusterDir, 'logs', 'faults.ndjson')
}
