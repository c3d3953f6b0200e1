// Original file: /work/main/proto/peer.proto


export interface VoteRequest {
  'term'?: (number);
  'preVote'?: (boolean);
  'lastViewTerm'?: (number);
  'lastEpoch'?: (number);
}

export interface VoteRequest__Output {
  'term': (number);
  'preVote': (boolean);
  'lastViewTerm': (number);
  'lastEpoch': (number);
}
