// rpcclient in a private network namespace: there the endpoint mapper can take TCP 135 on the
// cluster's usual client addresses (127.0.1.N) without touching the machine's own network.
// The cluster and rpcclient both run inside `unshare -n` (a helper script under tsx); this
// test checks what rpcclient got. Skips where unshare, ip or rpcclient are missing or the
// namespace cannot be made (not root).
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ok = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0
const canNetns = ok('unshare', ['-n', 'true'])
const skip = !ok('rpcclient', ['--version'])
  ? 'rpcclient is not installed (apt-get install smbclient)'
  : !canNetns
    ? 'cannot make a private network namespace here (unshare -n needs root)'
    : !ok('ip', ['-V'])
      ? 'ip (iproute2) is not installed'
      : false
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'helpers', 'netns-rpcclient.ts')

t.test('rpcclient through the endpoint mapper on 135, in a private network namespace', { skip }, async (t) => {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" --import tsx "${SCRIPT}"`], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  t.equal(r.status, 0, r.stderr.slice(-2000))
  const line = r.stdout.trim().split('\n').pop() ?? '{}'
  const result = JSON.parse(line) as { address: string; getInterfaceList: string; register: string; registerV2: string }
  t.equal(result.address, '127.0.1.1', 'the default client addresses, inside the namespace')
  t.match(result.getInterfaceList, /NODE-1 127\.0\.1\.1[\s\S]*NODE-2 127\.0\.1\.2[\s\S]*NODE-3 127\.0\.1\.3/, 'GetInterfaceList lists the three nodes')
  t.match(result.register, /^\d+:[0-9a-f-]{36}$/m, 'Register gives a context handle')
  t.match(result.registerV2, /WERR_REVISION_MISMATCH/, 'Register with version 2 is REVISION_MISMATCH')
})
