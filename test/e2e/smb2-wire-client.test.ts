// The wire client's state against a real node (client/smb2): credits asked for and granted, the
// in-flight bound holding under a wider pipeline, an interim STATUS_PENDING followed by the
// final reply (CHANGE_NOTIFY completed by the CLOSE of its directory), a tampered response
// refused by its signature, a CA share's persistent handle reopened with DH2C on a new
// connection after the old one died, a replayed CREATE answered with the same open, and a node
// that encrypts every session (--smb-encrypt) followed without being asked; an oplock break
// told to its holder, acknowledged, and the waiting open completed.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { Smb2Client, type Smb2Break, type Smb2ClientOptions } from '../../client/smb2/smb2-client.js'
import { Smb2TransportError, unwrapSmb2 } from '../../client/smb2/smb2-result.js'
import type { Cluster } from '../../cluster/cluster.js'
import { encodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS, SHARE_CAP, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { CREATE_OPTIONS, OPLOCK_LEVEL } from '../../protocol/smb2/create.js'
import { SMB2_COMMAND } from '../../protocol/smb2/header.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { upCluster } from '../helpers/cluster-fixture.js'

function endpoint(cluster: Cluster): Omit<Smb2ClientOptions, 'host' | 'port'> & { host: string; port: number } {
  const n = cluster.nodeConfig('node-1')
  const user = cluster.credentials()!.users[0]
  return { host: n.clientAddress, port: n.smb2Port!, user: user.user, password: user.password }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

/** A TCP proxy to the node that lets mutate change each chunk the server sends (the count of chunks so far given). */
async function proxy(t: Test, target: { host: string; port: number }, mutate: (chunk: Buffer, index: number) => void): Promise<number> {
  const server: Server = createServer((inbound: Socket) => {
    const outbound = netConnect({ host: target.host, port: target.port })
    inbound.pipe(outbound)
    let index = 0
    outbound.on('data', (chunk: Buffer) => {
      mutate(chunk, index++)
      inbound.write(chunk)
    })
    const end = () => {
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on('close', end).on('error', end)
    outbound.on('close', end).on('error', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return (server.address() as { port: number }).port
}

t.test('the wire client against a node', async (t) => {
  const cluster = await upCluster(t, { nodes: 1 })
  const target = endpoint(cluster)
  const share = (await cluster.status()).shares[0].name

  await t.test('credits: asked for, granted, and spent per 64 KiB with large MTU', async (t) => {
    const c = unwrapSmb2(await Smb2Client.connect({ ...target, creditTarget: 64, maxIoBytes: 1024 * 1024 }))
    t.teardown(() => c.close())
    t.equal(c.dialect, SMB2_DIALECT.SMB311)
    t.ok(c.connection.multiCredit, 'large MTU: multi-credit requests')
    t.ok(c.connection.credits > 16, `granted credits toward the target (${c.connection.credits})`)
    t.equal(c.ioBytes.write, 1024 * 1024, 'a 1 MiB write size')
    t.same(await c.echo(), { ok: true, value: undefined }, 'ECHO')
    const tree = unwrapSmb2(await c.treeConnect(share))
    const f = unwrapSmb2(await tree.create('credits.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
    const held = c.connection.credits
    const write = tree.write(f.fileId, 0, randomBytes(1024 * 1024))
    // The 1 MiB WRITE charged 16 credits at once (3.1.5.2) the moment it went out.
    t.equal(held - c.connection.credits, 16, 'a 1 MiB WRITE costs 16 credits')
    t.equal(unwrapSmb2(await write), 1024 * 1024)
    unwrapSmb2(await tree.close(f.fileId))
  })

  await t.test('the in-flight bound holds under a wider pipeline', async (t) => {
    const c = unwrapSmb2(await Smb2Client.connect({ ...target, inFlightMax: 2, maxIoBytes: 64 * 1024 }))
    t.teardown(() => c.close())
    const tree = unwrapSmb2(await c.treeConnect(share))
    const data = randomBytes(2 * 1024 * 1024)
    const f = unwrapSmb2(await tree.create('bound.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
    let peak = 0
    const sample = setInterval(() => (peak = Math.max(peak, c.connection.inFlight)), 0)
    unwrapSmb2(await tree.writeRange(f.fileId, 0, data, { inFlight: 16 }))
    const back = Buffer.alloc(data.length)
    unwrapSmb2(
      await tree.readRange(
        f.fileId,
        0,
        data.length,
        (at, chunk) => {
          peak = Math.max(peak, c.connection.inFlight)
          chunk.copy(back, at)
        },
        { inFlight: 16 },
      ),
    )
    clearInterval(sample)
    t.ok(back.equals(data), 'the bytes, through 32 READs of 64 KiB')
    t.ok(peak >= 1 && peak <= 2, `at most 2 requests in flight (peak ${peak})`)
    unwrapSmb2(await tree.close(f.fileId))
  })

  await t.test('the queue of waiting requests is bounded; the connection stays up', async (t) => {
    const c = unwrapSmb2(await Smb2Client.connect({ ...target, inFlightMax: 1, waitingMax: 2 }))
    t.teardown(() => c.close())
    const tree = unwrapSmb2(await c.treeConnect(share))
    const f = unwrapSmb2(await tree.create('queue.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
    const reads = [0, 1, 2, 3].map(() => tree.queryStandardInfo(f.fileId))
    const settled = await Promise.allSettled(reads)
    t.same(settled.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'], 'one in flight, two waiting, the fourth refused')
    t.match((settled[3] as PromiseRejectedResult).reason, RangeError)
    t.notOk(c.connection.closed, 'still connected')
    unwrapSmb2(await tree.close(f.fileId))
  })

  await t.test('an interim STATUS_PENDING, then the final reply', async (t) => {
    const c = unwrapSmb2(await Smb2Client.connect(target))
    t.teardown(() => c.close())
    const tree = unwrapSmb2(await c.treeConnect(share))
    unwrapSmb2(await tree.ensureDirectory('watched'))
    const dir = unwrapSmb2(await tree.create('watched', { desiredAccess: ACCESS.READ_DATA | ACCESS.READ_ATTRIBUTES, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE, createOptions: CREATE_OPTIONS.DIRECTORY_FILE }))
    const creditsBefore = c.connection.credits
    let settled = false
    const notify = tree.request({ command: SMB2_COMMAND.CHANGE_NOTIFY, body: encodeChangeNotifyRequest({ flags: 0, outputBufferLength: 4096, fileId: dir.fileId, completionFilter: 0x1 }), payloadBytes: 4096 })
    void notify.then(() => (settled = true))
    // The interim reply grants credits back but does not end the request.
    await until('the interim reply', () => c.connection.credits > creditsBefore - 1)
    t.equal(settled, false, 'still waiting after the interim reply')
    t.equal(c.connection.inFlight, 1, 'the CHANGE_NOTIFY holds its in-flight slot')
    unwrapSmb2(await tree.close(dir.fileId))
    const final = await notify
    t.equal(final.header.status, NT_STATUS.NOTIFY_CLEANUP, 'completed by the CLOSE of its directory')
    t.ok(final.asyncId !== undefined && final.asyncId !== 0n, 'the AsyncId of the interim reply')
  })

  await t.test('CANCEL of a pending request: the request ends with STATUS_CANCELLED', async (t) => {
    for (const encrypt of [false, true]) {
      const c = unwrapSmb2(await Smb2Client.connect({ ...target, encrypt }))
      t.teardown(() => c.close())
      const tree = unwrapSmb2(await c.treeConnect(share))
      unwrapSmb2(await tree.ensureDirectory('watched'))
      const dir = unwrapSmb2(await tree.create('watched', { desiredAccess: ACCESS.READ_DATA | ACCESS.READ_ATTRIBUTES, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE, createOptions: CREATE_OPTIONS.DIRECTORY_FILE }))
      const abort = new AbortController()
      const notify = tree.request({ command: SMB2_COMMAND.CHANGE_NOTIFY, body: encodeChangeNotifyRequest({ flags: 0, outputBufferLength: 4096, fileId: dir.fileId, completionFilter: 0x1 }), payloadBytes: 4096, signal: abort.signal })
      // An ECHO-like round trip first, so that the interim reply has come: QUERY_INFO on the directory.
      unwrapSmb2(await tree.queryBasicInfo(dir.fileId))
      abort.abort()
      const final = await notify
      t.equal(final.header.status, NT_STATUS.CANCELLED, `cancelled${encrypt ? ' (encrypted session)' : ''}`)
      t.equal(c.connection.inFlight, 0, 'its in-flight slot is free again')
      unwrapSmb2(await tree.close(dir.fileId))
    }
  })

  await t.test('an oplock break: the holder is told, acknowledges, and the second open goes through', async (t) => {
    // The node's shares are scale-out: from 3.0 on Windows grants no batch oplock there (level II
    // instead, MS-SMB2 3.3.5.9), so the holder speaks 2.1, where batch is granted.
    const holder = unwrapSmb2(await Smb2Client.connect({ ...target, dialects: [0x0210] }))
    t.teardown(() => holder.close())
    const other = unwrapSmb2(await Smb2Client.connect(target))
    t.teardown(() => other.close())
    const treeA = unwrapSmb2(await holder.treeConnect(share))
    const treeB = unwrapSmb2(await other.treeConnect(share))
    const rw = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0
    const shareAll = SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE
    const a = unwrapSmb2(await treeA.create('oplock.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: rw, shareAccess: shareAll, oplockLevel: OPLOCK_LEVEL.BATCH }))
    t.equal(a.oplockLevel, OPLOCK_LEVEL.BATCH, 'a batch oplock')
    const breaks: Smb2Break[] = []
    const acks: Array<Promise<unknown>> = []
    holder.onBreak = (b) => {
      breaks.push(b)
      if (b.kind === 'oplock') acks.push(treeA.acknowledgeOplockBreak(b.fileId, OPLOCK_LEVEL.NONE))
    }
    const b = await treeB.create('oplock.bin', { desiredAccess: rw, shareAccess: shareAll })
    t.ok(b.ok, 'the second open went through after the break')
    t.same(await Promise.all(acks), [{ ok: true, value: OPLOCK_LEVEL.NONE }], 'the acknowledgment answered with the level kept')
    t.equal(breaks.length, 1, 'one break sent to the holder')
    t.same(breaks[0]?.kind === 'oplock' ? breaks[0].fileId : null, a.fileId, 'naming the held open')
    if (b.ok) unwrapSmb2(await treeB.close(b.value.fileId))
    unwrapSmb2(await treeA.close(a.fileId))
  })

  await t.test('a tampered response fails its signature check', async (t) => {
    let tamper = false
    const port = await proxy(t, target, (chunk) => {
      if (tamper) chunk[chunk.length - 1] ^= 0x01
    })
    const c = unwrapSmb2(await Smb2Client.connect({ ...target, host: '127.0.0.1', port }))
    t.teardown(() => c.close())
    const tree = unwrapSmb2(await c.treeConnect(share))
    const f = unwrapSmb2(await tree.create('tamper.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
    unwrapSmb2(await tree.write(f.fileId, 0, Buffer.from('one hundred bytes or so of file content, read back through a proxy that flips a bit')))
    t.ok((await tree.read(f.fileId, 0, 100)).ok, 'untampered, the READ passes')
    tamper = true
    await t.rejects(tree.read(f.fileId, 0, 100), { name: 'Smb2TransportError', message: /signature does not verify/ })
    t.ok(c.connection.closed, 'and the connection is given up')
  })

  await t.test('at 3.0, FSCTL_VALIDATE_NEGOTIATE_INFO catches a NEGOTIATE response changed on the way', async (t) => {
    const honest = unwrapSmb2(await Smb2Client.connect({ ...target, dialects: [SMB2_DIALECT.SMB30] }))
    t.teardown(() => honest.close())
    t.ok((await honest.treeConnect(share)).ok, 'validated when nothing changed it')
    // The NEGOTIATE response is the server's first chunk; its Capabilities are at 4 + 64 + 24. LEASING is cleared.
    const port = await proxy(t, target, (chunk, index) => {
      if (index === 0 && chunk.length >= 4 + 64 + 28) chunk[4 + 64 + 24] &= ~0x02
    })
    const c = unwrapSmb2(await Smb2Client.connect({ ...target, host: '127.0.0.1', port, dialects: [SMB2_DIALECT.SMB30] }))
    t.teardown(() => c.close())
    t.equal(c.negotiated.capabilities & 0x02, 0, 'the client saw the changed capabilities')
    await t.rejects(c.treeConnect(share), { name: 'Smb2TransportError', message: /VALIDATE_NEGOTIATE_INFO.*differs/ })
  })

  await t.test('DH2C reopens a persistent handle on a new connection; a replayed CREATE gets the same open', async (t) => {
    const clientGuid = '6a3c1f3e-0d1c-4d7a-9f7e-3b1d2c4e5f60'
    const first = unwrapSmb2(await Smb2Client.connect({ ...target, clientGuid }))
    const tree = unwrapSmb2(await first.treeConnect(share))
    t.not(tree.capabilities & SHARE_CAP.CONTINUOUS_AVAILABILITY, 0, 'a CA share')
    const data = randomBytes(100_000)
    const opts = { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0, shareAccess: SHARE_ACCESS.READ, durableV2: { persistent: true, timeoutMs: 60_000 } }
    const opened = unwrapSmb2(await tree.create('durable.bin', opts))
    t.same(opened.durable?.persistent, true, 'persistent')
    const replayed = unwrapSmb2(await tree.create('durable.bin', { ...opts, durableV2: { ...opts.durableV2, createGuid: opened.createGuid! }, replay: true, channelSequence: 0 }))
    t.same(replayed.fileId, opened.fileId, 'the replay (REPLAY_OPERATION, same CreateGuid) names the same open')
    unwrapSmb2(await tree.writeRange(opened.fileId, 0, data))
    first.connection.close() // the connection dies without CLOSE or LOGOFF

    const second = unwrapSmb2(await Smb2Client.connect({ ...target, clientGuid, previousSessionId: first.sessionId }))
    t.teardown(() => second.close())
    const tree2 = unwrapSmb2(await second.treeConnect(share))
    let reopened = await tree2.create('durable.bin', { reconnectV2: { fileId: opened.fileId, createGuid: opened.createGuid!, persistent: true } })
    // The node may still be tearing the old connection down: retry while it says the handle is in use.
    for (let i = 0; !reopened.ok && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20))
      reopened = await tree2.create('durable.bin', { reconnectV2: { fileId: opened.fileId, createGuid: opened.createGuid!, persistent: true } })
    }
    t.ok(reopened.ok, reopened.ok ? 'reopened' : `reopened: ${reopened.failure.statusName}`)
    if (!reopened.ok) return
    // The reconnected open keeps its persistent half; the volatile half is the new connection's (3.3.5.9.12).
    t.equal(reopened.value.fileId.persistent, opened.fileId.persistent, 'the same FileId.Persistent')
    const back = Buffer.alloc(data.length)
    unwrapSmb2(await tree2.readRange(reopened.value.fileId, 0, data.length, (at, chunk) => void chunk.copy(back, at)))
    t.ok(back.equals(data), 'the bytes written before the connection died')
    unwrapSmb2(await tree2.close(reopened.value.fileId))
  })

  await t.test('a missing file and a transport failure are told apart', async (t) => {
    const c = unwrapSmb2(await Smb2Client.connect(target))
    const tree = unwrapSmb2(await c.treeConnect(share))
    const r = await tree.create('no/such/file')
    t.same(r.ok ? null : r.failure.statusName, 'STATUS_OBJECT_PATH_NOT_FOUND')
    c.connection.close()
    await t.rejects(tree.create('x'), Smb2TransportError)
  })
})

t.test('a node that encrypts every session (--smb-encrypt)', async (t) => {
  const cluster = await upCluster(t, { nodes: 1, smbEncrypt: true })
  const target = endpoint(cluster)
  const share = (await cluster.status()).shares[0].name
  const c = unwrapSmb2(await Smb2Client.connect(target))
  t.teardown(() => c.close())
  const tree = unwrapSmb2(await c.treeConnect(share))
  t.ok(c.crypto.encryptData || tree.encryptData, 'the client follows the server into encryption')
  const data = randomBytes(3 * 1024 * 1024)
  const f = unwrapSmb2(await tree.create('sealed.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0 }))
  unwrapSmb2(await tree.writeRange(f.fileId, 0, data, { inFlight: 4 }))
  const back = Buffer.alloc(data.length)
  unwrapSmb2(await tree.readRange(f.fileId, 0, data.length, (at, chunk) => void chunk.copy(back, at), { inFlight: 4 }))
  t.ok(back.equals(data), 'identical through the transform')
  unwrapSmb2(await tree.close(f.fileId))
})
