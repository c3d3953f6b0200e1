// SMB2_FILEID (MS-SMB2 2.2.14.1): Persistent and Volatile, 8 bytes each. Each half is kept as
// the lower-case hex of its 8 wire bytes, which is how the handle table names opens.
import type { MessageReader } from './message-reader.js'

export interface Smb2FileId {
  readonly persistent: string
  readonly volatile: string
}

export const FILE_ID_BYTES = 16

/** The FileId of a related compound request that means "the handle the previous request made" (3.3.5.2.7.2). */
export const RELATED_FILE_ID: Smb2FileId = { persistent: 'ffffffffffffffff', volatile: 'ffffffffffffffff' }

/** The FileId of a request that names no open (IOCTLs on the tree, 2.2.31). */
export const NO_FILE_ID = RELATED_FILE_ID

const HALF_PATTERN = /^[0-9a-f]{16}$/

export function readFileId(r: MessageReader, offset: number): Smb2FileId {
  return { persistent: r.bytes(offset, 8).toString('hex'), volatile: r.bytes(offset + 8, 8).toString('hex') }
}

export function writeFileId(out: Buffer, offset: number, id: Smb2FileId): void {
  for (const [half, at] of [
    [id.persistent, offset],
    [id.volatile, offset + 8],
  ] as const) {
    if (!HALF_PATTERN.test(half)) throw new RangeError(`FileId half ${JSON.stringify(half)} is not 16 hex digits`)
    out.write(half, at, 8, 'hex')
  }
}

export function sameFileId(a: Smb2FileId, b: Smb2FileId): boolean {
  return a.persistent === b.persistent && a.volatile === b.volatile
}
