// Original file: /work/main/proto/admin.proto


export interface StopReply {
  'ok'?: (boolean);
}

export interface StopReply__Output {
  'ok': (boolean);
}
