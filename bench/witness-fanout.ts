// bench/witness-fanout: N registrations (default 10,000) with an AsyncNotify outstanding each
// over a 3-node cluster, split between the two witness nodes, all watching node-1. Then
// node-1 is killed. Reports the delay from the cluster's down-declaration (the leader's log
// line) to each affected notification (p50/p99/max), registrations/s, and node RSS.
//
//   node dist/bench/witness-fanout.js [--registrations 10000] [--out file]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { WitnessClient } from '../client/witness-client.js'
import { Cluster } from '../cluster/cluster.js'
import { waitUntil } from '../cluster/processes.js'

const CHANNELS_PER_NODE = 8
const REGISTER_CONCURRENCY = 256

function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))
    return line ? Math.round(Number(line.replace(/\D+/g, '')) / 1024) : -1
  } catch {
    return -1
  }
}

function quantiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN) * 10) / 10
  return { n: s.length, p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), maxMs: Math.round((s[s.length - 1] ?? NaN) * 10) / 10 }
}

function declaredDownMono(dir: string, leader: string, peer: string): number | null {
  for (const line of readFileSync(join(dir, 'logs', `${leader}.ndjson`), 'utf8').split('\n')) {
    if (!line.includes('node.declared.down')) continue
    const l = JSON.parse(line) as { event: string; peer: string; mono: number }
    if (l.event === 'node.declared.down' && l.peer === peer) return l.mono
  }
  return null
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { registrations: { type: 'string', default: '10000' }, out: { type: 'string' } } })
  const total = Number(values.registrations)
  const dir = mkdtempSync(join(tmpdir(), 'swlab-bench-fanout-'))
  const cluster = await Cluster.up({ dir, nodes: 3 })
  try {
    let status = await cluster.status()
    // node-1 must not be the leader, so that the declaration comes from a survivor's log.
    if (status.leader === 'node-1') {
      await cluster.stop('node-1')
      await cluster.start('node-1')
      status = await cluster.waitFor((s) => s.quorum && s.nodes.every((n) => n.serving), 15_000)
    }
    const creds = cluster.credentials()
    if (!creds) throw new Error('no credentials')
    const victimIp = cluster.nodeConfig('node-1').clientAddress
    const witnessNodes = ['node-2', 'node-3']
    const clients = witnessNodes.flatMap((id) =>
      Array.from({ length: CHANNELS_PER_NODE }, () => {
        const n = cluster.nodeConfig(id)
        return new WitnessClient(`${n.clientAddress}:${n.witnessPort}`, creds.users[0], { 'grpc.use_local_subchannel_pool': 1 })
      }),
    )
    const rssBefore = Object.fromEntries(status.nodes.map((n) => [n.id, rssMb(n.pid)]))

    // Register, each with one AsyncNotify outstanding.
    const keys: Array<{ client: WitnessClient; key: string }> = []
    let next = 0
    const registerStarted = performance.now()
    await Promise.all(
      Array.from({ length: REGISTER_CONCURRENCY }, async () => {
        while (next < total) {
          const i = next++
          const client = clients[i % clients.length]
          const r = await client.registerEx({ netName: 'SOFS', ipAddress: victimIp, clientComputerName: `bench-${i}`, keepAliveTimeoutS: 0 })
          if (r.result.code !== 0) throw new Error(`RegisterEx ${i}: ${r.result.name}`)
          keys.push({ client, key: r.key })
        }
      }),
    )
    const registerSeconds = (performance.now() - registerStarted) / 1000
    const notifiedAt: number[] = []
    const pending = keys.map(({ client, key }) =>
      client.asyncNotify(key, 120_000).then(
        (n) => {
          if (n.resourceChanges.some((c) => c.changeType === 0xff)) notifiedAt.push(performance.timeOrigin + performance.now())
        },
        () => undefined,
      ),
    )
    // Every AsyncNotify is outstanding on the server before the fault.
    const countPending = async () => {
      const s = await cluster.status()
      return s.witnessRegistrations
    }
    await waitUntil(async () => (await countPending()) >= total, 30_000, 100)
    await new Promise((r) => setTimeout(r, 500))
    const rssLoaded = Object.fromEntries(status.nodes.map((n) => [n.id, rssMb(cluster.pidOf(n.id))]))

    cluster.kill('node-1')
    await waitUntil(() => notifiedAt.length >= total, 60_000, 20)
    // The leader that declared node-1 down may be between leases when asked (a loaded machine):
    // ask until a quorate leader answers.
    let leader = ''
    await waitUntil(async () => (leader = (await cluster.status()).leader) !== '', 10_000, 50)
    if (leader === '') throw new Error('no quorate leader 10 s after the notifications')
    const declared = declaredDownMono(dir, leader, 'node-1')
    if (declared === null) throw new Error('no down-declaration found in the leader log')
    const delays = notifiedAt.map((t) => t - declared)
    // The server side: when each witness node applied the view and sent each notification
    // (its log lines), next to when the bench process received them. One bench process
    // receiving every notification is itself a bottleneck real clients do not share.
    const sentDelays: number[] = []
    const stages: Record<string, unknown> = {}
    for (const id of witnessNodes) {
      const lines = readFileSync(join(dir, 'logs', `${id}.ndjson`), 'utf8').split('\n').filter((l) => l.includes('"event":"witness.'))
      const parsed = lines.map((l) => JSON.parse(l) as { event: string; mono: number }).filter((l) => l.mono >= declared)
      const changed = parsed.find((l) => l.event === 'witness.node.changed')
      const sent = parsed.filter((l) => l.event === 'witness.notify.sent')
      for (const l of sent) sentDelays.push(l.mono - declared)
      stages[id] = {
        viewAppliedMs: changed ? Math.round(changed.mono - declared) : null,
        firstSentMs: sent.length ? Math.round(sent[0].mono - declared) : null,
        lastSentMs: sent.length ? Math.round(sent[sent.length - 1].mono - declared) : null,
      }
    }
    const rssAfter = Object.fromEntries(witnessNodes.map((id) => [id, rssMb(cluster.pidOf(id))]))
    void pending
    for (const c of clients) c.close()
    const result = {
      bench: 'witness-fanout',
      node: process.version,
      registrations: total,
      notified: notifiedAt.length,
      registrationsPerSecond: Math.round(total / registerSeconds),
      notificationSentAfterDeclaredDown: { ...quantiles(sentDelays), targetP99Ms: 1000, perNode: stages },
      notificationReceivedAfterDeclaredDown: quantiles(delays),
      rssMb: { idle: rssBefore, loaded: rssLoaded, afterNotify: rssAfter, targetMaxMb: 300 },
    }
    const json = JSON.stringify(result, null, 2)
    if (values.out) writeFileSync(values.out, `${json}\n`)
    process.stdout.write(`${json}\n`)
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench witness-fanout: ${err.message}\n`)
  process.exit(1)
})
