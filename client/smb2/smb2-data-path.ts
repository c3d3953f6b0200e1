// The failover client's data path on the SMB 2/3 wire: one connection to one node, with what a
// continuously available client needs of it (MS-SMB2 3.2.4.x): NEGOTIATE 3.1.1 with the
// client's ClientGuid and CAP_PERSISTENT_HANDLES, SESSION_SETUP with PreviousSessionId after a
// failover (3.2.4.2.3), TREE_CONNECT to \\netname\share, CREATE with a persistent DH2Q and its
// CreateGuid (2.2.13.2.11), DH2C to take a preserved handle back (2.2.13.2.12), and every
// handle request sent with the connection's ChannelSequence (3.2.4.1.1; the failover core bumps
// it for each new channel after a failure) and, when it is a replay, SMB2_FLAGS_REPLAY_OPERATION.
//
// Statuses come back typed (Smb2Result); transport failures (refused, reset, closed, a request
// with no answer) throw Smb2TransportError, which the failover client classifies.
import { ACCESS, DISPOSITION, SHARE_ACCESS, SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import { FILE_ATTRIBUTE } from '../../protocol/smb2/file-info.js'
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { CLIENT_IO_BYTES_MAX, Smb2Client } from './smb2-client.js'
import { smb2Failed, smb2Ok, Smb2ConnectTimeout, Smb2StatusError, type Smb2Result } from './smb2-result.js'
import type { Smb2Open, Smb2Tree } from './smb2-tree.js'
import { clientFrameBuffers } from './frame-accumulator.js'

export interface Smb2DataPathOptions {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** The same on every connection of the client: durable reconnects check it (3.3.5.9.12). */
  readonly clientGuid: string
  /** The cluster name the tree is connected through: \\netName\share. */
  readonly netName: string
  readonly share: string
  /** The session of the connection this one replaces, as sessionIdString gave it; '' for none. */
  readonly previousSessionId: string
  /** Session.ChannelSequence of this channel (3.2.4.1.1), sent with every handle request. */
  readonly channelSequence: number
  /** A request with no answer within it fails the connection (the failover client's own deadline is shorter). */
  readonly requestTimeoutMs: number
  /** TCP connect, NEGOTIATE, SESSION_SETUP and TREE_CONNECT together; past it the connect fails (Smb2TransportError). */
  readonly connectTimeoutMs: number
  /** The client's own source address (default: the system's choice). */
  readonly localAddress?: string
}

export interface DataPathOpenOptions {
  readonly disposition: number
  readonly desiredAccess: number
  readonly shareAccess: number
  /** The CreateGuid of the persistent DH2Q (kept for DH2C and CREATE replays). */
  readonly createGuid: string
  /** SMB2_CREATE_APP_INSTANCE_ID (2.2.13.2.13): a VM restarted elsewhere takes its files back. */
  readonly appInstanceId?: string
  readonly replay?: boolean
}

export interface DataPathEntry {
  readonly name: string
  readonly directory: boolean
  readonly endOfFile: number
}

/** Only 3.x has persistent handles, ChannelSequence and replay: a node that offers less will not do. */
const DIALECTS: readonly number[] = [SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311]

/** A wire session id as the failover core keeps it: decimal, so that it converts back exactly. */
export function sessionIdString(sessionId: bigint): string {
  return sessionId.toString(10)
}

/** The PreviousSessionId of a SESSION_SETUP from the core's string ('' is none: 0). */
export function parseSessionId(text: string): bigint {
  if (text === '') return 0n
  if (!/^[0-9]{1,20}$/.test(text)) throw new RangeError(`not a session id: ${JSON.stringify(text)}`)
  const id = BigInt(text)
  if (id > 0xffffffffffffffffn) throw new RangeError(`session id ${text} is above 64 bits`)
  return id
}

export class Smb2DataPath {
  private constructor(
    private readonly client: Smb2Client,
    private readonly tree: Smb2Tree,
    readonly channelSequence: number,
  ) {}

  /**
   * NEGOTIATE, SESSION_SETUP (with PreviousSessionId when given) and TREE_CONNECT. A status
   * failure throws Smb2StatusError (the connection is closed), a transport one Smb2TransportError.
   */
  static async connect(o: Smb2DataPathOptions): Promise<Smb2DataPath> {
    const previousSessionId = parseSessionId(o.previousSessionId)
    const startedMs = performance.now()
    const logged = await Smb2Client.connect({
      host: o.host,
      port: o.port,
      user: o.user,
      password: o.password,
      clientGuid: o.clientGuid,
      dialects: DIALECTS,
      maxIoBytes: CLIENT_IO_BYTES_MAX,
      requestTimeoutMs: o.requestTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs,
      handshakeTimeoutMs: o.connectTimeoutMs,
      ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
      ...(previousSessionId !== 0n ? { previousSessionId } : {}),
    })
    if (!logged.ok) throw new Smb2StatusError(logged.failure)
    const client = logged.value
    // What is left of the connect's time for TREE_CONNECT (a node that stops serving now answers nothing).
    let timedOut = false
    const timer = setTimeout(
      () => {
        timedOut = true
        client.connection.close()
      },
      Math.max(1, o.connectTimeoutMs - (performance.now() - startedMs)),
    )
    try {
      const tree = await client.treeConnect(o.share, o.netName)
      if (!tree.ok) throw new Smb2StatusError(tree.failure)
      return new Smb2DataPath(client, tree.value, o.channelSequence & 0xffff)
    } catch (err) {
      client.connection.close()
      if (timedOut) throw new Smb2ConnectTimeout(`${o.host}:${o.port}: no TREE_CONNECT answer within the connect's ${o.connectTimeoutMs} ms`)
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  /** The session's id in the core's form (decimal). */
  get sessionId(): string {
    return sessionIdString(this.client.sessionId)
  }

  get closed(): boolean {
    return this.client.connection.closed
  }

  /** CREATE with a persistent DH2Q (granted as persistent on a CA share, 3.3.5.9.10). */
  create(path: string, o: DataPathOpenOptions): Promise<Smb2Result<Smb2Open>> {
    return this.tree.create(path, {
      disposition: o.disposition,
      desiredAccess: o.desiredAccess,
      shareAccess: o.shareAccess,
      durableV2: { persistent: true, createGuid: o.createGuid },
      ...(o.appInstanceId ? { appInstanceId: o.appInstanceId } : {}),
      replay: o.replay ?? false,
      channelSequence: this.channelSequence,
    })
  }

  /** DH2C: the preserved open of fileId and createGuid, on this (new) session. */
  reconnect(path: string, fileId: Smb2FileId, createGuid: string): Promise<Smb2Result<Smb2Open>> {
    return this.tree.create(path, {
      disposition: DISPOSITION.OPEN,
      desiredAccess: ACCESS.GENERIC_READ | ACCESS.GENERIC_WRITE,
      shareAccess: SHARE_ACCESS.READ,
      reconnectV2: { fileId, createGuid, persistent: true },
      channelSequence: this.channelSequence,
    })
  }

  /**
   * WRITE of any length: pieces of at most the session's write size, one after the other (a
   * replay sends them all again with the flag; writing the same bytes twice is harmless).
   */
  async write(fileId: Smb2FileId, offset: number, data: Buffer, o: { replay?: boolean } = {}): Promise<Smb2Result<number>> {
    const piece = this.client.ioBytes.write
    let done = 0
    do {
      const length = Math.min(piece, data.length - done)
      const r = await this.tree.write(fileId, offset + done, data.subarray(done, done + length), { replay: o.replay ?? false, channelSequence: this.channelSequence })
      if (!r.ok) return r
      if (r.value !== length) return smb2Failed('WRITE', NT_STATUS.DISK_FULL, `${r.value} of ${length} bytes written at ${offset + done}`)
      done += length
    } while (done < data.length)
    return smb2Ok(done)
  }

  /**
   * READ of any length: pieces of at most the session's read size; a short piece is the end of
   * the file. END_OF_FILE for the first piece is returned as the status; for a later one it
   * ends the read with the bytes before it.
   */
  async read(fileId: Smb2FileId, offset: number, length: number): Promise<Smb2Result<Buffer>> {
    const piece = this.client.ioBytes.read
    if (length <= piece) return this.tree.read(fileId, offset, length, { channelSequence: this.channelSequence })
    const parts: Buffer[] = []
    let done = 0
    while (done < length) {
      const want = Math.min(piece, length - done)
      const r = await this.tree.read(fileId, offset + done, want, { channelSequence: this.channelSequence })
      if (!r.ok) {
        if (done > 0 && r.failure.status === NT_STATUS.END_OF_FILE) break
        return r
      }
      parts.push(r.value)
      done += r.value.length
      if (r.value.length < want) break
    }
    if (parts.length === 1) return smb2Ok(parts[0])
    const whole = Buffer.concat(parts, done)
    // The pieces were copied: their frames' memory can take the next replies.
    for (const p of parts) clientFrameBuffers.release(p)
    return smb2Ok(whole)
  }

  /** The file's EndOfFile (FileStandardInformation). */
  async endOfFile(fileId: Smb2FileId): Promise<Smb2Result<number>> {
    const r = await this.tree.queryStandardInfo(fileId)
    if (!r.ok) return r
    return smb2Ok(Number(r.value.endOfFileBytes))
  }

  setEndOfFile(fileId: Smb2FileId, bytes: number, o: { replay?: boolean } = {}): Promise<Smb2Result<void>> {
    return this.tree.setEndOfFile(fileId, bytes, { replay: o.replay ?? false, channelSequence: this.channelSequence })
  }

  /** The entries of a directory ('' is the share's root) but "." and "..". */
  async list(path: string): Promise<Smb2Result<DataPathEntry[]>> {
    const r = await this.tree.list(path)
    if (!r.ok) return r
    return smb2Ok(
      r.value.map((e) => ({
        name: e.name,
        directory: ((e.attributes ?? 0) & FILE_ATTRIBUTE.DIRECTORY) !== 0,
        endOfFile: Number(e.endOfFileBytes ?? 0n),
      })),
    )
  }

  /** Creates the directory and its missing parents (as the gRPC contract's CREATE did by itself). */
  ensureDirectory(path: string): Promise<Smb2Result<void>> {
    return this.tree.ensureDirectory(path)
  }

  close(fileId: Smb2FileId): Promise<Smb2Result<void>> {
    return this.tree.close(fileId, { channelSequence: this.channelSequence })
  }

  /** Drops the connection without LOGOFF: a failover abandons it, and its persistent opens stay preserved on the cluster. */
  closeTransport(): void {
    this.client.connection.close()
  }
}
