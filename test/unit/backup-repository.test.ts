// The backup repository: images are built in memory, written as full and incremental restore
// points, and every point must restore byte for byte and verify. Damage (a flipped byte, a
// deleted parent, a change the agent failed to store) must be reported naming the point and
// block; refused calls must leave every existing file exactly as it was. A property test
// writes random chains of block changes and restores every point against the model image.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { digestMapSha256Of } from '../../core/cbt/block-digests.js'
import {
  BACKUP_BLOCK_BYTES,
  BackupRepository,
  BackupRepositoryError,
  type BackupKind,
  type NewRestorePoint,
  type RestorePointMeta,
} from '../../client/backup/backup-repository.js'

const BLOCK = BACKUP_BLOCK_BYTES
const isRoot = process.getuid?.() === 0

/** A fresh folder under the system temp dir, removed after the test (unique, unlike t.testdir()). */
function tempFolder(t: Test): string {
  const folder = mkdtempSync(join(tmpdir(), 'swlab-backup-repository-'))
  t.teardown(() => rmSync(folder, { recursive: true, force: true }))
  return folder
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

function blockCount(diskBytes: number): number {
  return Math.ceil(diskBytes / BLOCK)
}

function blockOf(image: Buffer, block: number): Buffer {
  return image.subarray(block * BLOCK, Math.min(image.length, (block + 1) * BLOCK))
}

function digestsOf(image: Buffer): Buffer {
  const digests = Buffer.alloc(32 * blockCount(image.length))
  for (let b = 0; b < blockCount(image.length); b++) createHash('sha256').update(blockOf(image, b)).digest().copy(digests, b * 32)
  return digests
}

/** Overwrites one block of the image with a pattern unique to `tag`. */
function changeBlock(image: Buffer, block: number, tag: string): void {
  blockOf(image, block).fill(`${tag}/${block};`)
}

function imageOf(diskBytes: number, tag: string): Buffer {
  const image = Buffer.alloc(diskBytes)
  for (let b = 0; b < blockCount(diskBytes); b++) changeBlock(image, b, tag)
  return image
}

/** The point an agent would write for this image: all blocks for a full, `changed` for an incremental. */
function pointFrom(vm: string, disk: string, image: Buffer, kind: BackupKind, changed: Iterable<number> = []): NewRestorePoint {
  const stored = kind === 'full' ? [...Array(blockCount(image.length)).keys()] : [...changed]
  const blocks = new Map(stored.map((b) => [b, Buffer.from(blockOf(image, b))]))
  return {
    vm,
    disk,
    diskBytes: image.length,
    kind,
    method: kind === 'full' ? 'full' : 'rct',
    reason: 'test',
    createdAtMs: 1_700_000_000_000,
    durationMs: 12,
    bytesRead: [...blocks.values()].reduce((n, b) => n + b.length, 0),
    nodesServed: ['node-1', 'node-2'],
    expectedDiskSha256: sha256Hex(image),
    rctId: kind === 'full' ? null : 'rct-1',
    extra: { checkpointId: 'cp-1' },
    blocks,
    digests: digestsOf(image),
  }
}

/** Every file and folder under dir with content hash, size, mtime and mode. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (folder: string, rel: string): void => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name)
      const key = rel ? `${rel}/${name}` : name
      const st = statSync(path)
      if (st.isDirectory()) {
        out[`${key}/`] = 'folder'
        walk(path, key)
      } else {
        out[key] = `${sha256Hex(readFileSync(path))} ${st.size} ${st.mtimeMs} ${(st.mode & 0o777).toString(8)}`
      }
    }
  }
  walk(dir, '')
  return out
}

/** Runs a call that must fail with a one-line BackupRepositoryError matching pattern. */
function expectError(t: Test, call: () => unknown, pattern: RegExp, what: string): void {
  let error: unknown = null
  try {
    call()
  } catch (err) {
    error = err
  }
  checkError(t, error, pattern, what)
}

async function expectRejection(t: Test, call: Promise<unknown>, pattern: RegExp, what: string): Promise<void> {
  checkError(
    t,
    await call.then(
      () => null,
      (err: unknown) => err,
    ),
    pattern,
    what,
  )
}

function checkError(t: Test, error: unknown, pattern: RegExp, what: string): void {
  t.ok(error instanceof BackupRepositoryError, `${what}: fails with a BackupRepositoryError (got ${String(error)})`)
  const message = error instanceof Error ? error.message : ''
  t.match(message, pattern, `${what}: ${message}`)
  t.notOk(message.includes('\n'), `${what}: the message is one line`)
}

function restoreAndRead(repo: BackupRepository, id: string, outPath: string): { image: Buffer; diskSha256: string } {
  const { diskSha256 } = repo.restore(id, outPath)
  const image = readFileSync(outPath)
  rmSync(outPath)
  return { image, diskSha256 }
}

/** A full and two incrementals of a 1 MiB disk; returns the repository and the image at each point. */
function threePoints(t: Test): { repo: BackupRepository; dir: string; images: Buffer[]; metas: RestorePointMeta[] } {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(join(dir, 'repo'), { create: true })
  const image = imageOf(16 * BLOCK, 'full')
  const images = [Buffer.from(image)]
  const metas = [repo.writePoint(pointFrom('vm-1', 'disk0', image, 'full'))]
  for (const b of [3, 7]) changeBlock(image, b, 'inc1')
  images.push(Buffer.from(image))
  metas.push(repo.writePoint(pointFrom('vm-1', 'disk0', image, 'incremental', [3, 7])))
  for (const b of [7, 9, 15]) changeBlock(image, b, 'inc2')
  images.push(Buffer.from(image))
  metas.push(repo.writePoint(pointFrom('vm-1', 'disk0', image, 'incremental', [7, 9, 15])))
  return { repo, dir, images, metas }
}

t.test('a full then two incrementals restore byte for byte and verify', async (t) => {
  const { repo, dir, images, metas } = threePoints(t)
  t.same(
    metas.map((m) => [m.id, m.seq, m.parentSeq, m.kind, m.blocksStored, m.bytesStored]),
    [
      ['vm-1/disk0/000001', 1, null, 'full', 16, 16 * BLOCK],
      ['vm-1/disk0/000002', 2, 1, 'incremental', 2, 2 * BLOCK],
      ['vm-1/disk0/000003', 3, 2, 'incremental', 3, 3 * BLOCK],
    ],
    'ids, parents and what each point stores',
  )
  t.same(metas[2].extra, { checkpointId: 'cp-1' }, 'free metadata is kept')
  t.same(repo.list(), metas, 'list gives what writePoint returned, in seq order')
  t.same(repo.latest('vm-1', 'disk0'), metas[2])
  t.equal(repo.latest('vm-1', 'disk9'), null, 'no point for an unknown disk')
  t.same(repo.point('vm-1/disk0/000002'), metas[1])
  t.same(repo.chain('vm-1/disk0/000003').map((m) => m.seq), [1, 2, 3], 'chain, parents first')
  t.ok(repo.digestsOf(metas[1].id).equals(digestsOf(images[1])), 'the digest map as written')

  const pointFolder = join(repo.dir, 'vm-1', 'disk0', '000002')
  t.same(readdirSync(pointFolder).sort(), ['blocks.bin', 'digests.bin', 'index.bin', 'meta.json'])
  const index = readFileSync(join(pointFolder, 'index.bin'))
  t.same([index.readUInt32LE(0), index.readUInt32LE(4)], [3, 7], 'index.bin: u32 LE block indices, ascending')
  t.ok(readFileSync(join(pointFolder, 'blocks.bin')).equals(Buffer.concat([blockOf(images[1], 3), blockOf(images[1], 7)])), 'blocks.bin: the stored blocks in index order')
  for (const file of readdirSync(pointFolder)) t.equal(statSync(join(pointFolder, file)).mode & 0o777, 0o444, `${file} is read-only`)
  t.same(JSON.parse(readFileSync(join(repo.dir, 'repository.json'), 'utf8')), { format: 'swlab-backup-repository', version: 1 })

  for (const [k, meta] of metas.entries()) {
    const restored = restoreAndRead(repo, meta.id, join(dir, `restored-${k}.img`))
    t.ok(restored.image.equals(images[k]), `${meta.id} restores to its image byte for byte`)
    t.equal(restored.diskSha256, sha256Hex(images[k]), `${meta.id}: restore returns the image's sha256`)
    t.same(repo.verify(meta.id), { ok: true, diskSha256: sha256Hex(images[k]), digestMapSha256: digestMapSha256Of(images[k]), problems: [] }, `${meta.id} verifies`)
  }
  t.same(BackupRepository.open(repo.dir).list(), metas, 'a reopened repository reads the same points')
})

t.test('a flipped byte in a middle point is reported for that point and the later ones', async (t) => {
  const { repo, dir, images, metas } = threePoints(t)
  const blocksPath = join(repo.dir, 'vm-1', 'disk0', '000002', 'blocks.bin')
  chmodSync(blocksPath, 0o644)
  const data = readFileSync(blocksPath)
  // Point 2 as written before 2026-12-06, with blocks.bin's sha256 in its meta: still checked.
  const metaPath = join(repo.dir, 'vm-1', 'disk0', '000002', 'meta.json')
  chmodSync(metaPath, 0o644)
  writeFileSync(metaPath, JSON.stringify({ ...metas[1], blocksSha256: createHash('sha256').update(data).digest('hex') }))
  t.same(repo.verify(metas[1].id).problems, [], 'a point that records blocksSha256 verifies')
  data[100] ^= 0xff // inside the first stored block of point 2: block 3, which point 3 does not replace
  writeFileSync(blocksPath, data)

  t.same(repo.verify(metas[0].id), { ok: true, diskSha256: sha256Hex(images[0]), digestMapSha256: digestMapSha256Of(images[0]), problems: [] }, 'the full before it is untouched')
  for (const meta of [metas[1], metas[2]]) {
    const result = repo.verify(meta.id)
    t.equal(result.ok, false, `${meta.id} does not verify`)
    t.ok(result.problems.includes('restore point vm-1/disk0/000002: block 3 does not match its digest'), `${meta.id}: names point 2 and block 3`)
    t.ok(result.problems.some((p) => p.startsWith('restore point vm-1/disk0/000002: blocks.bin has sha256')), `${meta.id}: blocks.bin differs from the sha256 its meta records`)
    t.ok(result.problems.some((p) => p.startsWith(`restore point ${meta.id}: the rebuilt disk has sha256`)), `${meta.id}: the rebuilt disk differs from the expected hash`)
    t.notOk(result.problems.some((p) => /block (7|9|15)\b/.test(p)), `${meta.id}: only the damaged block is named`)
  }
  const out = join(dir, 'corrupt.img')
  expectError(t, () => repo.restore(metas[2].id, out), /^restore point vm-1\/disk0\/000003: block 3 of the rebuilt disk does not match its digest$/, 'restore of a damaged chain')
  t.notOk(existsSync(out), 'a failed restore leaves no partial image')
})

t.test('a change the agent did not store is caught by verify', async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(dir, { create: true })
  const image = imageOf(8 * BLOCK, 'full')
  repo.writePoint(pointFrom('vm-1', 'disk0', image, 'full'))
  changeBlock(image, 2, 'inc')
  changeBlock(image, 5, 'inc')
  // Change tracking missed block 5: its digest is in the map but its data is not stored.
  const meta = repo.writePoint(pointFrom('vm-1', 'disk0', image, 'incremental', [2]))
  const result = repo.verify(meta.id)
  t.equal(result.ok, false)
  t.same(
    result.problems,
    [
      'restore point vm-1/disk0/000002: block 5 of the rebuilt disk does not match its digest',
      `restore point vm-1/disk0/000002: the rebuilt disk has sha256 ${result.diskSha256}, not the expected ${sha256Hex(image)}`,
    ],
    'the block and the image are reported',
  )
})

