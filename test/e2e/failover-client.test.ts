// The witness-driven failover client against real node kills and freezes: its writes go on
// on a surviving node, and every acknowledged write is in the file with its bytes.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FailoverClient } from '../../client/failover-client.js'
import type { Cluster } from '../../cluster/cluster.js'
import { readLog, type Teardown, upCluster } from '../helpers/cluster-fixture.js'

function resolver(cluster: Cluster) {
  return () => cluster.addresses()
}

interface Ledger {
  offset: number
  length: number
  sha: string
}

/** Polls a condition every 10 ms until it holds or 20 s passed; says which. */
async function until(condition: () => boolean, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  return condition()
}

async function writeLoop(client: FailoverClient, handle: Awaited<ReturnType<FailoverClient['open']>>, ledger: Ledger[], stop: () => boolean) {
  let i = 0
  while (!stop() && i < 100_000) {
    const block = Buffer.alloc(4096, i % 251)
    block.writeUInt32LE(i, 0)
    await client.write(handle, i * 4096, block)
    ledger.push({ offset: i * 4096, length: 4096, sha: createHash('sha256').update(block).digest('hex') })
    i++
  }
}

/** A 3-node cluster and a failover client whose data path starts on csv-1's owner (stopped at teardown). */
async function clientOnCsvOwner(t: Teardown, extra: Partial<ConstructorParameters<typeof FailoverClient>[0]> = {}) {
  const cluster = await upCluster(t, { nodes: 3 })
  const status = await cluster.waitFor((s) => s.csvs.every((c) => c.servedBy.length === 1), 10_000)
  const dataNode = status.csvs.find((c) => c.name === 'csv-1')!.owner
  const client = new FailoverClient({
    resolve: resolver(cluster),
    netName: 'SOFS',
    share: 'share-1',
    credential: cluster.credentials()!.users[0],
    preferredIp: cluster.nodeConfig(dataNode).clientAddress,
    ...extra,
  })
  t.teardown(() => client.stop())
  return { cluster, dataNode, client }
}

for (const fault of ['kill', 'pause'] as const) {
  t.test(`${fault} of the data node: writes go on elsewhere, none lost`, async (t) => {
    const { cluster, dataNode, client } = await clientOnCsvOwner(t, { requestTimeoutMs: 30_000 })
    const events: string[] = []
    for (const e of ['failover-start', 'notified', 'reconnected', 'replayed', 'registered']) client.on(e, () => events.push(e))
    await client.start()
    await new Promise<void>((resolve) => (client.witnessNodeIp ? resolve() : client.once('registered', () => resolve())))
    t.not(client.witnessNodeIp, client.dataNodeIp, 'registered with another node than the data node')
    const handle = await client.open(`ledger-${fault}.bin`)
    const ledger: Ledger[] = []
    let stop = false
    const loop = writeLoop(client, handle, ledger, () => stop)
    t.ok(await until(() => ledger.length >= 20), 'the client wrote before the fault')
    const before = ledger.length
    if (fault === 'kill') cluster.kill(dataNode)
    else cluster.pause(dataNode)
    const moved = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000)
      client.once('reconnected', () => {
        clearTimeout(timer)
        resolve(true)
      })
    })
    t.ok(moved, 'the client reconnected')
    const after = ledger.length
    await until(() => ledger.length >= after + 20)
    stop = true
    await loop
    t.ok(ledger.length > after, `writes went on after the failover (${before} before, ${ledger.length} in all)`)
    t.not(client.dataNodeIp, cluster.nodeConfig(dataNode).clientAddress, 'on another node')
    t.ok(events.includes('notified'), 'the witness notified it')
    if (fault === 'pause') cluster.resume(dataNode)
    const file = readFileSync(join(cluster.dir, 'storage', 'csv-1', 'share-1', `ledger-${fault}.bin`))
    const missing = ledger.filter((l) => createHash('sha256').update(file.subarray(l.offset, l.offset + l.length)).digest('hex') !== l.sha)
    t.same(missing, [], 'every acknowledged write is in the file')
  })
}

