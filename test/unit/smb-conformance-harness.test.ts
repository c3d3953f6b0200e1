// The pure parts of the wire conformance harness (tools/smb-conformance, tools/reference-smbd,
// tools/smb-target): reading smbtorture's subunit output, comparing a run with smbd's
// baseline and the known differences, the private smb.conf, and finding a node's SMB 2/3
// endpoint in `cluster status --json`. The harness itself runs in `npm run test:conformance`.
import t from 'tap'
import { SMBTORTURE_SEED, compareWithBaseline, inShareKindSuites, knownDifferencesOf, parseList, parseOutcome, shortName, smbtortureArgs, tally, type Baseline, type KnownDifferences, type TortureResult } from '../../tools/smb-conformance/smbtorture.js'
import { smbConf } from '../../tools/reference-smbd.js'
import { smb2EndpointOf } from '../../tools/smb-target.js'
import { BAD_INPUT_CASES, expectedStatus } from '../../tools/smb-conformance/smbclient-cases.js'
import { DIALECT_EXPECTATIONS } from '../../tools/smb-conformance/impacket.js'

t.test('smbtorture --list: only sub-tests of exactly that suite', async (t) => {
  const out = 'smbtorture 4.17.12-Debian\nsmb2.session.reauth1.reauth1\nsmb2.session.signing-hmac-sha-256.signing-hmac-sha-256\nsmb2.session-require-signing.bug15397.bug15397\n'
  t.same(parseList(out, 'smb2.session'), ['smb2.session.reauth1.reauth1', 'smb2.session.signing-hmac-sha-256.signing-hmac-sha-256'])
  t.equal(shortName('smb2.read.eof.eof'), 'eof')
  t.equal(shortName('smb2.setinfo.setinfo'), 'setinfo')
})

t.test('every smbtorture run has the same seed, unless one is given', async (t) => {
  const target = { name: 'n', host: '127.0.0.1', port: 4450, user: 'u', password: 'p', share: 's' }
  const seedOf = (args: string[]) => args[args.indexOf('--seed') + 1]
  t.equal(seedOf(smbtortureArgs(target, 'smb2.replay.channel-sequence')), String(SMBTORTURE_SEED), 'the fixed seed by default')
  t.equal(seedOf(smbtortureArgs(target, 'smb2.replay.channel-sequence', { seed: 7 })), '7', 'a seed given')
  t.equal(smbtortureArgs(target, 'smb2.lease.request').at(-1), 'smb2.lease.request', 'the sub-test stays last')
})

t.test('smbtorture outcomes from subunit lines', async (t) => {
  const head = 'smbtorture 4.17.12-Debian\nUsing seed 1\ntime: 2026-12-05 13:52:28.364993\ntest: eof\ntime: 2026-12-05 13:52:28.365174\n'
  t.same(parseOutcome(`${head}success: eof\n`, 'smb2.read.eof.eof', 0), { outcome: 'success', detail: '' })
  const failure = parseOutcome(`${head}failure: eof [\n../../source4/torture/smb2/read.c:100: status was NT_STATUS_OK\nsecond line\n]\n`, 'smb2.read.eof.eof', 1)
  t.equal(failure.outcome, 'failure')
  t.match(failure.detail, /read\.c:100: status was NT_STATUS_OK\nsecond line/)
  t.same(parseOutcome(`${head}skip: eof [\nno such thing]\n`, 'smb2.read.eof.eof', 0).outcome, 'skip')
  t.same(parseOutcome(`${head}error: eof [\nboom\n]\n`, 'smb2.read.eof.eof', 1).outcome, 'error')
  t.same(parseOutcome(`${head}xfail: eof\n`, 'smb2.read.eof.eof', 0).outcome, 'xfail')
  // A result line for another test name does not count.
  t.equal(parseOutcome(`${head}success: eofx\n`, 'smb2.read.eof.eof', 0).outcome, 'error')
  const none = parseOutcome(head, 'smb2.read.eof.eof', 139)
  t.equal(none.outcome, 'error')
  t.match(none.detail, /no result line for eof \(exit 139\)/)
})

t.test('a run compared with the baseline and the known differences', async (t) => {
  const baseline: Baseline = {
    comment: '',
    command: 'npm run conformance:baseline',
    smbdVersion: 'Version 4.17.12-Debian',
    smbtortureVersion: 'Version 4.17.12-Debian',
    recordedAt: '2026-12-05T00:00:00Z',
    results: { 'a.a': 'success', 'b.b': 'failure', 'c.c': 'success', 'd.d': 'success', 'e.e': 'skip', 'f.f': 'success' },
  }
  const known: KnownDifferences = {
    comment: '',
    differences: {
      'b.b': { outcome: 'success', reason: 'Windows behaviour that smbd lacks' },
      'c.c': { outcome: 'failure', reason: 'not implemented yet' },
      'd.d': { outcome: 'failure', reason: 'listed as failing' },
    },
  }
  const r = (name: string, outcome: TortureResult['outcome']): TortureResult => ({ name, outcome, ms: 1, detail: `${name} detail` })
  const c = compareWithBaseline([r('a.a', 'success'), r('b.b', 'success'), r('c.c', 'success'), r('d.d', 'timeout'), r('e.e', 'failure'), r('x.x', 'success')], baseline, known)
  t.same(c.unexpected, [{ name: 'e.e', expected: 'skip', got: 'failure', detail: 'e.e detail' }], 'an unlisted difference is unexpected')
  t.same(c.noLongerDifferent, [{ name: 'c.c', outcome: 'success', reason: 'not implemented yet' }], 'a listed difference that matches smbd now is reported')
  t.same(c.differentlyDifferent, [{ name: 'd.d', listed: 'failure', got: 'timeout' }], 'a listed difference that differs another way is only noted')
  t.same(c.notInBaseline, ['x.x'])
  t.same(c.notRun, ['f.f'])
  t.equal(c.matched, 1)
  t.same(tally([r('a', 'success'), r('b', 'success'), r('c', 'skip')]), { success: 2, skip: 1 })
})

