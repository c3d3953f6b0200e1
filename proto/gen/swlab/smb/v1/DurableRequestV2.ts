// Original file: /work/main/proto/smb.proto


/**
 * SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 (DH2Q).
 */
export interface DurableRequestV2 {
  'createGuid'?: (string);
  'timeoutMs'?: (number);
  'persistent'?: (boolean);
}

/**
 * SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2 (DH2Q).
 */
export interface DurableRequestV2__Output {
  'createGuid': (string);
  'timeoutMs': (number);
  'persistent': (boolean);
}
