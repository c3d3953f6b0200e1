// Named pipes for the SMB2 front's IPC$ tree, driven as the SMB2 commands will drive them, with
// the project's PDU codec as the client: a full bind, NetShareEnumAll level 1 by transceive and
// NetShareGetInfo by write and read on the srvsvc pipe; message-mode reads (one PDU per read,
// BUFFER_OVERFLOW and the rest on the next read); waiting reads and their cancel; transceive's
// refusal with unread data; the association breaking; the bounds; the registry's names.
import t from 'tap'
import {
  BIND_ACK_RESULT,
  FAULT,
  NDR20_SYNTAX,
  PFC,
  decodePdu,
  encodeBind,
  encodeRequest,
  syntaxVersion,
  type Pdu,
} from '../../protocol/dcerpc/pdu-codec.js'
import {
  MAX_PREFERRED_LENGTH,
  SRVSVC_INTERFACE,
  SRVSVC_OPNUM,
  SRVSVC_RESULT,
  STYPE,
  decodeShareEnumResponse,
  decodeShareGetInfoResponse,
  encodeShareEnumRequest,
  encodeShareGetInfoRequest,
} from '../../protocol/dcerpc/srvsvc-ndr.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { csvShareListing, ipcShareListing, type ShareListing } from '../../core/smb/srvsvc-shares.js'
import { srvsvcRpcInterface } from '../../server/dcerpc/srvsvc-rpc-interface.js'
import type { CallOutcome, RpcInterface } from '../../server/dcerpc/rpc-connection.js'
import {
  NAMED_PIPE_STATUS,
  NamedPipeRegistry,
  canonicalPipeName,
  type NamedPipe,
  type NamedPipeLimits,
  type PipeTransceiveResult,
} from '../../server/smb2/named-pipe.js'

/** What Samba's client asks of a transceive (TSTREAM_SMBXCLI_NP_MAX_BUF_SIZE). */
const SAMBA_TRANSCEIVE_MAX = 4280

const SHARES: readonly ShareListing[] = [
  csvShareListing({ name: 'share-1', csv: 'csv-1', scaleOut: true, continuouslyAvailable: true }),
  csvShareListing({ name: 'share-2', csv: 'csv-2', scaleOut: false, continuouslyAvailable: true }),
  ipcShareListing(),
]

interface Fixture {
  readonly registry: NamedPipeRegistry
  readonly events: { event: string; fields: Record<string, unknown> }[]
  shares: readonly ShareListing[]
}

function fixture(limits: Partial<NamedPipeLimits> = {}, extra: readonly RpcInterface[] = []): Fixture {
  const events: Fixture['events'] = []
  const log = (event: string, fields: Record<string, unknown>) => events.push({ event, fields })
  const fx: Fixture = { registry: new NamedPipeRegistry(log, limits), events, shares: SHARES }
  const srvsvc = srvsvcRpcInterface({
    shares: () => fx.shares,
    server: () => ({ name: 'SOFS', comment: '', versionMajor: 10, versionMinor: 0, type: 0x9003 }),
    log,
  })
  fx.registry.register({ name: 'srvsvc', interfaces: [srvsvc, ...extra] })
  return fx
}

function open(fx: Fixture, name = 'srvsvc'): NamedPipe {
  const opened = fx.registry.open(name)
  if (!opened.ok) throw new Error(`open ${name}: ${opened.refusal}`)
  return opened.pipe
}

/** One whole message: the read's bytes, and the rest by further reads while it overflows. */
function wholeMessage(pipe: NamedPipe, first: PipeTransceiveResult, readBytes: number): Buffer {
  const parts: Buffer[] = []
  let result: PipeTransceiveResult = first
  for (;;) {
    if (result.kind !== 'data' && result.kind !== 'buffer-overflow') throw new Error(`expected data, got ${result.kind}`)
    parts.push(result.bytes)
    if (result.kind === 'data') return Buffer.concat(parts)
    result = pipe.read(readBytes)
  }
}

