// The tree-level commands of the SMB2 wire front (MS-SMB2 3.3.5.9 to 3.3.5.22): CREATE, CLOSE,
// FLUSH, READ, WRITE, LOCK, IOCTL, QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO, SET_INFO and
// OPLOCK_BREAK, each decoded, checked against the session's opens and run where the share's
// CSV is served (here or forwarded to its owner, by the CSV router, as the gRPC front does).
// What the information classes say is encoded by their codecs from what the owner stat()ed.
import { createHash } from 'node:crypto'
import { type Smb2FileId, RELATED_FILE_ID, sameFileId } from '../../protocol/smb2/file-id.js'
import { CLOSE_FLAGS, decodeCloseRequest, decodeCreateRequest, encodeCloseResponse, encodeCreateResponse, OPLOCK_LEVEL, type FileAttributesSnapshot } from '../../protocol/smb2/create.js'
import {
  CREATE_CONTEXT,
  type CreateContext,
  DH2Q_FLAGS,
  createContextName,
  createContextTag,
  decodeAllocationSize,
  decodeAppInstanceId,
  decodeDurableReconnectV1,
  decodeDurableReconnectV2,
  decodeDurableRequestV1,
  decodeDurableRequestV2,
  decodeLeaseRequest,
  decodeMaximalAccessRequest,
  encodeDurableResponseV1,
  encodeLease,
  type LeaseRequest,
  encodeDurableResponseV2,
  encodeMaximalAccessResponse,
  encodeQueryOnDiskIdResponse,
  findCreateContext,
} from '../../protocol/smb2/create-contexts.js'
import { encodeDirectoryEntries } from '../../protocol/smb2/directory-info.js'
import { encodeEmptyBody, encodeSetInfoResponse } from '../../protocol/smb2/empty-body.js'
import { type ExtendedAttribute, decodeFullEaInformation, eaListBytes } from '../../protocol/smb2/extended-attributes.js'
import { encodeErrorResponse } from '../../protocol/smb2/error-response.js'
import { ALLOCATION_UNIT_BYTES, FILE_ATTRIBUTE, FILE_INFO_CLASS, type FileFacts, type InfoAnswer, INFO_TYPE, decodeSetFileInfo, effectiveAttributes, queryFileInfo } from '../../protocol/smb2/file-info.js'
import { filetimeFromUnixMs, unixMsFromFiletime } from '../../protocol/smb2/filetime.js'
import { type VolumeFacts, queryFsInfo } from '../../protocol/smb2/fs-info.js'
import { FSCTL_CODE, type FileObjectId, type NetworkInterface, OBJECT_ID_BYTES, createOrGetObjectId, encodeNetworkInterfaceInfo, unimplementedFsctlStatus, validateNegotiateInfo } from '../../protocol/smb2/fsctl.js'
import { SMB2_COMMAND, SMB2_FLAGS, smb2CommandName } from '../../protocol/smb2/header.js'
import { decodeIoctlRequest, encodeIoctlResponse } from '../../protocol/smb2/ioctl.js'
import { decodeLockRequest } from '../../protocol/smb2/lock.js'
import { decodeOplockBreak, encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import { compileNamePattern } from '../../protocol/smb2/name-pattern.js'
import { dosShortName } from '../../protocol/smb2/short-name.js'
import { NT_STATUS, ntStatusName } from '../../protocol/smb2/ntstatus.js'
import { encodeOutputBufferResponse } from '../../protocol/smb2/output-buffer-response.js'
import { QUERY_DIRECTORY_FLAGS, decodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { decodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { decodeQueryInfoRequest, decodeSetInfoRequest } from '../../protocol/smb2/query-info.js'
import { decodeFlushRequest, decodeReadRequest, decodeWriteRequest, encodeReadResponse, encodeWriteResponse } from '../../protocol/smb2/read-write.js'
import { querySecurityInfo } from '../../protocol/smb2/security-info.js'
import { queryInfoAccessRefusal, specificFileAccess } from '../../protocol/smb2/query-info-access.js'
import { SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import { creditChargeFor } from '../../core/smb2/credit-window.js'
import { DOT_NAMES, advanceCursor, startCursor } from '../../core/smb/directory-cursor.js'
import type { Decoded } from '../../protocol/smb2/message-reader.js'
import { CREATE_WAIT_MS_MAX, LOCK_WAIT_MS_MAX, type FileInfoChange, type FileStat, type HandleOp, type HandleOpReply, type ShareInfo } from '../smb/csv-service.js'
import type { FinalReply, Reply, RequestContext } from './smb2-request.js'
import { NAMED_PIPE_STATUS, type NamedPipe, type NamedPipeRegistry, type PipeTransceiveResult } from './named-pipe.js'
import { randomBytes } from 'node:crypto'
import { type WireOpen, type WireSession, type WireTree, fileIdKey } from './smb2-state.js'
import { dataPathBuffers } from '../../runtime/buffer-pool.js'
import { sanRead, sanWrite, type SanDataPath } from './san-data-path.js'

/** SMB2_LEASE_FLAG_PARENT_LEASE_KEY_SET (2.2.13.2.10). */
const LEASE_FLAG_PARENT_LEASE_KEY_SET = 0x04

type CreateRequestOf = Extract<ReturnType<typeof decodeCreateRequest>, { ok: true }>['value']

/** What a tree connect grants an open on a disk share, asked or not (MaximalAccess of MxAc): FILE_ALL_ACCESS. */
const MAXIMAL_ACCESS = 0x001f01ff
/** Opens one session may hold (Windows has no small limit; a bound all the same). */
export const OPENS_PER_SESSION_MAX = 16_384
/** The largest QUERY_DIRECTORY / QUERY_INFO / IOCTL output answered (64 KiB per credit up to the negotiated size). */
const OUTPUT_BYTES_MAX = 8 * 1024 * 1024
/** The smallest directory entry of any class: FileNamesInformation's 12 bytes and a 1-character name, 8-aligned. */
const DIRECTORY_ENTRY_BYTES_MIN = 16
/** SMB2_TRACE=1 in a node's environment logs every response's command and status (and every CREATE), for debugging a client. */
const TRACE = process.env.SMB2_TRACE !== undefined

export interface Smb2FileCommandsOptions {
  /** Runs a handle operation where the CSV is served (the CSV router). */
  route(csv: string, op: HandleOp): Promise<HandleOpReply | 'unavailable'>
  /** The connection facts VALIDATE_NEGOTIATE_INFO compares against. */
  readonly serverGuid: string
  readonly serverStartTime: bigint
  /** The named pipes of IPC$ (srvsvc). */
  readonly pipes: NamedPipeRegistry
  /** This node's client interfaces, for FSCTL_QUERY_NETWORK_INTERFACE_INFO (multichannel). */
  networkInterfaces(): readonly NetworkInterface[]
  /** SAN mode: READ and WRITE direct to storage, the owner checking the handle (absent: every READ and WRITE goes to the owner). */
  readonly san?: SanDataPath
  log(event: string, fields: Record<string, unknown>): void
  /** The CSV a lease break for ClientGuid/LeaseKey (hex) came from: where its acknowledgment goes. */
  leaseBreakCsv(clientGuid: string, leaseKey: string): string | null
}

class Unavailable extends Error {}

export class Smb2FileCommands {
  /**
   * Sessions and trees that went away: a CREATE that was at the CSV's owner meanwhile closes
   * the open it made there (its session's opens were already closed or preserved without it).
   */
  private readonly lostSessions = new WeakSet<WireSession>()
  private readonly closedTrees = new WeakSet<WireTree>()

  constructor(private readonly opts: Smb2FileCommandsOptions) {}

  async handle(ctx: RequestContext, validate: ValidateNegotiateFacts): Promise<Reply> {
    try {
      return await this.dispatch(ctx, validate)
    } catch (err) {
      if (err instanceof Unavailable) return { kind: 'unavailable', reason: err.message }
      throw err
    }
  }

  /** A tree went away (TREE_DISCONNECT, LOGOFF): its opens close. */
  async treeClosed(session: WireSession, tree: WireTree): Promise<void> {
    this.closedTrees.add(tree)
    for (const open of [...session.opens.values()]) {
      if (open.treeId !== tree.treeId) continue
      session.opens.delete(fileIdKey(open.fileId))
      this.cancelWaiters(open, NT_STATUS.NOTIFY_CLEANUP)
      pipeOf(open)?.close()
      if (tree.share) await this.opts.route(tree.share.csv, { op: 'close', sessionKey: session.sessionKeyName, fileId: open.fileId }).catch(() => undefined)
    }
  }

  /**
   * The connection of a session went away: its pipes close and its waiters end. Its opens on the
   * CSVs are the CSV owners' business (disconnected, durable ones preserved).
   */
  sessionLost(session: WireSession): void {
    this.lostSessions.add(session)
    for (const open of session.opens.values()) {
      this.cancelWaiters(open, NT_STATUS.NOTIFY_CLEANUP)
      pipeOf(open)?.close()
    }
    session.opens.clear()
  }

  private async dispatch(ctx: RequestContext, validate: ValidateNegotiateFacts): Promise<Reply> {
    switch (ctx.header.command) {
      case SMB2_COMMAND.CREATE:
        return this.create(ctx)
      case SMB2_COMMAND.CLOSE:
        return this.close(ctx)
      case SMB2_COMMAND.FLUSH:
        return this.flush(ctx)
      case SMB2_COMMAND.READ:
        return this.read(ctx)
      case SMB2_COMMAND.WRITE:
        return this.write(ctx)
      case SMB2_COMMAND.QUERY_DIRECTORY:
        return this.queryDirectory(ctx)
      case SMB2_COMMAND.QUERY_INFO:
        return this.queryInfo(ctx)
      case SMB2_COMMAND.SET_INFO:
        return this.setInfo(ctx)
      case SMB2_COMMAND.IOCTL:
        return this.ioctl(ctx, validate)
      case SMB2_COMMAND.CHANGE_NOTIFY:
        return this.changeNotify(ctx)
      case SMB2_COMMAND.LOCK:
        return this.lock(ctx)
      case SMB2_COMMAND.OPLOCK_BREAK:
        return this.oplockBreakAck(ctx)
      default:
        this.opts.log('smb2.command.unknown', { command: smb2CommandName(ctx.header.command) })
        return error(NT_STATUS.INVALID_PARAMETER)
    }
  }

  // ---- helpers ----

  /** A request that does not decode: its NTSTATUS, and a line in the node's log. */
  private malformed(ctx: RequestContext, d: Decoded<unknown>): Reply {
    const reason = d.ok ? 'unknown' : d.error.reason
    this.opts.log('smb2.request.malformed', { connection: ctx.connection.connectionId, command: smb2CommandName(ctx.header.command), reason })
    return decodeFailure(d)
  }

  private async run(csv: string, op: HandleOp): Promise<HandleOpReply> {
    const reply = await this.opts.route(csv, op)
    if (reply === 'unavailable') throw new Unavailable(`${csv} has no serving owner right now`)
    return reply
  }

  /** The open a request names, with the all-ones FileId of a related compound member resolved (3.3.5.2.7.2). */
  private openOf(ctx: RequestContext, fileId: Smb2FileId): WireOpen | null {
    const id = sameFileId(fileId, RELATED_FILE_ID) && ctx.relatedFileId ? ctx.relatedFileId : fileId
    const open = ctx.session!.opens.get(fileIdKey(id))
    return open && open.treeId === ctx.tree!.treeId ? open : null
  }

  private share(ctx: RequestContext): ShareInfo | null {
    return ctx.tree!.share
  }

  private channel(ctx: RequestContext): { channelSequence: number; replay: boolean; messageId: string } {
    return {
      channelSequence: ctx.connection.dialect >= 0x0300 ? ctx.header.status & 0xffff : 0,
      replay: (ctx.header.flags & SMB2_FLAGS.REPLAY_OPERATION) !== 0,
      // The open remembers the writes it applied by this key, to apply a replay once. A MessageId
      // is only unique within its connection (MS-SMB2 3.3.1.1: each connection starts at 0), so
      // the key names the connection too: bare, the first WRITEs of a client's new connection
      // after a failover matched writes of its old one and were acknowledged unapplied.
      messageId: `${ctx.connection.connectionId}:${ctx.header.messageId}`,
    }
  }

  /** A multi-credit request must carry the CreditCharge its payload needs (3.3.5.2.5). */
  private chargeCovers(ctx: RequestContext, payloadBytes: number): boolean {
    if (ctx.connection.dialect < 0x0210) return payloadBytes <= 65_536
    return Math.max(1, ctx.header.creditCharge) >= creditChargeFor(payloadBytes)
  }

  // ---- CREATE ----

  private async create(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeCreateRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const session = ctx.session!
    const share = this.share(ctx)
    if (session.opens.size >= OPENS_PER_SESSION_MAX) return error(NT_STATUS.INSUFFICIENT_RESOURCES)
    if (!share) return this.openPipe(ctx, req.name, req.desiredAccess)
    if (TRACE) this.opts.log('smb2.trace.create', { name: req.name, contexts: req.createContexts.map((c) => createContextTag(c.name)), options: req.createOptions, disposition: req.createDisposition, attributes: req.fileAttributes })
    const contexts = parseCreateContexts(req.createContexts)
    if ('status' in contexts) {
      this.opts.log('smb2.request.malformed', { command: 'CREATE', reason: 'a create context we read is malformed', status: ntStatusName(contexts.status) })
      return error(contexts.status)
    }
    const tree = ctx.tree!.context!
    const channel = this.channel(ctx)
    // 3.3.5.9.8 / 3.3.5.9.11: a lease context counts only with RequestedOplockLevel LEASE, v2 only at 3.x.
    const leaseContext = req.requestedOplockLevel === OPLOCK_LEVEL.LEASE && contexts.lease && (contexts.lease.parentLeaseKey === null || ctx.connection.dialect >= 0x0300) ? contexts.lease : null
    const requestKey = `${ctx.connection.connectionId}/${ctx.header.messageId}`
    const first = await this.run(share.csv, {
      op: 'create',
      sessionKey: session.sessionKeyName,
      clientGuid: tree.clientGuid,
      user: tree.user,
      persistentCapable: tree.persistentHandlesCapable,
      share: share.name,
      path: req.name.replace(/\\/g, '/'),
      disposition: req.createDisposition,
      desiredAccess: req.desiredAccess,
      shareAccess: req.shareAccess,
      dh2q: contexts.dh2q,
      dh2c: contexts.dh2c,
      dhnq: contexts.dhnq,
      dhnc: contexts.dhnc,
      replay: channel.replay,
      appInstanceId: contexts.appInstanceId,
      createOptions: req.createOptions,
      requestedOplock: req.requestedOplockLevel === OPLOCK_LEVEL.LEASE && ctx.connection.dialect < 0x0210 ? OPLOCK_LEVEL.NONE : req.requestedOplockLevel,
      lease: leaseContext
        ? {
            key: leaseContext.leaseKey.toString('hex'),
            state: leaseContext.leaseState,
            version: leaseContext.parentLeaseKey === null ? 1 : 2,
            ...(leaseContext.parentLeaseKey !== null && (leaseContext.leaseFlags & LEASE_FLAG_PARENT_LEASE_KEY_SET) !== 0 ? { parentKey: leaseContext.parentLeaseKey.toString('hex') } : {}),
            epoch: leaseContext.epoch,
          }
        : null,
      // A reconnect is checked against its open's lease by the RqLs context alone (smbd does the same).
      ...((contexts.dh2c || contexts.dhnc) && contexts.lease ? { reconnectLeaseKey: contexts.lease.leaseKey.toString('hex') } : {}),
      requestKey,
      dialect: ctx.connection.dialect,
      scaleOut: share.scaleOut !== false,
      smb3: ctx.connection.dialect >= SMB2_DIALECT.SMB30,
      ...(contexts.extendedAttributes.length > 0 ? { extendedAttributes: contexts.extendedAttributes } : {}),
      ...(req.fileAttributes !== 0 ? { fileAttributes: req.fileAttributes } : {}),
      ...(contexts.allocationBytes !== null && contexts.allocationBytes > 0n && contexts.allocationBytes <= BigInt(Number.MAX_SAFE_INTEGER)
        ? { allocationBytes: Number(contexts.allocationBytes) }
        : {}),
    })
    const answer = (reply: HandleOpReply) => this.createAnswer(ctx, req, contexts, share, reply)
    if (!first.pending) return answer(first)
    // 3.3.4.2: the CREATE waits for oplock or lease breaks: STATUS_PENDING now, the answer later.
    const csv = share.csv
    const completion = (async (): Promise<FinalReply> => {
      for (;;) {
        const waited = await this.opts.route(csv, { op: 'create-wait', requestKey, waitMs: CREATE_WAIT_MS_MAX })
        if (waited === 'unavailable') return { status: NT_STATUS.FILE_NOT_AVAILABLE, body: encodeErrorResponse() }
        if (waited.pending) continue
        const r = await answer(waited)
        return r.kind === 'reply' ? { status: r.status, body: r.body } : { status: NT_STATUS.INSUFFICIENT_RESOURCES, body: encodeErrorResponse() }
      }
    })()
    // A waiting CREATE is not cancelled here: it ends with the breaks it waits for (35 s at most).
    return { kind: 'pending', completion, cancel: () => undefined }
  }

  /** The CREATE response of what the CSV owner answered (and the open it registers with the session). */
  private async createAnswer(ctx: RequestContext, req: CreateRequestOf, contexts: ParsedContexts, share: ShareInfo, reply: HandleOpReply): Promise<Reply> {
    const session = ctx.session!
    if (reply.status !== NT_STATUS.SUCCESS || !reply.fileId || !reply.stat) {
      this.opts.log('smb2.create.refused', { session: session.sessionKeyName, share: share.name, name: req.name, status: ntStatusName(reply.status) })
      return error(reply.status === NT_STATUS.SUCCESS ? NT_STATUS.INSUFFICIENT_RESOURCES : reply.status)
    }
    const fileId = reply.fileId
    if (this.lostSessions.has(session) || this.closedTrees.has(ctx.tree!)) {
      // The session or tree ended while the CREATE was at the owner: nobody will close this open.
      await this.opts.route(share.csv, { op: 'close', sessionKey: session.sessionKeyName, fileId }).catch(() => undefined)
      this.opts.log('smb2.create.orphan-closed', { session: session.sessionKeyName, share: share.name, name: req.name })
      return error(this.lostSessions.has(session) ? NT_STATUS.USER_SESSION_DELETED : NT_STATUS.NETWORK_NAME_DELETED)
    }
    // A reconnect's name is ignored: the open keeps the name it was made with.
    const path = (contexts.dh2c || contexts.dhnc) && reply.path !== undefined ? reply.path : req.name.replace(/\\/g, '/')
    const position = reply.position !== undefined && /^\d{1,20}$/.test(reply.position) ? BigInt(reply.position) : 0n
    const open: WireOpen = { fileId, treeId: ctx.tree!.treeId, path, directory: reply.directory ?? false, grantedAccess: reply.grantedAccess ?? req.desiredAccess, listing: null, pipe: null, waiters: new Set(), position, ...(reply.durable ? { durable: true } : {}) }
    session.opens.set(fileIdKey(fileId), open)
    const facts = factsOf(reply.stat, open, '')
    const responseContexts: CreateContext[] = []
    if (contexts.maximalAccess) responseContexts.push({ name: createContextName(CREATE_CONTEXT.QUERY_MAXIMAL_ACCESS), data: encodeMaximalAccessResponse(NT_STATUS.SUCCESS, MAXIMAL_ACCESS) })
    if (contexts.queryOnDiskId) responseContexts.push({ name: createContextName(CREATE_CONTEXT.QUERY_ON_DISK_ID), data: encodeQueryOnDiskIdResponse(diskFileId(reply.stat), volumeSerial(share)) })
    if (reply.durable && contexts.dh2q) {
      responseContexts.push({ name: createContextName(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST_V2), data: encodeDurableResponseV2(reply.timeoutMs ?? 0, reply.persistent ? DH2Q_FLAGS.PERSISTENT : 0) })
    } else if (reply.durable && contexts.dhnq) {
      responseContexts.push({ name: createContextName(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST), data: encodeDurableResponseV1() })
    }
    // 2.2.14.2.10 / 2.2.14.2.11: the lease granted, in the version asked.
    if (reply.lease) {
      const l = reply.lease
      responseContexts.push({
        name: createContextName(CREATE_CONTEXT.REQUEST_LEASE),
        data: encodeLease({
          leaseKey: Buffer.from(l.key, 'hex'),
          leaseState: l.state,
          leaseFlags: l.flags,
          parentLeaseKey: l.version === 2 ? (l.parentKey !== undefined ? Buffer.from(l.parentKey, 'hex') : Buffer.alloc(16)) : null,
          epoch: l.epoch,
        }),
      })
    }
    const body = encodeCreateResponse({
      oplockLevel: reply.oplockLevel ?? OPLOCK_LEVEL.NONE,
      flags: 0,
      createAction: reply.createAction ?? 1,
      ...snapshotOf(facts),
      fileId,
      createContexts: responseContexts,
    })
    return { kind: 'reply', status: NT_STATUS.SUCCESS, body, fileId }
  }

  /** CREATE on IPC$: a named pipe (MS-SMB2 3.3.5.9: the name is the pipe's). */
  private openPipe(ctx: RequestContext, name: string, desiredAccess: number): Reply {
    const session = ctx.session!
    const opened = this.opts.pipes.open(name)
    if (!opened.ok) {
      this.opts.log('smb2.create.refused', { session: session.sessionKeyName, share: 'IPC$', name, status: ntStatusName(NAMED_PIPE_STATUS[opened.refusal]) })
      return error(NAMED_PIPE_STATUS[opened.refusal])
    }
    let fileId: Smb2FileId
    do fileId = { persistent: randomBytes(8).toString('hex'), volatile: randomBytes(8).toString('hex') }
    while (session.opens.has(fileIdKey(fileId)) || sameFileId(fileId, RELATED_FILE_ID))
    const open: WireOpen = { fileId, treeId: ctx.tree!.treeId, path: opened.pipe.name, directory: false, grantedAccess: desiredAccess, listing: null, pipe: opened.pipe, waiters: new Set(), position: 0n }
    session.opens.set(fileIdKey(fileId), open)
    this.opts.log('smb2.pipe.opened', { session: session.sessionKeyName, pipe: opened.pipe.name })
    const zero = { creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 4096n, endOfFile: 0n, fileAttributes: FILE_ATTRIBUTE.NORMAL }
    return { kind: 'reply', status: NT_STATUS.SUCCESS, body: encodeCreateResponse({ oplockLevel: OPLOCK_LEVEL.NONE, flags: 0, createAction: 1, ...zero, fileId, createContexts: [] }), fileId }
  }

  /** What a pipe read or transceive gives: data now, or an async reply when it waits (MS-SMB2 3.3.5.12). */
  private pipeReply(result: PipeTransceiveResult, fileId: Smb2FileId, encode: (data: Buffer) => Buffer | readonly Buffer[]): Reply {
    switch (result.kind) {
      case 'data':
      case 'buffer-overflow':
        return { kind: 'reply', status: NAMED_PIPE_STATUS[result.kind], body: encode(result.bytes), fileId }
      case 'pending':
        return {
          kind: 'pending',
          completion: result.done.then((outcome): FinalReply => {
            if (outcome.kind === 'data' || outcome.kind === 'buffer-overflow') return { status: NAMED_PIPE_STATUS[outcome.kind], body: encode(outcome.bytes) }
            return { status: NAMED_PIPE_STATUS[outcome.kind], body: encodeErrorResponse() }
          }),
          cancel: () => result.cancel(),
        }
      default:
        return error(NAMED_PIPE_STATUS[result.kind])
    }
  }

  // ---- CLOSE, FLUSH ----

  private async close(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeCloseRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const open = this.openOf(ctx, decoded.value.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    const pipe = pipeOf(open)
    if (pipe) {
      pipe.close()
      ctx.session!.opens.delete(fileIdKey(open.fileId))
      const zero = { creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 0n, endOfFile: 0n, fileAttributes: 0 }
      return { kind: 'reply', status: NT_STATUS.SUCCESS, body: encodeCloseResponse({ flags: 0, ...zero }), fileId: open.fileId }
    }
    const share = this.share(ctx)!
    const session = ctx.session!
    let after: FileAttributesSnapshot | null = null
    if (decoded.value.flags & CLOSE_FLAGS.POSTQUERY_ATTRIB) {
      const st = await this.run(share.csv, { op: 'stat', sessionKey: session.sessionKeyName, fileId: open.fileId })
      if (st.stat) after = snapshotOf(factsOf(st.stat, open, ''))
    }
    const reply = await this.run(share.csv, { op: 'close', sessionKey: session.sessionKeyName, fileId: open.fileId })
    session.opens.delete(fileIdKey(open.fileId))
    this.cancelWaiters(open, NT_STATUS.NOTIFY_CLEANUP)
    if (reply.status !== NT_STATUS.SUCCESS) return error(reply.status)
    const zero = { creationTime: 0n, lastAccessTime: 0n, lastWriteTime: 0n, changeTime: 0n, allocationSize: 0n, endOfFile: 0n, fileAttributes: 0 }
    return { kind: 'reply', status: NT_STATUS.SUCCESS, body: encodeCloseResponse({ flags: after ? CLOSE_FLAGS.POSTQUERY_ATTRIB : 0, ...(after ?? zero) }), fileId: open.fileId }
  }

  private async flush(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeFlushRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const open = this.openOf(ctx, decoded.value.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (pipeOf(open)) return ok(encodeEmptyBody(), open.fileId)
    const reply = await this.run(this.share(ctx)!.csv, { op: 'flush', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId })
    return reply.status === NT_STATUS.SUCCESS ? ok(encodeEmptyBody(), open.fileId) : error(reply.status)
  }

  // ---- READ, WRITE ----

  private async read(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeReadRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    // 3.3.5.12: beyond MaxReadSize, or a charge that does not cover it, is INVALID_PARAMETER.
    if (req.length > ctx.connection.maxIoBytes || !this.chargeCovers(ctx, req.length)) return error(NT_STATUS.INVALID_PARAMETER)
    if (req.offset > BigInt(Number.MAX_SAFE_INTEGER)) return error(NT_STATUS.INVALID_PARAMETER)
    const pipe = pipeOf(open)
    if (pipe) return this.pipeReply(pipe.read(req.length), open.fileId, (data) => encodeReadResponse({ dataRemaining: 0, flags: 0, data }))
    const csv = this.share(ctx)!.csv
    const channel = ctx.connection.dialect >= 0x0300 ? this.channel(ctx) : null
    const read = {
      sessionKey: ctx.session!.sessionKeyName,
      fileId: open.fileId,
      offset: Number(req.offset),
      length: req.length,
      ...(channel ? { channel: { channelSequence: channel.channelSequence, replay: channel.replay } } : {}),
    }
    const reply = this.opts.san?.isDirect(csv) ? await sanRead(this.opts.san, (c, op) => this.run(c, op), { csv, ...read }) : await this.run(csv, { op: 'read', ...read })
    this.assertOpenAtOwner(ctx, open, reply.status)
    if (reply.status !== NT_STATUS.SUCCESS) return this.ioRefused(ctx, 'read', open.path, req.offset, reply.status)
    const data = reply.data ?? Buffer.alloc(0)
    if (data.length < req.minimumCount || (data.length === 0 && req.length > 0)) {
      dataPathBuffers.release(data)
      return this.ioRefused(ctx, 'read', open.path, req.offset, NT_STATUS.END_OF_FILE)
    }
    open.position = req.offset + BigInt(data.length)
    return ok(encodeReadResponse({ dataRemaining: 0, flags: 0, data }), open.fileId)
  }

  private async write(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeWriteRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (req.data.length > ctx.connection.maxIoBytes || !this.chargeCovers(ctx, req.data.length)) return error(NT_STATUS.INVALID_PARAMETER)
    // An offset of all ones appends (3.3.5.13 with FILE_APPEND_DATA); offsets beyond 2^53 are refused.
    if (req.offset > BigInt(Number.MAX_SAFE_INTEGER)) return error(NT_STATUS.INVALID_PARAMETER)
    const pipe = pipeOf(open)
    if (pipe) {
      const written = pipe.write(req.data)
      return written.kind === 'written' ? ok(encodeWriteResponse({ count: written.byteCount, remaining: 0 }), open.fileId) : error(NAMED_PIPE_STATUS[written.kind])
    }
    const csv = this.share(ctx)!.csv
    const write = { sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId, offset: Number(req.offset), data: req.data, ...this.channel(ctx) }
    const reply = this.opts.san?.isDirect(csv) ? await sanWrite(this.opts.san, (c, op) => this.run(c, op), { csv, ...write }) : await this.run(csv, { op: 'write', ...write })
    if (reply === 'unavailable') throw new Unavailable('this node is not serving (no quorum or lease)')
    this.assertOpenAtOwner(ctx, open, reply.status)
    if (reply.status !== NT_STATUS.SUCCESS) return this.ioRefused(ctx, 'write', open.path, req.offset, reply.status)
    open.position = req.offset + BigInt(reply.count ?? 0)
    return ok(encodeWriteResponse({ count: reply.count ?? 0, remaining: 0 }), open.fileId)
  }

  /**
   * A durable open this session holds that the CSV's owner answers FILE_CLOSED for was taken
   * from the session there, not closed by its client: the owner disconnected this node's
   * sessions when the cluster declared it down (a freeze or cut longer than the detection),
   * and preserved the open for a reclaim (MS-SMB2 3.3.7.1). Relaying FILE_CLOSED would tell the
   * client its open is gone, and a CA client gives the IO up (the soak: a WRITE through a node
   * just resumed from a 950 ms freeze). The connection is dropped instead, as for a CSV without
   * a serving owner: the client reconnects and reclaims the open with DH2C, and sends the IO again.
   */
  private assertOpenAtOwner(ctx: RequestContext, open: WireOpen, status: number): void {
    if (status !== NT_STATUS.FILE_CLOSED || open.durable !== true) return
    this.opts.log('smb2.open.lost-at-owner', { session: ctx.session!.sessionKeyName, path: open.path })
    throw new Unavailable(`the owner no longer holds ${open.path} for this session (this node was declared down meanwhile)`)
  }

  /** A READ or WRITE that failed: one log line (failures only, so not on the hot path), then the error. */
  private ioRefused(ctx: RequestContext, command: 'read' | 'write', path: string, offset: bigint, status: number): Reply {
    this.opts.log(`smb2.${command}.refused`, { session: ctx.session!.sessionKeyName, path, offset: String(offset), status: ntStatusName(status) })
    return error(status)
  }

  // ---- QUERY_DIRECTORY ----

  private async queryDirectory(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeQueryDirectoryRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (!open.directory) return error(NT_STATUS.INVALID_PARAMETER)
    if (req.outputBufferLength > Math.min(OUTPUT_BYTES_MAX, ctx.connection.maxIoBytes) || !this.chargeCovers(ctx, req.outputBufferLength)) return error(NT_STATUS.INVALID_PARAMETER)
    const restart = (req.flags & (QUERY_DIRECTORY_FLAGS.RESTART_SCANS | QUERY_DIRECTORY_FLAGS.REOPEN)) !== 0
    const first = open.listing === null || restart
    // The first request's pattern holds for the whole enumeration (MS-SMB2 3.3.5.18).
    if (first) open.listing = startCursor(req.fileName === '' ? '*' : req.fileName)
    const cursor = open.listing!
    const singleEntry = (req.flags & QUERY_DIRECTORY_FLAGS.RETURN_SINGLE_ENTRY) !== 0
    // Each request reads the directory as it is now, from the cursor on: no more names than the
    // buffer could hold at the smallest entry (16 bytes).
    const limit = singleEntry ? 1 : Math.ceil(req.outputBufferLength / DIRECTORY_ENTRY_BYTES_MIN)
    const reply = await this.run(this.share(ctx)!.csv, {
      op: 'list-directory',
      sessionKey: ctx.session!.sessionKeyName,
      fileId: open.fileId,
      page: { after: cursor.afterName, pattern: cursor.pattern, limit },
    })
    if (reply.status !== NT_STATUS.SUCCESS || !reply.stat || !reply.parentStat) return error(reply.status === NT_STATUS.SUCCESS ? NT_STATUS.INSUFFICIENT_RESOURCES : reply.status)
    const matches = compileNamePattern(cursor.pattern)
    const dots = [factsOf(reply.stat, open, DOT_NAMES[0]), factsOf(reply.parentStat, open, DOT_NAMES[1])].slice(cursor.dotsDone).filter((f) => matches(f.name))
    const named = (reply.listing ?? []).map((e) => factsOf(e.stat, open, e.name))
    const candidates = [...dots, ...named]
    if (candidates.length === 0) {
      // 3.3.5.18: nothing matched at all is NO_SUCH_FILE; the end of a listing NO_MORE_FILES.
      return error(first ? NT_STATUS.NO_SUCH_FILE : NT_STATUS.NO_MORE_FILES)
    }
    const encoded = encodeDirectoryEntries(req.fileInformationClass, candidates, req.outputBufferLength, { singleEntry })
    if (!encoded.buffer) return error(encoded.status)
    open.listing = advanceCursor(cursor, dots.length, named.map((f) => f.name), encoded.entryCount)
    return { kind: 'reply', status: encoded.status, body: encodeOutputBufferResponse(encoded.buffer), fileId: open.fileId }
  }

  // ---- QUERY_INFO, SET_INFO ----

  private async queryInfo(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeQueryInfoRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (req.outputBufferLength > Math.min(OUTPUT_BYTES_MAX, ctx.connection.maxIoBytes)) return error(NT_STATUS.INVALID_PARAMETER)
    if (pipeOf(open)) {
      // A pipe is a file of no size as far as the file classes go.
      if (req.infoType !== INFO_TYPE.FILE) return error(NT_STATUS.INVALID_PARAMETER)
      const st: FileStat = { birthtimeMs: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, size: 0, allocationBytes: 4096, ino: '0', directory: false, readOnly: false, links: 1 }
      return infoReply(queryFileInfo(req.fileInfoClass, factsOf(st, open, `\\${open.path}`), req.outputBufferLength), open.fileId)
    }
    const share = this.share(ctx)!
    const refusal = queryInfoAccessRefusal(req.infoType, req.fileInfoClass, req.additionalInformation, specificFileAccess(open.grantedAccess))
    if (refusal !== null) return error(refusal)
    // MS-SMB2 3.3.5.20.1: FileNormalizedNameInformation is a 3.1.1 class; before it, NOT_SUPPORTED.
    if (req.infoType === INFO_TYPE.FILE && req.fileInfoClass === FILE_INFO_CLASS.NORMALIZED_NAME && ctx.connection.dialect < 0x0311) return error(NT_STATUS.NOT_SUPPORTED)
    let answer: InfoAnswer
    switch (req.infoType) {
      case INFO_TYPE.FILE: {
        const st = await this.run(share.csv, { op: 'stat', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId })
        if (st.status !== NT_STATUS.SUCCESS || !st.stat) return error(st.status === NT_STATUS.SUCCESS ? NT_STATUS.INSUFFICIENT_RESOURCES : st.status)
        const name = `\\${open.path.replace(/\//g, '\\')}`
        answer = queryFileInfo(req.fileInfoClass, { ...factsOf(st.stat, open, name), grantedAccess: open.grantedAccess, currentByteOffset: open.position }, req.outputBufferLength)
        break
      }
      case INFO_TYPE.FILESYSTEM: {
        const fs = await this.run(share.csv, { op: 'fs-size', share: share.name })
        if (fs.status !== NT_STATUS.SUCCESS) return error(fs.status)
        answer = queryFsInfo(req.fileInfoClass, this.volumeFacts(share, fs), req.outputBufferLength)
        break
      }
      case INFO_TYPE.SECURITY:
        answer = querySecurityInfo({ directory: open.directory }, req.additionalInformation, req.outputBufferLength)
        break
      default:
        return error(NT_STATUS.NOT_SUPPORTED)
    }
    return infoReply(answer, open.fileId)
  }

  private volumeFacts(share: ShareInfo, fs: HandleOpReply): VolumeFacts {
    const units = (bytes: number | undefined) => BigInt(Math.floor((bytes ?? 0) / ALLOCATION_UNIT_BYTES))
    return {
      creationTime: this.opts.serverStartTime,
      serialNumber: Number(volumeSerial(share) & 0xffffffffn),
      objectId: volumeObjectId(share),
      label: share.csv,
      totalAllocationUnits: units(fs.totalBytes),
      callerAvailableAllocationUnits: units(fs.freeBytes),
      sectorsPerAllocationUnit: ALLOCATION_UNIT_BYTES / 512,
      bytesPerSector: 512,
    }
  }

  private async setInfo(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeSetInfoRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (pipeOf(open)) return ok(encodeSetInfoResponse(), open.fileId)
    // Security descriptors and quotas are accepted and kept nowhere (every file answers the same descriptor).
    if (req.infoType === INFO_TYPE.SECURITY || req.infoType === INFO_TYPE.QUOTA) return ok(encodeSetInfoResponse(), open.fileId)
    if (req.infoType !== INFO_TYPE.FILE) return error(NT_STATUS.INVALID_INFO_CLASS)
    const set = decodeSetFileInfo(req.fileInfoClass, req.buffer)
    if (!set.ok) return error(set.status)
    const v = set.value
    let change: FileInfoChange | null = null
    switch (v.infoClass) {
      case FILE_INFO_CLASS.END_OF_FILE:
        if (v.endOfFileBytes > BigInt(Number.MAX_SAFE_INTEGER)) return error(NT_STATUS.INVALID_PARAMETER)
        change = { kind: 'end-of-file', bytes: Number(v.endOfFileBytes) }
        break
      case FILE_INFO_CLASS.BASIC: {
        // MS-FSA 2.1.5.15.1: FILE_ATTRIBUTE_DIRECTORY on a file is INVALID_PARAMETER.
        if (v.basic.attributes !== null && (v.basic.attributes & FILE_ATTRIBUTE.DIRECTORY) !== 0 && !open.directory) return error(NT_STATUS.INVALID_PARAMETER)
        const ms = (t: (typeof v.basic)['lastWriteTime']) => (t.kind === 'set' ? unixMsFromFiletime(t.filetime) : null)
        change = { kind: 'times', lastAccessMs: ms(v.basic.lastAccessTime), lastWriteMs: ms(v.basic.lastWriteTime), creationMs: ms(v.basic.creationTime), changeMs: ms(v.basic.changeTime), attributes: v.basic.attributes }
        break
      }
      case FILE_INFO_CLASS.DISPOSITION:
        change = { kind: 'disposition', deletePending: v.deletePending }
        break
      case FILE_INFO_CLASS.DISPOSITION_EX:
        change = { kind: 'disposition', deletePending: v.dispositionEx.deletePending }
        break
      case FILE_INFO_CLASS.RENAME:
        if (v.rename.rootDirectory !== 0n) return error(NT_STATUS.INVALID_PARAMETER)
        change = { kind: 'rename', newPath: v.rename.fileName.replace(/\\/g, '/'), replaceIfExists: v.rename.replaceIfExists }
        break
      case FILE_INFO_CLASS.ALLOCATION: {
        // MS-FSA 2.1.5.15.2: an allocation below the end of file cuts the file there; above, nothing shows.
        const st = await this.run(this.share(ctx)!.csv, { op: 'stat', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId })
        if (st.status !== NT_STATUS.SUCCESS || !st.stat) return error(st.status === NT_STATUS.SUCCESS ? NT_STATUS.INSUFFICIENT_RESOURCES : st.status)
        if (st.stat.directory) return ok(encodeSetInfoResponse(), open.fileId)
        change = v.allocationBytes >= BigInt(st.stat.size) ? { kind: 'allocation', bytes: Number(v.allocationBytes) } : { kind: 'end-of-file', bytes: Number(v.allocationBytes) }
        break
      }
      case FILE_INFO_CLASS.POSITION: {
        // The owner keeps it with the open too, so that a durable reconnect restores it.
        const checked = await this.channelCheck(ctx, open, 'set-info', v.currentByteOffset)
        if (checked !== NT_STATUS.SUCCESS) return error(checked)
        open.position = v.currentByteOffset
        return ok(encodeSetInfoResponse(), open.fileId)
      }
      default:
        // Allocation and mode change nothing a later request could see here.
        return ok(encodeSetInfoResponse(), open.fileId)
    }
    const reply = await this.run(this.share(ctx)!.csv, { op: 'set-file-info', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId, change, ...this.channel(ctx) })
    if (reply.status !== NT_STATUS.SUCCESS) {
      this.opts.log('smb2.set-info.refused', { session: ctx.session!.sessionKeyName, path: open.path, change: change.kind, status: ntStatusName(reply.status) })
      return error(reply.status)
    }
    if (change.kind === 'rename' && reply.path !== undefined) {
      const renamed: WireOpen = { ...open, path: reply.path }
      ctx.session!.opens.set(fileIdKey(open.fileId), renamed)
    }
    return ok(encodeSetInfoResponse(), open.fileId)
  }

  // ---- IOCTL ----

  /** The ChannelSequence check (3.3.5.2.10) of a request the front answers itself, at the open's owner; 2.x has none. */
  private async channelCheck(ctx: RequestContext, open: WireOpen, kind: 'ioctl' | 'set-info', position?: bigint): Promise<number> {
    if (ctx.connection.dialect < 0x0300 && position === undefined) return NT_STATUS.SUCCESS
    const channel = ctx.connection.dialect >= 0x0300 ? this.channel(ctx) : { channelSequence: 0, replay: false, messageId: ctx.header.messageId.toString() }
    const checked = await this.run(this.share(ctx)!.csv, {
      op: 'channel-check',
      sessionKey: ctx.session!.sessionKeyName,
      fileId: open.fileId,
      kind,
      ...channel,
      ...(position !== undefined ? { position: position.toString() } : {}),
    })
    return checked.status
  }

  private async ioctl(ctx: RequestContext, validate: ValidateNegotiateFacts): Promise<Reply> {
    const decoded = decodeIoctlRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    // 3.3.5.15: only FSCTLs.
    if ((req.flags & 0x1) === 0) return error(NT_STATUS.NOT_SUPPORTED)
    if (req.input.length > 64 * 1024 || req.maxOutputResponse > Math.min(OUTPUT_BYTES_MAX, ctx.connection.maxIoBytes)) return error(NT_STATUS.INVALID_PARAMETER)
    if (req.ctlCode === FSCTL_CODE.VALIDATE_NEGOTIATE_INFO) {
      const decision = validateNegotiateInfo(req.input, req.maxOutputResponse, validate)
      // 3.3.5.15.12: any mismatch terminates the connection: a man in the middle changed the NEGOTIATE.
      if (decision.kind === 'terminate') return { kind: 'unavailable', reason: decision.reason }
      return ok(encodeIoctlResponse({ ctlCode: req.ctlCode, fileId: req.fileId, input: Buffer.alloc(0), output: decision.output, flags: 0 }))
    }
    // Every other FSCTL acts on an open: one that is not there is FILE_CLOSED before the code is looked at.
    const target = this.openOf(ctx, req.fileId)
    if (!target && req.ctlCode !== FSCTL_CODE.DFS_GET_REFERRALS && req.ctlCode !== FSCTL_CODE.DFS_GET_REFERRALS_EX && req.ctlCode !== FSCTL_CODE.QUERY_NETWORK_INTERFACE_INFO) {
      return error(NT_STATUS.FILE_CLOSED)
    }
    if (req.ctlCode === FSCTL_CODE.QUERY_NETWORK_INTERFACE_INFO) {
      // 3.3.5.15.11: the server's own interfaces (a channel binds only to the node holding the
      // session); no input (smbd: INVALID_PARAMETER), and an answer that must fit.
      if (req.input.length !== 0) return error(NT_STATUS.INVALID_PARAMETER)
      const output = encodeNetworkInterfaceInfo(this.opts.networkInterfaces())
      if (output.length > req.maxOutputResponse) return error(NT_STATUS.BUFFER_TOO_SMALL)
      return ok(encodeIoctlResponse({ ctlCode: req.ctlCode, fileId: req.fileId, input: Buffer.alloc(0), output, flags: 0 }))
    }
    if (req.ctlCode === FSCTL_CODE.PIPE_TRANSCEIVE) {
      const open = this.openOf(ctx, req.fileId)
      if (!open) return error(NT_STATUS.FILE_CLOSED)
      const pipe = pipeOf(open)
      if (!pipe) return error(NT_STATUS.INVALID_DEVICE_REQUEST)
      const fileId = open.fileId
      return this.pipeReply(pipe.transceive(req.input, req.maxOutputResponse), fileId, (output) => encodeIoctlResponse({ ctlCode: req.ctlCode, fileId, input: Buffer.alloc(0), output, flags: 0 }))
    }
    // 3.3.5.2.10: an IOCTL on a file of a share is checked against the open's ChannelSequence
    // first (a stale one is FILE_NOT_AVAILABLE), as WRITE and SET_INFO are.
    if (target && !pipeOf(target)) {
      const checked = await this.channelCheck(ctx, target, 'ioctl')
      if (checked !== NT_STATUS.SUCCESS) return error(checked)
    }
    if (req.ctlCode === FSCTL_CODE.CREATE_OR_GET_OBJECT_ID && target && !pipeOf(target)) return this.createOrGetObjectId(ctx, target, req.maxOutputResponse)
    return error(unimplementedFsctlStatus(req.ctlCode))
  }

  /**
   * FSCTL_CREATE_OR_GET_OBJECT_ID (MS-FSCC 2.3.3/2.3.4, MS-FSA 2.1.5.10.1) on a file or folder of
   * a share. The object ID is not stored: it is made from what already names the file uniquely
   * on its volume (the file index the owner stat()s, and the CSV's volume ID), so that every
   * call, on any node, for as long as the file lives, "gets" the one the first call "created".
   * smbd does the same from device and inode. BirthVolumeId is the volume's ID, BirthObjectId the
   * ObjectId, DomainId empty, as 2.1.5.10.1 sets them for a newly made ID.
   */
  private async createOrGetObjectId(ctx: RequestContext, open: WireOpen, maxOutputResponse: number): Promise<Reply> {
    const share = this.share(ctx)!
    const st = await this.run(share.csv, { op: 'stat', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId })
    if (st.status !== NT_STATUS.SUCCESS || !st.stat) return error(st.status === NT_STATUS.SUCCESS ? NT_STATUS.INSUFFICIENT_RESOURCES : st.status)
    const answer = createOrGetObjectId(maxOutputResponse, fileObjectId(share, st.stat))
    if (answer.output === null) return error(answer.status)
    return ok(encodeIoctlResponse({ ctlCode: FSCTL_CODE.CREATE_OR_GET_OBJECT_ID, fileId: open.fileId, input: Buffer.alloc(0), output: answer.output, flags: 0 }), open.fileId)
  }

  // ---- OPLOCK_BREAK ----

  /** 3.3.5.22.1 and 3.3.5.22.2: the acknowledgment of a break this server sent, judged by the CSV owner. */
  private async oplockBreakAck(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeOplockBreak(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const ack = decoded.value
    if (ack.kind === 'lease') {
      const clientGuid = ctx.tree?.context?.clientGuid ?? ctx.connection.clientGuid
      const leaseKey = ack.leaseKey.toString('hex')
      const csv = this.opts.leaseBreakCsv(clientGuid, leaseKey) ?? this.share(ctx)?.csv
      if (!csv) return error(NT_STATUS.OBJECT_NAME_NOT_FOUND)
      const reply = await this.run(csv, { op: 'lease-break-ack', clientGuid, leaseKey, leaseState: ack.leaseState })
      if (reply.status !== NT_STATUS.SUCCESS) return error(reply.status)
      return ok(encodeOplockBreak({ kind: 'lease', flags: 0, leaseKey: ack.leaseKey, leaseState: reply.leaseState ?? ack.leaseState, leaseDuration: 0n }))
    }
    const open = this.openOf(ctx, ack.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    const share = this.share(ctx)
    if (!share) return error(NT_STATUS.INVALID_OPLOCK_PROTOCOL)
    const reply = await this.run(share.csv, { op: 'oplock-break-ack', sessionKey: ctx.session!.sessionKeyName, fileId: open.fileId, oplockLevel: ack.oplockLevel })
    if (reply.status !== NT_STATUS.SUCCESS) return error(reply.status)
    return ok(encodeOplockBreak({ kind: 'oplock', oplockLevel: reply.oplockLevel ?? ack.oplockLevel, fileId: open.fileId }), open.fileId)
  }

  // ---- LOCK ----

  /** 3.3.5.14: byte-range locks at the CSV's owner; a lock that waits is answered async. */
  private async lock(ctx: RequestContext): Promise<Reply> {
    const decoded = decodeLockRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const req = decoded.value
    const open = this.openOf(ctx, req.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (pipeOf(open) || open.directory) return error(NT_STATUS.INVALID_PARAMETER)
    const csv = this.share(ctx)!.csv
    const requestKey = `${ctx.connection.connectionId}/${ctx.header.messageId}`
    const reply = await this.run(csv, {
      op: 'lock',
      sessionKey: ctx.session!.sessionKeyName,
      fileId: open.fileId,
      requestKey,
      elements: req.locks.map((l) => ({ offset: l.offset.toString(), length: l.length.toString(), flags: l.flags })),
      lockSequence: req.lockSequence,
      // smbd 4.17 checks LockSequence on every 3.x open (smb2.lock.replay expects it).
      checkLockSequence: ctx.connection.dialect >= 0x0300,
    })
    if (!reply.pending) return reply.status === NT_STATUS.SUCCESS ? ok(encodeEmptyBody(), open.fileId) : error(reply.status)
    let cancelled = false
    const completion = (async (): Promise<FinalReply> => {
      for (;;) {
        const waited = await this.opts.route(csv, { op: 'lock-wait', requestKey, waitMs: LOCK_WAIT_MS_MAX })
        // The owner went away while the lock waited: the lock went with it.
        if (waited === 'unavailable') return { status: NT_STATUS.RANGE_NOT_LOCKED, body: encodeErrorResponse() }
        if (!waited.pending) return { status: waited.status, body: waited.status === NT_STATUS.SUCCESS ? encodeEmptyBody() : encodeErrorResponse() }
        if (cancelled) await this.opts.route(csv, { op: 'lock-cancel', requestKey })
      }
    })()
    return {
      kind: 'pending',
      completion,
      cancel: () => {
        cancelled = true
        void this.opts.route(csv, { op: 'lock-cancel', requestKey })
      },
    }
  }

  // ---- CHANGE_NOTIFY ----

  private changeNotify(ctx: RequestContext): Reply {
    const decoded = decodeChangeNotifyRequest(ctx.msg)
    if (!decoded.ok) return this.malformed(ctx, decoded)
    const open = this.openOf(ctx, decoded.value.fileId)
    if (!open) return error(NT_STATUS.FILE_CLOSED)
    if (!open.directory) return error(NT_STATUS.INVALID_PARAMETER)
    // No change is ever reported: the request waits until it is cancelled or its handle closes.
    let settle: (r: FinalReply) => void = () => undefined
    const completion = new Promise<FinalReply>((resolve) => {
      settle = resolve
    })
    const waiter = (status: number) => settle({ status, body: encodeErrorResponse() })
    open.waiters.add(waiter)
    return {
      kind: 'pending',
      completion,
      cancel: () => {
        open.waiters.delete(waiter)
        waiter(NT_STATUS.CANCELLED)
      },
    }
  }

  private cancelWaiters(open: WireOpen, status: number): void {
    for (const w of open.waiters) w(status)
    open.waiters.clear()
  }
}

function pipeOf(open: WireOpen): NamedPipe | null {
  return open.pipe
}

/** The connection facts FSCTL_VALIDATE_NEGOTIATE_INFO checks. */
export type ValidateNegotiateFacts = Parameters<typeof validateNegotiateInfo>[2]

// ---- create contexts ----

interface ParsedContexts {
  readonly maximalAccess: boolean
  readonly queryOnDiskId: boolean
  readonly dh2q: { createGuid: string; timeoutMs: number; persistent: boolean } | null
  readonly dh2c: { fileId: Smb2FileId; createGuid: string; persistent: boolean } | null
  /** DHnQ asked (and no DHnC, which wins over it: MS-SMB2 3.3.5.9.6). */
  readonly dhnq: boolean
  readonly dhnc: { fileId: Smb2FileId } | null
  readonly appInstanceId: string
  /** The ExtA context's EAs (MS-SMB2 2.2.13.2.1). */
  readonly extendedAttributes: readonly ExtendedAttribute[]
  readonly lease: LeaseRequest | null
  /** The AlSi context's AllocationSize (2.2.13.2.6), null without one. */
  readonly allocationBytes: bigint | null
}

/** Every context is parsed; a malformed one we know is INVALID_PARAMETER, an unknown one is ignored (3.3.5.9). */
function parseCreateContexts(contexts: readonly CreateContext[]): ParsedContexts | { status: number } {
  const data = <T>(tag: string, decode: (b: Buffer) => Decoded<T>): T | null | { status: number } => {
    const c = findCreateContext(contexts, tag)
    if (!c) return null
    const d = decode(c.data)
    return d.ok ? d.value : { status: d.error.status }
  }
  const failed = (v: unknown): v is { status: number } => v !== null && typeof v === 'object' && 'status' in (v as object)
  const mxac = data(CREATE_CONTEXT.QUERY_MAXIMAL_ACCESS, decodeMaximalAccessRequest)
  const dh2q = data(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST_V2, decodeDurableRequestV2)
  const dh2c = data(CREATE_CONTEXT.DURABLE_HANDLE_RECONNECT_V2, decodeDurableReconnectV2)
  const app = data(CREATE_CONTEXT.APP_INSTANCE_ID, decodeAppInstanceId)
  const lease = data(CREATE_CONTEXT.REQUEST_LEASE, decodeLeaseRequest)
  const exta = findCreateContext(contexts, CREATE_CONTEXT.EA_BUFFER)
  const eas = exta ? decodeFullEaInformation(exta.data) : null
  if (eas && !eas.ok) return { status: eas.status }
  const dhnq = data(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST, decodeDurableRequestV1)
  const dhnc = data(CREATE_CONTEXT.DURABLE_HANDLE_RECONNECT, decodeDurableReconnectV1)
  const alsi = data(CREATE_CONTEXT.ALLOCATION_SIZE, decodeAllocationSize)
  for (const v of [mxac, dh2q, dh2c, app, lease, dhnq, dhnc, alsi]) if (failed(v)) return v
  // A v1 context with a v2 one, or DH2Q with DH2C, is INVALID_PARAMETER (3.3.5.9.10, 3.3.5.9.12).
  if (((dhnq || dhnc) && (dh2q || dh2c)) || (dh2q && dh2c)) return { status: NT_STATUS.INVALID_PARAMETER }
  const q = dh2q as { createGuid: string; timeoutMs: number; flags: number } | null
  const c = dh2c as { fileId: Smb2FileId; createGuid: string; flags: number } | null
  const v1c = dhnc as { fileId: Smb2FileId } | null
  return {
    maximalAccess: mxac !== null,
    queryOnDiskId: findCreateContext(contexts, CREATE_CONTEXT.QUERY_ON_DISK_ID) !== undefined,
    dh2q: q ? { createGuid: q.createGuid, timeoutMs: q.timeoutMs, persistent: (q.flags & DH2Q_FLAGS.PERSISTENT) !== 0 } : null,
    dh2c: c ? { fileId: c.fileId, createGuid: c.createGuid, persistent: (c.flags & DH2Q_FLAGS.PERSISTENT) !== 0 } : null,
    dhnq: dhnq !== null && v1c === null,
    dhnc: v1c ? { fileId: v1c.fileId } : null,
    appInstanceId: (app as { appInstanceId: string } | null)?.appInstanceId ?? '',
    extendedAttributes: eas?.ok ? eas.eas : [],
    lease: lease as LeaseRequest | null,
    allocationBytes: (alsi as { allocationBytes: bigint } | null)?.allocationBytes ?? null,
  }
}

// ---- facts ----

/** FileFacts of a stat, named name (an entry's own name, or the open's path for the name classes). */
export function factsOf(st: FileStat, open: WireOpen, name: string): FileFacts {
  // What a client set is kept (a directory stays one); otherwise ARCHIVE, READONLY from the mode.
  const attributes =
    st.dosAttributes !== undefined
      ? (st.dosAttributes & ~(FILE_ATTRIBUTE.DIRECTORY | FILE_ATTRIBUTE.NORMAL)) | (st.directory ? FILE_ATTRIBUTE.DIRECTORY : 0)
      : (st.directory ? FILE_ATTRIBUTE.DIRECTORY : FILE_ATTRIBUTE.ARCHIVE) | (st.readOnly && !st.directory ? FILE_ATTRIBUTE.READONLY : 0)
  return {
    creationTime: filetimeFromUnixMs(st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs),
    lastAccessTime: filetimeFromUnixMs(st.atimeMs),
    lastWriteTime: filetimeFromUnixMs(st.mtimeMs),
    changeTime: filetimeFromUnixMs(st.ctimeMs),
    endOfFileBytes: st.directory ? 0n : BigInt(st.size),
    allocationBytes: st.directory ? 0n : BigInt(Math.max(st.allocationBytes, Math.ceil(st.size / ALLOCATION_UNIT_BYTES) * ALLOCATION_UNIT_BYTES)),
    attributes,
    directory: st.directory,
    indexNumber: BigInt(st.ino),
    name,
    // The data path keeps no 8.3 names: the one Samba and NTFS present is derived from the long name.
    shortName: dosShortName(name.split('\\').pop() ?? ''),
    // A file about to go counts one link less (smbd and Windows both report it so).
    numberOfLinks: st.deletePending ? Math.max(0, st.links - 1) : st.links,
    deletePending: st.deletePending ?? false,
    grantedAccess: open.grantedAccess,
    eaSizeBytes: eaListBytes(st.extendedAttributes ?? []),
    ...(st.extendedAttributes ? { extendedAttributes: st.extendedAttributes } : {}),
  }
}

function snapshotOf(f: FileFacts): FileAttributesSnapshot {
  return {
    creationTime: f.creationTime,
    lastAccessTime: f.lastAccessTime,
    lastWriteTime: f.lastWriteTime,
    changeTime: f.changeTime,
    allocationSize: f.allocationBytes,
    endOfFile: f.endOfFileBytes,
    fileAttributes: effectiveAttributes(f),
  }
}

function diskFileId(st: FileStat): Buffer {
  const out = Buffer.alloc(16)
  out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(st.ino)), 0)
  return out
}

/** The CSV's volume ID (MS-FSA Volume.VolumeId; FileFsObjectIdInformation's ObjectId): 16 bytes, stable per CSV. */
function volumeObjectId(share: ShareInfo): Buffer {
  return createHash('sha256').update('volume-object-id\0').update(share.csv).digest().subarray(0, OBJECT_ID_BYTES)
}

/** A file's object ID: its file index (unique on the volume while the file lives) and the first half of the volume's ID. */
function fileObjectId(share: ShareInfo, st: FileStat): FileObjectId {
  const volumeId = volumeObjectId(share)
  const objectId = Buffer.alloc(OBJECT_ID_BYTES)
  objectId.writeBigUInt64LE(BigInt.asUintN(64, BigInt(st.ino)), 0)
  volumeId.copy(objectId, 8, 0, 8)
  return { objectId, birthVolumeId: volumeId, birthObjectId: objectId, domainId: Buffer.alloc(OBJECT_ID_BYTES) }
}

/** A stable volume serial per CSV. */
function volumeSerial(share: ShareInfo): bigint {
  return createHash('sha256').update(share.csv).digest().readBigUInt64LE(0)
}

// ---- replies ----

function ok(body: Buffer | readonly Buffer[], fileId?: Smb2FileId): Reply {
  return fileId ? { kind: 'reply', status: NT_STATUS.SUCCESS, body, fileId } : { kind: 'reply', status: NT_STATUS.SUCCESS, body }
}

function error(status: number): Reply {
  return { kind: 'reply', status, body: encodeErrorResponse() }
}

function decodeFailure(d: Decoded<unknown>): Reply {
  return error(d.ok ? NT_STATUS.INVALID_PARAMETER : d.error.status)
}

function infoReply(answer: InfoAnswer, fileId: Smb2FileId): Reply {
  switch (answer.kind) {
    case 'data':
      return { kind: 'reply', status: answer.status, body: encodeOutputBufferResponse(answer.buffer), fileId }
    case 'error':
      return error(answer.status)
    case 'too-small': {
      const data = Buffer.alloc(4)
      data.writeUInt32LE(answer.requiredBytes, 0)
      return { kind: 'reply', status: answer.status, body: encodeErrorResponse({ errorContextCount: 0, errorData: data }) }
    }
  }
}

