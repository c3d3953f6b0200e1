// Original file: /work/main/proto/peer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeliverAck as _swlab_peer_v1_DeliverAck, DeliverAck__Output as _swlab_peer_v1_DeliverAck__Output } from '../../../swlab/peer/v1/DeliverAck.js';
import type { Envelope as _swlab_peer_v1_Envelope, Envelope__Output as _swlab_peer_v1_Envelope__Output } from '../../../swlab/peer/v1/Envelope.js';
import type { SmbDisconnectRequest as _swlab_peer_v1_SmbDisconnectRequest, SmbDisconnectRequest__Output as _swlab_peer_v1_SmbDisconnectRequest__Output } from '../../../swlab/peer/v1/SmbDisconnectRequest.js';
import type { SmbForwardReply as _swlab_peer_v1_SmbForwardReply, SmbForwardReply__Output as _swlab_peer_v1_SmbForwardReply__Output } from '../../../swlab/peer/v1/SmbForwardReply.js';
import type { SmbForwardRequest as _swlab_peer_v1_SmbForwardRequest, SmbForwardRequest__Output as _swlab_peer_v1_SmbForwardRequest__Output } from '../../../swlab/peer/v1/SmbForwardRequest.js';

export interface PeerClient extends grpc.Client {
  Deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _swlab_peer_v1_Envelope, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  deliver(argument: _swlab_peer_v1_Envelope, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  
  SmbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  SmbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  SmbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  SmbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  smbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  smbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  smbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  smbDisconnect(argument: _swlab_peer_v1_SmbDisconnectRequest, callback: grpc.requestCallback<_swlab_peer_v1_DeliverAck__Output>): grpc.ClientUnaryCall;
  
  SmbForward(argument: _swlab_peer_v1_SmbForwardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  SmbForward(argument: _swlab_peer_v1_SmbForwardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  SmbForward(argument: _swlab_peer_v1_SmbForwardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  SmbForward(argument: _swlab_peer_v1_SmbForwardRequest, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  smbForward(argument: _swlab_peer_v1_SmbForwardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  smbForward(argument: _swlab_peer_v1_SmbForwardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  smbForward(argument: _swlab_peer_v1_SmbForwardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  smbForward(argument: _swlab_peer_v1_SmbForwardRequest, callback: grpc.requestCallback<_swlab_peer_v1_SmbForwardReply__Output>): grpc.ClientUnaryCall;
  
}

export interface PeerHandlers extends grpc.UntypedServiceImplementation {
  Deliver: grpc.handleUnaryCall<_swlab_peer_v1_Envelope__Output, _swlab_peer_v1_DeliverAck>;
  
  SmbDisconnect: grpc.handleUnaryCall<_swlab_peer_v1_SmbDisconnectRequest__Output, _swlab_peer_v1_DeliverAck>;
  
  SmbForward: grpc.handleUnaryCall<_swlab_peer_v1_SmbForwardRequest__Output, _swlab_peer_v1_SmbForwardReply>;
  
}

export interface PeerDefinition extends grpc.ServiceDefinition {
  Deliver: MethodDefinition<_swlab_peer_v1_Envelope, _swlab_peer_v1_DeliverAck, _swlab_peer_v1_Envelope__Output, _swlab_peer_v1_DeliverAck__Output>
  SmbDisconnect: MethodDefinition<_swlab_peer_v1_SmbDisconnectRequest, _swlab_peer_v1_DeliverAck, _swlab_peer_v1_SmbDisconnectRequest__Output, _swlab_peer_v1_DeliverAck__Output>
  SmbForward: MethodDefinition<_swlab_peer_v1_SmbForwardRequest, _swlab_peer_v1_SmbForwardReply, _swlab_peer_v1_SmbForwardRequest__Output, _swlab_peer_v1_SmbForwardReply__Output>
}
