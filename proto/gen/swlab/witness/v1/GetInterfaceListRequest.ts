// Original file: /work/main/proto/witness.proto


export interface GetInterfaceListRequest {
}

export interface GetInterfaceListRequest__Output {
}
