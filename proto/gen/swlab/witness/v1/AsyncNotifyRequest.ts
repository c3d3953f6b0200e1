// Original file: /work/main/proto/witness.proto

import type { ContextHandle as _swlab_witness_v1_ContextHandle, ContextHandle__Output as _swlab_witness_v1_ContextHandle__Output } from '../../../swlab/witness/v1/ContextHandle.js';

export interface AsyncNotifyRequest {
  'contextHandle'?: (_swlab_witness_v1_ContextHandle | null);
}

export interface AsyncNotifyRequest__Output {
  'contextHandle': (_swlab_witness_v1_ContextHandle__Output | null);
}
