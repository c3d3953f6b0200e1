// A cloud witness: the quorum witness lease kept as the lease of a blob in an
// Azure-Blob-shaped storage service, spoken to with the global fetch. Each node proposes a
// lease id derived from its own id, so the same node always presents the same id and can
// renew its lease even after a restart, while two nodes never share one.
//
// Azure only grants leases of 15 to 60 seconds or infinite ones. The lab renews its witness
// lease every few hundred milliseconds, so the client asks for an infinite lease
// (x-ms-lease-duration: -1) and adds the lab's extension header x-swlab-lease-duration-ms,
// which the fake (cloud-witness-server.ts) honours instead.

import { createHash } from 'node:crypto'
import { CLOUD_WITNESS_HEADERS as H, DEFAULT_WITNESS_CONTAINER, type LeaseAction } from './cloud-witness-lease.js'
import {
  describeError,
  errorCodeOf,
  invalidAcquireArguments,
  oneLine,
  type QuorumWitnessStore,
  type WitnessLeaseResult,
  type WitnessReadResult,
  type WitnessViewId,
} from './quorum-witness.js'

export const DEFAULT_CLOUD_WITNESS_TIMEOUT_MS = 500

export interface CloudWitnessClientOptions {
  /** Base URL of the service, e.g. 'http://127.0.0.1:PORT'. */
  readonly url: string
  /** Defaults to 'msft-cloud-witness', the container Windows Server uses. */
  readonly container?: string
  /** Blob whose lease is the witness: the cluster id. */
  readonly blob: string
  /** Bound on each call, all its requests included. */
  readonly timeoutMs?: number
}

export interface CloudWitnessReleaseResult {
  /** The lease was held by the caller and now is not. */
  readonly released: boolean
  readonly error?: string
}

/** What the service answered to one lease request, its body already consumed. */
interface LeaseReply {
  readonly status: number
  readonly leaseId: string | undefined
  /** x-swlab-lease-holder, undefined if the service did not send it. */
  readonly holder: string | undefined
  /** x-ms-error-code, or the <Code> of the XML error body. */
  readonly errorCode: string | undefined
}

/**
 * The lease id a node proposes: the SHA-1 of its id shaped as a version-5 UUID, so that
 * it is stable across restarts and distinct between nodes.
 */
