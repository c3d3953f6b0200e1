// tshark decodes a captured SMB session (issue 14, acceptance): negotiate to logoff of a
// signed 3.1.1 session that lists, puts and gets, and `smbclient -L`'s srvsvc NetShareEnumAll
// over the \PIPE\srvsvc named pipe on IPC$, with zero malformed packets on a node. smbd
// itself is flagged for one thing (tshark 4.0 cannot parse the negHints of Samba's SPNEGO
// negTokenInit in its NEGOTIATE response, see /work/shared/reference/smb2-wire.md): against
// smbd, exactly those frames may be flagged, which validates the harness.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { captureProblem, startCapture, stopCapture } from '../../cluster/packet-capture.js'
import { smbclient, smbclientList, smbclientMissing } from '../../tools/smb-conformance/smbclient-cases.js'
import { SMB2_COMMANDS, decodeSession, tsharkMissing } from '../../tools/smb-conformance/tshark-decode.js'
import { freshDir } from '../helpers/cluster-fixture.js'
import { wireTargets } from './wire-targets.js'

// Client addresses of its own: a node that binds 445 (as root) must not meet another test's.
const targets = await wireTargets(t, tsharkMissing() ?? smbclientMissing() ?? captureProblem(), '127.0.84')
const MUST_SEE = ['NEGOTIATE', 'SESSION_SETUP', 'TREE_CONNECT', 'CREATE', 'QUERY_DIRECTORY', 'QUERY_INFO', 'WRITE', 'READ', 'CLOSE', 'IOCTL', 'TREE_DISCONNECT', 'LOGOFF']

for (const { label, target, skip } of targets) {
  t.test(`tshark decodes a signed 3.1.1 session and a srvsvc call on ${label}`, { skip }, async (t) => {
    const dir = freshDir(t, 'swlab-wire-tshark-')
    const pcap = join(dir, 'session.pcapng')
    const capture = await startCapture({
      out: pcap,
      spec: { servers: [{ hosts: [target!.host], ports: [target!.port] }], decodeAs: [{ port: target!.port, protocol: 'nbss' }] },
      logPath: join(dir, 'dumpcap.log'),
    })
    t.teardown(() => stopCapture(capture))
    const local = join(dir, 'up.bin')
    // Under 128 KiB a message: on a port other than 445 tshark's NBSS reads 17-bit lengths.
    writeFileSync(local, randomBytes(100_000))
    const session = smbclient(target!, `ls; put ${local} tshark-probe.bin; get tshark-probe.bin ${join(dir, 'down.bin')}; rm tshark-probe.bin; logoff`, { maxProtocol: 'SMB3_11', protection: 'sign' })
    t.equal(session.code, 0, `smbclient ls/put/get/rm at 3.1.1, signed: ${session.status ?? 'ok'}`)
    const list = smbclientList(target!, { maxProtocol: 'SMB3_11', protection: 'sign' })
    t.equal(list.code, 0, `smbclient -L: ${list.status ?? 'ok'}`)
    // Everything sent is in the file before it is read (see syncCapture).
    await stopCapture(capture, { host: target!.host, port: target!.port })

    const d = decodeSession(pcap, target!.port)
    t.equal(d.error, null, 'tshark read the capture')
    for (const name of MUST_SEE) t.ok(d.commands.has(SMB2_COMMANDS[name]), `SMB2 ${name} decoded`)
    t.ok(d.dialects.has(0x0311), `the server chose 3.1.1 (${[...d.dialects].map((x) => `0x${x.toString(16).padStart(4, '0')}`).join(', ')})`)
    t.ok(d.signedMessages > 10, `${d.signedMessages} signed SMB2 messages`)
    t.ok(d.srvsvcOpnums.has(15), `srvsvc NetShareEnumAll (opnum 15) over the named pipe decoded (opnums ${[...d.srvsvcOpnums].join(', ')})`)
    if (target!.name === 'smbd') {
      // Only smbd's NEGOTIATE responses (SMB2 command 0, response flag set), for its SPNEGO negHints.
      const other = d.malformed.filter((m) => m.commands !== '0/1' && m.commands !== '0/True')
      t.same(other, [], `only smbd's NEGOTIATE responses are flagged (${d.malformed.length} of them, for Samba's negHints)`)
    } else {
      t.same(d.malformed, [], 'zero malformed packets')
    }
  })
}
