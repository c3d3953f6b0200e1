// The typed API behind `swlab cluster|node|net`: start a cluster of detached node processes,
// read its status, inject faults, move CSVs and tear it all down. The CLI is a thin layer
// over this class, and chaos or conformance scripts can drive it from their own runners.
import { spawn } from 'node:child_process'
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { linkDelayMs } from './peer-relay.js'
import { packageRoot } from '../proto/loader.js'
import { NodeAdmin } from './admin-client.js'
import {
  DEFAULT_FUNCTIONAL_LEVEL,
  functionalLevelProblem,
  isLoopback,
  loadConfig,
  NAMESPACE_NAME,
  NODES_MAX,
  shareKindOf,
  validateConfig,
  type ClusterConfig,
  type CsvMode,
  type NodeConfig,
  type RoleConfig,
  type ServerFlavour,
  type ShareKind,
  type WitnessKind,
  type WitnessProfileName,
} from './config.js'
import { isOurProcess, killAndWait, processState, waitUntil, type ProcessState } from './processes.js'
import { DEFAULT_PROFILE, PROFILES, isProfileName, timingOf, type ProfileName } from '../core/quorum/profiles.js'
import { probeCloudWitness } from './witness/cloud-witness-client.js'
import { createCredentials, readCredentials, type ClusterCredentials } from './credentials.js'
import { faultEventsPath } from './run-logs.js'
import { CaptureError, startCapture, stopCapture, waitForCapture, type CaptureSpec } from './packet-capture.js'
import { monoNowMs } from '../runtime/clock.js'
import { readArrayStatus, releaseArrayFiles, startStorageArray, storageArraySocketPath, type LunReservationView } from './storage-array/storage-array-process.js'
import { VolumeError, applyStorageFault, clearStorageFault, createVolumes, csvUsage, csvVolumes, loopVolumeProblem, releaseVolumes, storageFaults, type StorageFault, type StorageFaultKind } from './csv-volumes.js'
import { adminSocketPath, cutProblem, nftNatRulesOf, nftRulesOf, peerLinkAddress, UNIX_SOCKET_PATH_BYTES_MAX, type CutPort, type NetCut } from './net-fault-rules.js'
import {
  applyNftRules,
  createNamespace,
  deleteNamespace,
  inNamespace,
  insideNamespace,
  listNftRules,
  namespaceNameFor,
  namespaceProblem,
  NamespaceError,
} from './network-namespace.js'

/** An expected failure of a cluster operation: its message is one line for the user. */
export class ClusterError extends Error {}

export interface UpOptions {
  readonly dir: string
  readonly nodes: number
  readonly profile?: string
  readonly witness?: WitnessKind
  /** Use this cloud witness instead of starting the bundled one. */
  readonly cloudWitnessUrl?: string
  readonly csvMode?: CsvMode
  readonly flavour?: ServerFlavour
  readonly witnessProfile?: WitnessProfileName
  /** Per-node cap on data IO served, in MB/s (default: unlimited). */
  readonly ioBandwidthMBps?: number
  readonly name?: string
  /** CSVs to create (default: one per node). */
  readonly csvs?: number
  /** First port to use; nodes take four each, then one DCE/RPC and one metrics port each. Default: free ports. */
  readonly basePort?: number
  /** Node ids to use instead of node-1 … node-N. */
  readonly nodeIds?: readonly string[]
  /** Also answer the endpoint mapper on TCP 135 of each client address (needs root or a netns). */
  readonly epm?: boolean
  /** The DCE/RPC witness also serves unauthenticated binds (default: calls below packet integrity are refused). */
  readonly witnessAllowAnonymous?: boolean
  /** The longest a node holds a witness AsyncNotify, in seconds, whatever the client's keep-alive (a test knob; default: the client's). */
  readonly witnessKeepAliveMaxS?: number
  /**
   * SMB 2/3 on TCP 445 of each client address: true requires it, false never tries (tests, which
   * run side by side), undefined (the default) takes it where it can be bound (root, a netns)
   * and a free port elsewhere.
   */
  readonly smb445?: boolean
  /** `smb2 signing` (default required). */
  readonly smb2Signing?: 'required' | 'enabled'
  /** Every SMB 3 session encrypts. */
  readonly smbEncrypt?: boolean
  /** The first three octets of the client addresses (default 127.0.1): node N gets <net>.N. */
  readonly clientNet?: string
  /** Cluster functional level 8..11 (default 10). */
  readonly functionalLevel?: number
  readonly timeoutMs?: number
  /** Record the cluster's loopback traffic into this pcapng file from before the first node starts (root). */
  readonly pcap?: string
  /** How the lab's own failover clients protect their witness calls (ClusterConfig.clientWitnessAuthLevel). */
  readonly clientWitnessAuthLevel?: 'integrity' | 'privacy'
  /** Each CSV on a loop-mounted ext4 volume of this many bytes, so that a full disk is real (root; cluster/csv-volumes.ts). */
  readonly csvSizeBytes?: number
  /**
   * Put the shared storage behind the emulated storage array (default true): writes and
   * metadata changes go through it under SCSI-3-style reservations (ClusterConfig.storageArray).
   * false: nodes write the shared folder themselves, as before issue 17 (an A/B of its cost).
   */
  readonly storageArray?: boolean
  /**
   * Run the nodes and helpers in a network namespace the cluster owns (root; ip, nsenter, nft):
   * partitions and cuts become nftables rules applied by the harness (ClusterConfig.network).
   */
  readonly netns?: boolean
}

/**
 * Who applied a network fault: the kernel (nftables rules in the cluster's namespace), the
 * harness's delay relay there (a delay: nftables sends the node's peer links through it), or
 * the nodes' own peer transport.
 */
export type FaultKind = 'nftables' | 'relay' | 'self-applied'

/** What a network fault command did. */
export interface NetFaultResult {
  readonly applied: FaultKind
  /** The cluster's namespace; null when it has none. */
  readonly namespace: string | null
  /** The rules in force after the command (nftables only). */
  readonly rules: readonly string[]
}

export interface NodeStatusView {
  readonly id: string
  /** Member state in the leader's committed view; 'down' when the node cannot be reached. */
  readonly state: 'up' | 'down'
  readonly process: ProcessState
  readonly pid: number
  readonly address: string
  readonly clusterAddress: string
  readonly peerPort: number
  readonly adminPort: number
  readonly reachable: boolean
  readonly role: string
  readonly term: number
  readonly epoch: number
  readonly quorum: boolean
  readonly serving: boolean
  readonly servingCsvs: readonly string[]
  readonly leaseRemainingMs: number
  readonly vote: number
  readonly partitionedFrom: readonly string[]
  readonly delayMs: Readonly<Record<string, number>>
  /** The SMB witness service of this node (gRPC front). */
  readonly witness: { readonly address: string; readonly port: number; readonly registrations: number }
  /** The vendor CBT service of this node (gRPC; the gRPC SMB data path's port until issue 15, the name kept for the JSON's readers). */
  readonly smb: { readonly address: string; readonly port: number }
  /** SMB 2/3 on the real wire (direct TCP); null when not served. */
  readonly smb2: { readonly address: string; readonly port: number } | null
  /** The witness service on the real wire (DCE/RPC ncacn_ip_tcp, NDR20); null when not served. */
  readonly dcerpc: { readonly address: string; readonly port: number } | null
  /** The node's Prometheus metrics URL; null when it serves none. */
  readonly metrics: string | null
}

export interface ShareStatusView {
  readonly name: string
  readonly csv: string
  /** scale-out: online on every node; general: online on its role's owner only, at the role's address. */
  readonly kind: ShareKind
  /** The share capabilities a TREE_CONNECT answers (MS-SMB2 2.2.10). */
  readonly flags: readonly string[]
  /** A general share's role, its client access point and its current owner ('' while it moves). */
  readonly role: { readonly name: string; readonly address: string; readonly smb2Port: number; readonly owner: string } | null
}

/** What `share create` takes beyond the name and CSV. */
export interface ShareOptions {
  /** Continuously available (default true). */
  readonly ca?: boolean
  readonly caTimeoutMs?: number
  /** Default scale-out. */
  readonly kind?: ShareKind
  /** A general share's role name (default FS-K), address (default 127.0.3.K) and SMB 2/3 port (default: 445 when the nodes serve it there and it is free, else a free one). */
  readonly roleName?: string
  readonly roleAddress?: string
  readonly roleSmb2Port?: number
}

