// Original file: /work/main/proto/admin.proto


export interface AddShareRequest {
  'name'?: (string);
  'csv'?: (string);
  'continuouslyAvailable'?: (boolean);
  'caTimeoutMs'?: (number);
}

export interface AddShareRequest__Output {
  'name': (string);
  'csv': (string);
  'continuouslyAvailable': (boolean);
  'caTimeoutMs': (number);
}
