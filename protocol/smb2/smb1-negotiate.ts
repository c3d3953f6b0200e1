// The SMB1 multi-protocol NEGOTIATE a client may open with (MS-SMB2 3.3.5.3, MS-CIFS 2.2.4.52):
// a 32-byte SMB1 header with command 0x72, WordCount, ByteCount and dialect strings, each a
// 0x02 byte and a NUL-terminated ASCII name. A server that speaks SMB 2.1 or later answers
// "SMB 2.???" with an SMB2 NEGOTIATE response of dialect 0x02FF, and "SMB 2.002" alone with
// 0x0202; without either it has nothing to say and the connection is dropped (3.3.5.3.1).
import { SMB2_DIALECT } from './constants.js'
import { SMB1_PROTOCOL_ID } from './header.js'
import { type Decoded, decodeRaw } from './message-reader.js'

export const SMB1_COM_NEGOTIATE = 0x72
const SMB1_HEADER_BYTES = 32
const DIALECT_BUFFER_FORMAT = 0x02
/** A bound on the dialect strings read (Windows clients send about a dozen). */
export const SMB1_DIALECTS_MAX = 64

export const SMB1_DIALECT_SMB2002 = 'SMB 2.002'
export const SMB1_DIALECT_SMB2_WILDCARD = 'SMB 2.???'

/** The dialect names an SMB1 NEGOTIATE offers. */
export function decodeSmb1Negotiate(frame: Buffer): Decoded<{ readonly dialects: readonly string[] }> {
  return decodeRaw(frame, (r) => {
    if (r.length < SMB1_HEADER_BYTES + 3) r.fail(`an SMB1 NEGOTIATE needs ${SMB1_HEADER_BYTES + 3} bytes, ${r.length} present`)
    if (!r.bytes(0, 4).equals(SMB1_PROTOCOL_ID)) r.fail('not an SMB1 ProtocolId')
    if (r.u8(4) !== SMB1_COM_NEGOTIATE) r.fail(`SMB1 command 0x${r.u8(4).toString(16)} is not NEGOTIATE`)
    const wordCount = r.u8(SMB1_HEADER_BYTES)
    const byteCountAt = SMB1_HEADER_BYTES + 1 + 2 * wordCount
    const byteCount = r.u16(byteCountAt)
    const bytes = r.bytes(byteCountAt + 2, byteCount)
    const dialects: string[] = []
    let at = 0
    while (at < bytes.length) {
      if (dialects.length >= SMB1_DIALECTS_MAX) r.fail(`more than ${SMB1_DIALECTS_MAX} SMB1 dialects`)
      if (bytes[at] !== DIALECT_BUFFER_FORMAT) r.fail(`SMB1 dialect ${dialects.length} has buffer format 0x${bytes[at].toString(16)}`)
      const end = bytes.indexOf(0, at + 1)
      if (end < 0) r.fail(`SMB1 dialect ${dialects.length} has no terminating NUL`)
      dialects.push(bytes.toString('latin1', at + 1, end))
      at = end + 1
    }
    return { dialects }
  })
}

/** The SMB2 dialect to answer an SMB1 NEGOTIATE with, or null when it offers no SMB2 dialect. */
export function smb2DialectForSmb1(dialects: readonly string[]): number | null {
  if (dialects.includes(SMB1_DIALECT_SMB2_WILDCARD)) return SMB2_DIALECT.WILDCARD
  if (dialects.includes(SMB1_DIALECT_SMB2002)) return SMB2_DIALECT.SMB202
  return null
}

/** An SMB1 NEGOTIATE offering the given dialects (a client's first frame; for tests). */
export function encodeSmb1Negotiate(dialects: readonly string[]): Buffer {
  const names = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([DIALECT_BUFFER_FORMAT]), Buffer.from(d, 'latin1'), Buffer.from([0])])))
  const out = Buffer.alloc(SMB1_HEADER_BYTES + 3)
  SMB1_PROTOCOL_ID.copy(out, 0)
  out[4] = SMB1_COM_NEGOTIATE
  // Flags2: long names, NT status, Unicode (as impacket sends); Flags: case-insensitive paths.
  out[9] = 0x18
  out.writeUInt16LE(0xc853, 10)
  out.writeUInt16LE(names.length, SMB1_HEADER_BYTES + 1)
  return Buffer.concat([out, names])
}
