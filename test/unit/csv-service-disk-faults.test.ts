// A CSV service on a real, small, loop-mounted ext4 volume (root): a full volume answers
// STATUS_DISK_FULL and a write-protected one STATUS_MEDIA_WRITE_PROTECTED, as Windows and smbd
// do; what was acknowledged before is intact; reads go on; a persistent CREATE whose record
// cannot be written leaves no open and no record behind; the service survives it all and goes
// on when the volume has room or is writable again.
import { createHash, randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { ACCESS, DISPOSITION } from '../../protocol/smb2/constants.js'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { CsvService, type FileIdJson, type FileInfoChange, type HandleOp, type HandleOpReply } from '../../server/smb/csv-service.js'

const rootReason = process.getuid?.() !== 0 ? 'needs root (loop mounts)' : !existsSync('/dev/loop-control') ? 'no /dev/loop-control' : null
t.test('a CSV service on a full, then a write-protected volume', { skip: rootReason ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-disk-faults-'))
  const image = join(dir, 'csv1.img')
  const mountPoint = join(dir, 'storage', 'csv1')
  mkdirSync(mountPoint, { recursive: true })
  execFileSync('truncate', ['-s', String(16 * 1024 * 1024), image])
  execFileSync('mkfs.ext4', ['-q', '-m', '0', '-b', '4096', '-F', image])
  execFileSync('mount', ['-o', 'loop', image, mountPoint])
  let service: CsvService | null = null
  t.teardown(async () => {
    await service?.close()
    execFileSync('umount', [mountPoint])
    rmSync(dir, { recursive: true, force: true })
  })
  // Room the test frees later, as `storage fault clear` removes its filler.
  writeFileSync(join(mountPoint, 'ballast'), Buffer.alloc(1024 * 1024, 1))
  const log = pino({ level: 'silent' })
  const ids = () => ({ persistent: randomBytes(8).toString('hex'), volatile: randomBytes(8).toString('hex') })
  const shares = [{ name: 'share-1', csv: 'csv1', continuouslyAvailable: true, caTimeoutMs: 60_000 }]
  service = new CsvService(join(dir, 'storage'), 'csv1', shares, log, ids, 0, null, () => true, () => true)
  const svc = service
  const session = 'node-1/s1'
  let messageId = 0
  const create = (path: string, o: { persistent: boolean; access: number; disposition: number }): Promise<HandleOpReply> =>
    svc.execute({
      op: 'create', sessionKey: session, clientGuid: '0a0b0c0d-0e0f-1011-1213-141516171819', user: 'alice', persistentCapable: true,
      share: 'share-1', path, disposition: o.disposition, desiredAccess: o.access, shareAccess: 7,
      dh2q: o.persistent ? { createGuid: randomBytes(16).toString('hex'), timeoutMs: 60_000, persistent: true } : null,
      dh2c: null, replay: false, createOptions: 0x40, smb3: true, dialect: 0x0311,
    })
  const write = (fileId: FileIdJson, offset: number, data: Buffer) =>
    svc.execute({ op: 'write', sessionKey: session, fileId, offset, data, channelSequence: 0, replay: false, messageId: String(++messageId) } satisfies HandleOp)
  const setInfo = (fileId: FileIdJson, change: FileInfoChange) =>
    svc.execute({ op: 'set-file-info', sessionKey: session, fileId, change, channelSequence: 0, replay: false, messageId: String(++messageId) })
  const read = (fileId: FileIdJson, offset: number, length: number) => svc.execute({ op: 'read', sessionKey: session, fileId, offset, length })
  const records = () => readdirSync(join(mountPoint, '.handles'))
  const rw = { access: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }

  const opened = await create('data.bin', { persistent: true, ...rw, disposition: DISPOSITION.OPEN_IF })
  t.equal(ntStatusName(opened.status), 'STATUS_SUCCESS')
  t.ok(opened.persistent, 'a persistent open')
  const fileId = opened.fileId!
  t.same(records(), [`${fileId.persistent}.json`], 'its record is on the volume')

  // Writes until the volume is full: each acknowledged one is kept for the check.
  const acknowledged = createHash('sha256')
  let ackBytes = 0
  let last: HandleOpReply | null = null
  // Large writes, then small ones into what the last large one could not use.
  for (const size of [128 * 1024, 4096]) {
    for (let i = 0; i < 200; i++) {
      const data = randomBytes(size)
      last = await write(fileId, ackBytes, data)
      if (last.status !== NT_STATUS.SUCCESS) break
      acknowledged.update(data)
      ackBytes += data.length
    }
  }
  t.equal(ntStatusName(last!.status), 'STATUS_DISK_FULL', 'a WRITE on a full volume')
  t.ok(ackBytes > 4 * 1024 * 1024, `${ackBytes} bytes acknowledged before`)
  const readBack = createHash('sha256')
  let readStatus = NT_STATUS.SUCCESS as number
  for (let at = 0; at < ackBytes && readStatus === NT_STATUS.SUCCESS; at += 1024 * 1024) {
    const r = await read(fileId, at, Math.min(1024 * 1024, ackBytes - at))
    readStatus = r.status
    if (r.data) readBack.update(r.data)
  }
  t.equal(ntStatusName(readStatus), 'STATUS_SUCCESS', 'reads go on on a full volume')
  t.equal(readBack.digest('hex'), acknowledged.digest('hex'), 'every acknowledged byte is there')

  // A persistent CREATE needs its record: on a full volume it fails whole.
  const before = svc.openCount()
  const refused = await create('new.bin', { persistent: true, ...rw, disposition: DISPOSITION.OPEN_IF })
  t.equal(ntStatusName(refused.status), 'STATUS_DISK_FULL', 'a persistent CREATE whose record cannot be written')
  t.equal(svc.openCount(), before, 'no open was left behind')
  t.same(records(), [`${fileId.persistent}.json`], 'no record, and no temp file of one')
  t.notOk(existsSync(join(mountPoint, 'share-1', 'new.bin')), 'the file it made went too')

  // A plain open that makes an empty file needs no block: it succeeds, as on NTFS.
  const plain = await create('empty.bin', { persistent: false, ...rw, disposition: DISPOSITION.CREATE })
  t.equal(ntStatusName(plain.status), 'STATUS_SUCCESS', 'a plain CREATE of an empty file on a full volume')
  t.equal(ntStatusName((await write(plain.fileId!, 0, randomBytes(4096))).status), 'STATUS_DISK_FULL', 'its first WRITE needs a block')
  t.equal(ntStatusName((await svc.execute({ op: 'close', sessionKey: session, fileId: plain.fileId! })).status), 'STATUS_SUCCESS')

  // A size or allocation that needs room the volume lacks: DISK_FULL, as NTFS (ext4 would grow sparsely).
  t.equal(ntStatusName((await setInfo(fileId, { kind: 'end-of-file', bytes: ackBytes + 1024 * 1024 })).status), 'STATUS_DISK_FULL', 'SET_INFO end-of-file growing the file')
  t.equal(ntStatusName((await setInfo(fileId, { kind: 'allocation', bytes: ackBytes + 1024 * 1024 })).status), 'STATUS_DISK_FULL', 'SET_INFO allocation past the free space')
  t.equal(ntStatusName((await setInfo(fileId, { kind: 'allocation', bytes: ackBytes })).status), 'STATUS_SUCCESS', 'an allocation the file already has')
  const size = (await svc.execute({ op: 'stat', sessionKey: session, fileId })).stat?.size
  t.equal(size, ackBytes, 'the file kept its size')

  // Room again: the writes go on from where they were acknowledged.
  rmSync(join(mountPoint, 'ballast'))
  const more = await write(fileId, ackBytes, randomBytes(64 * 1024))
  t.equal(ntStatusName(more.status), 'STATUS_SUCCESS', 'writes go on once there is room')
  ackBytes += 64 * 1024

  // Read-only: the kernel refuses while files are open for writing; the service lets them go.
  t.throws(() => execFileSync('mount', ['-o', 'remount,ro', mountPoint], { stdio: 'ignore' }), 'a remount while the service holds a writable file is refused (EBUSY)')
  const released = await svc.releaseFiles(5000)
  t.ok(released.idle && released.released >= 1, `released ${released.released} file(s)`)
  execFileSync('mount', ['-o', 'remount,ro', mountPoint])
  svc.thaw()
  const protectedWrite = await write(fileId, ackBytes, randomBytes(4096))
  t.equal(ntStatusName(protectedWrite.status), 'STATUS_MEDIA_WRITE_PROTECTED', 'a WRITE on a write-protected volume')
  const roRead = await read(fileId, 0, 4096)
  t.equal(ntStatusName(roRead.status), 'STATUS_SUCCESS', 'reads go on on a write-protected volume')
  const newFile = await create('other.bin', { persistent: false, ...rw, disposition: DISPOSITION.CREATE })
  t.equal(ntStatusName(newFile.status), 'STATUS_MEDIA_WRITE_PROTECTED', 'a CREATE that makes a file')
  const forWrite = await create('data.bin', { persistent: false, ...rw, disposition: DISPOSITION.OPEN })
  t.equal(ntStatusName(forWrite.status), 'STATUS_MEDIA_WRITE_PROTECTED', 'an open for writing of an existing file')
  const forRead = await create('data.bin', { persistent: false, access: ACCESS.GENERIC_READ >>> 0, disposition: DISPOSITION.OPEN })
  t.equal(ntStatusName(forRead.status), 'STATUS_SUCCESS', 'an open for reading')
  const persistentRead = await create('data.bin', { persistent: true, access: ACCESS.GENERIC_READ >>> 0, disposition: DISPOSITION.OPEN })
  t.equal(ntStatusName(persistentRead.status), 'STATUS_MEDIA_WRITE_PROTECTED', 'a persistent open, whose record cannot be written')
  t.equal(ntStatusName((await setInfo(fileId, { kind: 'end-of-file', bytes: 4096 })).status), 'STATUS_MEDIA_WRITE_PROTECTED', 'SET_INFO end-of-file')
  t.equal(ntStatusName((await setInfo(fileId, { kind: 'allocation', bytes: ackBytes })).status), 'STATUS_MEDIA_WRITE_PROTECTED', 'SET_INFO allocation')
  const closed = await svc.execute({ op: 'close', sessionKey: session, fileId: forRead.fileId! })
  t.equal(ntStatusName(closed.status), 'STATUS_SUCCESS', 'a close')
  t.doesNotThrow(() => svc.scavenge(Date.now()), 'the scavenger survives a write-protected volume')

  execFileSync('mount', ['-o', 'remount,rw', mountPoint])
  const again = await write(fileId, ackBytes, randomBytes(4096))
  t.equal(ntStatusName(again.status), 'STATUS_SUCCESS', 'writes go on once the volume is writable')
  const closedPersistent = await svc.execute({ op: 'close', sessionKey: session, fileId })
  t.equal(ntStatusName(closedPersistent.status), 'STATUS_SUCCESS')
  t.same(records(), [], 'the closed open\'s record is gone')
})
