// The file commands of one tree connect (MS-SMB2 3.2.4.3 to 3.2.4.14): CREATE with its create
// contexts (durable v2 request and reconnect, app instance id, lease), CLOSE, READ and WRITE
// (one at a time, or a whole range with several requests in flight), FLUSH, QUERY_INFO,
// SET_INFO (size, delete, rename), QUERY_DIRECTORY, TREE_DISCONNECT. Each returns a typed Smb2Result.
//
// Per-request options (replay, channelSequence) are open to the caller on every command that a
// replay can concern (CREATE, WRITE, and the others alike): issue 15's durable reconnect and
// replay set them.
import { randomUUID } from 'node:crypto'
import { ACCESS, DISPOSITION, SHARE_ACCESS } from '../../protocol/smb2/constants.js'
import { CREATE_CONTEXT, DH2Q_FLAGS, createContextName, decodeDurableResponseV2, decodeLeaseRequest, encodeAppInstanceId, encodeDurableReconnectV2, encodeDurableRequestV2, encodeLease, findCreateContext, type CreateContext, type LeaseRequest } from '../../protocol/smb2/create-contexts.js'
import { CREATE_OPTIONS, OPLOCK_LEVEL, decodeCloseResponse, decodeCreateResponse, encodeCloseRequest, encodeCreateRequest, type CreateResponse } from '../../protocol/smb2/create.js'
import { decodeDirectoryEntries, type DirectoryEntry } from '../../protocol/smb2/directory-info.js'
import { decodeEmptyBody, decodeSetInfoResponse, encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import { decodeFileBasicInformationAnswer, decodeFileStandardInformationAnswer, type FileBasicInformationAnswer, type FileStandardInformationAnswer } from '../../protocol/smb2/file-info-answers.js'
import { FILE_INFO_CLASS, INFO_TYPE, encodeFileDispositionInformation, encodeFileEndOfFileInformation, encodeFileRenameInformation } from '../../protocol/smb2/file-info.js'
import { SMB2_COMMAND, SMB2_FLAGS } from '../../protocol/smb2/header.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { decodeOplockBreak, encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import { decodeOutputBufferResponse } from '../../protocol/smb2/output-buffer-response.js'
import { QUERY_DIRECTORY_FLAGS, encodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { encodeQueryInfoRequest, encodeSetInfoRequest } from '../../protocol/smb2/query-info.js'
import { CHANNEL, decodeReadResponse, decodeWriteResponse, encodeFlushRequest, encodeReadRequest, encodeWriteRequest } from '../../protocol/smb2/read-write.js'
import type { TreeConnectResponse } from '../../protocol/smb2/tree-connect.js'
import { smb2Failed, smb2Ok, Smb2TransportError, type Smb2Result } from './smb2-result.js'
import type { Smb2Reply, Smb2Request } from './smb2-wire-connection.js'

/** What a tree needs of its session (Smb2Client): kept as an interface so that the two files do not import each other. */
export interface Smb2TreeSession {
  /** READ and WRITE sizes of the session. */
  readonly ioBytes: { readonly read: number; readonly write: number }
  send(req: Omit<Smb2Request, 'sessionId'>): Promise<Smb2Reply>
  forgetTree(tree: Smb2Tree): void
}

/** What a replayed or channel-sequenced request carries (3.2.4.1.1 ChannelSequence, 3.2.5.1.6 replay). */
export interface RequestOptions {
  /** Sets SMB2_FLAGS_REPLAY_OPERATION (3.x). */
  readonly replay?: boolean
  readonly channelSequence?: number
}

export interface CreateOptions extends RequestOptions {
  readonly desiredAccess?: number
  readonly shareAccess?: number
  readonly disposition?: number
  readonly createOptions?: number
  readonly fileAttributes?: number
  /** Default NONE; LEASE when lease is given. */
  readonly oplockLevel?: number
  /** DH2Q (2.2.13.2.11). */
  readonly durableV2?: { readonly timeoutMs?: number; readonly persistent?: boolean; readonly createGuid?: string }
  /** DH2C (2.2.13.2.12): reopen a preserved durable handle. */
  readonly reconnectV2?: { readonly fileId: Smb2FileId; readonly createGuid: string; readonly persistent?: boolean }
  /** SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13). */
  readonly appInstanceId?: string
  /** RqLs v1 (no parentLeaseKey) or v2. */
  readonly lease?: LeaseRequest
  /** Any other contexts, sent as given. */
  readonly contexts?: readonly CreateContext[]
}

export interface Smb2Open {
  readonly fileId: Smb2FileId
  readonly createAction: number
  readonly oplockLevel: number
  readonly endOfFileBytes: bigint
  readonly fileAttributes: number
  /** The granted DH2Q, when the server made the open durable. */
  readonly durable: { readonly timeoutMs: number; readonly persistent: boolean } | null
  /** The CreateGuid sent with DH2Q (keep it for a DH2C). */
  readonly createGuid: string | null
  readonly lease: LeaseRequest | null
  readonly response: CreateResponse
}

export interface ReadRangeOptions {
  /** Requests in flight at once. Default 8. */
  readonly inFlight?: number
  /** Bytes per request; default the session's read size. */
  readonly chunkBytes?: number
}

/** FileIdBothDirectoryInformation, as smbclient lists. */
const LIST_CLASS = FILE_INFO_CLASS.ID_BOTH_DIRECTORY
const LIST_OUTPUT_BYTES = 64 * 1024
/** A bound on the QUERY_DIRECTORY rounds of one listing (65,536 KiB of entries). */
const LIST_ROUNDS_MAX = 1024

export class Smb2Tree {
  constructor(
    readonly client: Smb2TreeSession,
    readonly treeId: number,
    readonly share: TreeConnectResponse,
    /** TreeConnect.EncryptData (3.2.5.5). */
    readonly encryptData: boolean,
  ) {}

  /** The share's capabilities (SHARE_CAP: CONTINUOUS_AVAILABILITY, SCALEOUT, CLUSTER...). */
  get capabilities(): number {
    return this.share.capabilities
  }

  /**
   * Any request on this tree (what has no method here: CHANGE_NOTIFY, IOCTL, LOCK, SET_INFO...),
   * with the tree's encryption and the replay flag and channel sequence of opts.
   */
  request(req: Omit<Smb2Request, 'sessionId' | 'treeId'>, opts: RequestOptions = {}): Promise<Smb2Reply> {
    return this.client.send({
      ...req,
      treeId: this.treeId,
      encrypt: this.encryptData,
      flags: (req.flags ?? 0) | (opts.replay ? SMB2_FLAGS.REPLAY_OPERATION : 0),
      ...(opts.channelSequence !== undefined ? { channelSequence: opts.channelSequence } : {}),
    })
  }

  async create(path: string, o: CreateOptions = {}): Promise<Smb2Result<Smb2Open>> {
    const contexts: CreateContext[] = []
    let createGuid: string | null = null
    if (o.durableV2) {
      createGuid = o.durableV2.createGuid ?? randomUUID()
      const data = encodeDurableRequestV2({ timeoutMs: o.durableV2.timeoutMs ?? 0, flags: o.durableV2.persistent ? DH2Q_FLAGS.PERSISTENT : 0, createGuid })
      contexts.push({ name: createContextName(CREATE_CONTEXT.DURABLE_HANDLE_REQUEST_V2), data })
    }
    if (o.reconnectV2) {
      createGuid = o.reconnectV2.createGuid
      const data = encodeDurableReconnectV2({ fileId: o.reconnectV2.fileId, createGuid, flags: o.reconnectV2.persistent ? DH2Q_FLAGS.PERSISTENT : 0 })
      contexts.push({ name: createContextName(CREATE_CONTEXT.DURABLE_HANDLE_RECONNECT_V2), data })
    }
    if (o.appInstanceId) contexts.push({ name: createContextName(CREATE_CONTEXT.APP_INSTANCE_ID), data: encodeAppInstanceId(o.appInstanceId) })
    if (o.lease) contexts.push({ name: createContextName(CREATE_CONTEXT.REQUEST_LEASE), data: encodeLease(o.lease) })
    contexts.push(...(o.contexts ?? []))
    const body = encodeCreateRequest({
      securityFlags: 0,
      requestedOplockLevel: o.oplockLevel ?? (o.lease ? OPLOCK_LEVEL.LEASE : OPLOCK_LEVEL.NONE),
      impersonationLevel: 2, // Impersonation, as Windows and smbclient send
      smbCreateFlags: 0n,
      desiredAccess: o.desiredAccess ?? (ACCESS.GENERIC_READ >>> 0),
      fileAttributes: o.fileAttributes ?? 0,
      shareAccess: o.shareAccess ?? SHARE_ACCESS.READ,
      createDisposition: o.disposition ?? DISPOSITION.OPEN,
      createOptions: o.createOptions ?? 0,
      name: sharePath(path),
      createContexts: contexts,
    })
    const reply = await this.request({ command: SMB2_COMMAND.CREATE, body }, o)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('CREATE', reply.header.status)
    const decoded = decodeCreateResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`CREATE response: ${decoded.error.reason}`)
    const res = decoded.value
    const dh2q = findCreateContext(res.createContexts, CREATE_CONTEXT.DURABLE_HANDLE_REQUEST_V2)
    const durableDecoded = dh2q ? decodeDurableResponseV2(dh2q.data) : null
    const rqls = findCreateContext(res.createContexts, CREATE_CONTEXT.REQUEST_LEASE)
    const leaseDecoded = rqls ? decodeLeaseRequest(rqls.data) : null
    return smb2Ok({
      fileId: res.fileId,
      createAction: res.createAction,
      oplockLevel: res.oplockLevel,
      endOfFileBytes: res.endOfFile,
      fileAttributes: res.fileAttributes,
      durable: durableDecoded?.ok ? { timeoutMs: durableDecoded.value.timeoutMs, persistent: (durableDecoded.value.flags & DH2Q_FLAGS.PERSISTENT) !== 0 } : null,
      createGuid,
      lease: leaseDecoded?.ok ? { ...leaseDecoded.value, leaseKey: Buffer.from(leaseDecoded.value.leaseKey) } : null,
      response: res,
    })
  }

  async close(fileId: Smb2FileId, opts: RequestOptions = {}): Promise<Smb2Result<void>> {
    const reply = await this.request({ command: SMB2_COMMAND.CLOSE, body: encodeCloseRequest({ flags: 0, fileId }) }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('CLOSE', reply.header.status)
    const decoded = decodeCloseResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`CLOSE response: ${decoded.error.reason}`)
    return smb2Ok(undefined)
  }

  /** One READ of at most the session's read size. Fewer bytes back means the end of the file is near; END_OF_FILE at or past it. */
  async read(fileId: Smb2FileId, offset: number, length: number, opts: RequestOptions = {}): Promise<Smb2Result<Buffer>> {
    if (length > this.client.ioBytes.read) throw new RangeError(`a READ of ${length} bytes, above the session's ${this.client.ioBytes.read}`)
    const body = encodeReadRequest({ padding: 0x50, flags: 0, length, offset: BigInt(offset), fileId, minimumCount: 0, channel: CHANNEL.NONE, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) })
    const reply = await this.request({ command: SMB2_COMMAND.READ, body, payloadBytes: length }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('READ', reply.header.status)
    const decoded = decodeReadResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`READ response: ${decoded.error.reason}`)
    if (decoded.value.data.length > length) throw new Smb2TransportError(`READ response of ${decoded.value.data.length} bytes for ${length} asked`)
    return smb2Ok(decoded.value.data)
  }

  /** One WRITE of at most the session's write size; the count written. */
  async write(fileId: Smb2FileId, offset: number, data: Buffer, opts: RequestOptions = {}): Promise<Smb2Result<number>> {
    if (data.length > this.client.ioBytes.write) throw new RangeError(`a WRITE of ${data.length} bytes, above the session's ${this.client.ioBytes.write}`)
    const body = encodeWriteRequest({ offset: BigInt(offset), fileId, channel: CHANNEL.NONE, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data })
    const reply = await this.request({ command: SMB2_COMMAND.WRITE, body, payloadBytes: data.length }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('WRITE', reply.header.status)
    const decoded = decodeWriteResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(`WRITE response: ${decoded.error.reason}`)
    return smb2Ok(decoded.value.count)
  }

  /**
   * Writes data at offset with up to inFlight WRITEs outstanding; the first failure stops it
   * (the requests already sent are awaited) and is returned.
   */
  writeRange(fileId: Smb2FileId, offset: number, data: Buffer, o: ReadRangeOptions = {}): Promise<Smb2Result<number>> {
    return this.writeFrom(fileId, offset, data.length, (at, length) => data.subarray(at, at + length), o)
  }

  /**
   * Writes length bytes at offset, each chunk asked of source (at: its position from the start
   * of the range) just before its WRITE goes: at most inFlight chunks are in memory at once.
   */
  async writeFrom(fileId: Smb2FileId, offset: number, length: number, source: (at: number, length: number) => Promise<Buffer> | Buffer, o: ReadRangeOptions = {}): Promise<Smb2Result<number>> {
    const chunk = Math.min(o.chunkBytes ?? this.client.ioBytes.write, this.client.ioBytes.write)
    const jobs: Array<{ at: number; length: number }> = []
    for (let at = 0; at < length; at += chunk) jobs.push({ at, length: Math.min(chunk, length - at) })
    const failure = await pipeline(jobs, o.inFlight ?? 8, async ({ at, length }) => {
      const data = await source(at, length)
      if (data.length !== length) return smb2Failed<void>('WRITE', NT_STATUS.INVALID_PARAMETER, `the source gave ${data.length} of ${length} bytes at ${at}`)
      const r = await this.write(fileId, offset + at, data)
      if (!r.ok) return r
      if (r.value !== length) return smb2Failed<void>('WRITE', NT_STATUS.DISK_FULL, `${r.value} of ${length} bytes written at ${offset + at}`)
      return smb2Ok(undefined)
    })
    return failure ?? smb2Ok(length)
  }

  /**
   * Reads [offset, offset + length) with up to inFlight READs outstanding, handing each chunk to
   * sink as it arrives (chunks may arrive out of order: sink gets each one's offset).
   */
  async readRange(fileId: Smb2FileId, offset: number, length: number, sink: (at: number, data: Buffer) => Promise<void> | void, o: ReadRangeOptions = {}): Promise<Smb2Result<number>> {
    const chunk = Math.min(o.chunkBytes ?? this.client.ioBytes.read, this.client.ioBytes.read)
    const jobs: Array<{ at: number; length: number }> = []
    for (let at = 0; at < length; at += chunk) jobs.push({ at: offset + at, length: Math.min(chunk, length - at) })
    const failure = await pipeline(jobs, o.inFlight ?? 8, async (job) => {
      const r = await this.read(fileId, job.at, job.length)
      if (!r.ok) return r
      if (r.value.length !== job.length) return smb2Failed<void>('READ', NT_STATUS.END_OF_FILE, `${r.value.length} of ${job.length} bytes at ${job.at}`)
      await sink(job.at, r.value)
      return smb2Ok(undefined)
    })
    return failure ?? smb2Ok(length)
  }

  async flush(fileId: Smb2FileId, opts: RequestOptions = {}): Promise<Smb2Result<void>> {
    const reply = await this.request({ command: SMB2_COMMAND.FLUSH, body: encodeFlushRequest({ fileId }) }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('FLUSH', reply.header.status)
    const decoded = decodeEmptyBody(reply.message, 'FLUSH response')
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    return smb2Ok(undefined)
  }

  /** QUERY_INFO: the output buffer of one information class. */
  async queryInfo(fileId: Smb2FileId, infoType: number, infoClass: number, outputBytes = 4096, opts: RequestOptions = {}): Promise<Smb2Result<Buffer>> {
    const body = encodeQueryInfoRequest({ infoType, fileInfoClass: infoClass, outputBufferLength: outputBytes, input: Buffer.alloc(0), additionalInformation: 0, flags: 0, fileId })
    const reply = await this.request({ command: SMB2_COMMAND.QUERY_INFO, body, payloadBytes: outputBytes }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('QUERY_INFO', reply.header.status)
    const decoded = decodeOutputBufferResponse(reply.message, 'QUERY_INFO response')
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    return smb2Ok(decoded.value.output)
  }

  async queryStandardInfo(fileId: Smb2FileId): Promise<Smb2Result<FileStandardInformationAnswer>> {
    const r = await this.queryInfo(fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.STANDARD, 24)
    if (!r.ok) return r
    const d = decodeFileStandardInformationAnswer(r.value)
    return d.ok ? smb2Ok(d.value) : smb2Failed('QUERY_INFO', NT_STATUS.INVALID_NETWORK_RESPONSE, d.error)
  }

  async queryBasicInfo(fileId: Smb2FileId): Promise<Smb2Result<FileBasicInformationAnswer>> {
    const r = await this.queryInfo(fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.BASIC, 40)
    if (!r.ok) return r
    const d = decodeFileBasicInformationAnswer(r.value)
    return d.ok ? smb2Ok(d.value) : smb2Failed('QUERY_INFO', NT_STATUS.INVALID_NETWORK_RESPONSE, d.error)
  }

  /** The oplock break acknowledgment (2.2.24.1, 3.2.4.25): the level the client keeps; the server's answer names the level granted. */
  async acknowledgeOplockBreak(fileId: Smb2FileId, oplockLevel: number): Promise<Smb2Result<number>> {
    const reply = await this.request({ command: SMB2_COMMAND.OPLOCK_BREAK, body: encodeOplockBreak({ kind: 'oplock', oplockLevel, fileId }) })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('OPLOCK_BREAK', reply.header.status)
    const decoded = decodeOplockBreak(reply.message)
    if (!decoded.ok || decoded.value.kind !== 'oplock') throw new Smb2TransportError(`OPLOCK_BREAK response: ${decoded.ok ? 'a lease form' : decoded.error.reason}`)
    return smb2Ok(decoded.value.oplockLevel)
  }

  /** The lease break acknowledgment (2.2.24.2): the lease state the client keeps. */
  async acknowledgeLeaseBreak(leaseKey: Buffer, leaseState: number): Promise<Smb2Result<number>> {
    const reply = await this.request({ command: SMB2_COMMAND.OPLOCK_BREAK, body: encodeOplockBreak({ kind: 'lease', flags: 0, leaseKey, leaseState, leaseDuration: 0n }) })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('OPLOCK_BREAK', reply.header.status)
    const decoded = decodeOplockBreak(reply.message)
    if (!decoded.ok || decoded.value.kind !== 'lease') throw new Smb2TransportError(`lease break response: ${decoded.ok ? 'an oplock form' : decoded.error.reason}`)
    return smb2Ok(decoded.value.leaseState)
  }

  /** SET_INFO (2.2.39): one information class's buffer, as given. */
  async setInfo(fileId: Smb2FileId, infoType: number, infoClass: number, buffer: Buffer, opts: RequestOptions = {}): Promise<Smb2Result<void>> {
    const body = encodeSetInfoRequest({ infoType, fileInfoClass: infoClass, buffer, additionalInformation: 0, fileId })
    const reply = await this.request({ command: SMB2_COMMAND.SET_INFO, body }, opts)
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('SET_INFO', reply.header.status)
    const decoded = decodeSetInfoResponse(reply.message)
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    return smb2Ok(undefined)
  }

  /** FileEndOfFileInformation: the file's size (a disk's, say). */
  setEndOfFile(fileId: Smb2FileId, endOfFileBytes: number | bigint, opts: RequestOptions = {}): Promise<Smb2Result<void>> {
    return this.setInfo(fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.END_OF_FILE, encodeFileEndOfFileInformation(BigInt(endOfFileBytes)), opts)
  }

  /** FileDispositionInformation: delete when the last handle closes (the open needs DELETE access). */
  setDeletePending(fileId: Smb2FileId, deletePending = true, opts: RequestOptions = {}): Promise<Smb2Result<void>> {
    return this.setInfo(fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.DISPOSITION, encodeFileDispositionInformation(deletePending), opts)
  }

  /** FileRenameInformation: to a share-relative path (the open needs DELETE access). */
  rename(fileId: Smb2FileId, to: string, o: RequestOptions & { replaceIfExists?: boolean } = {}): Promise<Smb2Result<void>> {
    return this.setInfo(fileId, INFO_TYPE.FILE, FILE_INFO_CLASS.RENAME, encodeFileRenameInformation({ replaceIfExists: o.replaceIfExists ?? false, rootDirectory: 0n, fileName: sharePath(to) }), o)
  }

  /** Deletes a file or an empty directory: open with DELETE, mark it, close. */
  async remove(path: string, o: { directory?: boolean } = {}): Promise<Smb2Result<void>> {
    const opened = await this.create(path, { desiredAccess: ACCESS.DELETE, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE, createOptions: o.directory ? CREATE_OPTIONS.DIRECTORY_FILE : CREATE_OPTIONS.NON_DIRECTORY_FILE })
    if (!opened.ok) return opened
    const marked = await this.setDeletePending(opened.value.fileId)
    const closed = await this.close(opened.value.fileId)
    return marked.ok ? closed : marked
  }

  /** One QUERY_DIRECTORY round; NO_MORE_FILES (and NO_SUCH_FILE) come back as failures for the caller to read. */
  async queryDirectory(fileId: Smb2FileId, pattern = '*', o: { infoClass?: number; flags?: number; outputBytes?: number } = {}): Promise<Smb2Result<DirectoryEntry[]>> {
    const infoClass = o.infoClass ?? LIST_CLASS
    const outputBytes = o.outputBytes ?? LIST_OUTPUT_BYTES
    const body = encodeQueryDirectoryRequest({ fileInformationClass: infoClass, flags: o.flags ?? 0, fileIndex: 0, fileId, fileName: pattern, outputBufferLength: outputBytes })
    const reply = await this.request({ command: SMB2_COMMAND.QUERY_DIRECTORY, body, payloadBytes: outputBytes })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('QUERY_DIRECTORY', reply.header.status)
    const decoded = decodeOutputBufferResponse(reply.message, 'QUERY_DIRECTORY response')
    if (!decoded.ok) throw new Smb2TransportError(decoded.error.reason)
    const entries = decodeDirectoryEntries(infoClass, decoded.value.output)
    if (!entries.ok) throw new Smb2TransportError(`QUERY_DIRECTORY entries: ${entries.error}`)
    return smb2Ok(entries.entries)
  }

  /** Every entry of a directory but "." and "..": open, QUERY_DIRECTORY until NO_MORE_FILES, close. */
  async list(path: string): Promise<Smb2Result<DirectoryEntry[]>> {
    const opened = await this.create(path, { desiredAccess: ACCESS.READ_DATA | ACCESS.READ_ATTRIBUTES, shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE, createOptions: CREATE_OPTIONS.DIRECTORY_FILE })
    if (!opened.ok) return opened
    const all: DirectoryEntry[] = []
    try {
      for (let round = 0; round < LIST_ROUNDS_MAX; round++) {
        const r = await this.queryDirectory(opened.value.fileId, '*', round === 0 ? { flags: QUERY_DIRECTORY_FLAGS.RESTART_SCANS } : {})
        if (!r.ok) {
          if (r.failure.status === NT_STATUS.NO_MORE_FILES || (round === 0 && r.failure.status === NT_STATUS.NO_SUCH_FILE)) return smb2Ok(all.filter((e) => e.name !== '.' && e.name !== '..'))
          return r
        }
        all.push(...r.value)
      }
      return smb2Failed('QUERY_DIRECTORY', NT_STATUS.INSUFFICIENT_RESOURCES, `more than ${LIST_ROUNDS_MAX} rounds`)
    } finally {
      await this.close(opened.value.fileId).catch(() => undefined)
    }
  }

  /** Creates the directory and any missing parents (OPEN_IF of each level, as `mkdir -p`). */
  async ensureDirectory(path: string): Promise<Smb2Result<void>> {
    const parts = sharePath(path).split('\\').filter(Boolean)
    for (let i = 1; i <= parts.length; i++) {
      const r = await this.create(parts.slice(0, i).join('\\'), {
        disposition: DISPOSITION.OPEN_IF,
        desiredAccess: ACCESS.READ_ATTRIBUTES,
        shareAccess: SHARE_ACCESS.READ | SHARE_ACCESS.WRITE | SHARE_ACCESS.DELETE,
        createOptions: CREATE_OPTIONS.DIRECTORY_FILE,
      })
      if (!r.ok) return r
      const closed = await this.close(r.value.fileId)
      if (!closed.ok) return closed
    }
    return smb2Ok(undefined)
  }

  async disconnect(): Promise<Smb2Result<void>> {
    this.client.forgetTree(this)
    const reply = await this.request({ command: SMB2_COMMAND.TREE_DISCONNECT, body: encodeEmptyBody() })
    if (reply.header.status !== NT_STATUS.SUCCESS) return smb2Failed('TREE_DISCONNECT', reply.header.status)
    return smb2Ok(undefined)
  }
}

/** A share-relative name as CREATE wants it: backslashes, no leading one. */
export function sharePath(path: string): string {
  return path.replace(/\//g, '\\').replace(/^\\+/, '').replace(/\\+$/, '')
}

/** Runs job over items with at most width at once; the first failure is returned once the started ones end. */
async function pipeline<T>(items: readonly T[], width: number, job: (item: T) => Promise<Smb2Result<void>>): Promise<Smb2Result<never> | null> {
  let next = 0
  let failure: Smb2Result<never> | null = null
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const r = await job(items[next++])
      if (!r.ok && failure === null) failure = r
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker))
  return failure
}
