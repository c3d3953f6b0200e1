// A small MS-SWN witness client on the real wire: DCE/RPC connection-oriented over TCP
// (ncacn_ip_tcp), NDR20, no authentication, as rpcclient and Windows speak it after the endpoint
// mapper has named the port. It binds once to the witness interface v1.1, then runs several calls
// at once on the one connection (call ids, a map of pending calls), reassembles fragmented
// responses (a long GetInterfaceList arrives in several), fragments long requests to the
// server's max_recv_frag, and gives every call a timeout.
//
// The stubs are witness-ndr's encoders and decoders, so this client and the server share one
// codec: it is a tool for tests and benches of the DCE/RPC front, not an independent check of the
// NDR (rpcclient is that). The server is still treated as a peer that may misbehave: frames are
// cut with peekFragLength, a reassembled response is bounded, and nothing it sends can throw out
// of the socket handler.
//
// sendRaw writes bytes unchanged on the bound connection, and connectRaw opens a plain socket, for
// fuzzing; replies to call ids this client did not issue are ignored.
//
// With options.auth the bind is authenticated (dcerpc-client-security: NTLMSSP or SPNEGO, connect,
// integrity or privacy), every request fragment signed (and sealed) and every response fragment
// checked (and unsealed); a response that does not check ends the connection.
import type { RegisterArgs, RegisterExArgs } from './witness-client.js'
import { connect as netConnect, type Socket } from 'node:net'
import {
  BIND_ACK_RESULT,
  DCERPC_DEFAULT_MAX_FRAG_BYTES,
  DCERPC_MAX_FRAG_BYTES,
  DCERPC_REQUEST_HEADER_BYTES,
  NDR20_SYNTAX,
  PFC,
  PTYPE,
  decodePdu,
  encodeBind,
  encodeRequest,
  peekFragLength,
  syntaxVersion,
  type BindAckPdu,
  type Pdu,
} from '../protocol/dcerpc/pdu-codec.js'
import {
  WITNESS_INTERFACE,
  WITNESS_OPNUM,
  decodeAsyncNotifyResponse,
  decodeGetInterfaceListResponse,
  decodeRegisterExResponse,
  decodeRegisterResponse,
  decodeUnRegisterResponse,
  encodeWitnessRequest,
  type AsyncNotifyResponse,
  type GetInterfaceListResponse,
  type RegisterResponse,
  type UnRegisterResponse,
} from '../protocol/dcerpc/witness-ndr.js'
import type { DecodeResult } from '../protocol/swn/message-buffer.js'
import { DCERPC_NTLMSSP_VERIFIER_OVERHEAD_BYTES, withAuthToken } from '../protocol/dcerpc/auth-verifier.js'
import { DcerpcClientSecurity, encodeAuth3, type DcerpcClientAuth } from './dcerpc-client-security.js'
import { WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S, WITNESS_VERSION_1, WITNESS_VERSION_2, type WitnessCall } from '../protocol/swn/witness-calls.js'

/** MS-SWN versions: Register takes 1.1, RegisterEx 2.0. */

// Register's in-parameters are the gRPC client's; here an absent string is a NULL pointer.
export type { RegisterArgs, RegisterExArgs } from './witness-client.js'

export interface DcerpcWitnessClientOptions {
  /** The max_recv_frag we announce; the server fragments responses to fit it. Default 5840, as Windows and Samba. */
  readonly maxRecvFrag?: number
  /** The max_xmit_frag we announce; requests are fragmented to the smaller of it and the server's max_recv_frag. */
  readonly maxXmitFrag?: number
  /** The presentation context id of the witness interface. Default 0. */
  readonly contextId?: number
  /** Deadline of the TCP connect plus bind. Default 10 s. */
  readonly connectTimeoutMs?: number
  /** Bind the connection to this local (source) address; default: the system's choice. */
  readonly localAddress?: string
  /** Default deadline of each call but AsyncNotify. Default 10 s. */
  readonly callTimeoutMs?: number
  /** Authenticate the bind (and protect the calls at integrity or privacy). Default: an unauthenticated bind. */
  readonly auth?: DcerpcClientAuth
  /** Offer PFC_SUPPORT_HEADER_SIGN in an authenticated bind, as Windows does. Default true. */
  readonly headerSigning?: boolean
  /**
   * Bind another interface served on the witness port instead (clusapi v3.0, for tests); only
   * call() is meaningful then, the typed witness methods are not.
   */
  readonly abstractSyntax?: { readonly uuid: string; readonly major: number; readonly minor: number }
}

