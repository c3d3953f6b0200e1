// The process's clocks, for adapters only (cores take time as an input).

/** Epoch milliseconds with microsecond decimals from the monotonic clock, comparable across processes on one host. */
export function monoNowMs(): number {
  return Number((performance.timeOrigin + performance.now()).toFixed(3))
}
