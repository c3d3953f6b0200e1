// `swlab demo`: the story of the source documents in about a minute, with real processes. A
// 4-node cluster (fast profile, file-share witness) comes up with two Hyper-V host processes
// whose VMs keep their disks on a CA share, two failover clients writing, and a backup
// repository. Then: (a) the witness registration flow of seed 001; (b) a full backup and an
// RCT incremental; (c) a kill -9 of the node serving the VMs in the middle of the next
// backup; (d) a planned client move; (e) a partition that costs one node its quorum; (f) the
// incremental on third-party SMB and seed 000's table with the bytes each method read. It
// ends with a summary, a report rebuilt from the logs, and no process left behind.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Cluster, ClusterError, type ClusterStatus } from '../cluster/cluster.js'
import { clientEventsPath, faultEventsPath, readLogLines, type LogLine } from '../cluster/run-logs.js'
import { servingOverlaps } from '../tools/chaos/chaos.js'
import { buildRunModel, readRun, renderRunReport } from '../tools/report/run-report.js'
import { monoNowMs } from '../runtime/clock.js'
import { runWorkload, type FailoverRecord, type WorkloadResult } from '../client/workload.js'
import type { BackupReport, HostApi } from '../client/backup/backup-agent.js'
import { agentOptions } from '../client/backup/agent-wiring.js'
import { runLoggedBackup } from '../client/backup/backup-log.js'
import { runBackupMatrix, type MatrixRow } from '../client/backup/backup-matrix.js'
import { BackupRepository } from '../client/backup/backup-repository.js'
import { HostControlClient } from '../client/hyperv/host-control-client.js'
import { killAllHosts, startHostProcess } from '../client/hyperv/host-launcher.js'
import { formatBytes } from './byte-size.js'
import { formatSeed000, formatSummary, reportTables, type DemoBackup, type DemoCapture, type DemoSummary } from './demo-summary.js'
import { decodeAsArgs } from '../cluster/packet-capture.js'

export interface DemoOptions {
  readonly dir: string
  readonly keep: boolean
  /** Smaller disks: the same story, for the test. */
  readonly short?: boolean
  /** Narration goes here; the default is stdout. */
  readonly out?: (line: string) => void
  /** Record the run's loopback traffic into this pcapng file (root; dumpcap), as `cluster up --pcap`. */
  readonly pcap?: string
  /**
   * How the demo's clients protect their witness calls. Default: 'integrity' with pcap (signed,
   * the stubs readable in the capture: tshark 4.0 decrypts only the first sealed call each way of
   * an SPNEGO-wrapped NTLMSSP association), 'privacy' (sealed, as Windows clients bind) without.
   */
  readonly witnessAuthLevel?: 'integrity' | 'privacy'
}

