// Is one register's history linearizable? The Wing & Gong search (1993) with Lowe's
// memoisation ("Testing for linearizability", 2017), as Knossos and Porcupine do it: walk the
// history's invocations and answers in time order; at an invocation, try to linearize that
// operation now (the register's sequential behaviour allows it, and the set of linearized
// operations with the resulting value was not tried before), lifting it out of the list; at an
// answer of an operation not yet linearized, undo the last choice. The history is linearizable
// when every answered operation is linearized; operations without an answer may be linearized
// or left out.
//
// The search is exponential in the worst case: it stops after `maxStates` distinct
// configurations and says "unknown" rather than run for ever.
import assert from 'node:assert'
import type { RegisterOp } from './register-history.js'

export type SearchVerdict = 'linearizable' | 'not-linearizable' | 'unknown'

export interface SearchOptions {
  /** The register's value before any operation; null: unknown (any value, fixed by the first read). */
  readonly initialValue: string | null
  /** The bound on distinct (linearized set, value) configurations tried. */
  readonly maxStates: number
}

export interface SearchResult {
  readonly verdict: SearchVerdict
  /** Distinct configurations tried. */
  readonly exploredStates: number
  /** The most operations linearized at once before the search failed or stopped (a hint to where it broke). */
  readonly deepestLinearized: number
}

/** No entry: the list's end. */
const NIL = -1

/**
 * Searches for a linearization. Operations are entries `2i` (invocation) and `2i+1` (answer) in
 * a doubly linked list sorted by time; at equal times invocations come first, so operations
 * that touch in time count as concurrent (the reading that never reports a false violation).
 */
export function searchRegister(ops: readonly RegisterOp[], o: SearchOptions): SearchResult {
  assert(o.maxStates > 0, 'maxStates must be positive')
  const n = ops.length
  const entryCount = 2 * n
  const order = Array.from({ length: entryCount }, (_, e) => e)
  const timeOf = (e: number): number => {
    const op = ops[e >> 1]
    return (e & 1) === 0 ? op.invokeMs : (op.completeMs ?? Number.POSITIVE_INFINITY)
  }
  order.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b)
  // The list: head sentinel is index entryCount.
  const head = entryCount
  const next = new Int32Array(entryCount + 1)
  const prev = new Int32Array(entryCount + 1)
  let last = head
  for (const e of order) {
    next[last] = e
    prev[e] = last
    last = e
  }
  next[last] = NIL

  const lift = (call: number): void => {
    for (const e of [call, call + 1]) {
      next[prev[e]] = next[e]
      if (next[e] !== NIL) prev[next[e]] = prev[e]
    }
  }
  const unlift = (call: number): void => {
    for (const e of [call + 1, call]) {
      if (next[e] !== NIL) prev[next[e]] = e
      next[prev[e]] = e
    }
  }

  const seen = new Set<string>()
  const stack: { call: number; valueBefore: string | null }[] = []
  let linearized = 0n
  let value = o.initialValue
  let deepest = 0
  let entry = next[head]
  for (;;) {
    if (entry === NIL) return { verdict: 'linearizable', exploredStates: seen.size, deepestLinearized: stack.length }
    const i = entry >> 1
    const op = ops[i]
    if ((entry & 1) === 0) {
      // An invocation: linearize it here if the register allows it.
      const after = op.kind === 'write' ? op.value : value === null || value === op.value ? op.value : undefined
      if (after !== undefined) {
        const bits = linearized | (1n << BigInt(i))
        const key = `${bits.toString(36)}|${after ?? ''}`
        if (!seen.has(key)) {
          seen.add(key)
          if (seen.size > o.maxStates) return { verdict: 'unknown', exploredStates: seen.size, deepestLinearized: deepest }
          stack.push({ call: entry, valueBefore: value })
          linearized = bits
          value = after
          deepest = Math.max(deepest, stack.length)
          lift(entry)
          entry = next[head]
          continue
        }
      }
      entry = next[entry]
      continue
    }
    // An answer of an operation not linearized yet. Answers without a time (no answer came)
    // sort last: reaching one means every answered operation is linearized.
    if (op.completeMs === null) return { verdict: 'linearizable', exploredStates: seen.size, deepestLinearized: stack.length }
    const undo = stack.pop()
    if (!undo) return { verdict: 'not-linearizable', exploredStates: seen.size, deepestLinearized: deepest }
    linearized &= ~(1n << BigInt(undo.call >> 1))
    value = undo.valueBefore
    unlift(undo.call)
    entry = next[undo.call]
  }
}
