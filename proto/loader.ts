// Loads the .proto contracts at run time with the same options the type generator used
// (scripts/gen-proto.mjs), so the generated types describe the runtime shapes exactly.
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ProtoGrpcType as AdminProto } from './gen/admin.js'
import type { ProtoGrpcType as PeerProto } from './gen/peer.js'
import type { ProtoGrpcType as WitnessProto } from './gen/witness.js'
import type { ProtoGrpcType as CbtProto } from './gen/cbt.js'

export const LOADER_OPTIONS = { longs: String, enums: String, defaults: true, oneofs: true } as const

/** The package root, found from this file whether it runs from sources or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'proto'))) return dir
    dir = dirname(dir)
  }
  throw new Error('cannot find the smb-witness-lab package root')
}

export const PROTO_DIR = join(packageRoot(), 'proto')

function load(file: string): grpc.GrpcObject {
  const definition = protoLoader.loadSync(join(PROTO_DIR, file), { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] })
  return grpc.loadPackageDefinition(definition)
}

let peerProto: PeerProto | undefined
let adminProto: AdminProto | undefined
let witnessProto: WitnessProto | undefined
let cbtProto: CbtProto | undefined

export function loadWitnessProto(): WitnessProto {
  witnessProto ??= load('witness.proto') as unknown as WitnessProto
  return witnessProto
}

export function loadPeerProto(): PeerProto {
  peerProto ??= load('peer.proto') as unknown as PeerProto
  return peerProto
}

export function loadAdminProto(): AdminProto {
  adminProto ??= load('admin.proto') as unknown as AdminProto
  return adminProto
}

export function loadCbtProto(): CbtProto {
  cbtProto ??= load('cbt.proto') as unknown as CbtProto
  return cbtProto
}
