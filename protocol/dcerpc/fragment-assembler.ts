// Reassembly of fragmented DCE/RPC requests, per call id.
//
// A client sends a request whose stub exceeds the negotiated max_xmit_frag as several request
// PDUs with the same call id: the first has PFC_FIRST_FRAG, the last PFC_LAST_FRAG. This class
// collects the stubs until the last fragment arrives and hands back one request with the whole
// stub. It holds per-connection state; one instance serves one connection.
//
// Everything it holds is bounded: the stub of one call by maxStubBytes, the number of calls being
// assembled by maxCallsInAssembly, so one connection holds at most about twice their product
// (buffers grow by doubling). alloc_hint is advisory and may lie, so it is never used to size a
// buffer; like Samba, we do refuse a first fragment whose alloc_hint already exceeds the limit,
// since such a call could only fail later. A refusal is returned as an error result with the
// fault status to send; the call's fragments are dropped, and the connection layer should then
// send the fault and close the connection, as Samba does for every one of these cases.
//
// Authentication is not handled here: requests with an auth trailer must be refused (or verified)
// before they reach the assembler, which keeps the first fragment's header fields.

import { FAULT, PFC, type RequestPdu } from './pdu-codec.js'

/** The 4 MiB limit of a reassembled request that Samba applies (DCERPC_NCACN_REQUEST_DEFAULT_MAX_SIZE), after MS-RPCE §3.3.3.5.4. */
export const DEFAULT_MAX_REQUEST_STUB_BYTES = 4 * 1024 * 1024

export interface FragmentAssemblerLimits {
  /** The largest reassembled stub accepted for one call. */
  readonly maxStubBytes: number
  /** How many calls may be part-way through assembly at once (Samba allows one per connection). */
  readonly maxCallsInAssembly: number
}

export type AssembleResult =
  | { kind: 'complete'; request: RequestPdu }
  | { kind: 'pending' }
  | { kind: 'error'; callId: number; contextId: number; status: number; reason: string }

/** A call part-way through assembly: its first fragment's header and the stub bytes so far. */
interface CallInAssembly {
  readonly first: RequestPdu
  /** Flags to report on the whole request: the first fragment's, plus PENDING_CANCEL if any fragment had it. */
  flags: number
  buffer: Buffer
  lengthBytes: number
}

export class FragmentAssembler {
  private readonly limits: FragmentAssemblerLimits
  private readonly calls = new Map<number, CallInAssembly>()
  private heldBytes = 0

  constructor(limits: FragmentAssemblerLimits) {
    if (!Number.isInteger(limits.maxStubBytes) || limits.maxStubBytes < 0) {
      throw new RangeError(`maxStubBytes ${String(limits.maxStubBytes)} is not a non-negative integer`)
    }
    if (!Number.isInteger(limits.maxCallsInAssembly) || limits.maxCallsInAssembly < 1) {
      throw new RangeError(`maxCallsInAssembly ${String(limits.maxCallsInAssembly)} is not a positive integer`)
    }
    this.limits = { maxStubBytes: limits.maxStubBytes, maxCallsInAssembly: limits.maxCallsInAssembly }
  }

  /** How many calls are part-way through assembly. */
  get callsInAssembly(): number {
    return this.calls.size
  }

  /** The bytes of buffer held for calls in assembly (capacity, not just the stub bytes received). */
  get bufferedBytes(): number {
    return this.heldBytes
  }

  /** True when a call with this id is part-way through assembly. */
  has(callId: number): boolean {
    return this.calls.has(callId)
  }

