// The witness-driven failover client against real node kills and freezes: its writes go on
// on a surviving node, and every acknowledged write is in the file with its bytes.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FailoverClient } from '../../client/failover-client.js'
import type { Cluster } from '../../cluster/cluster.js'
import { upCluster } from '../helpers/cluster-fixture.js'

function resolver(cluster: Cluster) {
  return () => cluster.config.nodes.map((n) => ({ ip: n.clientAddress, smbPort: n.smbPort, witnessPort: n.witnessPort }))
}

interface Ledger {
  offset: number
  length: number
  sha: string
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

for (const fault of ['kill', 'pause'] as const) {
  t.test(`${fault} of the data node: writes go on elsewhere, none lost`, async (t) => {
    const cluster = await upCluster(t, { nodes: 3 })
    const status = await cluster.waitFor((s) => s.csvs.every((c) => c.servedBy.length === 1), 10_000)
    const dataNode = status.csvs.find((c) => c.name === 'csv-1')!.owner
    const client = new FailoverClient({
      resolve: resolver(cluster),
      netName: 'SOFS',
      share: 'share-1',
      credential: cluster.credentials()!.users[0],
      preferredIp: cluster.nodeConfig(dataNode).clientAddress,
      requestTimeoutMs: 30_000,
    })
    t.teardown(() => client.stop())
    const events: string[] = []
    for (const e of ['failover-start', 'notified', 'reconnected', 'replayed', 'registered']) client.on(e, () => events.push(e))
    await client.start()
    await new Promise<void>((resolve) => (client.witnessNodeIp ? resolve() : client.once('registered', () => resolve())))
    t.not(client.witnessNodeIp, client.dataNodeIp, 'registered with another node than the data node')
    const handle = await client.open(`ledger-${fault}.bin`)
    const ledger: Ledger[] = []
    let stop = false
    const loop = writeLoop(client, handle, ledger, () => stop)
    await new Promise((r) => setTimeout(r, 300))
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
    await new Promise((r) => setTimeout(r, 500))
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
