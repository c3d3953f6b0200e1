// Partitions and delays applied by the nodes' peer transport, visible in status; the same
// partitions as nftables rules in the cluster's own network namespace (`--netns`, root).
import t from 'tap'
import { upCluster } from '../helpers/cluster-fixture.js'
import { namespaceProblem } from '../../cluster/network-namespace.js'

const netnsProblem = namespaceProblem()
/** Each test once with self-applied faults, once (where it can) with nftables rules. */
const MODES = [
  { netns: false, name: 'self-applied', skip: false as const },
  { netns: true, name: 'nftables (--netns)', skip: netnsProblem ? `--netns ${netnsProblem}` : (false as const) },
]

for (const mode of MODES) t.test(`partition node-1 / node-2,node-3 and heal: ${mode.name}`, { skip: mode.skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: mode.netns })
  await cluster.waitFor((s) => s.csvs.every((c) => c.servedBy.length === 1), 10_000)
  await cluster.partition([['node-1'], ['node-2', 'node-3']])
  let s = await cluster.waitFor((st) => {
    const n1 = st.nodes.find((n) => n.id === 'node-1')
    return st.quorum && !!n1 && !n1.quorum && st.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] !== 'node-1')
  }, 10_000)
  const n1 = s.nodes.find((n) => n.id === 'node-1')!
  t.equal(n1.quorum, false, 'node-1 has no quorum')
  t.equal(n1.serving, false, 'node-1 serves nothing')
  t.same(n1.servingCsvs, [])
  if (mode.netns) t.same(n1.partitionedFrom, [], 'no node was told of the partition: the kernel drops the packets')
  else t.same([...n1.partitionedFrom].sort(), ['node-2', 'node-3'], 'the partition is visible in status')
  t.ok(['node-2', 'node-3'].includes(s.leader), `the majority has the leader (${s.leader})`)
  t.ok(s.csvs.every((c) => c.owner === 'node-2' || c.owner === 'node-3'), 'the majority owns every CSV')
  await cluster.heal()
  s = await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving && n.partitionedFrom.length === 0), 10_000)
  t.pass('heal brings node-1 back')
  await cluster.delay('node-2', 40)
  s = await cluster.status()
  t.same(s.nodes.find((n) => n.id === 'node-2')?.delayMs, { 'node-1': 40, 'node-3': 40 }, 'the delay is visible in status')
  t.equal(s.quorum, true, 'a 40 ms delay keeps the cluster quorate')
})

// Under --netns with the file witness only: the cloud witness's case adds nothing to the network's.
for (const [witness, mode] of [['file', MODES[0]], ['cloud', MODES[0]], ['file', MODES[1]]] as const) {
  t.test(`4 nodes split 2/2: only the side that wins the ${witness} witness runs: ${mode.name}`, { skip: mode.skip }, async (t) => {
    const cluster = await upCluster(t, { nodes: 4, witness, netns: mode.netns })
    // Once the leader renews the witness lease it holds it; a candidate that lost the first
    // election may hold it for one lease period before that.
    let s = await cluster.waitFor((st) => st.witness.holder === st.leader && st.csvs.every((c) => c.servedBy.length === 1), 10_000)
    const winner = [s.leader, s.nodes.find((n) => n.id !== s.leader)!.id]
    const loser = s.nodes.map((n) => n.id).filter((id) => !winner.includes(id))
    await cluster.partition([winner, loser])
    s = await cluster.waitFor(
      (st) =>
        winner.every((id) => st.nodes.find((n) => n.id === id)?.quorum) &&
        loser.every((id) => !st.nodes.find((n) => n.id === id)?.quorum) &&
        st.csvs.every((c) => c.servedBy.length === 1 && winner.includes(c.servedBy[0])),
      15_000,
    )
    t.ok(winner.includes(s.leader), `leader ${s.leader} is on the witness side`)
    t.ok(winner.includes(s.witness.holder), `witness held by ${s.witness.holder}`)
    for (const id of loser) t.equal(s.nodes.find((n) => n.id === id)?.serving, false, `${id} serves nothing`)
    await cluster.heal()
    await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
    t.pass('healed')
  })
}
