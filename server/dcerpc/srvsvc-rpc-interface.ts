// The srvsvc interface (MS-SRVS over ncacn_np, NDR20) as a manager for an RpcConnection: the
// stub codec (protocol/dcerpc/srvsvc-ndr.ts) around the pure answers of core/smb/srvsvc-shares.ts,
// over the shares the node says it serves. The SMB2 front serves it on the `srvsvc` pipe of
// IPC$ (server/smb2/named-pipe.ts); `smbclient -L` and smbtorture's rpc.witness call
// NetShareEnumAll level 1 there.
import { FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import {
  SRVSVC_INTERFACE,
  decodeSrvsvcRequest,
  encodeServerGetInfoResponse,
  encodeShareEnumResponse,
  encodeShareGetInfoResponse,
} from '../../protocol/dcerpc/srvsvc-ndr.js'
import { answerSrvsvcRequest, type ShareListing, type SrvsvcAnswer, type SrvsvcServerIdentity } from '../../core/smb/srvsvc-shares.js'
import type { RpcInterface } from './rpc-connection.js'

export interface SrvsvcRpcOptions {
  /** The shares to show now, IPC$ included, in the order clients should list them. */
  readonly shares: () => readonly ShareListing[]
  readonly server: () => SrvsvcServerIdentity
  readonly log: (event: string, fields: Record<string, unknown>) => void
}

export function srvsvcRpcInterface(opts: SrvsvcRpcOptions): RpcInterface {
  return {
    name: 'srvsvc',
    uuid: SRVSVC_INTERFACE.uuid,
    versionMajor: SRVSVC_INTERFACE.version.major,
    versionMinor: SRVSVC_INTERFACE.version.minor,
    call(opnum, stub, reply) {
      const decoded = decodeSrvsvcRequest(opnum, stub)
      if (!decoded.ok) {
        opts.log('dcerpc.srvsvc.refused', { opnum, reason: decoded.reason })
        reply({ fault: decoded.fault === 'op-range' ? FAULT.OP_RNG_ERROR : FAULT.NDR })
        return () => undefined
      }
      const answer = answerSrvsvcRequest(decoded.request, opts.shares(), opts.server())
      opts.log('dcerpc.srvsvc.call', { operation: answer.operation, level: decoded.request.level, result: resultOf(answer) })
      reply({ stub: encodeSrvsvcAnswer(answer) })
      return () => undefined
    },
  }
}

/** The response stub of an answer. */
export function encodeSrvsvcAnswer(answer: SrvsvcAnswer): Buffer {
  switch (answer.operation) {
    case 'NetrShareEnum':
      return encodeShareEnumResponse(answer.response)
    case 'NetrShareGetInfo':
      return encodeShareGetInfoResponse(answer.level, answer.info, answer.result)
    case 'NetrServerGetInfo':
      return encodeServerGetInfoResponse(answer.level, answer.info, answer.result)
  }
}

function resultOf(answer: SrvsvcAnswer): number {
  return answer.operation === 'NetrShareEnum' ? answer.response.result : answer.result
}
