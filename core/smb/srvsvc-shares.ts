// The answers of the srvsvc interface (MS-SRVS 3.1.4.8 NetrShareEnum, 3.1.4.10 NetrShareGetInfo,
// 3.1.4.17 NetrServerGetInfo) from what the node says it shares, as pure functions: a listing
// of shares and the server's identity in, the out-parameters the stub codec encodes out. The
// DCE/RPC manager (server/dcerpc/srvsvc-rpc-interface.ts) decodes, calls these and encodes.
//
// Choices, with the reasons:
// - Share types (MS-SRVS 2.2.2.4): a disk share on a cluster is STYPE_DISKTREE with
//   STYPE_CLUSTER_SOFS when it is scale-out and STYPE_CLUSTER_FS otherwise; IPC$ is STYPE_IPC |
//   STYPE_SPECIAL. smbtorture's rpc.witness picks the STYPE_CLUSTER_SOFS share it registers for,
//   and smbclient -L shows `type & 7`, so both read "Disk". (Samba's rpcd_witness notes that,
//   per Microsoft's dochelp, Windows sets the cluster bits only for local callers; the emulator
//   shows them remotely because its clients need them, as issue 14 asks.)
// - shi1005 flags: ENABLE_CA for a continuously available share, ENCRYPT_DATA when the share
//   requires encryption, CLUSTER_MANAGED on a cluster; CSC policy "manual" (0), the default.
// - Enumeration levels 0, 1, 2, 501 and 502 are answered (what Windows answers remotely, 503
//   aside); GetInfo adds 1005. Any other level is ERROR_INVALID_LEVEL with a NULL arm. The level
//   is checked before the share name, as MS-SRVS 3.1.4.10 orders it.
// - PreferedMaximumLength counts the NDR bytes of each entry; at least one entry is always
//   returned so that an enumeration progresses, then ERROR_MORE_DATA with the index of the next
//   entry as the resume handle (MS-SRVS leaves its value to the implementation). TotalEntries
//   counts the entries from the resume point on, as MS-SRVS defines it.
// - Share names compare case-insensitively, as on Windows and Samba.
// - Permissions, passwords and security descriptors are not modelled: 0, NULL and NULL.
import {
  MAX_PREFERRED_LENGTH,
  PLATFORM_ID_NT,
  SHI1005_FLAGS,
  SRVSVC_RESULT,
  STYPE,
  SV_TYPE,
  isServerInfoLevel,
  isShareInfoLevel,
  shareEntryWireBytes,
  type ServerInfo,
  type ShareEnumResponse,
  type ShareInfo,
  type ShareInfoLevel,
  type SrvsvcRequest,
} from '../../protocol/dcerpc/srvsvc-ndr.js'

/** What the node says about one share it serves. */
export interface ShareListing {
  readonly name: string
  readonly kind: 'disk' | 'ipc'
  readonly remark: string
  /** The share lives on the cluster (a CSV share): it gets a STYPE_CLUSTER_* bit and CLUSTER_MANAGED. */
  readonly clustered: boolean
  /** A scale-out share (SMB2_SHARE_CAP_SCALEOUT): STYPE_CLUSTER_SOFS rather than STYPE_CLUSTER_FS. */
  readonly scaleOut: boolean
  readonly continuouslyAvailable: boolean
  /** The share requires encryption (SMB2_SHAREFLAG_ENCRYPT_DATA). */
  readonly encryptData: boolean
  /** The local path levels 2 and 502 show (shi2_path), e.g. C:\ClusterStorage\csv-1\share-1; '' for IPC$. */
  readonly path: string
  /** Tree connects to it now; 0 when the node does not count. */
  readonly currentUses: number
}

/** The server as NetrServerGetInfo shows it. */
export interface SrvsvcServerIdentity {
  /** The NetBIOS-style name clients connect to (the scale-out file server's name). */
  readonly name: string
  readonly comment: string
  readonly versionMajor: number
  readonly versionMinor: number
  /** SV_TYPE_* bits. */
  readonly type: number
}