function pduOf(bytes: Buffer): Pdu {
  const decoded = decodePdu(bytes)
  if (!decoded.ok) throw new Error(`not a PDU: ${decoded.error.message}`)
  return decoded.pdu
}

function bindSrvsvc(pipe: NamedPipe, maxRecvFrag = 4280, callId = 1): Pdu {
  const written = pipe.write(
    encodeBind({
      callId,
      maxXmitFrag: 4280,
      maxRecvFrag,
      assocGroupId: 0,
      contexts: [{ contextId: 0, abstractSyntax: { uuid: SRVSVC_INTERFACE.uuid, version: syntaxVersion(3, 0) }, transferSyntaxes: [NDR20_SYNTAX] }],
    }),
  )
  if (written.kind !== 'written') throw new Error(`bind write: ${written.kind}`)
  return pduOf(wholeMessage(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX), SAMBA_TRANSCEIVE_MAX))
}

/** The reply stub of a call: fragments read one message at a time until LAST_FRAG. */
function replyStub(pipe: NamedPipe, first: PipeTransceiveResult, readBytes = SAMBA_TRANSCEIVE_MAX): { stub: Buffer; fragments: Pdu[] } {
  const fragments: Pdu[] = []
  let result: PipeTransceiveResult = first
  for (;;) {
    const pdu = pduOf(wholeMessage(pipe, result, readBytes))
    fragments.push(pdu)
    if (pdu.kind !== 'response') return { stub: Buffer.alloc(0), fragments }
    if ((pdu.flags & PFC.LAST_FRAG) !== 0) return { stub: Buffer.concat(fragments.map((f) => (f.kind === 'response' ? f.stub : Buffer.alloc(0)))), fragments }
    result = pipe.read(readBytes)
  }
}

function enumRequest(callId: number, level = 1): Buffer {
  return encodeRequest({
    callId,
    contextId: 0,
    opnum: SRVSVC_OPNUM.NetrShareEnum,
    stub: encodeShareEnumRequest({ serverName: '127.0.0.1', level, preferredMaximumLength: MAX_PREFERRED_LENGTH, resumeHandle: 0 }),
  })
}

t.test('bind, NetShareEnumAll level 1 by transceive, NetShareGetInfo by write and read', async (t) => {
  const fx = fixture()
  const pipe = open(fx, 'srvsvc')
  const ack = bindSrvsvc(pipe)
  t.equal(ack.kind, 'bind_ack')
  if (ack.kind !== 'bind_ack') return
  t.equal(ack.results[0].result, BIND_ACK_RESULT.ACCEPTANCE)
  t.equal(ack.secondaryAddress, '\\PIPE\\srvsvc', 'the bind_ack names the pipe, as Windows and Samba do')
  t.equal(ack.maxXmitFrag, 4280, 'fragments fit what the client receives')

  const enumReply = replyStub(pipe, pipe.transceive(enumRequest(2), SAMBA_TRANSCEIVE_MAX))
  t.equal(enumReply.fragments.length, 1)
  const decoded = decodeShareEnumResponse(enumReply.stub)
  t.ok(decoded.ok)
  if (!decoded.ok) return
  t.equal(decoded.value.result, SRVSVC_RESULT.SUCCESS)
  t.same(
    decoded.value.entries?.map((e) => [e.netname, e.type, e.remark]),
    [
      ['share-1', STYPE.CLUSTER_SOFS, 'Scale-out share on csv-1'],
      ['share-2', STYPE.CLUSTER_FS, 'Clustered share on csv-2'],
      ['IPC$', 0x80000003, 'Remote IPC'],
    ],
  )
  t.equal(decoded.value.totalEntries, 3)

  const written = pipe.write(
    encodeRequest({ callId: 3, contextId: 0, opnum: SRVSVC_OPNUM.NetrShareGetInfo, stub: encodeShareGetInfoRequest({ serverName: null, netName: 'SHARE-1', level: 2 }) }),
  )
  t.match(written, { kind: 'written' })
  const info = decodeShareGetInfoResponse(replyStub(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX)).stub)
  t.ok(info.ok)
  if (info.ok) t.match(info.value, { level: 2, result: 0, info: { netname: 'share-1', type: STYPE.CLUSTER_SOFS, path: 'C:\\ClusterStorage\\csv-1\\Shares\\share-1' } })

  t.equal(pipe.queuedReplyBytes(), 0)
  t.same(pipe.peek(), { readDataAvailable: 0, numberOfMessages: 0, messageLength: 0 })
  pipe.close()
  t.equal(fx.registry.openCount(), 0)
})

