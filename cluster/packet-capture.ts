// Loopback packet capture with Wireshark's dumpcap, so that a run opens in Wireshark with
// SMB2 and WITNESS decoded (issue 14, item 8). Capturing on `lo` needs root (or dumpcap's
// CAP_NET_RAW); a missing dumpcap or a refused capture is one clear line.
//
// SMB2 and DCE/RPC on ports other than 445 and 135 are not recognised by port: the capture
// comment and decodeAsArgs() carry the `-d tcp.port==PORT,nbss` (SMB over direct TCP) and
// `-d tcp.port==PORT,dcerpc` options that tshark and Wireshark need. (On such a port tshark's
// NBSS reads NetBIOS's 17-bit length, so an SMB2 message over 128 KiB shows as malformed
// there: a tshark limit, not a wire error; on 445 it reads the 24-bit direct-TCP length.)
//
// Completeness: the kernel hands captured packets to dumpcap in blocks, so a capture stopped
// right after the last exchange loses its end. dumpcap writes to its stdout (`-w -`, the
// capture file opened for it), which it flushes after every packet; stopping first makes one
// marker connection to a captured port and waits until the marker is in the file, so that
// everything sent before it is too.
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import { inNamespace } from './network-namespace.js'

export class CaptureError extends Error {}

/** What a capture records, and how its ports decode. */
export interface CaptureSpec {
  /**
   * The servers whose traffic is recorded: each group's addresses with that group's listening
   * ports (one group per node). A packet is captured when its source or its destination is one
   * of them; an address and a port of two different groups do not pair.
   */
  readonly servers: readonly CaptureServer[]
  /** Ports to decode as something tshark does not guess from the port number. */
  readonly decodeAs: readonly { readonly port: number; readonly protocol: 'nbss' | 'dcerpc' | 'http2' }[]
}

export interface CaptureServer {
  readonly hosts: readonly string[]
  readonly ports: readonly number[]
}

export interface CaptureOptions {
  readonly out: string
  readonly spec: CaptureSpec
  /** Stop by itself after this many seconds (dumpcap -a duration:N). */
  readonly seconds?: number
  /** Where dumpcap's own messages go (it is detached: no terminal to write to). */
  readonly logPath: string
  readonly iface?: string
  readonly startTimeoutMs?: number
  /** Capture on lo of this network namespace (a cluster's own, `cluster up --netns`). */
  readonly namespace?: string
}

export interface RunningCapture {
  readonly pid: number
  readonly out: string
  /** What identifies this process in /proc/PID/cmdline before it is signalled. */
  readonly markers: readonly string[]
}

/** How long one probe connection is looked for in a starting capture before the next is made. */
const PROBE_INTERVAL_MS = 200

/** dumpcap's kernel capture buffer (-B), in MiB. */
const CAPTURE_BUFFER_MIB = 64

export function dumpcapPath(): string | null {
  for (const path of ['/usr/bin/dumpcap', '/usr/local/bin/dumpcap', '/usr/sbin/dumpcap']) if (existsSync(path)) return path
  const r = spawnSync('dumpcap', ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? 'dumpcap' : null
}

/** Why a capture cannot run here, in one line; null when it can be tried. */
export function captureProblem(): string | null {
  if (!dumpcapPath()) return 'dumpcap is not installed (apt-get install tshark)'
  if (process.getuid?.() !== 0) return 'capturing loopback traffic needs root (dumpcap on lo); run as root or give dumpcap CAP_NET_RAW'
  return null
}

/**
 * A BPF filter for the spec: TCP to or from one of its servers' endpoints. Host and port are
 * matched in the same direction, not as `host H and port P`: every cluster on this machine
 * uses the same 127.0.1.x/127.0.2.x addresses, and another run's connection whose ephemeral
 * port happened to equal one of ours would otherwise be captured and decoded as ours (seen
 * under a full test run: a stranger's stream decoded as DCE/RPC, "malformed").
 */
export function captureFilter(spec: CaptureSpec): string {
  const servers = spec.servers.filter((s) => s.hosts.length > 0 && s.ports.length > 0)
  if (servers.length === 0) throw new CaptureError('nothing to capture: no hosts or no ports')
  const either = (values: readonly (string | number)[], primitive: string) =>
    [...new Set(values)].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : 0)).map((v) => `${primitive} ${v}`).join(' or ')
  const side = (s: CaptureServer, dir: 'src' | 'dst') => `((${either(s.hosts, `${dir} host`)}) and (${either(s.ports, `${dir} port`)}))`
  return `tcp and (${servers.flatMap((s) => [side(s, 'src'), side(s, 'dst')]).join(' or ')})`
}

