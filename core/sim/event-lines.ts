// The stable, readable text form of what happens in the whole-system simulator, one line per
// event: "<time>ms <who> <what> key=value ...". Transcripts compare these lines, so a field
// shows up here only if a reader of a failover needs it, and always in the same order.
import { MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import { INTERFACE_FLAGS, INTERFACE_STATE, type WitnessReply } from '../../protocol/swn/witness-calls.js'
import { winErrorName } from '../../protocol/swn/win-errors.js'
import type { ClientRequest, NodeAnswer } from './client-wire.js'

export function timeColumn(nowMs: number): string {
  return `${Math.round(nowMs)}ms`.padStart(7)
}

/** key=value pairs in the given order; lists join with commas, empty ones print '-'. */
export function fieldsText(fields: ReadonlyArray<readonly [string, unknown]>): string {
  return fields
    .map(([k, v]) => {
      if (Array.isArray(v)) return `${k}=${v.length === 0 ? '-' : v.join(',')}`
      if (v === null || v === undefined || v === '') return `${k}=-`
      return `${k}=${String(v)}`
    })
    .join(' ')
}

/** The quorum and witness core events a failover transcript shows, with the fields it shows. */
const EVENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'quorum.leader.elected': ['term'],
  'node.declared.down': ['peer', 'reason'],
  'node.rejoined': ['peer'],
  'csv.failover': ['csv', 'from', 'to'],
  'csv.released': ['csv', 'from', 'to'],
  'csv.assigned': ['csv', 'to'],
  'lease.lost': [],
  'lease.serving': [],
  'witness.registered': ['registration', 'client', 'ip', 'share'],
  'witness.node.changed': ['changedNode', 'state'],
  'witness.unregistered': ['registration', 'client', 'reason'],
  'witness.client-move': ['registrations'],
  'witness.share.moved': ['share', 'to', 'registrations'],
}

/** The line of a core event, or null when transcripts leave it out. */
export function coreEventText(event: string, fields: Readonly<Record<string, unknown>>): string | null {
  const shown = EVENT_FIELDS[event]
  if (shown === undefined) return null
  const text = fieldsText(shown.map((k) => [k, fields[k]] as const))
  return text === '' ? event : `${event} ${text}`
}

export function answerText(request: ClientRequest, answer: NodeAnswer): string {
  switch (answer.kind) {
    case 'refused':
      return `${requestName(request)} refused`
    case 'reset':
      return `${requestName(request)} reset`
    case 'witness-unavailable':
      return `${requestName(request)} unavailable`
    case 'smb':
      return `${requestName(request)} ${answer.status}${answer.status === 'SUCCESS' && request.kind === 'smb-connect' ? ` session=${answer.sessionId}` : ''}`
    case 'witness-reply':
      return witnessReplyText(answer.reply)
  }
}

function requestName(request: ClientRequest): string {
  if (request.kind === 'smb-write') return `smb.write id=${request.writeId}`
  if (request.kind === 'smb-open') return `smb.open handle=${request.handleId}`
  return request.kind === 'witness-call' ? request.call.method : request.kind.replace('-', '.')
}

function witnessReplyText(reply: WitnessReply): string {
  const result = winErrorName(reply.result).replace(/^ERROR_/, '')
  switch (reply.method) {
    case 'GetInterfaceList': {
      const list = reply.interfaces.map((i) => {
        const state = i.state === INTERFACE_STATE.AVAILABLE ? 'AVAILABLE' : i.state === INTERFACE_STATE.UNAVAILABLE ? 'UNAVAILABLE' : 'UNKNOWN'
        const witness = (i.flags & INTERFACE_FLAGS.INTERFACE_WITNESS) !== 0 ? '' : ',local'
        return `${i.ipv4 || i.ipv6}(${state}${witness})`
      })
      return `GetInterfaceList ${result}${list.length > 0 ? ` ${list.join(' ')}` : ''}`
    }
    case 'Register':
    case 'RegisterEx':
      return `${reply.method} ${result}${reply.key ? ` reg=${reply.key}` : ''}`
    case 'UnRegister':
    case 'UnRegisterEx':
      return `${reply.method} ${result}`
    case 'AsyncNotify': {
      const n = reply.notify
      if (!n) return `AsyncNotify ${result}`
      if (n.messageType === MESSAGE_TYPE.RESOURCE_CHANGE) {
        const changes = n.resourceChanges.map((c) => `${c.resourceName}=${c.changeType === RESOURCE_STATE.UNAVAILABLE ? 'UNAVAILABLE' : c.changeType === RESOURCE_STATE.AVAILABLE ? 'AVAILABLE' : 'UNKNOWN'}`)
        return `AsyncNotify ${result} RESOURCE_CHANGE ${changes.join(' ')}`
      }
      const kind = n.messageType === MESSAGE_TYPE.CLIENT_MOVE ? 'CLIENT_MOVE' : n.messageType === MESSAGE_TYPE.SHARE_MOVE ? 'SHARE_MOVE' : 'IP_CHANGE'
      const ips = n.ipAddresses.map((a) => `${a.ipv4 || a.ipv6}${kind === 'IP_CHANGE' ? `(0x${a.flags.toString(16)})` : ''}`)
      return `AsyncNotify ${result} ${kind} ${ips.join(' ')}`
    }
  }
}
