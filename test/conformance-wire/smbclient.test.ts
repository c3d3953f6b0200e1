// smbclient against smbd and a node (issue 14, acceptance): ls, put, get (bytes identical),
// mkdir, rename, rm, allinfo with signing required and again sealed; `smbclient -L` lists every
// share and IPC$; bad credentials, an unknown share, a path escaping the share, a read past end
// of file and a write on a read-only handle each get their NTSTATUS and change nothing. The
// same table runs against both servers; against smbd it validates the harness.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { freshDir } from '../helpers/cluster-fixture.js'
import { impacketMissing, runImpacketCases, type StatusResult } from '../../tools/smb-conformance/impacket.js'
import {
  BAD_INPUT_CASES,
  expectedStatus,
  runFileWorkflow,
  runShareList,
  runSmbclientBadInput,
  smbclientMissing,
  snapshotTree,
} from '../../tools/smb-conformance/smbclient-cases.js'
import { wireTargets } from './wire-targets.js'

// Client addresses of its own: a node that binds 445 (as root) must not meet another test's.
const targets = await wireTargets(t, smbclientMissing(), '127.0.82')

for (const { label, target, skip } of targets) {
  t.test(`smbclient file workflow, signed and sealed, against ${label}`, { skip }, async (t) => {
    const work = freshDir(t, 'swlab-wire-smbclient-')
    for (const protection of ['sign', 'encrypt'] as const) {
      for (const r of runFileWorkflow(target!, protection, work)) t.ok(r.ok, `${r.case}${r.ok ? '' : `: ${r.detail}`}`)
    }
  })

  t.test(`smbclient -L lists every share and IPC$ on ${label}`, { skip }, async (t) => {
    for (const r of runShareList(target!)) t.ok(r.ok, `${r.case}: ${r.detail}`)
  })

  t.test(`bad input gets its NTSTATUS and changes nothing on ${label}`, { skip: skip || impacketMissing() || false }, async (t) => {
    const before = target!.sharePath ? snapshotTree(target!.sharePath) : null
    const smbclientRuns = runSmbclientBadInput(target!)
    const impacket = runImpacketCases(target!, 'bad-input')
    const statuses = new Map(impacket.results.filter((r): r is StatusResult => r.group === 'bad-input').map((r) => [r.case, r]))
    const setup = statuses.get('setup')
    t.notOk(setup, setup ? `the impacket bad-input run failed to set up: ${setup.status} ${setup.trace ?? impacket.stderr}` : 'the impacket bad-input run set up')
    for (const c of BAD_INPUT_CASES) {
      const want = expectedStatus(c, target!)
      if (c.tool === 'smbclient') {
        const r = smbclientRuns.get(c.case)!
        t.ok(r.code !== 0 && r.status === want, `${c.case}: ${want} (${c.why}); got exit ${r.code} ${r.status}`)
      } else {
        const got = statuses.get(c.case)?.status
        // impacket names statuses without the NT_ prefix smbclient prints.
        t.equal(got, want, `${c.case}: ${want} (${c.why})`)
      }
    }
    if (before) t.same(snapshotTree(target!.sharePath!), before, 'the share holds exactly what it held before')
    if (target!.logPath) {
      // Issue 14: each refused input appears in the node's log, by its status name.
      const log = existsSync(target!.logPath) ? readFileSync(target!.logPath, 'utf8') : ''
      for (const c of BAD_INPUT_CASES.filter((c) => c.expected !== 'STATUS_SUCCESS')) {
        const name = c.expected.replace(/^NT_/, '')
        t.ok(log.includes(name), `${c.case}: ${name} is in ${target!.logPath}`)
      }
    }
    if (target!.sharePath) t.notOk(existsSync(join(dirname(target!.sharePath), 'escaped-by-impacket.txt')), 'nothing was created beside the share')
  })
}