const STEPS = 8
/** Every wait of the demo is on a condition, bounded by this. */
const WAIT_MS = 30_000
const POLL_MS = 25
/** Client events stop this long after a rejoin's notifications and moves are over. */
const QUIET_MS = 1_000
const MOVE_ATTEMPTS = 3
const MOVE_WAIT_MS = 5_000
const SHARE = 'share-1'
const HOSTS = [
  { name: 'hv-1', vm: 'vm-1' },
  { name: 'hv-2', vm: 'vm-2' },
] as const
/** The VMs' guest workload: small writes in a hot 2 % of the disk. */
const GUEST_WORKLOAD = { writesPerSecond: 40, writeBytes: 4096, hotFraction: 0.02 }

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  // A closed stdout (`npm run demo | head`) must not end the demo before it stops its detached
  // processes: the narration stops and the story runs on to its cleanup.
  let narrating = true
  const stdoutClosed = () => (narrating = false)
  if (!opts.out) process.stdout.on('error', stdoutClosed)
  const say =
    opts.out ??
    ((line: string) => {
      if (narrating) process.stdout.write(`${line}\n`)
    })
  let step = 0
  const progress = (title: string) => say(`\n[${++step}/${STEPS}] ${title}`)
  const dir = resolve(opts.dir)
  await clearDemoFolder(dir)

  progress('Starting a 4-node cluster (fast profile, file-share witness), two Hyper-V hosts, two clients')
  const t0 = performance.now()
  const pcap = opts.pcap !== undefined ? resolve(opts.pcap) : undefined
  const witnessAuthLevel = opts.witnessAuthLevel ?? (pcap !== undefined ? 'integrity' : 'privacy')
  const cluster = await Cluster.up({ dir, nodes: 4, profile: 'fast', witness: 'file', clientWitnessAuthLevel: witnessAuthLevel, ...(pcap !== undefined ? { pcap } : {}) }).catch(async (err: Error) => {
    // Nodes that did start must not outlive a failed start.
    await Cluster.open(dir)
      .down()
      .catch(() => undefined)
    throw err
  })
  const upMs = Math.round(performance.now() - t0)
  // The nodes and hosts are detached processes: Ctrl-C must not leave them running.
  const onSignal = (signal: NodeJS.Signals) => {
    say(`\n${signal}: stopping the demo's processes`)
    void killAllHosts(dir)
      .catch(() => [])
      .then(() => cluster.down())
      .finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const stage = new DemoStage(cluster, dir, say)
  let leaveRunning = false
  try {
    await stage.setUp(upMs, (opts.short ? 4 : 16) * 1024 * 1024)
    progress('(a) Witness registration (seed 001): data node, interface list, registration on another node')
    const registration = await stage.registration()
    progress('(b) Backups of vm-1: a full one, then an incremental with RCT')
    const { fullBackup, rctIncremental } = await stage.backups()
    progress(`(c) kill -9 of ${stage.vmNode}, the node serving the VMs, in the middle of the next backup`)
    const kill = await stage.killDuringBackup()
    progress('(d) A planned client move (witness CLIENT_MOVE)')
    const clientMove = await stage.clientMove()
    progress(`(e) A partition isolates ${clientMove.to}: it loses its quorum and serves nothing`)
    const partition = await stage.partition(clientMove.to)
    progress("(f) The same incremental on third-party SMB, and seed 000's table with the bytes read")
    const writes = await stage.stopWorkloads()
    const seed000 = await stage.thirdParty(opts.short ? 256 * 1024 : 4 * 1024 * 1024)
    progress('Summary')
    const summary: DemoSummary = {
      clusterDir: dir,
      reportPath: join(dir, 'report.html'),
      upMs,
      registration,
      fullBackup,
      rctIncremental,
      kill,
      clientMove,
      partition,
      thirdParty: seed000.find((r) => r.flavour === 'third-party' && r.tableSays === 'filter') ?? seed000[0],
      seed000,
      writes,
      verify: stage.verify(seed000),
      servingOverlaps: servingOverlaps(cluster, harnessStops(dir)),
      ...(pcap !== undefined ? { capture: demoCapture(cluster, pcap, witnessAuthLevel) } : {}),
    }
    say(formatSummary(summary))
    writeFileSync(summary.reportPath, renderRunReport(buildRunModel(readRun(dir)), 'swlab demo', reportTables(summary)))
    say(`\n  report: ${summary.reportPath}`)
    if (summary.capture) {
      say(`  capture: ${summary.capture.path} (complete once the cluster is down; witness calls at packet ${summary.capture.witnessAuthLevel})`)
      say(`  read it: ${summary.capture.tshark}`)
      say(`  the failover's frames: ${summary.capture.tsharkFailover}`)
    }
    if (opts.keep) {
      leaveRunning = true
      say(`\ncluster and hosts left running in ${dir}:`)
      for (const command of ['cluster status', 'dashboard', 'host list', 'cluster down']) say(`  npx swlab ${command} --dir ${dir}`)
    }
    return summary
  } finally {
    process.stdout.off('error', stdoutClosed)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await stage.stopWorkloads().catch(() => undefined)
    if (leaveRunning) {
      cluster.closeAdmins()
    } else {
      const hostPids = await killAllHosts(dir)
      await cluster.down()
      say(`\ncluster stopped (4 nodes${hostPids.length ? `, ${hostPids.length} host processes` : ''}); no process left behind`)
    }
  }
}

