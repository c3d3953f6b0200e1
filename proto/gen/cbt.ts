import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ChangedRange as _swlab_cbt_v1_ChangedRange, ChangedRange__Output as _swlab_cbt_v1_ChangedRange__Output } from './swlab/cbt/v1/ChangedRange.js';
import type { ChangesReply as _swlab_cbt_v1_ChangesReply, ChangesReply__Output as _swlab_cbt_v1_ChangesReply__Output } from './swlab/cbt/v1/ChangesReply.js';
import type { ChangesRequest as _swlab_cbt_v1_ChangesRequest, ChangesRequest__Output as _swlab_cbt_v1_ChangesRequest__Output } from './swlab/cbt/v1/ChangesRequest.js';
import type { VendorCbtClient as _swlab_cbt_v1_VendorCbtClient, VendorCbtDefinition as _swlab_cbt_v1_VendorCbtDefinition } from './swlab/cbt/v1/VendorCbt.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swlab: {
    cbt: {
      v1: {
        ChangedRange: MessageTypeDefinition<_swlab_cbt_v1_ChangedRange, _swlab_cbt_v1_ChangedRange__Output>
        ChangesReply: MessageTypeDefinition<_swlab_cbt_v1_ChangesReply, _swlab_cbt_v1_ChangesReply__Output>
        ChangesRequest: MessageTypeDefinition<_swlab_cbt_v1_ChangesRequest, _swlab_cbt_v1_ChangesRequest__Output>
        VendorCbt: SubtypeConstructor<typeof grpc.Client, _swlab_cbt_v1_VendorCbtClient> & { service: _swlab_cbt_v1_VendorCbtDefinition }
      }
    }
  }
}

