// The SMB 2/3 wire client: NEGOTIATE (2.0.2 to 3.1.1 with the 3.1.1 contexts), SESSION_SETUP
// with SPNEGO and NTLMSSP v2 (core/auth's initiators), the session's keys (SP800-108, the 3.1.1
// preauth hash), TREE_CONNECT, LOGOFF (MS-SMB2 3.2.4.2 to 3.2.4.3, 3.2.5.2 to 3.2.5.5). The file
// commands of a tree are in smb2-tree.ts; frames, credits, signing and the transform in
// smb2-wire-connection.ts.
//
// Signing: every request of an authenticated session is signed and every response must be (as
// smbclient does; signing is required by default on the nodes and on smbd). Encryption: a
// session the server marks ENCRYPT_DATA, a tree whose share is ENCRYPT_DATA, or a client that
// asks for it (encrypt: true) sends every request in a transform and accepts only encrypted
// responses.
import { randomBytes, randomUUID } from 'node:crypto'
import { SpnegoInitiator } from '../../core/auth/spnego-initiator.js'
import { CIPHER, GLOBAL_CAP, SIGNING_ALGORITHM, SMB2_DIALECT, type CipherId, type SigningAlgorithmId } from '../../protocol/smb2/constants.js'
import { encodeEmptyBody, decodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { SMB2_COMMAND, SMB2_FLAGS } from '../../protocol/smb2/header.js'
import { deriveSmb2SessionKeys, signingAlgorithmFor } from '../../protocol/smb2/key-derivation.js'
import { HASH_ALGORITHM, type NegotiateContext } from '../../protocol/smb2/negotiate-contexts.js'
import { SECURITY_MODE, decodeNegotiateResponse, encodeNegotiateRequest } from '../../protocol/smb2/negotiate.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { PreauthIntegrityHash } from '../../protocol/smb2/preauth-integrity.js'
import { SESSION_FLAGS, decodeSessionSetupResponse, encodeSessionSetupRequest } from '../../protocol/smb2/session-setup.js'
import { verifySmb2Message } from '../../protocol/smb2/signing.js'
import { SHARE_FLAGS, SHARE_TYPE, decodeTreeConnectResponse, encodeTreeConnectRequest } from '../../protocol/smb2/tree-connect.js'
import { FSCTL_CODE, VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES, decodeValidateNegotiateInfoResponse, encodeValidateNegotiateInfoRequest } from '../../protocol/smb2/fsctl.js'
import { IOCTL_FLAGS, decodeIoctlResponse, encodeIoctlRequest } from '../../protocol/smb2/ioctl.js'
import { NO_FILE_ID, type Smb2FileId } from '../../protocol/smb2/file-id.js'
import { LEASE_BREAK_NOTIFICATION_SIZE, decodeLeaseBreakNotification, decodeOplockBreak, type LeaseBreakNotification } from '../../protocol/smb2/oplock-break.js'
import { uuidToNdrBytes } from '../../protocol/dcerpc/pdu-codec.js'
import { Smb2WireConnection, type Smb2ConnectionOptions, type Smb2Reply, type Smb2SessionCrypto } from './smb2-wire-connection.js'
import { smb2Failed, smb2Ok, Smb2ConnectTimeout, Smb2TransportError, type Smb2Result } from './smb2-result.js'
import { Smb2Tree } from './smb2-tree.js'

export const ALL_DIALECTS: readonly number[] = [SMB2_DIALECT.SMB202, SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311]

/** Largest READ/WRITE the client sends: large MTU's 8 MiB (3.1.5.2). */
export const CLIENT_IO_BYTES_MAX = 8 * 1024 * 1024
/** SecurityMode and Capabilities of our NEGOTIATE: FSCTL_VALIDATE_NEGOTIATE_INFO repeats them. */
const CLIENT_SECURITY_MODE = SECURITY_MODE.SIGNING_ENABLED
const CLIENT_CAPABILITIES = GLOBAL_CAP.LARGE_MTU | GLOBAL_CAP.LEASING | GLOBAL_CAP.PERSISTENT_HANDLES | GLOBAL_CAP.ENCRYPTION
/** Legs of SESSION_SETUP before the client gives up: NTLMSSP through SPNEGO needs two. */
const SESSION_SETUP_LEGS_MAX = 4

export interface Smb2ClientOptions extends Smb2ConnectionOptions {
  readonly user: string
  readonly password: string
  readonly domain?: string
  readonly workstation?: string
  /** Offered dialects, lowest first; default 2.0.2 to 3.1.1. */
  readonly dialects?: readonly number[]
  /** 3.1.1 ciphers, preferred first; default AES-128-GCM, AES-128-CCM, AES-256-GCM, AES-256-CCM. */
  readonly ciphers?: readonly CipherId[]
  /** 3.1.1 signing algorithms, preferred first; default AES-GMAC, AES-CMAC. */
  readonly signingAlgorithms?: readonly SigningAlgorithmId[]
  /** Encrypt the whole session even when the server does not ask (smbclient's --client-protection=encrypt). */
  readonly encrypt?: boolean
  /** Largest READ/WRITE asked of the server, below its MaxRead/WriteSize; default 1 MiB. */
  readonly maxIoBytes?: number
  /** SESSION_SETUP's PreviousSessionId (3.2.4.2.3): issue 15's reconnect after a failover. */
  readonly previousSessionId?: bigint
  /** The ClientGuid; default a random one. Durable reconnects keep it (3.2.4.2.2.2). */
  readonly clientGuid?: string
  /**
   * NEGOTIATE and SESSION_SETUP must be answered within it, or the connection is closed (an
   * Smb2TransportError): a node that is not serving accepts the TCP connection and answers
   * nothing. Default: only each request's own deadline.
   */
  readonly handshakeTimeoutMs?: number
}

export interface NegotiatedFacts {
  readonly dialect: number
  readonly serverGuid: string
  readonly capabilities: number
  readonly securityMode: number
  readonly maxReadBytes: number
  readonly maxWriteBytes: number
  readonly maxTransactBytes: number
  readonly signingAlgorithm: SigningAlgorithmId
  /** The 3.1.1 cipher, AES-128-CCM at 3.0/3.0.2 with CAP_ENCRYPTION, else undefined. */
  readonly cipher: CipherId | undefined
}

/** A break the server sent (MS-SMB2 2.2.23): an oplock's, or a lease's. */
export type Smb2Break =
  | { readonly kind: 'oplock'; readonly fileId: Smb2FileId; readonly oplockLevel: number }
  | { readonly kind: 'lease'; readonly notification: LeaseBreakNotification }

export class Smb2Client {
  private trees = new Set<Smb2Tree>()
  /**
   * Called for each oplock or lease break the server sends (3.2.5.19); the holder answers with
   * Smb2Tree.acknowledgeOplockBreak or acknowledgeLeaseBreak when the break asks for it.
   */
  onBreak: ((b: Smb2Break) => void) | undefined

  private constructor(
    readonly connection: Smb2WireConnection,
    readonly negotiated: NegotiatedFacts,
    readonly sessionId: bigint,
    readonly sessionFlags: number,
    readonly crypto: Smb2SessionCrypto,
    readonly clientGuid: string,
    /** Our READ/WRITE size: the server's maximum bounded by maxIoBytes. */
    readonly ioBytes: { readonly read: number; readonly write: number },
    private readonly host: string,
    /** The dialects our NEGOTIATE offered. */
    private readonly offeredDialects: readonly number[],
  ) {
    connection.onUnsolicited = (h, message) => {
      if (h.command !== SMB2_COMMAND.OPLOCK_BREAK) return
      // An oplock break notification has the acknowledgment's form (StructureSize 24); a lease's is 44.
      const size = message.length >= 66 ? message.readUInt16LE(64) : 0
      if (size === LEASE_BREAK_NOTIFICATION_SIZE) {
        const d = decodeLeaseBreakNotification(message)
        if (d.ok) this.onBreak?.({ kind: 'lease', notification: { ...d.value, leaseKey: Buffer.from(d.value.leaseKey) } })
        return
      }
      const d = decodeOplockBreak(message)
      if (d.ok && d.value.kind === 'oplock') this.onBreak?.({ kind: 'oplock', fileId: d.value.fileId, oplockLevel: d.value.oplockLevel })
    }
  }

  /**
   * Connects, negotiates and logs in. A status failure (LOGON_FAILURE, a dialect the server will
   * not speak) comes back typed; the connection is then closed. Transport failures throw.
   */
  static async connect(opts: Smb2ClientOptions): Promise<Smb2Result<Smb2Client>> {
    const connection = await Smb2WireConnection.open(opts)
    let timedOut = false
    const timer =
      opts.handshakeTimeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true
            connection.close()
          }, opts.handshakeTimeoutMs)
        : undefined
    try {
      const result = await Smb2Client.login(connection, opts)
      if (!result.ok) connection.close()
      return result
    } catch (err) {
      connection.close()
      if (timedOut) throw new Smb2ConnectTimeout(`${opts.host}:${opts.port}: no NEGOTIATE and SESSION_SETUP answers within ${opts.handshakeTimeoutMs} ms`)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  private static async login(connection: Smb2WireConnection, opts: Smb2ClientOptions): Promise<Smb2Result<Smb2Client>> {
    const clientGuid = opts.clientGuid ?? randomUUID()
    const negotiated = await negotiate(connection, opts, clientGuid)
    if (!negotiated.ok) return negotiated
    const { facts, preauth } = negotiated.value
    connection.dialect = facts.dialect
    connection.multiCredit = facts.dialect >= SMB2_DIALECT.SMB21 && (facts.capabilities & GLOBAL_CAP.LARGE_MTU) !== 0
    if (opts.encrypt && facts.cipher === undefined) return smb2Failed('NEGOTIATE', NT_STATUS.NOT_SUPPORTED, `encryption asked for, but dialect 0x${facts.dialect.toString(16)} with these capabilities has no cipher`)

    const session = await sessionSetup(connection, opts, facts, preauth)
    if (!session.ok) return session
    const { sessionId, sessionFlags, crypto } = session.value
    const maxIo = Math.min(opts.maxIoBytes ?? 1024 * 1024, CLIENT_IO_BYTES_MAX)
    // Without large MTU a request carries at most one credit's 64 KiB (3.2.4.1.5).
    const cap = connection.multiCredit ? maxIo : Math.min(maxIo, 65_536)
    const ioBytes = { read: Math.max(1, Math.min(cap, facts.maxReadBytes)), write: Math.max(1, Math.min(cap, facts.maxWriteBytes)) }
    return smb2Ok(new Smb2Client(connection, facts, sessionId, sessionFlags, crypto, clientGuid, ioBytes, opts.host, opts.dialects ?? ALL_DIALECTS))
  }

  get dialect(): number {
    return this.negotiated.dialect
  }

  /** TREE_CONNECT to \\host\share (3.2.4.2.4). */
  async treeConnect(share: string, server: string = this.host): Promise<Smb2Result<Smb2Tree>> {
    const reply = await this.send({ command: SMB2_COMMAND.TREE_CONNECT, body: encodeTreeConnectRequest({ flags: 0, path: `\\\\${server}\\${share}` }) })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('TREE_CONNECT', reply.header.status)
    const decoded = decodeTreeConnectResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`TREE_CONNECT response: ${decoded.error.reason}`)
    const encryptData = (decoded.value.shareFlags & SHARE_FLAGS.ENCRYPT_DATA) !== 0
    if (encryptData && this.crypto.clientToServerKey === undefined) {
      return smb2Failed('TREE_CONNECT', NT_STATUS.ACCESS_DENIED, 'the share requires encryption, which this session cannot do')
    }
    const tree = new Smb2Tree(this, reply.header.treeId, decoded.value, encryptData)
    this.trees.add(tree)
    // 3.2.5.5: at 3.0 and 3.0.2 a signed session checks that nobody changed the NEGOTIATE (3.1.1 has the preauth hash).
    const dialect = this.negotiated.dialect
    if ((dialect === SMB2_DIALECT.SMB30 || dialect === SMB2_DIALECT.SMB302) && this.crypto.signing && decoded.value.shareType !== SHARE_TYPE.PIPE) await this.validateNegotiate(tree)
    return smb2Ok(tree)
  }

  /** FSCTL_VALIDATE_NEGOTIATE_INFO (3.2.5.5, 2.2.31.4): a mismatch is a downgrade, and the connection is dropped. */
  private async validateNegotiate(tree: Smb2Tree): Promise<void> {
    const input = encodeValidateNegotiateInfoRequest({ capabilities: CLIENT_CAPABILITIES, guid: uuidToNdrBytes(this.clientGuid), securityMode: CLIENT_SECURITY_MODE, dialects: this.offeredDialects })
    const body = encodeIoctlRequest({ ctlCode: FSCTL_CODE.VALIDATE_NEGOTIATE_INFO, fileId: NO_FILE_ID, input, maxInputResponse: 0, output: Buffer.alloc(0), maxOutputResponse: VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES, flags: IOCTL_FLAGS.IS_FSCTL })
    const reply = await tree.request({ command: SMB2_COMMAND.IOCTL, body, payloadBytes: input.length + VALIDATE_NEGOTIATE_INFO_RESPONSE_BYTES })
    const status = reply.header.status
    // Servers that do not implement it answer (signed, as checked by the connection) one of these; smbclient accepts them too.
    if (status === NT_STATUS.NOT_SUPPORTED || status === NT_STATUS.FILE_CLOSED || status === NT_STATUS.INVALID_DEVICE_REQUEST) return
    const fail = (why: string): never => {
      this.connection.close()
      throw new Smb2TransportError(`FSCTL_VALIDATE_NEGOTIATE_INFO: ${why}`)
    }
    if (status !== NT_STATUS.SUCCESS) fail(`status 0x${status.toString(16)}`)
    const res = decodeIoctlResponse(reply.message)
    if (!res.ok) return fail(res.error.reason)
    const info = decodeValidateNegotiateInfoResponse(res.value.output)
    if (!info.ok) return fail(info.reason)
    const n = this.negotiated
    if (info.value.dialect !== n.dialect || info.value.securityMode !== n.securityMode || info.value.capabilities !== n.capabilities || !info.value.guid.equals(uuidToNdrBytes(n.serverGuid))) {
      fail('the server\'s answer differs from its NEGOTIATE response')
    }
  }

  /** Sends a request in this session (used by Smb2Tree). */
  send(req: Omit<Parameters<Smb2WireConnection['request']>[0], 'sessionId'>): Promise<Smb2Reply> {
    return this.connection.request({ ...req, sessionId: this.sessionId })
  }

  forgetTree(tree: Smb2Tree): void {
    this.trees.delete(tree)
  }

  /** ECHO (2.2.28, 3.2.4.22): a round trip that proves the server and the session alive. */
  async echo(): Promise<Smb2Result<void>> {
    const reply = await this.send({ command: SMB2_COMMAND.ECHO, body: encodeEmptyBody() })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('ECHO', reply.header.status)
    const decoded = decodeEmptyBody(reply.message, 'ECHO response')
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    return smb2Ok(undefined)
  }

  /** LOGOFF (3.2.4.23), after disconnecting the trees still open. */
  async logoff(): Promise<Smb2Result<void>> {
    for (const tree of [...this.trees]) await tree.disconnect()
    const reply = await this.send({ command: SMB2_COMMAND.LOGOFF, body: encodeEmptyBody() })
    this.connection.dropSession(this.sessionId)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('LOGOFF', reply.header.status)
    const decoded = decodeEmptyBody(reply.message, 'LOGOFF response')
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    return smb2Ok(undefined)
  }

  /** Logs off when the connection is still up, then closes it; never throws. */
  async close(): Promise<void> {
    if (!this.connection.closed) await this.logoff().catch(() => undefined)
    this.connection.close()
  }
}

