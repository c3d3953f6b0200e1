// SessionIds that name their node (core/smb/session-id.ts): any node finds the node that minted
// a PreviousSessionId, no minted id is 0 or all ones, and an id no node minted is named as the
// asking node's own. Then the two places a reclaim from another node lands: the session core
// ends only the same user's session, and a CSV owner preserves only that user's opens.
import t from 'tap'
import fc from 'fast-check'
import { SESSION_ID_NODE_INDEX_MAX, mintSessionId, nodeIndexOfSessionId, previousSessionKey, sessionKeyName } from '../../core/smb/session-id.js'
import { SmbSessionCore } from '../../core/smb/smb-session-core.js'
import { HandleTable } from '../../core/smb/handle-table.js'
import { DISPOSITION, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

const ALL_ONES = 0xffffffffffffffffn
const u64 = fc.bigInt({ min: 0n, max: ALL_ONES })

t.test('a minted id carries its node and is never 0 or all ones', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: SESSION_ID_NODE_INDEX_MAX }), u64, (index, random) => {
      const id = mintSessionId(index, random)
      return id !== 0n && id !== ALL_ONES && id <= ALL_ONES && nodeIndexOfSessionId(id) === index
    }),
  )
  t.throws(() => mintSessionId(0, 1n), 'index 0 is refused')
  t.throws(() => mintSessionId(SESSION_ID_NODE_INDEX_MAX + 1, 1n), 'index 0xffff is refused')
  t.equal(nodeIndexOfSessionId(0n), 0)
  t.equal(nodeIndexOfSessionId(ALL_ONES), 0, 'all ones names no node')
  t.equal(nodeIndexOfSessionId(0x0000_1234_5678_9abcn), 0, 'an id of another server names no node')
})

t.test("a PreviousSessionId is named as its minting node's session", async (t) => {
  const nodes = ['node-1', 'node-2', 'node-3']
  const fromTwo = mintSessionId(2, 0xabcdefn)
  t.equal(previousSessionKey(fromTwo, nodes, 'node-3'), sessionKeyName('node-2', fromTwo))
  t.equal(previousSessionKey(fromTwo, nodes, 'node-2'), sessionKeyName('node-2', fromTwo))
  const unknownNode = mintSessionId(9, 5n)
  t.equal(previousSessionKey(unknownNode, nodes, 'node-1'), sessionKeyName('node-1', unknownNode), 'a node past the list: our own name (no such session)')
  t.equal(previousSessionKey(0x42n, nodes, 'node-3'), sessionKeyName('node-3', 0x42n))
  t.equal(sessionKeyName('node-2', fromTwo), `node-2/0002000000abcdef`)
  fc.assert(
    fc.property(u64, fc.constantFrom(...nodes), (id, self) => {
      const key = previousSessionKey(id, nodes, self)
      return key.endsWith(`/${id.toString(16).padStart(16, '0')}`) && nodes.some((n) => key.startsWith(`${n}/`))
    }),
  )
})

t.test("a reclaim from another node ends the session only for the same user", async (t) => {
  const core = new SmbSessionCore()
  t.equal(core.negotiate({ newConnectionId: 'c1', clientDialects: [SMB2_DIALECT.SMB302], clientGuid: 'g', clientCapabilities: 0 }).status, NT_STATUS.SUCCESS)
  const key = sessionKeyName('node-1', mintSessionId(1, 7n))
  t.equal(core.sessionSetup({ connectionId: 'c1', authenticatedUser: 'alice', previousSessionId: '', newSessionId: key }).status, NT_STATUS.SUCCESS)
  t.notOk(core.endSessionOf(key, 'bob'), "bob cannot end alice's session")
  t.equal(core.resolveSession('c1', key).status, NT_STATUS.SUCCESS, 'it lives on')
  t.notOk(core.endSessionOf('node-1/0000000000000000', 'alice'), 'no such session')
  t.ok(core.endSessionOf(key, 'alice'))
  t.equal(core.resolveSession('c1', key).status, NT_STATUS.USER_SESSION_DELETED, 'its requests find it gone')
  core.assertInvariants()
  t.equal(core.disconnect('c1').status, NT_STATUS.SUCCESS, 'the connection still ends cleanly')
})

t.test("a CSV owner told of a reclaim preserves only the reclaiming user's opens", async (t) => {
  const table = new HandleTable('csv-1')
  const key = 'node-1/0001000000000007'
  let n = 0
  const open = (user: string, path: string, persistent: boolean) =>
    table.create({
      sessionKey: key, clientGuid: 'g', user, share: 's', shareIsCa: true, caTimeoutMs: 0, path, disposition: DISPOSITION.OPEN_IF,
      desiredAccess: 0x3, shareAccess: 0, fileExists: false, persistentCapable: true, replay: false,
      ...(persistent ? { dh2q: { createGuid: `cg-${n}`, timeoutMs: 60_000, persistent: true } } : {}),
      newPersistentId: `p${++n}`, newVolatileId: `v${n}`,
    })
  t.equal(open('alice', 'a-durable', true).status, NT_STATUS.SUCCESS)
  t.equal(open('alice', 'a-plain', false).status, NT_STATUS.SUCCESS)
  // Not a real case (a session has one user) but what guards the check: bob's opens stay attached.
  t.equal(open('bob', 'b-plain', false).status, NT_STATUS.SUCCESS)
  const events = table.disconnectSession(key, 1000, 'alice').flatMap((e) => (e.kind === 'event' ? [`${e.event}:${String(e.fields.persistentId)}`] : []))
  t.same(events.sort(), ['handle.closed:p2', 'handle.preserved:p1'])
  t.ok(table.recordOf('p3'), "bob's open is untouched")
  t.equal(table.beginIo({ sessionKey: key, persistentId: 'p3', volatileId: 'v3', kind: 'read', channelSequence: 0, replay: false, messageId: '1' }).status, NT_STATUS.SUCCESS)
})
