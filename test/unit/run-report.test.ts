// The run report from hand-made logs: processes (a restart after a kill), serving, leader
// terms, CSV owners and a client's failover land on the timeline in the order they happened,
// and the HTML is self-contained (no script, no external resource) with user text escaped.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildRunModel, readRun, renderRunReport } from '../../tools/report/run-report.js'

const line = (mono: number, event: string, fields: Record<string, unknown> = {}) => JSON.stringify({ mono, event, ...fields })

t.test('a kill, the notification and the failover are on the timeline, in order', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'logs'))
  writeFileSync(
    join(dir, 'logs', 'node-1.ndjson'),
    [
      line(1000, 'node.started'),
      line(1100, 'quorum.leader.elected', { term: 1 }),
      line(1100, 'lease.serving'),
      line(1200, 'csv.service.started', { csv: 'csv-1' }),
      line(5000, 'view.committed'),
      // killed here: the next process starts later
      line(9000, 'node.started'),
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'logs', 'node-2.ndjson'),
    [line(1000, 'node.started'), line(1150, 'lease.serving'), line(6100, 'node.declared.down', { peer: 'node-1', reason: 'refused' }), line(6150, 'csv.service.started', { csv: 'csv-1' }), line(6160, 'witness.notify.sent', { type: 1 }), line(6170, 'witness.notify.batch', { count: 1700 })].join(
      '\n',
    ),
  )
  writeFileSync(
    join(dir, 'logs', 'clients.ndjson'),
    [
      line(2000, 'client.registered', { client: 'c<1>', witness: '127.0.1.2', data: '127.0.1.1' }),
      line(6050, 'client.failover-start', { client: 'c<1>', cause: 'connection-failed' }),
      line(6170, 'client.notified', { client: 'c<1>', type: 1 }),
      line(6200, 'client.reconnected', { client: 'c<1>', to: '127.0.1.2' }),
    ].join('\n'),
  )
  const model = buildRunModel(readRun(dir))
  const n1 = model.nodes.find((n) => n.id === 'node-1')!
  t.equal(n1.processes.length, 2, 'two processes of node-1: the kill is a gap')
  t.equal(n1.processes[0].to, 5000, 'the first ended at its last line')
  t.same(n1.leading.map((s) => s.label), ['term 1'])
  const csv1 = model.csvs.find((c) => c.name === 'csv-1')!
  t.same(csv1.served.map((s) => s.label), ['node-1', 'node-2'], 'csv-1 moved from node-1 to node-2')
  t.equal(model.nodes.find((n) => n.id === 'node-2')!.counts['witness.notify.sent'], 1701, 'a batch line counts its notifications')
  const client = model.clients[0]
  t.equal(client.pauses.length, 1)
  t.equal(client.pauses[0].to - client.pauses[0].from, 150, 'the failover took 150 ms')
  const notified = client.marks.find((m) => m.kind === 'notify')!
  t.ok(n1.processes[0].to < client.pauses[0].from && client.pauses[0].from < notified.at && notified.at < client.pauses[0].to, 'kill, failover start, notification, reconnect: in order')
  const html = renderRunReport(model, 'test <run>')
  t.match(html, /<svg /)
  t.notMatch(html, /<script|<link|src=|href=|@import|url\(/, 'no script and no external resource')
  t.match(html, /c&lt;1&gt;/, 'client names are escaped')
  t.match(html, /test &lt;run&gt;/)
})

