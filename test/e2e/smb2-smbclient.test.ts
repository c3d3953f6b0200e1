// smbclient (Samba 4.17) against a node's SMB 2/3 wire front: `ls`, `put` and `get` at SMB3 with
// signing required, the bytes identical, through one node and back through another; `mkdir`,
// `rename`, `allinfo`, `rm`, `rmdir`; `smbclient -L` (srvsvc on the IPC$ pipe), the null session
// on IPC$ only; a wrong password; then `put`/`get` sealed
// (`--client-protection=encrypt`). Skips with a message when smbclient is missing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freshDir, upCluster } from '../helpers/cluster-fixture.js'

const smbclient = spawnSync('smbclient', ['--version'], { encoding: 'utf8' })
const HAVE_SMBCLIENT = smbclient.status === 0

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function runSmbclient(address: string, port: number, share: string, userPass: string, commands: string, extra: readonly string[] = []): Run {
  const r = spawnSync('smbclient', [`//${address}/${share}`, '-p', String(port), '-U', userPass, '-m', 'SMB3', '--option=client signing=required', ...extra, '-c', commands], {
    encoding: 'utf8',
    timeout: 60_000,
    // A private, empty smb.conf: nothing on the machine changes what the client does.
    env: { ...process.env, SMB_CONF_PATH: '/dev/null' },
  })
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

t.test('smbclient ls, put and get with signing required', { skip: HAVE_SMBCLIENT ? false : 'smbclient is not installed (apt-get install -y smbclient)' }, async (t) => {
  const cluster = await upCluster(t, { nodes: 2 })
  const user = cluster.credentials()!.users[0]
  const userPass = `${user.user}%${user.password}`
  const n1 = cluster.nodeConfig('node-1')
  const n2 = cluster.nodeConfig('node-2')
  t.ok(n1.smb2Port !== undefined && n2.smb2Port !== undefined, 'every node serves SMB 2/3')
  const scratch = freshDir(t)
  const local = join(scratch, 'blob.bin')
  const data = randomBytes(3_000_000)
  writeFileSync(local, data)
  const back = join(scratch, 'back.bin')

  const put = runSmbclient(n1.clientAddress, n1.smb2Port!, 'share-1', userPass, `put ${local} blob.bin; ls`)
  t.equal(put.code, 0, 'put and ls: smbclient exits 0', { output: put.stdout + put.stderr })
  t.match(put.stdout, /blob\.bin\s+A\s+3000000/, 'ls shows the file with its size')
  t.match(put.stdout, /blocks of size \d+\. \d+ blocks available/, 'and the volume size')

  const get = runSmbclient(n2.clientAddress, n2.smb2Port!, 'share-1', userPass, `get blob.bin ${back}`)
  t.equal(get.code, 0, 'get: smbclient exits 0', { output: get.stdout + get.stderr })
  t.ok(readFileSync(back).equals(data), 'the same bytes back, through the other node')

  const tree = runSmbclient(n1.clientAddress, n1.smb2Port!, 'share-1', userPass, 'mkdir d1; rename blob.bin d1\\b2.bin; allinfo d1\\b2.bin; ls d1\\*')
  t.equal(tree.code, 0, 'mkdir, rename, allinfo: smbclient exits 0', { output: tree.stdout + tree.stderr })
  t.match(tree.stdout, /altname: B2\.BIN/, 'allinfo shows the 8.3 name')
  t.match(tree.stdout, /write_time:/, 'and the times')
  t.match(tree.stdout, /b2\.bin\s+A\s+3000000/, 'the renamed file is listed in its new folder')
  const gone = runSmbclient(n2.clientAddress, n2.smb2Port!, 'share-1', userPass, 'rm d1\\b2.bin; rmdir d1; ls')
  t.equal(gone.code, 0, 'rm, rmdir: smbclient exits 0', { output: gone.stdout + gone.stderr })
  t.notMatch(gone.stdout, /d1|b2\.bin/, 'both gone')

  const list = spawnSync('smbclient', ['-L', n2.clientAddress, '-p', String(n2.smb2Port), '-U', userPass, '-m', 'SMB3'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SMB_CONF_PATH: '/dev/null' } })
  t.equal(list.status, 0, 'smbclient -L exits 0', { output: list.stdout + list.stderr })
  t.match(list.stdout, /share-1\s+Disk/, 'lists share-1 (srvsvc over the IPC$ pipe)')
  t.match(list.stdout, /share-2\s+Disk/, 'and share-2')
  t.match(list.stdout, /IPC\$\s+IPC/, 'and IPC$')
  const anonymous = spawnSync('smbclient', ['-L', n1.clientAddress, '-p', String(n1.smb2Port), '-N', '-m', 'SMB3'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SMB_CONF_PATH: '/dev/null' } })
  t.match(anonymous.stdout, /share-1\s+Disk/, 'the null session lists the shares over IPC$')
  const anonymousDisk = runSmbclient(n1.clientAddress, n1.smb2Port!, 'share-1', '%', 'ls')
  t.match(anonymousDisk.stdout + anonymousDisk.stderr, /NT_STATUS_ACCESS_DENIED/, 'but reaches no disk share')

  const wrong = runSmbclient(n1.clientAddress, n1.smb2Port!, 'share-1', `${user.user}%not-the-password`, 'ls')
  t.not(wrong.code, 0)
  t.match(wrong.stdout + wrong.stderr, /NT_STATUS_LOGON_FAILURE/, 'a wrong password is LOGON_FAILURE')
})

t.test('smbclient with --client-protection=encrypt', { skip: HAVE_SMBCLIENT ? false : 'smbclient is not installed (apt-get install -y smbclient)' }, async (t) => {
  const cluster = await upCluster(t, { nodes: 1 })
  const user = cluster.credentials()!.users[0]
  const n1 = cluster.nodeConfig('node-1')
  const scratch = freshDir(t)
  const local = join(scratch, 'sealed.bin')
  const data = randomBytes(1_500_000)
  writeFileSync(local, data)
  const back = join(scratch, 'sealed-back.bin')
  const r = runSmbclient(n1.clientAddress, n1.smb2Port!, 'share-1', `${user.user}%${user.password}`, `put ${local} sealed.bin; get sealed.bin ${back}; ls`, ['--client-protection=encrypt'])
  t.equal(r.code, 0, 'smbclient exits 0', { output: r.stdout + r.stderr })
  t.ok(readFileSync(back).equals(data), 'bytes identical through an encrypted session')
})
