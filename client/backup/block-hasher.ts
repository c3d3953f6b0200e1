// The backup agent's block digests, computed on a worker thread. SHA-256 of a 64 KiB block costs
// ~0.8 ns a byte in Node (OpenSSL with SHA-NI), more than the wire client's whole receive path
// (~0.55 ns/B: decode and the GMAC check of a 1 MiB READ): on the agent's own thread it made the
// job read at under half the rate the wire gives (bench:backup, 2026-12-06). The worker hashes
// while the agent's thread takes the next READ off the socket.
//
// The bytes go through a fixed set of slots in one SharedArrayBuffer: the agent copies a READ's
// data into a slot (~0.1 ns/B), the worker hashes it there, and the agent writes the blocks it
// stores from the same slot; a postMessage of the data instead costs a structured clone (about
// as much as the hash, measured). Memory is slots x slotBytes whatever the disk; a slot's owner
// frees it (the agent, once the slot's blocks are written).
import assert from 'node:assert/strict'
import { Worker } from 'node:worker_threads'
import { BACKUP_BLOCK_BYTES } from './backup-repository.js'

/** The worker: for a slot and a length, the sha256 of each BACKUP_BLOCK_BYTES block in it, in order. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const memory = Buffer.from(workerData.memory)
parentPort.on('message', ({ id, offset, length }) => {
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
  /** Bytes fill() put in each slot; 0 while the slot is free. */
  private readonly filled: number[]
  private nextId = 0
  private failure: Error | null = null

  constructor(
    readonly slots: number,
    readonly slotBytes: number,
  ) {
    assert.ok(Number.isInteger(slots) && slots > 0, 'at least one slot')
    assert.ok(Number.isInteger(slotBytes) && slotBytes > 0 && slotBytes % BACKUP_BLOCK_BYTES === 0, 'a slot holds whole blocks')
    this.memory = new SharedArrayBuffer(slots * slotBytes)
    this.filled = new Array<number>(slots).fill(0)
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
    return this.filled[slot] === 0
  }

  /** Takes a free slot and copies `data` into its start; returns the copy (a view of the slot). */
  fill(slot: number, data: Uint8Array): Buffer {
    assert.ok(slot >= 0 && slot < this.slots && this.isFree(slot), `slot ${slot} is free`)
    assert.ok(data.length > 0 && data.length <= this.slotBytes, `${data.length} bytes fit a slot of ${this.slotBytes}`)
    this.filled[slot] = data.length
    const view = Buffer.from(this.memory, slot * this.slotBytes, data.length)
    view.set(data)
    return view
  }

  /** The sha256 of each block of what fill() put in `slot`, 32 bytes each, in order. */
  digests(slot: number): Promise<Buffer> {
    const length = this.filled[slot]
    assert.ok(length > 0, 'digests of a filled slot')
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage({ id, offset: slot * this.slotBytes, length })
    })
  }

  release(slot: number): void {
    this.filled[slot] = 0
  }

  async close(): Promise<void> {
    this.failure ??= new BlockHasherError('the block hasher was closed')
    await this.worker.terminate()
  }
}
