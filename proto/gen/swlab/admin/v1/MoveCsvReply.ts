// Original file: /work/main/proto/admin.proto


export interface MoveCsvReply {
  'ok'?: (boolean);
  'error'?: (string);
  /**
   * Leader the request must go to when this node is not the leader.
   */
  'leaderId'?: (string);
}

export interface MoveCsvReply__Output {
  'ok': (boolean);
  'error': (string);
  /**
   * Leader the request must go to when this node is not the leader.
   */
  'leaderId': (string);
}