export type DcerpcClientErrorKind = 'connect' | 'bind' | 'fault' | 'timeout' | 'cancelled' | 'closed' | 'protocol' | 'decode'

/** Every failure of this client. status is the fault status for kind 'fault'. */
export class DcerpcClientError extends Error {
  override readonly name = 'DcerpcClientError'

  constructor(
    readonly kind: DcerpcClientErrorKind,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message)
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_CALL_TIMEOUT_MS = 10_000
/** AsyncNotify waits for news; the server answers TIMEOUT on its own for v2 registrations. */
const DEFAULT_ASYNC_NOTIFY_TIMEOUT_MS = 24 * 3600_000
/** A reassembled response larger than this is the server misbehaving: the call fails instead of the client growing. */
const RESPONSE_STUB_BYTES_MAX = 16 * 1024 * 1024
/** The smallest fragment C706 lets a peer announce (MustRecvFragSize). */
const MIN_FRAG_BYTES = 1432
const FIRST_AND_LAST = PFC.FIRST_FRAG | PFC.LAST_FRAG

interface PendingCall {
  readonly opnum: number
  readonly resolve: (stub: Buffer) => void
  readonly reject: (err: DcerpcClientError) => void
  readonly timer: NodeJS.Timeout
  /** Stub fragments received so far; empty until the first fragment. */
  readonly chunks: Buffer[]
  receivedBytes: number
}

export class DcerpcWitnessClient {
  private buffered: Buffer = Buffer.alloc(0)
  private readonly pending = new Map<number, PendingCall>()
  private nextCallId = 2
  private closedError: DcerpcClientError | null = null
  private readonly maxRequestFrag: number
  private readonly callTimeoutMs: number
  private readonly contextId: number

  private constructor(
    private readonly socket: Socket,
    /** The bind_ack the server answered with. */
    readonly bindAck: BindAckPdu,
    options: DcerpcWitnessClientOptions,
    maxXmitFrag: number,
    /** The association's security context, when the bind was authenticated. */
    readonly security: DcerpcClientSecurity | null = null,
  ) {
    this.maxRequestFrag = Math.min(maxXmitFrag, bindAck.maxRecvFrag) - (security?.protects ? DCERPC_NTLMSSP_VERIFIER_OVERHEAD_BYTES : 0)
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.contextId = options.contextId ?? 0
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (err) => this.fail(new DcerpcClientError('closed', `connection error: ${err.message}`)))
    socket.on('close', () => this.fail(new DcerpcClientError('closed', 'the server closed the connection')))
  }

