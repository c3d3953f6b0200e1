// The peer decoder faces the network: any shape of input gives a message or null, never a throw.
import t from 'tap'
import fc from 'fast-check'
import { envelopeFromProto, envelopeToProto } from '../../server/peer-codec.js'
import protobuf from 'protobufjs'
import { join } from 'node:path'
import { LOADER_OPTIONS, PROTO_DIR } from '../../proto/loader.js'
import type { Envelope } from '../../core/quorum/types.js'
import type { Envelope__Output } from '../../proto/gen/swlab/peer/v1/Envelope.js'
import { genesisView } from '../../core/quorum/view.js'

t.test('round trip through protobuf bytes', async (t) => {
  const view = genesisView(['node-1', 'node-2'], ['csv-1'])
  const samples: Envelope[] = [
    { from: 'node-1', to: 'node-2', body: { kind: 'heartbeat', term: 3, leader: true, sentAtMs: 12.5, committed: view, proposed: { ...view, epoch: 1, viewTerm: 3 }, leaving: false } },
    { from: 'node-2', to: 'node-1', body: { kind: 'heartbeat-reply', term: 3, echoSentAtMs: 12.5, acceptedLeader: true, acceptedEpoch: 1, acceptedViewTerm: 3, leaseGranted: false, leader: false, committed: null, proposed: null } },
    { from: 'node-1', to: 'node-2', body: { kind: 'vote-request', term: 4, preVote: true, lastViewTerm: 3, lastEpoch: 1, deadLeader: 'node-3' } },
    { from: 'node-2', to: 'node-1', body: { kind: 'vote-reply', term: 4, preVote: false, granted: true } },
  ]
  for (const e of samples) t.same(envelopeFromProto(roundTrip(envelopeToProto(e))), e, e.body.kind)
})

// Encodes to protobuf bytes and decodes with the options grpc-js uses through proto-loader.
function roundTrip(message: ReturnType<typeof envelopeToProto>): Envelope__Output {
  const type = protobuf.loadSync(join(PROTO_DIR, 'peer.proto')).lookupType('swlab.peer.v1.Envelope')
  const bytes = type.encode(type.fromObject(message)).finish()
  return type.toObject(type.decode(bytes), { ...LOADER_OPTIONS }) as Envelope__Output
}

t.test('arbitrary decoded shapes never throw', async (t) => {
  const anyView = fc.record({
    epoch: fc.nat(),
    viewTerm: fc.nat(),
    leaderId: fc.string(),
    members: fc.array(fc.record({ id: fc.string(), state: fc.string(), vote: fc.nat() })),
    csvs: fc.array(fc.record({ name: fc.string(), owner: fc.string() })),
  })
  const envelope = fc.record(
    {
      from: fc.string(),
      to: fc.string(),
      heartbeat: fc.option(fc.record({ term: fc.nat(), leader: fc.boolean(), sentAtMs: fc.double(), committed: fc.option(anyView), proposed: fc.option(anyView), hasProposed: fc.boolean(), leaving: fc.boolean() })),
      voteReply: fc.option(fc.record({ term: fc.nat(), preVote: fc.boolean(), granted: fc.boolean() })),
    },
    { requiredKeys: ['from', 'to'] },
  )
  fc.assert(
    fc.property(envelope, (e) => {
      const decoded = envelopeFromProto(e as unknown as Envelope__Output)
      return decoded === null || typeof decoded.body.kind === 'string'
    }),
    { numRuns: 2000 },
  )
  t.pass('2000 random envelopes decoded without a throw')
})
