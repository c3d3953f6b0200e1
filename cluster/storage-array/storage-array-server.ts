// The emulated storage array (issue 17 item 2): one process that owns the shared storage's
// persistent reservations and performs every write and metadata change on it, for registered
// keys only. Nodes connect over a unix socket (a storage fabric of its own: the --netns
// nftables rules, which cut the cluster's network, do not touch it, as a SAN's fabric is not the
// LAN). Each connection names its initiator (HELLO) and then pipelines requests; the array
// answers each as it completes, batching the replies of one turn of the event loop into one
// socket write. A write is checked against the LUN's reservation before the file is touched;
// a PREEMPT is answered only once the writes that passed their check before it have finished,
// so that once the preemptor hears back, nothing of the victim can land any more.
import { mkdir, open, rename, rm, rmdir, utimes, type FileHandle } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import type { Logger } from 'pino'
import { ReservationTable, type ReservationRefusal } from '../../core/storage/persistent-reservations.js'
import { BufferPool } from '../../runtime/buffer-pool.js'
import {
  ARRAY_FRAME_BYTES_MAX,
  ARRAY_STATUS,
  ArrayFrameSplitter,
  decodeArrayRequest,
  encodeArrayReply,
  type ArrayReply,
  type ArrayReplyBody,
  type ArrayRequest,
  type ArrayStatus,
} from '../../protocol/storage-array/array-frame.js'

/** Requests one connection may have running; past it the socket is paused (backpressure). */
export const ARRAY_IN_FLIGHT_MAX = 64

/** Open files the array keeps for writes; the least recently used closes first. */
const ARRAY_FILES_MAX = 256

/** Reply bytes held for one batched socket write before it goes anyway. */
const REPLY_BATCH_BYTES_MAX = 256 * 1024

export interface StorageArrayOptions {
  /** The cluster's shared storage: one folder per LUN (CSV). */
  readonly storageDir: string
  readonly luns: readonly string[]
  readonly socketPath: string
  readonly log: Logger
}

/** What `cluster status` shows of one LUN. */
export interface LunCounters {
  refusedWrites: number
  writes: number
}

const REFUSAL_STATUS: Readonly<Record<ReservationRefusal, ArrayStatus>> = {
  'reservation-conflict': ARRAY_STATUS.RESERVATION_CONFLICT,
  'unknown-lun': ARRAY_STATUS.UNKNOWN_LUN,
  'invalid-field': ARRAY_STATUS.INVALID_FIELD,
  'insufficient-registration-resources': ARRAY_STATUS.INSUFFICIENT_REGISTRATION_RESOURCES,
}

const NONE: ArrayReplyBody = { kind: 'none' }

/** The harness's own connections (`cluster status`, a remount): not logged, they come every poll. */
const HARNESS_INITIATORS: ReadonlySet<string> = new Set(['status', 'harness'])

export class StorageArrayServer {
  readonly table: ReservationTable
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private readonly files = new Map<string, Promise<FileHandle>>()
  /** Per LUN, the writes that passed their reservation check and have not finished. */
  private readonly running = new Map<string, Set<Promise<unknown>>>()
  readonly counters = new Map<string, LunCounters>()
  /** Memory for WRITE frames that arrive in many chunks, reused from one WRITE to the next (bounded). */
  private readonly buffers = new BufferPool(64 * 1024 * 1024, ARRAY_FRAME_BYTES_MAX + 1024 * 1024)

