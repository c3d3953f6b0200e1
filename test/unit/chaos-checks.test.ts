// The chaos runner's log checks on hand-made logs: a notification owed but never sent, one
// sent but never received, and a replayed write applied twice are each reported; the excuses
// (the registration ended, the witness node was down, the run was ending) are honoured.
import t from 'tap'
import { notificationViolations, type NotificationCheckInput } from '../../tools/chaos/chaos-notifications.js'
import { replayViolations } from '../../tools/chaos/chaos-replays.js'
import type { LogLine } from '../../cluster/run-logs.js'

const line = (mono: number, event: string, fields: Record<string, unknown> = {}): LogLine => ({ mono, event, ...fields })

function input(witnessLog: LogLine[], clientEvents: LogLine[], extra: Partial<NotificationCheckInput> = {}): NotificationCheckInput {
  return {
    nodeLogs: new Map([['node-2', witnessLog]]),
    clientEvents,
    nodeAddresses: new Map([
      ['node-1', ['127.0.1.1']],
      ['node-2', ['127.0.1.2']],
    ]),
    clients: new Set(['c1']),
    outages: new Map(),
    clientsStopMono: 100_000,
    graceMs: 1000,
    ...extra,
  }
}

const registered = line(1000, 'witness.registered', { registration: 'r1', client: 'c1', ip: '127.0.1.1' })
const down = line(5000, 'witness.node.changed', { changedNode: 'node-1', state: 'UNAVAILABLE' })
const sent = line(5001, 'witness.notify.sent', { registration: 'r1', client: 'c1', type: 1, result: 0 })
const got = line(5003, 'client.notified', { client: 'c1', registration: 'r1', type: 1 })
const listening = line(1001, 'client.registered', { client: 'c1', registration: 'r1' })
const movedOn = line(3000, 'client.registered', { client: 'c1', registration: 'r2' })

t.test('a notification sent and received is no violation', async (t) => {
  const r = notificationViolations(input([registered, down, sent], [listening, got]))
  t.same(r.violations, [])
  t.same(r.counts, { required: 1, sent: 1, received: 1 })
})

t.test('a failure the witness node never notified is a violation', async (t) => {
  const r = notificationViolations(input([registered, down], [listening]))
  t.equal(r.violations.length, 1)
  t.match(r.violations[0], /node-2 never told registration r1 that node-1 failed/)
})

t.test('a notification sent but never received is a violation', async (t) => {
  const r = notificationViolations(input([registered, down, sent], [listening]))
  t.equal(r.violations.length, 1)
  t.match(r.violations[0], /sent by node-2 on registration r1 never arrived/)
})

t.test('excuses: the client dropped the registration, the witness node was down, the run was ending', async (t) => {
  const unregistered = line(5200, 'witness.unregistered', { registration: 'r1', client: 'c1', reason: 'client' })
  t.same(notificationViolations(input([registered, down, unregistered], [listening])).violations, [], 'registration ended')
  t.same(
    notificationViolations(input([registered, down, sent], [listening], { outages: new Map([['node-2', [{ from: 5100, to: 7000 }]]]) })).violations,
    [],
    'witness node paused while the notification was in flight',
  )
  t.same(notificationViolations(input([registered, down], [listening], { clientsStopMono: 5500 })).violations, [], 'run ending')
  const restarted = line(5100, 'node.started')
  t.same(notificationViolations(input([registered, restarted, down], [listening])).violations, [], 'registration died with its process')
  t.same(notificationViolations(input([registered, down], [listening], { clients: new Set(['other']) })).violations, [], 'not a checked client')
  t.same(notificationViolations(input([registered, down], [listening, movedOn])).violations, [], 'a registration the client gave up')
  const otherNode = line(5000, 'witness.node.changed', { changedNode: 'node-3', state: 'UNAVAILABLE' })
  t.same(notificationViolations(input([registered, otherNode], [listening])).violations, [], 'another node failed')
})

t.test('a registration that ended long after an unsent notification does not excuse it', async (t) => {
  const lateEnd = line(20_000, 'witness.unregistered', { registration: 'r1', client: 'c1', reason: 'client' })
  t.equal(notificationViolations(input([registered, down, lateEnd], [listening])).violations.length, 1)
})

const replay = (mono: number, node: string, messageId: string, outcome: string) =>
  [node, line(mono, 'smb.write.replayed', { messageId, outcome })] as const

function logsOf(...entries: (readonly [string, LogLine])[]): Map<string, LogLine[]> {
  const m = new Map<string, LogLine[]>()
  for (const [node, l] of entries) m.set(node, [...(m.get(node) ?? []), l])
  return m
}

t.test('replays applied once, or found applied, are no violation', async (t) => {
  const r = replayViolations(logsOf(replay(1, 'node-1', 'm1', 'applied'), replay(2, 'node-2', 'm1', 'already-applied'), replay(3, 'node-2', 'm2', 'already-applied'), replay(4, 'node-2', 'm3', 'refused')))
  t.same(r.violations, [])
  t.same(r.counts, { replays: 4, applied: 1, alreadyApplied: 2, refused: 1 })
})

t.test('a replay applied twice, or applied after it was found applied, is a violation', async (t) => {
  t.match(replayViolations(logsOf(replay(1, 'node-1', 'm1', 'applied'), replay(2, 'node-2', 'm1', 'applied'))).violations, [/m1 applied 2 times/])
  t.match(replayViolations(logsOf(replay(1, 'node-1', 'm1', 'already-applied'), replay(2, 'node-2', 'm1', 'applied'))).violations, [/applied again on node-2/])
})
