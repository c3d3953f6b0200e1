// Fuzzes a running node's witness service with 10,000+ random and mutated requests, typed
// and raw bytes, then checks the node still answers correctly and nothing crashed.
import t from 'tap'
import * as grpc from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { join } from 'node:path'
import { WitnessClient } from '../../client/witness-client.js'
import { credentialMetadata } from '../../cluster/credentials.js'
import { Prng } from '../../core/sim/prng.js'
import { PROTO_DIR } from '../../proto/loader.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const METHODS = ['GetInterfaceList', 'Register', 'UnRegister', 'AsyncNotify', 'RegisterEx', 'UnRegisterEx'] as const
const REQUEST_TYPES: Record<string, string> = {
  GetInterfaceList: 'GetInterfaceListRequest',
  Register: 'RegisterRequest',
  UnRegister: 'UnRegisterRequest',
  AsyncNotify: 'AsyncNotifyRequest',
  RegisterEx: 'RegisterExRequest',
  UnRegisterEx: 'UnRegisterRequest',
}

function randomString(rng: Prng): string | undefined {
  switch (rng.int(0, 9)) {
    case 0:
      return undefined
    case 1:
      return ''
    case 2:
      return 'SOFS'
    case 3:
      return '127.0.1.1'
    case 4:
      return 'x'.repeat(rng.int(200, 2000))
    case 5:
      return String.fromCharCode(...Array.from({ length: rng.int(1, 40) }, () => rng.int(0, 0xffff)))
    case 6:
      return `${rng.int(0, 300)}.${rng.int(0, 300)}.${rng.int(0, 300)}.${rng.int(0, 300)}`
    case 7:
      return 'share-1'
    case 8:
      return '\ud800\u0000'
    default:
      return Math.random().toString(36)
  }
}

function randomRequest(rng: Prng): Record<string, unknown> {
  const u32 = () => (rng.chance(0.5) ? rng.pick([0, 1, 0x00010001, 0x00020000, 0xffffffff]) : rng.int(0, 0xffffffff))
  const request: Record<string, unknown> = {
    version: u32(),
    flags: u32(),
    keepAliveTimeout: rng.chance(0.9) ? rng.int(0, 3) : u32(),
    contextHandle: rng.chance(0.8) ? { attributes: u32(), uuid: randomString(rng) ?? '' } : null,
  }
  for (const key of ['netName', 'shareName', 'ipAddress', 'clientComputerName']) {
    const value = randomString(rng)
    if (value !== undefined) request[key] = value
  }
  return request
}

t.test('10,000+ random and mutated witness requests leave the node answering correctly', async (t) => {
  const cluster = await upCluster(t, { nodes: 3 })
  const creds = cluster.credentials()!
  const node = cluster.nodeConfig('node-2')
  const target = `${node.clientAddress}:${node.witnessPort}`
  const root = protobuf.loadSync(join(PROTO_DIR, 'witness.proto'))
  const rng = new Prng(Number(process.env.SEED ?? 4242))
  const metadata = credentialMetadata(creds.users[0])
  // A raw client: identity serializers let arbitrary bytes reach the server's decoder.
  const Raw = grpc.makeGenericClientConstructor(
    Object.fromEntries(
      METHODS.map((m) => [
        m,
        {
          path: `/swlab.witness.v1.Witness/${m}`,
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (b: Buffer) => b,
          responseDeserialize: (b: Buffer) => b,
        },
      ]),
    ),
    'Witness',
  )
  const raw = new Raw(target, grpc.credentials.createInsecure()) as unknown as Record<string, Function>
  t.teardown(() => (raw as unknown as grpc.Client).close())
  const total = Number(process.env.FUZZ_REQUESTS ?? 10_000)
  const inFlightMax = 64
  const outcomes = new Map<string, number>()
  let sent = 0
  const one = (): Promise<void> => {
    const method = rng.pick(METHODS)
    const type = root.lookupType(`swlab.witness.v1.${REQUEST_TYPES[method]}`)
    let bytes: Buffer
    const request = randomRequest(rng)
    try {
      bytes = Buffer.from(type.encode(type.fromObject(request)).finish())
    } catch {
      bytes = Buffer.alloc(0)
    }
    if (rng.chance(0.5)) {
      // Mutate: flip, cut, extend or replace bytes.
      const mutated = Buffer.from(bytes)
      for (let i = 0; i < rng.int(1, 4) && mutated.length > 0; i++) mutated[rng.int(0, mutated.length - 1)] = rng.int(0, 255)
      bytes = rng.chance(0.2) ? Buffer.from(Array.from({ length: rng.int(0, 64) }, () => rng.int(0, 255))) : rng.chance(0.3) ? mutated.subarray(0, rng.int(0, mutated.length)) : mutated
    }
    return new Promise((resolve) => {
      raw[method].call(raw, bytes, metadata, { deadline: Date.now() + 2000 }, (err: grpc.ServiceError | null) => {
        const key = err ? `grpc ${grpc.status[err.code]}` : 'answered'
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
        resolve()
      })
    })
  }
  const workers = Array.from({ length: inFlightMax }, async () => {
    while (sent < total) {
      sent++
      await one()
    }
  })
  await Promise.all(workers)
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}`)
  t.equal([...outcomes.values()].reduce((a, b) => a + b, 0), total, `${total} requests answered`)
  t.notOk(outcomes.has('grpc UNAVAILABLE'), 'the node never dropped off')

  const s = await cluster.status()
  t.equal(s.quorum, true, 'the cluster is quorate')
  t.equal(s.nodes.find((n) => n.id === 'node-2')?.process, 'running', 'node-2 did not crash')
  const client = new WitnessClient(target, creds.users[0])
  t.teardown(() => client.close())
  const list = await client.getInterfaceList()
  t.equal(list.result.code, WIN_ERROR.SUCCESS, 'GetInterfaceList still answers')
  t.equal(list.interfaces.length, 3)
  const reg = await client.register({ netName: 'SOFS', ipAddress: '127.0.1.1', clientComputerName: 'after-fuzz' })
  t.equal(reg.result.code, WIN_ERROR.SUCCESS, 'Register still works')
  t.equal((await client.unRegister(reg.key)).result.code, WIN_ERROR.SUCCESS, 'UnRegister still works')
})
