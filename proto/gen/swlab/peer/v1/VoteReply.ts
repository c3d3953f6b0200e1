// Original file: /work/main/proto/peer.proto


export interface VoteReply {
  'term'?: (number);
  'preVote'?: (boolean);
  'granted'?: (boolean);
}

export interface VoteReply__Output {
  'term': (number);
  'preVote': (boolean);
  'granted': (boolean);
}
