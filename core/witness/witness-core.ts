// The witness core: MS-SWN's server abstract data model as a deterministic state machine.
// Calls, cancels, cluster snapshots, admin actions and clock ticks go in (each with the
// node's monotonic time); replies to calls and log events come out. Blocking calls
// (AsyncNotify, a GetInterfaceList with no witness interface available) are held as
// waiters and answered by a later input. It does no IO and reads no clock. Where Windows and
// Samba differ, it reads its profile's row of the table in witness-profiles.ts.
import assert from 'node:assert/strict'
import { ipFamily } from '../../protocol/ip-address.js'
import {
  encodeIpAddrInfoList,
  encodeResourceChanges,
  ipAddrInfoFor,
  IPADDR_FLAGS,
  MESSAGE_TYPE,
  RESOURCE_STATE,
  type IpAddrInfo,
  type ResourceChangeRecord,
} from '../../protocol/swn/message-buffer.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import {
  CLIENT_NAME_LENGTH_MAX,
  INTERFACE_FLAGS,
  INTERFACE_STATE,
  IP_ADDRESS_LENGTH_MAX,
  NET_NAME_LENGTH_MAX,
  SHARE_NAME_LENGTH_MAX,
  WITNESS_REGISTER_IP_NOTIFICATION,
  WITNESS_VERSION_1,
  WITNESS_VERSION_2,
  type NotifyPayload,
  type WitnessCall,
  type WitnessInterface,
  type WitnessReply,
} from '../../protocol/swn/witness-calls.js'
import { WITNESS_PROFILE_BEHAVIOUR, type WitnessProfile, type WitnessProfileBehaviour } from './witness-profiles.js'

export { SAMBA_FORCED_UNREGISTER_MS, WITNESS_PROFILES, type WitnessProfile } from './witness-profiles.js'

/** Bounds on what clients can make the server hold. */
export const REGISTRATIONS_MAX = 100_000
export const WAITERS_PER_REGISTRATION_MAX = 4
export const PENDING_CHANGES_MAX = 64
export const INTERFACE_LIST_WAITERS_MAX = 1024
export const SHARES_MAX = 4096

/** Windows drops a v2 registration that has had no AsyncNotify outstanding for 30 s. */
export const UNUSED_REGISTRATION_TIMEOUT_MS = 30_000

export interface WitnessCoreConfig {
  readonly nodeId: string
  /** The cluster's network name (ServerGlobalName), e.g. SOFS. */
  readonly serverGlobalName: string
  readonly profile: WitnessProfile
  /** The cluster's shares and the CSV each lives on (more come with addShare). */
  readonly shares: readonly WitnessShare[]
  /**
   * The longest this server holds the AsyncNotify of a RegisterEx registration, in seconds,
   * whatever KeepAliveTimeout the client asked for (a lower one stands; Register, version 1,
   * has no keep-alive and is not capped). Absent: the client's keep-alive, as MS-SWN says. Not
   * a Windows or Samba behaviour: a test knob, so that smbtorture's AsyncNotify_timeouts (keep-
   * alives of 100 and 120 s on every witness interface) runs in seconds; a timeout still comes
   * as ERROR_TIMEOUT, only sooner.
   */
  readonly keepAliveTimeoutMaxS?: number
}

/**
 * A share as the witness sees it: a scale-out share of the SOFS role (no role), or a share of a
 * general-use file server role, which has its own network name and address and is online on
 * the owner of its CSV only.
 */
export interface WitnessShare {
  readonly name: string
  readonly csv: string
  readonly role?: { readonly name: string; readonly address: string }
}

export interface ClusterNodeInfo {
  readonly id: string
  readonly clientAddresses: readonly string[]
  readonly up: boolean
}

export interface ClusterSnapshot {
  readonly nodes: readonly ClusterNodeInfo[]
  /** CSV name -> owner node id ('' while it moves). */
  readonly csvOwners: Readonly<Record<string, string>>
}

export type WitnessOutput =
  | { readonly kind: 'reply'; readonly callId: number; readonly reply: WitnessReply }
  | { readonly kind: 'event'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> }

/** Filters of the admin commands, as in Samba's `net witness`; regexes combine with AND. */
export interface RegistrationFilter {
  readonly registrationId?: string
  readonly netName?: string
  readonly shareName?: string
  readonly ipAddress?: string
  readonly clientComputerName?: string
  readonly applyToAll?: boolean
}

export interface RegistrationView {
  readonly registrationId: string
  readonly version: number
  readonly principal: string
  readonly netName: string
  readonly shareName: string
  readonly ipAddress: string
  readonly clientComputerName: string
  readonly ipNotification: boolean
  readonly keepAliveTimeoutS: number
  readonly asyncNotifyPending: boolean
  readonly pendingNotifications: number
  readonly createdMs: number
  readonly lastUseMs: number
}

export type AdminResult = { readonly ok: true; readonly affected: number } | { readonly ok: false; readonly error: string }

/** A move destination: every address of a node, or one address. */
export type MoveDestination = { readonly nodeId: string } | { readonly ip: string }

interface PendingChange {
  readonly resourceName: string
  readonly newState: number
}

