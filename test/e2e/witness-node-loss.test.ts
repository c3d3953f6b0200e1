// A failover client whose witness node is lost — killed, frozen, or cut off from it by the
// network — notices within the bound of the fast profile, registers with another node, and
// still gets what it is owed (issue 17 item 5, acceptance: "a test per way of losing it").
//
// The bound (core/failover/witness-loss.ts): the client asks for a 2 s keep-alive in the fast
// profile, so a live witness answers every AsyncNotify within 2 s; one unanswered for 2 s + 2 s
// is lost, which is noticed within 6 s of any fault (witnessLossNoticeBoundMs). A killed node's
// connection closes, which is a loss at once. Each test measures, on the cross-process
// monotonic clock, the time from the fault to the client's witness.lost and to its
// witness.reregistered, prints them, and asserts both are within 8 s (the notice bound and 2 s
// for the re-registration and load; issue 17 asks for 10 s); then checks that
// the new witness node holds the registration, and that a notification sent after the loss
// reaches the client there and moves it. The last test loses the data node while the witness is
// frozen: the RESOURCE_CHANGE queued on the frozen node never comes, and the client's catching-
// up on its new witness node fails it over instead.
//
// The network cut is a relay the test owns between the client and the witness node's DCE/RPC
// port, which stops carrying bytes both ways without closing anything: self-applied `net
// partition` cuts only the nodes' peer traffic, never a client's connection, and nftables rules
// (`cluster up --netns`) are not there yet.
import t, { type Test } from 'tap'
import { FailoverClient } from '../../client/failover-client.js'
import type { Cluster } from '../../cluster/cluster.js'
import { witnessKeepAliveTimeoutSFor, witnessLossNoticeBoundMs, witnessSilenceDeadlineMs } from '../../core/failover/witness-loss.js'
import { MESSAGE_TYPE } from '../../protocol/swn/message-buffer.js'
import { monoNowMs } from '../../runtime/clock.js'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, readLog, upCluster, type Teardown } from '../helpers/cluster-fixture.js'
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js'
import { until } from '../helpers/until.js'

const KEEP_ALIVE_S = witnessKeepAliveTimeoutSFor('fast')
/** Noticed, and registered elsewhere, within 8 s in the fast profile (issue 17: 10 s). */
const BOUND_MS = witnessLossNoticeBoundMs(KEEP_ALIVE_S) + 2_000

interface Recorded {
  readonly name: string
  readonly mono: number
  readonly [field: string]: unknown
}

interface Setup {
  readonly cluster: Cluster
  readonly client: FailoverClient
  readonly events: Recorded[]
  /** The data node, the witness node to lose, and the nodes left. */
  readonly dataNode: string
  readonly witnessNode: string
  readonly others: readonly string[]
  readonly relays: ReadonlyMap<string, TcpRelay>
  ip(id: string): string
  nodeOf(ip: string): string
}

const RECORDED = ['registered', 'notified', 'failover-start', 'reconnected', 'witness.lost', 'witness.reregistered', 'witness.reconciled'] as const

/**
 * A cluster and a client whose data node and witness node are both not the leader (so that the
 * loss measured is the witness role's alone), registered with the witness node. With relays,
 * the client reaches every node's witness through a relay of the test's.
 */
