// The server of `swlab dashboard`: a loopback-only HTTP server with the page, the view model as
// JSON, server-sent events carrying it about every intervalMs, and admin actions (kill, pause,
// resume, start, partition, heal, client-move) that need the cluster's admin credential. It
// follows the logs incrementally and never lets an error of one request or tick stop it.
import { createHash, timingSafeEqual } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { Cluster, ClusterError, type ClusterStatus } from '../../cluster/cluster.js'
import { isLoopback } from '../../cluster/config.js'
import { PASSWORD_METADATA_KEY, USER_METADATA_KEY } from '../../cluster/credentials.js'
import { DASHBOARD_CSP, renderDashboardPage } from './dashboard-page.js'
import { buildDashboardState, foldClientEvents, isClientLine, type ClientTrack, type DashboardState } from './dashboard-state.js'
import { NdjsonTail } from './ndjson-tail.js'
import { monoNowMs } from '../../runtime/clock.js'
import type { LogLine } from '../../cluster/run-logs.js'

export const DEFAULT_INTERVAL_MS = 500
export const SSE_CLIENTS_MAX = 32
export const ACTION_BODY_MAX_BYTES = 16 * 1024
/** Recent log lines kept for the events list (the view shows the newest 40 of them). */
export const LINES_MAX = 400
/** Log files followed: the nodes', the clients' and the harness's, with room to spare. */
const LOG_FILES_MAX = 64
/** A stream whose reader lags this far behind is dropped rather than buffered without end. */
const SSE_BUFFERED_MAX_BYTES = 1024 * 1024
const CONNECTIONS_MAX = 128

export const DASHBOARD_ACTIONS = ['kill', 'pause', 'resume', 'start', 'partition', 'heal', 'client-move'] as const
export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number]

export interface ActionRequest {
  readonly action: DashboardAction
  readonly node?: string
  readonly client?: string
  readonly to?: string
}

export interface DashboardServerOptions {
  readonly cluster: Cluster
  /** A loopback address (127.x.y.z or ::1); default 127.0.0.1. */
  readonly address?: string
  /** 0 (the default) lets the system choose a free port. */
  readonly port?: number
  readonly intervalMs?: number
  readonly sseClientsMax?: number
}

type Checked<T> = { ok: true; value: T } | { ok: false; error: string }

/** Checks an action body against the cluster's nodes and the clients seen in the logs. */
export function parseActionRequest(raw: unknown, nodeIds: readonly string[], clientNames: readonly string[]): Checked<ActionRequest> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: 'the body must be a JSON object' }
  const body = raw as Record<string, unknown>
  const action = body.action
  if (typeof action !== 'string' || !(DASHBOARD_ACTIONS as readonly string[]).includes(action)) {
    return { ok: false, error: `unknown action ${JSON.stringify(action)} (actions: ${DASHBOARD_ACTIONS.join(', ')})` }
  }
  for (const key of ['node', 'client', 'to'] as const) {
    if (body[key] !== undefined && typeof body[key] !== 'string') return { ok: false, error: `${key} must be a string` }
  }
  const knownNode = (key: 'node' | 'to'): string | null => {
    const id = body[key]
    return typeof id === 'string' && nodeIds.includes(id) ? id : null
  }
  const unknownNode = (key: 'node' | 'to') => ({
    ok: false as const,
    error: `${body[key] === undefined ? `${key} is required` : `unknown node ${JSON.stringify(body[key])}`} (nodes: ${nodeIds.join(', ')})`,
  })
  switch (action as DashboardAction) {
    case 'heal':
      return { ok: true, value: { action: 'heal' } }
    case 'client-move': {
      const client = body.client
      if (typeof client !== 'string' || !clientNames.includes(client)) {
        return { ok: false, error: client === undefined ? 'client is required' : `unknown client ${JSON.stringify(client)}` }
      }
      const to = knownNode('to')
      if (to === null) return unknownNode('to')
      return { ok: true, value: { action: 'client-move', client, to } }
    }
    default: {
      const node = knownNode('node')
      if (node === null) return unknownNode('node')
      return { ok: true, value: { action: action as DashboardAction, node } }
    }
  }
}

