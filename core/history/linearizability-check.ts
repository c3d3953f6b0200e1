// The linearizability checker of a chaos run's history: each register (a file's block) on its
// own, and for one that is not linearizable, the smallest window of its history that already
// is not — the operations a person has to look at to see the violation.
//
// The window is found in two steps, each a binary search over a monotone property:
// - its end: the earliest time t at which the history as it stood at t (operations invoked by
//   t; those answered later count as unanswered) is not linearizable. A prefix of a
//   linearizable history is linearizable, so the earliest failing prefix is well defined.
// - its start: the latest quiescent time s (no answered operation in flight across it) such
//   that the operations after s, from a register of unknown value, are still not
//   linearizable. Cutting at a quiescent point is sound: a linearization of the whole history,
//   restricted to what follows the cut, is one of the suffix from the value the register had at
//   the cut. Unanswered writes are kept in every window (they may be linearized anywhere after
//   their invocation, or not at all, so keeping them never makes a window fail).
import { splitByRegister, type RegisterOp } from './register-history.js'
import { searchRegister, type SearchVerdict } from './register-search.js'

export interface CheckOptions {
  /** The value of a register never written (e.g. the digest of a block of zeros); null: unknown. */
  readonly initialValue: string | null
  /** Per search: distinct configurations tried before the verdict is "unknown". */
  readonly maxStatesPerRegister: number
}

export interface ViolationWindow {
  readonly key: string
  readonly fromMs: number
  readonly toMs: number
  /** The window's operations in invocation order. */
  readonly ops: readonly RegisterOp[]
}

export interface HistoryVerdict {
  /** not-linearizable if any register is; else unknown if any search hit its bound. */
  readonly verdict: SearchVerdict
  readonly registers: number
  readonly operations: number
  readonly droppedReads: number
  readonly exploredStates: number
  /** One minimal window per non-linearizable register. */
  readonly violations: readonly ViolationWindow[]
  /** Registers whose search hit the bound. */
  readonly unknown: readonly string[]
}

export function checkHistory(history: readonly RegisterOp[], o: CheckOptions): HistoryVerdict {
  const split = splitByRegister(history)
  const violations: ViolationWindow[] = []
  const unknown: string[] = []
  let exploredStates = 0
  let operations = 0
  for (const [key, ops] of split.byKey) {
    operations += ops.length
    const r = searchRegister(ops, { initialValue: o.initialValue, maxStates: o.maxStatesPerRegister })
    exploredStates += r.exploredStates
    if (r.verdict === 'unknown') unknown.push(key)
    if (r.verdict !== 'not-linearizable') continue
    violations.push({ key, ...minimalWindow(ops, o) })
  }
  const verdict: SearchVerdict = violations.length > 0 ? 'not-linearizable' : unknown.length > 0 ? 'unknown' : 'linearizable'
  return { verdict, registers: split.byKey.size, operations, droppedReads: split.droppedReads, exploredStates, violations, unknown }
}

/** The history as it stood at `atMs`: answers after it not yet received. */
function prefixAt(ops: readonly RegisterOp[], atMs: number): RegisterOp[] {
  const out: RegisterOp[] = []
  for (const op of ops) {
    if (op.invokeMs > atMs) continue
    if (op.completeMs !== null && op.completeMs <= atMs) out.push(op)
    else if (op.kind === 'write') out.push({ ...op, completeMs: null })
  }
  return out
}

function fails(ops: readonly RegisterOp[], initialValue: string | null, maxStates: number): boolean {
  return searchRegister(ops, { initialValue, maxStates }).verdict === 'not-linearizable'
}

/** The smallest window of a non-linearizable register history (see the file's comment). */
export function minimalWindow(ops: readonly RegisterOp[], o: CheckOptions): { fromMs: number; toMs: number; ops: RegisterOp[] } {
  const max = o.maxStatesPerRegister
  // The end: the earliest answer time whose prefix fails (the full history does).
  const answers = [...new Set(ops.flatMap((op) => (op.completeMs === null ? [] : [op.completeMs])))].sort((a, b) => a - b)
  let lo = 0
  let hi = answers.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (fails(prefixAt(ops, answers[mid]), o.initialValue, max)) hi = mid
    else lo = mid + 1
  }
  const toMs = answers[lo]
  const prefix = prefixAt(ops, toMs)
  // The start: quiescent cuts, the latest that still fails from an unknown value.
  const answered = prefix.filter((op) => op.completeMs !== null).sort((x, y) => x.invokeMs - y.invokeMs)
  const cuts = [Number.NEGATIVE_INFINITY]
  let latestAnswerMs = Number.NEGATIVE_INFINITY
  for (const op of answered) {
    // Every operation invoked before this one was answered before it was invoked.
    if (latestAnswerMs < op.invokeMs && cuts[cuts.length - 1] !== op.invokeMs) cuts.push(op.invokeMs)
    latestAnswerMs = Math.max(latestAnswerMs, op.completeMs as number)
  }
  const suffix = (s: number): RegisterOp[] => prefix.filter((op) => op.completeMs === null || op.invokeMs >= s)
  const failsFrom = (s: number): boolean => (s === Number.NEGATIVE_INFINITY ? fails(prefix, o.initialValue, max) : fails(suffix(s), null, max))
  let a = 0
  let b = cuts.length - 1
  while (a < b) {
    const mid = (a + b + 1) >> 1
    if (failsFrom(cuts[mid])) a = mid
    else b = mid - 1
  }
  const fromCut = cuts[a]
  // Unanswered writes invoked before the cut are left out of what is shown: without them the
  // window fails all the same (they only ever give the search more ways to succeed).
  const windowOps = (fromCut === Number.NEGATIVE_INFINITY ? prefix : prefix.filter((op) => op.invokeMs >= fromCut)).sort((x, y) => x.invokeMs - y.invokeMs)
  const fromMs = Math.min(...windowOps.map((op) => op.invokeMs))
  return { fromMs, toMs, ops: windowOps }
}
