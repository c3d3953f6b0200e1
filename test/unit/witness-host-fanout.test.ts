// The witness host carrying out a large fan-out: replies go out REPLIES_PER_TURN_MAX per turn
// of the event loop (the node keeps answering heartbeats in between), every waiting
// AsyncNotify is answered once, and the notifications are logged as one witness.notify.batch
// line instead of one line each; a small fan-out still logs a line per notification. Likewise
// registrations: one line each at info up to a bound per window, then one count line.
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import type { View } from '../../core/quorum/types.js'
import { WITNESS_VERSION_2, type WitnessReply } from '../../protocol/swn/witness-calls.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { NOTIFY_LOG_LINES_MAX, REGISTERED_LOG_LINES_PER_WINDOW_MAX, REPLIES_PER_TURN_MAX, WitnessHost } from '../../server/swn/witness-host.js'

const NODES = [
  { id: 'node-1', clientAddress: '127.0.1.1' },
  { id: 'node-2', clientAddress: '127.0.1.2' },
  { id: 'node-3', clientAddress: '127.0.1.3' },
]

function view(epoch: number, down: string[]): View {
  return {
    epoch,
    viewTerm: 1,
    leaderId: 'node-1',
    members: NODES.map((n) => ({ id: n.id, state: down.includes(n.id) ? 'down' : 'up', vote: 1 })),
    csvs: [{ name: 'csv-1', owner: 'node-1' }],
  } as View
}

function hostWithLog(): { host: WitnessHost; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
      done()
    },
  })
  let now = 0
  const host = new WitnessHost({
    nodeId: 'node-2',
    serverGlobalName: 'SOFS',
    profile: 'ws2012r2',
    shares: [{ name: 'share-1', csv: 'csv-1' }],
    nodes: NODES,
    isServing: () => true,
    clock: { nowMs: () => (now += 0.01), wallNowMs: () => Date.now() },
    log: pino({ level: 'info' }, sink),
    onEvent: () => undefined,
  })
  host.viewCommitted(view(1, []))
  return { host, lines }
}

/** Registers n clients watching node-3, each with an AsyncNotify waiting; returns their answers as they come. */
function watchers(host: WitnessHost, n: number): WitnessReply[] {
  const answers: WitnessReply[] = []
  for (let i = 0; i < n; i++) {
    let key = ''
    host.submit('alice', { method: 'RegisterEx', version: WITNESS_VERSION_2, netName: 'SOFS', ipAddress: '127.0.1.3', clientComputerName: `c${i}`, flags: 0, keepAliveTimeoutS: 120 }, (r) => {
      if (r.method === 'RegisterEx') key = r.key
    })
    host.submit('alice', { method: 'AsyncNotify', key }, (r) => answers.push(r))
  }
  return answers
}

const turn = () => new Promise((r) => setImmediate(r))

t.test('a fan-out larger than a turn goes out in slices, each AsyncNotify answered once, logged as one batch line', async (t) => {
  const { host, lines } = hostWithLog()
  const total = 2 * REPLIES_PER_TURN_MAX + 123
  const answers = watchers(host, total)
  t.equal(host.pendingCalls(), total)
  host.viewCommitted(view(2, ['node-3']))
  t.equal(answers.length, REPLIES_PER_TURN_MAX, 'the first slice at once')
  // A call made while the fan-out drains is answered after what was queued before it.
  let listed = false
  host.submit('alice', { method: 'GetInterfaceList' }, () => (listed = true))
  t.notOk(listed, 'queued behind the fan-out')
  await turn()
  t.equal(answers.length, 2 * REPLIES_PER_TURN_MAX, 'the second slice on the next turn')
  await turn()
  t.equal(answers.length, total)
  t.ok(listed)
  t.ok(answers.every((a) => a.method === 'AsyncNotify' && a.result === WIN_ERROR.SUCCESS && a.notify?.resourceChanges[0]?.changeType === 0xff))
  t.equal(host.pendingCalls(), 0)
  t.equal(lines.filter((l) => l.event === 'witness.notify.sent').length, 0, 'no line per notification at info')
  const batch = lines.filter((l) => l.event === 'witness.notify.batch')
  t.equal(batch.length, 1)
  t.match(batch[0], { count: total, byType: { 1: total }, byResult: { 0: total }, bucketMs: 1 })
  const histogram = batch[0].sentHistogram as Array<[number, number]>
  t.equal(histogram.reduce((sum, [, n]) => sum + n, 0), total, 'the histogram counts every notification')
})

t.test('a small fan-out logs one line per notification, as the chaos checks read them', async (t) => {
  const { host, lines } = hostWithLog()
  const answers = watchers(host, NOTIFY_LOG_LINES_MAX)
  host.viewCommitted(view(2, ['node-3']))
  t.equal(answers.length, NOTIFY_LOG_LINES_MAX)
  t.equal(lines.filter((l) => l.event === 'witness.notify.sent').length, NOTIFY_LOG_LINES_MAX)
  t.equal(lines.filter((l) => l.event === 'witness.notify.batch').length, 0)
})

t.test('registrations past the per-window bound are counted in one witness.registered.batch line, not logged one each', async (t) => {
  const { host, lines } = hostWithLog()
  const extra = 37
  const answers = watchers(host, REGISTERED_LOG_LINES_PER_WINDOW_MAX + extra)
  t.equal(answers.length, 0, 'every AsyncNotify waits')
  t.equal(host.registrationCount(), REGISTERED_LOG_LINES_PER_WINDOW_MAX + extra, 'every registration made')
  t.equal(lines.filter((l) => l.event === 'witness.registered').length, REGISTERED_LOG_LINES_PER_WINDOW_MAX, 'the first ones named at info')
  t.equal(lines.filter((l) => l.event === 'witness.registered.batch').length, 0, 'the window is still open')
  host.stop()
  const batch = lines.filter((l) => l.event === 'witness.registered.batch')
  t.equal(batch.length, 1, 'stopping closes the window')
  t.match(batch[0], { count: extra, logged: REGISTERED_LOG_LINES_PER_WINDOW_MAX })
})
