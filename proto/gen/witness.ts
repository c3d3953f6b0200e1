import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AsyncNotifyReply as _swlab_witness_v1_AsyncNotifyReply, AsyncNotifyReply__Output as _swlab_witness_v1_AsyncNotifyReply__Output } from './swlab/witness/v1/AsyncNotifyReply.js';
import type { AsyncNotifyRequest as _swlab_witness_v1_AsyncNotifyRequest, AsyncNotifyRequest__Output as _swlab_witness_v1_AsyncNotifyRequest__Output } from './swlab/witness/v1/AsyncNotifyRequest.js';
import type { ContextHandle as _swlab_witness_v1_ContextHandle, ContextHandle__Output as _swlab_witness_v1_ContextHandle__Output } from './swlab/witness/v1/ContextHandle.js';
import type { GetInterfaceListReply as _swlab_witness_v1_GetInterfaceListReply, GetInterfaceListReply__Output as _swlab_witness_v1_GetInterfaceListReply__Output } from './swlab/witness/v1/GetInterfaceListReply.js';
import type { GetInterfaceListRequest as _swlab_witness_v1_GetInterfaceListRequest, GetInterfaceListRequest__Output as _swlab_witness_v1_GetInterfaceListRequest__Output } from './swlab/witness/v1/GetInterfaceListRequest.js';
import type { InterfaceInfo as _swlab_witness_v1_InterfaceInfo, InterfaceInfo__Output as _swlab_witness_v1_InterfaceInfo__Output } from './swlab/witness/v1/InterfaceInfo.js';
import type { IpAddrInfo as _swlab_witness_v1_IpAddrInfo, IpAddrInfo__Output as _swlab_witness_v1_IpAddrInfo__Output } from './swlab/witness/v1/IpAddrInfo.js';
import type { RegisterExRequest as _swlab_witness_v1_RegisterExRequest, RegisterExRequest__Output as _swlab_witness_v1_RegisterExRequest__Output } from './swlab/witness/v1/RegisterExRequest.js';
import type { RegisterReply as _swlab_witness_v1_RegisterReply, RegisterReply__Output as _swlab_witness_v1_RegisterReply__Output } from './swlab/witness/v1/RegisterReply.js';
import type { RegisterRequest as _swlab_witness_v1_RegisterRequest, RegisterRequest__Output as _swlab_witness_v1_RegisterRequest__Output } from './swlab/witness/v1/RegisterRequest.js';
import type { ResourceChange as _swlab_witness_v1_ResourceChange, ResourceChange__Output as _swlab_witness_v1_ResourceChange__Output } from './swlab/witness/v1/ResourceChange.js';
import type { UnRegisterReply as _swlab_witness_v1_UnRegisterReply, UnRegisterReply__Output as _swlab_witness_v1_UnRegisterReply__Output } from './swlab/witness/v1/UnRegisterReply.js';
import type { UnRegisterRequest as _swlab_witness_v1_UnRegisterRequest, UnRegisterRequest__Output as _swlab_witness_v1_UnRegisterRequest__Output } from './swlab/witness/v1/UnRegisterRequest.js';
import type { WitnessClient as _swlab_witness_v1_WitnessClient, WitnessDefinition as _swlab_witness_v1_WitnessDefinition } from './swlab/witness/v1/Witness.js';
import type { WitnessResult as _swlab_witness_v1_WitnessResult, WitnessResult__Output as _swlab_witness_v1_WitnessResult__Output } from './swlab/witness/v1/WitnessResult.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swlab: {
    witness: {
      v1: {
        AsyncNotifyReply: MessageTypeDefinition<_swlab_witness_v1_AsyncNotifyReply, _swlab_witness_v1_AsyncNotifyReply__Output>
        AsyncNotifyRequest: MessageTypeDefinition<_swlab_witness_v1_AsyncNotifyRequest, _swlab_witness_v1_AsyncNotifyRequest__Output>
        ContextHandle: MessageTypeDefinition<_swlab_witness_v1_ContextHandle, _swlab_witness_v1_ContextHandle__Output>
        GetInterfaceListReply: MessageTypeDefinition<_swlab_witness_v1_GetInterfaceListReply, _swlab_witness_v1_GetInterfaceListReply__Output>
        GetInterfaceListRequest: MessageTypeDefinition<_swlab_witness_v1_GetInterfaceListRequest, _swlab_witness_v1_GetInterfaceListRequest__Output>
        InterfaceInfo: MessageTypeDefinition<_swlab_witness_v1_InterfaceInfo, _swlab_witness_v1_InterfaceInfo__Output>
        IpAddrInfo: MessageTypeDefinition<_swlab_witness_v1_IpAddrInfo, _swlab_witness_v1_IpAddrInfo__Output>
        RegisterExRequest: MessageTypeDefinition<_swlab_witness_v1_RegisterExRequest, _swlab_witness_v1_RegisterExRequest__Output>
        RegisterReply: MessageTypeDefinition<_swlab_witness_v1_RegisterReply, _swlab_witness_v1_RegisterReply__Output>
        RegisterRequest: MessageTypeDefinition<_swlab_witness_v1_RegisterRequest, _swlab_witness_v1_RegisterRequest__Output>
        ResourceChange: MessageTypeDefinition<_swlab_witness_v1_ResourceChange, _swlab_witness_v1_ResourceChange__Output>
        UnRegisterReply: MessageTypeDefinition<_swlab_witness_v1_UnRegisterReply, _swlab_witness_v1_UnRegisterReply__Output>
        UnRegisterRequest: MessageTypeDefinition<_swlab_witness_v1_UnRegisterRequest, _swlab_witness_v1_UnRegisterRequest__Output>
        Witness: SubtypeConstructor<typeof grpc.Client, _swlab_witness_v1_WitnessClient> & { service: _swlab_witness_v1_WitnessDefinition }
        WitnessResult: MessageTypeDefinition<_swlab_witness_v1_WitnessResult, _swlab_witness_v1_WitnessResult__Output>
      }
    }
  }
}

