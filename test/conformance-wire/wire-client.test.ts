// Our own SMB 2/3 wire client (client/smb2) against Samba's smbd (the reference, configured in a
// temp folder) and against node-1 of the emulator: at every dialect from 2.0.2 to 3.1.1, signed,
// and encrypted with each cipher, a put of random bytes with several WRITEs in flight reads back
// identical (and identical on the server's disk), the listing and the standard and basic
// information agree, a missing file is a typed STATUS_OBJECT_NAME_NOT_FOUND, and SET_INFO
// resizes, renames and deletes. A share that
// requires encryption (smbd's `server smb encrypt = required`) is followed without being asked.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Smb2Client, type Smb2Break } from '../../client/smb2/smb2-client.js'
import { unwrapSmb2 } from '../../client/smb2/smb2-result.js'
import type { Smb2Tree } from '../../client/smb2/smb2-tree.js'
import { ACCESS, CIPHER, DISPOSITION, SHARE_ACCESS, SIGNING_ALGORITHM, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { OPLOCK_LEVEL } from '../../protocol/smb2/create.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { LEASE_BREAK_FLAGS, LEASE_STATE } from '../../protocol/smb2/oplock-break.js'
import { referenceSmbdProblem, startReferenceSmbd } from '../../tools/reference-smbd.js'
import type { SmbTarget } from '../../tools/smb-target.js'
import { wireTargets } from './wire-targets.js'

interface Variant {
  readonly name: string
  readonly dialects: readonly number[]
  readonly encrypt?: boolean
  readonly ciphers?: readonly number[]
  readonly signingAlgorithms?: readonly number[]
}

const VARIANTS: readonly Variant[] = [
  { name: '2.0.2 signed', dialects: [SMB2_DIALECT.SMB202] },
  { name: '2.1 signed', dialects: [SMB2_DIALECT.SMB21] },
  { name: '3.0 signed', dialects: [SMB2_DIALECT.SMB30] },
  { name: '3.0.2 encrypted (AES-128-CCM)', dialects: [SMB2_DIALECT.SMB302], encrypt: true },
  { name: '3.1.1 signed (AES-CMAC)', dialects: [SMB2_DIALECT.SMB311], signingAlgorithms: [SIGNING_ALGORITHM.AES_CMAC] },
  { name: '3.1.1 signed (AES-GMAC)', dialects: [SMB2_DIALECT.SMB311], signingAlgorithms: [SIGNING_ALGORITHM.AES_GMAC] },
  { name: '3.1.1 encrypted (AES-128-GCM)', dialects: [SMB2_DIALECT.SMB311], encrypt: true, ciphers: [CIPHER.AES128_GCM] },
  { name: '3.1.1 encrypted (AES-128-CCM)', dialects: [SMB2_DIALECT.SMB311], encrypt: true, ciphers: [CIPHER.AES128_CCM] },
  { name: '3.1.1 encrypted (AES-256-GCM)', dialects: [SMB2_DIALECT.SMB311], encrypt: true, ciphers: [CIPHER.AES256_GCM] },
  { name: '3.1.1 encrypted (AES-256-CCM)', dialects: [SMB2_DIALECT.SMB311], encrypt: true, ciphers: [CIPHER.AES256_CCM] },
]

async function login(target: SmbTarget, v: Partial<Variant> = {}): Promise<Smb2Client> {
  return unwrapSmb2(
    await Smb2Client.connect({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      maxIoBytes: 1024 * 1024,
      ...(v.dialects ? { dialects: v.dialects } : {}),
      ...(v.encrypt ? { encrypt: true } : {}),
      ...(v.ciphers ? { ciphers: v.ciphers as never } : {}),
      ...(v.signingAlgorithms ? { signingAlgorithms: v.signingAlgorithms as never } : {}),
    }),
  )
}

/** put, get, ls, info and a missing file on one tree; returns the remote name used. */
async function roundTrip(t: Test, tree: Smb2Tree, target: SmbTarget, name: string): Promise<void> {
  const data = randomBytes(3 * 1024 * 1024 + 12345)
  const opened = unwrapSmb2(await tree.create(`wire-client/${name}`, { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
  t.equal(unwrapSmb2(await tree.writeRange(opened.fileId, 0, data, { inFlight: 4 })), data.length, 'written with 4 WRITEs in flight')
  unwrapSmb2(await tree.flush(opened.fileId))
  const standard = unwrapSmb2(await tree.queryStandardInfo(opened.fileId))
  t.equal(standard.endOfFileBytes, BigInt(data.length), 'FileStandardInformation.EndOfFile')
  t.equal(standard.directory, false)
  const basic = unwrapSmb2(await tree.queryBasicInfo(opened.fileId))
  t.equal(basic.directory, false)
  t.ok(basic.lastWriteTime > 0n, 'a LastWriteTime')
  const back = Buffer.alloc(data.length)
  unwrapSmb2(await tree.readRange(opened.fileId, 0, data.length, (at, chunk) => void chunk.copy(back, at), { inFlight: 4 }))
  t.ok(back.equals(data), 'read back identical with 4 READs in flight')
  unwrapSmb2(await tree.close(opened.fileId))
  if (target.sharePath) t.ok(readFileSync(join(target.sharePath, 'wire-client', name)).equals(data), 'identical on the server disk')
  const listing = unwrapSmb2(await tree.list('wire-client'))
  t.same(
    listing.filter((e) => e.name === name).map((e) => e.endOfFileBytes),
    [BigInt(data.length)],
    'the listing shows the file and its size',
  )
  const missing = await tree.create('wire-client/no-such-file')
  t.same(missing.ok ? null : [missing.failure.command, missing.failure.statusName], ['CREATE', 'STATUS_OBJECT_NAME_NOT_FOUND'], 'a typed NTSTATUS')

  // SET_INFO: size, rename, delete.
  const again = unwrapSmb2(await tree.create(`wire-client/${name}`, { desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE | ACCESS.DELETE) >>> 0, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.DELETE }))
  unwrapSmb2(await tree.setEndOfFile(again.fileId, 1000))
  t.equal(unwrapSmb2(await tree.queryStandardInfo(again.fileId)).endOfFileBytes, 1000n, 'SET_INFO FileEndOfFileInformation')
  unwrapSmb2(await tree.rename(again.fileId, `wire-client/${name}.renamed`))
  unwrapSmb2(await tree.close(again.fileId))
  const names = unwrapSmb2(await tree.list('wire-client')).map((e) => e.name)
  t.ok(names.includes(`${name}.renamed`) && !names.includes(name), 'SET_INFO FileRenameInformation')
  unwrapSmb2(await tree.remove(`wire-client/${name}.renamed`))
  const gone = await tree.create(`wire-client/${name}.renamed`)
  t.same(gone.ok ? null : gone.failure.statusName, 'STATUS_OBJECT_NAME_NOT_FOUND', 'SET_INFO FileDispositionInformation deleted it')
}

t.test('the wire client against smbd and a node', async (t) => {
  for (const { label, target, skip } of await wireTargets(t, null)) {
    await t.test(label, { skip }, async (t) => {
      const server = target as SmbTarget
      // The folder the cases write into.
      const setup = await login(server)
      t.teardown(() => setup.close())
      const setupTree = unwrapSmb2(await setup.treeConnect(server.share))
      t.ok((await setupTree.ensureDirectory('wire-client')).ok, 'the test folder')

      for (const v of VARIANTS) {
        await t.test(v.name, async (t) => {
          const client = await login(server, v)
          t.teardown(() => client.close())
          t.equal(client.dialect, v.dialects[0], 'the dialect asked for')
          t.equal(client.crypto.signing, true, 'a signed session')
          t.equal(client.crypto.encryptData, v.encrypt === true, v.encrypt ? 'an encrypted session' : 'not encrypted')
          const tree = unwrapSmb2(await client.treeConnect(server.share))
          await roundTrip(t, tree, server, `${v.name.replace(/[^a-z0-9]+/gi, '-')}.bin`)
          unwrapSmb2(await tree.disconnect())
          unwrapSmb2(await client.logoff())
        })
      }

      await t.test('a wrong password is STATUS_LOGON_FAILURE', async (t) => {
        const r = await Smb2Client.connect({ host: server.host, port: server.port, user: server.user, password: `${server.password}-wrong` })
        t.same(r.ok ? null : [r.failure.command, r.failure.status], ['SESSION_SETUP', NT_STATUS.LOGON_FAILURE])
      })
      await t.test('an unknown share is STATUS_BAD_NETWORK_NAME', async (t) => {
        const c = await login(server)
        t.teardown(() => c.close())
        const r = await c.treeConnect('no-such-share')
        t.same(r.ok ? null : r.failure.status, NT_STATUS.BAD_NETWORK_NAME)
      })
    })
  }
})

// Leases are issue 15's on the nodes; smbd grants them now, which checks the client's lease
// request, the break notification it decodes and its acknowledgment against the reference.
t.test('a lease and its break (smbd)', { skip: referenceSmbdProblem() ?? false }, async (t) => {
  const server = await startReferenceSmbd()
  t.teardown(() => server.stop())
  const holder = await login(server.target)
  t.teardown(() => holder.close())
  const other = await login(server.target)
  t.teardown(() => other.close())
  const treeA = unwrapSmb2(await holder.treeConnect(server.target.share))
  const treeB = unwrapSmb2(await other.treeConnect(server.target.share))
  const rw = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0
  const shareAll = SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE
  const leaseKey = randomBytes(16)
  const RWH = LEASE_STATE.READ_CACHING | LEASE_STATE.WRITE_CACHING | LEASE_STATE.HANDLE_CACHING
  const a = unwrapSmb2(await treeA.create('leased.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: rw, shareAccess: shareAll, lease: { leaseKey, leaseState: RWH, leaseFlags: 0, parentLeaseKey: Buffer.alloc(16), epoch: 0 } }))
  t.equal(a.oplockLevel, OPLOCK_LEVEL.LEASE, 'a lease')
  t.equal(a.lease?.leaseState, RWH, 'RWH granted')
  t.ok(a.lease?.leaseKey.equals(leaseKey), 'under our key')
  const breaks: Smb2Break[] = []
  const acks: Array<Promise<unknown>> = []
  holder.onBreak = (b) => {
    breaks.push(b)
    if (b.kind === 'lease' && (b.notification.flags & LEASE_BREAK_FLAGS.ACK_REQUIRED) !== 0) acks.push(treeA.acknowledgeLeaseBreak(b.notification.leaseKey, b.notification.newLeaseState))
  }
  const b = await treeB.create('leased.bin', { desiredAccess: rw, shareAccess: shareAll })
  t.ok(b.ok, 'the second open went through after the break')
  t.equal(breaks.length, 1, 'one break to the holder')
  const n = breaks[0]?.kind === 'lease' ? breaks[0].notification : null
  t.ok(n?.leaseKey.equals(leaseKey), 'naming our lease key')
  t.equal(n?.currentLeaseState, RWH, 'from RWH')
  t.equal(((n?.newLeaseState ?? 0) & LEASE_STATE.WRITE_CACHING), 0, 'to a state without write caching')
  t.same(await Promise.all(acks), [{ ok: true, value: n?.newLeaseState }], 'acknowledged')
  if (b.ok) unwrapSmb2(await treeB.close(b.value.fileId))
  unwrapSmb2(await treeA.close(a.fileId))
})

t.test('a server that requires encryption (smbd, server smb encrypt = required)', { skip: referenceSmbdProblem() ?? false }, async (t) => {
  const server = await startReferenceSmbd({ global: { 'server smb encrypt': 'required' } })
  t.teardown(() => server.stop())
  for (const dialect of [SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB311]) {
    await t.test(`at 0x${dialect.toString(16)}`, async (t) => {
      const client = await login(server.target, { dialects: [dialect] })
      t.teardown(() => client.close())
      const tree = unwrapSmb2(await client.treeConnect(server.target.share))
      t.ok(client.crypto.encryptData || tree.encryptData, 'the server asked for encryption and the client follows')
      unwrapSmb2(await tree.ensureDirectory('wire-client'))
      await roundTrip(t, tree, server.target, `required-${dialect.toString(16)}.bin`)
    })
  }
})