t.test('a reply longer than the read: BUFFER_OVERFLOW with its first part, the rest by the next reads', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const first = pipe.transceive(enumRequest(2), 40)
  t.equal(first.kind, 'buffer-overflow')
  if (first.kind !== 'buffer-overflow') return
  t.equal(first.bytes.length, 40)
  t.equal(NAMED_PIPE_STATUS[first.kind], NT_STATUS.BUFFER_OVERFLOW)
  const peek = pipe.peek()
  t.equal(peek.numberOfMessages, 1)
  t.equal(peek.messageLength, peek.readDataAvailable, 'one message, partly read')
  const total = 40 + peek.messageLength
  const whole = wholeMessage(pipe, first, 40)
  t.equal(whole.length, total)
  t.equal(whole.readUInt16LE(8), total, 'the pieces join into the one PDU')
  const pdu = pduOf(whole)
  t.equal(pdu.kind, 'response')
  if (pdu.kind === 'response') t.ok(decodeShareEnumResponse(pdu.stub).ok)
  // Nothing left: the next read waits.
  const next = pipe.read(100)
  t.equal(next.kind, 'pending')
  if (next.kind === 'pending') next.cancel()
})

t.test('a multi-fragment reply: one PDU per read, each a message', async (t) => {
  const fx = fixture()
  fx.shares = Array.from({ length: 60 }, (_, i) => csvShareListing({ name: `share-${i}`, csv: 'csv-1', scaleOut: true, continuouslyAvailable: true }))
  const pipe = open(fx)
  const ack = bindSrvsvc(pipe, 1432)
  if (ack.kind === 'bind_ack') t.equal(ack.maxXmitFrag, 1432)
  const reply = replyStub(pipe, pipe.transceive(enumRequest(2, 2), SAMBA_TRANSCEIVE_MAX))
  t.ok(reply.fragments.length > 3, `${reply.fragments.length} fragments`)
  t.equal(reply.fragments[0].flags & PFC.FIRST_FRAG, PFC.FIRST_FRAG)
  for (const fragment of reply.fragments.slice(1, -1)) t.equal(fragment.flags & (PFC.FIRST_FRAG | PFC.LAST_FRAG), 0)
  const decoded = decodeShareEnumResponse(reply.stub)
  t.ok(decoded.ok)
  if (decoded.ok) t.equal(decoded.value.entries?.length, 60)
})

t.test('a read with nothing queued waits for the reply; cancel ends the wait', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const waiting = pipe.read(SAMBA_TRANSCEIVE_MAX)
  t.equal(waiting.kind, 'pending')
  if (waiting.kind !== 'pending') return
  t.equal(pipe.pendingReads(), 1)
  pipe.write(enumRequest(2))
  const outcome = await waiting.done
  t.equal(outcome.kind, 'data', 'the reply completes the waiting read')
  if (outcome.kind === 'data') t.equal(pduOf(outcome.bytes).kind, 'response')
  t.equal(pipe.pendingReads(), 0)
  waiting.cancel()
  t.equal((await waiting.done).kind, 'data', 'a cancel after completion changes nothing')

  const cancelled = pipe.read(10)
  if (cancelled.kind !== 'pending') throw new Error('expected a wait')
  cancelled.cancel()
  t.same(await cancelled.done, { kind: 'cancelled' })
  t.equal(NAMED_PIPE_STATUS.cancelled, NT_STATUS.CANCELLED)
  t.equal(pipe.pendingReads(), 0)
})

