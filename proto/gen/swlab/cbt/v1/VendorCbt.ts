// Original file: /work/main/proto/cbt.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ChangesReply as _swlab_cbt_v1_ChangesReply, ChangesReply__Output as _swlab_cbt_v1_ChangesReply__Output } from '../../../swlab/cbt/v1/ChangesReply.js';
import type { ChangesRequest as _swlab_cbt_v1_ChangesRequest, ChangesRequest__Output as _swlab_cbt_v1_ChangesRequest__Output } from '../../../swlab/cbt/v1/ChangesRequest.js';

export interface VendorCbtClient extends grpc.Client {
  Changes(argument: _swlab_cbt_v1_ChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  Changes(argument: _swlab_cbt_v1_ChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  Changes(argument: _swlab_cbt_v1_ChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  Changes(argument: _swlab_cbt_v1_ChangesRequest, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  changes(argument: _swlab_cbt_v1_ChangesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  changes(argument: _swlab_cbt_v1_ChangesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  changes(argument: _swlab_cbt_v1_ChangesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  changes(argument: _swlab_cbt_v1_ChangesRequest, callback: grpc.requestCallback<_swlab_cbt_v1_ChangesReply__Output>): grpc.ClientUnaryCall;
  
}

export interface VendorCbtHandlers extends grpc.UntypedServiceImplementation {
  Changes: grpc.handleUnaryCall<_swlab_cbt_v1_ChangesRequest__Output, _swlab_cbt_v1_ChangesReply>;
  
}

export interface VendorCbtDefinition extends grpc.ServiceDefinition {
  Changes: MethodDefinition<_swlab_cbt_v1_ChangesRequest, _swlab_cbt_v1_ChangesReply, _swlab_cbt_v1_ChangesRequest__Output, _swlab_cbt_v1_ChangesReply__Output>
}
