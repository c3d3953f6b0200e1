// Binding a node's gRPC servers: one port each, with a one-line reason when it cannot listen.
import * as grpc from '@grpc/grpc-js'
import { mkdirSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'

/** Rejects with `port in use: address:port` when another process holds the port. */
export function bindGrpc(server: grpc.Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${address}:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (!err) return resolve()
      const inUse = /EADDRINUSE|address already in use/i.test(err.message)
      reject(new Error(inUse ? `port in use: ${address}:${port}` : `cannot listen on ${address}:${port}: ${err.message}`))
    })
  })
}

/** Binds a unix socket at path; a socket file left by an earlier process of the node is replaced. */
export function bindGrpcUnix(server: grpc.Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true })
  rmSync(path, { force: true })
  return new Promise((resolve, reject) => {
    server.bindAsync(`unix:${path}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (!err) return resolve()
      reject(new Error(`cannot listen on unix:${path}: ${err.message}`))
    })
  })
}