/** What the DCE/RPC manager encodes for one request. */
export type SrvsvcAnswer =
  | { readonly operation: 'NetrShareEnum'; readonly response: ShareEnumResponse }
  | { readonly operation: 'NetrShareGetInfo'; readonly level: number; readonly info: ShareInfo | null; readonly result: number }
  | { readonly operation: 'NetrServerGetInfo'; readonly level: number; readonly info: ServerInfo | null; readonly result: number }

/** The enumeration levels answered; NetrShareGetInfo also answers 1005. */
export const SHARE_ENUM_LEVELS_ANSWERED: readonly ShareInfoLevel[] = [0, 1, 2, 501, 502]
/** Bound on the entries of one enumeration reply, whatever PreferedMaximumLength allows: the rest needs a resume handle. */
export const SHARE_ENUM_ENTRIES_MAX = 1024
/** The remark Windows gives IPC$. */
export const IPC_SHARE_REMARK = 'Remote IPC'
/** sv101_type of a Windows file server: workstation and server services, NT (0x9003). */
export const DEFAULT_SERVER_TYPE = (SV_TYPE.WORKSTATION | SV_TYPE.SERVER | SV_TYPE.NT | SV_TYPE.SERVER_NT) >>> 0
/** SERVER_INFO_102's tuning values, as a Windows server reports them (MS-SRVS 2.2.4.42). */
const SERVER_INFO_102_DEFAULTS = { users: 0xffffffff, disc: 15, hidden: 0, announce: 240, anndelta: 3000, licenses: 0, userpath: 'C:\\' } as const
/** shi2_max_uses of a share without a limit. */
const MAX_USES_UNLIMITED = 0xffffffff

/** The IPC$ listing every server has. */
export function ipcShareListing(currentUses = 0): ShareListing {
  return { name: 'IPC$', kind: 'ipc', remark: IPC_SHARE_REMARK, clustered: false, scaleOut: false, continuouslyAvailable: false, encryptData: false, path: '', currentUses }
}

/** A CSV share's listing: on the cluster, with the Windows-style path of a CSV volume. */
export function csvShareListing(share: {
  readonly name: string
  readonly csv: string
  readonly scaleOut: boolean
  readonly continuouslyAvailable: boolean
  readonly encryptData?: boolean
  readonly remark?: string
  readonly currentUses?: number
}): ShareListing {
  return {
    name: share.name,
    kind: 'disk',
    remark: share.remark ?? `${share.scaleOut ? 'Scale-out' : 'Clustered'} share on ${share.csv}`,
    clustered: true,
    scaleOut: share.scaleOut,
    continuouslyAvailable: share.continuouslyAvailable,
    encryptData: share.encryptData ?? false,
    path: `C:\\ClusterStorage\\${share.csv}\\Shares\\${share.name}`,
    currentUses: share.currentUses ?? 0,
  }
}

/** STYPE_* of a listing. */
export function shareType(listing: ShareListing): number {
  if (listing.kind === 'ipc') return (STYPE.IPC | STYPE.SPECIAL) >>> 0
  if (!listing.clustered) return STYPE.DISKTREE
  return (STYPE.DISKTREE | (listing.scaleOut ? STYPE.CLUSTER_SOFS : STYPE.CLUSTER_FS)) >>> 0
}

/** shi1005_flags of a listing. */
export function shareFlags(listing: ShareListing): number {
  let flags = 0
  if (listing.continuouslyAvailable) flags |= SHI1005_FLAGS.ENABLE_CA
  if (listing.encryptData) flags |= SHI1005_FLAGS.ENCRYPT_DATA
  if (listing.clustered) flags |= SHI1005_FLAGS.CLUSTER_MANAGED
  return flags >>> 0
}

