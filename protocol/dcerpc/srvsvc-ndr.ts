// The NDR20 stubs of the srvsvc interface (MS-SRVS; Samba's librpc/idl/srvsvc.idl) that share
// browsing needs: NetrShareEnum (opnum 15, which Samba and rpcclient call NetShareEnumAll),
// NetrShareGetInfo (opnum 16) and NetrServerGetInfo (opnum 21). `smbclient -L` calls
// NetShareEnumAll at level 1 over the srvsvc pipe of IPC$ and nothing else of this interface;
// smbtorture's rpc.witness does the same to find a STYPE_CLUSTER_SOFS share; impacket's
// listShares asks level 1 too, and its `info` command NetrServerGetInfo level 102.
//
// Wire facts this codec relies on (MS-SRVS 2.2 and 3.1.4, C706 chapter 14, MS-RPCE 2.2.5):
// - ServerName (SRVSVC_HANDLE) is a top-level [unique, string] pointer: a referent id, then the
//   conformant varying string right after it. NetName of NetrShareGetInfo is a [ref, string]
//   parameter: the string without a referent id.
// - InfoStruct of NetrShareEnum is an [in, out] ref pointer to SHARE_ENUM_STRUCT { Level;
//   [switch_is(Level)] union }. The union is non-encapsulated: its discriminant is on the wire
//   (a u32 that must equal Level), then the arm, a [unique] pointer to the level's container.
//   Pointees follow the flat part of the parameter they belong to: the container, then the
//   array (max_count, then every element's flat part), then each element's strings in order.
// - The [out] union of NetrShareGetInfo and NetrServerGetInfo is a ref pointer to a union: the
//   discriminant, then the arm (a unique pointer to the level's structure) and its pointees.
// - A level the union has no arm for has an empty arm ([default] in Samba's IDL): only the
//   discriminant is on the wire. Which levels have arms differs a little between MS-SRVS and
//   Samba (503 is an arm only in MS-SRVS, 1007 only in Samba): this codec gives an arm to the
//   union of both, so any client's request with a real level decodes; the two disputed levels
//   are ones the server refuses anyway.
// - Strings inside structures are [unique] pointers: NULL is legal and distinct from "".
// - SHARE_INFO_502's security descriptor is shi502_reserved bytes behind a [unique] pointer
//   (Samba's sec_desc_buf has the same bytes); none is reserved 0 and a NULL pointer.
//
// Decoders face the network: they return typed results and never throw (the reader bounds every
// count by the bytes that remain). Requests may carry bytes after the last in-parameter (the
// MS-RPCE 2.2.2.13 verification trailer), which are ignored and counted. A response must end
// exactly with its return value. Encoders serve our own code and throw a RangeError for a value
// the wire cannot carry.

import { NdrError, NdrReader, NdrWriter } from './ndr-reader.js'

export const SRVSVC_INTERFACE = { uuid: '4b324fc8-1670-01d3-1278-5a47bf6ee188', version: { major: 3, minor: 0 } } as const

/** The operations decoded here; every other opnum of the interface is refused with an op-range fault. */
export const SRVSVC_OPNUM = { NetrShareEnum: 15, NetrShareGetInfo: 16, NetrServerGetInfo: 21 } as const

/** The pipe a client opens on IPC$ for this interface (CREATE name "srvsvc"; `\PIPE\srvsvc` in a binding string). */
export const SRVSVC_PIPE_NAME = 'srvsvc'

/**
 * Share types (MS-SRVS 2.2.2.4). The low bits are the kind; the cluster bits say which kind of
 * cluster share it is; SPECIAL marks IPC$ and the administrative shares. Clients read the kind
 * from `type & 0xff` or `type & 7` (smbclient -L prints "Disk" for any STYPE_DISKTREE).
 */
export const STYPE = {
  DISKTREE: 0x00000000,
  PRINTQ: 0x00000001,
  DEVICE: 0x00000002,
  IPC: 0x00000003,
  CLUSTER_FS: 0x02000000,
  CLUSTER_SOFS: 0x04000000,
  CLUSTER_DFS: 0x08000000,
  TEMPORARY: 0x40000000,
  SPECIAL: 0x80000000,
} as const

