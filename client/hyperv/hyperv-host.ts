// An emulated Hyper-V host: it runs VMs whose virtual disks live on the cluster's CA shares,
// reached through one failover client per share, writes to them from a guest workload, and
// takes and merges checkpoints for backups. The host's OS decides what it can run: a 2012 R2
// host runs VM configuration 5.0 at most and has no RCT; 2016+ hosts track changes with RCT for
// VM configuration 8.0 and later.
import { randomUUID } from 'node:crypto'
import type { Credential } from '../../cluster/credentials.js'
import type { HostOs } from '../../core/cbt/cbt-decision.js'
import { attachClientEventLog } from '../client-event-log.js'
import { FailoverClient, type FailoverHandle, type NodeAddress } from '../failover-client.js'
import { Prng } from '../../core/sim/prng.js'
import { CBT_BLOCK_BYTES } from '../../core/cbt/rct-tracker.js'
import { VirtualDisk, type DiskOpenReport } from './virtual-disk.js'

/** The highest VM configuration version each host OS runs. */
export const MAX_VM_CONFIG: Readonly<Record<HostOs, number>> = { '2012r2': 5.0, '2016': 8.0, '2019': 9.0, '2022': 10.0 }
/** RCT tracks disks of VMs at this configuration version and later (seed 000's table). */
export const RCT_MIN_VM_CONFIG = 8.0
/** Bounds: VMs per host and disks per VM. */
const VMS_MAX = 64
const DISKS_MAX = 8

export interface HostOptions {
  readonly name: string
  readonly os: HostOs
  readonly resolve: () => readonly NodeAddress[]
  readonly netName: string
  readonly credential: Credential
  /** Where the host's failover clients log their events (the cluster's client log), if anywhere. */
  readonly eventLog?: string
  /** How its failover clients protect their witness calls (FailoverClientOptions.witnessAuthLevel). */
  readonly witnessAuthLevel?: 'integrity' | 'privacy'
}

export interface VmConfig {
  readonly format: 'swlab-vm'
  /** The VM's id, also its SMB2 AppInstanceId on every file it writes. */
  readonly id: string
  readonly name: string
  readonly share: string
  readonly configVersion: number
  readonly disks: ReadonlyArray<{ readonly name: string; readonly bytes: number }>
}

export interface VmInfo {
  readonly name: string
  readonly share: string
  readonly configVersion: number
  readonly host: string
  readonly hostOs: HostOs
  readonly running: boolean
  readonly rct: boolean
  readonly disks: ReadonlyArray<{ readonly name: string; readonly path: string; readonly bytes: number; readonly checkpointActive: boolean; readonly open?: DiskOpenReport }>
}

export interface CheckpointInfo {
  readonly id: string
  readonly vm: string
  readonly share: string
  readonly takenAtMs: number
  readonly disks: ReadonlyArray<{
    readonly disk: string
    readonly path: string
    readonly bytes: number
    readonly rctId: string | null
    /** sha256 of the frozen disk's block digest map (sha256 of each 64 KiB block, in order): what its restore points must restore to. */
    readonly digestMapSha256: string
    /** sha256 of the whole frozen disk, when the checkpoint was asked to read it (hashBase); else null. */
    readonly diskSha256: string | null
    /** Blocks the host read to learn their digests (written in part since the last checkpoint). */
    readonly digestBlocksRead: number
  }>
}

export interface WorkloadSpec {
  readonly writesPerSecond: number
  readonly writeBytes: number
  /** Fraction of the disk the writes fall in (from its start): 0.01 = a hot 1 %. */
  readonly hotFraction: number
  readonly seed: number
}

/** What a guest workload did: its writes, and the longest wait between two of them (a storage failover shows here). */
export interface WorkloadStats {
  readonly writes: number
  readonly longestGapMs: number
}

interface RunningVm {
  readonly config: VmConfig
  readonly disks: Map<string, { disk: VirtualDisk; report: DiskOpenReport }>
  workload: { stop: () => Promise<void>; stats: () => WorkloadStats; failure: () => Error | null } | null
  checkpointId: string | null
}

