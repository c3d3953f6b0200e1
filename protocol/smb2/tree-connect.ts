// SMB2 TREE_CONNECT request and response (MS-SMB2 2.2.9, 2.2.10).
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const TREE_CONNECT_REQUEST_SIZE = 9
export const TREE_CONNECT_RESPONSE_SIZE = 16

/** Flags of the request at 3.1.1 (2.2.9). */
export const TREE_CONNECT_FLAGS = { CLUSTER_RECONNECT: 0x0001, REDIRECT_TO_OWNER: 0x0002, EXTENSION_PRESENT: 0x0004 } as const

/** ShareType of the response (2.2.10). */
export const SHARE_TYPE = { DISK: 0x01, PIPE: 0x02, PRINT: 0x03 } as const

/** ShareFlags of the response (2.2.10); caching policy is the 0x30 field, 0 being manual caching. */
export const SHARE_FLAGS = {
  DFS: 0x00000001,
  DFS_ROOT: 0x00000002,
  AUTO_CACHING: 0x00000010,
  VDO_CACHING: 0x00000020,
  NO_CACHING: 0x00000030,
  RESTRICT_EXCLUSIVE_OPENS: 0x00000100,
  FORCE_SHARED_DELETE: 0x00000200,
  ALLOW_NAMESPACE_CACHING: 0x00000400,
  ACCESS_BASED_DIRECTORY_ENUM: 0x00000800,
  FORCE_LEVELII_OPLOCK: 0x00001000,
  ENABLE_HASH_V1: 0x00002000,
  ENABLE_HASH_V2: 0x00004000,
  ENCRYPT_DATA: 0x00008000,
  IDENTITY_REMOTING: 0x00040000,
  COMPRESS_DATA: 0x00100000,
} as const

/** A bound on a share path: \\server\share, with a server name of at most 255 and a share of 80 characters. */
export const TREE_PATH_BYTES_MAX = 2 * 1024

export interface TreeConnectRequest {
  readonly flags: number
  /** "\\server\share" in UTF-16. */
  readonly path: string
}

export interface TreeConnectResponse {
  readonly shareType: number
  readonly shareFlags: number
  readonly capabilities: number
  readonly maximalAccess: number
}

const REQUEST_FIXED = SMB2_HEADER_BYTES + TREE_CONNECT_REQUEST_SIZE - 1

export function decodeTreeConnectRequest(msg: Buffer): Decoded<TreeConnectRequest> {
  return decodeBody(msg, TREE_CONNECT_REQUEST_SIZE, 'TREE_CONNECT', (r) => {
    const b = SMB2_HEADER_BYTES
    const length = r.u16(b + 6)
    if (length > TREE_PATH_BYTES_MAX) r.fail(`share path of ${length} bytes`)
    // With EXTENSION_PRESENT the buffer begins with the extension (2.2.9.1), but PathOffset
    // still names the path from the header: only the path is used here.
    const path = r.utf16(r.variable(r.u16(b + 4), length, REQUEST_FIXED, 'share path'), 'share path')
    return { flags: r.u16(b + 2), path }
  })
}

export function encodeTreeConnectRequest(req: TreeConnectRequest): Buffer {
  const body = fixedBody(TREE_CONNECT_REQUEST_SIZE)
  const path = Buffer.from(req.path, 'utf16le')
  body.writeUInt16LE(req.flags, 2)
  body.writeUInt16LE(REQUEST_FIXED, 4)
  body.writeUInt16LE(path.length, 6)
  return Buffer.concat([body, path])
}

export function encodeTreeConnectResponse(res: TreeConnectResponse): Buffer {
  const body = fixedBody(TREE_CONNECT_RESPONSE_SIZE)
  body.writeUInt8(res.shareType, 2)
  body.writeUInt32LE(res.shareFlags >>> 0, 4)
  body.writeUInt32LE(res.capabilities >>> 0, 8)
  body.writeUInt32LE(res.maximalAccess >>> 0, 12)
  return body
}

export function decodeTreeConnectResponse(msg: Buffer): Decoded<TreeConnectResponse> {
  return decodeBody(msg, TREE_CONNECT_RESPONSE_SIZE, 'TREE_CONNECT response', (r) => {
    const b = SMB2_HEADER_BYTES
    return { shareType: r.u8(b + 2), shareFlags: r.u32(b + 4), capabilities: r.u32(b + 8), maximalAccess: r.u32(b + 12) }
  })
}
