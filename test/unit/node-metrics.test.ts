// A node's metrics load prom-client only when first scraped or when the first SMB operation is
// timed (issue 18: most nodes of a large idle cluster are never scraped), and a scrape still
// shows every event counted since the start: the tallies kept before the load go into the
// prom-client counters, and events after it go there directly.
import t from 'tap'
import { createRequire } from 'node:module'
import { NodeMetrics } from '../../server/node-metrics.js'

const require = createRequire(import.meta.url)

function promClientLoaded(): boolean {
  return Object.keys(require.cache).some((path) => path.includes('/node_modules/prom-client/'))
}

async function scrape(metrics: NodeMetrics): Promise<string> {
  await metrics.listen('127.0.0.1', 0)
  const server = (metrics as unknown as { server: import('node:http').Server }).server
  const address = server.address()
  if (typeof address !== 'object' || address === null) throw new Error('not listening')
  const response = await fetch(`http://127.0.0.1:${address.port}/metrics`, { signal: AbortSignal.timeout(5000) })
  t.equal(response.status, 200)
  return response.text()
}

/** The value of one sample line, exact name and label set; NaN when absent. */
function sample(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `))
  return found === undefined ? NaN : Number(found.slice(line.length + 1))
}

t.test('events before the first scrape are counted in it; prom-client is loaded by the scrape, not before', async (t) => {
  t.notOk(promClientLoaded(), 'importing the metrics does not load prom-client')
  const metrics = new NodeMetrics('node-7', () => 3, () => ({ sent: 10, received: 9 }))
  t.teardown(() => metrics.close())
  metrics.observe('view.committed', {})
  metrics.observe('view.committed', {})
  metrics.observe('peer.silent', { peer: 'node-2' })
  metrics.observe('witness.notify.sent', { type: 1 })
  metrics.observe('csv.failover', { csv: 'csv-1' })
  metrics.observe('smb2.session.reclaimed', {})
  metrics.observe('quorum.follow', {})
  t.notOk(promClientLoaded(), 'counting events does not load prom-client')
  t.notOk(metrics.loaded)
  const first = await scrape(metrics)
  t.ok(promClientLoaded(), 'the scrape loaded it')
  t.equal(sample(first, 'swlab_view_changes_total{node="node-7"}'), 2)
  t.equal(sample(first, 'swlab_heartbeats_missed_total{peer="node-2",node="node-7"}'), 1)
  t.equal(sample(first, 'swlab_witness_notifications_total{type="RESOURCE_CHANGE_NOTIFICATION",node="node-7"}'), 1)
  t.equal(sample(first, 'swlab_csv_failovers_total{csv="csv-1",node="node-7"}'), 1)
  t.equal(sample(first, 'swlab_client_failovers_total{node="node-7"}'), 1)
  t.equal(sample(first, 'swlab_witness_registrations{node="node-7"}'), 3)
  t.equal(sample(first, 'swlab_heartbeat_datagrams{direction="sent",node="node-7"}'), 10)
  t.match(first, /# TYPE swlab_smb_operation_seconds histogram/)

  // After the load, events go to prom-client directly, on top of the earlier ones.
  metrics.observe('view.committed', {})
  metrics.observe('peer.silent', { peer: 'node-2' })
  metrics.observe('peer.silent', { peer: 'node-3' })
  metrics.smbOperation('Write', 0.002, 'success')
  const response = await fetch(`http://127.0.0.1:${((metrics as unknown as { server: import('node:http').Server }).server.address() as { port: number }).port}/metrics`)
  const second = await response.text()
  t.equal(sample(second, 'swlab_view_changes_total{node="node-7"}'), 3)
  t.equal(sample(second, 'swlab_heartbeats_missed_total{peer="node-2",node="node-7"}'), 2)
  t.equal(sample(second, 'swlab_heartbeats_missed_total{peer="node-3",node="node-7"}'), 1)
  t.equal(sample(second, 'swlab_smb_operations_total{op="Write",outcome="success",node="node-7"}'), 1)
  t.equal(sample(second, 'swlab_smb_operation_seconds_count{node="node-7",op="Write"}'), 1)
})

t.test('the first SMB operation timed loads prom-client (its histogram has no tally)', async (t) => {
  const metrics = new NodeMetrics('node-1', () => 0)
  t.notOk(metrics.loaded)
  metrics.observe('csv.failover', { csv: 'csv-2' })
  metrics.smbOperation('Read', 0.001, 'success')
  t.ok(metrics.loaded)
  const text = await scrape(metrics)
  t.teardown(() => metrics.close())
  t.equal(sample(text, 'swlab_csv_failovers_total{csv="csv-2",node="node-1"}'), 1)
  t.equal(sample(text, 'swlab_smb_operation_seconds_count{node="node-1",op="Read"}'), 1)
  t.ok(Number.isNaN(sample(text, 'swlab_heartbeat_datagrams{direction="sent",node="node-1"}')), 'no datagram counts without a channel')
})
