// A typed SMB 3 client of the data path (the gRPC front of SMB2): negotiate, session, tree,
// opens with durable/persistent requests, IO, and the reconnect primitives a failover client
// needs (PreviousSessionId, DH2C, replay with the REPLAY flag and ChannelSequence).
import * as grpc from '@grpc/grpc-js'
import { randomUUID } from 'node:crypto'
import type { SmbClient as GrpcSmbClient } from '../proto/gen/swlab/smb/v1/Smb.js'
import { loadSmbProto } from '../proto/loader.js'
import type { Credential } from '../cluster/credentials.js'
import { NT_STATUS, ntStatusName } from '../protocol/smb2/ntstatus.js'
import { ACCESS, DIALECTS_OFFERED, DISPOSITION, GLOBAL_CAP, SHARE_ACCESS } from '../protocol/smb2/constants.js'

export { ACCESS, DISPOSITION, SHARE_ACCESS, NT_STATUS }

export const FLAGS_REPLAY_OPERATION = 0x20

export interface NtStatus {
  readonly code: number
  readonly name: string
}

export interface FileId {
  readonly persistent: string
  readonly volatile: string
}

export interface OpenOptions {
  readonly disposition?: number
  readonly desiredAccess?: number
  readonly shareAccess?: number
  /** Ask for a durable v2 handle; persistent on a CA share. */
  readonly durable?: { readonly createGuid?: string; readonly timeoutMs?: number; readonly persistent?: boolean }
  /** Reconnect a durable handle (DH2C). */
  readonly reconnect?: { readonly fileId: FileId; readonly createGuid: string; readonly persistent: boolean }
  readonly replay?: boolean
  /** SMB2_CREATE_APP_INSTANCE_ID: closes another client's open of the file with the same id. */
  readonly appInstanceId?: string
}

export interface OpenResult {
  readonly status: NtStatus
  readonly fileId: FileId
  readonly createAction: number
  readonly endOfFile: number
  readonly durable: boolean
  readonly persistent: boolean
  readonly timeoutMs: number
  readonly createGuid: string
}

export class SmbError extends Error {
  constructor(
    readonly status: NtStatus,
    what: string,
  ) {
    super(`${what}: ${status.name}`)
  }
}

type Reply = { status?: NtStatus | null; [k: string]: unknown }

export class SmbClient {
  private readonly client: GrpcSmbClient
  connectionId = ''
  sessionId = ''
  treeId = ''
  dialect = 0
  shareCapabilities = 0
  /** Session.ChannelSequence: bumped on every reconnect, sent with handle operations. */
  channelSequence = 0
  private messageId = 0
  /** Calls in flight, so that closing the transport also ends them (a failover abandons them). */
  private readonly calls = new Set<grpc.ClientUnaryCall>()

