// The witness conformance suite: one case per applicable SWN case of Microsoft's protocol
// test suite (WindowsProtocolTestSuites, FileServer/ServerFailover/TestSuite/SWN), named
// after it, plus the spec's validation-order cases. It runs against any server that speaks
// the witness gRPC contract; cases that must break or move something need SUT hooks (a
// cluster folder), and are skipped without them.
import { setTimeout as sleep } from 'node:timers/promises'
import * as grpc from '@grpc/grpc-js'
import type { Credential } from '../../cluster/credentials.js'
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { WITNESS_VERSION_1, WITNESS_VERSION_2 } from '../../protocol/swn/witness-calls.js'
import { WIN_ERROR, winErrorName } from '../../protocol/swn/win-errors.js'
import { WitnessClient, type Notification } from '../witness-client.js'
import type { WitnessProfile } from '../../core/witness/witness-profiles.js'

/** The witness behaviour the suite expects of the server under test (the same names as the emulator's profiles). */
export type ServerProfile = WitnessProfile

/** Actions on the system under test, as WPTS's SUT control adapter offers them. */
export interface SutHooks {
  /** Hard-stops the node that hosts ip (never the target). */
  disableNode(nodeId: string): Promise<void>
  enableNode(nodeId: string): Promise<void>
  /** Move-SmbWitnessClient: move the client's registrations to a node. */
  moveWitnessClient(clientComputerName: string, toNodeId: string): Promise<void>
  /** Move the CSV behind a share to a node (MoveClusterResourceOwner). */
  moveShareOwner(shareName: string, toNodeId: string): Promise<void>
}

export interface WitnessTarget {
  /** host:port of the witness service under test. */
  readonly endpoint: string
  readonly credential: Credential
  /** A second principal, for the registration-ownership cases. */
  readonly otherCredential?: Credential
  /** The cluster's network name (ServerGlobalName). */
  readonly netName: string
  /** A continuously available scale-out share. */
  readonly shareName: string
  readonly profile: ServerProfile
  readonly hooks?: SutHooks
  /** KeepAliveTimeout of the timeout case, in seconds (WPTS uses 10). */
  readonly keepAliveTimeoutS?: number
}

export interface CaseResult {
  readonly name: string
  readonly result: 'pass' | 'fail' | 'skip'
  readonly detail?: string
  readonly durationMs: number
}

interface CaseContext {
  readonly target: WitnessTarget
  readonly client: WitnessClient
  /** The interface list as first read: ips by node group, and which are witness interfaces. */
  readonly interfaces: Awaited<ReturnType<WitnessClient['getInterfaceList']>>['interfaces']
  /** An AVAILABLE address of another node than the target (the client's "data node"). */
  readonly dataNodeIp: string
  readonly dataNodeGroup: string
  /** The target's own address. */
  readonly localIp: string
  readonly localGroup: string
  readonly clientName: string
}

export interface WitnessCase {
  readonly name: string
  readonly needsHooks?: boolean
  /** Cases that stop nodes run last. */
  readonly destructive?: boolean
  readonly profiles?: readonly ServerProfile[]
  run(ctx: CaseContext): Promise<void>
}

class CaseFailure extends Error {}

/** Thrown by a case that does not apply to the target's topology. */
class CaseSkipped extends Error {}

function expect(condition: boolean, detail: string): void {
  if (!condition) throw new CaseFailure(detail)
}

function expectCode(actual: { code: number }, expected: number, what: string): void {
  expect(actual.code === expected, `${what}: expected ${winErrorName(expected)}, got ${winErrorName(actual.code)}`)
}

async function registerV1(ctx: CaseContext, ip = ctx.dataNodeIp): Promise<string> {
  const r = await ctx.client.register({ netName: ctx.target.netName, ipAddress: ip, clientComputerName: ctx.clientName })
  expectCode(r.result, WIN_ERROR.SUCCESS, 'Register')
  return r.key
}

