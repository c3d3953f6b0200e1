// The SMB session core as a pure state machine: NEGOTIATE's dialect pick and ClientGuid check,
// SESSION_SETUP with and without PreviousSessionId, TREE_CONNECT, the bounds on every table
// and the order of the checks, and LOGOFF, TREE_DISCONNECT and a connection's end cleaning up
// what hangs below them. A property test then drives random sequences of all of them against
// a small model of the three tables, with small bounds so that they are reached.
import t from 'tap'
import fc from 'fast-check'
import {
  SMB_SESSION_LIMITS,
  SmbSessionCore,
  type SmbSessionLimits,
  type SmbShare,
} from '../../core/smb/smb-session-core.js'
import { GLOBAL_CAP, SHARE_CAP, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

interface Share extends SmbShare {
  readonly csv: string
}

const SHARES: readonly Share[] = [
  { name: 'share-1', csv: 'csv-1', continuouslyAvailable: true },
  { name: 'Plain', csv: 'csv-2', continuouslyAvailable: false },
  // A general-use file server role's CA share.
  { name: 'gen1', csv: 'csv-2', continuouslyAvailable: true, scaleOut: false },
]

const ALL_DIALECTS = [SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311]
const CLIENT_GUID = '6ba7b810-9dad-11d1-80b4-00c04fd430c8'

/** A core plus deterministic id sources, with the three steps a client takes to reach a share. */
class Harness {
  readonly core: SmbSessionCore<Share>
  private nextId = 0
  /** The id drawn last, whether or not the request used it. */
  lastId = ''

  constructor(limits?: SmbSessionLimits) {
    this.core = new SmbSessionCore<Share>(limits)
  }

  id(kind: string): string {
    this.lastId = `${kind}-${++this.nextId}`
    return this.lastId
  }

  negotiate(over: { dialects?: readonly number[]; clientGuid?: string; capabilities?: number } = {}) {
    return this.core.negotiate({
      newConnectionId: this.id('conn'),
      clientDialects: over.dialects ?? ALL_DIALECTS,
      clientGuid: over.clientGuid ?? CLIENT_GUID,
      clientCapabilities: over.capabilities ?? GLOBAL_CAP.PERSISTENT_HANDLES,
    })
  }

  connect(over: Parameters<Harness['negotiate']>[0] = {}): string {
    const r = this.negotiate(over)
    if (r.status !== NT_STATUS.SUCCESS) throw new Error(`negotiate: 0x${r.status.toString(16)}`)
    return r.connection.connectionId
  }

  sessionSetup(connectionId: string, over: { user?: string | null; previousSessionId?: string } = {}) {
    return this.core.sessionSetup({
      connectionId,
      authenticatedUser: over.user === undefined ? 'alice' : over.user,
      previousSessionId: over.previousSessionId ?? '',
      newSessionId: this.id('node-1/session'),
    })
  }

  session(connectionId: string, over: Parameters<Harness['sessionSetup']>[1] = {}): string {
    const r = this.sessionSetup(connectionId, over)
    if (r.status !== NT_STATUS.SUCCESS) throw new Error(`session setup: 0x${r.status.toString(16)}`)
    return r.session.sessionId
  }

  treeConnect(connectionId: string, sessionId: string, path = '\\\\SOFS\\share-1') {
    return this.core.treeConnect({ connectionId, sessionId, path, shares: SHARES, newTreeId: this.id('tree') })
  }

  tree(connectionId: string, sessionId: string, path?: string): string {
    const r = this.treeConnect(connectionId, sessionId, path)
    if (r.status !== NT_STATUS.SUCCESS) throw new Error(`tree connect: 0x${r.status.toString(16)}`)
    return r.treeId
  }
}

function limits(over: Partial<SmbSessionLimits>): SmbSessionLimits {
  return { ...SMB_SESSION_LIMITS, ...over }
}

t.test('NEGOTIATE picks the highest dialect both sides speak', async (t) => {
  const h = new Harness()
  const pick = (dialects: readonly number[]) => {
    const r = h.negotiate({ dialects })
    return r.status === NT_STATUS.SUCCESS ? r.connection.dialect : r.status
  }
  t.equal(pick(ALL_DIALECTS), SMB2_DIALECT.SMB311)
  t.equal(pick([SMB2_DIALECT.SMB311, SMB2_DIALECT.SMB21]), SMB2_DIALECT.SMB311, 'order does not matter')
  t.equal(pick([SMB2_DIALECT.SMB202, SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30]), SMB2_DIALECT.SMB30)
  t.equal(pick([SMB2_DIALECT.SMB21, 0x0400]), SMB2_DIALECT.SMB21, 'a dialect this server does not know is ignored')
  t.equal(pick([SMB2_DIALECT.SMB202]), NT_STATUS.NOT_SUPPORTED, '2.0.2 is not offered')
  t.equal(pick([SMB2_DIALECT.WILDCARD]), NT_STATUS.NOT_SUPPORTED)
  t.equal(pick([]), NT_STATUS.NOT_SUPPORTED, 'no dialect at all')
  t.equal(h.core.counts().connections, 4, 'only the accepted negotiations made connections')

  const at21 = h.negotiate({ dialects: [SMB2_DIALECT.SMB21] })
  const at30 = h.negotiate({ dialects: [SMB2_DIALECT.SMB30] })
  t.equal(at21.status === NT_STATUS.SUCCESS && at21.serverCapabilities, 0, 'no persistent handles before 3.0')
  t.equal(at30.status === NT_STATUS.SUCCESS && at30.serverCapabilities, GLOBAL_CAP.PERSISTENT_HANDLES)
})

t.test('NEGOTIATE needs a ClientGuid, kept in lower case', async (t) => {
  const h = new Harness()
  t.equal(h.negotiate({ clientGuid: '' }).status, NT_STATUS.INVALID_PARAMETER, 'empty ClientGuid from 2.1 on')
  t.equal(h.negotiate({ clientGuid: '', dialects: [SMB2_DIALECT.SMB202] }).status, NT_STATUS.NOT_SUPPORTED, 'the dialect is checked first')
  t.equal(h.core.counts().connections, 0)
  const id = h.connect({ clientGuid: CLIENT_GUID.toUpperCase() })
  t.equal(h.core.connection(id)?.clientGuid, CLIENT_GUID, 'compared in lower case by the handle table')
})

t.test('SESSION_SETUP', async (t) => {
  const h = new Harness()
  const c1 = h.connect()
  t.equal(h.sessionSetup('no-such-connection').status, NT_STATUS.INVALID_PARAMETER, 'unknown connection')
  t.equal(h.sessionSetup('no-such-connection', { user: null }).status, NT_STATUS.INVALID_PARAMETER, 'the connection is checked before the credentials')
  t.equal(h.sessionSetup(c1, { user: null }).status, NT_STATUS.LOGON_FAILURE, 'refused credentials')
  const r = h.sessionSetup(c1, { user: 'bob' })
  t.equal(r.status, NT_STATUS.SUCCESS)
  if (r.status !== NT_STATUS.SUCCESS) return
  t.equal(r.previousSessionIdToEnd, null, 'no PreviousSessionId, nothing to end')
  t.same(r.session, { sessionId: h.lastId, connectionId: c1, user: 'bob' }, 'the id the adapter drew')
  t.equal(h.core.resolveSession(c1, r.session.sessionId).status, NT_STATUS.SUCCESS)
  const c2 = h.connect()
  t.equal(h.core.resolveSession(c2, r.session.sessionId).status, NT_STATUS.USER_SESSION_DELETED, 'a session is bound to its connection')
  t.equal(h.core.resolveSession(c1, 'node-1/session-999').status, NT_STATUS.USER_SESSION_DELETED)
  h.core.assertInvariants()
})

t.test('SESSION_SETUP with PreviousSessionId ends the earlier session and its trees', async (t) => {
  const h = new Harness()
  const c1 = h.connect()
  const old = h.session(c1)
  const oldTree = h.tree(c1, old)
  const bystander = h.session(c1, { user: 'bob' })
  const bystanderTree = h.tree(c1, bystander)

  // The client lost its connection and comes back on a new one, naming the old session.
  const c2 = h.connect()
  const r = h.sessionSetup(c2, { previousSessionId: old })
  t.equal(r.status, NT_STATUS.SUCCESS)
  if (r.status !== NT_STATUS.SUCCESS) return
  t.equal(r.previousSessionIdToEnd, old, 'the adapter ends it on every node, preserving its durable opens')
  t.equal(h.core.resolveSession(c1, old).status, NT_STATUS.USER_SESSION_DELETED, 'the old session is gone')
  t.equal(h.core.resolveTree(c1, old, oldTree).status, NT_STATUS.USER_SESSION_DELETED, 'and its tree with it')
  t.equal(h.core.resolveTree(c1, bystander, bystanderTree).status, NT_STATUS.SUCCESS, 'other sessions of the old connection stay')
  t.equal(h.core.resolveSession(c2, r.session.sessionId).status, NT_STATUS.SUCCESS)
  t.same(h.core.counts(), { connections: 2, sessions: 2, trees: 1 })
  h.core.assertInvariants()

  // Another user cannot end it (MS-SMB2 3.3.5.5.3: the previous session must be the same user's).
  const c3 = h.connect()
  const victim = h.session(c3)
  const other = h.sessionSetup(c2, { user: 'mallory', previousSessionId: victim })
  t.equal(other.status === NT_STATUS.SUCCESS && other.previousSessionIdToEnd, null, "another user's PreviousSessionId ends nothing")
  t.equal(h.core.resolveSession(c3, victim).status, NT_STATUS.SUCCESS, 'the session stays')

  // After a failover the old session lived on another node: it is still to be ended there.
  const elsewhere = h.sessionSetup(c2, { previousSessionId: 'node-3/session-77' })
  t.equal(elsewhere.status === NT_STATUS.SUCCESS && elsewhere.previousSessionIdToEnd, 'node-3/session-77')
})

t.test('TREE_CONNECT', async (t) => {
  const h = new Harness()
  const c = h.connect()
  const s = h.session(c)
  t.equal(h.treeConnect(c, s, '\\\\SOFS\\no-such-share').status, NT_STATUS.BAD_NETWORK_NAME, 'unknown share')
  t.equal(h.treeConnect(c, s, '').status, NT_STATUS.BAD_NETWORK_NAME, 'no share at all')
  t.equal(h.treeConnect(c, 'node-1/session-999').status, NT_STATUS.USER_SESSION_DELETED, 'unknown session')
  t.equal(h.treeConnect('conn-999', s).status, NT_STATUS.USER_SESSION_DELETED, 'a session of another connection')

  const ca = h.treeConnect(c, s, '\\\\SOFS\\SHARE-1')
  t.equal(ca.status, NT_STATUS.SUCCESS, 'share names are case-insensitive')
  if (ca.status !== NT_STATUS.SUCCESS) return
  t.equal(ca.share.csv, 'csv-1', "the adapter's share comes back, with its CSV")
  t.equal(ca.shareCapabilities, SHARE_CAP.CONTINUOUS_AVAILABILITY | SHARE_CAP.SCALEOUT | SHARE_CAP.CLUSTER)
  const plain = h.treeConnect(c, s, 'plain')
  t.equal(plain.status === NT_STATUS.SUCCESS && plain.shareCapabilities, SHARE_CAP.SCALEOUT | SHARE_CAP.CLUSTER, 'a bare share name, not CA')
  const general = h.treeConnect(c, s, '\\\\FS-1\\gen1')
  t.equal(general.status === NT_STATUS.SUCCESS && general.shareCapabilities, SHARE_CAP.CONTINUOUS_AVAILABILITY | SHARE_CAP.CLUSTER, "a general role's CA share: CLUSTER|CONTINUOUS_AVAILABILITY, no SCALEOUT (as Windows)")

  const found = h.core.resolveTree(c, s, ca.treeId)
  t.equal(found.status, NT_STATUS.SUCCESS)
  if (found.status !== NT_STATUS.SUCCESS) return
  t.same(found.tree, { treeId: ca.treeId, sessionId: s, share: SHARES[0], user: 'alice', clientGuid: CLIENT_GUID, persistentHandlesCapable: true })
  const other = h.session(c, { user: 'bob' })
  t.equal(h.core.resolveTree(c, other, ca.treeId).status, NT_STATUS.NETWORK_NAME_DELETED, 'a tree of another session')
  t.equal(h.core.resolveTree(c, s, 'tree-999').status, NT_STATUS.NETWORK_NAME_DELETED, 'unknown tree')
})

t.test('persistent handles need dialect 3.0 and the client capability', async (t) => {
  const h = new Harness()
  const capable = (dialects: readonly number[], capabilities: number) => {
    const c = h.connect({ dialects, capabilities })
    const s = h.session(c)
    const found = h.core.resolveTree(c, s, h.tree(c, s))
    return found.status === NT_STATUS.SUCCESS && found.tree.persistentHandlesCapable
  }
  t.equal(capable([SMB2_DIALECT.SMB30], GLOBAL_CAP.PERSISTENT_HANDLES), true)
  t.equal(capable([SMB2_DIALECT.SMB311], GLOBAL_CAP.PERSISTENT_HANDLES | GLOBAL_CAP.LEASING), true)
  t.equal(capable([SMB2_DIALECT.SMB21], GLOBAL_CAP.PERSISTENT_HANDLES), false, 'not at 2.1')
  t.equal(capable([SMB2_DIALECT.SMB311], GLOBAL_CAP.LEASING), false, 'not without the capability')
})

t.test("the default bounds are today's", async (t) => {
  t.same(SMB_SESSION_LIMITS, { connectionsMax: 10_000, sessionsMax: 10_000, sessionsPerConnectionMax: 1_024, treesMax: 50_000, treesPerSessionMax: 1_024, channelsPerSessionMax: 32 })
  const h = new Harness()
  for (let i = 0; i < SMB_SESSION_LIMITS.connectionsMax; i++) h.connect()
  t.equal(h.negotiate().status, NT_STATUS.INSUFFICIENT_RESOURCES, 'connection 10,001')
})

t.test('bounds: connections, sessions, trees, each overall and per parent', async (t) => {
  t.test('connections', async (t) => {
    const h = new Harness(limits({ connectionsMax: 2 }))
    const c1 = h.connect()
    h.connect()
    t.equal(h.negotiate().status, NT_STATUS.INSUFFICIENT_RESOURCES)
    t.equal(h.negotiate({ dialects: [] }).status, NT_STATUS.NOT_SUPPORTED, 'a bad request is refused for what it is first')
    t.equal(h.core.disconnect(c1).status, NT_STATUS.SUCCESS)
    t.equal(h.negotiate().status, NT_STATUS.SUCCESS, 'a disconnect frees a slot')
  })

  t.test('sessions per connection', async (t) => {
    const h = new Harness(limits({ sessionsPerConnectionMax: 2 }))
    const c1 = h.connect()
    const s1 = h.session(c1)
    h.session(c1)
    t.equal(h.sessionSetup(c1).status, NT_STATUS.INSUFFICIENT_RESOURCES)
    t.equal(h.sessionSetup(c1, { user: null }).status, NT_STATUS.LOGON_FAILURE, 'credentials are checked before the bounds')
    t.equal(h.sessionSetup(h.connect()).status, NT_STATUS.SUCCESS, 'another connection has room')
    t.equal(h.core.logoff(c1, s1).status, NT_STATUS.SUCCESS)
    t.equal(h.sessionSetup(c1).status, NT_STATUS.SUCCESS, 'a logoff frees a slot')
  })

  t.test('sessions overall, and a refused setup ends no previous session', async (t) => {
    const h = new Harness(limits({ sessionsMax: 2 }))
    const c1 = h.connect()
    const s1 = h.session(c1)
    h.session(h.connect())
    const r = h.sessionSetup(h.connect(), { previousSessionId: s1 })
    t.equal(r.status, NT_STATUS.INSUFFICIENT_RESOURCES)
    t.equal(h.core.resolveSession(c1, s1).status, NT_STATUS.SUCCESS, 'the previous session is untouched')
  })

  t.test('trees per session and overall', async (t) => {
    const h = new Harness(limits({ treesPerSessionMax: 2, treesMax: 3 }))
    const c = h.connect()
    const s1 = h.session(c)
    const first = h.tree(c, s1)
    h.tree(c, s1, 'plain')
    t.equal(h.treeConnect(c, s1).status, NT_STATUS.INSUFFICIENT_RESOURCES, 'per session')
    t.equal(h.treeConnect(c, s1, 'nope').status, NT_STATUS.BAD_NETWORK_NAME, 'the share is checked before the bounds')
    const s2 = h.session(c)
    h.tree(c, s2)
    t.equal(h.treeConnect(c, s2).status, NT_STATUS.INSUFFICIENT_RESOURCES, 'overall')
    t.equal(h.core.treeDisconnect(c, s1, first).status, NT_STATUS.SUCCESS)
    t.equal(h.treeConnect(c, s2).status, NT_STATUS.SUCCESS, 'a tree disconnect frees a slot')
    h.core.assertInvariants()
  })
})

t.test('LOGOFF and TREE_DISCONNECT clean up', async (t) => {
  const h = new Harness()
  const c = h.connect()
  const s1 = h.session(c)
  const s2 = h.session(c, { user: 'bob' })
  const t1 = h.tree(c, s1)
  h.tree(c, s1, 'plain')
  const t2 = h.tree(c, s2)

  t.equal(h.core.treeDisconnect(c, s1, t2).status, NT_STATUS.NETWORK_NAME_DELETED, "another session's tree")
  t.equal(h.core.treeDisconnect(c, s1, t1).status, NT_STATUS.SUCCESS)
  t.equal(h.core.treeDisconnect(c, s1, t1).status, NT_STATUS.NETWORK_NAME_DELETED, 'only once')

  t.equal(h.core.logoff(h.connect(), s1).status, NT_STATUS.USER_SESSION_DELETED, 'from another connection')
  const r = h.core.logoff(c, s1)
  t.same(r, { status: NT_STATUS.SUCCESS, endedSessionId: s1 }, 'the adapter closes its opens')
  t.equal(h.core.logoff(c, s1).status, NT_STATUS.USER_SESSION_DELETED, 'only once')
  t.same(h.core.counts(), { connections: 2, sessions: 1, trees: 1 }, "the session's remaining tree went with it")
  t.equal(h.core.resolveTree(c, s2, t2).status, NT_STATUS.SUCCESS, 'the other session is untouched')
  h.core.assertInvariants()
})

t.test('a connection that ends takes its sessions and trees with it', async (t) => {
  const h = new Harness()
  const c1 = h.connect()
  const c2 = h.connect()
  const s1 = h.session(c1)
  const s2 = h.session(c1, { user: 'bob' })
  h.tree(c1, s1)
  h.tree(c1, s2)
  const kept = h.session(c2)
  const keptTree = h.tree(c2, kept)

  const r = h.core.disconnect(c1)
  t.same(r, { status: NT_STATUS.SUCCESS, endedSessionIds: [s1, s2], unboundSessionIds: [] }, 'the adapter preserves their durable opens')
  t.same(h.core.counts(), { connections: 1, sessions: 1, trees: 1 })
  t.equal(h.core.connection(c1), null)
  t.equal(h.sessionSetup(c1).status, NT_STATUS.INVALID_PARAMETER, 'the connection is gone')
  t.equal(h.core.disconnect(c1).status, NT_STATUS.INVALID_PARAMETER, 'only once')
  t.equal(h.core.resolveTree(c2, kept, keptTree).status, NT_STATUS.SUCCESS, 'other connections are untouched')
  h.core.assertInvariants()
})

t.test('session binding: another channel of the same client, dialect and user; the session ends with its last channel', async (t) => {
  const h = new Harness()
  const c1 = h.connect()
  const c2 = h.connect()
  const s = h.session(c1)
  const tree = h.tree(c1, s)
  const bind = (connectionId: string, user: string | null, sessionId = s) => h.core.bindChannel({ connectionId, sessionId, authenticatedUser: user })
  t.equal(h.core.resolveTree(c2, s, tree).status, NT_STATUS.USER_SESSION_DELETED, 'not a channel yet')
  t.equal(bind(c2, null).status, NT_STATUS.SUCCESS, 'the checks before the authentication pass')
  t.equal(h.core.resolveTree(c2, s, tree).status, NT_STATUS.USER_SESSION_DELETED, 'checking binds nothing')
  t.equal(bind(c2, 'bob').status, NT_STATUS.ACCESS_DENIED, 'another user')
  t.equal(bind(c2, 'unknown-session', 'node-1/session-x').status, NT_STATUS.USER_SESSION_DELETED)
  t.equal(bind('no-such-connection', 'alice').status, NT_STATUS.INVALID_PARAMETER)
  t.match(bind(c2, 'ALICE'), { status: NT_STATUS.SUCCESS, session: { sessionId: s, connectionId: c1 } }, 'the same user (case-insensitively)')
  t.equal(bind(c2, 'alice').status, NT_STATUS.REQUEST_NOT_ACCEPTED, 'already a channel')
  t.equal(bind(c1, 'alice').status, NT_STATUS.REQUEST_NOT_ACCEPTED, 'the first channel too')
  t.equal(h.core.resolveTree(c2, s, tree).status, NT_STATUS.SUCCESS, 'a tree of the session on the new channel')
  t.same(h.core.counts(), { connections: 2, sessions: 1, trees: 1 })
  h.core.assertInvariants()

  t.same(h.core.disconnect(c1), { status: NT_STATUS.SUCCESS, endedSessionIds: [], unboundSessionIds: [s] }, 'the first channel goes; the session stays')
  t.match(h.core.resolveSession(c2, s), { status: NT_STATUS.SUCCESS, session: { connectionId: c2 } })
  t.equal(h.core.resolveTree(c2, s, tree).status, NT_STATUS.SUCCESS)
  h.core.assertInvariants()
  t.same(h.core.disconnect(c2), { status: NT_STATUS.SUCCESS, endedSessionIds: [s], unboundSessionIds: [] }, 'the last channel takes the session')
  t.same(h.core.counts(), { connections: 0, sessions: 0, trees: 0 })

  // LOGOFF on any channel ends the session on all of them.
  const c3 = h.connect()
  const c4 = h.connect()
  const s2 = h.session(c3)
  t.equal(bind(c4, 'alice', s2).status, NT_STATUS.SUCCESS)
  t.equal(h.core.logoff(c4, s2).status, NT_STATUS.SUCCESS)
  t.equal(h.core.resolveSession(c3, s2).status, NT_STATUS.USER_SESSION_DELETED)
  h.core.assertInvariants()
})

t.test('session binding: at most 32 channels per session (Windows), then INSUFFICIENT_RESOURCES', async (t) => {
  const h = new Harness()
  const s = h.session(h.connect())
  for (let i = 1; i < SMB_SESSION_LIMITS.channelsPerSessionMax; i++) t.equal(h.core.bindChannel({ connectionId: h.connect(), sessionId: s, authenticatedUser: 'alice' }).status, NT_STATUS.SUCCESS, `channel ${i + 1}`)
  t.equal(h.core.bindChannel({ connectionId: h.connect(), sessionId: s, authenticatedUser: 'alice' }).status, NT_STATUS.INSUFFICIENT_RESOURCES, 'channel 33')
  h.core.assertInvariants()
})

t.test('session binding is refused below 3.0, across dialects and across clients', async (t) => {
  const h = new Harness()
  const c30 = h.connect({ dialects: [SMB2_DIALECT.SMB30] })
  const s = h.session(c30)
  const bind = (connectionId: string) => h.core.bindChannel({ connectionId, sessionId: s, authenticatedUser: 'alice' }).status
  t.equal(bind(h.connect({ dialects: [SMB2_DIALECT.SMB21] })), NT_STATUS.REQUEST_NOT_ACCEPTED, '2.1 has no channels')
  t.equal(bind(h.connect({ dialects: [SMB2_DIALECT.SMB311] })), NT_STATUS.INVALID_PARAMETER, 'another dialect')
  t.equal(bind(h.connect({ dialects: [SMB2_DIALECT.SMB30], clientGuid: '11111111-2222-3333-4444-555555555555' })), NT_STATUS.USER_SESSION_DELETED, 'another client')
  t.equal(bind(h.connect({ dialects: [SMB2_DIALECT.SMB30], clientGuid: CLIENT_GUID.toUpperCase() })), NT_STATUS.SUCCESS, 'the same client (GUIDs compare case-insensitively)')
  const s21 = h.session(h.connect({ dialects: [SMB2_DIALECT.SMB21] }))
  t.equal(h.core.bindChannel({ connectionId: h.connect({ dialects: [SMB2_DIALECT.SMB21] }), sessionId: s21, authenticatedUser: 'alice' }).status, NT_STATUS.REQUEST_NOT_ACCEPTED)
  h.core.assertInvariants()
})

t.test('bounds must be positive integers', async (t) => {
  t.throws(() => new SmbSessionCore(limits({ treesMax: 0 })))
  t.throws(() => new SmbSessionCore(limits({ sessionsMax: Infinity })))
})

// ---- property: random sequences against a model of the three tables ----

/**
 * Requests name ids by index among those handed out so far (ended ones included) or past
 * them (unknown ids). A request on a session or tree comes on the connection (and session) it
 * was made on, unless `stray` sends it on another one, so that most requests name live state.
 */
type Op =
  | { kind: 'negotiate'; guidless: boolean }
  | { kind: 'session-setup'; conn: number; refused: boolean; previous: number | null }
  | { kind: 'logoff'; session: number; strayConn: number | null }
  | { kind: 'tree-connect'; session: number; strayConn: number | null; share: number }
  | { kind: 'tree-disconnect'; tree: number; straySession: number | null }
  | { kind: 'disconnect'; conn: number }
  | { kind: 'bind'; session: number; conn: number; otherUser: boolean }

const connPick = fc.nat({ max: 5 })
const sessionPick = fc.nat({ max: 9 })
const treePick = fc.nat({ max: 12 })
/** Usually nothing (null), sometimes an index. */
const seldom = (pick: fc.Arbitrary<number>) => fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: pick, weight: 1 })
const rarely = fc.nat({ max: 5 }).map((n) => n === 0)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('negotiate' as const), guidless: rarely }),
  { arbitrary: fc.record({ kind: fc.constant('session-setup' as const), conn: connPick, refused: rarely, previous: seldom(sessionPick) }), weight: 2 },
  fc.record({ kind: fc.constant('logoff' as const), session: sessionPick, strayConn: seldom(connPick) }),
  { arbitrary: fc.record({ kind: fc.constant('tree-connect' as const), session: sessionPick, strayConn: seldom(connPick), share: fc.nat({ max: 2 }) }), weight: 4 },
  fc.record({ kind: fc.constant('tree-disconnect' as const), tree: treePick, straySession: seldom(sessionPick) }),
  fc.record({ kind: fc.constant('disconnect' as const), conn: connPick }),
  { arbitrary: fc.record({ kind: fc.constant('bind' as const), session: sessionPick, conn: connPick, otherUser: rarely }), weight: 2 },
)