/** shi1005_flags (MS-SRVS 2.2.4.29), also carried by shi501_flags. CSC_MASK holds the client-side caching policy (2.2.2.5). */
export const SHI1005_FLAGS = {
  DFS: 0x00000001,
  DFS_ROOT: 0x00000002,
  CSC_MASK: 0x00000030,
  RESTRICT_EXCLUSIVE_OPENS: 0x00000100,
  FORCE_SHARED_DELETE: 0x00000200,
  ALLOW_NAMESPACE_CACHING: 0x00000400,
  ACCESS_BASED_DIRECTORY_ENUM: 0x00000800,
  FORCE_LEVELII_OPLOCK: 0x00001000,
  ENABLE_HASH: 0x00002000,
  ENABLE_CA: 0x00004000,
  ENCRYPT_DATA: 0x00008000,
  CLUSTER_MANAGED: 0x00080000,
} as const

/** sv101_platform_id (MS-SRVS 2.2.4.40): Windows NT and later. */
export const PLATFORM_ID_NT = 500

/** sv101_type bits (MS-SRVS 2.2.2.7) a file server cluster reports. */
export const SV_TYPE = {
  WORKSTATION: 0x00000001,
  SERVER: 0x00000002,
  NT: 0x00001000,
  SERVER_NT: 0x00008000,
  CLUSTER_NT: 0x01000000,
  CLUSTER_VS_NT: 0x02000000,
} as const

/** The return values (NET_API_STATUS, a WERROR on the wire) this interface uses (MS-ERREF 2.2, MS-SRVS 3.1.4.8 and 3.1.4.10). */
export const SRVSVC_RESULT = {
  SUCCESS: 0,
  ACCESS_DENIED: 5,
  INVALID_PARAMETER: 87,
  INVALID_LEVEL: 124,
  MORE_DATA: 234,
  /** NERR_NetNameNotFound: NetrShareGetInfo of a share that does not exist. */
  NET_NAME_NOT_FOUND: 2310,
} as const

/** PreferedMaximumLength's "return everything" value (MAX_PREFERRED_LENGTH). */
export const MAX_PREFERRED_LENGTH = 0xffffffff

/**
 * What a share is, as the SHARE_INFO_* levels show it; each level carries a subset (see
 * SHARE_INFO_FIELDS). remark, path and password are [unique] strings: null sends NULL.
 */
export interface ShareInfo {
  readonly netname: string
  /** STYPE_* */
  readonly type: number
  readonly remark: string | null
  readonly permissions: number
  /** 0xffffffff is "no limit". */
  readonly maxUses: number
  readonly currentUses: number
  readonly path: string | null
  readonly password: string | null
  /** shi501_flags / shi1005_flags: SHI1005_FLAGS_* and the CSC policy. */
  readonly flags: number
  /** Level 502's self-relative security descriptor bytes, or null for none. */
  readonly securityDescriptor: Uint8Array | null
}

/** The share info levels this codec encodes and decodes. */
export const SHARE_INFO_LEVELS = [0, 1, 2, 501, 502, 1005] as const
export type ShareInfoLevel = (typeof SHARE_INFO_LEVELS)[number]

/** The fields each level carries, in wire order. */
export const SHARE_INFO_FIELDS: { readonly [L in ShareInfoLevel]: readonly (keyof ShareInfo)[] } = {
  0: ['netname'],
  1: ['netname', 'type', 'remark'],
  2: ['netname', 'type', 'remark', 'permissions', 'maxUses', 'currentUses', 'path', 'password'],
  501: ['netname', 'type', 'remark', 'flags'],
  502: ['netname', 'type', 'remark', 'permissions', 'maxUses', 'currentUses', 'path', 'password', 'securityDescriptor'],
  1005: ['flags'],
}

/** A decoded share entry: exactly the fields of its level. */
export type ShareInfoAtLevel = Partial<ShareInfo>

/**
 * Levels the SHARE_ENUM_UNION (enumeration containers) and SHARE_INFO union have an arm for, in
 * MS-SRVS or in Samba's IDL. Any other level has an empty arm.
 */
export const SHARE_UNION_ARM_LEVELS: ReadonlySet<number> = new Set([0, 1, 2, 501, 502, 503, 1004, 1005, 1006, 1007, 1501])