t.test('waiting reads are served in order, and bounded', async (t) => {
  const fx = fixture({ pendingReadsMax: 2 })
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const a = pipe.read(30)
  const b = pipe.read(SAMBA_TRANSCEIVE_MAX)
  t.same(pipe.read(10), { kind: 'too-many-pending' })
  if (a.kind !== 'pending' || b.kind !== 'pending') throw new Error('expected waits')
  pipe.write(enumRequest(2))
  const first = await a.done
  const second = await b.done
  t.equal(first.kind, 'buffer-overflow', 'the first waiting read takes the first 30 bytes')
  t.equal(second.kind, 'data', 'the second the rest of the same message')
  if (first.kind !== 'cancelled' && first.kind !== 'closed' && second.kind === 'data') t.equal(pduOf(Buffer.concat([first.bytes, second.bytes])).kind, 'response')
})

t.test('transceive is refused while replies or reads wait (STATUS_PIPE_BUSY)', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  pipe.write(enumRequest(2))
  t.same(pipe.transceive(enumRequest(3), 100), { kind: 'unread-data' })
  t.equal(NAMED_PIPE_STATUS['unread-data'], NT_STATUS.PIPE_BUSY)
  replyStub(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX))
  const waiting = pipe.read(10)
  t.same(pipe.transceive(enumRequest(3), 100), { kind: 'unread-data' })
  if (waiting.kind === 'pending') waiting.cancel()
  t.equal(replyStub(pipe, pipe.transceive(enumRequest(4), SAMBA_TRANSCEIVE_MAX)).fragments[0].kind, 'response', 'and allowed again once both are gone')
})

t.test('an unknown opnum is an op-range fault; the pipe stays usable', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const fault = pduOf(wholeMessage(pipe, pipe.transceive(encodeRequest({ callId: 2, contextId: 0, opnum: 14, stub: Buffer.alloc(8) }), 100), 100))
  t.match(fault, { kind: 'fault', status: FAULT.OP_RNG_ERROR, callId: 2 })
  t.equal(replyStub(pipe, pipe.transceive(enumRequest(3), SAMBA_TRANSCEIVE_MAX)).fragments[0].kind, 'response')
})

t.test('a protocol error: the fault stays readable, then the pipe reads and writes as broken', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  // A request before any bind: the association answers with a fault and ends.
  t.match(pipe.write(enumRequest(7)), { kind: 'written' })
  t.notOk(pipe.isOpen())
  const fault = pduOf(wholeMessage(pipe, pipe.read(100), 100))
  t.match(fault, { kind: 'fault', status: FAULT.PROTO_ERROR, callId: 7 })
  t.same(pipe.read(100), { kind: 'closed' })
  t.same(pipe.write(enumRequest(8)), { kind: 'closed' })
  t.same(pipe.transceive(enumRequest(8), 100), { kind: 'closed' })
  t.equal(NAMED_PIPE_STATUS.closed, NT_STATUS.PIPE_BROKEN)
  t.ok(fx.events.some((e) => e.event === 'smb2.pipe.broken'))
  t.equal(fx.registry.openCount(), 1, 'the open stays until the client closes it')
  pipe.close()
  t.equal(fx.registry.openCount(), 0)
})

t.test('a read waiting when the association breaks ends with closed', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const waiting = pipe.read(100)
  if (waiting.kind !== 'pending') throw new Error('expected a wait')
  // A second bind on the association: it ends without a reply.
  pipe.write(encodeBind({ callId: 9, maxXmitFrag: 4280, maxRecvFrag: 4280, assocGroupId: 0, contexts: [] }))
  t.same(await waiting.done, { kind: 'closed' })
})

