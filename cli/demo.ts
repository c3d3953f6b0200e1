// `swlab demo`: the cluster story in under a minute with real processes. A 3-node cluster
// comes up; the leader is killed (-9) and the survivors take over its CSVs; a CSV owner is
// frozen (SIGSTOP) and loses its CSVs after the detection time; it resumes and rejoins; a
// partition costs one node its quorum and heals. Every step prints what it measured.
import { Cluster, type ClusterStatus } from '../cluster/cluster.js'
import { formatStatus } from './format-status.js'

export interface DemoOptions {
  readonly dir: string
  readonly keep: boolean
  readonly out?: (line: string) => void
}

export async function runDemo(opts: DemoOptions): Promise<void> {
  const say = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`))
  const steps = 6
  let step = 0
  const progress = (title: string) => say(`\n[${++step}/${steps}] ${title}`)
  const summary: Array<[string, string]> = []

  progress('Starting a 3-node cluster (fast profile: heartbeat 250 ms x 4)')
  try {
    Cluster.open(opts.dir)
      .down()
      .catch(() => undefined)
  } catch {
    // No earlier demo cluster in this folder.
  }
  const t0 = performance.now()
  const cluster = await Cluster.up({ dir: opts.dir, nodes: 3, profile: 'fast', witness: 'file' })
  const upMs = Math.round(performance.now() - t0)
  let status = await cluster.status()
  say(`quorate after ${upMs} ms\n`)
  say(indent(formatStatus(status)))
  summary.push(['cluster up (3 nodes) to quorate', `${upMs} ms`])
  try {
    progress(`Hard kill (SIGKILL) of the leader ${status.leader}`)
    const victim = status.leader
    const victimCsvs = status.csvs.filter((c) => c.owner === victim).map((c) => c.name)
    const killAt = performance.now()
    cluster.kill(victim)
    status = await cluster.waitFor(
      (s) => s.leader !== '' && s.leader !== victim && victimCsvs.every((c) => s.csvs.some((x) => x.name === c && x.servedBy.length === 1 && x.servedBy[0] !== victim)),
      15_000,
    )
    const takeoverMs = Math.round(performance.now() - killAt)
    say(`new leader ${status.leader} (term ${status.term}); ${victimCsvs.join(', ')} now served by ${victimCsvs.map((c) => status.csvs.find((x) => x.name === c)?.servedBy[0]).join(', ')}`)
    say(`takeover in ${takeoverMs} ms: the refused connection told the survivors at once`)
    summary.push([`kill -9 of leader ${victim} to CSVs served elsewhere`, `${takeoverMs} ms`])
    await cluster.start(victim)
    status = await cluster.waitFor((s) => s.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
    say(`${victim} restarted and rejoined (epoch ${status.epoch})`)

    progress('Freeze (SIGSTOP) a CSV owner: silence must wait out the lease')
    const frozen = status.nodes.find((n) => n.id !== status.leader && n.servingCsvs.length > 0)?.id ?? status.nodes[1].id
    const frozenCsvs = status.csvs.filter((c) => c.owner === frozen).map((c) => c.name)
    const pauseAt = performance.now()
    cluster.pause(frozen)
    status = await cluster.waitFor((s) => frozenCsvs.every((c) => s.csvs.some((x) => x.name === c && x.owner !== frozen && x.servedBy.length === 1)), 15_000)
    const pauseMs = Math.round(performance.now() - pauseAt)
    say(`${frozenCsvs.join(', ')} moved after ${pauseMs} ms (detection floor ${status.detectionMs} ms)`)
    summary.push([`SIGSTOP of ${frozen} to CSVs served elsewhere`, `${pauseMs} ms (floor ${status.detectionMs} ms)`])

    progress(`Resume ${frozen}: its lease is stale, it serves nothing until it rejoins`)
    cluster.resume(frozen)
    const resumedAt = performance.now()
    status = await cluster.waitFor((s) => s.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
    say(`${frozen} rejoined after ${Math.round(performance.now() - resumedAt)} ms; CSV owners: ${owners(status)}`)

    progress('Partition node-1 / the rest: node-1 loses its quorum')
    await cluster.partition([['node-1'], status.nodes.filter((n) => n.id !== 'node-1').map((n) => n.id)])
    const cutAt = performance.now()
    status = await cluster.waitFor((s) => {
      const n1 = s.nodes.find((n) => n.id === 'node-1')
      return s.quorum && !!n1 && !n1.quorum && !n1.serving && s.csvs.every((c) => c.servedBy.length === 1 && c.servedBy[0] !== 'node-1')
    }, 15_000)
    const cutMs = Math.round(performance.now() - cutAt)
    say(`node-1 has no quorum and serves nothing; the majority (leader ${status.leader}) serves every CSV (${cutMs} ms)`)
    summary.push(['partition node-1 / others to majority serving all CSVs', `${cutMs} ms`])
    await cluster.heal()
    status = await cluster.waitFor((s) => s.nodes.every((n) => n.state === 'up' && n.serving), 15_000)
    say(`healed: node-1 is back (epoch ${status.epoch})`)

    progress('Summary')
    for (const [what, value] of summary) say(`  ${what.padEnd(58)} ${value}`)
    say(`  logs: ${cluster.dir}/logs/*.ndjson`)
  } finally {
    if (opts.keep) {
      say(`\ncluster left running in ${cluster.dir} (swlab cluster down --dir ${cluster.dir})`)
      cluster.closeAdmins()
    } else {
      await cluster.down()
      say('\ncluster stopped; no process left behind')
    }
  }
}

function owners(s: ClusterStatus): string {
  return s.csvs.map((c) => `${c.name}=${c.owner || '-'}`).join(' ')
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
