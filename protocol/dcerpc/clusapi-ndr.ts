// NDR20 stubs of the part of MS-CMRP (the failover cluster management API, clusapi v3.0) that
// moving a resource needs, as smbtorture's rpc.witness drives it (torture/rpc/witness.c and
// clusapi.c in Samba 4.17): ApiOpenCluster, ApiCloseCluster, ApiOpenResource, ApiCloseResource,
// ApiGetResourceState, ApiOnlineResource, ApiOfflineResource (MS-CMRP 3.1.4.2, opnums from the
// v3.0 interface table, checked against Samba's librpc/idl/clusapi.idl).
//
// Wire shapes (top-level pointers are [ref]; each parameter is marshalled whole, in order, and a
// function's return value comes last):
//   ApiOpenCluster      in: -                        out: Status u32, HCLUSTER (20)
//   ApiCloseCluster     in: HCLUSTER                 out: HCLUSTER (zeroed), result u32
//   ApiOpenResource     in: [string] LPCWSTR name    out: Status u32, rpc_status u32, HRES (20)
//   ApiCloseResource    in: HRES                     out: HRES (zeroed), result u32
//   ApiGetResourceState in: HRES                     out: State u32, [string] LPWSTR *NodeName (unique),
//                                                         [string] LPWSTR *GroupName (unique), rpc_status u32, result u32
//   ApiOnlineResource / ApiOfflineResource in: HRES  out: rpc_status u32, result u32
// Decoders face the network: they return typed results and never throw.
import { NdrReader, NdrWriter, ndrFailureReason, type NdrContextHandle } from './ndr-reader.js'

export const CLUSAPI_INTERFACE = { uuid: 'b97db8b2-4c63-11cf-bff6-08002be23f2f', version: { major: 3, minor: 0 } } as const

export const CLUSAPI_OPNUM = {
  OpenCluster: 0,
  CloseCluster: 1,
  OpenResource: 8,
  CloseResource: 11,
  GetResourceState: 12,
  OnlineResource: 17,
  OfflineResource: 18,
} as const

/** CLUSTER_RESOURCE_STATE (MS-CMRP 2.2.3.3). */
export const CLUSTER_RESOURCE_STATE = {
  INITIALIZING: 1,
  ONLINE: 2,
  OFFLINE: 3,
  FAILED: 4,
  PENDING: 128,
  ONLINE_PENDING: 129,
  OFFLINE_PENDING: 130,
} as const

/** The Win32 errors these calls return (MS-ERREF 2.2). */
export const CLUSAPI_ERROR = {
  SUCCESS: 0,
  ACCESS_DENIED: 5,
  INVALID_HANDLE: 6,
  IO_PENDING: 997,
  RESOURCE_NOT_FOUND: 5007,
} as const

/** Names longer than this (UTF-16 units) are refused as bad stub data: cluster names are short. */
const NAME_UNITS_MAX = 1024

export type ClusapiRequest =
  | { readonly op: 'OpenCluster' }
  | { readonly op: 'OpenResource'; readonly name: string }
  | { readonly op: 'CloseCluster' | 'CloseResource' | 'GetResourceState' | 'OnlineResource' | 'OfflineResource'; readonly handle: NdrContextHandle }

export type ClusapiDecodeResult = { readonly ok: true; readonly request: ClusapiRequest } | { readonly ok: false; readonly fault: 'op-range' | 'ndr'; readonly reason: string }

const HANDLE_OPS: Readonly<Record<number, 'CloseCluster' | 'CloseResource' | 'GetResourceState' | 'OnlineResource' | 'OfflineResource'>> = {
  [CLUSAPI_OPNUM.CloseCluster]: 'CloseCluster',
  [CLUSAPI_OPNUM.CloseResource]: 'CloseResource',
  [CLUSAPI_OPNUM.GetResourceState]: 'GetResourceState',
  [CLUSAPI_OPNUM.OnlineResource]: 'OnlineResource',
  [CLUSAPI_OPNUM.OfflineResource]: 'OfflineResource',
}

export function decodeClusapiRequest(opnum: number, stub: Uint8Array): ClusapiDecodeResult {
  if (!(stub instanceof Uint8Array)) return { ok: false, fault: 'ndr', reason: 'the stub is not a byte array' }
  try {
    const reader = new NdrReader(stub)
    if (opnum === CLUSAPI_OPNUM.OpenCluster) return { ok: true, request: { op: 'OpenCluster' } }
    if (opnum === CLUSAPI_OPNUM.OpenResource) {
      const name = reader.conformantVaryingString('lpszResourceName')
      if (name.length > NAME_UNITS_MAX) return { ok: false, fault: 'ndr', reason: `a resource name of ${name.length} units` }
      return { ok: true, request: { op: 'OpenResource', name } }
    }
    const op = HANDLE_OPS[opnum]
    if (op === undefined) return { ok: false, fault: 'op-range', reason: `opnum ${String(opnum)} is not a clusapi operation served here` }
    return { ok: true, request: { op, handle: reader.contextHandle('hResource') } }
  } catch (err) {
    return { ok: false, fault: 'ndr', reason: ndrFailureReason(err) }
  }
}

export const NULL_CONTEXT_HANDLE: NdrContextHandle = Object.freeze({ attributes: 0, uuid: '00000000-0000-0000-0000-000000000000' })

/** ApiOpenCluster's out-parameters. */
export function encodeOpenClusterResponse(status: number, handle: NdrContextHandle): Buffer {
  const w = new NdrWriter()
  w.u32(status, 'Status')
  w.contextHandle(handle, 'HCLUSTER')
  return w.finish()
}

/** ApiOpenResource's out-parameters. */
export function encodeOpenResourceResponse(status: number, handle: NdrContextHandle): Buffer {
  const w = new NdrWriter()
  w.u32(status, 'Status')
  w.u32(0, 'rpc_status')
  w.contextHandle(handle, 'hResource')
  return w.finish()
}

/** ApiCloseCluster and ApiCloseResource: the handle (zeroed once closed) and the result. */
export function encodeCloseResponse(handle: NdrContextHandle, result: number): Buffer {
  const w = new NdrWriter()
  w.contextHandle(handle, 'handle')
  w.u32(result, 'result')
  return w.finish()
}

/** ApiGetResourceState's out-parameters. */
export function encodeGetResourceStateResponse(state: number, nodeName: string, groupName: string, result: number): Buffer {
  const w = new NdrWriter()
  w.u32(state >>> 0, 'State')
  w.pointer(true, 'NodeName')
  w.conformantVaryingString(nodeName, 'NodeName')
  w.pointer(true, 'GroupName')
  w.conformantVaryingString(groupName, 'GroupName')
  w.u32(0, 'rpc_status')
  w.u32(result, 'result')
  return w.finish()
}

/** ApiOnlineResource and ApiOfflineResource: rpc_status and the result. */
export function encodeResourceControlResponse(result: number): Buffer {
  const w = new NdrWriter()
  w.u32(0, 'rpc_status')
  w.u32(result, 'result')
  return w.finish()
}

/** Requests, for tests and this project's own client. */
export function encodeOpenResourceRequest(name: string): Buffer {
  const w = new NdrWriter()
  w.conformantVaryingString(name, 'lpszResourceName')
  return w.finish()
}

export function encodeHandleRequest(handle: NdrContextHandle): Buffer {
  const w = new NdrWriter()
  w.contextHandle(handle, 'handle')
  return w.finish()
}
