// `swlab report <dir>`: a self-contained HTML report of a run, rebuilt from its logs (nodes'
// pino lines, the clients' event lines), with an SVG timeline: per node its processes (a gap is
// a kill), when it served, its leader terms and partitions; per CSV which node served it; per
// client its registrations, notifications and failovers (the IO pause as a bar). No script and
// no network: it opens anywhere.
import { readFileSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { backupEventsPath, clientEventsPath, faultEventsPath, readLogLines, type LogLine } from '../../cluster/run-logs.js'

interface Span {
  readonly from: number
  readonly to: number
  readonly label: string
}

interface Mark {
  readonly at: number
  readonly label: string
  readonly kind: string
}

export interface RunModel {
  readonly startMono: number
  readonly endMono: number
  readonly nodes: ReadonlyArray<{ id: string; processes: Span[]; serving: Span[]; leading: Span[]; paused: Span[]; marks: Mark[]; counts: Record<string, number> }>
  readonly csvs: ReadonlyArray<{ name: string; served: Span[] }>
  /** Per client: failovers (pauses), marks, and the data node it was connected to (label: node id). */
  readonly clients: ReadonlyArray<{ name: string; pauses: Span[]; marks: Mark[]; dataNodes: Span[] }>
  readonly backups: ReadonlyArray<BackupRun>
}

export interface BackupRun {
  readonly vm: string
  readonly from: number
  readonly to: number
  readonly ok: boolean
  readonly kind: string
  readonly method: string
  readonly bytesRead: number
  readonly diskBytes: number
  readonly bytesStored: number
  readonly nodesServed: readonly string[]
  readonly detail: string
}

/** Tables a caller adds to the report (the demo's summary, the seed-000 table). */
export interface ReportTable {
  readonly title: string
  readonly header: readonly string[]
  readonly rows: ReadonlyArray<readonly string[]>
}

// array.ndjson: the storage array's own log (issue 17 item 2), not a node's lane.
const LOG_FILES_NOT_NODES = new Set(['clients.ndjson', 'backups.ndjson', 'faults.ndjson', 'array.ndjson'])

const COUNTED = ['view.committed', 'node.declared.down', 'csv.failover', 'witness.notify.sent', 'smb.session.reclaimed', 'peer.silent'] as const

/** Reads every log of a run folder (a cluster's `logs/` or its parent). */
export function readRun(dir: string): RunLogs {
  const logDir = safeList(join(dir, 'logs')).length > 0 ? join(dir, 'logs') : dir
  // The per-run logs are named as in a cluster folder; a bare logs folder has them at its top.
  const inLogDir = (path: string) => join(logDir, basename(path))
  const nodes = new Map<string, LogLine[]>()
  for (const name of safeList(logDir).filter((n) => n.endsWith('.ndjson') && !LOG_FILES_NOT_NODES.has(n) && !n.startsWith('host-'))) {
    nodes.set(name.replace(/\.ndjson$/, ''), readLogLines(join(logDir, name)))
  }
  return { nodes, nodeOfIp: readNodeAddresses(dir), clients: readLogLines(inLogDir(clientEventsPath(dir))), backups: readLogLines(inLogDir(backupEventsPath(dir))), faults: readLogLines(inLogDir(faultEventsPath(dir))) }
}

export interface RunLogs {
  readonly nodes: ReadonlyMap<string, readonly LogLine[]>
  /** Client-facing IP to node id, from the cluster's config when the folder has one. */
  readonly nodeOfIp?: ReadonlyMap<string, string>
  readonly clients: readonly LogLine[]
  readonly backups?: readonly LogLine[]
  readonly faults?: readonly LogLine[]
}

/** The cluster.json of a cluster folder (or of the parent of its logs folder), if any. */
function readNodeAddresses(dir: string): Map<string, string> {
  for (const path of [join(dir, 'cluster.json'), join(dir, '..', 'cluster.json')]) {
    try {
      const config = JSON.parse(readFileSync(path, 'utf8')) as { nodes?: Array<{ id?: unknown; clientAddress?: unknown }> }
      return new Map((config.nodes ?? []).filter((n) => typeof n.id === 'string' && typeof n.clientAddress === 'string').map((n) => [String(n.clientAddress), String(n.id)]))
    } catch {
      continue
    }
  }
  return new Map()
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

export function buildRunModel(run: RunLogs): RunModel {
  const backupLines = run.backups ?? []
  const faultLines = run.faults ?? []
  const all = [...[...run.nodes.values()].flat(), ...run.clients, ...faultLines, ...backupLines, ...backupLines.map((b) => ({ event: 'backup.start', mono: Number(b.startedMono) }))]
  // A loop, not Math.min(...all): a long chaos run has more lines than a call takes arguments.
  let startMono = all.length ? Infinity : 0
  let endMono = all.length ? -Infinity : 0
  for (const l of all) {
    startMono = Math.min(startMono, l.mono)
    endMono = Math.max(endMono, l.mono)
  }
  const csvSpans = new Map<string, Span[]>()
  const nodes = [...run.nodes.entries()]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(([id, lines]) => {
      const processes: Span[] = []
      const serving: Span[] = []
      const leading: Span[] = []
      const marks: Mark[] = []
      const counts: Record<string, number> = Object.fromEntries(COUNTED.map((e) => [e, 0]))
      let processFrom: number | null = null
      let last = startMono
      const kills = faultLines.filter((f) => f.node === id && f.event === 'fault.kill').map((f) => f.mono)
      // A process ends at its exit line, at a kill the harness logged after its last line, or
      // (still running when the logs end) at the end of the run.
      const endAfter = (lastMono: number, nextStart: number) => kills.find((k) => k >= lastMono && k <= nextStart) ?? lastMono
      let exited = false
      let servingFrom: number | null = null
      let leader: { from: number; term: number } | null = null
      const open = new Map<string, number>()
      const closeAll = (at: number) => {
        if (processFrom !== null) processes.push({ from: processFrom, to: at, label: 'process' })
        if (servingFrom !== null) serving.push({ from: servingFrom, to: at, label: 'serving' })
        if (leader) leading.push({ from: leader.from, to: at, label: `term ${leader.term}` })
        for (const [csv, from] of open) pushCsv(csv, { from, to: at, label: id })
        open.clear()
        processFrom = servingFrom = null
        leader = null
      }
      const pushCsv = (csv: string, span: Span) => csvSpans.set(csv, [...(csvSpans.get(csv) ?? []), span])
      for (const l of lines) {
        if (l.event in counts) counts[l.event]++
        // A large fan-out is logged as one line that counts its notifications.
        else if (l.event === 'witness.notify.batch' && typeof l.count === 'number') counts['witness.notify.sent'] += l.count
        switch (l.event) {
          case 'node.started':
            // A new process: the last one ended (killed) at its last line.
            closeAll(endAfter(last, l.mono))
            exited = false
            processFrom = l.mono
            break
          case 'lease.serving':
            servingFrom ??= l.mono
            break
          case 'lease.lost':
            if (servingFrom !== null) serving.push({ from: servingFrom, to: l.mono, label: 'serving' })
            servingFrom = null
            break
          case 'quorum.leader.elected':
            leader = { from: l.mono, term: Number(l.term) }
            marks.push({ at: l.mono, label: `leader, term ${String(l.term)}`, kind: 'leader' })
            break
          case 'quorum.leader.stepdown':
            if (leader) leading.push({ from: leader.from, to: l.mono, label: `term ${leader.term}` })
            leader = null
            break
          case 'csv.service.started':
            open.set(String(l.csv), l.mono)
            break
          case 'csv.service.stopped': {
            const from = open.get(String(l.csv))
            if (from !== undefined) pushCsv(String(l.csv), { from, to: l.mono, label: id })
            open.delete(String(l.csv))
            break
          }
          case 'node.declared.down':
            marks.push({ at: l.mono, label: `declared ${String(l.peer)} down (${String(l.reason)})`, kind: 'down' })
            break
          case 'net.faults.set':
            marks.push({ at: l.mono, label: `faults: ${JSON.stringify(l.partitionedFrom ?? l.faults ?? '')}`, kind: 'fault' })
            break
        }
        if (l.event === 'node.exit' || l.event === 'node.crash') exited = true
        last = l.mono
      }
      const killedLast = kills.find((k) => k >= last)
      closeAll(killedLast ?? (exited ? last : endMono))
      const paused: Span[] = []
      let pausedFrom: number | null = null
      for (const f of faultLines.filter((l) => l.node === id)) {
        if (f.event === 'fault.kill') marks.push({ at: f.mono, label: 'kill -9 (SIGKILL)', kind: 'fault' })
        // Partitions and cuts of a cluster in its own namespace: rules the harness applied, not the node.
        else if (f.event === 'fault.net') marks.push({ at: f.mono, label: `nftables: ${Array.isArray(f.rules) && f.rules.length > 0 ? f.rules.join('; ') : 'no rule'}`, kind: 'fault' })
        else if (f.event === 'fault.pause') pausedFrom ??= f.mono
        else if (f.event === 'fault.resume' && pausedFrom !== null) {
          paused.push({ from: pausedFrom, to: f.mono, label: 'paused (SIGSTOP)' })
          pausedFrom = null
        }
      }
      if (pausedFrom !== null) paused.push({ from: pausedFrom, to: endMono, label: 'paused (SIGSTOP)' })
      return { id, processes, serving, leading, paused, marks: marks.sort((a, b) => a.at - b.at), counts }
    })
  const byClient = new Map<string, LogLine[]>()
  for (const e of run.clients) byClient.set(String(e.client), [...(byClient.get(String(e.client)) ?? []), e])
  const nodeOf = (ip: unknown) => run.nodeOfIp?.get(String(ip)) ?? String(ip)
  const clients = [...byClient.entries()].map(([name, events]) => {
    const pauses: Span[] = []
    const marks: Mark[] = []
    const dataNodes: Span[] = []
    let failoverFrom: { at: number; cause: string } | null = null
    let connected: { at: number; node: string } | null = null
    const disconnect = (at: number) => {
      if (connected) dataNodes.push({ from: connected.at, to: at, label: connected.node })
      connected = null
    }
    const connect = (at: number, ip: unknown) => {
      const node = nodeOf(ip)
      if (connected?.node === node) return
      disconnect(at)
      connected = { at, node }
    }
    for (const e of events) {
      if (e.event === 'client.failover-start') {
        failoverFrom = { at: e.mono, cause: String(e.cause) }
        disconnect(e.mono)
      } else if (e.event === 'client.reconnected') {
        if (failoverFrom) pauses.push({ from: failoverFrom.at, to: e.mono, label: `${failoverFrom.cause} -> ${nodeOf(e.to)} (${Math.round(e.mono - failoverFrom.at)} ms)` })
        failoverFrom = null
        connect(e.mono, e.to)
      } else if (e.event === 'client.notified') marks.push({ at: e.mono, label: `notified (type ${String(e.type)})`, kind: 'notify' })
      else if (e.event === 'client.registered') {
        marks.push({ at: e.mono, label: `registered with ${nodeOf(e.witness)} for ${nodeOf(e.data)}`, kind: 'register' })
        connect(e.mono, e.data)
      } else if (e.event === 'client.stopped') disconnect(e.mono)
    }
    disconnect(endMono)
    return { name, pauses, marks, dataNodes }
  })
  const csvs = [...csvSpans.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true })).map(([name, served]) => ({ name, served }))
  const backups: BackupRun[] = backupLines.map((b) => {
    const ok = b.event === 'backup.done'
    const run = {
      vm: String(b.vm),
      from: Number(b.startedMono),
      to: b.mono,
      ok,
      kind: ok ? String(b.kind) : 'failed',
      method: ok ? String(b.method) : '-',
      bytesRead: Number(b.bytesRead ?? 0),
      diskBytes: Number(b.diskBytes ?? 0),
      bytesStored: Number(b.bytesStored ?? 0),
      nodesServed: Array.isArray(b.nodesServed) ? b.nodesServed.map(String) : [],
      detail: ok ? String(b.reason) : String(b.error),
    }
    return run
  })
  return { startMono, endMono, nodes, csvs, clients, backups }
}

