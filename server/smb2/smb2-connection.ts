// One SMB2 connection of the wire front: the request pipeline of MS-SMB2 3.3.5.2 over frames
// the listener hands in, and the connection-level commands (NEGOTIATE, SESSION_SETUP, LOGOFF,
// TREE_CONNECT, TREE_DISCONNECT, ECHO, CANCEL). The tree-level commands go to the file
// commands. Per frame:
// - an SMB1 multi-protocol NEGOTIATE is answered with dialect 0x02FF (or 2.0.2) (3.3.5.3);
// - a TRANSFORM_HEADER frame is decrypted with its session's key; one that does not decrypt
//   drops the connection (3.3.5.2.1.1);
// - an SMB2 frame is split into its compound members (3.3.5.2.7), each checked in turn:
//   credits and MessageId (3.3.5.2.3, a bad one drops the connection), the session and its
//   signature (3.3.5.2.4, 3.3.5.2.9), encryption required (3.3.5.2.11), the tree (3.3.5.2.11);
//   members of a related compound inherit SessionId, TreeId and FileId (3.3.5.2.7.2), and fail
//   with INVALID_PARAMETER when there is no valid session to inherit (a related first member,
//   or one after a member whose session was unknown); a member that would go async fails with
//   INTERNAL_ERROR unless it is the last (3.3.5.2.7, as Windows does);
// - responses are chained into one frame, each signed when its request was or its session
//   requires it, and the frame encrypted when the request came encrypted or the session or
//   tree requires it.
import { createHash, randomBytes } from 'node:crypto'
import type { SmbSessionCore } from '../../core/smb/smb-session-core.js'
import { mintSessionId, previousSessionKey, sessionKeyName } from '../../core/smb/session-id.js'
import { CreditWindow, creditChargeFor } from '../../core/smb2/credit-window.js'
import { type NegotiateOutcome, type NegotiatePolicy, PREAUTH_SALT_BYTES, WIRE_DIALECTS, decideNegotiate, wildcardNegotiate } from '../../core/smb2/negotiate-decision.js'
import { uuidToNdrBytes } from '../../protocol/dcerpc/pdu-codec.js'
import { SIGNING_ALGORITHM, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { decodeEmptyBody, encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { encodeErrorResponse } from '../../protocol/smb2/error-response.js'
import { RELATED_FILE_ID, type Smb2FileId } from '../../protocol/smb2/file-id.js'
import {
  HEADER_OFFSET,
  SMB2_COMMAND,
  SMB2_FLAGS,
  SMB2_HEADER_BYTES,
  type Smb2Header,
  ZERO_SIGNATURE,
  chainCompound,
  decodeHeader,
  encodeHeader,
  frameKind,
  header as makeHeader,
  SMB2_MESSAGE_ID_NONE,
  smb2CommandName,
  splitCompound,
} from '../../protocol/smb2/header.js'
import { decodeNegotiateRequest, encodeNegotiateResponse, SECURITY_MODE } from '../../protocol/smb2/negotiate.js'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { SESSION_FLAGS, SESSION_SETUP_FLAGS, type SessionSetupRequest, decodeSessionSetupRequest, encodeSessionSetupResponse } from '../../protocol/smb2/session-setup.js'
import { LEASE_BREAK_FLAGS, encodeLeaseBreakNotification, encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import type { BreakNotice } from '../../core/smb/oplock-lease-table.js'
import { decodeSmb1Negotiate, smb2DialectForSmb1 } from '../../protocol/smb2/smb1-negotiate.js'
import { SHARE_FLAGS, SHARE_TYPE, decodeTreeConnectRequest, encodeTreeConnectResponse } from '../../protocol/smb2/tree-connect.js'
import type { ShareInfo } from '../smb/csv-service.js'
import type { ConnectionFacts, FinalReply, Reply, RequestContext } from './smb2-request.js'
import type { Smb2Security } from './smb2-security.js'
import type { GssAcceptor, WireSession, WireTree } from './smb2-state.js'
import type { Smb2ConnectionHandler, Smb2Transport } from './smb2-tcp-listener.js'
import { dataPathBuffers } from '../../runtime/buffer-pool.js'

/** The share name of the inter-process communication tree (named pipes). */
export const IPC_SHARE_NAME = 'IPC$'
/** The access a tree connect grants (MaximalAccess): everything on a disk share (FILE_ALL_ACCESS). */
const TREE_MAXIMAL_ACCESS = 0x001f01ff
/** Async operations (pending CHANGE_NOTIFYs, pipe reads) one connection may have waiting. */
export const ASYNC_OPERATIONS_MAX = 512
/** Sessions one connection may set up at once, counting the ones still authenticating. */
export const SESSIONS_PER_CONNECTION_MAX = 64
/** SMB2_TRACE=1 in a node's environment logs every response's command and status (and every CREATE), for debugging a client. */
const TRACE = process.env.SMB2_TRACE !== undefined
/** Logged-off sessions a connection remembers the keys of (see endedSessions). */
const ENDED_SESSIONS_REMEMBERED = 8
/** Frames a connection holds while its node's lease is pending; more are left unanswered. */
const HELD_FRAMES_MAX = 32
const NIL_GUID = '00000000-0000-0000-0000-000000000000'
const TREE_ID_ALL_ONES = 0xffffffff
/** A response body's last part this large is not copied behind its header (see sendResponses). */
const ZERO_COPY_PAYLOAD_BYTES_MIN = 64 * 1024

/** One response of a frame: its message, a payload that follows it unjoined, and the session whose key signs it. */
interface OutgoingMessage {
  readonly msg: Buffer
  readonly payload?: Buffer | null
  readonly signing: WireSession | null
}

/** The commands that need no tree connect. */
const SESSION_LEVEL = new Set<number>([SMB2_COMMAND.NEGOTIATE, SMB2_COMMAND.SESSION_SETUP, SMB2_COMMAND.LOGOFF, SMB2_COMMAND.TREE_CONNECT, SMB2_COMMAND.ECHO, SMB2_COMMAND.CANCEL])

/** Every command of MS-SMB2 2.2.1; any other is answered INVALID_PARAMETER. */
const KNOWN_COMMANDS = new Set<number>(Object.values(SMB2_COMMAND))

/** The commands that act on an open named by a FileId. */
const FILE_ID_COMMANDS = new Set<number>([
  SMB2_COMMAND.CLOSE,
  SMB2_COMMAND.FLUSH,
  SMB2_COMMAND.READ,
  SMB2_COMMAND.WRITE,
  SMB2_COMMAND.LOCK,
  SMB2_COMMAND.IOCTL,
  SMB2_COMMAND.QUERY_DIRECTORY,
  SMB2_COMMAND.CHANGE_NOTIFY,
  SMB2_COMMAND.QUERY_INFO,
  SMB2_COMMAND.SET_INFO,
  SMB2_COMMAND.OPLOCK_BREAK,
])

/** The errors a client takes unsigned from a signed request (Samba's smbXcli checks no signature on them). */
const UNSIGNED_ERRORS = new Set<number>([NT_STATUS.USER_SESSION_DELETED, NT_STATUS.INVALID_PARAMETER, NT_STATUS.FILE_CLOSED, NT_STATUS.NETWORK_NAME_DELETED])

/** What the members of a compound before a related one leave it (MS-SMB2 3.3.5.2.7.2). */
interface CompoundChain {
  /** The session the member before used, 0n when it had no valid one (smbd's last_session_id). */
  sessionId: bigint
  treeId: number
  /** The open the all-ones FileId names: the last one a member opened or used; none after an unrelated member. */
  fileId: Smb2FileId | null
  /** What a CREATE of this compound failed with, SUCCESS while none did. */
  createStatus: number
}

/** What the connections of one node share. */
/** What a connection waits on while its node does not serve (Smb2Front.awaitServing). */
export interface ServingHold {
  readonly serving: Promise<boolean>
  /** The node's lease was a round trip away when the hold began. */
  readonly leasePending: boolean
}

export interface Smb2NodeContext {
  readonly nodeId: string
  /** This node's 1-based place among nodeIds: minted SessionIds carry it (core/smb/session-id.ts). */
  readonly nodeIndex: number
  /** The cluster's node ids in config order, to name the node a PreviousSessionId came from. */
  readonly nodeIds: readonly string[]
  readonly serverGuid: string
  readonly serverStartTime: bigint
  readonly policy: NegotiatePolicy
  readonly security: Smb2Security
  readonly sessionCore: SmbSessionCore<ShareInfo>
  /** The SPNEGO token of the NEGOTIATE response. */
  readonly spnegoInitialToken: Buffer
  newAcceptor(): GssAcceptor
  nowFiletime(): bigint
  isServing(): boolean
  /** A hold of what arrives while the node does not serve: resolves true once it does, false after a bound; null: no hold. */
  awaitServing(): ServingHold | null
  /** Calls then once when the node serves again (after a hold gave up); false: too many wait, nothing will call. */
  onServingAgain(then: () => void): boolean
  shares(): readonly ShareInfo[]
  /** Every session encrypts (`--smb-encrypt`); or per share. */
  readonly encryptAll: boolean
  shareEncrypts(share: ShareInfo): boolean
  /** A valid session of this node by its wire id, on whichever connection it was set up (session binding). */
  findSession(sessionId: bigint): WireSession | null
  /**
   * Tells every CSV owner that a session is gone (close or preserve its opens). With a user (a
   * PreviousSessionId reclaim), only that user's session and opens go, on whichever node holds them.
   */
  endSession(sessionKeyName: string, close: boolean, user?: string): Promise<void>
  /** The tree-level commands (CREATE to OPLOCK_BREAK). */
  fileCommand(ctx: RequestContext): Promise<Reply>
  /** A tree went away: its opens are closed (the adapter of the files does it). */
  treeClosed(session: WireSession, tree: WireTree): Promise<void>
  /** A session's connection went away: what lives only on this node (pipes, waiters) goes. */
  sessionLost(session: WireSession): void
  log(event: string, fields: Record<string, unknown>): void
}

/** What one message of a frame came to: its response and the ids a related member after it uses. */
interface MessageOutcome {
  readonly response: { readonly msg: Buffer; readonly signing: WireSession | null }
  readonly session: WireSession | null
  readonly treeEncrypts: boolean
  readonly sessionId: bigint
  readonly treeId: number
  readonly fileId?: Smb2FileId
  readonly status: number
}

interface PendingAsync {
  readonly asyncId: bigint
  readonly messageId: bigint
  readonly cancel: () => void
}

export class Smb2Connection implements Smb2ConnectionHandler {
  private readonly credits = new CreditWindow()
  private negotiatedOutcome: NegotiateOutcome | null = null
  private sawSmb2 = false
  private facts: ConnectionFacts | null = null
  private preauthHash: Buffer = Buffer.alloc(64)
  private readonly sessions = new Map<bigint, WireSession>()
  /**
   * Sessions logged off on this connection, newest last: a signed request on one is answered
   * USER_SESSION_DELETED signed with its key, as smbd does (Samba's client refuses it unsigned).
   */
  private readonly endedSessions = new Map<bigint, WireSession>()
  private readonly pendingAsync = new Map<bigint, PendingAsync>()
  /**
   * Session bindings in progress on this connection (3.3.5.5): the session, the GSS exchange of
   * the binding and, at 3.1.1, the channel's preauth hash (from this connection's NEGOTIATE).
   */
  private readonly bindings = new Map<bigint, { readonly session: WireSession; readonly acceptor: GssAcceptor; preauthHash: Buffer | null }>()
  private nextAsyncId = 1n
  private inFlight = 0
  /** Frames that came while the node's lease was pending, in order; null when none is held. */
  private held: Buffer[] | null = null
  private requestsInFlight = 0
  private ended = false
  /** Frames wait for the one before when they must be handled in order (before NEGOTIATE completes, SESSION_SETUP). */
  private chain: Promise<void> = Promise.resolve()
  readonly connectionId: string

  constructor(
    private readonly node: Smb2NodeContext,
    private readonly transport: Smb2Transport,
  ) {
    this.connectionId = randomBytes(8).toString('hex')
  }

  negotiated(): boolean {
    return this.negotiatedOutcome !== null && this.negotiatedOutcome.dialect !== SMB2_DIALECT.WILDCARD
  }

  inFlightBytes(): number {
    return this.inFlight
  }

  outstandingRequests(): number {
    return this.requestsInFlight + this.pendingAsync.size
  }

  receive(frame: Buffer): void {
    if (this.ended) return
    if (this.held !== null) {
      // Behind a held frame, in order.
      if (this.held.length < HELD_FRAMES_MAX) {
        this.held.push(frame)
        this.inFlight += frame.length
      } else this.node.log('smb2.request.unanswered', { connection: this.connectionId, reason: 'too many requests held', bytes: frame.length })
      return
    }
    // A node without its lease holds the request until it serves again, within a bound: a
    // round trip when the lease is pending (a client the witness sent here a little early),
    // the detection period when it is cut off (it keeps its CSVs if it comes back by then).
    if (!this.node.isServing()) {
      const hold = this.node.awaitServing()
      if (hold === null) {
        this.node.log('smb2.request.unanswered', { connection: this.connectionId, reason: 'node not serving', bytes: frame.length })
        // No hold (none configured, or too many held): closed, as after a pending lease's hold.
        // A request left unanswered on an open connection made its client wait out its 60 s
        // request timeout though the node served again 80 ms later (soak seed 5, before the
        // cut-off hold existed). Closed, the client reconnects at once, here or elsewhere.
        this.drop('node not serving')
        return
      }
      this.hold(frame, hold)
      return
    }
    this.inFlight += frame.length
    const run = () =>
      this.handleFrame(frame)
        .catch((err: unknown) => {
          this.node.log('smb2.error', { connection: this.connectionId, error: String(err), stack: (err as Error).stack })
          this.drop('internal error')
        })
        .finally(() => {
          this.inFlight -= frame.length
          // A lone WRITE's frame is read by nothing once it is answered (its data was written, or
          // copied to a forwarded call or a pipe): its memory may serve the next frame.
          if (isLoneWrite(frame)) dataPathBuffers.release(frame)
        })
    // Until a session is set up the order of frames matters (NEGOTIATE, then the SESSION_SETUP
    // legs); after that each frame runs as it comes, so a slow READ does not hold up the rest.
    if (!this.negotiated() || this.sessions.size === 0 || [...this.sessions.values()].some((s) => s.state !== 'valid')) {
      const next = this.chain.then(run)
      this.chain = next
    } else {
      void run()
    }
  }

  private hold(frame: Buffer, hold: ServingHold): void {
    this.held = [frame]
    this.inFlight += frame.length
    this.node.log('smb2.request.held', { connection: this.connectionId, reason: hold.leasePending ? 'lease pending' : 'node cut off', bytes: frame.length })
    void hold.serving.then((nowServing) => {
      const frames = this.held ?? []
      this.held = null
      for (const f of frames) this.inFlight -= f.length
      if (this.ended) return
      this.node.log(nowServing ? 'smb2.request.released' : 'smb2.request.unanswered', { connection: this.connectionId, reason: nowServing ? 'node serving' : 'node not serving after a hold', requests: frames.length })
      if (nowServing) for (const f of frames) this.receive(f)
      // Requests given up on are never answered. With the lease pending, leaving the connection
      // open made the client wait out its request timeout (60 s) though nothing else failed (a
      // node rejoining after a short partition whose lease came after the hold; chaos seed 3):
      // closed, the client reconnects at once (its durable opens are preserved as for any lost
      // connection). A node still cut off after the detection period has usually been declared
      // down: it stays the hung node that clients without the witness time out on, for as long
      // as it does not serve. If it serves again (it was never declared down: a frozen leader
      // whose cluster took a second to elect anew, soak seed 15), the requests given up on are
      // still unanswered: the connection closes then, so the client reconnects at once instead
      // of waiting out its 60 s request timeout. Nothing of them ran; the client replays them.
      else if (hold.leasePending) this.drop('node not serving after a hold')
      else
        this.node.onServingAgain(() => {
          if (!this.ended) this.drop('node serving again after requests were given up on')
        })
    })
  }

  end(): void {
    if (this.ended) return
    this.ended = true
    this.held = null
    for (const p of this.pendingAsync.values()) p.cancel()
    this.pendingAsync.clear()
    this.bindings.clear()
    const sessions = [...this.sessions.values()]
    this.sessions.clear()
    for (const session of sessions) session.channelSigningKeys.delete(this.connectionId)
    const result = this.facts ? this.node.sessionCore.disconnect(this.facts.connectionId) : null
    // A session bound to another channel as well lives on there (3.3.7.1); the others are lost.
    const unbound = new Set(result?.status === NT_STATUS.SUCCESS ? result.unboundSessionIds : [])
    for (const session of sessions) if (!unbound.has(session.sessionKeyName)) this.node.sessionLost(session)
    if (!result || result.status !== NT_STATUS.SUCCESS) return
    // The sessions end with the connection: their durable opens are preserved (3.3.7.1).
    for (const key of result.endedSessionIds) {
      this.node.endSession(key, false).catch((err: unknown) => this.node.log('smb2.session.end-failed', { session: key, error: String(err) }))
    }
    this.node.log('smb2.connection.ended', { connection: this.connectionId, sessions: result.endedSessionIds.length })
  }

  private drop(reason: string): void {
    this.transport.close(reason)
  }

  // ---- frames ----

  private async handleFrame(frame: Buffer): Promise<void> {
    switch (frameKind(frame)) {
      case 'smb1':
        return this.handleSmb1(frame)
      case 'smb2':
        return this.handleCompound(frame, null)
      case 'transform': {
        const cipher = this.negotiatedOutcome?.cipher ?? null
        if (cipher === null) return this.drop('an encrypted frame on a connection without a cipher')
        const opened = this.node.security.decrypt(frame, (id) => this.sessions.get(id)?.keys?.decryptionKey ?? null, cipher)
        if (!opened || frameKind(opened.plaintext) !== 'smb2') return this.drop('a frame that does not decrypt')
        return this.handleCompound(opened.plaintext, opened.sessionId)
      }
      default:
        return this.drop(`a frame of kind ${frameKind(frame)}`)
    }
  }

  /** 3.3.5.3: only as the first frame of a connection. */
  private handleSmb1(frame: Buffer): void {
    if (this.sawSmb2 || this.negotiatedOutcome) return this.drop('an SMB1 frame after SMB2')
    this.sawSmb2 = true
    const decoded = decodeSmb1Negotiate(frame)
    const dialect = decoded.ok ? smb2DialectForSmb1(decoded.value.dialects) : null
    if (dialect === null) return this.drop('an SMB1 NEGOTIATE without an SMB2 dialect')
    this.credits.consume(0n, 1)
    const outcome =
      dialect === SMB2_DIALECT.WILDCARD
        ? wildcardNegotiate(this.node.policy)
        : (decideNegotiate({ dialects: [dialect], clientCapabilities: 0, negotiateContexts: [], salt: Buffer.alloc(0) }, this.node.policy) as NegotiateOutcome)
    if (dialect === SMB2_DIALECT.SMB202) this.completeNegotiate(outcome, { clientGuid: '', capabilities: 0, securityMode: 0, dialects: [] })
    else this.negotiatedOutcome = outcome
    const body = this.negotiateResponse(outcome)
    const response = Buffer.concat([encodeHeader(makeHeader({ command: SMB2_COMMAND.NEGOTIATE, flags: SMB2_FLAGS.SERVER_TO_REDIR, credits: this.credits.grant(1) })), body])
    this.node.log('smb2.negotiate.smb1', { connection: this.connectionId, dialect: `0x${dialect.toString(16)}` })
    this.transport.send([response])
  }

  private async handleCompound(frame: Buffer, encryptedFor: bigint | null): Promise<void> {
    this.sawSmb2 = true
    const split = splitCompound(frame)
    if (!split.ok) return this.drop(split.error.reason)
    const responses: OutgoingMessage[] = []
    const chain: CompoundChain = { sessionId: 0n, treeId: 0, fileId: null, createStatus: NT_STATUS.SUCCESS }
    let encryptResponse = encryptedFor !== null
    let encryptSession: WireSession | null = encryptedFor !== null ? (this.sessions.get(encryptedFor) ?? null) : null
    const members = split.value
    for (const [index, msg] of members.entries()) {
      const decoded = decodeHeader(msg)
      if (!decoded.ok) return this.drop(decoded.error.reason)
      let h = decoded.value
      if (h.flags & SMB2_FLAGS.SERVER_TO_REDIR) return this.drop('a response sent to the server')
      const related = (h.flags & SMB2_FLAGS.RELATED_OPERATIONS) !== 0
      if (h.command !== SMB2_COMMAND.CANCEL) {
        const credit = this.credits.consume(h.messageId, this.negotiatedOutcome && this.negotiatedOutcome.dialect >= SMB2_DIALECT.SMB21 ? h.creditCharge : 1)
        if (!credit.ok) return this.drop(credit.reason)
      }
      if (!this.negotiated() && h.command !== SMB2_COMMAND.NEGOTIATE) return this.drop(`${smb2CommandName(h.command)} before NEGOTIATE`)
      if (related) {
        // 3.3.5.2.7.2: a related member acts on the session and tree the one before it used. When
        // there is none (the first member is related, or the one before had no valid session),
        // it fails with INVALID_PARAMETER, and so does every related member after it. Signed with
        // the session its own header names, when that is one of ours: the client checks.
        if (!this.validSession(chain.sessionId)) {
          responses.push(this.errorResponse(h, NT_STATUS.INVALID_PARAMETER, this.validSession(h.sessionId)))
          continue
        }
        h = { ...h, sessionId: chain.sessionId, treeId: chain.treeId }
      } else {
        // An unrelated member starts afresh: the all-ones FileId names no open (smbd resets its chain open too).
        chain.fileId = null
      }
      if (!KNOWN_COMMANDS.has(h.command)) {
        // A command the protocol does not have (smbd: INVALID_PARAMETER before the session is looked at).
        responses.push(this.errorResponse(h, NT_STATUS.INVALID_PARAMETER, this.validSession(h.sessionId)))
        chain.sessionId = this.validSession(h.sessionId) ? h.sessionId : 0n
        chain.treeId = h.treeId
        continue
      }
      const outcome = await this.handleMessage(h, msg, related ? chain : null, encryptedFor, index === members.length - 1)
      if (outcome === 'dropped') return
      if (outcome === 'no-response') continue
      responses.push(outcome.response)
      if (outcome.session?.encryptData || outcome.treeEncrypts) {
        encryptResponse = true
        encryptSession = outcome.session
      }
      chain.sessionId = this.validSession(outcome.sessionId) ? outcome.sessionId : 0n
      chain.treeId = outcome.treeId
      if (outcome.fileId) chain.fileId = outcome.fileId
      if (h.command === SMB2_COMMAND.CREATE && outcome.status !== NT_STATUS.SUCCESS) chain.createStatus = outcome.status
    }
    if (responses.length === 0) return
    this.sendResponses(responses, encryptResponse ? encryptSession : null)
  }

  /**
   * Chains, signs and (when asked) encrypts the responses of one frame, and sends them. A lone
   * response's payload (a READ's data) goes to the socket where it lies, signed in place, and
   * its memory goes back to the data path's pool once the socket has sent it; in a compound,
   * where members are padded to 8 bytes, it is joined to its header.
   */
  private sendResponses(responses: readonly OutgoingMessage[], encryptFor: WireSession | null): void {
    const payloads = responses.flatMap((r) => (r.payload ? [r.payload] : []))
    const release = () => {
      for (const p of payloads) dataPathBuffers.release(p)
    }
    const lone = responses.length === 1 ? responses[0].payload : null
    const chained = chainCompound(responses.map((r) => (r.payload && !lone ? Buffer.concat([r.msg, r.payload]) : r.msg)))
    const outcome = this.negotiatedOutcome
    const encrypting = encryptFor?.keys && outcome?.cipher != null
    const parts = (m: Buffer): Buffer[] => (lone ? [m, lone] : [m])
    if (!encrypting) {
      chained.forEach((m, i) => {
        const session = responses[i].signing
        if (session?.keys && outcome) this.signInPlace(parts(m), this.signingKeyOf(session))
      })
      if (lone) this.transport.send(parts(chained[0]), release)
      else {
        this.transport.send(chained)
        release()
      }
      return
    }
    const sealed = this.node.security.encrypt(lone ? parts(chained[0]) : chained, encryptFor.sessionId, encryptFor.keys!.encryptionKey, outcome.cipher!)
    release()
    this.transport.send(sealed)
  }

  /** The key this connection signs and verifies a session's messages with: its channel's (3.3.4.1.1). */
  private signingKeyOf(session: WireSession): Buffer {
    return session.channelSigningKeys.get(this.connectionId) ?? session.keys!.signingKey
  }

  /**
   * Sets SIGNED and writes the signature into the header, the first of the message's parts; by
   * this connection's dialect and algorithm, or by a session's (the legs of a binding).
   */
  private signInPlace(parts: readonly Buffer[], signingKey: Buffer, signing: { dialect: number; signingAlgorithm: number } | null = this.negotiatedOutcome): void {
    if (!signing) return
    const m = parts[0]
    m.writeUInt32LE(m.readUInt32LE(HEADER_OFFSET.FLAGS) | SMB2_FLAGS.SIGNED, HEADER_OFFSET.FLAGS)
    ZERO_SIGNATURE.copy(m, HEADER_OFFSET.SIGNATURE)
    this.node.security.sign(parts, signingKey, { dialect: signing.dialect, signingAlgorithm: signing.signingAlgorithm }).copy(m, HEADER_OFFSET.SIGNATURE)
  }

  // ---- one message ----

  /**
   * One request. chain is what the members before it left when it is a related member of a
   * compound, else null; last is false for a member of a compound with members after it.
   */
  private async handleMessage(
    h: Smb2Header,
    msg: Buffer,
    chain: CompoundChain | null,
    encryptedFor: bigint | null,
    last: boolean,
  ): Promise<
    | 'dropped'
    | 'no-response'
    | { response: OutgoingMessage; session: WireSession | null; treeEncrypts: boolean; sessionId: bigint; treeId: number; fileId?: Smb2FileId; status: number }
  > {
    const command = h.command
    if (command === SMB2_COMMAND.NEGOTIATE) {
      if (this.negotiated()) {
        this.drop('a second NEGOTIATE')
        return 'dropped'
      }
      const response = this.handleNegotiate(h, msg)
      if (response === null) return 'dropped'
      return { response: { msg: response, signing: null }, session: null, treeEncrypts: false, sessionId: 0n, treeId: 0, status: NT_STATUS.SUCCESS }
    }
    if (command === SMB2_COMMAND.CANCEL) {
      this.handleCancel(h)
      return 'no-response'
    }
    if (command === SMB2_COMMAND.SESSION_SETUP) return this.handleSessionSetup(h, msg, encryptedFor)
    const plain = (status: number, session: WireSession | null) => {
      const response = this.errorResponse(h, status, session)
      return { response, session, treeEncrypts: false, sessionId: h.sessionId, treeId: h.treeId, status }
    }
    // A related member that acts on an open, when the chain has none because a CREATE of this
    // compound failed, fails as that CREATE did (3.3.5.2.7.2; smbd's compound_create_err).
    if (chain && chain.fileId === null && chain.createStatus !== NT_STATUS.SUCCESS && FILE_ID_COMMANDS.has(command)) return plain(chain.createStatus, this.validSession(h.sessionId))
    // ECHO needs no session (3.3.5.2.9 lets it through without one).
    if (command === SMB2_COMMAND.ECHO && h.sessionId === 0n) return this.finish(h, encodeEmptyBody(), NT_STATUS.SUCCESS, null, null, h.sessionId, h.treeId)
    const session = this.sessions.get(h.sessionId)
    if (!session || session.state !== 'valid') {
      // A session of this node not bound to this connection: smbd signs the answer with the
      // session's key, and smbtorture's smb2.session.bind2 expects it signed.
      // One with keys that is not valid here ended in a failed re-authentication, maybe on
      // another channel: its key signs the answer too.
      const signer = session ? (session.keys ? session : null) : (this.endedSessions.get(h.sessionId) ?? ((h.flags & SMB2_FLAGS.SIGNED) !== 0 ? this.node.findSession(h.sessionId) : null))
      if (session?.keys && this.node.sessionCore.resolveSession(this.connectionId, session.sessionKeyName).status !== NT_STATUS.SUCCESS) this.expireSession(session)
      return plain(NT_STATUS.USER_SESSION_DELETED, signer)
    }
    // A later SESSION_SETUP with this session as its PreviousSessionId (on any connection) ended it in the core.
    if (this.node.sessionCore.resolveSession(this.connectionId, session.sessionKeyName).status !== NT_STATUS.SUCCESS) {
      this.expireSession(session)
      return plain(NT_STATUS.USER_SESSION_DELETED, session)
    }
    const check = this.checkSignedOrSealed(h, msg, session, encryptedFor)
    if (check !== NT_STATUS.SUCCESS) return plain(check, null)
    if (command === SMB2_COMMAND.ECHO) {
      const ok = decodeEmptyBody(msg, 'ECHO')
      return this.finish(h, ok.ok ? encodeEmptyBody() : encodeErrorResponse(), ok.ok ? NT_STATUS.SUCCESS : ok.error.status, session, null, h.sessionId, h.treeId)
    }
    if (command === SMB2_COMMAND.LOGOFF) return this.handleLogoff(h, msg, session)
    if (command === SMB2_COMMAND.TREE_CONNECT) return this.handleTreeConnect(h, msg, session)
    // Tree-level commands.
    const tree = session.trees.get(h.treeId)
    if (!tree) return plain(NT_STATUS.NETWORK_NAME_DELETED, session)
    if (tree.encryptData && encryptedFor === null && this.negotiatedOutcome?.cipher != null) return plain(NT_STATUS.ACCESS_DENIED, session)
    if (command === SMB2_COMMAND.TREE_DISCONNECT) return this.handleTreeDisconnect(h, msg, session, tree)
    if (SESSION_LEVEL.has(command)) return plain(NT_STATUS.INVALID_PARAMETER, session)
    const ctx: RequestContext = {
      connection: this.facts!,
      header: h,
      msg,
      session,
      tree,
      relatedFileId: chain?.fileId ?? null,
      encrypted: encryptedFor !== null,
    }
    this.requestsInFlight++
    let result: Reply
    try {
      result = await this.node.fileCommand(ctx)
    } finally {
      this.requestsInFlight--
    }
    if (result.kind === 'unavailable') {
      this.drop(result.reason)
      return 'dropped'
    }
    if (result.kind === 'pending') {
      // 3.3.5.2.7: a server MAY fail a request of a compound that would go async. Windows does
      // so for every member but the last (MS-SMB2 <159>, <162>): STATUS_INTERNAL_ERROR, in the
      // same compound response as the others, with no interim (smbtorture's compound.interim2);
      // the last member goes async with its interim STATUS_PENDING (compound.interim1).
      if (!last) {
        result.cancel()
        this.node.log('smb2.compound.async-refused', { connection: this.connectionId, command: smb2CommandName(command), messageId: String(h.messageId) })
        return plain(NT_STATUS.INTERNAL_ERROR, session)
      }
      return this.goAsync(h, session, tree, result, encryptedFor !== null)
    }
    return { ...this.finish(h, result.body, result.status, session, tree, h.sessionId, h.treeId), fileId: result.fileId }
  }

  private validSession(sessionId: bigint): WireSession | null {
    const session = this.sessions.get(sessionId)
    return session && session.state === 'valid' ? session : null
  }

  /** The signature check (3.3.5.2.4) and the encryption requirement (3.3.5.2.9) of a session's request. */
  private checkSignedOrSealed(h: Smb2Header, msg: Buffer, session: WireSession, encryptedFor: bigint | null): number {
    const refuse = (reason: string) => {
      this.node.log('smb2.request.refused', { connection: this.connectionId, session: session.sessionKeyName, command: smb2CommandName(h.command), status: 'ACCESS_DENIED', reason })
      return NT_STATUS.ACCESS_DENIED
    }
    if (encryptedFor !== null) return encryptedFor === session.sessionId ? NT_STATUS.SUCCESS : refuse('encrypted for another session')
    if (session.encryptData && this.negotiatedOutcome?.cipher != null) return refuse('the session requires encryption')
    if (h.flags & SMB2_FLAGS.SIGNED) {
      if (!session.keys) return refuse('signed with a session that has no key')
      const outcome = this.negotiatedOutcome!
      return this.node.security.verify(msg, this.signingKeyOf(session), { dialect: outcome.dialect, signingAlgorithm: outcome.signingAlgorithm }) ? NT_STATUS.SUCCESS : refuse('bad signature')
    }
    return session.signingRequired ? refuse('unsigned, and signing is required') : NT_STATUS.SUCCESS
  }

  private finish(h: Smb2Header, body: Buffer | readonly Buffer[], status: number, session: WireSession | null, tree: WireTree | null, sessionId: bigint, treeId: number) {
    // A large last part of the body (a READ's data) stays where it is: sent and signed in place.
    const last = Buffer.isBuffer(body) ? null : body[body.length - 1]
    const payload = last && last.length >= ZERO_COPY_PAYLOAD_BYTES_MIN ? last : null
    const response = this.responseMessage(h, status, payload ? body.slice(0, -1) : body, { sessionId, treeId })
    return { response: { msg: response, payload, signing: this.signerFor(h, session) }, session, treeEncrypts: tree?.encryptData ?? false, sessionId, treeId, status }
  }

  /** The session whose key signs the response, if it is to be signed (3.3.4.1.1). */
  private signerFor(h: Smb2Header, session: WireSession | null): WireSession | null {
    // A null session has no key; one that re-authenticated as the null session keeps its key and signs on.
    if (!session?.keys) return null
    return (h.flags & SMB2_FLAGS.SIGNED) !== 0 || session.signingRequired ? session : null
  }

  private responseMessage(
    h: Smb2Header,
    status: number,
    body: Buffer | readonly Buffer[],
    ids: { sessionId: bigint; treeId: number; asyncId?: bigint; credits?: number; echoSigned?: boolean },
  ): Buffer {
    if (TRACE) this.node.log('smb2.trace', { command: smb2CommandName(h.command), status: ntStatusName(status), messageId: String(h.messageId) })
    const async = ids.asyncId !== undefined
    const flags =
      SMB2_FLAGS.SERVER_TO_REDIR | (h.flags & (SMB2_FLAGS.RELATED_OPERATIONS | SMB2_FLAGS.PRIORITY_MASK)) | (async ? SMB2_FLAGS.ASYNC_COMMAND : 0) | (ids.echoSigned ? SMB2_FLAGS.SIGNED : 0)
    const head = encodeHeader(
      makeHeader({
        command: h.command,
        status,
        creditCharge: h.creditCharge,
        credits: ids.credits ?? this.credits.grant(h.credits),
        flags,
        messageId: h.messageId,
        processId: async ? 0 : h.processId,
        treeId: async ? 0 : ids.treeId,
        asyncId: ids.asyncId ?? 0n,
        sessionId: ids.sessionId,
      }),
    )
    return Buffer.concat([head, ...(Buffer.isBuffer(body) ? [body] : body)])
  }

  private errorResponse(h: Smb2Header, status: number, session: WireSession | null): { msg: Buffer; signing: WireSession | null } {
    const signing = this.signerFor(h, session)
    // A signed request this server has no key to answer with (a session it does not know): the
    // SIGNED flag is echoed over a zero signature, as smbd does, for the statuses a client
    // accepts so (Samba's client requires the flag, then skips the check for these).
    const echoSigned = signing === null && (h.flags & SMB2_FLAGS.SIGNED) !== 0 && UNSIGNED_ERRORS.has(status)
    return { msg: this.responseMessage(h, status, encodeErrorResponse(), { sessionId: h.sessionId, treeId: h.treeId, echoSigned }), signing }
  }

  // ---- oplock breaks ----

  /** A valid session set up or bound on this connection. */
  sessionById(sessionId: bigint): WireSession | null {
    return this.validSession(sessionId)
  }

  /** The session of this connection named by key, if it is valid. */
  hasSession(sessionKeyName: string): boolean {
    for (const s of this.sessions.values()) if (s.sessionKeyName === sessionKeyName && s.state === 'valid') return true
    return false
  }

  /**
   * Sends an oplock break notification for an open of one of this connection's sessions (2.2.23.1:
   * MessageId all ones, no session or tree unless sealed). Its acknowledgment, or the break's
   * timeout, is the CSV owner's business (the oplock-lease table).
   */
  sendOplockBreak(sessionKeyName: string, fileId: Smb2FileId, toLevel: number): void {
    this.sendBreak(sessionKeyName, encodeOplockBreak({ kind: 'oplock', oplockLevel: toLevel, fileId }))
  }

  /** Sends a lease break notification (2.2.23.2) on this connection, for a session of its client. */
  sendLeaseBreak(sessionKeyName: string, n: Extract<BreakNotice, { kind: 'lease' }>): void {
    this.sendBreak(
      sessionKeyName,
      encodeLeaseBreakNotification({
        newEpoch: n.newEpoch,
        flags: n.ackRequired ? LEASE_BREAK_FLAGS.ACK_REQUIRED : 0,
        leaseKey: Buffer.from(n.key, 'hex'),
        currentLeaseState: n.currentState,
        newLeaseState: n.newState,
      }),
    )
  }

  private sendBreak(sessionKeyName: string, body: Buffer): void {
    const session = [...this.sessions.values()].find((s) => s.sessionKeyName === sessionKeyName)
    if (!session || this.ended) return
    const sealed = session.encryptData && session.keys !== null
    const msg = Buffer.concat([
      encodeHeader(makeHeader({ command: SMB2_COMMAND.OPLOCK_BREAK, flags: SMB2_FLAGS.SERVER_TO_REDIR, messageId: SMB2_MESSAGE_ID_NONE, sessionId: sealed ? session.sessionId : 0n })),
      body,
    ])
    this.sendResponses([{ msg, signing: null }], sealed ? session : null)
  }

  // ---- async ----

  private goAsync(h: Smb2Header, session: WireSession, tree: WireTree, pending: Extract<Reply, { kind: 'pending' }>, encrypted: boolean) {
    if (this.pendingAsync.size >= ASYNC_OPERATIONS_MAX) {
      pending.cancel()
      return this.finish(h, encodeErrorResponse(), NT_STATUS.INSUFFICIENT_RESOURCES, session, tree, h.sessionId, h.treeId)
    }
    const asyncId = this.nextAsyncId++
    this.pendingAsync.set(asyncId, { asyncId, messageId: h.messageId, cancel: pending.cancel })
    const interim = this.responseMessage(h, NT_STATUS.PENDING, encodeErrorResponse(), { sessionId: h.sessionId, treeId: h.treeId, asyncId })
    pending.completion
      .catch((err: unknown): FinalReply => {
        this.node.log('smb2.error', { connection: this.connectionId, error: String(err) })
        return { status: NT_STATUS.INSUFFICIENT_RESOURCES, body: encodeErrorResponse() }
      })
      .then((final) => {
        if (!this.pendingAsync.delete(asyncId) || this.ended) return
        // The final reply of an async operation grants no credits: the interim one did (3.3.4.2).
        const msg = this.responseMessage(h, final.status, final.body, { sessionId: h.sessionId, treeId: h.treeId, asyncId, credits: 0 })
        // Sealed when the request was, as the interim reply was (3.3.4.1.4).
        this.sendResponses([{ msg, signing: this.signerFor(h, session) }], encrypted || session.encryptData || tree.encryptData ? session : null)
      })
    return { response: { msg: interim, signing: this.signerFor(h, session) }, session, treeEncrypts: tree.encryptData, sessionId: h.sessionId, treeId: h.treeId, status: NT_STATUS.PENDING }
  }

  /** 3.3.5.16: by AsyncId when async, else by MessageId; no response of its own. */
  private handleCancel(h: Smb2Header): void {
    for (const p of this.pendingAsync.values()) {
      const match = h.flags & SMB2_FLAGS.ASYNC_COMMAND ? p.asyncId === h.asyncId : p.messageId === h.messageId
      if (match) {
        p.cancel()
        return
      }
    }
  }

  // ---- NEGOTIATE ----

  private negotiateResponse(outcome: NegotiateOutcome): Buffer {
    return encodeNegotiateResponse({
      securityMode: outcome.securityMode,
      dialectRevision: outcome.dialect,
      serverGuid: this.node.serverGuid,
      capabilities: outcome.capabilities,
      maxTransactSize: outcome.maxIoBytes,
      maxReadSize: outcome.maxIoBytes,
      maxWriteSize: outcome.maxIoBytes,
      systemTime: this.node.nowFiletime(),
      serverStartTime: 0n,
      securityBuffer: this.node.spnegoInitialToken,
      negotiateContexts: outcome.responseContexts,
    })
  }

  /** 3.3.5.4; null when the connection was dropped. */
  private handleNegotiate(h: Smb2Header, msg: Buffer): Buffer | null {
    const decoded = decodeNegotiateRequest(msg)
    const respond = (status: number, body: Buffer) => this.responseMessage(h, status, body, { sessionId: 0n, treeId: 0 })
    if (!decoded.ok) return respond(decoded.error.status, encodeErrorResponse())
    const req = decoded.value
    const outcome = decideNegotiate({ dialects: req.dialects, clientCapabilities: req.capabilities, negotiateContexts: req.negotiateContexts, salt: randomBytes(PREAUTH_SALT_BYTES) }, this.node.policy)
    if (outcome.status !== NT_STATUS.SUCCESS) {
      this.node.log('smb2.negotiate.refused', { connection: this.connectionId, status: ntStatusName(outcome.status), reason: 'reason' in outcome ? outcome.reason : '' })
      return respond(outcome.status, encodeErrorResponse())
    }
    const accepted = outcome as NegotiateOutcome
    if (!this.completeNegotiate(accepted, { clientGuid: req.clientGuid, capabilities: req.capabilities, securityMode: req.securityMode, dialects: req.dialects })) {
      this.drop('connections at their bound')
      return null
    }
    const response = respond(NT_STATUS.SUCCESS, this.negotiateResponse(accepted))
    if (accepted.preauthHash !== null) {
      this.preauthHash = sha512(this.preauthHash, msg)
      this.preauthHash = sha512(this.preauthHash, response)
    }
    this.node.log('smb2.negotiate', {
      connection: this.connectionId,
      remote: this.transport.remote,
      dialect: `0x${accepted.dialect.toString(16)}`,
      cipher: accepted.cipher,
      signing: accepted.signingAlgorithm,
    })
    return response
  }

  private completeNegotiate(outcome: NegotiateOutcome, client: { clientGuid: string; capabilities: number; securityMode: number; dialects: readonly number[] }): boolean {
    const clientGuid = client.clientGuid || NIL_GUID
    const registered = this.node.sessionCore.negotiate({
      newConnectionId: this.connectionId,
      clientDialects: [outcome.dialect],
      offeredDialects: [outcome.dialect],
      clientGuid,
      clientCapabilities: client.capabilities,
    })
    if (registered.status !== NT_STATUS.SUCCESS) return false
    this.negotiatedOutcome = outcome
    this.facts = {
      connectionId: this.connectionId,
      dialect: outcome.dialect,
      clientGuid,
      clientCapabilities: client.capabilities,
      maxIoBytes: outcome.maxIoBytes,
      remote: this.transport.remote,
      validate: {
        dialect: outcome.dialect,
        clientCapabilities: client.capabilities,
        clientGuid: uuidToNdrBytes(clientGuid),
        clientSecurityMode: client.securityMode,
        clientDialects: client.dialects,
        serverDialects: WIRE_DIALECTS,
        serverCapabilities: outcome.capabilities,
        serverGuid: uuidToNdrBytes(this.node.serverGuid),
        serverSecurityMode: outcome.securityMode,
      },
    }
    return true
  }

  // ---- SESSION_SETUP and LOGOFF ----

  private async handleSessionSetup(h: Smb2Header, msg: Buffer, encryptedFor: bigint | null) {
    const outcome = this.negotiatedOutcome!
    const done = (status: number, body: Buffer, session: WireSession | null, sessionId: bigint, signWith: WireSession | null = null): MessageOutcome => {
      const response = this.responseMessage(h, status, body, { sessionId, treeId: 0 })
      return { response: { msg: response, signing: signWith }, session: null, treeEncrypts: false, sessionId, treeId: 0, status }
    }
    const decoded = decodeSessionSetupRequest(msg)
    if (!decoded.ok) return done(decoded.error.status, encodeErrorResponse(), null, h.sessionId)
    const req = decoded.value
    if ((req.flags & SESSION_SETUP_FLAGS.BINDING) !== 0) return this.handleBinding(h, msg, req, done)
    let session: WireSession
    if (h.sessionId === 0n) {
      if (this.sessions.size >= SESSIONS_PER_CONNECTION_MAX) return done(NT_STATUS.INSUFFICIENT_RESOURCES, encodeErrorResponse(), null, 0n)
      session = this.newSession()
      this.sessions.set(session.sessionId, session)
    } else {
      const existing = this.sessions.get(h.sessionId)
      if (!existing) {
        // A session of another connection of this node, without the binding flag: smbd signs the
        // refusal with the session's key when the request verifies with it (smb2.session.bind_negative_*).
        const other = (h.flags & SMB2_FLAGS.SIGNED) !== 0 ? this.node.findSession(h.sessionId) : null
        const verified = other?.keys != null && this.node.security.verify(msg, other.keys.signingKey, { dialect: other.dialect, signingAlgorithm: other.signingAlgorithm })
        const answer = done(NT_STATUS.USER_SESSION_DELETED, encodeErrorResponse(), null, h.sessionId)
        if (verified) this.signInPlace([answer.response.msg], other.keys!.signingKey, { dialect: other.dialect, signingAlgorithm: other.signingAlgorithm })
        return answer
      }
      if (existing.state === 'valid') {
        // Re-authentication (3.3.5.5.2): a fresh exchange on the same session, which keeps its keys.
        const check = this.checkSignedOrSealed(h, msg, existing, encryptedFor)
        // The refusal is signed with the session's key (on this channel), as smbd signs it.
        if (check !== NT_STATUS.SUCCESS) return done(check, encodeErrorResponse(), null, h.sessionId, existing.keys ? existing : null)
        existing.acceptor = this.node.newAcceptor()
        existing.state = 'in-progress'
        existing.reauth = true
      }
      session = existing
    }
    if (outcome.preauthHash !== null && !session.reauth) session.preauthHash = sha512(session.preauthHash ?? this.preauthHash, msg)
    const step = session.acceptor.step(req.securityBuffer)
    if (step.kind === 'refused') {
      this.node.log('smb2.session.refused', { connection: this.connectionId, remote: this.transport.remote, status: ntStatusName(step.status), reason: step.reason })
      const signer = session.reauth && session.keys ? session : null
      if (session.reauth) {
        // A failed re-authentication ends the session (3.3.5.5.2); its key still signs the answer.
        await this.removeSession(session, true)
      } else this.sessions.delete(session.sessionId)
      return done(step.status, step.token ? encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: step.token }) : encodeErrorResponse(), null, session.sessionId, signer)
    }
    if (step.kind === 'continue') {
      const response = this.responseMessage(h, NT_STATUS.MORE_PROCESSING_REQUIRED, encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: step.token }), { sessionId: session.sessionId, treeId: 0 })
      if (outcome.preauthHash !== null && !session.reauth) session.preauthHash = sha512(session.preauthHash!, response)
      // A re-authentication's legs are signed with the session's key, which stays in force (3.3.4.1.1).
      const signer = session.reauth && session.keys ? session : null
      return { response: { msg: response, signing: signer }, session: null, treeEncrypts: false, sessionId: session.sessionId, treeId: 0, status: NT_STATUS.MORE_PROCESSING_REQUIRED }
    }
    // Accepted.
    if (session.reauth) {
      // The session keeps its keys; its user may change (smbd lets a session re-authenticate as
      // another user or as the null session, and smbtorture's smb2.session.reauth2-5 expect it).
      if (step.user.toLowerCase() !== session.user.toLowerCase() || step.anonymous !== session.anonymous) {
        this.node.log('smb2.session.reauth-user', { connection: this.connectionId, session: session.sessionKeyName, from: session.user, to: step.user, anonymous: step.anonymous })
        session.user = step.user
        session.anonymous = step.anonymous
      }
      session.state = 'valid'
      session.reauth = false
      const body = encodeSessionSetupResponse({ sessionFlags: this.sessionFlags(session), securityBuffer: step.token })
      return done(NT_STATUS.SUCCESS, body, session, session.sessionId, session.keys ? session : null)
    }
    const created = this.node.sessionCore.sessionSetup({
      connectionId: this.connectionId,
      authenticatedUser: step.user,
      // The id names the node that minted it: a session of another node is ended there, and at every CSV owner.
      previousSessionId: req.previousSessionId !== 0n ? previousSessionKey(req.previousSessionId, this.node.nodeIds, this.node.nodeId) : '',
      newSessionId: session.sessionKeyName,
    })
    if (created.status !== NT_STATUS.SUCCESS) {
      this.sessions.delete(session.sessionId)
      return done(created.status, encodeErrorResponse(), null, session.sessionId)
    }
    if (created.previousSessionIdToEnd !== null) {
      // The user goes along: a node that finds the session there ends it only if it is this user's.
      // Not waited for (smbd answers after closing the previous session): the CSV owners write the
      // preserved persistent opens durably first, and before the view marks the old node down a
      // call to it can take a peer call deadline; a failover must not wait for either. A DH2C
      // takes its open over anyway; a plain CREATE right after may meet the old session's open
      // for those few milliseconds.
      const previous = created.previousSessionIdToEnd
      this.node.endSession(previous, false, step.user).catch((err: unknown) => this.node.log('smb2.session.end-failed', { session: previous, error: String(err) }))
      this.node.log('smb2.session.reclaimed', { previous })
    }
    session.user = step.user
    session.anonymous = step.anonymous
    session.state = 'valid'
    session.cipher = outcome.cipher
    session.signingAlgorithm = outcome.signingAlgorithm
    session.dialect = outcome.dialect
    if (!step.anonymous) {
      session.keys = this.node.security.deriveKeys(step.sessionKey, outcome.dialect, session.preauthHash, outcome.cipher)
      session.signingRequired = this.node.policy.signingRequired || (req.securityMode & SECURITY_MODE.SIGNING_REQUIRED) !== 0
      session.encryptData = this.node.encryptAll && outcome.cipher !== null
    }
    this.node.log('smb2.session.setup', { connection: this.connectionId, session: session.sessionKeyName, user: step.user, anonymous: step.anonymous, dialect: `0x${outcome.dialect.toString(16)}` })
    const body = encodeSessionSetupResponse({ sessionFlags: this.sessionFlags(session), securityBuffer: step.token })
    // 3.3.5.5.3: the final response is signed with the new key from 3.0 on, and when signing is required.
    const signs = session.keys !== null && (outcome.dialect >= SMB2_DIALECT.SMB30 || session.signingRequired)
    return done(NT_STATUS.SUCCESS, body, session, session.sessionId, signs ? session : null)
  }

  /**
   * SESSION_SETUP with SMB2_SESSION_FLAG_BINDING (3.3.5.5): this connection becomes another
   * channel of a session set up on another connection of this node. The request is signed with
   * the session's key; the binding authenticates the session's user again, and the new
   * authentication's key gives the channel its own signing key (3.3.5.5.3), which signs the final
   * response and everything on this channel after it. A session of another node is not found
   * (USER_SESSION_DELETED): channels bind to the node that holds the session, as on Windows.
   */
  private async handleBinding(
    h: Smb2Header,
    msg: Buffer,
    req: SessionSetupRequest,
    done: (status: number, body: Buffer, session: WireSession | null, sessionId: bigint, signWith?: WireSession | null) => MessageOutcome,
  ): Promise<MessageOutcome> {
    const outcome = this.negotiatedOutcome!
    const here = this.sessions.get(h.sessionId)
    if (here?.keys && here.state === 'valid') {
      // Already a channel of this connection: checked with its own key as any request (smbd:
      // ACCESS_DENIED when that fails, REQUEST_NOT_ACCEPTED when it binds again), signed with it.
      const verifies = (h.flags & SMB2_FLAGS.SIGNED) !== 0 && this.node.security.verify(msg, this.signingKeyOf(here), outcome)
      const status = verifies ? NT_STATUS.REQUEST_NOT_ACCEPTED : NT_STATUS.ACCESS_DENIED
      this.node.log('smb2.session.bind-refused', { connection: this.connectionId, remote: this.transport.remote, status: ntStatusName(status), reason: 'already a channel of the session' })
      return done(status, encodeErrorResponse(), null, h.sessionId, here)
    }
    let binding = this.bindings.get(h.sessionId)
    const session = binding?.session ?? this.node.findSession(h.sessionId)
    // The binding legs are signed with Session.SigningKey, by the session's own algorithm
    // (3.2.4.1.1); a request that does not verify counts as unsigned (smbd does the same).
    const sessionSigning = session ? { dialect: session.dialect, signingAlgorithm: session.signingAlgorithm } : null
    const verified = session?.keys != null && sessionSigning !== null && (h.flags & SMB2_FLAGS.SIGNED) !== 0 && this.node.security.verify(msg, session.keys.signingKey, sessionSigning)
    /** A message signed as smbd signs the answers of a verified binding request: with the session's key. */
    const signed = (m: Buffer): Buffer => {
      if (verified) this.signInPlace([m], session!.keys!.signingKey, sessionSigning!)
      return m
    }
    const fail = (status: number, reason: string): MessageOutcome => {
      this.bindings.delete(h.sessionId)
      this.node.log('smb2.session.bind-refused', { connection: this.connectionId, remote: this.transport.remote, status: ntStatusName(status), reason })
      const answer = done(status, encodeErrorResponse(), null, h.sessionId)
      return { ...answer, response: { msg: signed(answer.response.msg), signing: null } }
    }
    // The checks of 3.3.5.5, in the order smbd makes them (source3/smbd/smb2_sesssetup.c).
    if (h.sessionId === 0n) return fail(NT_STATUS.INVALID_PARAMETER, 'binding without a SessionId')
    if (!session || session.state !== 'valid' || !session.keys) return fail(NT_STATUS.USER_SESSION_DELETED, 'no such session on this node')
    if (session.signingAlgorithm >= SIGNING_ALGORITHM.AES_GMAC && outcome.signingAlgorithm !== session.signingAlgorithm) return fail(NT_STATUS.REQUEST_OUT_OF_SEQUENCE, 'the session signs with AES-GMAC, the connection not')
    if (outcome.signingAlgorithm >= SIGNING_ALGORITHM.AES_GMAC && session.signingAlgorithm !== outcome.signingAlgorithm) return fail(NT_STATUS.NOT_SUPPORTED, 'the connection signs with AES-GMAC, the session not')
    if (outcome.dialect < SMB2_DIALECT.SMB30) return fail(NT_STATUS.REQUEST_NOT_ACCEPTED, 'no channels below 3.0')
    if (!verified) return fail(NT_STATUS.INVALID_PARAMETER, 'a binding request not signed with the session key')
    if (session.dialect !== outcome.dialect) return fail(NT_STATUS.INVALID_PARAMETER, 'another dialect than the session')
    if (session.cipher !== outcome.cipher) return fail(NT_STATUS.INVALID_PARAMETER, 'another cipher than the session')
    if (!binding) {
      const check = this.node.sessionCore.bindChannel({ connectionId: this.connectionId, sessionId: session.sessionKeyName, authenticatedUser: null })
      if (check.status !== NT_STATUS.SUCCESS) return fail(check.status, 'the session core refused the binding')
      if (session.anonymous) return fail(NT_STATUS.NOT_SUPPORTED, 'an anonymous session has no channels')
      binding = { session, acceptor: this.node.newAcceptor(), preauthHash: outcome.preauthHash !== null ? this.preauthHash : null }
      this.bindings.set(h.sessionId, binding)
    }
    if (binding.preauthHash !== null) binding.preauthHash = sha512(binding.preauthHash, msg)
    const step = binding.acceptor.step(req.securityBuffer)
    if (step.kind === 'refused') return fail(step.status, step.reason)
    if (step.kind === 'continue') {
      const response = signed(this.responseMessage(h, NT_STATUS.MORE_PROCESSING_REQUIRED, encodeSessionSetupResponse({ sessionFlags: 0, securityBuffer: step.token }), { sessionId: session.sessionId, treeId: 0 }))
      // Hashed as sent (signed), as smbd does.
      if (binding.preauthHash !== null) binding.preauthHash = sha512(binding.preauthHash, response)
      return { response: { msg: response, signing: null }, session: null, treeEncrypts: false, sessionId: session.sessionId, treeId: 0, status: NT_STATUS.MORE_PROCESSING_REQUIRED }
    }
    // 3.3.5.2.4: a binding without a session key cannot sign its channel.
    if (step.anonymous || step.sessionKey.length === 0) return fail(NT_STATUS.NOT_SUPPORTED, 'a binding authenticated without a key')
    const bound = this.node.sessionCore.bindChannel({ connectionId: this.connectionId, sessionId: session.sessionKeyName, authenticatedUser: step.user })
    if (bound.status !== NT_STATUS.SUCCESS) return fail(bound.status, `the binding authenticated ${step.user}, not the session's user`)
    this.bindings.delete(h.sessionId)
    const channelKeys = this.node.security.deriveKeys(step.sessionKey, outcome.dialect, binding.preauthHash, outcome.cipher)
    session.channelSigningKeys.set(this.connectionId, channelKeys.signingKey)
    this.sessions.set(session.sessionId, session)
    this.node.log('smb2.session.bound', { connection: this.connectionId, session: session.sessionKeyName, user: step.user, channels: session.channelSigningKeys.size + 1 })
    const body = encodeSessionSetupResponse({ sessionFlags: this.sessionFlags(session), securityBuffer: step.token })
    // The final response is signed with the new channel's key, by this connection's algorithm.
    return done(NT_STATUS.SUCCESS, body, session, session.sessionId, session)
  }

  /** A session the core no longer has: what this connection holds of it goes, its key is kept to sign the answer. */
  private expireSession(session: WireSession): void {
    this.sessions.delete(session.sessionId)
    this.node.sessionLost(session)
    this.endedSessions.set(session.sessionId, session)
    if (this.endedSessions.size > ENDED_SESSIONS_REMEMBERED) this.endedSessions.delete(this.endedSessions.keys().next().value as bigint)
  }

  private sessionFlags(session: WireSession): number {
    if (session.anonymous) return SESSION_FLAGS.IS_NULL
    return session.encryptData ? SESSION_FLAGS.ENCRYPT_DATA : 0
  }

  private newSession(): WireSession {
    // The node's place in the cluster rides in the id, so any node can name the session (core/smb/session-id.ts).
    let sessionId: bigint
    do sessionId = mintSessionId(this.node.nodeIndex, randomBytes(8).readBigUInt64LE(0))
    while (this.sessions.has(sessionId) || this.node.findSession(sessionId) !== null)
    return {
      sessionId,
      sessionKeyName: sessionKeyName(this.node.nodeId, sessionId),
      state: 'in-progress',
      reauth: false,
      acceptor: this.node.newAcceptor(),
      preauthHash: null,
      user: '',
      anonymous: false,
      keys: null,
      signingRequired: false,
      encryptData: false,
      cipher: null,
      signingAlgorithm: 0,
      dialect: 0,
      channelSigningKeys: new Map(),
      trees: new Map(),
      opens: new Map(),
      nextTreeId: 1,
    }
  }

  private async handleLogoff(h: Smb2Header, msg: Buffer, session: WireSession) {
    const decoded = decodeEmptyBody(msg, 'LOGOFF')
    if (!decoded.ok) return this.finish(h, encodeErrorResponse(), decoded.error.status, session, null, h.sessionId, h.treeId)
    // The response is signed with the session's key before the session goes (3.3.5.6).
    const result = this.finish(h, encodeEmptyBody(), NT_STATUS.SUCCESS, session, null, h.sessionId, h.treeId)
    // Its durable opens outlive it, as when its connection drops (3.3.7.1; smbtorture
    // durable-open.reopen4 reclaims one from a new session after LOGOFF, as on Windows and smbd).
    await this.removeSession(session, false)
    this.node.log('smb2.session.logoff', { connection: this.connectionId, session: session.sessionKeyName })
    return result
  }

  /** A session ends: its trees and opens go, on every CSV owner (closed, or, when close is false, the durable ones preserved and the others closed). */
  private async removeSession(session: WireSession, close: boolean): Promise<void> {
    this.sessions.delete(session.sessionId)
    if (session.keys) {
      this.endedSessions.set(session.sessionId, session)
      if (this.endedSessions.size > ENDED_SESSIONS_REMEMBERED) this.endedSessions.delete(this.endedSessions.keys().next().value as bigint)
    }
    if (close) for (const tree of session.trees.values()) await this.node.treeClosed(session, tree)
    else this.node.sessionLost(session)
    session.trees.clear()
    const result = this.node.sessionCore.logoff(this.connectionId, session.sessionKeyName)
    if (result.status === NT_STATUS.SUCCESS) await this.node.endSession(session.sessionKeyName, close)
  }

  // ---- TREE_CONNECT and TREE_DISCONNECT ----

  private handleTreeConnect(h: Smb2Header, msg: Buffer, session: WireSession) {
    const fail = (status: number) => this.finish(h, encodeErrorResponse(), status, session, null, h.sessionId, 0)
    const decoded = decodeTreeConnectRequest(msg)
    if (!decoded.ok) return fail(decoded.error.status)
    const path = decoded.value.path
    const shareName = path.split('\\').filter(Boolean).pop() ?? ''
    const ipc = shareName.toUpperCase() === IPC_SHARE_NAME
    // The null session reaches IPC$ only (the issue; Windows' RestrictNullSessAccess).
    if (session.anonymous && !ipc) {
      this.node.log('smb2.tree.refused', { session: session.sessionKeyName, path, reason: 'anonymous' })
      return fail(NT_STATUS.ACCESS_DENIED)
    }
    const ipcShare: ShareInfo = { name: IPC_SHARE_NAME, csv: '', continuouslyAvailable: false, caTimeoutMs: 0 }
    const treeId = session.nextTreeId
    const result = this.node.sessionCore.treeConnect({
      connectionId: this.connectionId,
      sessionId: session.sessionKeyName,
      path,
      shares: ipc ? [ipcShare] : this.node.shares(),
      newTreeId: `${session.sessionKeyName}/${treeId}`,
    })
    if (result.status !== NT_STATUS.SUCCESS) {
      this.node.log('smb2.tree.refused', { session: session.sessionKeyName, path, status: ntStatusName(result.status) })
      return fail(result.status)
    }
    session.nextTreeId = treeId + 1 >= TREE_ID_ALL_ONES ? 1 : treeId + 1
    const resolved = this.node.sessionCore.resolveTree(this.connectionId, session.sessionKeyName, result.treeId)
    const encryptData = !ipc && this.negotiatedOutcome?.cipher != null && (this.node.encryptAll || this.node.shareEncrypts(result.share))
    const tree: WireTree = {
      treeId,
      coreTreeId: result.treeId,
      share: ipc ? null : result.share,
      context: resolved.status === NT_STATUS.SUCCESS ? resolved.tree : null,
      encryptData,
    }
    session.trees.set(treeId, tree)
    const body = encodeTreeConnectResponse({
      shareType: ipc ? SHARE_TYPE.PIPE : SHARE_TYPE.DISK,
      // Manual caching, never DFS; ENCRYPT_DATA when the share requires it.
      shareFlags: encryptData ? SHARE_FLAGS.ENCRYPT_DATA : 0,
      capabilities: ipc ? 0 : result.shareCapabilities,
      maximalAccess: TREE_MAXIMAL_ACCESS,
    })
    this.node.log('smb2.tree.connect', { session: session.sessionKeyName, share: result.share.name, tree: treeId })
    const done = this.finish(h, body, NT_STATUS.SUCCESS, session, tree, h.sessionId, treeId)
    return done
  }

  private async handleTreeDisconnect(h: Smb2Header, msg: Buffer, session: WireSession, tree: WireTree) {
    const decoded = decodeEmptyBody(msg, 'TREE_DISCONNECT')
    if (!decoded.ok) return this.finish(h, encodeErrorResponse(), decoded.error.status, session, tree, h.sessionId, h.treeId)
    session.trees.delete(tree.treeId)
    await this.node.treeClosed(session, tree)
    this.node.sessionCore.treeDisconnect(this.connectionId, session.sessionKeyName, tree.coreTreeId)
    return this.finish(h, encodeEmptyBody(), NT_STATUS.SUCCESS, session, tree, h.sessionId, h.treeId)
  }
}

/** An SMB2 frame of one WRITE request (not encrypted, not a compound). */
function isLoneWrite(frame: Buffer): boolean {
  return frame.length >= SMB2_HEADER_BYTES && frameKind(frame) === 'smb2' && frame.readUInt16LE(HEADER_OFFSET.COMMAND) === SMB2_COMMAND.WRITE && frame.readUInt32LE(HEADER_OFFSET.NEXT_COMMAND) === 0
}

function sha512(previous: Buffer, message: Buffer): Buffer {
  return createHash('sha512').update(previous).update(message).digest()
}

export { SMB2_HEADER_BYTES, creditChargeFor, RELATED_FILE_ID, sessionKeyName }
