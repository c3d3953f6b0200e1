// A history of operations on registers, Jepsen style: every operation a client invoked, with the
// times it was invoked and answered (monotonic epoch ms, comparable across the processes of one
// host), what it wrote or what it read. A chaos client's file is a set of registers, one per
// block: a write of a block sets its register to the block's digest, a read returns it.
//
// An operation with no answer (the client gave up, or stopped, while it was in flight) is
// "indeterminate": a write may or may not have taken effect, at any time after its invocation;
// a read without an answer says nothing and is dropped.

export type RegisterOpKind = 'write' | 'read'

export interface RegisterOp {
  /** Which register (e.g. `client-1:disk.vhdx#37`, a file's 37th block). */
  readonly key: string
  readonly kind: RegisterOpKind
  /** What was written, or what the read returned (a digest); null for a read without an answer. */
  readonly value: string | null
  /** Who invoked it (a client name): a process's operations are sequential. */
  readonly process: string
  readonly invokeMs: number
  /** null: no answer was received (indeterminate). */
  readonly completeMs: number | null
}

/** A history grouped by register. */
export interface HistorySplit {
  readonly byKey: ReadonlyMap<string, readonly RegisterOp[]>
  /** Reads without an answer, dropped because they constrain nothing. */
  readonly droppedReads: number
}

/** Groups a history by register: linearizability is local (Herlihy & Wing 1990, theorem 1), so each register is checked on its own. */
export function splitByRegister(history: readonly RegisterOp[]): HistorySplit {
  const byKey = new Map<string, RegisterOp[]>()
  let droppedReads = 0
  for (const op of history) {
    if (op.kind === 'read' && (op.completeMs === null || op.value === null)) {
      droppedReads++
      continue
    }
    if (op.completeMs !== null && op.completeMs < op.invokeMs) throw new RangeError(`operation on ${op.key} completes (${op.completeMs}) before it is invoked (${op.invokeMs})`)
    let ops = byKey.get(op.key)
    if (!ops) byKey.set(op.key, (ops = []))
    ops.push(op)
  }
  return { byKey, droppedReads }
}
