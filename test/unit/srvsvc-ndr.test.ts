// The NDR20 stubs of srvsvc (MS-SRVS): byte-exact checks against stubs assembled by hand from
// MS-SRVS 2.2 and the NDR rules (C706 chapter 14) — the request smbclient -L sends and the reply
// it reads, GetInfo and ServerGetInfo replies, error replies with NULL and empty arms — then
// round trips of every level as properties, malformed stubs, and fuzzing of the decoders, which
// face the network. test/unit/srvsvc-interop.test.ts checks the same encodings with Samba's and
// impacket's own NDR code when they are installed.
import t from 'tap'
import fc from 'fast-check'
import {
  MAX_PREFERRED_LENGTH,
  SERVER_INFO_LEVELS,
  SHARE_INFO_LEVELS,
  SHI1005_FLAGS,
  SRVSVC_OPNUM,
  SRVSVC_RESULT,
  STYPE,
  decodeServerGetInfoResponse,
  decodeShareEnumResponse,
  decodeShareGetInfoResponse,
  decodeSrvsvcRequest,
  encodeServerGetInfoRequest,
  encodeServerGetInfoResponse,
  encodeShareEnumRequest,
  encodeShareEnumResponse,
  encodeShareGetInfoRequest,
  encodeShareGetInfoResponse,
  serverInfoAtLevel,
  shareEntryWireBytes,
  shareInfoAtLevel,
  type ServerInfo,
  type ShareInfo,
  type SrvsvcDecodeResult,
  type SrvsvcRequestDecodeResult,
} from '../../protocol/dcerpc/srvsvc-ndr.js'

/**
 * Bytes from hex text. Each line holds hex groups, then optionally a comment: the first token
 * that is not hex ends the line's bytes.
 */
function hex(text: string): Buffer {
  const groups: string[] = []
  for (const line of text.split('\n')) {
    for (const token of line.trim().split(/\s+/)) {
      if (!/^[0-9a-fA-F]+$/.test(token)) break
      groups.push(token)
    }
  }
  const digits = groups.join('')
  if (digits.length % 2 !== 0) throw new Error(`odd hex digit count in ${JSON.stringify(text)}`)
  return Buffer.from(digits, 'hex')
}

function expectOk<T>(result: SrvsvcDecodeResult<T>, what: string): T {
  if (!result.ok) throw new Error(`${what} did not decode: ${result.error}`)
  return result.value
}

function expectRequest(result: SrvsvcRequestDecodeResult, what: string) {
  if (!result.ok) throw new Error(`${what} did not decode: ${result.fault}: ${result.reason}`)
  return result
}

function share(over: Partial<ShareInfo> = {}): ShareInfo {
  return {
    netname: 'share-1',
    type: STYPE.CLUSTER_SOFS,
    remark: 'CSV 1',
    permissions: 0,
    maxUses: 0xffffffff,
    currentUses: 0,
    path: null,
    password: null,
    flags: 0,
    securityDescriptor: null,
    ...over,
  }
}

// --- Arbitraries for the properties and fuzzing ------------------------------------------------------

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const text = fc.string({ maxLength: 30 }).filter((s) => !s.includes('\0'))
const optionalText = fc.option(text, { nil: null })
const shareArb: fc.Arbitrary<ShareInfo> = fc.record({
  netname: text,
  type: u32,
  remark: optionalText,
  permissions: u32,
  maxUses: u32,
  currentUses: u32,
  path: optionalText,
  password: optionalText,
  flags: u32,
  securityDescriptor: fc.option(fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), { nil: null }),
})
const serverArb: fc.Arbitrary<ServerInfo> = fc.record({
  platformId: u32,
  name: optionalText,
  versionMajor: u32,
  versionMinor: u32,
  type: u32,
  comment: optionalText,
  users: u32,
  disc: u32,
  hidden: u32,
  announce: u32,
  anndelta: u32,
  licenses: u32,
  userpath: optionalText,
})

