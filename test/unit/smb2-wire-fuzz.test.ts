// Mutated frames against a live SMB2 wire front (the stand-in acceptor and signer of
// smb2-wire-front.test.ts): every command, before and after authentication (mutated, then signed,
// so that the bodies are reached; after authentication on a real open file and directory as
// well as on a FileId that does not exist), compound and not, and raw garbage. The front must
// never crash or hang: every frame gets an answer or the connection is dropped, a valid client
// works after all of it, no connection, session, tree, pipe or open outlives its socket, and the
// heap after the run (garbage collected) is within a bound of the heap before it.
// Issue 14's acceptance: 50,000 frames, the default (many connections at once, so that it takes
// well under a minute); SMB2_WIRE_FUZZ_FRAMES and SMB2_WIRE_FUZZ_CONNECTIONS change the run.
import { createHmac, randomBytes } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { encodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { CREATE_OPTIONS, decodeCreateResponse, encodeCloseRequest, encodeCreateRequest } from '../../protocol/smb2/create.js'
import { encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { encodeFullEaInformation } from '../../protocol/smb2/extended-attributes.js'
import { RELATED_FILE_ID, type Smb2FileId } from '../../protocol/smb2/file-id.js'
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
const FRAMES = Number(process.env.SMB2_WIRE_FUZZ_FRAMES ?? 50_000)
/** Connections fuzzing at once: the front serves them interleaved, as it would many clients. */
const CONNECTIONS = Number(process.env.SMB2_WIRE_FUZZ_CONNECTIONS ?? 24)
/** Mutated requests one connection sends before it goes (unless the front drops it first). */
const FRAMES_PER_CONNECTION = 100
/** Frames sent before the heap is measured the first time: the code paths are warm by then. */
const WARMUP_FRAMES = Math.min(3_000, Math.floor(FRAMES / 10))
/**
 * How far the collected JS heap may grow over the run: a leak of 500 bytes a frame would pass it
 * at 50,000. (Buffers and RSS are reported, not bounded: sockets the front has just ended keep
 * theirs for a second, and the allocator keeps pages.)
 */
const HEAP_GROWTH_BYTES_MAX = 24 * 1024 * 1024
/** How long a frame's answer (or the connection's end) may take on a loaded machine before the front counts as wedged. */
const ANSWER_WAIT_MS = 10_000
const KEY = Buffer.alloc(16, 0x33)
/**
 * The files and directories the fuzzing connections share: a bound on what a run leaves on the
 * share, and few CREATEs that make a file (each fsyncs; on a busy disk that is what a run waited for).
 */
const SHARED_FILES = 32
const MISSING: Smb2FileId = { persistent: '0102030405060708', volatile: '1112131415161718' }

// A full collection before each heap measure (the flag must be set before the context is made).
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

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

/** The FileIds a body may name: a real file, a real directory (after authentication), or one that does not exist. */
interface Ids {
  readonly file: Smb2FileId
  readonly dir: Smb2FileId
}

/** A valid body of every command (CANCEL's is its 4-byte StructureSize and Reserved). */
/** The ExtA context of a CREATE body: two EAs (MS-FSCC 2.4.15). */
const EA_LIST = encodeFullEaInformation([
  { flags: 0, name: 'EAONE', value: Buffer.from('VALUE1') },
  { flags: 0, name: 'SECONDEA', value: Buffer.from('ValueTwo') },
]).buffer

/** FSCTLs an IOCTL body carries: VALIDATE_NEGOTIATE_INFO (which ends a 3.1.1 connection), network interfaces, a resume key, a pipe transceive, a reparse point. */
const FSCTLS = [0x00140204, 0x001401fc, 0x00140078, 0x0011c017, 0x000900a8]

const BODIES: readonly [number, (ids: Ids, random: () => number) => Buffer | Buffer[]][] = [
  [SMB2_COMMAND.NEGOTIATE, negotiate],
  [SMB2_COMMAND.SESSION_SETUP, () => encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('ok') })],
  [SMB2_COMMAND.LOGOFF, () => encodeEmptyBody()],
  [SMB2_COMMAND.TREE_CONNECT, () => encodeTreeConnectRequest({ flags: 0, path: '\\\\h\\share-1' })],
  [SMB2_COMMAND.TREE_DISCONNECT, () => encodeEmptyBody()],
  [SMB2_COMMAND.CREATE, () => encodeCreateRequest({ securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 0x12019f, fileAttributes: 0, shareAccess: 7, createDisposition: 3, createOptions: 0, name: 'f.bin', createContexts: [{ name: Buffer.from('MxAc'), data: Buffer.alloc(0) }, { name: Buffer.from('ExtA'), data: EA_LIST }] })],
  [SMB2_COMMAND.CLOSE, (ids) => encodeCloseRequest({ flags: 1, fileId: ids.file })],
  [SMB2_COMMAND.FLUSH, (ids) => encodeFlushRequest({ fileId: ids.file })],
  [SMB2_COMMAND.READ, (ids) => encodeReadRequest({ padding: 0x50, flags: 0, length: 100, offset: 0n, fileId: ids.file, minimumCount: 0, channel: 0, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) })],
  [SMB2_COMMAND.WRITE, (ids) => encodeWriteRequest({ offset: 0n, fileId: ids.file, channel: 0, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data: Buffer.alloc(64, 7) })],
  [SMB2_COMMAND.LOCK, (ids) => encodeLockRequest({ lockSequence: 0, fileId: ids.file, locks: [{ offset: 0n, length: 1n, flags: 0x12 }] })],
  [SMB2_COMMAND.IOCTL, (ids, random) => encodeIoctlRequest({ ctlCode: FSCTLS[Math.floor(random() * FSCTLS.length)], fileId: ids.file === MISSING ? RELATED_FILE_ID : ids.file, input: Buffer.alloc(40, 2), maxInputResponse: 0, output: Buffer.alloc(0), maxOutputResponse: 64, flags: 1 })],
  [SMB2_COMMAND.CANCEL, () => encodeEmptyBody()],
  [SMB2_COMMAND.ECHO, () => encodeEmptyBody()],
  [SMB2_COMMAND.QUERY_DIRECTORY, (ids) => encodeQueryDirectoryRequest({ fileInformationClass: 37, flags: 0, fileIndex: 0, fileId: ids.dir, fileName: '*', outputBufferLength: 4096 })],
  [SMB2_COMMAND.CHANGE_NOTIFY, (ids) => encodeChangeNotifyRequest({ flags: 0, outputBufferLength: 100, fileId: ids.dir, completionFilter: 1 })],
  [SMB2_COMMAND.QUERY_INFO, (ids) => encodeQueryInfoRequest({ infoType: 1, fileInfoClass: 18, outputBufferLength: 4096, input: Buffer.alloc(0), additionalInformation: 0, flags: 0, fileId: ids.file })],
  [SMB2_COMMAND.SET_INFO, (ids) => encodeSetInfoRequest({ infoType: 1, fileInfoClass: 20, buffer: Buffer.alloc(8), additionalInformation: 0, fileId: ids.file })],
  [SMB2_COMMAND.OPLOCK_BREAK, (ids) => encodeOplockBreak({ kind: 'oplock', oplockLevel: 0, fileId: ids.file })],
]
/** Bytes of the seeded generator (the run stays the same for a seed). */
function noise(random: () => number, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256)
  return out
}