t.test("the known differences of one share kind: shared entries that apply to it, then the kind's own", async (t) => {
  const known: KnownDifferences = {
    comment: 'c',
    differences: {
      'smb2.replay.a': { outcome: 'skip', reason: 'both kinds' },
      'smb2.replay.b': { outcome: 'skip', reason: 'skips on SCALEOUT', kinds: ['scale-out'] },
      'smb2.replay.c': { outcome: 'failure', reason: 'general only', kinds: ['general'] },
    },
    byKind: { general: { 'smb2.replay.b': { outcome: 'failure', reason: 'runs on the general share and fails' } } },
  }
  t.same(Object.keys(knownDifferencesOf(known, 'scale-out').differences).sort(), ['smb2.replay.a', 'smb2.replay.b'])
  t.same(knownDifferencesOf(known, 'scale-out').differences['smb2.replay.b'].outcome, 'skip')
  const general = knownDifferencesOf(known, 'general').differences
  t.same(Object.keys(general).sort(), ['smb2.replay.a', 'smb2.replay.b', 'smb2.replay.c'])
  t.same(general['smb2.replay.b'], { outcome: 'failure', reason: 'runs on the general share and fails' }, "the kind's own entry replaces the shared one")
  t.ok(inShareKindSuites('smb2.durable-v2-open.reopen1.reopen1') && inShareKindSuites('smb2.lease.request.request'), 'issue 15 suites')
  t.notOk(inShareKindSuites('smb2.read.eof.eof') || inShareKindSuites('smb2.session-require-signing.x'), 'others, and suites that only share a prefix')
})

t.test('the reference smbd configuration keeps everything in its folder', async (t) => {
  const conf = smbConf({ dir: '/tmp/x', host: '127.0.0.1', port: 4455, share: 'share-1', sharePath: '/tmp/x/share', global: { 'server smb encrypt': 'required' } })
  for (const line of [
    'smb ports = 4455',
    'interfaces = 127.0.0.1',
    'bind interfaces only = yes',
    'passdb backend = tdbsam:/tmp/x/passdb.tdb',
    'server signing = mandatory',
    'server min protocol = SMB2_02',
    'rpc start on demand helpers = no',
    'server smb encrypt = required',
    '[share-1]',
    'path = /tmp/x/share',
    'kernel oplocks = no',
    'kernel share modes = no',
    'posix locking = no',
    'smb3 share cap:CONTINUOUS AVAILABILITY = yes',
    'smb3 share cap:SCALE OUT = yes',
    'smb3 share cap:CLUSTER = yes',
  ]) {
    t.ok(conf.includes(`  ${line}\n`) || conf.includes(`${line}\n`), line)
  }
  for (const key of ['state directory', 'lock directory', 'cache directory', 'pid directory', 'private dir', 'ncalrpc dir', 'log file']) {
    t.match(conf, new RegExp(`  ${key} = /tmp/x/`), `${key} is under the temp folder`)
  }
})

t.test("a node's SMB 2/3 endpoint in cluster status", async (t) => {
  t.same(smb2EndpointOf({ id: 'node-1', smb2: { address: '127.0.1.1', port: 4450 } }), { address: '127.0.1.1', port: 4450 })
  t.equal(smb2EndpointOf({ id: 'node-1' }), null, 'absent: not served yet')
  t.equal(smb2EndpointOf({ id: 'node-1', smb2: null }), null)
  t.equal(smb2EndpointOf({ id: 'node-1', smb2: { address: '127.0.1.1', port: 0 } }), null)
  t.equal(smb2EndpointOf(null), null)
})

t.test('the bad-input table and the impacket expectations', async (t) => {
  const names = BAD_INPUT_CASES.map((c) => c.case)
  t.equal(new Set(names).size, names.length, 'case names are unique')
  for (const c of BAD_INPUT_CASES) {
    t.match(c.expected, c.tool === 'smbclient' ? /^NT_STATUS_[A-Z_]+$/ : /^STATUS_[A-Z_]+$/, `${c.case}: a status in the form ${c.tool} prints`)
    t.ok(c.why.length > 5, `${c.case} says why`)
  }
  const absolute = BAD_INPUT_CASES.find((c) => c.case === 'create an absolute path')!
  const target = { host: '127.0.0.1', port: 1, user: 'u', password: 'p', share: 's' }
  t.equal(expectedStatus(absolute, { ...target, name: 'smbd' }), 'STATUS_OBJECT_PATH_NOT_FOUND', "smbd's own status where it differs")
  t.equal(expectedStatus(absolute, { ...target, name: 'node-1' }), 'STATUS_INVALID_PARAMETER', "a node is held to the spec's")
  t.same(Object.keys(DIALECT_EXPECTATIONS), ['SMBConnection 2.0.2', 'SMBConnection 2.1', 'SMBConnection 3.0', 'SMBConnection 3.1.1', 'SMBConnection 3.1.1 (preauth fix)', 'SMB3 3.0.2'])
})