// --- Hand-assembled stubs --------------------------------------------------------------------------
// Referent ids of non-NULL pointers run 0x00020000, 0x00020004, ... in marshalling order, as
// Windows and Samba number them. Strings are max_count, offset 0, actual_count (code units with
// the NUL), the UTF-16LE units, then zero padding to the next 4-byte boundary.

// NetShareEnumAll request as smbclient -L (Samba 4.17 browse_host_rpc) sends it: server_unc
// "127.0.0.1", level 1 with an empty container (count 0, NULL array), max_buffer 0xffffffff,
// resume_handle pointing at 0.
const SMBCLIENT_ENUM_REQUEST = hex(`
  00000200                                   ServerName referent
  0a000000 00000000 0a000000                 max_count 10, offset 0, actual_count 10
  31003200 37002e00 30002e00 30002e00 31000000   "127.0.0.1" NUL
  01000000                                   InfoStruct.Level 1
  01000000                                   union discriminant 1
  04000200                                   Level1 container referent
  00000000                                   EntriesRead 0
  00000000                                   Buffer NULL
  ffffffff                                   PreferedMaximumLength
  08000200                                   ResumeHandle referent
  00000000                                   *ResumeHandle 0
`)

// Its answer with two shares: share-1 (STYPE_CLUSTER_SOFS, "CSV 1") and IPC$ (STYPE_IPC |
// STYPE_SPECIAL, "Remote IPC"); TotalEntries 2, resume handle 0, NERR_Success.
const ENUM_LEVEL1_REPLY = hex(`
  01000000 01000000                          Level 1, discriminant 1
  00000200                                   container referent
  02000000                                   EntriesRead 2
  04000200                                   Buffer referent
  02000000                                   max_count 2
  08000200 00000004 0c000200                 [0] netname ref, type 0x04000000, remark ref
  10000200 03000080 14000200                 [1] netname ref, type 0x80000003, remark ref
  08000000 00000000 08000000 73006800 61007200 65002d00 31000000           "share-1"
  06000000 00000000 06000000 43005300 56002000 31000000                    "CSV 1"
  05000000 00000000 05000000 49005000 43002400 0000 0000                   "IPC$" + 2 pad
  0b000000 00000000 0b000000 52006500 6d006f00 74006500 20004900 50004300 0000 0000   "Remote IPC" + 2 pad
  02000000                                   TotalEntries 2
  18000200 00000000                          ResumeHandle referent, 0
  00000000                                   NERR_Success
`)

// impacket's hNetrShareEnum(dce, 1) form: ServerName "\0"-only string, NULL container, resume 0.
const IMPACKET_STYLE_ENUM_REQUEST = hex(`
  00000200 01000000 00000000 01000000 0000 0000   ServerName "" (one NUL unit) + pad
  01000000 01000000 00000000                   Level 1, discriminant 1, container NULL
  ffffffff                                     PreferedMaximumLength
  04000200 00000000                            ResumeHandle referent, 0
`)

t.test('decodes the NetShareEnumAll request smbclient -L sends', async (t) => {
  const decoded = expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, SMBCLIENT_ENUM_REQUEST), 'smbclient request')
  t.same(decoded.request, {
    operation: 'NetrShareEnum',
    serverName: '127.0.0.1',
    level: 1,
    containerPresent: true,
    entriesSent: 0,
    preferredMaximumLength: MAX_PREFERRED_LENGTH,
    resumeHandle: 0,
  })
  t.equal(decoded.trailingBytes, 0)
  t.same(encodeShareEnumRequest({ serverName: '127.0.0.1', level: 1, preferredMaximumLength: MAX_PREFERRED_LENGTH, resumeHandle: 0 }), SMBCLIENT_ENUM_REQUEST, 'and encodes it byte for byte')
})

t.test('decodes the impacket form (NULL container, empty server name)', async (t) => {
  const decoded = expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, IMPACKET_STYLE_ENUM_REQUEST), 'impacket request')
  t.same(decoded.request, {
    operation: 'NetrShareEnum',
    serverName: '',
    level: 1,
    containerPresent: false,
    entriesSent: 0,
    preferredMaximumLength: MAX_PREFERRED_LENGTH,
    resumeHandle: 0,
  })
  t.same(encodeShareEnumRequest({ serverName: '', level: 1, containerPresent: false, preferredMaximumLength: MAX_PREFERRED_LENGTH, resumeHandle: 0 }), IMPACKET_STYLE_ENUM_REQUEST)
})