export class HostError extends Error {}

export class HyperVHost {
  private readonly clients = new Map<string, FailoverClient>()
  private readonly vms = new Map<string, RunningVm>()

  constructor(readonly opts: HostOptions) {}

  get name(): string {
    return this.opts.name
  }

  get os(): HostOs {
    return this.opts.os
  }

  /** Creates a VM and its disks (zeros) on a share, and starts it. */
  async createVm(name: string, spec: { share: string; configVersion: number; diskBytes: number; disks?: number }): Promise<VmInfo> {
    validateName(name, 'VM')
    const diskCount = spec.disks ?? 1
    if (!(diskCount >= 1 && diskCount <= DISKS_MAX)) throw new HostError(`a VM has 1..${DISKS_MAX} disks`)
    if (!(Number.isSafeInteger(spec.diskBytes) && spec.diskBytes >= CBT_BLOCK_BYTES)) throw new HostError(`disk size must be at least ${CBT_BLOCK_BYTES} bytes`)
    this.checkConfigVersion(spec.configVersion)
    const client = await this.clientFor(spec.share)
    const folder = vmFolder(name)
    const configHandle = await client.open(`${folder}/vm.json`)
    try {
      if ((await client.size(configHandle)) > 0) throw new HostError(`VM ${name} exists already on ${spec.share}`)
      const config: VmConfig = {
        format: 'swlab-vm',
        id: randomUUID(),
        name,
        share: spec.share,
        configVersion: spec.configVersion,
        disks: Array.from({ length: diskCount }, (_, i) => ({ name: `disk${i}`, bytes: spec.diskBytes })),
      }
      for (const d of config.disks) await (await VirtualDisk.create(client, folder, d.name, d.bytes, this.tracksRct(config), config.id)).close()
      const text = Buffer.from(JSON.stringify(config, null, 2))
      await client.setSize(configHandle, text.length)
      await client.write(configHandle, 0, text)
    } finally {
      await client.close(configHandle)
    }
    return this.startVm(name, spec.share)
  }

  /** Starts a VM from its files on a share: after a clean stop, a host crash or a move. */
  async startVm(name: string, share: string): Promise<VmInfo> {
    validateName(name, 'VM')
    if (this.vms.has(name)) throw new HostError(`VM ${name} is running on ${this.name} already`)
    if (this.vms.size >= VMS_MAX) throw new HostError(`host ${this.name} runs ${VMS_MAX} VMs already`)
    const client = await this.clientFor(share)
    const config = await this.readConfig(client, name, share)
    this.checkConfigVersion(config.configVersion)
    const disks = new Map<string, { disk: VirtualDisk; report: DiskOpenReport }>()
    for (const d of config.disks) disks.set(d.name, await VirtualDisk.open(client, vmFolder(name), d.name, this.tracksRct(config), config.id))
    const vm: RunningVm = { config, disks, workload: null, checkpointId: null }
    if ([...disks.values()].some((d) => d.report.checkpointActive)) vm.checkpointId = `recovered-${randomUUID()}`
    this.vms.set(name, vm)
    return this.vmInfo(name)
  }

  /** A clean stop: the workload ends, RCT is saved, the disks close. */
  async stopVm(name: string): Promise<void> {
    const vm = this.running(name)
    await vm.workload?.stop()
    for (const { disk } of vm.disks.values()) await disk.close()
    this.vms.delete(name)
  }

  list(): VmInfo[] {
    return [...this.vms.keys()].sort().map((n) => this.vmInfo(n))
  }

  vmInfo(name: string): VmInfo {
    const vm = this.running(name)
    return {
      name,
      share: vm.config.share,
      configVersion: vm.config.configVersion,
      host: this.name,
      hostOs: this.os,
      running: true,
      rct: this.tracksRct(vm.config),
      disks: vm.config.disks.map((d) => {
        const open = vm.disks.get(d.name)
        return { name: d.name, path: open?.disk.paths.base ?? '', bytes: d.bytes, checkpointActive: open?.disk.checkpointActive ?? false, open: open?.report }
      }),
    }
  }