async function registerV2(ctx: CaseContext, extra: { shareName?: string; flags?: number; keepAliveTimeoutS?: number; ip?: string } = {}): Promise<string> {
  const r = await ctx.client.registerEx({
    netName: ctx.target.netName,
    ipAddress: extra.ip ?? ctx.dataNodeIp,
    clientComputerName: ctx.clientName,
    shareName: extra.shareName,
    flags: extra.flags ?? 0,
    keepAliveTimeoutS: extra.keepAliveTimeoutS ?? 120,
  })
  expectCode(r.result, WIN_ERROR.SUCCESS, 'RegisterEx')
  return r.key
}

/** Calls AsyncNotify until something other than TIMEOUT arrives (bounded). */
async function nextNotification(ctx: CaseContext, key: string, limitMs = 20_000): Promise<Notification> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const n = await ctx.client.asyncNotify(key, Math.max(1, deadline - Date.now()))
    if (n.result.code !== WIN_ERROR.TIMEOUT) return n
    expect(Date.now() < deadline, 'no notification in time')
  }
}

function expectIpList(n: Notification, type: number, what: string): void {
  expectCode(n.result, WIN_ERROR.SUCCESS, what)
  expect(n.messageType === type, `${what}: message type ${n.messageType}, expected ${type}`)
  expect(n.decodeError === undefined, `${what}: buffer does not decode: ${n.decodeError}`)
  expect(n.numberOfMessages === 1, `${what}: NumberOfMessages ${n.numberOfMessages}, expected 1`)
  // The list's own Length field equals the response's Length, and Reserved is 0.
  expect(n.buffer.readUInt32LE(0) === n.buffer.length, `${what}: list Length ${n.buffer.readUInt32LE(0)} != ${n.buffer.length}`)
  expect(n.buffer.readUInt32LE(4) === 0, `${what}: Reserved is not 0`)
  expect(n.ipAddresses.length >= 1, `${what}: no IP address`)
}

function moveFlags(profile: ServerProfile): number {
  // WPTS expects exactly IPADDR_V4 on moves; Samba adds IPADDR_ONLINE.
  return profile === 'samba' ? IPADDR_FLAGS.V4 | IPADDR_FLAGS.ONLINE : IPADDR_FLAGS.V4
}

const INVALID_NET_NAME = 'XXXXInvalid.contoso.comXXXX'
const INVALID_SHARE_NAME = 'XXXXInvalidShareNameXXXX'
const INVALID_IP = '255.255.255.255'

