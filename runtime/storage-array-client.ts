// A connection to the emulated storage array (issue 17 item 2): one unix socket, named for its
// initiator by a HELLO, on which requests are pipelined (the frames of one turn of the event
// loop go out in one write: the socket is corked until the next tick) and answered out of
// order by request id. Bounded: at most ARRAY_CLIENT_IN_FLIGHT_MAX requests on the wire (the
// array's own bound), at most ARRAY_CLIENT_QUEUE_MAX more waiting; past that a request fails at
// once. A lost connection fails what was on it (the caller does not know whether a write
// landed, as with a lost SCSI command) and the next request connects again.
import { connect, type Socket } from 'node:net'
import {
  ArrayFrameSplitter,
  decodeArrayReply,
  encodeArrayRequest,
  type ArrayReply,
  type ArrayRequest,
} from '../protocol/storage-array/array-frame.js'

/** Requests on the wire at once: the array's per-connection bound (ARRAY_IN_FLIGHT_MAX). */
export const ARRAY_CLIENT_IN_FLIGHT_MAX = 64

/** Requests waiting for a slot on the wire. */
export const ARRAY_CLIENT_QUEUE_MAX = 4096

/** A request that does not get an answer within this is failed (the array is stopped or gone). */
const ARRAY_REQUEST_TIMEOUT_MS = 30_000

/** The array could not be reached or the connection dropped: an EIO-like failure of the storage path. */
export class StorageArrayUnreachable extends Error {
  readonly code = 'EIO'
}

type Outgoing = ArrayRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : never) : never

interface Waiter {
  readonly resolve: (r: ArrayReply) => void
  readonly reject: (e: Error) => void
  readonly timer: NodeJS.Timeout
}

export class StorageArrayClient {
  private socket: Socket | null = null
  private connecting: Promise<Socket> | null = null
  private nextId = 1
  private readonly waiting = new Map<number, Waiter>()
  private readonly queue: { readonly req: Outgoing; readonly waiter: Omit<Waiter, 'timer'> }[] = []
  private corked = false
  private closed = false

  constructor(
    readonly socketPath: string,
    readonly initiator: string,
  ) {}

  /** Sends one request and resolves to its reply; rejects with StorageArrayUnreachable when the array is not there. */
  request(req: Outgoing): Promise<ArrayReply> {
    if (this.closed) return Promise.reject(new StorageArrayUnreachable('the storage array client is closed'))
    return new Promise<ArrayReply>((resolve, reject) => {
      if (this.waiting.size < ARRAY_CLIENT_IN_FLIGHT_MAX && this.queue.length === 0) {
        this.send(req, { resolve, reject })
        return
      }
      if (this.queue.length >= ARRAY_CLIENT_QUEUE_MAX) {
        reject(new StorageArrayUnreachable(`more than ${ARRAY_CLIENT_QUEUE_MAX} requests wait for the storage array`))
        return
      }
      this.queue.push({ req, waiter: { resolve, reject } })
    })
  }

  close(): void {
    this.closed = true
    this.socket?.destroy()
    this.failAll(new StorageArrayUnreachable('the storage array client is closed'))
  }

  private send(req: Outgoing, waiter: Omit<Waiter, 'timer'>): void {
    const requestId = this.nextId
    this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1
    const timer = setTimeout(() => {
      if (!this.waiting.delete(requestId)) return
      waiter.reject(new StorageArrayUnreachable(`no answer from the storage array within ${ARRAY_REQUEST_TIMEOUT_MS} ms`))
      this.drain()
    }, ARRAY_REQUEST_TIMEOUT_MS)
    this.waiting.set(requestId, { ...waiter, timer })
    const frames = encodeArrayRequest({ ...req, requestId } as ArrayRequest)
    this.connected().then(
      (socket) => {
        if (!this.waiting.has(requestId)) return
        if (!this.corked) {
          this.corked = true
          socket.cork()
          process.nextTick(() => {
            this.corked = false
            socket.uncork()
          })
        }
        for (const f of frames) socket.write(f)
      },
      (err: Error) => this.settle(requestId, null, err),
    )
  }

  private connected(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket)
    if (this.connecting) return this.connecting
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.socketPath)
      const splitter = new ArrayFrameSplitter()
      socket.once('connect', () => {
        this.connecting = null
        this.socket = socket
        // The HELLO goes first on the stream: every later frame is this initiator's.
        for (const f of encodeArrayRequest({ op: 'hello', requestId: 0, initiator: this.initiator })) socket.write(f)
        resolve(socket)
      })
      socket.on('data', (chunk: Buffer) => {
        const { bodies, error } = splitter.push(chunk)
        for (const body of bodies) {
          const reply = decodeArrayReply(body)
          if (!reply.ok) {
            socket.destroy(new Error(`bad reply from the storage array: ${reply.error.reason}`))
            return
          }
          if (reply.value.requestId !== 0) this.settle(reply.value.requestId, reply.value, null)
        }
        if (error) socket.destroy(new Error(`bad stream from the storage array: ${error}`))
      })
      socket.on('error', () => undefined)
      socket.once('close', () => {
        if (this.connecting) {
          this.connecting = null
          reject(new StorageArrayUnreachable(`cannot reach the storage array at ${this.socketPath}`))
        }
        if (this.socket === socket) this.socket = null
        this.failAll(new StorageArrayUnreachable('the connection to the storage array dropped'))
      })
    })
    return this.connecting
  }

  private settle(requestId: number, reply: ArrayReply | null, err: Error | null): void {
    const w = this.waiting.get(requestId)
    if (!w) return
    this.waiting.delete(requestId)
    clearTimeout(w.timer)
    if (reply) w.resolve(reply)
    else w.reject(err as Error)
    this.drain()
  }

  private drain(): void {
    while (this.waiting.size < ARRAY_CLIENT_IN_FLIGHT_MAX && this.queue.length > 0) {
      const next = this.queue.shift() as (typeof this.queue)[number]
      this.send(next.req, next.waiter)
    }
  }

  private failAll(err: Error): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer)
      this.waiting.delete(id)
      w.reject(err)
    }
    if (this.closed) {
      for (const q of this.queue.splice(0)) q.waiter.reject(err)
    } else this.drain()
  }
}
