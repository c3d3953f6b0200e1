// Original file: /work/main/proto/admin.proto

import type { View as _swlab_peer_v1_View, View__Output as _swlab_peer_v1_View__Output } from '../../../swlab/peer/v1/View.js';
import type { PeerLink as _swlab_admin_v1_PeerLink, PeerLink__Output as _swlab_admin_v1_PeerLink__Output } from '../../../swlab/admin/v1/PeerLink.js';

export interface NodeStatus {
  'id'?: (string);
  'pid'?: (number);
  /**
   * "leader", "follower", "candidate" or "precandidate".
   */
  'role'?: (string);
  'term'?: (number);
  'leaderId'?: (string);
  'committed'?: (_swlab_peer_v1_View | null);
  'quorum'?: (boolean);
  'serving'?: (boolean);
  'leaseRemainingMs'?: (number | string);
  'servingCsvs'?: (string)[];
  'peers'?: (_swlab_admin_v1_PeerLink)[];
  'clientAddress'?: (string);
  'clusterAddress'?: (string);
  'peerPort'?: (number);
  'adminPort'?: (number);
  'profile'?: (string);
  'uptimeMs'?: (number | string);
  /**
   * Owner of the quorum witness lease as this node last saw it (empty if none or unknown).
   */
  'witnessHolder'?: (string);
  'witnessKind'?: (string);
  'leaving'?: (boolean);
  /**
   * The SMB witness service of this node (gRPC front).
   */
  'witnessAddress'?: (string);
  'witnessPort'?: (number);
  'witnessProfile'?: (string);
  'witnessRegistrations'?: (number);
  'redirectedCsvs'?: (string)[];
}

export interface NodeStatus__Output {
  'id': (string);
  'pid': (number);
  /**
   * "leader", "follower", "candidate" or "precandidate".
   */
  'role': (string);
  'term': (number);
  'leaderId': (string);
  'committed': (_swlab_peer_v1_View__Output | null);
  'quorum': (boolean);
  'serving': (boolean);
  'leaseRemainingMs': (number);
  'servingCsvs': (string)[];
  'peers': (_swlab_admin_v1_PeerLink__Output)[];
  'clientAddress': (string);
  'clusterAddress': (string);
  'peerPort': (number);
  'adminPort': (number);
  'profile': (string);
  'uptimeMs': (number);
  /**
   * Owner of the quorum witness lease as this node last saw it (empty if none or unknown).
   */
  'witnessHolder': (string);
  'witnessKind': (string);
  'leaving': (boolean);
  /**
   * The SMB witness service of this node (gRPC front).
   */
  'witnessAddress': (string);
  'witnessPort': (number);
  'witnessProfile': (string);
  'witnessRegistrations': (number);
  'redirectedCsvs': (string)[];
}
