// Original file: /work/main/proto/cbt.proto


export interface ChangesRequest {
  'share'?: (string);
  'path'?: (string);
  /**
   * The reference id of the last backup; empty asks for every block ever written.
   */
  'sinceId'?: (string);
}

export interface ChangesRequest__Output {
  'share': (string);
  'path': (string);
  /**
   * The reference id of the last backup; empty asks for every block ever written.
   */
  'sinceId': (string);
}
