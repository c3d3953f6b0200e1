// The srvsvc answers over a node's share listing: share types and flags per kind of share, the
// levels answered and refused, GetInfo lookups, and NetrShareEnum's PreferedMaximumLength and
// resume handle, checked as properties over random listings.
import t from 'tap'
import fc from 'fast-check'
import {
  SHARE_ENUM_ENTRIES_MAX,
  answerShareEnum,
  answerSrvsvcRequest,
  csvShareListing,
  ipcShareListing,
  serverInfoOf,
  shareFlags,
  shareInfoOf,
  shareType,
  type ShareListing,
  type SrvsvcServerIdentity,
} from '../../core/smb/srvsvc-shares.js'
import { MAX_PREFERRED_LENGTH, SHI1005_FLAGS, SRVSVC_RESULT, STYPE, shareEntryWireBytes } from '../../protocol/dcerpc/srvsvc-ndr.js'

const SERVER: SrvsvcServerIdentity = { name: 'SOFS', comment: 'scale-out file server', versionMajor: 10, versionMinor: 0, type: 0x9003 }
const SOFS_SHARE = csvShareListing({ name: 'share-1', csv: 'csv-1', scaleOut: true, continuouslyAvailable: true })
const FS_SHARE = csvShareListing({ name: 'Archive', csv: 'csv-2', scaleOut: false, continuouslyAvailable: false, encryptData: true, remark: 'cold data' })
const LISTING: readonly ShareListing[] = [SOFS_SHARE, FS_SHARE, ipcShareListing()]

t.test('share types: scale-out cluster share, cluster share, plain disk share, IPC$', async (t) => {
  t.equal(shareType(SOFS_SHARE), STYPE.CLUSTER_SOFS, 'a scale-out CSV share is STYPE_DISKTREE | STYPE_CLUSTER_SOFS')
  t.equal(shareType(FS_SHARE), STYPE.CLUSTER_FS, 'a clustered share that is not scale-out is STYPE_CLUSTER_FS')
  t.equal(shareType({ ...FS_SHARE, clustered: false }), STYPE.DISKTREE)
  t.equal(shareType(ipcShareListing()), 0x80000003, 'IPC$ is STYPE_IPC | STYPE_SPECIAL, as an unsigned u32')
  t.equal(shareType(ipcShareListing()) & 7, STYPE.IPC, 'smbclient -L reads IPC')
  t.equal(shareType(SOFS_SHARE) & 7, STYPE.DISKTREE, 'smbclient -L reads Disk')
})

t.test('share flags: CA, encryption and cluster management', async (t) => {
  t.equal(shareFlags(SOFS_SHARE), SHI1005_FLAGS.ENABLE_CA | SHI1005_FLAGS.CLUSTER_MANAGED)
  t.equal(shareFlags(FS_SHARE), SHI1005_FLAGS.ENCRYPT_DATA | SHI1005_FLAGS.CLUSTER_MANAGED)
  t.equal(shareFlags(ipcShareListing()), 0)
})

t.test('the full share info of a listing', async (t) => {
  t.same(shareInfoOf(SOFS_SHARE), {
    netname: 'share-1',
    type: STYPE.CLUSTER_SOFS,
    remark: 'Scale-out share on csv-1',
    permissions: 0,
    maxUses: 0xffffffff,
    currentUses: 0,
    path: 'C:\\ClusterStorage\\csv-1\\Shares\\share-1',
    password: null,
    flags: SHI1005_FLAGS.ENABLE_CA | SHI1005_FLAGS.CLUSTER_MANAGED,
    securityDescriptor: null,
  })
  t.same(shareInfoOf(ipcShareListing(3)), {
    netname: 'IPC$',
    type: 0x80000003,
    remark: 'Remote IPC',
    permissions: 0,
    maxUses: 0xffffffff,
    currentUses: 3,
    path: '',
    password: null,
    flags: 0,
    securityDescriptor: null,
  })
})

