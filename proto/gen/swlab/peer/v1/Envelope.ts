// Original file: /work/main/proto/peer.proto

import type { Heartbeat as _swlab_peer_v1_Heartbeat, Heartbeat__Output as _swlab_peer_v1_Heartbeat__Output } from '../../../swlab/peer/v1/Heartbeat.js';
import type { HeartbeatReply as _swlab_peer_v1_HeartbeatReply, HeartbeatReply__Output as _swlab_peer_v1_HeartbeatReply__Output } from '../../../swlab/peer/v1/HeartbeatReply.js';
import type { VoteRequest as _swlab_peer_v1_VoteRequest, VoteRequest__Output as _swlab_peer_v1_VoteRequest__Output } from '../../../swlab/peer/v1/VoteRequest.js';
import type { VoteReply as _swlab_peer_v1_VoteReply, VoteReply__Output as _swlab_peer_v1_VoteReply__Output } from '../../../swlab/peer/v1/VoteReply.js';

export interface Envelope {
  'from'?: (string);
  'to'?: (string);
  'heartbeat'?: (_swlab_peer_v1_Heartbeat | null);
  'heartbeatReply'?: (_swlab_peer_v1_HeartbeatReply | null);
  'voteRequest'?: (_swlab_peer_v1_VoteRequest | null);
  'voteReply'?: (_swlab_peer_v1_VoteReply | null);
  'body'?: "heartbeat"|"heartbeatReply"|"voteRequest"|"voteReply";
}

export interface Envelope__Output {
  'from': (string);
  'to': (string);
  'heartbeat'?: (_swlab_peer_v1_Heartbeat__Output | null);
  'heartbeatReply'?: (_swlab_peer_v1_HeartbeatReply__Output | null);
  'voteRequest'?: (_swlab_peer_v1_VoteRequest__Output | null);
  'voteReply'?: (_swlab_peer_v1_VoteReply__Output | null);
  'body'?: "heartbeat"|"heartbeatReply"|"voteRequest"|"voteReply";
}
