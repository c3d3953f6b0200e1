// Fuzzes a running node's witness service on the real wire (DCE/RPC over TCP, NDR20) with
// 50,000+ random and mutated PDUs over many connections, then checks that nothing broke: the
// node process is the same and alive, it still serves, a fresh client gets a correct
// GetInterfaceList and can Register and UnRegister, its RSS stayed bounded (frag_length claims in
// particular never make it allocate), and AsyncNotify calls parked on connections that went away
// are not left pending.
//
// The PDUs are grouped into sessions of about 200 on one connection. Most sessions bind, then send
// PDUs the server should survive without closing (mutated stubs, unknown opnums and contexts, huge
// alloc_hints, alter_contexts with unknown syntaxes, co_cancel and orphaned for unknown calls,
// fragments of calls that never finish), then an alter_context and a GetInterfaceList whose answer
// shows that everything before it was processed, then often a PDU that should make the server
// close (a lying frag_length, a second bind, a PDU type a client never sends, random bytes). Other
// sessions never bind, bind with NDR64 only, or send only raw bytes. The server may answer with
// faults or close the connection; a session that gets neither its last answer nor a close within
// a generous deadline counts as a hang and fails the test.
//
// SEED and FUZZ_PDUS in the environment change the seed and the number of PDUs.
import t from 'tap'
import { readFileSync } from 'node:fs'
import type { Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import { DcerpcWitnessClient, connectRaw, encodeControl, fragmentRequest, type DcerpcClientError } from '../../client/dcerpc-witness-client.js'
import type { Cluster, ClusterStatus } from '../../cluster/cluster.js'
import { Prng } from '../../core/sim/prng.js'
import {
  DCERPC_DEFAULT_MAX_FRAG_BYTES,
  NDR20_SYNTAX,
  NDR64_SYNTAX,
  PFC,
  PTYPE,
  bindTimeFeatureSyntax,
  decodePdu,
  encodeBind,
  encodeBindAck,
  encodeFault,
  encodeRequest,
  encodeResponse,
  peekFragLength,
  syntaxVersion,
  type PresentationContext,
  type SyntaxId,
} from '../../protocol/dcerpc/pdu-codec.js'
import { WITNESS_INTERFACE, WITNESS_OPNUM, decodeRegisterResponse, encodeWitnessRequest } from '../../protocol/dcerpc/witness-ndr.js'
import type { WitnessCall } from '../../protocol/swn/witness-calls.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { upCluster } from '../helpers/cluster-fixture.js'

/** Client addresses of their own, so this test's ports never meet another test's. */
const NET = '127.0.94'
const NODE = 'node-1'
const TOTAL_PDUS = Number(process.env.FUZZ_PDUS ?? 50_000)
const SEED = Number(process.env.SEED ?? 9494)
const PDUS_PER_SESSION = 200
const SESSIONS_IN_PARALLEL = 8
/** A session that neither gets its last answer nor sees the server close within this is a hang. */
const SESSION_DEADLINE_MS = 20_000
const RSS_GROWTH_MAX_MB = 200
const HANGUP_CONNECTIONS = 1500
const HANGUP_PARALLEL = 32
/** The server refuses frames above its max_recv_frag (5840), so one byte more is refused too. */
const WITNESS_SYNTAX: SyntaxId = { uuid: WITNESS_INTERFACE.uuid, version: syntaxVersion(WITNESS_INTERFACE.version.major, WITNESS_INTERFACE.version.minor) }
const V1 = 0x00010001
const V2 = 0x00020000
const KEY_POOL_MAX = 300

interface Endpoint {
  readonly address: string
  readonly port: number
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))
  if (!line) throw new Error(`no VmRSS for pid ${pid}`)
  return Math.round(Number(line.replace(/\D+/g, '')) / 1024)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The node's DCE/RPC endpoint as cluster status shows it. */
function dcerpcOf(status: ClusterStatus, id: string): Endpoint {
  const view = status.nodes.find((n) => n.id === id) as (ClusterStatus['nodes'][number] & { dcerpc?: Endpoint | null }) | undefined
  if (!view?.dcerpc) throw new Error(`cluster status shows no dcerpc endpoint for ${id}`)
  return view.dcerpc
}

// ---------------------------------------------------------------------------------------------
// PDU generation
// ---------------------------------------------------------------------------------------------

/** What a session generator needs to know: the node's addresses and registration keys seen so far. */
interface FuzzContext {
  readonly rng: Prng
  readonly clientAddresses: readonly string[]
  readonly keys: string[]
}

/** One session's bytes: each element is one PDU (or one blob of raw bytes), counted as one. */
interface SessionPlan {
  readonly kind: 'bound' | 'ndr64' | 'unbound' | 'raw'
  readonly body: Buffer[]
  /** The call id of the last GetInterfaceList, answered once everything before it was processed; null when there is none. */
  readonly sentinelCallId: number | null
  readonly tail: Tail | null
  /** Call ids of Register and RegisterEx requests, whose answers may give keys for later sessions. */
  readonly registerCalls: ReadonlySet<number>
  /** Write the body in small pieces, so frames straddle TCP reads. */
  readonly dribble: boolean
}

/** What ends a session after its sentinel: bytes, and whether the server should close on them or wait for more. */
interface Tail {
  readonly name: string
  readonly bytes: Buffer
  readonly serverCloses: boolean
}

