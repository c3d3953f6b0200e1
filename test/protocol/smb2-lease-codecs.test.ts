// The lease create contexts and the OPLOCK_BREAK messages against MS-SMB2's byte layouts:
// SMB2_CREATE_REQUEST_LEASE (2.2.13.2.8, 32 bytes), _V2 (2.2.13.2.10, 52 bytes), the responses
// of the same forms (2.2.14.2.10, 2.2.14.2.11), the lease break notification (2.2.23.2, 44
// bytes), acknowledgment (2.2.24.2, 36) and response (2.2.25.2, 36), and the oplock break
// (2.2.23.1 / 2.2.24.1 / 2.2.25.1, 24). Field offsets are written out by hand from the spec.
import t from 'tap'
import { decodeLeaseRequest, encodeLease } from '../../protocol/smb2/create-contexts.js'
import { SMB2_HEADER_BYTES } from '../../protocol/smb2/message-reader.js'
import { decodeLeaseBreakNotification, decodeOplockBreak, encodeLeaseBreakNotification, encodeOplockBreak } from '../../protocol/smb2/oplock-break.js'

const KEY = Buffer.from('0df0dde0fe0fdcbaf2ef2f1f01f22345', 'hex')
const PARENT = Buffer.from('adbeedfeefbeaddef00d1122334455ff', 'hex')
const withHeader = (body: Buffer) => Buffer.concat([Buffer.alloc(SMB2_HEADER_BYTES), body])

t.test('RqLs v1: LeaseKey 0..15, LeaseState 16, LeaseFlags 20, LeaseDuration 24..31 (2.2.13.2.8)', async (t) => {
  const wire = Buffer.alloc(32)
  KEY.copy(wire, 0)
  wire.writeUInt32LE(0x07, 16)
  wire.writeUInt32LE(0x02, 20)
  const d = decodeLeaseRequest(wire)
  t.ok(d.ok)
  if (!d.ok) return
  t.same(d.value, { leaseKey: KEY, leaseState: 7, leaseFlags: 2, parentLeaseKey: null, epoch: 0 })
  t.same(encodeLease(d.value), wire, 'the v1 response has the same 32-byte form (2.2.14.2.10)')
})

t.test('RqLs v2: ParentLeaseKey 32..47, Epoch 48, Reserved 50 (2.2.13.2.10)', async (t) => {
  const wire = Buffer.alloc(52)
  KEY.copy(wire, 0)
  wire.writeUInt32LE(0x03, 16)
  wire.writeUInt32LE(0x04, 20)
  PARENT.copy(wire, 32)
  wire.writeUInt16LE(0x1234, 48)
  const d = decodeLeaseRequest(wire)
  t.ok(d.ok)
  if (!d.ok) return
  t.same(d.value, { leaseKey: KEY, leaseState: 3, leaseFlags: 4, parentLeaseKey: PARENT, epoch: 0x1234 })
  t.same(encodeLease(d.value), wire, 'the v2 response has the same 52-byte form (2.2.14.2.11)')
})

t.test('RqLs of any other length is refused, never thrown', async (t) => {
  for (const n of [0, 16, 31, 33, 51, 53, 64]) t.notOk(decodeLeaseRequest(Buffer.alloc(n)).ok, `${n} bytes`)
})

t.test('lease break notification: 44 bytes, NewEpoch 2, Flags 4, LeaseKey 8, states 24 and 28, hints 32..43 zero (2.2.23.2)', async (t) => {
  const body = encodeLeaseBreakNotification({ newEpoch: 5, flags: 1, leaseKey: KEY, currentLeaseState: 7, newLeaseState: 3 })
  t.equal(body.length, 44)
  t.equal(body.readUInt16LE(0), 44, 'StructureSize')
  t.equal(body.readUInt16LE(2), 5, 'NewEpoch')
  t.equal(body.readUInt32LE(4), 1, 'Flags: SMB2_NOTIFY_BREAK_LEASE_FLAG_ACK_REQUIRED')
  t.same(body.subarray(8, 24), KEY, 'LeaseKey')
  t.equal(body.readUInt32LE(24), 7, 'CurrentLeaseState')
  t.equal(body.readUInt32LE(28), 3, 'NewLeaseState')
  t.same(body.subarray(32, 44), Buffer.alloc(12), 'BreakReason, AccessMaskHint, ShareMaskHint')
  const d = decodeLeaseBreakNotification(withHeader(body))
  t.ok(d.ok && d.value.newLeaseState === 3 && d.value.newEpoch === 5)
})

t.test('lease break acknowledgment and response: 36 bytes, Flags 4, LeaseKey 8, LeaseState 24, LeaseDuration 28 (2.2.24.2, 2.2.25.2)', async (t) => {
  const wire = Buffer.alloc(36)
  wire.writeUInt16LE(36, 0)
  KEY.copy(wire, 8)
  wire.writeUInt32LE(0x03, 24)
  const d = decodeOplockBreak(withHeader(wire))
  t.ok(d.ok)
  if (!d.ok) return
  t.same(d.value, { kind: 'lease', flags: 0, leaseKey: KEY, leaseState: 3, leaseDuration: 0n })
  t.same(encodeOplockBreak(d.value), wire)
})

t.test('oplock break: 24 bytes, OplockLevel 2, FileId 8..23 (2.2.23.1, 2.2.24.1, 2.2.25.1)', async (t) => {
  const body = encodeOplockBreak({ kind: 'oplock', oplockLevel: 0x01, fileId: { persistent: '0102030405060708', volatile: '1112131415161718' } })
  t.equal(body.length, 24)
  t.equal(body.readUInt16LE(0), 24)
  t.equal(body.readUInt8(2), 0x01)
  t.equal(body.readUInt8(3), 0, 'Reserved')
  t.equal(body.readUInt32LE(4), 0, 'Reserved2')
  const d = decodeOplockBreak(withHeader(body))
  t.ok(d.ok && d.value.kind === 'oplock' && d.value.oplockLevel === 1)
})

t.test('an OPLOCK_BREAK of another StructureSize is refused', async (t) => {
  for (const size of [0, 23, 25, 35, 37, 44]) {
    const wire = Buffer.alloc(Math.max(size, 2))
    wire.writeUInt16LE(size, 0)
    t.notOk(decodeOplockBreak(withHeader(wire)).ok, `StructureSize ${size}`)
  }
})
