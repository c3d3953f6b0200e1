// Original file: /work/main/proto/admin.proto


export interface AddShareRequest {
  'name'?: (string);
  'csv'?: (string);
  'continuouslyAvailable'?: (boolean);
  'caTimeoutMs'?: (number);
  /**
   * "general": a share of a general-use file server role (role_* below); empty or "scale-out": a SOFS share.
   */
  'kind'?: (string);
  'roleName'?: (string);
  'roleAddress'?: (string);
  'roleSmb2Port'?: (number);
}

export interface AddShareRequest__Output {
  'name': (string);
  'csv': (string);
  'continuouslyAvailable': (boolean);
  'caTimeoutMs': (number);
  /**
   * "general": a share of a general-use file server role (role_* below); empty or "scale-out": a SOFS share.
   */
  'kind': (string);
  'roleName': (string);
  'roleAddress': (string);
  'roleSmb2Port': (number);
}
