// A typed client of the witness service (the gRPC front of MS-SWN): every call, a decoded
// view of notification buffers, and a notification loop that re-issues AsyncNotify on
// ERROR_TIMEOUT as a v2 client does.
import * as grpc from '@grpc/grpc-js'
import { credentialMetadata, type Credential } from '../cluster/credentials.js'
import type { WitnessClient as GrpcWitnessClient } from '../proto/gen/swlab/witness/v1/Witness.js'
import type { AsyncNotifyReply__Output } from '../proto/gen/swlab/witness/v1/AsyncNotifyReply.js'
import type { InterfaceInfo__Output } from '../proto/gen/swlab/witness/v1/InterfaceInfo.js'
import { loadWitnessProto } from '../proto/loader.js'
import {
  decodeIpAddrInfoList,
  decodeResourceChanges,
  MESSAGE_TYPE,
  type IpAddrInfo,
  type ResourceChangeRecord,
} from '../protocol/swn/message-buffer.js'
import { WIN_ERROR, winErrorName } from '../protocol/swn/win-errors.js'
import { WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S, WITNESS_VERSION_1, WITNESS_VERSION_2 } from '../protocol/swn/witness-calls.js'


export interface WitnessResult {
  readonly code: number
  readonly name: string
}

export interface Notification {
  readonly result: WitnessResult
  readonly messageType: number
  readonly messageTypeName: string
  readonly numberOfMessages: number
  /** The exact MS-SWN MessageBuffer bytes. */
  readonly buffer: Buffer
  /** Decoded by this client from the bytes (not taken from the server's decoded view). */
  readonly resourceChanges: readonly ResourceChangeRecord[]
  readonly ipAddresses: readonly IpAddrInfo[]
  /** Set when the bytes did not decode. */
  readonly decodeError?: string
}

export interface RegisterArgs {
  readonly version?: number
  readonly netName?: string
  readonly ipAddress?: string
  readonly clientComputerName?: string
}

export interface RegisterExArgs extends RegisterArgs {
  readonly shareName?: string
  readonly flags?: number
  readonly keepAliveTimeoutS?: number
}

const DEFAULT_DEADLINE_MS = 10_000

export class WitnessClient {
  private readonly client: GrpcWitnessClient
  private readonly metadata: grpc.Metadata

  constructor(
    readonly target: string,
    credential: Credential | null,
    channelOptions: grpc.ChannelOptions = {},
  ) {
    const { Witness } = loadWitnessProto().swlab.witness.v1
    this.client = new Witness(target, grpc.credentials.createInsecure(), {
      ...channelOptions,
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 500,
      // No keepalive pings by default: a server may answer frequent idle pings with GOAWAY
      // (too_many_pings). A failover client that must notice a frozen witness node sets them.
    })
    this.metadata = credential ? credentialMetadata(credential) : new grpc.Metadata()
  }

  getInterfaceList(deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ result: WitnessResult; interfaces: InterfaceInfo__Output[] }> {
    return this.unary('GetInterfaceList', {}, deadlineMs).then((r) => ({
      result: r.result,
      interfaces: r.interfaces as InterfaceInfo__Output[],
    }))
  }

  register(args: RegisterArgs, deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ result: WitnessResult; key: string }> {
    return this.unary('Register', { version: args.version ?? WITNESS_VERSION_1, ...strings(args) }, deadlineMs).then(handleReply)
  }

  registerEx(args: RegisterExArgs, deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ result: WitnessResult; key: string }> {
    return this.unary(
      'RegisterEx',
      {
        version: args.version ?? WITNESS_VERSION_2,
        ...strings(args),
        ...(args.shareName !== undefined ? { shareName: args.shareName } : {}),
        flags: args.flags ?? 0,
        keepAliveTimeout: args.keepAliveTimeoutS ?? WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S,
      },
      deadlineMs,
    ).then(handleReply)
  }

  unRegister(key: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ result: WitnessResult }> {
    return this.unary('UnRegister', { contextHandle: { attributes: 0, uuid: key } }, deadlineMs).then((r) => ({ result: r.result }))
  }

