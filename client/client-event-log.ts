// Writes a failover client's events to an NDJSON log, one line per event with a `mono`
// timestamp comparable with the nodes' logs: the run report and the dashboard rebuild each
// client's registrations, notifications and failovers from these lines. Appends are
// synchronous so a line is on disk before the process can be killed.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { FailoverClient } from './failover-client.js'
import { monoNowMs } from '../runtime/clock.js'

export const LOGGED_CLIENT_EVENTS = [
  'failover-start',
  'notified',
  'reconnected',
  'replayed',
  'registered',
  'failover-failed',
  'failover-attempt',
  'ip-change',
  'stopped',
  'witness.lost',
  'witness.reregistered',
  'witness.reconciled',
] as const

/** Appends one event line for this client. */
export function appendClientEvent(path: string, client: string, event: string, fields: object = {}): void {
  appendFileSync(path, `${JSON.stringify({ mono: monoNowMs(), client, event, ...fields })}\n`)
}

/** Logs every event of the client to the file (created with its folder). */
export function attachClientEventLog(client: FailoverClient, path: string): void {
  mkdirSync(dirname(path), { recursive: true })
  for (const name of LOGGED_CLIENT_EVENTS) client.on(name, (e: object) => appendClientEvent(path, client.clientName, `client.${name}`, e))
}
