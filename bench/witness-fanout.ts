// bench/witness-fanout: N registrations (default 10,000) spread over a cluster of --nodes
// (default 3), each with one AsyncNotify outstanding. Registration i watches its own data node
// (node i mod N) and registers, as the failover client does, with a witness node picked at
// random among the others (core/failover/witness-choice). Then one node that is not the leader
// is killed, and the bench reports, for the registrations watching it: the delay from the
// cluster's down-declaration (the earliest node.declared.down line for it in any survivor's
// log) to each notification as sent (the witness nodes' log lines, or their
// witness.notify.batch histograms for a large fan-out) and as received by the bench's
// clients; registrations/s; and every node's RSS.
//
// It never fails for a reason of its own: it waits on conditions (every AsyncNotify outstanding
// on its node, a down-declaration in a log, every notification received) with generous
// deadlines, and when one is not met it says which (a missing declaration names the logs that
// lack it; missing notifications are reported as a count, not thrown).
//
// The clients speak --wire dcerpc (the default: ncacn_ip_tcp, SPNEGO/NTLMSSP sealed at packet
// privacy, as Windows clients and smbtorture reach the witness) or --wire grpc. On DCE/RPC each
// association carries at most REGISTRATIONS_PER_ASSOCIATION_MAX registrations (the server
// takes 64 calls in flight per connection), and every association is opened, bound and
// authenticated at once before the clock starts (connectMs says how long that took). The
// clients run in --client-threads worker threads (default 3), the witness nodes dealt out
// among them. registrationCpuUs is the CPU a registration cost the nodes and the bench's
// clients while registering: on a shared machine the rate depends on the share it got.
//
// Measured with the gRPC wire (issue 16): grpc-js's per-call cost in the bench's one client
// thread bounded registrations (634-1,287/s) and the receive delay (its thousands of calls
// dropped by the killed node fail one by one); the nodes were mostly idle.
//
//   node dist/bench/witness-fanout.js [--registrations 10000] [--nodes 3] [--wire dcerpc|grpc] [--channels 8 (grpc)] [--client-threads 3] [--out file]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { DcerpcClientError, DcerpcWitnessClient } from '../client/dcerpc-witness-client.js'
import { WitnessClient } from '../client/witness-client.js'
import { FAULT } from '../protocol/dcerpc/pdu-codec.js'
import { WIN_ERROR } from '../protocol/swn/win-errors.js'
import { Cluster } from '../cluster/cluster.js'
import { waitUntil } from '../cluster/processes.js'
import { witnessCandidates } from '../core/failover/witness-choice.js'
import { RESOURCE_STATE } from '../protocol/swn/message-buffer.js'
import { WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S } from '../protocol/swn/witness-calls.js'
import { processCpuMs } from '../runtime/process-cpu.js'

/** gRPC channels the bench opens to each witness node (one TCP connection each), unless --channels says otherwise. */
const CHANNELS_PER_NODE = 8
/**
 * Client worker threads, unless --client-threads says otherwise: one per witness node of a
 * 3-node cluster, as separate client machines would be. Measured on this loaded 2-core machine
 * (load 12-13), 3 threads received the 3,333 notifications with p99 399-461 ms against
 * 391-668 ms for one thread, at the same registration rate (2,664-2,718/s against
 * 2,481-3,259/s), each registration costing the bench's clients 118-123 µs of CPU against 80-95.
 */
const CLIENT_THREADS = 3
/** RegisterEx calls the bench keeps in flight. */
const REGISTER_CONCURRENCY = 512
/** Registrations the cluster takes per second at the least before the bench gives up waiting on them (a very slow machine). */
const REGISTER_DEADLINE_FLOOR_MS = 60_000
const TARGETS = { sentP99Ms: 250, receivedP99Ms: 500, registrationsPerSecond: 5000, rssMaxMb: 200 }

/** CPU time a process has used so far (user + system, all threads), in ms; -1 if it is gone. */
function cpuMs(pid: number): number {
  return processCpuMs(pid) ?? -1
}

function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
    return line ? Math.round(Number(line.replace(/\D+/g, '')) / 1024) : -1
  } catch {
    return -1
  }
}

function quantiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b)
  const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10)
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))])
  return { n: s.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: round(s[s.length - 1]) }
}

