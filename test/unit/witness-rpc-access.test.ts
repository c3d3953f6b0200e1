// Who may call the witness on DCE/RPC: packet integrity on every profile (MS-SWN 7, Samba's
// rpcd_witness), the principal handed to the witness host as the registration's owner, and the
// `witnessAllowAnonymous` switch of the cluster config that keeps anonymous binds.
import t from 'tap'
import { witnessRpcInterface, DCERPC_USER } from '../../server/dcerpc/witness-rpc-interface.js'
import { AUTH_LEVEL, FAULT } from '../../protocol/dcerpc/pdu-codec.js'
import { WITNESS_OPNUM, encodeWitnessRequest } from '../../protocol/dcerpc/witness-ndr.js'
import { validateConfig } from '../../cluster/config.js'
import type { WitnessHost } from '../../server/swn/witness-host.js'
import type { CallOutcome } from '../../server/dcerpc/rpc-connection.js'

function fakeHost(users: string[]): WitnessHost {
  return {
    submit: (user: string) => {
      users.push(user)
      return { ok: false, refusal: 'not-serving' }
    },
  } as unknown as WitnessHost
}

const stub = encodeWitnessRequest(WITNESS_OPNUM.GetInterfaceList, { method: 'GetInterfaceList' })

function call(allowAnonymous: boolean, principal: string | null, authLevel: number, users: string[]): CallOutcome {
  const iface = witnessRpcInterface({ host: fakeHost(users), log: () => undefined, allowAnonymous })
  let out: CallOutcome | undefined
  iface.call(WITNESS_OPNUM.GetInterfaceList, stub, (o) => (out = o), { principal, authLevel })
  return out!
}

t.test('below packet integrity the witness answers ACCESS_DENIED; at integrity or privacy the principal reaches the host', async (t) => {
  for (const level of [AUTH_LEVEL.NONE, AUTH_LEVEL.CONNECT]) {
    const users: string[] = []
    t.same(call(false, level === AUTH_LEVEL.NONE ? null : 'alice', level, users), { fault: FAULT.ACCESS_DENIED }, `level ${level}`)
    t.same(users, [], 'nothing reached the host')
  }
  for (const level of [AUTH_LEVEL.PKT_INTEGRITY, AUTH_LEVEL.PKT_PRIVACY]) {
    const users: string[] = []
    call(false, 'alice', level, users)
    t.same(users, ['alice'], `level ${level}: the host sees the principal`)
  }
})

t.test('with allowAnonymous an unauthenticated call reaches the host as the anonymous DCE/RPC user', async (t) => {
  const users: string[] = []
  t.same(call(true, null, AUTH_LEVEL.NONE, users), { fault: FAULT.CANT_PERFORM }, 'the fake host refuses for lack of quorum, after the access check')
  t.same(users, [DCERPC_USER])
})

t.test('config: witnessAllowAnonymous is a boolean, absent by default', async (t) => {
  const base = {
    name: 'SOFS',
    dir: '/tmp/x',
    profile: 'fast',
    nodes: [{ id: 'node-1', clientAddress: '127.0.1.1', clusterAddress: '127.0.0.1', peerPort: 1001, adminPort: 1002, witnessPort: 1003, smbPort: 1004 }],
    csvs: ['csv-1'],
    witness: { kind: 'none' },
  }
  const plain = validateConfig(base)
  t.ok(plain.ok && plain.config.witnessAllowAnonymous === undefined)
  const on = validateConfig({ ...base, witnessAllowAnonymous: true })
  t.ok(on.ok && on.config.witnessAllowAnonymous === true)
  t.same(validateConfig({ ...base, witnessAllowAnonymous: 'yes' }), { ok: false, error: 'config.witnessAllowAnonymous must be true or false' })
})
