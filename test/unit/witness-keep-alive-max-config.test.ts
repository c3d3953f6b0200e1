// The cluster config's witnessKeepAliveMaxS (the test knob that caps how long a node holds a
// witness AsyncNotify): absent by default, a whole number of seconds when given.
import t from 'tap'
import { validateConfig } from '../../cluster/config.js'

const BASE = {
  name: 'SOFS',
  dir: '/tmp/x',
  profile: 'fast',
  nodes: [{ id: 'node-1', clientAddress: '127.0.1.1', clusterAddress: '127.0.0.1', peerPort: 1001, adminPort: 1002, witnessPort: 1003, smbPort: 1004 }],
  csvs: ['csv-1'],
  witness: { kind: 'none' },
}

t.test('config: witnessKeepAliveMaxS is absent by default, a whole number of seconds when given', async (t) => {
  const plain = validateConfig(BASE)
  t.ok(plain.ok && plain.config.witnessKeepAliveMaxS === undefined, 'absent: the client keep-alive stands')
  for (const seconds of [0, 2, 120]) {
    const given = validateConfig({ ...BASE, witnessKeepAliveMaxS: seconds })
    t.ok(given.ok && given.config.witnessKeepAliveMaxS === seconds, `${seconds} s kept`)
  }
  const error = 'config.witnessKeepAliveMaxS must be a whole number of seconds from 0 to 4294967295'
  for (const bad of [-1, 1.5, '2', null, 2 ** 32]) t.same(validateConfig({ ...BASE, witnessKeepAliveMaxS: bad }), { ok: false, error }, `${JSON.stringify(bad)} refused`)
})
