// Prometheus metrics of one node (prom-client, a registry of its own): view changes, missed
// heartbeats (a peer gone silent), witness registrations and notifications by type, SMB
// operations and their latency, CSV failovers and sessions reclaimed after a client's
// failover. Counters move on the same protocol events the node logs; an HTTP listener serves
// them as Prometheus text at /metrics.
import { createServer, type Server } from 'node:http'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { MESSAGE_TYPE_NAMES } from '../protocol/swn/message-buffer.js'
import { listenTcp } from '../runtime/tcp-listen.js'

export class NodeMetrics {
  readonly registry = new Registry()
  private readonly viewChanges: Counter
  private readonly heartbeatsMissed: Counter
  private readonly notifications: Counter
  private readonly csvFailovers: Counter
  private readonly sessionsReclaimed: Counter
  private readonly smbOps: Counter
  private readonly smbLatency: Histogram
  private server: Server | null = null

  /** datagrams: the heartbeat datagrams this node sent and took so far (null: heartbeats go as gRPC calls). */
  constructor(nodeId: string, registrations: () => number, datagrams: () => { readonly sent: number; readonly received: number } | null = () => null) {
    this.registry.setDefaultLabels({ node: nodeId })
    const registers = [this.registry]
    this.viewChanges = new Counter({ name: 'swlab_view_changes_total', help: 'Cluster views this node saw committed', registers })
    this.heartbeatsMissed = new Counter({
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
    this.notifications = new Counter({
      name: 'swlab_witness_notifications_total',
      help: 'Witness notifications sent (AsyncNotify answered with news), by message type',
      labelNames: ['type'],
      registers,
    })
    this.csvFailovers = new Counter({
      name: 'swlab_csv_failovers_total',
      help: 'CSVs this node, as leader, moved off a failed owner',
      labelNames: ['csv'],
      registers,
    })
    this.sessionsReclaimed = new Counter({
      name: 'swlab_client_failovers_total',
      help: 'Client failovers that arrived here: sessions set up with a PreviousSessionId',
      registers,
    })
    this.smbOps = new Counter({ name: 'swlab_smb_operations_total', help: 'SMB operations served, by command and outcome', labelNames: ['op', 'outcome'], registers })
    this.smbLatency = new Histogram({
      name: 'swlab_smb_operation_seconds',
      help: 'SMB operation latency, by command',
      labelNames: ['op'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    })
  }

  /** One protocol event, as the node logs it. */
  observe(event: string, fields: Record<string, unknown>): void {
    switch (event) {
      case 'view.committed':
        this.viewChanges.inc()
        break
      case 'peer.silent':
        this.heartbeatsMissed.inc({ peer: String(fields.peer ?? '') })
        break
      case 'witness.notify.sent':
        if (typeof fields.type === 'number') this.notifications.inc({ type: MESSAGE_TYPE_NAMES[fields.type] ?? String(fields.type) })
        break
      case 'csv.failover':
        this.csvFailovers.inc({ csv: String(fields.csv ?? '') })
        break
      case 'smb.session.reclaimed':
      case 'smb2.session.reclaimed':
        this.sessionsReclaimed.inc()
        break
    }
  }

  smbOperation(op: string, seconds: number, outcome: string): void {
    this.smbOps.inc({ op, outcome })
    this.smbLatency.observe({ op }, seconds)
  }

  async listen(address: string, port: number): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /metrics\n')
        return
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
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
