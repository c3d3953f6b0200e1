// The matrix of issue 17 item 5: every role a node plays, lost in every way, and what each cell
// must show: a recovery within a stated bound (fast profile, 3 nodes, file quorum witness) or a
// limit of the real protocol with its reason. `swlab chaos matrix` (chaos-matrix.ts) runs the
// cells and measures them; this file is the table alone, so that it can be checked without a
// cluster (test/unit/chaos-matrix-cells.test.ts).
//
// The ways, as the harness applies them in a `--netns` cluster (nftables, from outside):
//   kill        SIGKILL
//   freeze      SIGSTOP (SIGCONT after the cell)
//   cut-both    a partition {node} / {the others} and the client's connections to it dropped
//   cut-in      every connection TO the node stalls: the other nodes' peer calls to it and the
//               client's connections (SMB 2/3, witness)
//   cut-out     every connection FROM the node stalls: its peer calls to the other nodes. The
//               peer protocol is one unary call per message, each node calling the other on
//               connections of its own, so the node still hears the others (the leader's
//               heartbeats) while its own messages (its answers) are lost. Clients always open
//               the connections, so at the packet level "out" to a client stalls the client's
//               connection both ways: that is cut-clients.
//   cut-clients the client's connections to the node only; the nodes see nothing.
import { witnessKeepAliveTimeoutSFor, witnessLossNoticeBoundMs } from '../../core/failover/witness-loss.js'

/** A role a node plays for the client and the cluster. */
export type MatrixRole = 'data-node' | 'witness-node' | 'csv-owner' | 'leader' | 'quorum-witness-holder'
export const MATRIX_ROLES: readonly MatrixRole[] = ['data-node', 'witness-node', 'csv-owner', 'leader', 'quorum-witness-holder']

/** A way of losing the node. */
export type MatrixWay = 'kill' | 'freeze' | 'cut-both' | 'cut-in' | 'cut-out' | 'cut-clients'
export const MATRIX_WAYS: readonly MatrixWay[] = ['kill', 'freeze', 'cut-both', 'cut-in', 'cut-out', 'cut-clients']

/**
 * What recovery is measured, from the fault:
 *   client-back          the client's longest write pause around the fault ended (an ack after it)
 *   witness-reregistered the client registered with another witness node
 *   csv-served-elsewhere the CSV of the client's share is owned and served by one other node
 *   new-leader           a quorate leader other than the node
 *   witness-rearbitrated the quorum witness is held by another node
 */
export type MatrixMetric = 'client-back' | 'witness-reregistered' | 'csv-served-elsewhere' | 'new-leader' | 'witness-rearbitrated'

export interface MatrixBound {
  readonly metric: MatrixMetric
  /** The bound, ms from the fault, in the fast profile (detection 1 s: 250 ms heartbeats x 4). */
  readonly withinMs: number
}

export interface MatrixCell {
  readonly role: MatrixRole
  readonly way: MatrixWay
  /** The recoveries the cell must show; empty when the cell is a limit. */
  readonly bounds: readonly MatrixBound[]
  /** Why the cell has no recovery to show: a limit of the real protocol (what WSFC/SMB does). */
  readonly limit?: string
  /** Why the fault has no effect on the role, when it has none (the client must not pause long). */
  readonly unaffected?: string
  /** Existing tests that cover the cell besides the tool. */
  readonly coveredBy?: readonly string[]
}

/** The fast profile's detection (ms): a node silent this long is declared down. */
export const FAST_DETECTION_MS = 1000
/** The request timeout the matrix's client uses (Windows: 60 s; the lab's CLI takes it). */
export const MATRIX_REQUEST_TIMEOUT_MS = 5000
/** Issue 17: a lost witness node noticed and replaced within 10 s in the fast profile. */
const TEN_S = 10_000
/** A fault on a node the client does not use: its writes pause no longer than this. */
export const UNAFFECTED_PAUSE_MS = 3000

const clientBack = (withinMs = TEN_S): MatrixBound => ({ metric: 'client-back', withinMs })
/**
 * The client's witness node cut off from it: the cut drops the client's packets to the node, not
 * the node's to the client (TCP to a client cannot be told apart by its source port otherwise),
 * so the keep-alive answer (ERROR_TIMEOUT after 2 s in the fast profile) of the AsyncNotify in
 * flight still arrives; the next one goes unanswered, noticed 2 s + 2 s after it: up to 6 s after
 * the fault (witnessLossNoticeBoundMs), plus the re-registration elsewhere (a few hundred ms;
 * under load): bound 8 s.
 */
