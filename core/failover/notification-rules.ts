// What a witness notification means for the client (MS-SWN 3.2.5.x): RESOURCE_CHANGE
// UNAVAILABLE for the data node moves the data path elsewhere; CLIENT_MOVE and SHARE_MOVE move
// it to one of the named destinations unless it is on one already; IP_CHANGE takes addresses
// out of (OFFLINE) or back into (ONLINE) the failover targets. Everything else keeps the
// client listening.
import { IPADDR_FLAGS, MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import type { WitnessMessage } from './failover-input.js'

export type NotificationVerdict =
  | { readonly kind: 'fail-over'; readonly cause: 'witness-unavailable' | 'client-move' | 'share-move'; readonly toIps: readonly string[] }
  | { readonly kind: 'ip-change'; readonly changes: readonly { readonly ip: string; readonly online: boolean }[] }
  | { readonly kind: 'keep-listening'; readonly reason: string }

export interface RegisteredResource {
  /** The NetName the client registered (Windows names it in RESOURCE_CHANGE). */
  readonly netName: string
  /** The data node's IP the client registered (Samba names it in RESOURCE_CHANGE). */
  readonly dataIp: string
}

/** Whether a RESOURCE_CHANGE record is about the registered resource, i.e. the data node. */
export function namesDataNode(resourceName: string, registered: RegisteredResource): boolean {
  return resourceName.toLowerCase() === registered.netName.toLowerCase() || resourceName === registered.dataIp
}

export function judgeNotification(message: WitnessMessage, registered: RegisteredResource): NotificationVerdict {
  switch (message.messageType) {
    case MESSAGE_TYPE.RESOURCE_CHANGE: {
      const ours = message.resourceChanges.filter((c) => namesDataNode(c.resourceName, registered))
      if (ours.some((c) => c.changeType === RESOURCE_STATE.UNAVAILABLE)) return { kind: 'fail-over', cause: 'witness-unavailable', toIps: [] }
      if (ours.length < message.resourceChanges.length) return { kind: 'keep-listening', reason: 'a resource change for another resource' }
      return { kind: 'keep-listening', reason: 'the data node is not unavailable' }
    }
    case MESSAGE_TYPE.CLIENT_MOVE:
    case MESSAGE_TYPE.SHARE_MOVE: {
      const toIps = message.ipAddresses.map((a) => a.ipv4 || a.ipv6).filter((ip) => ip !== '')
      const cause = message.messageType === MESSAGE_TYPE.CLIENT_MOVE ? 'client-move' : 'share-move'
      if (toIps.length === 0) return { kind: 'keep-listening', reason: `${cause} without a destination` }
      if (toIps.includes(registered.dataIp)) return { kind: 'keep-listening', reason: `${cause} to the data node itself` }
      return { kind: 'fail-over', cause, toIps }
    }
    case MESSAGE_TYPE.IP_CHANGE: {
      const changes: { ip: string; online: boolean }[] = []
      for (const e of message.ipAddresses) {
        const ip = e.ipv4 || e.ipv6
        if (ip === '') continue
        if (e.flags & IPADDR_FLAGS.OFFLINE) changes.push({ ip, online: false })
        else if (e.flags & IPADDR_FLAGS.ONLINE) changes.push({ ip, online: true })
      }
      return { kind: 'ip-change', changes }
    }
    default:
      return { kind: 'keep-listening', reason: `unknown message type ${message.messageType}` }
  }
}