interface Registration {
  readonly key: string
  /** Creation order: replies to one input go out in this order, as they did when delivery scanned every registration. */
  readonly seq: number
  readonly version: number
  readonly principal: string
  readonly netName: string
  readonly shareName: string | null
  readonly ipAddress: string
  readonly clientComputerName: string
  readonly ipNotification: boolean
  readonly shareNotification: boolean
  /** KeepAliveTimeout as the client sent it (RegisterEx; 0 for Register). */
  readonly keepAliveTimeoutS: number
  /** How long an AsyncNotify of this registration may wait, in ms; null: without limit. */
  readonly keepAliveMs: number | null
  readonly createdMs: number
  lastUseMs: number
  waiters: number[]
  pendingChanges: PendingChange[]
  pendingMove: IpAddrInfo[] | null
  pendingShareMove: IpAddrInfo[] | null
  pendingIpChange: IpAddrInfo[] | null
  forced: { result: number; notify: NotifyPayload | null } | null
  /** When the server deletes this registration after an UNAVAILABLE or a move (Samba); Infinity: never. */
  forcedUnregisterAtMs: number
}

type Invalid = { readonly result: number }

export class WitnessCore {
  private readonly registrations = new Map<string, Registration>()
  /**
   * Which registrations a view change touches, without scanning them all: by registered
   * address (sameIp's form), by lower-cased net name and share name, and those that want
   * IP_CHANGE. A node going down with n registrations costs O(affected), not O(n) per node.
   */
  private readonly index = new RegistrationIndex()
  /** Registrations given news by the current input: only they can have an AsyncNotify to answer. */
  private readonly newsFor = new Set<Registration>()
  private nextSeq = 0
  private interfaces: WitnessInterface[] = []
  private snapshot: ClusterSnapshot | null = null
  private readonly interfaceListWaiters: number[] = []
  private readonly callOwner = new Map<number, string>()
  /** While deliverAll runs: RESOURCE_CHANGE payloads by their records, shared by every registration that gets the same. */
  private payloads: Map<string, NotifyPayload> | null = null
  private out: WitnessOutput[] = []
  /** What the configured profile does where Windows and Samba differ. */
  private readonly behaviour: WitnessProfileBehaviour
  /** The shares, from the config and added since. */
  private readonly shares: WitnessShare[]

  constructor(readonly config: WitnessCoreConfig) {
    this.behaviour = WITNESS_PROFILE_BEHAVIOUR[config.profile]
    assert.ok(this.behaviour !== undefined, `unknown witness profile ${String(config.profile)}`)
    const maxS = config.keepAliveTimeoutMaxS
    assert.ok(maxS === undefined || (Number.isInteger(maxS) && maxS >= 0), `keepAliveTimeoutMaxS must be a whole number of seconds >= 0, not ${String(maxS)}`)
    this.shares = [...config.shares]
  }

  /** A share created at run time (`share create`); one of an existing name is ignored. */
  addShare(share: WitnessShare): void {
    if (this.shares.some((s) => s.name.toLowerCase() === share.name.toLowerCase())) return
    assert.ok(this.shares.length < SHARES_MAX, 'shares are bounded by the cluster config')
    this.shares.push(share)
  }

  // ---- inputs ----

  /** One MS-SWN call. newKey is a fresh UUID from the adapter, used if a registration is made. */
  call(callId: number, principal: string, call: WitnessCall, nowMs: number, newKey: string): WitnessOutput[] {
    this.out = []
    switch (call.method) {
      case 'GetInterfaceList':
        this.getInterfaceList(callId)
        break
      case 'Register':
      case 'RegisterEx':
        this.register(callId, principal, call, nowMs, newKey)
        break
      case 'UnRegister':
      case 'UnRegisterEx':
        this.unregister(callId, principal, call.method, call.key)
        break
      case 'AsyncNotify':
        this.asyncNotify(callId, principal, call.key, nowMs)
        break
    }
    return this.out
  }

  /** The client went away: forget its blocked call. */
  cancel(callId: number, nowMs: number): WitnessOutput[] {
    this.out = []
    const key = this.callOwner.get(callId)
    this.callOwner.delete(callId)
    if (key !== undefined) {
      const reg = this.registrations.get(key)
      if (reg) {
        reg.waiters = reg.waiters.filter((w) => w !== callId)
        reg.lastUseMs = nowMs
      }
    }
    const i = this.interfaceListWaiters.indexOf(callId)
    if (i >= 0) this.interfaceListWaiters.splice(i, 1)
    return this.out
  }

  /** A new committed cluster view: interfaces, node states and CSV owners. */
  cluster(snapshot: ClusterSnapshot, nowMs: number): WitnessOutput[] {
    this.out = []
    const before = this.snapshot
    this.snapshot = snapshot
    this.interfaces = this.buildInterfaces(snapshot)
    if (before) {
      for (const node of snapshot.nodes) {
        const was = before.nodes.find((n) => n.id === node.id)
        if (was && was.up !== node.up) this.nodeChanged(node, nowMs)
      }
      for (const share of this.shares) {
        // A general role's share moves with its role: its clients hear RESOURCE_CHANGE (below).
        if (share.role) continue
        const from = before.csvOwners[share.csv] ?? ''
        const to = snapshot.csvOwners[share.csv] ?? ''
        if (to !== '' && to !== from) this.shareMoved(share.name, to, nowMs)
      }
      for (const role of this.roles()) this.roleChanged(role, before, snapshot, nowMs)
    }
    this.maybeAnswerInterfaceList()
    this.deliverAll(nowMs)
    return this.out
  }

