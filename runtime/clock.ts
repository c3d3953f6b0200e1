// The process's clocks, for adapters only (cores take time as an input).

/**
 * The time a part of a process reads, injected so that only the composition root touches the
 * real clocks (and a test can hand in a fake one).
 */
export interface Clock {
  /** Monotonic milliseconds (performance.now() of the real clock): the time the cores take. */
  nowMs(): number
  /** Epoch milliseconds of the wall clock: only for APIs that take absolute deadlines (gRPC). */
  wallNowMs(): number
}

/** The real clocks; created by a process's composition root, passed to every part. */
export function systemClock(): Clock {
  return { nowMs: () => performance.now(), wallNowMs: () => Date.now() }
}

/** Epoch milliseconds with microsecond decimals from the monotonic clock, comparable across processes on one host. */
export function monoNowMs(): number {
  return Number((performance.timeOrigin + performance.now()).toFixed(3))
}