/** SERVER_INFO (MS-SRVS 2.2.3.7) arms, in MS-SRVS or Samba's IDL. */
export const SERVER_UNION_ARM_LEVELS: ReadonlySet<number> = new Set([
  100, 101, 102, 103, 402, 403, 502, 503, 599, 1005, 1010, 1016, 1017, 1018, 1107, 1501, 1502, 1503, 1506, 1509, 1510, 1511, 1512, 1513, 1514, 1515,
  1516, 1518, 1520, 1521, 1522, 1523, 1524, 1525, 1528, 1529, 1530, 1533, 1534, 1535, 1536, 1537, 1538, 1539, 1540, 1541, 1542, 1543, 1544, 1545,
  1546, 1547, 1548, 1549, 1550, 1552, 1553, 1554, 1555, 1556,
])

/** SERVER_INFO_100/101/102 (MS-SRVS 2.2.4.40 to 2.2.4.42); each level carries a prefix of these. */
export interface ServerInfo {
  readonly platformId: number
  readonly name: string | null
  readonly versionMajor: number
  readonly versionMinor: number
  /** SV_TYPE_* */
  readonly type: number
  readonly comment: string | null
  readonly users: number
  readonly disc: number
  readonly hidden: number
  readonly announce: number
  readonly anndelta: number
  readonly licenses: number
  readonly userpath: string | null
}

export const SERVER_INFO_LEVELS = [100, 101, 102] as const
export type ServerInfoLevel = (typeof SERVER_INFO_LEVELS)[number]

export const SERVER_INFO_FIELDS: { readonly [L in ServerInfoLevel]: readonly (keyof ServerInfo)[] } = {
  100: ['platformId', 'name'],
  101: ['platformId', 'name', 'versionMajor', 'versionMinor', 'type', 'comment'],
  102: ['platformId', 'name', 'versionMajor', 'versionMinor', 'type', 'comment', 'users', 'disc', 'hidden', 'announce', 'anndelta', 'licenses', 'userpath'],
}

export type ServerInfoAtLevel = Partial<ServerInfo>

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

export interface ShareEnumRequest {
  readonly operation: 'NetrShareEnum'
  /** ServerName without its NUL, or null for a NULL pointer. The server ignores it (MS-SRVS 3.1.4.8). */
  readonly serverName: string | null
  readonly level: number
  /** Whether the level's container pointer was non-NULL (rpcclient and smbclient send an empty container; impacket a NULL one). */
  readonly containerPresent: boolean
  /** Entries the client put in the container it sent; the server ignores them. */
  readonly entriesSent: number
  readonly preferredMaximumLength: number
  /** *ResumeHandle, or null when the pointer is NULL. */
  readonly resumeHandle: number | null
}

export interface ShareGetInfoRequest {
  readonly operation: 'NetrShareGetInfo'
  readonly serverName: string | null
  readonly netName: string
  readonly level: number
}

export interface ServerGetInfoRequest {
  readonly operation: 'NetrServerGetInfo'
  readonly serverName: string | null
  readonly level: number
}

export type SrvsvcRequest = ShareEnumRequest | ShareGetInfoRequest | ServerGetInfoRequest

export type SrvsvcRequestDecodeResult =
  | { readonly ok: true; readonly request: SrvsvcRequest; readonly trailingBytes: number }
  | { readonly ok: false; readonly fault: 'op-range' | 'ndr'; readonly reason: string }

/** A decoded response, or why it does not decode. */
export type SrvsvcDecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

/** Decodes the in-parameters of a srvsvc request. Never throws. */
export function decodeSrvsvcRequest(opnum: number, stub: Uint8Array): SrvsvcRequestDecodeResult {
  if (opnum !== SRVSVC_OPNUM.NetrShareEnum && opnum !== SRVSVC_OPNUM.NetrShareGetInfo && opnum !== SRVSVC_OPNUM.NetrServerGetInfo) {
    return { ok: false, fault: 'op-range', reason: `opnum ${String(opnum)} is not a srvsvc operation served here` }
  }
  if (!(stub instanceof Uint8Array)) return { ok: false, fault: 'ndr', reason: 'the stub is not a byte array' }
  try {
    const reader = new NdrReader(stub)
    const serverName = optionalString(reader, 'ServerName')
    let request: SrvsvcRequest
    if (opnum === SRVSVC_OPNUM.NetrShareEnum) {
      const level = reader.u32('InfoStruct Level')
      readUnionTag(reader, level, 'InfoStruct ShareInfo')
      let containerPresent = false
      let entriesSent = 0
      if (SHARE_UNION_ARM_LEVELS.has(level)) {
        containerPresent = reader.uniquePointer('InfoStruct container')
        if (containerPresent) entriesSent = readContainer(reader, level, 'InfoStruct container').entriesRead
      }
      const preferredMaximumLength = reader.u32('PreferedMaximumLength')
      const resumeHandle = reader.uniquePointer('ResumeHandle') ? reader.u32('*ResumeHandle') : null
      request = { operation: 'NetrShareEnum', serverName, level, containerPresent, entriesSent, preferredMaximumLength, resumeHandle }
    } else if (opnum === SRVSVC_OPNUM.NetrShareGetInfo) {
      const netName = reader.conformantVaryingString('NetName')
      const level = reader.u32('Level')
      request = { operation: 'NetrShareGetInfo', serverName, netName, level }
    } else {
      const level = reader.u32('Level')
      request = { operation: 'NetrServerGetInfo', serverName, level }
    }
    return { ok: true, request, trailingBytes: reader.remaining }
  } catch (err) {
    return { ok: false, fault: 'ndr', reason: failureReason(err) }
  }
}

