// The search pattern of QUERY_DIRECTORY: MS-FSA 2.1.4.4 "Algorithm for Determining if a
// FileName Is in an Expression" (FsRtlIsNameInExpression), case-insensitive as an SMB2 server
// calls it.
//
//   *   zero or more characters
//   ?   exactly one character
//   >   DOS_QM: any one character; at a period or the end of the name it matches nothing, so
//       a run of them matches up to that many characters before a period or the end
//   "   DOS_DOT: a period, or nothing at the end of the name
//   <   DOS_STAR: zero or more characters up to, not past, the name's last period
//
// Windows clients send the DOS wildcards: Win32 turns "*.txt" into "<.txt", "*.*" into "*",
// "name?.c" into "name>.c" before the request goes out.
//
// The matcher is a simulation of the pattern's automaton over the name's UTF-16 units, so it
// takes time proportional to (pattern length x name length) whatever the pattern: no
// backtracking blow-up on "*a*a*a*...b". The caller bounds both lengths (the request's
// FileNameLength, the file system's name length).

const STAR = 0x2a // *
const QUESTION = 0x3f // ?
const DOS_QM = 0x3e // >
const DOS_DOT = 0x22 // "
const DOS_STAR = 0x3c // <
const PERIOD = 0x2e
/** Marks the position after the last character of the name. */
const END_OF_NAME = -1

const WILDCARDS: ReadonlySet<number> = new Set([STAR, QUESTION, DOS_QM, DOS_DOT, DOS_STAR])

/** True when pattern has one of the five wildcard characters (MS-FSA 2.1.4.3). */
export function hasWildcard(pattern: string): boolean {
  for (let index = 0; index < pattern.length; index++) if (WILDCARDS.has(pattern.charCodeAt(index))) return true
  return false
}

/** A compiled pattern: call it with a name. */
export type NamePattern = (name: string) => boolean

/** Compiles pattern once for matching many names. The empty pattern means "*" (MS-FSA 2.1.5.6). */
export function compileNamePattern(pattern: string): NamePattern {
  if (pattern === '' || pattern === '*' || pattern === '*.*') {
    // MS-FSA 2.1.4.4 part 1: these match every name, but an empty name matches nothing.
    return (name) => name.length > 0
  }
  const units = Array.from({ length: pattern.length }, (_, index) => upcaseUnit(pattern.charCodeAt(index)))
  const acceptState = units.length
  return (name) => {
    if (name.length === 0) return false
    const lastPeriod = name.lastIndexOf('.')
    let current = new Uint8Array(acceptState + 1)
    let next = new Uint8Array(acceptState + 1)
    current[0] = 1
    for (let position = 0; position <= name.length; position++) {
      const unit = position < name.length ? upcaseUnit(name.charCodeAt(position)) : END_OF_NAME
      closeOverEmptyMatches(units, current, unit)
      if (unit === END_OF_NAME) return current[acceptState] === 1
      next.fill(0)
      let alive = false
      for (let state = 0; state < acceptState; state++) {
        if (current[state] === 0) continue
        const expected = units[state]
        let target = -1
        switch (expected) {
          case STAR:
            target = state
            break
          case DOS_STAR:
            // Any character but the last period of the name.
            if (unit !== PERIOD || position !== lastPeriod) target = state
            break
          case QUESTION:
            target = state + 1
            break
          case DOS_QM:
            // A period is never consumed by DOS_QM; closeOverEmptyMatches skipped past it.
            if (unit !== PERIOD) target = state + 1
            break
          case DOS_DOT:
            if (unit === PERIOD) target = state + 1
            break
          default:
            if (unit === expected) target = state + 1
        }
        if (target >= 0) {
          next[target] = 1
          alive = true
        }
      }
      if (!alive) return false
      ;[current, next] = [next, current]
    }
    return false
  }
}

/** True when name matches pattern (compile once with compileNamePattern for many names). */
export function matchesNamePattern(pattern: string, name: string): boolean {
  return compileNamePattern(pattern)(name)
}

/**
 * Adds to states every state reachable without consuming a character, given the character
 * about to be read (END_OF_NAME after the last): * and < may match nothing anywhere; > matches
 * nothing at a period or the end; " matches nothing only at the end.
 */
function closeOverEmptyMatches(units: readonly number[], states: Uint8Array, unit: number): void {
  // Empty matches only move forward, so one pass in order reaches the closure.
  for (let state = 0; state < units.length; state++) {
    if (states[state] === 0) continue
    const expected = units[state]
    const skips = expected === STAR || expected === DOS_STAR || (expected === DOS_QM && (unit === PERIOD || unit === END_OF_NAME)) || (expected === DOS_DOT && unit === END_OF_NAME)
    if (skips) states[state + 1] = 1
  }
}

/**
 * The upper-case form of one UTF-16 unit, for case-insensitive comparison like Windows' upcase
 * table: a unit whose upper case is not a single unit (German sharp s, ligatures) stays as it is.
 */
function upcaseUnit(unit: number): number {
  if (unit < 0x61) return unit
  if (unit <= 0x7a) return unit - 0x20
  if (unit < 0x80 || (unit >= 0xd800 && unit <= 0xdfff)) return unit
  const upper = String.fromCharCode(unit).toUpperCase()
  return upper.length === 1 ? upper.charCodeAt(0) : unit
}