  constructor(
    readonly target: string,
    readonly clientGuid: string = randomUUID(),
  ) {
    const { Smb } = loadSmbProto().swlab.smb.v1
    this.client = new Smb(target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 500,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A 1 MiB READ reply should not crawl through HTTP/2's default 64 KiB window.
      'grpc-node.flow_control_window': 16 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
    })
  }

  async negotiate(capabilities: number = GLOBAL_CAP.PERSISTENT_HANDLES, dialects: readonly number[] = DIALECTS_OFFERED): Promise<NtStatus> {
    const r = await this.call('Negotiate', { dialects, clientGuid: this.clientGuid, capabilities })
    this.connectionId = String(r.connectionId ?? '')
    this.dialect = Number(r.dialect ?? 0)
    return statusOf(r)
  }

  async sessionSetup(credential: Credential, previousSessionId = ''): Promise<NtStatus> {
    const r = await this.call('SessionSetup', { header: this.header(), user: credential.user, password: credential.password, previousSessionId })
    this.sessionId = String(r.sessionId ?? '')
    return statusOf(r)
  }

  async treeConnect(share: string): Promise<NtStatus> {
    const r = await this.call('TreeConnect', { header: this.header(), path: share })
    this.treeId = String(r.treeId ?? '')
    this.shareCapabilities = Number(r.capabilities ?? 0)
    return statusOf(r)
  }

  /** NEGOTIATE, SESSION_SETUP and TREE_CONNECT in one go; throws on a failure. */
  async connect(credential: Credential, share: string, previousSessionId = ''): Promise<void> {
    for (const [what, step] of [
      ['NEGOTIATE', () => this.negotiate()],
      ['SESSION_SETUP', () => this.sessionSetup(credential, previousSessionId)],
      ['TREE_CONNECT', () => this.treeConnect(share)],
    ] as const) {
      const status = await step()
      if (status.code !== NT_STATUS.SUCCESS) throw new SmbError(status, what)
    }
  }

  async create(path: string, opts: OpenOptions = {}): Promise<OpenResult> {
    const createGuid = opts.reconnect?.createGuid ?? opts.durable?.createGuid ?? (opts.durable ? randomUUID() : '')
    const r = await this.call('Create', {
      header: this.header(opts.replay),
      path,
      disposition: opts.disposition ?? DISPOSITION.OPEN_IF,
      desiredAccess: opts.desiredAccess ?? ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE,
      shareAccess: opts.shareAccess ?? SHARE_ACCESS.READ,
      dh2q: opts.durable ? { createGuid, timeoutMs: opts.durable.timeoutMs ?? 0, persistent: opts.durable.persistent ?? false } : null,
      dh2c: opts.reconnect ? { fileId: opts.reconnect.fileId, createGuid, persistent: opts.reconnect.persistent } : null,
      appInstanceId: opts.appInstanceId ?? '',
    })
    const fileId = (r.fileId as FileId | null) ?? { persistent: '', volatile: '' }
    return {
      status: statusOf(r),
      fileId,
      createAction: Number(r.createAction ?? 0),
      endOfFile: Number(r.endOfFile ?? 0),
      durable: Boolean(r.durable),
      persistent: Boolean(r.persistent),
      timeoutMs: Number(r.timeoutMs ?? 0),
      createGuid,
    }
  }

  /** WRITE; pass the messageId of an earlier attempt (and replay) to replay it. */
  async write(fileId: FileId, offset: number, data: Buffer, opts: { replay?: boolean; messageId?: string } = {}): Promise<{ status: NtStatus; count: number; messageId: string }> {
    const header = this.header(opts.replay, opts.messageId)
    const r = await this.call('Write', { header, fileId, offset, data })
    return { status: statusOf(r), count: Number(r.count ?? 0), messageId: header.messageId }
  }

  async read(fileId: FileId, offset: number, length: number): Promise<{ status: NtStatus; data: Buffer }> {
    const r = await this.call('Read', { header: this.header(), fileId, offset, length })
    const data = r.data as Uint8Array | undefined
    // protobufjs hands out a Buffer view already: no copy of up to 8 MiB per READ.
    return { status: statusOf(r), data: Buffer.isBuffer(data) ? data : Buffer.from(data ?? []) }
  }

  async flush(fileId: FileId): Promise<NtStatus> {
    return statusOf(await this.call('Flush', { header: this.header(), fileId }))
  }

  async close(fileId: FileId): Promise<NtStatus> {
    return statusOf(await this.call('Close', { header: this.header(), fileId }))
  }

  async queryInfo(fileId: FileId): Promise<{ status: NtStatus; endOfFile: number; lastWriteTimeMs: number }> {
    const r = await this.call('QueryInfo', { header: this.header(), fileId })
    return { status: statusOf(r), endOfFile: Number(r.endOfFile ?? 0), lastWriteTimeMs: Number(r.lastWriteTimeMs ?? 0) }
  }

  async setEndOfFile(fileId: FileId, endOfFile: number): Promise<NtStatus> {
    return statusOf(await this.call('SetInfo', { header: this.header(), fileId, endOfFile, lastWriteTimeMs: 0 }))
  }

  async setLastWriteTime(fileId: FileId, lastWriteTimeMs: number): Promise<NtStatus> {
    return statusOf(await this.call('SetInfo', { header: this.header(), fileId, endOfFile: -1, lastWriteTimeMs }))
  }

  async queryDirectory(path = ''): Promise<{ status: NtStatus; entries: Array<{ name: string; directory: boolean; endOfFile: number }> }> {
    const r = await this.call('QueryDirectory', { header: this.header(), path })
    return { status: statusOf(r), entries: (r.entries as Array<{ name: string; directory: boolean; endOfFile: number }>) ?? [] }
  }

  async logoff(): Promise<NtStatus> {
    return statusOf(await this.call('Logoff', { header: this.header() }))
  }

  async echo(): Promise<NtStatus> {
    return statusOf(await this.call('Echo', {}))
  }

  /** Starts a new channel after a disconnect: MS-SMB2 3.2.4.4 bumps the ChannelSequence. */
  bumpChannelSequence(): void {
    this.channelSequence = (this.channelSequence + 1) & 0xffff
  }

  closeTransport(): void {
    // The generated client's own `close` is the SMB2 CLOSE call: use grpc's Client.close.
    for (const call of this.calls) call.cancel()
    this.calls.clear()
    grpc.Client.prototype.close.call(this.client)
  }

  private header(replay = false, messageId?: string) {
    return {
      connectionId: this.connectionId,
      sessionId: this.sessionId,
      treeId: this.treeId,
      channelSequence: this.channelSequence,
      flags: replay ? FLAGS_REPLAY_OPERATION : 0,
      messageId: messageId ?? `${this.clientGuid}:${++this.messageId}`,
    }
  }

  private call(method: string, request: object, deadlineMs = 30_000): Promise<Reply> {
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client)
    return new Promise((resolve, reject) => {
      const call: grpc.ClientUnaryCall = fn(request, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: Reply) => {
        this.calls.delete(call)
        if (err) reject(err)
        else resolve(reply)
      })
      this.calls.add(call)
    })
  }
}

function statusOf(r: Reply): NtStatus {
  const code = r.status?.code ?? 0
  return { code, name: r.status?.name ?? ntStatusName(code) }
}
