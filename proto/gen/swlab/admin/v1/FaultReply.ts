// Original file: /work/main/proto/admin.proto


export interface FaultReply {
  'partitionedFrom'?: (string)[];
  'delayMs'?: ({[key: string]: number});
}

export interface FaultReply__Output {
  'partitionedFrom': (string)[];
  'delayMs': ({[key: string]: number});
}