t.test('NetShareEnumAll level 1 as smbclient -L asks it: every share, IPC$ included, in listing order', async (t) => {
  const answer = answerSrvsvcRequest(
    { operation: 'NetrShareEnum', serverName: '127.0.0.1', level: 1, containerPresent: true, entriesSent: 0, preferredMaximumLength: MAX_PREFERRED_LENGTH, resumeHandle: 0 },
    LISTING,
    SERVER,
  )
  t.equal(answer.operation, 'NetrShareEnum')
  if (answer.operation !== 'NetrShareEnum') return
  t.equal(answer.response.result, SRVSVC_RESULT.SUCCESS)
  t.equal(answer.response.level, 1)
  t.same(
    answer.response.entries?.map((e) => e.netname),
    ['share-1', 'Archive', 'IPC$'],
  )
  t.equal(answer.response.totalEntries, 3)
  t.equal(answer.response.resumeHandle, 0, 'a finished enumeration hands back 0')
})

t.test('a NULL resume handle stays NULL', async (t) => {
  const response = answerShareEnum(0, MAX_PREFERRED_LENGTH, null, LISTING)
  t.equal(response.resumeHandle, null)
  t.equal(response.result, SRVSVC_RESULT.SUCCESS)
})

t.test('enumeration levels: 0, 1, 2, 501 and 502 answered; any other ERROR_INVALID_LEVEL with a NULL container', async (t) => {
  for (const level of [0, 1, 2, 501, 502]) t.equal(answerShareEnum(level, MAX_PREFERRED_LENGTH, 0, LISTING).result, SRVSVC_RESULT.SUCCESS, `level ${level}`)
  for (const level of [3, 10, 503, 1004, 1005, 1006, 1501, 0xffffffff]) {
    const response = answerShareEnum(level, MAX_PREFERRED_LENGTH, 7, LISTING)
    t.same(response, { level, entries: null, totalEntries: 0, resumeHandle: 7, result: SRVSVC_RESULT.INVALID_LEVEL }, `level ${level}`)
  }
})

t.test('NetShareGetInfo: each level, names case-insensitive, unknown share, unknown level', async (t) => {
  for (const level of [0, 1, 2, 501, 502, 1005]) {
    const answer = answerSrvsvcRequest({ operation: 'NetrShareGetInfo', serverName: null, netName: 'SHARE-1', level }, LISTING, SERVER)
    t.same(answer, { operation: 'NetrShareGetInfo', level, info: shareInfoOf(SOFS_SHARE), result: SRVSVC_RESULT.SUCCESS }, `level ${level}`)
  }
  t.same(answerSrvsvcRequest({ operation: 'NetrShareGetInfo', serverName: null, netName: 'nope', level: 1 }, LISTING, SERVER), {
    operation: 'NetrShareGetInfo',
    level: 1,
    info: null,
    result: SRVSVC_RESULT.NET_NAME_NOT_FOUND,
  })
  // The level is judged first, as MS-SRVS 3.1.4.10 orders the checks.
  t.same(answerSrvsvcRequest({ operation: 'NetrShareGetInfo', serverName: null, netName: 'nope', level: 3 }, LISTING, SERVER), {
    operation: 'NetrShareGetInfo',
    level: 3,
    info: null,
    result: SRVSVC_RESULT.INVALID_LEVEL,
  })
  t.equal(answerSrvsvcRequest({ operation: 'NetrShareGetInfo', serverName: null, netName: 'ipc$', level: 1 }, LISTING, SERVER).operation, 'NetrShareGetInfo')
})

