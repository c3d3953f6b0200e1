// A vendor's change-block-tracking filter on the storage node (the Veeam-style driver of seed
// 000 and reference section 4): it sees every WRITE to the files of a CSV this node serves and
// remembers, per file and per 64 KiB block, the generation of its last write. It lives in
// memory only; a graceful stop saves it, and it may be loaded back only by the same node when
// nobody else served the CSV in between. A crash or a move of the CSV to another node loses
// it: the next backup asks with a reference id from another filter instance and must fall back.
import assert from 'node:assert/strict'

export const FILTER_BLOCK_BYTES = 64 * 1024
/** Bound on tracked files per CSV: a filter that cannot track any more reports itself lost. */
const FILES_TRACKED_MAX = 4096

export interface FilterRange {
  readonly offset: number
  readonly length: number
}

export type FilterChanges =
  | { readonly ok: true; readonly ranges: FilterRange[]; readonly changedBytes: number }
  | { readonly ok: false; readonly reason: string }

interface SavedFilter {
  readonly format: 'swlab-cbt-filter'
  readonly instanceId: string
  readonly nodeId: string
  readonly generation: number
  readonly files: Record<string, Array<[number, number]>>
}

export class CbtFilter {
  private generation = 1
  /** Per file key (share/path, lower case): block index -> generation of its last write. */
  private readonly files = new Map<string, Map<number, number>>()
  private overflowed = false

  constructor(
    readonly instanceId: string,
    readonly nodeId: string,
  ) {}

  /** Loads a filter saved at a graceful stop; null when the text is not one. */
  static load(text: string): CbtFilter | null {
    let saved: SavedFilter
    try {
      saved = JSON.parse(text) as SavedFilter
    } catch {
      return null
    }
    if (saved?.format !== 'swlab-cbt-filter' || typeof saved.instanceId !== 'string' || !Number.isInteger(saved.generation)) return null
    const filter = new CbtFilter(saved.instanceId, saved.nodeId)
    filter.generation = saved.generation
    for (const [key, blocks] of Object.entries(saved.files ?? {})) filter.files.set(key, new Map(blocks))
    return filter
  }

  save(): string {
    const files: Record<string, Array<[number, number]>> = {}
    for (const [key, blocks] of this.files) files[key] = [...blocks.entries()]
    const saved: SavedFilter = { format: 'swlab-cbt-filter', instanceId: this.instanceId, nodeId: this.nodeId, generation: this.generation, files }
    return JSON.stringify(saved)
  }

  /** A write of `length` bytes at `offset` reached the file. */
  recordWrite(share: string, path: string, offset: number, length: number): void {
    if (length <= 0) return
    assert.ok(Number.isSafeInteger(offset) && offset >= 0, 'write offsets are validated before they reach the filter')
    const key = fileKey(share, path)
    let blocks = this.files.get(key)
    if (!blocks) {
      if (this.files.size >= FILES_TRACKED_MAX) {
        this.overflowed = true
        return
      }
      blocks = new Map()
      this.files.set(key, blocks)
    }
    const first = Math.floor(offset / FILTER_BLOCK_BYTES)
    const last = Math.floor((offset + length - 1) / FILTER_BLOCK_BYTES)
    for (let b = first; b <= last; b++) blocks.set(b, this.generation)
  }

  /** Starts a new generation and names the point before it: `filter:<instance>:<generation>`. */
  referencePoint(): string {
    const id = `filter:${this.instanceId}:${this.generation}`
    this.generation++
    return id
  }

  /** Blocks of the file written after reference point `sinceId`; '' asks for every block ever written. */
  changesSince(share: string, path: string, sinceId: string, fileBytes: number): FilterChanges {
    if (this.overflowed) return { ok: false, reason: `the CBT filter on ${this.nodeId} ran out of room and stopped tracking` }
    let sinceGeneration = 0
    if (sinceId !== '') {
      const m = /^filter:([^:]+):(\d+)$/.exec(sinceId)
      if (!m) return { ok: false, reason: `malformed filter reference id ${JSON.stringify(sinceId)}` }
      if (m[1] !== this.instanceId) {
        return { ok: false, reason: `CBT filter tracking was lost: ${share}/${path} is served by ${this.nodeId} under a filter started after reference ${sinceId}` }
      }
      sinceGeneration = Number(m[2])
      if (sinceGeneration >= this.generation) return { ok: false, reason: `reference ${sinceId} is newer than the filter's generation ${this.generation}` }
    }
    const blocks = this.files.get(fileKey(share, path)) ?? new Map<number, number>()
    const lastBlock = Math.ceil(fileBytes / FILTER_BLOCK_BYTES)
    const changed = [...blocks.entries()]
      .filter(([b, g]) => g > sinceGeneration && b < lastBlock)
      .map(([b]) => b)
      .sort((a, b) => a - b)
    const ranges: FilterRange[] = []
    for (const b of changed) {
      const offset = b * FILTER_BLOCK_BYTES
      const length = Math.min(FILTER_BLOCK_BYTES, fileBytes - offset)
      const prev = ranges[ranges.length - 1]
      if (prev && prev.offset + prev.length === offset) ranges[ranges.length - 1] = { offset: prev.offset, length: prev.length + length }
      else ranges.push({ offset, length })
    }
    return { ok: true, ranges, changedBytes: ranges.reduce((n, r) => n + r.length, 0) }
  }

  /** A file was deleted or truncated to nothing: forget it. */
  forget(share: string, path: string): void {
    this.files.delete(fileKey(share, path))
  }
}

function fileKey(share: string, path: string): string {
  return `${share}/${path}`.toLowerCase()
}