export function leaseIdForNode(nodeId: string): string {
  const bytes = createHash('sha1').update(nodeId, 'utf8').digest().subarray(0, 16)
  bytes[6] = (bytes[6] & 0x0f) | 0x50
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export class CloudWitnessClient implements QuorumWitnessStore {
  readonly kind = 'cloud' as const
  readonly baseUrl: string
  readonly container: string
  readonly blob: string
  readonly timeoutMs: number
  /** Node this client last saw granted the lease; its next acquire() renews instead. */
  private heldBy: string | undefined
  /** Aborts the requests under way when the client is closed. */
  private readonly closer = new AbortController()

  constructor(options: CloudWitnessClientOptions) {
    this.baseUrl = trimBaseUrl(options.url)
    this.container = options.container ?? DEFAULT_WITNESS_CONTAINER
    this.blob = options.blob
    this.timeoutMs = options.timeoutMs ?? DEFAULT_CLOUD_WITNESS_TIMEOUT_MS
  }

  /** URL of the lease blob, with comp=lease. */
  get leaseUrl(): string {
    return `${this.baseUrl}/${encodeURIComponent(this.container)}/${encodeURIComponent(this.blob)}?comp=lease`
  }

  async acquire(nodeId: string, durationMs: number, term: number, viewId?: WitnessViewId): Promise<WitnessLeaseResult> {
    const invalid = invalidAcquireArguments(nodeId, durationMs, term)
    if (invalid !== undefined) return { granted: false, holder: '', error: invalid }
    if (this.closer.signal.aborted) return { granted: false, holder: '', error: 'cloud witness client is closed' }
    try {
      return await this.withCallSignal(async (signal) => {
        if (this.heldBy === nodeId) {
          const renewed = await this.leaseRequest('renew', nodeId, durationMs, term, signal, viewId)
          // No lease at all (released, or the service lost its state), or another node took
          // it after ours expired: try to take it afresh, in the same call and time bound.
          if (!(renewed.status === 409 && renewed.errorCode !== 'StaleView')) {
            return this.settle(nodeId, renewed)
          }
        }
        return this.settle(nodeId, await this.leaseRequest('acquire', nodeId, durationMs, term, signal, viewId))
      })
    } catch (err) {
      return { granted: false, holder: '', error: this.describeFailure(err) }
    }
  }

  async read(): Promise<WitnessReadResult> {
    if (this.closer.signal.aborted) return { error: 'cloud witness client is closed' }
    try {
      const { response, body } = await this.withCallSignal(async (signal) => {
        const response = await fetch(this.leaseUrl, { method: 'GET', signal, redirect: 'manual' })
        return { response, body: await response.text() }
      })
      if (response.status !== 200) {
        const code = response.headers.get(H.errorCode) ?? xmlErrorCode(body)
        return { error: `cloud witness: read answered HTTP ${response.status}${code === undefined ? '' : ` ${code}`}` }
      }
      const expiresText = response.headers.get(H.leaseExpiresMs)
      if (expiresText === null) return null
      const expiresAtMs = Number(expiresText)
      const term = Number(response.headers.get(H.leaseTerm) ?? '0')
      if (Number.isNaN(expiresAtMs) || Number.isNaN(term)) {
        return { error: `cloud witness: malformed lease headers (${H.leaseExpiresMs}: '${expiresText}')` }
      }
      return { holder: response.headers.get(H.leaseHolder) ?? '', term, expiresAtMs }
    } catch (err) {
      return { error: this.describeFailure(err) }
    }
  }

  /** Gives the lease up early if nodeId holds it, so that another node need not wait for it to expire. */
  async release(nodeId: string): Promise<CloudWitnessReleaseResult> {
    if (this.closer.signal.aborted) return { released: false, error: 'cloud witness client is closed' }
    try {
      const reply = await this.withCallSignal((signal) => this.leaseRequest('release', nodeId, undefined, undefined, signal))
      if (this.heldBy === nodeId) this.heldBy = undefined
      if (reply.status === 200) return { released: true }
      if (reply.status === 409 || reply.status === 412) return { released: false }
      return { released: false, error: this.describeStatus(reply) }
    } catch (err) {
      return { released: false, error: this.describeFailure(err) }
    }
  }

  /** Aborts requests under way; later calls answer with an error result. */
  async close(): Promise<void> {
    this.closer.abort(new Error('cloud witness client is closed'))
  }

  /**
   * Runs one call under a signal that aborts after timeoutMs or when the client closes.
   * AbortSignal.any would do the same, but Node releases have leaked the signals it ties
   * to a long-lived one (nodejs/node#55351), and this runs several times a second for the
   * life of a node.
   */
  private async withCallSignal<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`no answer within ${this.timeoutMs} ms`, 'TimeoutError'))
    }, this.timeoutMs)
    const onClose = (): void => controller.abort(this.closer.signal.reason)
    this.closer.signal.addEventListener('abort', onClose, { once: true })
    try {
      return await run(controller.signal)
    } finally {
      clearTimeout(timer)
      this.closer.signal.removeEventListener('abort', onClose)
    }
  }

  private async leaseRequest(
    action: LeaseAction,
    nodeId: string,
    durationMs: number | undefined,
    term: number | undefined,
    signal: AbortSignal,
    viewId?: WitnessViewId,
  ): Promise<LeaseReply> {
    const leaseId = leaseIdForNode(nodeId)
    const headers: Record<string, string> = { [H.leaseAction]: action, [H.holder]: nodeId }
    if (action === 'acquire') headers[H.proposedLeaseId] = leaseId
    else headers[H.leaseId] = leaseId
    if (durationMs !== undefined) {
      headers[H.leaseDurationSeconds] = '-1'
      headers[H.leaseDurationMs] = String(Math.ceil(durationMs))
    }
    if (term !== undefined) headers[H.term] = String(term)
    if (viewId !== undefined) {
      headers[H.viewTerm] = String(viewId.viewTerm)
      headers[H.viewEpoch] = String(viewId.epoch)
    }
    const response = await fetch(this.leaseUrl, { method: 'PUT', headers, signal, redirect: 'manual' })
    // Consume the body so that the connection goes back to the pool.
    const body = await response.text()
    return {
      status: response.status,
      leaseId: response.headers.get(H.leaseId) ?? undefined,
      holder: response.headers.get(H.leaseHolder) ?? undefined,
      errorCode: response.headers.get(H.errorCode) ?? xmlErrorCode(body),
    }
  }

  /** Turns the reply to an acquire or renew into a result, and remembers a grant. */
  private settle(nodeId: string, reply: LeaseReply): WitnessLeaseResult {
    if (reply.status === 200 || reply.status === 201) {
      if (reply.leaseId === undefined) {
        return { granted: false, holder: '', error: `cloud witness: HTTP ${reply.status} without ${H.leaseId}` }
      }
      this.heldBy = nodeId
      return { granted: true, holder: nodeId }
    }
    if (this.heldBy === nodeId) this.heldBy = undefined
    // 409: the lease is held under another id. 412: a precondition failed. Either way the
    // service answered, and the answer is no.
    if (reply.status === 409 && reply.errorCode === 'StaleView') return { granted: false, holder: reply.holder ?? '', staleView: true }
    if (reply.status === 409 || reply.status === 412) return { granted: false, holder: reply.holder ?? '' }
    return { granted: false, holder: '', error: this.describeStatus(reply) }
  }

  private describeStatus(reply: LeaseReply): string {
    const code = reply.errorCode === undefined ? '' : ` ${reply.errorCode}`
    const kind = reply.status >= 500 ? 'HTTP' : 'unexpected HTTP'
    return `cloud witness: ${kind} ${reply.status}${code} from ${this.baseUrl}`
  }

  private describeFailure(err: unknown): string {
    return describeFetchFailure(err, this.baseUrl, this.timeoutMs, this.closer.signal.aborted)
  }
}