/** The network of the general-use roles' addresses: role K gets 127.0.3.K (nodes: 127.0.1.N clients, 127.0.2.N cluster). */
export const ROLE_NET = '127.0.3'

export interface ClusterStatus {
  readonly name: string
  readonly dir: string
  readonly profile: ProfileName
  readonly detectionMs: number
  readonly quorum: boolean
  readonly epoch: number
  readonly term: number
  readonly leader: string
  readonly witness: { readonly kind: WitnessKind; readonly holder: string; readonly url?: string; readonly path?: string }
  readonly nodes: readonly NodeStatusView[]
  readonly csvs: readonly CsvStatusView[]
  readonly shares: readonly ShareStatusView[]
  readonly witnessRegistrations: number
  readonly csvMode: CsvMode
  readonly flavour: ServerFlavour
  readonly witnessProfile: WitnessProfileName
  readonly functionalLevel: number
  /** Where the cluster's network lives and who applies its faults; rules: those in force. status() always sets it. */
  readonly network?: {
    readonly namespace: string | null
    readonly faults: FaultKind
    readonly rules: readonly string[]
    /** Who holds back delayed messages: the harness's relay (--netns) or the nodes themselves. */
    readonly delays: FaultKind
    /** Per node id, the delay in force on every peer message to and from it (ms). */
    readonly delayMs: Readonly<Record<string, number>>
  }
}

export interface CsvStatusView {
  readonly name: string
  readonly owner: string
  readonly servedBy: readonly string[]
  readonly redirected: boolean
  /** 'loop': a volume of its own (cluster up --csv-size); 'folder': a folder of the cluster's file system. */
  readonly volume?: 'loop' | 'folder'
  /** The storage array's view of the CSV's LUN: WERO holder, registered keys, refused writes; null without an array or when it did not answer. */
  readonly reservation?: LunReservationView | null
  /** Size and free bytes of the file system the CSV is on (-1 when it cannot be read); status() always gives them. */
  readonly sizeBytes?: number
  readonly freeBytes?: number
  /** The disk fault in force (storage fault), or null. */
  readonly fault?: StorageFault | null
}

interface RunState {
  nodes: Record<string, number>
  /**
   * Helper processes: the cloud witness, a packet capture. markers identify the process in
   * /proc before it is signalled (default: the cluster folder); gentle ones (the capture) get
   * SIGINT first so that they finish their file.
   */
  helpers: Record<string, { pid: number; url?: string; markers?: string[]; gentle?: boolean; out?: string }>
  /** The network namespace the cluster owns (`cluster up --netns`); `down` removes it. */
  netns?: string
}

interface FaultState {
  partitions: string[][]
  delays: Record<string, number>
  /** One-way cuts (nftables only). */
  cuts?: NetCut[]
}

/** How many times `up` picks new free ports when a node finds one taken. */
/** How often `up` looks whether the cluster is quorate: at least this often, and no more than one status call per node per this many ms. */
const UP_POLL_MS_MIN = 50
const UP_POLL_MS_PER_NODE = 5

const UP_PORT_ATTEMPTS_MAX = 3
/**
 * What `up` allows each node's process to start, on top of a fixed 10 s and two detection
 * periods: a node costs ~0.3 to 0.5 s of CPU to load and bind (measured, issue 18), and N of
 * them share the machine's cores, so a fixed budget that fits 5 nodes times out at 16.
 */
const UP_MS_PER_NODE = 500
/** The node process as one file (scripts/bundle-node-main.mjs): ~100 ms of CPU less a start than its ~300 modules. */
const NODE_MAIN = join(packageRoot(), 'dist', 'bundle', 'node-main.js')
/**
 * V8 flags for node processes, sized for many small processes on few cores (issue 18; measured
 * at 3 nodes, ws2016, idle, alternating runs): a young generation of at most 2 MB a semi-space
 * (V8's default lets it grow to 16 MB, which it does during start, and keeps: 6 to 8 MB more
 * RSS a node) and one V8 worker thread instead of one per core (~2 MB less; on 2 cores shared
 * by N nodes, more workers run nothing in parallel). Start CPU and idle CPU stayed within the
 * noise (start 317 to 326 ms of CPU to loaded modules against 309 to 314).
 */
const NODE_V8_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1']
const CLOUD_WITNESS_MAIN = join(packageRoot(), 'dist', 'cluster', 'witness', 'cloud-witness-main.js')
const PEER_RELAY_MAIN = join(packageRoot(), 'dist', 'cluster', 'peer-relay-main.js')

export class Cluster {
  private readonly admins = new Map<string, NodeAdmin>()

  private constructor(readonly config: ClusterConfig) {}

  /** Opens the cluster recorded in dir (it need not be running). */
  static open(dir: string): Cluster {
    const path = join(resolve(dir), 'cluster.json')
    if (!existsSync(path)) throw new ClusterError(`no cluster in ${resolve(dir)} (run \`swlab cluster up\` first)`)
    const loaded = loadConfig(path)
    if (!loaded.ok) throw new ClusterError(loaded.error)
    return new Cluster(loaded.config)
  }

