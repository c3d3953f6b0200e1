// Original file: /work/main/proto/witness.proto


/**
 * One IPADDR_INFO, decoded.
 */
export interface IpAddrInfo {
  'flags'?: (number);
  'ipv4'?: (string);
  'ipv6'?: (string);
}

/**
 * One IPADDR_INFO, decoded.
 */
export interface IpAddrInfo__Output {
  'flags': (number);
  'ipv4': (string);
  'ipv6': (string);
}
