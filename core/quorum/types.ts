// Data types of the quorum core: views, messages, inputs and outputs. The core is a pure
// state machine; everything that crosses its boundary is one of these plain values.

export type NodeId = string
export type MemberState = 'up' | 'down'

export interface Member {
  readonly id: NodeId
  readonly state: MemberState
  /** Dynamic quorum weight: 1 while the node votes, 0 after it left gracefully. */
  readonly vote: 0 | 1
}

export interface CsvOwner {
  readonly name: string
  /** Owner node id, or '' while nobody owns it (unassigned, or released during a move). */
  readonly owner: NodeId | ''
}

/** A membership view. Views are whole states: a newer view replaces an older one. */
export interface View {
  readonly epoch: number
  /** Term of the leader that proposed this view; (viewTerm, epoch) orders views. */
  readonly viewTerm: number
  readonly leaderId: NodeId | ''
  readonly members: readonly Member[]
  readonly csvs: readonly CsvOwner[]
}

export interface Heartbeat {
  readonly kind: 'heartbeat'
  readonly term: number
  readonly leader: boolean
  readonly sentAtMs: number
  /**
   * The leader's committed view; null in a non-leader's heartbeat, which nobody reads it from
   * (at 64 nodes each heartbeat would carry ~1.5 KB that every receiver decodes and drops).
   */
  readonly committed: View | null
  readonly proposed: View | null
  readonly leaving: boolean
}

export interface HeartbeatReply {
  readonly kind: 'heartbeat-reply'
  readonly term: number
  readonly echoSentAtMs: number
  readonly acceptedLeader: boolean
  readonly acceptedEpoch: number
  readonly acceptedViewTerm: number
  readonly leaseGranted: boolean
  readonly leader: boolean
  readonly committed: View | null
  readonly proposed: View | null
}

export interface VoteRequest {
  readonly kind: 'vote-request'
  readonly term: number
  readonly preVote: boolean
  readonly lastViewTerm: number
  readonly lastEpoch: number
  /** A leader whose process the candidate found gone (connection refused), or ''. */
  readonly deadLeader: NodeId | ''
}

export interface VoteReply {
  readonly kind: 'vote-reply'
  readonly term: number
  readonly preVote: boolean
  readonly granted: boolean
}

export type Message = Heartbeat | HeartbeatReply | VoteRequest | VoteReply

export interface Envelope {
  readonly from: NodeId
  readonly to: NodeId
  readonly body: Message
}

export type Input =
  | { readonly kind: 'tick'; readonly nowMs: number }
  | { readonly kind: 'receive'; readonly nowMs: number; readonly envelope: Envelope }
  /** The peer's port refused a connection: its process is gone. */
  | {
      readonly kind: 'peer-refused'
      readonly nowMs: number
      readonly peerId: NodeId
      /** When the refused connection attempt started: a peer heard from since then is back. */
      readonly attemptMs: number
    }
  | {
      readonly kind: 'witness-result'
      readonly nowMs: number
      readonly granted: boolean
      /** The sentAtMs of the witness-acquire output this answers. */
      readonly sentAtMs: number
      /** The view id the request carried, echoed back. */
      readonly viewTerm: number
      readonly epoch: number
      readonly holder: NodeId | ''
    }
  | { readonly kind: 'move-csv'; readonly nowMs: number; readonly csv: string; readonly to: NodeId }
  | { readonly kind: 'leave'; readonly nowMs: number }

export type Output =
  /** Write term and vote to stable storage before doing anything else of this step. */
  | {
      readonly kind: 'persist'
      readonly hardState: {
        readonly term: number
        readonly votedFor: NodeId | ''
        readonly committed: View | null
        readonly accepted: View | null
      }
    }
  | { readonly kind: 'send'; readonly envelope: Envelope }
  /**
   * Ask the quorum witness for (or to renew) its lease for this node. The witness stores the
   * newest view id it granted with (WSFC's "paxos tag") and denies a requester whose view is
   * older, so a view committed with the witness's vote cannot be lost by the next leader.
   */
  | {
      readonly kind: 'witness-acquire'
      readonly sentAtMs: number
      readonly durationMs: number
      readonly term: number
      readonly viewTerm: number
      readonly epoch: number
    }
  | { readonly kind: 'event'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly kind: 'move-result'; readonly ok: boolean; readonly error: string; readonly leaderId: NodeId | '' }

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader'
