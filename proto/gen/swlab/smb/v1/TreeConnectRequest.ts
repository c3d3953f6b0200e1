// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';

export interface TreeConnectRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  /**
   * "\\\\server\\share" or just "share".
   */
  'path'?: (string);
}

export interface TreeConnectRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  /**
   * "\\\\server\\share" or just "share".
   */
  'path': (string);
}
