import t from 'tap'
import nock from 'nock'
import { performance } from 'node:perf_hooks'
import { CloudWitnessClient, leaseIdForNode, probeCloudWitness } from '../../cluster/witness/cloud-witness-client.js'

// Fully mocked: no request may leave the process, not even to 127.0.0.1.
const BASE_URL = 'http://witness.test:10000'
const LEASE_PATH = '/msft-cloud-witness/cluster-a'
const LEASE_QUERY = { comp: 'lease' }

nock.disableNetConnect()
t.teardown(() => {
  nock.cleanAll()
  nock.enableNetConnect()
})
t.afterEach(() => {
  nock.cleanAll()
})

function client(timeoutMs = 500): CloudWitnessClient {
  return new CloudWitnessClient({ url: `${BASE_URL}/`, blob: 'cluster-a', timeoutMs })
}

t.test('lease ids are stable, UUID-shaped and distinct per node', async (t) => {
  t.equal(leaseIdForNode('n1'), leaseIdForNode('n1'))
  t.not(leaseIdForNode('n1'), leaseIdForNode('n2'))
  t.match(leaseIdForNode('n1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
})

t.test('201 with a lease id is a grant; the next call renews with that id', async (t) => {
  const leaseId = leaseIdForNode('n1')
  const acquire = nock(BASE_URL, {
    reqheaders: {
      'x-ms-lease-action': 'acquire',
      'x-ms-proposed-lease-id': leaseId,
      'x-ms-lease-duration': '-1',
      'x-swlab-lease-duration-ms': '1000',
      'x-swlab-holder': 'n1',
      'x-swlab-term': '7',
    },
    badheaders: ['x-ms-lease-id'],
  })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(201, '', { 'x-ms-lease-id': leaseId })
  const renew = nock(BASE_URL, {
    reqheaders: {
      'x-ms-lease-action': 'renew',
      'x-ms-lease-id': leaseId,
      'x-swlab-lease-duration-ms': '1000',
      'x-swlab-holder': 'n1',
      'x-swlab-term': '8',
    },
    badheaders: ['x-ms-proposed-lease-id'],
  })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(200, '', { 'x-ms-lease-id': leaseId })

  const witness = client()
  t.equal(witness.kind, 'cloud')
  t.same(await witness.acquire('n1', 1000, 7), { granted: true, holder: 'n1' })
  t.same(await witness.acquire('n1', 1000, 8), { granted: true, holder: 'n1' })
  t.ok(acquire.isDone(), 'acquire sent')
  t.ok(renew.isDone(), 'renew sent')
})

t.test('a renew that finds no lease falls back to acquire in the same call', async (t) => {
  const leaseId = leaseIdForNode('n1')
  const scope = nock(BASE_URL)
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(201, '', { 'x-ms-lease-id': leaseId })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .matchHeader('x-ms-lease-action', 'renew')
    .reply(409, '<?xml version="1.0"?><Error><Code>LeaseNotPresentWithLeaseOperation</Code></Error>', {
      'x-swlab-lease-holder': '',
    })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .matchHeader('x-ms-lease-action', 'acquire')
    .reply(201, '', { 'x-ms-lease-id': leaseId })

  const witness = client()
  t.same(await witness.acquire('n1', 1000, 1), { granted: true, holder: 'n1' })
  t.same(await witness.acquire('n1', 1000, 1), { granted: true, holder: 'n1' })
  t.ok(scope.isDone())
})

t.test('409 is a refusal naming the holder from x-swlab-lease-holder', async (t) => {
  const scope = nock(BASE_URL, { reqheaders: { 'x-ms-lease-action': 'acquire', 'x-swlab-holder': 'n1' } })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(409, '<?xml version="1.0" encoding="utf-8"?><Error><Code>LeaseAlreadyPresent</Code></Error>', {
      'x-ms-error-code': 'LeaseAlreadyPresent',
      'x-swlab-lease-holder': 'n2',
    })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(409, '', { 'x-ms-error-code': 'LeaseAlreadyPresent' })

  const witness = client()
  t.same(await witness.acquire('n1', 1000, 1), { granted: false, holder: 'n2' })
  t.same(await witness.acquire('n1', 1000, 1), { granted: false, holder: '' }, 'holder unknown without the header')
  t.ok(scope.isDone())
})

t.test('a renew refused for a lease id mismatch falls back to acquire in the same call', async (t) => {
  const leaseId = leaseIdForNode('n1')
  const scope = nock(BASE_URL)
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(201, '', { 'x-ms-lease-id': leaseId })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .matchHeader('x-ms-lease-action', 'renew')
    .reply(409, '', { 'x-ms-error-code': 'LeaseIdMismatchWithLeaseOperation', 'x-swlab-lease-holder': 'n2' })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .matchHeader('x-ms-lease-action', 'acquire')
    .reply(409, '', { 'x-ms-error-code': 'LeaseAlreadyPresent', 'x-swlab-lease-holder': 'n2' })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .matchHeader('x-ms-lease-action', 'acquire')
    .reply(409, '', { 'x-ms-error-code': 'LeaseAlreadyPresent', 'x-swlab-lease-holder': 'n2' })

  const witness = client()
  t.same(await witness.acquire('n1', 1000, 1), { granted: true, holder: 'n1' })
  t.same(await witness.acquire('n1', 1000, 1), { granted: false, holder: 'n2' })
  t.same(await witness.acquire('n1', 1000, 1), { granted: false, holder: 'n2' })
  t.ok(scope.isDone())
})

t.test('412 is a refusal without an error', async (t) => {
  const scope = nock(BASE_URL)
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(412, '', { 'x-ms-error-code': 'ConditionNotMet', 'x-swlab-lease-holder': 'n3' })
  t.same(await client().acquire('n1', 1000, 1), { granted: false, holder: 'n3' })
  t.ok(scope.isDone())
})

t.test('5xx answers are error results', async (t) => {
  const scope = nock(BASE_URL)
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(500, '<?xml version="1.0"?><Error><Code>InternalError</Code></Error>')
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(503, '', { 'x-ms-error-code': 'ServerBusy' })

  const witness = client()
  const internal = await witness.acquire('n1', 1000, 1)
  t.match(internal, { granted: false, holder: '', error: /HTTP 500 InternalError/ })
  const busy = await witness.acquire('n1', 1000, 1)
  t.match(busy, { granted: false, holder: '', error: /HTTP 503 ServerBusy/ })
  t.notMatch(busy.error ?? '', /\n/, 'one line')
  t.ok(scope.isDone())
})

t.test('a grant without a lease id is a protocol error', async (t) => {
  const scope = nock(BASE_URL).put(LEASE_PATH).query(LEASE_QUERY).reply(201)
  t.match(await client().acquire('n1', 1000, 1), { granted: false, error: /without x-ms-lease-id/ })
  t.ok(scope.isDone())
})

t.test('a slow answer times out into an error result', async (t) => {
  nock(BASE_URL).put(LEASE_PATH).query(LEASE_QUERY).delay(300).reply(201, '', { 'x-ms-lease-id': 'late' })
  const startMs = performance.now()
  const result = await client(100).acquire('n1', 1000, 1)
  const elapsedMs = performance.now() - startMs
  t.match(result, { granted: false, holder: '', error: /timeout/ })
  t.match(result.error, /100 ms/)
  t.ok(elapsedMs < 290, `gave up after ${Math.round(elapsedMs)} ms`)
})

t.test('a refused connection is an error result with its code', async (t) => {
  const scope = nock(BASE_URL).put(LEASE_PATH).query(LEASE_QUERY).replyWithError({ code: 'ECONNREFUSED' })
  const result = await client().acquire('n1', 1000, 1)
  t.match(result, { granted: false, holder: '', error: /ECONNREFUSED/ })
  t.notMatch(result.error ?? '', /\n/, 'one line')
  t.ok(scope.isDone())
})

t.test('bad arguments and a closed client give error results without a request', async (t) => {
  const witness = client()
  t.match(await witness.acquire('', 1000, 1), { granted: false, error: /nodeId/ })
  t.match(await witness.acquire('n1', -5, 1), { granted: false, error: /durationMs/ })
  await witness.close()
  t.match(await witness.acquire('n1', 1000, 1), { granted: false, error: /closed/ })
  t.match(await witness.read(), { error: /closed/ })
  t.match(await witness.release('n1'), { released: false, error: /closed/ })
})

t.test('read reports holder and expiry, null when never held, an error on 5xx', async (t) => {
  const scope = nock(BASE_URL)
    .get(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(200, '{}', {
      'x-swlab-lease-holder': 'n2',
      'x-swlab-lease-expires-ms': '1700000000123',
      'x-swlab-lease-term': '5',
    })
    .get(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(200, '{"lease":null}', { 'x-ms-lease-state': 'available' })
    .get(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(503, '', { 'x-ms-error-code': 'ServerBusy' })
    .get(LEASE_PATH)
    .query(LEASE_QUERY)
    .replyWithError({ code: 'ECONNRESET' })

  const witness = client()
  t.same(await witness.read(), { holder: 'n2', term: 5, expiresAtMs: 1700000000123 })
  t.equal(await witness.read(), null)
  t.match(await witness.read(), { error: /HTTP 503 ServerBusy/ })
  t.match(await witness.read(), { error: /ECONNRESET/ })
  t.ok(scope.isDone())
})

t.test('release presents the lease id', async (t) => {
  const scope = nock(BASE_URL, {
    reqheaders: { 'x-ms-lease-action': 'release', 'x-ms-lease-id': leaseIdForNode('n1') },
  })
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(200)
    .put(LEASE_PATH)
    .query(LEASE_QUERY)
    .reply(409, '', { 'x-ms-error-code': 'LeaseIdMismatchWithLeaseOperation' })
  const witness = client()
  t.same(await witness.release('n1'), { released: true })
  t.same(await witness.release('n1'), { released: false })
  t.ok(scope.isDone())
})

t.test('probeCloudWitness', async (t) => {
  nock(BASE_URL).get('/health').reply(200, '{"status":"ok"}')
  t.same(await probeCloudWitness(BASE_URL, 200), { ok: true })

  nock(BASE_URL).get('/health').reply(503)
  t.match(await probeCloudWitness(BASE_URL, 200), { ok: false, error: /HTTP 503/ })

  nock(BASE_URL).get('/health').replyWithError({ code: 'ECONNREFUSED' })
  t.match(await probeCloudWitness(BASE_URL, 200), { ok: false, error: /witness\.test:10000 unreachable: ECONNREFUSED/ })

  nock(BASE_URL).get('/health').delay(300).reply(200)
  t.match(await probeCloudWitness(BASE_URL, 100), { ok: false, error: /timeout/ })

  t.match(await probeCloudWitness('not a url', 100), { ok: false, error: /URL is invalid: 'not a url'/ })
})
