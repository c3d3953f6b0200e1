// Original file: /work/main/proto/admin.proto


/**
 * Seed 004's CSV snapshot coordination, asked of the CSV's owner by a backup job.
 */
export interface CsvSnapshotRequest {
  'csv'?: (string);
  'jobId'?: (string);
  /**
   * "begin" or "end".
   */
  'action'?: (string);
  /**
   * "legacy" (2008 R2: the CSV is redirected while the snapshot exists, one at a time) or
   * "direct" (2012+: no redirection, no waiting).
   */
  'mode'?: (string);
}

/**
 * Seed 004's CSV snapshot coordination, asked of the CSV's owner by a backup job.
 */
export interface CsvSnapshotRequest__Output {
  'csv': (string);
  'jobId': (string);
  /**
   * "begin" or "end".
   */
  'action': (string);
  /**
   * "legacy" (2008 R2: the CSV is redirected while the snapshot exists, one at a time) or
   * "direct" (2012+: no redirection, no waiting).
   */
  'mode': (string);
}