  /** Clock: keep-alive timeouts, unused registrations, Samba's forced unregister. */
  tick(nowMs: number): WitnessOutput[] {
    this.out = []
    // No copy of the registrations every tick: a Map may lose its current entry while iterated.
    for (const reg of this.registrations.values()) {
      if (reg.forcedUnregisterAtMs <= nowMs) {
        this.remove(reg, 'forced-unregister')
        continue
      }
      if (reg.waiters.length > 0) {
        this.timeOutIfDue(reg, nowMs)
      } else if (reg.version === WITNESS_VERSION_2 && nowMs > reg.lastUseMs + UNUSED_REGISTRATION_TIMEOUT_MS) {
        this.remove(reg, 'unused')
      }
    }
    return this.out
  }

  // ---- admin (in the spirit of Samba's `net witness`) ----

  list(filter: RegistrationFilter = { applyToAll: true }): RegistrationView[] | { error: string } {
    const matched = this.match(filter, false)
    if ('error' in matched) return matched
    return matched.map((r) => ({
      registrationId: r.key,
      version: r.version,
      principal: r.principal,
      netName: r.netName,
      shareName: r.shareName ?? '',
      ipAddress: r.ipAddress,
      clientComputerName: r.clientComputerName,
      ipNotification: r.ipNotification,
      keepAliveTimeoutS: r.keepAliveTimeoutS,
      asyncNotifyPending: r.waiters.length > 0,
      pendingNotifications:
        r.pendingChanges.length + Number(r.pendingMove !== null) + Number(r.pendingShareMove !== null) + Number(r.pendingIpChange !== null),
      createdMs: r.createdMs,
      lastUseMs: r.lastUseMs,
    }))
  }

  registrationCount(): number {
    return this.registrations.size
  }

  clientMove(filter: RegistrationFilter, destination: MoveDestination, nowMs: number): { result: AdminResult; outputs: WitnessOutput[] } {
    return this.adminMove(filter, destination, nowMs, false)
  }

  shareMove(filter: RegistrationFilter, destination: MoveDestination, nowMs: number): { result: AdminResult; outputs: WitnessOutput[] } {
    return this.adminMove(filter, destination, nowMs, true)
  }

  forceUnregister(filter: RegistrationFilter): { result: AdminResult; outputs: WitnessOutput[] } {
    this.out = []
    const matched = this.match(filter, true)
    if ('error' in matched) return { result: { ok: false, error: matched.error }, outputs: [] }
    for (const reg of matched) this.remove(reg, 'admin')
    return { result: { ok: true, affected: matched.length }, outputs: this.out }
  }

  /** Answers the next (or pending) AsyncNotify of the matched registrations with this response. */
  forceResponse(
    filter: RegistrationFilter,
    response: { result: number; messageType?: number; resourceChanges?: ResourceChangeRecord[]; ipAddresses?: IpAddrInfo[] },
    nowMs: number,
  ): { result: AdminResult; outputs: WitnessOutput[] } {
    this.out = []
    const matched = this.match(filter, true)
    if ('error' in matched) return { result: { ok: false, error: matched.error }, outputs: [] }
    let notify: NotifyPayload | null = null
    // The encoders refuse what MS-SWN cannot carry (unknown change types, empty or mixed
    // address lists); an admin's bad forced response is an error, not a crash.
    try {
      if (response.messageType === MESSAGE_TYPE.RESOURCE_CHANGE) notify = resourceChangePayload(response.resourceChanges ?? [])
      else if (response.messageType !== undefined && response.messageType >= 2 && response.messageType <= 4) {
        notify = ipListPayload(response.messageType, response.ipAddresses ?? [])
      } else if (response.messageType !== undefined) {
        return { result: { ok: false, error: `unknown message type ${response.messageType}` }, outputs: [] }
      }
    } catch (err) {
      return { result: { ok: false, error: `bad forced response: ${(err as Error).message}` }, outputs: [] }
    }
    for (const reg of matched) {
      reg.forced = { result: response.result, notify }
      this.newsFor.add(reg)
    }
    this.deliverAll(nowMs)
    return { result: { ok: true, affected: matched.length }, outputs: this.out }
  }

  // ---- calls ----

  private getInterfaceList(callId: number): void {
    if (this.interfaces.length === 0) {
      this.reply(callId, { method: 'GetInterfaceList', result: WIN_ERROR.NO_MORE_ITEMS, interfaces: [] })
      return
    }
    if (!this.behaviour.getInterfaceListBlocksWithoutWitnessInterface || this.witnessInterfaceAvailable()) {
      this.reply(callId, { method: 'GetInterfaceList', result: WIN_ERROR.SUCCESS, interfaces: this.interfaces })
      return
    }
    // Held until another node can be a witness (the profile table says who does this).
    if (this.interfaceListWaiters.length >= INTERFACE_LIST_WAITERS_MAX) {
      this.reply(callId, { method: 'GetInterfaceList', result: WIN_ERROR.NO_SYSTEM_RESOURCES, interfaces: [] })
      return
    }
    this.interfaceListWaiters.push(callId)
    this.event('witness.interfaces.blocked', { call: callId })
  }

