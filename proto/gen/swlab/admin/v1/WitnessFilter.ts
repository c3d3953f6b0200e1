// Original file: /work/main/proto/admin.proto


/**
 * Filters of the witness admin commands, as in Samba's `net witness`: regexes (POSIX ERE
 * style, JavaScript syntax) combined with AND, or apply_to_all.
 */
export interface WitnessFilter {
  'registrationId'?: (string);
  'netName'?: (string);
  'shareName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  'applyToAll'?: (boolean);
  '_registrationId'?: "registrationId";
  '_netName'?: "netName";
  '_shareName'?: "shareName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}

/**
 * Filters of the witness admin commands, as in Samba's `net witness`: regexes (POSIX ERE
 * style, JavaScript syntax) combined with AND, or apply_to_all.
 */
export interface WitnessFilter__Output {
  'registrationId'?: (string);
  'netName'?: (string);
  'shareName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  'applyToAll': (boolean);
  '_registrationId'?: "registrationId";
  '_netName'?: "netName";
  '_shareName'?: "shareName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}
