// The control API of a host process: JSON over HTTP on 127.0.0.1, one POST /rpc per call,
// `{ method, params }` in, `{ ok: true, result }` or `{ ok: false, error }` out. Every method
// is one HyperVHost call; params are checked here, so a bad call is one clear line and never
// reaches the host. Binary data (guest writes and reads) travels as base64.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { HyperVHost } from './hyperv-host.js'

export const HOST_RPC_METHODS = [
  'info',
  'createVm',
  'startVm',
  'stopVm',
  'list',
  'vmInfo',
  'writeGuest',
  'readGuest',
  'hashGuest',
  'startWorkload',
  'stopWorkload',
  'workloadStats',
  'checkpoint',
  'changes',
  'merge',
  'shutdown',
] as const
export type HostRpcMethod = (typeof HOST_RPC_METHODS)[number]

/** Bounds: a request body (a 1 MiB guest write is ~1.4 MB of base64), a guest read, connections. */
export const RPC_BODY_MAX_BYTES = 8 * 1024 * 1024
export const GUEST_IO_MAX_BYTES = 4 * 1024 * 1024
const CONNECTIONS_MAX = 64
/** Calls that only read are logged at debug: `host list` and scripts poll them. */
const QUIET_METHODS: ReadonlySet<string> = new Set(['info', 'list', 'vmInfo', 'workloadStats'])

export interface HostControlServerOptions {
  readonly host: HyperVHost
  readonly log: Logger
  /** What `info` answers besides the VM count: the host's registration. */
  readonly info: () => Record<string, unknown>
  /** Called once the reply to `shutdown` is sent: the process stops the host and exits. */
  readonly onShutdown: () => void
}

/** A bad call: its message goes back to the caller as is. */
class RpcError extends Error {}

export function createHostControlServer(opts: HostControlServerOptions): Server {
  const server = createServer((req, res) => void handle(opts, req, res))
  server.maxConnections = CONNECTIONS_MAX
  return server
}

async function handle(opts: HostControlServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/rpc') {
    req.resume()
    return reply(res, 404, { ok: false, error: `no such endpoint ${req.method} ${req.url}: use POST /rpc` })
  }
  let body: Buffer
  try {
    body = await readBody(req)
  } catch (err) {
    return reply(res, 413, { ok: false, error: (err as Error).message })
  }
  let method = ''
  const started = performance.now()
  try {
    const call = JSON.parse(body.toString('utf8')) as { method?: unknown; params?: unknown }
    if (typeof call !== 'object' || call === null || typeof call.method !== 'string') throw new RpcError('a call is { "method": string, "params": object }')
    method = call.method
    const params = (call.params ?? {}) as Record<string, unknown>
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new RpcError(`${method}: params must be an object`)
    const result = await dispatch(opts, method, params)
    const durationMs = Math.round(performance.now() - started)
    opts.log[QUIET_METHODS.has(method) ? 'debug' : 'info']({ component: 'host-rpc', event: 'host.rpc', method, ok: true, durationMs })
    if (method === 'shutdown') res.once('finish', () => opts.onShutdown())
    reply(res, 200, { ok: true, result: result ?? null })
  } catch (err) {
    const error = err instanceof SyntaxError ? `malformed JSON: ${err.message}` : oneLine(err)
    const durationMs = Math.round(performance.now() - started)
    opts.log.info({ component: 'host-rpc', event: 'host.rpc', method, ok: false, durationMs, error })
    reply(res, 200, { ok: false, error })
  }
}