function u32Value(rng: Prng): number {
  return rng.pick([0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x00020000, 0x00020004, 5840, 65535, 65536, rng.int(0, 0xffffffff)])
}

function randomBytes(rng: Prng, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = rng.int(0, 255)
  return out
}

function randomText(rng: Prng, ctx: FuzzContext): string | undefined {
  switch (rng.int(0, 11)) {
    case 0:
      return undefined
    case 1:
      return ''
    case 2:
    case 3:
      return 'SOFS'
    case 4:
      return rng.pick(ctx.clientAddresses)
    case 5:
      return 'x'.repeat(rng.int(100, 4000))
    case 6:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 40) }, () => rng.int(1, 0xffff)))
    case 7:
      return `${rng.int(0, 300)}.${rng.int(0, 300)}.${rng.int(0, 300)}.${rng.int(0, 300)}`
    case 8:
      return 'share-1'
    case 9:
      return '\ud800'
    default:
      return `fuzz-${rng.int(0, 1_000_000)}`
  }
}

function randomKey(ctx: FuzzContext): string {
  const { rng } = ctx
  if (ctx.keys.length > 0 && rng.chance(0.6)) return rng.pick(ctx.keys)
  return rng.pick(['', '00000000-0000-0000-0000-000000000001', randomUUID(), 'ffffffff-ffff-ffff-ffff-ffffffffffff'])
}

/** A valid call for one of the five opnums, with realistic or random arguments. */
function randomCall(ctx: FuzzContext, opnum: number): WitnessCall {
  const { rng } = ctx
  const validRegistration = rng.chance(0.25)
  const text = (good: string): string | undefined => (validRegistration ? good : randomText(rng, ctx))
  switch (opnum) {
    case WITNESS_OPNUM.GetInterfaceList:
      return { method: 'GetInterfaceList' }
    case WITNESS_OPNUM.Register:
      return {
        method: 'Register',
        version: validRegistration || rng.chance(0.5) ? V1 : u32Value(rng),
        netName: text('SOFS'),
        ipAddress: text(rng.pick(ctx.clientAddresses)),
        clientComputerName: text(`FUZZ-${rng.int(0, 9999)}`),
      }
    case WITNESS_OPNUM.RegisterEx:
      return {
        method: 'RegisterEx',
        version: validRegistration || rng.chance(0.5) ? V2 : u32Value(rng),
        netName: text('SOFS'),
        shareName: validRegistration ? rng.pick(['share-1', undefined]) : randomText(rng, ctx),
        ipAddress: text(rng.pick(ctx.clientAddresses)),
        clientComputerName: text(`FUZZ-${rng.int(0, 9999)}`),
        flags: rng.chance(0.7) ? rng.int(0, 1) : u32Value(rng),
        keepAliveTimeoutS: rng.chance(0.7) ? rng.int(0, 120) : u32Value(rng),
      }
    case WITNESS_OPNUM.UnRegister:
      return { method: 'UnRegister', key: randomKey(ctx) }
    default:
      return { method: 'AsyncNotify', key: randomKey(ctx) }
  }
}

/**
 * A stub mutated the ways a hostile client would: bytes flipped, cut or added, and above all
 * aligned u32s (referent ids, max_count, offset, actual_count, the version) replaced by hostile
 * values, which is where NDR pointers and counts live.
 */
function mutateStub(rng: Prng, stub: Buffer): Buffer {
  let out = Buffer.from(stub)
  const rounds = rng.int(1, 3)
  for (let round = 0; round < rounds; round++) {
    switch (rng.int(0, 6)) {
      case 0:
      case 1:
      case 2: {
        if (out.length < 4) break
        const at = 4 * rng.int(0, Math.floor(out.length / 4) - 1)
        out.writeUInt32LE(u32Value(rng) >>> 0, at)
        break
      }
      case 3:
        for (let i = 0; i < rng.int(1, 4) && out.length > 0; i++) out[rng.int(0, out.length - 1)] = rng.int(0, 255)
        break
      case 4:
        out = out.subarray(0, rng.int(0, out.length))
        break
      case 5:
        out = Buffer.concat([out, randomBytes(rng, rng.int(1, 64))])
        break
      default:
        // A pointer made NULL or pointing nowhere at the very start: every stub but GetInterfaceList's begins with one or a u32.
        if (out.length >= 8) out.writeUInt32LE(rng.pick([0, 0x00020000, 0xffffffff]), 4)
        break
    }
  }
  return out
}

/** A request PDU whose header fields may be hostile; the result always frames and decodes, so the server should not close on it. */
function requestPdu(rng: Prng, callId: number, opnum: number, stub: Buffer, contextId = 0): Buffer[] {
  // Stubs longer than a frame go in valid fragments, so the server reassembles them.
  if (stub.length > DCERPC_DEFAULT_MAX_FRAG_BYTES - 128) return fragmentRequest(stub, rng.pick([DCERPC_DEFAULT_MAX_FRAG_BYTES, 1432, 2048]), { callId, contextId, opnum })
  const flags = rng.chance(0.85)
    ? PFC.FIRST_FRAG | PFC.LAST_FRAG | (rng.chance(0.1) ? rng.pick([PFC.PENDING_CANCEL, PFC.MAYBE, PFC.CONC_MPX, PFC.DID_NOT_EXECUTE, 0x08]) : 0)
    : rng.int(0, 0xff) & ~PFC.OBJECT_UUID
  const allocHint = rng.chance(0.7) ? stub.length : u32Value(rng)
  const object = rng.chance(0.05) ? randomUUID() : null
  const pdu = encodeRequest({ callId, contextId, opnum, stub, flags, allocHint, object })
  if (rng.chance(0.03)) return [withAuthTrailer(rng, pdu)]
  if (rng.chance(0.03)) return [bigEndianHeader(pdu)]
  return [pdu]
}

