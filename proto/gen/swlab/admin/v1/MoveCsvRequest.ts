// Original file: /work/main/proto/admin.proto


export interface MoveCsvRequest {
  'csv'?: (string);
  'to'?: (string);
}

export interface MoveCsvRequest__Output {
  'csv': (string);
  'to': (string);
}
