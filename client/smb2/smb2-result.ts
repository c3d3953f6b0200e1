// What the wire client's operations return: a value, or the NTSTATUS the server answered with
// (and for which command), as a typed value: expected failures (a missing file, a sharing
// violation, a wrong password) are not exceptions. Failures of the transport itself (the
// connection closed, a response whose signature does not verify, a malformed response) are
// thrown as Smb2TransportError: after one the connection is unusable.
import { ntStatusName } from '../../protocol/smb2/ntstatus.js'

export interface Smb2Failure {
  readonly status: number
  /** "STATUS_OBJECT_NAME_NOT_FOUND". */
  readonly statusName: string
  /** The command that failed, e.g. "CREATE". */
  readonly command: string
  /** One line: more than the status when the client found the fault itself (a bad response). */
  readonly detail?: string
}

export type Smb2Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: Smb2Failure }

export function smb2Ok<T>(value: T): Smb2Result<T> {
  return { ok: true, value }
}

export function smb2Failed<T = never>(command: string, status: number, detail?: string): Smb2Result<T> {
  return { ok: false, failure: { status: status >>> 0, statusName: ntStatusName(status >>> 0), command, ...(detail !== undefined ? { detail } : {}) } }
}

/** "STATUS_OBJECT_NAME_NOT_FOUND (0xC0000034)". */
export function formatNtStatus(status: number): string {
  return `${ntStatusName(status >>> 0)} (0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')})`
}

/** The failure as an Error, for callers that stop at the first one. */
export class Smb2StatusError extends Error {
  override readonly name = 'Smb2StatusError'

  constructor(readonly failure: Smb2Failure) {
    super(`${failure.command}: ${formatNtStatus(failure.status)}${failure.detail ? `: ${failure.detail}` : ''}`)
  }

  get status(): number {
    return this.failure.status
  }
}

/** The value, or a thrown Smb2StatusError. */
export function unwrapSmb2<T>(result: Smb2Result<T>): T {
  if (!result.ok) throw new Smb2StatusError(result.failure)
  return result.value
}

/** The connection failed (closed, timed out, a response that fails its checks). */
export class Smb2TransportError extends Error {
  override readonly name: string = 'Smb2TransportError'
}

/** The server took the connection but did not answer the handshake within the caller's deadline (a node that is not serving). */
export class Smb2ConnectTimeout extends Smb2TransportError {
  override readonly name = 'Smb2ConnectTimeout'
}
