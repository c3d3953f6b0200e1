// Original file: /work/main/proto/peer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeliverAck as _swlab_peer_v1_DeliverAck, DeliverAck__Output as _swlab_peer_v1_DeliverAck__Output } from '../../../swlab/peer/v1/DeliverAck.js';
import type { Envelope as _swlab_peer_v1_Envelope, Envelope__Output as _swlab_peer_v1_Envelope__Output } from '../../../swlab/peer/v1/Envelope.js';

export interface PeerClient extends grpc.Client {
  Deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  
}

export interface PeerHandlers extends grpc.UntypedServiceImplementation {
  Deliver: grpc.handleUnaryCall<_swlab_peer_v1_Envelope__Output, _swlab_peer_v1_DeliverAck>;
  
}

export interface PeerDefinition extends grpc.ServiceDefinition {
  Deliver: MethodDefinition<_swlab_peer_v1_Envelope, _swlab_peer_v1_DeliverAck, _swlab_peer_v1_Envelope__Output, _swlab_peer_v1_DeliverAck__Output>
}
