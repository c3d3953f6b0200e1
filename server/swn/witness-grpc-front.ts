// The gRPC front of the witness host: authenticates each call, turns it into a witness call
// for the host, and maps the host's replies and refusals onto the gRPC wire types.
import * as grpc from '@grpc/grpc-js'
import { authenticate, type ClusterCredentials, type Principal } from '../../cluster/credentials.js'
import type { AsyncNotifyReply } from '../../proto/gen/swlab/witness/v1/AsyncNotifyReply.js'
import type { ContextHandle__Output } from '../../proto/gen/swlab/witness/v1/ContextHandle.js'
import type { GetInterfaceListReply } from '../../proto/gen/swlab/witness/v1/GetInterfaceListReply.js'
import type { RegisterReply } from '../../proto/gen/swlab/witness/v1/RegisterReply.js'
import type { UnRegisterReply } from '../../proto/gen/swlab/witness/v1/UnRegisterReply.js'
import type { WitnessHandlers } from '../../proto/gen/swlab/witness/v1/Witness.js'
import { MESSAGE_TYPE_NAMES, RESOURCE_STATE_NAMES } from '../../protocol/swn/message-buffer.js'
import { winErrorName } from '../../protocol/swn/win-errors.js'
import { INTERFACE_STATE, type WitnessCall, type WitnessReply } from '../../protocol/swn/witness-calls.js'
import type { WitnessHost, WitnessRefusal } from './witness-host.js'

type Callback = (err: grpc.ServiceError | null, reply?: unknown) => void

const STATE_NAMES: Record<number, string> = {
  [INTERFACE_STATE.UNKNOWN]: 'UNKNOWN',
  [INTERFACE_STATE.AVAILABLE]: 'AVAILABLE',
  [INTERFACE_STATE.UNAVAILABLE]: 'UNAVAILABLE',
}

function refusalError(method: string, refusal: WitnessRefusal): grpc.ServiceError {
  return (
    refusal === 'unsupported'
      ? { code: grpc.status.UNIMPLEMENTED, details: `${method} is not part of this server's MS-SWN (op range error)` }
      : { code: grpc.status.UNAVAILABLE, details: 'this node is not serving (no quorum or lease)' }
  ) as grpc.ServiceError
}

/**
 * The service definition the front serves: the generated one, except that an AsyncNotify
 * reply may also be handed over already encoded. A fan-out gives thousands of registrations
 * the same notification; it is turned into its wire message and encoded once.
 */
export function witnessServiceDefinition(generated: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const asyncNotify = generated.AsyncNotify as grpc.MethodDefinition<unknown, unknown>
  const encode = asyncNotify.responseSerialize
  return {
    ...generated,
    AsyncNotify: { ...asyncNotify, responseSerialize: (reply: unknown) => (Buffer.isBuffer(reply) ? reply : encode(reply)) },
  }
}

export class WitnessGrpcFront {
  /** Encoded AsyncNotify replies by the core's (shared, immutable) payload and result; entries go with their payload. */
  private readonly encodedNotify = new WeakMap<object, Map<number, Buffer>>()

  constructor(
    private readonly host: WitnessHost,
    private readonly credentials: ClusterCredentials | null,
    /** The generated service's AsyncNotify encoder, for replies served through witnessServiceDefinition. */
    private readonly encodeAsyncNotify: ((reply: AsyncNotifyReply) => Buffer) | null = null,
  ) {}

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
    // A method the profile lacks is refused before the caller is even authenticated, as an
    // RPC op-range error would be.
    if (this.host.isUnsupported(method)) {
      callback(refusalError(method, 'unsupported'))
      return
    }
    const principal: Principal | null = authenticate(this.credentials, call.metadata)
    if (!principal) {
      callback({ code: grpc.status.UNAUTHENTICATED, details: 'witness calls need a cluster user (x-swlab-user, x-swlab-password)' } as grpc.ServiceError)
      return
    }
    const submitted = this.host.submit(principal.user, toCall(), (reply) => callback(null, this.wireReply(reply)))
    if (!submitted.ok) {
      callback(refusalError(method, submitted.refusal))
      return
    }
    call.on('cancelled', submitted.cancel)
  }

  private wireReply(reply: WitnessReply): unknown {
    if (reply.method !== 'AsyncNotify' || reply.notify === null || this.encodeAsyncNotify === null) return toWire(reply)
    let byResult = this.encodedNotify.get(reply.notify)
    if (!byResult) {
      byResult = new Map()
      this.encodedNotify.set(reply.notify, byResult)
    }
    let encoded = byResult.get(reply.result)
    if (!encoded) {
      encoded = this.encodeAsyncNotify(toWire(reply) as AsyncNotifyReply)
      byResult.set(reply.result, encoded)
    }
    return encoded
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
