// Whose MS-SWN behaviour the witness service follows: one row per server profile, one named
// field per place where Windows Server 2012, Windows Server 2012 R2 (and later) and Samba's
// witness service differ from each other or from the spec. The witness core reads this table
// and never branches on a profile's name, so adding a profile is adding a row.
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import { WITNESS_UNSPECIFIED_VERSION, WITNESS_VERSION_1, WITNESS_VERSION_2, type WitnessCall } from '../../protocol/swn/witness-calls.js'

export type WitnessProfile = 'ws2012r2' | 'ws2012' | 'samba'

export const WITNESS_PROFILES: readonly WitnessProfile[] = ['ws2012r2', 'ws2012', 'samba']

/** Samba deletes a registration 5 s after delivering an UNAVAILABLE change or a move. */
export const SAMBA_FORCED_UNREGISTER_MS = 5_000

export interface WitnessProfileBehaviour {
  /**
   * WITNESS_INTERFACE_INFO.Version in GetInterfaceList replies. WS2012 answers
   * WITNESS_VERSION_1; WS2012 R2 to 2019 answer 0xFFFFFFFF (unspecified) whatever the spec
   * says; Samba answers WITNESS_VERSION_2.
   */
  readonly interfaceInfoVersion: number

  /**
   * Whether GetInterfaceList holds the call while no other node's interface can be a witness
   * (none AVAILABLE with INTERFACE_WITNESS). Windows does (WPTS's single-node cases expect the
   * call to block until one comes up); Samba never blocks and answers the list as it is.
   */
  readonly getInterfaceListBlocksWithoutWitnessInterface: boolean

  /**
   * WitnessrUnRegister (the version 1 call) of a key that is not registered. MS-SWN 3.1.4.3
   * says ERROR_INVALID_PARAMETER, which WS2012 R2 and later return; WS2012 and Samba return
   * ERROR_NOT_FOUND. WitnessrUnRegisterEx of an unknown key is ERROR_INVALID_PARAMETER on all.
   */
  readonly unRegisterUnknownKeyResult: number

  /**
   * What a RESOURCE_CHANGE names when a node goes down or comes back: Windows names the
   * NetName the client registered; Samba names the IP address the client registered.
   */
  readonly resourceChangeNames: 'registered-net-name' | 'registered-ip-address'

  /**
   * Whether version 2 registrations with WITNESS_REGISTER_IP_NOTIFICATION get IP_CHANGE
   * notifications when a node's addresses go online or offline. Windows sends them; Samba
   * never does.
   */
  readonly sendsIpChangeNotifications: boolean

  /**
   * Whether the IPADDR_INFO entries of CLIENT_MOVE and SHARE_MOVE carry IPADDR_ONLINE or
   * IPADDR_OFFLINE from the interface's state. Samba adds them; Windows sends only the
   * address family flag (WPTS expects exactly IPADDR_V4, from non-Windows servers too).
   */
  readonly moveAddressesCarryOnlineState: boolean

  /**
   * How long after delivering an UNAVAILABLE resource change, a CLIENT_MOVE or a SHARE_MOVE
   * the server deletes the registration itself, in ms; null: never. Samba does so after 5 s
   * (the client is expected to re-register with the new node); Windows keeps it.
   */
  readonly forcedUnregisterAfterDeliveryMs: number | null

  /**
   * What a RegisterEx KeepAliveTimeout of 0 means for the registration's AsyncNotify calls.
   * MS-SWN's AsyncNotify timer fails a pending call with ERROR_TIMEOUT once LastUseTime +
   * KeepAliveTime is past (MS-SWN 3.1.2 and 3.1.5, the timers): with 0 that is at once, and smbtorture's
   * AsyncNotify_timeouts (written against Windows; Samba's selftest skips rpc.witness) expects
   * WERR_TIMEOUT for 0 like for 1, 10, 100 and 120. Samba's rpcd_witness sets no end time when
   * the timeout is 0 (srv_witness_nt.c), so its AsyncNotify waits for news without limit.
   */
  readonly zeroKeepAliveTimeout: 'times-out-at-once' | 'waits-without-limit'

  /**
   * Witness methods this server does not have, answered as an RPC op-range error would be.
   * WS2012 has no RegisterEx (MS-SWN version 2); WitnessrUnRegisterEx exists only in the
   * current online spec, which neither WS2012 nor Samba implement.
   */
  readonly methodsAbsent: readonly WitnessCall['method'][]
}

export const WITNESS_PROFILE_BEHAVIOUR: Readonly<Record<WitnessProfile, WitnessProfileBehaviour>> = {
  ws2012r2: {
    interfaceInfoVersion: WITNESS_UNSPECIFIED_VERSION,
    getInterfaceListBlocksWithoutWitnessInterface: true,
    unRegisterUnknownKeyResult: WIN_ERROR.INVALID_PARAMETER,
    resourceChangeNames: 'registered-net-name',
    sendsIpChangeNotifications: true,
    moveAddressesCarryOnlineState: false,
    forcedUnregisterAfterDeliveryMs: null,
    zeroKeepAliveTimeout: 'times-out-at-once',
    methodsAbsent: [],
  },
  ws2012: {
    interfaceInfoVersion: WITNESS_VERSION_1,
    getInterfaceListBlocksWithoutWitnessInterface: true,
    unRegisterUnknownKeyResult: WIN_ERROR.NOT_FOUND,
    resourceChangeNames: 'registered-net-name',
    sendsIpChangeNotifications: true,
    moveAddressesCarryOnlineState: false,
    forcedUnregisterAfterDeliveryMs: null,
    // No RegisterEx: every registration is version 1, without a keep-alive.
    zeroKeepAliveTimeout: 'times-out-at-once',
    methodsAbsent: ['RegisterEx', 'UnRegisterEx'],
  },
  samba: {
    interfaceInfoVersion: WITNESS_VERSION_2,
    getInterfaceListBlocksWithoutWitnessInterface: false,
    unRegisterUnknownKeyResult: WIN_ERROR.NOT_FOUND,
    resourceChangeNames: 'registered-ip-address',
    sendsIpChangeNotifications: false,
    moveAddressesCarryOnlineState: true,
    forcedUnregisterAfterDeliveryMs: SAMBA_FORCED_UNREGISTER_MS,
    zeroKeepAliveTimeout: 'waits-without-limit',
    methodsAbsent: ['UnRegisterEx'],
  },
}

export function witnessProfileBehaviour(profile: WitnessProfile): WitnessProfileBehaviour {
  return WITNESS_PROFILE_BEHAVIOUR[profile]
}
