// The metadata NTFS keeps with a file and ext4 here cannot: its EAs, and the creation time,
// change time, DOS attributes and AllocationSize that a CREATE or SET_INFO gave it. Kept by
// inode (so it follows a rename) in the CSV's own folder, one small file per inode written
// atomically, so that the node that takes the CSV over after a failover answers with them as
// the old owner did: a persistent open reclaimed there finds its file as it left it (issue 15
// items 2 and 5). Each owner holds the CSV's entries in memory (read once at take-over), so a
// stat costs no IO; only a change writes.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { removeFileDurablySync, writeFileAtomicSync } from '../../runtime/atomic-file.js'
import { EA_LIST_BYTES_MAX, type ExtendedAttribute } from '../../protocol/smb2/extended-attributes.js'

/** What SET_INFO FileBasicInformation or a CREATE set that the file system does not keep. */
export interface FileOverrides {
  readonly creationMs: number | null
  /** The ChangeTime set, valid while the file's mtime is still mtimeMs (a later write changes it). */
  readonly changeMs: number | null
  readonly mtimeMs: number
  readonly attributes: number | null
  readonly allocationBytes: number | null
}

export interface FileMetadata {
  readonly extendedAttributes?: readonly ExtendedAttribute[]
  readonly overrides?: FileOverrides
}

/** The stored form: EA values in base64. */
interface StoredMetadata {
  readonly eas?: readonly { readonly flags: number; readonly name: string; readonly value: string }[]
  readonly overrides?: FileOverrides
}

export interface FileMetadataStoreOptions {
  /** The folder of the entries (on the CSV). */
  readonly dir: string
  /** Entries kept; past it the oldest entry goes (from memory and storage). */
  readonly filesMax: number
  /**
   * Writes the entry's file (data) or removes it (null). The CSV service passes its own, which
   * checks before the rename that it still serves the CSV and decides what a full or
   * write-protected volume means.
   */
  readonly persist: (path: string, data: string | null) => void
  readonly onUnreadable: (file: string) => void
}

const ENTRY_SUFFIX = '.json'
/** An entry file larger than this is not one of ours (EAs are bounded, overrides small). */
const ENTRY_BYTES_MAX = 2 * EA_LIST_BYTES_MAX + 4096

export class FileMetadataStore {
  private readonly entries = new Map<string, FileMetadata>()

  constructor(private readonly opts: FileMetadataStoreOptions) {}

  /** Reads the CSV's entries (at take-over); resolves to how many. */
  load(): number {
    let names: string[]
    try {
      names = readdirSync(this.opts.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0
      throw err
    }
    for (const name of names) {
      if (!name.endsWith(ENTRY_SUFFIX) || this.entries.size >= this.opts.filesMax) continue
      const ino = name.slice(0, -ENTRY_SUFFIX.length)
      if (!/^\d{1,20}$/.test(ino)) continue
      const entry = this.readEntry(name)
      if (entry) this.entries.set(ino, entry)
      else this.opts.onUnreadable(name)
    }
    return this.entries.size
  }

  get(ino: string): FileMetadata | undefined {
    return this.entries.get(ino)
  }

  setExtendedAttributes(ino: string, eas: readonly ExtendedAttribute[]): void {
    const { extendedAttributes: _old, ...rest } = this.entries.get(ino) ?? {}
    this.put(ino, eas.length > 0 ? { ...rest, extendedAttributes: eas } : rest)
  }

  setOverrides(ino: string, overrides: FileOverrides | null): void {
    const { overrides: _old, ...rest } = this.entries.get(ino) ?? {}
    this.put(ino, overrides ? { ...rest, overrides } : rest)
  }

  /** The file went: an inode reused by a later file must not inherit its metadata. */
  forget(ino: string): void {
    this.put(ino, {})
  }

  size(): number {
    return this.entries.size
  }

  private put(ino: string, entry: FileMetadata): void {
    const empty = entry.extendedAttributes === undefined && entry.overrides === undefined
    if (empty && !this.entries.has(ino)) return
    if (!empty && !this.entries.has(ino) && this.entries.size >= this.opts.filesMax) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
      this.opts.persist(this.pathOf(oldest), null)
    }
    if (empty) this.entries.delete(ino)
    else this.entries.set(ino, entry)
    this.opts.persist(this.pathOf(ino), empty ? null : JSON.stringify(storedOf(entry)))
  }

  private pathOf(ino: string): string {
    return join(this.opts.dir, `${ino}${ENTRY_SUFFIX}`)
  }

  private readEntry(name: string): FileMetadata | null {
    try {
      const text = readFileSync(join(this.opts.dir, name), 'utf8')
      if (text.length > ENTRY_BYTES_MAX) return null
      return metadataOf(JSON.parse(text) as unknown)
    } catch {
      return null
    }
  }
}

function storedOf(entry: FileMetadata): StoredMetadata {
  return {
    ...(entry.extendedAttributes ? { eas: entry.extendedAttributes.map((ea) => ({ flags: ea.flags, name: ea.name, value: ea.value.toString('base64') })) } : {}),
    ...(entry.overrides ? { overrides: entry.overrides } : {}),
  }
}

const numberOrNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v))

/** A stored entry read back, checked field by field (the file is on shared storage: anything may be in it). */
export function metadataOf(raw: unknown): FileMetadata | null {
  if (typeof raw !== 'object' || raw === null) return null
  const stored = raw as { eas?: unknown; overrides?: unknown }
  let extendedAttributes: ExtendedAttribute[] | undefined
  if (stored.eas !== undefined) {
    if (!Array.isArray(stored.eas)) return null
    extendedAttributes = []
    for (const ea of stored.eas as unknown[]) {
      const e = ea as { flags?: unknown; name?: unknown; value?: unknown }
      if (typeof e !== 'object' || e === null || typeof e.flags !== 'number' || typeof e.name !== 'string' || typeof e.value !== 'string') return null
      extendedAttributes.push({ flags: e.flags, name: e.name, value: Buffer.from(e.value, 'base64') })
    }
  }
  let overrides: FileOverrides | undefined
  if (stored.overrides !== undefined) {
    const o = stored.overrides as Record<string, unknown>
    if (typeof o !== 'object' || o === null || typeof o.mtimeMs !== 'number') return null
    if (![o.creationMs, o.changeMs, o.attributes, o.allocationBytes].every(numberOrNull)) return null
    overrides = { creationMs: o.creationMs as number | null, changeMs: o.changeMs as number | null, mtimeMs: o.mtimeMs, attributes: o.attributes as number | null, allocationBytes: o.allocationBytes as number | null }
  }
  return { ...(extendedAttributes ? { extendedAttributes } : {}), ...(overrides ? { overrides } : {}) }
}