  private register(
    callId: number,
    principal: string,
    call: Extract<WitnessCall, { method: 'Register' | 'RegisterEx' }>,
    nowMs: number,
    newKey: string,
  ): void {
    const refuse = (result: number) => {
      this.reply(callId, { method: call.method, result, key: '' })
      this.event('witness.register.refused', { method: call.method, result, client: call.clientComputerName ?? null })
    }
    const invalid = this.validateRegister(call)
    if (invalid) return refuse(invalid.result)
    if (this.registrations.size >= REGISTRATIONS_MAX) return refuse(WIN_ERROR.NO_SYSTEM_RESOURCES)
    assert.ok(!this.registrations.has(newKey), 'registration keys are unique')
    const ex = call.method === 'RegisterEx' ? call : null
    const reg: Registration = {
      key: newKey,
      seq: this.nextSeq++,
      version: call.version,
      principal,
      netName: call.netName as string,
      shareName: ex?.shareName ?? null,
      ipAddress: call.ipAddress as string,
      clientComputerName: call.clientComputerName as string,
      ipNotification: ex ? (ex.flags & WITNESS_REGISTER_IP_NOTIFICATION) !== 0 : false,
      shareNotification: ex ? ex.shareName !== undefined : false,
      keepAliveTimeoutS: ex ? ex.keepAliveTimeoutS : 0,
      keepAliveMs: ex ? this.keepAliveMsOf(ex.keepAliveTimeoutS) : null,
      createdMs: nowMs,
      lastUseMs: nowMs,
      waiters: [],
      pendingChanges: [],
      pendingMove: null,
      pendingShareMove: null,
      pendingIpChange: null,
      forced: null,
      forcedUnregisterAtMs: Infinity,
    }
    this.registrations.set(newKey, reg)
    this.index.add(reg)
    this.reply(callId, { method: call.method, result: WIN_ERROR.SUCCESS, key: newKey })
    this.event('witness.registered', {
      registration: newKey,
      method: call.method,
      client: reg.clientComputerName,
      ip: reg.ipAddress,
      share: reg.shareName,
    })
  }

  /** MS-SWN 3.1.4.2 / 3.1.4.5 checks, in the spec's order, with the spec's codes. */
  private validateRegister(call: Extract<WitnessCall, { method: 'Register' | 'RegisterEx' }>): Invalid | null {
    const expected = call.method === 'Register' ? WITNESS_VERSION_1 : WITNESS_VERSION_2
    if (call.version !== expected) return { result: WIN_ERROR.REVISION_MISMATCH }
    const { netName, ipAddress, clientComputerName } = call
    if (netName === undefined || ipAddress === undefined || clientComputerName === undefined) {
      return { result: WIN_ERROR.INVALID_PARAMETER }
    }
    const shareName = call.method === 'RegisterEx' ? call.shareName : undefined
    if (
      !cleanString(netName, NET_NAME_LENGTH_MAX) ||
      !cleanString(clientComputerName, CLIENT_NAME_LENGTH_MAX) ||
      !cleanString(ipAddress, IP_ADDRESS_LENGTH_MAX) ||
      (shareName !== undefined && !cleanString(shareName, SHARE_NAME_LENGTH_MAX))
    ) {
      return { result: WIN_ERROR.INVALID_PARAMETER }
    }
    if (this.roleNamed(netName)) {
      // A general-use file server role's name: its shares are not STYPE_CLUSTER_SOFS, so MS-SWN
      // 3.1.4.2 step 4 and 3.1.4.5's share check do not apply (WPTS expects SUCCESS for an
      // unknown IpAddress or ShareName there); its clients register with the role's own IP,
      // which is no witness interface.
      return null
    }
    if (!this.isOurNetName(netName)) return { result: WIN_ERROR.INVALID_PARAMETER }
    if (shareName !== undefined && !this.shares.some((s) => s.name.toLowerCase() === shareName.toLowerCase())) {
      // The SOFS name's shares are scale-out shares, so an unknown one is INVALID_STATE.
      return { result: WIN_ERROR.INVALID_STATE }
    }
    if (this.shares.some((s) => !s.role) && !this.interfaces.some((i) => sameIp(i.ipv4, ipAddress) || sameIp(i.ipv6, ipAddress))) {
      return { result: WIN_ERROR.INVALID_STATE }
    }
    return null
  }

  private isOurNetName(netName: string): boolean {
    return sameNetName(netName, this.config.serverGlobalName)
  }

  /** The general-use role this network name names, if any. */
  private roleNamed(netName: string): { readonly name: string; readonly address: string } | null {
    return this.roles().find((r) => sameNetName(netName, r.name)) ?? null
  }

  /** The general-use roles of the shares, each once, with the CSV whose owner is the role's owner. */
  private roles(): { readonly name: string; readonly address: string; readonly csv: string }[] {
    const byName = new Map<string, { name: string; address: string; csv: string }>()
    for (const s of this.shares) if (s.role && !byName.has(s.role.name.toLowerCase())) byName.set(s.role.name.toLowerCase(), { ...s.role, csv: s.csv })
    return [...byName.values()]
  }