t.test("a change the agent missed is caught by the host's digest map alone (no whole-disk hash)", async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(dir, { create: true })
  const image = imageOf(8 * BLOCK, 'full')
  repo.writePoint({ ...pointFrom('vm-1', 'disk0', image, 'full'), expectedDiskSha256: null, expectedDigestMapSha256: digestMapSha256Of(image) })
  changeBlock(image, 2, 'inc')
  const seen = Buffer.from(image) // what the agent read: change tracking missed block 5
  changeBlock(image, 5, 'inc')
  const meta = repo.writePoint({ ...pointFrom('vm-1', 'disk0', seen, 'incremental', [2]), expectedDiskSha256: null, expectedDigestMapSha256: digestMapSha256Of(image) })
  t.equal(meta.expectedDiskSha256, null)
  t.equal(meta.expectedDigestMapSha256, digestMapSha256Of(image))
  const result = repo.verify(meta.id)
  t.equal(result.ok, false)
  t.same(
    result.problems,
    [`restore point vm-1/disk0/000002: the rebuilt disk's block digest map has sha256 ${digestMapSha256Of(seen)}, not the ${digestMapSha256Of(image)} the host stated at the checkpoint`],
    'the stored point is self-consistent, but not the disk the host had',
  )
  const right = repo.writePoint({ ...pointFrom('vm-1', 'disk0', image, 'incremental', [5]), expectedDiskSha256: null, expectedDigestMapSha256: digestMapSha256Of(image) })
  t.same(repo.verify(right.id), { ok: true, diskSha256: sha256Hex(image), digestMapSha256: digestMapSha256Of(image), problems: [] }, 'the next point stores block 5 and verifies')
  t.equal(repo.restore(right.id, join(tempFolder(t), 'restored.img')).digestMapSha256, digestMapSha256Of(image), 'restore gives the digest map sha256 too')
  expectError(
    t,
    () => repo.writePoint({ ...pointFrom('vm-1', 'disk0', image, 'incremental', []), expectedDiskSha256: null }),
    /give expectedDiskSha256 or expectedDigestMapSha256/,
    'a point needs one of the two',
  )
})