interface LogLine {
  readonly event: string
  readonly mono: number
  readonly [field: string]: unknown
}

function readLog(dir: string, id: string): LogLine[] {
  let text = ''
  try {
    text = readFileSync(join(dir, 'logs', `${id}.ndjson`), 'utf8')
  } catch {
    return []
  }
  const lines: LogLine[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"event":"witness.') && !line.includes('node.declared.down')) continue
    try {
      lines.push(JSON.parse(line) as LogLine)
    } catch {
      // A line being written as we read: the next poll sees it whole.
    }
  }
  return lines
}

/** The earliest declaration of `victim` down in the survivors' logs, or which logs lack one. */
function declaredDown(dir: string, survivors: readonly string[], victim: string): { mono: number; by: string } | { missingIn: string[] } {
  let found: { mono: number; by: string } | null = null
  for (const id of survivors) {
    const line = readLog(dir, id).find((l) => l.event === 'node.declared.down' && l.peer === victim)
    if (line && (found === null || line.mono < found.mono)) found = { mono: line.mono, by: id }
  }
  return found ?? { missingIn: [...survivors] }
}

/** One registration the bench makes: which data node it watches and which witness node it registers with. */
interface PlannedRegistration {
  readonly i: number
  readonly dataIp: string
  readonly witnessId: string
}

/** Which front the bench's clients speak: DCE/RPC (ncacn_ip_tcp, sealed NTLMSSP/SPNEGO, as Windows clients) or gRPC. */
type Wire = 'dcerpc' | 'grpc'

/** A witness node as a worker reaches it. */
interface WitnessEndpoint {
  readonly address: string
  /** The gRPC witness port or the DCE/RPC port, as the wire needs. */
  readonly port: number
}

interface WorkerSetup {
  readonly wire: Wire
  readonly plan: readonly PlannedRegistration[]
  /** Witness node id -> its endpoint on the bench's wire. */
  readonly endpoints: Readonly<Record<string, WitnessEndpoint>>
  readonly credential: { readonly user: string; readonly password: string }
  readonly victimIp: string
  readonly concurrency: number
  /** gRPC: channels per witness node. DCE/RPC: as many associations as the registrations need (see REGISTRATIONS_PER_ASSOCIATION_MAX). */
  readonly channelsPerNode: number
}

type FromWorker =
  | { readonly kind: 'ready'; readonly connectMs: number; readonly connections: number }
  | { readonly kind: 'registered'; readonly failures: number; readonly error: string }
  | { readonly kind: 'notified'; readonly atMono: readonly number[]; readonly other: number; readonly timeouts: number; readonly failures: Readonly<Record<string, number>> }

type ToWorker = { readonly kind: 'go' } | { readonly kind: 'close' }

/** How often a worker passes on the receive times it collected. */
const WORKER_REPORT_MS = 25

/**
 * Registrations multiplexed on one DCE/RPC association. Each has one call in flight at a time
 * (its RegisterEx, then its AsyncNotify), and the server takes at most 64 calls in flight on
 * one connection (server/dcerpc/rpc-connection.ts).
 */
const REGISTRATIONS_PER_ASSOCIATION_MAX = 56

/** One registration's calls on the bench's wire, with the wire's failures turned into text. */
interface BenchWitnessClient {
  registerEx(p: PlannedRegistration): Promise<{ readonly key: string } | { readonly error: string; readonly notServing: boolean }>
  /** One AsyncNotify: what it answered, or why it failed. */
  asyncNotify(key: string): Promise<{ readonly result: number; readonly unavailable: boolean } | { readonly error: string; readonly notServing: boolean }>
  close(): void
}

function registerExArgs(p: PlannedRegistration) {
  return { netName: 'SOFS', ipAddress: p.dataIp, clientComputerName: `bench-${p.i}`, keepAliveTimeoutS: WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S }
}

function unavailableIn(notify: { readonly resourceChanges: readonly { readonly changeType: number }[] } | null): boolean {
  return notify !== null && notify.resourceChanges.some((c) => c.changeType === RESOURCE_STATE.UNAVAILABLE)
}