const WITNESS_CUT_MS = witnessLossNoticeBoundMs(witnessKeepAliveTimeoutSFor('fast')) + 2000
const WITNESS_TESTS = ['test/e2e/witness-node-loss.test.ts', 'test/e2e/netns-clients.test.ts']

/** Peer traffic to the node is what a cluster judges it by; a cut of clients alone is invisible to it. */
const CLIENTS_ONLY = 'the cluster still hears the node: nothing moves; the client does not use it for this role'

const HOLDER_KEEPS = 'The holder still reaches the quorum witness and keeps it, so it keeps the cluster (WSFC\'s tie-break: the side holding the witness runs); no re-arbitration.'

export const MATRIX_CELLS: readonly MatrixCell[] = [
  // The client's data node: the witness (on another node) tells the client when the cluster
  // declares the node down; a connection that closes is noticed at once; silence by the request
  // timeout.
  { role: 'data-node', way: 'kill', bounds: [clientBack()], coveredBy: ['test/e2e/failover-client.test.ts'] },
  { role: 'data-node', way: 'freeze', bounds: [clientBack()] },
  { role: 'data-node', way: 'cut-both', bounds: [clientBack()] },
  { role: 'data-node', way: 'cut-in', bounds: [clientBack()] },
  { role: 'data-node', way: 'cut-out', bounds: [clientBack()] },
  {
    role: 'data-node',
    way: 'cut-clients',
    // The cluster sees nothing, so no witness notice comes: the client's request timeout is all
    // there is (MS-SMB2 3.2.6.1; Windows waits 60 s), then it reconnects to another node.
    bounds: [clientBack(MATRIX_REQUEST_TIMEOUT_MS + 5000)],
    coveredBy: ['test/e2e/netns-clients.test.ts'],
  },
  // The client's witness node (the row of test/e2e/witness-node-loss.test.ts): the keep-alive.
  { role: 'witness-node', way: 'kill', bounds: [{ metric: 'witness-reregistered', withinMs: TEN_S }], coveredBy: WITNESS_TESTS },
  { role: 'witness-node', way: 'freeze', bounds: [{ metric: 'witness-reregistered', withinMs: TEN_S }], coveredBy: WITNESS_TESTS },
  { role: 'witness-node', way: 'cut-both', bounds: [{ metric: 'witness-reregistered', withinMs: WITNESS_CUT_MS }], coveredBy: WITNESS_TESTS },
  { role: 'witness-node', way: 'cut-in', bounds: [{ metric: 'witness-reregistered', withinMs: WITNESS_CUT_MS }], coveredBy: WITNESS_TESTS },
  // The node hears the others, its answers are lost: the leader declares it down, and a node out
  // of the cluster's view stops its witness service's registrations (the client re-registers).
  { role: 'witness-node', way: 'cut-out', bounds: [{ metric: 'witness-reregistered', withinMs: TEN_S }] },
  { role: 'witness-node', way: 'cut-clients', bounds: [{ metric: 'witness-reregistered', withinMs: WITNESS_CUT_MS }], coveredBy: WITNESS_TESTS },
  // The owner of the client's CSV (the client's data node is another node): the leader moves the
  // CSV once the owner is declared down and its lease has run out.
  { role: 'csv-owner', way: 'kill', bounds: [{ metric: 'csv-served-elsewhere', withinMs: TEN_S }, clientBack()] },
  { role: 'csv-owner', way: 'freeze', bounds: [{ metric: 'csv-served-elsewhere', withinMs: TEN_S }, clientBack()] },
  { role: 'csv-owner', way: 'cut-both', bounds: [{ metric: 'csv-served-elsewhere', withinMs: TEN_S }, clientBack()] },
  { role: 'csv-owner', way: 'cut-in', bounds: [{ metric: 'csv-served-elsewhere', withinMs: TEN_S }, clientBack()] },
  { role: 'csv-owner', way: 'cut-out', bounds: [{ metric: 'csv-served-elsewhere', withinMs: TEN_S }, clientBack()] },
  { role: 'csv-owner', way: 'cut-clients', bounds: [clientBack(UNAFFECTED_PAUSE_MS)], unaffected: CLIENTS_ONLY },
  // The leader (owning no CSV of the client's, neither its data nor its witness node).
  { role: 'leader', way: 'kill', bounds: [{ metric: 'new-leader', withinMs: TEN_S }, clientBack()] },
  { role: 'leader', way: 'freeze', bounds: [{ metric: 'new-leader', withinMs: TEN_S }, clientBack()] },
  { role: 'leader', way: 'cut-both', bounds: [{ metric: 'new-leader', withinMs: TEN_S }, clientBack()] },
  { role: 'leader', way: 'cut-in', bounds: [{ metric: 'new-leader', withinMs: TEN_S }, clientBack()] },
  { role: 'leader', way: 'cut-out', bounds: [{ metric: 'new-leader', withinMs: TEN_S }, clientBack()] },
  { role: 'leader', way: 'cut-clients', bounds: [clientBack(UNAFFECTED_PAUSE_MS)], unaffected: CLIENTS_ONLY },
  // The holder of the quorum witness (a file witness: its lease is renewed by the leader).
  { role: 'quorum-witness-holder', way: 'kill', bounds: [{ metric: 'witness-rearbitrated', withinMs: TEN_S }, clientBack()] },
  { role: 'quorum-witness-holder', way: 'freeze', bounds: [{ metric: 'witness-rearbitrated', withinMs: TEN_S }, clientBack()] },
  // Cut off from the other node, the holder still reaches the witness (a folder both nodes
  // reach: the network rules do not touch it) and keeps renewing it: it keeps the cluster and the
  // survivor, one vote short, stops. That is WSFC's tie-break (the side that holds the witness
  // runs); with a file share witness on the network a node cut off from everything would lose it
  // too, which the lab cannot make (the cloud witness in a namespace is reached from 127.0.0.1,
  // the same for every node).
  {
    role: 'quorum-witness-holder',
    way: 'cut-both',
    bounds: [],
    limit: `${HOLDER_KEEPS} The client, on the survivor and cut off from the holder, has no node to work on until the cut heals.`,
  },
  {
    role: 'quorum-witness-holder',
    way: 'cut-in',
    bounds: [],
    limit: `${HOLDER_KEEPS} The survivor's lease needs the holder's answers, which it sends but never gets the requests for; the client, cut off from the holder, waits for the heal.`,
  },
  {
    role: 'quorum-witness-holder',
    way: 'cut-out',
    bounds: [clientBack()],
    limit: `${HOLDER_KEEPS} Its answers are lost, so the survivor stops; the client reaches the holder and goes on there.`,
  },
  { role: 'quorum-witness-holder', way: 'cut-clients', bounds: [clientBack(UNAFFECTED_PAUSE_MS)], unaffected: CLIENTS_ONLY },
]

