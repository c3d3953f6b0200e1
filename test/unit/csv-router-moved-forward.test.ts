// A handle operation a data node forwarded to its CSV's owner, when the CSV moves off that owner
// before it answers (the owner frozen, cut off, declared down): the forward ends when the
// committed view names the new owner, not at its 10 s deadline (the chaos matrix's csv-owner
// freeze and cut-in cells waited out the client's 5 s request timeout). A read goes to the new
// owner; a write ends with STATUS_FILE_NOT_AVAILABLE, which the client replays (it may have
// been applied by the old owner: the data node does not apply it a second time on its own).
// An operation on a CSV between owners (a planned move, ~100-200 ms) waits for the next owner
// instead of dropping the client's connection (the failback after leader/cut-in healed did).
import pino from 'pino'
import t from 'tap'
import type { ClusterConfig } from '../../cluster/config.js'
import type { View } from '../../core/quorum/types.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { CsvRouter } from '../../server/csv-router.js'
import { encodeHandleMessage } from '../../server/smb/handle-op-codec.js'
import type { HandleOp, HandleOpReply } from '../../server/smb/csv-service.js'

const CSV = 'csv-1'
const FILE_ID = { persistent: '0011223344556677', volatile: '8899aabbccddeeff' }

interface Forwarded {
  readonly peer: string
  readonly op: string
  answer(reply: HandleOpReply | 'unavailable' | 'not-serving'): void
}

/** A router on node-1 whose CSV is owned by `owner`; forwards wait until the test answers them. */
function setup(owner: string) {
  const state = { owner }
  const forwarded: Forwarded[] = []
  const view = (): View => ({ epoch: 1, viewTerm: 1, leaderId: 'node-2', members: [], csvs: [{ name: CSV, owner: state.owner }] } as unknown as View)
  const router = new CsvRouter({
    config: { dir: '/nonexistent-csv-router-test', shares: [], csvs: [CSV], nodes: [], csvMode: 's2d' } as unknown as ClusterConfig,
    selfId: 'node-1',
    quorum: {
      readout: { committed: view(), servingCsvs: () => [], isServing: () => true } as never,
      ownerOf: () => state.owner,
    },
    transport: {
      forward: (peer, _csv, op) =>
        new Promise<Buffer | 'unavailable' | 'not-serving'>((resolve) => {
          forwarded.push({ peer, op, answer: (r) => resolve(r === 'unavailable' || r === 'not-serving' ? r : encodeHandleMessage(r)) })
        }),
      endSession: async () => undefined,
    },
    bandwidth: null,
    clock: { nowMs: () => performance.now() } as never,
    log: pino({ level: 'silent' }),
  })
  const moveTo = (next: string) => {
    const before = view()
    state.owner = next
    router.viewCommitted(before, view())
  }
  return { router, forwarded, moveTo }
}

const write: HandleOp = { op: 'write', sessionKey: 'node-1/s', fileId: FILE_ID, offset: 0, data: Buffer.from('x'), channelSequence: 0, replay: false, messageId: '1:5' } as unknown as HandleOp
const read: HandleOp = { op: 'read', sessionKey: 'node-1/s', fileId: FILE_ID, offset: 0, length: 1 } as unknown as HandleOp

/** Whether `p` has settled after two turns of the event loop (an answer that is due has come by then). */
async function settled<T>(p: Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  let result: { done: true; value: T } | { done: false } = { done: false }
  void p.then((value) => {
    result = { done: true, value }
  })
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setImmediate(r))
  return result
}

t.test('a forwarded write whose CSV moved ends at once with STATUS_FILE_NOT_AVAILABLE, for the client to replay', async (t) => {
  const { router, forwarded, moveTo } = setup('node-2')
  const reply = router.route(CSV, write)
  t.same(forwarded.map((f) => [f.peer, f.op]), [['node-2', 'write']], 'forwarded to the owner')
  t.notOk((await settled(reply)).done, 'waits for the owner while it owns the CSV')
  moveTo('node-3')
  const r = await settled(reply)
  t.same(r, { done: true, value: { status: NT_STATUS.FILE_NOT_AVAILABLE } }, 'ended by the move, not by the deadline')
  t.equal(forwarded.length, 1, 'not run again by the data node: the old owner may have applied it')
  forwarded[0].answer({ status: NT_STATUS.SUCCESS, count: 1 })
  t.same(await reply, { status: NT_STATUS.FILE_NOT_AVAILABLE }, 'the old owner\'s late answer is dropped')
})