async function setup(t: Teardown, name: string, opts: { nodes: number; fileWitness?: boolean; relays?: boolean }): Promise<Setup> {
  const cluster = await upCluster(t, { nodes: opts.nodes, ...(opts.fileWitness ? { witness: 'file' as const } : {}) })
  const status = await cluster.waitFor((s) => s.quorum && s.nodes.every((n) => n.serving) && s.csvs.every((c) => c.servedBy.length === 1), 20_000)
  const followers = status.nodes.map((n) => n.id).filter((id) => id !== status.leader)
  const [dataNode, witnessNode] = followers
  const others = status.nodes.map((n) => n.id).filter((id) => id !== dataNode && id !== witnessNode)
  const ip = (id: string) => cluster.nodeConfig(id).clientAddress
  const nodeOf = (addr: string) => cluster.config.nodes.find((n) => n.clientAddress === addr)?.id ?? addr
  const relays = new Map<string, TcpRelay>()
  if (opts.relays) {
    for (const n of cluster.config.nodes) {
      const relay = await startTcpRelay(n.clientAddress, n.clientAddress, n.dcerpcPort ?? 0)
      t.teardown(() => relay.close())
      relays.set(n.clientAddress, relay)
    }
  }
  const client = new FailoverClient({
    resolve: () => cluster.addresses().map((a) => ({ ...a, dcerpcPort: relays.get(a.ip)?.port ?? a.dcerpcPort })),
    netName: cluster.config.name,
    share: 'share-1',
    credential: cluster.credentials()!.users[0],
    clientName: name,
    preferredIp: ip(dataNode),
    preferredWitnessIp: ip(witnessNode),
    keepAliveTimeoutS: KEEP_ALIVE_S,
    requestTimeoutMs: 30_000,
  })
  t.teardown(() => client.stop())
  const events: Recorded[] = []
  for (const e of RECORDED) client.on(e, (fields: object) => events.push({ name: e, mono: monoNowMs(), ...fields }))
  await client.start()
  await until('the first registration', async () => events.find((e) => e.name === 'registered') ?? null, 20_000)
  return { cluster, client, events, dataNode, witnessNode, others, relays, ip, nodeOf }
}

function find(events: readonly Recorded[], name: string, after = 0): Recorded | null {
  return events.find((e, i) => i >= after && e.name === name) ?? null
}

/** Waits for the loss and the re-registration after faultMono; asserts and prints their times. */
async function noticedAndReregistered(t: Test, s: Setup, way: string, faultMono: number, reason: string) {
  const from = s.events.length
  const lost = await until(`${way}: witness.lost`, async () => find(s.events, 'witness.lost', from), 30_000)
  const rereg = await until(`${way}: witness.reregistered`, async () => find(s.events, 'witness.reregistered', from), 30_000)
  const noticedMs = Math.round(Number(lost.atMs) - faultMono)
  const reregisteredMs = Math.round(Number(rereg.atMs) - faultMono)
  t.comment(`${way}: noticed ${noticedMs} ms after the fault (${String(lost.reason)}), registered with ${s.nodeOf(String(rereg.witness))} ${reregisteredMs} ms after it (2 cores shared with other test runs)`)
  t.equal(lost.reason, reason, `${way}: lost because ${reason}`)
  t.equal(lost.witness, s.ip(s.witnessNode), 'the witness node it had')
  t.ok(noticedMs >= 0 && noticedMs <= BOUND_MS, `${way}: noticed within ${BOUND_MS} ms (${noticedMs} ms)`)
  t.ok(reregisteredMs <= BOUND_MS, `${way}: registered elsewhere within ${BOUND_MS} ms (${reregisteredMs} ms)`)
  t.not(rereg.witness, s.ip(s.witnessNode), 'with another node')
  t.not(rereg.witness, s.ip(s.dataNode), 'not its data node')
  t.equal(s.client.witnessNodeIp, rereg.witness, 'the client names its new witness node')
  return { lost, rereg, newWitnessNode: s.nodeOf(String(rereg.witness)) }
}

/** The new witness node's service holds the client's registration, for its data node, with its keep-alive. */
async function registrationOn(t: Test, s: Setup, node: string, clientName: string) {
  const reply = await s.cluster.admin(node).witnessList({ clientComputerName: `^${clientName}$` })
  t.equal(reply.registrations.length, 1, `${node}'s witness service has the registration`)
  t.match(reply.registrations[0], { ipAddress: s.ip(s.dataNode), shareName: 'share-1', keepAliveTimeout: KEEP_ALIVE_S, node }, 'for the data node and share, with the keep-alive asked for')
}

