// The witness conformance suite (client/conformance/witness-cases.ts) against real
// multi-process clusters, one per server profile; each WPTS-named case is one tap test.
import t from 'tap'
import { Cluster } from '../../../cluster/cluster.js'
import { clusterHooks } from '../../../client/conformance/cluster-hooks.js'
import { runWitnessConformance, type ServerProfile } from '../../../client/conformance/witness-cases.js'
import { upCluster } from '../../helpers/cluster-fixture.js'

async function suite(t: Tap, cluster: Cluster, profile: ServerProfile, target = 'node-2'): Promise<void> {
  const node = cluster.nodeConfig(target)
  const creds = cluster.credentials()
  if (!creds) throw new Error('no credentials')
  const results = await runWitnessConformance({
    endpoint: `${node.clientAddress}:${node.witnessPort}`,
    credential: creds.users[0],
    otherCredential: creds.users[1],
    netName: cluster.config.name,
    shareName: cluster.config.shares[0].name,
    profile,
    hooks: clusterHooks(cluster, target),
    keepAliveTimeoutS: 2,
  })
  t.ok(results.length > 0, `${results.length} cases`)
  for (const r of results) {
    if (r.result === 'skip') t.pass(r.name, { skip: r.detail })
    else t.equal(r.result, 'pass', `${r.name}${r.detail ? `: ${r.detail}` : ''} (${r.durationMs} ms)`)
  }
}

type Tap = typeof t

for (const profile of ['ws2012r2', 'samba', 'ws2012'] as const) {
  t.test(`MS-SWN conformance, ${profile} profile, 3 nodes`, async (t) => {
    const cluster = await upCluster(t, { nodes: 3, witnessProfile: profile })
    await suite(t as unknown as Tap, cluster, profile)
  })
}

t.test('MS-SWN conformance, 2 nodes with a file-share witness (single-node cases)', async (t) => {
  const cluster = await upCluster(t, { nodes: 2, witness: 'file' })
  await cluster.waitFor((s) => s.witness.holder === s.leader, 10_000)
  await suite(t as unknown as Tap, cluster, 'ws2012r2', 'node-1')
})