  private unregister(callId: number, principal: string, method: 'UnRegister' | 'UnRegisterEx', key: string): void {
    const reg = this.registrations.get(key)
    if (!reg) {
      // The spec's INVALID_PARAMETER, except for the v1 call on some servers (see the profile table).
      const result = method === 'UnRegister' ? this.behaviour.unRegisterUnknownKeyResult : WIN_ERROR.INVALID_PARAMETER
      this.reply(callId, { method, result })
      return
    }
    if (reg.principal !== principal) {
      this.reply(callId, { method, result: WIN_ERROR.ACCESS_DENIED })
      return
    }
    this.reply(callId, { method, result: WIN_ERROR.SUCCESS })
    this.remove(reg, 'unregister')
  }

  private asyncNotify(callId: number, principal: string, key: string, nowMs: number): void {
    const reg = this.registrations.get(key)
    if (!reg) {
      this.reply(callId, { method: 'AsyncNotify', result: WIN_ERROR.NOT_FOUND, notify: null })
      return
    }
    if (reg.principal !== principal) {
      this.reply(callId, { method: 'AsyncNotify', result: WIN_ERROR.ACCESS_DENIED, notify: null })
      return
    }
    if (reg.waiters.length >= WAITERS_PER_REGISTRATION_MAX) {
      this.reply(callId, { method: 'AsyncNotify', result: WIN_ERROR.NO_SYSTEM_RESOURCES, notify: null })
      return
    }
    reg.lastUseMs = nowMs
    reg.waiters.push(callId)
    this.callOwner.set(callId, key)
    this.deliver(reg, nowMs)
    // Nothing to say: a keep-alive of 0 (on a profile where that times out at once) answers now,
    // not at the next tick.
    if (reg.waiters.includes(callId)) this.timeOutIfDue(reg, nowMs)
  }

  /**
   * The registration's keep-alive in ms, or null for none: Register (version 1) has none; a
   * KeepAliveTimeout of 0 is one of 0 ms or none, as the profile says; the configured maximum
   * shortens a longer one.
   */
  private keepAliveMsOf(keepAliveTimeoutS: number): number | null {
    const unlimited = keepAliveTimeoutS === 0 && this.behaviour.zeroKeepAliveTimeout === 'waits-without-limit'
    const maxS = this.config.keepAliveTimeoutMaxS
    if (maxS === undefined) return unlimited ? null : keepAliveTimeoutS * 1000
    return (unlimited ? maxS : Math.min(keepAliveTimeoutS, maxS)) * 1000
  }

  /** The oldest waiting AsyncNotify of reg fails with ERROR_TIMEOUT once its keep-alive has passed. */
  private timeOutIfDue(reg: Registration, nowMs: number): void {
    if (reg.keepAliveMs === null || reg.waiters.length === 0 || nowMs < reg.lastUseMs + reg.keepAliveMs) return
    const callId = reg.waiters.shift() as number
    this.callOwner.delete(callId)
    reg.lastUseMs = nowMs
    this.reply(callId, { method: 'AsyncNotify', result: WIN_ERROR.TIMEOUT, notify: null })
    this.event('witness.notify.timeout', { registration: reg.key, client: reg.clientComputerName })
  }

  // ---- events from the cluster ----

  /** Queues a RESOURCE_CHANGE for reg, named as the profile names it. */
  private queueChange(reg: Registration, newState: number): void {
    const resourceName = this.behaviour.resourceChangeNames === 'registered-ip-address' ? reg.ipAddress : reg.netName
    reg.pendingChanges.push({ resourceName, newState })
    if (reg.pendingChanges.length > PENDING_CHANGES_MAX) reg.pendingChanges = collapseChanges(reg.pendingChanges)
    this.newsFor.add(reg)
  }

  /**
   * A general-use role goes offline when its owner (the owner of its CSV) goes down or hands
   * the CSV over, and comes online on the next owner: MS-SWN 3.1.6.1 with the role's network
   * name and address as the resource. Its registrations (by the role's name or its address)
   * get RESOURCE_CHANGE UNAVAILABLE, then AVAILABLE; a move within one view gives both, in
   * that order. Node changes, CLIENT_MOVE and SHARE_MOVE are for the SOFS name's clients.
   */
  private roleChanged(role: { readonly name: string; readonly address: string; readonly csv: string }, before: ClusterSnapshot, after: ClusterSnapshot, nowMs: number): void {
    const from = onlineOwner(before, role.csv)
    const to = onlineOwner(after, role.csv)
    if (from === to) return
    const affected = this.index.affectedBy([role.address], role.name)
    for (const reg of affected) {
      if (from !== '') this.queueChange(reg, RESOURCE_STATE.UNAVAILABLE)
      if (to !== '') this.queueChange(reg, RESOURCE_STATE.AVAILABLE)
    }
    this.event('witness.role.changed', { role: role.name, from: from || null, to: to || null, registrations: affected.size, at: nowMs })
  }