  /** Connects, binds to the witness interface v1.1 with NDR20 and checks the bind_ack accepted it. */
  static async connect(address: string, port: number, options: DcerpcWitnessClientOptions = {}): Promise<DcerpcWitnessClient> {
    const maxRecvFrag = options.maxRecvFrag ?? DCERPC_DEFAULT_MAX_FRAG_BYTES
    const maxXmitFrag = options.maxXmitFrag ?? DCERPC_DEFAULT_MAX_FRAG_BYTES
    for (const [what, value] of [['maxRecvFrag', maxRecvFrag], ['maxXmitFrag', maxXmitFrag]] as const) {
      if (!Number.isInteger(value) || value < MIN_FRAG_BYTES || value > DCERPC_MAX_FRAG_BYTES) {
        throw new RangeError(`${what} ${String(value)} is not between ${MIN_FRAG_BYTES} and ${DCERPC_MAX_FRAG_BYTES}`)
      }
    }
    const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    const socket = await connectRaw(address, port, timeoutMs, options.localAddress)
    try {
      const security = options.auth !== undefined ? new DcerpcClientSecurity(options.auth) : null
      const headerSign = security !== null && options.headerSigning !== false ? 0x04 : 0
      const contexts = [
        {
          contextId: options.contextId ?? 0,
          abstractSyntax: options.abstractSyntax
            ? { uuid: options.abstractSyntax.uuid, version: syntaxVersion(options.abstractSyntax.major, options.abstractSyntax.minor) }
            : { uuid: WITNESS_INTERFACE.uuid, version: syntaxVersion(WITNESS_INTERFACE.version.major, WITNESS_INTERFACE.version.minor) },
          transferSyntaxes: [NDR20_SYNTAX],
        },
      ]
      const plainBind = encodeBind({
        callId: 1,
        flags: FIRST_AND_LAST | headerSign,
        maxXmitFrag,
        maxRecvFrag,
        assocGroupId: 0,
        contexts,
      })
      const bind = security !== null ? withAuthToken(plainBind, security.id, security.bindToken()) : plainBind
      const answer = await firstPdu(socket, bind, timeoutMs)
      if (answer.kind === 'bind_nak') throw new DcerpcClientError('bind', `bind_nak, reason ${answer.rejectReason}`)
      if (answer.kind !== 'bind_ack') throw new DcerpcClientError('bind', `a ${answer.kind} answered the bind`)
      if (answer.callId !== 1) throw new DcerpcClientError('bind', `the bind_ack has call id ${answer.callId}, not 1`)
      const result = answer.results[0]
      if (answer.results.length !== 1 || result.result !== BIND_ACK_RESULT.ACCEPTANCE) {
        throw new DcerpcClientError('bind', `the witness context was not accepted (result ${result?.result ?? 'none'}, reason ${result?.reason ?? 'none'})`)
      }
      if (result.transferSyntax.uuid !== NDR20_SYNTAX.uuid || result.transferSyntax.version !== NDR20_SYNTAX.version) {
        throw new DcerpcClientError('bind', `the server chose transfer syntax ${result.transferSyntax.uuid} v${result.transferSyntax.version}, not NDR20`)
      }
      if (answer.maxRecvFrag < MIN_FRAG_BYTES) throw new DcerpcClientError('bind', `the server's max_recv_frag ${answer.maxRecvFrag} is below ${MIN_FRAG_BYTES}`)
      if (security !== null) {
        const step = security.onServerToken(answer.auth)
        if (step.next === 'failed') throw new DcerpcClientError('bind', `authentication: ${step.reason}`)
        if (step.next === 'auth3') socket.write(encodeAuth3(1, security.id, step.token))
        if (step.next === 'alter_context') {
          const alter = withAuthToken(encodeBind({ callId: 1, flags: FIRST_AND_LAST | headerSign, maxXmitFrag, maxRecvFrag, assocGroupId: answer.assocGroupId, contexts }, PTYPE.ALTER_CONTEXT), security.id, step.token)
          const resp = await firstPdu(socket, alter, timeoutMs)
          if (resp.kind === 'fault') throw new DcerpcClientError('bind', `alter_context refused: fault 0x${resp.status.toString(16).padStart(8, '0')}`, resp.status)
          if (resp.kind !== 'alter_context_resp') throw new DcerpcClientError('bind', `a ${resp.kind} answered the alter_context`)
          const last = security.onServerToken(resp.auth)
          if (last.next !== 'done') throw new DcerpcClientError('bind', `authentication: ${last.next === 'failed' ? last.reason : `unexpected leg ${last.next}`}`)
        }
      }
      return new DcerpcWitnessClient(socket, answer, options, maxXmitFrag, security)
    } catch (err) {
      socket.destroy()
      throw err
    }
  }

  /** Calls not yet answered. */
  get callsInFlight(): number {
    return this.pending.size
  }

  /** True once the connection is gone (closed by either side). */
  get closed(): boolean {
    return this.closedError !== null
  }

  getInterfaceList(timeoutMs = this.callTimeoutMs): Promise<GetInterfaceListResponse> {
    return this.typedCall(WITNESS_OPNUM.GetInterfaceList, { method: 'GetInterfaceList' }, decodeGetInterfaceListResponse, timeoutMs)
  }

  register(args: RegisterArgs, timeoutMs = this.callTimeoutMs): Promise<RegisterResponse> {
    const call: WitnessCall = {
      method: 'Register',
      version: args.version ?? WITNESS_VERSION_1,
      netName: args.netName,
      ipAddress: args.ipAddress,
      clientComputerName: args.clientComputerName,
    }
    return this.typedCall(WITNESS_OPNUM.Register, call, decodeRegisterResponse, timeoutMs)
  }

