// SMB2 CHANGE_NOTIFY request (MS-SMB2 2.2.35); its response is an output-buffer response.
import { type Smb2FileId, readFileId, writeFileId } from './file-id.js'
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const CHANGE_NOTIFY_REQUEST_SIZE = 32

/** Flags of CHANGE_NOTIFY (2.2.35). */
export const CHANGE_NOTIFY_FLAGS = { WATCH_TREE: 0x0001 } as const

export interface ChangeNotifyRequest {
  readonly flags: number
  readonly outputBufferLength: number
  readonly fileId: Smb2FileId
  readonly completionFilter: number
}

export function decodeChangeNotifyRequest(msg: Buffer): Decoded<ChangeNotifyRequest> {
  return decodeBody(msg, CHANGE_NOTIFY_REQUEST_SIZE, 'CHANGE_NOTIFY', (r) => {
    const b = SMB2_HEADER_BYTES
    return { flags: r.u16(b + 2), outputBufferLength: r.u32(b + 4), fileId: readFileId(r, b + 8), completionFilter: r.u32(b + 24) }
  })
}

export function encodeChangeNotifyRequest(req: ChangeNotifyRequest): Buffer {
  const body = fixedBody(CHANGE_NOTIFY_REQUEST_SIZE)
  body.writeUInt16LE(req.flags, 2)
  body.writeUInt32LE(req.outputBufferLength >>> 0, 4)
  writeFileId(body, 8, req.fileId)
  body.writeUInt32LE(req.completionFilter >>> 0, 24)
  return body
}