/** Bytes as the report prints them (binary units). */
export function formatReportBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${bytes} B`
}

function compactBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${Math.round(value)}${units[unit]}`
}

function backupLabel(b: BackupRun): string {
  return b.ok ? `${b.vm}: ${b.kind} with ${b.method}, read ${formatReportBytes(b.bytesRead)} of ${formatReportBytes(b.diskBytes)}` : `${b.vm}: failed: ${b.detail}`
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7']

export function renderRunReport(model: RunModel, title: string, tables: readonly ReportTable[] = []): string {
  const width = 1100
  const left = 170
  const rowH = 22
  const span = Math.max(1, model.endMono - model.startMono)
  const x = (mono: number) => left + ((mono - model.startMono) / span) * (width - left - 10)
  const rows: string[] = []
  let y = 30
  const label = (text: string) => rows.push(`<text x="4" y="${y + 15}" class="l">${esc(text)}</text>`)
  const bar = (s: Span, color: string, h = rowH - 6, dy = 3) =>
    rows.push(`<rect x="${x(s.from).toFixed(1)}" y="${y + dy}" width="${Math.max(1, x(s.to) - x(s.from)).toFixed(1)}" height="${h}" fill="${color}"><title>${esc(s.label)} ${ms(s.from - model.startMono)}–${ms(s.to - model.startMono)}</title></rect>`)
  const mark = (m: Mark, color: string) =>
    rows.push(`<line x1="${x(m.at).toFixed(1)}" x2="${x(m.at).toFixed(1)}" y1="${y + 1}" y2="${y + rowH - 1}" stroke="${color}" stroke-width="2"><title>${esc(m.label)} at ${ms(m.at - model.startMono)}</title></line>`)
  for (const n of model.nodes) {
    label(n.id)
    for (const s of n.processes) bar(s, '#d9d9d9')
    for (const s of n.paused) bar(s, '#b07aa1', rowH - 6)
    for (const s of n.serving) bar(s, '#59a14f', 8, 7)
    for (const s of n.leading) bar(s, '#edc948', 4, 1)
    for (const m of n.marks) mark(m, m.kind === 'fault' ? '#e15759' : m.kind === 'down' ? '#b07aa1' : '#f28e2b')
    y += rowH
  }
  y += 8
  const nodeColor = new Map(model.nodes.map((n, i) => [n.id, COLORS[i % COLORS.length]]))
  for (const c of model.csvs) {
    label(c.name)
    for (const s of c.served) bar(s, nodeColor.get(s.label) ?? '#999')
    y += rowH
  }
  y += 8
  for (const c of model.clients) {
    label(c.name)
    for (const s of c.dataNodes) bar({ ...s, label: `data node ${s.label}` }, nodeColor.get(s.label) ?? '#999', 6, rowH - 9)
    for (const s of c.pauses) bar(s, '#e15759')
    for (const m of c.marks) mark(m, m.kind === 'notify' ? '#4e79a7' : '#76b7b2')
    y += rowH
  }
  y += 8
  for (const vm of [...new Set(model.backups.map((b) => b.vm))]) {
    label(`backup ${vm}`)
    for (const b of model.backups.filter((x) => x.vm === vm)) {
      bar({ from: b.from, to: b.to, label: backupLabel(b) }, !b.ok ? '#e15759' : b.method === 'none' ? '#f28e2b' : b.method === 'filter' ? '#4e79a7' : '#59a14f')
      // Short enough to fit a bar of a second or so; the hover title has the rest.
      rows.push(`<text x="${(x(b.from) + 2).toFixed(1)}" y="${y + 15}" class="b">${esc(b.ok ? `${b.kind === 'full' ? 'full' : b.method} ${compactBytes(b.bytesRead)}` : 'failed')}</text>`)
    }
    y += rowH
  }
  const ticks: string[] = []
  // Round tick steps (1, 2 or 5 times a power of ten ms), about ten across the run.
  const raw = span / 10
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(1, raw)))
  const tickMs = [1, 2, 5, 10].map((m) => m * magnitude).find((step) => step >= raw) ?? raw
  for (let i = 0; i * tickMs <= span; i++) {
    const at = model.startMono + i * tickMs
    ticks.push(`<line x1="${x(at)}" x2="${x(at)}" y1="24" y2="${y}" class="g"/><text x="${x(at)}" y="18" class="t">${ms(at - model.startMono)}</text>`)
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" role="img" aria-label="timeline">${ticks.join('')}${rows.join('')}</svg>`
  const nodeTable = model.nodes
    .map((n) => `<tr><td>${esc(n.id)}</td><td>${n.processes.length}</td><td>${n.leading.map((s) => esc(s.label)).join(', ') || '-'}</td>${COUNTED.map((e) => `<td>${n.counts[e]}</td>`).join('')}</tr>`)
    .join('')
  const clientTable = model.clients
    .flatMap((c) => c.pauses.map((p) => `<tr><td>${esc(c.name)}</td><td>${ms(p.from - model.startMono)}</td><td>${esc(p.label)}</td></tr>`))
    .join('')
  const backupTable = model.backups
    .map((b) => `<tr><td>${esc(b.vm)}</td><td>${ms(b.from - model.startMono)}</td><td>${ms(b.to - b.from)}</td><td>${esc(b.kind)}</td><td>${esc(b.method)}</td><td>${formatReportBytes(b.bytesRead)}</td><td>${formatReportBytes(b.diskBytes)}</td><td>${formatReportBytes(b.bytesStored)}</td><td>${esc(b.nodesServed.join(', ') || '-')}</td><td>${esc(b.detail)}</td></tr>`)
    .join('')
  const extra = tables
    .map((tb) => `<h2>${esc(tb.title)}</h2><table><tr>${tb.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${tb.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`)
    .join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;margin:20px;color:#222}table{border-collapse:collapse;margin:10px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
.l{font-size:12px}.b{font-size:10px;fill:#fff}.t{font-size:10px;text-anchor:middle;fill:#666}.g{stroke:#eee}</style></head><body>
<h1>${esc(title)}</h1>
<p>${ms(span)} of logs. Rows: nodes (grey: a process; green: serving; yellow: leader; marks: leadership, declarations, faults), CSVs (coloured by the node that served them), clients (the thin band: the data node, coloured as the CSV rows; red: from failover start to reconnect; blue: a witness notification), backups (green: rct, blue: filter, orange: none, red: failed). Purple on a node: paused. Hover for details.</p>
${svg}
${extra}
<h2>Nodes</h2><table><tr><th>node</th><th>processes</th><th>leader terms</th>${COUNTED.map((e) => `<th>${esc(e)}</th>`).join('')}</tr>${nodeTable}</table>
<h2>Client failovers</h2><table><tr><th>client</th><th>at</th><th>failover</th></tr>${clientTable || '<tr><td colspan="3">none</td></tr>'}</table>
<h2>Backups</h2><table><tr><th>VM</th><th>at</th><th>took</th><th>kind</th><th>method</th><th>read</th><th>disk</th><th>stored</th><th>served by</th><th>why</th></tr>${backupTable || '<tr><td colspan="10">none</td></tr>'}</table>
</body></html>
`
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}
