// Original file: /work/main/proto/smb.proto


export interface DirectoryEntry {
  'name'?: (string);
  'directory'?: (boolean);
  'endOfFile'?: (number | string);
}

export interface DirectoryEntry__Output {
  'name': (string);
  'directory': (boolean);
  'endOfFile': (number);
}
