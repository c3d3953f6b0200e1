// Dynamic quorum as in WSFC: a node that stops gracefully gives up its vote, so the cluster
// survives losing another node afterwards; with two voters left the file-share witness
// breaks the tie. Also an admin CSV move between live nodes.
import t from 'tap'
import { upCluster } from '../helpers/cluster-fixture.js'

t.test('graceful stop gives up the vote; the last node runs on with the witness', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, witness: 'file' })
  let s = await cluster.waitFor((st) => st.csvs.every((c) => c.servedBy.length === 1), 10_000)

  // Admin move between live nodes: release, then assign; never two servers.
  const from = s.csvs[0].owner
  const to = s.nodes.find((n) => n.id !== from)!.id
  await cluster.moveCsv(s.csvs[0].name, to)
  s = await cluster.waitFor((st) => st.csvs[0].servedBy.length === 1 && st.csvs[0].servedBy[0] === to, 10_000)
  t.equal(s.csvs[0].owner, to, `${s.csvs[0].name} moved from ${from} to ${to}`)

  const leaver = s.nodes.find((n) => n.id !== s.leader)!.id
  await cluster.stop(leaver)
  s = await cluster.waitFor((st) => st.nodes.find((n) => n.id === leaver)?.vote === 0 && st.csvs.every((c) => c.servedBy.length === 1), 10_000)
  const gone = s.nodes.find((n) => n.id === leaver)!
  t.equal(gone.state, 'down', `${leaver} is down`)
  t.equal(gone.process, 'dead', `${leaver} exited`)
  t.equal(gone.vote, 0, `${leaver} gave up its vote`)
  t.ok(s.csvs.every((c) => c.owner !== leaver), 'its CSVs were handed over')

  // Two voters remain: killing one leaves one node, which holds 1 of 2 votes plus the witness.
  const survivors = s.nodes.filter((n) => n.id !== leaver).map((n) => n.id)
  const victim = survivors[0]
  const last = survivors[1]
  cluster.kill(victim)
  s = await cluster.waitFor((st) => st.leader === last && st.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] === last), 15_000)
  t.equal(s.quorum, true, `${last} keeps quorum alone with the witness`)
  t.equal(s.witness.holder, last, 'it holds the witness')
})
