// Original file: /work/main/proto/admin.proto


export interface CsvSnapshotReply {
  'ok'?: (boolean);
  'error'?: (string);
  /**
   * begin: whether the job may take its snapshot now; otherwise it waits and asks again.
   */
  'granted'?: (boolean);
  /**
   * The job the CSV is held for, and why, when not granted.
   */
  'holder'?: (string);
  'reason'?: (string);
  /**
   * begin: the CSV must be in redirected access during this snapshot; end: it may leave it.
   */
  'redirect'?: (boolean);
  'redirectOver'?: (boolean);
  /**
   * The owner that answered.
   */
  'node'?: (string);
}

export interface CsvSnapshotReply__Output {
  'ok': (boolean);
  'error': (string);
  /**
   * begin: whether the job may take its snapshot now; otherwise it waits and asks again.
   */
  'granted': (boolean);
  /**
   * The job the CSV is held for, and why, when not granted.
   */
  'holder': (string);
  'reason': (string);
  /**
   * begin: the CSV must be in redirected access during this snapshot; end: it may leave it.
   */
  'redirect': (boolean);
  'redirectOver': (boolean);
  /**
   * The owner that answered.
   */
  'node': (string);
}
