// MS-CMRP (clusapi v3.0) on the witness port, the part resource moves need: a codec over the
// node's ClusterResources core, and the witness notifications a state change makes.
//
// Access: MS-CMRP servers take calls only at packet privacy (sealed), as Windows does; below it
// every call is the fault ACCESS_DENIED. Any authenticated cluster user may open and query
// resources; bringing one online or offline is for the cluster's admin user (ERROR_ACCESS_DENIED
// otherwise, as a Windows cluster answers a user without full access).
//
// What a change notifies, through the witness host's admin path (the one `swlab witness
// force-response` uses), to the registrations this node holds:
// - the SOFS network name offline: RESOURCE_CHANGE, one record (NetName, UNAVAILABLE) to every
//   registration for that NetName; online again: the same with AVAILABLE;
// - a node's IP address resource offline: IP_CHANGE with that address flagged OFFLINE to the
//   registrations for that address; online again: flagged ONLINE.
// The "Cluster Name" resource has no witness clients: its state changes and nothing is sent.
// The same forced response goes to the other nodes too (fanOut: their admin services), so the
// registrations they hold hear of it as a real cluster's witness nodes all would.
import { randomUUID } from 'node:crypto'
import { AUTH_LEVEL, FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import {
  CLUSAPI_ERROR,
  CLUSAPI_INTERFACE,
  NULL_CONTEXT_HANDLE,
  decodeClusapiRequest,
  encodeCloseResponse,
  encodeGetResourceStateResponse,
  encodeOpenClusterResponse,
  encodeOpenResourceResponse,
  encodeResourceControlResponse,
} from '../../protocol/dcerpc/clusapi-ndr.js'
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE, type IpAddrInfo, type ResourceChangeRecord } from '../../protocol/swn/message-buffer.js'
import type { RegistrationFilter } from '../../core/witness/witness-core.js'
import { ClusterResources, type ResourceChange } from '../../core/clusapi/cluster-resources.js'
import type { CallOutcome, RpcInterface } from './rpc-connection.js'
import type { WitnessHost } from '../swn/witness-host.js'

export interface ClusapiRpcOptions {
  readonly resources: ClusterResources
  readonly witness: WitnessHost
  /** True for the principal that may change resource states (the cluster's admin). */
  readonly isAdmin: (principal: string) => boolean
  readonly log: (event: string, fields: Record<string, unknown>) => void
  /** Hands the same forced response to the other nodes' witness hosts (best effort, asynchronous). */
  readonly fanOut?: (forced: ForcedNotification) => void
}

/** A filter and a forced AsyncNotify response, as `swlab witness force-response` gives one. */
export interface ForcedNotification {
  readonly filter: RegistrationFilter
  readonly response: { readonly result: number; readonly messageType: number; readonly resourceChanges?: ResourceChangeRecord[]; readonly ipAddresses?: IpAddrInfo[] }
}

