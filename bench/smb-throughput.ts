// bench/smb-throughput: sequential 1 MiB writes and reads and 4 KiB random writes over the SMB
// data path on one node, next to the same work on a local file and a plain grpc-js stream of
// the same bytes between two processes, in the same run; then the S2D owner bottleneck of
// seed 000: three writers on one CSV (one owner serves all) against one CSV each, with a
// per-node bandwidth cap, and the same one-CSV run in SAN mode. Prints one JSON document.
//
//   node dist/bench/smb-throughput.js [--mib 128] [--random-ops 1000] [--queue-depth 4] [--cap-mbps 40] [--owner-mib 24] [--out file]
import * as grpc from '@grpc/grpc-js'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { DISPOSITION, NT_STATUS, SHARE_ACCESS, SmbClient, ACCESS } from '../client/smb-client.js'
import { Cluster } from '../cluster/cluster.js'
import { packageRoot } from '../proto/loader.js'

const MIB = 1024 * 1024

function mbps(bytes: number, ms: number): number {
  return Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { ms: performance.now() - t0, value }
}

async function smbClient(cluster: Cluster, node: string, share: string): Promise<SmbClient> {
  const n = cluster.nodeConfig(node)
  const c = new SmbClient(`${n.clientAddress}:${n.smbPort}`)
  await c.connect(cluster.credentials()!.users[0], `\\\\SOFS\\${share}`)
  return c
}

function must(status: { code: number; name: string }, what: string): void {
  if (status.code !== NT_STATUS.SUCCESS) throw new Error(`${what}: ${status.name}`)
}

/**
 * Today's gRPC data path on one node of a running cluster: sequential 1 MiB writes, then reads
 * one at a time and queueDepth at a time, of a persistent handle on share-1. bench/smb-wire
 * compares the SMB 2/3 wire with these figures.
 */
export async function grpcSequential(cluster: Cluster, nodeId: string, mib: number, queueDepth: number, name = 'bench.bin') {
  const c = await smbClient(cluster, nodeId, 'share-1')
  try {
    const chunk = randomBytes(MIB)
    const opened = await c.create(name, { disposition: DISPOSITION.OVERWRITE_IF, durable: { persistent: true }, shareAccess: SHARE_ACCESS.READ })
    must(opened.status, 'CREATE')
    const seqWrite = await timed(async () => {
      for (let i = 0; i < mib; i++) must((await c.write(opened.fileId, i * MIB, chunk)).status, 'WRITE')
    })
    const seqRead = await timed(async () => {
      for (let i = 0; i < mib; i++) must((await c.read(opened.fileId, i * MIB, MIB)).status, 'READ')
    })
    // SMB clients keep several reads outstanding (credits); so does this pass.
    let next = 0
    const seqReadQd = await timed(() =>
      Promise.all(
        Array.from({ length: queueDepth }, async () => {
          while (next < mib) {
            const i = next++
            must((await c.read(opened.fileId, i * MIB, MIB)).status, 'READ')
          }
        }),
      ),
    )
    await c.close(opened.fileId)
    const bytes = mib * MIB
    return { seqWriteMBps: mbps(bytes, seqWrite.ms), seqReadMBps: mbps(bytes, seqRead.ms), seqReadQueueDepth: queueDepth, seqReadQueuedMBps: mbps(bytes, seqReadQd.ms) }
  } finally {
    c.closeTransport()
  }
}

