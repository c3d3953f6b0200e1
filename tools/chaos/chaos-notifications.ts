// Invariant 7 (every registered client with a live witness node is notified of its node's
// failure) from the logs of a run, both ways:
// - required: when a witness node committed a view that took a node down, every live
//   registration for that node's address that its client still listened on got a
//   RESOURCE_CHANGE from it, unless the
//   registration ended first (its client had already moved and unregistered) or the witness
//   node itself was killed, paused or restarted before it could send;
// - delivered: every notification a witness node sent reached its client (the client logs
//   `notified` with the registration), unless the witness node was killed or paused while it
//   was in flight, the client was dropping that registration, or the run was ending.
import { MESSAGE_TYPE } from '../../protocol/swn/message-buffer.js'
import type { LogLine } from '../../cluster/run-logs.js'

export interface Outage {
  readonly from: number
  readonly to: number
}

export interface NotificationCheckInput {
  /** Per node, its log lines (witness events and node.started), in order. */
  readonly nodeLogs: ReadonlyMap<string, readonly LogLine[]>
  /** The clients' event lines (`client.registered` and `client.notified`, with `registration`). */
  readonly clientEvents: readonly LogLine[]
  /** Per node, its client-facing addresses. */
  readonly nodeAddresses: ReadonlyMap<string, readonly string[]>
  /** The clients whose registrations are checked, by computer name. */
  readonly clients: ReadonlySet<string>
  /** Per node, when it was killed or paused (and could send nothing). */
  readonly outages: ReadonlyMap<string, readonly Outage[]>
  /** Sends at or after this time may race the clients' stop. */
  readonly clientsStopMono: number
  /** How long a notification may take from send to receipt, or a fault to cut it off. */
  readonly graceMs: number
}

export interface NotificationCounts {
  /** Notifications the witness nodes had to send for failures of registered data nodes. */
  readonly required: number
  readonly sent: number
  readonly received: number
}

interface Registration {
  readonly key: string
  readonly client: string
  readonly ip: string
  readonly fromMono: number
  toMono: number
}

export function notificationViolations(input: NotificationCheckInput): { counts: NotificationCounts; violations: string[] } {
  const { graceMs } = input
  const received = new Set(
    input.clientEvents.filter((e) => e.event === 'client.notified' && typeof e.registration === 'string').map((e) => String(e.registration)),
  )
  const overlapsOutage = (node: string, from: number, to: number) =>
    (input.outages.get(node) ?? []).some((o) => o.from <= to && from <= o.to)
  const current = currentRegistrations(input.clientEvents)
  const violations: string[] = []
  let required = 0
  let sent = 0
  let delivered = 0
  for (const [witnessNode, lines] of input.nodeLogs) {
    const registrations = registrationsOf(lines, input.clients)
    const sends = lines.filter((l) => l.event === 'witness.notify.sent' && l.type !== null && l.type !== undefined && l.result === 0)
    const restarts = lines.filter((l) => l.event === 'node.started').map((l) => l.mono)
    // Required: a RESOURCE_CHANGE for every live registration of a node taken down.
    for (const change of lines.filter((l) => l.event === 'witness.node.changed' && l.state === 'UNAVAILABLE')) {
      const downNode = String(change.changedNode)
      const addresses = input.nodeAddresses.get(downNode) ?? []
      for (const reg of registrations) {
        if (!(reg.fromMono <= change.mono && change.mono < reg.toMono) || !addresses.includes(reg.ip)) continue
        // Only the registration the client listens on counts; one it gave up is not its own.
        const held = current.get(reg.key)
        if (!held || !(held.from <= change.mono && change.mono < held.to)) continue
        required++
        const notified = sends.some((s) => s.registration === reg.key && s.type === MESSAGE_TYPE.RESOURCE_CHANGE && s.mono >= change.mono)
        if (notified) continue
        // The client moved off on its own (a refused connection) and dropped the registration.
        const ended = reg.toMono <= change.mono + 3 * graceMs
        const cutOff = overlapsOutage(witnessNode, change.mono, change.mono + graceMs) || restarts.some((r) => r > change.mono)
        if (ended || cutOff || change.mono >= input.clientsStopMono - graceMs) continue
        violations.push(`${reg.client}: ${witnessNode} never told registration ${reg.key} that ${downNode} failed`)
      }
    }
    // Delivered: every notification sent to a checked client reached it.
    for (const s of sends) {
      const reg = registrations.find((r) => r.key === s.registration)
      if (!reg) continue
      sent++
      if (received.has(reg.key)) {
        delivered++
        continue
      }
      const inFlightCut = overlapsOutage(witnessNode, s.mono - graceMs, s.mono + graceMs)
      const dropping = reg.toMono <= s.mono + graceMs || (current.get(reg.key)?.to ?? Infinity) <= s.mono + graceMs
      if (inFlightCut || dropping || s.mono >= input.clientsStopMono - graceMs) continue
      violations.push(`${reg.client}: notification ${String(s.type)} sent by ${witnessNode} on registration ${reg.key} never arrived`)
    }
  }
  return { counts: { required, sent, received: delivered }, violations }
}

/** Per registration key: while its client listened on it (from registered to its next registration). */
function currentRegistrations(clientEvents: readonly LogLine[]): Map<string, { from: number; to: number }> {
  const out = new Map<string, { from: number; to: number }>()
  const last = new Map<string, string>()
  for (const e of [...clientEvents].filter((x) => x.event === 'client.registered').sort((a, b) => a.mono - b.mono)) {
    const client = String(e.client)
    const key = String(e.registration)
    const previous = last.get(client)
    if (previous !== undefined) out.get(previous)!.to = e.mono
    out.set(key, { from: e.mono, to: Infinity })
    last.set(client, key)
  }
  return out
}

/** The registrations one witness node held for the checked clients, each with its lifetime. */
function registrationsOf(lines: readonly LogLine[], clients: ReadonlySet<string>): Registration[] {
  const all: Registration[] = []
  const live = new Map<string, Registration>()
  for (const l of lines) {
    if (l.event === 'node.started') {
      // A new process: the old one's registrations died with it.
      for (const r of live.values()) r.toMono = l.mono
      live.clear()
    } else if (l.event === 'witness.registered' && clients.has(String(l.client))) {
      const reg: Registration = { key: String(l.registration), client: String(l.client), ip: String(l.ip), fromMono: l.mono, toMono: Infinity }
      all.push(reg)
      live.set(reg.key, reg)
    } else if (l.event === 'witness.unregistered') {
      const reg = live.get(String(l.registration))
      if (reg) {
        reg.toMono = l.mono
        live.delete(reg.key)
      }
    }
  }
  return all
}
