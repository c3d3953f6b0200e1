// The cluster resources a node serves through MS-CMRP (clusapi), as a pure state machine: which
// resources exist (the core "Cluster Name", the scale-out file server's network name, and one IP
// address resource per node's client address), their online/offline state, and the context
// handles callers hold on them (HCLUSTER_RPC, HRES_RPC). Handle GUIDs come in as inputs.
//
// What a state change means for clients is the caller's business: online and offline return the
// change (which resource, now online or not), and the adapter turns it into witness notifications.
//
// Results are the Win32 errors Windows returns (MS-CMRP 3.1.4.2.9 ApiOpenResource: a name that
// is no resource is ERROR_RESOURCE_NOT_FOUND in Status with a NULL handle; a closed or foreign
// handle is ERROR_INVALID_HANDLE; taking an offline resource offline, or an online one online,
// is ERROR_SUCCESS with nothing to do).
import assert from 'node:assert/strict'
import { CLUSAPI_ERROR, CLUSTER_RESOURCE_STATE } from '../../protocol/dcerpc/clusapi-ndr.js'

export type ClusterResourceKind = 'cluster-name' | 'network-name' | 'ip-address'

export interface ClusterResourceModel {
  /** The scale-out file server's network name (the witness NetName). */
  readonly netName: string
  readonly nodes: readonly { readonly id: string; readonly clientAddress: string }[]
  /** The node serving these calls: it owns the name resources. */
  readonly selfId: string
}

export interface ClusterResourceView {
  readonly name: string
  readonly kind: ClusterResourceKind
  readonly online: boolean
  readonly ownerNode: string
  readonly group: string
  /** The address, for an IP address resource. */
  readonly ipAddress?: string
}

/** A state change the caller must announce. */
export interface ResourceChange {
  readonly resource: ClusterResourceView
  readonly online: boolean
}

/** The only name Windows gives the core cluster name resource, and what smbtorture's clusapi tests open. */
export const CLUSTER_NAME_RESOURCE = 'Cluster Name'
/** The group the core resources live in. */
export const CLUSTER_GROUP = 'Cluster Group'
/** Open handles a node keeps at most; an OpenResource beyond it fails with ERROR_NOT_ENOUGH_MEMORY. */
export const CLUSAPI_HANDLES_MAX = 4096
const ERROR_NOT_ENOUGH_MEMORY = 8

interface Resource {
  readonly name: string
  readonly kind: ClusterResourceKind
  online: boolean
  readonly ownerNode: string
  readonly group: string
  readonly ipAddress?: string
}

interface Handle {
  readonly kind: 'cluster' | 'resource'
  readonly principal: string
  readonly resource?: Resource
}

export class ClusterResources {
  private readonly resources: Resource[]
  private readonly handles = new Map<string, Handle>()

  constructor(model: ClusterResourceModel) {
    assert.ok(model.netName.length > 0, 'a network name')
    const self = model.selfId.toUpperCase()
    this.resources = [
      { name: CLUSTER_NAME_RESOURCE, kind: 'cluster-name', online: true, ownerNode: self, group: CLUSTER_GROUP },
      { name: model.netName, kind: 'network-name', online: true, ownerNode: self, group: model.netName },
      ...model.nodes.map(
        (n): Resource => ({ name: `IP Address ${n.clientAddress}`, kind: 'ip-address', online: true, ownerNode: n.id.toUpperCase(), group: model.netName, ipAddress: n.clientAddress }),
      ),
    ]
  }

  /** The resource a name opens: its name (any case), or for an IP resource also the bare address. */
  private find(name: string): Resource | undefined {
    const wanted = name.toLowerCase()
    return this.resources.find((r) => r.name.toLowerCase() === wanted || (r.ipAddress !== undefined && r.ipAddress === name))
  }

  list(): ClusterResourceView[] {
    return this.resources.map(view)
  }

  openCluster(principal: string, handleUuid: string): { status: number; handle: string | null } {
    return this.newHandle(handleUuid, { kind: 'cluster', principal })
  }

  openResource(principal: string, name: string, handleUuid: string): { status: number; handle: string | null } {
    const resource = this.find(name)
    if (resource === undefined) return { status: CLUSAPI_ERROR.RESOURCE_NOT_FOUND, handle: null }
    return this.newHandle(handleUuid, { kind: 'resource', principal, resource })
  }

  /** CloseCluster and CloseResource: the handle must be the caller's and of that kind. */
  close(principal: string, handleUuid: string, kind: 'cluster' | 'resource'): number {
    const h = this.handles.get(handleUuid.toLowerCase())
    if (h === undefined || h.principal !== principal || h.kind !== kind) return CLUSAPI_ERROR.INVALID_HANDLE
    this.handles.delete(handleUuid.toLowerCase())
    return CLUSAPI_ERROR.SUCCESS
  }

  state(principal: string, handleUuid: string): { result: number; state: number; nodeName: string; groupName: string } {
    const r = this.resourceOf(principal, handleUuid)
    if (r === undefined) return { result: CLUSAPI_ERROR.INVALID_HANDLE, state: 0xffffffff, nodeName: '', groupName: '' }
    return { result: CLUSAPI_ERROR.SUCCESS, state: r.online ? CLUSTER_RESOURCE_STATE.ONLINE : CLUSTER_RESOURCE_STATE.OFFLINE, nodeName: r.ownerNode, groupName: r.group }
  }

  /** OnlineResource (online true) or OfflineResource: the result, and the change to announce if the state moved. */
  setOnline(principal: string, handleUuid: string, online: boolean): { result: number; change: ResourceChange | null } {
    const r = this.resourceOf(principal, handleUuid)
    if (r === undefined) return { result: CLUSAPI_ERROR.INVALID_HANDLE, change: null }
    if (r.online === online) return { result: CLUSAPI_ERROR.SUCCESS, change: null }
    r.online = online
    return { result: CLUSAPI_ERROR.SUCCESS, change: { resource: view(r), online } }
  }

  openHandles(): number {
    return this.handles.size
  }

  private resourceOf(principal: string, handleUuid: string): Resource | undefined {
    const h = this.handles.get(handleUuid.toLowerCase())
    if (h === undefined || h.principal !== principal || h.kind !== 'resource') return undefined
    return h.resource
  }

  private newHandle(handleUuid: string, handle: Handle): { status: number; handle: string | null } {
    if (this.handles.size >= CLUSAPI_HANDLES_MAX) return { status: ERROR_NOT_ENOUGH_MEMORY, handle: null }
    const key = handleUuid.toLowerCase()
    assert.ok(!this.handles.has(key), 'a fresh handle GUID')
    this.handles.set(key, handle)
    return { status: CLUSAPI_ERROR.SUCCESS, handle: key }
  }
}

function view(r: Resource): ClusterResourceView {
  return { name: r.name, kind: r.kind, online: r.online, ownerNode: r.ownerNode, group: r.group, ...(r.ipAddress !== undefined ? { ipAddress: r.ipAddress } : {}) }
}
