// Original file: /work/main/proto/peer.proto


/**
 * Ownership of one cluster shared volume; owner is empty while the CSV moves.
 */
export interface CsvOwner {
  'name'?: (string);
  'owner'?: (string);
}

/**
 * Ownership of one cluster shared volume; owner is empty while the CSV moves.
 */
export interface CsvOwner__Output {
  'name': (string);
  'owner': (string);
}
