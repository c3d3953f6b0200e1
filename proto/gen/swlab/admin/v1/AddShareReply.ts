// Original file: /work/main/proto/admin.proto


export interface AddShareReply {
  'ok'?: (boolean);
  'error'?: (string);
}

export interface AddShareReply__Output {
  'ok': (boolean);
  'error': (string);
}