/** tshark/Wireshark options that decode the spec's ports: `-d tcp.port==P,nbss` … */
export function decodeAsArgs(spec: CaptureSpec): string[] {
  return spec.decodeAs.flatMap((d) => ['-d', `tcp.port==${d.port},${d.protocol}`])
}

/**
 * Starts dumpcap detached and returns once it is capturing (it says so on stderr, and a probe
 * connection is in the file), so that nothing sent after this returns is missed. Throws
 * CaptureError with one line otherwise.
 */
export async function startCapture(opts: CaptureOptions): Promise<RunningCapture> {
  const problem = captureProblem()
  if (problem) throw new CaptureError(problem)
  const out = resolve(opts.out)
  mkdirSync(dirname(out), { recursive: true })
  mkdirSync(dirname(opts.logPath), { recursive: true })
  // The comment names the file: it is also what identifies this dumpcap in /proc later.
  const comment = `smb-witness-lab capture into ${out}; decode with: tshark -r FILE ${decodeAsArgs(opts.spec).join(' ')}`
  const args = [
    '-i',
    opts.iface ?? 'lo',
    '-f',
    captureFilter(opts.spec),
    '-n',
    // A 64 MiB kernel buffer (the default is 2 MiB): on a loaded machine dumpcap falls behind
    // while backups move 1 MiB READs over loopback, and a dropped segment leaves tshark an
    // HTTP/2 or SMB2 stream it cannot follow (the demo's capture then had a gRPC frame in error).
    '-B',
    String(CAPTURE_BUFFER_MIB),
    '-w',
    '-',
    '--capture-comment',
    comment,
    ...(opts.seconds !== undefined ? ['-a', `duration:${opts.seconds}`] : []),
  ]
  const file = openSync(out, 'w')
  const log = openSync(opts.logPath, 'w')
  const [command, ...argv] = opts.namespace !== undefined ? inNamespace(opts.namespace, [dumpcapPath()!, ...args]) : [dumpcapPath()!, ...args]
  const child = spawn(command, argv, { detached: true, stdio: ['ignore', file, log] })
  closeSync(file)
  closeSync(log)
  if (child.pid === undefined) throw new CaptureError('could not start dumpcap')
  const pid = child.pid
  let exit: string | null = null
  child.once('exit', (code, signal) => (exit = `exited with ${signal ?? `code ${code}`}`))
  child.unref()
  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000)
  for (;;) {
    const said = readText(opts.logPath)
    if (/Capturing on/.test(said)) break
    if (exit !== null || Date.now() > deadline) {
      if (exit === null) killQuietly(pid, 'SIGKILL')
      const last = said.trim().split('\n').filter(Boolean).pop() ?? ''
      throw new CaptureError(`dumpcap ${exit ?? 'did not start capturing in time'}${last ? `: ${last}` : ''}`)
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  // dumpcap says "Capturing on" before it opens the interface (dumpcap.c prints the line in
  // main() and only then calls capture_loop_start), so a session begun right after could be
  // missed in part (seen in CI: the first smbclient session of the tshark test was absent). A
  // probe connection to a captured endpoint, once it is in the file, proves the capture live;
  // one made too early is never recorded, so a new one every PROBE_INTERVAL_MS. Inside a
  // network namespace the probe cannot be made from here; there the line is all.
  const probe = opts.namespace === undefined ? probeEndpoint(opts.spec) : null
  while (probe && !(await syncCapture({ out }, probe, PROBE_INTERVAL_MS))) {
    if (exit !== null || Date.now() > deadline) {
      if (exit === null) killQuietly(pid, 'SIGKILL')
      throw new CaptureError(`dumpcap ${exit ?? 'did not record a probe connection in time'} (to ${probe.host}:${probe.port})`)
    }
  }
  return { pid, out, markers: ['dumpcap', `capture into ${out};`] }
}

/** The first captured host and port: where a probe connection is recorded. */
function probeEndpoint(spec: CaptureSpec): { host: string; port: number } | null {
  const server = spec.servers.find((s) => s.hosts.length > 0 && s.ports.length > 0)
  return server ? { host: server.hosts[0], port: server.ports[0] } : null
}

/**
 * Waits until everything sent before this call is in the capture file: connects to a captured
 * host and port (a refused connection works as well: its SYN and RST are captured), and reads
 * the file until a packet of that connection is in it.
 */
export async function syncCapture(capture: Pick<RunningCapture, 'out'>, via: { host: string; port: number }, timeoutMs = 10_000): Promise<boolean> {
  // A local port chosen first: a refused connection reports none, yet its SYN went out from it.
  const localPort = await freeLocalPort(via.host)
  await new Promise<void>((done) => {
    const socket = connect({ host: via.host, port: via.port, localAddress: via.host, localPort })
    const finish = () => {
      socket.destroy()
      done()
    }
    socket.once('connect', finish)
    socket.once('error', finish)
    socket.setTimeout(2000, finish)
  })
  if (localPort === 0) return false
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (tcpPorts(readBytes(capture.out)).has(localPort)) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

/** Every TCP port of the IPv4 packets in a pcapng file (a block cut short at the end is ignored). */
export function tcpPorts(file: Buffer): Set<number> {
  const ports = new Set<number>()
  let little = true
  const linkTypes: number[] = []
  for (let at = 0; at + 12 <= file.length; ) {
    const type = little ? file.readUInt32LE(at) : file.readUInt32BE(at)
    if (type === 0x0a0d0d0a) little = file.readUInt32LE(at + 8) === 0x1a2b3c4d
    const length = little ? file.readUInt32LE(at + 4) : file.readUInt32BE(at + 4)
    if (length < 12 || at + length > file.length) break
    const u16 = (o: number) => (little ? file.readUInt16LE(o) : file.readUInt16BE(o))
    const u32 = (o: number) => (little ? file.readUInt32LE(o) : file.readUInt32BE(o))
    if (type === 0x0a0d0d0a) linkTypes.length = 0
    else if (type === 1) linkTypes.push(u16(at + 8))
    else if (type === 6 && length >= 32) {
      const captured = u32(at + 20)
      const data = file.subarray(at + 28, at + 28 + captured)
      // Ethernet (what Linux gives for lo) or Linux cooked capture (SLL, 16 bytes).
      const link = linkTypes[u32(at + 8)] ?? 1
      const ipAt = link === 113 ? 16 : 14
      const etherType = link === 113 ? (data.length >= 16 ? data.readUInt16BE(14) : 0) : data.length >= 14 ? data.readUInt16BE(12) : 0
      if (etherType === 0x0800 && data.length >= ipAt + 20 && data[ipAt + 9] === 6) {
        const tcpAt = ipAt + (data[ipAt] & 0x0f) * 4
        if (data.length >= tcpAt + 4) {
          ports.add(data.readUInt16BE(tcpAt))
          ports.add(data.readUInt16BE(tcpAt + 2))
        }
      }
    }
    at += length
  }
  return ports
}

function freeLocalPort(host: string): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch {
    return Buffer.alloc(0)
  }
}

/**
 * Stops a capture of ours: first, with `sync`, waits until everything sent so far is in the
 * file (syncCapture); then SIGINT, so that dumpcap closes the file, and waits for it to exit
 * (SIGKILL after timeoutMs).
 */
export async function stopCapture(
  capture: Pick<RunningCapture, 'pid' | 'markers'> & { out?: string },
  sync?: { host: string; port: number },
  timeoutMs = 5000,
): Promise<void> {
  if (!isCapture(capture)) return
  if (sync && capture.out) await syncCapture({ out: capture.out }, sync)
  killQuietly(capture.pid, 'SIGINT')
  if (await exited(capture.pid, timeoutMs)) return
  killQuietly(capture.pid, 'SIGKILL')
  await exited(capture.pid, timeoutMs)
}

/** Waits for a capture started with `seconds` to stop by itself. */
export async function waitForCapture(capture: Pick<RunningCapture, 'pid'>, timeoutMs: number): Promise<boolean> {
  return exited(capture.pid, timeoutMs)
}

function isCapture(capture: Pick<RunningCapture, 'pid' | 'markers'>): boolean {
  try {
    const cmdline = readFileSync(`/proc/${capture.pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
    return capture.markers.every((m) => cmdline.includes(m)) && alive(capture.pid)
  } catch {
    return false
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

async function exited(pid: number, timeoutMs: number): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (!alive(pid)) return true
    await new Promise((r) => setTimeout(r, 20))
  }
  return !alive(pid)
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // Already gone.
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}