t.test('a point written block by block (beginPoint, add, finishPoint) is the point writePoint makes', async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(dir, { create: true })
  const image = imageOf(5 * BLOCK + 1000, 'full')
  const { blocks, ...rest } = pointFrom('vm-1', 'disk0', image, 'full')
  const w = repo.beginPoint('vm-1', 'disk0', image.length)
  t.same(repo.list(), [], 'an unfinished point is not listed')
  for (const [block, data] of [...blocks].sort((a, b) => a[0] - b[0])) w.add(block, data)
  expectError(t, () => w.add(2, blockOf(image, 2)), /block 2 is out of order or outside the disk/, 'a block out of order')
  const meta = await repo.finishPoint(w, rest)
  const other = BackupRepository.open(tempFolder(t), { create: true }).writePoint({ ...rest, blocks })
  for (const field of ['indexSha256', 'digestsSha256', 'bytesStored', 'blocksStored'] as const) t.equal(meta[field], other[field], `${field} as writePoint's`)
  t.notOk('blocksSha256' in meta, 'blocks.bin is checked block by block: no whole-file digest')
  t.same(readFileSync(join(dir, 'vm-1', 'disk0', '000001', 'blocks.bin')), image, 'blocks.bin holds the blocks in order')
  t.same(repo.verify(meta.id).problems, [], 'it verifies')
  t.same(readdirSync(join(dir, 'vm-1', 'disk0')), ['000001'], 'no temporary folder left')

  // A refused finish and an abort leave no trace.
  changeBlock(image, 1, 'inc')
  const bad = repo.beginPoint('vm-1', 'disk0', image.length)
  bad.add(1, blockOf(image, 1))
  await expectRejection(t, repo.finishPoint(bad, { ...pointFrom('vm-1', 'disk0', image, 'incremental', []), digests: digestsOf(imageOf(image.length, 'other')) }), /block 1 does not match its digest/, 'a block that does not match its digest')
  // A digest handed in with a block is what the point is checked against (verify re-hashes).
  const told = repo.beginPoint('vm-1', 'disk0', image.length)
  told.add(1, blockOf(image, 1), createHash('sha256').update('not block 1').digest())
  await expectRejection(t, repo.finishPoint(told, pointFrom('vm-1', 'disk0', image, 'incremental', [])), /block 1 does not match its digest/, 'a digest given with the block that the map does not have')
  const aborted = repo.beginPoint('vm-1', 'disk0', image.length)
  aborted.add(0, blockOf(image, 0))
  aborted.abort()
  t.same(readdirSync(join(dir, 'vm-1', 'disk0')), ['000001'], 'neither left a folder')
  expectError(t, () => repo.beginPoint('vm-1', 'disk0', image.length).add(0, Buffer.alloc(10)), /block 0 has 10 bytes, expected 65536/, 'a short block')

  // Without a whole-file digest, a damaged blocks.bin is found block by block.
  const blocksPath = join(dir, 'vm-1', 'disk0', '000001', 'blocks.bin')
  chmodSync(blocksPath, 0o644)
  const damaged = readFileSync(blocksPath)
  damaged[2 * BLOCK + 7] ^= 0x01
  writeFileSync(blocksPath, damaged)
  const result = repo.verify(meta.id)
  t.equal(result.ok, false, 'a flipped bit fails verify')
  t.ok(result.problems.includes('restore point vm-1/disk0/000001: block 2 does not match its digest'), 'and names the block')
  writeFileSync(blocksPath, Buffer.concat([image, Buffer.from('x')]))
  t.ok(repo.verify(meta.id).problems.includes(`restore point vm-1/disk0/000001: blocks.bin has ${image.length + 1} bytes, expected ${image.length}`), 'a byte too many is reported')
})