/**
 * One to four edits: a byte, a 16- or 32-bit field set to an edge value, a cut, extra bytes, a
 * flipped body byte. A quarter of the messages may be edited anywhere; the others only past the
 * 64-byte header, so that most reach their command's decoder on a connection that lives on
 * (a broken ProtocolId or MessageId drops the connection, MS-SMB2 3.3.5.2).
 */
function mutate(msg: Buffer, random: () => number): Buffer {
  let m = Buffer.from(msg)
  const from = random() < 0.25 || m.length <= 64 ? 0 : 64
  const edits = 1 + Math.floor(random() * 4)
  for (let i = 0; i < edits; i++) {
    const at = from + Math.floor(random() * Math.max(1, m.length - from))
    switch (Math.floor(random() * 6)) {
      case 0:
        if (at < m.length) m[at] = Math.floor(random() * 256)
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
        m = Buffer.concat([m, noise(random, Math.floor(random() * 64))])
        break
      default:
        if (m.length > 64) m[64 + Math.floor(random() * (m.length - 64))] ^= 0xff
    }
  }
  return m
}

/** What was sent, per command and phase, so that the test can say every one was covered. */
interface Tally {
  sent: number
  answered: number
  dropped: number
  connections: number
  garbage: number
  compound: { pre: number; post: number }
  single: { pre: number; post: number }
  /** Messages (in single and compound frames) per command code, before and after authentication. */
  readonly commands: Map<number, { pre: number; post: number }>
}

async function createOpen(c: Smb2TestClient, name: string, options: number, disposition: number): Promise<Smb2FileId | null> {
  const r = await c.call(
    SMB2_COMMAND.CREATE,
    encodeCreateRequest({ securityFlags: 0, requestedOplockLevel: 0, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 0x1f01ff, fileAttributes: 0, shareAccess: 7, createDisposition: disposition, createOptions: options, name, createContexts: [] }),
  )
  const d = decodeCreateResponse(r.msg)
  return r.header.status === 0 && d.ok ? d.value.fileId : null
}