t.test("impacket 0.10.0's own NetrShareEnum request: random referent ids, 0xab padding", async (t) => {
  // srvs.NetrShareEnum() with ServerName "\0", level 1, Buffer NULL, resume 0, as its getData() made it.
  const stub = hex(`
    5dc60000 01000000 00000000 01000000 0000 abab   ServerName referent 0xc65d, "" NUL, padding 0xabab
    01000000 01000000 84510000                   Level, discriminant, container referent 0x5184
    00000000 00000000                            EntriesRead 0, Buffer NULL
    ffffffff 95fa0000 00000000                   PreferedMaximumLength, ResumeHandle referent 0xfa95, 0
  `)
  t.same(expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, stub), 'impacket').request, {
    operation: 'NetrShareEnum',
    serverName: '',
    level: 1,
    containerPresent: true,
    entriesSent: 0,
    preferredMaximumLength: MAX_PREFERRED_LENGTH,
    resumeHandle: 0,
  })
})

t.test('encodes the level 1 enumeration reply byte for byte, and decodes it', async (t) => {
  const entries = [share(), share({ netname: 'IPC$', type: (STYPE.IPC | STYPE.SPECIAL) >>> 0, remark: 'Remote IPC' })]
  const encoded = encodeShareEnumResponse({ level: 1, entries, totalEntries: 2, resumeHandle: 0, result: SRVSVC_RESULT.SUCCESS })
  t.same(encoded, ENUM_LEVEL1_REPLY)
  t.same(expectOk(decodeShareEnumResponse(ENUM_LEVEL1_REPLY), 'reply'), {
    level: 1,
    containerPresent: true,
    entries: entries.map((e) => shareInfoAtLevel(e, 1)),
    entriesRead: 2,
    totalEntries: 2,
    resumeHandle: 0,
    result: 0,
  })
})

t.test('error replies: a NULL container for an armed level, nothing for an unarmed one', async (t) => {
  t.same(
    encodeShareEnumResponse({ level: 1005, entries: null, totalEntries: 0, resumeHandle: null, result: SRVSVC_RESULT.INVALID_LEVEL }),
    hex('ed030000 ed030000 00000000 00000000 00000000 7c000000'),
    'level 1005: discriminant, NULL container, TotalEntries 0, NULL resume, ERROR_INVALID_LEVEL',
  )
  t.same(
    encodeShareEnumResponse({ level: 3, entries: null, totalEntries: 0, resumeHandle: 5, result: SRVSVC_RESULT.INVALID_LEVEL }),
    hex('03000000 03000000 00000000 00000200 05000000 7c000000'),
    'level 3 has no arm: discriminant, then TotalEntries',
  )
  t.same(
    encodeShareEnumResponse({ level: 0, entries: [], totalEntries: 0, resumeHandle: 0, result: 0 }),
    hex('00000000 00000000 00000200 00000000 00000000 00000000 04000200 00000000 00000000'),
    'no entries: an empty container with a NULL Buffer',
  )
})

