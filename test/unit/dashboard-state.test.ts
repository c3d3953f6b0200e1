// The dashboard's view model from a hand-made status and log lines: a client's data node
// follows its reconnected events and its failovers are counted, events come newest first with
// run-relative times and short texts, a missing status shows the cluster as down, and every
// list is bounded. Also the action request checks and the incremental log reader.
import t from 'tap'
import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ClusterStatus, NodeStatusView } from '../../cluster/cluster.js'
import { CLIENTS_MAX, EVENTS_MAX, buildDashboardState, foldClientEvents } from '../../tools/dashboard/dashboard-state.js'
import { parseActionRequest } from '../../tools/dashboard/dashboard-server.js'
import { NdjsonTail } from '../../tools/dashboard/ndjson-tail.js'
import type { LogLine } from '../../cluster/run-logs.js'

const NODES = [
  { id: 'node-1', clientAddress: '127.0.1.1' },
  { id: 'node-2', clientAddress: '127.0.1.2' },
  { id: 'node-3', clientAddress: '127.0.1.3' },
]

const line = (mono: number, event: string, fields: Record<string, unknown> = {}): LogLine => ({ mono, event, ...fields })

function nodeView(id: string, over: Partial<NodeStatusView> = {}): NodeStatusView {
  const n = NODES.find((x) => x.id === id)!
  return {
    id,
    state: 'up',
    process: 'running',
    pid: 100,
    address: n.clientAddress,
    clusterAddress: '127.0.2.1',
    peerPort: 1,
    adminPort: 2,
    reachable: true,
    role: id === 'node-1' ? 'leader' : 'follower',
    term: 2,
    epoch: 5,
    quorum: true,
    serving: true,
    servingCsvs: [`csv-${id.slice(-1)}`],
    leaseRemainingMs: 500,
    vote: 1,
    partitionedFrom: [],
    delayMs: {},
    witness: { address: n.clientAddress, port: 3, registrations: id === 'node-2' ? 1 : 0 },
    smb: { address: n.clientAddress, port: 4 },
    smb2: null,
    dcerpc: null,
    metrics: null,
    ...over,
  }
}

function status(nodes: NodeStatusView[]): ClusterStatus {
  return {
    name: 'SOFS',
    dir: '/tmp/x',
    profile: 'fast',
    detectionMs: 1000,
    quorum: true,
    epoch: 5,
    term: 2,
    leader: 'node-1',
    witness: { kind: 'file', holder: 'node-1' },
    nodes,
    csvs: [
      { name: 'csv-1', owner: 'node-1', servedBy: ['node-1'], redirected: false },
      { name: 'csv-2', owner: 'node-1', servedBy: ['node-1'], redirected: true },
      { name: 'csv-3', owner: 'node-3', servedBy: ['node-3'], redirected: false },
    ],
    shares: [{ name: 'share-1', csv: 'csv-1', kind: 'scale-out', flags: [], role: null }],
    witnessRegistrations: 1,
    csvMode: 's2d',
    flavour: 'microsoft',
    witnessProfile: 'ws2012r2',
    functionalLevel: 10,
  }
}

const RUN = [
  line(1000, 'node.started', { node: 'node-1', component: 'node' }),
  line(1100, 'quorum.leader.elected', { node: 'node-1', term: 1 }),
  line(2000, 'client.registered', { client: 'c1', witness: '127.0.1.2', data: '127.0.1.3' }),
  line(2100, 'client.registered', { client: 'c2', witness: '127.0.1.1', data: '127.0.1.2' }),
  line(5000, 'node.declared.down', { node: 'node-1', peer: 'node-3', reason: 'silent' }),
  line(5001, 'csv.failover', { node: 'node-1', csv: 'csv-3', from: 'node-3', to: 'node-1' }),
  line(5002, 'witness.notify.sent', { node: 'node-2', client: 'c1', type: 1 }),
  line(4990, 'client.failover-start', { client: 'c1', cause: 'connection-failed', from: '127.0.1.3' }),
  line(5003, 'client.notified', { client: 'c1', type: 1 }),
  line(5040, 'client.reconnected', { client: 'c1', cause: 'connection-failed', from: '127.0.1.3', to: '127.0.1.1', afterMs: 50.4 }),
  line(7000, 'client.notified', { client: 'c1', type: 2 }),
  line(7010, 'client.reconnected', { client: 'c1', cause: 'client-move', from: '127.0.1.1', to: '127.0.1.2', afterMs: 9.6 }),
  line(7020, 'client.registered', { client: 'c1', witness: '127.0.1.3', data: '127.0.1.2' }),
]

