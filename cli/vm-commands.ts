// `swlab vm create|start|stop|list|write|workload`: VMs on the emulated Hyper-V hosts, their
// disks on the cluster's CA shares. `vm start` is also how a VM moves: stop it on one host,
// start it on another (its RCT files travel with its disks).
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import { Prng } from '../core/sim/prng.js'
import { HostControlClient } from '../client/hyperv/host-control-client.js'
import { listHosts } from '../client/hyperv/host-registry.js'
import { MAX_VM_CONFIG, type VmInfo, type WorkloadStats } from '../client/hyperv/hyperv-host.js'
import { formatBytes, parseByteSize } from './byte-size.js'
import { expectedErrorsAsClusterErrors } from './cli-errors.js'
import { print } from './print-output.js'

/** Guest writes go to the host in pieces of this size (the control API carries base64 JSON). */
const WRITE_CHUNK_BYTES = 1024 * 1024
/** The backup and RCT block: `vm write` reports which blocks it touched. */
const BLOCK_BYTES = 64 * 1024
const HOST_PROBE_TIMEOUT_MS = 2_000

function checkShare(cluster: Cluster, share: string): void {
  if (!cluster.config.shares.some((s) => s.name === share)) {
    throw new ClusterError(`unknown share ${share} (shares: ${cluster.config.shares.map((s) => s.name).join(', ')})`)
  }
}