t.test('NetShareGetInfo request and replies at every level', async (t) => {
  const request = hex(`
    00000000                                   ServerName NULL
    08000000 00000000 08000000 73006800 61007200 65002d00 31000000   NetName "share-1" (a [ref] string: no referent)
    f6010000                                   Level 502
  `)
  t.same(expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareGetInfo, request), 'GetInfo').request, {
    operation: 'NetrShareGetInfo',
    serverName: null,
    netName: 'share-1',
    level: 502,
  })
  t.same(encodeShareGetInfoRequest({ serverName: null, netName: 'share-1', level: 502 }), request)

  const info = share({ flags: SHI1005_FLAGS.ENABLE_CA | SHI1005_FLAGS.CLUSTER_MANAGED, path: 'C:\\s', currentUses: 2 })
  t.same(encodeShareGetInfoResponse(1005, info, 0), hex('ed030000 00000200 00400800 00000000'), 'level 1005: discriminant, referent, shi1005_flags, result')
  t.same(
    encodeShareGetInfoResponse(502, info, 0),
    hex(`
      f6010000 00000200                          discriminant 502, referent
      04000200 00000004 08000200                 netname ref, type, remark ref
      00000000 ffffffff 02000000                 permissions, max_uses, current_uses
      0c000200 00000000                          path ref, password NULL
      00000000 00000000                          reserved 0, security descriptor NULL
      08000000 00000000 08000000 73006800 61007200 65002d00 31000000
      06000000 00000000 06000000 43005300 56002000 31000000
      05000000 00000000 05000000 43003a00 5c007300 0000 0000            "C:\\s" NUL + 2 pad
      00000000
    `),
  )
  t.same(encodeShareGetInfoResponse(1004, null, SRVSVC_RESULT.INVALID_LEVEL), hex('ec030000 00000000 7c000000'), 'an armed level we do not answer: NULL arm')
  t.same(encodeShareGetInfoResponse(7, null, SRVSVC_RESULT.INVALID_LEVEL), hex('07000000 7c000000'), 'an unarmed level: no arm')
  t.same(encodeShareGetInfoResponse(1, null, SRVSVC_RESULT.NET_NAME_NOT_FOUND), hex('01000000 00000000 06090000'), 'NERR_NetNameNotFound')
  for (const level of SHARE_INFO_LEVELS) {
    t.same(expectOk(decodeShareGetInfoResponse(encodeShareGetInfoResponse(level, info, 0)), `level ${level}`), { level, info: shareInfoAtLevel(info, level), result: 0 })
  }
})

t.test('a 502 security descriptor: reserved is its size, the bytes follow as a conformant array', async (t) => {
  // A self-relative descriptor with an empty DACL (20-byte header, 8-byte ACL).
  const sd = hex('01000480 00000000 00000000 00000000 14000000 02000800 00000000')
  const encoded = encodeShareGetInfoResponse(502, share({ remark: null, securityDescriptor: sd }), 0)
  t.same(
    encoded,
    hex(`
      f6010000 00000200
      04000200 00000004 00000000                 netname ref, type, remark NULL
      00000000 ffffffff 00000000 00000000 00000000
      1c000000 08000200                          reserved 28, descriptor referent
      08000000 00000000 08000000 73006800 61007200 65002d00 31000000
      1c000000 ${sd.toString('hex')}              max_count 28, the bytes
      00000000
    `),
  )
  const decoded = expectOk(decodeShareGetInfoResponse(encoded), '502 with sd')
  t.same(decoded.info?.securityDescriptor, sd)
})

t.test('NetrServerGetInfo request and replies', async (t) => {
  const request = hex('00000200 07000000 00000000 07000000 5c005c00 73006f00 66007300 00000000 65000000')
  t.same(expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrServerGetInfo, request), 'ServerGetInfo').request, {
    operation: 'NetrServerGetInfo',
    serverName: '\\\\sofs',
    level: 101,
  })
  t.same(encodeServerGetInfoRequest({ serverName: '\\\\sofs', level: 101 }), request)
  const info: ServerInfo = { platformId: 500, name: 'SOFS', versionMajor: 10, versionMinor: 0, type: 0x9003, comment: '', users: 0xffffffff, disc: 15, hidden: 0, announce: 240, anndelta: 3000, licenses: 0, userpath: 'C:\\' }
  t.same(
    encodeServerGetInfoResponse(101, info, 0),
    hex(`
      65000000 00000200                          discriminant 101, referent
      f4010000 04000200 0a000000 00000000 03900000 08000200   platform 500, name ref, 10.0, type, comment ref
      05000000 00000000 05000000 53004f00 46005300 0000 0000  "SOFS" + pad
      01000000 00000000 01000000 0000 0000                    "" + pad
      00000000
    `),
  )
  t.same(encodeServerGetInfoResponse(100, { ...info, name: null }, 0), hex('64000000 00000200 f4010000 00000000 00000000'), 'level 100 with a NULL name')
  t.same(encodeServerGetInfoResponse(1, null, SRVSVC_RESULT.INVALID_LEVEL), hex('01000000 7c000000'), 'an unarmed level')
  t.same(encodeServerGetInfoResponse(502, null, SRVSVC_RESULT.INVALID_LEVEL), hex('f6010000 00000000 7c000000'), 'an armed level we do not answer')
  for (const level of SERVER_INFO_LEVELS) {
    t.same(expectOk(decodeServerGetInfoResponse(encodeServerGetInfoResponse(level, info, 0)), `level ${level}`), { level, info: serverInfoAtLevel(info, level), result: 0 })
  }
})