t.test('the data path is the SMB 2/3 wire: SESSION_SETUP with PreviousSessionId and DH2C on the survivor, nothing on the gRPC SMB front', async (t) => {
  const { cluster, dataNode, client } = await clientOnCsvOwner(t, { requestTimeoutMs: 30_000 })
  await client.start()
  const handle = await client.open('wire/proof.bin')
  await client.write(handle, 0, Buffer.from('before the kill'))
  const fileId = handle.fileId.persistent
  const reconnected = new Promise<{ to: string }>((resolve) => client.once('reconnected', resolve))
  cluster.kill(dataNode)
  // A killed node's connection closes: the write that finds it so starts the failover and is replayed.
  await client.write(handle, 15, Buffer.from(', after it'))
  const to = (await reconnected).to
  t.not(to, cluster.nodeConfig(dataNode).clientAddress, 'moved to another node')
  t.equal(handle.fileId.persistent, fileId, 'the same persistent open (DH2C), a new volatile id')
  t.same(await client.read(handle, 0, 25), Buffer.from('before the kill, after it'), 'its bytes read back through the new node')
  t.equal(await client.size(handle), 25, 'QUERY_INFO end of file')
  await client.setSize(handle, 4096)
  t.equal(await client.size(handle), 4096, 'SET_INFO end of file')
  t.same((await client.list('wire')).map((e) => [e.name, e.directory, e.endOfFile]), [['proof.bin', false, 4096]], 'QUERY_DIRECTORY')
  await client.close(handle)
  const survivor = cluster.config.nodes.find((n) => n.clientAddress === to)!.id
  const lines = cluster.config.nodes.flatMap((n) => readLog(cluster.dir, n.id))
  const survivorLines = readLog(cluster.dir, survivor)
  t.ok(survivorLines.some((l) => l.event === 'smb2.session.reclaimed'), 'SESSION_SETUP with the PreviousSessionId of the dead node\'s session, on the wire')
  t.ok(lines.some((l) => l.event === 'handle.reconnected' && l.persistentId === fileId), 'the persistent handle reconnected (DH2C)')
  t.ok(survivorLines.some((l) => l.event === 'smb2.tree.connect' && l.share === 'share-1'), 'TREE_CONNECT on the wire')
  t.same(lines.filter((l) => l.component === 'smb' && String(l.event).startsWith('smb.session')), [], 'no session on the gRPC SMB front')
})

t.test('kill of the witness node: the client registers with another and keeps writing', async (t) => {
  const { cluster, dataNode, client } = await clientOnCsvOwner(t)
  const registered: string[] = []
  client.on('registered', (e: { witness: string }) => registered.push(e.witness))
  await client.start()
  while (registered.length === 0) await new Promise((r) => setTimeout(r, 20))
  const witnessIp = registered[0]
  const witnessNode = cluster.config.nodes.find((n) => n.clientAddress === witnessIp)!.id
  const handle = await client.open('witness-kill.bin')
  cluster.kill(witnessNode)
  const deadline = Date.now() + 15_000
  while (registered.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.equal(registered.length, 2, 'registered again')
  t.not(registered[1], witnessIp, 'with another node')
  t.not(registered[1], client.dataNodeIp, 'not its data node')
  await client.write(handle, 0, Buffer.from('still writing'))
  t.same(await client.read(handle, 0, 13), Buffer.from('still writing'))
  t.equal(client.dataNodeIp, cluster.nodeConfig(dataNode).clientAddress, 'the data path never moved')
})

t.test('pause of the witness node: AsyncNotify gives up after the keep-alive and the client registers with another', async (t) => {
  // A frozen witness answers nothing and its TCP connection stays up: only the client's own
  // deadline (keep-alive + slack) notices it.
  const { cluster, client } = await clientOnCsvOwner(t, { keepAliveTimeoutS: 1 })
  const registered: string[] = []
  client.on('registered', (e: { witness: string }) => registered.push(e.witness))
  await client.start()
  t.ok(await until(() => registered.length > 0), 'registered')
  const witnessIp = registered[0]
  const witnessNode = cluster.config.nodes.find((n) => n.clientAddress === witnessIp)!.id
  cluster.pause(witnessNode)
  t.teardown(() => {
    try {
      cluster.resume(witnessNode)
    } catch {
      // the cluster is down already
    }
  })
  t.ok(await until(() => registered.some((ip) => ip !== witnessIp), 30_000), 'registered with another node')
  t.not(registered.at(-1), client.dataNodeIp, 'not its data node')
})

t.test('swlab client run prints its failover and finds no lost write', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const { spawn } = await import('node:child_process')
  const { CLI } = await import('../helpers/cluster-fixture.js')
  const child = spawn(process.execPath, [CLI, 'client', 'run', '--dir', cluster.dir, '--node', 'node-1', '--duration', '6', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => (out += b))
  child.stderr.on('data', (b: Buffer) => (err += b))
  t.teardown(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  // Kill the data node only once the client is writing (its ledger grows).
  const { existsSync } = await import('node:fs')
  const ledger = join(cluster.dir, 'clients', `cli-${child.pid}.ledger.ndjson`)
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && !(existsSync(ledger) && readFileSync(ledger, 'utf8').split('\n').length > 20)) {
    await new Promise((r) => setTimeout(r, 25))
  }
  cluster.kill('node-1')
  const code = await exited
  t.equal(code, 0, err)
  const result = JSON.parse(out)
  t.ok(result.writes > 0, `${result.writes} writes`)
  t.equal(result.failovers.length, 1, 'one failover')
  t.equal(result.failovers[0].from, cluster.nodeConfig('node-1').clientAddress)
  t.same(result.lost, [], 'no acknowledged write lost')
  t.same(result.errors, [])
})