t.test('a forwarded read whose CSV moved is sent to the new owner', async (t) => {
  const { router, forwarded, moveTo } = setup('node-2')
  const reply = router.route(CSV, read)
  moveTo('node-3')
  await settled(reply)
  t.same(forwarded.map((f) => [f.peer, f.op]), [['node-2', 'read'], ['node-3', 'read']], 'again, to the new owner')
  forwarded[1].answer({ status: NT_STATUS.SUCCESS, data: Buffer.from('y') })
  const r = await reply
  t.equal(r === 'unavailable' ? -1 : r.status, NT_STATUS.SUCCESS)
  t.same(r === 'unavailable' ? null : r.data, Buffer.from('y'), 'the new owner\'s answer')
})

t.test('a CSV between owners does not end the forward; an unchanged owner does not either; re-routes are bounded', async (t) => {
  const { router, forwarded, moveTo } = setup('node-2')
  const reply = router.route(CSV, write)
  moveTo('')
  t.notOk((await settled(reply)).done, 'no owner yet: the forward waits (for the next owner or its deadline)')
  moveTo('node-2')
  t.notOk((await settled(reply)).done, 'the same owner again: still its answer to wait for')
  forwarded[0].answer({ status: NT_STATUS.SUCCESS, count: 1 })
  t.same(await reply, { status: NT_STATUS.SUCCESS, count: 1 })

  const { router: r2, forwarded: f2, moveTo: move2 } = setup('node-2')
  const reading = r2.route(CSV, read)
  for (const next of ['node-3', 'node-4', 'node-2', 'node-3', 'node-4', 'node-2']) {
    move2(next)
    await settled(reading)
  }
  t.same(await reading, 'unavailable', 'past the re-routes allowed: unavailable, as a forward that failed')
  t.equal(f2.length, 5, 'the first send and four re-routes')
})

t.test('an operation on a CSV between owners waits for the next owner (nothing was sent), then goes there; after the hold it is unavailable', async (t) => {
  const { router, forwarded, moveTo } = setup('')
  const reply = router.route(CSV, write)
  t.notOk((await settled(reply)).done, 'held, not dropped')
  t.equal(forwarded.length, 0, 'nothing sent while the CSV has no owner')
  moveTo('node-3')
  await settled(reply)
  t.same(forwarded.map((f) => [f.peer, f.op]), [['node-3', 'write']], 'sent once, to the owner named')
  forwarded[0].answer({ status: NT_STATUS.SUCCESS, count: 1 })
  t.same(await reply, { status: NT_STATUS.SUCCESS, count: 1 })

  const held = setup('')
  const startedMs = Date.now()
  t.equal(await held.router.route(CSV, write), 'unavailable', 'no owner named within the hold: unavailable, as before')
  t.ok(Date.now() - startedMs >= 1900, 'after the hold, not at once')
  t.equal(held.forwarded.length, 0)
})

t.test('an owner that answers it does not serve the CSV yet (it ran nothing) is asked again, within the hold', async (t) => {
  const { router, forwarded } = setup('node-3')
  const reply = router.route(CSV, write)
  await settled(reply)
  forwarded[0].answer('not-serving')
  t.notOk((await settled(reply)).done, 'held, not dropped')
  await new Promise((r) => setTimeout(r, 200))
  t.ok(forwarded.length >= 2 && forwarded.every((f) => f.peer === 'node-3' && f.op === 'write'), 'asked again')
  forwarded.at(-1)!.answer({ status: NT_STATUS.SUCCESS, count: 1 })
  t.same(await reply, { status: NT_STATUS.SUCCESS, count: 1 }, 'served once it serves')

  const { router: r2, forwarded: f2 } = setup('node-3')
  const startedMs = performance.now()
  const never = r2.route(CSV, write)
  const answering = setInterval(() => {
    for (const f of f2.splice(0)) f.answer('not-serving')
  }, 10)
  t.equal(await never, 'unavailable', 'still not serving at the end of the hold: unavailable, as before')
  clearInterval(answering)
  t.ok(performance.now() - startedMs >= 1900, 'after the 2 s hold')
})

t.test('named owner itself but not serving the CSV (a move away stopped its service before the view committed): held for the next owner', async (t) => {
  const { router, forwarded, moveTo } = setup('node-1')
  const reply = router.route(CSV, write)
  t.notOk((await settled(reply)).done, 'held, not dropped')
  moveTo('node-3')
  await settled(reply)
  t.same(forwarded.map((f) => [f.peer, f.op]), [['node-3', 'write']], 'sent to the new owner once its view commits')
  forwarded[0].answer({ status: NT_STATUS.SUCCESS, count: 1 })
  t.same(await reply, { status: NT_STATUS.SUCCESS, count: 1 })
})
