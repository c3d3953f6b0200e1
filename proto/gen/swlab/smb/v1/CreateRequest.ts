// Original file: /work/main/proto/smb.proto

import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from '../../../swlab/smb/v1/Header.js';
import type { DurableRequestV2 as _swlab_smb_v1_DurableRequestV2, DurableRequestV2__Output as _swlab_smb_v1_DurableRequestV2__Output } from '../../../swlab/smb/v1/DurableRequestV2.js';
import type { DurableReconnectV2 as _swlab_smb_v1_DurableReconnectV2, DurableReconnectV2__Output as _swlab_smb_v1_DurableReconnectV2__Output } from '../../../swlab/smb/v1/DurableReconnectV2.js';

export interface CreateRequest {
  'header'?: (_swlab_smb_v1_Header | null);
  'path'?: (string);
  'disposition'?: (number);
  'desiredAccess'?: (number);
  'shareAccess'?: (number);
  'dh2q'?: (_swlab_smb_v1_DurableRequestV2 | null);
  'dh2c'?: (_swlab_smb_v1_DurableReconnectV2 | null);
  /**
   * SMB2_CREATE_APP_INSTANCE_ID (MS-SMB2 2.2.13.2.13): a create from another client with the
   * same id closes the older open of the same file, so that a clustered application (a VM
   * restarted on another host) takes its files back at once instead of waiting for the
   * persistent handle to time out. Empty: none.
   */
  'appInstanceId'?: (string);
}

export interface CreateRequest__Output {
  'header': (_swlab_smb_v1_Header__Output | null);
  'path': (string);
  'disposition': (number);
  'desiredAccess': (number);
  'shareAccess': (number);
  'dh2q': (_swlab_smb_v1_DurableRequestV2__Output | null);
  'dh2c': (_swlab_smb_v1_DurableReconnectV2__Output | null);
  /**
   * SMB2_CREATE_APP_INSTANCE_ID (MS-SMB2 2.2.13.2.13): a create from another client with the
   * same id closes the older open of the same file, so that a clustered application (a VM
   * restarted on another host) takes its files back at once instead of waiting for the
   * persistent handle to time out. Empty: none.
   */
  'appInstanceId': (string);
}
