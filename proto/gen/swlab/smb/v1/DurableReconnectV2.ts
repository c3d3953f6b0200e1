// Original file: /work/main/proto/smb.proto

import type { FileId as _swlab_smb_v1_FileId, FileId__Output as _swlab_smb_v1_FileId__Output } from '../../../swlab/smb/v1/FileId.js';

/**
 * SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 (DH2C).
 */
export interface DurableReconnectV2 {
  'fileId'?: (_swlab_smb_v1_FileId | null);
  'createGuid'?: (string);
  'persistent'?: (boolean);
}

/**
 * SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2 (DH2C).
 */
export interface DurableReconnectV2__Output {
  'fileId': (_swlab_smb_v1_FileId__Output | null);
  'createGuid': (string);
  'persistent': (boolean);
}