async function singleNode(mib: number, randomOps: number, queueDepth: number) {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-smb-'))
  const cluster = await Cluster.up({ dir, nodes: 1 })
  try {
    const sequential = await grpcSequential(cluster, 'node-1', mib, queueDepth)
    const c = await smbClient(cluster, 'node-1', 'share-1')
    const chunk = randomBytes(MIB)
    const opened = await c.create('bench.bin', { disposition: DISPOSITION.OPEN, durable: { persistent: true }, shareAccess: SHARE_ACCESS.READ })
    must(opened.status, 'CREATE')
    const small = randomBytes(4096)
    const offsets = Array.from({ length: randomOps }, () => Math.floor(Math.random() * (mib * 256)) * 4096)
    const randWrite = await timed(async () => {
      for (const off of offsets) must((await c.write(opened.fileId, off, small)).status, 'WRITE 4K')
    })
    await c.close(opened.fileId)
    c.closeTransport()

    // The same work on a local file, with the same durability (fdatasync per write).
    const localPath = join(dir, 'local.bin')
    const fh = await open(localPath, 'w+')
    const localWrite = await timed(async () => {
      for (let i = 0; i < mib; i++) {
        await fh.write(chunk, 0, MIB, i * MIB)
        await fh.datasync()
      }
    })
    const buffer = Buffer.alloc(MIB)
    const localRead = await timed(async () => {
      for (let i = 0; i < mib; i++) await fh.read(buffer, 0, MIB, i * MIB)
    })
    const localRand = await timed(async () => {
      for (const off of offsets) {
        await fh.write(small, 0, 4096, off)
        await fh.datasync()
      }
    })
    await fh.close()
    const bytes = mib * MIB
    return {
      smb: {
        ...sequential,
        randWrite4kIops: Math.round(randomOps / (randWrite.ms / 1000)),
      },
      local: {
        seqWriteMBps: mbps(bytes, localWrite.ms),
        seqReadMBps: mbps(bytes, localRead.ms),
        randWrite4kIops: Math.round(randomOps / (localRand.ms / 1000)),
      },
    }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A plain grpc-js server stream of the same bytes between two processes. */
async function grpcStreamMBps(mib: number): Promise<number> {
  const child = spawn(process.execPath, [join(packageRoot(), 'dist', 'bench', 'grpc-stream-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve((JSON.parse(l) as { port: number }).port))
      child.once('exit', (code) => reject(new Error(`stream server exited ${code}`)))
    })
    const Raw = grpc.makeGenericClientConstructor(
      {
        Stream: {
          path: '/bench.Raw/Stream',
          requestStream: false,
          responseStream: true,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      },
      'Raw',
    )
    const client = new Raw(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * MIB }) as unknown as {
      Stream: (req: Buffer) => NodeJS.ReadableStream
      close: () => void
    }
    const request = Buffer.alloc(4)
    request.writeUInt32LE(mib)
    const t = await timed(
      () =>
        new Promise<number>((resolve, reject) => {
          let bytes = 0
          const stream = client.Stream(request)
          stream.on('data', (b: Buffer) => (bytes += b.length))
          stream.on('end', () => resolve(bytes))
          stream.on('error', reject)
        }),
    )
    grpc.Client.prototype.close.call(client)
    return mbps(t.value, t.ms)
  } finally {
    child.kill('SIGTERM')
  }
}

/** Three writers at once: on one CSV (its owner serves all) or one CSV each. */
async function ownerBottleneck(capMBps: number, mibPerWriter: number, csvMode: 's2d' | 'san' = 's2d') {
  const dir = mkdtempSync(join(tmpdir(), `swlab-bench-${csvMode}-`))
  const cluster = await Cluster.up({ dir, nodes: 3, ioBandwidthMBps: capMBps, csvMode })
  try {
    const chunk = randomBytes(MIB)
    const run = async (shareOf: (i: number) => string) => {
      const clients = await Promise.all(['node-1', 'node-2', 'node-3'].map((n, i) => smbClient(cluster, n, shareOf(i))))
      const files = await Promise.all(
        clients.map(async (c, i) => {
          const o = await c.create(`w${i}-${Math.random().toString(36).slice(2)}.bin`, { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: ACCESS.GENERIC_WRITE | ACCESS.GENERIC_READ })
          must(o.status, 'CREATE')
          return o.fileId
        }),
      )
      const t = await timed(() =>
        Promise.all(
          clients.map(async (c, i) => {
            for (let k = 0; k < mibPerWriter; k++) must((await c.write(files[i], k * MIB, chunk)).status, 'WRITE')
          }),
        ),
      )
      for (const c of clients) c.closeTransport()
      return mbps(3 * mibPerWriter * MIB, t.ms)
    }
    const oneCsv = await run(() => 'share-1')
    const csvPerNode = await run((i) => `share-${i + 1}`)
    return { capPerNodeMBps: capMBps, oneCsvAggregateMBps: oneCsv, oneCsvPerNodeAggregateMBps: csvPerNode }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '128' },
      'random-ops': { type: 'string', default: '1000' },
      'cap-mbps': { type: 'string', default: '40' },
      'owner-mib': { type: 'string', default: '24' },
      'queue-depth': { type: 'string', default: '4' },
      out: { type: 'string' },
    },
  })
  const mib = Number(values.mib)
  const single = await singleNode(mib, Number(values['random-ops']), Number(values['queue-depth']))
  const grpcStream = await grpcStreamMBps(mib)
  const bottleneck = await ownerBottleneck(Number(values['cap-mbps']), Number(values['owner-mib']))
  const san = await ownerBottleneck(Number(values['cap-mbps']), Number(values['owner-mib']), 'san')
  const result = {
    bench: 'smb-throughput',
    node: process.version,
    mib,
    singleNode: {
      ...single,
      grpcStreamMBps: grpcStream,
      readVsLocal: Math.round((single.smb.seqReadMBps / single.local.seqReadMBps) * 1000) / 1000,
      readVsGrpcStream: Math.round((single.smb.seqReadMBps / grpcStream) * 1000) / 1000,
      queuedReadVsGrpcStream: Math.round((single.smb.seqReadQueuedMBps / grpcStream) * 1000) / 1000,
      targets: { readVsLocal: 0.25, readVsGrpcStream: 0.6 },
    },
    s2dOwnerBottleneck: bottleneck,
    // SAN: data bytes go direct from each node to storage, so one CSV is not held to its owner's cap.
    sanOneCsvAggregateMBps: san.oneCsvAggregateMBps,
  }
  const json = JSON.stringify(result, null, 2)
  if (values.out) writeFileSync(values.out, `${json}\n`)
  process.stdout.write(`${json}\n`)
}

// Run only as a program: bench/smb-wire imports grpcSequential from here.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: Error) => {
    process.stderr.write(`bench smb-throughput: ${err.message}\n`)
    process.exit(1)
  })
}
