// The failover invariants can fail: (a) and (b) on a hand-made world, with their excuses, and
// then on the whole-system simulator with a fault planted in the code under test (a witness
// service that never hears of new views, a client slower than its bound). A checker that
// never fires would pass the random schedules just as well.
import t from 'tap'
import { FailoverInvariants, FailoverViolation, failoverBounds, type FailoverWorld } from '../../core/sim/failover-invariants.js'
import { ClusterSimulator } from '../../core/sim/cluster-simulator.js'
import { runClusterSchedule } from '../../core/sim/cluster-random-schedule.js'
import { simClientFactory } from '../../core/sim/sim-clients.js'
import { SimWitnessHost } from '../../core/sim/sim-witness-host.js'
import { SimFailoverClient } from '../../core/sim/sim-failover-client.js'
import { PROFILES, timingOf } from '../../core/quorum/profiles.js'
import type { ClientRegistration } from '../../core/sim/sim-client.js'

const BOUNDS = { notifyBoundMs: 1000, reactionBoundMs: 60, dataPathBoundMs: 1060 }

class FakeWorld implements FailoverWorld {
  data = '127.0.1.1'
  reg: ClientRegistration | null = { witnessAddress: '127.0.1.2', key: 'r2.1.1', forAddress: '127.0.1.1' }
  healthy = true
  clientIds = () => ['a']
  dataAddressOf = () => this.data
  registrationOf = () => this.reg
  addressOf = (node: string) => `127.0.1.${node.slice(5)}`
  nodeAt = (address: string) => `node-${address.split('.')[3]}`
  witnessHealthy = () => this.healthy
  registrationHeld = () => true
}

t.test('the bounds follow from the profile and the delays', async (t) => {
  const b = failoverBounds(timingOf(PROFILES.fast), 2, 10, 60)
  // lease 750 + interval 250 + 2 x 10 + 3 x 2
  t.equal(b.notifyBoundMs, 1026)
  t.equal(b.dataPathBoundMs, 1086)
  t.ok(failoverBounds(timingOf(PROFILES.ws2016), 2, 10, 60).notifyBoundMs > b.notifyBoundMs, 'a slower profile allows more')
})

t.test('(a) a healthy witness that never notifies is a violation at the bound, not before', async (t) => {
  const world = new FakeWorld()
  const inv = new FailoverInvariants(BOUNDS, world, 'seed 7')
  inv.onDeclared('node-1', true, 100)
  world.data = ''
  inv.check(1100)
  t.throws(() => inv.check(1105), FailoverViolation)
  t.throws(() => inv.check(1105), /\(a\) seed 7: client a registered with node-2 \(r2\.1\.1\) was not notified within 1000ms that node-1 was declared down at 100ms/)
})

t.test('(a) is met by an UNAVAILABLE notification, and excused when the witness is not healthy', async (t) => {
  const world = new FakeWorld()
  const inv = new FailoverInvariants(BOUNDS, world, 'seed 7')
  inv.onDeclared('node-1', true, 100)
  inv.onNotified('a', 'node-2', 'r2.1.1', 'node-1', true, false, 400)
  world.data = ''
  inv.check(5000)
  t.equal(inv.tally.notifyMet, 1)
  t.equal(inv.tally.notifyWorstMs, 300)

  const other = new FakeWorld()
  const excused = new FailoverInvariants(BOUNDS, other, 'seed 8')
  excused.onDeclared('node-1', true, 100)
  other.healthy = false
  other.data = ''
  excused.check(5000)
  t.equal(excused.tally.notifyExcused, 1, 'a witness cut off, paused or without quorum cannot be held to it')
})

t.test('(b) a client that keeps its data path on the declared node past its bound is a violation', async (t) => {
  const world = new FakeWorld()
  const inv = new FailoverInvariants(BOUNDS, world, 'seed 9')
  inv.onDeclared('node-1', true, 100)
  inv.onNotified('a', 'node-2', 'r2.1.1', 'node-1', true, false, 300)
  inv.check(360)
  t.throws(() => inv.check(365), /\(b\) seed 9: client a kept its data path on node-1 past 360ms .*it was notified at 300ms, plus 60ms to move/)
})

