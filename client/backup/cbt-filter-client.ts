// The backup proxy's side of the vendor CBT filter: asks the storage node that serves a file
// which blocks changed since a reference point (proto/cbt.proto).
import * as grpc from '@grpc/grpc-js'
import { credentialMetadata, type Credential } from '../../cluster/credentials.js'
import type { ChangesReply__Output } from '../../proto/gen/swlab/cbt/v1/ChangesReply.js'
import { loadCbtProto } from '../../proto/loader.js'

export type FilterAnswer =
  | { readonly ok: true; readonly referenceId: string; readonly node: string; readonly ranges: { offset: number; length: number }[]; readonly changedBytes: number; readonly fileBytes: number }
  | { readonly ok: false; readonly error: string; readonly node: string }

const QUERY_DEADLINE_MS = 10_000

/** One query to the filter of the node at `address` (its SMB address and port). */
export function queryCbtFilter(address: string, credential: Credential, share: string, path: string, sinceId: string): Promise<FilterAnswer> {
  const Client = loadCbtProto().swlab.cbt.v1.VendorCbt
  const client = new Client(address, grpc.credentials.createInsecure())
  return new Promise<FilterAnswer>((resolve) => {
    client.Changes({ share, path, sinceId }, credentialMetadata(credential), { deadline: Date.now() + QUERY_DEADLINE_MS }, (err, reply?: ChangesReply__Output) => {
      client.close()
      if (err || !reply) return resolve({ ok: false, error: `the CBT filter at ${address} did not answer: ${err?.details ?? 'no reply'}`, node: '' })
      if (!reply.ok) return resolve({ ok: false, error: reply.error, node: reply.node })
      resolve({
        ok: true,
        referenceId: reply.referenceId,
        node: reply.node,
        ranges: reply.ranges.map((r) => ({ offset: r.offset, length: r.length })),
        changedBytes: reply.changedBytes,
        fileBytes: reply.fileBytes,
      })
    })
  })
}
