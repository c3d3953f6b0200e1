// The srvsvc stubs against two independent NDR implementations, when they are installed (CI
// installs both; each subtest says why it skips otherwise):
// - Samba's ndrdump (samba-testsuite), which parses a stub with the code Samba's own client and
//   server use (pidl-generated from librpc/idl/srvsvc.idl) and, with --validate, pushes what it
//   parsed again and compares: our replies and requests must come back byte for byte.
// - impacket (python3-impacket), whose srvs module rpcclient-like tools are built on: it must
//   read our replies, and we must read its requests (random referent ids, 0xab padding).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  SRVSVC_OPNUM,
  STYPE,
  SHI1005_FLAGS,
  decodeSrvsvcRequest,
  encodeServerGetInfoRequest,
  encodeServerGetInfoResponse,
  encodeShareEnumRequest,
  encodeShareEnumResponse,
  encodeShareGetInfoRequest,
  encodeShareGetInfoResponse,
  type ServerInfo,
  type ShareInfo,
} from '../../protocol/dcerpc/srvsvc-ndr.js'

const NDRDUMP = '/usr/bin/ndrdump'
const PYTHON = '/usr/bin/python3'

function runs(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 })
  return r.status === 0
}

const hasNdrdump = runs(NDRDUMP, ['--help'])
const hasImpacket = runs(PYTHON, ['-c', 'import impacket.dcerpc.v5.srvs'])

const SHARES: ShareInfo[] = [
  {
    netname: 'share-1',
    type: STYPE.CLUSTER_SOFS,
    remark: 'Scale-out share on csv-1',
    permissions: 0,
    maxUses: 0xffffffff,
    currentUses: 2,
    path: 'C:\\ClusterStorage\\csv-1\\Shares\\share-1',
    password: null,
    flags: SHI1005_FLAGS.ENABLE_CA | SHI1005_FLAGS.CLUSTER_MANAGED,
    securityDescriptor: null,
  },
  {
    netname: 'IPC$',
    type: (STYPE.IPC | STYPE.SPECIAL) >>> 0,
    remark: 'Remote IPC',
    permissions: 0,
    maxUses: 0xffffffff,
    currentUses: 0,
    path: '',
    password: null,
    flags: 0,
    securityDescriptor: null,
  },
  { netname: 'x', type: STYPE.CLUSTER_FS, remark: null, permissions: 0, maxUses: 5, currentUses: 0, path: null, password: null, flags: 0, securityDescriptor: null },
]
// A self-relative security descriptor with an empty DACL, in Samba's canonical form.
const SD = Buffer.from('01000480' + '00000000'.repeat(3) + '14000000' + '02000800' + '00000000', 'hex')
const SERVER: ServerInfo = {
  platformId: 500,
  name: 'SOFS',
  versionMajor: 10,
  versionMinor: 0,
  type: 0x9003,
  comment: 'scale-out',
  users: 0xffffffff,
  disc: 15,
  hidden: 0,
  announce: 240,
  anndelta: 3000,
  licenses: 0,
  userpath: 'C:\\',
}

interface NdrdumpCase {
  readonly what: string
  readonly fn: 'srvsvc_NetShareEnumAll' | 'srvsvc_NetShareGetInfo' | 'srvsvc_NetSrvGetInfo'
  readonly direction: 'in' | 'out'
  readonly stub: Buffer
  /** The in-stub an out-stub's union level comes from. */
  readonly context?: Buffer
  readonly expect: readonly string[]
}

