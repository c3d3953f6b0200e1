// The matrix of issue 17 item 5 (tools/chaos/chaos-matrix-cells.ts) as a table: every role by
// every way exactly once; each cell a recovery with a bound or a limit with its reason; bounds
// within issue 17's 10 s where a recovery is claimed; cells that claim no effect bound the
// client's pause; the cluster each row needs; the selection of cells by name; and the nodes the
// runner picks: the lost node plays the role, the client's data and witness nodes are distinct.
import t from 'tap'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cellId, clusterSizeOf, MATRIX_CELLS, MATRIX_REQUEST_TIMEOUT_MS, MATRIX_ROLES, MATRIX_WAYS, selectCells, UNAFFECTED_PAUSE_MS } from '../../tools/chaos/chaos-matrix-cells.js'
import { pick } from '../../tools/chaos/chaos-matrix.js'

const root = join(import.meta.dirname, '..', '..')

t.test('every role by every way, once', async (t) => {
  const ids = MATRIX_CELLS.map(cellId)
  t.equal(new Set(ids).size, ids.length, 'no cell twice')
  t.equal(ids.length, MATRIX_ROLES.length * MATRIX_WAYS.length, `${MATRIX_ROLES.length} roles x ${MATRIX_WAYS.length} ways`)
  for (const role of MATRIX_ROLES) for (const way of MATRIX_WAYS) t.ok(ids.includes(`${role}/${way}`), `${role}/${way}`)
})

t.test('each cell: a recovery within a bound, or a limit with its reason', async (t) => {
  for (const c of MATRIX_CELLS) {
    const id = cellId(c)
    t.ok(c.bounds.length > 0 || (c.limit ?? '').length >= 40, `${id}: bounds or a limit explained`)
    // Issue 17's 10 s; a witness node cut off from the client: 8 s (6 s to notice in the worst case, then the re-registration).
    const most = c.role === 'witness-node' && c.way !== 'kill' && c.way !== 'freeze' && c.way !== 'cut-out' ? 8_000 : 10_000
    for (const b of c.bounds) t.ok(b.withinMs > 0 && b.withinMs <= most, `${id}: ${b.metric} within ${b.withinMs} ms, at most ${most} ms`)
    t.equal(new Set(c.bounds.map((b) => b.metric)).size, c.bounds.length, `${id}: a metric once`)
    if (c.unaffected) t.ok(c.bounds.some((b) => b.metric === 'client-back' && b.withinMs <= UNAFFECTED_PAUSE_MS) || c.limit, `${id}: no effect claimed, so the client's pause is bounded short`)
    for (const f of c.coveredBy ?? []) t.ok(existsSync(join(root, f)), `${id}: ${f} exists`)
    // The role's own recovery is what the cell measures.
    const own = { 'data-node': 'client-back', 'witness-node': 'witness-reregistered', 'csv-owner': 'csv-served-elsewhere', leader: 'new-leader', 'quorum-witness-holder': 'witness-rearbitrated' }[c.role]
    if (!c.unaffected && !c.limit) t.ok(c.bounds.some((b) => b.metric === own), `${id}: measures ${own}`)
  }
  const cut = MATRIX_CELLS.find((c) => cellId(c) === 'data-node/cut-clients')!
  t.ok(cut.bounds[0].withinMs > MATRIX_REQUEST_TIMEOUT_MS, 'a client cut from its data node alone waits out its request timeout: the bound is above it')
})

t.test('the cluster each row runs in', async (t) => {
  t.equal(clusterSizeOf({ role: 'quorum-witness-holder' }), 2, 'the witness is a vote with two nodes')
  for (const role of MATRIX_ROLES.filter((r) => r !== 'quorum-witness-holder')) t.equal(clusterSizeOf({ role }), 3, role)
})

t.test('selecting cells: a cell, a row, a column; unknown names reported', async (t) => {
  t.equal(selectCells([]).cells.length, MATRIX_CELLS.length, 'all by default')
  t.same(selectCells(['leader/kill']).cells.map(cellId), ['leader/kill'])
  t.equal(selectCells(['leader']).cells.length, MATRIX_WAYS.length, 'a role is its row')
  t.equal(selectCells(['freeze']).cells.length, MATRIX_ROLES.length, 'a way is its column')
  t.same(selectCells(['leader/nap', 'kill']).unknown, ['leader/nap'])
})

t.test('the nodes picked: the lost node plays the role; data and witness nodes differ', async (t) => {
  const three = { leader: 'node-1', owner: 'node-2', third: 'node-3', holder: '' }
  for (const role of MATRIX_ROLES.filter((r) => r !== 'quorum-witness-holder')) {
    const p = pick(role, three)
    t.not(p.dataNode, p.witnessNode, `${role}: the client's data and witness nodes differ`)
    const plays = { 'data-node': p.dataNode, 'witness-node': p.witnessNode, 'csv-owner': three.owner, leader: three.leader }[role]
    t.equal(p.target, plays, `${role}: the node lost plays it`)
    if (role !== 'data-node') t.not(p.target, p.dataNode, `${role}: not the client's data node`)
    if (role !== 'witness-node') t.not(p.target, p.witnessNode, `${role}: not the client's witness node`)
    if (role !== 'leader') t.not(p.target, three.leader, `${role}: not the leader`)
    if (role !== 'csv-owner') t.not(p.target, three.owner, `${role}: not the CSV's owner`)
  }
  const two = pick('quorum-witness-holder', { leader: 'node-1', owner: 'node-2', third: '', holder: 'node-1' })
  t.same(two, { target: 'node-1', dataNode: 'node-2', witnessNode: 'node-1' }, 'two nodes: the data node is the other')
})

t.test('two nodes, the leader owning the CSV and holding the witness: the other node is the data node', async (t) => {
  t.same(pick('quorum-witness-holder', { leader: 'node-2', owner: 'node-2', third: 'node-1', holder: 'node-2' }), { target: 'node-2', dataNode: 'node-1', witnessNode: 'node-2' })
})
