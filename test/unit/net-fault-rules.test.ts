// Network faults as nftables rules (cluster/net-fault-rules.ts): the per-pair peer link
// addresses, the rules a partition and each kind of cut become, the problems refused, the
// config's network field; and, as root with nft, that the script is one nft accepts.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { validateConfig, type ClusterConfig } from '../../cluster/config.js'
import { cutProblem, delayedLinks, nftNatRulesOf, nftRulesOf, nftScript, peerLinkAddress, relayLinkAddress } from '../../cluster/net-fault-rules.js'

const node = (i: number, extra: Record<string, number> = {}) => ({
  id: `node-${i}`,
  clientAddress: `127.0.1.${i}`,
  clusterAddress: `127.0.2.${i}`,
  peerPort: 1000 + 10 * i,
  adminPort: 1001 + 10 * i,
  witnessPort: 1002 + 10 * i,
  smbPort: 1003 + 10 * i,
  dcerpcPort: 1004 + 10 * i,
  smb2Port: 445,
  ...extra,
})

const BASE = {
  name: 'SOFS',
  dir: '/tmp/x',
  profile: 'fast',
  nodes: [node(1), node(2), node(3)],
  csvs: ['csv-1'],
  witness: { kind: 'none' },
  network: { namespace: 'swlab-0123456789ab' },
}

function config(): ClusterConfig {
  const r = validateConfig(BASE)
  if (!r.ok) throw new Error(r.error)
  return r.config
}

t.test('config: network is absent by default, a namespace name when given', async (t) => {
  const { network, ...plain } = BASE
  const without = validateConfig(plain)
  t.ok(without.ok && without.config.network === undefined, 'absent without --netns')
  t.same(config().network, network, 'kept when given')
  for (const bad of [{}, { namespace: '' }, { namespace: '../etc' }, { namespace: 'a b' }, 'swlab-1', null]) {
    t.notOk(validateConfig({ ...BASE, network: bad }).ok, `${JSON.stringify(bad)} refused`)
  }
})

t.test('peer link addresses: one per ordered pair of nodes, by position', async (t) => {
  const nodes = config().nodes
  const seen = new Set<string>()
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b) continue
      seen.add(peerLinkAddress(nodes, a.id, b.id))
    }
  }
  t.equal(seen.size, 6, 'six distinct addresses for 3 nodes')
  t.equal(peerLinkAddress(nodes, 'node-1', 'node-2'), '127.5.1.2')
  t.equal(peerLinkAddress(nodes, 'node-2', 'node-1'), '127.5.2.1', 'the other direction is another address')
  t.throws(() => peerLinkAddress(nodes, 'node-1', 'node-1'), 'no link to itself')
  t.throws(() => peerLinkAddress(nodes, 'node-1', 'node-9'), 'no link to an unknown node')
})

t.test('a partition drops every peer link between its groups, both ways, and nothing else', async (t) => {
  const rules = nftRulesOf(config(), { partitions: [['node-1'], ['node-2', 'node-3']], cuts: [] })
  t.same(rules, [
    'ip daddr 127.5.1.2 meta l4proto { tcp, udp } th dport 1020 counter drop comment "partition node-1 -> node-2"',
    'ip daddr 127.5.1.3 meta l4proto { tcp, udp } th dport 1030 counter drop comment "partition node-1 -> node-3"',
    'ip daddr 127.5.2.1 meta l4proto { tcp, udp } th dport 1010 counter drop comment "partition node-2 -> node-1"',
    'ip daddr 127.5.3.1 meta l4proto { tcp, udp } th dport 1010 counter drop comment "partition node-3 -> node-1"',
  ])
  t.notOk(rules.some((r) => r.includes('127.5.2.3') || r.includes('127.5.3.2')), 'node-2 and node-3 still reach each other')
  t.same(nftRulesOf(config(), { partitions: [], cuts: [] }), [], 'healed: no rule')
})

t.test('cuts: one direction between nodes; from a client address, on one port or all', async (t) => {
  const c = config()
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: 'node-2', to: 'node-3', port: 'peer' }] }), ['ip daddr 127.5.2.3 meta l4proto { tcp, udp } th dport 1030 counter drop comment "cut node-2 -> node-3 peer"'])
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: '127.0.4.1', to: 'node-2', port: 'witness' }] }), [
    'ip saddr 127.0.4.1 ip daddr 127.0.1.2 tcp dport { 1022, 1024 } counter drop comment "cut 127.0.4.1 -> node-2 witness"',
  ])
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: '127.0.4.1', to: 'node-2', port: 'smb2' }] }), [
    'ip saddr 127.0.4.1 ip daddr 127.0.1.2 tcp dport 445 counter drop comment "cut 127.0.4.1 -> node-2 smb2"',
  ])
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: '127.0.4.1', to: 'node-2', port: 'all' }] }), ['ip saddr 127.0.4.1 ip daddr 127.0.1.2 counter drop comment "cut 127.0.4.1 -> node-2 all"'])
})

t.test('loss: the same match, dropping a random share of the packets', async (t) => {
  const c = config()
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: 'node-1', to: 'node-2', port: 'peer', lossPercent: 20 }] }), [
    'ip daddr 127.5.1.2 meta l4proto { tcp, udp } th dport 1020 numgen random mod 100 < 20 counter drop comment "loss 20% node-1 -> node-2 peer"',
  ])
  t.same(nftRulesOf(c, { partitions: [], cuts: [{ from: '127.0.4.3', to: 'node-3', port: 'smb2', lossPercent: 5 }] }), [
    'ip saddr 127.0.4.3 ip daddr 127.0.1.3 tcp dport 445 numgen random mod 100 < 5 counter drop comment "loss 5% 127.0.4.3 -> node-3 smb2"',
  ])
  for (const bad of [0, 100, 12.5, -3]) t.match(cutProblem(c, { from: 'node-1', to: 'node-2', port: 'peer', lossPercent: bad }), /whole percentage from 1 to 99/, `${bad}% refused`)
})