t.test('requests: unknown opnums are op-range; malformed stubs are NDR faults with a reason', async (t) => {
  for (const opnum of [0, 14, 17, 20, 22, 36, 0xffff]) {
    const r = decodeSrvsvcRequest(opnum, SMBCLIENT_ENUM_REQUEST)
    t.match(r, { ok: false, fault: 'op-range' }, `opnum ${opnum}`)
  }
  const cases: [string, number, Buffer][] = [
    ['empty', SRVSVC_OPNUM.NetrShareEnum, Buffer.alloc(0)],
    ['truncated', SRVSVC_OPNUM.NetrShareEnum, SMBCLIENT_ENUM_REQUEST.subarray(0, SMBCLIENT_ENUM_REQUEST.length - 1)],
    ['discriminant differs from Level', SRVSVC_OPNUM.NetrShareEnum, hex('00000000 01000000 02000000 00000000 ffffffff 00000000')],
    ['max_count differs from EntriesRead', SRVSVC_OPNUM.NetrShareEnum, hex('00000000 00000000 00000000 00000200 01000000 04000200 02000000 08000200 0c000200')],
    ['hostile max_count', SRVSVC_OPNUM.NetrShareEnum, hex('00000000 01000000 01000000 00000200 ffffffff 04000200 ffffffff')],
    ['entries at a level without a decoder', SRVSVC_OPNUM.NetrShareEnum, hex('00000000 ec030000 ec030000 00000200 01000000 04000200 01000000 00000000')],
    ['NetName without NUL', SRVSVC_OPNUM.NetrShareGetInfo, hex('00000000 01000000 00000000 01000000 41000000 01000000')],
    ['NetName with offset', SRVSVC_OPNUM.NetrShareGetInfo, hex('00000000 02000000 01000000 01000000 0000 0000 01000000')],
    ['ServerGetInfo without Level', SRVSVC_OPNUM.NetrServerGetInfo, hex('00000000')],
  ]
  for (const [what, opnum, stub] of cases) {
    const r = decodeSrvsvcRequest(opnum, stub)
    t.equal(r.ok, false, what)
    if (!r.ok) {
      t.equal(r.fault, 'ndr', `${what}: an NDR fault`)
      t.ok(r.reason.length > 0 && !/[\r\n]/.test(r.reason), `${what}: one line (${r.reason})`)
    }
  }
})

t.test('requests: a verification trailer after the parameters is ignored and counted', async (t) => {
  const trailer = hex('8a e3 13 71 02 f4 36 71 02 40 28 00')
  const r = expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, Buffer.concat([SMBCLIENT_ENUM_REQUEST, trailer])), 'with trailer')
  t.equal(r.trailingBytes, trailer.length)
  t.equal(r.request.level, 1)
})

t.test('a request container with entries (legal NDR) is read and skipped', async (t) => {
  // Level 0, one entry sent by the client: EntriesRead 1, Buffer, max_count 1, netname ref, "x".
  const stub = hex('00000000 00000000 00000000 00000200 01000000 04000200 01000000 08000200 02000000 00000000 02000000 78000000 00000000 00000000')
  const r = expectRequest(decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, stub), 'container with entries')
  t.match(r.request, { level: 0, containerPresent: true, entriesSent: 1, preferredMaximumLength: 0, resumeHandle: null })
})