/**
 * Checks that a cloud witness answers its health check, so that `cluster up` can stop at
 * once with a clear message instead of running a cluster whose witness is unreachable.
 */
export async function probeCloudWitness(url: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; error: string }> {
  const baseUrl = trimBaseUrl(url)
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' })
    await response.arrayBuffer()
    if (response.status === 200) return { ok: true }
    return { ok: false, error: `cloud witness at ${baseUrl} is not healthy: /health answered HTTP ${response.status}` }
  } catch (err) {
    return { ok: false, error: describeFetchFailure(err, baseUrl, timeoutMs, false) }
  }
}

function describeFetchFailure(err: unknown, baseUrl: string, timeoutMs: number, closed: boolean): string {
  if (closed) return 'cloud witness client is closed'
  const name = err instanceof Error || err instanceof DOMException ? err.name : ''
  if (name === 'TimeoutError') return `cloud witness at ${baseUrl}: timeout, no answer within ${timeoutMs} ms`
  // undici wraps network failures as TypeError('fetch failed', { cause }), the cause holding the code.
  const code = errorCodeOf(err)
  if (code === 'ERR_INVALID_URL') return oneLine(`cloud witness URL is invalid: '${baseUrl}'`)
  if (code !== undefined) return oneLine(`cloud witness at ${baseUrl} unreachable: ${code}`)
  const cause = err instanceof Error && err.cause !== undefined ? ` (${describeError(err.cause)})` : ''
  return oneLine(`cloud witness at ${baseUrl}: ${describeError(err)}${cause}`)
}

function trimBaseUrl(url: string): string {
  return url.replace(/\/+$/, '')
}

/** The <Code> of an Azure XML error body, if there is one. */
function xmlErrorCode(body: string): string | undefined {
  const match = /<Code>([^<]+)<\/Code>/.exec(body)
  return match?.[1]
}
