// The decoders added for the wire client: the QUERY_INFO answers FileBasicInformation and
// FileStandardInformation (client side of file-info.ts's encoders) and the DH2Q response data.
// Each reads back what the server's encoder wrote, and no input makes one throw.
import t from 'tap'
import fc from 'fast-check'
import { decodeDurableResponseV2, encodeDurableResponseV2 } from '../../protocol/smb2/create-contexts.js'
import { decodeFileBasicInformationAnswer, decodeFileStandardInformationAnswer } from '../../protocol/smb2/file-info-answers.js'
import { FILE_ATTRIBUTE, encodeFileBasicInformation, encodeFileStandardInformation, type FileFacts } from '../../protocol/smb2/file-info.js'

const facts = (directory: boolean, endOfFileBytes: bigint): FileFacts => ({
  creationTime: 1n,
  lastAccessTime: 2n,
  lastWriteTime: 3n,
  changeTime: 4n,
  endOfFileBytes,
  allocationBytes: 4096n,
  attributes: 0,
  directory,
  indexNumber: 7n,
  name: 'f',
  numberOfLinks: 1,
})

t.test('the server encoders read back', async (t) => {
  for (const directory of [false, true]) {
    const basic = decodeFileBasicInformationAnswer(encodeFileBasicInformation(facts(directory, 10n)))
    t.same(basic.ok && { ...basic.value }, { creationTime: 1n, lastAccessTime: 2n, lastWriteTime: 3n, changeTime: 4n, fileAttributes: directory ? FILE_ATTRIBUTE.DIRECTORY : FILE_ATTRIBUTE.NORMAL, directory })
    const standard = decodeFileStandardInformationAnswer(encodeFileStandardInformation(facts(directory, 12345n)))
    t.same(standard.ok && { ...standard.value }, { allocationBytes: 4096n, endOfFileBytes: 12345n, numberOfLinks: 1, deletePending: false, directory })
  }
  t.equal(decodeFileBasicInformationAnswer(Buffer.alloc(39)).ok, false, 'a short basic answer')
  t.equal(decodeFileStandardInformationAnswer(Buffer.alloc(21)).ok, false, 'a short standard answer')
  t.equal(decodeFileStandardInformationAnswer(Buffer.alloc(22)).ok, true, "Samba's 22-byte standard answer")
})

t.test('DH2Q response', async (t) => {
  t.same(decodeDurableResponseV2(encodeDurableResponseV2(300_000, 2)), { ok: true, value: { timeoutMs: 300_000, flags: 2 } })
  t.equal(decodeDurableResponseV2(Buffer.alloc(7)).ok, false)
})

t.test('property: no input throws', async () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const b = Buffer.from(bytes)
      decodeFileBasicInformationAnswer(b)
      decodeFileStandardInformationAnswer(b)
      decodeDurableResponseV2(b)
      return true
    }),
    { numRuns: 500 },
  )
})
