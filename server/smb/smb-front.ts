// The client-facing side of the SMB data path on one node: connections (NEGOTIATE),
// sessions, tree connects, and routing of every handle operation to the node that owns the
// share's CSV (S2D: the owner serves all IO of its CSV; others forward it over the peer
// service). A node without quorum or lease answers nothing: clients see the call fail.
import * as grpc from '@grpc/grpc-js'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { authenticate, type ClusterCredentials } from '../../cluster/credentials.js'
import type { SmbHandlers } from '../../proto/gen/swlab/smb/v1/Smb.js'
import type { Header__Output } from '../../proto/gen/swlab/smb/v1/Header.js'
import type { FileId__Output } from '../../proto/gen/swlab/smb/v1/FileId.js'
import { MAX_IO_BYTES, type HandleOp, type HandleOpReply, type ShareInfo } from './csv-service.js'
import { DIALECTS_OFFERED, GLOBAL_CAP, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import type { DirectIo } from './direct-io.js'

export const SHARE_CAP = { CONTINUOUS_AVAILABILITY: 0x10, SCALEOUT: 0x20, CLUSTER: 0x40, ASYMMETRIC: 0x80 } as const
export const FLAGS_REPLAY_OPERATION = 0x20

/** Bounds on what one client can make a node hold. */
const CONNECTIONS_MAX = 10_000
const SESSIONS_MAX = 10_000
const TREES_MAX = 50_000

interface Connection {
  readonly clientGuid: string
  readonly dialect: number
  readonly clientCapabilities: number
}

interface Session {
  readonly connectionId: string
  readonly user: string
  readonly key: string
}

interface Tree {
  readonly sessionKey: string
  readonly share: ShareInfo
}

export interface SmbFrontOptions {
  readonly nodeId: string
  readonly shares: readonly ShareInfo[]
  readonly credentials: ClusterCredentials | null
  readonly log: Logger
  readonly isServing: () => boolean
  /** Runs a handle operation on the CSV's owner (here or over the peer service). */
  readonly route: (csv: string, op: HandleOp) => Promise<HandleOpReply | 'unavailable'>
  /** Tells every CSV owner that a session is gone (close or preserve its opens). */
  readonly endSession: (sessionKey: string, close: boolean) => Promise<void>
  /** SAN mode: whether data IO on this CSV goes direct to storage (else via its owner). */
  readonly directIo: (csv: string) => boolean
  readonly direct: DirectIo
  /** Protocol events besides their log lines (metrics). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void
}

class Unavailable extends Error {}

export class SmbFront {
  private readonly connections = new Map<string, Connection>()
  private readonly sessions = new Map<string, Session>()
  private readonly trees = new Map<string, Tree>()
  private readonly serverGuid = randomUUID()

  constructor(private readonly opts: SmbFrontOptions) {}

  counts(): { connections: number; sessions: number; trees: number } {
    return { connections: this.connections.size, sessions: this.sessions.size, trees: this.trees.size }
  }

  handlers(): SmbHandlers {
    const h = <Req, Res>(fn: (req: Req) => Promise<Res> | Res) => async (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      if (!this.opts.isServing()) {
        callback({ code: grpc.status.UNAVAILABLE, details: 'this node is not serving (no quorum or lease)' })
        return
      }
      try {
        callback(null, await fn(call.request))
      } catch (err) {
        if (err instanceof Unavailable) callback({ code: grpc.status.UNAVAILABLE, details: err.message })
        else {
          this.opts.log.error({ component: 'smb', event: 'smb.error', error: String(err), stack: (err as Error).stack })
          callback({ code: grpc.status.INTERNAL, details: 'internal error' })
        }
      }
    }
    return {
      Negotiate: h((r: { dialects: number[]; clientGuid: string; capabilities: number }) => this.negotiate(r)),
      SessionSetup: h((r: { header: Header__Output | null; user: string; password: string; previousSessionId: string }) => this.sessionSetup(r)),
      Logoff: h(async (r: { header: Header__Output | null }) => {
        const s = this.session(r.header)
        if ('status' in s) return s
        this.sessions.delete(s.key)
        for (const [id, tree] of this.trees) if (tree.sessionKey === s.key) this.trees.delete(id)
        await this.opts.endSession(s.key, true)
        return status(NT_STATUS.SUCCESS)
      }),
      TreeConnect: h((r: { header: Header__Output | null; path: string }) => this.treeConnect(r)),
      TreeDisconnect: h((r: { header: Header__Output | null }) => {
        const t = this.tree(r.header)
        if ('status' in t) return t
        this.trees.delete(r.header?.treeId ?? '')
        return status(NT_STATUS.SUCCESS)
      }),
      Create: h(async (r: {
        header: Header__Output | null
        path: string
        disposition: number
        desiredAccess: number
        shareAccess: number
        dh2q: { createGuid: string; timeoutMs: number; persistent: boolean } | null
        dh2c: { fileId: FileId__Output | null; createGuid: string; persistent: boolean } | null
        appInstanceId: string
      }) => {
        const t = this.tree(r.header)
        if ('status' in t) return t
        const conn = this.connections.get(this.sessions.get(t.sessionKey)?.connectionId ?? '')
        const reply = await this.run(t.share.csv, {
          op: 'create',
          sessionKey: t.sessionKey,
          clientGuid: conn?.clientGuid ?? '',
          user: this.sessions.get(t.sessionKey)?.user ?? '',
          persistentCapable: conn !== undefined && conn.dialect >= SMB2_DIALECT.SMB30 && (conn.clientCapabilities & GLOBAL_CAP.PERSISTENT_HANDLES) !== 0,
          share: t.share.name,
          path: r.path,
          disposition: r.disposition,
          desiredAccess: r.desiredAccess,
          shareAccess: r.shareAccess,
          dh2q: r.dh2q ? { createGuid: r.dh2q.createGuid, timeoutMs: r.dh2q.timeoutMs, persistent: r.dh2q.persistent } : null,
          dh2c: r.dh2c ? { fileId: fileIdOf(r.dh2c.fileId), createGuid: r.dh2c.createGuid, persistent: r.dh2c.persistent } : null,
          replay: ((r.header?.flags ?? 0) & FLAGS_REPLAY_OPERATION) !== 0,
          appInstanceId: r.appInstanceId ?? '',
        })
        return {
          ...status(reply.status),
          fileId: reply.fileId ?? { persistent: '', volatile: '' },
          createAction: reply.createAction ?? 0,
          endOfFile: reply.endOfFile ?? 0,
          durable: reply.durable ?? false,
          persistent: reply.persistent ?? false,
          timeoutMs: reply.timeoutMs ?? 0,
        }
      }),
      Read: h(async (r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; length: number }) => {
        const t = this.tree(r.header)
        if ('status' in t) return { ...t, data: Buffer.alloc(0) }
        if (r.length > MAX_IO_BYTES || r.offset < 0) return { ...status(NT_STATUS.INVALID_PARAMETER), data: Buffer.alloc(0) }
        if (this.opts.directIo(t.share.csv)) return this.directRead(t, r)
        const reply = await this.run(t.share.csv, { op: 'read', sessionKey: t.sessionKey, fileId: fileIdOf(r.fileId), offset: r.offset, length: r.length })
        return { ...status(reply.status), data: reply.data ?? Buffer.alloc(0) }
      }),
      Write: h(async (r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; data: Buffer }) => {
        const t = this.tree(r.header)
        if ('status' in t) return { ...t, count: 0 }
        if (r.data.length > MAX_IO_BYTES || r.offset < 0) return { ...status(NT_STATUS.INVALID_PARAMETER), count: 0 }
        if (this.opts.directIo(t.share.csv)) return this.directWrite(t, r)
        const reply = await this.run(t.share.csv, {
          op: 'write',
          sessionKey: t.sessionKey,
          fileId: fileIdOf(r.fileId),
          offset: r.offset,
          data: r.data,
          channelSequence: r.header?.channelSequence ?? 0,
          replay: ((r.header?.flags ?? 0) & FLAGS_REPLAY_OPERATION) !== 0,
          messageId: r.header?.messageId ?? '',
        })
        return { ...status(reply.status), count: reply.count ?? 0 }
      }),
      Flush: h((r: { header: Header__Output | null; fileId: FileId__Output | null }) => this.simple(r, 'flush')),
      Close: h((r: { header: Header__Output | null; fileId: FileId__Output | null }) => this.simple(r, 'close')),
      QueryInfo: h(async (r: { header: Header__Output | null; fileId: FileId__Output | null }) => {
        const t = this.tree(r.header)
        if ('status' in t) return t
        const reply = await this.run(t.share.csv, { op: 'query-info', sessionKey: t.sessionKey, fileId: fileIdOf(r.fileId) })
        return {
          ...status(reply.status),
          endOfFile: reply.endOfFile ?? 0,
          creationTimeMs: reply.creationTimeMs ?? 0,
          lastWriteTimeMs: reply.lastWriteTimeMs ?? 0,
          directory: reply.directory ?? false,
        }
      }),
      SetInfo: h(async (r: { header: Header__Output | null; fileId: FileId__Output | null; endOfFile: number; lastWriteTimeMs: number }) => {
        const t = this.tree(r.header)
        if ('status' in t) return t
        const reply = await this.run(t.share.csv, {
          op: 'set-info',
          sessionKey: t.sessionKey,
          fileId: fileIdOf(r.fileId),
          endOfFile: r.endOfFile,
          lastWriteTimeMs: r.lastWriteTimeMs,
          channelSequence: r.header?.channelSequence ?? 0,
          replay: ((r.header?.flags ?? 0) & FLAGS_REPLAY_OPERATION) !== 0,
          messageId: r.header?.messageId ?? '',
        })
        return status(reply.status)
      }),
      QueryDirectory: h(async (r: { header: Header__Output | null; path: string }) => {
        const t = this.tree(r.header)
        if ('status' in t) return { ...t, entries: [] }
        const reply = await this.run(t.share.csv, { op: 'query-directory', share: t.share.name, path: r.path })
        return { ...status(reply.status), entries: reply.entries ?? [] }
      }),
      Echo: h(() => status(NT_STATUS.SUCCESS)),
    } as unknown as SmbHandlers
  }

  /** The sessions this node served are gone with a node death elsewhere? No: only with ours. */
  private negotiate(r: { dialects: number[]; clientGuid: string; capabilities: number }) {
    const dialect = Math.max(-1, ...r.dialects.filter((d) => DIALECTS_OFFERED.includes(d)))
    if (dialect < 0) return { ...status(NT_STATUS.NOT_SUPPORTED), connectionId: '', dialect: 0, capabilities: 0, serverGuid: this.serverGuid, maxReadSize: 0, maxWriteSize: 0 }
    if (r.clientGuid === '' && dialect >= SMB2_DIALECT.SMB21) return { ...status(NT_STATUS.INVALID_PARAMETER), connectionId: '', dialect: 0, capabilities: 0, serverGuid: '', maxReadSize: 0, maxWriteSize: 0 }
    if (this.connections.size >= CONNECTIONS_MAX) return { ...status(NT_STATUS.INSUFFICIENT_RESOURCES), connectionId: '', dialect: 0, capabilities: 0, serverGuid: '', maxReadSize: 0, maxWriteSize: 0 }
    const connectionId = randomUUID()
    this.connections.set(connectionId, { clientGuid: r.clientGuid.toLowerCase(), dialect, clientCapabilities: r.capabilities })
    return {
      ...status(NT_STATUS.SUCCESS),
      connectionId,
      dialect,
      capabilities: dialect >= SMB2_DIALECT.SMB30 ? GLOBAL_CAP.PERSISTENT_HANDLES : 0,
      serverGuid: this.serverGuid,
      maxReadSize: MAX_IO_BYTES,
      maxWriteSize: MAX_IO_BYTES,
    }
  }

  private async sessionSetup(r: { header: Header__Output | null; user: string; password: string; previousSessionId: string }) {
    const conn = this.connections.get(r.header?.connectionId ?? '')
    if (!conn) return { ...status(NT_STATUS.INVALID_PARAMETER), sessionId: '' }
    const metadata = new grpc.Metadata()
    metadata.set('x-swlab-user', r.user)
    metadata.set('x-swlab-password', r.password)
    const principal = authenticate(this.opts.credentials, metadata)
    if (!principal) return { ...status(NT_STATUS.LOGON_FAILURE), sessionId: '' }
    if (this.sessions.size >= SESSIONS_MAX) return { ...status(NT_STATUS.INSUFFICIENT_RESOURCES), sessionId: '' }
    if (r.previousSessionId !== '') {
      // 3.3.5.5.3: the previous session of this user goes away; its durable opens stay.
      const previous = this.sessions.get(r.previousSessionId)
      if (previous) this.sessions.delete(r.previousSessionId)
      await this.opts.endSession(r.previousSessionId, false)
      this.opts.log.info({ component: 'smb', event: 'smb.session.reclaimed', previous: r.previousSessionId })
      this.opts.onEvent?.('smb.session.reclaimed', { previous: r.previousSessionId })
    }
    const key = `${this.opts.nodeId}/${randomUUID()}`
    this.sessions.set(key, { connectionId: r.header?.connectionId ?? '', user: principal.user, key })
    this.opts.log.info({ component: 'smb', event: 'smb.session.setup', session: key, user: principal.user })
    return { ...status(NT_STATUS.SUCCESS), sessionId: key }
  }

  private treeConnect(r: { header: Header__Output | null; path: string }) {
    const s = this.session(r.header)
    if ('status' in s) return { ...s, treeId: '', capabilities: 0 }
    const name = r.path.split('\\').filter(Boolean).pop() ?? ''
    const share = this.opts.shares.find((x) => x.name.toLowerCase() === name.toLowerCase())
    if (!share) return { ...status(NT_STATUS.BAD_NETWORK_NAME), treeId: '', capabilities: 0 }
    if (this.trees.size >= TREES_MAX) return { ...status(NT_STATUS.INSUFFICIENT_RESOURCES), treeId: '', capabilities: 0 }
    const treeId = randomUUID()
    this.trees.set(treeId, { sessionKey: s.key, share })
    const capabilities = (share.continuouslyAvailable ? SHARE_CAP.CONTINUOUS_AVAILABILITY : 0) | SHARE_CAP.SCALEOUT | SHARE_CAP.CLUSTER
    return { ...status(NT_STATUS.SUCCESS), treeId, capabilities }
  }

  /** SAN: the owner checks the handle; the bytes go between this node and storage. */
  private async directRead(t: Tree, r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; length: number }) {
    const fileId = fileIdOf(r.fileId)
    const begin = await this.run(t.share.csv, { op: 'begin-io', sessionKey: t.sessionKey, fileId, kind: 'read', channelSequence: 0, replay: false, messageId: '' })
    if (!begin.proceed || !begin.share || begin.path === undefined) return { ...status(begin.status), data: Buffer.alloc(0) }
    if (!Number.isSafeInteger(r.offset)) return { ...status(NT_STATUS.INVALID_PARAMETER), data: Buffer.alloc(0) }
    const data = await this.opts.direct.read(t.share.csv, begin.share, begin.path, fileId.persistent, r.offset, r.length)
    if (data === 'end-of-file') return { ...status(NT_STATUS.END_OF_FILE), data: Buffer.alloc(0) }
    return { ...status(NT_STATUS.SUCCESS), data }
  }

  private async directWrite(t: Tree, r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; data: Buffer }) {
    const fileId = fileIdOf(r.fileId)
    const io = {
      sessionKey: t.sessionKey,
      fileId,
      kind: 'write' as const,
      channelSequence: r.header?.channelSequence ?? 0,
      messageId: r.header?.messageId ?? '',
    }
    if (!Number.isSafeInteger(r.offset)) return { ...status(NT_STATUS.INVALID_PARAMETER), count: 0 }
    const begin = await this.run(t.share.csv, { ...io, op: 'begin-io', replay: ((r.header?.flags ?? 0) & FLAGS_REPLAY_OPERATION) !== 0 })
    if (begin.alreadyApplied) return { ...status(NT_STATUS.SUCCESS), count: r.data.length }
    if (!begin.proceed || !begin.share || begin.path === undefined) return { ...status(begin.status), count: 0 }
    let count = 0
    try {
      // The begin-io round trip may have spanned a freeze of this process: check the lease again.
      if (!this.opts.isServing()) throw new Unavailable('this node is not serving (no quorum or lease)')
      count = await this.opts.direct.write(t.share.csv, begin.share, begin.path, fileId.persistent, r.offset, r.data)
    } finally {
      await this.run(t.share.csv, { ...io, op: 'complete-io', applied: count === r.data.length, offset: r.offset, length: count })
    }
    return { ...status(NT_STATUS.SUCCESS), count }
  }

  private async simple(r: { header: Header__Output | null; fileId: FileId__Output | null }, op: 'flush' | 'close') {
    const t = this.tree(r.header)
    if ('status' in t) return t
    const reply = await this.run(t.share.csv, { op, sessionKey: t.sessionKey, fileId: fileIdOf(r.fileId) })
    return status(reply.status)
  }

  private session(header: Header__Output | null): Session | ReturnType<typeof status> {
    const s = this.sessions.get(header?.sessionId ?? '')
    if (!s || s.connectionId !== header?.connectionId) return status(NT_STATUS.USER_SESSION_DELETED)
    return s
  }

  private tree(header: Header__Output | null): Tree | ReturnType<typeof status> {
    const s = this.session(header)
    if ('status' in s) return s
    const t = this.trees.get(header?.treeId ?? '')
    if (!t || t.sessionKey !== s.key) return status(NT_STATUS.NETWORK_NAME_DELETED)
    return t
  }

  private async run(csv: string, op: HandleOp): Promise<HandleOpReply> {
    const reply = await this.opts.route(csv, op)
    // The owner is gone or the CSV is moving: the client sees the call fail and retries.
    if (reply === 'unavailable') throw new Unavailable(`${csv} has no serving owner right now`)
    return reply
  }
}

function status(code: number) {
  return { status: { code, name: ntStatusName(code) } }
}

function fileIdOf(id: FileId__Output | null): { persistent: string; volatile: string } {
  return { persistent: id?.persistent ?? '', volatile: id?.volatile ?? '' }
}