/** The demo's cluster, hosts, clients and repository, and one method per step of the story. */
class DemoStage {
  readonly events: ClientEvents
  private hosts: HostControlClient[] = []
  private repo: BackupRepository | null = null
  private readonly failovers = new Map<string, FailoverRecord[]>()
  private readonly workloads: Array<Promise<WorkloadResult>> = []
  private stopClients = false
  private status: ClusterStatus | null = null
  /** The node the VMs of hv-1 reach their disks through; it also owns their CSV. */
  vmNode = ''

  constructor(
    private readonly cluster: Cluster,
    private readonly dir: string,
    private readonly say: (line: string) => void,
  ) {
    this.events = new ClientEvents(clientEventsPath(dir))
  }

  private get vmClient(): string {
    return `${HOSTS[0].name}-${SHARE}`
  }

  async setUp(upMs: number, diskBytes: number): Promise<void> {
    const { cluster, say } = this
    let status = await cluster.status()
    say(`  quorate after ${upMs} ms: leader ${status.leader}, term ${status.term}, witness ${status.witness.kind} (${status.witness.path ?? status.witness.holder})`)
    this.hosts = await Promise.all(HOSTS.map((h) => startHostProcess(this.dir, h.name, '2022').then((r) => new HostControlClient(r))))
    const csv = cluster.config.shares.find((s) => s.name === SHARE)?.csv ?? 'csv-1'
    for (const [i, h] of HOSTS.entries()) {
      await this.hosts[i].createVm(h.vm, { share: SHARE, configVersion: 10, diskBytes })
      await this.hosts[i].startWorkload(h.vm, { ...GUEST_WORKLOAD, seed: i + 1 })
    }
    // "The node serving the VMs" also takes their CSV, so its death is both a client failover and a CSV failover.
    const vmNode = nodeOfIp(cluster, String((await this.events.waitFor((e) => e.client === this.vmClient && e.event === 'client.registered')).data))
    this.vmNode = vmNode
    if (status.csvs.find((c) => c.name === csv)?.owner !== vmNode) {
      await cluster.moveCsv(csv, vmNode)
      status = await cluster.waitFor((s) => s.csvs.some((c) => c.name === csv && c.owner === vmNode && c.servedBy.length === 1), WAIT_MS)
    }
    say(`  hosts hv-1 and hv-2 (Windows Server 2022) run vm-1 and vm-2 (${formatBytes(diskBytes)} disks on ${SHARE}, ${csv} owned by ${vmNode})`)
    const otherNode = status.nodes.map((n) => n.id).find((id) => id !== vmNode && id !== status.leader) ?? status.nodes.find((n) => n.id !== vmNode)!.id
    this.startClient('client-a', vmNode, SHARE)
    this.startClient('client-b', otherNode, 'share-2')
    this.status = status
  }

  private startClient(name: string, node: string, share: string): void {
    const { cluster } = this
    this.failovers.set(name, [])
    const run = runWorkload(
      {
        resolve: () => cluster.addresses(),
        netName: cluster.config.name,
        share,
        credential: cluster.credentials()!.users[0],
        clientName: name,
        preferredIp: cluster.nodeConfig(node).clientAddress,
        witnessAuthLevel: cluster.config.clientWitnessAuthLevel,
      },
      { kind: 'randwrite', durationMs: 10 * 60_000, path: `${name}.dat`, eventLog: clientEventsPath(this.dir), shouldStop: () => this.stopClients, onFailover: (f) => this.failovers.get(name)!.push(f) },
    )
    this.workloads.push(run)
    // A client that failed to start must not leave the demo waiting for its events.
    run.catch(() => undefined)
  }

