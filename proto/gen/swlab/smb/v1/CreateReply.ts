// Original file: /work/main/proto/smb.proto

import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from '../../../swlab/smb/v1/NtStatus.js';
import type { FileId as _swlab_smb_v1_FileId, FileId__Output as _swlab_smb_v1_FileId__Output } from '../../../swlab/smb/v1/FileId.js';

export interface CreateReply {
  'status'?: (_swlab_smb_v1_NtStatus | null);
  'fileId'?: (_swlab_smb_v1_FileId | null);
  /**
   * FILE_SUPERSEDED 0, FILE_OPENED 1, FILE_CREATED 2, FILE_OVERWRITTEN 3.
   */
  'createAction'?: (number);
  'endOfFile'?: (number | string);
  'durable'?: (boolean);
  'persistent'?: (boolean);
  'timeoutMs'?: (number);
}

export interface CreateReply__Output {
  'status': (_swlab_smb_v1_NtStatus__Output | null);
  'fileId': (_swlab_smb_v1_FileId__Output | null);
  /**
   * FILE_SUPERSEDED 0, FILE_OPENED 1, FILE_CREATED 2, FILE_OVERWRITTEN 3.
   */
  'createAction': (number);
  'endOfFile': (number);
  'durable': (boolean);
  'persistent': (boolean);
  'timeoutMs': (number);
}
