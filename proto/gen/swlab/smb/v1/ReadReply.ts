// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';

export interface ReadReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'data'?: (Buffer | Uint8Array | string);
}

export interface ReadReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'data': (Buffer);
}
