// `cluster status` as text stays readable at 64 nodes (issue 18 item 4): a LUN lists its
// registered keys one by one up to a few, and past that says which nodes have none.
import t from 'tap'
import { formatStatus } from '../../cli/format-status.js'
import type { ClusterStatus } from '../../cluster/cluster.js'

function status(nodeCount: number, registeredNodes: number): ClusterStatus {
  const ids = Array.from({ length: nodeCount }, (_, i) => `node-${i + 1}`)
  const nodes = ids.map((id, i) => ({
    id, state: 'up', process: 'running', pid: 100 + i, address: `127.0.1.${i + 1}`, role: i === 0 ? 'leader' : 'follower', quorum: true, serving: true,
    servingCsvs: [`csv-${i + 1}`], partitionedFrom: [], delayMs: {}, vote: 1, witness: { address: `127.0.1.${i + 1}`, port: 5000, registrations: 0 }, smb2: null, dcerpc: null, metrics: null,
  }))
  const keys = ids.slice(0, registeredNodes).map((node, i) => ({ node, key: (i + 1).toString(16).padStart(16, '0') }))
  const csvs = [{ name: 'csv-1', owner: 'node-1', servedBy: ['node-1'], reservation: { holder: 'node-1', refusedWrites: 0, registrations: keys } }]
  return {
    name: 'SOFS', dir: '/tmp/x', profile: 'ws2016', detectionMs: 10000, quorum: true, epoch: 1, term: 1, leader: 'node-1', witness: { kind: 'none', holder: '' },
    nodes, csvs, shares: [], witnessRegistrations: 0, csvMode: 's2d', flavour: 'microsoft', witnessProfile: 'ws2012r2', functionalLevel: 10,
  } as unknown as ClusterStatus
}

/** The first line under the LUN table's header. */
function lunLine(text: string): string {
  const lines = text.split('\n')
  return lines[lines.findIndex((l) => l.startsWith('LUN ')) + 1] ?? ''
}

t.test('a few keys are listed one by one', async (t) => {
  const line = lunLine(formatStatus(status(3, 3)))
  t.match(line, /node-1=0000000000000001 node-2=0000000000000002 node-3=0000000000000003$/)
})

t.test('64 keys are summed up: every node', async (t) => {
  const line = lunLine(formatStatus(status(64, 64)))
  t.match(line, /64 keys: every node \(--json lists them\)$/)
  t.ok(line.length < 120, `one short line (${line.length} characters)`)
})

t.test('past the listed few, the nodes without a key are named', async (t) => {
  const line = lunLine(formatStatus(status(64, 62)))
  t.match(line, /62 keys: every node but node-63, node-64 /)
})
