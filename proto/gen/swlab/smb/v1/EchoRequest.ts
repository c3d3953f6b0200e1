// Original file: /work/main/proto/smb.proto


export interface EchoRequest {
}

export interface EchoRequest__Output {
}