  /** Starts N node processes detached and returns once the cluster is quorate. */
  static async up(opts: UpOptions): Promise<Cluster> {
    // Free ports are found by binding port 0 and closing it, and 445 by a trial bind; another
    // process may take one before the node binds it (parallel runs on the same loopback
    // addresses, e.g. two clusters both finding 445 free). With ports of its own choosing, `up`
    // tries again with new ones, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      try {
        return await Cluster.upOnce(opts)
      } catch (err) {
        const portTaken = err instanceof ClusterError && /port in use|EADDRINUSE/.test(err.message)
        if (!portTaken || opts.basePort !== undefined || attempt >= UP_PORT_ATTEMPTS_MAX) throw err
      }
    }
  }

  private static async upOnce(opts: UpOptions): Promise<Cluster> {
    const dir = resolve(opts.dir)
    const profile = opts.profile ?? DEFAULT_PROFILE
    if (!isProfileName(profile)) throw new ClusterError(`profile must be one of fast, ws2012, ws2016, ctdb (got ${JSON.stringify(profile)})`)
    // Before anything is touched: a user without root learns it in one line.
    const volumeProblem = opts.csvSizeBytes !== undefined ? loopVolumeProblem() : null
    if (volumeProblem) throw new ClusterError(`--csv-size ${volumeProblem}`)
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > NODES_MAX) {
      throw new ClusterError(`--nodes must be an integer from 1 to ${NODES_MAX} (got ${opts.nodes})`)
    }
    const functionalLevel = opts.functionalLevel ?? DEFAULT_FUNCTIONAL_LEVEL
    const levelProblem = functionalLevelProblem(functionalLevel)
    if (levelProblem) throw new ClusterError(levelProblem)
    const ids = opts.nodeIds ?? Array.from({ length: opts.nodes }, (_, i) => `node-${i + 1}`)
    if (ids.length !== opts.nodes) throw new ClusterError(`${ids.length} node ids given for ${opts.nodes} nodes`)
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i)
    if (duplicate !== undefined) throw new ClusterError(`duplicate node id ${duplicate}`)
    if (!existsSync(NODE_MAIN)) throw new ClusterError(`${NODE_MAIN} is missing: run \`npm run build\` first`)
    const running = Cluster.runningPids(dir)
    if (running.length > 0) {
      throw new ClusterError(`a cluster is already running in ${dir} (pids ${running.join(', ')}): run \`swlab cluster down --dir ${dir}\` first`)
    }
    // Volumes of an earlier --csv-size run in this folder that was not brought down: released,
    // whatever this run asks (createVolumes does it too), so that no mount outlives its cluster.
    if (opts.csvSizeBytes === undefined && csvVolumes(dir).length > 0) {
      const stale = releaseVolumes(dir)
      if (stale.problems.length > 0) throw new ClusterError(stale.problems[0])
    }
    const witnessKind = opts.witness ?? 'none'
    if (opts.cloudWitnessUrl !== undefined && witnessKind !== 'cloud') throw new ClusterError('--cloud-witness-url needs --witness cloud')
    const namespace = opts.netns ? namespaceNameFor(dir) : undefined
    if (namespace !== undefined) {
      const problem = namespaceProblem()
      if (problem) throw new ClusterError(`--netns ${problem}`)
      // The nodes cannot reach the host's loopback from their namespace.
      if (opts.cloudWitnessUrl !== undefined) throw new ClusterError('--netns runs its own cloud witness inside the namespace: leave out --cloud-witness-url')
      const longest = ids.reduce((a, b) => (a.length >= b.length ? a : b))
      if (Buffer.byteLength(adminSocketPath(dir, longest)) > UNIX_SOCKET_PATH_BYTES_MAX) {
        throw new ClusterError(`--netns: the cluster folder's path is too long for the admin sockets in it (${adminSocketPath(dir, longest)}): use a shorter --dir`)
      }
    }
    // A namespace an earlier run of this folder left behind (nothing of it runs: checked above).
    const leftover = readRunState(dir).netns
    if (leftover !== undefined) deleteNamespaceQuietly(leftover)
    // A new cluster starts new logs: timelines rebuilt from them must not mix two runs.
    rmSync(join(dir, 'logs'), { recursive: true, force: true })
    mkdirSync(join(dir, 'logs'), { recursive: true })
    // Leftovers of an earlier cluster in this folder would restore its terms and views.
    rmSync(join(dir, 'nodes'), { recursive: true, force: true })
    rmSync(join(dir, 'redirected.json'), { force: true })
    const csvNames = Array.from({ length: opts.csvs ?? opts.nodes }, (_, i) => `csv-${i + 1}`)
    for (const csv of csvNames) mkdirSync(join(dir, 'storage', csv), { recursive: true })
    if (opts.clientNet !== undefined && !/^127\.\d{1,3}\.\d{1,3}$/.test(opts.clientNet)) throw new ClusterError(`client network ${opts.clientNet} must be 127.X.Y (loopback)`)
    // In a namespace of its own every node can have 445 on its client address (nothing else listens there).
    const nodes = await allocateNodes(ids, opts.basePort, opts.clientNet ?? '127.0.1', namespace !== undefined && opts.smb445 !== false ? true : opts.smb445)
    const run: RunState = { nodes: {}, helpers: {}, ...(namespace !== undefined ? { netns: namespace } : {}) }
    if (namespace !== undefined) {
      // Recorded before it exists: a failed start removes it, and so does `down`.
      writeRunState(dir, run)
      try {
        createNamespace(namespace)
      } catch (err) {
        rmSync(join(dir, 'run.json'), { force: true })
        throw new ClusterError(`--netns: ${(err as Error).message}`)
      }
    }
    if (opts.pcap !== undefined) {
      // Before any node starts: the capture holds every connection from its first SYN.
      const capture = await startCapture({
        out: opts.pcap,
        spec: captureSpecOf(nodes, opts.epm === true, namespace !== undefined),
        logPath: join(dir, 'logs', 'capture.stderr'),
        ...(namespace !== undefined ? { namespace } : {}),
      }).catch((err: Error) => {
        if (namespace !== undefined) {
          deleteNamespaceQuietly(namespace)
          rmSync(join(dir, 'run.json'), { force: true })
        }
        throw new ClusterError(`--pcap: ${err.message}`)
      })
      run.helpers.capture = { pid: capture.pid, markers: [...capture.markers], gentle: true, out: capture.out }
      writeRunState(dir, run)
    }
    const cluster = new Cluster(
      checked({
        name: opts.name ?? 'SOFS',
        dir,
        profile,
        nodes,
        csvs: csvNames,
        // The witness is filled in below, once its folder or service exists.
        witness: { kind: 'none' },
        csvMode: opts.csvMode ?? 's2d',
        flavour: opts.flavour ?? 'microsoft',
        ...(opts.epm ? { epm: true } : {}),
        ...(opts.witnessAllowAnonymous ? { witnessAllowAnonymous: true } : {}),
        ...(opts.witnessKeepAliveMaxS !== undefined ? { witnessKeepAliveMaxS: opts.witnessKeepAliveMaxS } : {}),
        ...(opts.smb2Signing ? { smb2Signing: opts.smb2Signing } : {}),
        ...(opts.smbEncrypt ? { smbEncrypt: true } : {}),
        ...(opts.clientWitnessAuthLevel ? { clientWitnessAuthLevel: opts.clientWitnessAuthLevel } : {}),
        // One continuously available scale-out share per CSV.
        shares: csvNames.map((csv, i) => ({ name: `share-${i + 1}`, csv })),
        witnessProfile: opts.witnessProfile ?? 'ws2012r2',
        ioBandwidthBytesPerSecond: Math.round((opts.ioBandwidthMBps ?? 0) * 1_000_000),
        functionalLevel,
        ...(namespace !== undefined ? { network: { namespace } } : {}),
      }),
    )
    try {
      if (opts.csvSizeBytes !== undefined) createVolumes(dir, csvNames, opts.csvSizeBytes)
      let witness: ClusterConfig['witness'] = { kind: 'none' }
      if (witnessKind === 'file') {
        witness = { kind: 'file', path: join(dir, 'witness-share') }
        mkdirSync(witness.path as string, { recursive: true })
      } else if (witnessKind === 'cloud') {
        const url = opts.cloudWitnessUrl ?? (await startCloudWitness(dir, run, namespace))
        // From outside the namespace the witness cannot be reached; the nodes report it there.
        const probe = namespace !== undefined && !insideNamespace(namespace) ? { ok: true as const } : await probeCloudWitness(url, 1000)
        if (!probe.ok) {
          throw new ClusterError(`cloud witness at ${url} is unreachable (${probe.error.replace(/^cloud witness at \S+: /, '')})`)
        }
        witness = { kind: 'cloud', url }
      }
      // The array before any node: each node registers its key with it as it starts.
      let storageArray: ClusterConfig['storageArray']
      if (opts.storageArray !== false) {
        const socket = storageArraySocketPath(dir)
        const array = await startStorageArray(dir, csvNames, socket).catch((err: Error) => {
          throw new ClusterError(err.message)
        })
        run.helpers.array = { pid: array.pid, markers: array.markers }
        writeRunState(dir, run)
        storageArray = { socket }
      }
      const config = checked({ ...cluster.config, witness, ...(storageArray ? { storageArray } : {}) })
      const withWitness = new Cluster(config)
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify(config, null, 2))
      writeFileSync(join(dir, 'faults.json'), JSON.stringify({ partitions: [], delays: {} }))
      createCredentials(dir)
      const exits = new Map<string, number | null>()
      for (const node of config.nodes) {
        run.nodes[node.id] = withWitness.spawnNode(node, (code) => exits.set(node.id, code))
        writeRunState(dir, run)
      }
      const timeoutMs = opts.timeoutMs ?? 10_000 + 2 * timingOf(PROFILES[profile]).detectionMs + UP_MS_PER_NODE * config.nodes.length
      let failure = ''
      const ok = await waitUntil(async () => {
        for (const [id, code] of exits) {
          failure = `node ${id} exited with code ${code}: ${lastLine(join(dir, 'logs', `${id}.stderr`)) || 'no message'}`
          return true
        }
        const s = await withWitness.status()
        // Quorate, and every node and CSV in service: what a user expects after `up`.
        return s.quorum && s.nodes.every((n) => n.serving) && s.csvs.every((c) => c.servedBy.length === 1)
        // Each look asks every node for its status: poll a large cluster less often, so that
        // the polling does not take the cores its nodes need to start (64 nodes: every 320 ms).
      }, timeoutMs, Math.max(UP_POLL_MS_MIN, UP_POLL_MS_PER_NODE * config.nodes.length))
      if (failure !== '') throw new ClusterError(failure.replace(/^node \S+ exited with code \S+: swlab-node: /, ''))
      if (!ok) throw new ClusterError(`the cluster did not become quorate within ${timeoutMs} ms (logs in ${join(dir, 'logs')})`)
      return withWitness
    } catch (err) {
      await Cluster.killRecorded(dir, run)
      if (run.netns !== undefined) deleteNamespaceQuietly(run.netns)
      rmSync(join(dir, 'run.json'), { force: true })
      // The volumes go with the processes that used them: a failed start leaks no mount or loop device.
      const released = releaseVolumes(dir)
      if (err instanceof VolumeError) throw new ClusterError(err.message)
      if (released.problems.length > 0 && err instanceof ClusterError) throw new ClusterError(`${err.message}; ${released.problems.join('; ')}`)
      throw err
    }
  }

  get dir(): string {
    return this.config.dir
  }

  /** The hosts, ports and decode-as hints of this cluster's traffic. */
  captureSpec(): CaptureSpec {
    return captureSpecOf(this.config.nodes, this.config.epm === true, this.config.network !== undefined)
  }

  /**
   * Records the cluster's loopback traffic into a pcapng file (root). With seconds it returns
   * when the capture has stopped by itself; without, the capture runs on, recorded with the
   * cluster, until stopCapture() or down().
   */
  async startCapture(out: string, seconds?: number): Promise<{ pid: number; out: string }> {
    const run = readRunState(this.dir)
    const old = run.helpers.capture
    if (old && isOurProcess(old.pid, old.markers ?? [this.dir])) throw new ClusterError(`a capture is already running (pid ${old.pid}, into ${old.out}): stop it with \`swlab capture --stop\``)
    const capture = await startCapture({ out, seconds, spec: this.captureSpec(), logPath: join(this.dir, 'logs', 'capture.stderr') }).catch((err: Error) => {
      throw err instanceof CaptureError ? new ClusterError(err.message) : err
    })
    if (seconds !== undefined) {
      await waitForCapture(capture, seconds * 1000 + 10_000)
      await stopCapture(capture)
      return capture
    }
    run.helpers.capture = { pid: capture.pid, markers: [...capture.markers], gentle: true, out: capture.out }
    writeRunState(this.dir, run)
    return capture
  }

  /** Stops the capture started with the cluster or startCapture(); its file is complete after. */
  async stopCapture(): Promise<{ out: string } | null> {
    const run = readRunState(this.dir)
    const capture = run.helpers.capture
    if (!capture) return null
    const first = this.config.nodes[0]
    // The marker connection that flushes the capture must be made where the capture looks: from
    // outside the cluster's namespace it cannot be, and the capture stops without it.
    const canSync = this.config.network === undefined || insideNamespace(this.config.network.namespace)
    await stopCapture({ pid: capture.pid, markers: capture.markers ?? [this.dir], out: capture.out }, canSync ? { host: first.clusterAddress, port: first.adminPort } : undefined)
    delete run.helpers.capture
    writeRunState(this.dir, run)
    return { out: capture.out ?? '' }
  }

  /**
   * What the cluster name resolves to: every node's client IP with its SMB 2/3 direct TCP port
   * and its witness's DCE/RPC port (0 for a node of an older config without one).
   */
  addresses(): { ip: string; smbPort: number; dcerpcPort: number }[] {
    return this.config.nodes.map((n) => ({ ip: n.clientAddress, smbPort: n.smb2Port ?? 0, dcerpcPort: n.dcerpcPort ?? 0 }))
  }

  /** The cluster's users and admin (written by `cluster up`, readable only by its owner). */
  credentials(): ClusterCredentials | null {
    return readCredentials(this.dir)
  }

  nodeConfig(id: string): NodeConfig {
    const node = this.config.nodes.find((n) => n.id === id)
    if (!node) throw new ClusterError(`unknown node id ${id} (nodes: ${this.config.nodes.map((n) => n.id).join(', ')})`)
    return node
  }

  admin(id: string): NodeAdmin {
    let admin = this.admins.get(id)
    if (!admin) {
      const node = this.nodeConfig(id)
      // A namespaced cluster's admin services are reached through their unix sockets, from inside or outside the namespace.
      const target = this.config.network ? `unix:${adminSocketPath(this.dir, id)}` : undefined
      admin = new NodeAdmin(node, this.credentials()?.admin ?? null, target)
      this.admins.set(id, admin)
    }
    return admin
  }

  pidOf(id: string): number {
    this.nodeConfig(id)
    return readRunState(this.dir).nodes[id] ?? 0
  }

  async status(): Promise<ClusterStatus> {
    const { config } = this
    const run = readRunState(config.dir)
    const processes = config.nodes.map((n) => {
      const pid = run.nodes[n.id] ?? 0
      return pid > 0 && isOurProcess(pid, [n.id, config.dir]) ? processState(pid) : 'dead'
    })
    // A stopped or dead process cannot answer: asking would only wait out the deadline.
    const replies = await Promise.all(
      config.nodes.map((n, i) => (processes[i] === 'running' ? this.admin(n.id).status(500).catch(() => null) : null)),
    )
    const leaderReply = replies.find((r) => r !== null && r.role === 'leader' && r.quorum) ?? null
    const harnessDelays = this.readFaults().delays
    // Without a quorate leader, show the newest view any reachable node committed.
    const newest = replies.reduce<(typeof replies)[number]>(
      (best, r) => (r?.committed && (!best?.committed || r.committed.epoch > best.committed.epoch) ? r : best),
      null,
    )
    const view = leaderReply?.committed ?? newest?.committed ?? null
    const nodes: NodeStatusView[] = config.nodes.map((n, i) => {
      const r = replies[i]
      const pid = run.nodes[n.id] ?? 0
      const member = view?.members.find((m) => m.id === n.id)
      return {
        id: n.id,
        state: r !== null && (member ? member.state === 'up' : r.quorum) ? 'up' : 'down',
        process: processes[i],
        pid,
        address: n.clientAddress,
        clusterAddress: n.clusterAddress,
        peerPort: n.peerPort,
        adminPort: n.adminPort,
        reachable: r !== null,
        role: r?.role ?? 'unknown',
        term: r?.term ?? 0,
        epoch: r?.committed?.epoch ?? 0,
        quorum: r?.quorum ?? false,
        serving: r?.serving ?? false,
        servingCsvs: r?.servingCsvs ?? [],
        leaseRemainingMs: Math.round(r?.leaseRemainingMs ?? 0),
        vote: member?.vote ?? 1,
        partitionedFrom: r?.peers.filter((p) => p.partitioned).map((p) => p.id) ?? [],
        // In a namespaced cluster the relay holds the delays: no node knows of them.
        delayMs: config.network ? relayedDelaysOf(config, harnessDelays, n.id) : Object.fromEntries(r?.peers.filter((p) => p.delayMs > 0).map((p) => [p.id, p.delayMs]) ?? []),
        witness: { address: n.clientAddress, port: n.witnessPort, registrations: r?.witnessRegistrations ?? 0 },
        smb: { address: n.clientAddress, port: n.smbPort },
        smb2: n.smb2Port !== undefined ? { address: n.clientAddress, port: n.smb2Port } : null,
        dcerpc: n.dcerpcPort !== undefined ? { address: n.clientAddress, port: n.dcerpcPort } : null,
        metrics: n.metricsPort !== undefined ? `http://${n.clientAddress}:${n.metricsPort}/metrics` : null,
      }
    })
    const redirected = new Set(this.redirectedCsvs())
    const volumes = new Set(csvVolumes(config.dir).map((v) => v.csv))
    const faults = storageFaults(config.dir)
    const arrayAlive = run.helpers.array !== undefined && isOurProcess(run.helpers.array.pid, run.helpers.array.markers ?? [config.dir]) && processState(run.helpers.array.pid) === 'running'
    const reservations = config.storageArray && arrayAlive ? await readArrayStatus(config.storageArray.socket, config.csvs, 500) : {}
    const csvs = config.csvs.map((name): CsvStatusView => {
      const usage = csvUsage(config.dir, name)
      return {
        name,
        owner: view?.csvs.find((c) => c.name === name)?.owner ?? '',
        servedBy: nodes.filter((n) => n.servingCsvs.includes(name)).map((n) => n.id),
        redirected: redirected.has(name),
        reservation: reservations[name] ?? null,
        volume: volumes.has(name) ? 'loop' : 'folder',
        sizeBytes: usage?.sizeBytes ?? -1,
        freeBytes: usage?.freeBytes ?? -1,
        fault: faults[name] ?? null,
      }
    })
    return {
      name: config.name,
      dir: config.dir,
      profile: config.profile,
      detectionMs: timingOf(PROFILES[config.profile]).detectionMs,
      quorum: leaderReply !== null,
      epoch: view?.epoch ?? Math.max(0, ...nodes.map((n) => n.epoch)),
      term: leaderReply?.term ?? 0,
      leader: leaderReply?.id ?? '',
      witness: {
        kind: config.witness.kind,
        holder: leaderReply?.witnessHolder ?? '',
        ...(config.witness.url ? { url: config.witness.url } : {}),
        ...(config.witness.path ? { path: config.witness.path } : {}),
      },
      nodes,
      csvs,
      shares: config.shares.map((s) => shareStatusOf(s, roleOwnerOf(csvs, s.csv))),
      witnessRegistrations: nodes.reduce((sum, n) => sum + n.witness.registrations, 0),
      witnessProfile: config.witnessProfile,
      csvMode: config.csvMode,
      flavour: config.flavour,
      functionalLevel: config.functionalLevel,
      network: {
        namespace: config.network?.namespace ?? null,
        faults: this.faultKind,
        rules: config.network ? listNftRules(config.network.namespace) : [],
        delays: config.network ? 'relay' : 'self-applied',
        delayMs: Object.fromEntries(Object.entries(harnessDelays).filter(([, ms]) => ms > 0)),
      },
    }
  }

  /** Who applies this cluster's partitions and cuts: nftables in its namespace, or the nodes themselves. */
  get faultKind(): FaultKind {
    return this.config.network ? 'nftables' : 'self-applied'
  }

  /**
   * What a `cluster up` stopped before it wrote cluster.json (its process killed) may have left:
   * the helpers and namespace recorded in run.json. Stops and removes them; false when there
   * was no run state.
   */
  static async downLeftovers(dir: string): Promise<boolean> {
    const path = join(resolve(dir), 'run.json')
    if (!existsSync(path)) return false
    const run = readRunState(resolve(dir))
    await Cluster.killRecorded(resolve(dir), run)
    if (run.netns !== undefined) deleteNamespace(run.netns)
    rmSync(path, { force: true })
    return true
  }

  /** Stops every node and helper process this cluster started; leaves none behind. */
  async down(): Promise<void> {
    this.closeAdmins()
    // The capture first, while the nodes still run: its file then holds the whole run.
    await this.stopCapture().catch(() => undefined)
    const run = readRunState(this.dir)
    await Cluster.killRecorded(this.dir, run)
    // Its processes are gone: removing the name removes the namespace and its rules.
    const namespace = run.netns ?? this.config.network?.namespace
    if (namespace !== undefined) {
      try {
        deleteNamespace(namespace)
      } catch (err) {
        throw new ClusterError(`could not remove network namespace ${namespace}: ${(err as Error).message}`)
      }
    }
    rmSync(join(this.dir, 'run.json'), { force: true })
    const released = releaseVolumes(this.dir)
    if (released.problems.length > 0) throw new ClusterError(released.problems.join('; '))
  }

  /**
   * A disk fault on a CSV, applied by the harness (this process), never by a node: read-only
   * remounts the CSV's volume read-only (the fallback without --csv-size: a read-only bind mount
   * of its folder), full fills it with a filler file. Root. Returns how it was applied.
   */
  async storageFault(csv: string, kind: StorageFaultKind): Promise<StorageFault> {
    if (!this.config.csvs.includes(csv)) throw new ClusterError(`unknown CSV ${csv} (CSVs: ${this.config.csvs.join(', ')})`)
    if (kind !== 'read-only' && kind !== 'full') throw new ClusterError(`a storage fault is read-only or full (got ${JSON.stringify(kind)})`)
    const fault = await applyStorageFault(this.dir, csv, kind, (c, frozen, holdMs) => this.freezeCsvFiles(c, frozen, holdMs)).catch((err: Error) => {
      throw err instanceof VolumeError ? new ClusterError(err.message) : err
    })
    this.logFault({ event: `fault.storage.${kind}`, csv, method: fault.method })
    return fault
  }

  /** Removes a CSV's disk fault; null when it had none. */
  async clearStorageFault(csv: string): Promise<StorageFault | null> {
    if (!this.config.csvs.includes(csv)) throw new ClusterError(`unknown CSV ${csv} (CSVs: ${this.config.csvs.join(', ')})`)
    const fault = await clearStorageFault(this.dir, csv).catch((err: Error) => {
      throw err instanceof VolumeError ? new ClusterError(err.message) : err
    })
    if (fault) this.logFault({ event: 'fault.storage.clear', csv, kind: fault.kind })
    return fault
  }

  /** Every running node holds the CSV's operations and closes its files (frozen), or goes on. */
  private async freezeCsvFiles(csv: string, frozen: boolean, holdMs: number): Promise<void> {
    const run = readRunState(this.dir)
    const live = this.config.nodes.filter((n) => processState(run.nodes[n.id] ?? 0) === 'running' && isOurProcess(run.nodes[n.id] ?? 0, this.markers(n.id)))
    await Promise.all(live.map((n) => this.admin(n.id).setCsvFilesFrozen(csv, frozen, holdMs).catch(() => undefined)))
    // The nodes hold their writes now; the array lets go of the files it keeps open on the volume.
    if (frozen && this.config.storageArray) await releaseArrayFiles(this.config.storageArray.socket, csv, 2000)
  }

  kill(id: string): void {
    this.signal(id, 'SIGKILL')
  }

  pause(id: string): void {
    this.signal(id, 'SIGSTOP')
  }

  resume(id: string): void {
    this.signal(id, 'SIGCONT')
  }

  /** Graceful stop: the node gives up its vote and hands its CSVs over, then exits. */
  async stop(id: string): Promise<void> {
    const pid = this.livePid(id)
    await this.admin(id).stop(true).catch(() => process.kill(pid, 'SIGTERM'))
    const detectionMs = timingOf(PROFILES[this.config.profile]).detectionMs
    if (!(await waitUntil(() => processState(pid) === 'dead', 4 * detectionMs + 2000))) {
      await killAndWait(pid, this.markers(id))
    }
  }

  /** Starts a node that is not running and waits until it serves again. */
  async start(id: string, timeoutMs = 10_000): Promise<void> {
    const node = this.nodeConfig(id)
    const run = readRunState(this.dir)
    const old = run.nodes[id]
    if (old && isOurProcess(old, this.markers(id))) throw new ClusterError(`node ${id} is already running (pid ${old})`)
    let exitCode: number | null | undefined
    run.nodes[id] = this.spawnNode(node, (code) => {
      exitCode = code
    })
    writeRunState(this.dir, run)
    await this.reapplyFaults(id)
    for (const csv of this.redirectedCsvs()) await this.admin(id).setCsvRedirected(csv, true).catch(() => undefined)
    const ok = await waitUntil(async () => {
      if (exitCode !== undefined) return true
      const s = await this.admin(id).status(300).catch(() => null)
      return s !== null && s.serving
    }, timeoutMs, 50)
    if (exitCode !== undefined) {
      throw new ClusterError(`node ${id} exited with code ${exitCode}: ${lastLine(join(this.dir, 'logs', `${id}.stderr`))}`)
    }
    if (!ok) throw new ClusterError(`node ${id} started but did not rejoin within ${timeoutMs} ms`)
  }

  /** Cuts all traffic between the groups; nodes in no group keep their links. */
  async partition(groups: string[][]): Promise<NetFaultResult> {
    const seen = new Set<string>()
    for (const id of groups.flat()) {
      this.nodeConfig(id)
      if (seen.has(id)) throw new ClusterError(`node ${id} appears in two groups`)
      seen.add(id)
    }
    if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new ClusterError('a partition needs at least two non-empty groups')
    const faults = this.readFaults()
    faults.partitions = groups
    this.writeFaults(faults)
    if (this.config.network) return this.applyRules(faults)
    await this.pushFaults()
    return this.selfApplied()
  }

  /** Removes every partition, cut and delay. */
  async heal(): Promise<NetFaultResult> {
    const healed: FaultState = { partitions: [], delays: {}, cuts: [] }
    this.writeFaults(healed)
    // The rules go first: they need no node to be reachable.
    const result = this.config.network ? this.applyRules(healed) : this.selfApplied()
    // Delays are self-applied in both kinds of cluster: they go from the nodes too.
    await this.pushFaults()
    return result
  }

  /**
   * Cuts one direction: from a node (its peer calls to the other node) or from a client's source
   * address (its connections to the node, on one port or all). Needs the cluster's namespace:
   * the nodes' own transport cannot cut one way.
   */
  async cut(from: string, to: string, port?: CutPort, lossPercent?: number): Promise<NetFaultResult> {
    const isNode = this.config.nodes.some((n) => n.id === from)
    const cut: NetCut = { from, to, port: port ?? (isNode ? 'peer' : 'all'), ...(lossPercent !== undefined ? { lossPercent } : {}) }
    const problem = cutProblem(this.config, cut)
    if (problem) throw new ClusterError(problem)
    const command = lossPercent !== undefined ? 'net loss' : 'net cut'
    if (!this.config.network) throw new ClusterError(`${command} needs a cluster in a network namespace of its own (\`cluster up --netns\`, root): the nodes' own peer transport cuts both ways only`)
    const faults = this.readFaults()
    // One rule per direction and port: a new cut or loss replaces the one it had.
    const cuts = (faults.cuts ?? []).filter((c) => !(c.from === cut.from && c.to === cut.to && c.port === cut.port))
    faults.cuts = [...cuts, cut]
    this.writeFaults(faults)
    return this.applyRules(faults)
  }

  /** Several one-way cuts (see cut()) applied in one nftables transaction: they start together. */
  async cuts(list: readonly { from: string; to: string; port: CutPort }[]): Promise<NetFaultResult> {
    if (!this.config.network) throw new ClusterError("net cut needs a cluster in a network namespace of its own (`cluster up --netns`, root): the nodes' own peer transport cuts both ways only")
    const faults = this.readFaults()
    let cuts = faults.cuts ?? []
    for (const cut of list) {
      const problem = cutProblem(this.config, cut)
      if (problem) throw new ClusterError(problem)
      cuts = [...cuts.filter((c) => !(c.from === cut.from && c.to === cut.to && c.port === cut.port)), { ...cut }]
    }
    faults.cuts = cuts
    this.writeFaults(faults)
    return this.applyRules(faults)
  }

  /** Drops lossPercent (1..99) of one direction's packets, chosen at random by nftables (no netem here); see cut(). */
  async loss(from: string, to: string, lossPercent: number, port?: CutPort): Promise<NetFaultResult> {
    return this.cut(from, to, port, lossPercent)
  }

  private applyRules(faults: FaultState): NetFaultResult {
    const namespace = this.config.network!.namespace
    const ruleFaults = { partitions: faults.partitions, cuts: faults.cuts ?? [], delays: faults.delays }
    const rules = nftRulesOf(this.config, ruleFaults)
    try {
      applyNftRules(namespace, rules, nftNatRulesOf(this.config, ruleFaults))
    } catch (err) {
      throw new ClusterError(err instanceof NamespaceError ? err.message : String(err))
    }
    // The nodes know nothing of these faults and cannot log them: the harness does, for the report.
    const described = rules.map((r) => /comment "([^"]*)"/.exec(r)?.[1] ?? r)
    for (const n of this.config.nodes) {
      const mine = described.filter((d) => d.split(' ').includes(n.id))
      // A heal is marked on every node; a fault on the nodes it touches.
      if (mine.length > 0 || rules.length === 0) this.logFault({ event: 'fault.net', node: n.id, applied: 'nftables', rules: mine })
    }
    return { applied: 'nftables', namespace, rules: listNftRules(namespace) }
  }

  private selfApplied(): NetFaultResult {
    return { applied: 'self-applied', namespace: null, rules: [] }
  }

  /**
   * Delays every peer message to and from the node by delayMs (0 removes the delay). No netem in
   * this kernel: in a namespaced cluster the harness's relay holds them (nftables DNATs the
   * node's peer links to it; cluster/peer-relay.ts), else the nodes' own peer transport does.
   */
  async delay(id: string, delayMs: number): Promise<NetFaultResult> {
    this.nodeConfig(id)
    if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 60_000) throw new ClusterError(`delay must be 0..60000 ms (got ${delayMs})`)
    const faults = this.readFaults()
    faults.delays[id] = delayMs
    if (this.config.network) {
      // The relay listens before any link is sent to it, and reads the delays from faults.json.
      await this.ensurePeerRelay()
      this.writeFaults(faults)
      const r = this.applyRules(faults)
      return { ...r, applied: 'relay' }
    }
    this.writeFaults(faults)
    await this.pushFaults()
    return this.selfApplied()
  }

  /** Starts the harness's delay relay in the cluster's namespace, unless it runs. */
  private async ensurePeerRelay(): Promise<void> {
    const namespace = this.config.network!.namespace
    const run = readRunState(this.dir)
    const markers = [PEER_RELAY_MAIN, this.dir]
    const old = run.helpers.peerRelay
    if (old && isOurProcess(old.pid, old.markers ?? markers)) return
    const child = spawn(...splitArgv(inNamespace(namespace, [process.execPath, PEER_RELAY_MAIN, '--dir', this.dir])), {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    if (child.pid === undefined) throw new ClusterError('could not start the delay relay')
    run.helpers.peerRelay = { pid: child.pid, markers }
    writeRunState(this.dir, run)
    const lines = createInterface({ input: child.stdout! })
    try {
      await new Promise<void>((resolveStarted, reject) => {
        const timer = setTimeout(() => reject(new ClusterError('the delay relay did not start within 5 s')), 5000)
        lines.on('line', (line) => {
          if (line.includes('"peer-relay.listening"')) {
            clearTimeout(timer)
            resolveStarted()
          }
        })
        child.once('exit', (code) => {
          clearTimeout(timer)
          reject(new ClusterError(`the delay relay exited with code ${code}`))
        })
      })
    } finally {
      lines.close()
      child.stdout!.destroy()
      child.unref()
    }
  }

  /** Asks the leader to move a CSV to another node; resolves once the move is accepted. */
  async moveCsv(csv: string, to: string): Promise<void> {
    this.nodeConfig(to)
    const status = await this.status()
    if (!status.leader) throw new ClusterError('the cluster has no quorate leader')
    const reply = await this.admin(status.leader).moveCsv(csv, to)
    if (!reply.ok) throw new ClusterError(reply.error)
  }

  /**
   * Seed 004's snapshot coordination, asked of the CSV's owner: begin answers whether the job
   * may take its snapshot now (and whether the CSV must be redirected meanwhile).
   */
  async csvSnapshot(csv: string, jobId: string, action: 'begin' | 'end', mode: 'legacy' | 'direct') {
    if (!this.config.csvs.includes(csv)) throw new ClusterError(`unknown CSV ${csv} (CSVs: ${this.config.csvs.join(', ')})`)
    const status = await this.status()
    const owner = status.csvs.find((c) => c.name === csv)?.owner ?? ''
    if (!owner) throw new ClusterError(`${csv} has no owner right now`)
    const reply = await this.admin(owner).csvSnapshot({ csv, jobId, action, mode })
    if (!reply.ok) throw new ClusterError(reply.error)
    return reply
  }

  /** Puts a CSV into (or out of) redirected access: all its IO via its owner, also in SAN mode. */
  async setCsvRedirected(csv: string, redirected: boolean): Promise<void> {
    if (!this.config.csvs.includes(csv)) throw new ClusterError(`unknown CSV ${csv} (CSVs: ${this.config.csvs.join(', ')})`)
    const current = new Set(this.redirectedCsvs())
    if (redirected) current.add(csv)
    else current.delete(csv)
    writeFileSync(join(this.dir, 'redirected.json'), JSON.stringify([...current].sort()))
    const status = await this.status()
    for (const n of status.nodes.filter((x) => x.reachable)) {
      const reply = await this.admin(n.id).setCsvRedirected(csv, redirected)
      if (!reply.ok) throw new ClusterError(`${n.id}: ${reply.error}`)
    }
  }

  redirectedCsvs(): string[] {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'redirected.json'), 'utf8')) as string[]
    } catch {
      return []
    }
  }

  /**
   * Creates a share on a CSV on every node (and in cluster.json, for nodes started later). A
   * general share gets a general-use file server role of its own (or joins the named one, on
   * the same CSV), whose address the CSV's owner serves.
   */
  async addShare(name: string, csv: string, opts: ShareOptions = {}): Promise<ShareStatusView> {
    const ca = opts.ca ?? true
    const caTimeoutMs = opts.caTimeoutMs ?? 0
    const kind = opts.kind ?? 'scale-out'
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/.test(name)) throw new ClusterError(`bad share name ${JSON.stringify(name)}`)
    if (kind !== 'scale-out' && kind !== 'general') throw new ClusterError(`--role must be scale-out or general (got ${JSON.stringify(kind)})`)
    if (kind === 'scale-out' && (opts.roleName ?? opts.roleAddress ?? opts.roleSmb2Port) !== undefined) throw new ClusterError('a role name, IP or port needs --role general')
    if (!this.config.csvs.includes(csv)) throw new ClusterError(`unknown CSV ${csv} (CSVs: ${this.config.csvs.join(', ')})`)
    if (this.config.shares.some((s) => s.name.toLowerCase() === name.toLowerCase())) throw new ClusterError(`share ${name} exists`)
    const role = kind === 'general' ? await this.newRole(csv, opts) : undefined
    const share = { name, csv, ca, caTimeoutMs, ...(role ? { kind, role } : {}) }
    // Checked as a whole before any node hears of it: a bad role name or address is one line.
    const config = checked({ ...this.config, shares: [...this.config.shares, share] })
    const status = await this.status()
    for (const n of status.nodes.filter((x) => x.reachable)) {
      const reply = await this.admin(n.id).addShare({
        name, csv, continuouslyAvailable: ca, caTimeoutMs,
        kind, roleName: role?.name ?? '', roleAddress: role?.address ?? '', roleSmb2Port: role?.smb2Port ?? 0,
      })
      if (!reply.ok) throw new ClusterError(`${n.id}: ${reply.error}`)
    }
    writeFileSync(join(this.dir, 'cluster.json'), JSON.stringify(config, null, 2))
    ;(this as { config: ClusterConfig }).config = config
    return shareStatusOf(share, roleOwnerOf(status.csvs, csv))
  }

  /** The role a new general share gets: the named one when it exists (same CSV), else a new one. */
  private async newRole(csv: string, opts: ShareOptions): Promise<RoleConfig> {
    const roles = this.config.shares.flatMap((s) => (s.role ? [{ ...s.role, csv: s.csv }] : []))
    const existing = opts.roleName !== undefined ? roles.find((r) => r.name.toLowerCase() === opts.roleName!.toLowerCase()) : undefined
    if (existing) {
      if (existing.csv !== csv) throw new ClusterError(`role ${existing.name} is on ${existing.csv}: its shares live on its CSV`)
      if ((opts.roleAddress !== undefined && opts.roleAddress !== existing.address) || (opts.roleSmb2Port !== undefined && opts.roleSmb2Port !== existing.smb2Port)) {
        throw new ClusterError(`role ${existing.name} has address ${existing.address}:${existing.smb2Port}`)
      }
      return { name: existing.name, address: existing.address, smb2Port: existing.smb2Port }
    }
    const taken = new Set(roles.map((r) => r.address))
    let k = 1
    while (taken.has(`${ROLE_NET}.${k}`) || roles.some((r) => r.name.toLowerCase() === `fs-${k}`)) k++
    if (k > 254) throw new ClusterError('no free role address left')
    const address = opts.roleAddress ?? `${ROLE_NET}.${k}`
    if (taken.has(address)) throw new ClusterError(`${address} is the address of another role`)
    // Before a port is probed on it: the config check says the same, but an address this machine lacks cannot be probed.
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || !isLoopback(address)) throw new ClusterError(`--role-ip must be a loopback IPv4 address (got ${JSON.stringify(address)})`)
    const name = opts.roleName ?? `FS-${k}`
    // Like the nodes: 445 where the cluster serves SMB there and the address can take it, else a free port.
    const on445 = this.config.nodes.some((n) => n.smb2Port === SMB_DIRECT_TCP_PORT)
    const smb2Port = opts.roleSmb2Port ?? (on445 && (await canBind(address, SMB_DIRECT_TCP_PORT)) ? SMB_DIRECT_TCP_PORT : await probeFreePort(address))
    return { name, address, smb2Port }
  }

  async waitFor(predicate: (s: ClusterStatus) => boolean, timeoutMs: number): Promise<ClusterStatus> {
    let last: ClusterStatus | undefined
    const ok = await waitUntil(async () => {
      last = await this.status()
      return predicate(last)
    }, timeoutMs, 50)
    if (!ok || !last) throw new ClusterError(`condition not reached within ${timeoutMs} ms`)
    return last
  }

  closeAdmins(): void {
    for (const admin of this.admins.values()) admin.close()
    this.admins.clear()
  }

  // ---- internals ----

  private markers(id: string): string[] {
    return [NODE_MAIN, this.dir, id]
  }

  private livePid(id: string): number {
    const pid = this.pidOf(id)
    if (!pid || !isOurProcess(pid, this.markers(id))) throw new ClusterError(`node ${id} is not running`)
    return pid
  }

  private signal(id: string, signal: NodeJS.Signals): void {
    process.kill(this.livePid(id), signal)
    // A frozen or killed node cannot log what happened to it: the harness does, for the report.
    const fault = { SIGKILL: 'kill', SIGSTOP: 'pause', SIGCONT: 'resume' }[signal as string]
    if (fault) this.logFault({ event: `fault.${fault}`, node: id })
  }

  /** One line of the harness's fault log (logs/faults.ndjson), which the report reads; a storage fault names its CSV, not a node. */
  private logFault(fields: { readonly event: string; readonly node?: string } & Record<string, unknown>): void {
    try {
      appendFileSync(faultEventsPath(this.dir), `${JSON.stringify({ mono: monoNowMs(), ...fields })}\n`)
    } catch {
      // The log is for the report only; a full disk must not stop the fault.
    }
  }

  private spawnNode(node: NodeConfig, onExit: (code: number | null) => void): number {
    const stderr = openSync(join(this.dir, 'logs', `${node.id}.stderr`), 'a')
    const argv = [process.execPath, ...NODE_V8_FLAGS, NODE_MAIN, '--config', join(this.dir, 'cluster.json'), '--id', node.id]
    // nsenter execs the node in the namespace: the pid and command line are the node's.
    const [command, ...args] = this.config.network ? inNamespace(this.config.network.namespace, argv) : argv
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', 'ignore', stderr],
    })
    closeSync(stderr)
    child.on('exit', (code) => onExit(code))
    child.unref()
    if (child.pid === undefined) throw new ClusterError(`could not start node ${node.id}`)
    return child.pid
  }

  private readFaults(): FaultState {
    try {
      return JSON.parse(readFileSync(join(this.dir, 'faults.json'), 'utf8'))
    } catch {
      return { partitions: [], delays: {} }
    }
  }

  private writeFaults(faults: FaultState): void {
    writeFileSync(join(this.dir, 'faults.json'), JSON.stringify(faults))
  }

  private faultsFor(id: string): { partitionedFrom: string[]; delayMs: Record<string, number> } {
    const { partitions, delays } = this.readFaults()
    const mine = partitions.find((g) => g.includes(id))
    // In a namespaced cluster partitions are nftables rules: no node is told of them.
    const partitionedFrom = mine && !this.config.network ? partitions.filter((g) => g !== mine).flat() : []
    const delayMs: Record<string, number> = {}
    // In a namespaced cluster delays are the harness's relay: no node is told of them either.
    const own = this.config.network ? 0 : (delays[id] ?? 0)
    if (own > 0) for (const n of this.config.nodes) if (n.id !== id) delayMs[n.id] = own
    return { partitionedFrom, delayMs }
  }

  private async pushFaults(): Promise<void> {
    const results = await Promise.all(
      this.config.nodes.map(async (n) => {
        const f = this.faultsFor(n.id)
        return this.admin(n.id)
          .setFaults(f.partitionedFrom, f.delayMs)
          .then(() => '')
          .catch(() => n.id)
      }),
    )
    const missed = results.filter((id) => id !== '')
    // Unreachable nodes (dead or paused) get the faults when they are started again; the
    // reachable ones already drop traffic to and from them.
    if (missed.length === this.config.nodes.length) throw new ClusterError('no node could be reached')
  }

  private async reapplyFaults(id: string): Promise<void> {
    const f = this.faultsFor(id)
    if (f.partitionedFrom.length === 0 && Object.keys(f.delayMs).length === 0) return
    await waitUntil(async () => this.admin(id).setFaults(f.partitionedFrom, f.delayMs).then(() => true, () => false), 5000, 50)
  }

  private static runningPids(dir: string): number[] {
    const run = readRunState(dir)
    const pids: number[] = []
    for (const [id, pid] of Object.entries(run.nodes)) if (isOurProcess(pid, [NODE_MAIN, dir, id])) pids.push(pid)
    for (const h of Object.values(run.helpers)) if (isOurProcess(h.pid, h.markers ?? [dir])) pids.push(h.pid)
    return pids
  }

  private static async killRecorded(dir: string, run: RunState): Promise<void> {
    await Promise.all([
      ...Object.entries(run.nodes).map(([id, pid]) => killAndWait(pid, [NODE_MAIN, dir, id])),
      ...Object.values(run.helpers).map((h) => (h.gentle ? stopCapture({ pid: h.pid, markers: h.markers ?? [dir] }) : killAndWait(h.pid, h.markers ?? [dir]))),
    ])
  }
}

