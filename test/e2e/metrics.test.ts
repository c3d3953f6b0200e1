// Prometheus metrics on real nodes: every node serves /metrics on its client address (the URL
// is in `cluster status`), and after a witness-driven failover the counters show it: a CSV
// failover on the leader, a RESOURCE_CHANGE notification on the client's witness node, a
// client failover (session reclaimed) on the node it moved to, and SMB operations timed.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { FailoverClient } from '../../client/failover-client.js'
import { upCluster, swlab } from '../helpers/cluster-fixture.js'

function scrape(url: string): string {
  const curl = spawnSync('curl', ['-sf', url], { encoding: 'utf8', timeout: 10_000 })
  if (curl.status !== 0) throw new Error(`curl ${url}: exit ${curl.status} ${curl.stderr}`)
  return curl.stdout
}

/** The value of a sample (summed over matching label sets) in Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ([0-9.eE+-]+|NaN|\+Inf)$/.exec(line)
    if (!m || m[1] !== name) continue
    const set = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => set[k] === v)) sum += Number(m[4])
  }
  return sum
}

const HAVE_CURL = spawnSync('curl', ['--version']).status === 0

t.test('metrics: valid Prometheus text with the failover and notification counters after a failover', { skip: HAVE_CURL ? false : 'curl is not installed' }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.97' })
  const status = await cluster.status()
  t.ok(status.nodes.every((n) => n.metrics?.startsWith(`http://${n.smb.address}:`)), 'every node has a metrics URL')
  t.match(swlab(['cluster', 'status', '--dir', cluster.dir]).stdout, /metrics: node-1 http:\/\//, 'cluster status lists the metric URLs')
  const before = scrape(status.nodes[0].metrics!)
  for (const line of before.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (NaN|\+Inf)$/.test(line)) t.fail(`not Prometheus text: ${line}`)
  }
  t.match(before, /# TYPE swlab_view_changes_total counter/)
  t.ok(sample(before, 'swlab_view_changes_total') >= 1, 'views committed so far are counted')

  const data = status.csvs.find((c) => c.name === 'csv-1')!.owner
  const client = new FailoverClient({
    resolve: () => cluster.addresses(),
    netName: cluster.config.name,
    share: 'share-1',
    credential: cluster.credentials()!.users[0],
    preferredIp: cluster.nodeConfig(data).clientAddress,
  })
  t.teardown(() => client.stop())
  let registered = false
  client.once('registered', () => (registered = true))
  let moved = false
  client.once('reconnected', () => (moved = true))
  await client.start()
  for (let i = 0; i < 500 && !registered; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(registered, 'the client registered with a witness')
  const handle = await client.open('metrics.bin')
  await client.write(handle, 0, Buffer.alloc(4096, 1))
  cluster.kill(data)
  for (let i = 0; i < 750 && !moved; i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(moved, 'the client failed over')
  await client.write(handle, 4096, Buffer.alloc(4096, 2))
  // Counters from every surviving node; the events happen on different ones.
  const texts = (await cluster.status()).nodes.filter((n) => n.id !== data).map((n) => scrape(n.metrics!))
  const total = (name: string, labels?: Record<string, string>) => texts.reduce((s, x) => s + sample(x, name, labels), 0)
  t.ok(total('swlab_csv_failovers_total') >= 1, `CSV failovers counted (${total('swlab_csv_failovers_total')})`)
  t.ok(total('swlab_client_failovers_total') >= 1, `client failovers counted (${total('swlab_client_failovers_total')})`)
  t.ok(total('swlab_witness_notifications_total', { type: 'RESOURCE_CHANGE_NOTIFICATION' }) >= 1, 'RESOURCE_CHANGE notifications counted')
  t.ok(total('swlab_smb_operations_total', { op: 'Write' }) >= 1, 'SMB writes counted')
  t.ok(total('swlab_smb_operation_seconds_count', { op: 'Write' }) >= 1, 'and timed in a histogram')
})
