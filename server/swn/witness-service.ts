// The gRPC front of the witness core: authenticates each call, turns it into a core call,
// holds blocked calls until the core answers them, and maps replies onto the wire types.
import * as grpc from '@grpc/grpc-js'
import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { authenticate, type ClusterCredentials, type Principal } from '../../cluster/credentials.js'
import type { AsyncNotifyReply } from '../../proto/gen/swlab/witness/v1/AsyncNotifyReply.js'
import type { ContextHandle__Output } from '../../proto/gen/swlab/witness/v1/ContextHandle.js'
import type { GetInterfaceListReply } from '../../proto/gen/swlab/witness/v1/GetInterfaceListReply.js'
import type { RegisterReply } from '../../proto/gen/swlab/witness/v1/RegisterReply.js'
import type { UnRegisterReply } from '../../proto/gen/swlab/witness/v1/UnRegisterReply.js'
import type { WitnessHandlers } from '../../proto/gen/swlab/witness/v1/Witness.js'
import { MESSAGE_TYPE_NAMES, RESOURCE_STATE_NAMES } from '../../protocol/swn/message-buffer.js'
import { winErrorName } from '../../protocol/swn/win-errors.js'
import { type WitnessCore, type WitnessOutput } from '../../core/witness/witness-core.js'
import { INTERFACE_STATE, type WitnessCall, type WitnessReply } from '../../protocol/swn/witness-calls.js'

type Callback = (err: grpc.ServiceError | null, reply?: unknown) => void
/** Where a core reply goes: a gRPC callback, or another front (DCE/RPC) sharing the core. */
type ReplySink = (reply: WitnessReply) => void

export interface WitnessServiceOptions {
  readonly core: WitnessCore
  readonly credentials: ClusterCredentials | null
  /** False while this node has no quorum or lease: then it answers no witness call. */
  readonly isServing: () => boolean
  readonly nowMs: () => number
  readonly log: Logger
  /** Methods this server's profile does not have (answered as an RPC op-range error would be). */
  readonly unsupported: ReadonlySet<string>
  /** Each witness event, besides its log line (metrics). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void
}

const STATE_NAMES: Record<number, string> = {
  [INTERFACE_STATE.UNKNOWN]: 'UNKNOWN',
  [INTERFACE_STATE.AVAILABLE]: 'AVAILABLE',
  [INTERFACE_STATE.UNAVAILABLE]: 'UNAVAILABLE',
}

export class WitnessService {
  private nextCallId = 1
  private readonly pending = new Map<number, ReplySink>()

  constructor(private readonly opts: WitnessServiceOptions) {}

  /** Feeds core outputs that came from elsewhere (cluster views, ticks, admin actions). */
  apply(outputs: readonly WitnessOutput[]): void {
    for (const out of outputs) {
      if (out.kind === 'event') {
        this.opts.log.info({ component: 'witness', event: out.event, ...out.fields })
        this.opts.onEvent?.(out.event, out.fields)
        continue
      }
      const sink = this.pending.get(out.callId)
      if (!sink) continue
      this.pending.delete(out.callId)
      sink(out.reply)
    }
  }

  /**
   * A call from another front of the same core (the DCE/RPC one): the same call ids, the same
   * registrations, the reply handed to `onReply` whenever the core gives it (an AsyncNotify
   * may wait). The caller checked that the node serves.
   */
  submit(user: string, call: WitnessCall, onReply: ReplySink): { cancel: () => void } {
    const callId = this.nextCallId++
    this.pending.set(callId, onReply)
    this.apply(this.opts.core.call(callId, user, call, this.opts.nowMs(), randomUUID()))
    return {
      cancel: () => {
        if (!this.pending.delete(callId)) return
        this.apply(this.opts.core.cancel(callId, this.opts.nowMs()))
      },
    }
  }

  pendingCalls(): number {
    return this.pending.size
  }

