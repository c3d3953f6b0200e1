// Run inside a private network namespace (see test/conformance/smb/srvsvc-rpcclient-netns.test.ts):
// the srvsvc interface and the endpoint mapper on one DCE/RPC listener on 127.0.0.1:135, then
// Samba's rpcclient's srvsvc commands against it over ncacn_ip_tcp; prints one JSON line with what
// each command printed. This proves the srvsvc service with a real client before the SMB2 front
// carries it over the srvsvc named pipe (the same RpcConnection and interface).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { SRVSVC_INTERFACE } from '../../protocol/dcerpc/srvsvc-ndr.js'
import { csvShareListing, ipcShareListing } from '../../core/smb/srvsvc-shares.js'
import { RpcTcpServer } from '../../server/dcerpc/rpc-tcp-server.js'
import { srvsvcRpcInterface } from '../../server/dcerpc/srvsvc-rpc-interface.js'
import { epmRpcInterface } from '../../server/dcerpc/witness-rpc-interface.js'

const ADDRESS = '127.0.0.1'
const EPM_PORT = 135
const shares = [
  csvShareListing({ name: 'share-1', csv: 'csv-1', scaleOut: true, continuouslyAvailable: true }),
  csvShareListing({ name: 'share-2', csv: 'csv-2', scaleOut: false, continuouslyAvailable: false }),
  ipcShareListing(),
]
const log = () => undefined
const server = new RpcTcpServer(
  [
    // rpcclient asks the endpoint mapper on 135 first; it points back at this same listener.
    epmRpcInterface(() => [{ interfaceUuid: SRVSVC_INTERFACE.uuid, versionMajor: 3, versionMinor: 0, ipv4: ADDRESS, port: EPM_PORT }]),
    srvsvcRpcInterface({ shares: () => shares, server: () => ({ name: 'SOFS', comment: 'emulated', versionMajor: 10, versionMinor: 0, type: 0x9003 }), log }),
  ],
  log,
)
await server.listen(ADDRESS, EPM_PORT)
try {
  // Async: the listener answers on this process's event loop while rpcclient runs.
  const run = async (command: string) => {
    const r = await promisify(execFile)('rpcclient', ['-U%', '-c', command, `ncacn_ip_tcp:${ADDRESS}[${EPM_PORT}]`], { encoding: 'utf8', timeout: 30_000 }).catch(
      (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? String(err) }),
    )
    return `${r.stdout}${r.stderr}`
  }
  const result = {
    enum1: await run('netshareenumall 1'),
    enum2: await run('netshareenumall 2'),
    enum502: await run('netshareenumall 502'),
    enum3: await run('netshareenumall 3'),
    getinfo2: await run('netsharegetinfo SHARE-1 2'),
    getinfo1005: await run('netsharegetinfo share-1 1005'),
    getinfoMissing: await run('netsharegetinfo nope 1'),
    srvinfo: await run('srvinfo'),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  server.close()
}
