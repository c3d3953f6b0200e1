// The client-facing side of the SMB data path on one node, over gRPC: it decodes requests,
// checks credentials, draws ids, and hands connections, sessions and tree connects to the
// session core (core/smb/smb-session-core), then routes every handle operation to the node
// that owns the share's CSV (S2D: the owner serves all IO of its CSV; others forward it over
// the peer service). A node without quorum or lease answers nothing: clients see the call fail.
import * as grpc from '@grpc/grpc-js'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { authenticate, type ClusterCredentials } from '../../cluster/credentials.js'
import type { SmbHandlers } from '../../proto/gen/swlab/smb/v1/Smb.js'
import type { Header__Output } from '../../proto/gen/swlab/smb/v1/Header.js'
import type { FileId__Output } from '../../proto/gen/swlab/smb/v1/FileId.js'
import { MAX_IO_BYTES, type HandleOp, type HandleOpReply, type ShareInfo } from './csv-service.js'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { SmbSessionCore, type SmbTreeContext } from '../../core/smb/smb-session-core.js'
import type { DirectIo } from './direct-io.js'

export { SHARE_CAP } from '../../protocol/smb2/constants.js'
export const FLAGS_REPLAY_OPERATION = 0x20

type Tree = SmbTreeContext<ShareInfo>
type StatusReply = ReturnType<typeof status>

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
  /** Connections, sessions and trees; a session's id is its key on every node (nodeId/uuid). */
  private readonly core = new SmbSessionCore<ShareInfo>()
  private readonly serverGuid = randomUUID()

  constructor(private readonly opts: SmbFrontOptions) {}

  counts(): { connections: number; sessions: number; trees: number } {
    return this.core.counts()
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
        const result = this.core.logoff(r.header?.connectionId ?? '', r.header?.sessionId ?? '')
        if (result.status !== NT_STATUS.SUCCESS) return status(result.status)
        await this.opts.endSession(result.endedSessionId, true)
        return status(NT_STATUS.SUCCESS)
      }),
      TreeConnect: h((r: { header: Header__Output | null; path: string }) => this.treeConnect(r)),
      TreeDisconnect: h((r: { header: Header__Output | null }) =>
        status(this.core.treeDisconnect(r.header?.connectionId ?? '', r.header?.sessionId ?? '', r.header?.treeId ?? '').status),
      ),
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
        const reply = await this.run(t.share.csv, {
          op: 'create',
          sessionKey: t.sessionId,
          clientGuid: t.clientGuid,
          user: t.user,
          persistentCapable: t.persistentHandlesCapable,
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
        const reply = await this.run(t.share.csv, { op: 'read', sessionKey: t.sessionId, fileId: fileIdOf(r.fileId), offset: r.offset, length: r.length })
        return { ...status(reply.status), data: reply.data ?? Buffer.alloc(0) }
      }),
      Write: h(async (r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; data: Buffer }) => {
        const t = this.tree(r.header)
        if ('status' in t) return { ...t, count: 0 }
        if (r.data.length > MAX_IO_BYTES || r.offset < 0) return { ...status(NT_STATUS.INVALID_PARAMETER), count: 0 }
        if (this.opts.directIo(t.share.csv)) return this.directWrite(t, r)
        const reply = await this.run(t.share.csv, {
          op: 'write',
          sessionKey: t.sessionId,
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
        const reply = await this.run(t.share.csv, { op: 'query-info', sessionKey: t.sessionId, fileId: fileIdOf(r.fileId) })
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
          sessionKey: t.sessionId,
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

  private negotiate(r: { dialects: number[]; clientGuid: string; capabilities: number }) {
    const result = this.core.negotiate({ newConnectionId: randomUUID(), clientDialects: r.dialects, clientGuid: r.clientGuid, clientCapabilities: r.capabilities })
    if (result.status !== NT_STATUS.SUCCESS) {
      // Only the no-common-dialect refusal names the server, as it always has.
      const serverGuid = result.status === NT_STATUS.NOT_SUPPORTED ? this.serverGuid : ''
      return { ...status(result.status), connectionId: '', dialect: 0, capabilities: 0, serverGuid, maxReadSize: 0, maxWriteSize: 0 }
    }
    return {
      ...status(NT_STATUS.SUCCESS),
      connectionId: result.connection.connectionId,
      dialect: result.connection.dialect,
      capabilities: result.serverCapabilities,
      serverGuid: this.serverGuid,
      maxReadSize: MAX_IO_BYTES,
      maxWriteSize: MAX_IO_BYTES,
    }
  }

  private async sessionSetup(r: { header: Header__Output | null; user: string; password: string; previousSessionId: string }) {
    const metadata = new grpc.Metadata()
    metadata.set('x-swlab-user', r.user)
    metadata.set('x-swlab-password', r.password)
    const principal = authenticate(this.opts.credentials, metadata)
    const connectionId = r.header?.connectionId ?? ''
    const result = this.core.sessionSetup({
      connectionId,
      authenticatedUser: principal?.user ?? null,
      previousSessionId: r.previousSessionId,
      // The node in the id makes it unique across the cluster: CSV owners key opens by it.
      newSessionId: `${this.opts.nodeId}/${randomUUID()}`,
    })
    if (result.status !== NT_STATUS.SUCCESS) return { ...status(result.status), sessionId: '' }
    const { sessionId, user } = result.session
    const previous = result.previousSessionIdToEnd
    if (previous !== null) {
      try {
        await this.opts.endSession(previous, false)
      } catch (err) {
        // The client sees the setup fail, so the session it never learnt of must not stay.
        this.core.logoff(connectionId, sessionId)
        throw err
      }
      this.opts.log.info({ component: 'smb', event: 'smb.session.reclaimed', previous })
      this.opts.onEvent?.('smb.session.reclaimed', { previous })
    }
    this.opts.log.info({ component: 'smb', event: 'smb.session.setup', session: sessionId, user })
    return { ...status(NT_STATUS.SUCCESS), sessionId }
  }

  private treeConnect(r: { header: Header__Output | null; path: string }) {
    const result = this.core.treeConnect({
      connectionId: r.header?.connectionId ?? '',
      sessionId: r.header?.sessionId ?? '',
      path: r.path,
      shares: this.opts.shares,
      newTreeId: randomUUID(),
    })
    if (result.status !== NT_STATUS.SUCCESS) return { ...status(result.status), treeId: '', capabilities: 0 }
    return { ...status(NT_STATUS.SUCCESS), treeId: result.treeId, capabilities: result.shareCapabilities }
  }

  /** SAN: the owner checks the handle; the bytes go between this node and storage. */
  private async directRead(t: Tree, r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; length: number }) {
    const fileId = fileIdOf(r.fileId)
    const begin = await this.run(t.share.csv, { op: 'begin-io', sessionKey: t.sessionId, fileId, kind: 'read', channelSequence: 0, replay: false, messageId: '' })
    if (!begin.proceed || !begin.share || begin.path === undefined) return { ...status(begin.status), data: Buffer.alloc(0) }
    if (!Number.isSafeInteger(r.offset)) return { ...status(NT_STATUS.INVALID_PARAMETER), data: Buffer.alloc(0) }
    const data = await this.opts.direct.read(t.share.csv, begin.share, begin.path, fileId.persistent, r.offset, r.length)
    if (data === 'end-of-file') return { ...status(NT_STATUS.END_OF_FILE), data: Buffer.alloc(0) }
    return { ...status(NT_STATUS.SUCCESS), data }
  }

  private async directWrite(t: Tree, r: { header: Header__Output | null; fileId: FileId__Output | null; offset: number; data: Buffer }) {
    const fileId = fileIdOf(r.fileId)
    const io = {
      sessionKey: t.sessionId,
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
    const reply = await this.run(t.share.csv, { op, sessionKey: t.sessionId, fileId: fileIdOf(r.fileId) })
    return status(reply.status)
  }

  private tree(header: Header__Output | null): Tree | StatusReply {
    const found = this.core.resolveTree(header?.connectionId ?? '', header?.sessionId ?? '', header?.treeId ?? '')
    return found.status === NT_STATUS.SUCCESS ? found.tree : status(found.status)
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