  unRegisterEx(key: string, deadlineMs = DEFAULT_DEADLINE_MS): Promise<{ result: WitnessResult; key: string }> {
    return this.unary('UnRegisterEx', { contextHandle: { attributes: 0, uuid: key } }, deadlineMs).then(handleReply)
  }

  /** One AsyncNotify: resolves when the server has news, a timeout or an error for us. */
  asyncNotify(key: string, deadlineMs = 24 * 3600_000): Promise<Notification> {
    return this.unary('AsyncNotify', { contextHandle: { attributes: 0, uuid: key } }, deadlineMs).then((r) =>
      decodeNotification(r as unknown as AsyncNotifyReply__Output),
    )
  }

  /**
   * Keeps one AsyncNotify outstanding until stopped: a TIMEOUT is re-issued at once, every
   * other answer goes to onNotification, and a transport error ends the loop (the caller
   * decides whether to register elsewhere).
   */
  async notificationLoop(
    key: string,
    onNotification: (n: Notification) => void,
    signal: AbortSignal,
  ): Promise<{ stoppedBy: 'signal' | 'error' | 'result'; error?: grpc.ServiceError; result?: WitnessResult }> {
    while (!signal.aborted) {
      let n: Notification
      try {
        n = await this.asyncNotify(key)
      } catch (err) {
        if (signal.aborted) break
        return { stoppedBy: 'error', error: err as grpc.ServiceError }
      }
      if (n.result.code === WIN_ERROR.TIMEOUT) continue
      if (n.result.code !== WIN_ERROR.SUCCESS) return { stoppedBy: 'result', result: n.result }
      onNotification(n)
    }
    return { stoppedBy: 'signal' }
  }

  close(): void {
    this.client.close()
  }

  private unary(method: string, request: object, deadlineMs: number): Promise<Record<string, never> & { result: WitnessResult; [k: string]: unknown }> {
    const fn = (this.client as unknown as Record<string, Function>)[method].bind(this.client)
    return new Promise((resolve, reject) => {
      fn(request, this.metadata, { deadline: Date.now() + deadlineMs }, (err: grpc.ServiceError | null, reply: unknown) => {
        if (err) reject(err)
        else resolve(reply as never)
      })
    })
  }
}

function strings(args: RegisterArgs): Record<string, string> {
  const out: Record<string, string> = {}
  if (args.netName !== undefined) out.netName = args.netName
  if (args.ipAddress !== undefined) out.ipAddress = args.ipAddress
  if (args.clientComputerName !== undefined) out.clientComputerName = args.clientComputerName
  return out
}

function handleReply(r: { result: WitnessResult; [k: string]: unknown }): { result: WitnessResult; key: string } {
  const handle = r.contextHandle as { uuid?: string } | null | undefined
  return { result: r.result, key: handle?.uuid ?? '' }
}

/** Decodes a reply's MessageBuffer with this client's own decoder. */
export function decodeNotification(r: AsyncNotifyReply__Output): Notification {
  const buffer = Buffer.from(r.messageBuffer ?? [])
  const base = {
    result: r.result ?? { code: 0, name: winErrorName(0) },
    messageType: r.messageType,
    messageTypeName: r.messageTypeName,
    numberOfMessages: r.numberOfMessages,
    buffer,
  }
  if (buffer.length === 0) return { ...base, resourceChanges: [], ipAddresses: [] }
  if (r.messageType === MESSAGE_TYPE.RESOURCE_CHANGE) {
    const decoded = decodeResourceChanges(buffer, r.numberOfMessages)
    return decoded.ok
      ? { ...base, resourceChanges: decoded.value, ipAddresses: [] }
      : { ...base, resourceChanges: [], ipAddresses: [], decodeError: decoded.error }
  }
  const decoded = decodeIpAddrInfoList(buffer)
  return decoded.ok
    ? { ...base, resourceChanges: [], ipAddresses: decoded.value.entries }
    : { ...base, resourceChanges: [], ipAddresses: [], decodeError: decoded.error }
}
