// SMB 2/3 connections, sessions and tree connects of one node, as a deterministic state
// machine: MS-SMB2's Connection, Session and TreeConnect tables (3.3.1.7, 3.3.1.8, 3.3.1.10)
// with the checks of NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT and TREE_DISCONNECT.
// Requests come in with what the adapter decided or drew (the authenticated user, fresh ids);
// results are NTSTATUS values, never exceptions. It does no IO, reads no clock and draws no
// random numbers, and it knows nothing of the transport (gRPC today, SMB2 on TCP next).
//
// What it implements, with the spec sections:
// - NEGOTIATE (3.3.5.4): the highest dialect both sides speak; a ClientGuid is required from
//   SMB 2.1 on; the server's capabilities for the dialect.
// - SESSION_SETUP (3.3.5.5): a session per authenticated user; PreviousSessionId (3.3.5.5.3)
//   ends the earlier session, here and on every other node (its durable opens stay).
// - TREE_CONNECT (3.3.5.7): the share by the last component of the path, case-insensitively,
//   with the share capabilities of a scale-out cluster share.
// - Session binding (3.3.5.5, SMB2_SESSION_FLAG_BINDING): a session of 3.x gets further
//   channels (connections of the same client, dialect and user); a request may come on any of
//   them, and the session ends with its last channel.
// - LOGOFF, TREE_DISCONNECT and a connection's end (3.3.7.1) clean up what hangs below them.
// Every table has a bound; a request beyond one is STATUS_INSUFFICIENT_RESOURCES.
import assert from 'node:assert/strict'
import { DIALECTS_OFFERED, GLOBAL_CAP, SHARE_CAP, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

/** Bounds on what clients can make one node hold. */
export interface SmbSessionLimits {
  readonly connectionsMax: number
  /** Sessions of all connections together. */
  readonly sessionsMax: number
  readonly sessionsPerConnectionMax: number
  /** Tree connects of all sessions together. */
  readonly treesMax: number
  readonly treesPerSessionMax: number
  /** Channels of one session (the connection it was set up on included). */
  readonly channelsPerSessionMax: number
}

export const CONNECTIONS_MAX = 10_000
export const SESSIONS_MAX = 10_000
/** Many users may share one connection (a terminal server does), but not without end. */
export const SESSIONS_PER_CONNECTION_MAX = 1_024
export const TREES_MAX = 50_000
/** A client connects a session to each share it uses; a thousand shares is far beyond any. */
export const TREES_PER_SESSION_MAX = 1_024
/** Windows Server 2012 R2 and 2016 bind at most 32 channels to a session (smbtorture's smb2.multichannel.generic.num_channels). */
export const CHANNELS_PER_SESSION_MAX = 32

export const SMB_SESSION_LIMITS: SmbSessionLimits = {
  connectionsMax: CONNECTIONS_MAX,
  sessionsMax: SESSIONS_MAX,
  sessionsPerConnectionMax: SESSIONS_PER_CONNECTION_MAX,
  treesMax: TREES_MAX,
  treesPerSessionMax: TREES_PER_SESSION_MAX,
  channelsPerSessionMax: CHANNELS_PER_SESSION_MAX,
}

/** What the session core needs of a share; the adapter's share type may carry more (its CSV). */
export interface SmbShare {
  readonly name: string
  readonly continuouslyAvailable: boolean
  /** A scale-out share of the SOFS role (absent: true); false: a general-use file server role's share. */
  readonly scaleOut?: boolean
}

export interface SmbConnection {
  readonly connectionId: string
  /** Lower case, as compared by the handle table's replay and reconnect checks. */
  readonly clientGuid: string
  readonly dialect: number
  /** SMB2_GLOBAL_CAP_* the client announced. */
  readonly clientCapabilities: number
}

export interface SmbSession {
  readonly sessionId: string
  /** The connection the session was set up on, or (once that one is gone) its oldest channel. */
  readonly connectionId: string
  readonly user: string
}

/** A resolved tree connect with what a handle operation on it needs. */
export interface SmbTreeContext<Share extends SmbShare> {
  readonly treeId: string
  readonly sessionId: string
  readonly share: Share
  readonly user: string
  readonly clientGuid: string
  /** Dialect 3.0 or later and the client announced SMB2_GLOBAL_CAP_PERSISTENT_HANDLES. */
  readonly persistentHandlesCapable: boolean
}

type Success = typeof NT_STATUS.SUCCESS
type Status<Name extends keyof typeof NT_STATUS> = { readonly status: (typeof NT_STATUS)[Name] }

export type NegotiateResult =
  | { readonly status: Success; readonly connection: SmbConnection; readonly serverCapabilities: number }
  | Status<'NOT_SUPPORTED' | 'INVALID_PARAMETER' | 'INSUFFICIENT_RESOURCES'>

export type SessionSetupResult =
  | {
      readonly status: Success
      readonly session: SmbSession
      /**
       * The session PreviousSessionId named, which the adapter must end on every node with
       * its durable opens preserved: it may have lived on another node, so this is set
       * whether or not this node knew it. null: no PreviousSessionId.
       */
      readonly previousSessionIdToEnd: string | null
    }
  | Status<'INVALID_PARAMETER' | 'LOGON_FAILURE' | 'INSUFFICIENT_RESOURCES'>

export type LogoffResult = { readonly status: Success; readonly endedSessionId: string } | Status<'USER_SESSION_DELETED'>

export type BindChannelResult =
  | { readonly status: Success; readonly session: SmbSession }
  | Status<'USER_SESSION_DELETED' | 'INVALID_PARAMETER' | 'REQUEST_NOT_ACCEPTED' | 'ACCESS_DENIED' | 'INSUFFICIENT_RESOURCES'>

export interface BindChannelRequest {
  readonly connectionId: string
  readonly sessionId: string
  /** The user the binding authenticated; null: checks only, before the authentication ran. */
  readonly authenticatedUser: string | null
}

export type TreeConnectResult<Share extends SmbShare> =
  | { readonly status: Success; readonly treeId: string; readonly share: Share; readonly shareCapabilities: number }
  | Status<'USER_SESSION_DELETED' | 'BAD_NETWORK_NAME' | 'INSUFFICIENT_RESOURCES'>

export type TreeDisconnectResult = { readonly status: Success } | Status<'USER_SESSION_DELETED' | 'NETWORK_NAME_DELETED'>

export type SessionLookup = { readonly status: Success; readonly session: SmbSession } | Status<'USER_SESSION_DELETED'>

export type TreeLookup<Share extends SmbShare> =
  | { readonly status: Success; readonly tree: SmbTreeContext<Share> }
  | Status<'USER_SESSION_DELETED' | 'NETWORK_NAME_DELETED'>

export type DisconnectResult =
  | {
      readonly status: Success
      /** Sessions that ended with the connection: the adapter disconnects (preserves) their opens. */
      readonly endedSessionIds: readonly string[]
      /** Sessions that lost this channel but live on on others. */
      readonly unboundSessionIds: readonly string[]
    }
  | Status<'INVALID_PARAMETER'>

export interface NegotiateRequest {
  /** A fresh id the adapter drew, used if the connection is accepted. */
  readonly newConnectionId: string
  readonly clientDialects: readonly number[]
  /** The dialects this server speaks on the transport asking (default: DIALECTS_OFFERED, the gRPC data path's). */
  readonly offeredDialects?: readonly number[]
  readonly clientGuid: string
  readonly clientCapabilities: number
}

export interface SessionSetupRequest {
  readonly connectionId: string
  /** The user the adapter authenticated; null: the credentials were refused. */
  readonly authenticatedUser: string | null
  /** '' for none. */
  readonly previousSessionId: string
  /** A fresh id the adapter drew, used if the session is made. */
  readonly newSessionId: string
}

export interface TreeConnectRequest<Share extends SmbShare> {
  readonly connectionId: string
  readonly sessionId: string
  /** "\\server\share" or just "share". */
  readonly path: string
  /** The shares this node exports now (they may be added at run time). */
  readonly shares: readonly Share[]
  /** A fresh id the adapter drew, used if the tree is connected. */
  readonly newTreeId: string
}

interface ConnectionEntry extends SmbConnection {
  readonly sessionIds: Set<string>
}

interface SessionEntry {
  readonly sessionId: string
  readonly user: string
  /** The connections the session is bound to, the one it was set up on first (3.3.1.8 ChannelList). */
  readonly channels: Set<string>
  readonly treeIds: Set<string>
}

interface TreeEntry<Share extends SmbShare> {
  readonly treeId: string
  readonly sessionId: string
  readonly share: Share
}

export class SmbSessionCore<Share extends SmbShare = SmbShare> {
  private readonly connections = new Map<string, ConnectionEntry>()
  private readonly sessions = new Map<string, SessionEntry>()
  private readonly trees = new Map<string, TreeEntry<Share>>()

  constructor(readonly limits: SmbSessionLimits = SMB_SESSION_LIMITS) {
    for (const [name, value] of Object.entries(limits)) assert.ok(Number.isSafeInteger(value) && value > 0, `limit ${name} must be a positive integer`)
  }

  // ---- requests ----

  /** NEGOTIATE: a new connection at the highest dialect both sides speak. */
  negotiate(req: NegotiateRequest): NegotiateResult {
    const dialect = highestCommonDialect(req.clientDialects, req.offeredDialects)
    if (dialect === null) return { status: NT_STATUS.NOT_SUPPORTED }
    // From 2.1 on a client identifies itself by ClientGuid, which durable and persistent
    // handles are bound to (3.3.5.4): one without it cannot be accepted. Only a missing one is
    // refused: the GUID's form is the transport's business (on the wire it is 16 bytes, and
    // Windows accepts the nil GUID there).
    if (dialect >= SMB2_DIALECT.SMB21 && req.clientGuid === '') return { status: NT_STATUS.INVALID_PARAMETER }
    if (this.connections.size >= this.limits.connectionsMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    assert.ok(!this.connections.has(req.newConnectionId), 'connection ids are unique')
    const connection: ConnectionEntry = {
      connectionId: req.newConnectionId,
      clientGuid: req.clientGuid.toLowerCase(),
      dialect,
      clientCapabilities: req.clientCapabilities,
      sessionIds: new Set(),
    }
    this.connections.set(connection.connectionId, connection)
    return { status: NT_STATUS.SUCCESS, connection: connectionView(connection), serverCapabilities: serverCapabilitiesFor(dialect) }
  }

  /** SESSION_SETUP: a session for the authenticated user, ending PreviousSessionId's. */
  sessionSetup(req: SessionSetupRequest): SessionSetupResult {
    const connection = this.connections.get(req.connectionId)
    if (!connection) return { status: NT_STATUS.INVALID_PARAMETER }
    if (req.authenticatedUser === null) return { status: NT_STATUS.LOGON_FAILURE }
    if (this.sessions.size >= this.limits.sessionsMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    if (connection.sessionIds.size >= this.limits.sessionsPerConnectionMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    let previousSessionIdToEnd: string | null = null
    if (req.previousSessionId !== '') {
      // 3.3.5.5.3: the earlier session goes away (with its trees); its durable opens stay,
      // which is for the adapter to tell the CSV owners.
      // Only a session of the same user is ended: another user's stays, and so do its opens.
      const previous = this.sessions.get(req.previousSessionId)
      if (!previous || previous.user === req.authenticatedUser) {
        if (previous) this.removeSession(previous)
        previousSessionIdToEnd = req.previousSessionId
      }
    }
    assert.ok(!this.sessions.has(req.newSessionId), 'session ids are unique')
    const session: SessionEntry = { sessionId: req.newSessionId, channels: new Set([connection.connectionId]), user: req.authenticatedUser, treeIds: new Set() }
    this.sessions.set(session.sessionId, session)
    connection.sessionIds.add(session.sessionId)
    return { status: NT_STATUS.SUCCESS, session: sessionView(session), previousSessionIdToEnd }
  }

  /**
   * SESSION_SETUP with SMB2_SESSION_FLAG_BINDING (3.3.5.5): the connection becomes another channel
   * of a session of this node. Asked twice: with no user before the authentication (the checks
   * that refuse the request at once), and with the authenticated user after it, which binds.
   */
  bindChannel(req: BindChannelRequest): BindChannelResult {
    const connection = this.connections.get(req.connectionId)
    if (!connection) return { status: NT_STATUS.INVALID_PARAMETER }
    // Below 3.0 there are no channels (3.3.5.5; smbd answers REQUEST_NOT_ACCEPTED too).
    if (connection.dialect < SMB2_DIALECT.SMB30) return { status: NT_STATUS.REQUEST_NOT_ACCEPTED }
    const session = this.sessions.get(req.sessionId)
    if (!session) return { status: NT_STATUS.USER_SESSION_DELETED }
    const first = this.connections.get(firstOf(session.channels))
    assert.ok(first, 'a live session has a live channel')
    if (first.dialect !== connection.dialect) return { status: NT_STATUS.INVALID_PARAMETER }
    // Channels belong to one client: another ClientGuid does not find the session (3.3.5.5).
    if (first.clientGuid !== connection.clientGuid) return { status: NT_STATUS.USER_SESSION_DELETED }
    if (session.channels.has(connection.connectionId)) return { status: NT_STATUS.REQUEST_NOT_ACCEPTED }
    if (req.authenticatedUser === null) return { status: NT_STATUS.SUCCESS, session: sessionView(session) }
    // The binding must authenticate the session's own user (3.3.5.5.3; smbd: ACCESS_DENIED).
    if (req.authenticatedUser.toLowerCase() !== session.user.toLowerCase()) return { status: NT_STATUS.ACCESS_DENIED }
    if (connection.sessionIds.size >= this.limits.sessionsPerConnectionMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    if (session.channels.size >= this.limits.channelsPerSessionMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    session.channels.add(connection.connectionId)
    connection.sessionIds.add(session.sessionId)
    return { status: NT_STATUS.SUCCESS, session: sessionView(session) }
  }

  /** LOGOFF: the session and its trees go; the adapter closes its opens. */
  logoff(connectionId: string, sessionId: string): LogoffResult {
    const session = this.sessionOf(connectionId, sessionId)
    if (!session) return { status: NT_STATUS.USER_SESSION_DELETED }
    this.removeSession(session)
    return { status: NT_STATUS.SUCCESS, endedSessionId: session.sessionId }
  }

  /**
   * Another node's SESSION_SETUP named this session as its PreviousSessionId (3.3.5.5.3): it ends
   * with its trees, only if it is the same user's (as for a PreviousSessionId on this node). True
   * when it ended; the adapter's requests on it then find it gone (USER_SESSION_DELETED).
   */
  endSessionOf(sessionId: string, user: string): boolean {
    const session = this.sessions.get(sessionId)
    if (!session || session.user !== user) return false
    this.removeSession(session)
    return true
  }

  /** TREE_CONNECT to a share of this node. */
  treeConnect(req: TreeConnectRequest<Share>): TreeConnectResult<Share> {
    const session = this.sessionOf(req.connectionId, req.sessionId)
    if (!session) return { status: NT_STATUS.USER_SESSION_DELETED }
    const name = shareNameOfTreePath(req.path).toLowerCase()
    const share = req.shares.find((s) => s.name.toLowerCase() === name)
    if (!share) return { status: NT_STATUS.BAD_NETWORK_NAME }
    if (this.trees.size >= this.limits.treesMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    if (session.treeIds.size >= this.limits.treesPerSessionMax) return { status: NT_STATUS.INSUFFICIENT_RESOURCES }
    assert.ok(!this.trees.has(req.newTreeId), 'tree ids are unique')
    this.trees.set(req.newTreeId, { treeId: req.newTreeId, sessionId: session.sessionId, share })
    session.treeIds.add(req.newTreeId)
    return { status: NT_STATUS.SUCCESS, treeId: req.newTreeId, share, shareCapabilities: shareCapabilitiesOf(share) }
  }

  /** TREE_DISCONNECT. */
  treeDisconnect(connectionId: string, sessionId: string, treeId: string): TreeDisconnectResult {
    const found = this.resolveTree(connectionId, sessionId, treeId)
    if (found.status !== NT_STATUS.SUCCESS) return found
    this.removeTree(treeId)
    return { status: NT_STATUS.SUCCESS }
  }

  /**
   * The connection is gone (its transport closed): the sessions it was the last channel of end,
   * with their trees; the adapter disconnects their opens, which keeps the durable and persistent
   * ones (3.3.7.1). A session with another channel loses only this one (3.3.7.1, multichannel).
   */
  disconnect(connectionId: string): DisconnectResult {
    const connection = this.connections.get(connectionId)
    if (!connection) return { status: NT_STATUS.INVALID_PARAMETER }
    const endedSessionIds: string[] = []
    const unboundSessionIds: string[] = []
    for (const sessionId of [...connection.sessionIds]) {
      const session = this.sessions.get(sessionId)
      assert.ok(session, 'a connection lists only live sessions')
      if (session.channels.size > 1) {
        session.channels.delete(connectionId)
        connection.sessionIds.delete(sessionId)
        unboundSessionIds.push(sessionId)
      } else {
        this.removeSession(session)
        endedSessionIds.push(sessionId)
      }
    }
    assert.equal(connection.sessionIds.size, 0)
    this.connections.delete(connectionId)
    return { status: NT_STATUS.SUCCESS, endedSessionIds, unboundSessionIds }
  }

  // ---- lookups for the commands that run on a session or a tree ----

  /** The session a request names, if it is alive and belongs to the request's connection. */
  resolveSession(connectionId: string, sessionId: string): SessionLookup {
    const session = this.sessionOf(connectionId, sessionId)
    if (!session) return { status: NT_STATUS.USER_SESSION_DELETED }
    return { status: NT_STATUS.SUCCESS, session: sessionView(session) }
  }

  /** The tree a request names, if its session resolves and the tree belongs to that session. */
  resolveTree(connectionId: string, sessionId: string, treeId: string): TreeLookup<Share> {
    const session = this.sessionOf(connectionId, sessionId)
    if (!session) return { status: NT_STATUS.USER_SESSION_DELETED }
    const tree = this.trees.get(treeId)
    if (!tree || tree.sessionId !== session.sessionId) return { status: NT_STATUS.NETWORK_NAME_DELETED }
    // The ClientGuid and the capabilities of the channel asking (a session's channels share the ClientGuid).
    const connection = this.connections.get(connectionId)
    assert.ok(connection, 'a channel of a live session is a live connection')
    return {
      status: NT_STATUS.SUCCESS,
      tree: {
        treeId: tree.treeId,
        sessionId: session.sessionId,
        share: tree.share,
        user: session.user,
        clientGuid: connection.clientGuid,
        persistentHandlesCapable: persistentHandlesCapable(connection),
      },
    }
  }

  connection(connectionId: string): SmbConnection | null {
    const connection = this.connections.get(connectionId)
    return connection ? connectionView(connection) : null
  }

  counts(): { connections: number; sessions: number; trees: number } {
    return { connections: this.connections.size, sessions: this.sessions.size, trees: this.trees.size }
  }

  /** Checks that the three tables agree and stay within their bounds (for tests and simulations). */
  assertInvariants(): void {
    assert.ok(this.connections.size <= this.limits.connectionsMax, 'connections within bound')
    assert.ok(this.sessions.size <= this.limits.sessionsMax, 'sessions within bound')
    assert.ok(this.trees.size <= this.limits.treesMax, 'trees within bound')
    let sessionsListed = 0
    for (const [id, connection] of this.connections) {
      assert.equal(connection.connectionId, id)
      assert.ok(connection.sessionIds.size <= this.limits.sessionsPerConnectionMax, 'sessions per connection within bound')
      for (const sessionId of connection.sessionIds) assert.ok(this.sessions.get(sessionId)?.channels.has(id), 'a connection lists its own sessions')
      sessionsListed += connection.sessionIds.size
    }
    let channelsListed = 0
    for (const session of this.sessions.values()) channelsListed += session.channels.size
    assert.equal(sessionsListed, channelsListed, 'every channel of a session is listed by its connection')
    let treesListed = 0
    for (const [id, session] of this.sessions) {
      assert.equal(session.sessionId, id)
      assert.ok(session.channels.size > 0 && session.channels.size <= this.limits.channelsPerSessionMax, 'a session has a channel, within bound')
      for (const connectionId of session.channels) assert.ok(this.connections.get(connectionId)?.sessionIds.has(id), 'a session belongs to live connections')
      const dialects = new Set([...session.channels].map((c) => this.connections.get(c)?.dialect))
      const clientGuids = new Set([...session.channels].map((c) => this.connections.get(c)?.clientGuid))
      assert.ok(dialects.size === 1 && clientGuids.size === 1, 'the channels of a session share the dialect and the ClientGuid')
      assert.ok(session.treeIds.size <= this.limits.treesPerSessionMax, 'trees per session within bound')
      for (const treeId of session.treeIds) assert.equal(this.trees.get(treeId)?.sessionId, id, 'a session lists its own trees')
      treesListed += session.treeIds.size
    }
    assert.equal(treesListed, this.trees.size, 'every tree is listed by its session')
  }

  // ---- helpers ----

  /** A request's session must exist and be bound to the request's connection (one of its channels). */
  private sessionOf(connectionId: string, sessionId: string): SessionEntry | null {
    const session = this.sessions.get(sessionId)
    if (!session || !session.channels.has(connectionId)) return null
    return session
  }

  private removeSession(session: SessionEntry): void {
    for (const treeId of [...session.treeIds]) this.removeTree(treeId)
    this.sessions.delete(session.sessionId)
    for (const connectionId of session.channels) {
      const connection = this.connections.get(connectionId)
      assert.ok(connection, 'a live session has live channels')
      connection.sessionIds.delete(session.sessionId)
    }
  }

  private removeTree(treeId: string): void {
    const tree = this.trees.get(treeId)
    assert.ok(tree, 'only live trees are removed')
    this.trees.delete(treeId)
    this.sessions.get(tree.sessionId)?.treeIds.delete(treeId)
  }
}

/** The highest of the client's dialects this server offers; null: none in common. */
export function highestCommonDialect(clientDialects: readonly number[], offered: readonly number[] = DIALECTS_OFFERED): number | null {
  let best: number | null = null
  for (const dialect of clientDialects) {
    if (offered.includes(dialect) && (best === null || dialect > best)) best = dialect
  }
  return best
}

/** SMB2_GLOBAL_CAP_* this server announces at a dialect: persistent handles from 3.0 on. */
export function serverCapabilitiesFor(dialect: number): number {
  return dialect >= SMB2_DIALECT.SMB30 ? GLOBAL_CAP.PERSISTENT_HANDLES : 0
}

/**
 * MS-SMB2 2.2.10: every share is a cluster share (CLUSTER: its nodes run the witness service),
 * CA where configured, and SCALEOUT unless it belongs to a general-use file server role, whose
 * share is online on one node at a time (Windows answers CLUSTER|CONTINUOUS_AVAILABILITY there).
 */
export function shareCapabilitiesOf(share: SmbShare): number {
  return (share.continuouslyAvailable ? SHARE_CAP.CONTINUOUS_AVAILABILITY : 0) | (share.scaleOut === false ? 0 : SHARE_CAP.SCALEOUT) | SHARE_CAP.CLUSTER
}

/** "share" of "\\server\share" (or of "share"). */
export function shareNameOfTreePath(path: string): string {
  return path.split('\\').filter(Boolean).pop() ?? ''
}

function persistentHandlesCapable(connection: SmbConnection): boolean {
  return connection.dialect >= SMB2_DIALECT.SMB30 && (connection.clientCapabilities & GLOBAL_CAP.PERSISTENT_HANDLES) !== 0
}

function connectionView(c: ConnectionEntry): SmbConnection {
  return { connectionId: c.connectionId, clientGuid: c.clientGuid, dialect: c.dialect, clientCapabilities: c.clientCapabilities }
}

function sessionView(s: SessionEntry): SmbSession {
  return { sessionId: s.sessionId, connectionId: firstOf(s.channels), user: s.user }
}

/** The oldest entry of an insertion-ordered set that is not empty. */
function firstOf(set: ReadonlySet<string>): string {
  const first = set.values().next()
  assert.ok(!first.done, 'not empty')
  return first.value
}