  registerEx(args: RegisterExArgs, timeoutMs = this.callTimeoutMs): Promise<RegisterResponse> {
    const call: WitnessCall = {
      method: 'RegisterEx',
      version: args.version ?? WITNESS_VERSION_2,
      netName: args.netName,
      shareName: args.shareName,
      ipAddress: args.ipAddress,
      clientComputerName: args.clientComputerName,
      flags: args.flags ?? 0,
      keepAliveTimeoutS: args.keepAliveTimeoutS ?? WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S,
    }
    return this.typedCall(WITNESS_OPNUM.RegisterEx, call, decodeRegisterExResponse, timeoutMs)
  }

  unRegister(key: string, timeoutMs = this.callTimeoutMs): Promise<UnRegisterResponse> {
    return this.typedCall(WITNESS_OPNUM.UnRegister, { method: 'UnRegister', key }, decodeUnRegisterResponse, timeoutMs)
  }

  /**
   * One AsyncNotify: resolves when the server has news, a timeout or an error for this
   * registration. Aborting signal gives up on it: the server is told (orphaned) and drops the call.
   */
  asyncNotify(key: string, timeoutMs = DEFAULT_ASYNC_NOTIFY_TIMEOUT_MS, signal?: AbortSignal): Promise<AsyncNotifyResponse> {
    return this.typedCall(WITNESS_OPNUM.AsyncNotify, { method: 'AsyncNotify', key }, decodeAsyncNotifyResponse, timeoutMs, signal)
  }

