// What bench/smb-wire measures beyond one smbclient transfer, through the wire client
// (client/smb2) against real nodes: small random writes (4 KiB, one at a time, on a persistent
// handle of a CA share: each fdatasync-ed) next to the same writes on a local file with the same
// durability; and the S2D owner bottleneck of seed 000 — three writers on three nodes to one
// CSV (its owner serves every byte) against one CSV each, under a per-node bandwidth cap, and
// the same one-CSV run in SAN mode, where each node writes to the shared storage itself.
import { randomBytes, randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Smb2Client } from '../client/smb2/smb2-client.js'
import { unwrapSmb2 } from '../client/smb2/smb2-result.js'
import type { Smb2Tree } from '../client/smb2/smb2-tree.js'
import { Cluster } from '../cluster/cluster.js'
import { ACCESS, DISPOSITION } from '../protocol/smb2/constants.js'

const MIB = 1024 * 1024
const SMALL_WRITE_BYTES = 4096
const READ_WRITE = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

function mbps(bytes: number, ms: number): number {
  return Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

/** A logged-in client of a node and its tree on share; close() ends both. */
async function mount(cluster: Cluster, nodeId: string, share: string): Promise<{ client: Smb2Client; tree: Smb2Tree }> {
  const n = cluster.nodeConfig(nodeId)
  if (n.smb2Port === undefined) throw new Error(`${nodeId} has no SMB 2/3 port`)
  const user = cluster.credentials()?.users[0]
  if (!user) throw new Error('the cluster has no credentials')
  const client = unwrapSmb2(await Smb2Client.connect({ host: n.clientAddress, port: n.smb2Port, user: user.user, password: user.password }))
  try {
    return { client, tree: unwrapSmb2(await client.treeConnect(share)) }
  } catch (err) {
    await client.close()
    throw err
  }
}

export interface RandomWrites {
  readonly ops: number
  readonly fileMib: number
  /** 4 KiB WRITEs one at a time over the wire, on a persistent handle (each on stable storage before its answer). */
  readonly oursIops: number
  /** The same offsets on a local file, fdatasync after each write. */
  readonly localIops: number
  readonly oursVsLocal: number
}

/** 4 KiB writes at random 4 KiB-aligned offsets of a fileMib file on share-1 of nodeId, against a local file. */
export async function randomWrites4k(cluster: Cluster, nodeId: string, ops: number, fileMib: number): Promise<RandomWrites> {
  const offsets = Array.from({ length: ops }, () => randomInt(0, (fileMib * MIB) / SMALL_WRITE_BYTES) * SMALL_WRITE_BYTES)
  const small = randomBytes(SMALL_WRITE_BYTES)
  const { client, tree } = await mount(cluster, nodeId, 'share-1')
  let oursMs: number
  try {
    const f = unwrapSmb2(await tree.create(`bench-random-${randomBytes(3).toString('hex')}.bin`, { desiredAccess: READ_WRITE, disposition: DISPOSITION.OVERWRITE_IF, durableV2: { persistent: true } }))
    unwrapSmb2(await tree.setEndOfFile(f.fileId, fileMib * MIB))
    oursMs = await timedMs(async () => {
      for (const offset of offsets) unwrapSmb2(await tree.write(f.fileId, offset, small))
    })
    await tree.setDeletePending(f.fileId).catch(() => undefined)
    unwrapSmb2(await tree.close(f.fileId))
  } finally {
    await client.close()
  }
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-local-'))
  let localMs: number
  try {
    const fh = await open(join(dir, 'local.bin'), 'w+')
    try {
      await fh.truncate(fileMib * MIB)
      localMs = await timedMs(async () => {
        for (const offset of offsets) {
          await fh.write(small, 0, SMALL_WRITE_BYTES, offset)
          await fh.datasync()
        }
      })
    } finally {
      await fh.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const oursIops = Math.round(ops / (oursMs / 1000))
  const localIops = Math.round(ops / (localMs / 1000))
  return { ops, fileMib, oursIops, localIops, oursVsLocal: Math.round((oursIops / localIops) * 1000) / 1000 }
}

export interface OwnerBottleneck {
  readonly csvMode: 's2d' | 'san'
  readonly capPerNodeMBps: number
  readonly mibPerWriter: number
  /** Three writers (one per node) to files of share-1: every byte through csv-1's owner in S2D mode. */
  readonly oneCsvAggregateMBps: number
  /** Three writers, each to its own node's share (share-1 to share-3); S2D mode only. */
  readonly csvPerNodeAggregateMBps?: number
}

/** A 3-node cluster with a per-node bandwidth cap; three writers of 1 MiB WRITEs at once. */
export async function ownerBottleneck(capMBps: number, mibPerWriter: number, csvMode: 's2d' | 'san'): Promise<OwnerBottleneck> {
  const dir = mkdtempSync(join(tmpdir(), `swlab-bench-${csvMode}-`))
  const cluster = await Cluster.up({ dir, nodes: 3, ioBandwidthMBps: capMBps, csvMode, smb445: false })
  try {
    const chunk = randomBytes(MIB)
    const run = async (shareOf: (i: number) => string): Promise<number> => {
      const mounts = await Promise.all(['node-1', 'node-2', 'node-3'].map((n, i) => mount(cluster, n, shareOf(i))))
      try {
        const files = await Promise.all(
          mounts.map(async ({ tree }, i) => unwrapSmb2(await tree.create(`w${i}-${randomBytes(3).toString('hex')}.bin`, { desiredAccess: READ_WRITE, disposition: DISPOSITION.OVERWRITE_IF })).fileId),
        )
        const ms = await timedMs(() =>
          Promise.all(
            mounts.map(async ({ tree }, i) => {
              for (let k = 0; k < mibPerWriter; k++) unwrapSmb2(await tree.write(files[i], k * MIB, chunk))
            }),
          ),
        )
        return mbps(3 * mibPerWriter * MIB, ms)
      } finally {
        await Promise.all(mounts.map(({ client }) => client.close()))
      }
    }
    const oneCsvAggregateMBps = await run(() => 'share-1')
    if (csvMode === 'san') return { csvMode, capPerNodeMBps: capMBps, mibPerWriter, oneCsvAggregateMBps }
    const csvPerNodeAggregateMBps = await run((i) => `share-${i + 1}`)
    return { csvMode, capPerNodeMBps: capMBps, mibPerWriter, oneCsvAggregateMBps, csvPerNodeAggregateMBps }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}
