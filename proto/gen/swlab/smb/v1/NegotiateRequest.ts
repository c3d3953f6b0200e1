// Original file: /work/main/proto/smb.proto


export interface NegotiateRequest {
  /**
   * 0x0210, 0x0300, 0x0302, 0x0311.
   */
  'dialects'?: (number)[];
  'clientGuid'?: (string);
  /**
   * SMB2_GLOBAL_CAP_*: PERSISTENT_HANDLES 0x10.
   */
  'capabilities'?: (number);
}

export interface NegotiateRequest__Output {
  /**
   * 0x0210, 0x0300, 0x0302, 0x0311.
   */
  'dialects': (number)[];
  'clientGuid': (string);
  /**
   * SMB2_GLOBAL_CAP_*: PERSISTENT_HANDLES 0x10.
   */
  'capabilities': (number);
}
