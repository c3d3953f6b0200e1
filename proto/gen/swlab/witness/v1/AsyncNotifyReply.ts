// Original file: /work/main/proto/witness.proto

import type { WitnessResult as _swlab_witness_v1_WitnessResult, WitnessResult__Output as _swlab_witness_v1_WitnessResult__Output } from '../../../swlab/witness/v1/WitnessResult.js';
import type { ResourceChange as _swlab_witness_v1_ResourceChange, ResourceChange__Output as _swlab_witness_v1_ResourceChange__Output } from '../../../swlab/witness/v1/ResourceChange.js';
import type { IpAddrInfo as _swlab_witness_v1_IpAddrInfo, IpAddrInfo__Output as _swlab_witness_v1_IpAddrInfo__Output } from '../../../swlab/witness/v1/IpAddrInfo.js';

/**
 * RESP_ASYNC_NOTIFY: the exact MessageBuffer bytes and a decoded view of them.
 */
export interface AsyncNotifyReply {
  'result'?: (_swlab_witness_v1_WitnessResult | null);
  'messageType'?: (number);
  'messageTypeName'?: (string);
  'length'?: (number);
  'numberOfMessages'?: (number);
  'messageBuffer'?: (Buffer | Uint8Array | string);
  'resourceChanges'?: (_swlab_witness_v1_ResourceChange)[];
  'ipAddresses'?: (_swlab_witness_v1_IpAddrInfo)[];
}

/**
 * RESP_ASYNC_NOTIFY: the exact MessageBuffer bytes and a decoded view of them.
 */
export interface AsyncNotifyReply__Output {
  'result': (_swlab_witness_v1_WitnessResult__Output | null);
  'messageType': (number);
  'messageTypeName': (string);
  'length': (number);
  'numberOfMessages': (number);
  'messageBuffer': (Buffer);
  'resourceChanges': (_swlab_witness_v1_ResourceChange__Output)[];
  'ipAddresses': (_swlab_witness_v1_IpAddrInfo__Output)[];
}