t.test('a deleted parent is reported by chain and verify', async (t) => {
  const { repo, metas } = threePoints(t)
  rmSync(join(repo.dir, 'vm-1', 'disk0', '000002'), { recursive: true, force: true })
  expectError(t, () => repo.chain(metas[2].id), /^restore point vm-1\/disk0\/000003: parent 000002 is missing$/, 'chain')
  const result = repo.verify(metas[2].id)
  t.equal(result.ok, false)
  t.equal(result.diskSha256, null, 'no image without the chain')
  t.same(result.problems, ['restore point vm-1/disk0/000003: parent 000002 is missing'], 'the point itself is fine, its parent is missing')
  t.same(repo.verify(metas[1].id).problems, ['restore point vm-1/disk0/000002 does not exist in backup repository ' + repo.dir], 'the deleted point itself')
  t.same(repo.list().map((m) => m.seq), [1, 3])
  expectError(t, () => repo.restore(metas[2].id, join(repo.dir, '..', 'x.img')), /parent 000002 is missing/, 'restore')
})

t.test('a chain that does not start with a full is reported', async (t) => {
  const { repo, metas } = threePoints(t)
  const metaPath = join(repo.dir, 'vm-1', 'disk0', '000001', 'meta.json')
  chmodSync(metaPath, 0o644)
  writeFileSync(metaPath, JSON.stringify({ ...metas[0], kind: 'incremental', blocksStored: 16 }))
  expectError(t, () => repo.chain(metas[2].id), /^restore point vm-1\/disk0\/000003: its chain does not start with a full backup \(000001/, 'chain')
  t.equal(repo.verify(metas[2].id).ok, false)
})

t.test('an incremental must keep the disk size; a full may change it', async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(dir, { create: true })
  const image = imageOf(4 * BLOCK, 'a')
  repo.writePoint(pointFrom('vm-1', 'disk0', image, 'full'))
  const before = snapshot(dir)
  const bigger = Buffer.concat([image, imageOf(BLOCK, 'b')])
  expectError(
    t,
    () => repo.writePoint(pointFrom('vm-1', 'disk0', bigger, 'incremental', [4])),
    /^disk vm-1\/disk0 changed size from 262144 to 327680 bytes: take a full backup$/,
    'incremental of a grown disk',
  )
  t.same(snapshot(dir), before, 'nothing was written')
  const full = repo.writePoint(pointFrom('vm-1', 'disk0', bigger, 'full'))
  t.equal(full.diskBytes, 5 * BLOCK, 'a full takes the new size')
  changeBlock(bigger, 4, 'c')
  const inc = repo.writePoint(pointFrom('vm-1', 'disk0', bigger, 'incremental', [4]))
  t.equal(inc.parentSeq, 2)
  t.ok(restoreAndRead(repo, inc.id, join(dir, 'out.img')).image.equals(bigger), 'the resized disk restores')
  t.ok(restoreAndRead(repo, 'vm-1/disk0/000001', join(dir, 'out.img')).image.equals(image), 'and the older size still does')
})

