// The cluster config's share kinds: scale-out (absent kind, every share before roles) and
// general, whose role (network name, own loopback address, SMB port) is required and checked.
import t from 'tap'
import { shareKindOf, validateConfig } from '../../cluster/config.js'

const BASE = {
  name: 'SOFS',
  dir: '/tmp/x',
  profile: 'fast',
  nodes: [{ id: 'node-1', clientAddress: '127.0.1.1', clusterAddress: '127.0.2.1', peerPort: 1001, adminPort: 1002, witnessPort: 1003, smbPort: 1004 }],
  csvs: ['csv-1', 'csv-2'],
  witness: { kind: 'none' },
}
const ROLE = { name: 'FS-1', address: '127.0.3.1', smb2Port: 4450 }

t.test('config: a share is scale-out unless it says general, and a general one carries its role', async (t) => {
  const old = validateConfig({ ...BASE, shares: [{ name: 'share-1', csv: 'csv-1' }] })
  t.ok(old.ok && shareKindOf(old.config.shares[0]) === 'scale-out', 'a share without a kind is scale-out')
  const general = validateConfig({ ...BASE, shares: [{ name: 'gen1', csv: 'csv-1', kind: 'general', role: ROLE }] })
  t.ok(general.ok && shareKindOf(general.config.shares[0]) === 'general' && general.config.shares[0].role?.address === '127.0.3.1', 'kept')
  const two = validateConfig({ ...BASE, shares: [{ name: 'gen1', csv: 'csv-1', kind: 'general', role: ROLE }, { name: 'gen2', csv: 'csv-1', kind: 'general', role: ROLE }] })
  t.ok(two.ok, 'two shares of one role')
})

t.test('config: bad kinds and roles are one line each', async (t) => {
  const bad = (share: Record<string, unknown>, pattern: RegExp, what: string) => {
    const r = validateConfig({ ...BASE, shares: [share] })
    t.ok(!r.ok && pattern.test(r.error), `${what}: ${r.ok ? 'accepted' : r.error}`)
  }
  bad({ name: 's', csv: 'csv-1', kind: 'sofs' }, /kind must be scale-out or general/, 'unknown kind')
  bad({ name: 's', csv: 'csv-1', kind: 'general' }, /needs its role/, 'general without a role')
  bad({ name: 's', csv: 'csv-1', role: ROLE }, /scale-out share has no role/, 'a role on a scale-out share')
  bad({ name: 's', csv: 'csv-1', kind: 'general', role: { ...ROLE, name: 'A-NAME-LONGER-THAN-15' } }, /role.name/, 'a name beyond NetBIOS length')
  bad({ name: 's', csv: 'csv-1', kind: 'general', role: { ...ROLE, address: '10.0.0.1' } }, /loopback/, 'not loopback')
  bad({ name: 's', csv: 'csv-1', kind: 'general', role: { ...ROLE, address: '127.0.1.1' } }, /a node's address/, "a node's address")
  bad({ name: 's', csv: 'csv-1', kind: 'general', role: { ...ROLE, smb2Port: 0 } }, /smb2Port/, 'no port')
  const split = validateConfig({ ...BASE, shares: [{ name: 'a', csv: 'csv-1', kind: 'general', role: ROLE }, { name: 'b', csv: 'csv-1', kind: 'general', role: { ...ROLE, address: '127.0.3.2' } }] })
  t.ok(!split.ok && /two addresses/.test(split.error), 'one role, two addresses')
})
