// The view model of `swlab dashboard`, built without any IO from what the server gathered: a
// cluster status (or null when it could not be read), the node addresses of the cluster config
// and recent log lines of the nodes and clients. Every list in it is bounded, so a long run or
// a chatty log cannot grow the page or the server-sent events.
import type { ClusterStatus } from '../../cluster/cluster.js'
import type { LogLine } from '../../cluster/run-logs.js'

export const EVENTS_MAX = 40
export const CLIENTS_MAX = 64
/** Nodes, CSVs and shares: the config caps nodes at 64 (NODES_MAX), these caps only guard the page. */
const ROWS_MAX = 64
const TEXT_MAX = 120
const NAME_MAX = 80

export interface DashboardNode {
  readonly id: string
  readonly address: string
  readonly process: string
  readonly state: 'up' | 'down'
  readonly reachable: boolean
  readonly role: string
  readonly term: number
  readonly epoch: number
  readonly quorum: boolean
  readonly serving: boolean
  readonly servingCsvs: readonly string[]
  readonly registrations: number
  readonly leader: boolean
  readonly partitionedFrom: readonly string[]
}

export interface DashboardCsv {
  readonly name: string
  readonly owner: string
  readonly servedBy: readonly string[]
  readonly redirected: boolean
}

export interface DashboardClient {
  readonly name: string
  /** Node id of the data path (the IP when no node has it). */
  readonly dataNode: string
  readonly dataIp: string
  readonly witnessNode: string
  readonly witnessIp: string
  readonly failovers: number
  readonly lastFailoverMs: number | null
  readonly lastFailoverCause: string
  readonly lastNotification: string
  readonly state: 'working' | 'failing-over' | 'failed' | 'stopped'
  readonly lastError: string
}

export interface DashboardEvent {
  /** Milliseconds since the start of the run (the first line seen). */
  readonly atMs: number
  /** A node id, a client name, or the log the line came from. */
  readonly source: string
  readonly event: string
  readonly text: string
}

export interface DashboardState {
  readonly ok: boolean
  /** Why the status could not be read ('' when it could). */
  readonly error: string
  readonly name: string
  readonly profile: string
  readonly quorum: boolean
  readonly epoch: number
  readonly term: number
  readonly leader: string
  readonly witness: { readonly kind: string; readonly holder: string }
  readonly nodes: readonly DashboardNode[]
  readonly csvs: readonly DashboardCsv[]
  readonly shares: readonly { readonly name: string; readonly csv: string }[]
  readonly clients: readonly DashboardClient[]
  readonly events: readonly DashboardEvent[]
  /** The run's clock: milliseconds since its first line when this state was built. */
  readonly nowMs: number
}

/** What the client event lines told about one client so far; folded line by line. */
export interface ClientTrack {
  readonly name: string
  readonly dataIp: string
  readonly witnessIp: string
  readonly failovers: number
  readonly lastFailoverMs: number | null
  readonly lastFailoverCause: string
  readonly lastNotification: string
  readonly failingOver: boolean
  /** The client logged its stop (a finished workload or backup job). */
  readonly stopped?: boolean
  readonly lastError: string
  readonly lastMono: number
}

export interface DashboardInput {
  readonly status: ClusterStatus | null
  readonly statusError?: string
  /** The cluster config's nodes: maps client IPs to node ids, and lists nodes when status is null. */
  readonly nodes: readonly { readonly id: string; readonly clientAddress: string }[]
  /** Recent log lines of nodes and clients, in any order. */
  readonly lines: readonly LogLine[]
  /** Clients folded from every line seen so far; derived from `lines` when absent. */
  readonly clients?: readonly ClientTrack[]
  /** The run's first mono timestamp; the earliest of `lines` when absent. */
  readonly startMono?: number
  readonly nowMono?: number
  readonly eventsMax?: number
}

/** MS-SWN message types (MS-SWN 2.2.2.1), as the notified lines carry them by number. */
const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'RESOURCE_CHANGE', 2: 'CLIENT_MOVE', 3: 'SHARE_MOVE', 4: 'IP_CHANGE' }

export function isClientLine(line: LogLine): boolean {
  return line.event.startsWith('client.') && typeof line.client === 'string'
}

