// More failover scenarios of the witness client, each checked against its ledger: a
// partition of the data node, planned CLIENT_MOVE and SHARE_MOVE, two nodes failing one after
// the other on a 5-node cluster, and the data node dying while the client's witness node is
// the one that becomes leader.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { FailoverClient, type FailoverHandle } from '../../client/failover-client.js'
import type { Cluster } from '../../cluster/cluster.js'
import { upCluster } from '../helpers/cluster-fixture.js'

interface Run {
  client: FailoverClient
  handle: FailoverHandle
  ledger: Map<number, string>
  acks: () => number
  stop: () => Promise<void>
  moves: string[]
}

async function startWriting(t: Test, cluster: Cluster, dataNode: string, file: string, preferredWitness?: string): Promise<Run> {
  const client = new FailoverClient({
    resolve: () => cluster.addresses(),
    netName: 'SOFS',
    share: 'share-1',
    credential: cluster.credentials()!.users[0],
    preferredIp: cluster.nodeConfig(dataNode).clientAddress,
    clientName: `scenario-${file}`,
    preferredWitnessIp: preferredWitness ? cluster.nodeConfig(preferredWitness).clientAddress : undefined,
  })
  t.teardown(() => client.stop())
  const moves: string[] = []
  client.on('reconnected', (e: { cause: string; to: string }) => moves.push(`${e.cause}->${e.to}`))
  let registered = false
  client.once('registered', () => (registered = true))
  await client.start()
  for (let i = 0; i < 500 && !registered; i++) await new Promise((r) => setTimeout(r, 20))
  const handle = await client.open(file)
  const ledger = new Map<number, string>()
  let stopped = false
  let count = 0
  const loop = (async () => {
    for (let i = 0; !stopped && i < 1_000_000; i++) {
      const block = Buffer.alloc(4096, i % 251)
      block.writeUInt32LE(i, 0)
      await client.write(handle, (i % 2048) * 4096, block)
      ledger.set((i % 2048) * 4096, createHash('sha256').update(block).digest('hex'))
      count++
    }
  })()
  return {
    client,
    handle,
    ledger,
    moves,
    acks: () => count,
    stop: async () => {
      stopped = true
      await loop
    },
  }
}

async function verify(t: Test, run: Run): Promise<void> {
  const bad: number[] = []
  for (const [offset, sha] of run.ledger) {
    const data = await run.client.read(run.handle, offset, 4096)
    if (createHash('sha256').update(data).digest('hex') !== sha) bad.push(offset)
  }
  t.same(bad, [], 'every acknowledged write is in the file with its bytes')
}

async function waitFor(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 20))
  }
  return true
}

async function csv1Owner(cluster: Cluster): Promise<string> {
  const s = await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  return s.csvs.find((c) => c.name === 'csv-1')!.owner
}

t.test('partition of the data node', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const data = await csv1Owner(cluster)
  const run = await startWriting(t, cluster, data, 'partition.bin')
  await waitFor(() => run.acks() > 10, 5000)
  await cluster.partition([[data], cluster.config.nodes.map((n) => n.id).filter((id) => id !== data)])
  t.ok(await waitFor(() => run.moves.length > 0, 15_000), `moved: ${run.moves.join(', ')}`)
  const after = run.acks()
  t.ok(await waitFor(() => run.acks() > after + 10, 10_000), 'writes go on')
  await run.stop()
  await cluster.heal()
  await verify(t, run)
})

t.test('planned CLIENT_MOVE and SHARE_MOVE move the client without an error', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const data = await csv1Owner(cluster)
  const run = await startWriting(t, cluster, data, 'moves.bin')
  await waitFor(() => run.acks() > 10, 5000)
  const others = cluster.config.nodes.map((n) => n.id).filter((id) => id !== data)
  const witnessNode = cluster.config.nodes.find((n) => n.clientAddress === run.client.witnessNodeIp)!.id
  const moveTo = others.find((id) => id !== witnessNode) ?? others[0]
  const reply = await cluster.admin(witnessNode).witnessAction({ action: 'client-move', filter: { clientComputerName: '^scenario-moves' }, newNode: moveTo })
  t.equal(reply.affected, 1)
  t.ok(await waitFor(() => run.moves.some((m) => m.startsWith('client-move')), 10_000), `CLIENT_MOVE: ${run.moves.join(', ')}`)
  t.equal(run.client.dataNodeIp, cluster.nodeConfig(moveTo).clientAddress, 'on the destination')
  // SHARE_MOVE: the CSV behind share-1 moves; the client follows it.
  const owner = await csv1Owner(cluster)
  const newOwner = cluster.config.nodes.map((n) => n.id).find((id) => id !== owner && cluster.nodeConfig(id).clientAddress !== run.client.dataNodeIp)!
  const before = run.moves.length
  await cluster.moveCsv('csv-1', newOwner)
  t.ok(await waitFor(() => run.moves.length > before, 10_000), `SHARE_MOVE: ${run.moves.join(', ')}`)
  const after = run.acks()
  t.ok(await waitFor(() => run.acks() > after + 10, 10_000), 'writes go on')
  await run.stop()
  await verify(t, run)
})

