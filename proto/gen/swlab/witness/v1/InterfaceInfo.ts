// Original file: /work/main/proto/witness.proto


/**
 * WITNESS_INTERFACE_INFO.
 */
export interface InterfaceInfo {
  'interfaceGroupName'?: (string);
  'version'?: (number);
  /**
   * 0 UNKNOWN, 1 AVAILABLE, 0xFF UNAVAILABLE.
   */
  'state'?: (number);
  'stateName'?: (string);
  /**
   * Dotted quad, or empty.
   */
  'ipv4'?: (string);
  /**
   * RFC 5952 text, or empty.
   */
  'ipv6'?: (string);
  /**
   * IPv4 0x1, IPv6 0x2, INTERFACE_WITNESS 0x4.
   */
  'flags'?: (number);
}

/**
 * WITNESS_INTERFACE_INFO.
 */
export interface InterfaceInfo__Output {
  'interfaceGroupName': (string);
  'version': (number);
  /**
   * 0 UNKNOWN, 1 AVAILABLE, 0xFF UNAVAILABLE.
   */
  'state': (number);
  'stateName': (string);
  /**
   * Dotted quad, or empty.
   */
  'ipv4': (string);
  /**
   * RFC 5952 text, or empty.
   */
  'ipv6': (string);
  /**
   * IPv4 0x1, IPv6 0x2, INTERFACE_WITNESS 0x4.
   */
  'flags': (number);
}