/** What the relay holds on each peer link from node id (both ends' delays add up), per peer; 0s left out. */
function relayedDelaysOf(config: ClusterConfig, delays: Readonly<Record<string, number>>, id: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const n of config.nodes) {
    const ms = n.id === id ? 0 : linkDelayMs(delays, id, n.id)
    if (ms > 0) out[n.id] = ms
  }
  return out
}

function splitArgv(argv: readonly string[]): [string, string[]] {
  return [argv[0], argv.slice(1)]
}

/** A general role's owner: the owner of its CSV while that node serves it; '' while the role moves. */
function roleOwnerOf(csvs: ClusterStatus['csvs'], csv: string): string {
  const c = csvs.find((x) => x.name === csv)
  return c && c.owner !== '' && c.servedBy.includes(c.owner) ? c.owner : ''
}

/** A share as `cluster status` and `share list` show it; owner: its role's owner. */
function shareStatusOf(s: ClusterConfig['shares'][number], owner: string): ShareStatusView {
  const kind = shareKindOf(s)
  return {
    name: s.name,
    csv: s.csv,
    kind,
    flags: [...((s.ca ?? true) ? ['CONTINUOUS_AVAILABILITY'] : []), ...(kind === 'scale-out' ? ['SCALEOUT'] : []), 'CLUSTER'],
    role: s.role ? { name: s.role.name, address: s.role.address, smb2Port: s.role.smb2Port, owner } : null,
  }
}

