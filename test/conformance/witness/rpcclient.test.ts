// The witness service on the real wire, checked by software nobody on this project wrote:
// Samba's rpcclient speaks MS-SWN over DCE/RPC (ncacn_ip_tcp, NDR20) to a node of a real
// cluster. rpcclient always asks the endpoint mapper on TCP 135 first, so the cluster runs with
// --epm on client addresses of its own (127.0.91.N), which needs root. Skips with a clear
// message where rpcclient is missing or port 135 cannot be bound.
//
// The witness needs packet integrity (as Windows and Samba's rpcd_witness): rpcclient binds with
// `[sign]` or `[seal]` and a cluster user (-U user%pass, NTLMSSP, checked against
// credentials.json); without credentials every witness call is ACCESS_DENIED.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { upCluster, swlab } from '../../helpers/cluster-fixture.js'

const HAVE_RPCCLIENT = spawnSync('rpcclient', ['--version'], { encoding: 'utf8' }).status === 0
const ROOT = process.getuid?.() === 0
const skip = !HAVE_RPCCLIENT ? 'rpcclient is not installed (apt-get install smbclient)' : !ROOT ? 'the endpoint mapper needs port 135: run as root' : false
const NET = '127.0.91'

let userArg = '-U%'

function rpcclient(binding: string, command: string, user = userArg): { code: number; out: string } {
  const r = spawnSync('rpcclient', [user, '-c', command, binding], { encoding: 'utf8', timeout: 30_000 })
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
}

function userOf(cluster: { credentials(): { users: readonly { user: string; password: string }[] } | null }): string {
  const alice = cluster.credentials()?.users[0]
  if (!alice) throw new Error('the cluster has no credentials.json')
  return `-U${alice.user}%${alice.password}`
}

