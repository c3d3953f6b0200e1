// `cluster up --netns`: the cluster in a network namespace of its own, its partitions and cuts
// nftables rules applied by the harness, invisible to the nodes' own code. Skips with the
// reason where the namespace cannot be made (not root, or ip, nsenter or nft missing). Clients
// in a namespaced cluster: netns-clients.test.ts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'
import { createNamespace, deleteNamespace, namespaceExists, namespaceNameFor, namespaceProblem } from '../../cluster/network-namespace.js'
import { processState, waitUntil } from '../../cluster/processes.js'
import { captureProblem } from '../../cluster/packet-capture.js'
import { freshDir, swlab, upCluster } from '../helpers/cluster-fixture.js'

const problem = namespaceProblem()
/** A rule as nft lists it, without its packet and byte counts (they grow while the rule is in force). */
const withoutCounter = (rule: string): string => rule.replace(/counter packets \d+ bytes \d+ /, 'counter ')
const skip = problem ? `--netns ${problem}` : false

t.test('a partition applied by nftables only: the majority takes over, heal brings the node back', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: true })
  let s = await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  const namespace = s.network?.namespace ?? ''
  t.match(namespace, /^swlab-[0-9a-f]{12}$/, 'status names the namespace')
  t.equal(s.network?.faults, 'nftables')
  t.ok(namespaceExists(namespace), `/run/netns/${namespace} exists`)
  t.equal(JSON.parse(readFileSync(join(cluster.dir, 'run.json'), 'utf8')).netns, namespace, 'the run state records it')

  const applied = await cluster.partition([['node-1'], ['node-2', 'node-3']])
  t.equal(applied.applied, 'nftables')
  t.equal(applied.rules.length, 4, 'one rule per direction of each cut peer link')
  t.ok(applied.rules.every((r) => /^ip daddr 127\.5\.\d\.\d meta l4proto \{ tcp, udp \} th dport \d+ counter packets \d+ bytes \d+ drop/.test(r)), 'rules on the peer link addresses')
  s = await cluster.waitFor((st) => {
    const n1 = st.nodes.find((n) => n.id === 'node-1')
    return st.quorum && !!n1 && n1.state === 'down' && !n1.quorum && st.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] !== 'node-1')
  }, 15_000)
  const n1 = s.nodes.find((n) => n.id === 'node-1')!
  t.equal(n1.serving, false, 'node-1 serves nothing')
  t.ok(['node-2', 'node-3'].includes(s.leader), `the majority has the leader (${s.leader})`)
  t.ok(s.csvs.every((c) => c.owner === 'node-2' || c.owner === 'node-3'), 'the majority owns every CSV')
  t.same(s.network?.rules.map(withoutCounter), applied.rules.map(withoutCounter), 'status shows the rules in force')
  t.ok(s.network?.rules.some((r) => !/counter packets 0 /.test(r)), `and what they dropped: ${s.network?.rules.join('; ')}`)
  // Nothing was configured in any node: their transports drop nothing themselves.
  for (const n of s.nodes) t.same(n.partitionedFrom, [], `${n.id} carries no self-applied partition`)
  for (const n of s.nodes) {
    const reply = await cluster.admin(n.id).status()
    t.notOk(reply.peers.some((p) => p.partitioned), `${n.id}'s peer transport partitions no peer`)
  }
  t.notOk('partitions' in cluster.config, 'the cluster config holds no fault')

  const healed = await cluster.heal()
  t.same(healed, { applied: 'nftables', namespace, rules: [] }, 'heal flushes our table')
  await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
  t.pass('node-1 is back and serving')

  const pids = Object.values(JSON.parse(readFileSync(join(cluster.dir, 'run.json'), 'utf8')).nodes as Record<string, number>)
  await cluster.down()
  t.notOk(namespaceExists(namespace), 'down removes the namespace')
  t.ok(pids.every((pid) => processState(pid) === 'dead'), 'and every node process')
})