// ---- NEGOTIATE (3.2.4.2.2, 3.2.5.2) ----

interface Negotiated {
  readonly facts: NegotiatedFacts
  /** The connection's preauth hash after NEGOTIATE (3.1.1 only). */
  readonly preauth: PreauthIntegrityHash | undefined
}

async function negotiate(connection: Smb2WireConnection, opts: Smb2ClientOptions, clientGuid: string): Promise<Smb2Result<Negotiated>> {
  const dialects = opts.dialects ?? ALL_DIALECTS
  const ciphers = opts.ciphers ?? [CIPHER.AES128_GCM, CIPHER.AES128_CCM, CIPHER.AES256_GCM, CIPHER.AES256_CCM]
  const signingAlgorithms = opts.signingAlgorithms ?? [SIGNING_ALGORITHM.AES_GMAC, SIGNING_ALGORITHM.AES_CMAC]
  const offers311 = dialects.includes(SMB2_DIALECT.SMB311)
  const contexts: NegotiateContext[] = offers311
    ? [
        { kind: 'preauth', hashAlgorithms: [HASH_ALGORITHM.SHA512], salt: randomBytes(32) },
        { kind: 'encryption', ciphers },
        { kind: 'signing', signingAlgorithms },
      ]
    : []
  const body = encodeNegotiateRequest({
    securityMode: CLIENT_SECURITY_MODE,
    capabilities: CLIENT_CAPABILITIES,
    clientGuid,
    dialects,
    negotiateContexts: contexts,
    clientStartTime: 0n,
  })
  const reply = await connection.request({ command: SMB2_COMMAND.NEGOTIATE, body, keepRequestBytes: true })
  if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('NEGOTIATE', reply.header.status)
  const decoded = decodeNegotiateResponse(reply.message)
  if (!decoded.ok) throw new Smb2TransportError(`NEGOTIATE response: ${decoded.error.reason}`)
  const res = decoded.value
  const bad = (detail: string): Smb2Result<Negotiated> => smb2Failed('NEGOTIATE', NT_STATUS.INVALID_NETWORK_RESPONSE, detail)
  if (!dialects.includes(res.dialectRevision)) return bad(`the server chose dialect 0x${res.dialectRevision.toString(16)}, which was not offered`)
  let preauth: PreauthIntegrityHash | undefined
  let cipher: CipherId | undefined
  let signingChoice: SigningAlgorithmId | undefined
  if (res.dialectRevision === SMB2_DIALECT.SMB311) {
    // 3.2.5.2: exactly one preauth context naming SHA-512; at most one cipher and one signing algorithm, each one offered.
    const pre = res.negotiateContexts.filter((c) => c.kind === 'preauth')
    if (pre.length !== 1 || pre[0].kind !== 'preauth' || pre[0].hashAlgorithms.length !== 1 || pre[0].hashAlgorithms[0] !== HASH_ALGORITHM.SHA512) return bad('no single SHA-512 preauth integrity context')
    for (const c of res.negotiateContexts) {
      if (c.kind === 'encryption') {
        if (c.ciphers.length !== 1) return bad(`an encryption context naming ${c.ciphers.length} ciphers`)
        if (c.ciphers[0] !== 0) {
          if (!ciphers.includes(c.ciphers[0] as CipherId)) return bad(`cipher ${c.ciphers[0]} was not offered`)
          cipher = c.ciphers[0] as CipherId
        }
      }
      if (c.kind === 'signing') {
        if (c.signingAlgorithms.length !== 1 || !signingAlgorithms.includes(c.signingAlgorithms[0] as SigningAlgorithmId)) return bad('a signing context not naming one offered algorithm')
        signingChoice = c.signingAlgorithms[0] as SigningAlgorithmId
      }
    }
    preauth = new PreauthIntegrityHash().update(reply.requestBytes as Buffer).update(reply.message)
  } else if (res.dialectRevision >= SMB2_DIALECT.SMB30 && (res.capabilities & GLOBAL_CAP.ENCRYPTION) !== 0) {
    cipher = CIPHER.AES128_CCM
  }
  return smb2Ok({
    preauth,
    facts: {
      dialect: res.dialectRevision,
      serverGuid: res.serverGuid,
      capabilities: res.capabilities,
      securityMode: res.securityMode,
      maxReadBytes: res.maxReadSize,
      maxWriteBytes: res.maxWriteSize,
      maxTransactBytes: res.maxTransactSize,
      signingAlgorithm: signingAlgorithmFor(res.dialectRevision, signingChoice),
      cipher,
    },
  })
}