export interface ShareEnumRequestParams {
  readonly serverName: string | null
  readonly level: number
  /** Defaults to true: an empty container, as rpcclient and smbclient send. */
  readonly containerPresent?: boolean
  readonly preferredMaximumLength: number
  readonly resumeHandle: number | null
}

/** NetrShareEnum's in-parameters as a client sends them: an empty container (or none) at level. */
export function encodeShareEnumRequest(params: ShareEnumRequestParams): Buffer {
  const writer = new NdrWriter()
  writeOptionalString(writer, params.serverName, 'ServerName')
  writer.u32(params.level, 'InfoStruct Level')
  writer.u32(params.level, 'InfoStruct ShareInfo tag')
  if (SHARE_UNION_ARM_LEVELS.has(params.level)) {
    const containerPresent = params.containerPresent ?? true
    writer.pointer(containerPresent, 'InfoStruct container')
    if (containerPresent) {
      writer.u32(0, 'EntriesRead')
      writer.pointer(false, 'Buffer')
    }
  } else if (params.containerPresent === true) {
    throw new RangeError(`level ${params.level} has no container arm`)
  }
  writer.u32(params.preferredMaximumLength, 'PreferedMaximumLength')
  writer.pointer(params.resumeHandle !== null, 'ResumeHandle')
  if (params.resumeHandle !== null) writer.u32(params.resumeHandle, '*ResumeHandle')
  return writer.finish()
}

export function encodeShareGetInfoRequest(params: { readonly serverName: string | null; readonly netName: string; readonly level: number }): Buffer {
  const writer = new NdrWriter()
  writeOptionalString(writer, params.serverName, 'ServerName')
  writer.conformantVaryingString(params.netName, 'NetName')
  writer.u32(params.level, 'Level')
  return writer.finish()
}

