// SMB2 LOCK request (MS-SMB2 2.2.26); its response is the empty body (2.2.27).
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

/** StructureSize 48 counts the first SMB2_LOCK_ELEMENT. */
export const LOCK_REQUEST_SIZE = 48
const LOCK_ELEMENT_BYTES = 24
const LOCKS_AT = SMB2_HEADER_BYTES + 24

/** Flags of an SMB2_LOCK_ELEMENT (2.2.26.1). */
export const LOCK_FLAGS = { SHARED_LOCK: 0x01, EXCLUSIVE_LOCK: 0x02, UNLOCK: 0x04, FAIL_IMMEDIATELY: 0x10 } as const

export interface LockElement {
  readonly offset: bigint
  readonly length: bigint
  readonly flags: number
}

export interface LockRequest {
  /** LockSequenceNumber (low 4 bits) and LockSequenceIndex (the 28 above), as one u32. */
  readonly lockSequence: number
  readonly fileId: Smb2FileId
  readonly locks: readonly LockElement[]
}

export function decodeLockRequest(msg: Buffer): Decoded<LockRequest> {
  return decodeBody(msg, LOCK_REQUEST_SIZE, 'LOCK', (r) => {
    const b = SMB2_HEADER_BYTES
    const count = r.u16(b + 2)
    // 3.3.5.14: a LockCount of zero is STATUS_INVALID_PARAMETER.
    if (count === 0) r.fail('LOCK with no locks')
    if (LOCKS_AT + count * LOCK_ELEMENT_BYTES > r.length) r.fail(`LOCK lists ${count} locks in ${r.length} bytes`)
    const locks: LockElement[] = []
    for (let i = 0; i < count; i++) {
      const at = LOCKS_AT + i * LOCK_ELEMENT_BYTES
      locks.push({ offset: r.u64(at), length: r.u64(at + 8), flags: r.u32(at + 16) })
    }
    return { lockSequence: r.u32(b + 4), fileId: readFileId(r, b + 8), locks }
  })
}

export function encodeLockRequest(req: LockRequest): Buffer {
  if (req.locks.length === 0 || req.locks.length > 0xffff) throw new RangeError(`LOCK of ${req.locks.length} locks`)
  const body = fixedBody(LOCK_REQUEST_SIZE, 24 + LOCK_ELEMENT_BYTES * req.locks.length)
  body.writeUInt16LE(req.locks.length, 2)
  body.writeUInt32LE(req.lockSequence >>> 0, 4)
  writeFileId(body, 8, req.fileId)
  req.locks.forEach((l, i) => {
    const at = 24 + i * LOCK_ELEMENT_BYTES
    body.writeBigUInt64LE(l.offset, at)
    body.writeBigUInt64LE(l.length, at + 8)
    body.writeUInt32LE(l.flags >>> 0, at + 16)
  })
  return body
}
