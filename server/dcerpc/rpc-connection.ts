// One DCE/RPC connection-oriented association (C706 chapter 12, MS-RPCE 2.2.2), fed bytes by its
// transport (a TCP socket, or a named pipe of the SMB2 front): framing of the byte stream into
// PDUs, bind and alter_context (NDR20 only; NDR64 and unknown syntaxes rejected; bind-time
// feature negotiation answered), requests reassembled from fragments, several calls in flight
// (an AsyncNotify waits while others proceed), responses fragmented to the client's
// max_xmit_frag, faults, co_cancel and orphaned. The interfaces it serves are handed in: this
// file knows nothing of the witness or srvsvc.
//
// Authentication (MS-RPCE 3.3.1.5.2), when the transport hands in an RpcAuthConfig: NTLMSSP and
// SPNEGO at connect, packet integrity and packet privacy, one security context per association
// (no security context multiplexing). The token legs are bind -> bind_ack, then auth3 (NTLMSSP)
// or alter_context -> alter_context_resp (SPNEGO). At integrity and privacy every request fragment
// is verified (and unsealed) before it is reassembled, and every response fragment is signed (and
// sealed). What is refused, and how (as Samba 4.17's dcesrv does, which follows Windows):
// - a bind naming an auth type other than NTLMSSP/SPNEGO: bind_nak AUTHENTICATION_TYPE_NOT_RECOGNIZED;
//   an auth level other than connect/integrity/privacy, or a first token the acceptor refuses:
//   bind_nak NOT_SPECIFIED; the association is dropped either way;
// - a failed later leg: on alter_context a fault ACCESS_DENIED and the association dropped; on
//   auth3 (which has no answer) the association is marked, and its next request gets the fault
//   ACCESS_DENIED and the association is dropped;
// - a request on a protected association whose verifier is missing or truncated, names another
//   auth type, level or context id (a level change mid-association), whose pad lies, or whose
//   signature or sequence number does not check: fault ACCESS_DENIED (did-not-execute) and the
//   association dropped. It must be dropped: NTLMSSP's inbound RC4 stream and sequence number have
//   moved on, so no later PDU could be checked; ACCESS_DENIED is what Samba's dcesrv_request
//   answers when dcesrv_auth_pkt_pull fails. (auth_length lies that do not fit the PDU already fail
//   to decode: fault PROTO_ERROR, dropped.)
// - a second token after the exchange ended (alter_context with a verifier): fault ACCESS_DENIED,
//   dropped.
// Faults are sent without a verifier, as Samba's server sends them: its clients do not check a
// fault's verifier, so a signed fault would leave their inbound sequence number behind ours.
import {
  BIND_ACK_REASON,
  BIND_ACK_RESULT,
  BIND_NAK_REASON,
  DCERPC_DEFAULT_MAX_FRAG_BYTES,
  DCERPC_REQUEST_HEADER_BYTES,
  DCERPC_RESPONSE_HEADER_BYTES,
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
  type Pdu,
  type RequestPdu,
} from '../../protocol/dcerpc/pdu-codec.js'
import { FragmentAssembler } from '../../protocol/dcerpc/fragment-assembler.js'
import { DCERPC_NTLMSSP_VERIFIER_OVERHEAD_BYTES, protectPdu, unprotectPdu, withAuthToken } from '../../protocol/dcerpc/auth-verifier.js'
import { ANONYMOUS_CALLER, RpcSecurityContext, type RpcAuthConfig, type RpcCaller } from './rpc-security-context.js'

export type { RpcAuthConfig, RpcCaller } from './rpc-security-context.js'

/** What an interface's manager answers: a stub, or a fault status. */
export type CallOutcome = { readonly stub: Buffer } | { readonly fault: number }

export interface RpcInterface {
  readonly name: string
  readonly uuid: string
  readonly versionMajor: number
  readonly versionMinor: number
  /**
   * Runs one call; `reply` may be called later (an AsyncNotify), at most once. Returns a cancel.
   * caller says who is calling and at which auth level (ANONYMOUS_CALLER without authentication).
   */
  call(opnum: number, stub: Buffer, reply: (outcome: CallOutcome) => void, caller: RpcCaller): () => void
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
  /** Accept authenticated binds (NTLMSSP, SPNEGO); without it an authenticated bind gets a bind_nak. */
  readonly auth?: RpcAuthConfig
}

