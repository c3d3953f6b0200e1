// Original file: /work/main/proto/admin.proto


export interface SetCsvFilesFrozenReply {
  'ok'?: (boolean);
  'error'?: (string);
  /**
   * Files this node closed.
   */
  'released'?: (number);
}

export interface SetCsvFilesFrozenReply__Output {
  'ok': (boolean);
  'error': (string);
  /**
   * Files this node closed.
   */
  'released': (number);
}