/** Folds client event lines into the per-client tracks; keeps the most recently active clients. */
export function foldClientEvents(tracks: readonly ClientTrack[], lines: readonly LogLine[], clientsMax = CLIENTS_MAX): ClientTrack[] {
  const byName = new Map(tracks.map((c) => [c.name, c]))
  for (const line of lines) {
    if (!isClientLine(line)) continue
    const name = clip(String(line.client), NAME_MAX)
    const before: ClientTrack = byName.get(name) ?? {
      name,
      dataIp: '',
      witnessIp: '',
      failovers: 0,
      lastFailoverMs: null,
      lastFailoverCause: '',
      lastNotification: '',
      failingOver: false,
      lastError: '',
      lastMono: line.mono,
    }
    byName.delete(name)
    byName.set(name, applyClientLine({ ...before, lastMono: Math.max(before.lastMono, line.mono) }, line))
    // Map order is insertion order and an update re-inserts: the first entry is the stalest.
    if (byName.size > clientsMax) byName.delete(byName.keys().next().value as string)
  }
  return [...byName.values()]
}

function applyClientLine(c: ClientTrack, line: LogLine): ClientTrack {
  switch (line.event) {
    case 'client.registered':
      // A job that runs again under the same name (a backup) starts a new client.
      return { ...c, witnessIp: str(line.witness, c.witnessIp), dataIp: str(line.data, c.dataIp), stopped: false }
    case 'client.failover-start':
      return { ...c, failingOver: true }
    case 'client.reconnected':
      return {
        ...c,
        dataIp: str(line.to, c.dataIp),
        failovers: c.failovers + 1,
        lastFailoverMs: typeof line.afterMs === 'number' ? Math.round(line.afterMs) : null,
        lastFailoverCause: str(line.cause, ''),
        failingOver: false,
      }
    case 'client.failover-failed':
      return { ...c, failingOver: false, lastError: str(line.error, 'failover failed') }
    case 'client.notified':
      return { ...c, lastNotification: messageTypeName(line.type) }
    case 'client.error':
      return { ...c, lastError: str(line.error, 'error') }
    case 'client.stopped':
      return { ...c, stopped: true, failingOver: false }
    default:
      return c
  }
}

export function buildDashboardState(input: DashboardInput): DashboardState {
  const { status } = input
  const nodeOfIp = new Map(input.nodes.map((n) => [n.clientAddress, n.id]))
  const lines = input.lines
  const startMono = input.startMono ?? lines.reduce((min, l) => Math.min(min, l.mono), Number.POSITIVE_INFINITY)
  const start = Number.isFinite(startMono) ? startMono : 0
  const nowMono = input.nowMono ?? lines.reduce((max, l) => Math.max(max, l.mono), start)
  const tracks = input.clients ?? foldClientEvents([], [...lines].sort((a, b) => a.mono - b.mono))
  const nodes: DashboardNode[] = status
    ? status.nodes.slice(0, ROWS_MAX).map((n) => ({
        id: n.id,
        address: n.address,
        process: n.process,
        state: n.state,
        reachable: n.reachable,
        role: n.role,
        term: n.term,
        epoch: n.epoch,
        quorum: n.quorum,
        serving: n.serving,
        servingCsvs: n.servingCsvs.slice(0, ROWS_MAX),
        registrations: n.witness.registrations,
        leader: n.id === status.leader,
        partitionedFrom: n.partitionedFrom.slice(0, ROWS_MAX),
      }))
    : input.nodes.slice(0, ROWS_MAX).map((n) => ({
        id: n.id,
        address: n.clientAddress,
        process: 'unknown',
        state: 'down',
        reachable: false,
        role: 'unknown',
        term: 0,
        epoch: 0,
        quorum: false,
        serving: false,
        servingCsvs: [],
        registrations: 0,
        leader: false,
        partitionedFrom: [],
      }))
  const nodeName = (ip: string) => (ip === '' ? '' : (nodeOfIp.get(ip) ?? ip))
  const clients: DashboardClient[] = [...tracks]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, CLIENTS_MAX)
    .map((c) => ({
      name: c.name,
      dataNode: nodeName(c.dataIp),
      dataIp: c.dataIp,
      witnessNode: nodeName(c.witnessIp),
      witnessIp: c.witnessIp,
      failovers: c.failovers,
      lastFailoverMs: c.lastFailoverMs,
      lastFailoverCause: c.lastFailoverCause,
      lastNotification: c.lastNotification,
      state: c.failingOver ? 'failing-over' : c.lastError !== '' ? 'failed' : c.stopped ? 'stopped' : 'working',
      lastError: clip(c.lastError, TEXT_MAX),
    }))
  return {
    ok: status !== null,
    error: status ? '' : clip(input.statusError || 'the cluster status could not be read', TEXT_MAX),
    name: status?.name ?? '',
    profile: status?.profile ?? '',
    quorum: status?.quorum ?? false,
    epoch: status?.epoch ?? 0,
    term: status?.term ?? 0,
    leader: status?.leader ?? '',
    witness: { kind: status?.witness.kind ?? 'none', holder: status?.witness.holder ?? '' },
    nodes,
    csvs: (status?.csvs ?? []).slice(0, ROWS_MAX).map((c) => ({ name: c.name, owner: c.owner, servedBy: c.servedBy.slice(0, ROWS_MAX), redirected: c.redirected })),
    shares: (status?.shares ?? []).slice(0, ROWS_MAX).map((s) => ({ name: s.name, csv: s.csv })),
    clients,
    events: recentEvents(lines, start, input.eventsMax ?? EVENTS_MAX, nodeName),
    nowMs: Math.max(0, Math.round(nowMono - start)),
  }
}