function grpcBenchClient(client: WitnessClient): BenchWitnessClient {
  const failure = (err: Error) => ({ error: `${(err as { code?: number }).code ?? ''} ${err.message.slice(0, 60)}`, notServing: (err as { code?: number }).code === 14 && /not serving/.test(err.message) })
  return {
    registerEx: (p) =>
      client.registerEx(registerExArgs(p)).then(
        (r) => (r.result.code === 0 ? { key: r.key } : { error: `RegisterEx ${r.result.name}`, notServing: false }),
        failure,
      ),
    asyncNotify: (key) =>
      client.asyncNotify(key, 600_000).then(
        (n) => ({ result: n.result.code, unavailable: n.resourceChanges.some((c) => c.changeType === RESOURCE_STATE.UNAVAILABLE) }),
        failure,
      ),
    close: () => client.close(),
  }
}

function dcerpcBenchClient(client: DcerpcWitnessClient): BenchWitnessClient {
  // A node without quorum or lease faults the call with CANT_PERFORM (witness-rpc-interface).
  const failure = (err: Error) => ({
    error: err instanceof DcerpcClientError ? `${err.kind} ${err.message.replace(/call \d+ /, '').slice(0, 60)}` : err.message.slice(0, 60),
    notServing: err instanceof DcerpcClientError && err.kind === 'fault' && err.status === FAULT.CANT_PERFORM,
  })
  return {
    registerEx: (p) =>
      client.registerEx(registerExArgs(p)).then(
        (r) => (r.result === WIN_ERROR.SUCCESS ? { key: r.key } : { error: `RegisterEx 0x${r.result.toString(16)}`, notServing: false }),
        failure,
      ),
    asyncNotify: (key) =>
      client.asyncNotify(key, 600_000).then(
        (n) => ({ result: n.result, unavailable: unavailableIn(n.notify) }),
        failure,
      ),
    close: () => client.close(),
  }
}

/** Every witness node's connections, opened (and, on DCE/RPC, bound and authenticated) all at once. */
async function openClients(setup: WorkerSetup): Promise<Map<string, BenchWitnessClient[]>> {
  const pools = new Map<string, BenchWitnessClient[]>()
  await Promise.all(
    Object.entries(setup.endpoints).map(async ([id, endpoint]) => {
      if (setup.wire === 'grpc') {
        const clients = Array.from({ length: setup.channelsPerNode }, () => new WitnessClient(`${endpoint.address}:${endpoint.port}`, setup.credential, { 'grpc.use_local_subchannel_pool': 1 }))
        // Connect every channel before the clock starts.
        await Promise.all(clients.map((c) => c.getInterfaceList().catch(() => undefined)))
        pools.set(id, clients.map(grpcBenchClient))
        return
      }
      const count = Math.max(1, Math.ceil(setup.plan.filter((p) => p.witnessId === id).length / REGISTRATIONS_PER_ASSOCIATION_MAX))
      // Sealed (packet privacy), SPNEGO-wrapped NTLMSSP: the client's defaults, as smbtorture binds.
      const auth = { user: setup.credential.user, password: setup.credential.password }
      const clients = await Promise.all(Array.from({ length: count }, () => DcerpcWitnessClient.connect(endpoint.address, endpoint.port, { auth, callTimeoutMs: 60_000 })))
      pools.set(id, clients.map(dcerpcBenchClient))
    }),
  )
  return pools
}

