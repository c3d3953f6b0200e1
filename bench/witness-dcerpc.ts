// bench/witness-dcerpc: the witness service's two fronts against the same node in the same run.
// GetInterfaceList calls per second and Register+UnRegister pairs per second, each for --seconds,
// with K calls in flight at once: over DCE/RPC (one ncacn_ip_tcp connection, K calls multiplexed
// by call id, DcerpcWitnessClient) and over gRPC (one HTTP/2 channel, K streams, WitnessClient
// with the cluster's credentials). Both fronts hand calls to the same witness core, so the
// difference is the wire, its codec and the transport. Prints one JSON document.
//
//   node dist/bench/witness-dcerpc.js [--seconds 3] [--concurrency 8] [--node node-1] [--nodes 3]
//        [--client-net 127.0.97] [--out file]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DcerpcWitnessClient } from '../client/dcerpc-witness-client.js'
import { WitnessClient } from '../client/witness-client.js'
import { Cluster } from '../cluster/cluster.js'
import { WIN_ERROR } from '../protocol/swn/win-errors.js'

/** The server refuses more than 64 calls in flight on one DCE/RPC connection. */
const CONCURRENCY_MAX = 64
/** Each measurement is also bounded in count, whatever the clock says. */
const OPERATIONS_MAX = 50_000_000
const WARMUP_MS = 500

interface Measurement {
  readonly operations: number
  readonly seconds: number
  readonly perSecond: number
}

/** Runs op from `concurrency` workers until `ms` have passed; an op that fails ends the run with its error. */
async function measure(concurrency: number, ms: number, op: (worker: number, index: number) => Promise<void>): Promise<Measurement> {
  const start = performance.now()
  const deadline = start + ms
  let operations = 0
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let index = 0; performance.now() < deadline && operations < OPERATIONS_MAX; index++) {
        await op(worker, index)
        operations++
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  return { operations, seconds, perSecond: Math.round(operations / seconds) }
}

function expectSuccess(what: string, result: number): void {
  if (result !== WIN_ERROR.SUCCESS) throw new Error(`${what} returned 0x${result.toString(16)}`)
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '8' },
      node: { type: 'string', default: 'node-1' },
      nodes: { type: 'string', default: '3' },
      'client-net': { type: 'string', default: '127.0.97' },
      out: { type: 'string' },
    },
  })
  const seconds = Number(values.seconds)
  const concurrency = Number(values.concurrency)
  const nodes = Number(values.nodes)
  if (!(seconds > 0 && seconds <= 600)) throw new Error('--seconds must be a number from 0 to 600')
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > CONCURRENCY_MAX) throw new Error(`--concurrency must be an integer from 1 to ${CONCURRENCY_MAX}`)
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-witness-dcerpc-'))
  const cluster = await Cluster.up({ dir, nodes, clientNet: values['client-net'] })
  const closers: (() => void)[] = []
  try {
    const node = cluster.nodeConfig(values.node as string)
    if (node.dcerpcPort === undefined) throw new Error(`${node.id} has no DCE/RPC port`)
    const credential = cluster.credentials()?.users[0]
    if (!credential) throw new Error('the cluster has no user credentials')
    // Register needs the cluster's name and one of its client addresses; another node's, as a real client would use.
    const netName = cluster.config.name
    const ipAddresses = cluster.config.nodes.map((n) => n.clientAddress)
    const ipFor = (worker: number): string => ipAddresses[worker % ipAddresses.length]

    // Authenticated and sealed, as Windows binds to the witness (SPNEGO/NTLMSSP, packet privacy).
    const dcerpc = await DcerpcWitnessClient.connect(node.clientAddress, node.dcerpcPort, { auth: { user: credential.user, password: credential.password, level: 'privacy' } })
    closers.push(() => dcerpc.close())
    const grpc = new WitnessClient(`${node.clientAddress}:${node.witnessPort}`, credential)
    closers.push(() => grpc.close())

    const fronts = {
      dcerpc: {
        getInterfaceList: async () => {
          const r = await dcerpc.getInterfaceList()
          expectSuccess('DCE/RPC GetInterfaceList', r.result)
          if (r.interfaces?.length !== nodes) throw new Error(`DCE/RPC GetInterfaceList listed ${r.interfaces?.length ?? 0} interfaces, not ${nodes}`)
        },
        registerUnregister: async (worker: number, index: number) => {
          const reg = await dcerpc.register({ netName, ipAddress: ipFor(worker), clientComputerName: `BENCH-DCE-${worker}-${index}` })
          expectSuccess('DCE/RPC Register', reg.result)
          expectSuccess('DCE/RPC UnRegister', (await dcerpc.unRegister(reg.key)).result)
        },
      },
      grpc: {
        getInterfaceList: async () => {
          const r = await grpc.getInterfaceList()
          expectSuccess('gRPC GetInterfaceList', r.result.code)
          if (r.interfaces.length !== nodes) throw new Error(`gRPC GetInterfaceList listed ${r.interfaces.length} interfaces, not ${nodes}`)
        },
        registerUnregister: async (worker: number, index: number) => {
          const reg = await grpc.register({ netName, ipAddress: ipFor(worker), clientComputerName: `BENCH-GRPC-${worker}-${index}` })
          expectSuccess('gRPC Register', reg.result.code)
          expectSuccess('gRPC UnRegister', (await grpc.unRegister(reg.key)).result.code)
        },
      },
    }

    // Warm both paths (JIT, the gRPC channel's connection) before anything is timed.
    for (const front of Object.values(fronts)) {
      await measure(concurrency, WARMUP_MS, () => front.getInterfaceList())
      await measure(concurrency, WARMUP_MS, (w, i) => front.registerUnregister(w, i))
    }
    const ms = seconds * 1000
    const dceList = await measure(concurrency, ms, () => fronts.dcerpc.getInterfaceList())
    const grpcList = await measure(concurrency, ms, () => fronts.grpc.getInterfaceList())
    const dceReg = await measure(concurrency, ms, (w, i) => fronts.dcerpc.registerUnregister(w, i))
    const grpcReg = await measure(concurrency, ms, (w, i) => fronts.grpc.registerUnregister(w, i))
    const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 100) / 100 : null)

    const result = {
      bench: 'witness-dcerpc',
      node: node.id,
      nodes,
      seconds,
      concurrency,
      dcerpc: { get_interface_list_per_s: dceList.perSecond, register_unregister_per_s: dceReg.perSecond },
      grpc: { get_interface_list_per_s: grpcList.perSecond, register_unregister_per_s: grpcReg.perSecond },
      // DCE/RPC over gRPC: above 1, the real wire is the faster front.
      ratio: {
        get_interface_list: ratio(dceList.perSecond, grpcList.perSecond),
        register_unregister: ratio(dceReg.perSecond, grpcReg.perSecond),
      },
    }
    const json = JSON.stringify(result, null, 2)
    if (values.out) writeFileSync(values.out, `${json}\n`)
    process.stdout.write(`${json}\n`)
  } finally {
    for (const close of closers) close()
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench witness-dcerpc: ${err.message}\n`)
  process.exit(1)
})
