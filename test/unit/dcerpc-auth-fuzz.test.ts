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

const TOTAL = Number(process.env.AUTH_FUZZ_PDUS ?? 20_000)
const SEED = Number(process.env.SEED ?? 1616)
const alice = { user: USERS[1].user, password: USERS[1].password }
const SIGNATURE_BYTES = 16
const TRAILER_BYTES = 8

type Mutation = (frame: Buffer, rng: Prng, h: RpcAuthHarness) => Buffer

function setLengths(frame: Buffer, authLength?: number): Buffer {
  frame.writeUInt16LE(frame.length, 8)
  if (authLength !== undefined) frame.writeUInt16LE(authLength, 10)
  return frame
}

const MUTATIONS: Record<string, Mutation> = {
  'signature bit': (f, rng) => {
    f[f.length - 1 - rng.int(0, SIGNATURE_BYTES - 1)] ^= 1 << rng.int(0, 7)
    return f
  },
  'checksum byte': (f, rng) => {
    f[f.length - SIGNATURE_BYTES + 4 + rng.int(0, 7)] ^= rng.int(1, 255)
    return f
  },
  'sequence number': (f, rng) => {
    f.writeUInt32LE((f.readUInt32LE(f.length - 4) + rng.int(1, 1000)) >>> 0, f.length - 4)
    return f
  },
  'stub bit': (f, rng) => {
    const stubEnd = f.length - SIGNATURE_BYTES - TRAILER_BYTES
    if (stubEnd > 24) f[rng.int(24, stubEnd - 1)] ^= 1 << rng.int(0, 7)
    else f[f.length - 1] ^= 1
    return f
  },
  'any bit': (f, rng) => {
    f[rng.int(0, f.length - 1)] ^= 1 << rng.int(0, 7)
    return f
  },
  'header byte': (f, rng) => {
    f[rng.int(0, 23)] ^= rng.int(1, 255)
    return f
  },
  'truncated verifier': (f, rng) => {
    const cut = rng.int(1, SIGNATURE_BYTES)
    return setLengths(Buffer.from(f.subarray(0, f.length - cut)), SIGNATURE_BYTES - cut)
  },
  'truncated verifier, auth_length unchanged': (f, rng) => setLengths(Buffer.from(f.subarray(0, f.length - rng.int(1, SIGNATURE_BYTES)))),
  'auth_length lie': (f, rng) => {
    let lie = rng.int(0, 0xffff)
    if (lie === SIGNATURE_BYTES) lie = 0
    f.writeUInt16LE(lie, 10)
    return f
  },
  'auth_length small lie': (f, rng) => {
    f.writeUInt16LE(SIGNATURE_BYTES + rng.int(-8, 8) || 1, 10)
    if (f.readUInt16LE(10) === SIGNATURE_BYTES) f.writeUInt16LE(SIGNATURE_BYTES + 4, 10)
    return f
  },
  'auth_pad_length lie': (f, rng) => {
    f[f.length - SIGNATURE_BYTES - TRAILER_BYTES + 2] ^= rng.int(1, 255)
    return f
  },
  'auth level change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES + 1
    const was = f[at]
    let level = rng.int(0, 7)
    if (level === was) level = was === 5 ? 6 : 5
    f[at] = level
    return f
  },
  'auth type change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES
    f[at] = [0, 9, 10, 16, 68, 255].filter((x) => x !== f[at])[rng.int(0, 4)]
    return f
  },
  'auth context id change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES + 4
    f.writeUInt32LE((f.readUInt32LE(at) + rng.int(1, 0xffff)) >>> 0, at)
    return f
  },
  'verifier removed': (f) => {
    const out = Buffer.from(f.subarray(0, f.length - SIGNATURE_BYTES - TRAILER_BYTES))
    return setLengths(out, 0)
  },
  'extra verifier bytes': (f, rng) => {
    const extra = rng.int(1, 64)
    return setLengths(Buffer.concat([f, Buffer.alloc(extra, rng.int(0, 255))]), SIGNATURE_BYTES + extra)
  },
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
