// The quorum witness remembers the newest view id it granted with (WSFC's paxos tag) and
// refuses a requester holding an older view, even after the lease expired: otherwise a view
// committed with the witness's vote could be lost by a leader elected with that vote.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileWitness } from '../../cluster/witness/file-witness.js'
import { CloudWitnessClient } from '../../cluster/witness/cloud-witness-client.js'
import { startCloudWitnessServer } from '../../cluster/witness/cloud-witness-server.js'
import type { QuorumWitnessStore } from '../../cluster/witness/quorum-witness.js'

async function checkStaleViewRefused(t: Test, make: (clock: () => number) => Promise<QuorumWitnessStore[]>) {
  let nowMs = 1_000_000
  const [a, b] = await make(() => nowMs)
  const granted = await a.acquire('node-1', 100, 3, { viewTerm: 3, epoch: 7 })
  t.equal(granted.granted, true, 'node-1 with view (3,7) gets the lease')
  nowMs += 1000
  const stale = await b.acquire('node-2', 100, 4, { viewTerm: 3, epoch: 6 })
  t.equal(stale.granted, false, 'node-2 with the older view (3,6) is refused after expiry')
  t.equal(stale.staleView, true, 'and told why')
  const older = await b.acquire('node-2', 100, 4, { viewTerm: 2, epoch: 9 })
  t.equal(older.granted, false, 'a higher epoch of an older view term is older too')
  const current = await b.acquire('node-2', 100, 4, { viewTerm: 3, epoch: 7 })
  t.equal(current.granted, true, 'node-2 with the same view gets it')
  nowMs += 1000
  const newer = await a.acquire('node-1', 100, 5, { viewTerm: 4, epoch: 8 })
  t.equal(newer.granted, true, 'a newer view gets it')
  nowMs += 1000
  t.equal((await b.acquire('node-2', 100, 5, { viewTerm: 3, epoch: 7 })).staleView, true, 'the tag moved forward')
}

t.test('file witness keeps the paxos tag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swlab-witness-tag-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await checkStaleViewRefused(t, async (clock) => [new FileWitness(dir, { clock }), new FileWitness(dir, { clock })])
})

t.test('cloud witness keeps the paxos tag', async (t) => {
  let clock: () => number = Date.now
  const server = await startCloudWitnessServer({ clock: () => clock() })
  t.teardown(() => server.close())
  await checkStaleViewRefused(t, async (c) => {
    clock = c
    return [new CloudWitnessClient({ url: server.url, blob: 'SOFS' }), new CloudWitnessClient({ url: server.url, blob: 'SOFS' })]
  })
})
