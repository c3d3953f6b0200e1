// Prometheus metrics of one node (prom-client, a registry of its own): view changes, missed
// heartbeats (a peer gone silent), witness registrations and notifications by type, SMB
// operations and their latency, CSV failovers and sessions reclaimed after a client's
// failover. Counters move on the same protocol events the node logs; an HTTP listener serves
// them as Prometheus text at /metrics.
//
// prom-client (and the @opentelemetry/api it loads: ~90 modules, ~30 ms of CPU, issue 18) is
// loaded on the first scrape or the first SMB operation timed, not at start: most nodes of a
// large idle cluster are never scraped. Until then the counters are tallies here (bounded by
// the config: peers, CSVs, message types, SMB commands), added to the prom-client counters
// when it loads, so a scrape shows every event since the start as before.
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { Counter, Histogram, Registry } from 'prom-client'
import { MESSAGE_TYPE_NAMES } from '../protocol/swn/message-buffer.js'
import { listenTcp } from '../runtime/tcp-listen.js'

type PromClient = typeof import('prom-client')

/** Loads prom-client synchronously (it is CommonJS) when first needed. */
function loadPromClient(): PromClient {
  return createRequire(import.meta.url)('prom-client') as PromClient
}

/** A counter's tallies by label values, before prom-client is loaded. */
type Tally = Map<string, number>

function tally(t: Tally, key: string, by = 1): void {
  t.set(key, (t.get(key) ?? 0) + by)
}

interface PromMetrics {
  readonly registry: Registry
  readonly viewChanges: Counter
  readonly heartbeatsMissed: Counter
  readonly notifications: Counter
  readonly csvFailovers: Counter
  readonly sessionsReclaimed: Counter
  readonly smbOps: Counter
  readonly smbLatency: Histogram
}

export class NodeMetrics {
  private prom: PromMetrics | null = null
  /** Events counted before prom-client was loaded, by metric and label value ('' without labels). */
  private readonly early = {
    viewChanges: new Map() as Tally,
    heartbeatsMissed: new Map() as Tally,
    notifications: new Map() as Tally,
    csvFailovers: new Map() as Tally,
    sessionsReclaimed: new Map() as Tally,
  }
  private server: Server | null = null

  /** datagrams: the heartbeat datagrams this node sent and took so far (null: heartbeats go as gRPC calls). */
  constructor(
    private readonly nodeId: string,
    private readonly registrations: () => number,
    private readonly datagrams: () => { readonly sent: number; readonly received: number } | null = () => null,
  ) {}

  /** True once prom-client is loaded (the first scrape or SMB operation). */
  get loaded(): boolean {
    return this.prom !== null
  }

  /** prom-client's registry and metrics, created on first use with the tallies counted so far. */
  private metrics(): PromMetrics {
    if (this.prom) return this.prom
    const { Counter, Gauge, Histogram, Registry } = loadPromClient()
    const { registrations, datagrams } = this
    const registry = new Registry()
    registry.setDefaultLabels({ node: this.nodeId })
    const registers = [registry]
    const viewChanges = new Counter({ name: 'swlab_view_changes_total', help: 'Cluster views this node saw committed', registers })
    const heartbeatsMissed = new Counter({
      name: 'swlab_heartbeats_missed_total',
      help: 'Peers that went silent for longer than the detection period, as this node saw them',
      labelNames: ['peer'],
      registers,
    })
    new Gauge({
      name: 'swlab_witness_registrations',
      help: 'Witness registrations this node holds',
      registers,
      collect() {
        this.set(registrations())
      },
    })
    new Gauge({
      name: 'swlab_heartbeat_datagrams',
      help: 'Heartbeat datagrams this node sent and received (taken: decoded, addressed here, not stale) since it started',
      labelNames: ['direction'],
      registers,
      collect() {
        const counts = datagrams()
        if (!counts) return
        this.set({ direction: 'sent' }, counts.sent)
        this.set({ direction: 'received' }, counts.received)
      },
    })
    const notifications = new Counter({
      name: 'swlab_witness_notifications_total',
      help: 'Witness notifications sent (AsyncNotify answered with news), by message type',
      labelNames: ['type'],
      registers,
    })
    const csvFailovers = new Counter({
      name: 'swlab_csv_failovers_total',
      help: 'CSVs this node, as leader, moved off a failed owner',
      labelNames: ['csv'],
      registers,
    })
    const sessionsReclaimed = new Counter({
      name: 'swlab_client_failovers_total',
      help: 'Client failovers that arrived here: sessions set up with a PreviousSessionId',
      registers,
    })
    const smbOps = new Counter({ name: 'swlab_smb_operations_total', help: 'SMB operations served, by command and outcome', labelNames: ['op', 'outcome'], registers })
    const smbLatency = new Histogram({
      name: 'swlab_smb_operation_seconds',
      help: 'SMB operation latency, by command',
      labelNames: ['op'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    })
    const { early } = this
    for (const [, n] of early.viewChanges) viewChanges.inc(n)
    for (const [peer, n] of early.heartbeatsMissed) heartbeatsMissed.inc({ peer }, n)
    for (const [type, n] of early.notifications) notifications.inc({ type }, n)
    for (const [csv, n] of early.csvFailovers) csvFailovers.inc({ csv }, n)
    for (const [, n] of early.sessionsReclaimed) sessionsReclaimed.inc(n)
    for (const t of Object.values(early)) t.clear()
    this.prom = { registry, viewChanges, heartbeatsMissed, notifications, csvFailovers, sessionsReclaimed, smbOps, smbLatency }
    return this.prom
  }

  /** One protocol event, as the node logs it. */
  observe(event: string, fields: Record<string, unknown>): void {
    switch (event) {
      case 'view.committed':
        this.count('viewChanges', '')
        break
      case 'peer.silent':
        this.count('heartbeatsMissed', String(fields.peer ?? ''))
        break
      case 'witness.notify.sent':
        if (typeof fields.type === 'number') this.count('notifications', MESSAGE_TYPE_NAMES[fields.type] ?? String(fields.type))
        break
      case 'csv.failover':
        this.count('csvFailovers', String(fields.csv ?? ''))
        break
      case 'smb.session.reclaimed':
      case 'smb2.session.reclaimed':
        this.count('sessionsReclaimed', '')
        break
    }
  }

  /** One event on a counter with one label (or none: ''), into prom-client once it is loaded. */
  private count(metric: keyof NodeMetrics['early'], label: string): void {
    if (!this.prom) return tally(this.early[metric], label)
    const counter = this.prom[metric]
    if (metric === 'heartbeatsMissed') counter.inc({ peer: label })
    else if (metric === 'notifications') counter.inc({ type: label })
    else if (metric === 'csvFailovers') counter.inc({ csv: label })
    else counter.inc()
  }

  smbOperation(op: string, seconds: number, outcome: string): void {
    const { smbOps, smbLatency } = this.metrics()
    smbOps.inc({ op, outcome })
    smbLatency.observe({ op }, seconds)
  }

  async listen(address: string, port: number): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /metrics\n')
        return
      }
      const { registry } = this.metrics()
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
      )
    })
    this.server = server
    await listenTcp(server, address, port)
  }

  close(): void {
    this.server?.close()
    this.server?.closeAllConnections()
  }
}
