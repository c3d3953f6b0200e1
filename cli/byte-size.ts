// Byte sizes on the command line: a plain number of bytes, or one with a binary suffix
// (512, 4KiB, 64MiB, 1GiB; K, M, G and KB, MB, GB mean the same binary units).
import { ClusterError } from '../cluster/cluster.js'

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 }

/** Parses a size for option `what`; anything else is one clear line. */
export function parseByteSize(what: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(text))
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined
  const bytes = m && unit !== undefined ? Number(m[1]) * unit : NaN
  if (!Number.isSafeInteger(bytes)) throw new ClusterError(`${what} must be a whole number of bytes such as 4096, 4KiB, 64MiB or 1GiB (got ${JSON.stringify(text)})`)
  return bytes
}

/** 65536 -> "64 KiB", 8388608 -> "8 MiB", 1000 -> "1000 B". */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`
  }
  return `${bytes} B`
}
