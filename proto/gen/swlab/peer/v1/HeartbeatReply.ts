// Original file: /work/main/proto/peer.proto

import type { View as _swlab_peer_v1_View, View__Output as _swlab_peer_v1_View__Output } from '../../../swlab/peer/v1/View.js';

export interface HeartbeatReply {
  'term'?: (number);
  'echoSentAtMs'?: (number | string);
  /**
   * Recipient accepted the sender as its leader for term.
   */
  'acceptedLeader'?: (boolean);
  'acceptedEpoch'?: (number);
  'acceptedViewTerm'?: (number);
  /**
   * Recipient is the leader and grants the sender a serving lease.
   */
  'leaseGranted'?: (boolean);
  'committed'?: (_swlab_peer_v1_View | null);
  'proposed'?: (_swlab_peer_v1_View | null);
  'hasProposed'?: (boolean);
  'leader'?: (boolean);
}

export interface HeartbeatReply__Output {
  'term': (number);
  'echoSentAtMs': (number);
  /**
   * Recipient accepted the sender as its leader for term.
   */
  'acceptedLeader': (boolean);
  'acceptedEpoch': (number);
  'acceptedViewTerm': (number);
  /**
   * Recipient is the leader and grants the sender a serving lease.
   */
  'leaseGranted': (boolean);
  'committed': (_swlab_peer_v1_View__Output | null);
  'proposed': (_swlab_peer_v1_View__Output | null);
  'hasProposed': (boolean);
  'leader': (boolean);
}