t.test('open: missing, not a folder, not writable, not a repository, unknown format', async (t) => {
  const dir = tempFolder(t)
  expectError(t, () => BackupRepository.open(join(dir, 'missing')), /^backup repository .*missing does not exist/, 'a missing folder')
  t.notOk(existsSync(join(dir, 'missing')), 'open without create makes nothing')
  const created = BackupRepository.open(join(dir, 'a', 'b'), { create: true })
  t.equal(created.dir, join(dir, 'a', 'b'), 'create makes the folder and its parents')
  t.same(readdirSync(created.dir), ['repository.json'], 'and only the marker in it')
  t.same(BackupRepository.open(created.dir, { create: true }).list(), [], 'create on an existing repository opens it')

  writeFileSync(join(dir, 'file'), 'x')
  expectError(t, () => BackupRepository.open(join(dir, 'file'), { create: true }), /^backup repository .*file is not a folder$/, 'a file')

  mkdirSync(join(dir, 'other'))
  writeFileSync(join(dir, 'other', 'notes.txt'), 'mine')
  expectError(t, () => BackupRepository.open(join(dir, 'other'), { create: true }), /^backup repository .*other is not a backup repository: the folder is not empty/, 'a non-empty folder')
  t.same(readdirSync(join(dir, 'other')), ['notes.txt'], 'the foreign folder is left as it was')

  mkdirSync(join(dir, 'empty'))
  expectError(t, () => BackupRepository.open(join(dir, 'empty')), /^backup repository .*empty is an empty folder, not a backup repository/, 'an empty folder without create')

  mkdirSync(join(dir, 'v2'))
  writeFileSync(join(dir, 'v2', 'repository.json'), JSON.stringify({ format: 'swlab-backup-repository', version: 2 }))
  expectError(t, () => BackupRepository.open(join(dir, 'v2')), /unknown version 2 in repository\.json/, 'a newer version')
  mkdirSync(join(dir, 'alien'))
  writeFileSync(join(dir, 'alien', 'repository.json'), JSON.stringify({ format: 'something-else', version: 1 }))
  expectError(t, () => BackupRepository.open(join(dir, 'alien')), /unknown format "something-else"/, 'another format')
  mkdirSync(join(dir, 'garbled'))
  writeFileSync(join(dir, 'garbled', 'repository.json'), '{nope')
  expectError(t, () => BackupRepository.open(join(dir, 'garbled')), /repository\.json is unreadable/, 'a garbled marker')

  const skip = isRoot ? 'root can write into a 0o555 folder, so the check cannot be seen as root' : false
  t.test('a read-only folder', { skip }, async (t) => {
    const readOnly = BackupRepository.open(join(dir, 'ro'), { create: true }).dir
    chmodSync(readOnly, 0o555)
    t.teardown(() => chmodSync(readOnly, 0o755))
    expectError(t, () => BackupRepository.open(readOnly), /^backup repository .*ro is not writable/, 'a read-only folder')
  })
})

