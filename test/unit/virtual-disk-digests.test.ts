// The virtual disk's block digests over an in-memory share (a fake of the failover client's
// file calls): a checkpoint states the frozen disk's digest map without reading it after
// whole-block writes, reads back only a block written in part, and a disk opened after a host
// crash between a data write and its digest update reads back only the journal's regions.
// Every figure is a count of bytes read, so the test is exact and needs no cluster.
import t from 'tap'
import { createHash } from 'node:crypto'
import type { FailoverClient, FailoverHandle } from '../../client/failover-client.js'
import { VirtualDisk } from '../../client/hyperv/virtual-disk.js'
import { digestMapSha256Of } from '../../core/cbt/block-digests.js'

const KiB = 1024
const MiB = 1024 * KiB
const BLOCK = 64 * KiB

/** Files in memory with the failover client's calls; counts the bytes read from each file. */
class MemoryShare {
  readonly files = new Map<string, Buffer>()
  readonly readBytes = new Map<string, number>()
  /** When set, a write to this path is applied and then the "host" dies: the call never returns. */
  crashOnWriteTo: string | null = null

  client(): FailoverClient {
    const share = this
    const fake = {
      async open(path: string, o: { mustExist?: boolean; readOnly?: boolean } = {}): Promise<FailoverHandle> {
        if (!share.files.has(path)) {
          if (o.mustExist || o.readOnly) throw new Error(`CREATE ${path}: OBJECT_NAME_NOT_FOUND`)
          share.files.set(path, Buffer.alloc(0))
        }
        return { path, createGuid: path, fileId: { persistent: 0n, volatile: 0n } } as unknown as FailoverHandle
      },
      async size(h: FailoverHandle): Promise<number> {
        return share.files.get(h.path)!.length
      },
      async setSize(h: FailoverHandle, bytes: number): Promise<void> {
        const old = share.files.get(h.path)!
        const next = Buffer.alloc(bytes)
        old.copy(next, 0, 0, Math.min(bytes, old.length))
        share.files.set(h.path, next)
      },
      async read(h: FailoverHandle, offset: number, length: number): Promise<Buffer> {
        share.readBytes.set(h.path, (share.readBytes.get(h.path) ?? 0) + length)
        return Buffer.from(share.files.get(h.path)!.subarray(offset, offset + length))
      },
      async write(h: FailoverHandle, offset: number, data: Buffer): Promise<void> {
        let file = share.files.get(h.path)!
        if (offset + data.length > file.length) {
          file = Buffer.concat([file, Buffer.alloc(offset + data.length - file.length)])
          share.files.set(h.path, file)
        }
        data.copy(file, offset)
        if (share.crashOnWriteTo === h.path) await new Promise(() => undefined)
      },
      async close(): Promise<void> {},
    }
    return fake as unknown as FailoverClient
  }

  readOf(suffix: string): number {
    let n = 0
    for (const [path, bytes] of this.readBytes) if (path.endsWith(suffix)) n += bytes
    return n
  }

  resetReads(): void {
    this.readBytes.clear()
  }
}

t.test('checkpoint: nothing read after whole-block writes, one block after a partial write', async (t) => {
  const share = new MemoryShare()
  const disk = await VirtualDisk.create(share.client(), 'vms/v', 'disk0', 16 * MiB, true, 'app-1')
  await disk.write(3 * BLOCK, Buffer.alloc(2 * BLOCK, 7))
  await disk.write(9 * MiB, Buffer.alloc(BLOCK, 9))
  share.resetReads()
  const first = await disk.checkpoint(false)
  t.equal(share.readOf('.vhdx'), 0, 'the base is not read')
  t.equal(first.digestBlocksRead, 0)
  t.equal(first.diskSha256, null, 'no whole-disk hash unless asked')
  t.equal(first.digestMapSha256, digestMapSha256Of(share.files.get('vms/v/disk0.vhdx')!), 'the map is the frozen base')
  await disk.write(5 * BLOCK + 100, Buffer.alloc(4 * KiB, 1)) // into the differencing disk
  await disk.merge()
  await disk.write(12 * BLOCK + 5, Buffer.alloc(10, 2)) // into part of a base block
  share.resetReads()
  const second = await disk.checkpoint(true)
  t.equal(second.digestBlocksRead, 1, 'only the block written in part is read back')
  t.equal(share.readOf('.vhdx') - 16 * MiB, BLOCK, 'one block, plus the whole-disk hash asked for')
  const base = share.files.get('vms/v/disk0.vhdx')!
  t.equal(second.digestMapSha256, digestMapSha256Of(base))
  t.equal(second.diskSha256, createHash('sha256').update(base).digest('hex'))
  await disk.merge()
  await disk.close()
})

t.test('a host crash between the data write and the digest update: the next open reads the journal regions only', async (t) => {
  const share = new MemoryShare()
  const disk = await VirtualDisk.create(share.client(), 'vms/v', 'disk0', 32 * MiB, true, 'app-1')
  await disk.write(0, Buffer.alloc(BLOCK, 3))
  await disk.close()
  const { disk: running } = await VirtualDisk.open(share.client(), 'vms/v', 'disk0', true, 'app-1')
  // The write reaches the base, then the host dies before the digest update.
  share.crashOnWriteTo = 'vms/v/disk0.vhdx'
  void running.write(20 * MiB + BLOCK, Buffer.alloc(BLOCK, 0xab))
  await new Promise((r) => setImmediate(r))
  for (let i = 0; i < 50 && share.files.get('vms/v/disk0.vhdx')![20 * MiB + BLOCK] !== 0xab; i++) await new Promise((r) => setImmediate(r))
  t.equal(share.files.get('vms/v/disk0.vhdx')![20 * MiB + BLOCK], 0xab, 'the data write reached the disk')
  share.crashOnWriteTo = null
  share.resetReads()
  const { disk: next, report } = await VirtualDisk.open(share.client(), 'vms/v', 'disk0', true, 'app-2')
  t.equal(report.digests, 'recovered', report.digestsReason)
  t.equal(report.digestBlocksRead, MiB / BLOCK, 'the 16 blocks of the one region the journal named')
  t.equal(share.readOf('disk0.vhdx'), MiB, 'one 1 MiB region read, not the 32 MiB disk')
  share.resetReads()
  const cp = await next.checkpoint(false)
  t.equal(share.readOf('disk0.vhdx'), 0, 'the checkpoint then reads nothing')
  t.equal(cp.digestMapSha256, digestMapSha256Of(share.files.get('vms/v/disk0.vhdx')!), 'and its map holds the write the dead host never hashed')
})

t.test('a disk without a digest map (made before digests were kept) is read once and then kept', async (t) => {
  const share = new MemoryShare()
  const disk = await VirtualDisk.create(share.client(), 'vms/v', 'disk0', 4 * MiB, false, 'app-1')
  await disk.write(MiB, Buffer.alloc(BLOCK, 5))
  await disk.close()
  share.files.delete('vms/v/disk0.vhdx.dig')
  share.resetReads()
  const { disk: again, report } = await VirtualDisk.open(share.client(), 'vms/v', 'disk0', false, 'app-1')
  t.equal(report.digests, 'rebuilt')
  t.match(report.digestsReason, /no digest map/)
  t.equal(share.readOf('disk0.vhdx'), 4 * MiB, 'the whole disk, once')
  share.resetReads()
  const cp = await again.checkpoint(false)
  t.equal(share.readOf('disk0.vhdx'), 0)
  t.equal(cp.digestMapSha256, digestMapSha256Of(share.files.get('vms/v/disk0.vhdx')!))
})
