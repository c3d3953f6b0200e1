// Invariant 4 (a replayed write is applied once) from the nodes' logs: every node logs each
// WRITE that arrived with the REPLAY flag and whether it was applied, found already applied
// (and answered without writing), or refused. A MessageId applied as a replay twice, or
// applied after a node had found it already applied, was written twice.
import type { LogLine } from '../../cluster/run-logs.js'

export interface ReplayCounts {
  readonly replays: number
  readonly applied: number
  readonly alreadyApplied: number
  readonly refused: number
}

export function replayViolations(nodeLogs: ReadonlyMap<string, readonly LogLine[]>): { counts: ReplayCounts; violations: string[] } {
  const byMessage = new Map<string, Array<{ node: string; mono: number; outcome: string }>>()
  const counts = { replays: 0, applied: 0, alreadyApplied: 0, refused: 0 }
  for (const [node, lines] of nodeLogs) {
    for (const l of lines) {
      if (l.event !== 'smb.write.replayed') continue
      const messageId = String(l.messageId)
      const outcome = String(l.outcome)
      counts.replays++
      if (outcome === 'applied') counts.applied++
      else if (outcome === 'already-applied') counts.alreadyApplied++
      else counts.refused++
      byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), { node, mono: l.mono, outcome }])
    }
  }
  const violations: string[] = []
  for (const [messageId, seen] of byMessage) {
    const applied = seen.filter((s) => s.outcome === 'applied')
    if (applied.length > 1) {
      violations.push(`replayed write ${messageId} applied ${applied.length} times (${applied.map((a) => a.node).join(', ')})`)
      continue
    }
    const firstKnown = Math.min(...seen.filter((s) => s.outcome === 'already-applied').map((s) => s.mono))
    const late = applied.find((a) => a.mono > firstKnown)
    if (late) violations.push(`replayed write ${messageId} applied again on ${late.node} after it was found applied`)
  }
  return { counts, violations }
}