  /** Stops the clients (once) and returns what each wrote and lost. */
  async stopWorkloads(): Promise<DemoSummary['writes']> {
    this.stopClients = true
    const results = await Promise.all(this.workloads)
    this.workloads.length = 0
    for (const h of HOSTS.keys()) if (this.hosts[h]) await this.hosts[h].stopWorkload(HOSTS[h].vm).catch(() => undefined)
    return results.map((r) => ({ client: r.client, acknowledged: r.writes, lost: r.lost.length, failovers: r.failovers.length }))
  }

  async registration(): Promise<DemoSummary['registration']> {
    const { cluster, events, say } = this
    const registered = await events.waitFor((e) => e.client === 'client-a' && e.event === 'client.registered')
    await events.waitFor((e) => e.client === 'client-b' && e.event === 'client.registered')
    const registration = { client: 'client-a', dataNode: nodeOfIp(cluster, String(registered.data)), witnessNode: nodeOfIp(cluster, String(registered.witness)), interfaces: Number(registered.interfaces ?? 0) }
    say(`  client-a opened its SMB session on ${registration.dataNode} (its data node)`)
    say(`  GetInterfaceList on ${registration.dataNode}: ${registration.interfaces} interfaces; RegisterEx on ${registration.witnessNode}'s witness, never the data node's`)
    say(`  then AsyncNotify waits on ${registration.witnessNode}: news of ${registration.dataNode} comes from a node that outlives it`)
    const status = await cluster.status()
    say(`  registrations per node: ${status.nodes.map((n) => `${n.id}=${n.witness.registrations}`).join(' ')}`)
    return registration
  }

  private backup(host: HostApi = this.hosts[0]): Promise<BackupReport> {
    this.repo ??= BackupRepository.open(join(this.dir, 'backups'), { create: true })
    return runLoggedBackup(this.dir, HOSTS[0].name, agentOptions({ cluster: this.cluster, host, repo: this.repo, vm: HOSTS[0].vm }))
  }

  async backups(): Promise<{ fullBackup: DemoBackup; rctIncremental: DemoBackup }> {
    const fullBackup = demoBackup(await this.backup())
    this.say(`  full: ${describeBackup(fullBackup)}`)
    await this.events.sleepWhileWriting(this.hosts[0], HOSTS[0].vm, 1_000)
    const rctIncremental = demoBackup(await this.backup())
    this.say(`  incremental: ${describeBackup(rctIncremental)}`)
    this.say(`  ${rctIncremental.reason}`)
    return { fullBackup, rctIncremental }
  }

