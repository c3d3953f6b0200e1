// A third-party client keeps its open file through the death of the node it used (issue 15,
// acceptance): impacket's SMB3 class (test/helpers/impacket-cross-node.py) opens a file on a CA
// share through node A with a persistent DH2Q and writes; A is killed (SIGKILL) while the script
// still holds its connection; the script reconnects through another node with PreviousSessionId,
// takes the handle back with DH2C, reads the same bytes and writes again. Another impacket client
// cannot open the file while the handle is preserved (FILE_NOT_AVAILABLE, MS-SMB2 3.3.5.9), nor
// while it is held again (SHARING_VIOLATION: it was opened with no sharing), and can once closed.
// Twice on one 3-node cluster: the node killed is the client's only (another owns the CSV), then
// (after it restarted) the client's node that owns the CSV, which moves.
import t, { type Test } from 'tap'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Cluster, ClusterStatus } from '../../cluster/cluster.js'
import { packageRoot } from '../../proto/loader.js'
import { PYTHON, impacketMissing } from '../../tools/smb-conformance/impacket.js'
import { upCluster } from '../helpers/cluster-fixture.js'

const SCRIPT = join(packageRoot(), 'test', 'helpers', 'impacket-cross-node.py')
/** Long enough for a login and 64 KiB each way on a loaded machine; a hung script fails the test, not the run. */
const COMMAND_TIMEOUT_MS = 60_000
const FAILOVER_TIMEOUT_MS = 30_000

interface Answer {
  readonly ok: boolean
  readonly cmd: string
  readonly error?: string
  readonly trace?: string
  readonly [key: string]: unknown
}

/** The script as a process: one JSON command in, one JSON line out. Killed by the test's teardown. */
class ImpacketScript {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly lines: string[] = []
  private waiting: ((line: string | null) => void) | null = null
  private exited = false
  stderr = ''

  constructor(t: Test, args: readonly string[]) {
    this.child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000)
    })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = null
        w(line)
      } else this.lines.push(line)
    })
    this.child.on('exit', () => {
      this.exited = true
      this.waiting?.(null)
      this.waiting = null
    })
    t.teardown(() => {
      if (!this.exited) this.child.kill('SIGKILL')
    })
  }

  async send(cmd: string, fields: Record<string, unknown> = {}): Promise<Answer> {
    if (this.exited) throw new Error(`impacket-cross-node.py exited: ${this.stderr}`)
    this.child.stdin.write(`${JSON.stringify({ cmd, ...fields })}\n`)
    const line = this.lines.shift() ?? (await this.nextLine(cmd))
    if (line === null) throw new Error(`impacket-cross-node.py exited during ${cmd}: ${this.stderr}`)
    return JSON.parse(line) as Answer
  }

  private nextLine(cmd: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null
        reject(new Error(`impacket-cross-node.py did not answer ${cmd} within ${COMMAND_TIMEOUT_MS} ms`))
      }, COMMAND_TIMEOUT_MS)
      this.waiting = (line) => {
        clearTimeout(timer)
        resolve(line)
      }
    })
  }
}

function at(cluster: Cluster, id: string): { host: string; port: number } {
  const n = cluster.nodeConfig(id)
  return { host: n.clientAddress, port: n.smb2Port! }
}

function described(a: Answer): string {
  return a.ok ? JSON.stringify(a) : `${a.error}\n${a.trace ?? ''}`
}