t.test('nodes, header and CSVs come from the status', async (t) => {
  const s = buildDashboardState({ status: status(['node-1', 'node-2', 'node-3'].map((id) => nodeView(id))), nodes: NODES, lines: RUN })
  t.equal(s.ok, true)
  t.match(s, { name: 'SOFS', quorum: true, epoch: 5, term: 2, leader: 'node-1', witness: { kind: 'file', holder: 'node-1' } })
  t.same(
    s.nodes.map((n) => [n.id, n.role, n.leader, n.registrations, n.servingCsvs.join()]),
    [
      ['node-1', 'leader', true, 0, 'csv-1'],
      ['node-2', 'follower', false, 1, 'csv-2'],
      ['node-3', 'follower', false, 0, 'csv-3'],
    ],
  )
  t.same(s.csvs[1], { name: 'csv-2', owner: 'node-1', servedBy: ['node-1'], redirected: true })
})

t.test("a client's data node follows its reconnected events and its failovers are counted", async (t) => {
  const s = buildDashboardState({ status: null, nodes: NODES, lines: RUN })
  t.same(
    s.clients.map((c) => c.name),
    ['c1', 'c2'],
    'clients sorted by name',
  )
  const c1 = s.clients[0]
  t.equal(c1.dataNode, 'node-2', 'the data node is the last reconnect target (IP mapped to its node id)')
  t.equal(c1.witnessNode, 'node-3', 'the witness node is the last registration')
  t.equal(c1.failovers, 2)
  t.equal(c1.lastFailoverMs, 10, 'the last failover time, rounded')
  t.equal(c1.lastFailoverCause, 'client-move')
  t.equal(c1.lastNotification, 'CLIENT_MOVE')
  t.equal(c1.state, 'working')
  t.match(s.clients[1], { dataNode: 'node-2', witnessNode: 'node-1', failovers: 0, lastFailoverMs: null, lastNotification: '' })

  // Folding in two batches gives what one batch gives: the server folds every tick.
  const once = foldClientEvents([], RUN)
  const twice = foldClientEvents(foldClientEvents([], RUN.slice(0, 8)), RUN.slice(8))
  t.same(twice, once)

  const failing = foldClientEvents(once, [line(8000, 'client.failover-start', { client: 'c2', cause: 'witness-unavailable' })])
  t.equal(buildDashboardState({ status: null, nodes: NODES, lines: [], clients: failing }).clients[1].state, 'failing-over')
  const failed = foldClientEvents(failing, [line(9000, 'client.failover-failed', { client: 'c2', error: 'no node' })])
  t.match(buildDashboardState({ status: null, nodes: NODES, lines: [], clients: failed }).clients[1], { state: 'failed', lastError: 'no node' })

  const unknownIp = foldClientEvents([], [line(1, 'client.registered', { client: 'c9', witness: '10.0.0.1', data: '127.0.1.1' })])
  t.match(buildDashboardState({ status: null, nodes: NODES, lines: [], clients: unknownIp }).clients[0], { witnessNode: '10.0.0.1', dataNode: 'node-1' }, 'an IP of no node shows as the IP')
})