  /** A guest write to one disk (tests use it to make exact changes). */
  async writeGuest(name: string, disk: string, offset: number, data: Buffer): Promise<void> {
    await this.diskOf(name, disk).write(offset, data)
  }

  async readGuest(name: string, disk: string, offset: number, length: number): Promise<Buffer> {
    return this.diskOf(name, disk).read(offset, length)
  }

  /** sha256 of what the guest sees on a disk now. */
  async hashGuest(name: string, disk: string): Promise<string> {
    return this.diskOf(name, disk).hashVisible()
  }

  /** Starts a seeded guest write workload on every disk of the VM. */
  startWorkload(name: string, spec: WorkloadSpec): void {
    const vm = this.running(name)
    if (vm.workload) throw new HostError(`VM ${name} runs a workload already`)
    const rng = new Prng(spec.seed)
    let stopped = false
    let writes = 0
    let lastWriteMs = performance.now()
    let longestGapMs = 0
    let failure: Error | null = null
    const intervalMs = 1000 / Math.max(0.1, spec.writesPerSecond)
    const loop = (async () => {
      for (let i = 0; !stopped && i < 100_000_000; i++) {
        for (const { disk } of vm.disks.values()) {
          const span = Math.max(spec.writeBytes, Math.floor(disk.diskBytes * Math.min(1, Math.max(0, spec.hotFraction))))
          const slots = Math.max(1, Math.floor(span / spec.writeBytes))
          const offset = rng.int(0, slots - 1) * spec.writeBytes
          const data = Buffer.alloc(spec.writeBytes, (i % 251) + 1)
          data.writeUInt32LE(i, 0)
          await disk.write(offset, data)
          writes++
          const now = performance.now()
          longestGapMs = Math.max(longestGapMs, now - lastWriteMs)
          lastWriteMs = now
        }
        await new Promise((r) => setTimeout(r, intervalMs))
      }
    })().catch((err: Error) => {
      // A guest write that failed for good (the failover client gave up) ends the workload;
      // stopWorkload reports it.
      failure = err
    })
    vm.workload = {
      stats: () => ({ writes, longestGapMs: Math.round(longestGapMs) }),
      failure: () => failure,
      stop: async () => {
        stopped = true
        await loop
        vm.workload = null
      },
    }
  }

  /** The VM's workload so far, without stopping it; refused when none runs. */
  workloadStats(name: string): WorkloadStats {
    const workload = this.running(name).workload
    if (!workload) throw new HostError(`VM ${name} runs no workload`)
    return workload.stats()
  }

  /** Stops the VM's workload; throws the error that ended it early, if one did. */
  async stopWorkload(name: string): Promise<WorkloadStats> {
    const vm = this.running(name)
    const workload = vm.workload
    await workload?.stop()
    const failure = workload?.failure()
    if (failure) throw new HostError(`the workload of ${name} stopped after ${workload?.stats().writes ?? 0} writes: ${failure.message}`)
    return workload?.stats() ?? { writes: 0, longestGapMs: 0 }
  }

  /** A checkpoint of every disk (Hyper-V's recovery checkpoint, converted to a reference point). */
  async checkpoint(name: string, opts: { hashBase?: boolean } = {}): Promise<CheckpointInfo> {
    const vm = this.running(name)
    if (vm.checkpointId) throw new HostError(`VM ${name} has a checkpoint already (${vm.checkpointId}); merge it first`)
    const id = randomUUID()
    vm.checkpointId = id
    const disks: CheckpointInfo['disks'][number][] = []
    for (const [diskName, { disk }] of vm.disks) {
      const taken = await disk.checkpoint(opts.hashBase ?? false)
      disks.push({ disk: diskName, path: disk.paths.base, bytes: disk.diskBytes, rctId: taken.rctId, digestMapSha256: taken.digestMapSha256, diskSha256: taken.diskSha256, digestBlocksRead: taken.digestBlocksRead })
    }
    return { id, vm: name, share: vm.config.share, takenAtMs: Date.now(), disks }
  }

