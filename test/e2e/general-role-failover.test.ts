// A general-use file server role's address moves with the role (issue 15 item 6): a CA share
// created with `share create --role general` is served at the role's own IP by the owner of its
// CSV only; the wire client writes a file there and opens it persistently, the owner is killed
// (SIGKILL by PID), the role comes online on another node at the same address, and the client
// connects to the same IP again, takes its persistent handle back with DH2C and reads the
// bytes. The witness answers GetInterfaceList at the role's address; a registration with the
// role's network name and IP, made on another node, hears RESOURCE_CHANGE UNAVAILABLE and
// AVAILABLE for the role.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Smb2Client } from '../../client/smb2/smb2-client.js'
import { unwrapSmb2 } from '../../client/smb2/smb2-result.js'
import { WitnessClient, type Notification } from '../../client/witness-client.js'
import { DcerpcWitnessClient } from '../../client/dcerpc-witness-client.js'
import { Cluster } from '../../cluster/cluster.js'
import { processState } from '../../cluster/processes.js'
import { ACCESS, DISPOSITION, SHARE_ACCESS, SHARE_CAP } from '../../protocol/smb2/constants.js'
import { RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { INTERFACE_FLAGS } from '../../protocol/swn/witness-calls.js'
import { acceptsConnections, swlab, upCluster } from '../helpers/cluster-fixture.js'

const NET = '127.0.85'
const ROLE_IP = `${NET}.101`

async function until<T>(what: string, probe: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test("a general role's address moves to the next owner; its witness clients hear the role go and come back", async (t) => {
  const started = await upCluster(t, { nodes: 3, clientNet: NET })
  const csv = 'csv-2'
  const created = swlab(['share', 'create', 'gen1', '--role', 'general', '--csv', csv, '--role-ip', ROLE_IP, '--dir', started.dir, '--json'])
  // The CLI wrote the share into cluster.json: read it again.
  started.closeAdmins()
  const cluster = Cluster.open(started.dir)
  t.teardown(() => cluster.closeAdmins())
  t.equal(created.code, 0, `share create --role general: ${created.stderr}`)
  const view = JSON.parse(created.stdout) as { kind: string; flags: string[]; role: { name: string; address: string; smb2Port: number; owner: string } }
  t.equal(view.kind, 'general')
  t.same(view.flags, ['CONTINUOUS_AVAILABILITY', 'CLUSTER'], 'CA and CLUSTER, not SCALEOUT')
  t.equal(view.role.address, ROLE_IP)
  const owner = view.role.owner
  t.ok(owner !== '', `the role is owned by ${owner}`)
  const port = view.role.smb2Port
  await until('the role address to accept connections', () => acceptsConnections(ROLE_IP, port), 10_000)

  // Bad input: one line each, and no share made.
  const bad = (args: string[], pattern: RegExp) => {
    const r = swlab(['share', 'create', ...args, '--dir', cluster.dir])
    t.not(r.code, 0, `share create ${args.join(' ')} fails`)
    t.match(r.stderr.trim(), pattern)
    t.equal(r.stderr.trim().split('\n').length, 1, 'in one line')
  }
  bad(['x1', '--role', 'sofs'], /--role must be scale-out or general/)
  bad(['x2', '--role-ip', '127.0.3.9'], /needs --role general/)
  bad(['x3', '--role', 'general', '--role-name', view.role.name, '--csv', 'csv-1'], /role FS-1 is on csv-2/)
  bad(['x4', '--role', 'general', '--role-ip', cluster.config.nodes[0].clientAddress], /a node's address/)
  bad(['x5', '--role', 'general', '--role-name', 'NOT_A_NETBIOS_NAME'], /role\.name must match/)
  bad(['x6', '--role', 'general', '--role-ip', ROLE_IP], /address of another role/)
  bad(['x7', '--role', 'general', '--role-ip', '10.1.2.3'], /--role-ip must be a loopback IPv4 address/)

  const listed = swlab(['share', 'list', '--dir', cluster.dir, '--json'])
  const row = (JSON.parse(listed.stdout) as { name: string; kind: string; owner: string; role: { owner: string } | null }[]).find((r) => r.name === 'gen1')
  t.same(row && { kind: row.kind, owner: row.owner, roleOwner: row.role?.owner }, { kind: 'general', owner, roleOwner: owner }, 'share list shows the kind and the owner')
  t.same((JSON.parse(listed.stdout) as { name: string }[]).map((r) => r.name), ['share-1', 'share-2', 'share-3', 'gen1'], 'the bad ones made nothing')
  const text = swlab(['share', 'list', '--dir', cluster.dir]).stdout
  t.match(text, new RegExp(`gen1\\s+${csv}\\s+general\\s+${owner}\\s+FS-1 ${ROLE_IP.replace(/\./g, '\\.')}:${port}`), 'and in its table')

  // The witness client registers on a node that is not the owner, with the role's name and IP (MS-SWN 4.1).
  const creds = cluster.credentials()!
  const witnessNode = cluster.config.nodes.find((n) => n.id !== owner)!
  const witness = new WitnessClient(`${witnessNode.clientAddress}:${witnessNode.witnessPort}`, creds.users[0])
  t.teardown(() => witness.close())
  const registered = await witness.registerEx({ netName: view.role.name, ipAddress: ROLE_IP, shareName: 'gen1', clientComputerName: 'ROLE-CLIENT' })
  t.equal(registered.result.code, WIN_ERROR.SUCCESS, "RegisterEx with the role's name and IP")
  const notifications: Notification[] = []
  const stop = new AbortController()
  t.teardown(() => stop.abort())
  void witness.notificationLoop(registered.key, (n) => notifications.push(n), stop.signal)

  // The witness answers on the role's address too (the owner's DCE/RPC port): a client connected
  // to the role asks there first, and picks another node's interface (MS-SWN 3.2.4.1).
  const ownerNode = cluster.nodeConfig(owner)
  const dce = await DcerpcWitnessClient.connect(ROLE_IP, ownerNode.dcerpcPort!, { auth: { user: creds.users[0].user, password: creds.users[0].password, level: 'privacy' } })
  const list = await dce.getInterfaceList()
  dce.close()
  t.equal(list.result, WIN_ERROR.SUCCESS, "GetInterfaceList over DCE/RPC at the role's address")
  t.same(
    (list.interfaces ?? []).map((i) => [i.ipv4, (i.flags & INTERFACE_FLAGS.INTERFACE_WITNESS) !== 0]),
    cluster.config.nodes.map((n) => [n.clientAddress, n.id !== owner]),
    "the nodes' interfaces, the owner's without INTERFACE_WITNESS; not the role's address",
  )

  // Write through the role's address, and keep a persistent handle open.
  const user = creds.users[0]
  const clientGuid = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'
  const first = unwrapSmb2(await Smb2Client.connect({ host: ROLE_IP, port, user: user.user, password: user.password, clientGuid }))
  const tree = unwrapSmb2(await first.treeConnect('gen1', view.role.name))
  t.equal(tree.capabilities & (SHARE_CAP.CONTINUOUS_AVAILABILITY | SHARE_CAP.SCALEOUT | SHARE_CAP.CLUSTER), SHARE_CAP.CONTINUOUS_AVAILABILITY | SHARE_CAP.CLUSTER, 'TREE_CONNECT: CLUSTER|CONTINUOUS_AVAILABILITY without SCALEOUT')
  const data = randomBytes(64 * 1024)
  const opened = unwrapSmb2(
    await tree.create('moved.bin', { disposition: DISPOSITION.OVERWRITE_IF, desiredAccess: (ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE) >>> 0, shareAccess: SHARE_ACCESS.READ, durableV2: { persistent: true, timeoutMs: 60_000 } }),
  )
  t.same(opened.durable?.persistent, true, 'a persistent handle on the CA share')
  unwrapSmb2(await tree.writeRange(opened.fileId, 0, data))
  unwrapSmb2(await tree.flush(opened.fileId))

  const pid = cluster.pidOf(owner)
  process.kill(pid, 'SIGKILL')
  await until(`${owner} to die`, async () => processState(pid) === 'dead', 5000)
  first.connection.close()

  const status = await cluster.waitFor((s) => {
    const share = s.shares.find((x) => x.name === 'gen1')
    return share?.role?.owner !== undefined && share.role.owner !== '' && share.role.owner !== owner
  }, 30_000).catch(async (err: Error) => {
    const s = await cluster.status()
    t.comment(JSON.stringify({ csvs: s.csvs, shares: s.shares, nodes: s.nodes.map((n) => [n.id, n.state, n.serving, n.servingCsvs]) }))
    throw err
  })
  const next = status.shares.find((x) => x.name === 'gen1')!.role!.owner
  t.not(next, owner, `the role is online on ${next}`)
  await until('the role address to accept connections again', () => acceptsConnections(ROLE_IP, port), 10_000)

  const second = unwrapSmb2(await Smb2Client.connect({ host: ROLE_IP, port, user: user.user, password: user.password, clientGuid, previousSessionId: first.sessionId }))
  t.teardown(() => second.close())
  t.not(second.negotiated.serverGuid, first.negotiated.serverGuid, 'the same address reaches another node')
  const tree2 = unwrapSmb2(await second.treeConnect('gen1', view.role.name))
  const reconnect = () => tree2.create('moved.bin', { reconnectV2: { fileId: opened.fileId, createGuid: opened.createGuid!, persistent: true } })
  let reopened = await reconnect()
  for (let i = 0; !reopened.ok && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50))
    reopened = await reconnect()
  }
  t.ok(reopened.ok, reopened.ok ? 'DH2C took the persistent handle back through the role address' : `DH2C: ${reopened.failure.statusName}`)
  if (reopened.ok) {
    const back = Buffer.alloc(data.length)
    unwrapSmb2(await tree2.readRange(reopened.value.fileId, 0, data.length, (at, chunk) => void chunk.copy(back, at)))
    t.ok(back.equals(data), 'the bytes written before the owner died')
    unwrapSmb2(await tree2.close(reopened.value.fileId))
  }

  const changes = await until(
    'RESOURCE_CHANGE AVAILABLE for the role',
    async () => {
      const records = notifications.flatMap((n) => n.resourceChanges)
      return records.some((r) => r.changeType === RESOURCE_STATE.AVAILABLE) ? records : null
    },
    10_000,
  )
  t.same(
    changes.map((r) => [r.resourceName, r.changeType]),
    [
      [view.role.name, RESOURCE_STATE.UNAVAILABLE],
      [view.role.name, RESOURCE_STATE.AVAILABLE],
    ],
    'UNAVAILABLE then AVAILABLE, naming the role as registered; nothing else',
  )
})