t.test('events: newest first, relative to the start, with a source and a short text', async (t) => {
  const s = buildDashboardState({ status: null, nodes: NODES, lines: RUN })
  t.same(
    s.events.map((e) => e.atMs),
    [6020, 6010, 6000, 4040, 4003, 4002, 4001, 4000, 3990, 1100, 1000, 100, 0],
  )
  t.same(s.events[0], { atMs: 6020, source: 'c1', event: 'client.registered', text: 'witness node-3, data node-2' })
  t.same(s.events.find((e) => e.event === 'client.reconnected'), { atMs: 6010, source: 'c1', event: 'client.reconnected', text: 'client-move: node-1 → node-2 in 10 ms' })
  t.equal(s.events.find((e) => e.event === 'csv.failover')?.text, 'csv-3: node-3 → node-1')
  t.equal(s.events.find((e) => e.event === 'node.declared.down')?.text, 'node-3 declared down (silent)')
  t.same(s.events.find((e) => e.event === 'witness.notify.sent'), { atMs: 4002, source: 'node-2', event: 'witness.notify.sent', text: 'RESOURCE_CHANGE to c1' })
  t.equal(s.events.find((e) => e.event === 'quorum.leader.elected')?.text, 'leader of term 1')
  t.equal(s.nowMs, 6020, 'the run clock is the newest line without nowMono')

  const withStart = buildDashboardState({ status: null, nodes: NODES, lines: RUN, startMono: 500, nowMono: 10_000 })
  t.equal(withStart.events[0].atMs, 6520, 'a given start is the zero')
  t.equal(withStart.nowMs, 9500)

  const tied = buildDashboardState({ status: null, nodes: NODES, lines: [line(5, 'a.first', { node: 'n' }), line(5, 'b.second', { node: 'n' })] })
  t.same(
    tied.events.map((e) => e.event),
    ['b.second', 'a.first'],
    'equal times: the later line first',
  )
  const other = buildDashboardState({ status: null, nodes: NODES, lines: [line(5, 'csv.snapshot.granted', { node: 'node-1', level: 30, pid: 9, csv: 'csv-1', jobId: 'j', wait: 1.75, extra: { x: 1 } })] })
  t.equal(other.events[0].text, 'csv=csv-1 jobId=j wait=2', 'other events show a few scalar fields, not the noise')
})

t.test('a missing status shows the cluster as down, with the reason', async (t) => {
  const s = buildDashboardState({ status: null, statusError: 'no cluster in /x', nodes: NODES, lines: [] })
  t.equal(s.ok, false)
  t.equal(s.error, 'no cluster in /x')
  t.equal(s.quorum, false)
  t.equal(s.leader, '')
  t.same(
    s.nodes.map((n) => [n.id, n.process, n.state, n.quorum]),
    NODES.map((n) => [n.id, 'unknown', 'down', false]),
  )
  t.same(s.csvs, [])
  t.same(s.events, [])
  const dead = buildDashboardState({
    status: status([nodeView('node-1'), nodeView('node-2', { process: 'dead', state: 'down', reachable: false, quorum: false, serving: false, servingCsvs: [] }), nodeView('node-3')]),
    nodes: NODES,
    lines: [],
  })
  t.match(dead.nodes[1], { process: 'dead', state: 'down', serving: false, servingCsvs: [] })
})

t.test('every list is bounded and long texts are cut', async (t) => {
  const many: LogLine[] = []
  for (let i = 0; i < 1000; i++) many.push(line(i, 'peer.silent', { node: 'node-1', peer: 'node-2', note: 'x'.repeat(500) }))
  for (let i = 0; i < 200; i++) many.push(line(2000 + i, 'client.registered', { client: `c-${String(i).padStart(3, '0')}${'y'.repeat(300)}`, witness: '127.0.1.1', data: '127.0.1.2' }))
  const s = buildDashboardState({ status: null, nodes: NODES, lines: many })
  t.equal(s.events.length, EVENTS_MAX)
  t.equal(s.events[0].atMs, 2199)
  t.ok(
    s.events.every((e) => e.text.length <= 120 && e.source.length <= 80),
    'texts and sources are cut',
  )
  t.equal(s.clients.length, CLIENTS_MAX)
  t.ok(s.clients.every((c) => c.name.length <= 80))
  const folded = foldClientEvents([], many)
  t.equal(folded.length, CLIENTS_MAX, 'the fold keeps at most CLIENTS_MAX clients')
  t.ok(folded.some((c) => c.name.startsWith('c-199')) && !folded.some((c) => c.name.startsWith('c-000')), 'the most recently active ones')
  t.equal(buildDashboardState({ status: null, nodes: NODES, lines: many, eventsMax: 5 }).events.length, 5)
})