function checked(config: ClusterConfig): ClusterConfig {
  const result = validateConfig(config)
  if (!result.ok) throw new ClusterError(result.error)
  return result.config
}

function readRunState(dir: string): RunState {
  try {
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunState
    return { nodes: run.nodes ?? {}, helpers: run.helpers ?? {}, ...(typeof run.netns === 'string' && NAMESPACE_NAME.test(run.netns) ? { netns: run.netns } : {}) }
  } catch {
    return { nodes: {}, helpers: {} }
  }
}

function writeRunState(dir: string, run: RunState): void {
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 2))
}

function lastLine(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').pop() ?? ''
  } catch {
    return ''
  }
}

/** The IANA port of SMB over direct TCP (MS-SMB2 2.1). */
export const SMB_DIRECT_TCP_PORT = 445

/** Node N gets client address 127.0.1.N and cluster address 127.0.2.N, plus four ports. */
async function allocateNodes(ids: readonly string[], basePort: number | undefined, clientNet: string, smb445: boolean | undefined): Promise<NodeConfig[]> {
  const nodes: NodeConfig[] = []
  // The system may hand out a port it just gave us again (it is free once the probe closed):
  // never give one to two listeners.
  const taken = new Set<number>()
  const freePort = async (host: string): Promise<number> => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = await probeFreePort(host)
      if (!taken.has(port)) {
        taken.add(port)
        return port
      }
    }
    throw new ClusterError('could not find enough free ports')
  }
  for (const [i, id] of ids.entries()) {
    const clusterAddress = `127.0.2.${i + 1}`
    const clientAddress = `${clientNet}.${i + 1}`
    const peerPort = basePort !== undefined ? basePort + 4 * i : await freePort(clusterAddress)
    const adminPort = basePort !== undefined ? basePort + 4 * i + 1 : await freePort(clusterAddress)
    const witnessPort = basePort !== undefined ? basePort + 4 * i + 2 : await freePort(clientAddress)
    const smbPort = basePort !== undefined ? basePort + 4 * i + 3 : await freePort(clientAddress)
    // The DCE/RPC witness ports come after every node's four, so --base-port layouts stay as they were.
    const dcerpcPort = basePort !== undefined ? basePort + 4 * ids.length + i : await freePort(clientAddress)
    const metricsPort = basePort !== undefined ? basePort + 5 * ids.length + i : await freePort(clientAddress)
    // SMB on 445 where it can be bound (each node on its own client address), else a free port.
    let smb2Port: number
    // --base-port asks for every port from the base, so 445 is tried only without it (or when
    // --smb-445 requires it): a run with fixed ports must not race another cluster for 445.
    const try445 = smb445 === true || (smb445 === undefined && basePort === undefined)
    if (try445 && (smb445 === true || (await canBind(clientAddress, SMB_DIRECT_TCP_PORT)))) smb2Port = SMB_DIRECT_TCP_PORT
    else smb2Port = basePort !== undefined ? basePort + 6 * ids.length + i : await freePort(clientAddress)
    nodes.push({ id, clientAddress, clusterAddress, peerPort, adminPort, witnessPort, smbPort, dcerpcPort, metricsPort, smb2Port })
  }
  return nodes
}

