// Pure helpers over membership views: ordering, voters, vote counting and CSV placement.
import type { CsvOwner, Member, NodeId, View } from './types.js'

export function genesisView(nodeIds: readonly NodeId[], csvNames: readonly string[]): View {
  return {
    epoch: 0,
    viewTerm: 0,
    leaderId: '',
    members: nodeIds.map((id) => ({ id, state: 'up', vote: 1 })),
    csvs: csvNames.map((name) => ({ name, owner: '' })),
  }
}

/** Orders views by (viewTerm, epoch), as Raft orders logs by (last term, last index). */
export function compareViewIds(aTerm: number, aEpoch: number, bTerm: number, bEpoch: number): number {
  return aTerm !== bTerm ? aTerm - bTerm : aEpoch - bEpoch
}

export function compareViews(a: View, b: View): number {
  return compareViewIds(a.viewTerm, a.epoch, b.viewTerm, b.epoch)
}

export function memberOf(view: View, id: NodeId): Member | undefined {
  return view.members.find((m) => m.id === id)
}

export function isUp(view: View, id: NodeId): boolean {
  return memberOf(view, id)?.state === 'up'
}

export function ownerOf(view: View, csv: string): NodeId | '' {
  return view.csvs.find((c) => c.name === csv)?.owner ?? ''
}

export function votersOf(view: View): NodeId[] {
  return view.members.filter((m) => m.vote === 1).map((m) => m.id)
}

/** The quorum witness votes only when the voting nodes are even (WSFC's dynamic witness). */
export function witnessVotes(voterCount: number, witnessConfigured: boolean): boolean {
  return witnessConfigured && voterCount > 0 && voterCount % 2 === 0
}

/**
 * True when the given supporters hold a majority of the votes of `view`: its voting
 * nodes plus, when it applies, the witness vote (held or not).
 */
interface VoteTotals {
  readonly voters: NodeId[]
  readonly witness: boolean
  /** Votes in all: the voting nodes plus the witness when it counts. */
  readonly total: number
  /** Votes a majority needs. */
  readonly needed: number
}

function voteTotals(view: View, witnessConfigured: boolean): VoteTotals {
  const voters = votersOf(view)
  const witness = witnessVotes(voters.length, witnessConfigured)
  const total = voters.length + (witness ? 1 : 0)
  return { voters, witness, total, needed: Math.floor(total / 2) + 1 }
}

export function hasMajority(
  view: View,
  supporters: ReadonlySet<NodeId>,
  witnessConfigured: boolean,
  witnessHeld: boolean,
): boolean {
  const { voters, witness, total, needed } = voteTotals(view, witnessConfigured)
  const count = voters.filter((v) => supporters.has(v)).length + (witness && witnessHeld ? 1 : 0)
  // A view with no voter at all cannot form a quorum.
  return total > 0 && count >= needed
}

/**
 * When a lease supported by the given nodes ends: the newest support time that a majority
 * of the view's votes share, plus leaseMs. With the witness vote counted, the end is also
 * capped by the witness lease. -Infinity when no majority supports it at all.
 */
export function majorityLeaseEndMs(
  view: View,
  supportTimeMs: (id: NodeId) => number,
  leaseMs: number,
  witnessConfigured: boolean,
  witnessUntilMs: number,
): number {
  const { voters, witness, total, needed } = voteTotals(view, witnessConfigured)
  if (total === 0) return -Infinity
  const times = voters.map(supportTimeMs).sort((a, b) => b - a)
  const nodesOnly = needed <= times.length ? times[needed - 1] + leaseMs : -Infinity
  if (!witness) return nodesOnly
  const withWitness = Math.min((times[needed - 2] ?? -Infinity) + leaseMs, witnessUntilMs)
  return Math.max(nodesOnly, withWitness)
}

export function csvCounts(view: View): Map<NodeId, number> {
  const counts = new Map<NodeId, number>()
  for (const m of view.members) if (m.state === 'up') counts.set(m.id, 0)
  for (const c of view.csvs) if (c.owner !== '' && counts.has(c.owner)) counts.set(c.owner, (counts.get(c.owner) ?? 0) + 1)
  return counts
}

/**
 * The node a CSV should go to among `candidates`: the least loaded, then the CSV's
 * preferred node (csv-i prefers the i-th node), then the lowest id. Deterministic.
 */
export function placeCsv(
  csv: CsvOwner,
  counts: ReadonlyMap<NodeId, number>,
  candidates: readonly NodeId[],
  nodeOrder: readonly NodeId[],
  csvOrder: readonly string[],
): NodeId | '' {
  if (candidates.length === 0) return ''
  const preferred = nodeOrder[csvOrder.indexOf(csv.name) % Math.max(1, nodeOrder.length)]
  const ranked = [...candidates].sort((a, b) => {
    const load = (counts.get(a) ?? 0) - (counts.get(b) ?? 0)
    if (load !== 0) return load
    if (a === preferred) return -1
    if (b === preferred) return 1
    return nodeOrder.indexOf(a) - nodeOrder.indexOf(b)
  })
  return ranked[0]
}

export function withMember(view: View, id: NodeId, change: Partial<Omit<Member, 'id'>>): View {
  return { ...view, members: view.members.map((m) => (m.id === id ? { ...m, ...change } : m)) }
}

export function withOwner(view: View, csv: string, owner: NodeId | ''): View {
  return { ...view, csvs: view.csvs.map((c) => (c.name === csv ? { ...c, owner } : c)) }
}

/** True when two views say the same thing (ignoring their ids). Hot: runs on every leader step. */
export function sameContent(a: View, b: View): boolean {
  if (a.leaderId !== b.leaderId || a.members.length !== b.members.length || a.csvs.length !== b.csvs.length) return false
  for (let i = 0; i < a.members.length; i++) {
    const x = a.members[i]
    const y = b.members[i]
    if (x.id !== y.id || x.state !== y.state || x.vote !== y.vote) return false
  }
  for (let i = 0; i < a.csvs.length; i++) {
    if (a.csvs[i].name !== b.csvs[i].name || a.csvs[i].owner !== b.csvs[i].owner) return false
  }
  return true
}
