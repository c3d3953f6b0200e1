// Original file: /work/main/proto/witness.proto

import type { WitnessResult as _swlab_witness_v1_WitnessResult, WitnessResult__Output as _swlab_witness_v1_WitnessResult__Output } from '../../../swlab/witness/v1/WitnessResult.js';
import type { ContextHandle as _swlab_witness_v1_ContextHandle, ContextHandle__Output as _swlab_witness_v1_ContextHandle__Output } from '../../../swlab/witness/v1/ContextHandle.js';

export interface UnRegisterReply {
  'result'?: (_swlab_witness_v1_WitnessResult | null);
  /**
   * UnRegisterEx returns the handle nulled (empty uuid) on success.
   */
  'contextHandle'?: (_swlab_witness_v1_ContextHandle | null);
}

export interface UnRegisterReply__Output {
  'result': (_swlab_witness_v1_WitnessResult__Output | null);
  /**
   * UnRegisterEx returns the handle nulled (empty uuid) on success.
   */
  'contextHandle': (_swlab_witness_v1_ContextHandle__Output | null);
}
