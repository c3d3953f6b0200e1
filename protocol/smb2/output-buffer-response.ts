// The responses that return one output buffer after StructureSize 9, OutputBufferOffset (u16)
// and OutputBufferLength (u32): QUERY_DIRECTORY (MS-SMB2 2.2.34), CHANGE_NOTIFY (2.2.36) and
// QUERY_INFO (2.2.38).
import { type Decoded, SMB2_HEADER_BYTES, decodeBody, fixedBody } from './message-reader.js'

export const OUTPUT_BUFFER_RESPONSE_SIZE = 9
/** Where the output starts: right after the 8 fixed bytes (0x48). */
export const OUTPUT_BUFFER_OFFSET = SMB2_HEADER_BYTES + OUTPUT_BUFFER_RESPONSE_SIZE - 1

export function encodeOutputBufferResponse(output: Buffer): Buffer[] {
  const body = fixedBody(OUTPUT_BUFFER_RESPONSE_SIZE)
  body.writeUInt16LE(OUTPUT_BUFFER_OFFSET, 2)
  body.writeUInt32LE(output.length, 4)
  return [body, output.length === 0 ? Buffer.alloc(1) : output]
}

export function decodeOutputBufferResponse(msg: Buffer, command: string): Decoded<{ readonly output: Buffer }> {
  return decodeBody(msg, OUTPUT_BUFFER_RESPONSE_SIZE, command, (r) => ({
    output: r.variable(r.u16(SMB2_HEADER_BYTES + 2), r.u32(SMB2_HEADER_BYTES + 4), OUTPUT_BUFFER_OFFSET, 'output buffer'),
  }))
}
