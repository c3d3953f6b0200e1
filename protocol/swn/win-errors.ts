// The Windows error codes MS-SWN returns (MS-ERREF), by value and name.

export const WIN_ERROR = {
  SUCCESS: 0x0,
  ACCESS_DENIED: 0x5,
  OUTOFMEMORY: 0xe,
  INVALID_PARAMETER: 0x57,
  NO_MORE_ITEMS: 0x103,
  NOT_FOUND: 0x490,
  REVISION_MISMATCH: 0x51a,
  NO_SYSTEM_RESOURCES: 0x5aa,
  TIMEOUT: 0x5b4,
  INVALID_STATE: 0x139f,
} as const

export type WinErrorName = keyof typeof WIN_ERROR
export type WinErrorCode = (typeof WIN_ERROR)[WinErrorName]

const NAMES = new Map<number, string>(Object.entries(WIN_ERROR).map(([name, code]) => [code, `ERROR_${name}`]))

/** "ERROR_INVALID_STATE" for 0x139f; "ERROR_0x…" for a code MS-SWN does not use. */
export function winErrorName(code: number): string {
  return NAMES.get(code) ?? `ERROR_0x${code.toString(16)}`
}