function numberOption(what: string, text: string, min: number, max: number): number {
  const n = Number(text)
  if (String(text).trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new ClusterError(`${what} must be a number from ${min} to ${max} (got ${JSON.stringify(text)})`)
  return n
}

function intOption(what: string, text: string, min: number, max: number): number {
  const n = numberOption(what, text, min, max)
  if (!Number.isInteger(n)) throw new ClusterError(`${what} must be an integer from ${min} to ${max} (got ${JSON.stringify(text)})`)
  return n
}

/** The running hosts of the cluster with the VMs each runs (a host that does not answer has none). */
async function vmsByHost(cluster: Cluster): Promise<{ host: string; vms: VmInfo[] }[]> {
  const live = listHosts(cluster.dir).filter((h) => h.state === 'running')
  return Promise.all(
    live.map(async (h) => ({
      host: h.name,
      vms: await new HostControlClient(h, { timeoutMs: HOST_PROBE_TIMEOUT_MS }).list().catch(() => [] as VmInfo[]),
    })),
  )
}

function describeVm(v: VmInfo): string {
  const disks = v.disks.map((d) => {
    const rct = d.open?.rct ?? 'off'
    const detail = rct === 'recovered' ? ` from ${d.open?.recoveredRegions} MRT region(s)` : rct === 'reset' ? `: ${d.open?.resetReason}` : ''
    const digests = d.open?.digests
    const digestDetail = digests === undefined || digests === 'clean' ? '' : `; block digests ${digests}, ${d.open?.digestBlocksRead} block(s) read back`
    return `${d.name} ${formatBytes(d.bytes)} (RCT ${rct}${detail}${digestDetail})`
  })
  return `VM ${v.name} runs on ${v.host} (${v.hostOs}), config ${v.configVersion.toFixed(1)}, share ${v.share}, RCT ${v.rct ? 'on' : 'off'}; ${disks.join(', ')}`
}

/** Seeded pseudo-random bytes: the same seed always writes the same data. */
function seededBytes(seed: number, length: number): Buffer {
  const rng = new Prng(seed)
  const data = Buffer.alloc(length)
  for (let i = 0; i < length; i += 4) {
    const word = Math.floor(rng.next() * 0x1_0000_0000)
    for (let b = 0; b < 4 && i + b < length; b++) data[i + b] = (word >>> (8 * b)) & 0xff
  }
  return data
}

export function addVmCommands(program: Command, dirOption: () => Option): void {
  const vm = program.command('vm').description('VMs on the emulated Hyper-V hosts')
  vm.command('create')
    .description('create a VM with zeroed disks on a share and start it on a host')
    .requiredOption('--host <host>', 'host to run it on')
    .requiredOption('--name <vm>', 'VM name')
    .requiredOption('--share <share>', 'CA share for its files')
    .option('--config-version <v>', "VM configuration version (default: the host's highest: 5.0 on 2012r2, 8.0 on 2016, 9.0 on 2019, 10.0 on 2022)")
    .option('--disk-size <size>', 'size of each disk (KiB, MiB, GiB suffixes)', '64MiB')
    .option('--disks <n>', 'number of disks', '1')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        checkShare(cluster, o.share)
        const host = HostControlClient.forHost(cluster.dir, o.host)
        const configVersion =
          o.configVersion !== undefined ? numberOption('--config-version', o.configVersion, 5, 99) : MAX_VM_CONFIG[(await host.info()).os]
        const diskBytes = parseByteSize('--disk-size', o.diskSize)
        const disks = intOption('--disks', o.disks, 1, 8)
        const info = await host.createVm(o.name, { share: o.share, configVersion, diskBytes, disks })
        print(Boolean(o.json), info, () => describeVm(info))
      }),
    )
  vm.command('start')
    .description('start a VM from its files on a share (after a stop, a host crash, or to move it here)')
    .requiredOption('--host <host>', 'host to run it on')
    .requiredOption('--name <vm>', 'VM name')
    .requiredOption('--share <share>', 'share holding its files')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        checkShare(cluster, o.share)
        const host = HostControlClient.forHost(cluster.dir, o.host)
        // Two hosts running one VM would both write its disks: a move stops it first.
        const elsewhere = (await vmsByHost(cluster)).find((h) => h.host !== o.host && h.vms.some((v) => v.name === o.name && v.share === o.share))
        if (elsewhere) throw new ClusterError(`VM ${o.name} runs on host ${elsewhere.host}: stop it there first (swlab vm stop --host ${elsewhere.host} --name ${o.name})`)
        const info = await host.startVm(o.name, o.share)
        print(Boolean(o.json), info, () => describeVm(info))
      }),
    )
  vm.command('stop')
    .description('clean stop of a VM: its workload ends, RCT is saved, its disks close')
    .requiredOption('--host <host>', 'host it runs on')
    .requiredOption('--name <vm>', 'VM name')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        await HostControlClient.forHost(cluster.dir, o.host).stopVm(o.name)
        print(Boolean(o.json), { vm: o.name, host: o.host, stopped: true }, () => `VM ${o.name} stopped on ${o.host}`)
      }),
    )
  vm.command('list')
    .description('VMs running on every running host (or one)')
    .option('--host <host>', 'only this host')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const vms = o.host !== undefined ? await HostControlClient.forHost(cluster.dir, o.host).list() : (await vmsByHost(cluster)).flatMap((h) => h.vms)
        print(Boolean(o.json), vms, () =>
          [
            'VM            HOST          OS      CONFIG  SHARE      RCT  DISKS',
            ...vms.map((v) =>
              [
                v.name.padEnd(13),
                v.host.padEnd(13),
                v.hostOs.padEnd(7),
                v.configVersion.toFixed(1).padEnd(7),
                v.share.padEnd(10),
                (v.rct ? 'on' : 'off').padEnd(4),
                v.disks.map((d) => `${d.name} ${formatBytes(d.bytes)}${d.checkpointActive ? ' (checkpoint)' : ''}`).join(', '),
              ].join(' '),
            ),
          ].join('\n'),
        )
      }),
    )
  vm.command('write')
    .description('write seeded random bytes into a disk of a running VM (exact changes for demos and tests)')
    .requiredOption('--host <host>', 'host it runs on')
    .requiredOption('--name <vm>', 'VM name')
    .option('--disk <disk>', 'disk', 'disk0')
    .requiredOption('--offset <bytes>', 'where (KiB, MiB, GiB suffixes)')
    .requiredOption('--length <bytes>', 'how much (KiB, MiB, GiB suffixes)')
    .option('--seed <n>', 'seed of the bytes (default: random, printed)')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const host = HostControlClient.forHost(cluster.dir, o.host)
        const offset = parseByteSize('--offset', o.offset)
        const length = parseByteSize('--length', o.length)
        const seed = o.seed !== undefined ? intOption('--seed', o.seed, 0, 0xffff_ffff) : Math.floor(Math.random() * 0x1_0000_0000)
        const info = await host.vmInfo(o.name)
        const disk = info.disks.find((d) => d.name === o.disk)
        if (!disk) throw new ClusterError(`VM ${o.name} has no disk ${o.disk} (disks: ${info.disks.map((d) => d.name).join(', ')})`)
        if (length < 1 || offset + length > disk.bytes) throw new ClusterError(`--offset ${offset} --length ${length} is outside ${o.name}/${o.disk} (${disk.bytes} bytes)`)
        const data = seededBytes(seed, length)
        for (let at = 0; at < length; at += WRITE_CHUNK_BYTES) {
          await host.writeGuest(o.name, o.disk, offset + at, data.subarray(at, Math.min(length, at + WRITE_CHUNK_BYTES)))
        }
        const firstBlock = Math.floor(offset / BLOCK_BYTES)
        const lastBlock = Math.floor((offset + length - 1) / BLOCK_BYTES)
        const result = { vm: o.name, disk: o.disk, host: o.host, offset, length, seed, firstBlock, lastBlock }
        print(Boolean(o.json), result, () => `wrote ${formatBytes(length)} at ${offset} of ${o.name}/${o.disk} (blocks ${firstBlock}..${lastBlock} of 64 KiB), seed ${seed}`)
      }),
    )
  const workload = vm.command('workload').description('a seeded guest write workload inside a VM')
  workload
    .command('start')
    .description('start writing to every disk of the VM at a rate, in a hot part of each disk')
    .requiredOption('--host <host>', 'host it runs on')
    .requiredOption('--name <vm>', 'VM name')
    .option('--rate <writes/s>', 'writes per second per disk', '50')
    .option('--write-size <bytes>', 'bytes per write (KiB, MiB suffixes)', '4KiB')
    .option('--hot <fraction>', 'fraction of each disk, from its start, the writes fall in', '0.01')
    .option('--seed <n>', 'seed of the offsets', '1')
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action((o) =>
      expectedErrorsAsClusterErrors(async () => {
        const cluster = Cluster.open(o.dir)
        const host = HostControlClient.forHost(cluster.dir, o.host)
        const spec = {
          writesPerSecond: numberOption('--rate', o.rate, 0.1, 10_000),
          writeBytes: parseByteSize('--write-size', o.writeSize),
          hotFraction: numberOption('--hot', o.hot, 0.000_001, 1),
          seed: intOption('--seed', o.seed, 0, 0xffff_ffff),
        }
        await host.startWorkload(o.name, spec)
        print(Boolean(o.json), { vm: o.name, host: o.host, ...spec }, () => `workload on ${o.name}: ${spec.writesPerSecond} writes/s of ${formatBytes(spec.writeBytes)} in the first ${spec.hotFraction * 100}% of each disk`)
      }),
    )
  // status and stop differ only in the host call and the wording.
  const statsCommand = (name: string, description: string, call: (host: HostControlClient, vm: string) => Promise<WorkloadStats>, what: string) =>
    workload
      .command(name)
      .description(description)
      .requiredOption('--host <host>', 'host it runs on')
      .requiredOption('--name <vm>', 'VM name')
      .addOption(dirOption())
      .option('--json', 'print JSON')
      .action((o) =>
        expectedErrorsAsClusterErrors(async () => {
          const cluster = Cluster.open(o.dir)
          const stats = await call(HostControlClient.forHost(cluster.dir, o.host), o.name)
          print(Boolean(o.json), { vm: o.name, host: o.host, ...stats }, () => `workload on ${o.name} ${what} ${stats.writes} writes; longest wait between two: ${stats.longestGapMs} ms`)
        }),
      )
  statsCommand('status', 'the running workload so far: writes, and the longest wait between two', (h, vm) => h.workloadStats(vm), 'so far:')
  statsCommand(
    'stop',
    'stop the workload; prints how many writes it made and the longest wait between two (a storage failover shows there)',
    (h, vm) => h.stopWorkload(vm),
    'stopped after',
  )
}