t.test('cuts the rules cannot express are refused in one line', async (t) => {
  const c = config()
  t.equal(cutProblem(c, { from: 'node-1', to: 'node-2', port: 'peer' }), null)
  t.equal(cutProblem(c, { from: '127.0.4.7', to: 'node-2', port: 'witness' }), null)
  t.match(cutProblem(c, { from: 'node-1', to: 'node-1', port: 'peer' }), /two different nodes/)
  t.match(cutProblem(c, { from: 'node-1', to: 'node-9', port: 'peer' }), /unknown node id node-9/)
  t.match(cutProblem(c, { from: 'node-1', to: 'node-2', port: 'witness' }), /peer port only/)
  t.match(cutProblem(c, { from: '127.0.4.7', to: 'node-2', port: 'peer' }), /<from> must be a node id/)
  t.match(cutProblem(c, { from: '10.0.0.1', to: 'node-2', port: 'all' }), /loopback IPv4/)
  t.match(cutProblem(c, { from: '127.0.4.300', to: 'node-2', port: 'all' }), /loopback IPv4/)
  t.match(cutProblem(c, { from: 'node-1', to: 'node-2', port: 'udp' as never }), /--port must be one of/)
})

t.test('a delay sends the node\'s links through the relay; cuts of them drop the relay address too', async (t) => {
  const c = config()
  const faults = { partitions: [['node-1'], ['node-2', 'node-3']], cuts: [], delays: { 'node-2': 100, 'node-3': 0 } }
  t.same(delayedLinks(c, faults.delays), [
    { from: 'node-1', to: 'node-2' },
    { from: 'node-2', to: 'node-1' },
    { from: 'node-2', to: 'node-3' },
    { from: 'node-3', to: 'node-2' },
  ], 'both directions of every link of the delayed node, no other')
  t.equal(relayLinkAddress(c.nodes, 'node-1', 'node-2'), '127.6.1.2')
  const nat = nftNatRulesOf(c, faults)
  t.equal(nat.length, 4)
  t.match(nat[0], /^ip daddr 127\.5\.1\.2 ip saddr != 127\.7\.0\.1 counter dnat to 127\.6\.1\.2 /, 'DNAT to the relay, except what the relay sends')
  const rules = nftRulesOf(c, faults)
  t.ok(rules.includes('ip daddr { 127.5.1.2, 127.6.1.2 } meta l4proto { tcp, udp } th dport 1020 counter drop comment "partition node-1 -> node-2"'), 'a partition drops the delayed link at the relay too')
  t.ok(rules.includes('ip daddr 127.5.1.3 meta l4proto { tcp, udp } th dport 1030 counter drop comment "partition node-1 -> node-3"'), 'an undelayed link as before')
  const resets = rules.filter((r) => r.includes('reject with tcp reset'))
  t.equal(resets.length, 4, 'connections made before the delay are reset, once per delayed link')
  t.ok(rules.indexOf(resets[0]) > rules.findIndex((r) => r.includes(' drop ')), 'after the drops: a cut link stays silent')
  t.same(nftNatRulesOf(c, { partitions: [], cuts: [] }), [], 'no delay, no NAT')
  t.notMatch(nftScript(rules), /output-nat/, 'no NAT chain without NAT rules')
  t.match(nftScript(rules, nat), /chain output-nat \{\n    type nat hook output priority -100; policy accept;\n    ip daddr 127\.5\.1\.2/)
})

const root = typeof process.getuid === 'function' && process.getuid() === 0
const haveTools = spawnSync('sh', ['-c', 'command -v nft && command -v unshare'], { encoding: 'utf8' }).status === 0
const skipNft = !root ? 'needs root (nft in a private network namespace)' : !haveTools ? 'needs nft (Debian package nftables) and unshare' : false

t.test('nft accepts the script (root with nft, in a throwaway namespace)', { skip: skipNft }, async (t) => {
  const rules = nftRulesOf(config(), {
    partitions: [['node-1'], ['node-2', 'node-3']],
    cuts: [
      { from: 'node-2', to: 'node-3', port: 'peer' },
      { from: '127.0.4.1', to: 'node-2', port: 'witness' },
      { from: '127.0.4.1', to: 'node-3', port: 'all' },
      { from: 'node-3', to: 'node-1', port: 'peer', lossPercent: 30 },
    ],
  })
  // Applied twice: the script replaces the table whether it exists or not.
  const script = nftScript(rules)
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'nft -f /dev/stdin <<EOF\n' + script + 'EOF\nnft -f /dev/stdin <<EOF\n' + script + 'EOF\nnft list table inet swlab'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.split('\n').filter((l) => / drop /.test(l)).length, rules.length, 'every rule in force, once')
})

t.test('nft accepts a script with delays (NAT chain; root with nft, in a throwaway namespace)', { skip: skipNft }, async (t) => {
  const faults = { partitions: [['node-1'], ['node-2', 'node-3']], cuts: [{ from: '127.0.4.1', to: 'node-2', port: 'all' as const }], delays: { 'node-3': 50 } }
  const rules = nftRulesOf(config(), faults)
  const nat = nftNatRulesOf(config(), faults)
  const script = nftScript(rules, nat)
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'nft -f /dev/stdin <<EOF\n' + script + 'EOF\nnft -f /dev/stdin <<EOF\n' + script + 'EOF\nnft list table inet swlab'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.equal(r.stdout.split('\n').filter((l) => / (drop|reject|dnat) /.test(l)).length, rules.length + nat.length, 'every rule in force, once')
})
