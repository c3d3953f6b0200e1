// `swlab dashboard` against a real 3-node cluster, its server in-process: the state JSON is
// sane, actions need the admin credential (a missing or wrong one changes nothing), bad
// requests get 400, the server stays on loopback and answers only its own Host, the page
// loads nothing from elsewhere, the event stream delivers the state and is bounded, and a
// cluster that went down shows as such. Also the command itself: URL, serving, SIGTERM.
import t from 'tap'
import { spawn } from 'node:child_process'
import { request, type ClientRequest } from 'node:http'
import { Cluster } from '../../cluster/cluster.js'
import { DashboardServer } from '../../tools/dashboard/dashboard-server.js'
import { waitUntil } from '../../cluster/processes.js'
import type { DashboardState } from '../../tools/dashboard/dashboard-state.js'
import { CLI, swlab, upCluster } from '../helpers/cluster-fixture.js'

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(20_000, () => req.destroy(new Error(`${url}: no answer within 20 s`)))
    req.end(opts.body)
  })
}

/** The first `state` event of the stream that satisfies the predicate, parsed. */
function stateEvent(url: string, predicate: (s: DashboardState) => boolean = () => true, timeoutMs = 10_000): Promise<DashboardState> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}events`, (res) => {
      if (res.statusCode !== 200 || !/^text\/event-stream/.test(res.headers['content-type'] ?? '')) {
        return reject(new Error(`/events answered ${res.statusCode} ${res.headers['content-type']}`))
      }
      res.on('error', reject)
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const m = /^event: state\ndata: (.*)$/.exec(text.slice(0, end))
          text = text.slice(end + 2)
          const state = m ? (JSON.parse(m[1]) as DashboardState) : null
          if (state && predicate(state)) {
            req.destroy()
            return resolve(state)
          }
        }
      })
    })
    req.on('error', reject)
    const timer = setTimeout(() => req.destroy(new Error(`no such state event within ${timeoutMs} ms`)), timeoutMs)
    req.on('close', () => clearTimeout(timer))
    req.end()
  })
}

/** An open event stream (its request, to end it). */
function openStream(url: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}events`, (res) => {
      res.on('error', () => undefined)
      res.resume()
      if (res.statusCode === 200) resolve(req)
      else reject(new Error(`/events answered ${res.statusCode}`))
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('dashboard server on a real cluster', async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.98' })
  const credentials = cluster.credentials()!
  const dashboard = await DashboardServer.start({ cluster: Cluster.open(cluster.dir), port: 0 })
  t.teardown(() => dashboard.close().catch(() => undefined))
  const { url } = dashboard
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/)

  const stateReply = await call(`${url}api/state`)
  t.equal(stateReply.status, 200)
  t.match(stateReply.headers['content-type'], /^application\/json/)
  const state = JSON.parse(stateReply.body) as DashboardState
  t.equal(state.ok, true)
  t.equal(state.quorum, true)
  t.ok(['node-1', 'node-2', 'node-3'].includes(state.leader), `a leader (${state.leader})`)
  t.same(
    state.nodes.map((n) => [n.id, n.process, n.state, n.serving]),
    ['node-1', 'node-2', 'node-3'].map((id) => [id, 'running', 'up', true]),
  )
  t.same(
    state.nodes.map((n) => n.address),
    ['127.0.98.1', '127.0.98.2', '127.0.98.3'],
  )
  t.same(
    state.csvs.map((c) => c.servedBy.length),
    [1, 1, 1],
    'every CSV served by one node',
  )
  t.ok(state.events.length > 0 && state.events.length <= 40, `recent events (${state.events.length})`)
  t.ok(
    state.events.every((e, i) => i === 0 || e.atMs <= state.events[i - 1].atMs),
    'newest first',
  )
  t.ok(
    // The storage array's events (registrations, reservations, preemptions) are the cluster's too.
    state.events.every((e) => ['node-1', 'node-2', 'node-3', 'array'].includes(e.source) && e.atMs >= 0),
    'from the nodes and the storage array, after the start of the run',
  )

  const before = await cluster.status()
  const action = (headers: Record<string, string>, body: string) => call(`${url}api/action`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const admin = { 'x-swlab-user': credentials.admin.user, 'x-swlab-password': credentials.admin.password }
  const kill = JSON.stringify({ action: 'kill', node: 'node-2' })

  for (const [what, headers] of [
    ['no credential', {}],
    ['a wrong password', { ...admin, 'x-swlab-password': `${credentials.admin.password}x` }],
    ['a user credential', { 'x-swlab-user': credentials.users[0].user, 'x-swlab-password': credentials.users[0].password }],
    ['no user', { 'x-swlab-password': credentials.admin.password }],
  ] as const) {
    const r = await action(headers, kill)
    t.equal(r.status, 401, `${what}: 401`)
    t.match(JSON.parse(r.body), { ok: false, error: /credential/ })
  }
  for (const [what, body, error] of [
    ['an unknown action', JSON.stringify({ action: 'reboot', node: 'node-2' }), /unknown action/],
    ['an unknown node', JSON.stringify({ action: 'kill', node: 'node-9' }), /unknown node/],
    ['an unknown client', JSON.stringify({ action: 'client-move', client: 'nobody', to: 'node-1' }), /unknown client/],
    ['bad JSON', '{"action": "kill", ', /bad JSON/],
    ['an oversize body', JSON.stringify({ action: 'kill', node: 'node-2', pad: 'x'.repeat(20_000) }), /larger than 16384 bytes/],
  ] as const) {
    const r = await action(admin, body)
    t.equal(r.status, 400, `${what}: 400`)
    t.match(JSON.parse(r.body), { ok: false, error })
  }
  const foreign = await action({ ...admin, origin: 'http://evil.example' }, kill)
  t.equal(foreign.status, 403, 'an action from another origin is refused')
  const rebound = await call(`${url}api/state`, { headers: { host: `evil.example:${new URL(url).port}` } })
  t.equal(rebound.status, 403, 'a foreign Host header is refused (DNS rebinding)')

  const after = await cluster.status()
  t.same(
    after.nodes.map((n) => [n.id, n.process, n.pid, n.state, n.partitionedFrom]),
    before.nodes.map((n) => [n.id, n.process, n.pid, n.state, n.partitionedFrom]),
    'nothing changed: every node runs as before, no partition',
  )

  const healed = await action(admin, JSON.stringify({ action: 'heal' }))
  t.equal(healed.status, 200, 'an admin action with the credential is taken')
  t.match(JSON.parse(healed.body), { ok: true, action: 'heal', applied: 'self-applied' })
  const notRunning = await action(admin, JSON.stringify({ action: 'resume', node: 'node-2' }))
  t.equal(notRunning.status, 200, 'resume of a running node is harmless')

  const page = await call(url)
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.headers['content-security-policy'], /default-src 'none'/)
  t.notMatch(page.body, /\b(src|href)\s*=|https?:\/\/|@import|url\(/i, 'no external resource in the page')
  t.notMatch(page.body, credentials.admin.password, 'the password is not in the page')
  t.match(page.body, `value="${credentials.admin.user}"`, 'the admin user is prefilled')
  t.match(page.body, /new EventSource\('\/events'\)/)

  const streamed = await stateEvent(url)
  t.equal(streamed.nodes.length, 3, 'the event stream delivers the state')
  t.equal(streamed.quorum, true)
  t.equal((await call(`${url}nope`)).status, 404)
  t.equal((await call(`${url}api/action`)).status, 405)

  // Event streams are bounded, and a closed one is forgotten.
  const small = await DashboardServer.start({ cluster: Cluster.open(cluster.dir), sseClientsMax: 1 })
  t.teardown(() => small.close().catch(() => undefined))
  const only = await openStream(small.url)
  t.equal(small.streamCount, 1)
  const refused = await call(`${small.url}events`)
  t.equal(refused.status, 503, 'a stream beyond the bound gets 503')
  t.match(JSON.parse(refused.body), { ok: false, error: /too many event streams/ })
  only.destroy()
  t.ok(await waitUntil(() => small.streamCount === 0, 5_000), 'the closed stream is forgotten')
  t.equal((await openStream(small.url).then((r) => (r.destroy(), 200))), 200, 'and its place is free again')
  await small.close()

  // The command line: prints the URL as JSON, serves, and stops cleanly on SIGTERM.
  const cli = spawn(process.execPath, [CLI, 'dashboard', '--dir', cluster.dir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (cli.exitCode === null) cli.kill('SIGKILL')
  })
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)))
  let printed = ''
  cli.stdout.setEncoding('utf8')
  const cliUrl = await new Promise<string>((resolve, reject) => {
    cli.stdout.on('data', (chunk: string) => {
      printed += chunk
      try {
        resolve((JSON.parse(printed) as { url: string }).url)
      } catch {
        // Not the whole object yet.
      }
    })
    void exited.then((code) => reject(new Error(`swlab dashboard exited with ${code} before printing its URL`)))
  })
  t.match(cliUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/, `swlab dashboard --json prints the URL (${cliUrl})`)
  t.equal(JSON.parse((await call(`${cliUrl}api/state`)).body).nodes.length, 3, 'and serves the state')
  cli.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM stops it with exit code 0')
  const refusedCli = swlab(['dashboard', '--dir', cluster.dir, '--address', '0.0.0.0'])
  t.equal(refusedCli.code, 1)
  t.match(refusedCli.stderr, /^swlab: error: --address must be a loopback address .*\n$/, 'a non-loopback address is one line on stderr')

  // A cluster that is down shows as such, and the server goes on answering.
  await cluster.down()
  const down = await stateEvent(url, (s) => s.nodes.every((n) => n.process === 'dead'))
  t.same(
    down.nodes.map((n) => [n.process, n.state, n.serving]),
    [0, 1, 2].map(() => ['dead', 'down', false]),
    'every node shows dead',
  )
  t.equal(down.quorum, false)
  t.equal(down.leader, '')
})

t.test('the dashboard refuses a non-loopback address', async (t) => {
  const dir = t.testdir({ 'cluster.json': '{}' })
  const fake = { dir, config: { nodes: [] }, closeAdmins() {} } as unknown as Cluster
  for (const address of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
    await t.rejects(DashboardServer.start({ cluster: fake, address }), /--address must be a loopback address/, address)
  }
})
