// What tshark 4.0 makes of the tokens the acceptor sends: an SMB2 NEGOTIATE response carrying the
// server's initial SPNEGO token (no negHints), and the SESSION_SETUP legs of a full SPNEGO/NTLMSSP
// exchange with mechListMICs, written to a pcap and dissected. Nothing may be malformed, and the
// fields must come out as sent. Skipped when tshark is not installed.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpnegoAcceptor } from '../../core/auth/spnego-acceptor.js'
import { SpnegoInitiator } from '../../core/auth/spnego-initiator.js'
import { ntlmAccountTable } from '../../core/auth/ntlm-accounts.js'
import { NT_STATUS_AUTH } from '../../protocol/smb2/ntstatus.js'
import { serverInitialToken } from '../../protocol/spnego/spnego-token.js'
import { nbss, tcpPcap, type PcapSegment } from '../helpers/pcap-writer.js'

const tsharkMissing = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0 ? false : 'tshark is not installed'
const PORT = 44_599

/** An SMB2 header (MS-SMB2 2.2.1.2): a request, or a response with its status. */
function header(command: number, messageId: number, sessionId: bigint, response?: number): Buffer {
  const h = Buffer.alloc(64)
  h.writeUInt32BE(0xfe534d42, 0)
  h.writeUInt16LE(64, 4)
  h.writeUInt16LE(1, 6)
  if (response !== undefined) h.writeUInt32LE(response, 8)
  h.writeUInt16LE(command, 12)
  h.writeUInt16LE(1, 14)
  h.writeUInt32LE(response !== undefined ? 1 : 0, 16)
  h.writeBigUInt64LE(BigInt(messageId), 24)
  h.writeUInt32LE(0xfeff, 32)
  h.writeBigUInt64LE(sessionId, 40)
  return h
}

/** SESSION_SETUP request (MS-SMB2 2.2.5) with its security buffer at offset 88. */
function sessionSetupRequest(messageId: number, sessionId: bigint, token: Buffer): Buffer {
  const body = Buffer.alloc(24)
  body.writeUInt16LE(25, 0)
  body[3] = 1 // SMB2_NEGOTIATE_SIGNING_ENABLED
  body.writeUInt16LE(88, 12)
  body.writeUInt16LE(token.length, 14)
  return Buffer.concat([header(1, messageId, sessionId), body, token])
}

/** SESSION_SETUP response (MS-SMB2 2.2.6) with its security buffer at offset 72. */
function sessionSetupResponse(messageId: number, sessionId: bigint, status: number, token: Buffer): Buffer {
  const body = Buffer.alloc(8)
  body.writeUInt16LE(9, 0)
  body.writeUInt16LE(token.length > 0 ? 72 : 0, 4)
  body.writeUInt16LE(token.length, 6)
  return Buffer.concat([header(1, messageId, sessionId, status), body, token])
}