/** One fuzzing connection: its setup for the phase, then mutated requests until it has sent its share or is dropped. */
async function fuzzConnection(port: number, random: () => number, tally: Tally, serial: number, onFail: (why: string) => void): Promise<void> {
  const c = await Smb2TestClient.connect(HOST, port)
  tally.connections++
  const phase = random()
  try {
    if (phase < 0.1) {
      // Raw garbage or a mutated SMB1 NEGOTIATE as the first frame.
      c.sendFrame(random() < 0.5 ? noise(random, 1 + Math.floor(random() * 200)) : mutate(encodeSmb1Negotiate(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']), random))
      tally.sent++
      tally.garbage++
      if (await c.nextFrame(ANSWER_WAIT_MS)) tally.answered++
      else if (c.isClosed) tally.dropped++
      else onFail(`a first frame of garbage: no answer and the connection is still open`)
      return
    }
    await c.call(SMB2_COMMAND.NEGOTIATE, negotiate())
    const authenticated = phase >= 0.4
    let ids: Ids = { file: MISSING, dir: MISSING }
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
      // Most connections act on a real file and directory (shared with others), so that the commands get past the FileId.
      if (random() < 0.7) {
        const file = await createOpen(c, `fuzz-${serial % SHARED_FILES}.bin`, 0, 3)
        const dir = await createOpen(c, `fuzz-${serial % SHARED_FILES}.dir`, CREATE_OPTIONS.DIRECTORY_FILE, 3)
        ids = { file: file ?? MISSING, dir: dir ?? MISSING }
      }
    }
    const count = (command: number) => {
      const per = tally.commands.get(command) ?? { pre: 0, post: 0 }
      if (authenticated) per.post++
      else per.pre++
      tally.commands.set(command, per)
    }
    for (let i = 0; i < FRAMES_PER_CONNECTION && tally.sent < FRAMES; i++) {
      const compound = random() < 0.15
      // A NEGOTIATE after the first ends the connection (MS-SMB2 3.3.5.3.1): a quarter as often as the others, so that connections live on.
      const pick = () => {
        const b = BODIES[Math.floor(random() * BODIES.length)]
        return b[0] === SMB2_COMMAND.NEGOTIATE && random() < 0.75 ? BODIES[Math.floor(random() * BODIES.length)] : b
      }
      const picked = compound ? [pick(), pick(), pick()] : [pick()]
      const messages = picked.map(([command, body], index) => c.request(command, body(ids, random), index > 0 && random() < 0.7 ? { flags: SMB2_FLAGS.RELATED_OPERATIONS } : {}))
      const mutated = messages.map((m) => (random() < 0.8 ? mutate(m, random) : m))
      const frame = compound ? Buffer.concat(chainCompound(mutated.map((m) => (m.length >= 64 ? m : Buffer.concat([m, Buffer.alloc(64 - m.length)]))))) : mutated[0]
      if (authenticated && c.signer && !compound) c.signer(frame)
      if (frame.length === 0) continue
      c.sendFrame(frame)
      tally.sent++
      for (const [command] of picked) count(command)
      if (compound) tally.compound[authenticated ? 'post' : 'pre']++
      else tally.single[authenticated ? 'post' : 'pre']++
      // A CANCEL has no answer of its own (MS-SMB2 3.3.5.16).
      if (!compound && frame.length >= 14 && frame[0] === 0xfe && frame.readUInt16LE(12) === SMB2_COMMAND.CANCEL) continue
      const reply = await c.nextFrame(ANSWER_WAIT_MS)
      if (reply === null) {
        if (!c.isClosed) onFail(`frame ${tally.sent}: no answer and the connection is still open (${frame.toString('hex').slice(0, 200)})`)
        tally.dropped++
        return
      }
      tally.answered++
      // Async replies (a CHANGE_NOTIFY's interim) are fine; keep going with fresh ids.
      c.nextMessageId += 8n
    }
  } catch {
    // The connection went away during its setup: a drop.
    tally.dropped++
  } finally {
    c.close()
  }
}

/** The memory of the process after a full collection. */
function memoryAfterCollection(): NodeJS.MemoryUsage {
  collectGarbage()
  return process.memoryUsage()
}

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

t.test(`${FRAMES} mutated frames never crash or wedge the front, and leave nothing behind`, async (t) => {
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
  const tally: Tally = { sent: 0, answered: 0, dropped: 0, connections: 0, garbage: 0, compound: { pre: 0, post: 0 }, single: { pre: 0, post: 0 }, commands: new Map() }
  const failures: string[] = []
  let serial = 0
  let before: NodeJS.MemoryUsage | null = null
  const started = performance.now()
  // CONNECTIONS loops, each with its own seed, until FRAMES are sent between them.
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, worker) => {
      const random = prng(0x5eed + worker * 7919)
      while (tally.sent < FRAMES && failures.length === 0) {
        if (before === null && tally.sent >= WARMUP_FRAMES) before = memoryAfterCollection()
        await fuzzConnection(port, random, tally, serial++, (why) => failures.push(why))
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  for (const f of failures.slice(0, 5)) t.fail(f)
  t.ok(tally.sent >= FRAMES, `${tally.sent} frames sent in ${seconds.toFixed(1)} s (${Math.round(tally.sent / seconds)}/s) on ${tally.connections} connections: ${tally.answered} answered, ${tally.dropped} connections dropped`)
  t.comment(`frames: ${tally.garbage} raw or SMB1 first frames; single ${tally.single.pre} before and ${tally.single.post} after authentication; compound ${tally.compound.pre} before and ${tally.compound.post} after`)
  t.comment(`messages per command (before/after authentication): ${[...tally.commands.entries()].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}:${n.pre}/${n.post}`).join(' ')}`)
  // Every command code of MS-SMB2 2.2.1 (0x00 to 0x12), before and after authentication; compound and not, both.
  for (let command = 0; command <= 0x12; command++) {
    const n = tally.commands.get(command) ?? { pre: 0, post: 0 }
    t.ok(n.pre >= 100 && n.post >= 100, `command 0x${command.toString(16)}: ${n.pre} before and ${n.post} after authentication`)
  }
  t.ok(tally.compound.pre >= 100 && tally.compound.post >= 100 && tally.single.pre >= 100 && tally.single.post >= 100, 'compound and single frames, before and after authentication')
  t.ok(tally.garbage >= 100, `${tally.garbage} connections started with raw garbage or a mutated SMB1 NEGOTIATE`)
  // A valid client still gets through, to a file of its own.
  const ok = await Smb2TestClient.connect(HOST, port)
  t.teardown(() => ok.close())
  const n = await ok.call(SMB2_COMMAND.NEGOTIATE, negotiate())
  t.equal(n.header.status, 0, 'a valid NEGOTIATE after the fuzzing')
  const leg1 = await ok.call(SMB2_COMMAND.SESSION_SETUP, encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('x') }))
  ok.sessionId = leg1.header.sessionId
  const leg2 = await ok.call(SMB2_COMMAND.SESSION_SETUP, encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 0, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.from('ok') }))
  t.equal(leg2.header.status, 0, 'and a session')
  ok.signer = (m) => {
    m.writeUInt32LE(m.readUInt32LE(16) | SMB2_FLAGS.SIGNED, 16)
    sig(m, KEY).copy(m, 48)
  }
  const tree = await ok.call(SMB2_COMMAND.TREE_CONNECT, encodeTreeConnectRequest({ flags: 0, path: '\\\\h\\share-1' }))
  t.equal(tree.header.status, 0, 'and a tree')
  ok.treeId = tree.header.treeId
  const file = await createOpen(ok, 'after-the-fuzz.bin', 0, 5)
  t.ok(file, 'and a file')
  if (file) t.equal((await ok.call(SMB2_COMMAND.CLOSE, encodeCloseRequest({ flags: 0, fileId: file }))).header.status, 0, 'closed')
  ok.close()
  // Every fuzzing connection is gone: nothing is left behind.
  const deadline = Date.now() + 5000
  while ((front.counts().connections > 0 || service.openCount() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.same(front.counts(), { connections: 0, sessions: 0, trees: 0 }, 'no connection, session or tree outlives its socket')
  t.equal(front.pipes.openCount(), 0, 'no pipe left open')
  t.equal(service.openCount(), 0, 'no open left on the CSV')
  const after = memoryAfterCollection()
  const start = before ?? after
  t.ok(
    after.heapUsed - start.heapUsed <= HEAP_GROWTH_BYTES_MAX,
    `JS heap after collection: ${MiB(start.heapUsed)} after the warm-up, ${MiB(after.heapUsed)} at the end (bound: +${MiB(HEAP_GROWTH_BYTES_MAX)}); Buffers ${MiB(start.arrayBuffers)} then ${MiB(after.arrayBuffers)}; RSS ${MiB(start.rss)} then ${MiB(after.rss)}`,
  )
})