/** The same request with a well-formed but meaningless sec_trailer and auth_value appended. */
function withAuthTrailer(rng: Prng, pdu: Buffer): Buffer {
  const authValue = randomBytes(rng, rng.int(1, 32))
  const trailer = Buffer.alloc(8)
  trailer[0] = rng.pick([9, 10, 16, 68, 255])
  trailer[1] = rng.int(1, 6)
  trailer[2] = 0
  trailer.writeUInt32LE(rng.int(0, 5), 4)
  const out = Buffer.concat([pdu, trailer, authValue])
  out.writeUInt16LE(out.length, 8)
  out.writeUInt16LE(authValue.length, 10)
  return out
}

/** A request PDU re-labelled big-endian, its header integers swapped to match (the stub is left as it is). */
function bigEndianHeader(pdu: Buffer): Buffer {
  const out = Buffer.from(pdu)
  out[4] = 0x00
  out.writeUInt16BE(pdu.readUInt16LE(8), 8)
  out.writeUInt16BE(pdu.readUInt16LE(10), 10)
  out.writeUInt32BE(pdu.readUInt32LE(12), 12)
  out.writeUInt32BE(pdu.readUInt32LE(16), 16)
  out.writeUInt16BE(pdu.readUInt16LE(20), 20)
  out.writeUInt16BE(pdu.readUInt16LE(22), 22)
  return out
}

function randomSyntax(rng: Prng): SyntaxId {
  return rng.pick<SyntaxId>([
    WITNESS_SYNTAX,
    { uuid: WITNESS_INTERFACE.uuid, version: syntaxVersion(1, 0) },
    { uuid: WITNESS_INTERFACE.uuid, version: syntaxVersion(2, 0) },
    NDR20_SYNTAX,
    NDR64_SYNTAX,
    { uuid: randomUUID(), version: rng.int(0, 0xffffffff) },
    // The endpoint mapper, which this endpoint does not serve.
    { uuid: 'e1af8308-5d1f-11c9-91a4-08002b14a0fa', version: syntaxVersion(3, 0) },
  ])
}

function randomContexts(rng: Prng, count: number): PresentationContext[] {
  return Array.from({ length: count }, () => ({
    contextId: rng.chance(0.5) ? rng.int(0, 20) : rng.int(0, 0xffff),
    abstractSyntax: randomSyntax(rng),
    transferSyntaxes: Array.from({ length: rng.int(0, 4) }, () =>
      rng.pick<SyntaxId>([NDR20_SYNTAX, NDR64_SYNTAX, bindTimeFeatureSyntax(rng.int(0, 0xffff)), { uuid: randomUUID(), version: rng.int(0, 3) }]),
    ),
  }))
}

function bindPdu(callId: number, contexts: readonly PresentationContext[], ptype: typeof PTYPE.BIND | typeof PTYPE.ALTER_CONTEXT = PTYPE.BIND, maxRecvFrag = DCERPC_DEFAULT_MAX_FRAG_BYTES): Buffer {
  return encodeBind({ callId, maxXmitFrag: DCERPC_DEFAULT_MAX_FRAG_BYTES, maxRecvFrag, assocGroupId: 0, contexts }, ptype)
}

