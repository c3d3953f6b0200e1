// Original file: /work/main/proto/admin.proto


export interface PeerLink {
  'id'?: (string);
  /**
   * "ok", "silent", "refused" or "partitioned".
   */
  'reachability'?: (string);
  'lastHeardAgoMs'?: (number | string);
  'delayMs'?: (number);
  'partitioned'?: (boolean);
}

export interface PeerLink__Output {
  'id': (string);
  /**
   * "ok", "silent", "refused" or "partitioned".
   */
  'reachability': (string);
  'lastHeardAgoMs': (number);
  'delayMs': (number);
  'partitioned': (boolean);
}
