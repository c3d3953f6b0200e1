// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';

export interface SessionSetupReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'sessionId'?: (string);
}

export interface SessionSetupReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'sessionId': (string);
}