/** A client worker: registers its share, keeps one AsyncNotify outstanding per registration, reports receive times. */
async function clientWorker(setup: WorkerSetup): Promise<void> {
  // Thousands of calls fail at once when their node is killed; their stacks tell nothing.
  Error.stackTraceLimit = 0
  const port = parentPort
  if (!port) throw new Error('no parent port')
  const post = (m: FromWorker) => port.postMessage(m)
  const connectStarted = performance.now()
  const pools = await openClients(setup)
  const connectMs = Math.round(performance.now() - connectStarted)
  let received: number[] = []
  let other = 0
  let timeouts = 0
  const failures = new Map<string, number>()
  const report = setInterval(() => {
    if (received.length === 0 && failures.size === 0 && other === 0 && timeouts === 0) return
    post({ kind: 'notified', atMono: received, other, timeouts, failures: Object.fromEntries(failures) })
    received = []
    other = 0
    timeouts = 0
  }, WORKER_REPORT_MS)
  let closing = false
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'close') {
      closing = true
      clearInterval(report)
      for (const c of [...pools.values()].flat()) c.close()
      port.close()
    }
  })
  await new Promise<void>((resolve) => {
    port.once('message', (m: ToWorker) => {
      if (m.kind === 'go') resolve()
    })
    post({ kind: 'ready', connectMs, connections: [...pools.values()].reduce((n, p) => n + p.length, 0) })
  })
  // Registration k of a witness node goes on connection floor(k / per-connection share): on
  // DCE/RPC no association carries more than REGISTRATIONS_PER_ASSOCIATION_MAX.
  const clientOf = new Map<number, BenchWitnessClient>()
  const seen = new Map<string, number>()
  for (const p of setup.plan) {
    const pool = pools.get(p.witnessId) as BenchWitnessClient[]
    const k = seen.get(p.witnessId) ?? 0
    seen.set(p.witnessId, k + 1)
    clientOf.set(p.i, setup.wire === 'dcerpc' ? pool[Math.floor(k / REGISTRATIONS_PER_ASSOCIATION_MAX)] : pool[p.i % pool.length])
  }
  let next = 0
  let error = ''
  await Promise.all(
    Array.from({ length: Math.min(setup.concurrency, setup.plan.length) }, async () => {
      while (next < setup.plan.length && error === '') {
        const p = setup.plan[next++]
        const client = clientOf.get(p.i) as BenchWitnessClient
        const r = await withRetries(() => client.registerEx(p))
        if ('error' in r) {
          error = `RegisterEx ${p.i} on ${p.witnessId}: ${r.error}`
          break
        }
        // As a client does: AsyncNotify right after the registration (an unused one is dropped
        // after 30 s), and again after each keep-alive TIMEOUT.
        const watchesVictim = p.dataIp === setup.victimIp
        const listen = (): void => {
          void client.asyncNotify(r.key).then((n) => {
            if ('error' in n) {
              if (!closing && n.notServing) {
                setTimeout(listen, NOT_SERVING_RETRY_MS)
                return
              }
              failures.set(n.error, (failures.get(n.error) ?? 0) + 1)
              return
            }
            if (n.result === WIN_ERROR.TIMEOUT) {
              timeouts++
              if (!closing) listen()
            } else if (watchesVictim && n.unavailable) received.push(performance.timeOrigin + performance.now())
            else other++
          })
        }
        listen()
      }
    }),
  )
  post({ kind: 'registered', failures: error === '' ? 0 : 1, error })
}

/**
 * A node of a loaded machine may briefly lose its lease (its heartbeats wait behind thousands
 * of calls) and refuse calls meanwhile (gRPC UNAVAILABLE, DCE/RPC fault CANT_PERFORM); a client
 * retries, and so does the bench.
 */
const NOT_SERVING_RETRY_MS = 100
const NOT_SERVING_RETRIES_MAX = 100

async function withRetries<T>(call: () => Promise<T | { readonly error: string; readonly notServing: boolean }>): Promise<T | { readonly error: string; readonly notServing: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const r = await call()
    if (typeof r !== 'object' || r === null || !('notServing' in r) || !r.notServing || attempt >= NOT_SERVING_RETRIES_MAX) return r
    await new Promise((resolve) => setTimeout(resolve, NOT_SERVING_RETRY_MS))
  }
}

/** The main thread's handle on the client workers. */
class ClientWorkers {
  readonly notifiedAt: number[] = []
  otherAnswers = 0
  keepAliveTimeouts = 0
  /** Per worker: how long opening (and binding) its connections took, and how many. */
  readonly connected: Array<{ readonly connectMs: number; readonly connections: number }> = []
  readonly failures = new Map<string, number>()
  private readonly workers: Worker[] = []
  private readonly registered: Array<Promise<string>> = []
  private readonly ready: Array<Promise<void>> = []

  constructor(setups: readonly WorkerSetup[]) {
    for (const setup of setups) {
      const worker = new Worker(new URL(import.meta.url), { workerData: setup })
      this.workers.push(worker)
      let onReady!: () => void
      let onRegistered!: (error: string) => void
      this.ready.push(new Promise((r) => (onReady = r)))
      this.registered.push(new Promise((r) => (onRegistered = r)))
      worker.on('message', (m: FromWorker) => {
        if (m.kind === 'ready') {
          this.connected.push({ connectMs: m.connectMs, connections: m.connections })
          onReady()
        } else if (m.kind === 'registered') onRegistered(m.error)
        else {
          this.notifiedAt.push(...m.atMono)
          this.otherAnswers += m.other
          this.keepAliveTimeouts += m.timeouts
          for (const [why, n] of Object.entries(m.failures)) this.failures.set(why, n)
        }
      })
      worker.on('error', (err) => {
        onReady()
        onRegistered(`client worker: ${err.message}`)
      })
    }
  }

