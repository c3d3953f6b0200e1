// Original file: /work/main/proto/admin.proto


export interface StopRequest {
  /**
   * Graceful: give up the vote, hand CSVs over, then exit.
   */
  'graceful'?: (boolean);
}

export interface StopRequest__Output {
  /**
   * Graceful: give up the vote, hand CSVs over, then exit.
   */
  'graceful': (boolean);
}
