// Mutated frames against a live SMB2 wire front (the stand-in acceptor and signer of
// smb2-wire-front.test.ts): every command, before and after authentication (mutated, then signed,
// so that the bodies are reached), compound and not, and raw garbage. The front must never crash
// or hang: every frame gets an answer or the connection is dropped, a valid client works after
// all of it, and when the fuzzing connections are gone no connection, session or tree is left.
// SMB2_WIRE_FUZZ_FRAMES raises the count (the 50,000 run takes a few minutes).
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { encodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { encodeCloseRequest, encodeCreateRequest } from '../../protocol/smb2/create.js'
import { encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { RELATED_FILE_ID } from '../../protocol/smb2/file-id.js'
import { HEADER_OFFSET, SMB2_COMMAND, SMB2_FLAGS, ZERO_SIGNATURE, chainCompound } from '../../protocol/smb2/header.js'
import { encodeIoctlRequest } from '../../protocol/smb2/ioctl.js'
import { encodeLockRequest } from '../../protocol/smb2/lock.js'
import { encodeNegotiateRequest } from '../../protocol/smb2/negotiate.js'
import { encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import { encodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { encodeQueryInfoRequest, encodeSetInfoRequest } from '../../protocol/smb2/query-info.js'
import { encodeFlushRequest, encodeReadRequest, encodeWriteRequest } from '../../protocol/smb2/read-write.js'
import { encodeSessionSetupRequest } from '../../protocol/smb2/session-setup.js'
import { encodeSmb1Negotiate } from '../../protocol/smb2/smb1-negotiate.js'
import { encodeTreeConnectRequest } from '../../protocol/smb2/tree-connect.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { CsvService, type ShareInfo } from '../../server/smb/csv-service.js'
import { Smb2Front } from '../../server/smb2/smb2-front.js'
import type { Smb2Security } from '../../server/smb2/smb2-security.js'
import type { GssAcceptor } from '../../server/smb2/smb2-state.js'
import { Smb2TestClient } from '../helpers/smb2-test-client.js'

const HOST = '127.0.0.1'
const FRAMES = Number(process.env.SMB2_WIRE_FUZZ_FRAMES ?? 3000)
const KEY = Buffer.alloc(16, 0x33)
const ID = { persistent: '0102030405060708', volatile: '1112131415161718' }

function sig(msg: Buffer, key: Buffer): Buffer {
  const copy = Buffer.from(msg)
  ZERO_SIGNATURE.copy(copy, HEADER_OFFSET.SIGNATURE)
  return createHmac('sha256', key).update(copy).digest().subarray(0, 16)
}

const security: Smb2Security = {
  deriveKeys: (k) => ({ signingKey: k, encryptionKey: k, decryptionKey: k, applicationKey: k }),
  sign: (m, k) => sig(Buffer.isBuffer(m) ? m : Buffer.concat(m), k),
  verify: (m, k) => sig(m, k).equals(m.subarray(48, 64)),
  encrypt: () => [],
  decrypt: () => null,
}

function acceptor(): GssAcceptor {
  let leg = 0
  return {
    step: (token) => {
      leg++
      if (leg === 1) return { kind: 'continue', token: Buffer.from('c') }
      return token.toString() === 'ok' ? { kind: 'accepted', token: Buffer.alloc(0), user: 'alice', anonymous: false, sessionKey: KEY } : { kind: 'refused', status: NT_STATUS.LOGON_FAILURE, reason: 'no' }
    },
  }
}

/** xorshift32: the run is the same for a seed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

const negotiate = () =>
  encodeNegotiateRequest({
    securityMode: 1,
    capabilities: 0x7f,
    clientGuid: '0a0b0c0d-0e0f-1011-1213-141516171819',
    dialects: [0x0202, 0x0210, 0x0300, 0x0302, 0x0311],
    negotiateContexts: [{ kind: 'preauth', hashAlgorithms: [1], salt: Buffer.alloc(32, 1) }, { kind: 'signing', signingAlgorithms: [1] }],
    clientStartTime: 0n,
  })

/** A valid body of every command. */
const BODIES: readonly [number, () => Buffer | Buffer[]][] = [
  [SMB2_COMMAND.NEGOTIATE, negotiate],
  [SMB2_COMMAND.SESSION_SETUP, () => encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('ok') })],
  [SMB2_COMMAND.LOGOFF, () => encodeEmptyBody()],
  [SMB2_COMMAND.TREE_CONNECT, () => encodeTreeConnectRequest({ flags: 0, path: '\\\\h\\share-1' })],
  [SMB2_COMMAND.TREE_DISCONNECT, () => encodeEmptyBody()],
  [SMB2_COMMAND.CREATE, () => encodeCreateRequest({ securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 0x12019f, fileAttributes: 0, shareAccess: 7, createDisposition: 3, createOptions: 0, name: 'f.bin', createContexts: [{ name: Buffer.from('MxAc'), data: Buffer.alloc(0) }] })],
  [SMB2_COMMAND.CLOSE, () => encodeCloseRequest({ flags: 1, fileId: ID })],
  [SMB2_COMMAND.FLUSH, () => encodeFlushRequest({ fileId: ID })],
  [SMB2_COMMAND.READ, () => encodeReadRequest({ padding: 0x50, flags: 0, length: 100, offset: 0n, fileId: ID, minimumCount: 0, channel: 0, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) })],
  [SMB2_COMMAND.WRITE, () => encodeWriteRequest({ offset: 0n, fileId: ID, channel: 0, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data: Buffer.alloc(64, 7) })],
  [SMB2_COMMAND.LOCK, () => encodeLockRequest({ lockSequence: 0, fileId: ID, locks: [{ offset: 0n, length: 1n, flags: 0x12 }] })],
  [SMB2_COMMAND.IOCTL, () => encodeIoctlRequest({ ctlCode: 0x140204, fileId: RELATED_FILE_ID, input: Buffer.alloc(40, 2), maxInputResponse: 0, output: Buffer.alloc(0), maxOutputResponse: 64, flags: 1 })],
  [SMB2_COMMAND.ECHO, () => encodeEmptyBody()],
  [SMB2_COMMAND.QUERY_DIRECTORY, () => encodeQueryDirectoryRequest({ fileInformationClass: 37, flags: 0, fileIndex: 0, fileId: ID, fileName: '*', outputBufferLength: 4096 })],
  [SMB2_COMMAND.CHANGE_NOTIFY, () => encodeChangeNotifyRequest({ flags: 0, outputBufferLength: 100, fileId: ID, completionFilter: 1 })],
  [SMB2_COMMAND.QUERY_INFO, () => encodeQueryInfoRequest({ infoType: 1, fileInfoClass: 18, outputBufferLength: 4096, input: Buffer.alloc(0), additionalInformation: 0, flags: 0, fileId: ID })],
  [SMB2_COMMAND.SET_INFO, () => encodeSetInfoRequest({ infoType: 1, fileInfoClass: 20, buffer: Buffer.alloc(8), additionalInformation: 0, fileId: ID })],
  [SMB2_COMMAND.OPLOCK_BREAK, () => encodeOplockBreak({ kind: 'oplock', oplockLevel: 0, fileId: ID })],
]

function mutate(msg: Buffer, random: () => number): Buffer {
  let m = Buffer.from(msg)
  const edits = 1 + Math.floor(random() * 4)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * Math.max(1, m.length))
    switch (Math.floor(random() * 6)) {
      case 0:
        if (m.length > 0) m[at] = Math.floor(random() * 256)
        break
      case 1:
        if (at + 2 <= m.length) m.writeUInt16LE([0, 1, 8, 0x40, 0x78, 0xffff][Math.floor(random() * 6)], at)
        break
      case 2:
        if (at + 4 <= m.length) m.writeUInt32LE([0, 8, 0x40, 0x1000, 0x7fffffff, 0xffffffff][Math.floor(random() * 6)], at)
        break
      case 3:
        m = m.subarray(0, at)
        break
      case 4:
        m = Buffer.concat([m, randomBytes(Math.floor(random() * 64))])
        break
      default:
        // Body only: keep the header so that the command's decoder is reached.
        if (m.length > 64) m[64 + Math.floor(random() * (m.length - 64))] ^= 0xff
    }
  }
  return m
}