  /** Starts every worker's registrations once all are connected; resolves when all are registered. */
  async register(onStart: () => void): Promise<{ seconds: number; errors: string[] }> {
    await Promise.all(this.ready)
    onStart()
    const started = performance.now()
    for (const w of this.workers) w.postMessage({ kind: 'go' } satisfies ToWorker)
    const errors = (await Promise.all(this.registered)).filter((e) => e !== '')
    return { seconds: (performance.now() - started) / 1000, errors }
  }

  async close(): Promise<void> {
    for (const w of this.workers) w.postMessage({ kind: 'close' } satisfies ToWorker)
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      registrations: { type: 'string', default: '10000' },
      nodes: { type: 'string', default: '3' },
      channels: { type: 'string', default: String(CHANNELS_PER_NODE) },
      'client-threads': { type: 'string', default: String(CLIENT_THREADS) },
      wire: { type: 'string', default: 'dcerpc' },
      out: { type: 'string' },
    },
  })
  const wire = values.wire as Wire
  if (wire !== 'dcerpc' && wire !== 'grpc') throw new Error(`--wire must be dcerpc or grpc, not ${values.wire}`)
  const threads = Number(values['client-threads'])
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--client-threads must be a positive integer, not ${values['client-threads']}`)
  const channelsPerNode = Number(values.channels)
  if (!Number.isInteger(channelsPerNode) || channelsPerNode < 1) throw new Error(`--channels must be a positive integer, not ${values.channels}`)
  const total = Number(values.registrations)
  const nodeCount = Number(values.nodes)
  if (!Number.isInteger(total) || total < 1) throw new Error(`--registrations must be a positive integer, not ${values.registrations}`)
  if (!Number.isInteger(nodeCount) || nodeCount < 3) throw new Error(`--nodes must be an integer of at least 3, not ${values.nodes}`)
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100)
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-fanout-'))
  const cluster = await Cluster.up({ dir, nodes: nodeCount })
  let workers: ClientWorkers | null = null
  try {
    const status = await cluster.waitFor((s) => s.quorum && s.leader !== '' && s.nodes.every((n) => n.serving), 30_000)
    const ids = status.nodes.map((n) => n.id)
    // The victim is not the leader, so that a survivor declares it down without an election first.
    const victim = [...ids].reverse().find((id) => id !== status.leader) as string
    const survivors = ids.filter((id) => id !== victim)
    const creds = cluster.credentials()
    if (!creds) throw new Error('no credentials')
    const ipOf = new Map(ids.map((id) => [id, cluster.nodeConfig(id).clientAddress]))
    const idOfIp = new Map(ids.map((id) => [cluster.nodeConfig(id).clientAddress, id]))
    const victimIp = ipOf.get(victim) as string
    // Each data node's interface list, as a failover client reads it before registering.
    const interfaces = new Map<string, { ipv4: string; state: number; flags: number }[]>()
    for (const id of ids) {
      const n = cluster.nodeConfig(id)
      const lister = new WitnessClient(`${n.clientAddress}:${n.witnessPort}`, creds.users[0])
      const list = await lister.getInterfaceList().finally(() => lister.close())
      interfaces.set(id, list.interfaces.map((i) => ({ ipv4: i.ipv4, state: i.state, flags: i.flags })))
    }
    const rssIdle = Object.fromEntries(ids.map((id) => [id, rssMb(cluster.pidOf(id))]))

    // Registration i watches node i mod N, on a witness node the client's policy picks.
    const plan: PlannedRegistration[] = Array.from({ length: total }, (_, i) => {
      const dataId = ids[i % ids.length]
      const witnessIp = witnessCandidates(interfaces.get(dataId) ?? [], ipOf.get(dataId) as string, { lostWitnessIp: '' }, Math.random())[0]
      return { i, dataIp: ipOf.get(dataId) as string, witnessId: idOfIp.get(witnessIp) as string }
    })
    const perWitness = Object.fromEntries(ids.map((id) => [id, plan.filter((p) => p.witnessId === id).length]))
    const watching = plan.filter((p) => p.dataIp === victimIp)
    const watchingPerWitness = Object.fromEntries(survivors.map((id) => [id, watching.filter((p) => p.witnessId === id).length]))
    const threadOf = (witnessId: string) => ids.indexOf(witnessId) % threads
    workers = new ClientWorkers(
      Array.from({ length: Math.min(threads, ids.length) }, (_, t) => ({
        plan: plan.filter((p) => threadOf(p.witnessId) === t),
        wire,
        endpoints: Object.fromEntries(
          ids
            .filter((id) => threadOf(id) === t)
            .map((id) => {
              const n = cluster.nodeConfig(id)
              return [id, { address: n.clientAddress, port: wire === 'grpc' ? n.witnessPort : (n.dcerpcPort as number) }]
            }),
        ),
        credential: creds.users[0],
        victimIp,
        concurrency: Math.ceil(REGISTER_CONCURRENCY / Math.min(threads, ids.length)),
        channelsPerNode,
      })),
    )
    // CPU used while registering, by the nodes and by the bench's clients (this process's threads):
    // what a registration costs, whatever share of the machine the run got.
    let cpuAtStart: { nodes: number; bench: NodeJS.CpuUsage } = { nodes: 0, bench: process.cpuUsage() }
    const nodesCpuMs = () => ids.reduce((sum, id) => sum + Math.max(0, cpuMs(cluster.pidOf(id))), 0)
    const registering = await workers.register(() => {
      cpuAtStart = { nodes: nodesCpuMs(), bench: process.cpuUsage() }
    })
    const benchCpu = process.cpuUsage(cpuAtStart.bench)
    const registerCpuMs = { nodes: nodesCpuMs() - cpuAtStart.nodes, benchClients: Math.round((benchCpu.user + benchCpu.system) / 1000) }
    if (registering.errors.length > 0) throw new Error(registering.errors.join('; '))
    const registerSeconds = registering.seconds
    const { notifiedAt, failures } = workers

    // Every AsyncNotify of a registration watching the victim is outstanding on its witness node.
    const outstanding = async (): Promise<number> => {
      let n = 0
      for (const id of survivors) {
        // A node busy taking thousands of calls may miss the admin call's deadline: ask again.
        const listed = await cluster
          .admin(id)
          .witnessList({ ipAddress: `^${victimIp.replace(/\./g, '\\.')}$` })
          .catch(() => null)
        if (!listed) return -1
        n += listed.registrations.filter((r) => r.asyncNotifyPending).length
      }
      return n
    }
    const allOutstanding = await waitUntil(async () => (await outstanding()) >= watching.length, Math.max(REGISTER_DEADLINE_FLOOR_MS, total), 200)
    if (!allOutstanding) throw new Error(`only ${await outstanding()} of ${watching.length} AsyncNotify calls outstanding after ${Math.max(REGISTER_DEADLINE_FLOOR_MS, total)} ms (failed: ${JSON.stringify(Object.fromEntries(failures))})`)
    const rssLoaded = Object.fromEntries(ids.map((id) => [id, rssMb(cluster.pidOf(id))]))
    const loadAtFault = loadavg().map((x) => Math.round(x * 100) / 100)

    cluster.kill(victim)
    // The declaration: any survivor may make it (leadership can change under load).
    let declaration = declaredDown(dir, survivors, victim)
    await waitUntil(() => 'mono' in (declaration = declaredDown(dir, survivors, victim)), 30_000, 50)
    if (!('mono' in declaration)) throw new Error(`no down-declaration of ${victim} within 30 s in the logs of ${declaration.missingIn.join(', ')}`)
    const declared = declaration.mono
    const everyNotification = await waitUntil(() => notifiedAt.length >= watching.length, 60_000, 20)

    // The witness nodes' side: when each applied the view and handed over each notification.
    const sentDelays: number[] = []
    const stages: Record<string, unknown> = {}
    const survivorsDone = await waitUntil(
      () => survivors.every((id) => (watchingPerWitness[id] ?? 0) === 0 || readLog(dir, id).some((l) => l.mono >= declared && (l.event === 'witness.notify.batch' || l.event === 'witness.notify.sent'))),
      10_000,
      50,
    )
    for (const id of survivors) {
      const parsed = readLog(dir, id).filter((l) => l.mono >= declared)
      const changed = parsed.find((l) => l.event === 'witness.node.changed' && l.changedNode === victim)
      const delays: number[] = []
      for (const l of parsed) {
        if (l.event === 'witness.notify.sent' && l.type !== null) delays.push(l.mono - declared)
        if (l.event === 'witness.notify.batch') {
          for (const [offsetMs, n] of l.sentHistogram as Array<[number, number]>) {
            for (let k = 0; k < n; k++) delays.push((l.startMono as number) + offsetMs + (l.bucketMs as number) - declared)
          }
        }
      }
      sentDelays.push(...delays)
      const q = quantiles(delays)
      stages[id] = {
        registrations: perWitness[id],
        watchingVictim: watchingPerWitness[id],
        viewAppliedMs: changed ? Math.round(changed.mono - declared) : null,
        sent: q.n,
        sentP50Ms: q.p50Ms,
        sentP99Ms: q.p99Ms,
        lastSentMs: q.maxMs,
      }
    }
    const rssAfter = Object.fromEntries(survivors.map((id) => [id, rssMb(cluster.pidOf(id))]))
    const rssMax = Math.max(...Object.values(rssLoaded), ...Object.values(rssAfter))
    const sent = quantiles(sentDelays)
    const received = quantiles(notifiedAt.map((t) => t - declared))
    const registrationsPerSecond = Math.round(total / registerSeconds)
    const result = {
      bench: 'witness-fanout',
      node: process.version,
      nodes: nodeCount,
      wire,
      channelsPerNode: wire === 'grpc' ? channelsPerNode : null,
      connections: workers.connected.reduce((n, c) => n + c.connections, 0),
      connectMs: Math.max(...workers.connected.map((c) => c.connectMs)),
      clientThreads: Math.min(threads, ids.length),
      registrations: total,
      victim,
      declaredBy: declaration.by,
      watchingVictim: watching.length,
      notified: notifiedAt.length,
      missing: watching.length - notifiedAt.length,
      otherAnswers: workers.otherAnswers,
      keepAliveTimeouts: workers.keepAliveTimeouts,
      asyncNotifyFailures: Object.fromEntries(failures),
      waits: { everyNotification, survivorsLogged: survivorsDone },
      registrationsPerSecond,
      registrationCpuUs: {
        nodes: Math.round((registerCpuMs.nodes * 1000) / total),
        benchClients: Math.round((registerCpuMs.benchClients * 1000) / total),
        note: 'CPU per registration (RegisterEx + its AsyncNotify) while registering, summed over the nodes and over the bench process; 100 Hz ticks for the nodes',
      },
      notificationSentAfterDeclaredDown: { ...sent, perNode: stages },
      notificationReceivedAfterDeclaredDown: received,
      rssMb: { idle: rssIdle, loaded: rssLoaded, afterNotify: rssAfter, max: rssMax },
      loadAverage: { before: loadBefore, atFault: loadAtFault, after: loadavg().map((x) => Math.round(x * 100) / 100) },
      targets: TARGETS,
      meets: {
        sentP99: sent.p99Ms !== null && sent.p99Ms <= TARGETS.sentP99Ms,
        receivedP99: received.p99Ms !== null && received.p99Ms <= TARGETS.receivedP99Ms,
        registrationsPerSecond: registrationsPerSecond >= TARGETS.registrationsPerSecond,
        rss: rssMax <= TARGETS.rssMaxMb,
        everyNotification: notifiedAt.length === watching.length,
      },
    }
    const json = JSON.stringify(result, null, 2)
    if (values.out) writeFileSync(values.out, `${json}\n`)
    process.stdout.write(`${json}\n`)
  } finally {
    await workers?.close()
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (!isMainThread) {
  clientWorker(workerData as WorkerSetup).catch((err: Error) => {
    parentPort?.postMessage({ kind: 'registered', failures: 1, error: err.message } satisfies FromWorker)
  })
} else {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`bench witness-fanout: ${err.message}\n`)
      process.exit(1)
    },
  )
}
