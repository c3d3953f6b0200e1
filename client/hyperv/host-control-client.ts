// A client of a host process's control API (host-control-server.ts): the same calls as an
// in-process HyperVHost, so the backup agent takes either (it implements the agent's HostApi).
// Every call has its own deadline; every failure is a HostControlError with one line that
// names the host: what the host refused, or that it did not answer.
import { request } from 'node:http'
import type { HostApi } from '../backup/backup-agent.js'
import type { HostOs } from '../../core/cbt/cbt-decision.js'
import type { CheckpointInfo, VmInfo, WorkloadSpec, WorkloadStats } from './hyperv-host.js'
import { hostState, readHostRecord } from './host-registry.js'

/** A checkpoint hashes whole disks and a VM start may wait out a storage failover: allow a minute. */
export const DEFAULT_CALL_TIMEOUT_MS = 60_000
/** Bound on a reply we read: a guest read is at most 4 MiB, ~5.6 MB as base64. */
const REPLY_MAX_BYTES = 16 * 1024 * 1024

/** An expected failure of a host call: its message is one line for the user. */
export class HostControlError extends Error {}

export type ChangesAnswer = { ok: true; ranges: { offset: number; length: number }[]; changedBytes: number } | { ok: false; reason: string }

export interface HostInfo {
  readonly name: string
  readonly os: HostOs
  readonly pid: number
  readonly port: number
  readonly startedAtMs: number
  readonly vms: number
}

export class HostControlClient implements HostApi {
  readonly name: string
  readonly port: number
  readonly timeoutMs: number

  constructor(endpoint: { name: string; port: number }, opts: { timeoutMs?: number } = {}) {
    this.name = endpoint.name
    this.port = endpoint.port
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  }

  /** The client of a host registered in a cluster folder; refuses unknown and stopped hosts. */
  static forHost(clusterDir: string, name: string, opts: { timeoutMs?: number } = {}): HostControlClient {
    const record = readHostRecord(clusterDir, name)
    if (!record) throw new HostControlError(`unknown host ${name}: no host of that name was started in ${clusterDir} (swlab host start --name ${name} --os …)`)
    const state = hostState(clusterDir, record)
    if (state !== 'running') throw new HostControlError(`host ${name} is ${state === 'paused' ? 'paused' : `not running (${state})`}: start it with swlab host start --name ${name}`)
    return new HostControlClient(record, opts)
  }

  info(): Promise<HostInfo> {
    return this.call('info', {})
  }

  createVm(name: string, spec: { share: string; configVersion: number; diskBytes: number; disks?: number }): Promise<VmInfo> {
    return this.call('createVm', { name, ...spec })
  }

  startVm(name: string, share: string): Promise<VmInfo> {
    return this.call('startVm', { name, share })
  }

  async stopVm(name: string): Promise<void> {
    await this.call('stopVm', { name })
  }

  list(): Promise<VmInfo[]> {
    return this.call('list', {})
  }

  vmInfo(name: string): Promise<VmInfo> {
    return this.call('vmInfo', { name })
  }

  async writeGuest(name: string, disk: string, offset: number, data: Buffer): Promise<void> {
    await this.call('writeGuest', { name, disk, offset, data: data.toString('base64') })
  }

  async readGuest(name: string, disk: string, offset: number, length: number): Promise<Buffer> {
    const r = await this.call<{ data: string }>('readGuest', { name, disk, offset, length })
    return Buffer.from(r.data, 'base64')
  }

  async hashGuest(name: string, disk: string): Promise<string> {
    return (await this.call<{ sha256: string }>('hashGuest', { name, disk })).sha256
  }

  async startWorkload(name: string, spec: WorkloadSpec): Promise<void> {
    await this.call('startWorkload', { name, ...spec })
  }

  workloadStats(name: string): Promise<WorkloadStats> {
    return this.call('workloadStats', { name })
  }

  stopWorkload(name: string): Promise<WorkloadStats> {
    return this.call('stopWorkload', { name })
  }

  checkpoint(name: string, opts: { hashBase?: boolean } = {}): Promise<CheckpointInfo> {
    return this.call('checkpoint', { name, ...opts })
  }

  changes(name: string, disk: string, sinceId: string, targetId: string): Promise<ChangesAnswer> {
    return this.call('changes', { name, disk, sinceId, targetId })
  }

  async merge(name: string): Promise<void> {
    await this.call('merge', { name })
  }

  /** Stops every VM cleanly; the host process exits once it has answered. */
  async shutdown(): Promise<void> {
    await this.call('shutdown', {})
  }

  /** One call with its own deadline; resolves with the result or rejects with a HostControlError. */
  call<T>(method: string, params: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<T> {
    const body = JSON.stringify({ method, params })
    const where = `host ${this.name} (127.0.0.1:${this.port})`
    return new Promise<T>((resolve, reject) => {
      let settled = false
      const settle = (err: HostControlError | null, result?: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (err) reject(err)
        else resolve(result as T)
      }
      const req = request(
        // No keep-alive agent: a CLI that made one call must be free to exit.
        { host: '127.0.0.1', port: this.port, path: '/rpc', method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = []
          let bytes = 0
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length
            if (bytes > REPLY_MAX_BYTES) {
              settle(new HostControlError(`${where}: the reply to ${method} is over ${REPLY_MAX_BYTES} bytes`))
              req.destroy()
              return
            }
            chunks.push(chunk)
          })
          res.on('end', () => {
            let reply: { ok?: unknown; result?: unknown; error?: unknown }
            try {
              reply = JSON.parse(Buffer.concat(chunks).toString('utf8'))
            } catch {
              return settle(new HostControlError(`${where} sent a malformed reply to ${method} (HTTP ${res.statusCode})`))
            }
            if (reply.ok === true) settle(null, reply.result)
            else settle(new HostControlError(typeof reply.error === 'string' ? reply.error : `${where} refused ${method} (HTTP ${res.statusCode})`))
          })
          res.on('error', (err) => settle(new HostControlError(`${where} broke off its reply to ${method}: ${err.message}`)))
          res.on('close', () => {
            if (!res.complete) settle(new HostControlError(`${where} broke off its reply to ${method}`))
          })
        },
      )
      const timer = setTimeout(() => {
        settle(new HostControlError(`${where} did not answer ${method} within ${timeoutMs} ms`))
        req.destroy()
      }, timeoutMs)
      req.on('error', (err) => settle(new HostControlError(`${where} did not answer ${method}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)))
      req.end(body)
    })
  }
}