  private nodeChanged(node: ClusterNodeInfo, nowMs: number): void {
    const newState = node.up ? RESOURCE_STATE.AVAILABLE : RESOURCE_STATE.UNAVAILABLE
    // Registered for one of the node's addresses, or for its group name (MS-SWN 3.1.4.5).
    for (const reg of this.index.affectedBy(node.clientAddresses, groupNameOf(node.id))) this.queueChange(reg, newState)
    // IP_CHANGE: v2 registrations that asked for IP notification, on servers that send it.
    if (this.behaviour.sendsIpChangeNotifications) {
      const flag = node.up ? IPADDR_FLAGS.ONLINE : IPADDR_FLAGS.OFFLINE
      const changed = node.clientAddresses.map((ip) => ipAddrInfoFor(ip, flag)).filter((x): x is IpAddrInfo => x !== null)
      for (const reg of this.index.wantingIpChange()) {
        const kept = (reg.pendingIpChange ?? []).filter((e) => !changed.some((c) => c.ipv4 === e.ipv4 && c.ipv6 === e.ipv6))
        reg.pendingIpChange = [...kept, ...changed]
        this.newsFor.add(reg)
      }
    }
    this.event('witness.node.changed', { changedNode: node.id, state: node.up ? 'AVAILABLE' : 'UNAVAILABLE', at: nowMs })
  }

  private shareMoved(share: string, toNode: string, nowMs: number): void {
    const list = this.destinationList({ nodeId: toNode })
    if (list.length === 0) return
    let count = 0
    for (const reg of this.index.forShare(share)) {
      if (!reg.shareNotification || reg.version !== WITNESS_VERSION_2) continue
      reg.pendingShareMove = list
      this.newsFor.add(reg)
      count++
    }
    this.event('witness.share.moved', { share, to: toNode, registrations: count, at: nowMs })
  }

  // ---- delivery ----

  /** Answers what the news of this input lets answer; registrations without news have nothing new to say. */
  private deliverAll(nowMs: number): void {
    if (this.newsFor.size === 0) return
    const touched = [...this.newsFor].sort((a, b) => a.seq - b.seq)
    this.newsFor.clear()
    // One notification payload per distinct change list in this step: a node's death gives
    // thousands of registrations the same RESOURCE_CHANGE, encoded once.
    this.payloads = new Map()
    try {
      for (const reg of touched) if (this.registrations.get(reg.key) === reg) this.deliver(reg, nowMs)
    } finally {
      this.payloads = null
    }
  }

  /** Answers the oldest waiting AsyncNotify of reg with the first kind of news pending. */
  private deliver(reg: Registration, nowMs: number): void {
    while (reg.waiters.length > 0) {
      const next = this.takeNotification(reg)
      if (!next) return
      const callId = reg.waiters.shift() as number
      this.callOwner.delete(callId)
      reg.lastUseMs = nowMs
      this.reply(callId, { method: 'AsyncNotify', result: next.result, notify: next.notify })
      this.event('witness.notify.sent', {
        registration: reg.key,
        client: reg.clientComputerName,
        type: next.notify?.messageType ?? null,
        messages: next.notify?.numberOfMessages ?? 0,
        result: next.result,
      })
      const forcedUnregisterMs = this.behaviour.forcedUnregisterAfterDeliveryMs
      if (forcedUnregisterMs !== null && next.notify && next.endsRegistration) {
        reg.forcedUnregisterAtMs = Math.min(reg.forcedUnregisterAtMs, nowMs + forcedUnregisterMs)
      }
    }
  }

  /**
   * The next notification of reg, if any. endsRegistration: it is an UNAVAILABLE change or a
   * move, after which a profile with a forced unregister deletes the registration.
   */
  private takeNotification(reg: Registration): { result: number; notify: NotifyPayload | null; endsRegistration: boolean } | null {
    if (reg.forced) {
      const forced = reg.forced
      reg.forced = null
      return { ...forced, endsRegistration: false }
    }
    if (reg.pendingChanges.length > 0) {
      const records = reg.pendingChanges.map((c) => ({
        changeType: c.newState === RESOURCE_STATE.UNAVAILABLE ? RESOURCE_STATE.UNAVAILABLE : RESOURCE_STATE.AVAILABLE,
        resourceName: c.resourceName,
      }))
      reg.pendingChanges = []
      const unavailable = records.some((r) => r.changeType !== RESOURCE_STATE.AVAILABLE)
      return { result: WIN_ERROR.SUCCESS, notify: this.sharedPayload(records), endsRegistration: unavailable }
    }
    if (reg.pendingMove) {
      const list = reg.pendingMove
      reg.pendingMove = null
      return { result: WIN_ERROR.SUCCESS, notify: ipListPayload(MESSAGE_TYPE.CLIENT_MOVE, list), endsRegistration: true }
    }
    if (reg.pendingShareMove) {
      const list = reg.pendingShareMove
      reg.pendingShareMove = null
      return { result: WIN_ERROR.SUCCESS, notify: ipListPayload(MESSAGE_TYPE.SHARE_MOVE, list), endsRegistration: true }
    }
    if (reg.pendingIpChange) {
      const list = reg.pendingIpChange
      reg.pendingIpChange = null
      return { result: WIN_ERROR.SUCCESS, notify: ipListPayload(MESSAGE_TYPE.IP_CHANGE, list), endsRegistration: false }
    }
    return null
  }

  private sharedPayload(records: readonly ResourceChangeRecord[]): NotifyPayload {
    if (!this.payloads) return resourceChangePayload(records)
    const id = records.map((r) => `${r.changeType}:${r.resourceName}`).join('\u0000')
    let payload = this.payloads.get(id)
    if (!payload) {
      payload = resourceChangePayload(records)
      this.payloads.set(id, payload)
    }
    return payload
  }