/** A CLIENT_MOVE sent by the new witness node's admin reaches the client and moves its data path there. */
async function clientMoveReachesIt(t: Test, s: Setup, newWitnessNode: string, clientName: string) {
  const from = s.events.length
  const moved = await s.cluster.admin(newWitnessNode).witnessAction({ action: 'client-move', filter: { clientComputerName: `^${clientName}$` }, newNode: newWitnessNode })
  t.same([moved.ok, moved.affected], [true, 1], 'client-move on the new witness node')
  const notified = await until('CLIENT_MOVE', async () => s.events.find((e, i) => i >= from && e.name === 'notified' && e.type === MESSAGE_TYPE.CLIENT_MOVE) ?? null, 20_000)
  t.ok(notified, 'the notification reached the client through its new registration')
  const reconnected = await until('the move', async () => find(s.events, 'reconnected', from), 20_000)
  t.match(reconnected, { cause: 'client-move', from: s.ip(s.dataNode), to: s.ip(newWitnessNode) }, 'and moved it')
}

async function writesAndReads(t: Test, client: FailoverClient, path: string) {
  const handle = await client.open(path)
  const bytes = Buffer.from(`${path} after the witness loss`)
  await client.write(handle, 0, bytes)
  t.same(await client.read(handle, 0, bytes.length), bytes, 'the data path works')
  await client.close(handle)
}

t.test('killed witness node: the closed connection is a loss at once; registered elsewhere; a CLIENT_MOVE reaches it there', async (t) => {
  const name = 'witloss-kill'
  const s = await setup(t, name, { nodes: 3 })
  const handle = await s.client.open('witness-kill.bin')
  await s.client.write(handle, 0, Buffer.from('before'))
  const faultMono = monoNowMs()
  s.cluster.kill(s.witnessNode)
  const { newWitnessNode } = await noticedAndReregistered(t, s, 'killed', faultMono, 'connection-closed')
  t.equal(newWitnessNode, s.others[0], 'the node left')
  await registrationOn(t, s, newWitnessNode, name)
  t.equal(s.client.dataNodeIp, s.ip(s.dataNode), 'the data path did not move for the witness')
  await clientMoveReachesIt(t, s, newWitnessNode, name)
  t.same(await s.client.read(handle, 0, 6), Buffer.from('before'), 'the handle followed the move')
  await s.client.close(handle)
})

t.test('frozen witness node: AsyncNotify unanswered past keep-alive + grace is a loss; registered elsewhere; a CLIENT_MOVE reaches it there', async (t) => {
  const name = 'witloss-pause'
  const s = await setup(t, name, { nodes: 3 })
  const faultMono = monoNowMs()
  pauseWitnessNode(t, s)
  const { lost, newWitnessNode } = await noticedAndReregistered(t, s, 'frozen', faultMono, 'no-answer')
  t.ok(Number(lost.atMs) - faultMono <= witnessSilenceDeadlineMs(KEEP_ALIVE_S) + 1_000, 'within keep-alive + grace of the fault (and a second of load)')
  t.equal(newWitnessNode, s.others[0])
  await registrationOn(t, s, newWitnessNode, name)
  await clientMoveReachesIt(t, s, newWitnessNode, name)
  await writesAndReads(t, s.client, 'witness-pause.bin')
  s.cluster.resume(s.witnessNode)
})

