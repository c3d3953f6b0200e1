// Original file: /work/main/proto/peer.proto


/**
 * A handle operation of the SMB data path forwarded to the node that owns the CSV (S2D:
 * the owner serves all IO of its CSV). The operation travels as JSON with base64 data.
 */
export interface SmbForwardRequest {
  'from'?: (string);
  'csv'?: (string);
  'op'?: (string);
  'payload'?: (Buffer | Uint8Array | string);
}

/**
 * A handle operation of the SMB data path forwarded to the node that owns the CSV (S2D:
 * the owner serves all IO of its CSV). The operation travels as JSON with base64 data.
 */
export interface SmbForwardRequest__Output {
  'from': (string);
  'csv': (string);
  'op': (string);
  'payload': (Buffer);
}