  async killDuringBackup(): Promise<DemoSummary['kill']> {
    const { cluster, events, say, vmNode } = this
    const host = this.hosts[0]
    await events.sleepWhileWriting(host, HOSTS[0].vm, 500)
    let killMono = 0
    const failoversBefore = this.failovers.get('client-a')!.length
    // The kill lands between the backup's checkpoint and its first read: the reads must fail over.
    const killingHost: HostApi = {
      name: host.name,
      vmInfo: (vm) => host.vmInfo(vm),
      changes: (vm, disk, since, target) => host.changes(vm, disk, since, target),
      merge: (vm) => host.merge(vm),
      checkpoint: async (vm, o) => {
        const checkpoint = await host.checkpoint(vm, o)
        // A fresh guest workload from here on: its longest wait between writes is the VM's IO pause through the kill.
        await host.stopWorkload(HOSTS[0].vm)
        await host.startWorkload(HOSTS[0].vm, { ...GUEST_WORKLOAD, seed: 11 })
        killMono = monoNowMs()
        cluster.kill(vmNode)
        say(`  ${vmNode} killed: the backup had taken its checkpoint and not yet read a block`)
        return checkpoint
      },
    }
    const during = this.backup(killingHost)
    await waitUntil(async () => killMono > 0, 'the backup to take its checkpoint')
    const clientBack = await events.waitFor((e) => e.client === 'client-a' && e.event === 'client.reconnected' && e.mono > killMono)
    const notified = events.lines().find((e) => e.event === 'client.notified' && e.mono > killMono)
    const vmBack = await events.waitFor((e) => e.client === this.vmClient && e.event === 'client.reconnected' && e.mono > killMono).catch(() => null)
    const backupDuringKill = demoBackup(await during)
    await waitUntil(async () => this.failovers.get('client-a')!.length > failoversBefore, 'client-a to write again after its failover')
    const guest = await host.stopWorkload(HOSTS[0].vm)
    await host.startWorkload(HOSTS[0].vm, { ...GUEST_WORKLOAD, seed: 12 })
    const kill = {
      node: vmNode,
      notifiedAfterMs: notified ? Math.round(notified.mono - killMono) : null,
      clientFailoverMs: Math.round(clientBack.mono - killMono),
      ioPauseMs: this.failovers.get('client-a')![failoversBefore].ioPauseMs ?? 0,
      vmStorageFailoverMs: vmBack ? Math.round(vmBack.mono - killMono) : null,
      vmGuestLongestGapMs: guest.longestGapMs,
      backupDuringKill,
    }
    if (notified) say(`  ${ms(kill.notifiedAfterMs)}: ${String(notified.client)} got a witness notification (RESOURCE_CHANGE, ${vmNode} unavailable)`)
    say(`  ${ms(kill.clientFailoverMs)}: client-a reclaimed its session on ${nodeOfIp(cluster, String(clientBack.to))}; its IO paused for ${ms(kill.ioPauseMs)} (a timeout-only client waits ~60 s)`)
    if (vmBack) say(`  ${ms(kill.vmStorageFailoverMs)}: vm-1's storage on hv-1 moved to ${nodeOfIp(cluster, String(vmBack.to))} (persistent handles, AppInstanceId)`)
    say(`  vm-1's guest kept writing: its longest wait between two writes was ${ms(kill.vmGuestLongestGapMs)}`)
    say(`  the backup completed through the failover: ${describeBackup(backupDuringKill)}`)
    await cluster.start(vmNode)
    this.status = await cluster.waitFor(allServing, WAIT_MS)
    // Its CSV moves back to it and the clients of that CSV's shares follow (SHARE_MOVE): let that finish first.
    await events.waitQuiet(QUIET_MS)
    say(`  ${vmNode} restarted and rejoined (epoch ${this.status.epoch}); its CSV is back and the clients followed it`)
    return kill
  }

  async clientMove(): Promise<DemoSummary['clientMove']> {
    const { cluster, events } = this
    const status = this.status ?? (await cluster.status())
    const from = currentDataNode(cluster, events, 'client-b')
    const moveTo = status.nodes.map((n) => n.id).find((id) => id !== from && id !== this.vmNode) ?? status.nodes.find((n) => n.id !== from)!.id
    const failoversBefore = this.failovers.get('client-b')!.length
    let affected = 0
    let moveMono = 0
    let moved: LogLine | null = null
    // A registration replaced in the meantime would lose the move: send it again, a bounded number of times.
    for (let attempt = 0; attempt < MOVE_ATTEMPTS && !moved; attempt++) {
      moveMono = monoNowMs()
      affected = 0
      for (const n of status.nodes) {
        const reply = await cluster.admin(n.id).witnessAction({ action: 'client-move', filter: { clientComputerName: '^client-b$', applyToAll: false }, newNode: moveTo, newIp: '' })
        if (!reply.ok) throw new ClusterError(`client-move on ${n.id}: ${reply.error}`)
        affected += reply.affected
      }
      const since = moveMono
      moved = await events.waitFor((e) => e.client === 'client-b' && e.event === 'client.reconnected' && e.cause === 'client-move' && e.mono > since, MOVE_WAIT_MS).catch(() => null)
    }
    if (!moved) throw new ClusterError(`demo: client-b did not follow CLIENT_MOVE to ${moveTo} after ${MOVE_ATTEMPTS} attempts`)
    await waitUntil(async () => this.failovers.get('client-b')!.length > failoversBefore, 'client-b to write again after its move')
    const move = { client: 'client-b', from, to: nodeOfIp(cluster, String(moved.to)), moveMs: Math.round(moved.mono - moveMono), ioPauseMs: this.failovers.get('client-b')![failoversBefore].ioPauseMs }
    this.say(`  CLIENT_MOVE to ${moveTo} sent through ${affected} registration(s); client-b moved ${move.from} -> ${move.to} in ${ms(move.moveMs)} (IO pause ${ms(move.ioPauseMs)})`)
    return move
  }

