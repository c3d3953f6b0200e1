// Original file: /work/main/proto/witness.proto


/**
 * One RESOURCE_CHANGE record, decoded.
 */
export interface ResourceChange {
  'changeType'?: (number);
  'changeTypeName'?: (string);
  'resourceName'?: (string);
}

/**
 * One RESOURCE_CHANGE record, decoded.
 */
export interface ResourceChange__Output {
  'changeType': (number);
  'changeTypeName': (string);
  'resourceName': (string);
}
