// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';

export interface TreeConnectReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'treeId'?: (string);
  /**
   * SMB2_SHARE_CAP_*: CONTINUOUS_AVAILABILITY 0x10, SCALEOUT 0x20, CLUSTER 0x40, ASYMMETRIC 0x80.
   */
  'capabilities'?: (number);
}

export interface TreeConnectReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'treeId': (string);
  /**
   * SMB2_SHARE_CAP_*: CONTINUOUS_AVAILABILITY 0x10, SCALEOUT 0x20, CLUSTER 0x40, ASYMMETRIC 0x80.
   */
  'capabilities': (number);
}
