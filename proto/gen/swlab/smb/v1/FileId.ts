// Original file: /work/main/proto/smb.proto


export interface FileId {
  'persistent'?: (string);
  'volatile'?: (string);
}

export interface FileId__Output {
  'persistent': (string);
  'volatile': (string);
}
