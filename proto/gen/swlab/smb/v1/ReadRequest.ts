// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';
import type { FileId as _swlab_smb_v1_FileId, FileId__Output as _swlab_smb_v1_FileId__Output } from '../../../swlab/smb/v1/FileId.js';

export interface ReadRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  'fileId'?: (_swlab_smb_v1_FileId | null);
  'offset'?: (number | string);
  'length'?: (number);
}

export interface ReadRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  'fileId': (_swlab_smb_v1_FileId__Output | null);
  'offset': (number);
  'length': (number);
}