t.test('rpcclient against a node: all five witness commands, the error cases, and a real RESOURCE_CHANGE', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, epm: true, clientNet: NET })
  const status = await cluster.status()
  const dce = status.nodes[0].dcerpc!
  t.equal(dce.address, `${NET}.1`, 'cluster status shows the node\'s dcerpc address')
  t.ok(dce.port > 0, `and port ${dce.port}`)
  userArg = userOf(cluster)
  const anonymous = rpcclient(`ncacn_ip_tcp:${dce.address}[${dce.port}]`, 'GetInterfaceList', '-U%')
  t.match(anonymous.out, /ACCESS_DENIED/, `without credentials the witness answers access denied: ${anonymous.out}`)
  const connectOnly = rpcclient(`ncacn_ip_tcp:${dce.address}[${dce.port},connect]`, 'GetInterfaceList')
  t.match(connectOnly.out, /ACCESS_DENIED/, `a connect-level bind is below packet integrity: access denied: ${connectOnly.out}`)
  const signed = rpcclient(`ncacn_ip_tcp:${dce.address}[${dce.port},sign]`, 'GetInterfaceList')
  t.equal(signed.code, 0, `GetInterfaceList over a signed binding: ${signed.out}`)
  const binding = `ncacn_ip_tcp:${dce.address}[${dce.port},seal]`

  const list = rpcclient(binding, 'GetInterfaceList')
  t.equal(list.code, 0, list.out)
  for (const n of cluster.config.nodes) t.match(list.out, new RegExp(`${n.id.toUpperCase()} ${n.clientAddress.replace(/\./g, '\\.')}`), `lists ${n.id}`)

  const reg = rpcclient(binding, `Register -n SOFS -i ${NET}.2 -c RPCCLIENT-1`)
  t.equal(reg.code, 0, reg.out)
  const handle = /(\d+:[0-9a-f-]{36})/.exec(reg.out)?.[1]
  t.ok(handle, `Register gives a context handle (${handle})`)
  const listed = swlab(['witness', 'list', '--dir', cluster.dir, '--json'])
  t.match(listed.stdout, /RPCCLIENT-1/, 'a registration made over DCE/RPC shows in swlab witness list')
  const owner = (JSON.parse(listed.stdout) as Array<{ clientComputerName: string; principal: string }>).find((r) => r.clientComputerName === 'RPCCLIENT-1')
  t.equal(owner?.principal, userArg.slice(2).split('%')[0], 'the registration belongs to the authenticated principal')

  const v2 = rpcclient(binding, `Register --version=131072 -n SOFS -i ${NET}.2 -c RPCCLIENT-1`)
  t.match(v2.out, /WERR_REVISION_MISMATCH/, 'Register with version 2 is REVISION_MISMATCH')
  const badName = rpcclient(binding, `Register -n NOSUCHNAME -i ${NET}.2 -c RPCCLIENT-1`)
  t.match(badName.out, /WERR_INVALID_PARAMETER/, 'an unknown NetName is INVALID_PARAMETER')
  const badShare = rpcclient(binding, `RegisterEx -n SOFS -s nosuchshare -i ${NET}.2 -c RPCCLIENT-1 -f 1 -t 30`)
  t.match(badShare.out, /WERR_INVALID_STATE/, 'RegisterEx with an unknown share is INVALID_STATE')
  const ex = rpcclient(binding, `RegisterEx -n SOFS -s share-1 -i ${NET}.2 -c RPCCLIENT-1 -f 1 -t 30`)
  t.match(ex.out, /\d+:[0-9a-f-]{36}/, 'RegisterEx with a real share gives a handle')
  const unknown = rpcclient(binding, 'UnRegister 0:00000000-1111-2222-3333-444444444444')
  // WS2012 R2 and later answer an unknown handle as the spec says; WS2012 and Samba say NOT_FOUND.
  t.match(unknown.out, /WERR_INVALID_PARAMETER/, 'UnRegister of an unknown handle is INVALID_PARAMETER on the ws2012r2 profile')
  const un = rpcclient(binding, `UnRegister ${handle}`)
  t.equal(un.code, 0, `UnRegister of the first handle: ${un.out}`)

  // One rpcclient session: Register; AsyncNotify; (kill node-2); UnRegister.
  const p = spawn('rpcclient', [userArg, binding], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (p.exitCode === null) p.kill('SIGKILL')
  })
  let out = ''
  p.stdout.on('data', (d: Buffer) => (out += d.toString()))
  p.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const waitFor = async (re: RegExp, ms: number): Promise<RegExpMatchArray | null> => {
    const deadline = Date.now() + ms
    for (let m = re.exec(out); Date.now() < deadline; m = re.exec(out)) {
      if (m) return m
      await new Promise((r) => setTimeout(r, 50))
    }
    return re.exec(out)
  }
  p.stdin.write(`Register -n SOFS -i ${NET}.2 -c RPCCLIENT-2\n`)
  const chainHandle = (await waitFor(/(\d+:[0-9a-f-]{36})/, 20_000))?.[1]
  t.ok(chainHandle, 'registered in the session')
  p.stdin.write(`AsyncNotify ${chainHandle}\n`)
  // The AsyncNotify waits on the server; once it is parked there, node-2 dies.
  const key = chainHandle?.split(':')[1] ?? ''
  let parked = false
  for (const deadline = Date.now() + 20_000; !parked && Date.now() < deadline; ) {
    const l = swlab(['witness', 'list', '--dir', cluster.dir, '--json'])
    parked = (JSON.parse(l.stdout) as Array<{ registrationId: string; asyncNotifyPending: boolean }>).some(
      (r) => r.registrationId === key && r.asyncNotifyPending,
    )
    if (!parked) await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(parked, 'the AsyncNotify is parked on the server')
  cluster.kill('node-2')
  t.ok(await waitFor(/Resource change with 1 messages\s+SOFS -> Unavailable/, 30_000), `AsyncNotify returns RESOURCE_CHANGE: ${JSON.stringify(out)}`)
  p.stdin.write(`UnRegister ${chainHandle}\n`)
  // rpcclient reads its next command only once the last one is done: wait until it is.
  let gone = false
  for (const deadline = Date.now() + 20_000; !gone && Date.now() < deadline; ) {
    const l = swlab(['witness', 'list', '--dir', cluster.dir, '--json'])
    gone = !(JSON.parse(l.stdout) as Array<{ registrationId: string }>).some((r) => r.registrationId === key)
    if (!gone) await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(gone, 'UnRegister removed the registration')
  p.stdin.write(`UnRegister ${chainHandle}\n`)
  t.ok(await waitFor(/WERR_INVALID_PARAMETER/, 20_000), `the second UnRegister of the same handle is INVALID_PARAMETER: ${JSON.stringify(out)}`)
  p.stdin.write('quit\n')
  await new Promise((r) => p.once('exit', r))
})

t.test('rpcclient: UnRegister of an unknown handle is NOT_FOUND on the ws2012 profile', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, epm: true, clientNet: '127.0.96', witnessProfile: 'ws2012' })
  const dce = (await cluster.status()).nodes[0].dcerpc!
  userArg = userOf(cluster)
  const binding = `ncacn_ip_tcp:${dce.address}[${dce.port},sign]`
  t.match(rpcclient(binding, 'UnRegister 0:00000000-1111-2222-3333-444444444444').out, /WERR_NOT_FOUND/)
  // WS2012 has no RegisterEx: the opnum is outside its interface.
  t.notMatch(rpcclient(binding, `RegisterEx -n SOFS -s share-1 -i 127.0.96.2 -c RPCCLIENT-3 -f 1 -t 30`).out, /\d+:[0-9a-f-]{36}/, 'RegisterEx gives no handle')
})
