// Human-readable rendering of `cluster status`.
import type { ClusterStatus } from '../cluster/cluster.js'
import { formatBytes } from './byte-size.js'

export function formatStatus(s: ClusterStatus): string {
  const lines = [
    `cluster ${s.name} (${s.dir}) profile ${s.profile} (detection ${s.detectionMs} ms), csv mode ${s.csvMode}, flavour ${s.flavour}`,
    `quorum ${s.quorum ? 'yes' : 'NO'}  leader ${s.leader || '-'}  term ${s.term}  epoch ${s.epoch}  witness ${s.witness.kind}${s.witness.holder ? ` (held by ${s.witness.holder})` : ''}`,
    '',
    'NODE      STATE  PROCESS  PID      ADDRESS      ROLE        QUORUM  SERVING  CSVS          FAULTS',
  ]
  for (const n of s.nodes) {
    const faults = [
      n.partitionedFrom.length ? `cut from ${n.partitionedFrom.join(',')}` : '',
      Object.keys(n.delayMs).length ? `delay ${Object.values(n.delayMs)[0]} ms` : '',
      n.vote === 0 ? 'no vote' : '',
    ].filter(Boolean)
    lines.push(
      [
        n.id.padEnd(9),
        n.state.padEnd(6),
        n.process.padEnd(8),
        String(n.pid || '-').padEnd(8),
        n.address.padEnd(12),
        n.role.padEnd(11),
        (n.quorum ? 'yes' : 'no').padEnd(7),
        (n.serving ? 'yes' : 'no').padEnd(8),
        (n.servingCsvs.join(',') || '-').padEnd(13),
        faults.join('; ') || '-',
      ].join(' '),
    )
  }
  lines.push('', 'CSV       OWNER     SERVED BY  SHARE')
  for (const c of s.csvs) {
    const share = s.shares.find((x) => x.csv === c.name)?.name ?? '-'
    const volume = c.volume === 'loop' && c.sizeBytes !== undefined && c.freeBytes !== undefined ? `  (volume ${formatBytes(c.sizeBytes)}, ${formatBytes(c.freeBytes)} free)` : ''
    const fault = c.fault ? `  (storage fault: ${c.fault.kind})` : ''
    lines.push(`${c.name.padEnd(9)} ${(c.owner || '-').padEnd(9)} ${(c.servedBy.join(',') || '-').padEnd(10)} ${share}${c.redirected ? '  (redirected access)' : ''}${volume}${fault}`)
  }
  const luns = s.csvs.filter((c) => c.reservation)
  if (luns.length > 0) {
    // The storage array's persistent reservations (issue 17 item 2): who holds each LUN's WERO
    // reservation, whose keys are registered, and how many writes it refused (fenced nodes).
    lines.push('', 'LUN       WERO HOLDER  REFUSED WRITES  REGISTERED KEYS')
    for (const c of luns) {
      const r = c.reservation!
      lines.push(`${c.name.padEnd(9)} ${(r.holder ?? '-').padEnd(12)} ${String(r.refusedWrites).padEnd(15)} ${registeredKeys(r.registrations, s.nodes.map((n) => n.id))}`)
    }
  }
  lines.push(
    '',
    `witness service (${s.witnessProfile}): ${s.nodes.map((n) => `${n.id} ${n.witness.address}:${n.witness.port}`).join(', ')}; ${s.witnessRegistrations} registration(s)`,
  )
  const smb2 = s.nodes.filter((n) => n.smb2 != null)
  if (smb2.length > 0) lines.push(`SMB 2/3 (direct TCP): ${smb2.map((n) => `${n.id} ${n.smb2!.address}:${n.smb2!.port}`).join(', ')}`)
  const dce = s.nodes.filter((n) => n.dcerpc !== null)
  if (dce.length > 0) lines.push(`witness on DCE/RPC (ncacn_ip_tcp): ${dce.map((n) => `${n.id} ${n.dcerpc!.address}[${n.dcerpc!.port}]`).join(', ')}`)
  const metrics = s.nodes.filter((n) => n.metrics !== null)
  if (metrics.length > 0) lines.push(`metrics: ${metrics.map((n) => `${n.id} ${n.metrics}`).join(', ')}`)
  lines.push(`cluster functional level ${s.functionalLevel}`)
  if (s.network) {
    const where = s.network.namespace ? `network namespace ${s.network.namespace}` : "the host's loopback"
    const who = s.network.faults === 'nftables' ? 'nftables rules applied by the harness' : "the nodes' own peer transport (self-applied)"
    const delays = Object.entries(s.network.delayMs ?? {})
    const delayWho = s.network.delays === 'relay' ? "the harness's relay (nftables sends the peer links through it)" : "the nodes' own peer transport (self-applied)"
    lines.push(`network: ${where}; partitions and cuts: ${who}; delays: ${delayWho}${delays.length ? ` (${delays.map(([id, ms]) => `${id} ${ms} ms`).join(', ')})` : ''}`)
    for (const rule of s.network.rules) lines.push(`  rule: ${rule}`)
  }
  return lines.join('\n')
}

/** A LUN with more keys than this shows which nodes have none instead (64 nodes: 64 keys a LUN, on 64 LUNs); --json lists them all. */
const LUN_KEYS_LISTED_MAX = 8

function registeredKeys(registrations: ReadonlyArray<{ readonly node: string; readonly key: string }>, nodeIds: readonly string[]): string {
  if (registrations.length === 0) return '-'
  if (registrations.length <= LUN_KEYS_LISTED_MAX) return registrations.map((k) => `${k.node}=${k.key}`).join(' ')
  const registered = new Set(registrations.map((k) => k.node))
  const missing = nodeIds.filter((id) => !registered.has(id))
  return `${registrations.length} keys: ${missing.length === 0 ? 'every node' : `every node but ${missing.join(', ')}`} (--json lists them)`
}