t.test('close: waiting reads cancelled, calls in flight cancelled, everything after is closed', async (t) => {
  let cancelledCalls = 0
  let pendingReply: ((outcome: CallOutcome) => void) | null = null
  const slow: RpcInterface = {
    name: 'slow',
    uuid: '11111111-2222-3333-4444-555555555555',
    versionMajor: 1,
    versionMinor: 0,
    call(_opnum, _stub, reply) {
      pendingReply = reply
      return () => {
        cancelledCalls++
      }
    },
  }
  const fx = fixture({}, [slow])
  const pipe = open(fx)
  pipe.write(
    encodeBind({
      callId: 1,
      maxXmitFrag: 4280,
      maxRecvFrag: 4280,
      assocGroupId: 0,
      contexts: [{ contextId: 1, abstractSyntax: { uuid: slow.uuid, version: syntaxVersion(1, 0) }, transferSyntaxes: [NDR20_SYNTAX] }],
    }),
  )
  t.match(pduOf(wholeMessage(pipe, pipe.read(500), 500)), { kind: 'bind_ack' })
  // A call whose reply comes later: transceive waits (STATUS_PENDING on the wire).
  const waiting = pipe.transceive(encodeRequest({ callId: 2, contextId: 1, opnum: 0, stub: Buffer.alloc(4) }), 500)
  t.equal(waiting.kind, 'pending')
  if (waiting.kind !== 'pending') return
  t.ok(pendingReply !== null)
  ;(pendingReply as unknown as (outcome: CallOutcome) => void)({ stub: Buffer.from([1, 2, 3, 4]) })
  const outcome = await waiting.done
  t.equal(outcome.kind, 'data')
  if (outcome.kind === 'data') t.match(pduOf(outcome.bytes), { kind: 'response', callId: 2 })

  pipe.write(encodeRequest({ callId: 3, contextId: 1, opnum: 0, stub: Buffer.alloc(4) }))
  const cut = pipe.read(500)
  pipe.close()
  t.equal(cancelledCalls, 1, 'the call in flight is cancelled')
  if (cut.kind === 'pending') t.same(await cut.done, { kind: 'cancelled' })
  t.same(pipe.read(10), { kind: 'closed' })
  t.same(pipe.write(Buffer.alloc(4)), { kind: 'closed' })
  pipe.close()
  t.equal(fx.registry.openCount(), 0, 'close is idempotent')
})

t.test('reply bytes are bounded: a client that does not read gets queue-full, then a broken pipe', async (t) => {
  // The size of a bind_ack on this pipe, measured.
  const probe = open(fixture())
  const ack = probe.write(
    encodeBind({
      callId: 1,
      maxXmitFrag: 4280,
      maxRecvFrag: 4280,
      assocGroupId: 0,
      contexts: [{ contextId: 0, abstractSyntax: { uuid: SRVSVC_INTERFACE.uuid, version: syntaxVersion(3, 0) }, transferSyntaxes: [NDR20_SYNTAX] }],
    }),
  )
  t.match(ack, { kind: 'written' })
  const ackBytes = probe.queuedReplyBytes()
  t.ok(ackBytes > 0)

  const full = fixture({ queuedReplyBytesMax: ackBytes })
  const pipe = open(full)
  pipe.write(
    encodeBind({
      callId: 1,
      maxXmitFrag: 4280,
      maxRecvFrag: 4280,
      assocGroupId: 0,
      contexts: [{ contextId: 0, abstractSyntax: { uuid: SRVSVC_INTERFACE.uuid, version: syntaxVersion(3, 0) }, transferSyntaxes: [NDR20_SYNTAX] }],
    }),
  )
  t.equal(pipe.queuedReplyBytes(), ackBytes)
  t.same(pipe.write(enumRequest(2)), { kind: 'queue-full' }, 'nothing more is taken while the bound is reached')
  t.equal(NAMED_PIPE_STATUS['queue-full'], NT_STATUS.INSUFFICIENT_RESOURCES)
  t.equal(pduOf(wholeMessage(pipe, pipe.read(500), 500)).kind, 'bind_ack')
  // Two calls in one write: their replies together exceed the bound, so the pipe breaks.
  t.match(pipe.write(Buffer.concat([enumRequest(2), enumRequest(3)])), { kind: 'written' })
  t.same(pipe.read(500), { kind: 'closed' })
  t.equal(pipe.queuedReplyBytes(), 0, 'the unread replies are dropped')
  t.ok(full.events.some((e) => e.event === 'smb2.pipe.broken' && /exceed/.test(String(e.fields.reason))))
})