/**
 * Every port of every node (a field named …Port, so that ports added later are covered too),
 * TCP 135 with --epm, and how tshark must decode those it does not know by number.
 */
function captureSpecOf(nodes: readonly NodeConfig[], epm: boolean, peerLinks = false): CaptureSpec {
  const decodeAs: CaptureSpec['decodeAs'][number][] = []
  const servers = nodes.map((n) => {
    const ports: number[] = epm ? [135] : []
    for (const [key, value] of Object.entries(n)) {
      if (!key.endsWith('Port') || typeof value !== 'number' || value <= 0) continue
      ports.push(value)
      // SMB 2/3 over direct TCP is NetBIOS-session framed for tshark; the witness's DCE/RPC
      // port and the gRPC ports (peer, admin, gRPC witness, vendor CBT) need naming too.
      if (/smb2/i.test(key) && value !== 445) decodeAs.push({ port: value, protocol: 'nbss' })
      else if (key === 'dcerpcPort') decodeAs.push({ port: value, protocol: 'dcerpc' })
      else if (['peerPort', 'adminPort', 'witnessPort', 'smbPort'].includes(key)) decodeAs.push({ port: value, protocol: 'http2' })
    }
    // In a namespaced cluster the peers reach this node on its link addresses (127.5.<from>.<to>).
    const links = peerLinks ? nodes.filter((p) => p.id !== n.id).map((p) => peerLinkAddress(nodes, p.id, n.id)) : []
    return { hosts: [n.clientAddress, n.clusterAddress, ...links], ports }
  })
  return { servers, decodeAs }
}