/** A PDU the server should answer or ignore but not close on, once bound. */
function bodyPdu(ctx: FuzzContext, callId: () => number, unfinished: number[], registerCalls: Set<number>): Buffer[] {
  const { rng } = ctx
  const roll = rng.int(0, 99)
  if (roll < 40) {
    // A valid call, its stub mutated more often than not.
    const opnum = rng.int(0, 4)
    const call = randomCall(ctx, opnum)
    const stub = rng.chance(0.6) ? mutateStub(rng, encodeWitnessRequest(opnum, call)) : encodeWitnessRequest(opnum, call)
    const id = callId()
    if (opnum === WITNESS_OPNUM.Register || opnum === WITNESS_OPNUM.RegisterEx) registerCalls.add(id)
    return requestPdu(rng, id, opnum, stub)
  }
  if (roll < 47) {
    // An opnum the interface does not have (5 is UnRegisterEx, absent from this profile).
    return requestPdu(rng, callId(), rng.pick([5, 6, 7, 100, 255, 0x7fff, 0xffff, rng.int(5, 0xffff)]), randomBytes(rng, rng.int(0, 64)))
  }
  if (roll < 53) {
    // A context id no bind or alter_context accepted.
    return requestPdu(rng, callId(), rng.int(0, 4), encodeWitnessRequest(0, { method: 'GetInterfaceList' }), rng.int(1, 0xffff))
  }
  if (roll < 58) {
    // Random stub bytes for a real opnum.
    return requestPdu(rng, callId(), rng.int(0, 4), randomBytes(rng, rng.int(0, 300)))
  }
  if (roll < 64) {
    // The first fragment of a call that never finishes, with a true, small or huge alloc_hint.
    const id = callId()
    unfinished.push(id)
    const stub = randomBytes(rng, 8 * rng.int(0, 200))
    return [encodeRequest({ callId: id, contextId: 0, opnum: rng.int(0, 4), stub, flags: PFC.FIRST_FRAG, allocHint: rng.pick([stub.length, 0, 1 << 20, 0xffffffff]) })]
  }
  if (roll < 69 && unfinished.length > 0) {
    // A middle fragment of an unfinished call (sometimes with another opnum, which is refused), or its last one.
    const id = rng.pick(unfinished)
    const last = rng.chance(0.3)
    if (last) unfinished.splice(unfinished.indexOf(id), 1)
    return [encodeRequest({ callId: id, contextId: 0, opnum: rng.chance(0.8) ? 0 : rng.int(1, 4), stub: randomBytes(rng, 8 * rng.int(0, 200)), flags: last ? PFC.LAST_FRAG : 0 })]
  }
  if (roll < 72) {
    // A continuation of a call nobody started.
    return [encodeRequest({ callId: callId(), contextId: 0, opnum: 0, stub: randomBytes(rng, 16), flags: rng.pick([0, PFC.LAST_FRAG]) })]
  }
  if (roll < 80) {
    // alter_context offering unknown interfaces, other versions, NDR64, bind-time features, or too many contexts.
    return [bindPdu(callId(), randomContexts(rng, rng.chance(0.1) ? rng.int(17, 30) : rng.int(0, 4)), PTYPE.ALTER_CONTEXT)]
  }
  if (roll < 90) {
    // co_cancel or orphaned for an unknown call, or for an unfinished one.
    const id = unfinished.length > 0 && rng.chance(0.3) ? rng.pick(unfinished) : rng.int(0, 0xffffffff)
    return [encodeControl(rng.pick([PTYPE.CO_CANCEL, PTYPE.ORPHANED]), id, rng.int(0, 0xff))]
  }
  if (roll < 93) {
    // auth3 with junk, which this endpoint without a security provider ignores.
    const out = Buffer.concat([encodeControl(PTYPE.CO_CANCEL, callId()), randomBytes(rng, rng.int(0, 32))])
    out[2] = PTYPE.AUTH3
    out.writeUInt16LE(out.length, 8)
    return [out]
  }
  // A request whose stub is a mutated stub of another opnum.
  const from = rng.int(0, 4)
  return requestPdu(rng, callId(), rng.int(0, 4), mutateStub(rng, encodeWitnessRequest(from, randomCall(ctx, from))))
}

/** A PDU after which the server should close (or wait for bytes that never come). */
function tailPdu(rng: Prng, nextCallId: number): Tail {
  const header = (ptype: number, fragLength: number, callId = nextCallId): Buffer => {
    const out = Buffer.alloc(16)
    out[0] = 5
    out[2] = ptype
    out[3] = PFC.FIRST_FRAG | PFC.LAST_FRAG
    out[4] = 0x10
    out.writeUInt16LE(fragLength, 8)
    out.writeUInt32LE(callId, 12)
    return out
  }
  switch (rng.int(0, 13)) {
    case 0:
      return { name: 'truncated header', bytes: header(PTYPE.REQUEST, 24).subarray(0, rng.int(1, 15)), serverCloses: false }
    case 1:
      return { name: 'frag_length below the header size', bytes: header(PTYPE.REQUEST, rng.int(0, 15)), serverCloses: true }
    case 2:
      return { name: 'frag_length 65535', bytes: header(PTYPE.REQUEST, 65535), serverCloses: true }
    case 3:
      return { name: 'frag_length above max_recv_frag', bytes: Buffer.concat([header(PTYPE.REQUEST, rng.int(5841, 65534)), randomBytes(rng, 100)]), serverCloses: true }
    case 4: {
      // frag_length claims more than is ever sent: the server must wait for it, holding at most that.
      const claimed = rng.int(100, 5840)
      return { name: 'frag_length bigger than the data', bytes: Buffer.concat([header(PTYPE.REQUEST, claimed), randomBytes(rng, rng.int(0, claimed - 17))]), serverCloses: false }
    }
    case 5: {
      // frag_length smaller than the request it heads: the request is cut and the rest read as the next frame.
      const pdu = encodeRequest({ callId: nextCallId, contextId: 0, opnum: 1, stub: encodeWitnessRequest(1, { method: 'Register', version: V1, netName: 'SOFS', ipAddress: '127.0.94.1', clientComputerName: 'CUT' }) })
      pdu.writeUInt16LE(rng.int(16, pdu.length - 1), 8)
      return { name: 'frag_length smaller than the data', bytes: pdu, serverCloses: false }
    }
    case 6:
      return { name: 'second bind', bytes: bindPdu(nextCallId, [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }]), serverCloses: true }
    case 7: {
      const bytes = rng.pick([
        encodeResponse({ callId: nextCallId, contextId: 0, stub: randomBytes(rng, 8) }),
        encodeFault({ callId: nextCallId, contextId: 0, status: 5 }),
        encodeBindAck({ callId: nextCallId, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 1, secondaryAddress: '135', results: [] }),
        header(PTYPE.SHUTDOWN, 16),
        header(PTYPE.BIND_NAK, 16),
      ])
      return { name: 'a PDU type only servers send', bytes, serverCloses: true }
    }
    case 8:
      return { name: 'unknown PDU type', bytes: header(rng.pick([1, 4, 5, 6, 7, 8, 9, 10, 20, 21, 255]), 16), serverCloses: true }
    case 9: {
      const bytes = header(PTYPE.REQUEST, 24)
      const which = rng.int(0, 3)
      if (which === 0) bytes[0] = rng.pick([4, 6, 0, 255])
      else if (which === 1) bytes[1] = rng.int(2, 255)
      else if (which === 2) bytes[4] = rng.pick([0x11, 0x01, 0x20, 0xff])
      else bytes[5] = rng.int(1, 3)
      return { name: 'bad version or data representation', bytes: Buffer.concat([bytes, Buffer.alloc(8)]), serverCloses: true }
    }
    case 10: {
      // An auth_pad_length larger than the stub in front of the sec_trailer.
      const pdu = withAuthTrailer(rng, encodeRequest({ callId: nextCallId, contextId: 0, opnum: 0, stub: Buffer.alloc(0) }))
      pdu[pdu.length - pdu.readUInt16LE(10) - 8 + 2] = 200
      return { name: 'bad auth trailer', bytes: pdu, serverCloses: true }
    }
    case 11: {
      const bind = bindPdu(nextCallId, [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }])
      return { name: 'second bind with auth', bytes: withAuthTrailer(rng, bind), serverCloses: true }
    }
    case 12: {
      // A bind whose context count claims more elements than the bytes hold.
      const bind = bindPdu(nextCallId, [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }])
      bind[24] = rng.int(2, 255)
      return { name: 'bind with a lying context count', bytes: bind, serverCloses: true }
    }
    default:
      return { name: 'random bytes', bytes: randomBytes(rng, rng.int(1, 3000)), serverCloses: false }
  }
}