t.test('a PDU split over several writes, and several PDUs in one write', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const request = enumRequest(2)
  for (let at = 0; at < request.length; at += 7) t.match(pipe.write(request.subarray(at, at + 7)), { kind: 'written' })
  t.equal(pduOf(wholeMessage(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX), SAMBA_TRANSCEIVE_MAX)).kind, 'response')
  pipe.write(Buffer.concat([enumRequest(3), enumRequest(4)]))
  t.equal(pipe.peek().numberOfMessages, 2)
  t.match(pduOf(wholeMessage(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX), SAMBA_TRANSCEIVE_MAX)), { callId: 3 })
  t.match(pduOf(wholeMessage(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX), SAMBA_TRANSCEIVE_MAX)), { callId: 4 })
})

t.test('the write copies its input: the caller may reuse its buffer', async (t) => {
  const fx = fixture()
  const pipe = open(fx)
  bindSrvsvc(pipe)
  const request = enumRequest(2)
  const scratch = Buffer.from(request.subarray(0, 10))
  pipe.write(scratch)
  scratch.fill(0xff)
  pipe.write(request.subarray(10))
  t.equal(pduOf(wholeMessage(pipe, pipe.read(SAMBA_TRANSCEIVE_MAX), SAMBA_TRANSCEIVE_MAX)).kind, 'response')
})

t.test('registry: pipe names as clients send them, unknown pipes, the bound on open pipes', async (t) => {
  for (const name of ['srvsvc', 'SRVSVC', '\\srvsvc', '\\PIPE\\srvsvc', 'pipe\\SrvSvc', '\\\\srvsvc']) t.equal(canonicalPipeName(name), 'srvsvc', name)
  for (const name of ['', '\\', '\\PIPE\\', 'a\\b', 'srvsvc:stream', 'x/y', 'a\0b', 'p'.repeat(300)]) t.equal(canonicalPipeName(name), null, JSON.stringify(name.slice(0, 20)))

  const fx = fixture({ openPipesMax: 2 })
  t.ok(fx.registry.has('\\PIPE\\srvsvc'))
  t.notOk(fx.registry.has('lsarpc'))
  t.same(fx.registry.open('lsarpc'), { ok: false, refusal: 'not-found' })
  t.same(fx.registry.open('srvsvc\\x'), { ok: false, refusal: 'not-found' })
  t.equal(NAMED_PIPE_STATUS['not-found'], NT_STATUS.OBJECT_NAME_NOT_FOUND)
  const a = open(fx)
  open(fx, 'SRVSVC')
  t.same(fx.registry.open('srvsvc'), { ok: false, refusal: 'too-many-open' })
  t.equal(NAMED_PIPE_STATUS['too-many-open'], NT_STATUS.PIPE_NOT_AVAILABLE)
  a.close()
  t.ok(fx.registry.open('srvsvc').ok, 'a close frees a slot')
  fx.registry.closeAll()
  t.equal(fx.registry.openCount(), 0)

  t.throws(() => fx.registry.register({ name: 'srvsvc', interfaces: [] }), RangeError, 'a name registered twice')
  t.throws(() => fx.registry.register({ name: '\\PIPE\\lsarpc', interfaces: [] }), RangeError, 'a name not canonical')
  fx.registry.register({ name: 'lsarpc', interfaces: [] })
  t.ok(fx.registry.has('\\pipe\\LSARPC'), 'other endpoints can be added')
})

t.test('read lengths are u32', async (t) => {
  const pipe = open(fixture())
  t.throws(() => pipe.read(-1), RangeError)
  t.throws(() => pipe.transceive(Buffer.alloc(0), 2 ** 32), RangeError)
})
