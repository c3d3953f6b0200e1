// The host control API's contract without a cluster: params checked before the host sees
// them, unknown methods and malformed bodies refused in one line, and the client's deadline
// and connection errors as one-line HostControlErrors naming the host. Also the CLI's sizes.
import t from 'tap'
import { createServer, request, type Server } from 'node:http'
import { pino } from 'pino'
import { HostControlClient, HostControlError } from '../../client/hyperv/host-control-client.js'
import { createHostControlServer } from '../../client/hyperv/host-control-server.js'
import { HyperVHost } from '../../client/hyperv/hyperv-host.js'
import { parseByteSize } from '../../cli/byte-size.js'

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

function post(port: number, path: string, body: string, method = 'POST'): Promise<{ status: number; body: { ok: boolean; error?: string } }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

t.test('control API: good calls, bad params, unknown methods, malformed bodies', async (t) => {
  // No VM is started, so the host never connects to a cluster.
  const host = new HyperVHost({ name: 'host-u', os: '2019', resolve: () => [], netName: 'SOFS', credential: { user: 'u', password: 'p' } })
  let shutdowns = 0
  const server = createHostControlServer({ host, log: pino({ level: 'silent' }), info: () => ({ pid: 1, port: 2, startedAtMs: 3 }), onShutdown: () => shutdowns++ })
  const port = await listen(server)
  t.teardown(() => server.close())
  const client = new HostControlClient({ name: 'host-u', port }, { timeoutMs: 5000 })

  t.match(await client.info(), { name: 'host-u', os: '2019', vms: 0, pid: 1 })
  t.same(await client.list(), [])
  await t.rejects(client.vmInfo('vm9'), new HostControlError('no VM vm9 runs on host host-u'))
  await t.rejects(client.call('createVm', { name: 'vm1', configVersion: 9, diskBytes: 65536 }), /params\.share must be a non-empty string/)
  await t.rejects(client.call('writeGuest', { name: 'vm1', disk: 'disk0', offset: -1, data: 'AA==' }), /params\.offset must be a non-negative integer/)
  await t.rejects(client.call('reboot', {}), /unknown method "reboot" \(methods: info, createVm/)
  await t.rejects(client.call('readGuest', { name: 'vm1', disk: 'disk0', offset: 0, length: 64 * 1024 * 1024 }), /readGuest: length must be 1\.\./)

  const malformed = await post(port, '/rpc', '{not json')
  t.equal(malformed.body.ok, false)
  t.match(malformed.body.error, /^malformed JSON/)
  const wrongPath = await post(port, '/', '{}', 'GET')
  t.equal(wrongPath.status, 404)
  t.match(wrongPath.body.error, /use POST \/rpc/)

  await client.shutdown()
  for (const deadline = Date.now() + 5_000; shutdowns === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5))
  t.equal(shutdowns, 1, 'shutdown is handed to the process once answered')
})

t.test('control client: deadline and refused connection are one line naming the host', async (t) => {
  const silent = createServer(() => undefined)
  const port = await listen(silent)
  t.teardown(() => {
    silent.closeAllConnections()
    silent.close()
  })
  await t.rejects(new HostControlClient({ name: 'host-s', port }, { timeoutMs: 200 }).info(), new HostControlError(`host host-s (127.0.0.1:${port}) did not answer info within 200 ms`))
  const closed = createServer()
  const closedPort = await listen(closed)
  await new Promise((r) => closed.close(r))
  await t.rejects(new HostControlClient({ name: 'host-c', port: closedPort }).info(), /host host-c \(127\.0\.0\.1:\d+\) did not answer info: ECONNREFUSED/)
})

t.test('byte sizes on the command line', async (t) => {
  t.equal(parseByteSize('--x', '4096'), 4096)
  t.equal(parseByteSize('--x', '4KiB'), 4096)
  t.equal(parseByteSize('--x', '64MiB'), 64 * 1024 * 1024)
  t.equal(parseByteSize('--x', '1GiB'), 1024 ** 3)
  t.equal(parseByteSize('--x', '1.5KiB'), 1536)
  t.throws(() => parseByteSize('--x', '1.3'), /--x must be a whole number of bytes/)
  t.throws(() => parseByteSize('--x', '-1'), /--x must be a whole number/)
  t.throws(() => parseByteSize('--x', '8 parsecs'), /got "8 parsecs"/)
})