  /**
   * One call with a stub of our choosing: resolves with the response stub, rejects with kind
   * 'fault' (and its status), 'timeout', 'cancelled' or 'closed'. On timeout or abort the server
   * is told to drop the call (orphaned), so a parked AsyncNotify does not outlive our interest in it.
   */
  call(opnum: number, stub: Uint8Array, timeoutMs = this.callTimeoutMs, signal?: AbortSignal): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError)
    if (signal?.aborted) return Promise.reject(new DcerpcClientError('cancelled', `opnum ${opnum}: aborted before it was sent`))
    const callId = this.allocateCallId()
    return new Promise<Buffer>((resolve, reject) => {
      const giveUp = (err: DcerpcClientError): void => {
        const pendingCall = this.settle(callId)
        if (!pendingCall) return
        this.write(encodeControl(PTYPE.ORPHANED, callId))
        pendingCall.reject(err)
      }
      const onAbort = (): void => giveUp(new DcerpcClientError('cancelled', `call ${callId} (opnum ${opnum}) was abandoned`))
      const timer = setTimeout(() => giveUp(new DcerpcClientError('timeout', `call ${callId} (opnum ${opnum}) had no answer within ${timeoutMs} ms`)), timeoutMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      const detach = (): void => signal?.removeEventListener('abort', onAbort)
      this.pending.set(callId, {
        opnum,
        resolve: (stub) => {
          detach()
          resolve(stub)
        },
        reject: (err) => {
          detach()
          reject(err)
        },
        timer,
        chunks: [],
        receivedBytes: 0,
      })
      for (const fragment of fragmentRequest(stub, this.maxRequestFrag, { callId, contextId: this.contextId, opnum })) this.write(this.protect(fragment))
    })
  }

  /** A request fragment as this association sends it: signed (and sealed) when protected. Advances the sequence number. */
  protect(fragment: Buffer): Buffer {
    return this.security?.protects ? this.security.protect(fragment, DCERPC_REQUEST_HEADER_BYTES) : fragment
  }

  /** Writes bytes as they are, after the bind. Answers to call ids this client did not issue are ignored. */
  sendRaw(bytes: Uint8Array): void {
    this.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  }

  /** Closes the connection; calls still waiting fail with kind 'closed'. */
  close(): void {
    this.fail(new DcerpcClientError('closed', 'the client closed the connection'))
  }

  private async typedCall<T>(opnum: number, call: WitnessCall, decode: (stub: Uint8Array) => DecodeResult<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
    const stub = await this.call(opnum, encodeWitnessRequest(opnum, call), timeoutMs, signal)
    const decoded = decode(stub)
    if (!decoded.ok) throw new DcerpcClientError('decode', decoded.error)
    return decoded.value
  }

  private allocateCallId(): number {
    // Call ids are u32 and must not collide with a call still waiting; 0 and 1 (the bind) are skipped.
    for (let attempt = 0; attempt < 1_000_000; attempt++) {
      const id = this.nextCallId
      this.nextCallId = this.nextCallId >= 0xffffffff ? 2 : this.nextCallId + 1
      if (!this.pending.has(id)) return id
    }
    throw new DcerpcClientError('protocol', 'no free call id')
  }

  private write(bytes: Buffer): void {
    if (this.socket.destroyed) return
    // Calls made in one turn of the event loop (a caller with hundreds of registrations issues
    // their AsyncNotify calls together) leave in one writev, not one write each.
    if (this.socket.writableCorked === 0) {
      this.socket.cork()
      process.nextTick(() => this.socket.uncork())
    }
    this.socket.write(bytes)
  }

  private receive(chunk: Buffer): void {
    if (this.closedError) return
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    // Each pass consumes a whole frame or returns, so this ends with the bytes.
    while (this.closedError === null) {
      const peek = peekFragLength(this.buffered, DCERPC_MAX_FRAG_BYTES)
      if (!peek.ok) {
        if ('error' in peek) this.fail(new DcerpcClientError('protocol', `bad frame from the server: ${peek.error.message}`))
        return
      }
      if (this.buffered.length < peek.fragLength) return
      const frame = this.buffered.subarray(0, peek.fragLength)
      this.buffered = this.buffered.subarray(peek.fragLength)
      const decoded = decodePdu(frame)
      if (!decoded.ok) return this.fail(new DcerpcClientError('protocol', `undecodable PDU from the server: ${decoded.error.message}`))
      let pdu = decoded.pdu
      if (pdu.kind === 'response' && this.security?.protects) {
        const opened = this.security.unprotect(frame, DCERPC_REQUEST_HEADER_BYTES, pdu.auth)
        if (!opened.ok) return this.fail(new DcerpcClientError('protocol', `a response that does not check (${opened.failure}): ${opened.reason}`))
        pdu = { ...pdu, stub: opened.stub }
      }
      this.onPdu(pdu)
    }
  }

  private onPdu(pdu: Pdu): void {
    if (pdu.kind === 'shutdown') return this.fail(new DcerpcClientError('closed', 'the server sent shutdown'))
    if (pdu.kind !== 'response' && pdu.kind !== 'fault') return
    const call = this.pending.get(pdu.callId)
    // A late answer to a call that timed out, or to one sendRaw issued.
    if (!call) return
    if (pdu.kind === 'fault') {
      this.settle(pdu.callId)?.reject(new DcerpcClientError('fault', `call ${pdu.callId} (opnum ${call.opnum}): fault 0x${pdu.status.toString(16).padStart(8, '0')}`, pdu.status))
      return
    }
    const isFirst = (pdu.flags & PFC.FIRST_FRAG) !== 0
    if (isFirst !== (call.chunks.length === 0)) {
      this.settle(pdu.callId)?.reject(new DcerpcClientError('protocol', `call ${pdu.callId}: response fragment ${isFirst ? 'repeats' : 'lacks'} PFC_FIRST_FRAG`))
      return
    }
    call.receivedBytes += pdu.stub.length
    if (call.receivedBytes > RESPONSE_STUB_BYTES_MAX) {
      this.settle(pdu.callId)?.reject(new DcerpcClientError('protocol', `call ${pdu.callId}: the response grows beyond ${RESPONSE_STUB_BYTES_MAX} bytes`))
      this.write(encodeControl(PTYPE.ORPHANED, pdu.callId))
      return
    }
    // The stub is a view into the frame buffer; copy it before the next chunk arrives.
    call.chunks.push(Buffer.from(pdu.stub))
    if ((pdu.flags & PFC.LAST_FRAG) === 0) return
    this.settle(pdu.callId)?.resolve(call.chunks.length === 1 ? call.chunks[0] : Buffer.concat(call.chunks))
  }

  private settle(callId: number): PendingCall | undefined {
    const call = this.pending.get(callId)
    if (!call) return undefined
    clearTimeout(call.timer)
    this.pending.delete(callId)
    return call
  }

  private fail(err: DcerpcClientError): void {
    if (this.closedError) return
    this.closedError = err
    for (const callId of [...this.pending.keys()]) this.settle(callId)?.reject(err)
    this.buffered = Buffer.alloc(0)
    this.socket.destroy()
  }
}

