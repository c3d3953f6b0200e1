// SMB 2/3 constants that the client and the server both speak (MS-SMB2 2.2): dialect
// revisions, global and share capability bits, and the access, share-access and disposition
// values of CREATE.

/** Dialect revisions (MS-SMB2 2.2.3); 0x02FF is the wildcard answered to a multi-protocol SMB1 NEGOTIATE. */
export const SMB2_DIALECT = {
  SMB202: 0x0202,
  SMB21: 0x0210,
  SMB30: 0x0300,
  SMB302: 0x0302,
  SMB311: 0x0311,
  WILDCARD: 0x02ff,
} as const

/** The dialects the data path negotiates today, lowest first. */
export const DIALECTS_OFFERED: readonly number[] = [SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311]

/** SMB2_GLOBAL_CAP_* (MS-SMB2 2.2.3, 2.2.4). */
export const GLOBAL_CAP = {
  DFS: 0x01,
  LEASING: 0x02,
  LARGE_MTU: 0x04,
  MULTI_CHANNEL: 0x08,
  PERSISTENT_HANDLES: 0x10,
  DIRECTORY_LEASING: 0x20,
  ENCRYPTION: 0x40,
} as const

/** SMB2_SHARE_CAP_* of a TREE_CONNECT response (MS-SMB2 2.2.10). */
export const SHARE_CAP = { DFS: 0x08, CONTINUOUS_AVAILABILITY: 0x10, SCALEOUT: 0x20, CLUSTER: 0x40, ASYMMETRIC: 0x80 } as const

/** File access mask bits used by CREATE (MS-SMB2 2.2.13.1). */
export const ACCESS = {
  READ_DATA: 0x00000001,
  WRITE_DATA: 0x00000002,
  APPEND_DATA: 0x00000004,
  READ_EA: 0x00000008,
  EXECUTE: 0x00000020,
  READ_ATTRIBUTES: 0x00000080,
  WRITE_ATTRIBUTES: 0x00000100,
  DELETE: 0x00010000,
  READ_CONTROL: 0x00020000,
  SYNCHRONIZE: 0x00100000,
  ACCESS_SYSTEM_SECURITY: 0x01000000,
  MAXIMUM_ALLOWED: 0x02000000,
  GENERIC_ALL: 0x10000000,
  GENERIC_EXECUTE: 0x20000000,
  GENERIC_WRITE: 0x40000000,
  GENERIC_READ: 0x80000000,
} as const

export const SHARE_ACCESS = { READ: 0x1, WRITE: 0x2, DELETE: 0x4 } as const

export const DISPOSITION = { SUPERSEDE: 0, OPEN: 1, CREATE: 2, OPEN_IF: 3, OVERWRITE: 4, OVERWRITE_IF: 5 } as const

/** SigningAlgorithmId of the SMB2_SIGNING_CAPABILITIES negotiate context (MS-SMB2 2.2.3.1.7). */
export const SIGNING_ALGORITHM = { HMAC_SHA256: 0x0000, AES_CMAC: 0x0001, AES_GMAC: 0x0002 } as const
export type SigningAlgorithmId = (typeof SIGNING_ALGORITHM)[keyof typeof SIGNING_ALGORITHM]

/** Cipher ids of the SMB2_ENCRYPTION_CAPABILITIES negotiate context (MS-SMB2 2.2.3.1.2). */
export const CIPHER = { AES128_CCM: 0x0001, AES128_GCM: 0x0002, AES256_CCM: 0x0003, AES256_GCM: 0x0004 } as const
export type CipherId = (typeof CIPHER)[keyof typeof CIPHER]

/** Flags of the SMB2 TRANSFORM_HEADER (MS-SMB2 2.2.41): 3.1.1's Flags, 3.0's EncryptionAlgorithm (AES-128-CCM), the same value. */
export const TRANSFORM_FLAG_ENCRYPTED = 0x0001
