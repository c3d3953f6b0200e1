// A token bucket that caps a node's IO bandwidth, so that the owner bottleneck of S2D (every
// IO of a CSV served by one node) becomes measurable on one machine.

/** How much the bucket can hold: this many milliseconds' worth of the rate. */
const BURST_MS = 50
/** Waiters beyond this are refused: a bound on queued IO. */
export const TOKEN_WAITERS_MAX = 4096

export class TokenBucket {
  private tokens: number
  private lastMs: number
  private readonly capacity: number
  private readonly waiters: Array<{ bytes: number; resolve: () => void }> = []
  private timer: NodeJS.Timeout | undefined

  /** bytesPerSecond 0 means unlimited. */
  constructor(
    readonly bytesPerSecond: number,
    /** Monotonic milliseconds, from the node's clock. */
    private readonly nowMs: () => number,
  ) {
    this.capacity = Math.max(1, (bytesPerSecond * BURST_MS) / 1000)
    this.tokens = this.capacity
    this.lastMs = nowMs()
  }

  /** Resolves once `bytes` may pass; false when too many are already waiting. */
  take(bytes: number): Promise<boolean> {
    if (this.bytesPerSecond <= 0) return Promise.resolve(true)
    if (this.waiters.length >= TOKEN_WAITERS_MAX) return Promise.resolve(false)
    return new Promise((resolve) => {
      this.waiters.push({ bytes, resolve: () => resolve(true) })
      this.drain()
    })
  }

  /** Stops the pacing timer; waiting requests stay unanswered (their callers are gone). */
  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private refill(): void {
    const now = this.nowMs()
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.lastMs) * this.bytesPerSecond) / 1000)
    this.lastMs = now
  }

  private drain(): void {
    this.refill()
    while (this.waiters.length > 0) {
      const head = this.waiters[0]
      // A request larger than the bucket passes once the bucket is full, and drives it into
      // debt, so big IOs are paced by the same rate as small ones.
      if (this.tokens < Math.min(head.bytes, this.capacity)) break
      this.tokens -= head.bytes
      this.waiters.shift()
      head.resolve()
    }
    if (this.waiters.length > 0 && !this.timer) {
      const needed = Math.min(this.waiters[0].bytes, this.capacity) - this.tokens
      const waitMs = Math.max(1, (needed * 1000) / this.bytesPerSecond)
      this.timer = setTimeout(() => {
        this.timer = undefined
        this.drain()
      }, waitMs)

    }
  }
}