/** The newest lines first, each with a short text; ties keep the later line first. */
function recentEvents(lines: readonly LogLine[], startMono: number, max: number, nodeName: (ip: string) => string): DashboardEvent[] {
  const indexed = lines.map((line, i) => ({ line, i }))
  indexed.sort((a, b) => b.line.mono - a.line.mono || b.i - a.i)
  return indexed.slice(0, Math.max(0, max)).map(({ line }) => ({
    atMs: Math.round(line.mono - startMono),
    source: clip(sourceOf(line), NAME_MAX),
    event: clip(line.event, NAME_MAX),
    text: clip(describe(line, nodeName), TEXT_MAX),
  }))
}

function sourceOf(line: LogLine): string {
  if (isClientLine(line)) return String(line.client)
  if (typeof line.node === 'string') return line.node
  return typeof line.source === 'string' ? line.source : ''
}

/** One short sentence per event the demo cares about; other events show a few of their fields. */
function describe(l: LogLine, nodeName: (ip: string) => string): string {
  const f = (key: string) => (l[key] === undefined || l[key] === null ? '' : String(l[key]))
  switch (l.event) {
    case 'quorum.leader.elected':
      return `leader of term ${f('term')}`
    case 'node.declared.down':
      return `${f('peer')} declared down${l.reason ? ` (${f('reason')})` : ''}`
    case 'node.rejoined':
      return `${f('peer')} rejoined`
    case 'csv.failover':
    case 'csv.rebalance':
    case 'csv.released':
      return `${f('csv')}: ${f('from')} → ${f('to')}`
    case 'csv.assigned':
      return `${f('csv')} → ${f('to')}`
    case 'view.committed':
      return `epoch ${f('epoch')}, up ${Array.isArray(l.up) ? l.up.join(',') : ''}`
    case 'witness.notify.sent':
      return `${messageTypeName(l.type)} to ${f('client')}`
    case 'witness.registered':
      return `${f('client')} for ${nodeName(f('ip'))}`
    case 'witness.unregistered':
      return `${f('client')} (${f('reason')})`
    case 'client.registered':
      return `witness ${nodeName(f('witness'))}, data ${nodeName(f('data'))}`
    case 'client.failover-start':
      return `${f('cause')} from ${nodeName(f('from'))}`
    case 'client.reconnected':
      return `${f('cause')}: ${nodeName(f('from'))} → ${nodeName(f('to'))} in ${typeof l.afterMs === 'number' ? Math.round(l.afterMs) : '?'} ms`
    case 'client.notified':
      return messageTypeName(l.type)
    case 'fault.kill':
      return 'SIGKILL sent'
    case 'fault.pause':
      return 'SIGSTOP sent (frozen)'
    case 'fault.resume':
      return 'SIGCONT sent'
    case 'client.failover-attempt':
      return `try ${nodeName(f('to'))} (attempt ${f('attempt')})`
    default:
      return fieldsText(l)
  }
}

const NOT_SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'mono', 'node', 'client', 'component', 'event', 'role', 'at', 'atMs', 'msg', 'source'])

function fieldsText(l: LogLine): string {
  const parts: string[] = []
  for (const [key, value] of Object.entries(l)) {
    if (parts.length >= 4 || NOT_SHOWN.has(key)) continue
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      parts.push(`${key}=${typeof value === 'number' && !Number.isInteger(value) ? Math.round(value) : value}`)
    }
  }
  return parts.join(' ')
}

function messageTypeName(type: unknown): string {
  return typeof type === 'number' ? (MESSAGE_TYPE_NAMES[type] ?? `type ${type}`) : typeof type === 'string' ? type : 'notification'
}

function str(value: unknown, fallback: string): string {
  return typeof value === 'string' && value !== '' ? clip(value, TEXT_MAX) : fallback
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
