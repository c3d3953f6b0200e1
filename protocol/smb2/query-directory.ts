// SMB2 QUERY_DIRECTORY request (MS-SMB2 2.2.33); its response is an output-buffer response.
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const QUERY_DIRECTORY_REQUEST_SIZE = 33

/** Flags of QUERY_DIRECTORY (2.2.33). */
export const QUERY_DIRECTORY_FLAGS = { RESTART_SCANS: 0x01, RETURN_SINGLE_ENTRY: 0x02, INDEX_SPECIFIED: 0x04, REOPEN: 0x10 } as const

/** A bound on a search pattern. */
export const SEARCH_PATTERN_BYTES_MAX = 2 * 32_767

export interface QueryDirectoryRequest {
  readonly fileInformationClass: number
  readonly flags: number
  readonly fileIndex: number
  readonly fileId: Smb2FileId
  /** The search pattern ("*", "name", "*.txt"). */
  readonly fileName: string
  readonly outputBufferLength: number
}

const QUERY_DIRECTORY_FIXED = SMB2_HEADER_BYTES + QUERY_DIRECTORY_REQUEST_SIZE - 1

export function decodeQueryDirectoryRequest(msg: Buffer): Decoded<QueryDirectoryRequest> {
  return decodeBody(msg, QUERY_DIRECTORY_REQUEST_SIZE, 'QUERY_DIRECTORY', (r) => {
    const b = SMB2_HEADER_BYTES
    const nameLength = r.u16(b + 26)
    if (nameLength > SEARCH_PATTERN_BYTES_MAX) r.fail(`search pattern of ${nameLength} bytes`)
    return {
      fileInformationClass: r.u8(b + 2),
      flags: r.u8(b + 3),
      fileIndex: r.u32(b + 4),
      fileId: readFileId(r, b + 8),
      fileName: r.utf16(r.variable(r.u16(b + 24), nameLength, QUERY_DIRECTORY_FIXED, 'search pattern'), 'search pattern'),
      outputBufferLength: r.u32(b + 28),
    }
  })
}

export function encodeQueryDirectoryRequest(req: QueryDirectoryRequest): Buffer {
  const body = fixedBody(QUERY_DIRECTORY_REQUEST_SIZE)
  const name = Buffer.from(req.fileName, 'utf16le')
  body.writeUInt8(req.fileInformationClass, 2)
  body.writeUInt8(req.flags, 3)
  body.writeUInt32LE(req.fileIndex >>> 0, 4)
  writeFileId(body, 8, req.fileId)
  body.writeUInt16LE(QUERY_DIRECTORY_FIXED, 24)
  body.writeUInt16LE(name.length, 26)
  body.writeUInt32LE(req.outputBufferLength >>> 0, 28)
  return Buffer.concat([body, name.length === 0 ? Buffer.alloc(1) : name])
}
