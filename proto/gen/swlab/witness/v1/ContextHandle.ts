// Original file: /work/main/proto/witness.proto


/**
 * The 20-byte context handle of the spec: uint32 attributes then the RegistrationKey GUID.
 */
export interface ContextHandle {
  'attributes'?: (number);
  'uuid'?: (string);
}

/**
 * The 20-byte context handle of the spec: uint32 attributes then the RegistrationKey GUID.
 */
export interface ContextHandle__Output {
  'attributes': (number);
  'uuid': (string);
}
