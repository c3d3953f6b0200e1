// The simulators' pending events: a binary min-heap ordered by due time, then by the order
// they were scheduled, so that events due at the same instant run in a deterministic order.
import assert from 'node:assert/strict'

export interface SimEvent {
  readonly atMs: number
  readonly seq: number
  readonly run: () => void
}

/**
 * Events pending at once, across every node and client of a simulation. A schedule that
 * exceeds it has a runaway sender (a retry loop with no pause), which is a bug to report,
 * not a load to absorb.
 */
export const SIM_EVENTS_PENDING_MAX = 200_000

export class EventHeap {
  private readonly items: SimEvent[] = []
  private seq = 0

  get size(): number {
    return this.items.length
  }

  push(atMs: number, run: () => void): void {
    assert.ok(this.items.length < SIM_EVENTS_PENDING_MAX, `more than ${SIM_EVENTS_PENDING_MAX} simulated events pending`)
    const items = this.items
    const event: SimEvent = { atMs, seq: this.seq++, run }
    let i = items.length
    items.push(event)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(event, items[parent])) break
      items[i] = items[parent]
      i = parent
    }
    items[i] = event
  }

  /** Removes and returns, in order, every event due at or before nowMs. */
  takeDue(nowMs: number): SimEvent[] {
    const due: SimEvent[] = []
    while (this.items.length > 0 && this.items[0].atMs <= nowMs) due.push(this.pop())
    return due
  }

  private pop(): SimEvent {
    const items = this.items
    const top = items[0]
    const last = items.pop() as SimEvent
    if (items.length === 0) return top
    let i = 0
    const n = items.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && before(items[right], items[left]) ? right : left
      if (!before(items[child], last)) break
      items[i] = items[child]
      i = child
    }
    items[i] = last
    return top
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
}