function planSession(ctx: FuzzContext, sessionIndex: number): SessionPlan {
  const { rng } = ctx
  // Call ids differ between sessions only to make logs easier to read; each connection has its own space.
  let next = 2 + sessionIndex * 10_000
  const callId = (): number => next++
  const registerCalls = new Set<number>()
  const roll = rng.int(0, 99)
  const dribble = rng.chance(0.05)

  if (roll < 5) {
    // Calls before bind: the server faults the first request and closes.
    const body: Buffer[] = []
    for (let i = 0; i < rng.int(0, 5); i++) body.push(encodeControl(rng.pick([PTYPE.CO_CANCEL, PTYPE.ORPHANED]), rng.int(0, 0xffffffff)))
    if (rng.chance(0.3)) body.push(bindPdu(callId(), randomContexts(rng, 1), PTYPE.ALTER_CONTEXT))
    for (let i = 0; i < rng.int(1, 20); i++) body.push(...requestPdu(rng, callId(), rng.int(0, 5), encodeWitnessRequest(0, { method: 'GetInterfaceList' })))
    return { kind: 'unbound', body, sentinelCallId: null, tail: null, registerCalls, dribble }
  }
  if (roll < 10) {
    // Raw bytes: random, or random after a valid header, in several pieces.
    const body = Array.from({ length: rng.int(1, 10) }, () => randomBytes(rng, rng.int(1, 2000)))
    if (rng.chance(0.5)) body.unshift(bindPdu(callId(), [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }]))
    return { kind: 'raw', body, sentinelCallId: null, tail: null, registerCalls, dribble }
  }

  const ndr64Only = roll < 15
  const body: Buffer[] = []
  if (ndr64Only) {
    // Windows offers NDR64 next to NDR20; offered alone it is refused, and the connection stays bound with no usable context.
    body.push(bindPdu(callId(), [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR64_SYNTAX] }]))
  } else {
    const contexts: PresentationContext[] = [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: rng.chance(0.3) ? [NDR64_SYNTAX, NDR20_SYNTAX] : [NDR20_SYNTAX] }]
    if (rng.chance(0.3)) contexts.push({ contextId: 1, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [bindTimeFeatureSyntax(rng.int(0, 3))] })
    if (rng.chance(0.2)) contexts.push(...randomContexts(rng, rng.int(1, 3)).map((c, i) => ({ ...c, contextId: 10 + i })))
    body.push(bindPdu(callId(), contexts, PTYPE.BIND, rng.chance(0.2) ? rng.pick([1024, 1432, 2048, 65535, 16]) : DCERPC_DEFAULT_MAX_FRAG_BYTES))
  }
  const unfinished: number[] = []
  const count = rng.int(Math.floor(PDUS_PER_SESSION * 0.8), Math.floor(PDUS_PER_SESSION * 1.2))
  while (body.length < count) body.push(...bodyPdu(ctx, callId, unfinished, registerCalls))
  // Map context 0 to the witness with NDR20 (the NDR64-only bind left it unusable), then the sentinel.
  body.push(bindPdu(callId(), [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }], PTYPE.ALTER_CONTEXT))
  const sentinelCallId = callId()
  body.push(encodeRequest({ callId: sentinelCallId, contextId: 0, opnum: WITNESS_OPNUM.GetInterfaceList, stub: Buffer.alloc(0) }))
  const tail = rng.chance(0.6) ? tailPdu(rng, callId()) : null
  return { kind: ndr64Only ? 'ndr64' : 'bound', body, sentinelCallId, tail, registerCalls, dribble }
}

// ---------------------------------------------------------------------------------------------
// Running sessions
// ---------------------------------------------------------------------------------------------

interface SessionOutcome {
  readonly pdus: number
  readonly answers: Readonly<Record<string, number>>
  readonly sentinelAnswered: boolean
  readonly serverClosed: boolean
  readonly hung: boolean
  readonly keys: readonly string[]
}