t.test('responses must end with their return value', async (t) => {
  t.match(decodeShareEnumResponse(Buffer.concat([ENUM_LEVEL1_REPLY, Buffer.alloc(4)])), { ok: false })
  t.match(decodeShareEnumResponse(ENUM_LEVEL1_REPLY.subarray(0, ENUM_LEVEL1_REPLY.length - 4)), { ok: false })
  t.match(decodeShareGetInfoResponse(hex('01000000 00000200 00000000 00000000 00000000 00000000')), { ok: false }, 'a NULL netname is refused')
})

t.test('shareEntryWireBytes is the NDR size of an entry in a container', async (t) => {
  fc.assert(
    fc.property(shareArb, fc.constantFrom(...SHARE_INFO_LEVELS), (info, level) => {
      const alone = encodeShareEnumResponse({ level, entries: [], totalEntries: 0, resumeHandle: null, result: 0 }).length
      // An empty container has no max_count and a NULL Buffer; one entry adds max_count (4) and the entry.
      const one = encodeShareEnumResponse({ level, entries: [info], totalEntries: 0, resumeHandle: null, result: 0 }).length
      return one - alone - 4 === shareEntryWireBytes(level, info)
    }),
    { numRuns: 500 },
  )
})

t.test('property: requests round-trip', async (t) => {
  fc.assert(
    fc.property(optionalText, fc.constantFrom(0, 1, 2, 3, 501, 502, 503, 1005, 1501, 77), fc.boolean(), u32, fc.option(u32, { nil: null }), (serverName, level, present, pml, resume) => {
      const containerPresent = present && [0, 1, 2, 501, 502, 503, 1005, 1501].includes(level)
      const stub = encodeShareEnumRequest({ serverName, level, containerPresent, preferredMaximumLength: pml, resumeHandle: resume })
      const r = decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, stub)
      return r.ok && r.trailingBytes === 0 && JSON.stringify(r.request) === JSON.stringify({ operation: 'NetrShareEnum', serverName, level, containerPresent, entriesSent: 0, preferredMaximumLength: pml, resumeHandle: resume })
    }),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(optionalText, text, u32, (serverName, netName, level) => {
      const r = decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareGetInfo, encodeShareGetInfoRequest({ serverName, netName, level }))
      return r.ok && r.request.operation === 'NetrShareGetInfo' && r.request.netName === netName && r.request.level === level && r.request.serverName === serverName
    }),
    { numRuns: 300 },
  )
})

t.test('property: enumeration replies round-trip at every level', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...SHARE_INFO_LEVELS), fc.array(shareArb, { maxLength: 6 }), u32, fc.option(u32, { nil: null }), u32, (level, entries, total, resume, result) => {
      const stub = encodeShareEnumResponse({ level, entries, totalEntries: total, resumeHandle: resume, result })
      const decoded = decodeShareEnumResponse(stub)
      if (!decoded.ok) return false
      const expected = {
        level,
        containerPresent: true,
        entries: entries.length === 0 ? null : entries.map((e) => shareInfoAtLevel(e, level)),
        entriesRead: entries.length,
        totalEntries: total,
        resumeHandle: resume,
        result,
      }
      t.same(decoded.value, expected)
      return true
    }),
    { numRuns: 300 },
  )
})

t.test('property: GetInfo and ServerGetInfo replies round-trip', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...SHARE_INFO_LEVELS), shareArb, u32, (level, info, result) => {
      const decoded = decodeShareGetInfoResponse(encodeShareGetInfoResponse(level, info, result))
      return decoded.ok && JSON.stringify(decoded.value) === JSON.stringify({ level, info: shareInfoAtLevel(info, level), result })
    }),
    { numRuns: 500 },
  )
  fc.assert(
    fc.property(fc.constantFrom(...SERVER_INFO_LEVELS), serverArb, u32, (level, info, result) => {
      const decoded = decodeServerGetInfoResponse(encodeServerGetInfoResponse(level, info, result))
      return decoded.ok && JSON.stringify(decoded.value) === JSON.stringify({ level, info: serverInfoAtLevel(info, level), result })
    }),
    { numRuns: 500 },
  )
})