/** A regex matching exactly text, in any letter case (the witness filters are case-sensitive regexes). */
export function exactAnyCase(text: string): string {
  const escaped = [...text].map((c) => (/[a-zA-Z]/.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')))
  return `^${escaped.join('')}$`
}

export function clusapiRpcInterface(opts: ClusapiRpcOptions): RpcInterface {
  const { resources } = opts
  return {
    name: 'clusapi',
    uuid: CLUSAPI_INTERFACE.uuid,
    versionMajor: CLUSAPI_INTERFACE.version.major,
    versionMinor: CLUSAPI_INTERFACE.version.minor,
    call(opnum, stub, reply: (outcome: CallOutcome) => void, caller) {
      const answer = (outcome: CallOutcome): (() => void) => {
        reply(outcome)
        return () => undefined
      }
      if (caller.authLevel < AUTH_LEVEL.PKT_PRIVACY || caller.principal === null) {
        opts.log('dcerpc.clusapi.refused', { opnum, reason: `auth level ${caller.authLevel} below packet privacy`, principal: caller.principal })
        return answer({ fault: FAULT.ACCESS_DENIED })
      }
      const principal = caller.principal
      const decoded = decodeClusapiRequest(opnum, stub)
      if (!decoded.ok) {
        opts.log('dcerpc.clusapi.refused', { opnum, reason: decoded.reason })
        return answer({ fault: decoded.fault === 'op-range' ? FAULT.OP_RNG_ERROR : FAULT.NDR })
      }
      const request = decoded.request
      switch (request.op) {
        case 'OpenCluster': {
          const opened = resources.openCluster(principal, randomUUID())
          return answer({ stub: encodeOpenClusterResponse(opened.status, opened.handle === null ? NULL_CONTEXT_HANDLE : { attributes: 0, uuid: opened.handle }) })
        }
        case 'OpenResource': {
          const opened = resources.openResource(principal, request.name, randomUUID())
          opts.log('clusapi.open', { principal, resource: request.name, status: opened.status })
          return answer({ stub: encodeOpenResourceResponse(opened.status, opened.handle === null ? NULL_CONTEXT_HANDLE : { attributes: 0, uuid: opened.handle }) })
        }
        case 'CloseCluster':
        case 'CloseResource': {
          const result = resources.close(principal, request.handle.uuid, request.op === 'CloseCluster' ? 'cluster' : 'resource')
          return answer({ stub: encodeCloseResponse(result === CLUSAPI_ERROR.SUCCESS ? NULL_CONTEXT_HANDLE : request.handle, result) })
        }
        case 'GetResourceState': {
          const s = resources.state(principal, request.handle.uuid)
          return answer({ stub: encodeGetResourceStateResponse(s.state, s.nodeName, s.groupName, s.result) })
        }
        case 'OnlineResource':
        case 'OfflineResource': {
          if (!opts.isAdmin(principal)) return answer({ stub: encodeResourceControlResponse(CLUSAPI_ERROR.ACCESS_DENIED) })
          const online = request.op === 'OnlineResource'
          const changed = resources.setOnline(principal, request.handle.uuid, online)
          if (changed.change !== null) announce(opts, changed.change)
          return answer({ stub: encodeResourceControlResponse(changed.result) })
        }
      }
    },
  }
}

/** The witness notifications of one resource state change, to the registrations this node holds and (fanOut) the others'. */
function announce(opts: ClusapiRpcOptions, change: ResourceChange): void {
  const { resource, online } = change
  let forced: ForcedNotification | null = null
  if (resource.kind === 'network-name') {
    forced = {
      filter: { netName: exactAnyCase(resource.name) },
      response: { result: 0, messageType: MESSAGE_TYPE.RESOURCE_CHANGE, resourceChanges: [{ changeType: online ? RESOURCE_STATE.AVAILABLE : RESOURCE_STATE.UNAVAILABLE, resourceName: resource.name }] },
    }
  } else if (resource.kind === 'ip-address' && resource.ipAddress !== undefined) {
    forced = {
      filter: { ipAddress: exactAnyCase(resource.ipAddress) },
      response: { result: 0, messageType: MESSAGE_TYPE.IP_CHANGE, ipAddresses: [{ flags: IPADDR_FLAGS.V4 | (online ? IPADDR_FLAGS.ONLINE : IPADDR_FLAGS.OFFLINE), ipv4: resource.ipAddress, ipv6: '' }] },
    }
  }
  if (forced === null) {
    opts.log('clusapi.resource.state', { resource: resource.name, kind: resource.kind, online, notified: 0 })
    return
  }
  const notice = forced
  const result = opts.witness.administer((core, nowMs) => core.forceResponse(notice.filter, { ...notice.response, resourceChanges: notice.response.resourceChanges, ipAddresses: notice.response.ipAddresses }, nowMs))
  opts.fanOut?.(notice)
  opts.log('clusapi.resource.state', { resource: resource.name, kind: resource.kind, online, notified: result.ok ? result.affected : 0, error: result.ok ? undefined : result.error })
}
