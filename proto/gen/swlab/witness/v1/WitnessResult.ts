// Original file: /work/main/proto/witness.proto


export interface WitnessResult {
  /**
   * Windows error code (ERROR_SUCCESS 0, ERROR_INVALID_PARAMETER 0x57, ...).
   */
  'code'?: (number);
  /**
   * Its name, e.g. "ERROR_INVALID_STATE".
   */
  'name'?: (string);
}

export interface WitnessResult__Output {
  /**
   * Windows error code (ERROR_SUCCESS 0, ERROR_INVALID_PARAMETER 0x57, ...).
   */
  'code': (number);
  /**
   * Its name, e.g. "ERROR_INVALID_STATE".
   */
  'name': (string);
}
