// Original file: /work/main/proto/witness.proto


export interface RegisterExRequest {
  'version'?: (number);
  'netName'?: (string);
  'shareName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  /**
   * WITNESS_REGISTER_NONE 0, WITNESS_REGISTER_IP_NOTIFICATION 1.
   */
  'flags'?: (number);
  /**
   * Seconds the server may hold an AsyncNotify before failing it with ERROR_TIMEOUT.
   */
  'keepAliveTimeout'?: (number);
  '_netName'?: "netName";
  '_shareName'?: "shareName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}

export interface RegisterExRequest__Output {
  'version': (number);
  'netName'?: (string);
  'shareName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  /**
   * WITNESS_REGISTER_NONE 0, WITNESS_REGISTER_IP_NOTIFICATION 1.
   */
  'flags': (number);
  /**
   * Seconds the server may hold an AsyncNotify before failing it with ERROR_TIMEOUT.
   */
  'keepAliveTimeout': (number);
  '_netName'?: "netName";
  '_shareName'?: "shareName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}
