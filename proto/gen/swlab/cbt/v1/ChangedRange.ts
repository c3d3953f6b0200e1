// Original file: /work/main/proto/cbt.proto


export interface ChangedRange {
  'offset'?: (number | string);
  'length'?: (number | string);
}

export interface ChangedRange__Output {
  'offset': (number);
  'length': (number);
}
