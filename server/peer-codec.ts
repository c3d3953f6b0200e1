// Converts quorum-core messages to and from their protobuf form on the peer wire.
import type { Envelope, Message, View } from '../core/quorum/types.js'
import type { Envelope as EnvelopeProto, Envelope__Output } from '../proto/gen/swlab/peer/v1/Envelope.js'
import type { View as ViewProto, View__Output } from '../proto/gen/swlab/peer/v1/View.js'

export function viewToProto(view: View): ViewProto {
  return {
    epoch: view.epoch,
    viewTerm: view.viewTerm,
    leaderId: view.leaderId,
    members: view.members.map((m) => ({ id: m.id, state: m.state, vote: m.vote })),
    csvs: view.csvs.map((c) => ({ name: c.name, owner: c.owner })),
  }
}

export function viewFromProto(view: View__Output): View {
  return {
    epoch: view.epoch,
    viewTerm: view.viewTerm,
    leaderId: view.leaderId,
    members: view.members.map((m) => ({ id: m.id, state: m.state === 'up' ? 'up' : 'down', vote: m.vote === 1 ? 1 : 0 })),
    csvs: view.csvs.map((c) => ({ name: c.name, owner: c.owner })),
  }
}

export function envelopeToProto(envelope: Envelope): EnvelopeProto {
  const { from, to, body } = envelope
  switch (body.kind) {
    case 'heartbeat':
      return {
        from,
        to,
        heartbeat: {
          term: body.term,
          leader: body.leader,
          sentAtMs: body.sentAtMs,
          committed: body.committed ? viewToProto(body.committed) : null,
          proposed: body.proposed ? viewToProto(body.proposed) : null,
          hasProposed: body.proposed !== null,
          leaving: body.leaving,
        },
      }
    case 'heartbeat-reply':
      return {
        from,
        to,
        heartbeatReply: {
          term: body.term,
          echoSentAtMs: body.echoSentAtMs,
          acceptedLeader: body.acceptedLeader,
          acceptedEpoch: body.acceptedEpoch,
          acceptedViewTerm: body.acceptedViewTerm,
          leaseGranted: body.leaseGranted,
          leader: body.leader,
          committed: body.committed ? viewToProto(body.committed) : null,
          proposed: body.proposed ? viewToProto(body.proposed) : null,
          hasProposed: body.proposed !== null,
        },
      }
    case 'vote-request':
      return { from, to, voteRequest: { ...body } }
    case 'vote-reply':
      return { from, to, voteReply: { ...body } }
  }
}

/** Decodes an envelope from the wire; a malformed one yields null and changes nothing. */
export function envelopeFromProto(e: Envelope__Output): Envelope | null {
  let body: Message
  if (e.heartbeat) {
    const h = e.heartbeat
    // A leader's heartbeat carries its committed view; another node's carries none.
    if (h.leader && !h.committed) return null
    body = {
      kind: 'heartbeat',
      term: h.term,
      leader: h.leader,
      sentAtMs: h.sentAtMs,
      committed: h.committed ? viewFromProto(h.committed) : null,
      proposed: h.hasProposed && h.proposed ? viewFromProto(h.proposed) : null,
      leaving: h.leaving,
    }
  } else if (e.heartbeatReply) {
    const r = e.heartbeatReply
    body = {
      kind: 'heartbeat-reply',
      term: r.term,
      echoSentAtMs: r.echoSentAtMs,
      acceptedLeader: r.acceptedLeader,
      acceptedEpoch: r.acceptedEpoch,
      acceptedViewTerm: r.acceptedViewTerm,
      leaseGranted: r.leaseGranted,
      leader: r.leader,
      committed: r.committed ? viewFromProto(r.committed) : null,
      proposed: r.hasProposed && r.proposed ? viewFromProto(r.proposed) : null,
    }
  } else if (e.voteRequest) {
    const v = e.voteRequest
    body = {
      kind: 'vote-request',
      term: v.term,
      preVote: v.preVote,
      lastViewTerm: v.lastViewTerm,
      lastEpoch: v.lastEpoch,
      deadLeader: v.deadLeader,
    }
  } else if (e.voteReply) {
    body = { kind: 'vote-reply', term: e.voteReply.term, preVote: e.voteReply.preVote, granted: e.voteReply.granted }
  } else {
    return null
  }
  return { from: e.from, to: e.to, body }
}
