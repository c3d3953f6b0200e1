// A node's general-use role access points: a role's listener is open exactly while the node
// serves the role's CSV, closed the moment it does not, reopened by a later sync after a bind
// that failed (the address still held), and closed for good on close().
import t from 'tap'
import pino from 'pino'
import { RoleAccessPoints } from '../../server/role-access-points.js'

function harness() {
  const opened: string[] = []
  const closed: string[] = []
  let failNext = 0
  const serving = new Set<string>()
  const points = new RoleAccessPoints({
    listen: async (address, port) => {
      if (failNext > 0) {
        failNext--
        throw new Error('listen EADDRINUSE')
      }
      const name = `${address}:${port}`
      opened.push(name)
      return { close: () => closed.push(name) }
    },
    servingCsvs: () => [...serving],
    log: pino({ level: 'silent' }),
  })
  return { points, opened, closed, serving, fail: (n: number) => (failNext = n) }
}

const settle = () => new Promise((r) => setImmediate(r))

t.test("a role's listener follows its CSV", async (t) => {
  const h = harness()
  t.same(h.points.add({ name: 'FS-1', address: '127.0.3.1', smb2Port: 4450, csv: 'csv-2' }), { ok: true })
  await settle()
  t.same(h.opened, [], 'not opened while the CSV is elsewhere')
  h.serving.add('csv-2')
  h.points.sync()
  await settle()
  t.same(h.opened, ['127.0.3.1:4450'], 'opened when this node serves the CSV')
  t.same(h.points.onlineHere(), ['FS-1'])
  h.points.sync()
  await settle()
  t.same(h.opened.length, 1, 'a sync with nothing changed opens nothing')
  h.serving.delete('csv-2')
  h.points.sync()
  t.same(h.closed, ['127.0.3.1:4450'], 'closed at once when the CSV leaves (no await)')
  t.same(h.points.onlineHere(), [])
})

t.test('a bind that fails is retried by the next sync; close() closes everything', async (t) => {
  const h = harness()
  h.serving.add('csv-1')
  h.fail(1)
  h.points.add({ name: 'FS-1', address: '127.0.3.1', smb2Port: 4450, csv: 'csv-1' })
  await settle()
  t.same(h.opened, [], 'the first bind failed')
  h.points.sync()
  await settle()
  t.same(h.opened, ['127.0.3.1:4450'], 'the next sync binds')
  h.points.close()
  t.same(h.closed, ['127.0.3.1:4450'])
  h.points.sync()
  await settle()
  t.same(h.opened.length, 1, 'nothing opens after close()')
})

t.test('a role is one name, one address, one CSV', async (t) => {
  const h = harness()
  const role = { name: 'FS-1', address: '127.0.3.1', smb2Port: 4450, csv: 'csv-1' }
  t.same(h.points.add(role), { ok: true })
  t.same(h.points.add({ ...role, name: 'fs-1' }), { ok: true }, 'a second share of the same role')
  const other = h.points.add({ ...role, address: '127.0.3.2' })
  t.ok(!other.ok && /exists with address 127\.0\.3\.1:4450/.test(other.error), 'the same name elsewhere is refused')
})