t.test('NetrServerGetInfo: levels 100, 101 and 102; others ERROR_INVALID_LEVEL', async (t) => {
  for (const level of [100, 101, 102]) {
    t.same(answerSrvsvcRequest({ operation: 'NetrServerGetInfo', serverName: null, level }, LISTING, SERVER), {
      operation: 'NetrServerGetInfo',
      level,
      info: serverInfoOf(SERVER),
      result: SRVSVC_RESULT.SUCCESS,
    })
  }
  t.same(serverInfoOf(SERVER), {
    platformId: 500,
    name: 'SOFS',
    versionMajor: 10,
    versionMinor: 0,
    type: 0x9003,
    comment: 'scale-out file server',
    users: 0xffffffff,
    disc: 15,
    hidden: 0,
    announce: 240,
    anndelta: 3000,
    licenses: 0,
    userpath: 'C:\\',
  })
  for (const level of [0, 1, 103, 502]) {
    t.same(answerSrvsvcRequest({ operation: 'NetrServerGetInfo', serverName: null, level }, LISTING, SERVER), {
      operation: 'NetrServerGetInfo',
      level,
      info: null,
      result: SRVSVC_RESULT.INVALID_LEVEL,
    })
  }
})

const listingArb = fc.array(
  fc.record({
    name: fc.string({ minLength: 1, maxLength: 20 }),
    csv: fc.constantFrom('csv-1', 'csv-2'),
    scaleOut: fc.boolean(),
    continuouslyAvailable: fc.boolean(),
    remark: fc.string({ maxLength: 40 }),
  }),
  { maxLength: 40 },
)

t.test('property: paging with any PreferedMaximumLength walks every share exactly once, in order', async (t) => {
  fc.assert(
    fc.property(listingArb, fc.constantFrom(0, 1, 2, 501, 502), fc.integer({ min: 0, max: 2000 }), (specs, level, preferredMaximumLength) => {
      const shares = specs.map((s) => csvShareListing(s))
      const seen: string[] = []
      let resume: number | null = 0
      for (let calls = 0; calls <= shares.length + 1; calls++) {
        const r = answerShareEnum(level, preferredMaximumLength, resume, shares)
        const entries = r.entries ?? []
        if (r.result === SRVSVC_RESULT.MORE_DATA) {
          if (entries.length === 0) return false
          // What went beyond the first entry fits the preferred length.
          const bytes = entries.reduce((sum, e) => sum + shareEntryWireBytes(level as 0, e), 0)
          if (entries.length > 1 && bytes > preferredMaximumLength) return false
        } else if (r.result !== SRVSVC_RESULT.SUCCESS) return false
        if (r.totalEntries !== shares.length - (resume ?? 0)) return false
        seen.push(...entries.map((e) => e.netname))
        if (r.result === SRVSVC_RESULT.SUCCESS) return r.resumeHandle === 0 && seen.join('\0') === shares.map((s) => s.name).join('\0')
        resume = r.resumeHandle
      }
      return false
    }),
    { numRuns: 500 },
  )
})

t.test('one reply carries at most SHARE_ENUM_ENTRIES_MAX entries', async (t) => {
  const shares = Array.from({ length: SHARE_ENUM_ENTRIES_MAX + 5 }, (_, i) => csvShareListing({ name: `s${i}`, csv: 'csv-1', scaleOut: true, continuouslyAvailable: true }))
  const first = answerShareEnum(0, MAX_PREFERRED_LENGTH, 0, shares)
  t.equal(first.entries?.length, SHARE_ENUM_ENTRIES_MAX)
  t.equal(first.result, SRVSVC_RESULT.MORE_DATA)
  t.equal(first.resumeHandle, SHARE_ENUM_ENTRIES_MAX)
  const second = answerShareEnum(0, MAX_PREFERRED_LENGTH, first.resumeHandle, shares)
  t.equal(second.entries?.length, 5)
  t.equal(second.result, SRVSVC_RESULT.SUCCESS)
})

t.test('a resume handle beyond the end gives an empty, finished enumeration', async (t) => {
  t.same(answerShareEnum(1, MAX_PREFERRED_LENGTH, 99, LISTING), { level: 1, entries: [], totalEntries: 0, resumeHandle: 0, result: SRVSVC_RESULT.SUCCESS })
})