/** Probes (each a new impacket client) until one answers want, or the deadline; the answers seen. */
async function probeUntil(script: ImpacketScript, where: { host: string; port: number }, want: string, timeoutMs = 15_000): Promise<string[]> {
  const seen: string[] = []
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const a = await script.send('probe', where)
    const status = a.ok ? String(a.status) : String(a.error)
    if (seen[seen.length - 1] !== status) seen.push(status)
    if (status === want || Date.now() > deadline) return seen
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Open through `client`, kill `victim`, wait for `csv` to be served, reconnect through `via`; every check. */
async function scenario(t: Test, cluster: Cluster, o: { share: string; csv: string; client: string; victim: string; via: (owner: string) => string; file: string }) {
  const creds = cluster.credentials()!.users[0]
  const script = new ImpacketScript(t, ['--user', creds.user, '--password', creds.password, '--share', o.share, '--file', o.file])
  const opened = await script.send('open', at(cluster, o.client))
  t.ok(opened.ok, `opened through ${o.client} with a persistent DH2Q and wrote: ${described(opened)}`)
  if (!opened.ok) return
  t.equal(opened.dialect, '0x0302', 'at 3.0.2')
  t.equal(opened.persistent, true, 'the handle is persistent (SMB2_DHANDLE_FLAG_PERSISTENT in the DH2Q response)')

  const killedAtMs = Date.now()
  cluster.kill(o.victim)
  const s = await cluster.waitFor(
    (st) => st.quorum && st.nodes.find((n) => n.id === o.victim)?.state === 'down' && st.csvs.some((c) => c.name === o.csv && c.servedBy.length === 1 && c.servedBy[0] !== o.victim),
    FAILOVER_TIMEOUT_MS,
  )
  const owner = s.csvs.find((c) => c.name === o.csv)!.owner
  const via = o.via(owner)
  t.comment(`${o.victim} killed; ${o.csv} served by ${owner} after ${Date.now() - killedAtMs} ms; the client reconnects through ${via}`)

  const reconnected = await script.send('reconnect', at(cluster, via))
  t.ok(reconnected.ok, `NEGOTIATE, SESSION_SETUP with PreviousSessionId ${String(reconnected.previousSessionId)} and TREE_CONNECT through ${via} in ${String(reconnected.ms)} ms: ${described(reconnected)}`)
  if (!reconnected.ok) return
  // The reclaim's fan-out preserves the open at the owner (at once, or when the view marks the node down).
  const preserved = await probeUntil(script, at(cluster, via), 'STATUS_FILE_NOT_AVAILABLE')
  t.equal(preserved[preserved.length - 1], 'STATUS_FILE_NOT_AVAILABLE', `another client cannot open the file while the handle is preserved (answers seen: ${preserved.join(', ')})`)

  const reclaimed = await script.send('reclaim')
  t.comment(`kill to DH2C answered and bytes checked: ${Date.now() - killedAtMs} ms (status polls and probes included)`)
  t.ok(reclaimed.ok, `DH2C through ${via}: ${described(reclaimed)}`)
  if (!reclaimed.ok) return
  t.equal(reclaimed.samePersistentId, true, 'the same FileId.Persistent')
  t.equal(reclaimed.sameBytes, true, `the ${String(opened.bytes)} bytes written through ${o.client} read back through ${via}`)
  t.equal(reclaimed.wroteAgain, true, 'a write after the reconnect reads back')
  const held = await script.send('probe', at(cluster, via))
  t.equal(held.ok ? held.status : held.error, 'STATUS_SHARING_VIOLATION', 'reclaimed, the handle (no sharing) keeps others out')
  const closed = await script.send('close')
  t.ok(closed.ok, `closed: ${described(closed)}`)
  const free = await script.send('probe', at(cluster, via))
  t.equal(free.ok ? free.status : free.error, 'STATUS_SUCCESS', 'closed, the file opens for others')
  await script.send('quit').catch(() => undefined)
}

const missing = impacketMissing()

t.test('impacket keeps a persistent handle through the kill of its node, reconnecting elsewhere', { skip: missing ?? false }, async (t) => {
  const cluster = await upCluster(t, { nodes: 3, clientNet: '127.0.86' })
  const settled = (st: ClusterStatus) => st.quorum && st.nodes.every((n) => n.state === 'up') && st.csvs.every((c) => c.servedBy.length === 1)
  let s = await cluster.waitFor(settled, FAILOVER_TIMEOUT_MS)
  const ids = s.nodes.map((n) => n.id)

  await t.test("the client's node dies; another node owns the CSV", async (t) => {
    const csv = s.csvs[0]
    const share = s.shares.find((x) => x.csv === csv.name)!.name
    const [client, via] = ids.filter((id) => id !== csv.owner)
    await scenario(t, cluster, { share, csv: csv.name, client, victim: client, via: () => via, file: 'impacket-node-killed.bin' })
    await cluster.start(client)
    s = await cluster.waitFor(settled, FAILOVER_TIMEOUT_MS)
  })

  await t.test("the client's node owns the CSV and dies; the CSV moves", async (t) => {
    const csv = s.csvs.find((c) => c.owner !== '')!
    const share = s.shares.find((x) => x.csv === csv.name)!.name
    const victim = csv.owner
    // Through the survivor that did not take the CSV over: the DH2C is forwarded to the new owner.
    const via = (owner: string) => ids.find((id) => id !== victim && id !== owner) ?? owner
    await scenario(t, cluster, { share, csv: csv.name, client: victim, victim, via, file: 'impacket-owner-killed.bin' })
  })
})
