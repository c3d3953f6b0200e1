// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';

export interface QueryDirectoryRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  'path'?: (string);
}

export interface QueryDirectoryRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  'path': (string);
}
