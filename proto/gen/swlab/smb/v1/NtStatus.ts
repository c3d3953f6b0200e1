// Original file: /work/main/proto/smb.proto


export interface NtStatus {
  'code'?: (number);
  'name'?: (string);
}

export interface NtStatus__Output {
  'code': (number);
  'name': (string);
}