  async partition(cut: string): Promise<DemoSummary['partition']> {
    const { cluster, events, say } = this
    const cutMono = monoNowMs()
    await cluster.partition([[cut], cluster.config.nodes.map((n) => n.id).filter((id) => id !== cut)])
    let status = await cluster.waitFor((s) => {
      const node = s.nodes.find((n) => n.id === cut)
      return s.quorum && !!node && !node.quorum && !node.serving && s.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] !== cut)
    }, WAIT_MS)
    const quorumLostMs = Math.round(monoNowMs() - cutMono)
    const cutIp = cluster.nodeConfig(cut).clientAddress
    const back = await events.waitFor((e) => e.client === 'client-b' && e.event === 'client.reconnected' && e.from === cutIp && e.mono > cutMono).catch(() => null)
    const partition = { node: cut, quorumLostMs, clientFailoverMs: back ? Math.round(back.mono - cutMono) : null }
    say(`  ${cut} has no quorum and serves nothing; leader ${status.leader} and the majority serve every CSV (${ms(quorumLostMs)})`)
    if (back) say(`  client-b left ${cut} for ${nodeOfIp(cluster, String(back.to))} after ${ms(partition.clientFailoverMs)}`)
    await cluster.heal()
    status = await cluster.waitFor(allServing, WAIT_MS)
    await events.waitQuiet(QUIET_MS)
    say(`  healed: ${cut} is back (epoch ${status.epoch})`)
    return partition
  }

  async thirdParty(diskBytes: number): Promise<MatrixRow[]> {
    const seed000 = await runBackupMatrix({ dir: join(this.dir, 'matrix'), diskBytes, changeFraction: 0.01 })
    const row = seed000.find((r) => r.flavour === 'third-party' && r.tableSays === 'filter') ?? seed000[0]
    this.say(`  third-party SMB, row ${row.row}: the table says ${row.tableSays}; ${row.reason}`)
    this.say(`  so the incremental reads ${formatBytes(row.bytesRead)} for ${formatBytes(row.bytesChanged)} changed\n`)
    this.say(formatSeed000(seed000))
    return seed000
  }

  /** Every restore point of the demo's repository and of the matrix, checked block by block. */
  verify(seed000: readonly MatrixRow[]): DemoSummary['verify'] {
    const points = this.repo?.list() ?? []
    const problems = [
      ...points.map((p) => ({ id: p.id, ...this.repo!.verify(p.id) })).filter((c) => !c.ok).map((c) => `${c.id}: ${c.problems.join('; ')}`),
      ...seed000.filter((r) => !r.verified).map((r) => `seed 000 row ${r.row} (${r.flavour}) did not verify`),
    ]
    return { points: points.length + seed000.length, passed: problems.length === 0, problems }
  }
}

/** The client event log of the demo's cluster, read again on every poll (it stays small). */
class ClientEvents {
  constructor(private readonly path: string) {}

  lines(): LogLine[] {
    return readLogLines(this.path)
  }

  async waitFor(predicate: (e: LogLine) => boolean, timeoutMs = WAIT_MS): Promise<LogLine> {
    let found: LogLine | undefined
    await waitUntil(async () => (found = this.lines().find(predicate)) !== undefined, 'a client event', timeoutMs)
    return found as LogLine
  }

  /** Waits until no client has logged anything for quietMs: the notifications and moves that follow a rejoin are over. */
  async waitQuiet(quietMs: number): Promise<void> {
    await waitUntil(async () => monoNowMs() - (this.lines().pop()?.mono ?? 0) >= quietMs, `the clients to settle (${quietMs} ms without an event)`)
  }

