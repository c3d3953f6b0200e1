// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';

export interface SessionSetupRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  'user'?: (string);
  'password'?: (string);
  /**
   * The session of an earlier connection to reclaim (MS-SMB2 3.3.5.5.3).
   */
  'previousSessionId'?: (string);
}

export interface SessionSetupRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  'user': (string);
  'password': (string);
  /**
   * The session of an earlier connection to reclaim (MS-SMB2 3.3.5.5.3).
   */
  'previousSessionId': (string);
}