  constructor(private readonly opts: StorageArrayOptions) {
    this.table = new ReservationTable(opts.luns)
    for (const lun of opts.luns) {
      this.running.set(lun, new Set())
      this.counters.set(lun, { refusedWrites: 0, writes: 0 })
    }
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.opts.socketPath, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
    const all = [...this.files.values()]
    this.files.clear()
    await Promise.allSettled(all.map(async (f) => (await f).close()))
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket)
    const splitter = new ArrayFrameSplitter(undefined, (bytes) => this.buffers.acquire(bytes))
    let initiator = ''
    let inFlight = 0
    let pending: Buffer[] = []
    let pendingBytes = 0
    let flushScheduled = false
    const flush = () => {
      flushScheduled = false
      if (pending.length === 0 || socket.destroyed) return
      const out = pending.length === 1 ? pending[0] : Buffer.concat(pending)
      pending = []
      pendingBytes = 0
      socket.write(out)
    }
    const answer = (reply: ArrayReply) => {
      const bytes = encodeArrayReply(reply)
      pending.push(bytes)
      pendingBytes += bytes.length
      if (pendingBytes >= REPLY_BATCH_BYTES_MAX) flush()
      else if (!flushScheduled) {
        flushScheduled = true
        setImmediate(flush)
      }
    }
    socket.on('data', (chunk: Buffer) => {
      const { bodies, error } = splitter.push(chunk)
      for (const body of bodies) {
        const decoded = decodeArrayRequest(body)
        if (!decoded.ok) {
          this.opts.log.warn({ component: 'array', event: 'array.request.bad', initiator, reason: decoded.error.reason })
          socket.destroy()
          return
        }
        const req = decoded.value
        if (req.op === 'hello') {
          initiator = req.initiator
          if (!HARNESS_INITIATORS.has(initiator)) this.opts.log.info({ component: 'array', event: 'array.initiator.connected', initiator })
          answer({ requestId: req.requestId, status: ARRAY_STATUS.OK, body: NONE })
          continue
        }
        if (initiator === '') {
          answer({ requestId: req.requestId, status: ARRAY_STATUS.INVALID_FIELD, body: NONE })
          continue
        }
        if (inFlight >= ARRAY_IN_FLIGHT_MAX) {
          // The client keeps within the bound; one that does not is told, not queued without end.
          answer({ requestId: req.requestId, status: ARRAY_STATUS.BUSY, body: NONE })
          continue
        }
        inFlight++
        if (inFlight >= ARRAY_IN_FLIGHT_MAX) socket.pause()
        void this.run(initiator, req)
          .then(
            (r) => answer({ requestId: req.requestId, ...r }),
            (err: NodeJS.ErrnoException) => answer({ requestId: req.requestId, status: ARRAY_STATUS.IO_ERROR, body: { kind: 'error', code: err.code ?? 'EIO', message: err.message } }),
          )
          .finally(() => {
            // The WRITE's data is on storage (or refused): its memory goes back to the pool.
            this.buffers.release(body)
            if (inFlight-- >= ARRAY_IN_FLIGHT_MAX) socket.resume()
          })
      }
      if (error) {
        this.opts.log.warn({ component: 'array', event: 'array.stream.bad', initiator, reason: error })
        socket.destroy()
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.sockets.delete(socket)
      if (initiator !== '' && !HARNESS_INITIATORS.has(initiator)) this.opts.log.info({ component: 'array', event: 'array.initiator.disconnected', initiator })
    })
  }

  /** One request: a reservation command from the table, or an IO after the table's check. */
  private async run(initiator: string, req: Exclude<ArrayRequest, { op: 'hello' }>): Promise<Omit<ArrayReply, 'requestId'>> {
    switch (req.op) {
      case 'register':
      case 'reserve':
      case 'release': {
        const r = this.table[req.op](req.lun, initiator, req.key)
        this.opts.log.info({ component: 'array', event: `array.pr.${req.op}`, lun: req.lun, initiator, key: keyHex(req.key), ok: r.ok, ...(r.ok ? {} : { refusal: r.refusal }) })
        return r.ok ? { status: ARRAY_STATUS.OK, body: NONE } : { status: REFUSAL_STATUS[r.refusal], body: NONE }
      }
      case 'preempt': {
        const r = this.table.preempt(req.lun, initiator, req.key, req.victimKey)
        if (!r.ok) return { status: REFUSAL_STATUS[r.refusal], body: NONE }
        // Writes already past their check finish before the preemptor hears back.
        await Promise.allSettled([...(this.running.get(req.lun) ?? [])])
        this.opts.log.info({ component: 'array', event: 'array.pr.preempt', lun: req.lun, initiator, victimKey: keyHex(req.victimKey), removed: r.removed, holder: this.table.readReservation(req.lun)?.holder?.initiator ?? null })
        return { status: ARRAY_STATUS.OK, body: { kind: 'removed', initiators: r.removed } }
      }
      case 'read-keys': {
        const keys = this.table.readKeys(req.lun)
        return keys ? { status: ARRAY_STATUS.OK, body: { kind: 'keys', ...keys } } : { status: ARRAY_STATUS.UNKNOWN_LUN, body: NONE }
      }
      case 'read-reservation': {
        const res = this.table.readReservation(req.lun)
        const refusedWrites = this.counters.get(req.lun)?.refusedWrites ?? 0
        return res ? { status: ARRAY_STATUS.OK, body: { kind: 'reservation', ...res, refusedWrites: refusedWrites >>> 0 } } : { status: ARRAY_STATUS.UNKNOWN_LUN, body: NONE }
      }
      case 'release-files': {
        const released = [...this.files.keys()].filter((k) => k.startsWith(`${req.lun}/`))
        await Promise.all(released.map((k) => this.forget(k)))
        this.opts.log.info({ component: 'array', event: 'array.files.released', lun: req.lun, released: released.length })
        return { status: ARRAY_STATUS.OK, body: { kind: 'count', count: released.length } }
      }
      default:
        return this.io(initiator, req)
    }
  }

