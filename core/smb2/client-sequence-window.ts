// The client's side of the SMB2 command sequence window (MS-SMB2 3.2.4.1.3, 3.2.5.1.4): a
// request takes the next CreditCharge MessageIds, which the client may use only while it holds
// that many credits; every response (an interim STATUS_PENDING one included) hands back the
// credits its CreditResponse grants. On top of the credits a bound on the requests in flight
// keeps a client that is granted thousands of credits from queueing thousands of requests.
//
// Pure: the adapter asks whether a request may go now (take), and reports each response's
// grant and each completed request (settle). Who waits, and for how long, is the adapter's.
import assert from 'node:assert/strict'

/** Each credit covers 64 KiB of a READ, WRITE, IOCTL or QUERY_DIRECTORY payload (3.1.5.2). */
export const CLIENT_CREDIT_PAYLOAD_BYTES = 65_536

export type SequenceTake =
  | { readonly ok: true; readonly messageId: bigint; readonly creditCharge: number }
  /** Not now: the credits or the in-flight slots are short; wait for a response. */
  | { readonly ok: false; readonly reason: 'credits' | 'in-flight' }

export class ClientSequenceWindow {
  private nextMessageId = 0n
  /** Credits granted and not yet spent; a new connection holds 1 (3.2.4.1.3). */
  private creditsHeld = 1
  private inFlightCount = 0

  constructor(
    /** The bound on requests sent and not yet finally answered. */
    readonly inFlightMax: number,
    /** The bound on credits kept: a server that grants more is not believed beyond it. */
    readonly creditsHeldMax: number = 8192,
  ) {
    assert.ok(Number.isSafeInteger(inFlightMax) && inFlightMax > 0, `inFlightMax ${inFlightMax}`)
    assert.ok(Number.isSafeInteger(creditsHeldMax) && creditsHeldMax > 0, `creditsHeldMax ${creditsHeldMax}`)
  }

  get credits(): number {
    return this.creditsHeld
  }

  get inFlight(): number {
    return this.inFlightCount
  }

  /** Takes the ids of a request that needs creditCharge credits (at least 1). */
  take(creditCharge: number): SequenceTake {
    const charge = Math.max(1, creditCharge)
    if (this.inFlightCount >= this.inFlightMax) return { ok: false, reason: 'in-flight' }
    if (this.creditsHeld < charge) return { ok: false, reason: 'credits' }
    const messageId = this.nextMessageId
    this.nextMessageId += BigInt(charge)
    this.creditsHeld -= charge
    this.inFlightCount++
    return { ok: true, messageId, creditCharge: charge }
  }

  /** A response (interim or final) granted credits. */
  grant(credits: number): void {
    assert.ok(Number.isSafeInteger(credits) && credits >= 0, `granted ${credits}`)
    this.creditsHeld = Math.min(this.creditsHeldMax, this.creditsHeld + credits)
  }

  /** A request got its final answer (or was given up): its in-flight slot is free. */
  settle(): void {
    assert.ok(this.inFlightCount > 0, 'settle without a request in flight')
    this.inFlightCount--
  }

  /**
   * True when nothing can ever go again: no credits, nothing in flight that could grant some.
   * A server that leaves a client there broke 3.3.1.2; the adapter fails what waits.
   */
  get starved(): boolean {
    return this.creditsHeld === 0 && this.inFlightCount === 0
  }

  /** What to ask for in a request's CreditRequest: enough to refill to target (at least the charge). */
  creditRequestFor(creditCharge: number, target: number): number {
    return Math.min(0xffff, Math.max(Math.max(1, creditCharge), target - this.creditsHeld))
  }
}

/** The CreditCharge a payload needs (3.1.5.2): 1 per 64 KiB, at least 1. */
export function clientCreditChargeFor(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / CLIENT_CREDIT_PAYLOAD_BYTES))
}
