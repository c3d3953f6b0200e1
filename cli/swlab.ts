#!/usr/bin/env node
// The `swlab` command line: a thin layer over the typed Cluster API. Every failure is one
// line on stderr and a non-zero exit; `--json` prints machine-readable results on stdout.
import { Command, CommanderError, Option } from 'commander'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { decodeAsArgs } from '../cluster/packet-capture.js'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { functionalLevelProblem, type WitnessKind } from '../cluster/config.js'
import { WITNESS_PROFILES } from '../core/witness/witness-profiles.js'
import { runDemo } from './demo.js'
import { killAllHosts } from '../client/hyperv/host-launcher.js'
import { formatStatus } from './format-status.js'
import { addWitnessCommands } from './witness-commands.js'
import { addConformanceCommands } from './conformance-commands.js'
import { addSmbCommands } from './smb-commands.js'
import { addClientCommands } from './client-commands.js'
import { addChaosCommands } from './chaos-commands.js'
import { addSoakCommands } from './soak-commands.js'
import { addBenchCommands } from './bench-commands.js'
import { addReportCommands } from './report-commands.js'
import { addDashboardCommands } from './dashboard-commands.js'
import { addHostCommands } from './host-commands.js'
import { addVmCommands } from './vm-commands.js'
import { addBackupCommands } from './backup-commands.js'
import { addCaptureCommands } from './capture-commands.js'
import { addStorageCommands } from './storage-commands.js'
import { parseByteSize } from './byte-size.js'
import { print } from './print-output.js'
import { namespaceToEnter, runInNamespace } from './enter-namespace.js'
import { CUT_PORTS, type CutPort } from '../cluster/net-fault-rules.js'
import type { NetFaultResult } from '../cluster/cluster.js'

const DEFAULT_DIR = './.swlab'

interface ClusterDescription {
  name?: string
  profile?: string
  witness?: WitnessKind
  nodeIds?: string[]
  functionalLevel?: number
  flavour?: 'microsoft' | 'third-party'
}

/** Reads a user's cluster description file; anything malformed is one clear line. */
function readClusterDescription(path: string): ClusterDescription {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    throw new ClusterError(`malformed config file ${path}: ${reason}`)
  }
  if (typeof raw !== 'object' || raw === null) throw new ClusterError(`malformed config file ${path}: not a JSON object`)
  const c = raw as Record<string, unknown>
  const bad = (what: string) => new ClusterError(`invalid config file ${path}: ${what}`)
  if (c.name !== undefined && typeof c.name !== 'string') throw bad('name must be a string')
  if (c.profile !== undefined && typeof c.profile !== 'string') throw bad('profile must be a string')
  const witness = (c.witness as { kind?: unknown } | undefined)?.kind ?? c.witness
  if (witness !== undefined && witness !== 'none' && witness !== 'file' && witness !== 'cloud') throw bad('witness must be none, file or cloud')
  let nodeIds: string[] | undefined
  if (c.nodes !== undefined) {
    if (!Array.isArray(c.nodes)) throw bad('nodes must be an array')
    nodeIds = c.nodes.map((n: unknown, i: number) => {
      const id = typeof n === 'string' ? n : (n as { id?: unknown } | null)?.id
      if (typeof id !== 'string') throw bad(`nodes[${i}].id must be a string`)
      return id
    })
  }
  if (c.functionalLevel !== undefined) {
    const problem = functionalLevelProblem(c.functionalLevel)
    if (problem) throw bad(`functionalLevel: ${problem}`)
  }
  if (c.flavour !== undefined && c.flavour !== 'microsoft' && c.flavour !== 'third-party') throw bad('flavour must be microsoft or third-party')
  return {
    name: c.name as string | undefined,
    profile: c.profile as string | undefined,
    witness: witness as WitnessKind | undefined,
    nodeIds,
    functionalLevel: c.functionalLevel as number | undefined,
    flavour: c.flavour as ClusterDescription['flavour'],
  }
}

function parseGroups(spec: string): string[][] {
  const groups = spec.split('/').map((g) => g.split(',').map((x) => x.trim()).filter(Boolean))
  if (groups.length < 2 || groups.some((g) => g.length === 0)) {
    throw new ClusterError(`bad partition ${JSON.stringify(spec)}: expected groups like node-1/node-2,node-3`)
  }
  return groups
}

