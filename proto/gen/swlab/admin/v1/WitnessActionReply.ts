// Original file: /work/main/proto/admin.proto


export interface WitnessActionReply {
  'ok'?: (boolean);
  'error'?: (string);
  'affected'?: (number);
}

export interface WitnessActionReply__Output {
  'ok': (boolean);
  'error': (string);
  'affected': (number);
}