t.test('action requests: known actions, nodes and clients only', async (t) => {
  const ids = NODES.map((n) => n.id)
  const parse = (raw: unknown) => parseActionRequest(raw, ids, ['c1'])
  t.same(parse({ action: 'kill', node: 'node-2' }), { ok: true, value: { action: 'kill', node: 'node-2' } })
  t.same(parse({ action: 'heal' }), { ok: true, value: { action: 'heal' } })
  t.same(parse({ action: 'client-move', client: 'c1', to: 'node-3' }), { ok: true, value: { action: 'client-move', client: 'c1', to: 'node-3' } })
  for (const [raw, error] of [
    [null, /JSON object/],
    [[1], /JSON object/],
    [{ action: 'reboot', node: 'node-1' }, /unknown action "reboot"/],
    [{ action: 'toString' }, /unknown action/],
    [{ node: 'node-1' }, /unknown action undefined/],
    [{ action: 'kill' }, /node is required/],
    [{ action: 'kill', node: 'node-9' }, /unknown node "node-9"/],
    [{ action: 'pause', node: 7 }, /node must be a string/],
    [{ action: 'client-move', client: 'c2', to: 'node-1' }, /unknown client "c2"/],
    [{ action: 'client-move', to: 'node-1' }, /client is required/],
    [{ action: 'client-move', client: 'c1', to: 'node-7' }, /unknown node "node-7"/],
  ] as const) {
    const r = parse(raw)
    t.equal(r.ok, false, JSON.stringify(raw))
    if (!r.ok) t.match(r.error, error)
  }
})

t.test('the log tail returns only complete new lines, and starts over on a new file', async (t) => {
  const dir = t.testdir()
  const path = join(dir, 'node-1.ndjson')
  const tail = new NdjsonTail(64)
  t.same(await tail.read(path), [], 'a missing file has no lines')
  writeFileSync(path, `${JSON.stringify({ mono: 1, event: 'a' })}\n{"mono":2,"ev`)
  t.same(
    (await tail.read(path)).map((l) => l.event),
    ['a'],
  )
  t.same(await tail.read(path), [], 'half a line waits for its end')
  appendFileSync(path, `ent":"b"}\nnot json\n${JSON.stringify({ mono: 3 })}\n`)
  t.same(
    (await tail.read(path)).map((l) => l.event),
    ['b'],
    'the rest of the line, and lines without an event are skipped',
  )
  appendFileSync(path, `${'z'.repeat(200)}\n${JSON.stringify({ mono: 4, event: 'c' })}\n`)
  const after: string[] = []
  for (let i = 0; i < 10; i++) after.push(...(await tail.read(path)).map((l) => l.event))
  t.same(after, ['c'], 'a line longer than one read is skipped, the next one is read')
  rmSync(path)
  writeFileSync(path, `${JSON.stringify({ mono: 9, event: 'fresh' })}\n`)
  t.same(
    (await tail.read(path)).map((l) => l.event),
    ['fresh'],
    'a recreated file is read from its start',
  )
})

t.test('a client that logged its stop shows as stopped, and a new registration under its name brings it back', async (t) => {
  const lines = [
    line(1000, 'client.registered', { client: 'backup-vm-1', witness: '127.0.1.2', data: '127.0.1.1' }),
    line(2000, 'client.stopped', { client: 'backup-vm-1', data: '127.0.1.1' }),
  ]
  const stopped = buildDashboardState({ status: status([nodeView('node-1'), nodeView('node-2'), nodeView('node-3')]), nodes: NODES, lines })
  t.equal(stopped.clients[0].state, 'stopped')
  const again = buildDashboardState({ status: null, nodes: NODES, lines: [...lines, line(3000, 'client.registered', { client: 'backup-vm-1', witness: '127.0.1.3', data: '127.0.1.2' })] })
  t.equal(again.clients[0].state, 'working')
  t.equal(again.clients[0].dataNode, 'node-2')
})