t.test('property: the tables agree with a model, stay within bounds, and clean up after themselves', async (t) => {
  // Each overall bound is below the sum of the per-parent ones, so that both can be reached.
  const small: SmbSessionLimits = { connectionsMax: 3, sessionsMax: 4, sessionsPerConnectionMax: 2, treesMax: 4, treesPerSessionMax: 2, channelsPerSessionMax: 2 }
  const reached = { connections: 0, sessions: 0, sessionsPerConnection: 0, trees: 0, treesPerSession: 0 }
  // The channel bound is met too seldom here to require it (binding needs a session and two
  // other connections with room): 'session binding: at most 32 channels' meets it every time.
  let channelBoundMet = 0
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 20, maxLength: 120, size: 'max' }), (ops) => {
      const h = new Harness(small)
      const core = h.core
      const connIds: string[] = []
      const sessionIds: string[] = []
      const treeIds: string[] = []
      /** Where every session and tree ever made was made. */
      const madeOn = new Map<string, string>()
      // The model: connection -> its sessions, session -> its trees, tree -> its session,
      // session -> its channels (the connections it is bound to).
      const conns = new Map<string, Set<string>>()
      const sessions = new Map<string, Set<string>>()
      const trees = new Map<string, string>()
      const channels = new Map<string, Set<string>>()
      const at = (ids: readonly string[], i: number) => ids[i] ?? `unknown-${i}`
      const sessionOn = (conn: string, s: string) => sessions.has(s) && channels.get(s)!.has(conn)
      /** A live channel of a session (the one it was made on while that lives), for requests that are not stray. */
      const channelOf = (s: string) => (channels.get(s)?.has(madeOn.get(s) ?? '') ? madeOn.get(s)! : ([...(channels.get(s) ?? [])][0] ?? madeOn.get(s) ?? ''))
      const dropSession = (s: string) => {
        for (const tree of sessions.get(s)!) trees.delete(tree)
        for (const conn of channels.get(s)!) conns.get(conn)!.delete(s)
        channels.delete(s)
        sessions.delete(s)
      }

      for (const op of ops) {
        switch (op.kind) {
          case 'negotiate': {
            const r = h.negotiate({ clientGuid: op.guidless ? '' : CLIENT_GUID })
            const full = conns.size >= small.connectionsMax
            if (!op.guidless && full) reached.connections++
            if (r.status !== (op.guidless ? NT_STATUS.INVALID_PARAMETER : full ? NT_STATUS.INSUFFICIENT_RESOURCES : NT_STATUS.SUCCESS)) return false
            if (r.status === NT_STATUS.SUCCESS) {
              connIds.push(r.connection.connectionId)
              conns.set(r.connection.connectionId, new Set())
            }
            break
          }
          case 'session-setup': {
            const conn = at(connIds, op.conn)
            const previous = op.previous === null ? '' : at(sessionIds, op.previous)
            const r = h.sessionSetup(conn, { user: op.refused ? null : 'alice', previousSessionId: previous })
            let expected: number = NT_STATUS.SUCCESS
            if (!conns.has(conn)) expected = NT_STATUS.INVALID_PARAMETER
            else if (op.refused) expected = NT_STATUS.LOGON_FAILURE
            else if (sessions.size >= small.sessionsMax) {
              expected = NT_STATUS.INSUFFICIENT_RESOURCES
              reached.sessions++
            } else if (conns.get(conn)!.size >= small.sessionsPerConnectionMax) {
              expected = NT_STATUS.INSUFFICIENT_RESOURCES
              reached.sessionsPerConnection++
            }
            if (r.status !== expected) return false
            if (r.status === NT_STATUS.SUCCESS) {
              if (r.previousSessionIdToEnd !== (previous === '' ? null : previous)) return false
              if (sessions.has(previous)) dropSession(previous)
              sessionIds.push(r.session.sessionId)
              madeOn.set(r.session.sessionId, conn)
              sessions.set(r.session.sessionId, new Set())
              channels.set(r.session.sessionId, new Set([conn]))
              conns.get(conn)!.add(r.session.sessionId)
            }
            break
          }
          case 'logoff': {
            const s = at(sessionIds, op.session)
            const conn = op.strayConn === null ? channelOf(s) : at(connIds, op.strayConn)
            const r = core.logoff(conn, s)
            if (r.status !== (sessionOn(conn, s) ? NT_STATUS.SUCCESS : NT_STATUS.USER_SESSION_DELETED)) return false
            if (r.status === NT_STATUS.SUCCESS) dropSession(s)
            break
          }
          case 'tree-connect': {
            const s = at(sessionIds, op.session)
            const conn = op.strayConn === null ? channelOf(s) : at(connIds, op.strayConn)
            const path = ['share-1', 'plain', 'missing'][op.share]
            const r = h.treeConnect(conn, s, path)
            let expected: number = NT_STATUS.SUCCESS
            if (!sessionOn(conn, s)) expected = NT_STATUS.USER_SESSION_DELETED
            else if (path === 'missing') expected = NT_STATUS.BAD_NETWORK_NAME
            else if (trees.size >= small.treesMax) {
              expected = NT_STATUS.INSUFFICIENT_RESOURCES
              reached.trees++
            } else if (sessions.get(s)!.size >= small.treesPerSessionMax) {
              expected = NT_STATUS.INSUFFICIENT_RESOURCES
              reached.treesPerSession++
            }
            if (r.status !== expected) return false
            if (r.status === NT_STATUS.SUCCESS) {
              treeIds.push(r.treeId)
              madeOn.set(r.treeId, s)
              trees.set(r.treeId, s)
              sessions.get(s)!.add(r.treeId)
            }
            break
          }
          case 'tree-disconnect': {
            const tree = at(treeIds, op.tree)
            const s = op.straySession === null ? (madeOn.get(tree) ?? '') : at(sessionIds, op.straySession)
            const conn = channelOf(s)
            const r = core.treeDisconnect(conn, s, tree)
            let expected: number = NT_STATUS.SUCCESS
            if (!sessionOn(conn, s)) expected = NT_STATUS.USER_SESSION_DELETED
            else if (trees.get(tree) !== s) expected = NT_STATUS.NETWORK_NAME_DELETED
            if (r.status !== expected) return false
            if (r.status === NT_STATUS.SUCCESS) {
              trees.delete(tree)
              sessions.get(s)!.delete(tree)
            }
            break
          }
          case 'disconnect': {
            const conn = at(connIds, op.conn)
            const r = core.disconnect(conn)
            if (r.status !== (conns.has(conn) ? NT_STATUS.SUCCESS : NT_STATUS.INVALID_PARAMETER)) return false
            if (r.status === NT_STATUS.SUCCESS) {
              const listed = [...conns.get(conn)!]
              const ended = listed.filter((s) => channels.get(s)!.size === 1)
              const unbound = listed.filter((s) => channels.get(s)!.size > 1)
              if (JSON.stringify(r.endedSessionIds) !== JSON.stringify(ended) || JSON.stringify(r.unboundSessionIds) !== JSON.stringify(unbound)) return false
              for (const s of ended) dropSession(s)
              for (const s of unbound) channels.get(s)!.delete(conn)
              conns.delete(conn)
            }
            break
          }
          case 'bind': {
            const s = at(sessionIds, op.session)
            const conn = at(connIds, op.conn)
            const r = core.bindChannel({ connectionId: conn, sessionId: s, authenticatedUser: op.otherUser ? 'bob' : 'alice' })
            let expected: number = NT_STATUS.SUCCESS
            if (!conns.has(conn)) expected = NT_STATUS.INVALID_PARAMETER
            else if (!sessions.has(s)) expected = NT_STATUS.USER_SESSION_DELETED
            else if (channels.get(s)!.has(conn)) expected = NT_STATUS.REQUEST_NOT_ACCEPTED
            else if (op.otherUser) expected = NT_STATUS.ACCESS_DENIED
            else if (conns.get(conn)!.size >= small.sessionsPerConnectionMax) expected = NT_STATUS.INSUFFICIENT_RESOURCES
            else if (channels.get(s)!.size >= small.channelsPerSessionMax) {
              expected = NT_STATUS.INSUFFICIENT_RESOURCES
              channelBoundMet++
            }
            if (r.status !== expected) return false
            if (r.status === NT_STATUS.SUCCESS) {
              channels.get(s)!.add(conn)
              conns.get(conn)!.add(s)
            }
            break
          }
        }
        core.assertInvariants()
        const counts = core.counts()
        if (counts.connections !== conns.size || counts.sessions !== sessions.size || counts.trees !== trees.size) return false
      }
      // Every live tree resolves; nothing that ended resolves again, on any connection.
      for (const [tree, s] of trees) for (const conn of channels.get(s)!) if (core.resolveTree(conn, s, tree).status !== NT_STATUS.SUCCESS) return false
      for (const s of sessionIds) {
        if (sessions.has(s)) continue
        for (const conn of connIds) if (core.resolveSession(conn, s).status !== NT_STATUS.USER_SESSION_DELETED) return false
      }
      return true
    }),
    // Seeded: whether 400 random runs reach every bound (the trees bound is the rarest) is
    // itself chance, and a run that misses one failed CI once. PROPERTY_SEED explores others.
    { numRuns: 400, seed: Number(process.env.PROPERTY_SEED ?? 20261206) },
  )
  // The runs must have met every bound, or they prove little about them.
  for (const [bound, times] of Object.entries(reached)) t.ok(times > 0, `${bound} bound reached ${times} times`)
  t.comment(`channelsPerSession bound met ${channelBoundMet} times`)
})