  handlers(): WitnessHandlers {
    const unary =
      (method: string, toCall: (request: never) => WitnessCall) =>
      (call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback): void =>
        this.handle(method, call, callback, () => toCall(call.request as never))
    return {
      GetInterfaceList: unary('GetInterfaceList', () => ({ method: 'GetInterfaceList' })),
      Register: unary('Register', (r: { version: number; netName?: string; ipAddress?: string; clientComputerName?: string }) => ({
        method: 'Register',
        version: r.version,
        netName: r.netName,
        ipAddress: r.ipAddress,
        clientComputerName: r.clientComputerName,
      })),
      RegisterEx: unary(
        'RegisterEx',
        (r: {
          version: number
          netName?: string
          shareName?: string
          ipAddress?: string
          clientComputerName?: string
          flags: number
          keepAliveTimeout: number
        }) => ({
          method: 'RegisterEx',
          version: r.version,
          netName: r.netName,
          shareName: r.shareName,
          ipAddress: r.ipAddress,
          clientComputerName: r.clientComputerName,
          flags: r.flags,
          keepAliveTimeoutS: r.keepAliveTimeout,
        }),
      ),
      UnRegister: unary('UnRegister', (r: { contextHandle: ContextHandle__Output | null }) => ({ method: 'UnRegister', key: keyOf(r.contextHandle) })),
      UnRegisterEx: unary('UnRegisterEx', (r: { contextHandle: ContextHandle__Output | null }) => ({ method: 'UnRegisterEx', key: keyOf(r.contextHandle) })),
      AsyncNotify: unary('AsyncNotify', (r: { contextHandle: ContextHandle__Output | null }) => ({ method: 'AsyncNotify', key: keyOf(r.contextHandle) })),
    } as unknown as WitnessHandlers
  }

  private handle(method: string, call: grpc.ServerUnaryCall<unknown, unknown>, callback: Callback, toCall: () => WitnessCall): void {
    if (this.opts.unsupported.has(method)) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not part of this server's MS-SWN (op range error)` } as grpc.ServiceError)
      return
    }
    const principal: Principal | null = authenticate(this.opts.credentials, call.metadata)
    if (!principal) {
      callback({ code: grpc.status.UNAUTHENTICATED, details: 'witness calls need a cluster user (x-swlab-user, x-swlab-password)' } as grpc.ServiceError)
      return
    }
    // A node without quorum or lease must not answer from stale state.
    if (!this.opts.isServing()) {
      callback({ code: grpc.status.UNAVAILABLE, details: 'this node is not serving (no quorum or lease)' } as grpc.ServiceError)
      return
    }
    const callId = this.nextCallId++
    this.pending.set(callId, (reply) => callback(null, toWire(reply)))
    call.on('cancelled', () => {
      if (!this.pending.delete(callId)) return
      this.apply(this.opts.core.cancel(callId, this.opts.nowMs()))
    })
    this.apply(this.opts.core.call(callId, principal.user, toCall(), this.opts.nowMs(), randomUUID()))
  }
}

function keyOf(handle: ContextHandle__Output | null): string {
  return (handle?.uuid ?? '').toLowerCase()
}

function result(code: number) {
  return { code, name: winErrorName(code) }
}

function toWire(reply: WitnessReply): GetInterfaceListReply | RegisterReply | UnRegisterReply | AsyncNotifyReply {
  switch (reply.method) {
    case 'GetInterfaceList':
      return {
        result: result(reply.result),
        interfaces: reply.interfaces.map((i) => ({
          interfaceGroupName: i.interfaceGroupName,
          version: i.version,
          state: i.state,
          stateName: STATE_NAMES[i.state] ?? 'UNKNOWN',
          ipv4: i.ipv4,
          ipv6: i.ipv6,
          flags: i.flags,
        })),
      }
    case 'Register':
    case 'RegisterEx':
      return { result: result(reply.result), contextHandle: { attributes: 0, uuid: reply.key } }
    case 'UnRegister':
    case 'UnRegisterEx':
      return { result: result(reply.result), contextHandle: { attributes: 0, uuid: '' } }
    case 'AsyncNotify': {
      const n = reply.notify
      return {
        result: result(reply.result),
        messageType: n?.messageType ?? 0,
        messageTypeName: n ? (MESSAGE_TYPE_NAMES[n.messageType] ?? '') : '',
        length: n?.buffer.length ?? 0,
        numberOfMessages: n?.numberOfMessages ?? 0,
        messageBuffer: n?.buffer ?? Buffer.alloc(0),
        resourceChanges: (n?.resourceChanges ?? []).map((r) => ({
          changeType: r.changeType,
          changeTypeName: RESOURCE_STATE_NAMES[r.changeType] ?? 'RESOURCE_STATE_UNKNOWN',
          resourceName: r.resourceName,
        })),
        ipAddresses: (n?.ipAddresses ?? []).map((a) => ({ flags: a.flags, ipv4: a.ipv4, ipv6: a.ipv6 })),
      }
    }
  }
}