t.test('two nodes failing one after the other on a 5-node cluster', async (t) => {
  const cluster = await upCluster(t, { nodes: 5 })
  const data = await csv1Owner(cluster)
  const run = await startWriting(t, cluster, data, 'five.bin')
  await waitFor(() => run.acks() > 10, 5000)
  cluster.kill(data)
  t.ok(await waitFor(() => run.moves.length >= 1, 15_000), 'first failover')
  await waitFor(() => run.acks() > 30, 10_000)
  const second = cluster.config.nodes.find((n) => n.clientAddress === run.client.dataNodeIp)!.id
  cluster.kill(second)
  t.ok(await waitFor(() => run.moves.length >= 2, 15_000), `second failover: ${run.moves.join(', ')}`)
  const after = run.acks()
  t.ok(await waitFor(() => run.acks() > after + 10, 10_000), 'writes go on')
  await run.stop()
  await verify(t, run)
})

t.test('the data node dies while the witness node becomes the new leader', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  // Make the data node the leader, so that its death elects another, and register the client
  // with the survivor expected to win: elections are spaced by (node index + term) mod N, the
  // survivor with the smallest spacing runs first. Which survivor sees the leader's process
  // gone first also counts (each notices on its next peer call, up to an interval apart, more
  // than the spacing's step), so the other one wins at times (about one run in two, measured):
  // then the scenario did not happen, and it is tried again, at most ATTEMPTS times (all ten
  // missing: ~0.1 %).
  const ATTEMPTS = 10
  const ids = cluster.config.nodes.map((n) => n.id)
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let s = await cluster.waitFor((st) => st.quorum && st.nodes.every((n) => n.serving) && st.csvs.every((c) => c.servedBy.length === 1), 30_000)
    const leader = s.leader
    if (s.csvs.find((c) => c.name === 'csv-1')!.owner !== leader) {
      await cluster.moveCsv('csv-1', leader)
      s = await cluster.waitFor((st) => st.leader === leader && st.csvs.some((c) => c.name === 'csv-1' && c.servedBy.length === 1 && c.servedBy[0] === leader), 10_000)
    }
    const survivors = ids.filter((id) => id !== leader)
    const next = survivors.sort((a, b) => ((ids.indexOf(a) + s.term) % ids.length) - ((ids.indexOf(b) + s.term) % ids.length))[0]
    const run = await startWriting(t, cluster, leader, `leader-${attempt}.bin`, next)
    await waitFor(() => run.acks() > 10, 5000)
    const witnessNode = cluster.config.nodes.find((n) => n.clientAddress === run.client.witnessNodeIp)!.id
    t.equal(witnessNode, next, 'registered with the node expected to lead')
    cluster.kill(leader)
    t.ok(await waitFor(() => run.moves.length >= 1, 15_000), `failover: ${run.moves.join(', ')}`)
    const after = run.acks()
    t.ok(await waitFor(() => run.acks() > after + 10, 10_000), 'writes go on')
    const now = await cluster.status()
    await run.stop()
    await verify(t, run)
    if (now.leader === witnessNode) {
      t.pass(`the witness node ${witnessNode} is the new leader (attempt ${attempt})`)
      return
    }
    t.comment(`attempt ${attempt}: ${now.leader} was elected, not the witness node ${witnessNode}; again`)
    await cluster.start(leader, 30_000)
  }
  t.fail(`the witness node never became the new leader in ${ATTEMPTS} attempts`)
})

t.test('IP_CHANGE takes an offline node out of the failover targets and brings it back online', async (t) => {
  const cluster = await upCluster(t, { nodes: 5 })
  const data = await csv1Owner(cluster)
  const ids = cluster.config.nodes.map((n) => n.id)
  const others = ids.filter((id) => id !== data)
  const witnessNode = others[others.length - 1]
  // The node the client would try first after its data node dies, were it not offline.
  const offlineNode = others[0]
  const offlineIp = cluster.nodeConfig(offlineNode).clientAddress
  const run = await startWriting(t, cluster, data, 'ipchange.bin', witnessNode)
  t.equal(run.client.witnessNodeIp, cluster.nodeConfig(witnessNode).clientAddress, 'registered with the chosen witness node')
  const changes: { online: string[]; offline: string[] }[] = []
  run.client.on('ip-change', (e: { online: string[]; offline: string[] }) => changes.push(e))
  const attempts: string[] = []
  run.client.on('failover-attempt', (e: { to: string }) => attempts.push(e.to))
  await waitFor(() => run.acks() > 10, 5000)

  cluster.kill(offlineNode)
  t.ok(await waitFor(() => run.client.offlineAddresses.includes(offlineIp), 15_000), `IP_CHANGE lists ${offlineIp} OFFLINE`)
  t.ok(changes.some((c) => c.offline.includes(offlineIp)), 'ip-change event names the address')
  await cluster.start(offlineNode, 30_000)
  t.ok(await waitFor(() => !run.client.offlineAddresses.includes(offlineIp), 15_000), `IP_CHANGE lists ${offlineIp} ONLINE again`)
  cluster.kill(offlineNode)
  t.ok(await waitFor(() => run.client.offlineAddresses.includes(offlineIp), 15_000), 'offline again after a second kill')

  cluster.kill(data)
  t.ok(await waitFor(() => run.moves.length >= 1, 15_000), `failover: ${run.moves.join(', ')}`)
  t.notOk(attempts.includes(offlineIp), `no reconnect attempt at the offline node (attempts: ${attempts.join(', ')})`)
  const after = run.acks()
  t.ok(await waitFor(() => run.acks() > after + 10, 10_000), 'writes go on')
  await run.stop()
  await verify(t, run)
})
