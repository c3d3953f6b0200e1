// One DCE/RPC connection-oriented association (C706 chapter 12, MS-RPCE 2.2.2), fed bytes by its
// transport (a TCP socket, or a named pipe of the SMB2 front): framing of the byte stream into
// PDUs, bind and alter_context (NDR20 only; NDR64 and unknown syntaxes rejected; bind-time
// feature negotiation answered), requests reassembled from fragments, several calls in flight
// (an AsyncNotify waits while others proceed), responses fragmented to the client's
// max_xmit_frag, faults, co_cancel and orphaned. The interfaces it serves are handed in: this
// file knows nothing of the witness or srvsvc.
import {
  BIND_ACK_REASON,
  BIND_ACK_RESULT,
  BIND_NAK_REASON,
  DCERPC_DEFAULT_MAX_FRAG_BYTES,
  FAULT,
  NDR20_SYNTAX,
  NULL_SYNTAX,
  PFC,
  PTYPE,
  bindTimeFeatureAnswer,
  bindTimeFeatures,
  decodePdu,
  encodeBindAck,
  encodeBindNak,
  encodeFault,
  fragmentResponse,
  peekFragLength,
  sameSyntax,
  syntaxVersionParts,
  type BindAckResult,
  type BindPdu,
  type RequestPdu,
} from '../../protocol/dcerpc/pdu-codec.js'
import { FragmentAssembler } from '../../protocol/dcerpc/fragment-assembler.js'

/** What an interface's manager answers: a stub, or a fault status. */
export type CallOutcome = { readonly stub: Buffer } | { readonly fault: number }

export interface RpcInterface {
  readonly name: string
  readonly uuid: string
  readonly versionMajor: number
  readonly versionMinor: number
  /** Runs one call; `reply` may be called later (an AsyncNotify), at most once. Returns a cancel. */
  call(opnum: number, stub: Buffer, reply: (outcome: CallOutcome) => void): () => void
}

export interface RpcConnectionOptions {
  readonly interfaces: readonly RpcInterface[]
  /** The port this endpoint listens on: the bind_ack's secondary address is its decimal text (ncacn_ip_tcp). */
  readonly port?: number
  /**
   * The bind_ack's secondary address when it is not a port: a named pipe's `\PIPE\srvsvc`
   * (ncacn_np, as Windows and Samba answer). Takes precedence over port.
   */
  readonly secondaryAddress?: string
  readonly send: (bytes: Buffer) => void
  readonly close: () => void
  readonly log: (event: string, fields: Record<string, unknown>) => void
}

/** Bounds: fragment size we accept, calls in flight, bytes waiting for a frame, contexts. */
export const MAX_RECV_FRAG_BYTES = DCERPC_DEFAULT_MAX_FRAG_BYTES
/** C706's MustRecvFragSize: every peer takes fragments this big. */
const MUST_RECV_FRAG_BYTES = 1432
const CALLS_IN_FLIGHT_MAX = 64
const CONTEXTS_MAX = 16
/** Witness requests are a few hundred bytes: a request stub beyond this is refused. */
const REQUEST_STUB_BYTES_MAX = 64 * 1024
/** Requests being reassembled at once per connection. */
const CALLS_IN_ASSEMBLY_MAX = 8

export class RpcConnection {
  private buffered: Buffer = Buffer.alloc(0)
  private bound = false
  private maxXmitFrag = DCERPC_DEFAULT_MAX_FRAG_BYTES
  private readonly contexts = new Map<number, RpcInterface>()
  private readonly inFlight = new Map<number, () => void>()
  /** The presentation context of each call in flight, for the fault that answers a cancel. */
  private readonly callContexts = new Map<number, number>()
  private readonly assembler = new FragmentAssembler({ maxStubBytes: REQUEST_STUB_BYTES_MAX, maxCallsInAssembly: CALLS_IN_ASSEMBLY_MAX })
  private closed = false
  private static nextAssocGroup = 0x12340000

  constructor(private readonly opts: RpcConnectionOptions) {}

  /** Bytes from the socket. */
  receive(chunk: Buffer): void {
    if (this.closed) return
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    while (!this.closed) {
      const peek = peekFragLength(this.buffered, MAX_RECV_FRAG_BYTES)
      if (!peek.ok) {
        if ('error' in peek) return this.abort(`bad frame: ${peek.error.message}`)
        return
      }
      if (this.buffered.length < peek.fragLength) return
      const frame = this.buffered.subarray(0, peek.fragLength)
      this.buffered = this.buffered.subarray(peek.fragLength)
      this.onFrame(Buffer.from(frame))
    }
  }

