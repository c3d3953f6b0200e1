// The vendor CBT filter's query service (gRPC, beside the SMB front): what changed in a file
// since a reference id, answered by the node that serves the file's CSV, whose filter saw the
// writes.
import * as grpc from '@grpc/grpc-js'
import type { Logger } from 'pino'
import { authenticate, type ClusterCredentials } from '../cluster/credentials.js'
import type { NodeId } from '../core/quorum/types.js'
import type { VendorCbtHandlers } from '../proto/gen/swlab/cbt/v1/VendorCbt.js'
import type { CsvRouter } from './csv-router.js'
import { CsvServiceClosed } from './smb/csv-service.js'

export interface CbtServiceOptions {
  readonly selfId: NodeId
  readonly router: Pick<CsvRouter, 'shares' | 'localService' | 'ownerOf'>
  readonly credentials: ClusterCredentials | null
  readonly log: Logger
}

export function cbtHandlers(opts: CbtServiceOptions): VendorCbtHandlers {
  const { selfId, router, log } = opts
  return {
    Changes: (call, callback) => {
      const fail = (error: string) => callback(null, { ok: false, error, node: selfId })
      if (!authenticate(opts.credentials, call.metadata)) {
        callback({ code: grpc.status.UNAUTHENTICATED, details: 'bad or missing credentials' })
        return
      }
      const { share, path, sinceId } = call.request
      const info = router.shares.find((s) => s.name.toLowerCase() === share.toLowerCase())
      if (!info) return fail(`no share ${share}`)
      const service = router.localService(info.csv)
      if (!service) {
        const owner = router.ownerOf(info.csv)
        return fail(`${selfId} does not serve ${info.csv}${owner ? `; ${owner} does` : ''}`)
      }
      service
        .cbtChanges(info.name, path, sinceId)
        .then((r) => {
          if (!r.ok) return fail(r.error)
          log.info({ component: 'cbt', event: 'cbt.changes', csv: info.csv, path, sinceId, referenceId: r.referenceId, changedBytes: r.changedBytes })
          callback(null, { ok: true, error: '', referenceId: r.referenceId, node: selfId, ranges: r.ranges, fileBytes: r.fileBytes, changedBytes: r.changedBytes })
        })
        .catch((err: Error) => fail(err instanceof CsvServiceClosed ? `${info.csv} moved away during the query` : err.message))
    },
  }
}
