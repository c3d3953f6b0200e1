// A small fake of the cloud witness service on node:http: the part of Azure Blob Storage's
// "Lease Blob" API that a cloud witness uses, plus a health check and a read of the lease.
// Blobs need not be created first; every (container, blob) pair starts free. The lease
// rules live in cloud-witness-lease.ts; this file only maps HTTP to them and back.

import { randomUUID } from 'node:crypto'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CLOUD_WITNESS_HEADERS as H,
  CloudLeaseTable,
  isLeaseAction,
  isLeaseActive,
  parseLeaseDuration,
  type CloudLeaseRecord,
} from './cloud-witness-lease.js'

export interface CloudWitnessServerOptions {
  readonly host?: string
  /** 0 lets the system choose a free port. */
  readonly port?: number
  /** Wall clock for lease expiry; tests inject their own to expire leases at will. */
  readonly clock?: () => number
}

export interface CloudWitnessServer {
  /** Base URL, e.g. http://127.0.0.1:41234, without a trailing slash. */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** The storage API version the fake claims to speak, as Azure echoes it. */
const STORAGE_API_VERSION = '2023-11-03'

export async function startCloudWitnessServer(options: CloudWitnessServerOptions = {}): Promise<CloudWitnessServer> {
  const host = options.host ?? '127.0.0.1'
  const clock = options.clock ?? Date.now
  const table = new CloudLeaseTable()

  const server = http.createServer((req, res) => {
    try {
      handleRequest(req, res, table, clock)
    } catch (err) {
      // A bug here must not take the fake down with the cluster that depends on it.
      const message = err instanceof Error ? err.message : String(err)
      if (!res.headersSent) sendError(res, 500, 'InternalError', message)
      else res.destroy()
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })

  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // Clients keep connections alive; without this, close() would wait for them to idle out.
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function handleRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  table: CloudLeaseTable,
  clock: () => number,
): void {
  // No operation here has a request body worth reading; drain it so the connection stays usable.
  req.resume()
  res.setHeader(H.requestId, randomUUID())
  res.setHeader(H.version, STORAGE_API_VERSION)

  const url = new URL(req.url ?? '/', 'http://witness.invalid')
  const method = req.method ?? 'GET'

  if (url.pathname === '/health') {
    if (method !== 'GET' && method !== 'HEAD') return sendMethodNotAllowed(res, 'GET, HEAD')
    return sendJson(res, 200, { status: 'ok' }, method === 'HEAD')
  }

  const names = blobNamesOf(url.pathname)
  if (names === undefined) return sendError(res, 404, 'ResourceNotFound', `No such resource: ${url.pathname}`)
  if ('error' in names) return sendError(res, 400, 'InvalidUri', names.error)

  const comp = url.searchParams.get('comp')
  if (comp !== 'lease' && !(comp === null && method === 'HEAD')) {
    return sendError(res, 400, 'UnsupportedQueryParameter', 'Only comp=lease is supported.')
  }
  switch (method) {
    case 'PUT':
      return handleLease(req, res, table, names.container, names.blob, clock())
    case 'GET':
    case 'HEAD':
      return handleRead(res, table.get(names.container, names.blob), clock(), method === 'HEAD')
    default:
      return sendMethodNotAllowed(res, 'PUT, GET, HEAD')
  }
}

function handleLease(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  table: CloudLeaseTable,
  container: string,
  blob: string,
  nowMs: number,
): void {
  const action = header(req, H.leaseAction)
  if (action === undefined) return sendError(res, 400, 'MissingRequiredHeader', `Missing ${H.leaseAction}.`)
  if (!isLeaseAction(action)) {
    return sendError(res, 400, 'InvalidHeaderValue', `Unsupported ${H.leaseAction}: '${action}'.`)
  }
  const durationMs = parseLeaseDuration(header(req, H.leaseDurationMs), header(req, H.leaseDurationSeconds))
  if (typeof durationMs === 'object') return sendError(res, 400, 'InvalidHeaderValue', durationMs.error)
  const termText = header(req, H.term)
  const term = termText === undefined ? 0 : Number(termText)
  if (!Number.isFinite(term)) return sendError(res, 400, 'InvalidHeaderValue', `${H.term} must be a number.`)
  const viewTermText = header(req, H.viewTerm)
  const viewEpochText = header(req, H.viewEpoch)
  const viewTerm = viewTermText === undefined ? undefined : Number(viewTermText)
  const viewEpoch = viewEpochText === undefined ? undefined : Number(viewEpochText)
  if ((viewTerm !== undefined && !Number.isFinite(viewTerm)) || (viewEpoch !== undefined && !Number.isFinite(viewEpoch))) {
    return sendError(res, 400, 'InvalidHeaderValue', `${H.viewTerm} and ${H.viewEpoch} must be numbers.`)
  }

  const outcome = table.apply(
    container,
    blob,
    {
      action,
      // As in Azure, an acquire that proposes no id gets a random one.
      proposedLeaseId: action === 'acquire' ? (header(req, H.proposedLeaseId) ?? randomUUID()) : undefined,
      leaseId: header(req, H.leaseId),
      durationMs,
      holder: header(req, H.holder) ?? '',
      term,
      viewTerm,
      viewEpoch,
    },
    nowMs,
  )
  if (!outcome.ok) {
    // The holder goes on every refusal, even when empty, so a client never has to guess.
    res.setHeader(H.leaseHolder, outcome.holder)
    return sendError(res, outcome.status, outcome.code, outcome.message)
  }
  const lease = outcome.lease
  if (action !== 'release') res.setHeader(H.leaseId, lease.leaseId)
  setLeaseHeaders(res, lease, nowMs)
  res.statusCode = outcome.status
  res.setHeader('content-length', '0')
  res.end()
}

function handleRead(res: http.ServerResponse, lease: CloudLeaseRecord | undefined, nowMs: number, headOnly: boolean): void {
  if (lease !== undefined) setLeaseHeaders(res, lease, nowMs)
  else {
    res.setHeader(H.leaseState, 'available')
    res.setHeader(H.leaseStatus, 'unlocked')
  }
  const body =
    lease === undefined
      ? { lease: null }
      : { lease: { holder: lease.holder, term: lease.term, expiresAtMs: lease.expiresAtMs, released: lease.released } }
  sendJson(res, 200, body, headOnly)
}

function setLeaseHeaders(res: http.ServerResponse, lease: CloudLeaseRecord, nowMs: number): void {
  const active = isLeaseActive(lease, nowMs)
  res.setHeader(H.leaseState, active ? 'leased' : lease.released ? 'available' : 'expired')
  res.setHeader(H.leaseStatus, active ? 'locked' : 'unlocked')
  res.setHeader(H.leaseHolder, lease.holder)
  res.setHeader(H.leaseExpiresMs, String(lease.expiresAtMs))
  res.setHeader(H.leaseTerm, String(lease.term))
}

/** Splits '/{container}/{blob}'; undefined for any other shape of path. */
function blobNamesOf(pathname: string): { container: string; blob: string } | { error: string } | undefined {
  const parts = pathname.split('/')
  if (parts.length !== 3 || parts[0] !== '' || parts[1] === '' || parts[2] === '') return undefined
  try {
    return { container: decodeURIComponent(parts[1]), blob: decodeURIComponent(parts[2]) }
  } catch {
    return { error: `Malformed percent-encoding in ${pathname}` }
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  // Azure names the error both in a header and in an XML body; clients read either.
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error>`
  res.statusCode = status
  res.setHeader(H.errorCode, code)
  res.setHeader('content-type', 'application/xml')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(body)
}

function sendMethodNotAllowed(res: http.ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  sendError(res, 405, 'UnsupportedHttpVerb', `Use ${allow}.`)
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headOnly: boolean): void {
  const body = JSON.stringify(value)
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.end(headOnly ? undefined : body)
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
}