const VALID_STUBS: readonly [number, Buffer][] = [
  [SRVSVC_OPNUM.NetrShareEnum, SMBCLIENT_ENUM_REQUEST],
  [SRVSVC_OPNUM.NetrShareEnum, IMPACKET_STYLE_ENUM_REQUEST],
  [SRVSVC_OPNUM.NetrShareEnum, hex('00000000 00000000 00000000 00000200 01000000 04000200 01000000 08000200 02000000 00000000 02000000 78000000 00000000 00000000')],
  [SRVSVC_OPNUM.NetrShareGetInfo, encodeShareGetInfoRequest({ serverName: 'srv', netName: 'share-1', level: 2 })],
  [SRVSVC_OPNUM.NetrServerGetInfo, encodeServerGetInfoRequest({ serverName: null, level: 102 })],
]

/** A decoder result is well formed: ok with a value, or a typed failure with a one-line reason. */
function wellFormed(r: SrvsvcRequestDecodeResult | SrvsvcDecodeResult<unknown>): boolean {
  if (r.ok) return true
  const reason = 'reason' in r ? r.reason : r.error
  return typeof reason === 'string' && reason.length > 0 && !/[\r\n]/.test(reason)
}

t.test('fuzz: decoders never throw, on random bytes and on mutations of valid stubs', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(15, 16, 21), fc.uint8Array({ maxLength: 400 }), (opnum, bytes) => wellFormed(decodeSrvsvcRequest(opnum, bytes))),
    { numRuns: 3000 },
  )
  const mutation = fc.record({
    which: fc.nat({ max: VALID_STUBS.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: null }),
  })
  fc.assert(
    fc.property(mutation, ({ which, edits, cut }) => {
      const [opnum, valid] = VALID_STUBS[which]
      const bytes = Buffer.from(valid)
      for (const [at, value] of edits) bytes[at % bytes.length] = value
      const stub = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1))
      return wellFormed(decodeSrvsvcRequest(opnum, stub))
    }),
    { numRuns: 5000 },
  )
  const replies = [ENUM_LEVEL1_REPLY, encodeShareGetInfoResponse(502, share({ path: 'p', securityDescriptor: Buffer.alloc(12, 1) }), 0), encodeServerGetInfoResponse(102, { platformId: 500, name: 'a', versionMajor: 1, versionMinor: 2, type: 3, comment: 'c', users: 1, disc: 2, hidden: 3, announce: 4, anndelta: 5, licenses: 6, userpath: 'u' }, 0)]
  fc.assert(
    fc.property(fc.nat({ max: replies.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (which, edits) => {
      const bytes = Buffer.from(replies[which])
      for (const [at, value] of edits) bytes[at % bytes.length] = value
      return wellFormed(decodeShareEnumResponse(bytes)) && wellFormed(decodeShareGetInfoResponse(bytes)) && wellFormed(decodeServerGetInfoResponse(bytes))
    }),
    { numRuns: 3000 },
  )
  t.pass('no decoder threw')
})

t.test('encoders refuse what the wire cannot carry', async (t) => {
  t.throws(() => encodeShareEnumResponse({ level: 1, entries: [share({ type: -1 })], totalEntries: 1, resumeHandle: null, result: 0 }), RangeError, 'a negative type (an unsigned OR forgotten)')
  t.throws(() => encodeShareEnumResponse({ level: 1004, entries: [share()], totalEntries: 1, resumeHandle: null, result: 0 }), RangeError, 'entries at a level without an encoder')
  t.throws(() => encodeShareGetInfoResponse(7, share(), 0), RangeError, 'info at an unarmed level')
  t.throws(() => encodeShareGetInfoResponse(1, share({ netname: 'a\0b' }), 0), RangeError, 'a NUL inside a string')
  t.throws(() => encodeServerGetInfoResponse(502, { platformId: 500, name: null, versionMajor: 0, versionMinor: 0, type: 0, comment: null, users: 0, disc: 0, hidden: 0, announce: 0, anndelta: 0, licenses: 0, userpath: null }, 0), RangeError)
})
