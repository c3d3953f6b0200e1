// Original file: /work/main/proto/admin.proto

import type { WitnessFilter as _swlab_admin_v1_WitnessFilter, WitnessFilter__Output as _swlab_admin_v1_WitnessFilter__Output } from '../../../swlab/admin/v1/WitnessFilter.js';
import type { ResourceChange as _swlab_witness_v1_ResourceChange, ResourceChange__Output as _swlab_witness_v1_ResourceChange__Output } from '../../../swlab/witness/v1/ResourceChange.js';
import type { IpAddrInfo as _swlab_witness_v1_IpAddrInfo, IpAddrInfo__Output as _swlab_witness_v1_IpAddrInfo__Output } from '../../../swlab/witness/v1/IpAddrInfo.js';

export interface WitnessActionRequest {
  /**
   * "client-move", "share-move", "force-unregister" or "force-response".
   */
  'action'?: (string);
  'filter'?: (_swlab_admin_v1_WitnessFilter | null);
  /**
   * Destination of a move: a node id, or an IP address.
   */
  'newNode'?: (string);
  'newIp'?: (string);
  /**
   * force-response: the Windows result code and an optional notification.
   */
  'result'?: (number);
  'messageType'?: (number);
  'resourceChanges'?: (_swlab_witness_v1_ResourceChange)[];
  'ipAddresses'?: (_swlab_witness_v1_IpAddrInfo)[];
}

export interface WitnessActionRequest__Output {
  /**
   * "client-move", "share-move", "force-unregister" or "force-response".
   */
  'action': (string);
  'filter': (_swlab_admin_v1_WitnessFilter__Output | null);
  /**
   * Destination of a move: a node id, or an IP address.
   */
  'newNode': (string);
  'newIp': (string);
  /**
   * force-response: the Windows result code and an optional notification.
   */
  'result': (number);
  'messageType': (number);
  'resourceChanges': (_swlab_witness_v1_ResourceChange__Output)[];
  'ipAddresses': (_swlab_witness_v1_IpAddrInfo__Output)[];
}
