// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';
import type { DirectoryEntry as _swlab_smb_v1_DirectoryEntry, DirectoryEntry__Output as _swlab_smb_v1_DirectoryEntry__Output } from '../../../swlab/smb/v1/DirectoryEntry.js';

export interface QueryDirectoryReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'entries'?: (_swlab_smb_v1_DirectoryEntry)[];
}

export interface QueryDirectoryReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'entries': (_swlab_smb_v1_DirectoryEntry__Output)[];
}
