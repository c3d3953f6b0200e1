// Original file: /work/main/proto/admin.proto


/**
 * The harness remounts a CSV's volume (storage fault read-only): a node holds the CSV's
 * operations back for at most hold_ms and closes its files of the CSV, since the kernel refuses
 * to make a volume read-only while a file of it is open for writing; frozen false ends the hold.
 */
export interface SetCsvFilesFrozenRequest {
  'csv'?: (string);
  'frozen'?: (boolean);
  'holdMs'?: (number);
}

/**
 * The harness remounts a CSV's volume (storage fault read-only): a node holds the CSV's
 * operations back for at most hold_ms and closes its files of the CSV, since the kernel refuses
 * to make a volume read-only while a file of it is open for writing; frozen false ends the hold.
 */
export interface SetCsvFilesFrozenRequest__Output {
  'csv': (string);
  'frozen': (boolean);
  'holdMs': (number);
}