t.test('one-way peer cut: the cut node loses the cluster, the other direction still carries', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: true })
  await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  // node-1 can no longer call node-2 or node-3; they still call node-1.
  await cluster.cut('node-1', 'node-2')
  const r = await cluster.cut('node-1', 'node-3', 'peer')
  t.equal(r.rules.length, 2)
  const s = await cluster.waitFor((st) => st.quorum && st.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] !== 'node-1'), 15_000)
  t.ok(s.nodes.filter((n) => n.id !== 'node-1').every((n) => n.quorum), 'node-2 and node-3 keep the quorum')
  await cluster.heal()
  await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
  t.pass('healed')
})

t.test('a failed start leaves no namespace behind', { skip }, async (t) => {
  const dir = freshDir(t)
  await t.rejects(Cluster.up({ dir, nodes: 3, netns: true, smb445: false, timeoutMs: 1 }), /did not become quorate within 1 ms/)
  const run = join(dir, 'run.json')
  t.notOk(existsSync(run), 'no run state')
  t.notOk(namespaceExists(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')).network.namespace), 'no namespace')
})

t.test('an up killed before it wrote cluster.json: cluster down removes the namespace its run state names', { skip }, async (t) => {
  const dir = freshDir(t)
  const namespace = namespaceNameFor(dir)
  t.teardown(() => deleteNamespace(namespace))
  createNamespace(namespace)
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ nodes: {}, helpers: {}, netns: namespace }))
  const down = swlab(['cluster', 'down', '--dir', dir])
  t.equal(down.code, 0, down.stderr)
  t.match(down.stdout, /what a failed cluster up left in .* is gone/)
  t.notOk(namespaceExists(namespace), 'the namespace is gone')
  t.notOk(existsSync(join(dir, 'run.json')), 'and the run state')
})

t.test('the CLI: cluster up --netns, net partition/cut/heal say nftables, commands enter the namespace', { skip }, async (t) => {
  const dir = freshDir(t)
  t.teardown(() => swlab(['cluster', 'down', '--dir', dir]))
  const up = swlab(['cluster', 'up', '--nodes', '3', '--netns', '--no-smb-445', '--dir', dir, '--json'])
  t.equal(up.code, 0, up.stderr)
  const status = JSON.parse(up.stdout) as { network: { namespace: string; faults: string; rules: string[] } }
  t.equal(status.network.faults, 'nftables')
  const partition = swlab(['net', 'partition', 'node-1/node-2,node-3', '--dir', dir, '--json'])
  t.equal(partition.code, 0, partition.stderr)
  t.match(JSON.parse(partition.stdout), { applied: 'nftables', namespace: status.network.namespace, partition: [['node-1'], ['node-2', 'node-3']] })
  const cut = swlab(['net', 'cut', '127.0.4.1', 'node-2', '--port', 'witness', '--dir', dir])
  t.equal(cut.code, 0, cut.stderr)
  t.match(cut.stdout, /cut 127\.0\.4\.1 -> node-2 \(witness\): nftables rules in network namespace swlab-\w+ \(5 in force\)/)
  const text = swlab(['cluster', 'status', '--dir', dir])
  t.match(text.stdout, /partitions and cuts: nftables rules applied by the harness/)
  t.match(text.stdout, /rule: ip saddr 127\.0\.4\.1 ip daddr 127\.0\.1\.2 tcp dport \{ \d+, \d+ \} counter packets \d+ bytes \d+ drop/)
  const delay = swlab(['net', 'delay', 'node-2', '5', '--dir', dir])
  t.match(delay.stdout, /held by the harness's relay in network namespace swlab-\w+/, "a delay says the harness's relay holds it")
  // A command that connects to a node's client address: it only works from inside the namespace.
  const ls = swlab(['smb', 'ls', '//node-2/share-1', '--dir', dir])
  t.equal(ls.code, 0, `smb ls entered the namespace: ${ls.stderr}`)
  // Loss: node-3's heartbeats to node-2 lose half their packets; nft counts what it dropped.
  const loss = swlab(['net', 'loss', 'node-3', 'node-2', '50', '--dir', dir])
  t.equal(loss.code, 0, loss.stderr)
  t.match(loss.stdout, /50% of node-3 -> node-2 dropped: nftables rules in network namespace/)
  t.ok(
    await waitUntil(async () => {
      const s = JSON.parse(swlab(['cluster', 'status', '--dir', dir, '--json']).stdout) as { network: { rules: string[] } }
      return s.network.rules.some((r) => /numgen random mod 100 < 50 counter packets [1-9]\d* /.test(r))
    }, 15_000, 200),
    'the loss rule drops some of the packets',
  )
  const heal = swlab(['net', 'heal', '--dir', dir, '--json'])
  t.match(JSON.parse(heal.stdout), { healed: true, applied: 'nftables', rules: [] })
  const badCut = swlab(['net', 'cut', 'node-1', 'node-2', '--port', 'witness', '--dir', dir])
  t.equal(badCut.code, 1)
  t.match(badCut.stderr, /^swlab: error: nodes reach each other on the peer port only: --port witness needs a client address as <from>\n$/)
  const down = swlab(['cluster', 'down', '--dir', dir])
  t.equal(down.code, 0, down.stderr)
  t.notOk(namespaceExists(status.network.namespace), 'down removes the namespace')
  const refused = swlab(['cluster', 'up', '--nodes', '3', '--netns', '--dir', dir, '--witness', 'cloud', '--cloud-witness-url', 'http://127.0.0.1:1'])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /leave out --cloud-witness-url/)
  t.notOk(namespaceExists(status.network.namespace), 'no namespace made')
})

