// The witness interface (MS-SWN over ncacn_ip_tcp, NDR20) and the endpoint mapper, as
// managers for an RpcConnection. The witness manager is a codec over the node's witness host,
// the same one the gRPC front uses, so a registration made on one wire shows on the other.
import { AUTH_LEVEL, FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import type { CallOutcome, RpcInterface } from './rpc-connection.js'
import { decodeWitnessRequest, encodeWitnessReply, WITNESS_INTERFACE } from '../../protocol/dcerpc/witness-ndr.js'
import { decodeEptMapRequest, encodeEptMapResponse, EPM_INTERFACE, EPM_OPNUM_MAP, type EpmTarget } from '../../protocol/dcerpc/epm.js'
import type { WitnessHost } from '../swn/witness-host.js'
import type { NotifyPayload, WitnessReply } from '../../protocol/swn/witness-calls.js'

/** The principal the core records for a call on an unauthenticated association (only with allowAnonymous). */
export const DCERPC_USER = 'dcerpc-anonymous'

/**
 * The least auth level a witness call needs: packet integrity, on every profile. Windows servers
 * refuse witness calls below it (MS-SWN 7), and Samba's rpcd_witness binds its interface with
 * dcesrv_interface_bind_require_integrity, so a call below it gets the fault ACCESS_DENIED.
 */
export const WITNESS_MIN_AUTH_LEVEL = AUTH_LEVEL.PKT_INTEGRITY

export interface WitnessRpcOptions {
  readonly host: WitnessHost
  readonly log: (event: string, fields: Record<string, unknown>) => void
  /** Serve calls below packet integrity too (unauthenticated or connect-level binds): `--witness-allow-anonymous`. */
  readonly allowAnonymous?: boolean
}

export function witnessRpcInterface(opts: WitnessRpcOptions): RpcInterface {
  return {
    name: 'witness',
    uuid: WITNESS_INTERFACE.uuid,
    versionMajor: WITNESS_INTERFACE.version.major,
    versionMinor: WITNESS_INTERFACE.version.minor,
    call(opnum, stub, reply: (outcome: CallOutcome) => void, caller) {
      if (opts.allowAnonymous !== true && caller.authLevel < WITNESS_MIN_AUTH_LEVEL) {
        opts.log('dcerpc.witness.refused', { opnum, reason: `auth level ${caller.authLevel} below packet integrity`, principal: caller.principal })
        reply({ fault: FAULT.ACCESS_DENIED })
        return () => undefined
      }
      const decoded = decodeWitnessRequest(opnum, stub)
      if (!decoded.ok) {
        opts.log('dcerpc.witness.refused', { opnum, reason: decoded.reason })
        reply({ fault: decoded.fault === 'op-range' ? FAULT.OP_RNG_ERROR : FAULT.NDR })
        return () => undefined
      }
      const submitted = opts.host.submit(caller.principal ?? DCERPC_USER, decoded.call, (r) => reply({ stub: replyStub(r) }))
      if (submitted.ok) return submitted.cancel
      // A method the profile lacks is an op-range fault, as on Windows; a node without quorum
      // or lease cannot perform the call.
      reply({ fault: submitted.refusal === 'unsupported' ? FAULT.OP_RNG_ERROR : FAULT.CANT_PERFORM })
      return () => undefined
    },
  }
}

/**
 * A fan-out answers thousands of AsyncNotify calls with one shared payload (the core encodes a
 * node's RESOURCE_CHANGE once); their NDR stubs are the same bytes too, so each payload's is
 * encoded once. The call id and the security trailer are per call, outside the stub.
 */
const notifyStubs = new WeakMap<NotifyPayload, Map<number, Buffer>>()

function replyStub(r: WitnessReply): Buffer {
  if (r.method !== 'AsyncNotify' || r.notify === null) return encodeWitnessReply(r)
  let byResult = notifyStubs.get(r.notify)
  if (!byResult) {
    byResult = new Map()
    notifyStubs.set(r.notify, byResult)
  }
  let stub = byResult.get(r.result)
  if (!stub) {
    stub = encodeWitnessReply(r)
    byResult.set(r.result, stub)
  }
  return stub
}

export function epmRpcInterface(targets: () => readonly EpmTarget[]): RpcInterface {
  return {
    name: 'epm',
    uuid: EPM_INTERFACE.uuid,
    versionMajor: EPM_INTERFACE.versionMajor,
    versionMinor: EPM_INTERFACE.versionMinor,
    call(opnum, stub, reply) {
      if (opnum !== EPM_OPNUM_MAP) {
        reply({ fault: FAULT.OP_RNG_ERROR })
        return () => undefined
      }
      const request = decodeEptMapRequest(stub)
      reply(request.ok ? { stub: encodeEptMapResponse(request, targets()) } : { fault: FAULT.NDR })
      return () => undefined
    },
  }
}
