// Windows FILETIME (MS-DTYP 2.3.3, MS-FSCC 2.1.1): a count of 100-nanosecond intervals since
// 1601-01-01 UTC, carried on the wire as a little-endian 64-bit integer. The info classes of
// QUERY_INFO, SET_INFO and QUERY_DIRECTORY carry every timestamp this way; the storage layer
// has Unix times in milliseconds (fs.Stats.mtimeMs) or nanoseconds (bigint stats).
//
// Conversions take and return bigint on the FILETIME side because FILETIMEs of today (about
// 1.3e17) are past Number.MAX_SAFE_INTEGER. Times before 1601 have no FILETIME; they clamp to 0,
// which the info classes read as "no time".

/** FILETIME of 1970-01-01T00:00:00Z: 369 years, 89 of them leap years, of 100 ns ticks. */
export const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n
/** 100 ns ticks per millisecond and per nanosecond-hundred. */
const TICKS_PER_MS = 10_000n
const NS_PER_TICK = 100n
/** The largest value a FILETIME field can hold (a signed 64-bit LARGE_INTEGER on the wire). */
export const FILETIME_MAX = 0x7fff_ffff_ffff_ffffn

/** FILETIME of a Unix time in milliseconds (fractions of a millisecond are kept to the 100 ns tick). */
export function filetimeFromUnixMs(unixMs: number): bigint {
  if (!Number.isFinite(unixMs)) throw new RangeError(`Unix time ${unixMs} ms is not finite`)
  const wholeMs = Math.floor(unixMs)
  const subMsTicks = BigInt(Math.floor((unixMs - wholeMs) * 10_000))
  return clampFiletime(BigInt(wholeMs) * TICKS_PER_MS + subMsTicks + FILETIME_UNIX_EPOCH)
}

/** FILETIME of a Unix time in nanoseconds (truncated to the 100 ns tick). */
export function filetimeFromUnixNs(unixNs: bigint): bigint {
  // BigInt division truncates toward zero; floor keeps times before 1970 on the right tick.
  const ticks = unixNs >= 0n ? unixNs / NS_PER_TICK : -((-unixNs + NS_PER_TICK - 1n) / NS_PER_TICK)
  return clampFiletime(ticks + FILETIME_UNIX_EPOCH)
}

/** Unix time in milliseconds of a FILETIME (may be fractional; exact to the 100 ns tick within double precision). */
export function unixMsFromFiletime(filetime: bigint): number {
  const ticks = filetime - FILETIME_UNIX_EPOCH
  const wholeMs = ticks >= 0n ? ticks / TICKS_PER_MS : -((-ticks + TICKS_PER_MS - 1n) / TICKS_PER_MS)
  return Number(wholeMs) + Number(ticks - wholeMs * TICKS_PER_MS) / 10_000
}

/** Unix time in nanoseconds of a FILETIME. */
export function unixNsFromFiletime(filetime: bigint): bigint {
  return (filetime - FILETIME_UNIX_EPOCH) * NS_PER_TICK
}

function clampFiletime(filetime: bigint): bigint {
  if (filetime < 0n) return 0n
  return filetime > FILETIME_MAX ? FILETIME_MAX : filetime
}
