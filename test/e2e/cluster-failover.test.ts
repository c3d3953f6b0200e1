// Real node processes on loopback: a 3-node cluster comes up quorate, survives the kill of
// its leader and the freeze of a CSV owner, and a resumed node serves nothing until it rejoined;
// once more in a network namespace of the cluster's own (`--netns`, root), where kill and
// pause are the same signals and the peers reach each other on their link addresses.
import t from 'tap'
import { readLog, upCluster } from '../helpers/cluster-fixture.js'
import { namespaceProblem } from '../../cluster/network-namespace.js'

const netnsProblem = namespaceProblem()
const MODES = [
  { netns: false, name: 'on the host loopback', skip: false as const },
  { netns: true, name: 'in its own network namespace', skip: netnsProblem ? `--netns ${netnsProblem}` : (false as const) },
]

for (const mode of MODES) t.test(`3 nodes: quorate, leader kill, owner pause and resume: ${mode.name}`, { skip: mode.skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, netns: mode.netns })
  let s = await cluster.status()
  t.equal(s.quorum, true, 'quorate')
  t.equal(s.nodes.length, 3)
  t.ok(s.leader, `leader ${s.leader}`)
  t.ok(s.epoch >= 1, `epoch ${s.epoch}`)
  for (const n of s.nodes) {
    t.equal(n.state, 'up', `${n.id} up`)
    t.ok(n.pid > 0, `${n.id} pid ${n.pid}`)
    t.match(n.address, /^127\.0\.1\.\d+$/, `${n.id} client address ${n.address}`)
  }
  t.same(s.csvs.map((c) => c.name), ['csv-1', 'csv-2', 'csv-3'])
  s = await cluster.waitFor((st) => st.csvs.every((c) => c.owner !== '' && c.servedBy.length === 1), 10_000)

  // Kill the leader: a new leader, and its CSVs move to survivors.
  const oldLeader = s.leader
  const oldCsvs = s.csvs.filter((c) => c.owner === oldLeader).map((c) => c.name)
  t.ok(oldCsvs.length > 0, `leader owns ${oldCsvs.join(',')}`)
  cluster.kill(oldLeader)
  s = await cluster.waitFor(
    (st) => st.leader !== '' && st.leader !== oldLeader && oldCsvs.every((c) => st.csvs.some((x) => x.name === c && x.servedBy.length === 1 && x.servedBy[0] !== oldLeader)),
    10_000,
  )
  t.not(s.leader, oldLeader, `new leader ${s.leader}`)
  t.equal(s.nodes.find((n) => n.id === oldLeader)?.state, 'down', 'killed leader is down')
  await cluster.start(oldLeader)
  s = await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving), 10_000)

  // Pause a CSV owner: its CSVs move after the detection time, not before.
  const victim = s.nodes.find((n) => n.id !== s.leader && n.servingCsvs.length > 0)?.id
  t.ok(victim, `a non-leader CSV owner exists (${victim})`)
  if (!victim) return
  const victimCsvs = s.csvs.filter((c) => c.owner === victim).map((c) => c.name)
  const pausedAt = performance.now()
  cluster.pause(victim)
  s = await cluster.waitFor((st) => victimCsvs.every((c) => st.csvs.some((x) => x.name === c && x.owner !== victim && x.servedBy.length === 1)), 10_000)
  const movedMs = performance.now() - pausedAt
  // The lease must run out first, so nothing can move faster than the lease; and the
  // detection floor plus a generous margin bounds it from above.
  t.ok(movedMs >= s.detectionMs - 300, `moved after ${Math.round(movedMs)} ms (detection ${s.detectionMs} ms)`)
  t.ok(movedMs <= s.detectionMs + 5000, `within detection + 5 s (a margin for a loaded machine)`)
  const resumedAtMono = performance.timeOrigin + performance.now()
  cluster.resume(victim)
  s = await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving), 10_000)
  // From its own log: after the resume, it served again only after it saw a committed view
  // listing it as up, i.e. after it rejoined.
  const after = readLog(cluster.dir, victim).filter((l) => l.mono >= resumedAtMono)
  const firstServing = after.findIndex((l) => l.event === 'lease.serving')
  const firstRejoinView = after.findIndex((l) => l.event === 'view.committed' && Array.isArray(l.up) && (l.up as string[]).includes(victim))
  t.ok(firstServing >= 0, 'served again after resume')
  t.ok(firstRejoinView >= 0 && firstRejoinView < firstServing, 'only after a committed view with it up')
  t.notOk(after.slice(0, Math.max(0, firstRejoinView)).some((l) => l.event === 'lease.serving'), 'no serving on the stale lease')
})