export const WITNESS_CASES: readonly WitnessCase[] = [
  {
    name: 'BVT_SWN_CheckProtocolVersion',
    async run(ctx) {
      expect(ctx.interfaces.length > 0, 'empty interface list')
      for (const i of ctx.interfaces) {
        expect([WITNESS_VERSION_1, WITNESS_VERSION_2, 0xffffffff].includes(i.version), `${i.interfaceGroupName}: version 0x${i.version.toString(16)}`)
        if (i.flags & 0x1) expect(i.ipv4 !== '' && i.ipv4 !== '0.0.0.0', `${i.interfaceGroupName}: IPv4 flag without address`)
        if (i.flags & 0x2) expect(i.ipv6 !== '' && i.ipv6 !== '::', `${i.interfaceGroupName}: IPv6 flag without address`)
      }
      const local = ctx.interfaces.filter((i) => i.ipv4 === ctx.localIp)
      expect(local.every((i) => (i.flags & 0x4) === 0), 'the answering node flags its own interface INTERFACE_WITNESS')
      expect(ctx.interfaces.some((i) => (i.flags & 0x4) !== 0), 'no interface has INTERFACE_WITNESS')
    },
  },
  {
    name: 'SWNRegistration_InvalidNetName',
    async run(ctx) {
      const r = await ctx.client.register({ netName: INVALID_NET_NAME, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.INVALID_PARAMETER, 'Register with an invalid NetName')
    },
  },
  {
    name: 'SWNRegistration_InvalidVersion',
    async run(ctx) {
      const r = await ctx.client.register({ version: WITNESS_VERSION_2, netName: ctx.target.netName, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.REVISION_MISMATCH, 'Register with version 2')
    },
  },
  {
    name: 'SWNRegistration_InvalidIpAddress',
    async run(ctx) {
      const r = await ctx.client.register({ netName: ctx.target.netName, ipAddress: INVALID_IP, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.INVALID_STATE, 'Register with an IP not in the interface list (scale-out share)')
    },
  },
  {
    name: 'SWNRegistration_InvalidUnRegister',
    async run(ctx) {
      const key = await registerV1(ctx)
      expectCode((await ctx.client.unRegister(key)).result, WIN_ERROR.SUCCESS, 'first UnRegister')
      const expected = ctx.target.profile === 'ws2012r2' ? WIN_ERROR.INVALID_PARAMETER : WIN_ERROR.NOT_FOUND
      expectCode((await ctx.client.unRegister(key)).result, expected, `second UnRegister (${ctx.target.profile})`)
    },
  },
  {
    name: 'SWNAsyncNotification_InvalidRequest',
    async run(ctx) {
      const key = await registerV1(ctx)
      expectCode((await ctx.client.unRegister(key)).result, WIN_ERROR.SUCCESS, 'UnRegister')
      expectCode((await ctx.client.asyncNotify(key, 5000)).result, WIN_ERROR.NOT_FOUND, 'AsyncNotify after UnRegister')
    },
  },
  {
    name: 'SWNRegistrationEx_InvalidNetName',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ netName: INVALID_NET_NAME, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName, shareName: ctx.target.shareName })
      expectCode(r.result, WIN_ERROR.INVALID_PARAMETER, 'RegisterEx with an invalid NetName')
    },
  },
  {
    name: 'SWNRegistrationEx_InvalidVersion',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ version: WITNESS_VERSION_1, netName: ctx.target.netName, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.REVISION_MISMATCH, 'RegisterEx with version 1')
    },
  },
  {
    name: 'SWNRegistrationEx_InvalidIpAddress',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ netName: ctx.target.netName, ipAddress: INVALID_IP, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.INVALID_STATE, 'RegisterEx with an IP not in the interface list')
    },
  },
  {
    name: 'SWNRegistrationEx_InvalidShareName',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ netName: ctx.target.netName, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName, shareName: INVALID_SHARE_NAME })
      expectCode(r.result, WIN_ERROR.INVALID_STATE, 'RegisterEx with an unknown share on a scale-out server')
    },
  },
  {
    name: 'SWNRegistrationEx_InvalidUnRegister',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const key = await registerV2(ctx)
      expectCode((await ctx.client.unRegister(key)).result, WIN_ERROR.SUCCESS, 'first UnRegister')
      const expected = ctx.target.profile === 'ws2012r2' ? WIN_ERROR.INVALID_PARAMETER : WIN_ERROR.NOT_FOUND
      expectCode((await ctx.client.unRegister(key)).result, expected, `second UnRegister (${ctx.target.profile})`)
    },
  },
  {
    name: 'WitnessrRegisterEx_SWNAsyncNotification_Timeout',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const keepAliveS = ctx.target.keepAliveTimeoutS ?? 10
      const key = await registerV2(ctx, { keepAliveTimeoutS: keepAliveS })
      const started = Date.now()
      const n = await ctx.client.asyncNotify(key, keepAliveS * 1000 + 10_000)
      expectCode(n.result, WIN_ERROR.TIMEOUT, `AsyncNotify with KeepAliveTimeout ${keepAliveS} s and no event`)
      const tookMs = Date.now() - started
      expect(tookMs >= keepAliveS * 1000 - 200, `TIMEOUT came after ${tookMs} ms, before the keep-alive of ${keepAliveS} s`)
      await ctx.client.unRegister(key)
    },
  },
  {
    name: 'SpecOrder_Register_VersionCheckedFirst',
    async run(ctx) {
      // Wrong version and a NULL NetName: the version is checked first (MS-SWN 3.1.4.2).
      const r = await ctx.client.register({ version: 0x12345678, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.REVISION_MISMATCH, 'Register with a bad version and no NetName')
    },
  },
  {
    name: 'SpecOrder_Register_NullBeforeNetNameAndIp',
    async run(ctx) {
      // A NULL ClientComputerName with a bad NetName and IP: INVALID_PARAMETER comes first.
      const r = await ctx.client.register({ netName: INVALID_NET_NAME, ipAddress: INVALID_IP })
      expectCode(r.result, WIN_ERROR.INVALID_PARAMETER, 'Register with a NULL ClientComputerName')
    },
  },
  {
    name: 'SpecOrder_Register_NetNameBeforeIp',
    async run(ctx) {
      // A bad NetName and an IP not in the list: the NetName check (INVALID_PARAMETER) is first.
      const r = await ctx.client.register({ netName: INVALID_NET_NAME, ipAddress: INVALID_IP, clientComputerName: ctx.clientName })
      expectCode(r.result, WIN_ERROR.INVALID_PARAMETER, 'Register with a bad NetName and a bad IP')
    },
  },
  {
    name: 'SpecOrder_RegisterEx_NetNameBeforeShare',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ netName: INVALID_NET_NAME, ipAddress: ctx.dataNodeIp, clientComputerName: ctx.clientName, shareName: INVALID_SHARE_NAME })
      expectCode(r.result, WIN_ERROR.INVALID_PARAMETER, 'RegisterEx with a bad NetName and a bad share')
    },
  },
  {
    name: 'SpecOrder_RegisterEx_VersionBeforeNull',
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const r = await ctx.client.registerEx({ version: WITNESS_VERSION_1 })
      expectCode(r.result, WIN_ERROR.REVISION_MISMATCH, 'RegisterEx with version 1 and every string NULL')
    },
  },
  {
    name: 'Access_OtherPrincipalCannotUseRegistration',
    async run(ctx) {
      const other = ctx.target.otherCredential
      if (!other) throw new CaseFailure('needs a second credential')
      const key = await registerV1(ctx)
      const intruder = new WitnessClient(ctx.target.endpoint, other)
      try {
        expectCode((await intruder.asyncNotify(key, 5000)).result, WIN_ERROR.ACCESS_DENIED, 'AsyncNotify by another principal')
        expectCode((await intruder.unRegister(key)).result, WIN_ERROR.ACCESS_DENIED, 'UnRegister by another principal')
      } finally {
        intruder.close()
      }
      expectCode((await ctx.client.unRegister(key)).result, WIN_ERROR.SUCCESS, 'UnRegister by its owner')
    },
  },
  {
    name: 'Access_UnauthenticatedCallRefused',
    async run(ctx) {
      const anonymous = new WitnessClient(ctx.target.endpoint, null)
      try {
        await anonymous.getInterfaceList(5000)
        throw new CaseFailure('an unauthenticated GetInterfaceList was answered')
      } catch (err) {
        if (err instanceof CaseFailure) throw err
        expect((err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED, `expected UNAUTHENTICATED, got ${(err as Error).message}`)
      } finally {
        anonymous.close()
      }
    },
  },
  {
    name: 'BVT_WitnessrRegister_SWNAsyncNotification_ClientMove',
    needsHooks: true,
    async run(ctx) {
      const key = await registerV1(ctx)
      const pending = nextNotification(ctx, key)
      await ctx.target.hooks?.moveWitnessClient(ctx.clientName, ctx.localGroup.toLowerCase())
      const n = await pending
      expectIpList(n, MESSAGE_TYPE.CLIENT_MOVE, 'CLIENT_MOVE')
      expect(n.ipAddresses.some((a) => a.ipv4 === ctx.localIp), `CLIENT_MOVE does not list ${ctx.localIp}`)
      const flags = moveFlags(ctx.target.profile)
      expect(n.ipAddresses.every((a) => a.flags === flags), `CLIENT_MOVE flags ${n.ipAddresses.map((a) => a.flags)} != ${flags}`)
      await ctx.client.unRegister(key)
    },
  },
  {
    name: 'BVT_WitnessrRegisterEx_SWNAsyncNotification_ClientMove',
    needsHooks: true,
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const key = await registerV2(ctx)
      const pending = nextNotification(ctx, key)
      await ctx.target.hooks?.moveWitnessClient(ctx.clientName, ctx.localGroup.toLowerCase())
      const n = await pending
      expectIpList(n, MESSAGE_TYPE.CLIENT_MOVE, 'CLIENT_MOVE')
      expect(n.ipAddresses.some((a) => a.ipv4 === ctx.localIp), `CLIENT_MOVE does not list ${ctx.localIp}`)
      await ctx.client.unRegister(key)
    },
  },
  {
    name: 'BVT_WitnessrRegisterEx_SWNAsyncNotification_ShareMove',
    needsHooks: true,
    profiles: ['ws2012r2', 'samba'],
    async run(ctx) {
      const key = await registerV2(ctx, { shareName: ctx.target.shareName })
      await ctx.target.hooks?.moveShareOwner(ctx.target.shareName, ctx.localGroup.toLowerCase())
      // A hook may first move the share away (when it already sat on the target): every
      // notification must be a well-formed SHARE_MOVE, and one must name the new owner.
      let n: Notification
      for (let i = 0; ; i++) {
        n = await nextNotification(ctx, key)
        expectIpList(n, MESSAGE_TYPE.SHARE_MOVE, 'SHARE_MOVE')
        if (n.ipAddresses.some((a) => a.ipv4 === ctx.localIp)) break
        expect(i < 2, `SHARE_MOVE never listed the new owner ${ctx.localIp}`)
      }
      await ctx.client.unRegister(key)
    },
  },
  {
    name: 'SWNFileServerFailover_ScaleOutFileServer',
    needsHooks: true,
    destructive: true,
    async run(ctx) {
      const key = await registerV1(ctx)
      const victim = ctx.dataNodeGroup.toLowerCase()
      const pending = nextNotification(ctx, key)
      pending.catch(() => undefined)
      await ctx.target.hooks?.disableNode(victim)
      let down: Notification
      try {
        down = await pending
      } catch (err) {
        await ctx.target.hooks?.enableNode(victim)
        throw err
      }
      expectCode(down.result, WIN_ERROR.SUCCESS, 'AsyncNotify')
      expect(down.messageType === MESSAGE_TYPE.RESOURCE_CHANGE, `message type ${down.messageType}, expected RESOURCE_CHANGE`)
      expect(down.resourceChanges.length >= 1 && down.resourceChanges[0].changeType === RESOURCE_STATE.UNAVAILABLE, 'first change is not UNAVAILABLE')
      const upcoming = nextNotification(ctx, key, 30_000)
      await ctx.target.hooks?.enableNode(victim)
      const up = await upcoming
      expect(up.resourceChanges.some((r) => r.changeType === RESOURCE_STATE.AVAILABLE), 'no AVAILABLE after the node came back')
      await ctx.client.unRegister(key)
    },
  },
  {
    name: 'BVT_SWNGetInterfaceList_ScaleOutSingleNode',
    needsHooks: true,
    destructive: true,
    async run(ctx) {
      const groups = [...new Set(ctx.interfaces.map((i) => i.interfaceGroupName))]
      if (groups.length !== 2) throw new CaseSkipped(`needs a 2-node cluster (with a quorum witness), found ${groups.length} nodes`)
      const other = ctx.dataNodeGroup.toLowerCase()
      await ctx.target.hooks?.disableNode(other)
      // With no other node to act as witness, the call must block (WPTS: a client timeout).
      const blocked = ctx.client.getInterfaceList(60_000)
      blocked.catch(() => undefined)
      let early: 'answered' | 'failed' | 'blocked'
      try {
        early = await Promise.race([blocked.then(() => 'answered' as const, () => 'failed' as const), sleep(1500).then(() => 'blocked' as const)])
      } finally {
        await ctx.target.hooks?.enableNode(other)
      }
      expect(early === 'blocked', `GetInterfaceList ${early} while only the target node was up`)
      const answer = await blocked
      expectCode(answer.result, WIN_ERROR.SUCCESS, 'GetInterfaceList after the node came back')
      expect(answer.interfaces.some((i) => (i.flags & 0x4) !== 0 && i.state === 1), 'no AVAILABLE witness interface after the node came back')
    },
  },
  {
    name: 'BVT_WitnessrRegisterEx_SWNAsyncNotification_IPChange',
    needsHooks: true,
    destructive: true,
    profiles: ['ws2012r2'],
    async run(ctx) {
      // Registered for the target's own IP with IP notification: another node's address
      // going offline arrives as IP_CHANGE with IPADDR_V4 | IPADDR_OFFLINE (0x11).
      const key = await registerV2(ctx, { flags: 1, ip: ctx.localIp })
      const victim = ctx.dataNodeGroup.toLowerCase()
      const pending = nextNotification(ctx, key)
      pending.catch(() => undefined)
      await ctx.target.hooks?.disableNode(victim)
      let n: Notification
      try {
        n = await pending
      } finally {
        await ctx.target.hooks?.enableNode(victim)
      }
      expectIpList(n, MESSAGE_TYPE.IP_CHANGE, 'IP_CHANGE')
      const entry = n.ipAddresses.find((a) => a.ipv4 === ctx.dataNodeIp)
      expect(entry !== undefined, `IP_CHANGE does not list ${ctx.dataNodeIp}`)
      expect(entry?.flags === (IPADDR_FLAGS.V4 | IPADDR_FLAGS.OFFLINE), `flags 0x${entry?.flags.toString(16)} != 0x11`)
      await ctx.client.unRegister(key)
    },
  },
]

