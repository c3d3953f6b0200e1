// An in-process DCE/RPC association with authentication, for tests: an RpcConnection with a
// security provider over the accounts given, one echo interface that records who called at which
// level, and a client side (dcerpc-client-security) that runs the bind legs and protects requests.
// No sockets: PDUs go straight into RpcConnection.receive and come back from its send.
import { randomBytes } from 'node:crypto'
import { RpcConnection, type RpcCaller, type RpcInterface } from '../../server/dcerpc/rpc-connection.js'
import { rpcAuthConfig } from '../../server/dcerpc/rpc-auth-config.js'
import { DcerpcClientSecurity, encodeAuth3, type DcerpcClientAuth } from '../../client/dcerpc-client-security.js'
import { withAuthToken } from '../../protocol/dcerpc/auth-verifier.js'
import { DCERPC_REQUEST_HEADER_BYTES, NDR20_SYNTAX, PTYPE, decodePdu, encodeBind, encodeRequest, syntaxVersion, type Pdu } from '../../protocol/dcerpc/pdu-codec.js'

export const ECHO_UUID = '12345678-1234-abcd-ef00-0123456789ab'
export const ECHO_OPNUM = 0
/** Answers a 20,000-byte stub, so the response is fragmented. */
export const BIG_OPNUM = 1
export const USERS = [
  { user: 'admin', password: 'admin-secret' },
  { user: 'alice', password: 'alice-secret' },
]

export interface RecordedCall {
  readonly opnum: number
  readonly stub: Buffer
  readonly caller: RpcCaller
}

export class RpcAuthHarness {
  readonly sent: Buffer[] = []
  readonly calls: RecordedCall[] = []
  readonly log: { event: string; fields: Record<string, unknown> }[] = []
  closed = false
  readonly connection: RpcConnection
  security: DcerpcClientSecurity | null = null
  private nextCallId = 2

  constructor(options: { withAuth?: boolean } = {}) {
    const iface: RpcInterface = {
      name: 'echo',
      uuid: ECHO_UUID,
      versionMajor: 1,
      versionMinor: 0,
      call: (opnum, stub, reply, caller) => {
        this.calls.push({ opnum, stub: Buffer.from(stub), caller })
        reply({ stub: opnum === BIG_OPNUM ? Buffer.alloc(20_000, 0x5a) : Buffer.concat([Buffer.from('echo:'), stub]) })
        return () => undefined
      },
    }
    const auth = rpcAuthConfig({ admin: USERS[0], users: [USERS[1]] }, 'node-1', () => Date.now())
    this.connection = new RpcConnection({
      interfaces: [iface],
      port: 4711,
      send: (bytes) => this.sent.push(Buffer.from(bytes)),
      close: () => {
        this.closed = true
      },
      log: (event, fields) => this.log.push({ event, fields }),
      ...(options.withAuth !== false && auth !== null ? { auth } : {}),
    })
  }

  /** Every PDU the server sent since the last take. */
  take(): Pdu[] {
    const out = this.sent.map((b) => {
      const d = decodePdu(b)
      if (!d.ok) throw new Error(`the server sent an undecodable PDU: ${d.error.message}`)
      return d.pdu
    })
    this.sent.length = 0
    return out
  }

  /** Raw frames the server sent since the last take. */
  takeRaw(): Buffer[] {
    const out = [...this.sent]
    this.sent.length = 0
    return out
  }

  /** The bind's plain PDU for the echo interface. */
  static plainBind(ptype: typeof PTYPE.BIND | typeof PTYPE.ALTER_CONTEXT = PTYPE.BIND, flags = 0x03 | 0x04): Buffer {
    return encodeBind(
      { callId: 1, flags, maxXmitFrag: 5840, maxRecvFrag: 5840, assocGroupId: 0, contexts: [{ contextId: 0, abstractSyntax: { uuid: ECHO_UUID, version: syntaxVersion(1, 0) }, transferSyntaxes: [NDR20_SYNTAX] }] },
      ptype,
    )
  }

  /** Runs the bind legs; returns the last PDU the server answered (bind_ack or alter_context_resp), or what refused it. */
  handshake(auth: DcerpcClientAuth): { ok: true } | { ok: false; pdus: Pdu[]; reason: string } {
    const security = new DcerpcClientSecurity(auth)
    this.security = security
    this.connection.receive(withAuthToken(RpcAuthHarness.plainBind(), security.id, security.bindToken()))
    const [ack, ...rest] = this.take()
    if (ack?.kind !== 'bind_ack' || rest.length > 0) return { ok: false, pdus: [ack, ...rest].filter(Boolean), reason: `bind answered by ${ack?.kind}` }
    const step = security.onServerToken(ack.auth)
    if (step.next === 'failed') return { ok: false, pdus: [ack], reason: step.reason }
    if (step.next === 'auth3') {
      this.connection.receive(encodeAuth3(1, security.id, step.token))
      const after = this.take()
      return after.length === 0 ? { ok: true } : { ok: false, pdus: after, reason: 'auth3 answered' }
    }
    if (step.next === 'alter_context') {
      this.connection.receive(withAuthToken(RpcAuthHarness.plainBind(PTYPE.ALTER_CONTEXT), security.id, step.token))
      const [resp] = this.take()
      if (resp?.kind !== 'alter_context_resp') return { ok: false, pdus: resp ? [resp] : [], reason: `alter_context answered by ${resp?.kind}` }
      const last = security.onServerToken(resp.auth)
      return last.next === 'done' ? { ok: true } : { ok: false, pdus: [resp], reason: last.next === 'failed' ? last.reason : last.next }
    }
    return { ok: true }
  }

  /** A request fragment as the authenticated client sends it (protected when the level asks). Consumes a client sequence number. */
  request(opnum: number, stub: Buffer, callId = this.nextCallId++): Buffer {
    const plain = encodeRequest({ callId, contextId: 0, opnum, stub })
    return this.security?.protects ? this.security.protect(plain, DCERPC_REQUEST_HEADER_BYTES) : plain
  }

  /** Sends a request and returns the response stub (reassembled and checked), or the fault status. */
  call(opnum: number, stub: Buffer): { stub: Buffer } | { fault: number } | { nothing: true; closed: boolean } {
    this.connection.receive(this.request(opnum, stub))
    const frames = this.takeRaw()
    if (frames.length === 0) return { nothing: true, closed: this.closed }
    const chunks: Buffer[] = []
    for (const frame of frames) {
      const d = decodePdu(frame)
      if (!d.ok) throw new Error(d.error.message)
      const pdu = d.pdu
      if (pdu.kind === 'fault') return { fault: pdu.status }
      if (pdu.kind !== 'response') throw new Error(`unexpected ${pdu.kind}`)
      if (this.security?.protects) {
        const opened = this.security.unprotect(frame, DCERPC_REQUEST_HEADER_BYTES, pdu.auth)
        if (!opened.ok) throw new Error(`response does not check: ${opened.reason}`)
        chunks.push(opened.stub)
      } else chunks.push(Buffer.from(pdu.stub))
    }
    return { stub: Buffer.concat(chunks) }
  }
}

export function randomStub(bytes: number): Buffer {
  return randomBytes(bytes)
}
