// What `swlab demo` measured, as one object: the terminal's summary table, `--json`, the
// report's tables and the demo's test all read this, so they cannot disagree.
import type { MatrixRow } from '../client/backup/backup-matrix.js'
import type { ReportTable } from '../tools/report/run-report.js'
import { formatBytes } from './byte-size.js'

export interface DemoBackup {
  readonly kind: string
  readonly method: string
  readonly bytesRead: number
  readonly diskBytes: number
  readonly durationMs: number
  readonly reason: string
}

export interface DemoSummary {
  readonly clusterDir: string
  readonly reportPath: string
  readonly upMs: number
  readonly registration: { readonly client: string; readonly dataNode: string; readonly witnessNode: string; readonly interfaces: number }
  readonly fullBackup: DemoBackup
  readonly rctIncremental: DemoBackup
  readonly kill: {
    readonly node: string
    /** From the kill to the first witness notification a client received (null: none arrived). */
    readonly notifiedAfterMs: number | null
    readonly clientFailoverMs: number
    /** From the client's last write acknowledged before the kill to its first one after. */
    readonly ioPauseMs: number
    readonly vmStorageFailoverMs: number | null
    /** The longest wait between two guest writes of vm-1 from the kill until the backup ended. */
    readonly vmGuestLongestGapMs: number
    readonly backupDuringKill: DemoBackup
  }
  readonly clientMove: { readonly client: string; readonly from: string; readonly to: string; readonly moveMs: number; readonly ioPauseMs: number | null }
  readonly partition: { readonly node: string; readonly quorumLostMs: number; readonly clientFailoverMs: number | null }
  readonly thirdParty: MatrixRow
  readonly seed000: readonly MatrixRow[]
  readonly writes: ReadonlyArray<{ readonly client: string; readonly acknowledged: number; readonly lost: number; readonly failovers: number }>
  readonly verify: { readonly points: number; readonly passed: boolean; readonly problems: readonly string[] }
  /** Times two nodes served one CSV at once, from the nodes' serving logs (none expected). */
  readonly servingOverlaps: readonly string[]
  /** `--pcap`: the capture's file (complete once the cluster is down) and the tshark command that reads it. */
  readonly capture?: DemoCapture
}

export interface DemoCapture {
  readonly path: string
  /** How the demo's clients protected their witness calls: integrity leaves the stubs readable. */
  readonly witnessAuthLevel: 'integrity' | 'privacy'
  /** tshark with the decode-as options of the cluster's ports (and the NTLMSSP password for sealed calls). */
  readonly tshark: string
  /** The same, showing only the failover's frames: AsyncNotify, SESSION_SETUP with PreviousSessionId, DH2C. */
  readonly tsharkFailover: string
}

const ms = (value: number | null): string => (value === null ? '-' : `${Math.round(value)} ms`)

function backupText(b: DemoBackup): string {
  return `${b.method}: read ${formatBytes(b.bytesRead)} of ${formatBytes(b.diskBytes)} in ${ms(b.durationMs)}`
}

/** The summary as rows of (what, figure). */
export function summaryRows(s: DemoSummary): Array<[string, string]> {
  const k = s.kill
  return [
    ['cluster up (4 nodes, file-share witness) to quorate', ms(s.upMs)],
    [`(a) ${s.registration.client}: data node / witness node`, `${s.registration.dataNode} / ${s.registration.witnessNode} (of ${s.registration.interfaces} interfaces)`],
    ['(b) full backup of vm-1', backupText(s.fullBackup)],
    ['(b) incremental backup of vm-1', backupText(s.rctIncremental)],
    [`(c) kill -9 of ${k.node}: first witness notification`, ms(k.notifiedAfterMs)],
    [`(c) client failover / IO pause`, `${ms(k.clientFailoverMs)} / ${ms(k.ioPauseMs)}`],
    ['(c) VM storage failover on hv-1 / guest IO pause', `${ms(k.vmStorageFailoverMs)} / ${ms(k.vmGuestLongestGapMs)}`],
    ['(c) backup through the kill', backupText(k.backupDuringKill)],
    [`(d) client move ${s.clientMove.client} ${s.clientMove.from} -> ${s.clientMove.to}`, `${ms(s.clientMove.moveMs)} (IO pause ${ms(s.clientMove.ioPauseMs)})`],
    [`(e) partition: ${s.partition.node} lost quorum, CSVs served elsewhere`, `${ms(s.partition.quorumLostMs)} (client failover ${ms(s.partition.clientFailoverMs)})`],
    [`(f) third-party SMB incremental (table says ${s.thirdParty.tableSays})`, `${s.thirdParty.method}: read ${formatBytes(s.thirdParty.bytesRead)} for ${formatBytes(s.thirdParty.bytesChanged)} changed`],
    ...s.writes.map((w): [string, string] => [`writes of ${w.client} (failovers ${w.failovers})`, `${w.acknowledged} acknowledged, ${w.lost} lost`]),
    ['restore points verified', `${s.verify.points} ${s.verify.passed ? 'passed' : 'FAILED'}`],
    ['CSVs served by two nodes at once (serving logs)', s.servingOverlaps.length === 0 ? 'never' : `${s.servingOverlaps.length}: ${s.servingOverlaps[0]}`],
  ]
}

export function formatSummary(s: DemoSummary): string {
  const rows = summaryRows(s)
  const width = Math.max(...rows.map(([what]) => what.length))
  return rows.map(([what, figure]) => `  ${what.padEnd(width)}  ${figure}`).join('\n')
}

export function seed000Header(): string[] {
  return ['row', 'hosts', 'VM level', 'cluster level', 'storage', 'table says', 'method', 'bytes read', 'bytes changed', 'verified']
}

export function seed000Cells(r: MatrixRow): string[] {
  return [String(r.row), r.hosts, r.vmLevel, r.clusterLevel, r.flavour, r.tableSays, r.method, formatBytes(r.bytesRead), formatBytes(r.bytesChanged), r.verified ? 'yes' : 'NO']
}

export function formatSeed000(rows: readonly MatrixRow[]): string {
  const cells = [seed000Header(), ...rows.map(seed000Cells)]
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  return cells.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`).join('\n')
}

export function reportTables(s: DemoSummary): ReportTable[] {
  return [
    { title: 'Demo summary', header: ['step', 'measured'], rows: summaryRows(s) },
    { title: "Seed 000's table, measured (1 % of each disk changed)", header: seed000Header(), rows: s.seed000.map(seed000Cells) },
  ]
}
