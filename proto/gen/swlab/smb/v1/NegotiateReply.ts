// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';

export interface NegotiateReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'connectionId'?: (string);
  'dialect'?: (number);
  'capabilities'?: (number);
  'serverGuid'?: (string);
  'maxReadSize'?: (number);
  'maxWriteSize'?: (number);
}

export interface NegotiateReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'connectionId': (string);
  'dialect': (number);
  'capabilities': (number);
  'serverGuid': (string);
  'maxReadSize': (number);
  'maxWriteSize': (number);
}
