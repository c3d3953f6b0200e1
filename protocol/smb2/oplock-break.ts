// SMB2 OPLOCK_BREAK (MS-SMB2 2.2.23 to 2.2.25): the server's break notifications, the
// client's acknowledgments and the server's responses to them, for oplocks (StructureSize 24)
// and leases (notification 44, acknowledgment and response 36).
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const OPLOCK_BREAK_SIZE = 24
export const LEASE_BREAK_NOTIFICATION_SIZE = 44
export const LEASE_BREAK_ACK_SIZE = 36

/** Flags of a lease break notification (2.2.23.2). */
export const LEASE_BREAK_FLAGS = { ACK_REQUIRED: 0x01 } as const

/** Lease states (2.2.13.2.8). */
export const LEASE_STATE = { NONE: 0x00, READ_CACHING: 0x01, HANDLE_CACHING: 0x02, WRITE_CACHING: 0x04 } as const

export type OplockBreak =
  /** Notification, acknowledgment and response of an oplock break have the same form. */
  | { readonly kind: 'oplock'; readonly oplockLevel: number; readonly fileId: Smb2FileId }
  /** Acknowledgment and response of a lease break. */
  | { readonly kind: 'lease'; readonly flags: number; readonly leaseKey: Buffer; readonly leaseState: number; readonly leaseDuration: bigint }

export interface LeaseBreakNotification {
  readonly newEpoch: number
  readonly flags: number
  readonly leaseKey: Buffer
  readonly currentLeaseState: number
  readonly newLeaseState: number
}

/** A client's acknowledgment (or, for a client, the server's response): oplock or lease by StructureSize. */
export function decodeOplockBreak(msg: Buffer): Decoded<OplockBreak> {
  return decodeBody(msg, [OPLOCK_BREAK_SIZE, LEASE_BREAK_ACK_SIZE], 'OPLOCK_BREAK', (r, size) => {
    const b = SMB2_HEADER_BYTES
    if (size === OPLOCK_BREAK_SIZE) return { kind: 'oplock', oplockLevel: r.u8(b + 2), fileId: readFileId(r, b + 8) }
    return { kind: 'lease', flags: r.u32(b + 4), leaseKey: r.bytes(b + 8, 16), leaseState: r.u32(b + 24), leaseDuration: r.u64(b + 28) }
  })
}

export function encodeOplockBreak(m: OplockBreak): Buffer {
  if (m.kind === 'oplock') {
    const body = fixedBody(OPLOCK_BREAK_SIZE)
    body.writeUInt8(m.oplockLevel, 2)
    writeFileId(body, 8, m.fileId)
    return body
  }
  const body = fixedBody(LEASE_BREAK_ACK_SIZE)
  body.writeUInt32LE(m.flags >>> 0, 4)
  m.leaseKey.copy(body, 8, 0, 16)
  body.writeUInt32LE(m.leaseState >>> 0, 24)
  body.writeBigUInt64LE(m.leaseDuration, 28)
  return body
}

export function encodeLeaseBreakNotification(n: LeaseBreakNotification): Buffer {
  const body = fixedBody(LEASE_BREAK_NOTIFICATION_SIZE)
  body.writeUInt16LE(n.newEpoch, 2)
  body.writeUInt32LE(n.flags >>> 0, 4)
  n.leaseKey.copy(body, 8, 0, 16)
  body.writeUInt32LE(n.currentLeaseState >>> 0, 24)
  body.writeUInt32LE(n.newLeaseState >>> 0, 28)
  return body
}

export function decodeLeaseBreakNotification(msg: Buffer): Decoded<LeaseBreakNotification> {
  return decodeBody(msg, LEASE_BREAK_NOTIFICATION_SIZE, 'lease break notification', (r) => {
    const b = SMB2_HEADER_BYTES
    return { newEpoch: r.u16(b + 2), flags: r.u32(b + 4), leaseKey: r.bytes(b + 8, 16), currentLeaseState: r.u32(b + 24), newLeaseState: r.u32(b + 28) }
  })
}