t.test('(b) holds a client that cannot know to nothing until it learns (its session reset)', async (t) => {
  const world = new FakeWorld()
  world.healthy = false
  const inv = new FailoverInvariants(BOUNDS, world, 'seed 10')
  inv.onDeclared('node-1', true, 100)
  inv.check(10_000)
  inv.onSessionReset('a', 'node-1', 10_000)
  inv.check(10_060)
  t.throws(() => inv.check(10_065), /\(b\) seed 10: .*its session was reset at 10000ms/)
})

t.test('a node declared up again owes nobody anything', async (t) => {
  const world = new FakeWorld()
  const inv = new FailoverInvariants(BOUNDS, world, 'seed 11')
  inv.onDeclared('node-1', true, 100)
  inv.onDeclared('node-1', false, 200)
  inv.check(10_000)
  t.equal(inv.pendingDuties(), 0)
})

t.test('planted bug: a witness service that never hears of new views fails (a) in the simulator', async (t) => {
  const original = SimWitnessHost.prototype.maybeUpdate
  const sim = new ClusterSimulator({ seed: 5, nodeCount: 3, quorumWitness: false, runName: 'planted' })
  t.ok(sim.runUntil(() => sim.converged(), 5000) >= 0)
  sim.addClient('a', simClientFactory(sim, 'a', { dataAddress: sim.addressOf('node-2'), witnessAddress: sim.addressOf('node-3'), share: 'share-1' }))
  sim.run(200)
  t.teardown(() => {
    SimWitnessHost.prototype.maybeUpdate = original
  })
  SimWitnessHost.prototype.maybeUpdate = () => []
  sim.partition([['node-2'], ['node-1', 'node-3']])
  t.throws(() => sim.run(5000), /\(a\) planted: client a registered with node-3 .* was not notified within 1\d\d\dms that node-2 was declared down/)
})

t.test('planted bug: a client that never moves its data path fails (b) in the simulator', async (t) => {
  const original = SimFailoverClient.prototype.dataAddress
  t.teardown(() => {
    SimFailoverClient.prototype.dataAddress = original
  })
  const stuck = new WeakMap<object, string>()
  SimFailoverClient.prototype.dataAddress = function (this: SimFailoverClient) {
    const now = original.call(this)
    if (now !== '' && !stuck.has(this)) stuck.set(this, now)
    return stuck.get(this) ?? ''
  }
  const sim = new ClusterSimulator({ seed: 5, nodeCount: 3, quorumWitness: false, runName: 'stuck client' })
  t.ok(sim.runUntil(() => sim.converged(), 5000) >= 0)
  sim.addClient('a', simClientFactory(sim, 'a', { dataAddress: sim.addressOf('node-2'), witnessAddress: sim.addressOf('node-3'), share: 'share-1' }))
  sim.run(200)
  sim.partition([['node-2'], ['node-1', 'node-3']])
  t.throws(() => sim.run(5000), /\(b\) stuck client: client a kept its data path on node-2 past \d+ms \(declared down at \d+ms; bound: it was notified at \d+ms, plus \d+ms to move/)
})

t.test('a schedule that breaks a bound names its seed and the command that replays it', async (t) => {
  // Clients react within a write interval; a 1 ms reaction bound is broken by the first one
  // whose session is reset before its data node is declared down.
  let failed: ReturnType<typeof runClusterSchedule> | null = null
  for (let seed = 1; seed <= 300 && !failed; seed++) {
    const r = runClusterSchedule(seed, { clientReactionMs: 1 })
    if (!r.ok) failed = r
  }
  t.ok(failed, 'some schedule trips the broken bound')
  t.match(failed?.violation ?? '', /^FailoverViolation: \(b\) seed (\d+): .* -- replay: npx tsx scripts\/cluster-simrun\.ts \1 --trace$/)
})
