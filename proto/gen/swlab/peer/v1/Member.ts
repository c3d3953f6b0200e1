// Original file: /work/main/proto/peer.proto


/**
 * One member of a membership view.
 */
export interface Member {
  'id'?: (string);
  /**
   * "up" or "down".
   */
  'state'?: (string);
  /**
   * Dynamic quorum weight: 1 while the node votes, 0 after it left gracefully.
   */
  'vote'?: (number);
}

/**
 * One member of a membership view.
 */
export interface Member__Output {
  'id': (string);
  /**
   * "up" or "down".
   */
  'state': (string);
  /**
   * Dynamic quorum weight: 1 while the node votes, 0 after it left gracefully.
   */
  'vote': (number);
}
