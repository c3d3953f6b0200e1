// The state the SMB2 wire front keeps per connection, session, tree connect and open, beside
// what the session core (connections, sessions, trees) and the CSV owners (opens) keep. These
// are the adapter's own records: keys, signing and encryption settings, the preauth hash, the
// wire ids and the per-open cursors of a directory listing.
import type { SmbTreeContext } from '../../core/smb/smb-session-core.js'
import type { ShareInfo } from '../smb/csv-service.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import type { DirectoryCursor } from '../../core/smb/directory-cursor.js'
import type { NamedPipe } from './named-pipe.js'

/** The session keys MS-SMB2 3.3.5.5.3 derives, per dialect (the cipher keys empty below 3.0). */
export interface Smb2SessionKeys {
  readonly signingKey: Buffer
  /** Server to client (the server's EncryptionKey). */
  readonly encryptionKey: Buffer
  /** Client to server (the server's DecryptionKey). */
  readonly decryptionKey: Buffer
  readonly applicationKey: Buffer
}

/** The accepting side of one session's GSS (SPNEGO) exchange, one leg per SESSION_SETUP. */
export interface GssAcceptor {
  step(token: Buffer): GssStep
}

export type GssStep =
  | { readonly kind: 'continue'; readonly token: Buffer }
  | {
      readonly kind: 'accepted'
      readonly token: Buffer
      readonly user: string
      /** Anonymous (null session): no key, nothing signed (MS-SMB2 3.3.5.5.3 IS_NULL). */
      readonly anonymous: boolean
      readonly sessionKey: Buffer
    }
  | { readonly kind: 'refused'; readonly status: number; readonly reason: string; readonly token?: Buffer }

export type WireSessionState = 'in-progress' | 'valid'

export interface WireSession {
  readonly sessionId: bigint
  /** The key the session core and the CSV owners know the session by: "<node>/<hex id>". */
  readonly sessionKeyName: string
  state: WireSessionState
  /** A re-authentication of a valid session is in progress (3.3.5.5.2). */
  reauth: boolean
  acceptor: GssAcceptor
  /** 3.1.1: SHA-512 over NEGOTIATE and this session's SESSION_SETUPs so far. */
  preauthHash: Buffer | null
  user: string
  anonymous: boolean
  keys: Smb2SessionKeys | null
  /** Requests must be signed (3.3.5.5.3): signing required on either side, and not anonymous. */
  signingRequired: boolean
  /** Every message of the session is encrypted (SMB2_SESSION_FLAG_ENCRYPT_DATA). */
  encryptData: boolean
  /** The cipher and signing algorithm of the connection the session was set up on: a channel must match (3.3.5.5). */
  cipher: number | null
  signingAlgorithm: number
  dialect: number
  /**
   * The signing keys of the channels bound later (3.3.5.5.3 Channel.SigningKey), by connection
   * id; the channel the session was set up on signs with keys.signingKey (Session.SigningKey).
   */
  readonly channelSigningKeys: Map<string, Buffer>
  readonly trees: Map<number, WireTree>
  readonly opens: Map<string, WireOpen>
  /** The tree id the next TREE_CONNECT gets. */
  nextTreeId: number
}

export interface WireTree {
  readonly treeId: number
  /** The session core's tree id. */
  readonly coreTreeId: string
  /** null: IPC$. */
  readonly share: ShareInfo | null
  readonly context: SmbTreeContext<ShareInfo> | null
  readonly encryptData: boolean
}

export interface WireOpen {
  readonly fileId: Smb2FileId
  readonly treeId: number
  /** Share-relative, '/' separated; '' for the root. */
  readonly path: string
  readonly directory: boolean
  readonly grantedAccess: number
  /** A directory enumeration in progress: where it resumes (QUERY_DIRECTORY; core/smb/directory-cursor.ts). */
  listing: DirectoryCursor | null
  /** A named pipe on IPC$ instead of a file. */
  readonly pipe: NamedPipe | null
  /** FilePositionInformation.CurrentByteOffset: after the last READ or WRITE, or as SET_INFO put it (MS-FSA 2.1.5.2). */
  position: bigint
  /** Requests waiting on this open (CHANGE_NOTIFY), completed with a status when it closes. */
  readonly waiters: Set<(status: number) => void>
  /**
   * The owner granted it durable or persistent. Absent on pipes and opens that are neither: a
   * FILE_CLOSED from the owner for such an open means it is gone.
   */
  readonly durable?: boolean
}

export function fileIdKey(id: Smb2FileId): string {
  return `${id.persistent}:${id.volatile}`
}