const pcapSkip = skip || (captureProblem() ? `--pcap: ${captureProblem()}` : false) || (spawnSync('tshark', ['-v']).status !== 0 ? 'tshark is not installed' : false)

t.test('cluster up --netns --pcap records the loopback of the namespace, peer links included', { skip: pcapSkip }, async (t) => {
  const dir = freshDir(t)
  const out = join(dir, 'run.pcapng')
  t.teardown(() => swlab(['cluster', 'down', '--dir', dir]))
  const up = swlab(['cluster', 'up', '--nodes', '3', '--netns', '--no-smb-445', '--pcap', out, '--dir', dir])
  t.equal(up.code, 0, up.stderr)
  // up returned quorate: peer messages already ran on the links. down (which enters the namespace) stops the capture.
  const down = swlab(['cluster', 'down', '--dir', dir])
  t.equal(down.code, 0, down.stderr)
  const fields = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'ip.dst'], { encoding: 'utf8' }).stdout.split('\n')
  t.ok(fields.includes('127.5.1.2'), 'packets to node-2 on its link from node-1')
  t.ok(fields.includes('127.0.2.1'), "and to node-1's cluster address (the flush marker of the stop, from inside)")
})

t.test('without --netns the old self-applied faults remain, and say so', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const s = await cluster.status()
  t.same(s.network, { namespace: null, faults: 'self-applied', rules: [], delays: 'self-applied', delayMs: {} })
  const r = await cluster.partition([['node-1'], ['node-2', 'node-3']])
  t.same(r, { applied: 'self-applied', namespace: null, rules: [] })
  await t.rejects(cluster.cut('node-1', 'node-2'), /net cut needs a cluster in a network namespace/)
  t.same(await cluster.heal(), { applied: 'self-applied', namespace: null, rules: [] })
  t.same(await cluster.delay('node-2', 5), { applied: 'self-applied', namespace: null, rules: [] }, 'a delay is the nodes\' own')
  t.same((await cluster.status()).network?.delayMs, { 'node-2': 5 })
})