  private adminMove(
    filter: RegistrationFilter,
    destination: MoveDestination,
    nowMs: number,
    share: boolean,
  ): { result: AdminResult; outputs: WitnessOutput[] } {
    this.out = []
    const list = this.destinationList(destination)
    if (list.length === 0) return { result: { ok: false, error: `unknown destination ${JSON.stringify(destination)}` }, outputs: [] }
    const matched = this.match(filter, true)
    if ('error' in matched) return { result: { ok: false, error: matched.error }, outputs: [] }
    let affected = 0
    for (const reg of matched) {
      // A general role is online on one node: there is no other node to move its clients to.
      if (this.roleNamed(reg.netName)) continue
      if (share) {
        // Only registrations that named a share get share moves.
        if (reg.shareName === null || reg.version !== WITNESS_VERSION_2) continue
        reg.pendingShareMove = list
      } else {
        reg.pendingMove = list
      }
      this.newsFor.add(reg)
      affected++
    }
    this.event(share ? 'witness.share-move' : 'witness.client-move', { destination, registrations: affected })
    this.deliverAll(nowMs)
    return { result: { ok: true, affected }, outputs: this.out }
  }

  /**
   * The IPADDR_INFO list of a destination: the address family flag, plus ONLINE or OFFLINE
   * from the interface state on a profile that adds them.
   */
  private destinationList(destination: MoveDestination): IpAddrInfo[] {
    const interfaces =
      'nodeId' in destination
        ? this.interfaces.filter((i) => i.nodeId === destination.nodeId)
        : this.interfaces.filter((i) => sameIp(i.ipv4, destination.ip) || sameIp(i.ipv6, destination.ip))
    return interfaces
      .map((i) => {
        const extra = this.behaviour.moveAddressesCarryOnlineState
          ? i.state === INTERFACE_STATE.AVAILABLE
            ? IPADDR_FLAGS.ONLINE
            : IPADDR_FLAGS.OFFLINE
          : 0
        return ipAddrInfoFor(i.ipv4 || i.ipv6, extra)
      })
      .filter((x): x is IpAddrInfo => x !== null)
  }

  // ---- helpers ----

  private buildInterfaces(snapshot: ClusterSnapshot): WitnessInterface[] {
    const version = this.behaviour.interfaceInfoVersion
    const list: WitnessInterface[] = []
    for (const node of snapshot.nodes) {
      for (const ip of node.clientAddresses) {
        const family = ipFamily(ip)
        if (family === 0) continue
        const local = node.id === this.config.nodeId
        list.push({
          interfaceGroupName: groupNameOf(node.id),
          version,
          state: node.up ? INTERFACE_STATE.AVAILABLE : INTERFACE_STATE.UNAVAILABLE,
          ipv4: family === 4 ? ip : '',
          ipv6: family === 6 ? ip : '',
          flags: (family === 4 ? INTERFACE_FLAGS.IPV4 : INTERFACE_FLAGS.IPV6) | (local ? 0 : INTERFACE_FLAGS.INTERFACE_WITNESS),
          nodeId: node.id,
        })
      }
    }
    return list
  }

  private witnessInterfaceAvailable(): boolean {
    return this.interfaces.some((i) => i.state === INTERFACE_STATE.AVAILABLE && (i.flags & INTERFACE_FLAGS.INTERFACE_WITNESS) !== 0)
  }

  private maybeAnswerInterfaceList(): void {
    if (this.interfaceListWaiters.length === 0 || !this.witnessInterfaceAvailable()) return
    for (const callId of this.interfaceListWaiters.splice(0)) {
      this.reply(callId, { method: 'GetInterfaceList', result: WIN_ERROR.SUCCESS, interfaces: this.interfaces })
    }
  }

  private match(filter: RegistrationFilter, needsSelection: boolean): Registration[] | { error: string } {
    const hasFilter =
      filter.registrationId !== undefined ||
      filter.netName !== undefined ||
      filter.shareName !== undefined ||
      filter.ipAddress !== undefined ||
      filter.clientComputerName !== undefined
    if (filter.applyToAll && hasFilter) return { error: 'apply-to-all cannot be combined with filters' }
    if (needsSelection && !filter.applyToAll && !hasFilter) return { error: 'give filters or apply-to-all' }
    const regexes: Array<[RegExp, (r: Registration) => string]> = []
    const fields: Array<[string | undefined, (r: Registration) => string]> = [
      [filter.netName, (r) => r.netName],
      [filter.shareName, (r) => r.shareName ?? ''],
      [filter.ipAddress, (r) => r.ipAddress],
      [filter.clientComputerName, (r) => r.clientComputerName],
    ]
    for (const [pattern, field] of fields) {
      if (pattern === undefined) continue
      try {
        regexes.push([new RegExp(pattern), field])
      } catch (err) {
        return { error: `bad regex ${JSON.stringify(pattern)}: ${(err as Error).message}` }
      }
    }
    return [...this.registrations.values()].filter(
      (r) =>
        (filter.registrationId === undefined || r.key === filter.registrationId.toLowerCase()) &&
        regexes.every(([re, field]) => re.test(field(r))),
    )
  }

