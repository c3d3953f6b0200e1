// SAN mode on the wire: a READ or WRITE on a CSV that is not in redirected access goes between
// this node and the shared storage itself; the CSV's owner only checks the handle first (begin-io:
// access, ChannelSequence, an already-applied replay) and learns the outcome after (complete-io:
// the replay record and the CBT filter), so the data bytes never pass through the owner. This is
// what the gRPC front did for its clients; the wire front does it for every client.
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'
import { storageFaultStatusOf } from '../../protocol/smb2/storage-errno.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import type { HandleOp, HandleOpReply } from '../smb/csv-service.js'
import type { DirectIo } from '../smb/direct-io.js'
import { ReservationConflict } from '../smb/fenced-storage.js'

export interface SanDataPath {
  /** SAN mode and the CSV not redirected: its data IO goes direct (CsvRouter.directIo). */
  isDirect(csv: string): boolean
  readonly io: Pick<DirectIo, 'read' | 'write'> & Partial<Pick<DirectIo, 'keyNow'>>
  /** The node still holds its lease: checked again before a direct write, which the begin-io round trip may have outlasted. */
  isServing(): boolean
}

/** Runs a handle operation at the CSV's owner; throws when the CSV has no serving owner (the connection is then dropped). */
type RunAtOwner = (csv: string, op: HandleOp) => Promise<HandleOpReply>

export interface DirectReadRequest {
  readonly csv: string
  readonly sessionKey: string
  readonly fileId: Smb2FileId
  readonly offset: number
  readonly length: number
  readonly channel?: { readonly channelSequence: number; readonly replay: boolean }
}

export interface DirectWriteRequest {
  readonly csv: string
  readonly sessionKey: string
  readonly fileId: Smb2FileId
  readonly offset: number
  readonly data: Buffer
  /** 3.x ChannelSequence, REPLAY_OPERATION and the MessageId, as the owner checks them. */
  readonly channelSequence: number
  readonly replay: boolean
  readonly messageId: string
}

/** The owner checks the handle, then the bytes come from storage here: a reply as the owner's READ gives. */
export async function sanRead(san: SanDataPath, run: RunAtOwner, r: DirectReadRequest): Promise<HandleOpReply> {
  const channel = r.channel ? { ...r.channel, sequenced: true } : { channelSequence: 0, replay: false }
  const begin = await run(r.csv, { op: 'begin-io', sessionKey: r.sessionKey, fileId: r.fileId, kind: 'read', ...channel, messageId: '' })
  if (!begin.proceed || begin.share === undefined || begin.path === undefined) return { status: begin.status }
  const data = await san.io.read(r.csv, begin.share, begin.path, r.fileId.persistent, r.offset, r.length)
  return data === 'end-of-file' ? { status: NT_STATUS.END_OF_FILE } : { status: NT_STATUS.SUCCESS, data }
}

/**
 * The owner checks the handle (an already-applied replay is answered without writing again), the
 * bytes go to storage from here (written through: CA holds on this path too), and the owner hears
 * how it went, even when the write failed. 'unavailable' when this node lost its lease meanwhile:
 * it then answers nothing, as for any request.
 */
export async function sanWrite(san: SanDataPath, run: RunAtOwner, r: DirectWriteRequest): Promise<HandleOpReply | 'unavailable'> {
  const io = { sessionKey: r.sessionKey, fileId: r.fileId, kind: 'write' as const, channelSequence: r.channelSequence, messageId: r.messageId }
  // The reservation key as the write is issued: a node frozen from here on and preempted
  // meanwhile writes under a key the array no longer has.
  const key = san.io.keyNow?.(r.csv)
  const begin = await run(r.csv, { ...io, op: 'begin-io', replay: r.replay })
  if (begin.alreadyApplied) return { status: NT_STATUS.SUCCESS, count: r.data.length }
  if (!begin.proceed || begin.share === undefined || begin.path === undefined) return { status: begin.status }
  let count = 0
  try {
    if (!san.isServing()) return 'unavailable'
    count = await san.io.write(r.csv, begin.share, begin.path, r.fileId.persistent, r.offset, r.data, key)
  } catch (err) {
    // The array refused this node's key: it lost the cluster; the client retries elsewhere
    // (STATUS_FILE_NOT_AVAILABLE, as the owner's path answers it: CsvService.fencedReply).
    if (err instanceof ReservationConflict) return { status: NT_STATUS.FILE_NOT_AVAILABLE }
    // A full or write-protected volume: the client hears it (DISK_FULL, MEDIA_WRITE_PROTECTED),
    // as from the owner's own WRITE; the owner hears the write was not applied.
    const status = storageFaultStatusOf(err)
    if (status === null) throw err
    return { status }
  } finally {
    await run(r.csv, { ...io, op: 'complete-io', applied: count === r.data.length, offset: r.offset, length: count })
  }
  return { status: NT_STATUS.SUCCESS, count }
}