t.test('witness node cut off from the client (a silent network): a loss after keep-alive + grace; registered elsewhere; the data node\'s RESOURCE_CHANGE reaches it there', async (t) => {
  const name = 'witloss-cut'
  const s = await setup(t, name, { nodes: 3, relays: true })
  const key = String(find(s.events, 'registered')!.registration)
  // The server honours the keep-alive asked for (MS-SWN 3.1.4.5): its first ERROR_TIMEOUT comes
  // 2 s after the AsyncNotify (its timer ticks every 100 ms), through the relay.
  const log = () => readLog(s.cluster.dir, s.witnessNode)
  const timedOut = await until('the witness\'s first keep-alive timeout', async () => log().find((l) => l.event === 'witness.notify.timeout' && l.registration === key) ?? null, 15_000)
  const registeredLine = log().find((l) => l.event === 'witness.registered' && l.registration === key)
  t.ok(registeredLine, 'the registration is in the witness node\'s log')
  const cycleMs = timedOut.mono - registeredLine!.mono
  t.comment(`the witness answered ERROR_TIMEOUT ${Math.round(cycleMs)} ms after the registration (keep-alive ${KEEP_ALIVE_S} s)`)
  t.ok(cycleMs >= KEEP_ALIVE_S * 1000 - 150 && cycleMs < witnessSilenceDeadlineMs(KEEP_ALIVE_S), 'after the keep-alive, before the client\'s grace ends')

  const faultMono = monoNowMs()
  s.relays.get(s.ip(s.witnessNode))!.cut()
  const { newWitnessNode } = await noticedAndReregistered(t, s, 'cut off', faultMono, 'no-answer')
  t.equal(newWitnessNode, s.others[0])
  const status = await s.cluster.status()
  t.ok(status.nodes.find((n) => n.id === s.witnessNode)?.serving, 'the witness node itself still serves: only the client lost it')
  await registrationOn(t, s, newWitnessNode, name)

  // The data node dies: the new witness node sends RESOURCE_CHANGE UNAVAILABLE, which moves the
  // (idle) client; its data path had no request in flight to notice it by.
  const from = s.events.length
  s.cluster.kill(s.dataNode)
  const started = await until('the failover', async () => find(s.events, 'failover-start', from), 20_000)
  t.equal(started.cause, 'witness-unavailable', 'driven by the witness notification')
  const notified = s.events.find((e, i) => i >= from && e.name === 'notified')
  t.equal(notified?.registration, String(find(s.events, 'witness.reregistered')!.registration), 'on the new registration')
  await until('reconnected', async () => find(s.events, 'reconnected', from), 20_000)
  await writesAndReads(t, s.client, 'witness-cut.bin')
})

t.test('witness node partitioned from the cluster (self-applied net partition): it stops serving, the client\'s next AsyncNotify is refused; registered elsewhere', async (t) => {
  // Self-applied partitions cut the nodes' peer traffic only: the client still reaches the
  // witness node, which, without quorum, answers its keep-alive ERROR_TIMEOUT and then refuses
  // the next AsyncNotify (a fault): a loss within the keep-alive.
  const name = 'witloss-partition'
  const s = await setup(t, name, { nodes: 3 })
  const faultMono = monoNowMs()
  await s.cluster.partition([[s.witnessNode], [s.dataNode, ...s.others]])
  t.teardown(() => s.cluster.heal().catch(() => undefined))
  const { newWitnessNode } = await noticedAndReregistered(t, s, 'partitioned', faultMono, 'refused')
  t.equal(newWitnessNode, s.others[0])
  await registrationOn(t, s, newWitnessNode, name)
  await clientMoveReachesIt(t, s, newWitnessNode, name)
  await writesAndReads(t, s.client, 'witness-partition.bin')
})