  /** RCT's changed ranges of one disk between two reference points. */
  changes(name: string, disk: string, sinceId: string, targetId: string): ReturnType<VirtualDisk['changes']> {
    return this.diskOf(name, disk).changes(sinceId, targetId)
  }

  /** Merges the VM's checkpoint into its base disks. */
  async merge(name: string): Promise<void> {
    const vm = this.running(name)
    for (const { disk } of vm.disks.values()) await disk.merge()
    vm.checkpointId = null
  }

  /** Stops every VM cleanly and the clients. */
  async shutdown(): Promise<void> {
    for (const name of [...this.vms.keys()]) await this.stopVm(name).catch(() => undefined)
    for (const c of this.clients.values()) await c.stop()
    this.clients.clear()
  }

  /**
   * A host crash inside this process (tests): connections drop, nothing is closed or saved,
   * so the disks keep their orphaned persistent handles and RCT only has what the MRT marked.
   */
  async crash(): Promise<void> {
    for (const vm of this.vms.values()) await vm.workload?.stop()
    this.vms.clear()
    for (const c of this.clients.values()) await c.stop()
    this.clients.clear()
  }

  private tracksRct(config: VmConfig): boolean {
    return this.os !== '2012r2' && config.configVersion >= RCT_MIN_VM_CONFIG
  }

  private checkConfigVersion(version: number): void {
    if (!(Number.isFinite(version) && version >= 5)) throw new HostError(`VM configuration version must be 5.0 or later, not ${version}`)
    const max = MAX_VM_CONFIG[this.os]
    if (version > max) throw new HostError(`VM configuration ${version.toFixed(1)} cannot run on a ${this.os} host (at most ${max.toFixed(1)})`)
  }

  private running(name: string): RunningVm {
    const vm = this.vms.get(name)
    if (!vm) throw new HostError(`no VM ${name} runs on host ${this.name}`)
    return vm
  }

  private diskOf(name: string, disk: string): VirtualDisk {
    const d = this.running(name).disks.get(disk)
    if (!d) throw new HostError(`VM ${name} has no disk ${disk}`)
    return d.disk
  }

  private async readConfig(client: FailoverClient, name: string, share: string): Promise<VmConfig> {
    let h: FailoverHandle
    try {
      h = await client.open(`${vmFolder(name)}/vm.json`, { readOnly: true })
    } catch {
      throw new HostError(`no VM ${name} on share ${share}`)
    }
    try {
      const size = await client.size(h)
      const config = JSON.parse((await client.read(h, 0, size)).toString('utf8')) as VmConfig
      if (config.format !== 'swlab-vm' || typeof config.id !== 'string') throw new HostError(`${share}/${vmFolder(name)}/vm.json is not a VM configuration`)
      return config
    } finally {
      await client.close(h)
    }
  }

  private async clientFor(share: string): Promise<FailoverClient> {
    let client = this.clients.get(share)
    if (!client) {
      client = new FailoverClient({
        resolve: this.opts.resolve,
        netName: this.opts.netName,
        share,
        credential: this.opts.credential,
        clientName: `${this.name}-${share}`,
        ...(this.opts.witnessAuthLevel ? { witnessAuthLevel: this.opts.witnessAuthLevel } : {}),
      })
      if (this.opts.eventLog) attachClientEventLog(client, this.opts.eventLog)
      await client.start()
      this.clients.set(share, client)
    }
    return client
  }
}

export function vmFolder(name: string): string {
  return `vms/${name}`
}

function validateName(name: string, what: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) throw new HostError(`${what} name ${JSON.stringify(name)} must be 1-64 letters, digits, '-', '_' or '.'`)
}
