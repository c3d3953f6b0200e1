// Original file: /work/main/proto/admin.proto


export interface SetCsvRedirectedRequest {
  'csv'?: (string);
  /**
   * Redirected access: all IO of the CSV goes via its owner (e.g. while a snapshot exists).
   */
  'redirected'?: (boolean);
}

export interface SetCsvRedirectedRequest__Output {
  'csv': (string);
  /**
   * Redirected access: all IO of the CSV goes via its owner (e.g. while a snapshot exists).
   */
  'redirected': (boolean);
}
