// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';

export interface QueryInfoReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'endOfFile'?: (number | string);
  'creationTimeMs'?: (number | string);
  'lastWriteTimeMs'?: (number | string);
  'directory'?: (boolean);
}

export interface QueryInfoReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'endOfFile': (number);
  'creationTimeMs': (number);
  'lastWriteTimeMs': (number);
  'directory': (boolean);
}
