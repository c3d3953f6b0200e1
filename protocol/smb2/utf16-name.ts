// File and stream names as SMB2 carries them: UTF-16LE without a terminator, the length in
// bytes in a separate field (MS-SMB2 2.2.13, MS-FSCC 2.1.5).
//
// Decoding faces the network and is strict: an odd byte count or an unpaired surrogate is not a
// name (Windows answers STATUS_OBJECT_NAME_INVALID; Node's 'utf16le' decoder would silently turn
// it into U+FFFD and so name a different file). Encoding serves our own strings, which are
// well-formed; Buffer's 'utf16le' encoder writes surrogate pairs as they are.

const UTF16_UNIT_BYTES = 2

/** The UTF-16LE bytes of a name. */
export function utf16leBytes(name: string): Buffer {
  return Buffer.from(name, 'utf16le')
}

/** Bytes the UTF-16LE form of name takes, without encoding it. */
export function utf16leByteLength(name: string): number {
  return name.length * UTF16_UNIT_BYTES
}

/** The name in bytes, or null when they are not well-formed UTF-16LE (odd length, unpaired surrogate). */
export function decodeUtf16leName(bytes: Uint8Array): string | null {
  if (bytes.byteLength % UTF16_UNIT_BYTES !== 0) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const unitCount = bytes.byteLength / UTF16_UNIT_BYTES
  for (let index = 0; index < unitCount; index++) {
    const unit = view.getUint16(index * UTF16_UNIT_BYTES, true)
    if (unit >= 0xd800 && unit <= 0xdbff) {
      // A high surrogate must be followed by a low one; the pair is skipped together.
      const next = index + 1 < unitCount ? view.getUint16((index + 1) * UTF16_UNIT_BYTES, true) : -1
      if (next < 0xdc00 || next > 0xdfff) return null
      index++
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return null
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf16le')
}
