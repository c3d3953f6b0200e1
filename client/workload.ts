// A client workload on a CA share through the failover client: sequential or random 4 KiB
// writes (or a mix with reads) for a while, a ledger of every acknowledged write (offset,
// length, sha256), the failovers it went through, and a final check of the ledger against
// what the share holds.
import { createHash } from 'node:crypto'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { FailoverClient, type FailoverClientOptions } from './failover-client.js'
import { monoNowMs } from '../runtime/clock.js'
import { sleep } from '../runtime/sleep.js'
import { appendClientEvent, attachClientEventLog } from './client-event-log.js'
import type { RegisterOp } from '../core/history/register-history.js'

export type WorkloadKind = 'seqwrite' | 'randwrite' | 'mixed'

export interface LedgerEntry {
  readonly offset: number
  readonly length: number
  readonly sha256: string
  readonly atMs: number
}

export interface FailoverRecord {
  readonly cause: string
  readonly from: string
  readonly to: string
  /** Fault notice to reconnect: from the failover's start to the reclaimed handles. */
  readonly reconnectMs: number
  /** From the last write acknowledged before the failover to the first one after it. */
  readonly ioPauseMs: number | null
  /** Witness notification time, relative to the failover's start (0 when it started it). */
  readonly notified: boolean
}

export interface WorkloadResult {
  readonly client: string
  readonly writes: number
  readonly reads: number
  /**
   * Writes the share answered with STATUS_DISK_FULL or STATUS_MEDIA_WRITE_PROTECTED: refused,
   * not lost (recorded in the history without an answer: the checker lets them count or not).
   */
  readonly refusedWrites: number
  readonly bytesWritten: number
  readonly failovers: readonly FailoverRecord[]
  /** Ledger entries whose bytes are not on the share. */
  readonly lost: readonly LedgerEntry[]
  readonly errors: readonly string[]
  /** When the last write was acknowledged (monotonic epoch ms); null when none was. */
  readonly lastWriteMono: number | null
  /** Every write and read with its invoke and answer times, a register per block (when asked for). */
  readonly history: readonly RegisterOp[]
  /** The history reached HISTORY_OPS_MAX and its later operations were not recorded. */
  readonly historyTruncated: boolean
  /** The witness node the client was registered with at the end of its work ('' if none). */
  readonly witnessIp: string
  /** Its witness losses, re-registrations and catching-up, in order (the first WITNESS_EVENTS_MAX). */
  readonly witnessEvents: readonly WitnessEventRecord[]
}

/** A witness.lost, witness.reregistered or witness.reconciled event of the client, with its fields. */
export interface WitnessEventRecord {
  readonly event: 'witness.lost' | 'witness.reregistered' | 'witness.reconciled'
  readonly [field: string]: unknown
}

export const BLOCK_BYTES = 4096
/** Random writes land in the first 64 MiB of the file. */
const RANDOM_SPAN_BLOCKS = 16_384
const WRITES_MAX = 10_000_000
/** Blocks the final verification reads at once (1 MiB). */
const VERIFY_RUN_BLOCKS = 256
/** A bound on the recorded history (about 200 bytes an operation in memory). */
const HISTORY_OPS_MAX = 1_000_000
/** Witness events kept for the result (a run that loses its witness more often keeps the first ones). */
const WITNESS_EVENTS_MAX = 256
/** How long a client waits after a refused write (full or write-protected volume) before the next operation. */
const REFUSED_WRITE_PAUSE_MS = 20

/** The share refused the write for its storage (STATUS_DISK_FULL, STATUS_MEDIA_WRITE_PROTECTED): an answer, not a fault of the path. */
function isStorageRefusal(err: unknown): boolean {
  const message = (err as Error)?.message ?? ''
  return /STATUS_(DISK_FULL|MEDIA_WRITE_PROTECTED)\b/.test(message)
}

/** What a block never written reads as: zeros (a hole in the file). */
export const ZERO_BLOCK_SHA256 = createHash('sha256').update(Buffer.alloc(BLOCK_BYTES)).digest('hex')

