// What simulated clients and nodes say to each other. Each request is one exchange on a TCP
// connection: it is delayed (and reordered with other connections) but never lost; a cut
// link drops it, and a node that is gone answers with a refusal or a reset, as a kernel does.
import type { NodeId } from '../quorum/types.js'
import type { WitnessCall, WitnessReply } from '../../protocol/swn/witness-calls.js'

export type ClientId = string

export type ClientRequest =
  /** NEGOTIATE + SESSION_SETUP (+ PreviousSessionId) + TREE_CONNECT to the share, as one exchange. */
  | { readonly kind: 'smb-connect'; readonly share: string; readonly previousSessionId: string }
  /** CREATE of a persistent handle (DH2Q) on the session the client has on this node. */
  | { readonly kind: 'smb-open'; readonly handleId: number }
  /** DH2C of one persistent handle on the session the client has on this node. */
  | { readonly kind: 'smb-reclaim'; readonly handleId: number }
  /** One application write through a handle; `replay` when it is sent again (same MessageId). */
  | { readonly kind: 'smb-write'; readonly handleId: number; readonly writeId: number; readonly replay: boolean }
  /** LOGOFF: the client gives the session up. */
  | { readonly kind: 'smb-logoff' }
  | { readonly kind: 'witness-call'; readonly call: WitnessCall }

export type SmbStatus =
  | 'SUCCESS'
  /** The node has no quorum or lease: it serves nothing (MS-SMB2's NETWORK_NAME_DELETED). */
  | 'NOT_SERVING'
  /** The session the request rides on is not on this node (it restarted, or never had it). */
  | 'SESSION_DELETED'
  /** The share's CSV has no serving owner yet (a failover in progress). */
  | 'CSV_UNAVAILABLE'
  /** The handle is not open on this session: it was neither created nor reclaimed here. */
  | 'FILE_CLOSED'

export type NodeAnswer =
  | { readonly kind: 'smb'; readonly status: SmbStatus; readonly sessionId: string }
  | { readonly kind: 'witness-reply'; readonly reply: WitnessReply }
  /** The node has no quorum or lease: it answers no witness call (invariant 2). */
  | { readonly kind: 'witness-unavailable' }
  /** Nothing listens there: the node's process is gone. */
  | { readonly kind: 'refused' }
  /** The connection broke while the request was held: the node's process died. */
  | { readonly kind: 'reset' }

export interface ClientSend {
  readonly kind: 'send'
  /** Unique per client; the answer carries it back. */
  readonly requestId: number
  readonly to: NodeId
  readonly request: ClientRequest
}

/** A data session the client holds: lost with its node's process (the kernel resets it). */
export interface ClientSession {
  readonly node: NodeId
  readonly sessionId: string
}

export function describeRequest(request: ClientRequest): string {
  switch (request.kind) {
    case 'smb-connect':
      return `smb.connect share=${request.share}${request.previousSessionId ? ` previous=${request.previousSessionId}` : ''}`
    case 'smb-open':
      return `smb.open handle=${request.handleId}`
    case 'smb-reclaim':
      return `smb.reclaim handle=${request.handleId}`
    case 'smb-write':
      return `smb.write id=${request.writeId}${request.replay ? ' replay' : ''}`
    case 'smb-logoff':
      return 'smb.logoff'
    case 'witness-call':
      return describeWitnessCall(request.call)
  }
}

function describeWitnessCall(call: WitnessCall): string {
  switch (call.method) {
    case 'GetInterfaceList':
      return 'GetInterfaceList'
    case 'Register':
      return `Register net=${call.netName} ip=${call.ipAddress} client=${call.clientComputerName}`
    case 'RegisterEx':
      return `RegisterEx net=${call.netName} share=${call.shareName} ip=${call.ipAddress} client=${call.clientComputerName} flags=${call.flags} keepAlive=${call.keepAliveTimeoutS}s`
    case 'UnRegister':
    case 'UnRegisterEx':
    case 'AsyncNotify':
      return `${call.method} reg=${call.key}`
  }
}
