// The calls and replies of the MS-SWN Witness interface (MS-SWN 3.1.4) as plain values, with
// the protocol's version numbers, flags and the client string limits. The gRPC and DCE/RPC
// fronts, the witness core and the witness clients all speak these.
import type { IpAddrInfo, ResourceChangeRecord } from './message-buffer.js'

export const WITNESS_VERSION_1 = 0x00010001
export const WITNESS_VERSION_2 = 0x00020000
export const WITNESS_UNSPECIFIED_VERSION = 0xffffffff

export const INTERFACE_STATE = { UNKNOWN: 0x0000, AVAILABLE: 0x0001, UNAVAILABLE: 0x00ff } as const
export const INTERFACE_FLAGS = { IPV4: 0x1, IPV6: 0x2, INTERFACE_WITNESS: 0x4 } as const
export const WITNESS_REGISTER_IP_NOTIFICATION = 0x1
/**
 * The RegisterEx KeepAliveTimeout Windows clients send, in seconds. Our clients send it too
 * unless told otherwise: 0 is no default, as it times out every AsyncNotify at once on Windows.
 */
export const WINDOWS_CLIENT_KEEP_ALIVE_TIMEOUT_S = 120

/**
 * Limits on client strings. The spec leaves them open (LPWSTR); these follow Windows: a DNS
 * name is at most 255 characters, a share name at most 80, an IP literal fits
 * INET6_ADDRSTRLEN (46 with its NUL).
 */
export const NET_NAME_LENGTH_MAX = 255
export const CLIENT_NAME_LENGTH_MAX = 255
export const SHARE_NAME_LENGTH_MAX = 80
export const IP_ADDRESS_LENGTH_MAX = 45

export interface WitnessInterface {
  readonly interfaceGroupName: string
  readonly version: number
  readonly state: number
  readonly ipv4: string
  readonly ipv6: string
  readonly flags: number
  readonly nodeId: string
}

export type WitnessCall =
  | { readonly method: 'GetInterfaceList' }
  | {
      readonly method: 'Register'
      readonly version: number
      readonly netName?: string
      readonly ipAddress?: string
      readonly clientComputerName?: string
    }
  | {
      readonly method: 'RegisterEx'
      readonly version: number
      readonly netName?: string
      readonly shareName?: string
      readonly ipAddress?: string
      readonly clientComputerName?: string
      readonly flags: number
      readonly keepAliveTimeoutS: number
    }
  | { readonly method: 'UnRegister' | 'UnRegisterEx' | 'AsyncNotify'; readonly key: string }

export interface NotifyPayload {
  readonly messageType: number
  readonly numberOfMessages: number
  readonly buffer: Buffer
  readonly resourceChanges: readonly ResourceChangeRecord[]
  readonly ipAddresses: readonly IpAddrInfo[]
}

export type WitnessReply =
  | { readonly method: 'GetInterfaceList'; readonly result: number; readonly interfaces: readonly WitnessInterface[] }
  | { readonly method: 'Register' | 'RegisterEx'; readonly result: number; readonly key: string }
  | { readonly method: 'UnRegister' | 'UnRegisterEx'; readonly result: number }
  | { readonly method: 'AsyncNotify'; readonly result: number; readonly notify: NotifyPayload | null }
