// Original file: /work/main/proto/peer.proto

import type { View as _swlab_peer_v1_View, View__Output as _swlab_peer_v1_View__Output } from '../../../swlab/peer/v1/View.js';

export interface Heartbeat {
  'term'?: (number);
  /**
   * True when the sender is the leader of term.
   */
  'leader'?: (boolean);
  /**
   * Sender's monotonic clock at send time, echoed back unchanged.
   */
  'sentAtMs'?: (number | string);
  'committed'?: (_swlab_peer_v1_View | null);
  /**
   * The view the leader proposes and waits to commit (leader only).
   */
  'proposed'?: (_swlab_peer_v1_View | null);
  'hasProposed'?: (boolean);
  /**
   * Set by a node that is leaving gracefully and gives up its vote.
   */
  'leaving'?: (boolean);
}

export interface Heartbeat__Output {
  'term': (number);
  /**
   * True when the sender is the leader of term.
   */
  'leader': (boolean);
  /**
   * Sender's monotonic clock at send time, echoed back unchanged.
   */
  'sentAtMs': (number);
  'committed': (_swlab_peer_v1_View__Output | null);
  /**
   * The view the leader proposes and waits to commit (leader only).
   */
  'proposed': (_swlab_peer_v1_View__Output | null);
  'hasProposed': (boolean);
  /**
   * Set by a node that is leaving gracefully and gives up its vote.
   */
  'leaving': (boolean);
}
