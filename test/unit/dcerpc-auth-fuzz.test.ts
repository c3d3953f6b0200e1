// Fuzzes authenticated DCE/RPC associations in process: 20,000+ mutated protected PDUs (bad
// signatures, bit flips anywhere, replayed and skipped sequence numbers, truncated verifiers,
// auth_length and auth_pad_length lies, another auth type, level or context id), each on an
// association that had completed NTLMSSP or SPNEGO at packet integrity or privacy and made a few
// good calls first. None may reach the interface, none may throw; the server answers with a fault
// (ACCESS_DENIED or PROTO_ERROR) or nothing, and drops the association whenever it could no longer
// check what follows. SEED and AUTH_FUZZ_PDUS in the environment change the seed and the count.
import t from 'tap'
import { Prng } from '../../core/sim/prng.js'
import { FAULT, decodePdu } from '../../protocol/dcerpc/pdu-codec.js'
import { ECHO_OPNUM, RpcAuthHarness, USERS } from '../helpers/rpc-auth-harness.js'
import { FRAME_MUTATIONS } from '../helpers/auth-mutations.js'

const TOTAL = Number(process.env.AUTH_FUZZ_PDUS ?? 20_000)
const SEED = Number(process.env.SEED ?? 1616)
const alice = { user: USERS[1].user, password: USERS[1].password }
type Mutation = (frame: Buffer, rng: Prng, h: RpcAuthHarness) => Buffer

const MUTATIONS: Record<string, Mutation> = {
  ...FRAME_MUTATIONS,
  'replay': (f, _rng, h) => {
    // The same request signed under an earlier sequence number: send it twice, the second must fail.
    h.connection.receive(Buffer.from(f))
    h.takeRaw()
    h.calls.length = 0
    return f
  },
  'skipped sequence': (_f, _rng, h) => h.request(ECHO_OPNUM, Buffer.from('after a skipped sequence number')),
}
const NAMES = Object.keys(MUTATIONS)

t.test(`${TOTAL} mutated authenticated PDUs change nothing and crash nothing`, async (t) => {
  const rng = new Prng(SEED)
  const counts = new Map<string, number>()
  const answers = new Map<string, number>()
  let dropped = 0
  let reached = 0
  for (let i = 0; i < TOTAL; i++) {
    const type = rng.chance(0.5) ? 'spnego' : 'ntlmssp'
    const level = rng.chance(0.5) ? 'integrity' : 'privacy'
    const h = new RpcAuthHarness()
    const bound = h.handshake({ ...alice, type, level, authContextId: rng.int(0, 3) })
    if (!bound.ok) throw new Error(`handshake ${i}: ${bound.reason}`)
    // A few good calls first, so the sequence numbers and RC4 streams are not at their start.
    const good = rng.int(0, 2)
    for (let g = 0; g < good; g++) {
      const out = h.call(ECHO_OPNUM, Buffer.from(`good ${g}`))
      if (!('stub' in out)) throw new Error(`good call ${g} of ${i} failed: ${JSON.stringify(out)}`)
    }
    h.calls.length = 0
    const name = NAMES[rng.int(0, NAMES.length - 1)]
    counts.set(name, (counts.get(name) ?? 0) + 1)
    const stub = Buffer.alloc(rng.int(0, 300), rng.int(0, 255))
    const mutated = MUTATIONS[name](h.request(ECHO_OPNUM, stub), rng, h)
    try {
      h.connection.receive(mutated)
    } catch (err) {
      t.fail(`${name} (#${i}) threw: ${(err as Error).stack}`)
      break
    }
    if (h.calls.length > 0) {
      reached++
      t.fail(`${name} (#${i}) reached the interface`)
    }
    for (const frame of h.takeRaw()) {
      const d = decodePdu(frame)
      const what = d.ok ? (d.pdu.kind === 'fault' ? `fault 0x${d.pdu.status.toString(16)}` : d.pdu.kind) : 'undecodable'
      answers.set(what, (answers.get(what) ?? 0) + 1)
      if (!d.ok || d.pdu.kind !== 'fault' || (d.pdu.status !== FAULT.ACCESS_DENIED && d.pdu.status !== FAULT.PROTO_ERROR)) {
        t.fail(`${name} (#${i}) answered ${what}`)
      }
    }
    if (h.closed) dropped++
    h.connection.end()
  }
  t.equal(reached, 0, 'no mutated PDU reached the interface')
  t.ok(dropped > TOTAL * 0.9, `the association was dropped after ${dropped} of ${TOTAL} (the rest wait for bytes a lying frag_length promised)`)
  t.comment(`mutations: ${JSON.stringify(Object.fromEntries(counts))}`)
  t.comment(`answers: ${JSON.stringify(Object.fromEntries(answers))}`)
  for (const name of NAMES) t.ok((counts.get(name) ?? 0) > 0, `${name} was tried`)
})
