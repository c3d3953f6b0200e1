import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { CloudWitnessClient, leaseIdForNode, probeCloudWitness } from '../../cluster/witness/cloud-witness-client.js'
import { decideLease, parseLeaseDuration } from '../../cluster/witness/cloud-witness-lease.js'
import { startCloudWitnessServer, type CloudWitnessServer } from '../../cluster/witness/cloud-witness-server.js'

async function serverFor(t: Test, clock?: () => number): Promise<CloudWitnessServer> {
  const server = await startCloudWitnessServer({ host: '127.0.0.1', port: 0, clock })
  t.teardown(() => server.close())
  return server
}

function clientFor(t: Test, server: CloudWitnessServer, blob = 'cluster-a'): CloudWitnessClient {
  const client = new CloudWitnessClient({ url: server.url, blob, timeoutMs: 2000 })
  t.teardown(() => client.close())
  return client
}

function leasePut(server: CloudWitnessServer, headers: Record<string, string>, blob = 'cluster-a'): Promise<Response> {
  return fetch(`${server.url}/msft-cloud-witness/${blob}?comp=lease`, { method: 'PUT', headers })
}

t.test('listens on 127.0.0.1 and answers its health check', async (t) => {
  const server = await serverFor(t)
  t.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.ok(server.port > 0)
  const response = await fetch(`${server.url}/health`)
  t.equal(response.status, 200)
  t.same(await response.json(), { status: 'ok' })
  t.same(await probeCloudWitness(server.url, 1000), { ok: true })
})

t.test('two nodes contend: one holds, the other is refused with the holder named', async (t) => {
  const server = await serverFor(t)
  const a = clientFor(t, server)
  const b = clientFor(t, server)

  t.same(await a.read(), null, 'never held')
  t.same(await a.acquire('n1', 5000, 1), { granted: true, holder: 'n1' })
  t.same(await b.acquire('n2', 5000, 2), { granted: false, holder: 'n1' })
  t.same(await a.acquire('n1', 5000, 3), { granted: true, holder: 'n1' }, 'holder renews')
  const read = await b.read()
  t.match(read, { holder: 'n1', term: 3 })

  const other = clientFor(t, server, 'cluster-b')
  t.same(await other.acquire('n2', 5000, 1), { granted: true, holder: 'n2' }, 'blobs are independent')
})

t.test('expiry with an injected clock hands the lease over', async (t) => {
  let nowMs = 1_000_000
  const server = await serverFor(t, () => nowMs)
  const a = clientFor(t, server)
  const b = clientFor(t, server)

  t.same(await a.acquire('n1', 1000, 1), { granted: true, holder: 'n1' })
  t.same(await a.read(), { holder: 'n1', term: 1, expiresAtMs: 1_001_000 })
  nowMs += 999
  t.same(await b.acquire('n2', 1000, 2), { granted: false, holder: 'n1' }, 'still valid 1 ms before expiry')
  nowMs += 1
  t.same(await b.acquire('n2', 1000, 2), { granted: true, holder: 'n2' }, 'free at the expiry')
  t.same(await a.acquire('n1', 1000, 1), { granted: false, holder: 'n2' }, 'the old holder cannot renew')
  t.same(await a.read(), { holder: 'n2', term: 2, expiresAtMs: 1_002_000 })

  // An expired lease that nobody took can still be renewed by its holder, as in Azure.
  nowMs += 5000
  t.same(await b.acquire('n2', 1000, 2), { granted: true, holder: 'n2' })
})

t.test('renew with the wrong lease id is 409 LeaseIdMismatchWithLeaseOperation', async (t) => {
  const server = await serverFor(t)
  t.same(await clientFor(t, server).acquire('n1', 5000, 1), { granted: true, holder: 'n1' })

  const mismatch = await leasePut(server, {
    'x-ms-lease-action': 'renew',
    'x-ms-lease-id': leaseIdForNode('n2'),
    'x-swlab-lease-duration-ms': '1000',
  })
  t.equal(mismatch.status, 409)
  t.equal(mismatch.headers.get('x-ms-error-code'), 'LeaseIdMismatchWithLeaseOperation')
  t.equal(mismatch.headers.get('x-swlab-lease-holder'), 'n1')
  t.match(await mismatch.text(), /<Code>LeaseIdMismatchWithLeaseOperation<\/Code>/)

  const acquire = await leasePut(server, {
    'x-ms-lease-action': 'acquire',
    'x-ms-proposed-lease-id': leaseIdForNode('n2'),
    'x-ms-lease-duration': '15',
  })
  t.equal(acquire.status, 409)
  t.equal(acquire.headers.get('x-ms-error-code'), 'LeaseAlreadyPresent')
  t.equal(acquire.headers.get('x-swlab-lease-holder'), 'n1')
  await acquire.arrayBuffer()

  const noLease = await leasePut(server, { 'x-ms-lease-action': 'renew', 'x-ms-lease-id': 'x' }, 'never-leased')
  t.equal(noLease.status, 409)
  t.equal(noLease.headers.get('x-ms-error-code'), 'LeaseNotPresentWithLeaseOperation')
  t.equal(noLease.headers.get('x-swlab-lease-holder'), '', 'the holder header is present even when empty')
  await noLease.arrayBuffer()
})

t.test('release frees the lease at once', async (t) => {
  const server = await serverFor(t)
  const a = clientFor(t, server)
  const b = clientFor(t, server)
  t.same(await a.acquire('n1', 60_000, 1), { granted: true, holder: 'n1' })
  t.same(await b.release('n2'), { released: false }, 'a non-holder cannot release')
  t.same(await a.release('n1'), { released: true })
  t.same(await b.acquire('n2', 60_000, 2), { granted: true, holder: 'n2' })
  t.same(await a.acquire('n1', 60_000, 1), { granted: false, holder: 'n2' })
})