/**
 * The cluster a cell runs in: 3 nodes, and 2 for the quorum witness holder. The witness is a
 * vote only when the voting nodes are even (core/quorum: witnessVotes), and a 3-node cluster
 * that lost a node keeps its quorum by dynamic quorum without it; with two nodes it is the
 * third vote, held by the leader, and the survivor must win it to go on: the case WSFC's file
 * share witness is for. With two nodes the client's witness node is the holder (the data node
 * is the other): the row loses the client's witness node too.
 */
export function clusterSizeOf(cell: Pick<MatrixCell, 'role'>): 2 | 3 {
  return cell.role === 'quorum-witness-holder' ? 2 : 3
}

export function cellId(c: Pick<MatrixCell, 'role' | 'way'>): string {
  return `${c.role}/${c.way}`
}

/** The cells named (role/way, or a role or way alone for its row or column); every cell for none. */
export function selectCells(names: readonly string[]): { cells: MatrixCell[]; unknown: string[] } {
  if (names.length === 0) return { cells: [...MATRIX_CELLS], unknown: [] }
  const unknown = names.filter((n) => !MATRIX_CELLS.some((c) => cellId(c) === n || c.role === n || c.way === n))
  const cells = MATRIX_CELLS.filter((c) => names.some((n) => cellId(c) === n || c.role === n || c.way === n))
  return { cells, unknown }
}
