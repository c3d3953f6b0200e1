// Wireshark as the judge of our wire format: tshark captures a whole witness flow on loopback
// (endpoint mapper, bind, GetInterfaceList, RegisterEx, AsyncNotify answered with CLIENT_MOVE,
// AsyncNotify answered with RESOURCE_CHANGE when a node is killed, UnRegister), driven by
// Samba's rpcclient over a sealed binding (`[seal]`, NTLMSSP, a cluster user), and must decode all
// of it as NTLMSSP-sealed DCE/RPC (given the user's password, tshark unseals it and dissects the
// WITNESS stubs) with no malformed packet. Needs root
// (loopback capture, port 135); skips with a clear message otherwise or without the tools.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { freshDir, swlab, upCluster } from '../../helpers/cluster-fixture.js'

const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { encoding: 'utf8' }).status === 0
const ROOT = process.getuid?.() === 0
const skip = !has('tshark', '--version')
  ? 'tshark is not installed (apt-get install tshark)'
  : !has('rpcclient', '--version')
    ? 'rpcclient is not installed (apt-get install smbclient)'
    : !ROOT
      ? 'a loopback capture and the endpoint mapper on port 135 need root'
      : false
const NET = '127.0.93'

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return check()
}

t.test('tshark decodes a whole failover flow as WITNESS with zero malformed packets', { skip }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, epm: true, clientNet: NET })
  const dce = (await cluster.status()).nodes[0].dcerpc!
  const pcap = join(freshDir(t), 'witness.pcapng')
  const capture = spawn('tshark', ['-i', 'lo', '-f', `host ${dce.address} and (tcp port 135 or tcp port ${dce.port})`, '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] })
  t.teardown(() => {
    if (capture.exitCode === null) capture.kill('SIGKILL')
  })
  let captureLog = ''
  capture.stderr.on('data', (d: Buffer) => (captureLog += d.toString()))
  t.ok(await until(() => /Capturing on/.test(captureLog), 30_000), `tshark is capturing: ${captureLog}`)

  const alice = cluster.credentials()?.users[0]
  if (!alice) throw new Error('no credentials.json')
  const p = spawn('rpcclient', [`-U${alice.user}%${alice.password}`, `ncacn_ip_tcp:${dce.address}[${dce.port},seal]`], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (p.exitCode === null) p.kill('SIGKILL')
  })
  let out = ''
  p.stdout.on('data', (d: Buffer) => (out += d.toString()))
  p.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const registrations = () => JSON.parse(swlab(['witness', 'list', '--dir', cluster.dir, '--json']).stdout) as Array<{ registrationId: string; asyncNotifyPending: boolean }>

  p.stdin.write('GetInterfaceList\n')
  t.ok(await until(() => /NODE-3/.test(out), 20_000), 'GetInterfaceList answered')
  p.stdin.write(`RegisterEx -n SOFS -s share-1 -i ${NET}.2 -c TSHARK-1 -f 1 -t 120\n`)
  t.ok(await until(() => /\d+:[0-9a-f-]{36}/.test(out), 20_000), 'RegisterEx answered')
  const handle = /(\d+:[0-9a-f-]{36})/.exec(out)![1]
  const key = handle.split(':')[1]
  const parked = () => registrations().some((r) => r.registrationId === key && r.asyncNotifyPending)

  p.stdin.write(`AsyncNotify ${handle}\n`)
  t.ok(await until(parked, 20_000), 'AsyncNotify parked')
  const moved = swlab(['witness', 'client-move', '--dir', cluster.dir, '--witness-registration', key, '--witness-new-node', 'node-3'])
  t.equal(moved.code, 0, moved.stderr)
  t.ok(await until(() => /Client Move/i.test(out), 20_000), `CLIENT_MOVE arrived: ${JSON.stringify(out.slice(-300))}`)

  p.stdin.write(`AsyncNotify ${handle}\n`)
  t.ok(await until(parked, 20_000), 'AsyncNotify parked again')
  cluster.kill('node-2')
  t.ok(await until(() => /Resource change/i.test(out), 30_000), 'RESOURCE_CHANGE arrived')
  p.stdin.write(`UnRegister ${handle}\n`)
  t.ok(await until(() => !registrations().some((r) => r.registrationId === key), 20_000), 'UnRegister done')
  p.stdin.write('quit\n')
  await new Promise((r) => p.once('exit', r))
  // Let the last segments reach the capture, then stop it cleanly so the file is complete.
  capture.kill('SIGINT')
  await new Promise((r) => capture.once('exit', r))

  const decode = (filter: string, fields: string[]) =>
    spawnSync('tshark', ['-r', pcap, '-o', `ntlmssp.nt_password:${alice.password}`, '-d', `tcp.port==${dce.port},dcerpc`, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' })
  const witness = decode('witness', ['witness.opnum', 'dcerpc.pkt_type', 'witness.witness_notifyResponse.type'])
  t.equal(witness.status, 0, witness.stderr)
  const lines = witness.stdout.trim().split('\n').filter((l) => l !== '')
  const opnums = new Set(lines.map((l) => l.split('\t')[0]))
  for (const [opnum, name] of [['0', 'GetInterfaceList'], ['4', 'RegisterEx'], ['3', 'AsyncNotify'], ['2', 'UnRegister']]) {
    t.ok(opnums.has(opnum), `tshark decoded ${name} as WITNESS`)
  }
  const types = lines.map((l) => l.split('\t')[2]).filter((x) => x !== '' && x !== undefined)
  t.ok(types.includes('2'), `an AsyncNotify response of type CLIENT_MOVE (types seen: ${types.join(',')})`)
  t.ok(types.includes('1'), 'an AsyncNotify response of type RESOURCE_CHANGE')
  const binds = decode('dcerpc.pkt_type == 11 || dcerpc.pkt_type == 12', ['dcerpc.pkt_type'])
  t.ok(binds.stdout.trim().split('\n').length >= 2, 'the binds and bind_acks are in the capture')
  const sealed = decode('dcerpc.pkt_type == 0 && dcerpc.auth_type == 10 && dcerpc.auth_level == 6', ['frame.number'])
  t.ok(sealed.stdout.trim().split('\n').filter((l) => l !== '').length >= 5, `the requests are NTLMSSP (auth_type 10) at packet privacy (level 6): ${sealed.stderr}`)
  const verifiers = decode('ntlmssp.verf', ['frame.number'])
  t.ok(verifiers.stdout.trim() !== '', 'tshark sees the NTLMSSP verifiers')
  const auth3 = decode('dcerpc.pkt_type == 16 && ntlmssp.auth.username', ['ntlmssp.auth.username'])
  t.match(auth3.stdout, new RegExp(alice.user), 'the auth3 carries the NTLMSSP AUTHENTICATE of the cluster user')
  const epm = decode('epm', ['epm.opnum'])
  t.match(epm.stdout, /3/, 'the endpoint mapper ept_map is decoded too')
  const malformed = decode('_ws.malformed || _ws.expert.severity == error', ['frame.number'])
  t.equal(malformed.status, 0, `the malformed-packet filter is valid: ${malformed.stderr}`)
  t.equal(malformed.stdout.trim(), '', 'zero malformed packets')
})
