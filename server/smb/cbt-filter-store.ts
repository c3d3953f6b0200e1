// Where a node keeps its CBT filter between runs: only a graceful stop saves it, under the
// CSV's `.cbt-filter/<node>.json`, and it comes back only if the CSV's last server marker
// still names that same filter instance, i.e. nobody else served the CSV in between (their
// writes would be missing from it).
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { removeFileDurablySync, writeFileAtomicSync } from '../../runtime/atomic-file.js'
import { CbtFilter } from '../../core/cbt/cbt-filter.js'

interface LastServer {
  readonly node: string
  readonly instanceId: string
}

function dirOf(storageDir: string, csv: string): string {
  return join(storageDir, csv, '.cbt-filter')
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

/** The filter this node starts serving a CSV with: the saved one when still valid, else a new one. */
export function openCbtFilter(storageDir: string, csv: string, nodeId: string): { filter: CbtFilter; restored: boolean } {
  const dir = dirOf(storageDir, csv)
  const savedPath = join(dir, `${nodeId}.json`)
  const saved = readText(savedPath)
  let last: LastServer | null = null
  try {
    last = JSON.parse(readText(join(dir, 'last-server.json')) ?? 'null') as LastServer | null
  } catch {
    last = null
  }
  let filter: CbtFilter | null = saved !== null ? CbtFilter.load(saved) : null
  const restored = filter !== null && last?.node === nodeId && last.instanceId === filter.instanceId
  if (!restored) filter = new CbtFilter(randomUUID(), nodeId)
  // A saved filter is good for one restart only: from now on it is live in memory.
  if (saved !== null) removeFileDurablySync(savedPath)
  writeFileAtomicSync(join(dir, 'last-server.json'), JSON.stringify({ node: nodeId, instanceId: filter!.instanceId } satisfies LastServer))
  return { filter: filter!, restored }
}

/**
 * The CSV's volume refused the marker (full, write-protected): a new filter serves, and no
 * saved one may come back later, since this node's writes would be missing from it. Removing
 * the marker is enough (a removal frees space, so a full volume allows it); a write-protected
 * volume refuses that too, and then false says so (the limit is in the README).
 */
export function newCbtFilterWithoutMarker(storageDir: string, csv: string, nodeId: string): { filter: CbtFilter; markerRemoved: boolean } {
  let markerRemoved = true
  try {
    removeFileDurablySync(join(dirOf(storageDir, csv), 'last-server.json'))
  } catch {
    markerRemoved = false
  }
  return { filter: new CbtFilter(randomUUID(), nodeId), markerRemoved }
}

/** A graceful stop: keep the filter for this node's next start. */
export function saveCbtFilter(storageDir: string, csv: string, filter: CbtFilter): void {
  writeFileAtomicSync(join(dirOf(storageDir, csv), `${filter.nodeId}.json`), filter.save())
}