t.test('bad requests: 400 for a missing or unknown action, 404 for unknown paths', async (t) => {
  const server = await serverFor(t)

  const missing = await leasePut(server, {})
  t.equal(missing.status, 400)
  t.equal(missing.headers.get('x-ms-error-code'), 'MissingRequiredHeader')
  await missing.arrayBuffer()

  const unknown = await leasePut(server, { 'x-ms-lease-action': 'break' })
  t.equal(unknown.status, 400)
  t.equal(unknown.headers.get('x-ms-error-code'), 'InvalidHeaderValue')
  await unknown.arrayBuffer()

  const badDuration = await leasePut(server, {
    'x-ms-lease-action': 'acquire',
    'x-ms-proposed-lease-id': 'p',
    'x-ms-lease-duration': '5',
  })
  t.equal(badDuration.status, 400, 'Azure refuses leases shorter than 15 s')
  await badDuration.arrayBuffer()

  for (const path of ['/nope', '/a/b/c', '/', '/msft-cloud-witness/']) {
    const response = await fetch(`${server.url}${path}?comp=lease`, { method: 'PUT' })
    t.equal(response.status, 404, `${path} is unknown`)
    await response.arrayBuffer()
  }

  const unsupported = await fetch(`${server.url}/msft-cloud-witness/cluster-a?comp=metadata`)
  t.equal(unsupported.status, 400)
  await unsupported.arrayBuffer()

  const wrongMethod = await fetch(`${server.url}/msft-cloud-witness/cluster-a?comp=lease`, { method: 'DELETE' })
  t.equal(wrongMethod.status, 405)
  await wrongMethod.arrayBuffer()

  const head = await fetch(`${server.url}/msft-cloud-witness/cluster-a`, { method: 'HEAD' })
  t.equal(head.status, 200, 'HEAD on the blob reads its lease properties')
  t.equal(head.headers.get('x-ms-lease-state'), 'available')
})

t.test('close refuses later connections, and a client then gets an error result', async (t) => {
  const server = await startCloudWitnessServer()
  const client = new CloudWitnessClient({ url: server.url, blob: 'cluster-a', timeoutMs: 1000 })
  t.same(await client.acquire('n1', 1000, 1), { granted: true, holder: 'n1' })
  await server.close()
  await server.close()
  const result = await client.acquire('n1', 1000, 1)
  t.match(result, { granted: false, holder: '', error: /ECONNREFUSED|ECONNRESET|socket|closed/ })
  t.match(await probeCloudWitness(server.url, 500), { ok: false, error: /unreachable/ })
  await client.close()
})

t.test('the lease state machine on its own', async (t) => {
  const acquire = { action: 'acquire', proposedLeaseId: 'L1', durationMs: 1000, holder: 'n1', term: 1 } as const
  const first = decideLease(undefined, acquire, 0)
  t.match(first.outcome, { ok: true, status: 201 })
  t.match(first.next, { leaseId: 'L1', holder: 'n1', expiresAtMs: 1000, released: false })
  t.match(decideLease(first.next, { ...acquire, proposedLeaseId: 'L2', holder: 'n2' }, 999).outcome, {
    ok: false,
    status: 409,
    code: 'LeaseAlreadyPresent',
    holder: 'n1',
  })
  t.match(decideLease(first.next, { ...acquire, proposedLeaseId: 'L2', holder: 'n2' }, 1000).outcome, { ok: true })
  t.match(decideLease(first.next, { ...acquire, durationMs: 5000 }, 500), {
    outcome: { ok: true },
    next: { expiresAtMs: 5500 },
  })
  t.match(decideLease(first.next, { action: 'renew', leaseId: 'L1', holder: 'n1', term: 2 }, 500).next, {
    expiresAtMs: 1500,
    term: 2,
  }, 'renew without a duration keeps the last one')

  t.equal(parseLeaseDuration('250', '-1'), 250, 'the ms header wins')
  t.equal(parseLeaseDuration(undefined, '-1'), Number.POSITIVE_INFINITY)
  t.equal(parseLeaseDuration(undefined, '30'), 30_000)
  t.equal(parseLeaseDuration(undefined, undefined), undefined)
  t.match(parseLeaseDuration('0', undefined), { error: /positive/ })
  t.match(parseLeaseDuration(undefined, '61'), { error: /15\.\.60/ })
})

t.test('cloud-witness-main prints where it listens and exits cleanly on SIGTERM', async (t) => {
  const mainPath = fileURLToPath(new URL('../../cluster/witness/cloud-witness-main.ts', import.meta.url))
  const child = spawn(process.execPath, [...process.execArgv, mainPath, '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  t.teardown(() => clearTimeout(timer))
  const [line] = (await once(lines, 'line')) as [string]
  const announced = JSON.parse(line) as { event: string; url: string; port: number; pid: number }
  t.match(announced, { event: 'cloud-witness.listening', pid: child.pid })
  t.equal(announced.url, `http://127.0.0.1:${announced.port}`)
  t.same(await probeCloudWitness(announced.url, 2000), { ok: true })

  child.kill('SIGTERM')
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null]
  t.equal(code, 0, 'exit code 0')
  t.equal(signal, null)
})

t.test('cloud-witness-main refuses a bad port with exit code 2', async (t) => {
  const mainPath = fileURLToPath(new URL('../../cluster/witness/cloud-witness-main.ts', import.meta.url))
  const child = spawn(process.execPath, [...process.execArgv, mainPath, '--port', '70000'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 2)
  t.match(stderr, /invalid --port '70000'/)
})
