// Run inside a private network namespace (see rpcclient-netns.test.ts): a 3-node cluster with
// the endpoint mapper on its default client addresses, then rpcclient's witness commands;
// prints one JSON line with what rpcclient said, and takes the cluster down.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from '../../cluster/cluster.js'

const dir = mkdtempSync(join(tmpdir(), 'swlab-netns-'))
const cluster = await Cluster.up({ dir, nodes: 3, epm: true })
try {
  const dce = (await cluster.status()).nodes[0].dcerpc!
  // The endpoint mapper stays anonymous; the witness needs packet integrity and a cluster user.
  const binding = `ncacn_ip_tcp:${dce.address}[${dce.port},sign]`
  const alice = cluster.credentials()?.users[0]
  if (!alice) throw new Error('no credentials.json')
  const run = (command: string) => {
    const r = spawnSync('rpcclient', [`-U${alice.user}%${alice.password}`, '-c', command, binding], { encoding: 'utf8', timeout: 30_000 })
    return `${r.stdout}${r.stderr}`
  }
  const result = {
    address: dce.address,
    getInterfaceList: run('GetInterfaceList'),
    register: run(`Register -n SOFS -i ${cluster.nodeConfig('node-2').clientAddress} -c NETNS-1`),
    registerV2: run(`Register --version=131072 -n SOFS -i ${cluster.nodeConfig('node-2').clientAddress} -c NETNS-1`),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  await cluster.down()
  rmSync(dir, { recursive: true, force: true })
}