function ndrdumpCases(): NdrdumpCase[] {
  const cases: NdrdumpCase[] = []
  for (const level of [0, 1, 2, 501, 502]) {
    cases.push({
      what: `NetShareEnumAll reply, level ${level}`,
      fn: 'srvsvc_NetShareEnumAll',
      direction: 'out',
      stub: encodeShareEnumResponse({ level, entries: SHARES, totalEntries: 3, resumeHandle: 0, result: 0 }),
      expect: ["'share-1'", "'IPC$'", 'WERR_OK', level === 0 ? 'count' : 'STYPE_CLUSTER_SOFS'],
    })
  }
  cases.push({
    what: 'NetShareEnumAll reply, level 502 with a security descriptor',
    fn: 'srvsvc_NetShareEnumAll',
    direction: 'out',
    stub: encodeShareEnumResponse({ level: 502, entries: [{ ...SHARES[0], securityDescriptor: SD }], totalEntries: 1, resumeHandle: null, result: 0 }),
    expect: ['sd_size                  : 0x0000001c', 'SEC_DESC_DACL_PRESENT'],
  })
  cases.push({
    what: 'NetShareEnumAll ERROR_INVALID_LEVEL, unarmed level',
    fn: 'srvsvc_NetShareEnumAll',
    direction: 'out',
    stub: encodeShareEnumResponse({ level: 3, entries: null, totalEntries: 0, resumeHandle: 0, result: 124 }),
    expect: ['WERR_INVALID_LEVEL'],
  })
  cases.push({
    what: 'NetShareEnumAll ERROR_INVALID_LEVEL, armed level, NULL container',
    fn: 'srvsvc_NetShareEnumAll',
    direction: 'out',
    stub: encodeShareEnumResponse({ level: 1005, entries: null, totalEntries: 0, resumeHandle: null, result: 124 }),
    expect: ['ctr1005                  : NULL', 'WERR_INVALID_LEVEL'],
  })
  cases.push({
    what: 'NetShareEnumAll request as smbclient sends it',
    fn: 'srvsvc_NetShareEnumAll',
    direction: 'in',
    stub: encodeShareEnumRequest({ serverName: '127.0.0.1', level: 1, preferredMaximumLength: 0xffffffff, resumeHandle: 0 }),
    expect: ["'127.0.0.1'", 'count                    : 0x00000000'],
  })
  for (const level of [0, 1, 2, 501, 502, 1005]) {
    cases.push({
      what: `NetShareGetInfo reply, level ${level}`,
      fn: 'srvsvc_NetShareGetInfo',
      direction: 'out',
      stub: encodeShareGetInfoResponse(level, SHARES[0], 0),
      context: encodeShareGetInfoRequest({ serverName: null, netName: 'share-1', level }),
      expect: [`union srvsvc_NetShareInfo(case ${level})`, 'WERR_OK'],
    })
  }
  cases.push({
    what: 'NetShareGetInfo NERR_NetNameNotFound',
    fn: 'srvsvc_NetShareGetInfo',
    direction: 'out',
    stub: encodeShareGetInfoResponse(1, null, 2310),
    context: encodeShareGetInfoRequest({ serverName: null, netName: 'nope', level: 1 }),
    expect: ['info1                    : NULL', 'WERR_NERR_NETNAMENOTFOUND'],
  })
  for (const level of [100, 101, 102]) {
    cases.push({
      what: `NetSrvGetInfo reply, level ${level}`,
      fn: 'srvsvc_NetSrvGetInfo',
      direction: 'out',
      stub: encodeServerGetInfoResponse(level, SERVER, 0),
      context: encodeServerGetInfoRequest({ serverName: null, level }),
      expect: [`union srvsvc_NetSrvInfo(case ${level})`, "'SOFS'", 'PLATFORM_ID_NT'],
    })
  }
  return cases
}

t.test('Samba ndrdump parses our stubs and pushes them again byte for byte', { skip: hasNdrdump ? false : 'ndrdump (Debian package samba-testsuite) is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'srvsvc-ndrdump-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  for (const [index, c] of ndrdumpCases().entries()) {
    const stubFile = join(dir, `${index}.bin`)
    writeFileSync(stubFile, c.stub)
    const args = ['srvsvc', c.fn, c.direction, stubFile, '--validate']
    if (c.context) {
      const contextFile = join(dir, `${index}.in.bin`)
      writeFileSync(contextFile, c.context)
      args.push('-c', contextFile)
    }
    const r = spawnSync(NDRDUMP, args, { encoding: 'utf8', timeout: 10_000 })
    const output = `${r.stdout}${r.stderr}`
    t.equal(r.status, 0, `${c.what}: ndrdump exits 0`)
    t.match(output, /dump OK/, `${c.what}: parsed`)
    t.notMatch(output, /WARNING|differ/, `${c.what}: Samba's push of what it parsed is our stub`)
    for (const text of c.expect) t.ok(output.includes(text), `${c.what}: shows ${text}`)
  }
})

