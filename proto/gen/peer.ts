import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CsvOwner as _swlab_peer_v1_CsvOwner, CsvOwner__Output as _swlab_peer_v1_CsvOwner__Output } from './swlab/peer/v1/CsvOwner.js';
import type { DeliverAck as _swlab_peer_v1_DeliverAck, DeliverAck__Output as _swlab_peer_v1_DeliverAck__Output } from './swlab/peer/v1/DeliverAck.js';
import type { Envelope as _swlab_peer_v1_Envelope, Envelope__Output as _swlab_peer_v1_Envelope__Output } from './swlab/peer/v1/Envelope.js';
import type { Heartbeat as _swlab_peer_v1_Heartbeat, Heartbeat__Output as _swlab_peer_v1_Heartbeat__Output } from './swlab/peer/v1/Heartbeat.js';
import type { HeartbeatReply as _swlab_peer_v1_HeartbeatReply, HeartbeatReply__Output as _swlab_peer_v1_HeartbeatReply__Output } from './swlab/peer/v1/HeartbeatReply.js';
import type { Member as _swlab_peer_v1_Member, Member__Output as _swlab_peer_v1_Member__Output } from './swlab/peer/v1/Member.js';
import type { PeerClient as _swlab_peer_v1_PeerClient, PeerDefinition as _swlab_peer_v1_PeerDefinition } from './swlab/peer/v1/Peer.js';
import type { SmbDisconnectRequest as _swlab_peer_v1_SmbDisconnectRequest, SmbDisconnectRequest__Output as _swlab_peer_v1_SmbDisconnectRequest__Output } from './swlab/peer/v1/SmbDisconnectRequest.js';
import type { SmbForwardReply as _swlab_peer_v1_SmbForwardReply, SmbForwardReply__Output as _swlab_peer_v1_SmbForwardReply__Output } from './swlab/peer/v1/SmbForwardReply.js';
import type { SmbForwardRequest as _swlab_peer_v1_SmbForwardRequest, SmbForwardRequest__Output as _swlab_peer_v1_SmbForwardRequest__Output } from './swlab/peer/v1/SmbForwardRequest.js';
import type { View as _swlab_peer_v1_View, View__Output as _swlab_peer_v1_View__Output } from './swlab/peer/v1/View.js';
import type { VoteReply as _swlab_peer_v1_VoteReply, VoteReply__Output as _swlab_peer_v1_VoteReply__Output } from './swlab/peer/v1/VoteReply.js';
import type { VoteRequest as _swlab_peer_v1_VoteRequest, VoteRequest__Output as _swlab_peer_v1_VoteRequest__Output } from './swlab/peer/v1/VoteRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swlab: {
    peer: {
      v1: {
        CsvOwner: MessageTypeDefinition<_swlab_peer_v1_CsvOwner, _swlab_peer_v1_CsvOwner__Output>
        DeliverAck: MessageTypeDefinition<_swlab_peer_v1_DeliverAck, _swlab_peer_v1_DeliverAck__Output>
        Envelope: MessageTypeDefinition<_swlab_peer_v1_Envelope, _swlab_peer_v1_Envelope__Output>
        Heartbeat: MessageTypeDefinition<_swlab_peer_v1_Heartbeat, _swlab_peer_v1_Heartbeat__Output>
        HeartbeatReply: MessageTypeDefinition<_swlab_peer_v1_HeartbeatReply, _swlab_peer_v1_HeartbeatReply__Output>
        Member: MessageTypeDefinition<_swlab_peer_v1_Member, _swlab_peer_v1_Member__Output>
        Peer: SubtypeConstructor<typeof grpc.Client, _swlab_peer_v1_PeerClient> & { service: _swlab_peer_v1_PeerDefinition }
        SmbDisconnectRequest: MessageTypeDefinition<_swlab_peer_v1_SmbDisconnectRequest, _swlab_peer_v1_SmbDisconnectRequest__Output>
        SmbForwardReply: MessageTypeDefinition<_swlab_peer_v1_SmbForwardReply, _swlab_peer_v1_SmbForwardReply__Output>
        SmbForwardRequest: MessageTypeDefinition<_swlab_peer_v1_SmbForwardRequest, _swlab_peer_v1_SmbForwardRequest__Output>
        View: MessageTypeDefinition<_swlab_peer_v1_View, _swlab_peer_v1_View__Output>
        VoteReply: MessageTypeDefinition<_swlab_peer_v1_VoteReply, _swlab_peer_v1_VoteReply__Output>
        VoteRequest: MessageTypeDefinition<_swlab_peer_v1_VoteRequest, _swlab_peer_v1_VoteRequest__Output>
      }
    }
  }
}

