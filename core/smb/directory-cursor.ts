// Where a QUERY_DIRECTORY enumeration resumes (MS-SMB2 3.3.5.18; MS-FSA 2.1.5.6.3): after the
// last name it returned, in the enumeration order (names sorted by UTF-16 code unit), over the
// directory as it is at each request. Not an index into the listing read by the first request:
// a name deleted since is not returned again and a name created after the cursor is returned,
// as NTFS's walk of its name index does (smbtorture's smb2.dir.fixed deletes every file from a
// second handle between two requests of the first and expects none of them back).

/** An enumeration in progress: its pattern, how many of "." and ".." went out, and the last name that did. */
export interface DirectoryCursor {
  readonly pattern: string
  /** "." then ".." come first; this many of them were returned (or passed over by the pattern). */
  readonly dotsDone: number
  /** The last real name returned; null before the first. */
  readonly afterName: string | null
}

/** The two entries every directory enumeration starts with. */
export const DOT_NAMES = ['.', '..'] as const

/** A bound on the names one page lstat()s: what a 64 KiB answer holds at 16 bytes an entry, and more. */
export const DIRECTORY_PAGE_ENTRIES_MAX = 8_192

export function startCursor(pattern: string): DirectoryCursor {
  return { pattern, dotsDone: 0, afterName: null }
}

/** The enumeration order: UTF-16 code units, as Array.prototype.sort orders strings. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The next names of a page: those of sortedNames (sorted by compareNames) after afterName that
 * match, at most limit of them. Binary search to the cursor, then a walk: a page costs the
 * names it skips for the pattern, not the whole directory.
 */
export function pageOfNames(sortedNames: readonly string[], afterName: string | null, matches: (name: string) => boolean, limit: number): string[] {
  let lo = 0
  if (afterName !== null) {
    let hi = sortedNames.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareNames(sortedNames[mid], afterName) <= 0) lo = mid + 1
      else hi = mid
    }
  }
  const page: string[] = []
  for (let i = lo; i < sortedNames.length && page.length < limit; i++) if (matches(sortedNames[i])) page.push(sortedNames[i])
  return page
}

/**
 * The cursor after a response that returned the first `consumed` of the candidates it was
 * given: the dots still due (candidateDots of them, first), then real names in order.
 */
export function advanceCursor(cursor: DirectoryCursor, candidateDots: number, candidateNames: readonly string[], consumed: number): DirectoryCursor {
  const dots = Math.min(consumed, candidateDots)
  const names = consumed - dots
  return {
    pattern: cursor.pattern,
    dotsDone: dots === candidateDots ? DOT_NAMES.length : cursor.dotsDone + dots,
    afterName: names > 0 ? candidateNames[names - 1] : cursor.afterName,
  }
}