/** Everything the share info levels can show of a listing. */
export function shareInfoOf(listing: ShareListing): ShareInfo {
  return {
    netname: listing.name,
    type: shareType(listing),
    remark: listing.remark,
    permissions: 0,
    maxUses: MAX_USES_UNLIMITED,
    currentUses: listing.currentUses,
    path: listing.path,
    password: null,
    flags: shareFlags(listing),
    securityDescriptor: null,
  }
}

/** SERVER_INFO_100/101/102 of the server. */
export function serverInfoOf(server: SrvsvcServerIdentity): ServerInfo {
  return {
    platformId: PLATFORM_ID_NT,
    name: server.name,
    versionMajor: server.versionMajor,
    versionMinor: server.versionMinor,
    type: server.type,
    comment: server.comment,
    ...SERVER_INFO_102_DEFAULTS,
  }
}

/** The answer to one decoded srvsvc request. */
export function answerSrvsvcRequest(request: SrvsvcRequest, shares: readonly ShareListing[], server: SrvsvcServerIdentity): SrvsvcAnswer {
  switch (request.operation) {
    case 'NetrShareEnum':
      return { operation: 'NetrShareEnum', response: answerShareEnum(request.level, request.preferredMaximumLength, request.resumeHandle, shares) }
    case 'NetrShareGetInfo': {
      const { level } = request
      if (!isShareInfoLevel(level)) return { operation: 'NetrShareGetInfo', level, info: null, result: SRVSVC_RESULT.INVALID_LEVEL }
      const listing = findShare(shares, request.netName)
      if (listing === undefined) return { operation: 'NetrShareGetInfo', level, info: null, result: SRVSVC_RESULT.NET_NAME_NOT_FOUND }
      return { operation: 'NetrShareGetInfo', level, info: shareInfoOf(listing), result: SRVSVC_RESULT.SUCCESS }
    }
    case 'NetrServerGetInfo': {
      const { level } = request
      if (!isServerInfoLevel(level)) return { operation: 'NetrServerGetInfo', level, info: null, result: SRVSVC_RESULT.INVALID_LEVEL }
      return { operation: 'NetrServerGetInfo', level, info: serverInfoOf(server), result: SRVSVC_RESULT.SUCCESS }
    }
  }
}

/** NetrShareEnum's out-parameters: the entries from the resume point that fit, and how to go on. */
export function answerShareEnum(level: number, preferredMaximumLength: number, resumeHandle: number | null, shares: readonly ShareListing[]): ShareEnumResponse {
  if (!(SHARE_ENUM_LEVELS_ANSWERED as readonly number[]).includes(level) || !isShareInfoLevel(level)) {
    // The handle goes back as it came: the enumeration did not move.
    return { level, entries: null, totalEntries: 0, resumeHandle, result: SRVSVC_RESULT.INVALID_LEVEL }
  }
  const start = Math.min(resumeHandle ?? 0, shares.length)
  const remaining = shares.slice(start).map(shareInfoOf)
  const entries: ShareInfo[] = []
  let bytes = 0
  for (const info of remaining) {
    if (entries.length >= SHARE_ENUM_ENTRIES_MAX) break
    const entryBytes = shareEntryWireBytes(level, info)
    // The first entry always goes, so that a small PreferedMaximumLength still makes progress.
    if (entries.length > 0 && preferredMaximumLength !== MAX_PREFERRED_LENGTH && bytes + entryBytes > preferredMaximumLength) break
    entries.push(info)
    bytes += entryBytes
  }
  const complete = entries.length === remaining.length
  return {
    level,
    entries,
    totalEntries: remaining.length,
    // A finished enumeration hands back 0 (a new one starts from the beginning); an unfinished one the next index.
    resumeHandle: resumeHandle === null ? null : complete ? 0 : start + entries.length,
    result: complete ? SRVSVC_RESULT.SUCCESS : SRVSVC_RESULT.MORE_DATA,
  }
}

function findShare(shares: readonly ShareListing[], netName: string): ShareListing | undefined {
  const wanted = netName.toLowerCase()
  return shares.find((share) => share.name.toLowerCase() === wanted)
}
