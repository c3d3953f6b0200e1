// A TCP relay the test owns, between a client and one node's port: it forwards bytes both
// ways until cut, and then drops them silently in both directions while keeping both
// connections open, as a network that stops carrying packets does (no FIN, no RST: the client
// sees a connection that looks alive and answers nothing). The fault is outside the code under
// test: neither the client nor the node knows of it. Used until `cluster up --netns` can cut a
// client's connection to one node's port with nftables.
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpRelay {
  /** The port the relay listens on, on the host it was given. */
  readonly port: number
  /** Connections accepted so far. */
  readonly accepted: () => number
  /** Stop carrying bytes, both ways, on every connection (present and future). */
  cut(): void
  /** Carry bytes again (what was dropped stays dropped). */
  heal(): void
  close(): Promise<void>
}

/** A relay on listenHost (port 0: a free one) to targetHost:targetPort. */
export async function startTcpRelay(listenHost: string, targetHost: string, targetPort: number): Promise<TcpRelay> {
  let cut = false
  let accepted = 0
  const sockets = new Set<Socket>()
  const track = (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => s.destroy())
  }
  const server: Server = createServer((client) => {
    accepted++
    track(client)
    const upstream = connect({ host: targetHost, port: targetPort })
    track(upstream)
    client.on('data', (b: Buffer) => {
      if (!cut) upstream.write(b)
    })
    upstream.on('data', (b: Buffer) => {
      if (!cut) client.write(b)
    })
    // A side that closes while the relay carries bytes closes the other; after a cut, a close
    // is not carried either (the network is gone).
    client.on('close', () => {
      if (!cut) upstream.destroy()
    })
    upstream.on('close', () => {
      if (!cut) client.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, listenHost, () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the relay has no TCP address')
  return {
    port: address.port,
    accepted: () => accepted,
    cut: () => {
      cut = true
    },
    heal: () => {
      cut = false
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