  /** The socket closed: every call still waiting is cancelled. */
  end(): void {
    this.closed = true
    for (const cancel of this.inFlight.values()) cancel()
    this.inFlight.clear()
    this.callContexts.clear()
    this.assembler.clear()
  }

  callsInFlight(): number {
    return this.inFlight.size
  }

  isBound(): boolean {
    return this.bound
  }

  private onFrame(frame: Buffer): void {
    const decoded = decodePdu(frame)
    if (!decoded.ok) {
      const { error } = decoded
      if ((error.ptype === PTYPE.BIND || error.ptype === PTYPE.ALTER_CONTEXT) && error.callId !== null) {
        const reason = error.code === 'unsupported_version' ? BIND_NAK_REASON.PROTOCOL_VERSION_NOT_SUPPORTED : BIND_NAK_REASON.NOT_SPECIFIED
        this.opts.send(encodeBindNak({ callId: error.callId, reason }))
      } else if (error.callId !== null) {
        this.opts.send(encodeFault({ callId: error.callId, contextId: 0, status: FAULT.PROTO_ERROR, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
      }
      return this.abort(`undecodable PDU: ${error.message}`)
    }
    const pdu = decoded.pdu
    switch (pdu.kind) {
      case 'bind':
      case 'alter_context':
        return this.onBind(pdu)
      case 'request':
        return this.onRequest(pdu)
      case 'co_cancel':
      case 'orphaned': {
        this.assembler.drop(pdu.callId)
        const cancel = this.inFlight.get(pdu.callId)
        this.inFlight.delete(pdu.callId)
        cancel?.()
        // A cancelled call still gets an answer (the client waits for one); an orphaned call
        // is one the client no longer waits for.
        const context = this.callContexts.get(pdu.callId)
        this.callContexts.delete(pdu.callId)
        if (cancel && pdu.kind === 'co_cancel') this.opts.send(encodeFault({ callId: pdu.callId, contextId: context ?? 0, status: FAULT.CANCEL }))
        this.opts.log('dcerpc.call.cancelled', { callId: pdu.callId, how: pdu.kind, wasInFlight: cancel !== undefined })
        return
      }
      case 'auth3':
        // No authentication is offered: an auth3 can only follow a bind we did not accept with auth.
        return
      default:
        // A client does not send responses, faults or acks to a server.
        this.opts.send(encodeFault({ callId: pdu.callId, contextId: 0, status: FAULT.PROTO_ERROR, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
        return this.abort(`unexpected ${pdu.kind} from a client`)
    }
  }

  private onBind(pdu: BindPdu): void {
    if (pdu.kind === 'bind' && this.bound) return this.abort('a second bind on one association')
    if (pdu.kind === 'alter_context' && !this.bound) return this.abort('alter_context before bind')
    if (pdu.authLength > 0) {
      // No security provider: answer as Samba does when it offers none.
      if (pdu.kind === 'bind') this.opts.send(encodeBindNak({ callId: pdu.callId, reason: BIND_NAK_REASON.AUTHENTICATION_TYPE_NOT_RECOGNIZED }))
      return this.abort('an authenticated bind; this endpoint has no security provider')
    }
    const results: BindAckResult[] = pdu.contexts.map((ctx) => {
      const features = ctx.transferSyntaxes.map((s) => bindTimeFeatures(s)).find((f) => f !== null)
      if (features !== undefined && features !== null) {
        return { result: BIND_ACK_RESULT.NEGOTIATE_ACK, reason: bindTimeFeatureAnswer(features), transferSyntax: NULL_SYNTAX }
      }
      const version = syntaxVersionParts(ctx.abstractSyntax.version)
      const iface = this.opts.interfaces.find(
        (i) => i.uuid === ctx.abstractSyntax.uuid.toLowerCase() && i.versionMajor === version.major && i.versionMinor === version.minor,
      )
      if (!iface) return { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.ABSTRACT_SYNTAX_NOT_SUPPORTED, transferSyntax: NULL_SYNTAX }
      if (!ctx.transferSyntaxes.some((s) => sameSyntax(s, NDR20_SYNTAX))) {
        return { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.PROPOSED_TRANSFER_SYNTAXES_NOT_SUPPORTED, transferSyntax: NULL_SYNTAX }
      }
      if (this.contexts.size >= CONTEXTS_MAX && !this.contexts.has(ctx.contextId)) {
        return { result: BIND_ACK_RESULT.PROVIDER_REJECTION, reason: BIND_ACK_REASON.LOCAL_LIMIT_EXCEEDED, transferSyntax: NULL_SYNTAX }
      }
      this.contexts.set(ctx.contextId, iface)
      return { result: BIND_ACK_RESULT.ACCEPTANCE, reason: 0, transferSyntax: NDR20_SYNTAX }
    })
    // Fragments we send must fit both the client's receive size and our own.
    this.maxXmitFrag = Math.max(MUST_RECV_FRAG_BYTES, Math.min(pdu.maxRecvFrag, MAX_RECV_FRAG_BYTES))
    const assocGroupId = pdu.assocGroupId !== 0 ? pdu.assocGroupId : RpcConnection.nextAssocGroup++
    const ptype = pdu.kind === 'bind' ? PTYPE.BIND_ACK : PTYPE.ALTER_CONTEXT_RESP
    this.opts.send(
      encodeBindAck(
        {
          callId: pdu.callId,
          maxXmitFrag: this.maxXmitFrag,
          maxRecvFrag: MAX_RECV_FRAG_BYTES,
          assocGroupId,
          secondaryAddress: pdu.kind === 'bind' ? (this.opts.secondaryAddress ?? String(this.opts.port ?? 0)) : '',
          results,
          flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | (pdu.flags & PFC.CONC_MPX),
        },
        ptype,
      ),
    )
    this.bound = true
    this.opts.log('dcerpc.bind', {
      kind: pdu.kind,
      callId: pdu.callId,
      contexts: pdu.contexts.map((c, i) => ({ id: c.contextId, uuid: c.abstractSyntax.uuid, result: results[i].result })),
    })
  }

  private onRequest(fragment: RequestPdu): void {
    const fail = (callId: number, contextId: number, status: number) =>
      this.opts.send(encodeFault({ callId, contextId, status, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
    if (!this.bound) {
      fail(fragment.callId, fragment.contextId, FAULT.PROTO_ERROR)
      return this.abort('a request before bind')
    }
    const assembled = this.assembler.add(fragment)
    if (assembled.kind === 'pending') return
    if (assembled.kind === 'error') return fail(assembled.callId, assembled.contextId, assembled.status)
    const request = assembled.request
    const iface = this.contexts.get(request.contextId)
    if (!iface) return fail(request.callId, request.contextId, FAULT.UNKNOWN_IF)
    if (this.inFlight.has(request.callId)) {
      fail(request.callId, request.contextId, FAULT.PROTO_ERROR)
      return this.abort(`call id ${request.callId} reused while in flight`)
    }
    if (this.inFlight.size >= CALLS_IN_FLIGHT_MAX) return fail(request.callId, request.contextId, FAULT.SERVER_TOO_BUSY)
    // Our stubs are NDR20 little-endian: a big-endian body would be misread, so refuse it.
    if (!request.littleEndian) return fail(request.callId, request.contextId, FAULT.UNSUPPORTED_TYPE)
    const { callId, contextId, opnum } = request
    let answered = false
    const cancel = iface.call(opnum, Buffer.from(request.stub), (outcome) => {
      if (answered || this.closed) return
      answered = true
      this.inFlight.delete(callId)
      this.callContexts.delete(callId)
      if ('fault' in outcome) {
        this.opts.send(encodeFault({ callId, contextId, status: outcome.fault }))
        this.opts.log('dcerpc.fault', { callId, opnum, status: outcome.fault })
        return
      }
      for (const frag of fragmentResponse(outcome.stub, this.maxXmitFrag, { callId, contextId })) this.opts.send(frag)
    })
    if (!answered) {
      this.inFlight.set(callId, cancel)
      this.callContexts.set(callId, contextId)
    }
  }

  private abort(reason: string): void {
    if (this.closed) return
    this.opts.log('dcerpc.connection.aborted', { reason })
    this.end()
    this.opts.close()
  }
}