  /** Lets the guest workload change the disk for a while (the incremental then has work). */
  async sleepWhileWriting(host: HostControlClient, vm: string, durationMs: number): Promise<void> {
    const until = performance.now() + durationMs
    await waitUntil(async () => performance.now() >= until && (await host.vmInfo(vm)).running, `${vm} to write`)
  }
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await condition())) {
    if (performance.now() > deadline) throw new ClusterError(`demo: gave up after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, POLL_MS))
  }
}

/** When the demo killed or froze each node: a stopped process serves nothing, whatever its log last said. */
function harnessStops(dir: string): Map<string, number[]> {
  const stops = new Map<string, number[]>()
  for (const f of readLogLines(faultEventsPath(dir))) {
    if (f.event === 'fault.kill' || f.event === 'fault.pause') stops.set(String(f.node), [...(stops.get(String(f.node)) ?? []), f.mono])
  }
  return stops
}

function allServing(s: ClusterStatus): boolean {
  return s.quorum && s.nodes.every((n) => n.state === 'up' && n.serving) && s.csvs.every((c) => c.servedBy.length === 1)
}

function nodeOfIp(cluster: Cluster, ip: string): string {
  return cluster.config.nodes.find((n) => n.clientAddress === ip)?.id ?? ip
}

/** A client's data node now: where it last registered or reconnected. */
function currentDataNode(cluster: Cluster, events: ClientEvents, client: string): string {
  const last = events
    .lines()
    .filter((e) => e.client === client && (e.event === 'client.registered' || e.event === 'client.reconnected'))
    .pop()
  if (!last) throw new ClusterError(`demo: ${client} never connected`)
  return nodeOfIp(cluster, String(last.event === 'client.registered' ? last.data : last.to))
}

function demoBackup(r: BackupReport): DemoBackup {
  const points = r.disks.map((d) => d.point)
  return {
    kind: points.some((p) => p.kind === 'full') ? 'full' : 'incremental',
    method: r.method,
    bytesRead: points.reduce((sum, p) => sum + p.bytesRead, 0),
    diskBytes: points.reduce((sum, p) => sum + p.diskBytes, 0),
    durationMs: r.durationMs,
    reason: r.reason,
  }
}

function describeBackup(b: DemoBackup): string {
  return `${b.kind} with ${b.method}, read ${formatBytes(b.bytesRead)} of ${formatBytes(b.diskBytes)} in ${ms(b.durationMs)}`
}

function ms(value: number | null): string {
  return value === null ? '-' : `${Math.round(value)} ms`
}

/** An earlier demo's cluster in the folder is stopped and its folder emptied; any other content is refused. */
async function clearDemoFolder(dir: string): Promise<void> {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true })
    return
  }
  if (readdirSync(dir).length === 0) return
  if (!existsSync(join(dir, 'cluster.json'))) throw new ClusterError(`${dir} is not empty and holds no swlab cluster: give --dir an empty or new folder`)
  await killAllHosts(dir)
  await Cluster.open(dir).down()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
}

/**
 * Where the capture is and the tshark command lines that read it: the decode-as options of the
 * cluster's ports, and for sealed witness calls the users' password, with which Wireshark
 * decrypts NTLMSSP-sealed DCE/RPC (it sees the whole NTLMv2 exchange in the capture).
 */
function demoCapture(cluster: Cluster, path: string, witnessAuthLevel: 'integrity' | 'privacy'): DemoCapture {
  const password = cluster.credentials()!.users[0].password
  const base = ['tshark', '-r', path, ...decodeAsArgs(cluster.captureSpec()), ...(witnessAuthLevel === 'privacy' ? ['-o', `ntlmssp.nt_password:${password}`] : [])]
  // AsyncNotify is witness opnum 3 (MS-SWN 3.1.4); smb2.cmd 1 is SESSION_SETUP; DH2C is a CREATE context's tag.
  const failover = `witness.opnum == 3 || (smb2.cmd == 1 && smb2.previous_sesid != 0) || smb2.tag == "DH2C"`
  return { path, witnessAuthLevel, tshark: base.join(' '), tsharkFailover: [...base, '-Y', `'${failover}'`].join(' ') }
}
