// Original file: /work/main/proto/witness.proto

import type { WitnessResult as _swlab_witness_v1_WitnessResult, WitnessResult__Output as _swlab_witness_v1_WitnessResult__Output } from '../../../swlab/witness/v1/WitnessResult.js';
import type { InterfaceInfo as _swlab_witness_v1_InterfaceInfo, InterfaceInfo__Output as _swlab_witness_v1_InterfaceInfo__Output } from '../../../swlab/witness/v1/InterfaceInfo.js';

export interface GetInterfaceListReply {
  'result'?: (_swlab_witness_v1_WitnessResult | null);
  'interfaces'?: (_swlab_witness_v1_InterfaceInfo)[];
}

export interface GetInterfaceListReply__Output {
  'result': (_swlab_witness_v1_WitnessResult__Output | null);
  'interfaces': (_swlab_witness_v1_InterfaceInfo__Output)[];
}
