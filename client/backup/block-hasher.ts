// The backup agent's block digests, computed on a worker thread. SHA-256 of a 64 KiB block costs
// ~0.8 ns a byte in Node (OpenSSL with SHA-NI), more than the wire client's whole receive path
// (~0.55 ns/B: decode and the GMAC check of a 1 MiB READ): on the agent's own thread it made the
// job read at under half the rate the wire gives (bench:backup, 2026-12-06). The worker hashes
// while the agent's thread takes the next READ off the socket.
//
// The bytes go through a fixed set of slots: the worker hashes a slot's bytes where they are,
// and the agent writes the blocks it stores from the same memory; a postMessage of the data
// instead costs a structured clone (about as much as the hash, measured). A READ whose data is
// already shared memory (the wire client's large frames are SharedArrayBuffers) is the slot's
// bytes as it is; other data is copied into the slot's own part of one SharedArrayBuffer (the
// copy was ~0.15 ns/B of the agent's thread, perf, 2026-12-06). Memory is slots x slotBytes
// whatever the disk, plus the frames slots hold; a slot's owner frees it (the agent, once the
// slot's blocks are written).
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { BACKUP_BLOCK_BYTES } from './backup-repository.js'

/**
 * The worker: for bytes at an offset of shared memory (the slots' own, or the one a message
 * names), the sha256 of each BACKUP_BLOCK_BYTES block of them, in order.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const slots = Buffer.from(workerData.memory)
parentPort.on('message', ({ id, shared, offset, length }) => {
  const memory = shared ? Buffer.from(shared) : slots
  const blocks = Math.ceil(length / ${BACKUP_BLOCK_BYTES})
  const digests = Buffer.allocUnsafe(32 * blocks)
  for (let b = 0; b < blocks; b++) {
    const at = offset + b * ${BACKUP_BLOCK_BYTES}
    createHash('sha256').update(memory.subarray(at, Math.min(offset + length, at + ${BACKUP_BLOCK_BYTES}))).digest().copy(digests, 32 * b)
  }
  parentPort.postMessage({ id, digests })
})
`

export class BlockHasherError extends Error {}

export class BlockHasher {
  private readonly memory: SharedArrayBuffer
  private readonly worker: Worker
  private readonly waiting = new Map<number, { resolve(digests: Buffer): void; reject(err: Error): void }>()
  /** What each slot holds (its own memory, or a caller's shared memory); null while it is free. */
  private readonly filled: Array<Buffer | null>
  private nextId = 0
  private failure: Error | null = null

  constructor(
    readonly slots: number,
    readonly slotBytes: number,
  ) {
    assert.ok(Number.isInteger(slots) && slots > 0, 'at least one slot')
    assert.ok(Number.isInteger(slotBytes) && slotBytes > 0 && slotBytes % BACKUP_BLOCK_BYTES === 0, 'a slot holds whole blocks')
    this.memory = new SharedArrayBuffer(slots * slotBytes)
    this.filled = new Array<Buffer | null>(slots).fill(null)
    // Kept referenced: while the agent waits for digests, the worker is what keeps the process
    // alive. The agent closes it when the disk is done (or failed).
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { memory: this.memory } })
    this.worker.on('message', (m: { id: number; digests: Uint8Array }) => {
      const w = this.waiting.get(m.id)
      this.waiting.delete(m.id)
      w?.resolve(Buffer.from(m.digests.buffer, m.digests.byteOffset, m.digests.byteLength))
    })
    const fail = (err: Error): void => {
      this.failure ??= new BlockHasherError(`the block hasher's worker failed: ${err.message}`)
      for (const w of this.waiting.values()) w.reject(this.failure)
      this.waiting.clear()
    }
    this.worker.on('error', fail)
    this.worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)))
  }

  isFree(slot: number): boolean {
    return this.filled[slot] === null
  }

  /**
   * Takes a free slot for `data`. Data in shared memory is held as it is (`adopted`: the caller
   * must not reuse its memory before release); other data is copied into the slot's own memory.
   * Returns the bytes the slot holds.
   */
  fill(slot: number, data: Uint8Array): { readonly bytes: Buffer; readonly adopted: boolean } {
    assert.ok(slot >= 0 && slot < this.slots && this.isFree(slot), `slot ${slot} is free`)
    assert.ok(data.length > 0 && data.length <= this.slotBytes, `${data.length} bytes fit a slot of ${this.slotBytes}`)
    if (data.buffer instanceof SharedArrayBuffer) {
      const bytes = Buffer.from(data.buffer, data.byteOffset, data.length)
      this.filled[slot] = bytes
      return { bytes, adopted: true }
    }
    const bytes = Buffer.from(this.memory, slot * this.slotBytes, data.length)
    bytes.set(data)
    this.filled[slot] = bytes
    return { bytes, adopted: false }
  }

  /** The sha256 of each block of what fill() put in `slot`, 32 bytes each, in order. */
  digests(slot: number): Promise<Buffer> {
    const bytes = this.filled[slot]
    assert.ok(bytes !== null, 'digests of a filled slot')
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    const own = bytes.buffer === this.memory
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage({ id, shared: own ? undefined : bytes.buffer, offset: bytes.byteOffset, length: bytes.length })
    })
  }

  release(slot: number): void {
    this.filled[slot] = null
  }

  async close(): Promise<void> {
    this.failure ??= new BlockHasherError('the block hasher was closed')
    await this.worker.terminate()
  }
}
