// fast-check arbitraries for the SMB2 codecs' values, shared by the round-trip and fuzz tests.
import fc from 'fast-check'
import { SMB2_DIALECT } from '../../protocol/smb2/constants.js'
import type { CreateContext } from '../../protocol/smb2/create-contexts.js'
import type { Smb2FileId } from '../../protocol/smb2/file-id.js'
import { SMB2_FLAGS, type Smb2Header } from '../../protocol/smb2/header.js'
import type { NegotiateContext } from '../../protocol/smb2/negotiate-contexts.js'

export const u8 = fc.nat({ max: 0xff })
export const u16 = fc.nat({ max: 0xffff })
export const u32 = fc.nat({ max: 0xffffffff })
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
export const guid = fc.uuid().map((u) => u.toLowerCase())
export const bytes = (maxLength = 64): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a))
export const nonEmptyBytes = (maxLength = 64): fc.Arbitrary<Buffer> => fc.uint8Array({ minLength: 1, maxLength }).map((a) => Buffer.from(a))
export const text = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: 'binary', maxLength })
const half = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((a) => Buffer.from(a).toString('hex'))
export const fileId: fc.Arbitrary<Smb2FileId> = fc.record({ persistent: half, volatile: half })

export const smb2Header: fc.Arbitrary<Smb2Header> = fc
  .record({
    creditCharge: u16,
    status: u32,
    command: fc.nat({ max: 0x12 }),
    credits: u16,
    flags: u32,
    nextCommand: fc.constant(0),
    messageId: u64,
    processId: u32,
    treeId: u32,
    asyncId: u64,
    sessionId: u64,
    signature: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
  })
  .map((h) => ((h.flags & SMB2_FLAGS.ASYNC_COMMAND) !== 0 ? { ...h, processId: 0, treeId: 0 } : { ...h, asyncId: 0n }))

export const negotiateContext: fc.Arbitrary<NegotiateContext> = fc.oneof(
  fc.record({ kind: fc.constant('preauth' as const), hashAlgorithms: fc.array(u16, { maxLength: 4 }), salt: bytes(32) }),
  fc.record({ kind: fc.constant('encryption' as const), ciphers: fc.array(u16, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('signing' as const), signingAlgorithms: fc.array(u16, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('netname' as const), netName: text(30) }),
  fc.record({ kind: fc.constant('other' as const), type: fc.constantFrom(3, 6, 7, 0x100), data: bytes(20) }),
)

export const dialects = fc.array(fc.constantFrom(SMB2_DIALECT.SMB202, SMB2_DIALECT.SMB21, SMB2_DIALECT.SMB30, SMB2_DIALECT.SMB302, SMB2_DIALECT.SMB311, 0x0222), {
  minLength: 1,
  maxLength: 6,
})

export const createContext: fc.Arbitrary<CreateContext> = fc.record({
  name: fc.oneof(fc.constantFrom('MxAc', 'QFid', 'DH2Q', 'RqLs', 'ExtA').map((n) => Buffer.from(n, 'latin1')), nonEmptyBytes(16).filter((b) => b.length >= 4)),
  data: bytes(48),
})
