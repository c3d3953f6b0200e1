// impacket against smbd and a node (issue 14, acceptance): SMBConnection at 2.0.2, 2.1, 3.0 and
// 3.1.1 and impacket.smb3.SMB3 at 3.0.2 log in, list shares over the srvsvc pipe, put and get
// a file (bytes compared), delete it and log off, signing required. Every case must do what
// DIALECT_EXPECTATIONS says on both servers: impacket 0.10.0's own 3.1.1 bug included, which
// a server that checks signatures must refuse as smbd does.
import t from 'tap'
import { DIALECT_EXPECTATIONS, impacketMissing, runImpacketCases, type DialectResult } from '../../tools/smb-conformance/impacket.js'
import { wireTargets } from './wire-targets.js'

// Client addresses of its own: a node that binds 445 (as root) must not meet another test's.
const targets = await wireTargets(t, impacketMissing(), '127.0.81')

for (const { label, target, skip } of targets) {
  t.test(`impacket SMBConnection and SMB3 on every dialect against ${label}`, { skip }, async (t) => {
    const run = runImpacketCases(target!, 'dialects')
    const results = new Map(run.results.filter((r): r is DialectResult => r.group === 'dialects').map((r) => [r.case, r]))
    t.equal(run.code, 0, `impacket-cases.py exited cleanly${run.code === 0 ? '' : `: ${run.signal ?? ''} ${run.stderr}`}`)
    for (const [name, want] of Object.entries(DIALECT_EXPECTATIONS)) {
      const r = results.get(name)
      if (!r) {
        t.fail(`${name}: no result`)
        continue
      }
      t.equal(r.negotiated, r.dialect, `${name}: negotiated ${r.dialect}`)
      if (want.ok) {
        t.ok(r.ok, `${name}: ${r.steps.join(', ')}${r.ok ? ` in ${r.ms} ms` : `; failed at ${r.failedStep}: ${r.error}`}`)
        if (r.ok) t.ok(r.shares?.includes(target!.share) && r.shares.includes('IPC$'), `${name}: lists ${target!.share} and IPC$ (${r.shares?.join(', ')})`)
      } else {
        t.ok(!r.ok && r.failedStep === want.failedStep && r.error === want.error, `${name}: refused at ${want.failedStep} with ${want.error}, since ${want.why}; got ${r.ok ? 'success' : `${r.failedStep}: ${r.error}`}`)
      }
    }
  })
}
