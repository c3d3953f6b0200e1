// Original file: /work/main/proto/witness.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AsyncNotifyReply as _swlab_witness_v1_AsyncNotifyReply, AsyncNotifyReply__Output as _swlab_witness_v1_AsyncNotifyReply__Output } from '../../../swlab/witness/v1/AsyncNotifyReply.js';
import type { AsyncNotifyRequest as _swlab_witness_v1_AsyncNotifyRequest, AsyncNotifyRequest__Output as _swlab_witness_v1_AsyncNotifyRequest__Output } from '../../../swlab/witness/v1/AsyncNotifyRequest.js';
import type { GetInterfaceListReply as _swlab_witness_v1_GetInterfaceListReply, GetInterfaceListReply__Output as _swlab_witness_v1_GetInterfaceListReply__Output } from '../../../swlab/witness/v1/GetInterfaceListReply.js';
import type { GetInterfaceListRequest as _swlab_witness_v1_GetInterfaceListRequest, GetInterfaceListRequest__Output as _swlab_witness_v1_GetInterfaceListRequest__Output } from '../../../swlab/witness/v1/GetInterfaceListRequest.js';
import type { RegisterExRequest as _swlab_witness_v1_RegisterExRequest, RegisterExRequest__Output as _swlab_witness_v1_RegisterExRequest__Output } from '../../../swlab/witness/v1/RegisterExRequest.js';
import type { RegisterReply as _swlab_witness_v1_RegisterReply, RegisterReply__Output as _swlab_witness_v1_RegisterReply__Output } from '../../../swlab/witness/v1/RegisterReply.js';
import type { RegisterRequest as _swlab_witness_v1_RegisterRequest, RegisterRequest__Output as _swlab_witness_v1_RegisterRequest__Output } from '../../../swlab/witness/v1/RegisterRequest.js';
import type { UnRegisterReply as _swlab_witness_v1_UnRegisterReply, UnRegisterReply__Output as _swlab_witness_v1_UnRegisterReply__Output } from '../../../swlab/witness/v1/UnRegisterReply.js';
import type { UnRegisterRequest as _swlab_witness_v1_UnRegisterRequest, UnRegisterRequest__Output as _swlab_witness_v1_UnRegisterRequest__Output } from '../../../swlab/witness/v1/UnRegisterRequest.js';

export interface WitnessClient extends grpc.Client {
  AsyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  AsyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  AsyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  AsyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  asyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  asyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  asyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  asyncNotify(argument: _swlab_witness_v1_AsyncNotifyRequest, callback: grpc.requestCallback<_swlab_witness_v1_AsyncNotifyReply__Output>): grpc.ClientUnaryCall;
  
  GetInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  GetInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  GetInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  GetInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  getInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  getInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  getInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  getInterfaceList(argument: _swlab_witness_v1_GetInterfaceListRequest, callback: grpc.requestCallback<_swlab_witness_v1_GetInterfaceListReply__Output>): grpc.ClientUnaryCall;
  
  Register(argument: _swlab_witness_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  Register(argument: _swlab_witness_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  Register(argument: _swlab_witness_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  Register(argument: _swlab_witness_v1_RegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  register(argument: _swlab_witness_v1_RegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  register(argument: _swlab_witness_v1_RegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  register(argument: _swlab_witness_v1_RegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  register(argument: _swlab_witness_v1_RegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  
  RegisterEx(argument: _swlab_witness_v1_RegisterExRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  RegisterEx(argument: _swlab_witness_v1_RegisterExRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  RegisterEx(argument: _swlab_witness_v1_RegisterExRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  RegisterEx(argument: _swlab_witness_v1_RegisterExRequest, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  registerEx(argument: _swlab_witness_v1_RegisterExRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  registerEx(argument: _swlab_witness_v1_RegisterExRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  registerEx(argument: _swlab_witness_v1_RegisterExRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  registerEx(argument: _swlab_witness_v1_RegisterExRequest, callback: grpc.requestCallback<_swlab_witness_v1_RegisterReply__Output>): grpc.ClientUnaryCall;
  
  UnRegister(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegister(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegister(argument: _swlab_witness_v1_UnRegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegister(argument: _swlab_witness_v1_UnRegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegister(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegister(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegister(argument: _swlab_witness_v1_UnRegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegister(argument: _swlab_witness_v1_UnRegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  
  UnRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  UnRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  unRegisterEx(argument: _swlab_witness_v1_UnRegisterRequest, callback: grpc.requestCallback<_swlab_witness_v1_UnRegisterReply__Output>): grpc.ClientUnaryCall;
  
}

export interface WitnessHandlers extends grpc.UntypedServiceImplementation {
  AsyncNotify: grpc.handleUnaryCall<_swlab_witness_v1_AsyncNotifyRequest__Output, _swlab_witness_v1_AsyncNotifyReply>;
  
  GetInterfaceList: grpc.handleUnaryCall<_swlab_witness_v1_GetInterfaceListRequest__Output, _swlab_witness_v1_GetInterfaceListReply>;
  
  Register: grpc.handleUnaryCall<_swlab_witness_v1_RegisterRequest__Output, _swlab_witness_v1_RegisterReply>;
  
  RegisterEx: grpc.handleUnaryCall<_swlab_witness_v1_RegisterExRequest__Output, _swlab_witness_v1_RegisterReply>;
  
  UnRegister: grpc.handleUnaryCall<_swlab_witness_v1_UnRegisterRequest__Output, _swlab_witness_v1_UnRegisterReply>;
  
  UnRegisterEx: grpc.handleUnaryCall<_swlab_witness_v1_UnRegisterRequest__Output, _swlab_witness_v1_UnRegisterReply>;
  
}

export interface WitnessDefinition extends grpc.ServiceDefinition {
  AsyncNotify: MethodDefinition<_swlab_witness_v1_AsyncNotifyRequest, _swlab_witness_v1_AsyncNotifyReply, _swlab_witness_v1_AsyncNotifyRequest__Output, _swlab_witness_v1_AsyncNotifyReply__Output>
  GetInterfaceList: MethodDefinition<_swlab_witness_v1_GetInterfaceListRequest, _swlab_witness_v1_GetInterfaceListReply, _swlab_witness_v1_GetInterfaceListRequest__Output, _swlab_witness_v1_GetInterfaceListReply__Output>
  Register: MethodDefinition<_swlab_witness_v1_RegisterRequest, _swlab_witness_v1_RegisterReply, _swlab_witness_v1_RegisterRequest__Output, _swlab_witness_v1_RegisterReply__Output>
  RegisterEx: MethodDefinition<_swlab_witness_v1_RegisterExRequest, _swlab_witness_v1_RegisterReply, _swlab_witness_v1_RegisterExRequest__Output, _swlab_witness_v1_RegisterReply__Output>
  UnRegister: MethodDefinition<_swlab_witness_v1_UnRegisterRequest, _swlab_witness_v1_UnRegisterReply, _swlab_witness_v1_UnRegisterRequest__Output, _swlab_witness_v1_UnRegisterReply__Output>
  UnRegisterEx: MethodDefinition<_swlab_witness_v1_UnRegisterRequest, _swlab_witness_v1_UnRegisterReply, _swlab_witness_v1_UnRegisterRequest__Output, _swlab_witness_v1_UnRegisterReply__Output>
}
