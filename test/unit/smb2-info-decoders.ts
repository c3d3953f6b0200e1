// Decoders of the few information classes the wire front tests read back (the client side of
// FileAllInformation), kept to what the tests check.
export function decodeFileAllInformation(b: Buffer): { endOfFile: bigint; directory: boolean; name: string } {
  // Basic (40), Standard (24: AllocationSize, EndOfFile, NumberOfLinks, DeletePending, Directory, 2 reserved),
  // Internal (8), Ea (4), Access (4), Position (8), Mode (4), Alignment (4), Name (4 + name).
  const endOfFile = b.readBigUInt64LE(40 + 8)
  const directory = b[40 + 21] !== 0
  const nameLength = b.readUInt32LE(96)
  return { endOfFile, directory, name: b.toString('utf16le', 100, 100 + nameLength) }
}
