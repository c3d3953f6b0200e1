// Listening on a TCP (or HTTP) server, as a promise: the one place that turns Node's
// listen callback and its 'error' event into a bound port or a rejection.
import type { Server } from 'node:net'

/** Binds address:port (0: a free port); resolves with the bound port, rejects with listen's error. */
export function listenTcp(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, address, () => {
      server.off('error', reject)
      const bound = server.address()
      resolve(typeof bound === 'object' && bound ? bound.port : port)
    })
  })
}