  private async io(initiator: string, req: Extract<ArrayRequest, { path: string }>): Promise<Omit<ArrayReply, 'requestId'>> {
    const check = this.table.checkIo(req.lun, initiator, req.key, 'write')
    if (!check.ok) {
      const counters = this.counters.get(req.lun)
      if (counters && check.refusal === 'reservation-conflict') counters.refusedWrites++
      this.opts.log.warn({ component: 'array', event: 'array.io.refused', lun: req.lun, initiator, key: keyHex(req.key), op: req.op, path: req.path, refusal: check.refusal, ...('offset' in req ? { offset: req.offset, length: req.data.length } : {}) })
      return { status: REFUSAL_STATUS[check.refusal], body: NONE }
    }
    const running = this.running.get(req.lun) as Set<Promise<unknown>>
    const work = this.perform(req)
    running.add(work)
    try {
      return await work
    } finally {
      running.delete(work)
    }
  }

  private async perform(req: Extract<ArrayRequest, { path: string }>): Promise<Omit<ArrayReply, 'requestId'>> {
    const full = join(this.opts.storageDir, req.lun, ...req.path.split('/'))
    const fileKey = `${req.lun}/${req.path}`
    switch (req.op) {
      case 'write': {
        const fh = await this.file(fileKey, full)
        let written = 0
        while (written < req.data.length) {
          const { bytesWritten } = await fh.write(req.data, written, req.data.length - written, req.offset + written)
          written += bytesWritten
        }
        if (req.sync) await fh.datasync()
        ;(this.counters.get(req.lun) as LunCounters).writes++
        return { status: ARRAY_STATUS.OK, body: { kind: 'count', count: written } }
      }
      case 'flush':
        await (await this.file(fileKey, full)).datasync()
        return { status: ARRAY_STATUS.OK, body: NONE }
      case 'truncate': {
        const fh = await this.file(fileKey, full)
        await fh.truncate(req.sizeBytes)
        await fh.sync()
        return { status: ARRAY_STATUS.OK, body: NONE }
      }
      case 'create-file': {
        await this.forget(fileKey)
        await mkdir(dirname(full), { recursive: true })
        const fh = await open(full, req.truncate ? 'r+' : 'w+')
        try {
          if (req.truncate) await fh.truncate(0)
          await fh.sync()
        } finally {
          await fh.close()
        }
        return { status: ARRAY_STATUS.OK, body: NONE }
      }
      case 'mkdir':
        await mkdir(full)
        return { status: ARRAY_STATUS.OK, body: NONE }
      case 'rename': {
        // Cached descriptors follow the inode, not the name: dropped so that the names map anew.
        await this.forget(fileKey, true)
        await this.forget(`${req.lun}/${req.newPath}`, true)
        await rename(full, join(this.opts.storageDir, req.lun, ...req.newPath.split('/')))
        return { status: ARRAY_STATUS.OK, body: NONE }
      }
      case 'remove':
        await this.forget(fileKey, req.directory)
        if (req.directory) await rmdir(full)
        else await rm(full, { force: true })
        return { status: ARRAY_STATUS.OK, body: NONE }
      case 'set-times':
        await utimes(full, new Date(req.accessMs), new Date(req.writeMs))
        return { status: ARRAY_STATUS.OK, body: NONE }
    }
  }

  /** Closes the cached descriptor of a name (and, for a directory, of every name under it). */
  private async forget(fileKey: string, under = false): Promise<void> {
    const gone = [...this.files.keys()].filter((k) => k === fileKey || (under && k.startsWith(`${fileKey}/`)))
    const handles = gone.map((k) => this.files.get(k) as Promise<FileHandle>)
    for (const k of gone) this.files.delete(k)
    await Promise.allSettled(handles.map(async (f) => (await f).close()))
  }

  private file(fileKey: string, full: string): Promise<FileHandle> {
    let fh = this.files.get(fileKey)
    if (fh) {
      this.files.delete(fileKey)
      this.files.set(fileKey, fh)
      return fh
    }
    fh = open(full, 'r+')
    fh.catch(() => this.files.delete(fileKey))
    this.files.set(fileKey, fh)
    while (this.files.size > ARRAY_FILES_MAX) {
      const [oldest, handle] = this.files.entries().next().value as [string, Promise<FileHandle>]
      this.files.delete(oldest)
      void handle.then((f) => f.close()).catch(() => undefined)
    }
    return fh
  }
}

export function keyHex(key: bigint): string {
  return key.toString(16).padStart(16, '0')
}
