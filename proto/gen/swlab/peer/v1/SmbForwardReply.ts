// Original file: /work/main/proto/peer.proto


export interface SmbForwardReply {
  'payload'?: (Buffer | Uint8Array | string);
}

export interface SmbForwardReply__Output {
  'payload': (Buffer);
}