/** pfc_flags 0x04 on a bind, bind_ack, alter_context or alter_context_resp: PFC_SUPPORT_HEADER_SIGN (MS-RPCE 2.2.2.3). */
const PFC_SUPPORT_HEADER_SIGN = 0x04

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
  /** The association's security context once an authenticated bind arrived. */
  private security: RpcSecurityContext | null = null
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
        return this.onRequest(pdu, frame)
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
        return this.onAuth3(pdu)
      default:
        // A client does not send responses, faults or acks to a server.
        this.opts.send(encodeFault({ callId: pdu.callId, contextId: 0, status: FAULT.PROTO_ERROR, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
        return this.abort(`unexpected ${pdu.kind} from a client`)
    }
  }

  private onBind(pdu: BindPdu): void {
    if (pdu.kind === 'bind' && this.bound) return this.abort('a second bind on one association')
    if (pdu.kind === 'alter_context' && !this.bound) return this.abort('alter_context before bind')
    let authToken: Buffer | null = null
    if (pdu.authLength > 0 && pdu.auth !== null) {
      if (this.opts.auth === undefined) {
        // No security provider: answer as Samba does when it offers none.
        if (pdu.kind === 'bind') this.opts.send(encodeBindNak({ callId: pdu.callId, reason: BIND_NAK_REASON.AUTHENTICATION_TYPE_NOT_RECOGNIZED }))
        return this.abort('an authenticated bind; this endpoint has no security provider')
      }
      if (pdu.kind === 'bind') {
        const started = RpcSecurityContext.start(pdu.auth, this.opts.auth)
        const outcome = started.outcome
        if (outcome.kind === 'refused') {
          const reason = outcome.why === 'auth_type' ? BIND_NAK_REASON.AUTHENTICATION_TYPE_NOT_RECOGNIZED : BIND_NAK_REASON.NOT_SPECIFIED
          this.opts.send(encodeBindNak({ callId: pdu.callId, reason }))
          return this.abort(`authenticated bind refused: ${outcome.reason}`)
        }
        this.security = started.context
        authToken = outcome.token
      } else {
        const outcome = this.security === null ? null : this.security.next(pdu.auth)
        if (outcome === null || outcome.kind === 'refused') {
          this.opts.send(encodeFault({ callId: pdu.callId, contextId: 0, status: FAULT.ACCESS_DENIED, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
          return this.abort(`alter_context authentication refused: ${outcome === null ? 'the bind was not authenticated' : outcome.reason}`)
        }
        authToken = outcome.token
        if (outcome.kind === 'complete') this.logAuthenticated()
      }
    } else if (pdu.kind === 'alter_context' && this.security !== null && !this.security.caller()) {
      this.opts.send(encodeFault({ callId: pdu.callId, contextId: 0, status: FAULT.ACCESS_DENIED, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
      return this.abort('alter_context without a token while the authentication is unfinished or failed')
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
    // Header signing is acknowledged when the client offers it with authentication, as Windows does
    // (for NTLMSSP the header is signed either way; see auth-verifier).
    const headerSign = this.security !== null ? pdu.flags & PFC_SUPPORT_HEADER_SIGN : 0
    const ack = encodeBindAck(
        {
          callId: pdu.callId,
          maxXmitFrag: this.maxXmitFrag,
          maxRecvFrag: MAX_RECV_FRAG_BYTES,
          assocGroupId,
          secondaryAddress: pdu.kind === 'bind' ? (this.opts.secondaryAddress ?? String(this.opts.port ?? 0)) : '',
          results,
          flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | (pdu.flags & PFC.CONC_MPX) | headerSign,
        },
        ptype,
      )
    this.opts.send(authToken !== null && authToken.length > 0 && this.security !== null ? withAuthToken(ack, this.security.id, authToken) : ack)
    this.bound = true
    this.opts.log('dcerpc.bind', {
      kind: pdu.kind,
      callId: pdu.callId,
      contexts: pdu.contexts.map((c, i) => ({ id: c.contextId, uuid: c.abstractSyntax.uuid, result: results[i].result })),
    })
  }

  /** The third NTLMSSP leg. It has no answer: a failure shows on the next request. */
  private onAuth3(pdu: Extract<Pdu, { kind: 'auth3' }>): void {
    // Without a security context an auth3 means nothing (none was offered); it is ignored.
    if (this.security === null || pdu.auth === null) return
    if (!this.security.pending) return this.abort('auth3 after the authentication ended')
    const outcome = this.security.next(pdu.auth)
    if (outcome.kind === 'complete') return this.logAuthenticated()
    // A failed leg, or one that wants an answer auth3 cannot carry: the association is refused.
    this.opts.log('dcerpc.auth.failed', { callId: pdu.callId, reason: outcome.kind === 'refused' ? outcome.reason : 'auth3 did not complete the exchange' })
    this.security.fail()
  }

  private logAuthenticated(): void {
    const caller = this.security?.caller()
    this.opts.log('dcerpc.auth.complete', { principal: caller?.principal ?? null, authLevel: caller?.authLevel, authType: this.security?.id.authType })
  }

  private onRequest(received: RequestPdu, frame: Buffer): void {
    const fail = (callId: number, contextId: number, status: number) =>
      this.opts.send(encodeFault({ callId, contextId, status, flags: PFC.FIRST_FRAG | PFC.LAST_FRAG | PFC.DID_NOT_EXECUTE }))
    if (!this.bound) {
      fail(received.callId, received.contextId, FAULT.PROTO_ERROR)
      return this.abort('a request before bind')
    }
    let fragment = received
    const security = this.security
    if (security !== null) {
      if (security.caller() === null) {
        fail(received.callId, received.contextId, FAULT.ACCESS_DENIED)
        return this.abort(security.failed ? 'a request after the authentication failed' : 'a request before the authentication completed')
      }
      const session = security.security()
      if (session !== undefined) {
        const stubOffset = DCERPC_REQUEST_HEADER_BYTES + (received.object === null ? 0 : 16)
        const opened = unprotectPdu(frame, stubOffset, received.auth, security.id, session)
        if (!opened.ok) {
          fail(received.callId, received.contextId, FAULT.ACCESS_DENIED)
          return this.abort(`request refused by the security context (${opened.failure}): ${opened.reason}`)
        }
        fragment = { ...received, stub: opened.stub }
      }
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
    const caller = this.security?.caller() ?? ANONYMOUS_CALLER
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
      const session = this.security?.security()
      if (session === undefined || this.security === null) {
        for (const frag of fragmentResponse(outcome.stub, this.maxXmitFrag, { callId, contextId })) this.opts.send(frag)
        return
      }
      const { id } = this.security
      for (const frag of fragmentResponse(outcome.stub, this.maxXmitFrag - DCERPC_NTLMSSP_VERIFIER_OVERHEAD_BYTES, { callId, contextId })) {
        this.opts.send(protectPdu(frag, DCERPC_RESPONSE_HEADER_BYTES, id, session))
      }
    }, caller)
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
