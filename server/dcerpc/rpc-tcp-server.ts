// A DCE/RPC ncacn_ip_tcp listener: one RpcConnection per socket, a bound on connections, and
// every socket closed with the server.
import { createServer, type Server, type Socket } from 'node:net'
import { listenTcp } from '../../runtime/tcp-listen.js'
import { RpcConnection, type RpcAuthConfig, type RpcInterface } from './rpc-connection.js'

/**
 * Bound on open connections per listener. A witness client holds one association per node it
 * registers with, and a node may be the witness of tens of thousands of registrations (the
 * fan-out bench puts 20,000 on a node at 100,000 over 5), each connection carrying at most
 * CALLS_IN_FLIGHT_MAX calls: 2,048 is about 130,000 calls, each connection a few kB idle.
 */
const CONNECTIONS_MAX = 2048
/** Replies a client leaves unread beyond this: it is not reading, so it is dropped. */
const UNREAD_REPLY_BYTES_MAX = 4 * 1024 * 1024
/** A connection must bind this soon, and a bound one with no call waiting may idle this long. */
const BIND_TIMEOUT_MS = 10_000
const IDLE_TIMEOUT_MS = 120_000

export class RpcTcpServer {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private port = 0

  constructor(
    private readonly interfaces: readonly RpcInterface[],
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
    /** Accept NTLMSSP/SPNEGO binds; without it authenticated binds get a bind_nak. */
    private readonly auth?: RpcAuthConfig,
  ) {
    this.server = createServer((socket) => this.accept(socket))
  }

  async listen(address: string, port: number): Promise<number> {
    this.port = await listenTcp(this.server, address, port)
    return this.port
  }

  close(): void {
    for (const s of this.sockets) s.destroy()
    this.server.close()
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= CONNECTIONS_MAX) {
      socket.destroy()
      return
    }
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const connection = new RpcConnection({
      interfaces: this.interfaces,
      port: this.port,
      send: (bytes) => {
        if (socket.destroyed) return
        // Replies handed over in one turn of the event loop leave in one writev per connection:
        // a fan-out answers thousands of AsyncNotify calls in one synchronous slice
        // (WitnessHost.drain), dozens of them on each connection.
        if (socket.writableCorked === 0) {
          socket.cork()
          process.nextTick(() => socket.uncork())
        }
        // Back-pressure: stop reading requests while the client does not read its replies.
        if (!socket.write(bytes)) socket.pause()
        if (socket.writableLength > UNREAD_REPLY_BYTES_MAX) socket.destroy()
      },
      // Flush what was said (a fault, a bind_nak), then make sure the socket goes.
      close: () => {
        socket.end()
        setTimeout(() => socket.destroy(), 1000).unref()
      },
      log: this.log,
      ...(this.auth !== undefined ? { auth: this.auth } : {}),
    })
    socket.on('drain', () => socket.resume())
    socket.setTimeout(BIND_TIMEOUT_MS)
    socket.on('timeout', () => {
      // A connection that never bound, or idles with nothing waiting, holds a slot for nothing.
      if (!connection.isBound() || connection.callsInFlight() === 0) socket.destroy()
    })
    socket.on('data', (chunk: Buffer) => {
      if (connection.isBound()) socket.setTimeout(IDLE_TIMEOUT_MS)
      connection.receive(chunk)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      connection.end()
      this.sockets.delete(socket)
    })
  }
}