// ---- SESSION_SETUP (3.2.4.2.3, 3.2.5.3) ----

interface Session {
  readonly sessionId: bigint
  readonly sessionFlags: number
  readonly crypto: Smb2SessionCrypto
}

async function sessionSetup(connection: Smb2WireConnection, opts: Smb2ClientOptions, facts: NegotiatedFacts, connectionPreauth: PreauthIntegrityHash | undefined): Promise<Smb2Result<Session>> {
  const spnego = new SpnegoInitiator({ userName: opts.user, domainName: opts.domain ?? '', password: opts.password, workstation: opts.workstation ?? 'SWLAB-CLIENT' })
  const preauth = connectionPreauth?.fork()
  let token = spnego.initialToken()
  let sessionId = 0n
  for (let leg = 0; leg < SESSION_SETUP_LEGS_MAX; leg++) {
    const body = encodeSessionSetupRequest({ flags: 0, securityMode: SECURITY_MODE.SIGNING_ENABLED, capabilities: 0, channel: 0, previousSessionId: opts.previousSessionId ?? 0n, securityBuffer: token })
    const reply = await connection.request({ command: SMB2_COMMAND.SESSION_SETUP, body, sessionId, keepRequestBytes: true, callerVerifies: true })
    preauth?.update(reply.requestBytes as Buffer)
    const status = reply.header.status
    if (status !== NT_STATUS.SUCCESS && status !== NT_STATUS.MORE_PROCESSING_REQUIRED) return smb2Failed('SESSION_SETUP', status)
    const decoded = decodeSessionSetupResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`SESSION_SETUP response: ${decoded.error.reason}`)
    sessionId = reply.header.sessionId
    const step = decoded.value.securityBuffer.length > 0 || status === NT_STATUS.MORE_PROCESSING_REQUIRED ? spnego.step(Buffer.from(decoded.value.securityBuffer), authenticateInputs()) : null
    if (step?.state === 'failed') return smb2Failed('SESSION_SETUP', NT_STATUS.LOGON_FAILURE, step.reason)
    if (status === NT_STATUS.MORE_PROCESSING_REQUIRED) {
      preauth?.update(reply.message)
      if (step?.state !== 'continue') return smb2Failed('SESSION_SETUP', NT_STATUS.INVALID_NETWORK_RESPONSE, 'the server wants another leg, SPNEGO has none')
      token = step.token
      continue
    }
    // SUCCESS: the last response is not in the hash (3.2.5.3.1); the keys come from the hash so far.
    if (step?.state !== 'done') return smb2Failed('SESSION_SETUP', NT_STATUS.INVALID_NETWORK_RESPONSE, 'the server finished before SPNEGO did')
    const sessionFlags = decoded.value.sessionFlags
    const anonymous = (sessionFlags & (SESSION_FLAGS.IS_GUEST | SESSION_FLAGS.IS_NULL)) !== 0 || step.sessionKey === undefined
    let crypto: Smb2SessionCrypto
    if (anonymous) {
      if (opts.encrypt) return smb2Failed('SESSION_SETUP', NT_STATUS.ACCESS_DENIED, 'a guest or anonymous session cannot be encrypted')
      crypto = { signingAlgorithm: facts.signingAlgorithm, signingKey: undefined, signing: false, cipher: undefined, clientToServerKey: undefined, serverToClientKey: undefined, encryptData: false }
    } else {
      const keys = deriveSmb2SessionKeys(facts.dialect, step.sessionKey as Buffer, { ...(preauth ? { preauthHash: preauth.value } : {}), ...(facts.cipher !== undefined ? { cipher: facts.cipher } : {}) })
      const signed = (reply.header.flags & SMB2_FLAGS.SIGNED) !== 0
      if (signed && !verifySmb2Message(facts.signingAlgorithm, keys.signingKey, reply.message)) {
        throw new Smb2TransportError("the final SESSION_SETUP response's signature does not verify")
      }
      // 3.2.5.3.1: at 3.1.1 the final response of an authenticated session must be signed.
      if (!signed && facts.dialect === SMB2_DIALECT.SMB311 && !reply.encrypted) throw new Smb2TransportError('the final SESSION_SETUP response at 3.1.1 is not signed')
      const encryptData = facts.cipher !== undefined && (opts.encrypt === true || (sessionFlags & SESSION_FLAGS.ENCRYPT_DATA) !== 0)
      crypto = {
        signingAlgorithm: facts.signingAlgorithm,
        signingKey: keys.signingKey,
        signing: true,
        cipher: facts.cipher,
        clientToServerKey: keys.clientToServerKey,
        serverToClientKey: keys.serverToClientKey,
        encryptData,
      }
    }
    connection.setSession(sessionId, crypto)
    return smb2Ok({ sessionId, sessionFlags, crypto })
  }
  return smb2Failed('SESSION_SETUP', NT_STATUS.INVALID_NETWORK_RESPONSE, `no result after ${SESSION_SETUP_LEGS_MAX} legs`)
}

function authenticateInputs(): { clientChallenge: Buffer; randomSessionKey: Buffer; timestamp: bigint } {
  return { clientChallenge: randomBytes(8), randomSessionKey: randomBytes(16), timestamp: 116_444_736_000_000_000n + BigInt(Date.now()) * 10_000n }
}
