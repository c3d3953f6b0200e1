// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';
import type { FileId as _swlab_smb_v1_FileId, FileId__Output as _swlab_smb_v1_FileId__Output } from '../../../swlab/smb/v1/FileId.js';

export interface SetInfoRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  'fileId'?: (_swlab_smb_v1_FileId | null);
  /**
   * FileEndOfFileInformation; negative leaves the size alone.
   */
  'endOfFile'?: (number | string);
  /**
   * FileBasicInformation.LastWriteTime in epoch ms; 0 leaves it alone.
   */
  'lastWriteTimeMs'?: (number | string);
}

export interface SetInfoRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  'fileId': (_swlab_smb_v1_FileId__Output | null);
  /**
   * FileEndOfFileInformation; negative leaves the size alone.
   */
  'endOfFile': (number);
  /**
   * FileBasicInformation.LastWriteTime in epoch ms; 0 leaves it alone.
   */
  'lastWriteTimeMs': (number);
}