  /**
   * Adds one request fragment. Returns the whole request when this fragment completes it (a
   * fragment that is both first and last completes at once, without copying), 'pending' when more
   * are due, or an error with the fault status to send.
   */
  add(pdu: RequestPdu): AssembleResult {
    const isFirst = (pdu.flags & PFC.FIRST_FRAG) !== 0
    const isLast = (pdu.flags & PFC.LAST_FRAG) !== 0
    const existing = this.calls.get(pdu.callId)

    if (existing === undefined) {
      if (!isFirst) {
        return refuse(pdu.callId, pdu.contextId, FAULT.PROTO_ERROR, `call ${pdu.callId}: a fragment without PFC_FIRST_FRAG, but no call with that id is being assembled`)
      }
      if (pdu.stub.length > this.limits.maxStubBytes) {
        return refuse(pdu.callId, pdu.contextId, FAULT.ACCESS_DENIED, `call ${pdu.callId}: a ${pdu.stub.length}-byte stub exceeds the ${this.limits.maxStubBytes}-byte limit`)
      }
      if (isLast) return { kind: 'complete', request: pdu }
      if (pdu.allocHint > this.limits.maxStubBytes) {
        return refuse(pdu.callId, pdu.contextId, FAULT.ACCESS_DENIED, `call ${pdu.callId}: alloc_hint ${pdu.allocHint} announces more than the ${this.limits.maxStubBytes}-byte limit`)
      }
      if (this.calls.size >= this.limits.maxCallsInAssembly) {
        return refuse(pdu.callId, pdu.contextId, FAULT.PROTO_ERROR, `call ${pdu.callId}: ${this.calls.size} calls are already being assembled, the most allowed`)
      }
      // The fragment's stub is a view into the framer's buffer, so it is copied, at its actual size.
      const buffer = Buffer.from(pdu.stub)
      this.calls.set(pdu.callId, { first: pdu, flags: pdu.flags, buffer, lengthBytes: buffer.length })
      this.heldBytes += buffer.length
      return { kind: 'pending' }
    }

    const mismatch = continuationMismatch(existing.first, pdu)
    if (mismatch !== null) {
      this.drop(pdu.callId)
      return refuse(pdu.callId, existing.first.contextId, FAULT.PROTO_ERROR, `call ${pdu.callId}: ${mismatch}`)
    }
    const totalBytes = existing.lengthBytes + pdu.stub.length
    if (totalBytes > this.limits.maxStubBytes) {
      this.drop(pdu.callId)
      return refuse(pdu.callId, existing.first.contextId, FAULT.ACCESS_DENIED, `call ${pdu.callId}: the stub grows to ${totalBytes} bytes, beyond the ${this.limits.maxStubBytes}-byte limit`)
    }
    this.append(existing, pdu.stub)
    existing.flags |= pdu.flags & PFC.PENDING_CANCEL
    if (!isLast) return { kind: 'pending' }

    this.drop(pdu.callId)
    const stub = existing.buffer.subarray(0, existing.lengthBytes)
    return {
      kind: 'complete',
      request: { ...existing.first, flags: existing.flags | PFC.LAST_FRAG, allocHint: stub.length, stub },
    }
  }

  /** Forgets a call being assembled (on co_cancel, orphaned, or a fault sent for it). True if there was one. */
  drop(callId: number): boolean {
    const entry = this.calls.get(callId)
    if (entry === undefined) return false
    this.heldBytes -= entry.buffer.length
    this.calls.delete(callId)
    return true
  }

  /** Forgets every call being assembled, when the connection closes. */
  clear(): void {
    this.calls.clear()
    this.heldBytes = 0
  }

  /** Appends a stub, growing the buffer by doubling (capped at the limit) so many small fragments cost amortised linear time. */
  private append(entry: CallInAssembly, stub: Buffer): void {
    const neededBytes = entry.lengthBytes + stub.length
    if (neededBytes > entry.buffer.length) {
      const capacityBytes = Math.min(this.limits.maxStubBytes, Math.max(neededBytes, entry.buffer.length * 2))
      const grown = Buffer.alloc(capacityBytes)
      entry.buffer.copy(grown, 0, 0, entry.lengthBytes)
      this.heldBytes += capacityBytes - entry.buffer.length
      entry.buffer = grown
    }
    stub.copy(entry.buffer, entry.lengthBytes)
    entry.lengthBytes = neededBytes
  }
}

/**
 * Why a continuation fragment cannot belong to the call its id names, or null if it can. Samba
 * checks only the data representation; we also insist on the same opnum, context and object,
 * because a client that changes them mid-call is confused or hostile, and the first fragment's
 * values are the ones the reassembled request reports. A first fragment arriving for a call already
in assembly is refused here too.
 */
function continuationMismatch(first: RequestPdu, next: RequestPdu): string | null {
  if ((next.flags & PFC.FIRST_FRAG) !== 0) return 'a second fragment with PFC_FIRST_FRAG while the call is being assembled'
  if (next.opnum !== first.opnum) return `opnum ${next.opnum} differs from the first fragment's ${first.opnum}`
  if (next.contextId !== first.contextId) return `context id ${next.contextId} differs from the first fragment's ${first.contextId}`
  if (next.littleEndian !== first.littleEndian) return 'the data representation differs from the first fragment'
  // Some clients may send the object UUID on the first fragment only; a different one is refused.
  if (next.object !== null && next.object !== first.object) return 'the object UUID differs from the first fragment'
  return null
}

function refuse(callId: number, contextId: number, status: number, reason: string): AssembleResult {
  return { kind: 'error', callId, contextId, status, reason }
}
