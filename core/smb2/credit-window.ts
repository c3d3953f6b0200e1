// The command sequence window of one SMB2 connection (MS-SMB2 3.3.1.1, 3.3.5.2.3, 3.3.1.2):
// the MessageIds a client may use are the ones the server granted as credits, each once. A
// request with CreditCharge N takes N consecutive ids from its MessageId; every response grants
// credits back, which extends the window at its top. How many are granted follows Windows
// (3.3.1.2): what the client asks for, at least 1 when the client would otherwise be left with
// none, and never more outstanding than a bound.
//
// Pure: the adapter feeds each request's ids in and asks how many credits its response grants.
import assert from 'node:assert/strict'

/** Credits one connection may hold at once: Windows' default limit (Smb2CreditsMax 8192). */
export const CREDITS_OUTSTANDING_MAX = 8192
/** Each credit covers 64 KiB of a READ, WRITE, IOCTL or QUERY_DIRECTORY payload (3.1.5.2). */
export const CREDIT_PAYLOAD_BYTES = 65_536

export type CreditCheck =
  | { readonly ok: true }
  /** An id outside the window or used before: the connection is dropped (3.3.5.2.3). */
  | { readonly ok: false; readonly reason: string }

export class CreditWindow {
  /** Every id below this one was used. */
  private low = 0n
  /** Ids at or above this one were never granted. */
  private high = 1n
  /** Ids in [low, high) already used. */
  private readonly used = new Set<bigint>()

  constructor(readonly outstandingMax: number = CREDITS_OUTSTANDING_MAX) {
    assert.ok(Number.isSafeInteger(outstandingMax) && outstandingMax > 0)
  }

  /** Credits the client holds now: granted ids it has not used. */
  get outstanding(): number {
    return Number(this.high - this.low) - this.used.size
  }

  /**
   * Takes the ids a request uses: MessageId and the CreditCharge - 1 after it (a charge of 0,
   * as 2.0.2 clients send, counts as 1). Nothing is taken when any of them is not available.
   */
  consume(messageId: bigint, creditCharge: number): CreditCheck {
    const charge = BigInt(Math.max(1, creditCharge))
    if (messageId < this.low || messageId + charge > this.high) return { ok: false, reason: `MessageId ${messageId} (charge ${charge}) is outside the window [${this.low}, ${this.high})` }
    for (let id = messageId; id < messageId + charge; id++) {
      if (this.used.has(id)) return { ok: false, reason: `MessageId ${id} was used before` }
    }
    for (let id = messageId; id < messageId + charge; id++) this.used.add(id)
    while (this.used.delete(this.low)) this.low++
    return { ok: true }
  }

  /**
   * The credits a response grants for a request that charged creditCharge and asked for
   * creditRequest, and extends the window by them. Windows grants what is asked, bounded so
   * that the client never holds more than outstandingMax, and at least 1 while the client
   * holds none, so that it can always send another request.
   */
  grant(creditRequest: number): number {
    const room = this.outstandingMax - this.outstanding
    let granted = Math.min(Math.max(creditRequest, 1), room)
    if (granted < 0) granted = 0
    this.high += BigInt(granted)
    return granted
  }

  /** The ids below the window's top: for a CANCEL, which names an id already used. */
  wasGranted(messageId: bigint): boolean {
    return messageId < this.high
  }

  assertInvariants(): void {
    assert.ok(this.low <= this.high)
    assert.ok(this.outstanding >= 0 && this.outstanding <= this.outstandingMax + 1)
    for (const id of this.used) assert.ok(id > this.low && id < this.high, 'used ids lie inside the window above its floor')
  }
}

/** The CreditCharge a payload of the given bytes needs (3.1.5.2): 1 per 64 KiB, at least 1. */
export function creditChargeFor(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / CREDIT_PAYLOAD_BYTES))
}
