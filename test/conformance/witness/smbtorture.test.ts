// Samba's own witness test suite, smbtorture rpc.witness, against a node's DCE/RPC witness
// port (smbtorture honours the port in its binding string: no endpoint mapper needed). Each
// sub-test runs on its own, so that one that crashes smbtorture cannot hide the others. The
// ones that need an SMB named pipe are listed with their reasons in smbtorture-known-fail.json;
// a listed one that passes, or an unlisted one that fails, fails this test. smbtorture binds
// sealed (`[seal]`, SPNEGO/NTLMSSP) as the cluster's admin user, as the witness and the cluster
// API (clusapi, on the same port) require. Skips with a clear message where smbtorture is missing.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { upCluster } from '../../helpers/cluster-fixture.js'

const HAVE_SMBTORTURE = spawnSync('smbtorture', ['--version'], { encoding: 'utf8' }).status === 0
const skip = HAVE_SMBTORTURE ? false : 'smbtorture is not installed (apt-get install samba-testsuite)'
const KNOWN = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'smbtorture-known-fail.json'), 'utf8')) as {
  knownFail: Record<string, string>
}

t.test('smbtorture rpc.witness: every sub-test passes except the known failures', { skip }, async (t) => {
  const listed = spawnSync('smbtorture', ['--list', 'rpc.witness'], { encoding: 'utf8', timeout: 30_000 })
  const subTests = listed.stdout.split('\n').filter((l) => l.startsWith('rpc.witness.'))
  t.ok(subTests.length >= 5, `smbtorture lists ${subTests.length} witness sub-tests`)
  for (const name of Object.keys(KNOWN.knownFail)) t.ok(subTests.includes(name), `the known failure ${name} is a real sub-test`)
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.92' })
  const node = (await cluster.status()).nodes[0]
  const dce = node.dcerpc!
  // Register, RegisterEx and AsyncNotify look the share up with srvsvc over an SMB named pipe
  // (NCACN_NP) on the witness binding's host: `smb ports` points smbtorture's SMB client at the
  // node's SMB 2/3 port (445 only where the node could bind it).
  const smb2 = node.smb2!
  const admin = cluster.credentials()?.admin
  if (!admin) throw new Error('the cluster has no credentials.json')
  for (const name of subTests) {
    const r = spawnSync(
      'smbtorture',
      [`ncacn_ip_tcp:${dce.address}[${dce.port},seal]`, `-U${admin.user}%${admin.password}`, `--option=torture:net_name=${cluster.config.name}`, '--option=torture:share_name=share-1', `--option=smb ports=${smb2.port}`, name],
      // A known failure may run long (AsyncNotify_timeouts waits minutes): it gets less time.
      { encoding: 'utf8', timeout: KNOWN.knownFail[name] ? 20_000 : 60_000 },
    )
    const short = name.replace('rpc.witness.', '')
    const passed = r.status === 0 && new RegExp(`^success: ${short.replace(/\./g, '\\.')}$`, 'm').test(r.stdout)
    const reason = KNOWN.knownFail[name]
    if (reason) t.notOk(passed, `${name} is a known failure (${reason.slice(0, 80)}…): if it passes now, take it off the list`)
    else t.ok(passed, `${name} passes${passed ? '' : `: ${r.stdout.slice(-800)}`}`)
  }
  // The node survived everything smbtorture sent.
  const after = await cluster.status()
  t.ok(after.nodes[0].serving, 'node-1 still serves')
})
