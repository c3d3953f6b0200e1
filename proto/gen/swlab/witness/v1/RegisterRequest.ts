// Original file: /work/main/proto/witness.proto


export interface RegisterRequest {
  'version'?: (number);
  'netName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  '_netName'?: "netName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}

export interface RegisterRequest__Output {
  'version': (number);
  'netName'?: (string);
  'ipAddress'?: (string);
  'clientComputerName'?: (string);
  '_netName'?: "netName";
  '_ipAddress'?: "ipAddress";
  '_clientComputerName'?: "clientComputerName";
}
