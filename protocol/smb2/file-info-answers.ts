// The client side of the QUERY_INFO answers the data path reads (MS-FSCC 2.4.7, 2.4.47): the
// buffers a server returns for FileBasicInformation and FileStandardInformation. The server side
// encodes them in file-info.ts; decodeFileBasicInformation there reads the SET_INFO form (with its
// "keep"/"stop auto-update" time values), which is why these have names of their own.
// They face the network: a short buffer is a returned error, never a throw. Longer buffers are
// accepted (a server may pad), only the defined fields are read.
import { FILE_ATTRIBUTE, FILE_BASIC_INFORMATION_BYTES, FILE_STANDARD_INFORMATION_BYTES } from './file-info.js'

export type InfoAnswerDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

export interface FileBasicInformationAnswer {
  /** FILETIMEs. */
  readonly creationTime: bigint
  readonly lastAccessTime: bigint
  readonly lastWriteTime: bigint
  readonly changeTime: bigint
  readonly fileAttributes: number
  readonly directory: boolean
}

export interface FileStandardInformationAnswer {
  readonly allocationBytes: bigint
  readonly endOfFileBytes: bigint
  readonly numberOfLinks: number
  readonly deletePending: boolean
  readonly directory: boolean
}

function viewOf(buffer: Uint8Array): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** FILE_BASIC_INFORMATION as QUERY_INFO returns it: four FILETIMEs, FileAttributes, Reserved. */
export function decodeFileBasicInformationAnswer(buffer: Uint8Array): InfoAnswerDecoded<FileBasicInformationAnswer> {
  if (buffer.byteLength < FILE_BASIC_INFORMATION_BYTES) return { ok: false, error: `FileBasicInformation of ${buffer.byteLength} bytes, ${FILE_BASIC_INFORMATION_BYTES} needed` }
  const v = viewOf(buffer)
  const fileAttributes = v.getUint32(32, true)
  return {
    ok: true,
    value: {
      creationTime: v.getBigUint64(0, true),
      lastAccessTime: v.getBigUint64(8, true),
      lastWriteTime: v.getBigUint64(16, true),
      changeTime: v.getBigUint64(24, true),
      fileAttributes,
      directory: (fileAttributes & FILE_ATTRIBUTE.DIRECTORY) !== 0,
    },
  }
}

/** FILE_STANDARD_INFORMATION: AllocationSize, EndOfFile, NumberOfLinks, DeletePending, Directory, Reserved(2). */
export function decodeFileStandardInformationAnswer(buffer: Uint8Array): InfoAnswerDecoded<FileStandardInformationAnswer> {
  // Windows answers 24 bytes; Samba 22 when the caller asks exactly that (the Reserved is optional).
  const needed = FILE_STANDARD_INFORMATION_BYTES - 2
  if (buffer.byteLength < needed) return { ok: false, error: `FileStandardInformation of ${buffer.byteLength} bytes, ${needed} needed` }
  const v = viewOf(buffer)
  return {
    ok: true,
    value: {
      allocationBytes: v.getBigUint64(0, true),
      endOfFileBytes: v.getBigUint64(8, true),
      numberOfLinks: v.getUint32(16, true),
      deletePending: buffer[20] !== 0,
      directory: buffer[21] !== 0,
    },
  }
}
