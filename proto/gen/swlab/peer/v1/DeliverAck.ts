// Original file: /work/main/proto/peer.proto


export interface DeliverAck {
}

export interface DeliverAck__Output {
}