function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolveBound) => {
    const server = createServer()
    server.once('error', () => resolveBound(false))
    server.listen(port, host, () => server.close(() => resolveBound(true)))
  })
}

function probeFreePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

function deleteNamespaceQuietly(name: string): void {
  try {
    deleteNamespace(name)
  } catch {
    // Best effort on a path that already reports another failure.
  }
}

async function startCloudWitness(dir: string, run: RunState, namespace: string | undefined): Promise<string> {
  const argv = [process.execPath, CLOUD_WITNESS_MAIN, '--host', '127.0.0.1', '--port', '0', '--tag', dir]
  const [command, ...args] = namespace !== undefined ? inNamespace(namespace, argv) : argv
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  if (child.pid === undefined) throw new ClusterError('could not start the cloud witness')
  run.helpers.cloudWitness = { pid: child.pid }
  writeRunState(dir, run)
  const lines = createInterface({ input: child.stdout })
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new ClusterError('the cloud witness did not start within 5 s')), 5000)
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; url?: string }
        if (msg.event === 'cloud-witness.listening' && msg.url) {
          clearTimeout(timer)
          resolveUrl(msg.url)
        }
      } catch {
        // Not a JSON line: ignore it.
      }
    })
    child.once('exit', (code) => reject(new ClusterError(`the cloud witness exited with code ${code}`)))
  })
  lines.close()
  child.stdout.destroy()
  child.unref()
  run.helpers.cloudWitness = { pid: child.pid, url }
  writeRunState(dir, run)
  return url
}