/** A plain TCP socket to address:port with no delay, or a 'connect' error after timeoutMs. */
export function connectRaw(address: string, port: number, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address, port, noDelay: true, ...(localAddress !== undefined ? { localAddress } : {}) })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new DcerpcClientError('connect', `no connection to ${address}:${port} within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      socket.destroy()
      reject(new DcerpcClientError('connect', `connecting to ${address}:${port}: ${err.message}`))
    })
  })
}

/**
 * The request fragments of one call: every fragment but the last carries a multiple of 8 stub
 * bytes (NDR alignment survives reassembly), alloc_hint is the stub bytes from that fragment on,
 * and an empty stub still makes one fragment.
 */
export function fragmentRequest(stub: Uint8Array, maxFragBytes: number, header: { readonly callId: number; readonly contextId: number; readonly opnum: number }): Buffer[] {
  const chunkBytes = Math.floor((maxFragBytes - DCERPC_REQUEST_HEADER_BYTES) / 8) * 8
  if (chunkBytes <= 0) throw new RangeError(`maxFragBytes ${maxFragBytes} leaves no room for a stub`)
  const bytes = Buffer.from(stub.buffer, stub.byteOffset, stub.byteLength)
  const fragments: Buffer[] = []
  let offset = 0
  do {
    const end = Math.min(offset + chunkBytes, bytes.length)
    const flags = (offset === 0 ? PFC.FIRST_FRAG : 0) | (end === bytes.length ? PFC.LAST_FRAG : 0)
    fragments.push(encodeRequest({ ...header, stub: bytes.subarray(offset, end), flags, allocHint: bytes.length - offset }))
    offset = end
  } while (offset < bytes.length)
  return fragments
}

/** A co_cancel or orphaned PDU: the 16-byte common header alone. */
export function encodeControl(ptype: typeof PTYPE.CO_CANCEL | typeof PTYPE.ORPHANED, callId: number, flags = FIRST_AND_LAST): Buffer {
  const out = Buffer.alloc(16)
  out[0] = 5
  out[1] = 0
  out[2] = ptype
  out[3] = flags
  out[4] = 0x10
  out.writeUInt16LE(16, 8)
  out.writeUInt32LE(callId >>> 0, 12)
  return out
}

/** Writes request and waits for the first whole PDU the server sends back (the bind's answer). */
function firstPdu(socket: Socket, request: Buffer, timeoutMs: number): Promise<Pdu> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0)
    const done = (outcome: { pdu: Pdu } | { error: DcerpcClientError }): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('error', onError)
      if ('pdu' in outcome) {
        // Bytes after the bind's answer would be a server speaking out of turn; nothing was asked yet.
        if (buffered.length > 0) reject(new DcerpcClientError('bind', `${buffered.length} unexpected bytes after the bind's answer`))
        else resolve(outcome.pdu)
      } else reject(outcome.error)
    }
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const peek = peekFragLength(buffered, DCERPC_MAX_FRAG_BYTES)
      if (!peek.ok) {
        if ('error' in peek) done({ error: new DcerpcClientError('bind', `bad frame: ${peek.error.message}`) })
        return
      }
      if (buffered.length < peek.fragLength) return
      const decoded = decodePdu(buffered.subarray(0, peek.fragLength))
      buffered = buffered.subarray(peek.fragLength)
      done(decoded.ok ? { pdu: decoded.pdu } : { error: new DcerpcClientError('bind', `undecodable answer to the bind: ${decoded.error.message}`) })
    }
    const onClose = (): void => done({ error: new DcerpcClientError('bind', 'the server closed the connection during the bind') })
    const onError = (err: Error): void => done({ error: new DcerpcClientError('bind', `connection error during the bind: ${err.message}`) })
    const timer = setTimeout(() => done({ error: new DcerpcClientError('bind', `no answer to the bind within ${timeoutMs} ms`) }), timeoutMs)
    socket.on('data', onData)
    socket.on('close', onClose)
    socket.on('error', onError)
    socket.write(request)
  })
}
