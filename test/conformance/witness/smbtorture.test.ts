// Samba's own witness test suite, smbtorture rpc.witness, against a node's DCE/RPC witness
// port (smbtorture honours the port in its binding string: no endpoint mapper needed). Each
// sub-test runs on its own, so that one that crashes smbtorture cannot hide the others. The
// ones that need an SMB named pipe are listed with their reasons in smbtorture-known-fail.json;
// a listed one that passes, or an unlisted one that fails, fails this test. smbtorture binds
// sealed (`[seal]`, SPNEGO/NTLMSSP) as the cluster's admin user, as the witness and the cluster
// API (clusapi, on the same port) require. Skips with a clear message where smbtorture is missing.
//
// AsyncNotify_timeouts registers with KeepAliveTimeouts of 0, 1, 10, 100 and 120 s on every
// witness interface and expects WERR_TIMEOUT for each: about 8 minutes against this 3-node
// cluster (run so by hand: see the README). The cluster here holds an AsyncNotify at most
// KEEP_ALIVE_MAX_S (witnessKeepAliveMaxS, a test knob), so the sub-test takes seconds; the
// times smbtorture prints around each AsyncNotify are checked against min(keep-alive, cap).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { upCluster } from '../../helpers/cluster-fixture.js'

const HAVE_SMBTORTURE = spawnSync('smbtorture', ['--version'], { encoding: 'utf8' }).status === 0
const skip = HAVE_SMBTORTURE ? false : 'smbtorture is not installed (apt-get install samba-testsuite)'
/** The longest the nodes hold an AsyncNotify here, in seconds (the cluster's witnessKeepAliveMaxS). */
const KEEP_ALIVE_MAX_S = 2

/** Each "Testing Async Notify with timeout of N" case of smbtorture's output and how long its AsyncNotify took, in ms. */
function timedCases(stdout: string): Array<{ keepAliveS: number; tookMs: number }> {
  const cases: Array<{ keepAliveS: number; tookMs: number }> = []
  // torture_comment prints no newline after the case's title: the first time: line follows it on the same line.
  const re = /Testing Async Notify with timeout of (\d+) milliseconds\s*time: (\S+ \S+)\s+time: (\S+ \S+)/g
  const at = (text: string) => Date.parse(`${text.replace(' ', 'T').slice(0, 23)}Z`)
  for (const m of stdout.matchAll(re)) cases.push({ keepAliveS: Number(m[1]), tookMs: at(m[3]) - at(m[2]) })
  return cases
}

const KNOWN = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'smbtorture-known-fail.json'), 'utf8')) as {
  knownFail: Record<string, string>
}

t.test('smbtorture rpc.witness: every sub-test passes except the known failures', { skip }, async (t) => {
  const listed = spawnSync('smbtorture', ['--list', 'rpc.witness'], { encoding: 'utf8', timeout: 30_000 })
  const subTests = listed.stdout.split('\n').filter((l) => l.startsWith('rpc.witness.'))
  t.ok(subTests.length >= 5, `smbtorture lists ${subTests.length} witness sub-tests`)
  for (const name of Object.keys(KNOWN.knownFail)) t.ok(subTests.includes(name), `the known failure ${name} is a real sub-test`)
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.92', witnessKeepAliveMaxS: KEEP_ALIVE_MAX_S })
  const node = (await cluster.status()).nodes[0]
  const dce = node.dcerpc!
  // Register, RegisterEx and AsyncNotify look the share up with srvsvc over an SMB named pipe
  // (NCACN_NP) on the witness binding's host: `smb ports` points smbtorture's SMB client at the
  // node's SMB 2/3 port (445 only where the node could bind it).
  const smb2 = node.smb2!
  const admin = cluster.credentials()?.admin
  if (!admin) throw new Error('the cluster has no credentials.json')
  // smbtorture's scratch folder (smbtortureXXXXXX) goes in its working directory and stays if it is killed.
  const scratch = mkdtempSync(join(tmpdir(), 'swlab-smbtorture-'))
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
  for (const name of subTests) {
    const r = spawnSync(
      'smbtorture',
      [`ncacn_ip_tcp:${dce.address}[${dce.port},seal]`, `-U${admin.user}%${admin.password}`, `--option=torture:net_name=${cluster.config.name}`, '--option=torture:share_name=share-1', `--option=smb ports=${smb2.port}`, name],
      // A known failure may run long (AsyncNotify_timeouts waits minutes): it gets less time.
      { encoding: 'utf8', timeout: KNOWN.knownFail[name] ? 20_000 : 60_000, cwd: scratch },
    )
    const short = name.replace('rpc.witness.', '')
    const passed = r.status === 0 && new RegExp(`^success: ${short.replace(/\./g, '\\.')}$`, 'm').test(r.stdout)
    const reason = KNOWN.knownFail[name]
    if (reason) t.notOk(passed, `${name} is a known failure (${reason.slice(0, 80)}…): if it passes now, take it off the list`)
    else t.ok(passed, `${name} passes${passed ? '' : `: ${r.stdout.slice(-800)}`}`)
    if (short === 'witness.AsyncNotify_timeouts') {
      // Every keep-alive on every witness interface (two of three nodes' addresses), each answered
      // WERR_TIMEOUT (else smbtorture fails) after min(keep-alive, cap): 0 at once, not never.
      // smbtorture writes its comments to stderr, its subunit stream (the time: lines) to stdout.
      const cases = timedCases(`${r.stdout}${r.stderr}`)
      t.equal(cases.length, 10, `5 keep-alives on each of 2 witness interfaces: ${JSON.stringify(cases)}`)
      for (const c of cases) {
        const expectedMs = Math.min(c.keepAliveS, KEEP_ALIVE_MAX_S) * 1000
        // The witness tick is 100 ms; a loaded machine adds its own delay.
        t.ok(c.tookMs >= expectedMs - 50 && c.tookMs <= expectedMs + 1_500, `keep-alive ${c.keepAliveS} s: TIMEOUT after ${c.tookMs} ms (expected ${expectedMs})`)
      }
    }
  }
  // The node survived everything smbtorture sent.
  const after = await cluster.status()
  t.ok(after.nodes[0].serving, 'node-1 still serves')
})