t.test(`${FRAMES} mutated frames never crash or wedge the front`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'smb2-fuzz-'))
  const log = pino({ level: 'silent' })
  const shares: ShareInfo[] = [{ name: 'share-1', csv: 'csv1', continuouslyAvailable: true, caTimeoutMs: 0 }]
  const service = new CsvService(join(dir, 'storage'), 'csv1', shares, log, () => ({ persistent: randomBytes(8).toString('hex'), volatile: randomBytes(8).toString('hex') }), 0)
  const front = new Smb2Front({
    nodeId: 'node-1',
    clusterName: 'fuzz',
    shares,
    isServing: () => true,
    route: (_csv, op) => service.execute(op),
    endSession: async (key, close) => (close ? service.closeSession(key) : service.disconnectSession(key, 0)),
    signingRequired: true,
    encryptAll: false,
    security,
    ciphers: [],
    newAcceptor: acceptor,
    spnegoInitialToken: Buffer.from('init'),
    clock: { nowMs: () => performance.now(), wallNowMs: () => Date.now() },
    log,
  })
  const port = await front.listen(HOST, 0)
  t.teardown(async () => {
    front.close()
    await service.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const random = prng(0x5eed)
  let sent = 0
  let answered = 0
  let dropped = 0
  while (sent < FRAMES) {
    const c = await Smb2TestClient.connect(HOST, port)
    const phase = random()
    try {
      if (phase < 0.1) {
        // Raw garbage or a mutated SMB1 NEGOTIATE as the first frame.
        c.sendFrame(random() < 0.5 ? randomBytes(1 + Math.floor(random() * 200)) : mutate(encodeSmb1Negotiate(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']), random))
        sent++
        if (await c.nextFrame(2000)) answered++
        else dropped++
        continue
      }
      await c.call(SMB2_COMMAND.NEGOTIATE, negotiate())
      const authenticated = phase >= 0.4
      if (authenticated) {
        const leg1 = await c.call(SMB2_COMMAND.SESSION_SETUP, encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('x') }))
        c.sessionId = leg1.header.sessionId
        await c.call(SMB2_COMMAND.SESSION_SETUP, encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('ok') }))
        c.signer = (m) => {
          if (m.length < 64) return
          m.writeUInt32LE(m.readUInt32LE(16) | SMB2_FLAGS.SIGNED, 16)
          sig(m, KEY).copy(m, 48)
        }
        const tree = await c.call(SMB2_COMMAND.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\h\\share-1' }))
        c.treeId = tree.header.treeId
      }
      // Up to 40 mutated requests on this connection, until it is dropped.
      for (let i = 0; i < 40 && sent < FRAMES; i++) {
        const compound = random() < 0.15
        const pick = () => BODIES[Math.floor(random() * BODIES.length)]
        const messages = (compound ? [pick(), pick(), pick()] : [pick()]).map(([command, body], index) =>
          c.request(command, body(), index > 0 && random() < 0.7 ? { flags: SMB2_FLAGS.RELATED_OPERATIONS } : {}),
        )
        const mutated = messages.map((m) => (random() < 0.8 ? mutate(m, random) : m))
        const frame = compound ? Buffer.concat(chainCompound(mutated.map((m) => (m.length >= 64 ? m : Buffer.concat([m, Buffer.alloc(64 - m.length)]))))) : mutated[0]
        if (authenticated && c.signer && !compound) c.signer(frame)
        if (frame.length === 0) continue
        c.sendFrame(frame)
        sent++
        // A CANCEL has no answer of its own (MS-SMB2 3.3.5.16).
        if (!compound && frame.length >= 14 && frame[0] === 0xfe && frame.readUInt16LE(12) === SMB2_COMMAND.CANCEL) continue
        const reply = await c.nextFrame(3000)
        if (reply === null) {
          if (!c.isClosed) t.fail(`frame ${sent}: no answer and the connection is still open (${frame.toString('hex').slice(0, 200)})`)
          dropped++
          break
        }
        answered++
        // Async replies (a CHANGE_NOTIFY's interim) are fine; keep going with fresh ids.
        c.nextMessageId += 8n
      }
    } catch {
      // The connection went away during the setup of a connection: a drop.
      dropped++
    } finally {
      c.close()
    }
  }
  t.ok(sent >= FRAMES, `${sent} frames sent: ${answered} answered, ${dropped} connections dropped`)
  // A valid client still gets through.
  const ok = await Smb2TestClient.connect(HOST, port)
  t.teardown(() => ok.close())
  const n = await ok.call(SMB2_COMMAND.NEGOTIATE, negotiate())
  t.equal(n.header.status, 0, 'a valid NEGOTIATE after the fuzzing')
  ok.close()
  // Every fuzzing connection is gone: nothing is left behind.
  const deadline = Date.now() + 5000
  while (front.counts().connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.same(front.counts(), { connections: 0, sessions: 0, trees: 0 }, 'no connection, session or tree outlives its socket')
  t.equal(front.pipes.openCount(), 0, 'no pipe left open')
})