/** Runs the cases against a target; never throws for a failing case. */
export async function runWitnessConformance(
  target: WitnessTarget,
  opts: { only?: (name: string) => boolean; onResult?: (r: CaseResult) => void } = {},
): Promise<CaseResult[]> {
  const client = new WitnessClient(target.endpoint, target.credential)
  const results: CaseResult[] = []
  const record = (r: CaseResult) => {
    results.push(r)
    opts.onResult?.(r)
  }
  try {
    let ctx: CaseContext
    try {
      ctx = await context(target, client)
    } catch (err) {
      record({ name: 'GetInterfaceList', result: 'fail', detail: `cannot read the interface list: ${(err as Error).message}`, durationMs: 0 })
      return results
    }
    const ordered = [...WITNESS_CASES].sort((a, b) => Number(a.destructive ?? false) - Number(b.destructive ?? false))
    for (const c of ordered) {
      if (opts.only && !opts.only(c.name)) continue
      const started = performance.now()
      if (c.profiles && !c.profiles.includes(target.profile)) {
        record({ name: c.name, result: 'skip', detail: `not applicable to ${target.profile}`, durationMs: 0 })
        continue
      }
      if (c.needsHooks && !target.hooks) {
        record({ name: c.name, result: 'skip', detail: 'needs SUT hooks (give the cluster folder)', durationMs: 0 })
        continue
      }
      try {
        await c.run({ ...ctx, clientName: `conformance-${c.name}-${Math.random().toString(36).slice(2, 8)}` })
        record({ name: c.name, result: 'pass', durationMs: Math.round(performance.now() - started) })
      } catch (err) {
        if (err instanceof CaseSkipped) {
          record({ name: c.name, result: 'skip', detail: err.message, durationMs: 0 })
          continue
        }
        const detail = err instanceof CaseFailure ? err.message : `unexpected error: ${(err as Error).message}`
        record({ name: c.name, result: 'fail', detail, durationMs: Math.round(performance.now() - started) })
      }
      // Let the server settle between cases that moved things.
      if (c.needsHooks) await sleep(50)
    }
  } finally {
    client.close()
  }
  return results
}

async function context(target: WitnessTarget, client: WitnessClient): Promise<CaseContext> {
  const list = await client.getInterfaceList(10_000)
  if (list.result.code !== WIN_ERROR.SUCCESS) throw new Error(`GetInterfaceList returned ${list.result.name}`)
  const host = target.endpoint.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  const local = list.interfaces.find((i) => i.ipv4 === host || i.ipv6 === host) ?? list.interfaces.find((i) => (i.flags & 0x4) === 0)
  const remote = list.interfaces.find((i) => (i.flags & 0x4) !== 0 && i.state === 1)
  if (!local || !remote) throw new Error('the interface list has no local and remote AVAILABLE interface')
  return {
    target,
    client,
    interfaces: list.interfaces,
    dataNodeIp: remote.ipv4 || remote.ipv6,
    dataNodeGroup: remote.interfaceGroupName,
    localIp: local.ipv4 || local.ipv6,
    localGroup: local.interfaceGroupName,
    clientName: 'conformance',
  }
}