  private remove(reg: Registration, reason: string): void {
    this.registrations.delete(reg.key)
    this.index.delete(reg)
    this.newsFor.delete(reg)
    // Blocked AsyncNotify calls learn that the registration is gone.
    for (const callId of reg.waiters) {
      this.callOwner.delete(callId)
      this.reply(callId, { method: 'AsyncNotify', result: WIN_ERROR.NOT_FOUND, notify: null })
    }
    reg.waiters = []
    this.event('witness.unregistered', { registration: reg.key, client: reg.clientComputerName, reason })
  }

  private reply(callId: number, reply: WitnessReply): void {
    this.out.push({ kind: 'reply', callId, reply })
  }

  private event(event: string, fields: Record<string, unknown>): void {
    this.out.push({ kind: 'event', event, fields })
  }
}

/** The node owning csv while that node is up, else ''. */
function onlineOwner(snapshot: ClusterSnapshot, csv: string): string {
  const owner = snapshot.csvOwners[csv] ?? ''
  return owner !== '' && snapshot.nodes.some((n) => n.id === owner && n.up) ? owner : ''
}

/** A network name as registered: the name itself, or a DNS name whose first label it is (as in Samba and Windows). */
function sameNetName(registered: string, ours: string): boolean {
  const name = registered.toLowerCase()
  const own = ours.toLowerCase()
  return name === own || name.split('.')[0] === own
}

export function groupNameOf(nodeId: string): string {
  return nodeId.toUpperCase()
}

function resourceChangePayload(records: readonly ResourceChangeRecord[]): NotifyPayload {
  const buffer = encodeResourceChanges(records)
  return { messageType: MESSAGE_TYPE.RESOURCE_CHANGE, numberOfMessages: records.length, buffer, resourceChanges: records, ipAddresses: [] }
}

function ipListPayload(messageType: number, list: readonly IpAddrInfo[]): NotifyPayload {
  // Move and IP-change replies carry one IPADDR_INFO_LIST: NumberOfMessages is 1.
  return { messageType, numberOfMessages: 1, buffer: encodeIpAddrInfoList(list), resourceChanges: [], ipAddresses: list }
}

/** Keeps the newest state per resource when a client has not listened for a long time. */
function collapseChanges(changes: readonly PendingChange[]): PendingChange[] {
  const last = new Map<string, PendingChange>()
  for (const c of changes) {
    last.delete(c.resourceName)
    last.set(c.resourceName, c)
  }
  return [...last.values()].slice(-PENDING_CHANGES_MAX)
}

/** Non-empty, within its length limit, and free of NUL, control and unpaired-surrogate characters. */
export function cleanString(value: string, lengthMax: number): boolean {
  if (value.length === 0 || value.length > lengthMax) return false
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\ufffd]/.test(value)) return false
  // An unpaired surrogate cannot be encoded as UTF-8 (or UTF-16 on the real wire).
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value)
}

function sameIp(a: string, b: string): boolean {
  if (a === '' || b === '') return false
  if (a === b) return true
  return ipFamily(a) === 6 && ipFamily(b) === 6 && a.toLowerCase() === b.toLowerCase()
}

/** The registrations by what a view change looks them up by; kept in step with the registration map. */
class RegistrationIndex {
  private readonly byIp = new Map<string, Set<Registration>>()
  private readonly byNetName = new Map<string, Set<Registration>>()
  private readonly byShare = new Map<string, Set<Registration>>()
  private readonly ipChange = new Set<Registration>()

  add(reg: Registration): void {
    addTo(this.byIp, ipKey(reg.ipAddress), reg)
    addTo(this.byNetName, reg.netName.toLowerCase(), reg)
    if (reg.shareName !== null) addTo(this.byShare, reg.shareName.toLowerCase(), reg)
    if (reg.ipNotification && reg.version === WITNESS_VERSION_2) this.ipChange.add(reg)
  }

  delete(reg: Registration): void {
    deleteFrom(this.byIp, ipKey(reg.ipAddress), reg)
    deleteFrom(this.byNetName, reg.netName.toLowerCase(), reg)
    if (reg.shareName !== null) deleteFrom(this.byShare, reg.shareName.toLowerCase(), reg)
    this.ipChange.delete(reg)
  }

  /** Registered for one of these addresses or for this group name; each once. */
  affectedBy(addresses: readonly string[], groupName: string): Set<Registration> {
    const found = new Set<Registration>()
    for (const ip of addresses) {
      if (ip === '') continue
      for (const reg of this.byIp.get(ipKey(ip)) ?? []) found.add(reg)
    }
    for (const reg of this.byNetName.get(groupName.toLowerCase()) ?? []) found.add(reg)
    return found
  }

  forShare(share: string): ReadonlySet<Registration> {
    return this.byShare.get(share.toLowerCase()) ?? new Set()
  }

  wantingIpChange(): ReadonlySet<Registration> {
    return this.ipChange
  }
}

/** The form in which sameIp compares: IPv6 ignoring case, anything else as written. */
function ipKey(ip: string): string {
  return ipFamily(ip) === 6 ? ip.toLowerCase() : ip
}

function addTo<K>(map: Map<K, Set<Registration>>, key: K, reg: Registration): void {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(reg)
}

function deleteFrom<K>(map: Map<K, Set<Registration>>, key: K, reg: Registration): void {
  const set = map.get(key)
  if (!set) return
  set.delete(reg)
  if (set.size === 0) map.delete(key)
}