async function dispatch(opts: HostControlServerOptions, method: string, p: Record<string, unknown>): Promise<unknown> {
  const { host } = opts
  switch (method as HostRpcMethod) {
    case 'info':
      return { ...opts.info(), name: host.name, os: host.os, vms: host.list().length }
    case 'createVm': {
      const info = await host.createVm(str(p, 'name'), {
        share: str(p, 'share'),
        configVersion: num(p, 'configVersion'),
        diskBytes: int(p, 'diskBytes'),
        disks: p.disks === undefined ? undefined : int(p, 'disks'),
      })
      logVmStarted(opts.log, 'vm.created', info)
      return info
    }
    case 'startVm': {
      const info = await host.startVm(str(p, 'name'), str(p, 'share'))
      logVmStarted(opts.log, 'vm.started', info)
      return info
    }
    case 'stopVm': {
      await host.stopVm(str(p, 'name'))
      opts.log.info({ component: 'vm', event: 'vm.stopped', vm: p.name })
      return null
    }
    case 'list':
      return host.list()
    case 'vmInfo':
      return host.vmInfo(str(p, 'name'))
    case 'writeGuest': {
      const data = Buffer.from(str(p, 'data'), 'base64')
      if (data.length === 0 || data.length > GUEST_IO_MAX_BYTES) throw new RpcError(`writeGuest: data must be 1..${GUEST_IO_MAX_BYTES} bytes (base64), got ${data.length}`)
      await host.writeGuest(str(p, 'name'), str(p, 'disk'), int(p, 'offset'), data)
      return { bytes: data.length }
    }
    case 'readGuest': {
      const length = int(p, 'length')
      if (length < 1 || length > GUEST_IO_MAX_BYTES) throw new RpcError(`readGuest: length must be 1..${GUEST_IO_MAX_BYTES}, got ${length}`)
      return { data: (await host.readGuest(str(p, 'name'), str(p, 'disk'), int(p, 'offset'), length)).toString('base64') }
    }
    case 'hashGuest':
      return { sha256: await host.hashGuest(str(p, 'name'), str(p, 'disk')) }
    case 'startWorkload': {
      const name = str(p, 'name')
      const spec = {
        writesPerSecond: num(p, 'writesPerSecond'),
        writeBytes: int(p, 'writeBytes'),
        hotFraction: num(p, 'hotFraction'),
        seed: int(p, 'seed'),
      }
      const smallestDiskBytes = Math.min(...host.vmInfo(name).disks.map((d) => d.bytes))
      if (!(spec.writesPerSecond > 0 && spec.writesPerSecond <= 10_000)) throw new RpcError(`startWorkload: writesPerSecond must be in (0, 10000], got ${spec.writesPerSecond}`)
      if (!(spec.writeBytes >= 1 && spec.writeBytes <= Math.min(GUEST_IO_MAX_BYTES, smallestDiskBytes))) {
        throw new RpcError(`startWorkload: writeBytes must be 1..${Math.min(GUEST_IO_MAX_BYTES, smallestDiskBytes)} (the disk), got ${spec.writeBytes}`)
      }
      if (!(spec.hotFraction > 0 && spec.hotFraction <= 1)) throw new RpcError(`startWorkload: hotFraction must be in (0, 1], got ${spec.hotFraction}`)
      host.startWorkload(name, spec)
      opts.log.info({ component: 'vm', event: 'vm.workload-started', vm: name, ...spec })
      return null
    }
    case 'workloadStats':
      return host.workloadStats(str(p, 'name'))
    case 'stopWorkload': {
      const stats = await host.stopWorkload(str(p, 'name'))
      opts.log.info({ component: 'vm', event: 'vm.workload-stopped', vm: p.name, ...stats })
      return stats
    }
    case 'checkpoint': {
      const checkpoint = await host.checkpoint(str(p, 'name'), { hashBase: p.hashBase === undefined ? false : bool(p, 'hashBase') })
      opts.log.info({ component: 'vm', event: 'vm.checkpoint', vm: checkpoint.vm, checkpoint: checkpoint.id, disks: checkpoint.disks.map((d) => ({ disk: d.disk, rctId: d.rctId })) })
      return checkpoint
    }
    case 'changes':
      return host.changes(str(p, 'name'), str(p, 'disk'), strOrEmpty(p, 'sinceId'), str(p, 'targetId'))
    case 'merge': {
      await host.merge(str(p, 'name'))
      opts.log.info({ component: 'vm', event: 'vm.merged', vm: p.name })
      return null
    }
    case 'shutdown':
      // The reply goes out first; handle() calls onShutdown once it is sent.
      return null
    default:
      throw new RpcError(`unknown method ${JSON.stringify(method)} (methods: ${HOST_RPC_METHODS.join(', ')})`)
  }
}

function logVmStarted(log: Logger, event: string, info: Awaited<ReturnType<HyperVHost['startVm']>>): void {
  log.info({
    component: 'vm',
    event,
    vm: info.name,
    share: info.share,
    configVersion: info.configVersion,
    rct: info.rct,
    // After a crash RCT recovers from the MRT: which regions is what the next backup reads.
    disks: info.disks.map((d) => ({ disk: d.name, bytes: d.bytes, rctState: d.open?.rct ?? 'off', recoveredRegions: d.open?.recoveredRegions ?? 0, resetReason: d.open?.resetReason || undefined })),
  })
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let bytes = 0
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (bytes > RPC_BODY_MAX_BYTES) {
        req.destroy()
        reject(new Error(`request body over ${RPC_BODY_MAX_BYTES} bytes`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ')
}

function str(p: Record<string, unknown>, key: string): string {
  const v = p[key]
  if (typeof v !== 'string' || v === '') throw new RpcError(`params.${key} must be a non-empty string`)
  return v
}

function strOrEmpty(p: Record<string, unknown>, key: string): string {
  const v = p[key] ?? ''
  if (typeof v !== 'string') throw new RpcError(`params.${key} must be a string`)
  return v
}

function num(p: Record<string, unknown>, key: string): number {
  const v = p[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RpcError(`params.${key} must be a number`)
  return v
}

function int(p: Record<string, unknown>, key: string): number {
  const v = num(p, key)
  if (!Number.isSafeInteger(v) || v < 0) throw new RpcError(`params.${key} must be a non-negative integer`)
  return v
}

function bool(p: Record<string, unknown>, key: string): boolean {
  const v = p[key]
  if (typeof v !== 'boolean') throw new RpcError(`params.${key} must be true or false`)
  return v
}