t.test('refused calls leave every existing point unchanged', async (t) => {
  const { repo, dir, images } = threePoints(t)
  const before = snapshot(repo.dir)
  const check = (call: () => unknown, pattern: RegExp, what: string) => {
    expectError(t, call, pattern, what)
    t.same(snapshot(repo.dir), before, `${what}: the repository is unchanged`)
  }
  const next = Buffer.from(images[2])
  changeBlock(next, 1, 'next')
  const good = () => pointFrom('vm-1', 'disk0', next, 'incremental', [1])

  check(() => repo.writePoint({ ...good(), blocks: new Map([[16, Buffer.alloc(BLOCK)]]) }), /^restore point vm-1\/disk0\/000004: block 16 is outside the disk \(16 blocks\)$/, 'a block past the end')
  check(() => repo.writePoint({ ...good(), blocks: new Map([[1, Buffer.alloc(BLOCK - 1)]]) }), /^restore point vm-1\/disk0\/000004: block 1 has 65535 bytes, expected 65536$/, 'a short block')
  check(() => repo.writePoint({ ...good(), blocks: new Map([[1, Buffer.alloc(BLOCK)]]) }), /^restore point vm-1\/disk0\/000004: block 1 does not match its digest$/, 'a block that is not what the digest map says')
  check(() => repo.writePoint({ ...good(), digests: good().digests.subarray(32) }), /^restore point vm-1\/disk0\/000004: the digest map has 480 bytes, expected 512/, 'a short digest map')
  const full = pointFrom('vm-1', 'disk0', next, 'full')
  check(() => repo.writePoint({ ...full, blocks: new Map([...full.blocks].slice(1)) }), /a full backup stores all 16 blocks, got 15$/, 'a full with a missing block')
  check(() => repo.writePoint(pointFrom('vm-1', 'disk1', next, 'incremental', [1])), /^restore point vm-1\/disk1\/000001: an incremental needs a parent/, 'an incremental without a parent')
  check(() => repo.writePoint({ ...good(), vm: '.hidden' }), /^bad vm name "\.hidden"/, 'a vm name starting with a dot')
  check(() => repo.writePoint({ ...good(), disk: 'a/b' }), /^bad disk name "a\/b"/, 'a disk name with a slash')
  check(() => repo.writePoint({ ...good(), vm: 'x'.repeat(65) }), /^bad vm name/, 'a vm name of 65 characters')
  check(() => repo.writePoint({ ...good(), expectedDiskSha256: 'abc' }), /expectedDiskSha256 must be 64 hex digits/, 'a bad expected hash')
  check(() => repo.point('vm-1/disk0/000009'), /^restore point vm-1\/disk0\/000009 does not exist in backup repository /, 'an unknown point')
  check(() => repo.point('vm-1/disk0'), /^bad restore point id "vm-1\/disk0"/, 'a malformed id')
  check(() => repo.digestsOf('vm-2/disk0/000001'), /^restore point vm-2\/disk0\/000001 does not exist/, 'digests of an unknown point')
  check(() => repo.chain('vm-1/disk0/000004'), /000004 does not exist/, 'the chain of an unknown point')
  check(() => repo.restore('vm-1/disk0/000003', join(dir, 'no-such-folder', 'x.img')), /^restore of vm-1\/disk0\/000003: cannot create /, 'a restore into a missing folder')
  t.same(repo.verify('vm-1/disk0/000009'), { ok: false, diskSha256: null, digestMapSha256: null, problems: [`restore point vm-1/disk0/000009 does not exist in backup repository ${repo.dir}`] }, 'verify of an unknown point returns the problem')
  t.same(snapshot(repo.dir), before, 'verify wrote nothing')
  t.equal(repo.writePoint(good()).seq, 4, 'a valid point is still accepted after the refusals')
})