t.test('owed notification: the data node dies while the witness node is frozen; the client catches up on its new witness node and fails over', async (t) => {
  // Four nodes and the file-share witness: with the witness node frozen and the data node
  // killed, two nodes and the witness keep quorum (3 of 5 votes).
  const name = 'witloss-owed'
  const s = await setup(t, name, { nodes: 4, fileWitness: true })
  const handle = await s.client.open('witness-owed.bin')
  await s.client.write(handle, 0, Buffer.from('before both faults'))
  const faultMono = monoNowMs()
  pauseWitnessNode(t, s)
  s.cluster.kill(s.dataNode)
  // The cluster declares the data node down; its RESOURCE_CHANGE waits on the frozen witness.
  await s.cluster.waitFor((st) => st.quorum && st.nodes.find((n) => n.id === s.dataNode)?.state === 'down', 20_000)
  const { newWitnessNode } = await noticedAndReregistered(t, s, 'frozen, data node killed', faultMono, 'no-answer')
  t.ok(s.others.includes(newWitnessNode), 'registered with a node that is up')
  const reconciled = await until('the catching-up', async () => find(s.events, 'witness.reconciled'), 20_000)
  t.match(reconciled, { dataState: 'unavailable', failover: true, data: s.ip(s.dataNode) }, 'the new witness node\'s list shows the data node unavailable')
  const started = await until('the failover', async () => find(s.events, 'failover-start'), 20_000)
  t.equal(started.cause, 'witness-reconciled', 'the failover the missed RESOURCE_CHANGE would have started')
  const before = s.events.slice(0, s.events.indexOf(started))
  t.notOk(before.some((e) => e.name === 'notified'), 'the RESOURCE_CHANGE itself never came (it is queued on the frozen node)')
  const reconnected = await until('reconnected', async () => find(s.events, 'reconnected'), 30_000)
  t.comment(`owed: failed over ${Math.round(reconnected.mono - faultMono)} ms after the faults`)
  t.ok(s.others.map(s.ip).includes(String(reconnected.to)), 'to a node that is up')
  t.same(await s.client.read(handle, 0, 18), Buffer.from('before both faults'), 'the handle came back (DH2C) with its bytes')
  await s.client.write(handle, 18, Buffer.from(', after'))
  t.same(await s.client.read(handle, 0, 25), Buffer.from('before both faults, after'))
  await s.client.close(handle)
  s.cluster.resume(s.witnessNode)
})

t.test('swlab client run names its witness node, and its JSON and event log the loss and the re-registration', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const child = spawn(process.execPath, [CLI, 'client', 'run', '--dir', cluster.dir, '--node', 'node-1', '--duration', '8', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => (out += b))
  child.stderr.on('data', (b: Buffer) => (err += b))
  t.teardown(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const eventLog = join(cluster.dir, 'clients', `cli-${child.pid}.events.ndjson`)
  const lines = () => (existsSync(eventLog) ? readFileSync(eventLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [])
  const registered = await until('the CLI client\'s registration', async () => lines().find((l) => l.event === 'client.registered') ?? null, 20_000)
  const witnessNode = cluster.config.nodes.find((n) => n.clientAddress === registered.witness)!.id
  cluster.kill(witnessNode)
  t.equal(await exited, 0, err)
  const result = JSON.parse(out)
  const lost = result.witnessEvents.find((e: { event: string }) => e.event === 'witness.lost')
  const rereg = result.witnessEvents.find((e: { event: string }) => e.event === 'witness.reregistered')
  t.match(lost, { witnessNode, reason: 'connection-closed', atMs: Number }, 'the JSON names the lost witness node, why and when')
  t.match(rereg, { fromNode: witnessNode, afterMs: Number, atMs: Number }, 'and the re-registration')
  t.not(result.witnessNode, witnessNode, 'the witness node it ended with')
  t.equal(result.witnessNode, rereg.witnessNode)
  t.ok(lines().some((l) => l.event === 'client.witness.lost' && l.reason === 'connection-closed'), 'the event log has client.witness.lost')
  t.ok(lines().some((l) => l.event === 'client.witness.reregistered'), 'and client.witness.reregistered')
  t.same(result.lost, [], 'no acknowledged write lost')
  t.same(result.errors, [])
})

/** Freezes the client's witness node; resumed at the end, so that the cluster's teardown stops it as any other node. */
function pauseWitnessNode(t: Test, s: { readonly cluster: Cluster; readonly witnessNode: string }): void {
  s.cluster.pause(s.witnessNode)
  t.teardown(() => {
    try {
      s.cluster.resume(s.witnessNode)
    } catch {
      // already down
    }
  })
}
