// What a command handler of the SMB2 wire front gets (the request, resolved against the
// connection, session and tree) and what it returns (a reply, an async reply, or nothing).
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import type { NegotiatedConnection } from '../../protocol/smb2/fsctl.js'
import type { Smb2Header } from '../../protocol/smb2/header.js'
import type { WireSession, WireTree } from './smb2-state.js'

export interface ConnectionFacts {
  readonly connectionId: string
  readonly dialect: number
  readonly clientGuid: string
  readonly clientCapabilities: number
  readonly maxIoBytes: number
  readonly remote: string
  /** What FSCTL_VALIDATE_NEGOTIATE_INFO compares (MS-SMB2 3.3.5.15.12). */
  readonly validate: NegotiatedConnection
}

export interface RequestContext {
  readonly connection: ConnectionFacts
  /** The header as sent, but SessionId and TreeId of a related compound member taken from the one before. */
  readonly header: Smb2Header
  readonly msg: Buffer
  readonly session: WireSession | null
  readonly tree: WireTree | null
  /** The FileId the previous member of a related compound opened or used (for the all-ones FileId). */
  readonly relatedFileId: Smb2FileId | null
  readonly encrypted: boolean
}

export interface FinalReply {
  readonly status: number
  readonly body: Buffer | readonly Buffer[]
}

export type Reply =
  | (FinalReply & {
      readonly kind: 'reply'
      /** The FileId a related member after this one means by the all-ones FileId. */
      readonly fileId?: Smb2FileId
    })
  /** The operation waits: an interim STATUS_PENDING now, the final reply when the promise settles. */
  | { readonly kind: 'pending'; readonly completion: Promise<FinalReply>; readonly cancel: () => void }
  /** The CSV behind the request has no serving owner now: the connection is dropped so that the client reconnects (as a node that failed). */
  | { readonly kind: 'unavailable'; readonly reason: string }

export function reply(status: number, body: Buffer | readonly Buffer[], fileId?: Smb2FileId): Reply {
  return fileId ? { kind: 'reply', status, body, fileId } : { kind: 'reply', status, body }
}
