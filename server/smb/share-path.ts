// Share-relative paths from clients: checked and normalised before any file is touched, so
// that no request can reach outside its share.
import { NT_STATUS } from '../../protocol/smb2/ntstatus.js'

/** Longest path (in UTF-16 units) a client may name, as Windows' 32,767-character limit. */
export const PATH_LENGTH_MAX = 32_767
const COMPONENT_LENGTH_MAX = 255

export type PathResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly status: number }

/**
 * '' is the share root. A leading separator is STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.9);
 * '..' components are STATUS_OBJECT_PATH_SYNTAX_BAD (as Samba answers; Windows never lets a
 * path leave the share either); NUL, control and Windows-reserved characters are
 * STATUS_OBJECT_NAME_INVALID.
 */
export function normaliseSharePath(raw: string): PathResult {
  if (raw.length > PATH_LENGTH_MAX) return { ok: false, status: NT_STATUS.OBJECT_NAME_INVALID }
  if (raw.startsWith('\\') || raw.startsWith('/')) return { ok: false, status: NT_STATUS.INVALID_PARAMETER }
  if (raw === '') return { ok: true, path: '' }
  const parts = raw.split(/[\\/]/)
  for (const part of parts) {
    if (part === '..') return { ok: false, status: NT_STATUS.OBJECT_PATH_SYNTAX_BAD }
    // eslint-disable-next-line no-control-regex
    if (part === '' || part === '.' || part.length > COMPONENT_LENGTH_MAX || /[\u0000-\u001f"*:<>?|]/.test(part)) {
      return { ok: false, status: NT_STATUS.OBJECT_NAME_INVALID }
    }
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(part)) return { ok: false, status: NT_STATUS.OBJECT_NAME_INVALID }
  }
  return { ok: true, path: parts.join('/') }
}