export function encodeServerGetInfoRequest(params: { readonly serverName: string | null; readonly level: number }): Buffer {
  const writer = new NdrWriter()
  writeOptionalString(writer, params.serverName, 'ServerName')
  writer.u32(params.level, 'Level')
  return writer.finish()
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

export interface ShareEnumResponse {
  /** InfoStruct.Level, also the union's discriminant. */
  readonly level: number
  /**
   * The container's entries, at level; null sends a NULL container pointer (an error reply).
   * Ignored for a level the union has no arm for (only the discriminant is sent).
   */
  readonly entries: readonly ShareInfo[] | null
  readonly totalEntries: number
  /** *ResumeHandle; null sends a NULL pointer, which is the answer to a NULL ResumeHandle. */
  readonly resumeHandle: number | null
  readonly result: number
}

export interface DecodedShareEnumResponse {
  readonly level: number
  readonly containerPresent: boolean
  /** null when the container or its Buffer pointer is NULL. */
  readonly entries: readonly ShareInfoAtLevel[] | null
  readonly entriesRead: number
  readonly totalEntries: number
  readonly resumeHandle: number | null
  readonly result: number
}

/** NetrShareEnum's out-parameters: InfoStruct, TotalEntries, ResumeHandle and the return value. */
export function encodeShareEnumResponse(response: ShareEnumResponse): Buffer {
  const writer = new NdrWriter()
  writer.u32(response.level, 'InfoStruct Level')
  writer.u32(response.level, 'InfoStruct ShareInfo tag')
  if (SHARE_UNION_ARM_LEVELS.has(response.level)) {
    writer.pointer(response.entries !== null, 'InfoStruct container')
    if (response.entries !== null) {
      const level = encodableShareLevel(response.level, response.entries.length)
      const entries = response.entries
      writer.u32(entries.length, 'EntriesRead')
      // An empty container has a NULL Buffer, as Windows sends it.
      writer.pointer(entries.length > 0, 'Buffer')
      if (entries.length > 0 && level !== null) {
        writer.u32(entries.length, 'Buffer max_count')
        entries.forEach((entry, index) => writeShareFlat(writer, level, entry, `Buffer[${index}]`))
        entries.forEach((entry, index) => writeShareDeferred(writer, level, entry, `Buffer[${index}]`))
      }
    }
  }
  writer.u32(response.totalEntries, 'TotalEntries')
  writer.pointer(response.resumeHandle !== null, 'ResumeHandle')
  if (response.resumeHandle !== null) writer.u32(response.resumeHandle, '*ResumeHandle')
  writer.u32(response.result, 'return value')
  return writer.finish()
}

export function decodeShareEnumResponse(stub: Uint8Array): SrvsvcDecodeResult<DecodedShareEnumResponse> {
  return decodeStub(stub, 'NetrShareEnum response', (reader) => {
    const level = reader.u32('InfoStruct Level')
    readUnionTag(reader, level, 'InfoStruct ShareInfo')
    let containerPresent = false
    let entries: ShareInfoAtLevel[] | null = null
    let entriesRead = 0
    if (SHARE_UNION_ARM_LEVELS.has(level)) {
      containerPresent = reader.uniquePointer('InfoStruct container')
      if (containerPresent) {
        const container = readContainer(reader, level, 'InfoStruct container')
        entriesRead = container.entriesRead
        entries = container.entries
      }
    }
    const totalEntries = reader.u32('TotalEntries')
    const resumeHandle = reader.uniquePointer('ResumeHandle') ? reader.u32('*ResumeHandle') : null
    const result = reader.u32('return value')
    return { level, containerPresent, entries, entriesRead, totalEntries, resumeHandle, result }
  })
}

/** NetrShareGetInfo's out-parameters: the SHARE_INFO union at level (info null sends a NULL arm) and the return value. */
export function encodeShareGetInfoResponse(level: number, info: ShareInfo | null, result: number): Buffer {
  const writer = new NdrWriter()
  writer.u32(level, 'InfoStruct tag')
  if (SHARE_UNION_ARM_LEVELS.has(level)) {
    writer.pointer(info !== null, 'InfoStruct')
    if (info !== null) {
      const encodable = encodableShareLevel(level, 1)
      if (encodable === null) throw new RangeError(`level ${level} has no encoder`)
      writeShareFlat(writer, encodable, info, 'InfoStruct')
      writeShareDeferred(writer, encodable, info, 'InfoStruct')
    }
  } else if (info !== null) {
    throw new RangeError(`level ${level} has no arm to carry a share`)
  }
  writer.u32(result, 'return value')
  return writer.finish()
}

export function decodeShareGetInfoResponse(stub: Uint8Array): SrvsvcDecodeResult<{ readonly level: number; readonly info: ShareInfoAtLevel | null; readonly result: number }> {
  return decodeStub(stub, 'NetrShareGetInfo response', (reader) => {
    const level = reader.u32('InfoStruct tag')
    let info: ShareInfoAtLevel | null = null
    if (SHARE_UNION_ARM_LEVELS.has(level) && reader.uniquePointer('InfoStruct')) {
      const decodable = decodableShareLevel(reader, level, 'InfoStruct')
      const flat = readShareFlat(reader, decodable, 'InfoStruct')
      info = readShareDeferred(reader, decodable, flat, 'InfoStruct')
    }
    const result = reader.u32('return value')
    return { level, info, result }
  })
}

/** NetrServerGetInfo's out-parameters: the SERVER_INFO union at level (info null sends a NULL arm) and the return value. */
export function encodeServerGetInfoResponse(level: number, info: ServerInfo | null, result: number): Buffer {
  const writer = new NdrWriter()
  writer.u32(level, 'InfoStruct tag')
  if (SERVER_UNION_ARM_LEVELS.has(level)) {
    writer.pointer(info !== null, 'InfoStruct')
    if (info !== null) {
      if (!isServerInfoLevel(level)) throw new RangeError(`server info level ${level} has no encoder`)
      writer.u32(info.platformId, 'platform_id')
      writer.pointer(info.name !== null, 'name')
      if (level >= 101) {
        writer.u32(info.versionMajor, 'version_major')
        writer.u32(info.versionMinor, 'version_minor')
        writer.u32(info.type, 'type')
        writer.pointer(info.comment !== null, 'comment')
      }
      if (level === 102) {
        writer.u32(info.users, 'users')
        writer.u32(info.disc, 'disc')
        writer.u32(info.hidden, 'hidden')
        writer.u32(info.announce, 'announce')
        writer.u32(info.anndelta, 'anndelta')
        writer.u32(info.licenses, 'licenses')
        writer.pointer(info.userpath !== null, 'userpath')
      }
      if (info.name !== null) writer.conformantVaryingString(info.name, 'name')
      if (level >= 101 && info.comment !== null) writer.conformantVaryingString(info.comment, 'comment')
      if (level === 102 && info.userpath !== null) writer.conformantVaryingString(info.userpath, 'userpath')
    }
  } else if (info !== null) {
    throw new RangeError(`level ${level} has no arm to carry server info`)
  }
  writer.u32(result, 'return value')
  return writer.finish()
}

export function decodeServerGetInfoResponse(stub: Uint8Array): SrvsvcDecodeResult<{ readonly level: number; readonly info: ServerInfoAtLevel | null; readonly result: number }> {
  return decodeStub(stub, 'NetrServerGetInfo response', (reader: NdrReader) => {
    const level = reader.u32('InfoStruct tag')
    let info: ServerInfoAtLevel | null = null
    if (SERVER_UNION_ARM_LEVELS.has(level) && reader.uniquePointer('InfoStruct')) {
      if (!isServerInfoLevel(level)) reader.fail(`server info level ${level} is not decoded`)
      const platformId = reader.u32('platform_id')
      const hasName = reader.uniquePointer('name')
      const decoded: { -readonly [K in keyof ServerInfo]?: ServerInfo[K] } = { platformId }
      let hasComment = false
      let hasUserpath = false
      if (level >= 101) {
        decoded.versionMajor = reader.u32('version_major')
        decoded.versionMinor = reader.u32('version_minor')
        decoded.type = reader.u32('type')
        hasComment = reader.uniquePointer('comment')
      }
      if (level === 102) {
        decoded.users = reader.u32('users')
        decoded.disc = reader.u32('disc')
        decoded.hidden = reader.u32('hidden')
        decoded.announce = reader.u32('announce')
        decoded.anndelta = reader.u32('anndelta')
        decoded.licenses = reader.u32('licenses')
        hasUserpath = reader.uniquePointer('userpath')
      }
      decoded.name = hasName ? reader.conformantVaryingString('name') : null
      if (level >= 101) decoded.comment = hasComment ? reader.conformantVaryingString('comment') : null
      if (level === 102) decoded.userpath = hasUserpath ? reader.conformantVaryingString('userpath') : null
      info = orderedFields(decoded, SERVER_INFO_FIELDS[level])
    }
    const result = reader.u32('return value')
    return { level, info, result }
  })
}

/** The fields of info that level carries, in wire order: what a decoder of that level returns. */
export function shareInfoAtLevel(info: ShareInfo, level: ShareInfoLevel): ShareInfoAtLevel {
  return orderedFields(info, SHARE_INFO_FIELDS[level])
}

export function serverInfoAtLevel(info: ServerInfo, level: ServerInfoLevel): ServerInfoAtLevel {
  return orderedFields(info, SERVER_INFO_FIELDS[level])
}

export function isShareInfoLevel(level: number): level is ShareInfoLevel {
  return (SHARE_INFO_LEVELS as readonly number[]).includes(level)
}

export function isServerInfoLevel(level: number): level is ServerInfoLevel {
  return (SERVER_INFO_LEVELS as readonly number[]).includes(level)
}

/**
 * The NDR bytes one entry takes in an enumeration container at level: its flat part, its strings
 * and their alignment padding (strings start 4-byte aligned). PreferedMaximumLength counts these.
 */
export function shareEntryWireBytes(level: ShareInfoLevel, info: ShareInfo): number {
  const stringBytes = (text: string | null) => (text === null ? 0 : 12 + 4 * Math.ceil((text.length + 1) / 2))
  switch (level) {
    case 0:
      return 4 + stringBytes(info.netname)
    case 1:
      return 12 + stringBytes(info.netname) + stringBytes(info.remark)
    case 2:
      return 32 + stringBytes(info.netname) + stringBytes(info.remark) + stringBytes(info.path) + stringBytes(info.password)
    case 501:
      return 16 + stringBytes(info.netname) + stringBytes(info.remark)
    case 502:
      return (
        40 +
        stringBytes(info.netname) +
        stringBytes(info.remark) +
        stringBytes(info.path) +
        stringBytes(info.password) +
        (info.securityDescriptor === null ? 0 : 4 + 4 * Math.ceil(info.securityDescriptor.byteLength / 4))
      )
    case 1005:
      return 4
  }
}

// ---------------------------------------------------------------------------------------------
// Share structures
// ---------------------------------------------------------------------------------------------

/** The smallest flat size of one element at each level, which bounds a hostile max_count. */
const SHARE_FLAT_BYTES: { readonly [L in ShareInfoLevel]: number } = { 0: 4, 1: 12, 2: 32, 501: 16, 502: 40, 1005: 4 }
/** Samba's bound on a share security descriptor (sec_desc_buf's range). */
const SECURITY_DESCRIPTOR_BYTES_MAX = 0x40000

/** Which pointers of an entry's flat part were non-NULL, and its scalars, until the pointees are read. */
interface ShareFlat {
  readonly scalars: { -readonly [K in keyof ShareInfo]?: ShareInfo[K] }
  readonly present: Set<keyof ShareInfo>
  readonly sdBytes: number
}

/** The encodable level for a container or a single entry, or null for an empty container at a level without an encoder. */
function encodableShareLevel(level: number, entryCount: number): ShareInfoLevel | null {
  if (isShareInfoLevel(level)) return level
  if (entryCount > 0) throw new RangeError(`share info level ${level} has no encoder`)
  return null
}

function decodableShareLevel(reader: NdrReader, level: number, what: string): ShareInfoLevel {
  if (!isShareInfoLevel(level)) reader.fail(`${what}: share info level ${level} is not decoded`)
  return level
}

function writeShareFlat(writer: NdrWriter, level: ShareInfoLevel, info: ShareInfo, what: string): void {
  for (const field of SHARE_INFO_FIELDS[level]) {
    switch (field) {
      case 'netname':
        writer.pointer(true, `${what} netname`)
        break
      case 'remark':
      case 'path':
      case 'password':
        writer.pointer(info[field] !== null, `${what} ${field}`)
        break
      case 'securityDescriptor': {
        const sd = info.securityDescriptor
        if (sd !== null && !(sd instanceof Uint8Array)) throw new RangeError(`${what} securityDescriptor is not bytes`)
        // shi502_reserved is the descriptor's size; the pointer follows it.
        writer.u32(sd === null ? 0 : sd.byteLength, `${what} reserved`)
        writer.pointer(sd !== null, `${what} security_descriptor`)
        break
      }
      default:
        writer.u32(info[field], `${what} ${field}`)
    }
  }
}

function writeShareDeferred(writer: NdrWriter, level: ShareInfoLevel, info: ShareInfo, what: string): void {
  for (const field of SHARE_INFO_FIELDS[level]) {
    if (field === 'netname' || field === 'remark' || field === 'path' || field === 'password') {
      const text = info[field]
      if (text !== null) writer.conformantVaryingString(text, `${what} ${field}`)
    } else if (field === 'securityDescriptor' && info.securityDescriptor !== null) {
      writer.u32(info.securityDescriptor.byteLength, `${what} security_descriptor max_count`)
      writer.bytes(info.securityDescriptor)
    }
  }
}

function readShareFlat(reader: NdrReader, level: ShareInfoLevel, what: string): ShareFlat {
  const scalars: ShareFlat['scalars'] = {}
  const present = new Set<keyof ShareInfo>()
  let sdBytes = 0
  for (const field of SHARE_INFO_FIELDS[level]) {
    switch (field) {
      case 'netname':
        // A share without a name cannot be shown or used: refuse it rather than invent one.
        if (!reader.uniquePointer(`${what} netname`)) reader.fail(`${what} netname is NULL`)
        present.add(field)
        break
      case 'remark':
      case 'path':
      case 'password':
        if (reader.uniquePointer(`${what} ${field}`)) present.add(field)
        break
      case 'securityDescriptor':
        sdBytes = reader.u32(`${what} reserved`)
        if (sdBytes > SECURITY_DESCRIPTOR_BYTES_MAX) reader.fail(`${what} reserved ${sdBytes} exceeds the ${SECURITY_DESCRIPTOR_BYTES_MAX}-byte descriptor bound`)
        if (reader.uniquePointer(`${what} security_descriptor`)) present.add(field)
        break
      default:
        scalars[field] = reader.u32(`${what} ${field}`)
    }
  }
  return { scalars, present, sdBytes }
}

function readShareDeferred(reader: NdrReader, level: ShareInfoLevel, flat: ShareFlat, what: string): ShareInfoAtLevel {
  const out: { -readonly [K in keyof ShareInfo]?: ShareInfo[K] } = { ...flat.scalars }
  for (const field of SHARE_INFO_FIELDS[level]) {
    if (field === 'netname' || field === 'remark' || field === 'path' || field === 'password') {
      // netname is always present: readShareFlat refused a NULL one.
      const text = flat.present.has(field) ? reader.conformantVaryingString(`${what} ${field}`) : null
      if (field === 'netname') out.netname = text ?? ''
      else out[field] = text
    } else if (field === 'securityDescriptor') {
      if (flat.present.has(field)) {
        const maxCount = reader.conformance(1, `${what} security_descriptor`)
        if (maxCount !== flat.sdBytes) reader.fail(`${what} security_descriptor max_count ${maxCount} disagrees with reserved ${flat.sdBytes}`)
        out.securityDescriptor = reader.bytesCopy(maxCount, `${what} security_descriptor`)
      } else {
        if (flat.sdBytes !== 0) reader.fail(`${what} security_descriptor is NULL but reserved is ${flat.sdBytes}`)
        out.securityDescriptor = null
      }
    }
  }
  return orderedFields(out, SHARE_INFO_FIELDS[level])
}

/**
 * The pointee of a container pointer: EntriesRead, the Buffer pointer, and the array with its
 * strings. A level this codec has no element decoder for is accepted only without entries.
 */
function readContainer(reader: NdrReader, level: number, what: string): { entriesRead: number; entries: ShareInfoAtLevel[] | null } {
  const entriesRead = reader.u32(`${what} EntriesRead`)
  if (!reader.uniquePointer(`${what} Buffer`)) return { entriesRead, entries: null }
  const decodable = decodableShareLevel(reader, level, `${what} Buffer`)
  const maxCount = reader.conformance(SHARE_FLAT_BYTES[decodable], `${what} Buffer`)
  // size_is(EntriesRead): the conformance must agree with the count it names.
  if (maxCount !== entriesRead) reader.fail(`${what} Buffer max_count ${maxCount} disagrees with EntriesRead ${entriesRead}`)
  const flats: ShareFlat[] = []
  for (let index = 0; index < maxCount; index++) flats.push(readShareFlat(reader, decodable, `${what} Buffer[${index}]`))
  const entries = flats.map((flat, index) => readShareDeferred(reader, decodable, flat, `${what} Buffer[${index}]`))
  return { entriesRead, entries }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A non-encapsulated union's discriminant, which must repeat the switch_is field. */
function readUnionTag(reader: NdrReader, level: number, what: string): void {
  const tag = reader.u32(`${what} tag`)
  if (tag !== level) reader.fail(`${what} tag ${tag} disagrees with Level ${level}`)
}

function optionalString(reader: NdrReader, what: string): string | null {
  return reader.uniquePointer(what) ? reader.conformantVaryingString(what) : null
}

function writeOptionalString(writer: NdrWriter, text: string | null, what: string): void {
  writer.pointer(text !== null, what)
  if (text !== null) writer.conformantVaryingString(text, what)
}

/** The named fields of source, in the given order; absent ones stay absent. */
function orderedFields<T extends object>(source: Partial<T>, fields: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = {}
  for (const field of fields) if (field in source) out[field] = source[field]
  return out
}

/** Runs body over the whole stub; an NdrError (or, were there a bug, anything else) becomes a typed failure. */
function decodeStub<T>(stub: Uint8Array, what: string, body: (reader: NdrReader) => T): SrvsvcDecodeResult<T> {
  if (!(stub instanceof Uint8Array)) return { ok: false, error: `${what}: the stub is not a byte array` }
  try {
    const reader = new NdrReader(stub)
    const value = body(reader)
    reader.end(what)
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: `${what}: ${failureReason(err)}` }
  }
}

/** One line for a log. Anything but an NdrError is a bug in this codec, and says so. */
function failureReason(err: unknown): string {
  if (err instanceof NdrError) return err.message
  return `internal decoder error: ${err instanceof Error ? err.message : String(err)}`.replace(/[\r\n]+/g, ' ')
}
