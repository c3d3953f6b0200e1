// Fuzzes a running node's witness on the real wire with mutated authenticated PDUs: each session
// binds with SPNEGO or NTLMSSP at packet integrity or privacy as a cluster user, makes a few good
// calls, then sends one protected request mutated so that it must be refused (bad signatures, bit
// flips anywhere, replayed and skipped sequence numbers, truncated verifiers, auth_length and pad
// lies, another auth type, level or context id; test/helpers/auth-mutations.ts). Afterwards the
// node process is the same and alive, still serves a fresh authenticated client, holds exactly
// the registrations it held before (none made, none lost), has no AsyncNotify left pending, and
// its RSS stayed bounded. Every session whose mutated PDU the server can judge must end with the
// server closing the association (a frag_length lie leaves it waiting for bytes: the client
// closes those). test/unit/dcerpc-auth-fuzz.test.ts checks the fault codes of the same mutations
// in process. SEED and AUTH_FUZZ_PDUS in the environment change the seed and the count.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { DcerpcWitnessClient } from '../../client/dcerpc-witness-client.js'
import { Prng } from '../../core/sim/prng.js'
import { encodeRequest } from '../../protocol/dcerpc/pdu-codec.js'
import { WITNESS_OPNUM } from '../../protocol/dcerpc/witness-ndr.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { FRAME_MUTATIONS } from '../helpers/auth-mutations.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const NET = '127.0.89'
const NODE = 'node-1'
const TOTAL = Number(process.env.AUTH_FUZZ_PDUS ?? 20_000)
const SEED = Number(process.env.SEED ?? 8989)
const PARALLEL = 8
/** A session whose server neither answers nor closes within this is waiting on a frag_length lie. */
const CLOSE_WAIT_MS = 3_000
const RSS_GROWTH_MAX_MB = 150
const NAMES = [...Object.keys(FRAME_MUTATIONS), 'replay', 'skipped sequence']

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  return Math.round(Number((line ?? '0').replace(/\D+/g, '')) / 1024)
}

async function closedWithin(client: DcerpcWitnessClient, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (client.closed) return true
    await new Promise((r) => setTimeout(r, 5))
  }
  return client.closed
}

t.test(`${TOTAL} mutated authenticated PDUs on the wire change nothing and crash nothing`, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: NET })
  const status = await cluster.status()
  const node = status.nodes.find((n) => n.id === NODE)!
  const pid = node.pid
  const { address, port } = node.dcerpc!
  const alice = cluster.credentials()!.users[0]
  const auth = { user: alice.user, password: alice.password }

  const owner = await DcerpcWitnessClient.connect(address, port, { auth: { ...auth, level: 'privacy' } })
  t.teardown(() => owner.close())
  const reg = await owner.register({ netName: cluster.config.name, ipAddress: cluster.config.nodes[1].clientAddress, clientComputerName: 'AUTH-FUZZ-SEED' })
  t.equal(reg.result, WIN_ERROR.SUCCESS)
  const before = await cluster.admin(NODE).witnessList({})
  const rssBefore = rssMb(pid)

  const rng = new Prng(SEED)
  const counts = new Map<string, number>()
  let started = 0
  let serverClosed = 0
  let waiting = 0
  const worker = async (): Promise<void> => {
    while (started < TOTAL) {
      const index = started++
      const name = NAMES[rng.int(0, NAMES.length - 1)]
      counts.set(name, (counts.get(name) ?? 0) + 1)
      const sessionRng = new Prng(SEED * 7 + index)
      const client = await DcerpcWitnessClient.connect(address, port, {
        auth: { ...auth, type: sessionRng.chance(0.5) ? 'spnego' : 'ntlmssp', level: sessionRng.chance(0.5) ? 'integrity' : 'privacy', authContextId: sessionRng.int(0, 3) },
      })
      try {
        if (sessionRng.chance(0.3)) t.equal((await client.getInterfaceList()).result, WIN_ERROR.SUCCESS)
        const request = (): Buffer => client.protect(encodeRequest({ callId: 0x7000_0000 + index, contextId: 0, opnum: WITNESS_OPNUM.GetInterfaceList, stub: Buffer.alloc(sessionRng.int(0, 40)) }))
        let frame: Buffer
        if (name === 'replay') {
          frame = request()
          client.sendRaw(frame)
        } else if (name === 'skipped sequence') {
          request()
          frame = request()
        } else {
          frame = FRAME_MUTATIONS[name](request(), sessionRng)
        }
        client.sendRaw(frame)
        if (await closedWithin(client, CLOSE_WAIT_MS)) serverClosed++
        else waiting++
      } finally {
        client.close()
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, () => worker()))
  t.comment(`mutations: ${JSON.stringify(Object.fromEntries(counts))}`)
  t.comment(`server closed ${serverClosed}, left waiting for promised bytes ${waiting}`)
  t.ok(serverClosed >= TOTAL * 0.9, `the server dropped the association after ${serverClosed} of ${TOTAL} mutated PDUs`)

  const after = await cluster.status()
  t.equal(after.nodes.find((n) => n.id === NODE)?.pid, pid, 'the same node process')
  t.ok(after.nodes.find((n) => n.id === NODE)?.serving, 'still serving')
  const listed = await cluster.admin(NODE).witnessList({})
  t.same(
    listed.registrations.map((r) => [r.registrationId, r.principal, r.clientComputerName]),
    before.registrations.map((r) => [r.registrationId, r.principal, r.clientComputerName]),
    'exactly the registrations it held before',
  )
  t.notOk(listed.registrations.some((r) => r.asyncNotifyPending), 'no AsyncNotify pending')
  const fresh = await DcerpcWitnessClient.connect(address, port, { auth: { ...auth, level: 'privacy' } })
  t.teardown(() => fresh.close())
  t.equal((await fresh.getInterfaceList()).interfaces?.length, 3, 'a fresh authenticated client is served')
  t.equal((await fresh.unRegister(reg.key)).result, WIN_ERROR.SUCCESS, "the seed registration is still its principal's")
  const growth = rssMb(pid) - rssBefore
  t.ok(growth < RSS_GROWTH_MAX_MB, `RSS grew ${growth} MB (bound ${RSS_GROWTH_MAX_MB})`)
})
