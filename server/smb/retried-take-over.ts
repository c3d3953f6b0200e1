// A CSV owner's take-over at the storage array (FencedStorage.takeOver), tried again when it
// failed. The CSV's service waits for the take-over before it runs any operation and answers
// STATUS_FILE_NOT_AVAILABLE while it has failed; without a new attempt a take-over that failed
// once (the array unreachable for a moment, conflicts past its own retries) left the owner
// refusing its CSV's IO until the CSV moved, which nothing asks for. A later operation starts a
// new attempt once retryAfterMs have passed since the failure: at most one attempt at a time,
// and one per retryAfterMs.
import assert from 'node:assert/strict'

export class RetriedTakeOver {
  private current: Promise<bigint>
  private failedAtMs: number | null = null

  constructor(
    private readonly attempt: () => Promise<bigint>,
    private readonly nowMs: () => number,
    readonly retryAfterMs: number,
    private readonly onFailure: (err: Error) => void = () => undefined,
  ) {
    assert.ok(retryAfterMs > 0, 'a pause between attempts')
    this.current = this.start()
  }

  /** The take-over the next operation waits for: the last attempt, or a new one if it failed long enough ago. */
  get ready(): Promise<bigint> {
    if (this.failedAtMs !== null && this.nowMs() - this.failedAtMs >= this.retryAfterMs) this.current = this.start()
    return this.current
  }

  private start(): Promise<bigint> {
    this.failedAtMs = null
    const p = this.attempt()
    p.catch((err: Error) => {
      if (this.current === p) this.failedAtMs = this.nowMs()
      this.onFailure(err)
    })
    return p
  }
}