export interface WorkloadOptions {
  readonly kind: WorkloadKind
  readonly durationMs: number
  readonly path: string
  /** Where to append the ledger as NDJSON (optional). */
  readonly ledgerFile?: string
  readonly onFailover?: (f: FailoverRecord) => void
  readonly shouldStop?: () => boolean
  /** Every client event (failover-start, notified, reconnected, replayed, registered) as a log line. */
  readonly eventLog?: string
  /** Record every write and read with its times (RegisterOp, a register per block) for a linearizability check. */
  readonly recordHistory?: boolean
  /** Where to write the history as NDJSON when the workload ends. */
  readonly historyFile?: string
  /** seqwrite and randwrite: the share of operations that read back a block written before (0 by default). */
  readonly readFraction?: number
  /**
   * seqwrite and randwrite: the blocks of the file written (seqwrite wraps around to block 0
   * past them). Default: randwrite 16,384 (64 MiB), seqwrite without end. A client on a small
   * volume (`--csv-size`) must not fill it with its own writes, or every later write is
   * refused with STATUS_DISK_FULL whatever the cluster does.
   */
  readonly spanBlocks?: number
}

export async function runWorkload(clientOptions: FailoverClientOptions, opts: WorkloadOptions): Promise<WorkloadResult> {
  const client = new FailoverClient(clientOptions)
  const ledger = new Map<number, LedgerEntry>()
  const failovers: FailoverRecord[] = []
  const errors: string[] = []
  let lastAckMs = monoNowMs()
  let pendingFailover: { cause: string; from: string; to: string; reconnectMs: number; lastAckBefore: number; notified: boolean } | null = null
  let notifiedRecently = false
  client.on('notified', () => (notifiedRecently = true))
  const witnessEvents: WitnessEventRecord[] = []
  for (const event of ['witness.lost', 'witness.reregistered', 'witness.reconciled'] as const) {
    client.on(event, (fields: object) => {
      if (witnessEvents.length < WITNESS_EVENTS_MAX) witnessEvents.push({ event, ...fields })
    })
  }
  if (opts.eventLog) attachClientEventLog(client, opts.eventLog)
  client.on('failover-start', () => {
    pendingFailover = { cause: '', from: '', to: '', reconnectMs: 0, lastAckBefore: lastAckMs, notified: notifiedRecently }
  })
  client.on('reconnected', (e: { cause: string; from: string; to: string; afterMs: number }) => {
    if (pendingFailover) Object.assign(pendingFailover, { cause: e.cause, from: e.from, to: e.to, reconnectMs: Math.round(e.afterMs) })
    notifiedRecently = false
  })
  if (opts.ledgerFile) mkdirSync(dirname(opts.ledgerFile), { recursive: true })
  await client.start()
  const handle = await client.open(opts.path)
  const history: RegisterOp[] = []
  let historyTruncated = false
  const record = (op: Omit<RegisterOp, 'key' | 'process'>, offset: number): void => {
    if (!opts.recordHistory) return
    if (history.length >= HISTORY_OPS_MAX) {
      historyTruncated = true
      return
    }
    history.push({ key: `${opts.path}#${offset / BLOCK_BYTES}`, process: client.clientName, ...op })
  }
  const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
  /** A READ of one block, recorded with what it returned (or no answer if it failed). */
  const readBlock = async (offset: number): Promise<Buffer> => {
    const invokeMs = monoNowMs()
    try {
      const data = await client.read(handle, offset, BLOCK_BYTES)
      record({ kind: 'read', value: sha256(data), invokeMs, completeMs: monoNowMs() }, offset)
      return data
    } catch (err) {
      record({ kind: 'read', value: null, invokeMs, completeMs: null }, offset)
      throw err
    }
  }
  const readFraction = opts.readFraction ?? 0
  let writes = 0
  let reads = 0
  let refusedWrites = 0
  const endMs = monoNowMs() + opts.durationMs
  try {
    for (let i = 0; i < WRITES_MAX && monoNowMs() < endMs && !opts.shouldStop?.(); i++) {
      const span = opts.spanBlocks !== undefined && opts.spanBlocks >= 1 ? Math.floor(opts.spanBlocks) : undefined
      const block = opts.kind === 'seqwrite' ? (span === undefined ? i : i % span) : Math.floor(Math.random() * (span ?? RANDOM_SPAN_BLOCKS))
      const readShare = opts.kind === 'mixed' ? 0.3 : readFraction
      if (readShare > 0 && ledger.size > 0 && Math.random() < readShare) {
        const known = [...ledger.values()][Math.floor(Math.random() * ledger.size)]
        await readBlock(known.offset)
        reads++
        continue
      }
      const data = Buffer.alloc(BLOCK_BYTES, i % 251)
      data.writeUInt32LE(i, 0)
      data.write(client.clientName.slice(0, 32), 8)
      const offset = block * BLOCK_BYTES
      const digest = sha256(data)
      const invokeMs = monoNowMs()
      try {
        await client.write(handle, offset, data)
      } catch (err) {
        // No answer: the write may or may not have taken effect.
        record({ kind: 'write', value: digest, invokeMs, completeMs: null }, offset)
        // A full or write-protected volume answered: the write is refused, the client goes on
        // (a storage fault is cleared from outside). A short pause so that a full volume is not
        // asked thousands of times a second. Recorded without an answer all the same: a write
        // that failed part way (a short write, 3.3.5.13) may have changed some of the block.
        if (refusedWrites < WRITES_MAX && isStorageRefusal(err)) {
          refusedWrites++
          await sleep(REFUSED_WRITE_PAUSE_MS)
          continue
        }
        throw err
      }
      const now = monoNowMs()
      record({ kind: 'write', value: digest, invokeMs, completeMs: now }, offset)
      const entry: LedgerEntry = { offset, length: BLOCK_BYTES, sha256: digest, atMs: now }
      ledger.set(offset, entry)
      if (opts.ledgerFile) appendFileSync(opts.ledgerFile, `${JSON.stringify(entry)}\n`)
      writes++
      const f = pendingFailover as { cause: string; from: string; to: string; reconnectMs: number; lastAckBefore: number; notified: boolean } | null
      if (f && f.to !== '') {
        const record: FailoverRecord = { cause: f.cause, from: f.from, to: f.to, reconnectMs: f.reconnectMs, ioPauseMs: Math.round(now - f.lastAckBefore), notified: f.notified }
        failovers.push(record)
        opts.onFailover?.(record)
        pendingFailover = null
      }
      lastAckMs = now
    }
  } catch (err) {
    errors.push((err as Error).message)
    if (opts.eventLog) appendClientEvent(opts.eventLog, client.clientName, 'client.error', { error: (err as Error).message })
  }
  // Verify: every acknowledged write's bytes are on the share (the latest write per block).
  // Blocks next to each other are read together, up to VERIFY_RUN_BLOCKS a READ; each block is
  // recorded as a read of its register between the READ's invocation and answer.
  const lost: LedgerEntry[] = []
  const offsets = [...ledger.keys()].sort((a, b) => a - b)
  for (let i = 0; i < offsets.length; ) {
    let blocks = 1
    while (i + blocks < offsets.length && blocks < VERIFY_RUN_BLOCKS && offsets[i + blocks] === offsets[i] + blocks * BLOCK_BYTES) blocks++
    const start = offsets[i]
    const invokeMs = monoNowMs()
    let data: Buffer
    try {
      data = await client.read(handle, start, blocks * BLOCK_BYTES)
    } catch (err) {
      for (let b = 0; b < blocks; b++) record({ kind: 'read', value: null, invokeMs, completeMs: null }, start + b * BLOCK_BYTES)
      errors.push(`verify at ${start}: ${(err as Error).message}`)
      break
    }
    const completeMs = monoNowMs()
    for (let b = 0; b < blocks; b++) {
      const entry = ledger.get(start + b * BLOCK_BYTES) as LedgerEntry
      const digest = sha256(data.subarray(b * BLOCK_BYTES, (b + 1) * BLOCK_BYTES))
      record({ kind: 'read', value: digest, invokeMs, completeMs }, entry.offset)
      if (digest !== entry.sha256) lost.push(entry)
    }
    i += blocks
  }
  await client.close(handle).catch((err: Error) => errors.push(err.message))
  const witnessIp = client.witnessNodeIp
  await client.stop()
  if (opts.historyFile) {
    mkdirSync(dirname(opts.historyFile), { recursive: true })
    writeFileSync(opts.historyFile, history.map((op) => JSON.stringify(op)).join('\n') + (history.length ? '\n' : ''))
  }
  return { client: client.clientName, writes, reads, refusedWrites, bytesWritten: writes * BLOCK_BYTES, failovers, lost, errors, lastWriteMono: writes > 0 ? lastAckMs : null, history, historyTruncated, witnessIp, witnessEvents }
}