t.test('tshark dissects the server token and a whole SPNEGO/NTLMSSP exchange with mechListMICs without a malformed packet', { skip: tsharkMissing }, async (t) => {
  // smbd 4.17's NEGOTIATE request and response at 2.1 (fixture), the response's token replaced by ours.
  const fixture = JSON.parse(readFileSync(new URL('../protocol/fixtures/smbd-4.17-sessions.json', import.meta.url), 'utf8')) as { sessions: Record<string, Array<{ hex: string }>> }
  const [negotiateRequest, smbdResponse] = fixture.sessions.smb21.map((f) => Buffer.from(f.hex, 'hex'))
  const bufferOffset = smbdResponse.readUInt16LE(64 + 56)
  const negotiateResponse = Buffer.concat([smbdResponse.subarray(0, bufferOffset), serverInitialToken()])
  negotiateResponse.writeUInt16LE(serverInitialToken().length, 64 + 58)

  const acceptor = new SpnegoAcceptor({ names: { nbComputerName: 'NODE1', nbDomainName: 'WORKGROUP', dnsComputerName: 'node1', dnsDomainName: '' }, accounts: ntlmAccountTable([{ user: 'alice', password: 'pw' }]) })
  const client = new SpnegoInitiator({ userName: 'alice', domainName: 'WORKGROUP', password: 'pw', workstation: 'WS' })
  const serverInputs = { serverChallenge: Buffer.alloc(8, 1), timestamp: 133_500_000_000_000_000n }
  const clientInputs = { clientChallenge: Buffer.alloc(8, 2), randomSessionKey: Buffer.alloc(16, 3), timestamp: 0n }
  const sessionId = 0x0000_4000_0000_0001n
  const first = client.initialToken()
  const leg1 = acceptor.step(first, serverInputs)
  if (leg1.status !== NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED) throw new Error('leg 1')
  const second = client.step(leg1.token, clientInputs)
  if (second.state !== 'continue') throw new Error('client leg 2')
  const leg2 = acceptor.step(second.token, serverInputs)
  if (leg2.status !== NT_STATUS_AUTH.SUCCESS) throw new Error('leg 2')
  t.ok(leg2.mechListMicExchanged)

  const segments: PcapSegment[] = [
    { fromClient: true, payload: nbss(negotiateRequest) },
    { fromClient: false, payload: nbss(negotiateResponse) },
    { fromClient: true, payload: nbss(sessionSetupRequest(1, 0n, first)) },
    { fromClient: false, payload: nbss(sessionSetupResponse(1, sessionId, NT_STATUS_AUTH.MORE_PROCESSING_REQUIRED, leg1.token)) },
    { fromClient: true, payload: nbss(sessionSetupRequest(2, sessionId, second.token)) },
    { fromClient: false, payload: nbss(sessionSetupResponse(2, sessionId, NT_STATUS_AUTH.SUCCESS, leg2.token)) },
  ]
  const dir = mkdtempSync(join(tmpdir(), 'spnego-tshark-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'exchange.pcap')
  writeFileSync(file, tcpPcap(segments, PORT))
  const tshark = (...args: string[]): string => {
    const r = spawnSync('tshark', ['-r', file, '-d', `tcp.port==${PORT},nbss`, ...args], { encoding: 'utf8' })
    t.equal(r.status, 0, `tshark ${args.join(' ')}: exit ${r.status} ${r.status === 0 ? '' : r.stderr}`)
    return r.stdout
  }
  t.equal(tshark('-Y', '_ws.malformed || _ws.expert.severity == error').trim(), '', 'no malformed packet, no error')
  const fields = tshark('-Y', 'smb2', '-T', 'fields', '-E', 'separator=|', '-e', 'smb2.cmd', '-e', 'smb2.flags.response', '-e', 'ntlmssp.messagetype', '-e', 'ntlmssp.auth.username', '-e', 'spnego.mechListMIC', '-e', 'spnego.supportedMech', '-e', 'ntlmssp.ntlmv2_response.nb_computer_name')
    .trim()
    .split('\n')
  t.equal(fields.length, 6, fields.join('\n'))
  t.match(fields[1], /^0\|1\|\|\|\|/, 'NEGOTIATE response')
  t.match(fields[2], /^1\|0\|0x00000001\|/, 'NTLMSSP_NEGOTIATE')
  t.match(fields[3], /^1\|1\|0x00000002\|\|\|1\.3\.6\.1\.4\.1\.311\.2\.2\.10\|/, 'NTLMSSP_CHALLENGE with supportedMech NTLMSSP')
  t.match(fields[4], /^1\|0\|0x00000003\|alice\|[0-9a-f]{32}\|\|NODE1/, 'NTLMSSP_AUTH from alice with a client mechListMIC and the server names echoed')
  t.match(fields[5], /^1\|1\|\|\|[0-9a-f]{32}\|/, 'accept-completed with the server mechListMIC')
})