// Reads our replies with impacket's srvs classes and prints what it found; then prints the
// stubs of impacket's own requests (its referent ids are random, its padding bytes 0xab).
const IMPACKET_SCRIPT = `
import sys, json
from impacket.dcerpc.v5 import srvs
from impacket.dcerpc.v5.dtypes import NULL
def text(v):
    return v[:-1] if isinstance(v, str) and v.endswith('\\x00') else (None if v in (b'', None) else v)
stubs = json.load(sys.stdin)
out = {}
r = srvs.NetrShareEnumResponse(bytes.fromhex(stubs['enum1']))
c = r['InfoStruct']['ShareInfo']['Level1']
out['enum1'] = {'entries': [[text(e['shi1_netname']), e['shi1_type'], text(e['shi1_remark'])] for e in c['Buffer']], 'total': r['TotalEntries'], 'resume': r['ResumeHandle'], 'result': r['ErrorCode']}
r = srvs.NetrShareEnumResponse(bytes.fromhex(stubs['enum2']))
out['enum2'] = [[text(e['shi2_netname']), text(e['shi2_path']), e['shi2_max_uses'], e['shi2_current_uses']] for e in r['InfoStruct']['ShareInfo']['Level2']['Buffer']]
r = srvs.NetrShareGetInfoResponse(bytes.fromhex(stubs['get502']))
i = r['InfoStruct']['ShareInfo502']
out['get502'] = [text(i['shi502_netname']), i['shi502_type'], i['shi502_reserved'], r['ErrorCode']]
r = srvs.NetrShareGetInfoResponse(bytes.fromhex(stubs['get1005']))
out['get1005'] = [r['InfoStruct']['ShareInfo1005']['shi1005_flags'], r['ErrorCode']]
r = srvs.NetrServerGetInfoResponse(bytes.fromhex(stubs['srv102']))
i = r['InfoStruct']['ServerInfo102']
out['srv102'] = [i['sv102_platform_id'], text(i['sv102_name']), i['sv102_version_major'], i['sv102_type'], text(i['sv102_comment']), text(i['sv102_userpath'])]
q = srvs.NetrShareEnum()
q['ServerName'] = '\\x00'
q['PreferedMaximumLength'] = 0xffffffff
q['ResumeHandle'] = 0
q['InfoStruct']['Level'] = 1
q['InfoStruct']['ShareInfo']['tag'] = 1
q['InfoStruct']['ShareInfo']['Level1']['Buffer'] = NULL
out['enumRequest'] = q.getData().hex()
q = srvs.NetrShareGetInfo()
q['ServerName'] = NULL
q['NetName'] = 'share-1\\x00'
q['Level'] = 2
out['getRequest'] = q.getData().hex()
q = srvs.NetrServerGetInfo()
q['ServerName'] = '\\\\\\\\sofs\\x00'
q['Level'] = 102
out['srvRequest'] = q.getData().hex()
print(json.dumps(out))
`

t.test('impacket reads our replies, and we read its requests', { skip: hasImpacket ? false : 'impacket (Debian package python3-impacket) is not installed' }, async (t) => {
  const stubs = {
    enum1: encodeShareEnumResponse({ level: 1, entries: SHARES, totalEntries: 3, resumeHandle: 0, result: 0 }).toString('hex'),
    enum2: encodeShareEnumResponse({ level: 2, entries: SHARES, totalEntries: 3, resumeHandle: null, result: 0 }).toString('hex'),
    get502: encodeShareGetInfoResponse(502, { ...SHARES[0], securityDescriptor: SD }, 0).toString('hex'),
    get1005: encodeShareGetInfoResponse(1005, SHARES[0], 0).toString('hex'),
    srv102: encodeServerGetInfoResponse(102, SERVER, 0).toString('hex'),
  }
  const r = spawnSync(PYTHON, ['-c', IMPACKET_SCRIPT], { input: JSON.stringify(stubs), encoding: 'utf8', timeout: 30_000 })
  t.equal(r.status, 0, `impacket ran (${r.stderr.trim().split('\n').pop() ?? ''})`)
  if (r.status !== 0) return
  const out = JSON.parse(r.stdout) as Record<string, unknown>
  t.same(out.enum1, {
    entries: [
      ['share-1', STYPE.CLUSTER_SOFS, 'Scale-out share on csv-1'],
      ['IPC$', 0x80000003, 'Remote IPC'],
      ['x', STYPE.CLUSTER_FS, null],
    ],
    total: 3,
    resume: 0,
    result: 0,
  })
  t.same(out.enum2, [
    ['share-1', 'C:\\ClusterStorage\\csv-1\\Shares\\share-1', 0xffffffff, 2],
    ['IPC$', '', 0xffffffff, 0],
    ['x', null, 5, 0],
  ])
  t.same(out.get502, ['share-1', STYPE.CLUSTER_SOFS, SD.length, 0])
  t.same(out.get1005, [SHI1005_FLAGS.ENABLE_CA | SHI1005_FLAGS.CLUSTER_MANAGED, 0])
  t.same(out.srv102, [500, 'SOFS', 10, 0x9003, 'scale-out', 'C:\\'])

  const enumRequest = decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareEnum, Buffer.from(String(out.enumRequest), 'hex'))
  t.match(enumRequest, { ok: true, request: { operation: 'NetrShareEnum', serverName: '', level: 1, containerPresent: true, preferredMaximumLength: 0xffffffff, resumeHandle: 0 } })
  const getRequest = decodeSrvsvcRequest(SRVSVC_OPNUM.NetrShareGetInfo, Buffer.from(String(out.getRequest), 'hex'))
  t.match(getRequest, { ok: true, request: { operation: 'NetrShareGetInfo', serverName: null, netName: 'share-1', level: 2 } })
  const srvRequest = decodeSrvsvcRequest(SRVSVC_OPNUM.NetrServerGetInfo, Buffer.from(String(out.srvRequest), 'hex'))
  t.match(srvRequest, { ok: true, request: { operation: 'NetrServerGetInfo', serverName: '\\\\sofs', level: 102 } })
})
