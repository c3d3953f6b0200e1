// A DCE/RPC ncacn_ip_tcp listener: one RpcConnection per socket, a bound on connections, and
// every socket closed with the server.
import { createServer, type Server, type Socket } from 'node:net'
import { RpcConnection, type RpcInterface } from './rpc-connection.js'

/** Bound on open connections per listener. */
const CONNECTIONS_MAX = 512

export class RpcTcpServer {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private port = 0

  constructor(
    private readonly interfaces: readonly RpcInterface[],
    private readonly log: (event: string, fields: Record<string, unknown>) => void,
  ) {
    this.server = createServer((socket) => this.accept(socket))
  }

  listen(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, address, () => {
        this.server.off('error', reject)
        const bound = this.server.address()
        this.port = typeof bound === 'object' && bound ? bound.port : port
        resolve(this.port)
      })
    })
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
        if (!socket.destroyed) socket.write(bytes)
      },
      close: () => socket.end(),
      log: this.log,
    })
    socket.on('data', (chunk: Buffer) => connection.receive(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      connection.end()
      this.sockets.delete(socket)
    })
  }
}