/** How a network fault was applied, for the text output: the kind, and where. */
function appliedBy(r: NetFaultResult): string {
  if (r.applied === 'nftables') return `nftables rules in network namespace ${r.namespace} (${r.rules.length} in force)`
  if (r.applied === 'relay') return `held by the harness's relay in network namespace ${r.namespace}, the node's peer links sent through it by nftables (${r.rules.length} rules in force); no node knows of it`
  return "self-applied by the nodes' peer transport"
}

function intOption(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n)) throw new ClusterError(`${name} must be an integer (got ${JSON.stringify(value)})`)
  return n
}

/** --functional-level: checked here so that the error quotes what the user typed. */
function functionalLevelOption(text: string): number {
  const level = /^\d{1,3}$/.test(text) ? Number(text) : NaN
  const problem = functionalLevelProblem(Number.isNaN(level) ? text : level)
  if (problem) throw new ClusterError(`--functional-level: ${problem}`)
  return level
}

export function buildProgram(): Command {
  const program = new Command('swlab')
    .description('SMB 3 failover cluster emulator: cluster nodes, quorum, witness and CA data path')
    .showHelpAfterError()
    .exitOverride()
  const dirOption = () => new Option('--dir <cluster-dir>', 'cluster folder').default(DEFAULT_DIR)

  const cluster = program.command('cluster').description('start, inspect and stop a cluster')
  cluster
    .command('up')
    .description('start N node processes detached; return once the cluster is quorate')
    .addOption(dirOption())
    .option('--nodes <n>', 'number of nodes (required unless --config gives them)')
    .option('--node-ids <ids>', 'comma-separated node ids instead of node-1 … node-N')
    .option('--config <file>', 'a JSON cluster description: { name, profile, witness, nodes: [{ id }], functionalLevel, flavour }')
    .addOption(new Option('--profile <name>', 'heartbeat profile').choices(['fast', 'ws2012', 'ws2016', 'ctdb']).default('fast'))
    .addOption(new Option('--witness <kind>', 'quorum witness').choices(['none', 'file', 'cloud']).default('none'))
    .option('--cloud-witness-url <url>', 'use this cloud witness instead of starting one')
    .addOption(new Option('--csv-mode <mode>', 'CSV IO routing').choices(['s2d', 'san']).default('s2d'))
    .addOption(new Option('--flavour <flavour>', 'server flavour').choices(['microsoft', 'third-party']).default('microsoft'))
    .addOption(
      new Option('--witness-profile <profile>', "whose MS-SWN behaviour the witness service follows")
        .choices(WITNESS_PROFILES)
        .default('ws2012r2'),
    )
    .option('--csvs <n>', 'number of CSVs (default: one per node)')
    .option('--io-bandwidth <MB/s>', 'per-node cap on data IO served (default: unlimited)')
    .option('--name <name>', 'cluster (SOFS) network name', 'SOFS')
    .option('--base-port <port>', 'first TCP port (default: free ports)')
    .option('--functional-level <n>', 'cluster functional level: 8 (2012 R2), 9 (2016), 10 (2019), 11 (2022)', '10')
    .option('--epm', 'also answer the DCE/RPC endpoint mapper on TCP 135 of each client address (root, or a private network namespace)')
    .option('--client-net <127.X.Y>', 'client addresses <net>.N instead of 127.0.1.N (e.g. to run two clusters with --epm)')
    .option('--witness-allow-anonymous', 'the DCE/RPC witness also serves unauthenticated binds (default: calls below packet integrity get access denied)')
    .option('--witness-keep-alive-max <seconds>', 'hold a witness AsyncNotify at most this long, whatever keep-alive the client asked for (a test knob; default: the client\'s)')
    .option('--pcap <file>', "record the cluster's loopback traffic into a pcapng file until `cluster down` (root; dumpcap)")
    .option('--smb-445', 'serve SMB 2/3 on TCP 445 of each client address (root, or a private network namespace); default: 445 where it can be bound, else a free port (with --base-port, a port from the base)')
    .option('--no-smb-445', 'serve SMB 2/3 on free ports, never 445')
    .addOption(new Option('--smb2-signing <mode>', 'SMB2 signing: required (the default) or enabled').choices(['required', 'enabled']))
    .option('--smb-encrypt', 'every SMB 3 session encrypts')
    .option('--csv-size <bytes>', 'each CSV on a loop-mounted ext4 volume of this size, e.g. 64MiB, so that a full disk is real (root; see `storage fault`)')
    .option('--no-storage-array', 'nodes write the shared storage themselves instead of through the emulated storage array and its SCSI-3-style reservations (no fencing; to compare the cost)')
    .option('--netns', 'run the nodes and helpers in a network namespace of their own (root; ip, nsenter, nft): partitions and cuts become nftables rules; later commands on the cluster enter it themselves')
    .option('--json', 'print the status as JSON')
    .action(async (o) => {
      const started = performance.now()
      const file = o.config !== undefined ? readClusterDescription(o.config) : {}
      const nodeIds: string[] | undefined = file.nodeIds ?? (o.nodeIds !== undefined ? String(o.nodeIds).split(',') : undefined)
      if (o.nodes === undefined && nodeIds === undefined) throw new ClusterError('--nodes <n> is required')
      const c = await Cluster.up({
        dir: o.dir,
        nodes: o.nodes !== undefined ? intOption('--nodes', o.nodes) : (nodeIds?.length ?? 0),
        nodeIds,
        profile: file.profile ?? o.profile,
        witness: file.witness ?? o.witness,
        cloudWitnessUrl: o.cloudWitnessUrl,
        csvMode: o.csvMode,
        flavour: file.flavour ?? o.flavour,
        epm: Boolean(o.epm),
        witnessAllowAnonymous: Boolean(o.witnessAllowAnonymous),
        witnessKeepAliveMaxS: o.witnessKeepAliveMax !== undefined ? intOption('--witness-keep-alive-max', o.witnessKeepAliveMax) : undefined,
        clientNet: o.clientNet,
        smb445: o.smb445 === undefined ? undefined : Boolean(o.smb445),
        smb2Signing: o.smb2Signing,
        smbEncrypt: Boolean(o.smbEncrypt),
        witnessProfile: o.witnessProfile,
        ioBandwidthMBps: o.ioBandwidth !== undefined ? Number(o.ioBandwidth) : undefined,
        csvs: o.csvs !== undefined ? intOption('--csvs', o.csvs) : undefined,
        name: file.name ?? o.name,
        basePort: o.basePort !== undefined ? intOption('--base-port', o.basePort) : undefined,
        functionalLevel: file.functionalLevel ?? functionalLevelOption(String(o.functionalLevel)),
        ...(o.pcap !== undefined ? { pcap: String(o.pcap) } : {}),
        ...(o.csvSize !== undefined ? { csvSizeBytes: parseByteSize('--csv-size', String(o.csvSize)) } : {}),
        ...(o.netns ? { netns: true } : {}),
        ...(o.storageArray === false ? { storageArray: false } : {}),
      })
      const status = await c.status()
      c.closeAdmins()
      const quorateAfterMs = Math.round(performance.now() - started)
      const pcap = o.pcap !== undefined ? { out: resolve(String(o.pcap)), decode: ['tshark', '-r', resolve(String(o.pcap)), ...decodeAsArgs(c.captureSpec())].join(' ') } : undefined
      print(Boolean(o.json), { ...status, quorateAfterMs, ...(pcap ? { pcap } : {}) }, () =>
        `quorate after ${quorateAfterMs} ms\n\n${formatStatus(status)}${pcap ? `\n\ncapturing into ${pcap.out} until \`cluster down\`; read it with: ${pcap.decode}` : ''}`,
      )
    })
  cluster
    .command('status')
    .description('quorum, epoch, leader, nodes, CSV owners')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = Cluster.open(o.dir)
      const status = await c.status()
      c.closeAdmins()
      print(Boolean(o.json), status, () => formatStatus(status))
    })
  cluster
    .command('down')
    .description('stop every node, helper and Hyper-V host process of the cluster')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      // An up killed before it wrote cluster.json leaves only its run state (helpers, a namespace).
      if (!existsSync(join(resolve(o.dir), 'cluster.json')) && (await Cluster.downLeftovers(o.dir))) {
        print(Boolean(o.json), { down: true, dir: resolve(o.dir), hostsKilled: 0 }, () => `what a failed cluster up left in ${resolve(o.dir)} is gone`)
        return
      }
      const c = Cluster.open(o.dir)
      // Hosts first: a host whose storage vanished under it would only log errors until it noticed.
      const hosts = await killAllHosts(c.dir)
      await c.down()
      print(Boolean(o.json), { down: true, dir: c.dir, hostsKilled: hosts.length }, () => `cluster in ${c.dir} is down${hosts.length ? ` (${hosts.length} host process(es) killed)` : ''}`)
    })

  const node = program.command('node').description('kill, pause, resume, stop or start one node')
  const nodeAction = (name: string, description: string, act: (c: Cluster, id: string) => Promise<void> | void) =>
    node
      .command(`${name} <id>`)
      .description(description)
      .addOption(dirOption())
      .option('--json', 'print JSON')
      .action(async (id: string, o) => {
        const c = Cluster.open(o.dir)
        c.nodeConfig(id)
        const pid = c.pidOf(id)
        await act(c, id)
        c.closeAdmins()
        print(Boolean(o.json), { node: id, action: name, pid, pidNow: c.pidOf(id) }, () => `${name} ${id}: done`)
      })
  nodeAction('kill', 'SIGKILL the node process', (c, id) => c.kill(id))
  nodeAction('pause', 'SIGSTOP the node process', (c, id) => c.pause(id))
  nodeAction('resume', 'SIGCONT the node process', (c, id) => c.resume(id))
  nodeAction('stop', 'graceful stop: give up the vote, hand CSVs over, exit', (c, id) => c.stop(id))
  nodeAction('start', 'start a stopped or killed node and wait until it serves', (c, id) => c.start(id))

  const net = program
    .command('net')
    .description("network faults: nftables rules applied by the harness in a cluster's network namespace (cluster up --netns), else applied by the nodes' own peer transport; every output says which")
  net
    .command('partition <groups>')
    .description('cut traffic between groups, e.g. node-1/node-2,node-3')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (spec: string, o) => {
      const groups = parseGroups(spec)
      const c = Cluster.open(o.dir)
      const r = await c.partition(groups)
      c.closeAdmins()
      print(Boolean(o.json), { partition: groups, ...r }, () => `partitioned ${groups.map((g) => g.join(',')).join(' / ')}: ${appliedBy(r)}`)
    })
  net
    .command('cut <from> <to>')
    .description("cut one direction (root, a cluster up with --netns): <from> a node id (its peer calls to <to>) or a client's source address (its connections to node <to>)")
    .addOption(dirOption())
    .addOption(new Option('--port <port>', 'what to cut: peer (node to node; the default there), witness (gRPC and DCE/RPC), smb2, or all (the default from a client address)').choices(CUT_PORTS))
    .option('--json', 'print JSON')
    .action(async (from: string, to: string, o) => {
      const c = Cluster.open(o.dir)
      const r = await c.cut(from, to, o.port as CutPort | undefined)
      c.closeAdmins()
      print(Boolean(o.json), { cut: { from, to, port: o.port ?? null }, ...r }, () => `cut ${from} -> ${to}${o.port ? ` (${o.port})` : ''}: ${appliedBy(r)}`)
    })
  net
    .command('loss <from> <to> <percent>')
    .description("drop a share (1..99 %) of one direction's packets, at random (nft numgen; root, a cluster up with --netns); TCP retransmits them: the sender sees delays, not gaps")
    .addOption(dirOption())
    .addOption(new Option('--port <port>', 'as for net cut').choices(CUT_PORTS))
    .option('--json', 'print JSON')
    .action(async (from: string, to: string, percent: string, o) => {
      const c = Cluster.open(o.dir)
      const r = await c.loss(from, to, intOption('<percent>', percent), o.port as CutPort | undefined)
      c.closeAdmins()
      print(Boolean(o.json), { loss: { from, to, percent: Number(percent), port: o.port ?? null }, ...r }, () => `${percent}% of ${from} -> ${to}${o.port ? ` (${o.port})` : ''} dropped: ${appliedBy(r)}`)
    })
  net
    .command('heal')
    .description('remove every partition, cut, loss and delay')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const c = Cluster.open(o.dir)
      const r = await c.heal()
      c.closeAdmins()
      print(Boolean(o.json), { healed: true, ...r }, () => `healed: ${r.applied === 'nftables' ? `no nftables rule left in network namespace ${r.namespace}; no delay left in the harness's relay` : "self-applied faults removed from the nodes' peer transport"}`)
    })
  net
    .command('delay <id> <ms>')
    .description("delay every peer message to and from a node: held by the harness's relay in a cluster up with --netns (nftables sends the node's peer links through it; no netem here), else self-applied by the nodes")
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (id: string, ms: string, o) => {
      const c = Cluster.open(o.dir)
      const r = await c.delay(id, intOption('<ms>', ms))
      c.closeAdmins()
      print(Boolean(o.json), { node: id, delayMs: Number(ms), ...r }, () => `${id}: messages delayed by ${ms} ms: ${appliedBy(r)}`)
    })

  const csv = program.command('csv').description('cluster shared volumes')
  csv
    .command('move <csv> <node>')
    .description('move a CSV to another node (the leader hands it over)')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (name: string, to: string, o) => {
      const c = Cluster.open(o.dir)
      await c.moveCsv(name, to)
      const s = await c.waitFor((st) => st.csvs.some((x) => x.name === name && x.servedBy.includes(to)), 10_000)
      c.closeAdmins()
      print(Boolean(o.json), s.csvs.find((x) => x.name === name), () => `${name} is served by ${to}`)
    })

  addWitnessCommands(program, dirOption)
  addSmbCommands(program, dirOption)
  addClientCommands(program, dirOption)
  addChaosCommands(program, dirOption)
  addSoakCommands(program)
  addHostCommands(program, dirOption)
  addVmCommands(program, dirOption)
  addBackupCommands(program, dirOption)
  addBenchCommands(program)
  addReportCommands(program)
  addDashboardCommands(program, dirOption)
  addConformanceCommands(program)
  addCaptureCommands(program, dirOption)
  addStorageCommands(program, dirOption)

  csv
    .command('redirect <csv> <on|off>')
    .description('redirected access: all IO of the CSV via its owner (in SAN mode too)')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (name: string, state: string, o) => {
      if (state !== 'on' && state !== 'off') throw new ClusterError(`expected on or off, got ${JSON.stringify(state)}`)
      const c = Cluster.open(o.dir)
      await c.setCsvRedirected(name, state === 'on')
      c.closeAdmins()
      print(Boolean(o.json), { csv: name, redirected: state === 'on' }, () => `${name}: redirected access ${state}`)
    })

  program
    .command('demo')
    .description('the whole story in about a minute: 4 nodes, hosts, VMs, clients, backups; kill, move, partition; a summary and a report')
    .option('--dir <cluster-dir>', 'cluster folder (emptied first if it holds an earlier demo)', './.swlab-demo')
    .option('--keep', 'leave the cluster and its hosts running')
    .option('--short', 'smaller disks (the same steps; for tests)')
    .option('--json', 'print the summary as JSON on stdout (the narration goes to stderr)')
    .option('--pcap <file>', "record the run's loopback traffic into a pcapng file (root; dumpcap); the summary prints the tshark command")
    .option('--witness-auth <level>', 'how the clients protect their witness calls: privacy (sealed; the default without --pcap) or integrity (signed, readable in the capture; the default with --pcap)')
    .action(async (o) => {
      const json = Boolean(o.json)
      if (o.witnessAuth !== undefined && o.witnessAuth !== 'integrity' && o.witnessAuth !== 'privacy') throw new ClusterError(`--witness-auth must be integrity or privacy (got ${String(o.witnessAuth)})`)
      const summary = await runDemo({
        dir: o.dir,
        keep: Boolean(o.keep),
        short: Boolean(o.short),
        out: json ? (line) => process.stderr.write(`${line}\n`) : undefined,
        ...(o.pcap !== undefined ? { pcap: String(o.pcap) } : {}),
        ...(o.witnessAuth !== undefined ? { witnessAuthLevel: o.witnessAuth as 'integrity' | 'privacy' } : {}),
      })
      if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
      if (!summary.verify.passed) throw new ClusterError(`demo: verification failed: ${summary.verify.problems.join('; ')}`)
      if (summary.servingOverlaps.length > 0) throw new ClusterError(`demo: a CSV was served by two nodes at once: ${summary.servingOverlaps.join('; ')}`)
    })
  return program
}

export async function main(argv: string[]): Promise<number> {
  // A cluster in a network namespace of its own: the command runs in there (cli/enter-namespace.ts).
  const namespace = namespaceToEnter(argv, DEFAULT_DIR)
  if (namespace !== null) return runInNamespace(namespace, argv)
  const program = buildProgram()
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2
    const message = err instanceof ClusterError ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`
    process.stderr.write(`swlab: error: ${message}\n`)
    return 1
  }
}

// A reader that went away (`swlab chaos run | head`) must not crash a command that has
// processes to stop: what it prints after that is dropped.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err
})

// A command may set process.exitCode (e.g. failed conformance cases) and still return.
main(process.argv.slice(2)).then((code) => process.exit(code !== 0 ? code : (process.exitCode ?? 0)))
