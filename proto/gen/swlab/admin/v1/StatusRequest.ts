// Original file: /work/main/proto/admin.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