t.test('restore refuses to overwrite a file', async (t) => {
  const { repo, dir, metas } = threePoints(t)
  const out = join(dir, 'existing.img')
  writeFileSync(out, 'precious')
  const before = statSync(out).mtimeMs
  expectError(t, () => repo.restore(metas[2].id, out), /^restore of vm-1\/disk0\/000003: .*existing\.img exists: refusing to overwrite it$/, 'restore onto an existing file')
  t.equal(readFileSync(out, 'utf8'), 'precious', 'the file keeps its content')
  t.equal(statSync(out).mtimeMs, before, 'and its mtime')
})

t.test('a partial last block is stored and digested at its real length', async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(dir, { create: true })
  const diskBytes = 3 * BLOCK + 1000
  const image = imageOf(diskBytes, 'full')
  const full = repo.writePoint(pointFrom('vm-1', 'disk0', image, 'full'))
  t.equal(full.bytesStored, diskBytes, 'the full stores exactly the disk')
  changeBlock(image, 0, 'inc')
  changeBlock(image, 3, 'inc')
  const before = snapshot(dir)
  const wrong = pointFrom('vm-1', 'disk0', image, 'incremental', [0, 3])
  expectError(t, () => repo.writePoint({ ...wrong, blocks: new Map([[3, Buffer.alloc(BLOCK)]]) }), /block 3 has 65536 bytes, expected 1000$/, 'a padded last block')
  t.same(snapshot(dir), before, 'nothing was written')
  const inc = repo.writePoint(wrong)
  t.equal(inc.bytesStored, BLOCK + 1000)
  t.equal(statSync(join(dir, 'vm-1', 'disk0', '000002', 'blocks.bin')).size, BLOCK + 1000, 'blocks.bin holds the partial block at its real length')
  t.ok(repo.digestsOf(inc.id).subarray(96).equals(createHash('sha256').update(image.subarray(3 * BLOCK)).digest()), 'the last digest is of the 1000 bytes')
  const restored = restoreAndRead(repo, inc.id, join(dir, 'out.img'))
  t.equal(restored.image.length, diskBytes, 'the image has the disk size')
  t.ok(restored.image.equals(image), 'and its bytes')
  t.equal(repo.verify(inc.id).ok, true)
  t.equal(repo.verify(full.id).ok, true)
})

