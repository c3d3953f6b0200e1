// Samba's rpcclient against the srvsvc interface, in a private network namespace where the
// endpoint mapper can take TCP 135: NetShareEnumAll at levels 1, 2 and 502 (types, remarks,
// paths), an unknown level, NetShareGetInfo at levels 2 and 1005 and of a missing share, and
// NetSrvGetInfo. The transport is ncacn_ip_tcp; the SMB2 front serves the same interface over
// the srvsvc named pipe. Skips where unshare, ip or rpcclient are missing or the namespace
// cannot be made (not root).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0
const skip = !ok('rpcclient', ['--version'])
  ? 'rpcclient is not installed (apt-get install smbclient)'
  : !ok('unshare', ['-n', 'true'])
    ? 'cannot make a private network namespace here (unshare -n needs root)'
    : !ok('ip', ['-V'])
      ? 'ip (iproute2) is not installed'
      : false
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'helpers', 'netns-srvsvc-rpcclient.ts')

t.test('rpcclient lists and looks up shares over srvsvc', { skip }, async (t) => {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" --import tsx "${SCRIPT}"`], { encoding: 'utf8', timeout: 120_000 })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>
  t.match(result.enum1, /netname: share-1\s+remark:\s+Scale-out share on csv-1\s+netname: share-2\s+remark:\s+Clustered share on csv-2\s+netname: IPC\$\s+remark:\s+Remote IPC/, 'level 1: every share and IPC$, in order')
  t.match(result.enum2, /netname: share-1\s+remark:[^\n]*\n\s+path:\s+C:\\ClusterStorage\\csv-1\\Shares\\share-1/, 'level 2: paths')
  t.match(result.enum502, /netname: share-1[\s\S]*type:\s+0x4000000[\s\S]*netname: share-2[\s\S]*type:\s+0x2000000[\s\S]*netname: IPC\$[\s\S]*type:\s+0x80000003/, 'level 502: STYPE_CLUSTER_SOFS, STYPE_CLUSTER_FS, STYPE_IPC|STYPE_SPECIAL')
  t.match(result.enum3, /WERR_INVALID_LEVEL/, 'an unknown level')
  t.match(result.getinfo2, /netname: share-1\s+remark:\s+Scale-out share on csv-1\s+path:\s+C:\\ClusterStorage/, 'GetInfo level 2, name case-insensitive')
  t.match(result.getinfo1005, /flags: 0x84000/, 'GetInfo level 1005: ENABLE_CA | CLUSTER_MANAGED')
  t.match(result.getinfoMissing, /WERR_NERR_NETNAMENOTFOUND/, 'GetInfo of a missing share')
  t.match(result.srvinfo, /SOFS\s+Wk Sv NT SNT\s+emulated[\s\S]*platform_id\s+:\s+500[\s\S]*os version\s+:\s+10\.0/, 'NetSrvGetInfo level 101')
})
