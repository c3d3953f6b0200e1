// The cluster config's clientWitnessAuthLevel (how the lab's own failover clients protect their
// witness calls; `swlab demo --pcap` sets integrity so that the capture shows them): absent by
// default (the clients seal), integrity or privacy when given, anything else refused.
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

t.test('config: clientWitnessAuthLevel is absent by default, integrity or privacy when given', async (t) => {
  const plain = validateConfig(BASE)
  t.ok(plain.ok && plain.config.clientWitnessAuthLevel === undefined, 'absent: the clients seal, as Windows clients')
  for (const level of ['integrity', 'privacy'] as const) {
    const given = validateConfig({ ...BASE, clientWitnessAuthLevel: level })
    t.ok(given.ok && given.config.clientWitnessAuthLevel === level, `${level} kept`)
  }
  const error = 'config.clientWitnessAuthLevel must be integrity or privacy'
  for (const bad of ['connect', 'none', '', 6, null]) t.same(validateConfig({ ...BASE, clientWitnessAuthLevel: bad }), { ok: false, error }, `${JSON.stringify(bad)} refused`)
})