t.test('unfinished .tmp-* folders are skipped', async (t) => {
  const { repo, metas } = threePoints(t)
  const stray = join(repo.dir, 'vm-1', 'disk0', '.tmp-deadbeef')
  mkdirSync(stray)
  writeFileSync(join(stray, 'blocks.bin'), 'half a point')
  t.same(repo.list(), metas, 'list skips the leftover of a crashed write')
  t.same(repo.latest('vm-1', 'disk0'), metas[2])
  t.same(repo.list('vm-2'), [], 'an unknown vm has no points')
})

// ---- the property test ----

interface Step {
  full: boolean
  /** A full may change the disk's block count by this much. */
  resize: number
  changes: Array<{ block: number; tag: number }>
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  full: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  resize: fc.integer({ min: -3, max: 3 }),
  changes: fc.array(fc.record({ block: fc.nat(31), tag: fc.nat(255) }), { maxLength: 8 }),
})

t.test('random chains of block changes restore every point to the model image', async (t) => {
  const dir = tempFolder(t)
  const repo = BackupRepository.open(join(dir, 'repo'), { create: true })
  let run = 0
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 16 }),
      fc.constantFrom(BLOCK, BLOCK, 1, 1000, BLOCK - 1),
      fc.array(stepArb, { minLength: 1, maxLength: 6 }),
      (firstBlocks, lastBlockBytes, steps) => {
        const vm = `vm-${++run}`
        let image = Buffer.alloc(0)
        const expected: Buffer[] = []
        for (const [k, step] of steps.entries()) {
          const full = k === 0 || step.full
          if (full) {
            const blocks = k === 0 ? firstBlocks : Math.min(16, Math.max(1, blockCount(image.length) + step.resize))
            const resized = Buffer.alloc((blocks - 1) * BLOCK + lastBlockBytes)
            image.copy(resized, 0, 0, Math.min(image.length, resized.length))
            image = resized
            if (k === 0) for (let b = 0; b < blocks; b++) changeBlock(image, b, 'p0')
          }
          const changed = new Set<number>()
          for (const c of step.changes) {
            const block = c.block % blockCount(image.length)
            changeBlock(image, block, `p${k}t${c.tag}`)
            changed.add(block)
          }
          const meta = repo.writePoint(pointFrom(vm, 'disk0', image, full ? 'full' : 'incremental', changed))
          assert.equal(meta.seq, k + 1)
          expected.push(Buffer.from(image))
        }
        for (const [k, want] of expected.entries()) {
          const id = `${vm}/disk0/${String(k + 1).padStart(6, '0')}`
          const restored = restoreAndRead(repo, id, join(dir, 'restored.img'))
          assert.ok(restored.image.equals(want), `${id} restores to the model image`)
          assert.equal(restored.diskSha256, sha256Hex(want))
        }
        const last = repo.verify(`${vm}/disk0/${String(steps.length).padStart(6, '0')}`)
        assert.deepEqual(last.problems, [])
      },
    ),
    { numRuns: 40 },
  )
  t.pass(`${run} random chains: every point restored to its model image`)
})

t.test('a read-only open lists and verifies, and refuses to write', async (t) => {
  const dir = t.testdir()
  const repo = BackupRepository.open(join(dir, 'repo'), { create: true })
  const ro = BackupRepository.open(join(dir, 'repo'), { readOnly: true })
  t.same(ro.list(), repo.list())
  t.throws(() => BackupRepository.open(join(dir, 'missing'), { readOnly: true }), /does not exist/)
  t.throws(
    () => ro.writePoint({ vm: 'v', disk: 'd', diskBytes: 65536, kind: 'full', method: 'full', reason: '', createdAtMs: 0, durationMs: 0, bytesRead: 0, nodesServed: [], expectedDiskSha256: '0'.repeat(64), rctId: null, blocks: new Map(), digests: Buffer.alloc(32) }),
    /opened read-only/,
  )
})