/** Same length digests, so that the comparison takes the same time whatever was sent. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest()
  const b = createHash('sha256').update(expected, 'utf8').digest()
  return timingSafeEqual(a, b)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.replace(/\s*\n\s*/g, ' ') : String(err)
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

export class DashboardServer {
  private readonly server: Server
  private readonly tail = new NdjsonTail()
  private readonly streams = new Set<ServerResponse>()
  /** The newest LINES_MAX log lines of all files, oldest first. */
  private lines: LogLine[] = []
  private clients: ClientTrack[] = []
  private startMono = Number.POSITIVE_INFINITY
  private current: DashboardState | null = null
  private currentJson = ''
  private timer: NodeJS.Timeout | null = null
  private ticking: Promise<void> | null = null
  private actionRunning = false
  private closed = false
  private port = 0

  private constructor(
    private readonly cluster: Cluster,
    private readonly address: string,
    private readonly intervalMs: number,
    private readonly sseClientsMax: number,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.sendJson(res, 500, { ok: false, error: `internal error: ${errorText(err)}` }))
    })
    this.server.maxConnections = CONNECTIONS_MAX
    this.server.headersTimeout = 10_000
    this.server.requestTimeout = 30_000
    this.server.on('clientError', (_err, socket) => socket.destroy())
  }

  /** Starts listening and the first tick; refuses any address that is not loopback. */
  static async start(opts: DashboardServerOptions): Promise<DashboardServer> {
    const address = opts.address ?? '127.0.0.1'
    if (!isLoopback(address)) {
      throw new ClusterError(`--address must be a loopback address (127.x.y.z or ::1), got ${JSON.stringify(address)}: the dashboard can kill nodes and has no TLS`)
    }
    const port = opts.port ?? 0
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ClusterError(`--port must be an integer from 0 to 65535 (got ${port})`)
    const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    if (!Number.isInteger(intervalMs) || intervalMs < 50 || intervalMs > 60_000) throw new ClusterError(`intervalMs must be 50..60000 (got ${intervalMs})`)
    const dashboard = new DashboardServer(opts.cluster, address, intervalMs, opts.sseClientsMax ?? SSE_CLIENTS_MAX)
    await new Promise<void>((resolve, reject) => {
      dashboard.server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ClusterError(`cannot listen on ${hostForUrl(address)}:${port}: ${err.code ?? err.message}`)),
      )
      dashboard.server.listen(port, address, () => resolve())
    })
    dashboard.server.on('error', () => undefined)
    const bound = dashboard.server.address()
    dashboard.port = typeof bound === 'object' && bound ? bound.port : port
    await dashboard.runTick()
    dashboard.schedule()
    return dashboard
  }

  get url(): string {
    return `http://${hostForUrl(this.address)}:${this.port}/`
  }

  /** The latest view model. */
  state(): DashboardState {
    return this.current as DashboardState
  }

  /** Open event streams (bounded by sseClientsMax). */
  get streamCount(): number {
    return this.streams.size
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    await this.ticking
    for (const res of this.streams) res.end()
    this.streams.clear()
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    this.cluster.closeAdmins()
  }

  // ---- ticks: logs and status into the view model ----

  private schedule(): void {
    if (this.closed) return
    this.timer = setTimeout(() => {
      void this.runTick().finally(() => this.schedule())
    }, this.intervalMs)
  }

  private runTick(): Promise<void> {
    this.ticking ??= this.tick()
      .catch(() => undefined)
      .finally(() => {
        this.ticking = null
      })
    return this.ticking
  }

  private async tick(): Promise<void> {
    try {
      await this.readLogs()
    } catch {
      // A log folder that vanished (the cluster folder was removed) leaves the last lines shown.
    }
    let status: ClusterStatus | null = null
    let statusError = ''
    try {
      status = await this.cluster.status()
    } catch (err) {
      statusError = errorText(err)
    }
    try {
      this.current = buildDashboardState({
        status,
        statusError,
        nodes: this.cluster.config.nodes,
        lines: this.lines,
        clients: this.clients,
        startMono: Number.isFinite(this.startMono) ? this.startMono : monoNowMs(),
        nowMono: monoNowMs(),
      })
    } catch (err) {
      this.current = buildDashboardState({ status: null, statusError: errorText(err), nodes: this.cluster.config.nodes, lines: [] })
    }
    this.currentJson = JSON.stringify(this.current)
    for (const res of this.streams) this.sendEvent(res)
  }

  private async readLogs(): Promise<void> {
    const dir = join(this.cluster.dir, 'logs')
    const names = (await readdir(dir)).filter((n) => n.endsWith('.ndjson')).sort().slice(0, LOG_FILES_MAX)
    const paths = new Set(names.map((n) => join(dir, n)))
    this.tail.retain(paths)
    const recent: LogLine[] = []
    for (const path of paths) {
      const fresh = await this.tail.read(path)
      if (fresh.length === 0) continue
      for (const line of fresh) if (line.mono < this.startMono) this.startMono = line.mono
      // A file is in time order: a line older than its newest LINES_MAX cannot be among the
      // newest LINES_MAX of all files, so a large backlog is cut before it is merged.
      recent.push(...fresh.slice(-LINES_MAX))
      // Client state needs every line, not only the recent ones the ring keeps.
      const clientLines = fresh.filter(isClientLine)
      if (clientLines.length > 0) this.clients = foldClientEvents(this.clients, clientLines)
    }
    if (recent.length === 0) return
    const merged = [...this.lines, ...recent].sort((a, b) => a.mono - b.mono)
    this.lines = merged.slice(-LINES_MAX)
  }

  // ---- requests ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page elsewhere could reach a loopback port through a DNS name of its own (rebinding):
    // only requests addressed to this server by a loopback name get an answer.
    if (!this.isOurHost(req.headers.host)) return this.sendJson(res, 403, { ok: false, error: 'unexpected Host header' })
    const path = (req.url ?? '/').split('?')[0]
    const route = `${req.method} ${path}`
    switch (route) {
      case 'GET /':
        return this.sendPage(res)
      case 'GET /api/state':
        if (!this.current) await this.runTick()
        return this.send(res, 200, 'application/json; charset=utf-8', this.currentJson)
      case 'GET /events':
        return this.openStream(req, res)
      case 'POST /api/action':
        return this.handleAction(req, res)
      case 'GET /favicon.ico':
        // Browsers ask for it by themselves; an empty answer keeps their consoles clean.
        res.writeHead(204, { 'cache-control': 'max-age=86400' })
        return void res.end()
      default:
        if (path === '/' || path === '/api/state' || path === '/events' || path === '/api/action') {
          return this.sendJson(res, 405, { ok: false, error: `${req.method} is not allowed on ${path}` })
        }
        return this.sendJson(res, 404, { ok: false, error: `no such page ${path}` })
    }
  }

  private isOurHost(host: string | undefined): boolean {
    if (host === undefined) return false
    let url: URL
    try {
      url = new URL(`http://${host}`)
    } catch {
      return false
    }
    const name = url.hostname.replace(/^\[|\]$/g, '')
    return (name === 'localhost' || isLoopback(name)) && Number(url.port || 80) === this.port
  }

  private sendPage(res: ServerResponse): void {
    const adminUser = this.cluster.credentials()?.admin.user ?? 'admin'
    res.setHeader('content-security-policy', DASHBOARD_CSP)
    res.setHeader('referrer-policy', 'no-referrer')
    this.send(res, 200, 'text/html; charset=utf-8', renderDashboardPage(adminUser))
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= this.sseClientsMax) {
      return this.sendJson(res, 503, { ok: false, error: `too many event streams (at most ${this.sseClientsMax})` })
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    })
    res.write('retry: 1000\n\n')
    this.streams.add(res)
    const forget = () => this.streams.delete(res)
    req.on('close', forget)
    res.on('close', forget)
    res.on('error', forget)
    if (this.currentJson !== '') this.sendEvent(res)
  }

  private sendEvent(res: ServerResponse): void {
    try {
      if (res.writableLength > SSE_BUFFERED_MAX_BYTES) {
        this.streams.delete(res)
        res.destroy()
        return
      }
      res.write(`event: state\ndata: ${this.currentJson}\n\n`)
    } catch {
      this.streams.delete(res)
    }
  }

  private async handleAction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin
    if (origin !== undefined && !this.isOurHost(origin.replace(/^https?:\/\//, ''))) {
      return this.sendJson(res, 403, { ok: false, error: 'actions are only taken from the dashboard page' })
    }
    // An unread body is not drained: the connection closes after the answer instead.
    res.setHeader('connection', 'close')
    if (!this.authorized(req)) {
      return this.sendJson(res, 401, { ok: false, error: `the admin credential is missing or wrong (headers ${USER_METADATA_KEY}, ${PASSWORD_METADATA_KEY})` })
    }
    const body = await readBody(req, ACTION_BODY_MAX_BYTES)
    if (!body.ok) return this.sendJson(res, 400, { ok: false, error: body.error })
    res.removeHeader('connection')
    let raw: unknown
    try {
      raw = JSON.parse(body.value)
    } catch (err) {
      return this.sendJson(res, 400, { ok: false, error: `bad JSON: ${errorText(err)}` })
    }
    const nodeIds = this.cluster.config.nodes.map((n) => n.id)
    const parsed = parseActionRequest(raw, nodeIds, this.clients.map((c) => c.name))
    if (!parsed.ok) return this.sendJson(res, 400, { ok: false, error: parsed.error })
    // One action at a time: a second click while a node starts must not race the first.
    if (this.actionRunning) return this.sendJson(res, 409, { ok: false, error: 'another action is still running' })
    this.actionRunning = true
    try {
      const result = await this.perform(parsed.value, nodeIds)
      this.sendJson(res, 200, { ok: true, ...parsed.value, ...result })
    } catch (err) {
      this.sendJson(res, err instanceof ClusterError ? 409 : 500, { ok: false, error: errorText(err) })
    } finally {
      this.actionRunning = false
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const admin = this.cluster.credentials()?.admin
    const user = req.headers[USER_METADATA_KEY]
    const password = req.headers[PASSWORD_METADATA_KEY]
    if (!admin || typeof user !== 'string' || typeof password !== 'string') return false
    // Both compared every time: which of the two was wrong does not show in the timing.
    const userOk = sameSecret(user, admin.user)
    const passwordOk = sameSecret(password, admin.password)
    return userOk && passwordOk
  }

  private async perform(request: ActionRequest, nodeIds: readonly string[]): Promise<{ affected?: number; applied?: string }> {
    const { cluster } = this
    const node = request.node ?? ''
    switch (request.action) {
      case 'kill':
        cluster.kill(node)
        return {}
      case 'pause':
        cluster.pause(node)
        return {}
      case 'resume':
        cluster.resume(node)
        return {}
      case 'start':
        await cluster.start(node)
        return {}
      // Who applied it (nftables in the cluster's namespace, or the nodes themselves) goes back with the answer.
      case 'partition':
        return { applied: (await cluster.partition([[node], nodeIds.filter((id) => id !== node)])).applied }
      case 'heal':
        return { applied: (await cluster.heal()).applied }
      case 'client-move': {
        const filter = { clientComputerName: `^${escapeRegExp(request.client ?? '')}$`, applyToAll: false }
        const status = await cluster.status()
        let affected = 0
        for (const n of status.nodes.filter((x) => x.reachable)) {
          const reply = await cluster.admin(n.id).witnessAction({ action: 'client-move', filter, newNode: request.to ?? '', newIp: '' })
          if (!reply.ok) throw new ClusterError(`${n.id}: ${reply.error}`)
          affected += reply.affected
        }
        return { affected }
      }
    }
  }

  private sendJson(res: ServerResponse, code: number, value: object): void {
    this.send(res, code, 'application/json; charset=utf-8', JSON.stringify(value))
  }

  private send(res: ServerResponse, code: number, type: string, body: string): void {
    if (res.headersSent || res.destroyed) return
    res.writeHead(code, {
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    })
    res.end(body)
  }
}

/** The request body as text, refused beyond maxBytes (the rest is not read). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Checked<string>> {
  const tooLarge = { ok: false as const, error: `the body is larger than ${maxBytes} bytes` }
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return Promise.resolve(tooLarge)
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        req.removeAllListeners('data')
        req.pause()
        resolve(tooLarge)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve({ ok: true, value: Buffer.concat(chunks).toString('utf8') }))
    req.on('error', (err) => resolve({ ok: false, error: `could not read the body: ${err.message}` }))
  })
}
