// Storage fencing by persistent reservations (issue 17 item 2, second acceptance point), with real
// processes and the real wire: a wire client keeps many WRITEs outstanding on a CSV's owner; the
// owner is frozen (SIGSTOP) in the middle of them; the cluster declares it down, the leader and
// the CSV's new owner preempt its key at the storage array, and the new owner serves the CSV; a
// second client overwrites every block through the new owner; then the old owner resumes. What
// it had issued to the array before the freeze but not yet sent goes out under its preempted key,
// and the array refuses it (its log line, the LUN's refused-writes counter in `cluster status`);
// the file on storage is exactly what the new owner acknowledged. A round in which no write was
// between the owner's lease check and the array at the freeze shows no refusal: it is repeated.
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import { unwrapSmb2 } from '../../client/smb2/smb2-result.js'
import type { Cluster } from '../../cluster/cluster.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../../protocol/smb2/constants.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const BLOCK_BYTES = 64 * 1024
const BLOCKS = 192
/** WRITEs outstanding at once: more than the array client's 64 in flight, so that some wait behind the owner's lease check. */
const WRITERS = 128
const ROUNDS_MAX = 6
const RW = (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0

interface ArrayLogLine {
  readonly event?: string
  readonly initiator?: string
  readonly lun?: string
  readonly op?: string
  readonly mono: number
}

function arrayLog(dir: string): ArrayLogLine[] {
  return readFileSync(join(dir, 'logs', 'array.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ArrayLogLine)
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16)
}

async function connect(t: Test, cluster: Cluster, nodeId: string): Promise<Smb2Client> {
  const node = cluster.nodeConfig(nodeId)
  const user = cluster.credentials()!.users[0]
  const client = unwrapSmb2(await Smb2Client.connect({ host: node.clientAddress, port: node.smb2Port!, user: user.user, password: user.password, inFlightMax: WRITERS, requestTimeoutMs: 120_000 }))
  t.teardown(() => client.close())
  return client
}

t.test('a frozen CSV owner resumes and its late writes are refused by the storage array', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  t.teardown(() => cluster.closeAdmins())
  let s = await cluster.waitFor((st) => st.quorum && st.csvs.every((c) => c.servedBy.length === 1 && c.reservation?.holder === c.owner), 20_000)
  for (const c of s.csvs) t.equal(c.reservation?.holder, c.owner, `${c.name}: its owner holds the WERO reservation`)
  t.ok(s.csvs.every((c) => c.reservation?.registrations.length === 3), 'every node registered a key on every LUN')

  let fenced = false
  for (let round = 1; round <= ROUNDS_MAX && !fenced; round++) {
    s = await cluster.waitFor((st) => st.quorum && st.nodes.every((n) => n.state === 'up' && n.serving) && st.csvs.every((c) => c.servedBy.length === 1), 30_000)
    // A CSV owner that does not lead: its freeze moves only its CSV, not the leadership.
    const csv = s.csvs.find((c) => c.owner !== s.leader) ?? s.csvs[0]
    const victim = csv.owner
    const share = s.shares.find((x) => x.csv === csv.name)!.name
    const refusedBefore = csv.reservation?.refusedWrites ?? 0
    const file = `fence-${round}.bin`
    t.comment(`round ${round}: ${victim} owns ${csv.name} (${share}); freezing it mid-writes to ${file}`)

    const old = await connect(t, cluster, victim)
    const oldTree = unwrapSmb2(await old.treeConnect(share))
    const open = unwrapSmb2(await oldTree.create(file, { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: RW, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE }))
    let acked = 0
    let stop = false
    // Each writer owns its blocks and writes them one after another: WRITERS outstanding at once.
    void Array.from({ length: WRITERS }, async (_, w) => {
      for (let pass = 0; !stop; pass++) {
        for (let b = w; b < BLOCKS && !stop; b += WRITERS) {
          const r = await oldTree.write(open.fileId, b * BLOCK_BYTES, randomBytes(BLOCK_BYTES)).catch(() => null)
          if (!r?.ok) return
          acked++
        }
      }
    })
    // In the middle of writes: once some have been acknowledged and the writers keep the queue full.
    const ackedEnough = await until(() => acked >= BLOCKS, 30_000)
    t.ok(ackedEnough, `round ${round}: writes acknowledged before the freeze (${acked})`)
    cluster.pause(victim)
    stop = true
    const frozenAt = performance.timeOrigin + performance.now()

    s = await cluster.waitFor((st) => st.csvs.some((c) => c.name === csv.name && c.owner !== victim && c.owner !== '' && c.servedBy.length === 1 && c.reservation?.holder === c.owner), 30_000)
    const taker = s.csvs.find((c) => c.name === csv.name)!
    t.not(taker.owner, victim, `round ${round}: ${csv.name} taken over by ${taker.owner}, which holds the reservation`)
    t.notOk(taker.reservation?.registrations.some((k) => k.node === victim), `round ${round}: ${victim}'s key is preempted on ${csv.name}`)

    // The acknowledged history from here on: every block written through the new owner.
    const fresh = await connect(t, cluster, taker.owner)
    const freshTree = unwrapSmb2(await fresh.treeConnect(share))
    const again = unwrapSmb2(await freshTree.create(file, { disposition: DISPOSITION.OPEN_IF, desiredAccess: RW, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE }))
    const expected: Buffer[] = []
    for (let b = 0; b < BLOCKS; b++) {
      const data = randomBytes(BLOCK_BYTES)
      unwrapSmb2(await freshTree.write(again.fileId, b * BLOCK_BYTES, data))
      expected.push(data)
    }
    unwrapSmb2(await freshTree.close(again.fileId))
    old.close().catch(() => undefined)

    cluster.resume(victim)
    // Back in the cluster: it rejoined and registered a new key (its old one stays preempted).
    s = await cluster.waitFor((st) => st.nodes.every((n) => n.state === 'up' && n.serving) && st.csvs.every((c) => c.reservation?.registrations.some((k) => k.node === victim)), 30_000)
    const refused = arrayLog(cluster.dir).filter((l) => l.event === 'array.io.refused' && l.initiator === victim && l.mono >= frozenAt)
    const refusedAfter = s.csvs.find((c) => c.name === csv.name)?.reservation?.refusedWrites ?? 0

    // Whatever happened at the freeze, the file is what the new owner acknowledged.
    const onStorage = readFileSync(join(cluster.dir, 'storage', csv.name, share, file))
    t.equal(onStorage.length, BLOCKS * BLOCK_BYTES, `round ${round}: the file's size is the acknowledged one`)
    const differing = expected.map((e, b) => (digest(onStorage.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES)) === digest(e) ? -1 : b)).filter((b) => b >= 0)
    t.same(differing, [], `round ${round}: every block is the new owner's acknowledged write`)

    if (refused.length > 0) {
      fenced = true
      t.ok(refusedAfter > refusedBefore, `round ${round}: cluster status counts ${refusedAfter - refusedBefore} refused write(s) on ${csv.name}`)
      t.ok(refused.every((l) => l.lun === csv.name), `round ${round}: ${refused.length} late IO of ${victim} refused by the array (${[...new Set(refused.map((l) => l.op))].join(', ')})`)
    } else t.comment(`round ${round}: no write of ${victim} was between its lease check and the array at the freeze; again`)
  }
  t.ok(fenced, `a resumed owner's late write was refused by the array within ${ROUNDS_MAX} rounds`)
})

async function until(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}
