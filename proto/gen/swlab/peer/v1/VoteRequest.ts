// Original file: /work/main/proto/peer.proto


export interface VoteRequest {
  'term'?: (number);
  'preVote'?: (boolean);
  'lastViewTerm'?: (number);
  'lastEpoch'?: (number);
  /**
   * A leader whose process the candidate found gone (connection refused), or empty.
   */
  'deadLeader'?: (string);
}

export interface VoteRequest__Output {
  'term': (number);
  'preVote': (boolean);
  'lastViewTerm': (number);
  'lastEpoch': (number);
  /**
   * A leader whose process the candidate found gone (connection refused), or empty.
   */
  'deadLeader': (string);
}