t.test('the harness faults, backups and extra tables are on the report', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'logs'))
  writeFileSync(join(dir, 'logs', 'node-1.ndjson'), [line(1000, 'node.started'), line(1100, 'lease.serving'), line(4000, 'view.committed')].join('\n'))
  writeFileSync(join(dir, 'logs', 'node-2.ndjson'), [line(1000, 'node.started'), line(9000, 'view.committed')].join('\n'))
  writeFileSync(
    join(dir, 'logs', 'faults.ndjson'),
    [line(2000, 'fault.pause', { node: 'node-1' }), line(3000, 'fault.resume', { node: 'node-1' }), line(4001, 'fault.kill', { node: 'node-1' })].join('\n'),
  )
  writeFileSync(
    join(dir, 'logs', 'backups.ndjson'),
    [
      line(3500, 'backup.done', { vm: 'vm<1>', startedMono: 1500, kind: 'incremental', method: 'rct', reason: 'the table says rct', bytesRead: 65536, diskBytes: 16 * 1024 * 1024, bytesStored: 65536, nodesServed: ['node-1', 'node-2'] }),
      line(8000, 'backup.failed', { vm: 'vm<1>', startedMono: 7000, error: 'host gone' }),
    ].join('\n'),
  )
  const model = buildRunModel(readRun(join(dir, 'logs')))
  t.same(model.nodes.map((n) => n.id), ['node-1', 'node-2'], 'the faults and backups logs are not nodes')
  const n1 = model.nodes[0]
  t.same(n1.paused, [{ from: 2000, to: 3000, label: 'paused (SIGSTOP)' }])
  t.ok(n1.marks.some((m) => m.at === 4001 && m.kind === 'fault' && /kill/.test(m.label)), 'the kill is a mark at its time')
  t.equal(model.startMono, 1000)
  t.same(
    model.backups.map((b) => [b.vm, b.from, b.to, b.ok, b.method, b.bytesRead]),
    [
      ['vm<1>', 1500, 3500, true, 'rct', 65536],
      ['vm<1>', 7000, 8000, false, '-', 0],
    ],
  )
  const html = renderRunReport(model, 'run', [{ title: 'Summary', header: ['step', 'figure'], rows: [['kill <x>', '96 ms']] }])
  t.match(html, /vm&lt;1&gt;: incremental with rct, read 64\.0 KiB of 16\.0 MiB/)
  t.match(html, /failed: host gone/)
  t.match(html, /<h2>Summary<\/h2>/)
  t.match(html, /kill &lt;x&gt;/)
  t.notMatch(html, /<script|<link|src=|href=|@import|url\(/)
})

t.test("a client's data node over time, named from the cluster's config", async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'logs'))
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ nodes: [{ id: 'node-1', clientAddress: '127.0.1.1' }, { id: 'node-2', clientAddress: '127.0.1.2' }] }))
  writeFileSync(join(dir, 'logs', 'node-1.ndjson'), [line(1000, 'node.started'), line(9000, 'view.committed')].join('\n'))
  writeFileSync(
    join(dir, 'logs', 'clients.ndjson'),
    [
      line(2000, 'client.registered', { client: 'c', witness: '127.0.1.2', data: '127.0.1.1' }),
      line(4000, 'client.failover-start', { client: 'c', cause: 'connection-failed' }),
      line(4100, 'client.reconnected', { client: 'c', to: '127.0.1.2' }),
      line(4150, 'client.registered', { client: 'c', witness: '127.0.1.1', data: '127.0.1.2' }),
      line(6000, 'client.stopped', { client: 'c', data: '127.0.1.2' }),
    ].join('\n'),
  )
  const model = buildRunModel(readRun(join(dir, 'logs')))
  t.same(model.clients[0].dataNodes, [
    { from: 2000, to: 4000, label: 'node-1' },
    { from: 4100, to: 6000, label: 'node-2' },
  ])
  t.match(model.clients[0].pauses[0].label, /-> node-2 \(100 ms\)/)
  t.match(renderRunReport(model, 'r'), /data node node-2/)
})

t.test("a namespaced cluster's nftables faults, logged by the harness, are marks on the nodes they touch", async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'logs'))
  writeFileSync(join(dir, 'logs', 'node-1.ndjson'), [line(1000, 'node.started'), line(9000, 'view.committed')].join('\n'))
  writeFileSync(
    join(dir, 'logs', 'faults.ndjson'),
    [
      line(2000, 'fault.net', { node: 'node-1', applied: 'nftables', rules: ['partition node-1 -> node-2', 'partition node-2 -> node-1'] }),
      line(5000, 'fault.net', { node: 'node-1', applied: 'nftables', rules: [] }),
    ].join('\n'),
  )
  const marks = buildRunModel(readRun(join(dir, 'logs'))).nodes[0].marks.filter((m) => m.kind === 'fault')
  t.same(
    marks.map((m) => [m.at, m.label]),
    [
      [2000, 'nftables: partition node-1 -> node-2; partition node-2 -> node-1'],
      [5000, 'nftables: no rule'],
    ],
  )
})
