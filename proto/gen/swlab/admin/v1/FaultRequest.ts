// Original file: /work/main/proto/admin.proto


export interface FaultRequest {
  /**
   * Replaces the set of peers this node drops all traffic to and from.
   */
  'partitionedFrom'?: (string)[];
  /**
   * Replaces per-peer one-way delays (ms) applied to traffic to those peers.
   */
  'delayMs'?: ({[key: string]: number});
}

export interface FaultRequest__Output {
  /**
   * Replaces the set of peers this node drops all traffic to and from.
   */
  'partitionedFrom': (string)[];
  /**
   * Replaces per-peer one-way delays (ms) applied to traffic to those peers.
   */
  'delayMs': ({[key: string]: number});
}