/** Reads the server's PDUs off a socket: counts them by kind, notes answered call ids, harvests registration keys. */
class AnswerReader {
  private buffered: Buffer = Buffer.alloc(0)
  readonly answers: Record<string, number> = {}
  readonly answered = new Set<number>()
  readonly keys: string[] = []
  serverClosed = false
  private readonly waiters: (() => void)[] = []

  constructor(
    socket: Socket,
    private readonly registerCalls: ReadonlySet<number>,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.serverClosed = true
      this.wake()
    })
  }

  /** Resolves true when predicate holds, false at the deadline or when the socket closes first. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeoutMs
      const check = (): void => {
        if (predicate()) return resolve(true)
        if (this.serverClosed || Date.now() >= deadline) return resolve(predicate())
        this.waiters.push(check)
      }
      const timer = setTimeout(() => this.wake(), timeoutMs)
      timer.unref()
      check()
    })
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk])
    for (let guard = 0; guard < 100_000; guard++) {
      const peek = peekFragLength(this.buffered)
      if (!peek.ok) {
        if ('error' in peek) this.count('undecodable')
        break
      }
      if (this.buffered.length < peek.fragLength) break
      const decoded = decodePdu(this.buffered.subarray(0, peek.fragLength))
      this.buffered = this.buffered.subarray(peek.fragLength)
      if (!decoded.ok) {
        this.count('undecodable')
        continue
      }
      const pdu = decoded.pdu
      this.count(pdu.kind === 'fault' ? `fault 0x${pdu.status.toString(16)}` : pdu.kind)
      if ((pdu.kind === 'response' && (pdu.flags & PFC.LAST_FRAG) !== 0) || pdu.kind === 'fault') this.answered.add(pdu.callId)
      if (pdu.kind === 'response' && this.registerCalls.has(pdu.callId) && (pdu.flags & PFC.FIRST_FRAG) !== 0) {
        const reply = decodeRegisterResponse(pdu.stub)
        if (reply.ok && reply.value.result === WIN_ERROR.SUCCESS) this.keys.push(reply.value.key)
      }
    }
    this.wake()
  }

  private count(kind: string): void {
    this.answers[kind] = (this.answers[kind] ?? 0) + 1
  }
}

async function writeAll(socket: Socket, pieces: readonly Buffer[], dribble: boolean, rng: Prng): Promise<void> {
  const bytes = Buffer.concat(pieces)
  const chunks: Buffer[] = []
  if (dribble) {
    for (let offset = 0; offset < bytes.length; ) {
      const size = rng.int(1, 300)
      chunks.push(bytes.subarray(offset, offset + size))
      offset += size
    }
  } else chunks.push(bytes)
  for (const chunk of chunks) {
    if (socket.destroyed) return
    if (!socket.write(chunk)) {
      // Bounded: the drain, or the socket going away.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done)
          socket.off('close', done)
          resolve()
        }
        socket.on('drain', done)
        socket.on('close', done)
      })
    }
  }
}

async function runSession(endpoint: Endpoint, plan: SessionPlan, rng: Prng): Promise<SessionOutcome> {
  const socket = await connectRaw(endpoint.address, endpoint.port, 10_000)
  const reader = new AnswerReader(socket, plan.registerCalls)
  let hung = false
  let pdus = plan.body.length
  try {
    await writeAll(socket, plan.body, plan.dribble, rng)
    if (plan.sentinelCallId !== null) {
      const sentinel = plan.sentinelCallId
      const ok = await reader.waitFor(() => reader.answered.has(sentinel), SESSION_DEADLINE_MS)
      // The server may legitimately have closed on something in the body; only silence on an open connection is a hang.
      if (!ok && !reader.serverClosed) hung = true
    } else {
      // Unbound and raw sessions end with the server closing, or with bytes it waits on: give it a moment to decide, then hang up.
      await reader.waitFor(() => false, plan.kind === 'unbound' ? SESSION_DEADLINE_MS : 200)
      if (plan.kind === 'unbound' && !reader.serverClosed) hung = true
    }
    if (plan.tail && !reader.serverClosed) {
      pdus += 1
      await writeAll(socket, [plan.tail.bytes], false, rng)
      if (plan.tail.serverCloses) {
        await reader.waitFor(() => false, SESSION_DEADLINE_MS)
        if (!reader.serverClosed) hung = true
      }
    }
  } finally {
    socket.destroy()
  }
  return { pdus, answers: reader.answers, sentinelAnswered: plan.sentinelCallId !== null && reader.answered.has(plan.sentinelCallId), serverClosed: reader.serverClosed, hung, keys: reader.keys }
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

async function pendingNotifies(cluster: Cluster, keys?: readonly string[]): Promise<string[]> {
  const reply = await cluster.admin(NODE).witnessList({})
  if (!reply.ok) throw new Error(`witnessList: ${reply.error}`)
  return reply.registrations.filter((r) => r.asyncNotifyPending && (keys === undefined || keys.includes(r.registrationId))).map((r) => r.registrationId)
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (await predicate()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

t.test(`${TOTAL_PDUS}+ random and mutated DCE/RPC PDUs leave the node alive, serving, bounded and with no stuck calls`, async (t) => {
  const startedAt = Date.now()
  // This fuzz is about the unauthenticated decoder and call paths: the witness serves anonymous binds
  // here (test/unit/dcerpc-auth-fuzz.test.ts fuzzes the authenticated ones).
  const cluster = await upCluster(t, { nodes: 3, clientNet: NET, witnessAllowAnonymous: true })
  const initial = await cluster.status()
  const pid = initial.nodes.find((n) => n.id === NODE)!.pid
  const endpoint = dcerpcOf(initial, NODE)
  t.equal(endpoint.address, `${NET}.1`, `${NODE} serves DCE/RPC on its own client address`)
  const clientAddresses = cluster.config.nodes.map((n) => n.clientAddress)

  // Warm up and seed the key pool with registrations the fuzz may AsyncNotify on or UnRegister.
  const seedClient = await DcerpcWitnessClient.connect(endpoint.address, endpoint.port)
  t.teardown(() => seedClient.close())
  t.equal((await seedClient.getInterfaceList()).interfaces?.length, 3, 'GetInterfaceList answers before the fuzz')
  const keys: string[] = []
  for (let i = 0; i < 8; i++) {
    const reg = await seedClient.register({ netName: 'SOFS', ipAddress: clientAddresses[i % clientAddresses.length], clientComputerName: `SEED-${i}` })
    if (reg.result === WIN_ERROR.SUCCESS) keys.push(reg.key)
  }
  t.equal(keys.length, 8, 'the seed registrations succeed')
  seedClient.close()
  const rssBefore = rssMb(pid)

  await t.test('the fuzz', async (t) => {
    const rng = new Prng(SEED)
    const ctx: FuzzContext = { rng, clientAddresses, keys }
    const answers = new Map<string, number>()
    const tails = new Map<string, number>()
    const kinds = new Map<string, number>()
    let pdus = 0
    let sessions = 0
    let sentinels = 0
    let serverClosed = 0
    let hangs = 0
    // Bounded in count (the PDU total, and a session cap) and in time (each session has its deadline).
    const sessionsMax = Math.ceil(TOTAL_PDUS / 50) + 100
    const worker = async (): Promise<void> => {
      while (pdus < TOTAL_PDUS && sessions < sessionsMax) {
        const index = sessions++
        const plan = planSession(ctx, index)
        // Counted when planned, so the workers stop at the total together.
        pdus += plan.body.length + (plan.tail ? 1 : 0)
        kinds.set(plan.kind, (kinds.get(plan.kind) ?? 0) + 1)
        if (plan.tail) tails.set(plan.tail.name, (tails.get(plan.tail.name) ?? 0) + 1)
        const outcome = await runSession(endpoint, plan, new Prng(SEED + index))
        pdus += outcome.pdus - (plan.body.length + (plan.tail ? 1 : 0))
        for (const [kind, n] of Object.entries(outcome.answers)) answers.set(kind, (answers.get(kind) ?? 0) + n)
        if (outcome.sentinelAnswered) sentinels++
        if (outcome.serverClosed) serverClosed++
        if (outcome.hung) hangs++
        for (const key of outcome.keys) if (keys.length < KEY_POOL_MAX) keys.push(key)
      }
    }
    // While the fuzz runs, sample how many registrations have an AsyncNotify parked by it: the
    // check after the fuzz that none is left pending means something only if some were.
    let fuzzing = true
    let parkedMax = 0
    const sampler = (async () => {
      for (let sample = 0; fuzzing && sample < 2000; sample++) {
        parkedMax = Math.max(parkedMax, (await pendingNotifies(cluster).catch(() => [])).length)
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    await Promise.all(Array.from({ length: SESSIONS_IN_PARALLEL }, () => worker()))
    fuzzing = false
    await sampler
    t.comment(`at most ${parkedMax} registrations had an AsyncNotify from the fuzz parked at once`)
    t.comment(`sent ${pdus} PDUs in ${sessions} sessions (${JSON.stringify(Object.fromEntries(kinds))}); ${sentinels} sessions had their final GetInterfaceList answered, the server closed ${serverClosed}`)
    t.comment(`answers: ${JSON.stringify(Object.fromEntries([...answers].sort((a, b) => b[1] - a[1])))}`)
    t.comment(`tails: ${JSON.stringify(Object.fromEntries(tails))}`)
    t.ok(pdus >= TOTAL_PDUS, `at least ${TOTAL_PDUS} PDUs sent (${pdus})`)
    t.equal(hangs, 0, 'no session hung: every one got its last answer or saw the server close')
    t.ok(sentinels > sessions / 2, 'most sessions survived their body and got the final GetInterfaceList answered')
    t.ok(isAlive(pid), `${NODE} (pid ${pid}) is still alive`)
  })

  const rssAfterFuzz = rssMb(pid)

  await t.test('frag_length claims never make the server allocate or wait', async (t) => {
    const claim = (fragLength: number): Buffer => {
      const out = Buffer.alloc(16)
      out[0] = 5
      out[2] = PTYPE.REQUEST
      out[3] = PFC.FIRST_FRAG | PFC.LAST_FRAG
      out[4] = 0x10
      out.writeUInt16LE(fragLength, 8)
      out.writeUInt32LE(2, 12)
      return out
    }
    const bind = bindPdu(1, [{ contextId: 0, abstractSyntax: WITNESS_SYNTAX, transferSyntaxes: [NDR20_SYNTAX] }])
    let refusedByServer = 0
    let done = 0
    const one = async (index: number): Promise<void> => {
      const socket = await connectRaw(endpoint.address, endpoint.port, 10_000)
      socket.on('error', () => undefined)
      // Discard the bind_ack: a paused socket with unread data never reports the server's close.
      socket.resume()
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000)
        socket.once('close', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (index % 3 === 0) {
        // The largest frame the server accepts, announced and never sent: it may hold at most that, until we hang up.
        socket.write(Buffer.concat([index % 2 === 0 ? bind : Buffer.alloc(0), claim(5840), Buffer.alloc(index % 5840)]))
        socket.destroy()
      } else {
        // 65535 is beyond the server's max_recv_frag: it must refuse at once, not wait for (or allocate) 65535 bytes.
        socket.write(Buffer.concat([index % 2 === 0 ? bind : Buffer.alloc(0), claim(65535)]))
        if (await closed) refusedByServer++
        socket.destroy()
      }
      done++
    }
    let next = 0
    await Promise.all(
      Array.from({ length: HANGUP_PARALLEL }, async () => {
        while (next < HANGUP_CONNECTIONS) await one(next++)
      }),
    )
    const claims65535 = Array.from({ length: HANGUP_CONNECTIONS }, (_, i) => i).filter((i) => i % 3 !== 0).length
    t.equal(done, HANGUP_CONNECTIONS, `${HANGUP_CONNECTIONS} connections claimed a frame and hung up`)
    t.equal(refusedByServer, claims65535, 'the server closed every connection that claimed a 65535-byte frame by itself')
    t.ok(isAlive(pid), `${NODE} is still alive`)
  })

  await t.test('AsyncNotify calls die with their connection', async (t) => {
    const owner = await DcerpcWitnessClient.connect(endpoint.address, endpoint.port)
    t.teardown(() => owner.close())
    const watched: string[] = []
    for (let i = 0; i < 5; i++) {
      const reg = await owner.register({ netName: 'SOFS', ipAddress: clientAddresses[1], clientComputerName: `NOTIFY-${i}` })
      t.equal(reg.result, WIN_ERROR.SUCCESS, `registration ${i}`)
      watched.push(reg.key)
    }
    // One connection per AsyncNotify, as separate clients would; the last one is abandoned (orphaned) on an open connection instead.
    const waiters = await Promise.all(watched.map(() => DcerpcWitnessClient.connect(endpoint.address, endpoint.port)))
    t.teardown(() => waiters.forEach((w) => w.close()))
    const abandon = new AbortController()
    const calls = watched.map((key, i) =>
      waiters[i].asyncNotify(key, 60_000, i === watched.length - 1 ? abandon.signal : undefined).then(
        () => 'answered',
        (err: DcerpcClientError) => err.kind,
      ),
    )
    t.ok(
      await waitUntil(async () => (await pendingNotifies(cluster, watched)).length === watched.length, 20_000),
      'all five AsyncNotify calls are parked on the server (witness list shows them pending)',
    )
    for (const w of waiters.slice(0, -1)) w.close()
    abandon.abort()
    const outcomes = await Promise.all(calls)
    t.same(outcomes, ['closed', 'closed', 'closed', 'closed', 'cancelled'], 'four calls ended with their connections, the last was abandoned with orphaned')
    t.equal(waiters.at(-1)?.closed, false, 'the abandoning client\'s connection is still open')
    t.ok(
      await waitUntil(async () => (await pendingNotifies(cluster, watched)).length === 0, 20_000),
      'once the connections closed (or the call was orphaned), witness list shows none of them pending',
    )
    t.same(await pendingNotifies(cluster), [], 'and no registration on the node has an AsyncNotify pending, the fuzz\'s included')
    for (const key of watched) t.equal((await owner.unRegister(key)).result, WIN_ERROR.SUCCESS, `UnRegister ${key}`)
  })

  await t.test('afterwards the node serves correctly and its memory stayed bounded', async (t) => {
    t.ok(isAlive(pid), `${NODE} (pid ${pid}) never died`)
    const status = await cluster.status()
    const view = status.nodes.find((n) => n.id === NODE)!
    t.equal(view.pid, pid, 'it is the same process (not restarted)')
    t.equal(view.process, 'running', 'it is running')
    t.equal(view.serving, true, 'it is serving')
    t.equal(status.quorum, true, 'the cluster is quorate')
    const client = await DcerpcWitnessClient.connect(endpoint.address, endpoint.port)
    t.teardown(() => client.close())
    const list = await client.getInterfaceList()
    t.equal(list.result, WIN_ERROR.SUCCESS, 'GetInterfaceList succeeds on a fresh connection')
    t.same(
      (list.interfaces ?? []).map((i) => i.ipv4).sort(),
      [...clientAddresses].sort(),
      'and lists the three nodes\' client addresses',
    )
    const reg = await client.register({ netName: 'SOFS', ipAddress: clientAddresses[2], clientComputerName: 'AFTER-FUZZ' })
    t.equal(reg.result, WIN_ERROR.SUCCESS, 'Register succeeds')
    t.equal((await client.unRegister(reg.key)).result, WIN_ERROR.SUCCESS, 'UnRegister succeeds')
    const rssAfter = rssMb(pid)
    t.comment(`${NODE} VmRSS: ${rssBefore} MB before, ${rssAfterFuzz} MB after the fuzz, ${rssAfter} MB after the frag_length claims`)
    t.ok(rssAfter - rssBefore < RSS_GROWTH_MAX_MB, `RSS grew by ${rssAfter - rssBefore} MB, less than ${RSS_GROWTH_MAX_MB} MB`)
    t.comment(`whole test: ${Math.round((Date.now() - startedAt) / 100) / 10} s`)
  })
})
