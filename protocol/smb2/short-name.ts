// 8.3 short names (MS-FSCC 2.1.5.2.1) for FileAlternateNameInformation and the ShortName of the
// Both directory classes. The data path keeps no short names on disk; it derives one from the
// long name the way Samba's default mangling and NTFS both present it to a client:
// - a name that already is a legal 8.3 name is its own short name, upper-cased ("a.txt" ->
//   "A.TXT");
// - any other name gets the first six legal characters of its base, "~" and an index, and the
//   first three legal characters of its extension ("testsmb2_file.dat" -> "TESTSM~1.DAT").
// Uniqueness within a directory is the caller's business (it passes another index on a clash).

const BASE_CHARS_MAX = 8
const EXTENSION_CHARS_MAX = 3
const MANGLED_BASE_CHARS = 6
/** Characters legal in an 8.3 name besides letters and digits (MS-FSCC 2.1.5.2.1). */
const LEGAL_PUNCTUATION = new Set("!#$%&'()-@^_`{}~")

/** The 8.3 name of longName, or undefined for "." and "..", which have none. */
export function dosShortName(longName: string, index = 1): string | undefined {
  if (longName === '.' || longName === '..' || longName === '') return undefined
  if (!Number.isInteger(index) || index < 1 || index > 999_999) throw new RangeError(`short name index ${index}`)
  const upper = longName.toUpperCase()
  if (isLegal8dot3(upper)) return upper
  const lastPeriod = upper.lastIndexOf('.')
  const base = lastPeriod > 0 ? upper.slice(0, lastPeriod) : upper
  const extension = lastPeriod > 0 ? upper.slice(lastPeriod + 1) : ''
  const suffix = `~${index}`
  const baseKept = legalChars(base).slice(0, Math.min(MANGLED_BASE_CHARS, BASE_CHARS_MAX - suffix.length)) || '_'
  const extensionKept = legalChars(extension).slice(0, EXTENSION_CHARS_MAX)
  return extensionKept === '' ? `${baseKept}${suffix}` : `${baseKept}${suffix}.${extensionKept}`
}

/** True for an upper-case name of 1-8 legal characters and an optional extension of 1-3. */
export function isLegal8dot3(name: string): boolean {
  const parts = name.split('.')
  if (parts.length > 2) return false
  const [base, extension] = parts
  if (base.length === 0 || base.length > BASE_CHARS_MAX) return false
  if (extension !== undefined && (extension.length === 0 || extension.length > EXTENSION_CHARS_MAX)) return false
  return legalChars(base) === base && (extension === undefined || legalChars(extension) === extension)
}

function legalChars(text: string): string {
  let kept = ''
  for (const char of text) if (/^[A-Z0-9]$/.test(char) || LEGAL_PUNCTUATION.has(char)) kept += char
  return kept
}
